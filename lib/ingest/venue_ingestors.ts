/**
 * The ingest of one worker across venues: from the worker's global symbol
 * list (`binance` names plain, others `venue:symbol`), an {@link Ingestor}
 * for the Binance spot symbols, an `Ingestor` with `venue: "binance-usdm"`
 * when a `binance-usdm:` symbol is listed, and a {@link VenueIngest} for each
 * other venue with symbols (its protocol from `venue_registry.ts`).
 * Consolidated instruments (`x:…`) belong to no venue and are connected by
 * none. All of them share the raw ring instance, the counters, the global
 * symbol ids and the unknown row `symbols.length`; each venue's connections
 * share one attempt limiter (rate limits are the venue's).
 *
 * URLs: Binance spot from `wsUrl` / `restUrl` as before; every other venue
 * from `venueUrls[venue]`, defaulting to its production URL
 * (`VENUES[venue].wsUrl`, `.restUrl`). A replay (Binance recordings only)
 * runs the one `Ingestor` over every symbol, as before.
 *
 * OKX derivatives (`okx:BTC-USDT-SWAP`, futures `okx:BTC-USD-250328`) count
 * sizes in contracts: on `start()` their contract values are learnt from
 * OKX's REST API (`venues/okx_instruments.ts`, retried with backoff), and only
 * then does a second OKX {@link VenueIngest} connect them with the sizes
 * converted to base units (it joins `venues` then). Until then, and for good
 * when an instrument cannot be converted (not listed, inverse), they stay
 * Connecting (`/health`: "okx:BTC-USDT-SWAP: reconnecting") and the log says
 * why; never are contract counts shown as base sizes. OKX spot symbols
 * connect at once.
 *
 * @example
 * ```ts
 * import { createVenueIngestors } from "./venue_ingestors.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const symbols = ["btcusdt", "ethusdt"];
 * const ingest = createVenueIngestors({
 *   symbols,
 *   wsUrl: "wss://stream.binance.com:9443",
 *   rawRing: SpscRing.create({ capacity: 1024, slotBytes: new BookSlotLayout(20).slotBytes }),
 *   counters: PipelineCounters.create(symbols.length + 1),
 * });
 * ingest.start();
 * await ingest.stop();
 * ```
 * @module
 */

import { Ingestor, type IngestorOptions } from "./ingestor.ts";
import { VenueIngest } from "./venue_ingest.ts";
import { venueProtocol } from "./venue_registry.ts";
import type { VenueProtocol } from "./venues/venue_protocol.ts";
import { AttemptLimiter } from "./attempt_limiter.ts";
import { VENUE_IDS, type VenueId, venueOf, VENUES } from "../pipeline/venue_id.ts";
import { learnOkxContracts, okxInstType } from "./venues/okx_instruments.ts";
import { FeedState } from "../pipeline/feed_state.ts";
import { INGEST_FEED_STATE } from "../pipeline/pipeline_counters.ts";

/**
 * A venue's URLs (production or simulated).
 *
 * @example
 * ```ts
 * import type { VenueUrl } from "./venue_ingestors.ts";
 * const usdm: VenueUrl = { wsUrl: "ws://127.0.0.1:9100/public/stream", restUrl: "http://127.0.0.1:9101" };
 * ```
 */
export interface VenueUrl {
  /** WebSocket base URL. */
  readonly wsUrl: string;
  /** REST base URL, for venues that use REST (Binance USD-M snapshots, OKX contract values). */
  readonly restUrl?: string;
}

/**
 * Per-venue URLs; a venue not listed uses its production URL (`VENUES[venue]`).
 *
 * @example
 * ```ts
 * import type { VenueUrls } from "./venue_ingestors.ts";
 * const urls: VenueUrls = { okx: { wsUrl: "ws://127.0.0.1:9200/ws/v5/public" } };
 * ```
 */
export type VenueUrls = Partial<Record<VenueId, VenueUrl>>;

