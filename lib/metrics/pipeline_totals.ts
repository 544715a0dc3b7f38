/**
 * Exact totals of the pipeline's wrapping uint32 counters, read in one pass.
 *
 * The shared counters ({@link PipelineCounters}) and the ring counters
 * (`SpscRing.stats()`) are uint32 words that wrap at 2^32. A
 * {@link PipelineTotals} keeps one {@link CounterExtender} per wrapping word
 * and turns each reading into a monotonic total; it stays exact as long as
 * {@link PipelineTotals.snapshot} runs at least once per 2^32 increments of
 * any counter (the service samples every second).
 *
 * One snapshot reads every counter once, downstream first (main thread, then
 * the processed ring, the analytics worker, the raw ring and the ingest
 * worker), so that while the pipeline is paused the accounting identities of
 * docs/design.md §1 hold exactly between the values of one snapshot:
 *
 * - `received = rejected + accepted` (per symbol)
 * - `Σ accepted = raw.dropped + Σ analysed + raw.depth`
 * - `analysed = processed + skipped` (per symbol)
 * - `Σ processed = processed.dropped + Σ delivered + processed.depth`
 *
 * {@link pipelineTotals} hands out one shared instance per service state, so
 * /metrics and /stats report the same totals from the same extenders.
 *
 * @example
 * ```ts
 * import { pipelineTotals } from "./pipeline_totals.ts";
 * import { INGEST_RECEIVED, PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const state = {
 *   symbols: ["BTCUSDT"],
 *   counters: PipelineCounters.create(2), // BTCUSDT + the unknown-symbol row
 *   rawRing: SpscRing.create({ capacity: 8, slotBytes: 8 }),
 *   processedRing: SpscRing.create({ capacity: 8, slotBytes: 8 }),
 * };
 * state.counters.add(state.counters.ingestSymbol(0, INGEST_RECEIVED), 3);
 * const snap = pipelineTotals(state).snapshot();
 * snap.symbols[0].received; // 3: exact, however often the uint32 counter wrapped
 * snap.queues.raw.dropped; // 0: exact total of raw-ring drops
 * ```
 * @module
 */

import {
  ANALYTICS_ANALYSED,
  ANALYTICS_HEARTBEAT,
  ANALYTICS_MODE,
  ANALYTICS_MODE_CHANGES,
  ANALYTICS_PROCESSED,
  ANALYTICS_PROCESSING_BUCKETS,
  ANALYTICS_PROCESSING_SUM,
  ANALYTICS_SKIPPED,
  ANALYTICS_STARTED,
  CounterExtender,
  INGEST_ACCEPTED,
  INGEST_COALESCED,
  INGEST_CONNECTS,
  INGEST_CONTROL_MESSAGES,
  INGEST_DIFF_SNAPSHOTS_APPLIED,
  INGEST_DIFF_SNAPSHOTS_INVALID,
  INGEST_DIFF_SNAPSHOTS_TOO_OLD,
  INGEST_FEED_STATE,
  INGEST_HEARTBEAT,
  INGEST_IGNORED_MESSAGES,
  INGEST_PENDING,
  INGEST_RECEIVED,
  INGEST_RECONNECTS,
  INGEST_REST_418,
  INGEST_REST_429,
  INGEST_REST_ERRORS,
  INGEST_REST_REQUESTS,
  INGEST_ROLLOVERS,
  INGEST_SERVER_SHUTDOWNS,
  INGEST_STALE_EVENTS,
  INGEST_STARTED,
  INGEST_VENUE_ERRORS,
  MAIN_DELIVERED,
  type PipelineCounters,
  PROCESSING_BUCKETS_SECONDS,
  PROCESSING_SUM_UNIT_SECONDS,
} from "../pipeline/pipeline_counters.ts";
import { REJECT_REASON_COUNT } from "../pipeline/reject_reason.ts";
import type { RingStats, SpscRing } from "../pipeline/spsc_ring.ts";

/** What a {@link PipelineTotals} reads: the parts of the service state holding counters. */
export interface PipelineSources {
  /** Upper-case symbols, index = symbol id. */
  readonly symbols: readonly string[];
  /** The shared pipeline counters. */
  readonly counters: PipelineCounters;
  /** The raw ring (ingest → analytics). */
  readonly rawRing: SpscRing;
  /** The processed ring (analytics → main). */
  readonly processedRing: SpscRing;
}

