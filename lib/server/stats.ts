/**
 * The `/stats` document: a JSON view of the whole service for humans and
 * dashboards — uptime, queues, adaptive mode, per-symbol feed state and
 * frame accounting, ingest counters, workers, latency and memory.
 *
 * Counter totals come from the same extenders as `/metrics`
 * (`pipelineTotals`), so the two always agree and both stay exact across
 * the uint32 wrap while the service samples every second.
 *
 * @example
 * ```ts
 * import { buildStats } from "./stats.ts";
 * import type { ServiceState } from "./service_state.ts";
import type { DataMode } from "../pipeline/data_mode.ts";
 * declare const state: ServiceState; // the running service's state
 * const stats = buildStats(state);
 * stats.symbols.BTCUSDT.feedState; // "live"
 * stats.queues.raw.dropped; // exact total
 * ```
 * @module
 */

import { FEED_STATE_NAMES } from "../pipeline/feed_state.ts";
import type { ReplayStatus } from "../pipeline/replay_status.ts";
import type { RecordStats } from "../metrics/record_totals.ts";
import { usToIso } from "../record/mod.ts";
import { REJECT_REASON_NAMES } from "../pipeline/reject_reason.ts";
import { FRAME_RECEIVE_TIME } from "../pipeline/frame_slot.ts";
import {
  type IngestTotals,
  pipelineTotals,
  type QueueTotals,
  type SymbolTotals,
} from "../metrics/pipeline_totals.ts";
import { type HubStats, readHubStats } from "../metrics/hub_stats.ts";
import type { WorkerName, WorkerState } from "../metrics/metrics_sources.ts";
import type { ServiceState } from "./service_state.ts";
import type { DataMode } from "../pipeline/data_mode.ts";
import { type DiffProgress, diffProgress } from "./diff_progress.ts";
import {
  DEFAULT_FEED_PAGE,
  type FeedRow,
  type FeedSummary,
  MAX_FEED_PAGE,
  summariseFeeds,
} from "../metrics/feed_summary.ts";

/** Options of {@linkcode buildStats}. */
export interface StatsOptions {
  /** Include the per-symbol map `symbols` (at 2,000 symbols about 0.75 MB). Default true. */
  symbols?: boolean;
  /** First row of the `feeds` page, worst first. Default 0. */
  feedsOffset?: number;
  /** Rows of the `feeds` page. Default 20. */
  feedsLimit?: number;
}

/**
 * Names of the adaptive modes, indexed by the mode gauge.
 *
 * @example
 * ```ts
 * import { ADAPTIVE_MODE_NAMES } from "./stats.ts";
 * ADAPTIVE_MODE_NAMES[1]; // "every-2nd"
 * ```
 */
export const ADAPTIVE_MODE_NAMES: readonly string[] = ["normal", "every-2nd", "every-3rd"];

/**
 * One symbol in {@link Stats.symbols}: its exact totals (see
 * {@link SymbolTotals}) with the feed state and rejection reasons by name and
 * the age of its newest frame.
 */
export interface SymbolStats extends Omit<SymbolTotals, "symbol" | "feedState" | "rejected"> {
  /** Feed state name ("connecting", "live", "stale", "resyncing"). */
  feedState: string;
  /** Frames rejected by reason name (every reason, zeros included). */
  rejected: Record<string, number>;
  /** Milliseconds since the newest delivered frame was received; null before the first. */
  lastFrameAgeMs: number | null;
}