/**
 * Options of {@link createVenueIngestors}: the {@link IngestorOptions} plus the other venues' URLs.
 *
 * @example
 * ```ts
 * import type { VenueIngestorsOptions } from "./venue_ingestors.ts";
 * const extra: Pick<VenueIngestorsOptions, "venueUrls"> = {
 *   venueUrls: { kraken: { wsUrl: "ws://127.0.0.1:9300/v2" } },
 * };
 * ```
 */
export interface VenueIngestorsOptions extends IngestorOptions {
  /** URLs of the venues other than Binance spot. Default each venue's production URL. */
  venueUrls?: VenueUrls;
  /** The protocols of the venues behind `VenueIngest`. Default `VENUE_PROTOCOLS` (`venue_registry.ts`). */
  protocols?: Readonly<Partial<Record<VenueId, VenueProtocol>>>;
}

/**
 * Everything a worker runs, started and stopped together.
 *
 * @example
 * ```ts
 * import type { VenueIngestors } from "./venue_ingestors.ts";
 * declare const ingest: VenueIngestors;
 * ingest.venues.map((v) => v.venue); // e.g. ["okx", "kraken"]
 * ```
 */
export interface VenueIngestors {
  /** The Binance spot and USD-M ingestors that were made (none when no symbol is theirs). */
  readonly ingestors: readonly Ingestor[];
  /**
   * One per other venue with symbols; OKX derivatives get a second OKX one,
   * added once their contract values are known (see the module docs).
   */
  readonly venues: readonly VenueIngest[];
  /** Start everything. */
  start(): void;
  /** Stop everything (frames already committed stay in the ring). */
  stop(): Promise<void>;
  /** Check the lease (every part); false once it was lost. */
  checkLease(): boolean;
}

/**
 * The service's ids and native names of the symbols of each venue, in id order.
 *
 * @example
 * ```ts
 * import { symbolsByVenue } from "./venue_ingestors.ts";
 * const by = symbolsByVenue(["btcusdt", "okx:btc-usdt", "x:btc-usdt"]);
 * by.get("okx"); // [{ id: 1, native: "BTC-USDT" }]
 * by.get("binance"); // [{ id: 0, native: "BTCUSDT" }]
 * ```
 */
export function symbolsByVenue(
  symbols: readonly string[],
): Map<VenueId, { id: number; native: string }[]> {
  const out = new Map<VenueId, { id: number; native: string }[]>();
  for (let id = 0; id < symbols.length; id++) {
    const venue = venueOf(symbols[id]);
    if (venue === undefined) continue; // a consolidated instrument: no venue connects it
    const colon = symbols[id].indexOf(":");
    const native = symbols[id].slice(colon + 1).toUpperCase();
    let list = out.get(venue);
    if (list === undefined) out.set(venue, list = []);
    list.push({ id, native });
  }
  return out;
}

/**
 * Builds the ingest objects of one worker (see the module docs); nothing
 * connects until `start()`.
 *
 * @example
 * ```ts
 * import { createVenueIngestors, type VenueIngestorsOptions } from "./venue_ingestors.ts";
 * declare const options: VenueIngestorsOptions; // from the ingest worker's start message
 * const ingest = createVenueIngestors(options);
 * ingest.start();
 * ```
 * @throws VenueNotBuiltError for a venue without a protocol; the errors of
 *   `Ingestor` and `VenueIngest` for bad options.
 */