/** Exact totals of one symbol. */
export interface SymbolTotals {
  /** Upper-case symbol. */
  symbol: string;
  /** Feed state gauge (a `FeedState` value). */
  feedState: number;
  /** Frames received. */
  received: number;
  /** Frames rejected, indexed by reason code (index 0, "ok", stays 0). */
  rejected: number[];
  /** Sum of {@link SymbolTotals.rejected}. */
  rejectedTotal: number;
  /** Frames accepted into the raw ring. */
  accepted: number;
  /** Diff mode: accepted events folded into a later frame. */
  coalesced: number;
  /** Diff mode gauge: accepted events not yet emitted. */
  pending: number;
  /** Frames taken from the raw ring by the analytics worker. */
  analysed: number;
  /** Frames analysed and written to the processed ring. */
  processed: number;
  /** Frames skipped by the adaptive processor. */
  skipped: number;
  /** Frames taken from the processed ring by the main thread. */
  delivered: number;
}

/**
 * Exact totals of one ring: its {@link RingStats} with the wrapping counters
 * (`pushed`, `popped`, `dropped`, `overtaken`) extended.
 */
export type QueueTotals = RingStats;

/** Exact totals of the ingest worker's global counters. */
export interface IngestTotals {
  /** Reconnects (connections after a close or a stale watchdog). */
  reconnects: number;
  /** Successful connections. */
  connects: number;
  /** Stale watchdog firings. */
  staleEvents: number;
  /** serverShutdown messages. */
  serverShutdowns: number;
  /** Connections rolled over. */
  rollovers: number;
  /** REST snapshot requests. */
  restRequests: number;
  /** REST 429 answers. */
  rest429: number;
  /** REST 418 answers. */
  rest418: number;
  /** REST failures. */
  restErrors: number;
  /** Diff mode: REST snapshots loaded into a book. */
  snapshotsApplied: number;
  /** Diff mode: snapshots refused as older than the buffered events (re-requested). */
  snapshotsTooOld: number;
  /** Diff mode: snapshots refused as invalid (re-requested). */
  snapshotsInvalid: number;
  /** Control messages (not frames). */
  controlMessages: number;
  /** Messages ignored by the connection layer. */
  ignoredMessages: number;
  /** Error messages sent by venues other than Binance (`venue_ingest.ts`). */
  venueErrors: number;
  /** Raw heartbeat word (changes while the worker's loop runs). */
  heartbeat: number;
  /** True once the worker has attached and started. */
  started: boolean;
}

/** Exact totals of the analytics worker's global counters. */
export interface AnalyticsTotals {
  /** Adaptive mode gauge (0 normal, 1 every 2nd, 2 every 3rd). */
  mode: number;
  /** Adaptive mode changes. */
  modeChanges: number;
  /** Raw heartbeat word. */
  heartbeat: number;
  /** True once the worker has attached and started. */
  started: boolean;
  /** Upper bounds (seconds) of the processing-time buckets; a +Inf bucket follows. */
  processingBucketsSeconds: readonly number[];
  /** Non-cumulative processing-time counts per bucket (length = bounds + 1). */
  processingCounts: number[];
  /** Sum of processing times in seconds. */
  processingSumSeconds: number;
  /** Number of processing-time observations (Σ counts). */
  processingCount: number;
}

/** Everything one {@link PipelineTotals.snapshot} read. */
export interface PipelineSnapshot {
  /** Per symbol, in symbol-id order. */
  symbols: SymbolTotals[];
  /**
   * Frames that name no subscribed symbol (garbage, truncated or unknown
   * streams): received and rejected by reason (index 0 unused), from the
   * counters' extra row.
   */
  unattributed: { received: number; rejected: number[] };
  /** Raw and processed rings. */
  queues: { raw: QueueTotals; processed: QueueTotals };
  /** Ingest globals. */
  ingest: IngestTotals;
  /** Analytics globals. */
  analytics: AnalyticsTotals;
}

/** A per-symbol value kept by {@link PipelineTotals} (see {@link SymbolTotals} for each). */
export type SymbolCounter =
  | "received"
  | "accepted"
  | "coalesced"
  | "analysed"
  | "processed"
  | "skipped"
  | "delivered"
  | "feedState"
  | "pending";

/** The fixed-size part of a {@link PipelineSnapshot}: everything but the per-symbol rows. */
export type PipelineGlobals = Omit<PipelineSnapshot, "symbols">;

