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
  /** Control messages (not frames). */
  controlMessages: number;
  /** Messages ignored by the connection layer. */
  ignoredMessages: number;
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

/** One extender per counter, created on first use. */
class Extenders {
  readonly #map = new Map<string, CounterExtender>();
  total(key: string, raw: number): number {
    let ext = this.#map.get(key);
    if (!ext) {
      ext = new CounterExtender();
      this.#map.set(key, ext);
    }
    return ext.update(raw);
  }
}

/**
 * Reads every pipeline counter in one pass and extends the wrapping ones.
 *
 * @example
 * ```ts
 * import { PipelineTotals, type PipelineSources } from "./pipeline_totals.ts";
 * declare const state: PipelineSources; // the service's symbols, counters and rings
 * const totals = new PipelineTotals(state);
 * setInterval(() => totals.snapshot(), 1000); // keep totals exact across wraps
 * ```
 */
export class PipelineTotals {
  readonly #src: PipelineSources;
  readonly #ext = new Extenders();

  /**
   * Creates the reader; nothing is read until {@link PipelineTotals.snapshot}.
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
  }

  /**
   * Read all counters once (downstream first) and return exact totals. Call
   * at least once per 2^32 increments of any counter.
   */
  snapshot(): PipelineSnapshot {
    const { symbols, counters: c, rawRing, processedRing } = this.#src;
    const ext = this.#ext;
    const n = symbols.length;

    const delivered: number[] = [];
    for (let s = 0; s < n; s++) {
      delivered.push(ext.total(`d${s}`, c.load(c.mainSymbol(s, MAIN_DELIVERED))));
    }
    const processedQueue = this.#queue("p", processedRing);
    const processed: number[] = [];
    const skipped: number[] = [];
    const analysed: number[] = [];
    for (let s = 0; s < n; s++) {
      processed.push(ext.total(`ap${s}`, c.load(c.analyticsSymbol(s, ANALYTICS_PROCESSED))));
      skipped.push(ext.total(`as${s}`, c.load(c.analyticsSymbol(s, ANALYTICS_SKIPPED))));
      analysed.push(ext.total(`aa${s}`, c.load(c.analyticsSymbol(s, ANALYTICS_ANALYSED))));
    }
    const analytics = this.#analytics();
    const rawQueue = this.#queue("r", rawRing);
    const out: SymbolTotals[] = [];
    for (let s = 0; s < n; s++) {
      const accepted = ext.total(`ia${s}`, c.load(c.ingestSymbol(s, INGEST_ACCEPTED)));
      const rejected: number[] = [0];
      let rejectedTotal = 0;
      for (let r = 1; r < REJECT_REASON_COUNT; r++) {
        const v = ext.total(`ij${s}.${r}`, c.load(c.rejected(s, r)));
        rejected.push(v);
        rejectedTotal += v;
      }
      const received = ext.total(`ir${s}`, c.load(c.ingestSymbol(s, INGEST_RECEIVED)));
      out.push({
        symbol: symbols[s],
        feedState: c.load(c.ingestSymbol(s, INGEST_FEED_STATE)),
        received,
        rejected,
        rejectedTotal,
        accepted,
        coalesced: ext.total(`ic${s}`, c.load(c.ingestSymbol(s, INGEST_COALESCED))),
        pending: c.load(c.ingestSymbol(s, INGEST_PENDING)),
        analysed: analysed[s],
        processed: processed[s],
        skipped: skipped[s],
        delivered: delivered[s],
      });
    }
    const g = (key: string, word: number) => ext.total(`ig${key}`, c.load(c.ingest(word)));
    const ingest: IngestTotals = {
      reconnects: g("reconnects", INGEST_RECONNECTS),
      connects: g("connects", INGEST_CONNECTS),
      staleEvents: g("stale", INGEST_STALE_EVENTS),
      serverShutdowns: g("shutdowns", INGEST_SERVER_SHUTDOWNS),
      rollovers: g("rollovers", INGEST_ROLLOVERS),
      restRequests: g("rest", INGEST_REST_REQUESTS),
      rest429: g("rest429", INGEST_REST_429),
      rest418: g("rest418", INGEST_REST_418),
      restErrors: g("restErrors", INGEST_REST_ERRORS),
      controlMessages: g("control", INGEST_CONTROL_MESSAGES),
      ignoredMessages: g("ignored", INGEST_IGNORED_MESSAGES),
      heartbeat: c.load(c.ingest(INGEST_HEARTBEAT)),
      started: c.load(c.ingest(INGEST_STARTED)) !== 0,
    };
    const rejectedUnattributed: number[] = [0];
    for (let r = 1; r < REJECT_REASON_COUNT; r++) {
      rejectedUnattributed.push(ext.total(`ij${n}.${r}`, c.load(c.rejected(n, r))));
    }
    const unattributed = {
      received: ext.total(`ir${n}`, c.load(c.ingestSymbol(n, INGEST_RECEIVED))),
      rejected: rejectedUnattributed,
    };
    return {
      symbols: out,
      unattributed,
      queues: { raw: rawQueue, processed: processedQueue },
      ingest,
      analytics,
    };
  }

  #queue(key: string, ring: SpscRing): QueueTotals {
    const st = ring.stats();
    const ext = this.#ext;
    return {
      capacity: st.capacity,
      depth: st.depth,
      highWater: st.highWater,
      pushed: ext.total(`${key}.pushed`, st.pushed),
      popped: ext.total(`${key}.popped`, st.popped),
      dropped: ext.total(`${key}.dropped`, st.dropped),
      overtaken: ext.total(`${key}.overtaken`, st.overtaken),
    };
  }

  #analytics(): AnalyticsTotals {
    const c = this.#src.counters;
    const ext = this.#ext;
    const counts: number[] = [];
    let count = 0;
    for (let b = 0; b <= PROCESSING_BUCKETS_SECONDS.length; b++) {
      const v = ext.total(`pb${b}`, c.load(c.analytics(ANALYTICS_PROCESSING_BUCKETS + b)));
      counts.push(v);
      count += v;
    }
    const sumUnits = ext.total("psum", c.load(c.analytics(ANALYTICS_PROCESSING_SUM)));
    return {
      mode: c.load(c.analytics(ANALYTICS_MODE)),
      modeChanges: ext.total("modeChanges", c.load(c.analytics(ANALYTICS_MODE_CHANGES))),
      heartbeat: c.load(c.analytics(ANALYTICS_HEARTBEAT)),
      started: c.load(c.analytics(ANALYTICS_STARTED)) !== 0,
      processingBucketsSeconds: PROCESSING_BUCKETS_SECONDS,
      processingCounts: counts,
      processingSumSeconds: sumUnits * PROCESSING_SUM_UNIT_SECONDS,
      processingCount: count,
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
