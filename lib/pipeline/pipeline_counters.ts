/**
 * Pipeline counters in shared memory: the ingest worker, the analytics worker
 * and the main thread each write their own region (one writer per word, each
 * region starting on its own 64-byte line), and any thread reads them with
 * atomic loads, without locks.
 *
 * Counters are uint32 and wrap at 2^32; {@link CounterExtender} on the reader
 * side turns them into exact monotonic totals as long as it samples more often
 * than once per 2^32 increments (the main thread samples every second).
 * Gauges (feed state, adaptive mode, pending) are plain values.
 *
 * This module is the only place that knows the offsets.
 *
 * @example
 * ```ts
 * import { INGEST_RECEIVED, PipelineCounters } from "./pipeline_counters.ts";
 * const counters = PipelineCounters.create(2);
 * counters.add(counters.ingestSymbol(1, INGEST_RECEIVED), 1);
 * counters.load(counters.ingestSymbol(1, INGEST_RECEIVED)); // 1
 * const other = PipelineCounters.attach(counters.buffer); // in a worker
 * ```
 * @module
 */

import { REJECT_REASON_COUNT } from "./reject_reason.ts";

const LINE_WORDS = 16; // 64 bytes of int32

function roundToLine(words: number): number {
  return Math.ceil(words / LINE_WORDS) * LINE_WORDS;
}

// ------------------------------------------------------------ ingest region
/** Ingest global: connections opened after a close or stale (reconnects). */
export const INGEST_RECONNECTS = 0;
/** Ingest global: successful connections. */
export const INGEST_CONNECTS = 1;
/** Ingest global: stale watchdog firings. */
export const INGEST_STALE_EVENTS = 2;
/** Ingest global: serverShutdown messages seen. */
export const INGEST_SERVER_SHUTDOWNS = 3;
/** Ingest global: connections replaced before their lifetime ended or on serverShutdown. */
export const INGEST_ROLLOVERS = 4;
/** Ingest global: incremented by the worker's loop; a stuck value means a hung worker. */
export const INGEST_HEARTBEAT = 5;
/** Ingest global: REST snapshot requests sent. */
export const INGEST_REST_REQUESTS = 6;
/** Ingest global: REST 429 answers. */
export const INGEST_REST_429 = 7;
/** Ingest global: REST 418 answers. */
export const INGEST_REST_418 = 8;
/** Ingest global: REST failures (timeouts, network errors, bad bodies). */
export const INGEST_REST_ERRORS = 9;
/** Ingest global: control messages (serverShutdown, subscription replies), not frames. */
export const INGEST_CONTROL_MESSAGES = 10;
/** Ingest global: messages ignored by the connection layer (binary, oversized). */
export const INGEST_IGNORED_MESSAGES = 11;
/** Ingest global: 1 once the worker has attached and started. */
export const INGEST_STARTED = 12;
/** Ingest global gauge, diff mode: books currently synced (0 in depth20 mode). */
export const INGEST_DIFF_SYNCED = 13;
/** Ingest global gauge, diff mode: estimated ms until every book is synced (0 when all are). */
export const INGEST_DIFF_ETA_MS = 14;
/** Ingest global, diff mode: resyncs because a book's top left its seeded range. */
export const INGEST_DIFF_RANGE_RESYNCS = 15;
/** Ingest global, diff mode: REST snapshots loaded into a book. */
export const INGEST_DIFF_SNAPSHOTS_APPLIED = 16;
/** Ingest global, diff mode: snapshots refused as older than the buffered events (another one is requested). */
export const INGEST_DIFF_SNAPSHOTS_TOO_OLD = 17;
/** Ingest global, diff mode: snapshots refused as invalid (bad id or levels; another one is requested). */
export const INGEST_DIFF_SNAPSHOTS_INVALID = 18;
/** Ingest global: error messages sent by a venue other than Binance (logged by `venue_ingest.ts`, at most one line per 10 s per venue). */
export const INGEST_VENUE_ERRORS = 19;
const INGEST_GLOBAL_WORDS = 20;