export function createVenueIngestors(options: VenueIngestorsOptions): VenueIngestors {
  const { venueUrls = {}, protocols, ...base } = options;
  const log = base.log ?? console;
  const ingestors: Ingestor[] = [];
  const venues: VenueIngest[] = [];
  let fenced = false;
  let stopped = false;
  const onFenced = () => {
    if (fenced) return;
    fenced = true;
    // One part noticed first: the others stop writing at once too.
    for (const i of ingestors) i.checkLease();
    for (const v of venues) v.checkLease();
    options.onFenced?.();
  };
  const venueIngest = (
    venue: VenueId,
    symbols: readonly { id: number; native: string }[],
    wsUrl: string,
    limiter: AttemptLimiter,
    sizeMultiplier?: readonly number[],
  ) =>
    new VenueIngest({
      protocol: venueProtocol(venue, protocols),
      symbols,
      wsUrl,
      rawRing: base.rawRing,
      counters: base.counters,
      levels: base.levels,
      sizeMultiplier,
      staleMs: base.staleMs,
      backoffBaseMs: base.backoffBaseMs,
      backoffCapMs: base.backoffCapMs,
      limiter,
      log,
      lease: base.lease,
      onFenced,
    });
  /** OKX derivatives, connected once their contract values are known. */
  let okxContracts:
    | {
      list: { id: number; native: string }[];
      wsUrl: string;
      restUrl: string;
      limiter: AttemptLimiter;
    }
    | undefined;
  const abort = new AbortController();
  let learning: Promise<void> | undefined;
  if (base.replay) {
    ingestors.push(new Ingestor({ ...base, onFenced }));
  } else {
    const by = symbolsByVenue(base.symbols);
    if (by.has("binance")) ingestors.push(new Ingestor({ ...base, onFenced }));
    for (const venue of VENUE_IDS) {
      const list = by.get(venue);
      if (venue === "binance" || list === undefined) continue;
      const url = venueUrls[venue];
      const wsUrl = url?.wsUrl ?? VENUES[venue].wsUrl;
      if (venue === "binance-usdm") {
        // The Ingestor runs Binance USD-M with its `venue` option (diff streams, REST snapshots).
        const usdm = {
          ...base,
          venue,
          wsUrl,
          restUrl: url?.restUrl ?? VENUES[venue].restUrl,
          onFenced,
        };
        ingestors.push(new Ingestor(usdm));
        continue;
      }
      const limiter = new AttemptLimiter();
      let now = list;
      if (venue === "okx") {
        now = list.filter((s) => okxSpot(s.native));
        const later = list.filter((s) => !okxSpot(s.native));
        if (later.length > 0) {
          // Checked now, so that a venue without a protocol fails at once as the others do.
          venueProtocol(venue, protocols);
          const restUrl = url?.restUrl || VENUES.okx.restUrl;
          okxContracts = { list: later, wsUrl, restUrl, limiter };
        }
      }
      if (now.length > 0) venues.push(venueIngest(venue, now, wsUrl, limiter));
    }
  }
  const connectOkxContracts = async (
    pending: NonNullable<typeof okxContracts>,
  ): Promise<void> => {
    const { multipliers } = await learnOkxContracts({
      restUrl: pending.restUrl,
      symbols: pending.list.map((s) => s.native),
      backoffBaseMs: base.backoffBaseMs,
      backoffCapMs: base.backoffCapMs,
      signal: abort.signal,
      log,
    });
    if (stopped || fenced || (base.lease !== undefined && !base.lease.held())) return;
    const known = pending.list.filter((s) => multipliers.has(s.native));
    if (known.length === 0) return;
    const v = venueIngest(
      "okx",
      known,
      pending.wsUrl,
      pending.limiter,
      known.map((s) => multipliers.get(s.native)!),
    );
    venues.push(v);
    v.start();
  };
  return {
    ingestors,
    venues,
    start() {
      if (stopped) return;
      for (const i of ingestors) i.start();
      for (const v of venues) v.start();
      if (okxContracts !== undefined && learning === undefined) {
        const c = base.counters;
        for (const s of okxContracts.list) {
          c.store(c.ingestSymbol(s.id, INGEST_FEED_STATE), FeedState.Connecting);
        }
        learning = connectOkxContracts(okxContracts).catch((e) =>
          log.error("okx: learning the contract values failed:", e)
        );
      }
    },
    async stop() {
      stopped = true;
      abort.abort();
      await learning;
      await Promise.all([...ingestors.map((i) => i.stop()), ...venues.map((v) => v.stop())]);
    },
    checkLease() {
      let held = true;
      for (const i of ingestors) held = i.checkLease() && held;
      for (const v of venues) held = v.checkLease() && held;
      return held;
    },
  };
}

/** Whether an OKX instId is spot (sizes in base units); an unreadable one is not (it is refused later). */
function okxSpot(native: string): boolean {
  try {
    return okxInstType(native) === "SPOT";
  } catch {
    return false;
  }
}
