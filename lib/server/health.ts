/**
 * The `/health` verdict: `"ok"` when every symbol's feed is live and both
 * workers are running, `"degraded"` with one human-readable reason per
 * problem otherwise. The route answers 200 for ok and 503 for degraded.
 *
 * Reasons:
 * - `"<SYMBOL>: reconnecting"` — the feed is connecting (no connection yet or
 *   waiting to reconnect);
 * - `"<SYMBOL>: feed stale"` — connected but no frame within `--stale-ms`;
 * - `"<SYMBOL>: resyncing"` — diff mode, out of sync, fetching a snapshot;
 * - `"diff sync: 812/2000 books synced, ETA 2m10s"` — diff mode, while not
 *   every local book is synced (bring-up, resyncs); see `diff_progress.ts`;
 * - `"<worker> worker <state>"` — e.g. `"analytics worker restarting"`.
 *
 * Symbols of venues other than Binance spot are named with their venue
 * (`"okx:BTC-USDT: resyncing"`), and a venue with several symbols none of
 * which is live gets one line instead of one per symbol:
 * `"okx: 0 of 2 symbols live (2 reconnecting)"`. Each symbol's state is its
 * own (the ingest keeps every venue apart), so one venue down never makes
 * another venue's symbols unhealthy.
 *
 * On a NATS bus (`--bus nats://…`, `state.bus`) a node answers for its part:
 * - `"bus: NATS unreachable"` — every role, while the connection is down;
 * - `"<SYMBOL>: no owner on the bus"` — dashboard half: a symbol its browsers
 *   watch whose partition no ingest node holds;
 * - the feed reasons above only for the symbols of the partitions the node
 *   holds, the worker reasons only with an ingest half (a dashboard node runs
 *   no workers), and no diff-sync line (its count covers the whole universe).
 *
 * @example
 * ```ts
 * import { evaluateHealth } from "./health.ts";
 * import type { ServiceState } from "./service_state.ts";
import type { DataMode } from "../pipeline/data_mode.ts";
 * declare const state: ServiceState; // the running service's state
 * const health = evaluateHealth(state, Date.now());
 * const response = Response.json(health, { status: health.status === "ok" ? 200 : 503 });
 * ```
 * @module
 */

import { FeedState } from "../pipeline/feed_state.ts";
import { INGEST_FEED_STATE } from "../pipeline/pipeline_counters.ts";
import type { WorkerName } from "../metrics/metrics_sources.ts";
import type { ServiceState } from "./service_state.ts";
import type { DataMode } from "../pipeline/data_mode.ts";
import { diffProgress, formatEta } from "./diff_progress.ts";
import { type VenueId, venueOf } from "../pipeline/venue_id.ts";

/** The health verdict. */
export interface Health {
  /** "ok" when everything is live and running, "degraded" otherwise. */
  status: "ok" | "degraded";
  /** Where the data comes from: "LIVE", "SIM" or "REPLAY" (see `lib/pipeline/data_mode.ts`); never a reason by itself. */
  mode: DataMode;
  /** One reason per problem; empty when ok. */
  reasons: string[];
  /** Seconds since the service started. */
  uptimeSeconds: number;
}

const FEED_REASONS: Record<number, string> = {
  [FeedState.Connecting]: "reconnecting",
  [FeedState.Stale]: "feed stale",
  [FeedState.Resyncing]: "resyncing",
};

const WORKERS: readonly WorkerName[] = ["ingest", "analytics"];

/** The symbols of one venue other than Binance spot, while /health is evaluated. */
interface VenueHealth {
  /** Index in the reasons where the venue's lines go. */
  at: number;
  total: number;
  live: number;
  /** A reason per symbol not live. */
  down: string[];
  /** Symbols not live, by reason text. */
  states: Map<string, number>;
}

/**
 * Evaluate the service's health at `nowMs` (epoch milliseconds).
 *
 * @example
 * ```ts
 * import { evaluateHealth } from "./health.ts";
 * import type { ServiceState } from "./service_state.ts";
import type { DataMode } from "../pipeline/data_mode.ts";
 * declare const state: ServiceState; // the running service's state
 * evaluateHealth(state, Date.now()).reasons; // e.g. ["BTCUSDT: feed stale"]
 * ```
 */
export function evaluateHealth(state: ServiceState, nowMs: number = Date.now()): Health {
  const reasons: string[] = [];
  const c = state.counters;
  const bus = state.bus;
  // On a NATS bus a node answers for its own part: the feeds of the partitions it holds
  // and its workers (ingest half), the watched symbols' owners (dashboard half).
  const ingest = bus === undefined || bus.role !== "dashboard";
  if (bus !== undefined && !bus.connected) reasons.push("bus: NATS unreachable");
  if (bus !== undefined && bus.role !== "ingest") {
    for (const name of bus.watchedWithoutOwner()) reasons.push(`${name}: no owner on the bus`);
  }
  if (ingest) {
    const venues = new Map<VenueId, VenueHealth>();
    for (let id = 0; id < state.symbols.length; id++) {
      if (bus !== undefined && !bus.holds(id)) continue;
      const feed = c.load(c.ingestSymbol(id, INGEST_FEED_STATE));
      const name = state.symbols[id];
      const venue = venueOf(name);
      const why = FEED_REASONS[feed] ?? `unknown feed state ${feed}`;
      if (venue === undefined || venue === "binance") {
        if (feed !== FeedState.Live) reasons.push(`${name}: ${why}`);
        continue;
      }
      let v = venues.get(venue);
      if (v === undefined) {
        // The venue's lines go where its first symbol's would.
        v = { at: reasons.length, total: 0, live: 0, down: [], states: new Map() };
        venues.set(venue, v);
      }
      v.total++;
      if (feed === FeedState.Live) {
        v.live++;
        continue;
      }
      // `OKX:BTC-USDT` → `okx:BTC-USDT`: the venue as written in --venues, the symbol as the venue spells it.
      v.down.push(`${venue}${name.slice(name.indexOf(":"))}: ${why}`);
      v.states.set(why, (v.states.get(why) ?? 0) + 1);
    }
    // Last venue first, so that each insertion leaves the earlier positions as they are.
    for (const [venue, v] of [...venues].reverse()) {
      const lines = v.live === 0 && v.total > 1
        ? [
          `${venue}: 0 of ${v.total} symbols live (${
            [...v.states].map(([why, n]) => `${n} ${why}`).join(", ")
          })`,
        ]
        : v.down;
      reasons.splice(v.at, 0, ...lines);
    }
    const diff = diffProgress(state);
    if (bus === undefined && diff !== null && diff.synced < diff.total) {
      const eta = diff.etaSeconds === null ? "unknown" : formatEta(diff.etaSeconds);
      reasons.push(`diff sync: ${diff.synced}/${diff.total} books synced, ETA ${eta}`);
    }
    for (const worker of WORKERS) {
      const s = state.supervisor.state(worker);
      if (s !== "running") reasons.push(`${worker} worker ${s}`);
    }
  }
  return {
    status: reasons.length === 0 ? "ok" : "degraded",
    mode: state.mode,
    reasons,
    uptimeSeconds: Math.max(0, (nowMs - state.startedAt) / 1000),
  };
}