/** Ingest per symbol: frames (messages) received for the symbol. */
export const INGEST_RECEIVED = 0;
/** Ingest per symbol: frames accepted, i.e. written into the raw ring. */
export const INGEST_ACCEPTED = 1;
/** Ingest per symbol: feed state gauge ({@link FeedState}). */
export const INGEST_FEED_STATE = 2;
/** Ingest per symbol (diff mode): accepted events folded into a later frame. */
export const INGEST_COALESCED = 3;
/** Ingest per symbol (diff mode) gauge: accepted events not yet in an emitted frame. */
export const INGEST_PENDING = 4;
/** Ingest per symbol: first of {@link REJECT_REASON_COUNT} rejection counters, indexed by reason. */
export const INGEST_REJECTED = 5;
const INGEST_SYMBOL_WORDS = INGEST_REJECTED + REJECT_REASON_COUNT;

// --------------------------------------------------------- analytics region
/** Analytics global: incremented by the worker's loop. */
export const ANALYTICS_HEARTBEAT = 0;
/** Analytics global gauge: adaptive mode (0 normal, 1 every 2nd, 2 every 3rd). */
export const ANALYTICS_MODE = 1;
/** Analytics global: adaptive mode changes. */
export const ANALYTICS_MODE_CHANGES = 2;
/** Analytics global: processing-time sum in units of {@link PROCESSING_SUM_UNIT_SECONDS}. */
export const ANALYTICS_PROCESSING_SUM = 3;
/** Analytics global: first of the processing-time histogram buckets (non-cumulative counts). */
export const ANALYTICS_PROCESSING_BUCKETS = 4;
/** Upper bounds (seconds) of the processing-time histogram buckets; a last +Inf bucket follows. */
export const PROCESSING_BUCKETS_SECONDS: readonly number[] = [
  1e-6,
  2.5e-6,
  5e-6,
  1e-5,
  2.5e-5,
  5e-5,
  1e-4,
  2.5e-4,
  1e-3,
  1e-2,
  0.1,
  1,
];
/** Unit of {@link ANALYTICS_PROCESSING_SUM}: 10 ns. */
export const PROCESSING_SUM_UNIT_SECONDS = 1e-8;
/** Analytics global: 1 once the worker has attached and started. */
export const ANALYTICS_STARTED = ANALYTICS_PROCESSING_BUCKETS + PROCESSING_BUCKETS_SECONDS.length +
  1;
const ANALYTICS_GLOBAL_WORDS = ANALYTICS_STARTED + 1;

/** Analytics per symbol: frames taken from the raw ring. */
export const ANALYTICS_ANALYSED = 0;
/** Analytics per symbol: frames analysed and written to the processed ring. */
export const ANALYTICS_PROCESSED = 1;
/** Analytics per symbol: frames skipped by the adaptive processor. */
export const ANALYTICS_SKIPPED = 2;
const ANALYTICS_SYMBOL_WORDS = 3;

// -------------------------------------------------------------- main region
/** Main per symbol: frames taken from the processed ring into the history. */
export const MAIN_DELIVERED = 0;
const MAIN_SYMBOL_WORDS = 1;

const HEADER_WORDS = LINE_WORDS; // word 0: symbol count

/**
 * Typed access to the counters buffer.
 *
 * @example
 * ```ts
 * import { ANALYTICS_SKIPPED, PipelineCounters } from "./pipeline_counters.ts";
 * const c = PipelineCounters.create(1);
 * c.add(c.analyticsSymbol(0, ANALYTICS_SKIPPED), 3);
 * ```
 */
export class PipelineCounters {
  /** The shared buffer; post it to workers and {@link PipelineCounters.attach} it there. */
  readonly buffer: SharedArrayBuffer;
  /** Number of symbol rows: the service's symbols, then the unknown row. */
  readonly symbols: number;
  /**
   * The row counting frames that name no known symbol: the last one (every
   * ingest object of a worker shares it; consolidated instruments sit before
   * it and are never ingested).
   */
  get unknownRow(): number {
    return this.symbols - 1;
  }
  readonly #i32: Int32Array;
  readonly #ingestGlobal: number;
  readonly #ingestSymbols: number;
  readonly #analyticsGlobal: number;
  readonly #analyticsSymbols: number;
  readonly #mainSymbols: number;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer);
    this.symbols = Atomics.load(this.#i32, 0);
    const s = this.symbols;
    this.#ingestGlobal = HEADER_WORDS;
    this.#ingestSymbols = this.#ingestGlobal + roundToLine(INGEST_GLOBAL_WORDS);
    this.#analyticsGlobal = this.#ingestSymbols + roundToLine(s * INGEST_SYMBOL_WORDS);
    this.#analyticsSymbols = this.#analyticsGlobal + roundToLine(ANALYTICS_GLOBAL_WORDS);
    this.#mainSymbols = this.#analyticsSymbols + roundToLine(s * ANALYTICS_SYMBOL_WORDS);
  }