/**
 * Reads every pipeline counter in one pass and extends the wrapping ones.
 *
 * The totals live in one `Float64Array` indexed like the shared counters (a
 * `Uint32Array` holds each word's last reading), so a pass allocates nothing
 * per symbol: {@link PipelineTotals.sample} reads, {@link PipelineTotals.value}
 * and {@link PipelineTotals.rejected} look up the last pass, and
 * {@link PipelineTotals.snapshot} reads and builds the object tree.
 *
 * @example
 * ```ts
 * import { PipelineTotals, type PipelineSources } from "./pipeline_totals.ts";
 * declare const state: PipelineSources; // the service's symbols, counters and rings
 * const totals = new PipelineTotals(state);
 * setInterval(() => totals.sample(), 1000); // keep totals exact across wraps
 * ```
 */
export class PipelineTotals {
  readonly #src: PipelineSources;
  /** Whether the counters have the row of frames that name no subscribed symbol (index = symbols). */
  readonly #unknownRow: boolean;
  /** Extended totals (and gauge readings) by counter word. */
  readonly #total: Float64Array;
  /** Last uint32 reading of each counter word. */
  readonly #last: Uint32Array;
  readonly #queues = {
    raw: new RingTotals(),
    processed: new RingTotals(),
  };
  #rawStats: QueueTotals | null = null;
  #processedStats: QueueTotals | null = null;

  /**
   * Creates the reader; nothing is read until {@link PipelineTotals.sample}.
   *
   * @param sources the symbols, counters and rings to read.
   * @throws RangeError when the counters hold fewer symbols than `sources.symbols`.
   */
  constructor(sources: PipelineSources) {
    if (sources.counters.symbols < sources.symbols.length) {
      throw new RangeError(
        `counters hold ${sources.counters.symbols} symbols but the state lists ` +
          `${sources.symbols.length}; expected counters for every symbol`,
      );
    }
    this.#src = sources;
    this.#unknownRow = sources.counters.symbols > sources.symbols.length;
    const words = sources.counters.buffer.byteLength >> 2;
    this.#total = new Float64Array(words);
    this.#last = new Uint32Array(words);
  }

  /** Read the wrapping counter at `index` and return its extended total. */
  #extend(index: number): number {
    const raw = this.#src.counters.load(index);
    const total = this.#total[index] + ((raw - this.#last[index]) >>> 0);
    this.#last[index] = raw;
    this.#total[index] = total;
    return total;
  }

  /** Read the gauge at `index` (not extended) and keep the reading. */
  #gauge(index: number): void {
    this.#total[index] = this.#src.counters.load(index);
  }

  /**
   * Read all counters once, downstream first, into the totals; allocates
   * nothing per symbol. Call at least once per 2^32 increments of any counter.
   */
  sample(): void {
    const { symbols, counters: c, rawRing, processedRing } = this.#src;
    const n = symbols.length;
    for (let s = 0; s < n; s++) this.#extend(c.mainSymbol(s, MAIN_DELIVERED));
    this.#processedStats = this.#queues.processed.read(processedRing);
    for (let s = 0; s < n; s++) {
      this.#extend(c.analyticsSymbol(s, ANALYTICS_PROCESSED));
      this.#extend(c.analyticsSymbol(s, ANALYTICS_SKIPPED));
      this.#extend(c.analyticsSymbol(s, ANALYTICS_ANALYSED));
    }
    this.#extend(c.analytics(ANALYTICS_MODE_CHANGES));
    for (let b = 0; b <= PROCESSING_BUCKETS_SECONDS.length; b++) {
      this.#extend(c.analytics(ANALYTICS_PROCESSING_BUCKETS + b));
    }
    this.#extend(c.analytics(ANALYTICS_PROCESSING_SUM));
    this.#gauge(c.analytics(ANALYTICS_MODE));
    this.#gauge(c.analytics(ANALYTICS_HEARTBEAT));
    this.#gauge(c.analytics(ANALYTICS_STARTED));
    this.#rawStats = this.#queues.raw.read(rawRing);
    // Row n counts frames that name no subscribed symbol (received and rejected only).
    for (let s = 0; s < (this.#unknownRow ? n + 1 : n); s++) {
      if (s < n) this.#extend(c.ingestSymbol(s, INGEST_ACCEPTED));
      for (let r = 1; r < REJECT_REASON_COUNT; r++) this.#extend(c.rejected(s, r));
      this.#extend(c.ingestSymbol(s, INGEST_RECEIVED));
      if (s < n) {
        this.#extend(c.ingestSymbol(s, INGEST_COALESCED));
        this.#gauge(c.ingestSymbol(s, INGEST_FEED_STATE));
        this.#gauge(c.ingestSymbol(s, INGEST_PENDING));
      }
    }
    for (const word of INGEST_EXTENDED) this.#extend(c.ingest(word));
    this.#gauge(c.ingest(INGEST_HEARTBEAT));
    this.#gauge(c.ingest(INGEST_STARTED));
  }

  /**
   * A per-symbol value of the last {@link PipelineTotals.sample}. `symbolId`
   * = the number of symbols is the row of frames that name no subscribed
   * symbol (only `received` counts there; 0 when the counters have no such row).
   */
  value(symbolId: number, counter: SymbolCounter): number {
    const c = this.#src.counters;
    if (symbolId >= c.symbols) return 0;
    switch (counter) {
      case "received":
        return this.#total[c.ingestSymbol(symbolId, INGEST_RECEIVED)];
      case "accepted":
        return this.#total[c.ingestSymbol(symbolId, INGEST_ACCEPTED)];
      case "coalesced":
        return this.#total[c.ingestSymbol(symbolId, INGEST_COALESCED)];
      case "feedState":
        return this.#total[c.ingestSymbol(symbolId, INGEST_FEED_STATE)];
      case "pending":
        return this.#total[c.ingestSymbol(symbolId, INGEST_PENDING)];
      case "analysed":
        return this.#total[c.analyticsSymbol(symbolId, ANALYTICS_ANALYSED)];
      case "processed":
        return this.#total[c.analyticsSymbol(symbolId, ANALYTICS_PROCESSED)];
      case "skipped":
        return this.#total[c.analyticsSymbol(symbolId, ANALYTICS_SKIPPED)];
      case "delivered":
        return this.#total[c.mainSymbol(symbolId, MAIN_DELIVERED)];
    }
  }

  /**
   * Frames of `symbolId` rejected for `reason` (a `RejectReason`) at the last
   * {@link PipelineTotals.sample}; `reason` 0 (`Ok`) gives the sum over all
   * reasons. `symbolId` = the number of symbols is the unattributed row.
   */
  rejected(symbolId: number, reason: number): number {
    const c = this.#src.counters;
    if (symbolId >= c.symbols) return 0;
    if (reason !== 0) return this.#total[c.rejected(symbolId, reason)];
    let sum = 0;
    for (let r = 1; r < REJECT_REASON_COUNT; r++) sum += this.#total[c.rejected(symbolId, r)];
    return sum;
  }

  /** The fixed-size part of the last {@link PipelineTotals.sample} (queues, globals, unattributed). */
  globals(): PipelineGlobals {
    const c = this.#src.counters;
    const t = this.#total;
    const n = this.#src.symbols.length;
    const g = (word: number) => t[c.ingest(word)];
    const ingest: IngestTotals = {
      reconnects: g(INGEST_RECONNECTS),
      connects: g(INGEST_CONNECTS),
      staleEvents: g(INGEST_STALE_EVENTS),
      serverShutdowns: g(INGEST_SERVER_SHUTDOWNS),
      rollovers: g(INGEST_ROLLOVERS),
      restRequests: g(INGEST_REST_REQUESTS),
      rest429: g(INGEST_REST_429),
      rest418: g(INGEST_REST_418),
      restErrors: g(INGEST_REST_ERRORS),
      snapshotsApplied: g(INGEST_DIFF_SNAPSHOTS_APPLIED),
      snapshotsTooOld: g(INGEST_DIFF_SNAPSHOTS_TOO_OLD),
      snapshotsInvalid: g(INGEST_DIFF_SNAPSHOTS_INVALID),
      controlMessages: g(INGEST_CONTROL_MESSAGES),
      ignoredMessages: g(INGEST_IGNORED_MESSAGES),
      venueErrors: g(INGEST_VENUE_ERRORS),
      heartbeat: g(INGEST_HEARTBEAT),
      started: g(INGEST_STARTED) !== 0,
    };
    const counts: number[] = [];
    let count = 0;
    for (let b = 0; b <= PROCESSING_BUCKETS_SECONDS.length; b++) {
      const v = t[c.analytics(ANALYTICS_PROCESSING_BUCKETS + b)];
      counts.push(v);
      count += v;
    }
    const analytics: AnalyticsTotals = {
      mode: t[c.analytics(ANALYTICS_MODE)],
      modeChanges: t[c.analytics(ANALYTICS_MODE_CHANGES)],
      heartbeat: t[c.analytics(ANALYTICS_HEARTBEAT)],
      started: t[c.analytics(ANALYTICS_STARTED)] !== 0,
      processingBucketsSeconds: PROCESSING_BUCKETS_SECONDS,
      processingCounts: counts,
      processingSumSeconds: t[c.analytics(ANALYTICS_PROCESSING_SUM)] *
        PROCESSING_SUM_UNIT_SECONDS,
      processingCount: count,
    };
    const rejected: number[] = [0];
    for (let r = 1; r < REJECT_REASON_COUNT; r++) rejected.push(this.rejected(n, r));
    const empty = this.#queues.raw.empty;
    return {
      unattributed: { received: this.value(n, "received"), rejected },
      queues: { raw: this.#rawStats ?? empty, processed: this.#processedStats ?? empty },
      ingest,
      analytics,
    };
  }

  /**
   * Read all counters once (downstream first, {@link PipelineTotals.sample})
   * and return exact totals as objects. Call at least once per 2^32
   * increments of any counter.
   */
  snapshot(): PipelineSnapshot {
    this.sample();
    const symbols: SymbolTotals[] = [];
    for (let s = 0; s < this.#src.symbols.length; s++) {
      const rejected: number[] = [0];
      let rejectedTotal = 0;
      for (let r = 1; r < REJECT_REASON_COUNT; r++) {
        const v = this.rejected(s, r);
        rejected.push(v);
        rejectedTotal += v;
      }
      symbols.push({
        symbol: this.#src.symbols[s],
        feedState: this.value(s, "feedState"),
        received: this.value(s, "received"),
        rejected,
        rejectedTotal,
        accepted: this.value(s, "accepted"),
        coalesced: this.value(s, "coalesced"),
        pending: this.value(s, "pending"),
        analysed: this.value(s, "analysed"),
        processed: this.value(s, "processed"),
        skipped: this.value(s, "skipped"),
        delivered: this.value(s, "delivered"),
      });
    }
    return { symbols, ...this.globals() };
  }
}

/** The ingest globals that are wrapping counters. */
const INGEST_EXTENDED = [
  INGEST_RECONNECTS,
  INGEST_CONNECTS,
  INGEST_STALE_EVENTS,
  INGEST_SERVER_SHUTDOWNS,
  INGEST_ROLLOVERS,
  INGEST_REST_REQUESTS,
  INGEST_REST_429,
  INGEST_REST_418,
  INGEST_REST_ERRORS,
  INGEST_CONTROL_MESSAGES,
  INGEST_IGNORED_MESSAGES,
  INGEST_DIFF_SNAPSHOTS_APPLIED,
  INGEST_DIFF_SNAPSHOTS_TOO_OLD,
  INGEST_DIFF_SNAPSHOTS_INVALID,
  INGEST_VENUE_ERRORS,
];

/** Extends one ring's wrapping counters. */
class RingTotals {
  readonly #pushed = new CounterExtender();
  readonly #popped = new CounterExtender();
  readonly #dropped = new CounterExtender();
  readonly #overtaken = new CounterExtender();
  /** Totals of a ring never read. */
  readonly empty: QueueTotals = {
    capacity: 0,
    depth: 0,
    highWater: 0,
    pushed: 0,
    popped: 0,
    dropped: 0,
    overtaken: 0,
  };

  read(ring: SpscRing): QueueTotals {
    const st = ring.stats();
    return {
      capacity: st.capacity,
      depth: st.depth,
      highWater: st.highWater,
      pushed: this.#pushed.update(st.pushed),
      popped: this.#popped.update(st.popped),
      dropped: this.#dropped.update(st.dropped),
      overtaken: this.#overtaken.update(st.overtaken),
    };
  }
}

const shared = new WeakMap<PipelineSources, PipelineTotals>();

/**
 * The {@link PipelineTotals} shared by everything that reports on `state`
 * (/metrics, /stats): one per state object, created on first use.
 *
 * @example
 * ```ts
 * import { pipelineTotals, type PipelineSources } from "./pipeline_totals.ts";
 * declare const state: PipelineSources; // the service's symbols, counters and rings
 * pipelineTotals(state) === pipelineTotals(state); // true
 * ```
 */
export function pipelineTotals(state: PipelineSources): PipelineTotals {
  let totals = shared.get(state);
  if (!totals) {
    totals = new PipelineTotals(state);
    shared.set(state, totals);
  }
  return totals;
}