/** The `/stats` document. */
export interface Stats {
  /** Where the data comes from: "LIVE" (real Binance), "SIM" (simulated) or "REPLAY" (see `lib/pipeline/data_mode.ts`). */
  mode: DataMode;
  /** Ingest source ("binance" or "sim"). */
  source: string;
  /** Stream kind ("depth20" or "diff"). */
  stream: string;
  /** Start time, ISO 8601. */
  startedAt: string;
  /** Seconds since start. */
  uptimeSeconds: number;
  /** WebSocket clients and their counters. */
  ws: HubStats;
  /** Both rings. */
  queues: { raw: QueueTotals; processed: QueueTotals };
  /** Adaptive processor mode. */
  adaptive: { mode: number; name: string; changes: number };
  /** Per upper-case symbol; `{}` when asked without them (`?symbols=none`). */
  symbols: Record<string, SymbolStats>;
  /** Feed states counted and one page of symbols, worst first (see `lib/metrics/feed_summary.ts`). */
  feeds: FeedSummary;
  /** Ingest worker's global counters. */
  ingest: Omit<IngestTotals, "heartbeat" | "started">;
  /** Diff mode: books synced / total, ETA, watched symbols, snapshot depth; null in depth20 mode. */
  diffSync: DiffProgress | null;
  /** Workers and their restarts. */
  workers: Record<WorkerName, { state: WorkerState; restarts: number }> & {
    inFlightLost: number;
  };
  /** Receive → main-thread latency; null quantiles before any frame. */
  latency: { p50Ms: number | null; p99Ms: number | null; count: number };
  /** Processing time of the analytics worker. */
  processing: { count: number; meanUs: number | null };
  /** Process memory in bytes. */
  memory: { rssBytes: number; heapUsedBytes: number };
  /** `--source replay`: the replay position; null otherwise. */
  replay: ReplayStats | null;
  /** `--record-dir`: what the recorder wrote and lost, and the recorder worker; null otherwise. */
  record: (RecordStats & { worker: { state: WorkerState; restarts: number } }) | null;
  /** The node on a NATS bus (`--bus nats://…`; see `BusNode.stats`); null with `--bus memory`. */
  bus: Record<string, unknown> | null;
}

/** The replay position in `/stats`. */
export interface ReplayStats {
  /** Replay clock: recorded receive time of the last record delivered, ISO 8601 with µs; null before the first. */
  clock: string | null;
  /** Speed factor, or "max". */
  speed: number | "max";
  /** Records delivered (every loop). */
  records: number;
  /** Problems the reader found and skipped (bad lines, corrupt or truncated blocks, a bad index, times out of order, unreadable files), each logged with its file and offset. */
  badLines: number;
  /** The recording. */
  path: string;
  /** Where the last record delivered is: its block's byte offset in an hour file, its line's in a text file. */
  offset: number;
  /** Passes finished. */
  loops: number;
  /** Waits for room in the raw ring. */
  waits: number;
  /** Whether the replay reached its end. */
  done: boolean;
}

/** The `/stats` replay section of `status` (of the recording at `path`). */
function replayStats(status: ReplayStatus, path: string): ReplayStats {
  const clockMs = status.get("clockMs");
  const speed = status.get("speed");
  return {
    clock: Number.isFinite(clockMs) ? usToIso(Math.round(clockMs * 1000)) : null,
    speed: speed === Infinity ? "max" : speed,
    records: status.get("records"),
    badLines: status.get("badLines"),
    path,
    offset: status.get("offset"),
    loops: status.get("loops"),
    waits: status.get("waits"),
    done: status.get("done") === 1,
  };
}

function ms(seconds: number): number | null {
  return Number.isFinite(seconds) ? Math.round(seconds * 1e6) / 1e3 : null;
}

/**
 * Build the `/stats` document from `state` at time `nowMs`.
 *
 * @param nowMs epoch milliseconds used for uptime and frame ages (in a replay, frame
 *   ages are on the replay clock). Default `Date.now()`.
 * @param options What to include; see {@linkcode StatsOptions}.
 * @example
 * ```ts
 * import { buildStats } from "./stats.ts";
 * import type { ServiceState } from "./service_state.ts";
import type { DataMode } from "../pipeline/data_mode.ts";
 * declare const state: ServiceState; // the running service's state
 * Response.json(buildStats(state));
 * ```
 */