  /** Total int32 words for `symbols` symbols. */
  static words(symbols: number): number {
    return HEADER_WORDS + roundToLine(INGEST_GLOBAL_WORDS) +
      roundToLine(symbols * INGEST_SYMBOL_WORDS) + roundToLine(ANALYTICS_GLOBAL_WORDS) +
      roundToLine(symbols * ANALYTICS_SYMBOL_WORDS) + roundToLine(symbols * MAIN_SYMBOL_WORDS);
  }

  /**
   * Allocate zeroed counters for `symbols` symbols.
   *
   * @throws RangeError when `symbols` is not a positive integer.
   */
  static create(symbols: number): PipelineCounters {
    if (!Number.isInteger(symbols) || symbols < 1 || symbols > 100_000) {
      throw new RangeError(`counters need 1 to 100000 symbols, got ${symbols}`);
    }
    const buffer = new SharedArrayBuffer(PipelineCounters.words(symbols) * 4);
    Atomics.store(new Int32Array(buffer), 0, symbols);
    return new PipelineCounters(buffer);
  }

  /** Attach to counters created elsewhere. */
  static attach(buffer: SharedArrayBuffer): PipelineCounters {
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new TypeError("PipelineCounters.attach expects a SharedArrayBuffer");
    }
    return new PipelineCounters(buffer);
  }

  /** Index of an ingest global word (`INGEST_RECONNECTS`, …). */
  ingest(word: number): number {
    return this.#ingestGlobal + word;
  }
  /** Index of an ingest per-symbol word (`INGEST_RECEIVED`, …). */
  ingestSymbol(symbolId: number, word: number): number {
    return this.#ingestSymbols + symbolId * INGEST_SYMBOL_WORDS + word;
  }
  /** Index of the rejection counter of `symbolId` for `reason`. */
  rejected(symbolId: number, reason: number): number {
    return this.#ingestSymbols + symbolId * INGEST_SYMBOL_WORDS + INGEST_REJECTED + reason;
  }
  /** Index of an analytics global word (`ANALYTICS_MODE`, …). */
  analytics(word: number): number {
    return this.#analyticsGlobal + word;
  }
  /** Index of an analytics per-symbol word (`ANALYTICS_PROCESSED`, …). */
  analyticsSymbol(symbolId: number, word: number): number {
    return this.#analyticsSymbols + symbolId * ANALYTICS_SYMBOL_WORDS + word;
  }
  /** Index of a main-thread per-symbol word (`MAIN_DELIVERED`). */
  mainSymbol(symbolId: number, word: number): number {
    return this.#mainSymbols + symbolId * MAIN_SYMBOL_WORDS + word;
  }

  /** Atomically add `n` to the word at `index` (wraps at 2^32). */
  add(index: number, n: number): void {
    Atomics.add(this.#i32, index, n);
  }
  /** Atomically store `value` (a gauge) at `index`. */
  store(index: number, value: number): void {
    Atomics.store(this.#i32, index, value);
  }
  /** Atomically read the word at `index` as uint32. */
  load(index: number): number {
    return Atomics.load(this.#i32, index) >>> 0;
  }
}

/**
 * Extends wrapping uint32 counters into exact totals on the reading side: keep
 * one extender per counter and feed it every sample; totals stay exact while
 * fewer than 2^32 increments happen between two samples.
 *
 * @example
 * ```ts
 * import { CounterExtender } from "./pipeline_counters.ts";
 * const ext = new CounterExtender();
 * ext.update(0xffff_fff0); // 4294967280
 * ext.update(5); // 4294967301 (wrapped once)
 * ```
 */
export class CounterExtender {
  #last = 0;
  #total = 0;

  /** Feed the current uint32 reading; returns the extended total. */
  update(raw: number): number {
    this.#total += (raw - this.#last) >>> 0;
    this.#last = raw >>> 0;
    return this.#total;
  }

  /** The total after the last update. */
  get total(): number {
    return this.#total;
  }
}