export function buildStats(
  state: ServiceState,
  nowMs: number = Date.now(),
  options: StatsOptions = {},
): Stats {
  // A replay's frames carry recorded receive times: their age is on the replay clock.
  const replayClock = state.replay?.get("clockMs") ?? NaN;
  const frameNow = replayClock === replayClock ? replayClock : nowMs;
  // Before the per-symbol counters: a book counted as synced then already shows its first frame.
  const diffSync = diffProgress(state);
  const snap = pipelineTotals(state).snapshot();
  const symbols: Record<string, SymbolStats> = {};
  const rows: FeedRow[] = [];
  const withSymbols = options.symbols ?? true;
  const overview = state.bus?.role === "dashboard" ? state.bus.summary : undefined;
  for (let id = 0; id < snap.symbols.length; id++) {
    const s = snap.symbols[id];
    const base = state.history.latestBase(id);
    const receivedAt = base >= 0 ? state.history.f64(id)[base + FRAME_RECEIVE_TIME] : NaN;
    const { symbol, feedState: own, received, rejected: _byCode, ...totals } = s;
    // A dashboard node reads no exchange: its feeds are the owners' (merged summary).
    const feedState = overview ? overview.feedState(id) : own;
    const feedName = FEED_STATE_NAMES[feedState] ?? `unknown(${feedState})`;
    const lastFrameAgeMs = Number.isFinite(receivedAt) ? Math.max(0, frameNow - receivedAt) : null;
    rows.push({
      symbol,
      feedState: feedName,
      received,
      rejected: totals.rejectedTotal,
      skipped: totals.skipped,
      lastFrameAgeMs,
    });
    if (!withSymbols) continue;
    const rejected: Record<string, number> = {};
    for (let r = 1; r < REJECT_REASON_NAMES.length; r++) {
      rejected[REJECT_REASON_NAMES[r]] = s.rejected[r];
    }
    symbols[symbol] = { feedState: feedName, received, rejected, ...totals, lastFrameAgeMs };
  }
  const feeds = summariseFeeds(rows, {
    offset: options.feedsOffset ?? 0,
    limit: options.feedsLimit ?? DEFAULT_FEED_PAGE,
  });
  const { heartbeat: _heartbeat, started: _started, ...ingest } = snap.ingest;
  const sup = state.supervisor;
  const a = snap.analytics;
  const mem = Deno.memoryUsage();
  return {
    mode: state.mode,
    source: state.source,
    stream: state.stream,
    startedAt: new Date(state.startedAt).toISOString(),
    uptimeSeconds: Math.max(0, (nowMs - state.startedAt) / 1000),
    ws: readHubStats(state.hub),
    queues: snap.queues,
    adaptive: {
      mode: a.mode,
      name: ADAPTIVE_MODE_NAMES[a.mode] ?? `unknown(${a.mode})`,
      changes: a.modeChanges,
    },
    symbols,
    feeds,
    ingest,
    diffSync,
    workers: {
      ingest: { state: sup.state("ingest"), restarts: sup.restarts("ingest") },
      analytics: { state: sup.state("analytics"), restarts: sup.restarts("analytics") },
      inFlightLost: sup.inFlightLost,
    },
    latency: {
      p50Ms: ms(state.latency.quantile(0.5)),
      p99Ms: ms(state.latency.quantile(0.99)),
      count: state.latency.count,
    },
    processing: {
      count: a.processingCount,
      meanUs: a.processingCount > 0
        ? Math.round(a.processingSumSeconds / a.processingCount * 1e9) / 1e3
        : null,
    },
    memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
    replay: state.replay ? replayStats(state.replay, state.replayPath ?? "") : null,
    record: state.record
      ? {
        ...state.record.read(),
        worker: state.supervisor.recorder?.() ?? { state: "stopped", restarts: 0 },
      }
      : null,
    bus: state.bus ? state.bus.stats() : null,
  };
}

/**
 * Read `/stats`' query into {@linkcode StatsOptions}: `symbols=all|none`
 * (default all), `feedsOffset` (an integer ≥ 0, default 0) and `feedsLimit`
 * (an integer from 1 to 500, default 20). Other parameters (`token`) are
 * left to others. Returns a message naming what was wrong and what was
 * expected for a bad value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statsOptionsFromQuery } from "./stats.ts";
 * const q = new URLSearchParams("symbols=none&feedsOffset=40");
 * assert.deepEqual(statsOptionsFromQuery(q), { symbols: false, feedsOffset: 40, feedsLimit: 20 });
 * assert.match(statsOptionsFromQuery(new URLSearchParams("feedsLimit=0")) as string, /1 to 500/);
 * ```
 */
export function statsOptionsFromQuery(query: URLSearchParams): StatsOptions | string {
  const symbols = query.get("symbols") ?? "all";
  if (symbols !== "all" && symbols !== "none") {
    return `bad symbols "${symbols}": expected all (the default) or none`;
  }
  const int = (name: string, fallback: number, min: number, max: number): number | string => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    const n = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
    return n >= min && n <= max
      ? n
      : `bad ${name} "${raw}": expected an integer from ${min} to ${max}`;
  };
  const feedsOffset = int("feedsOffset", 0, 0, 999_999_999);
  if (typeof feedsOffset === "string") return feedsOffset;
  const feedsLimit = int("feedsLimit", DEFAULT_FEED_PAGE, 1, MAX_FEED_PAGE);
  if (typeof feedsLimit === "string") return feedsLimit;
  return { symbols: symbols === "all", feedsOffset, feedsLimit };
}
