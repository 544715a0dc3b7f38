/**
 * The analytics stage as a plain class (the worker entry only wires messages
 * to it): drains the raw ring, lets the {@link AdaptiveProcessor} decide per
 * frame, runs the {@link Analyser} straight into a reserved processed-ring
 * slot, and counts every frame in shared memory. With `wire`, a frame of a
 * symbol the main thread marks watched is also encoded, in the same slot, as
 * the WebSocket bytes the hub sends (`wire_encoder.ts`), so the main thread
 * only copies them out.
 *
 * Frames are taken one at a time with `pop` (one compare-exchange each), so a
 * worker killed mid-frame loses at most that one frame; the supervisor counts
 * it as `raw popped − analysed`. The look-ahead that marks the newest frame of
 * each symbol reads symbol ids in place (hints only).
 *
 * Consolidated instruments (`consolidated`): every frame of a member symbol
 * taken from the raw ring (analysed or skipped) updates the instrument's
 * {@link ConsolidatedBook}; after each batch (and when idle) an instrument
 * that is {@link ConsolidatedBook.due} is composed, analysed like any symbol
 * and written to the processed ring with its venues block. Its frames count
 * as processed in the instrument's row, never as taken from the raw ring
 * (`analysed`), so `raw popped − analysed` still counts lost frames; the
 * loop also writes the instrument's feed state (the ingest never touches that
 * row): Live while a member contributes, Stale once none does (Connecting
 * before any member's book).
 *
 * @example
 * ```ts
 * import { AnalyticsLoop } from "./analytics_loop.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const raw = SpscRing.create({ slotBytes: new BookSlotLayout(20).slotBytes });
 * const processed = SpscRing.create({ slotBytes: new FrameSlotLayout({ levels: 20 }).slotBytes });
 * const counters = PipelineCounters.create(3); // 2 symbols + the unknown row
 * const loop = new AnalyticsLoop({ raw, processed, counters, symbols: 2 });
 * raw.close(); // the ingest side stopped
 * loop.run(); // returns when the raw ring is closed and drained
 * processed.closed; // true
 * ```
 * @module
 */

import { SpscRing } from "../pipeline/spsc_ring.ts";
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
  PipelineCounters,
  PROCESSING_BUCKETS_SECONDS,
  PROCESSING_SUM_UNIT_SECONDS,
} from "../pipeline/pipeline_counters.ts";
import { BOOK_SYMBOL_ID, BookSlotLayout } from "../pipeline/book_slot.ts";
import { FeedState } from "../pipeline/feed_state.ts";
import { INGEST_FEED_STATE } from "../pipeline/pipeline_counters.ts";
import { ConsolidatedBook, type FeedStates, mostMembers } from "./consolidated_book.ts";
import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
import { WatchFlags } from "../pipeline/watch_flags.ts";
import { MAX_SYMBOL_BYTES, WIRE_LENGTH, WireSlotLayout } from "../pipeline/wire_slot.ts";
import { encodeWireSlot } from "./wire_encoder.ts";
import { Analyser } from "./analyser.ts";
import { AdaptiveProcessor } from "./adaptive_processor.ts";

/** Options of {@link AnalyticsLoop}. */
export interface AnalyticsLoopOptions {
  /** Raw ring (this side is its only consumer). Required. */
  raw: SpscRing;
  /** Processed ring (this side is its only producer). Required. */
  processed: SpscRing;
  /** Shared counters (symbol row `symbols` is the "unknown" row). Required. */
  counters: PipelineCounters;
  /** Number of symbols. Required. */
  symbols: number;
  /** Book levels per side. Default 20. */
  levels?: number;
  /** Slippage notionals in quote currency. Default 10k, 100k, 1M. */
  notionals?: readonly number[];
  /** Wall factor k (size ≥ k × median). Default 5. */
  wallFactor?: number;
  /** Debug: artificial cost added to every analysed frame, ms (busy wait). Default 0. */
  costMs?: number;
  /**
   * Encode each frame of a watched symbol into its processed slot as the
   * WebSocket bytes the hub sends (layout `wire_slot.ts`; the processed ring's
   * slots must be that big): the symbols' upper-case names (index = symbol
   * id) and the main thread's watch flags (`WatchFlags.buffer`). Default
   * none: slots carry the analytics frame only.
   */
  wire?: { names: readonly string[]; watch: SharedArrayBuffer };
  /**
   * This worker generation's lease (lib/pipeline/worker_lease.ts), checked
   * before every frame taken from the raw ring: once it is lost the loop
   * takes, publishes and counts nothing more and {@link AnalyticsLoop.run}
   * returns (with {@link AnalyticsLoop.fenced} true). Default none.
   */
  lease?: { held(): boolean };
  /**
   * Consolidated instruments: each instrument's symbol id and its members'
   * symbol ids (2 to 8, member index = position; see {@link ConsolidatedBook}).
   * The processed ring's slots must hold the venues block
   * (`FrameSlotLayout` with `venueMembers` = the most members). Default none.
   */
  consolidated?: readonly { symbolId: number; members: readonly number[] }[];
  /** A consolidated member whose book is older than this (ms) is stale. Default 2000. */
  staleMs?: number;
  /** Least wall time between two frames of one consolidated instrument, ms. Default 100. */
  consolidateIntervalMs?: number;
  /** Most frames looked at per batch. Default 256. */
  batch?: number;
  /**
   * Adaptive thresholds (ms and ring fractions); see {@link AdaptiveProcessor}.
   * `false` analyses every frame whatever the load (benchmarks measuring the
   * full analytics throughput use it). Default: the seed thresholds.
   */
  adaptive?: false | {
    slowMs?: number;
    slowerMs?: number;
    recoverMs?: number;
    lagHigh?: number;
    lagHigher?: number;
    lagLow?: number;
  };
}

/**
 * Drains the raw ring into the processed ring.
 *
 * @example
 * ```ts
 * import { AnalyticsLoop } from "./analytics_loop.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const raw = SpscRing.create({ slotBytes: new BookSlotLayout(20).slotBytes });
 * const processed = SpscRing.create({ slotBytes: new FrameSlotLayout({ levels: 20 }).slotBytes });
 * const counters = PipelineCounters.create(3); // 2 symbols + the unknown row
 * const loop = new AnalyticsLoop({ raw, processed, counters, symbols: 2 });
 * raw.push(new Float64Array(raw.slotWords)); // an empty book of symbol 0
 * loop.drain(); // 1
 * processed.available(); // 1
 * ```
 */
export class AnalyticsLoop {
  readonly #raw: SpscRing;
  readonly #processed: SpscRing;
  readonly #counters: PipelineCounters;
  readonly #symbols: number;
  readonly #analyser: Analyser;
  readonly #adaptive: AdaptiveProcessor;
  readonly #frame: Float64Array;
  readonly #wire: WireSlotLayout | undefined;
  readonly #lease: { held(): boolean } | undefined;
  #fenced = false;
  readonly #names: Uint8Array[] = [];
  readonly #watch: WatchFlags | undefined;
  readonly #ids: Int32Array;
  readonly #newest: Uint8Array;
  readonly #batch: number;
  readonly #costMs: number;
  readonly #buckets = new Uint32Array(PROCESSING_BUCKETS_SECONDS.length + 1);
  #sumUnits = 0;
  #lastMode = 0;
  readonly #skipping: boolean;
  readonly #bookLayout: BookSlotLayout;
  readonly #frameLayout: FrameSlotLayout;
  readonly #instruments: ConsolidatedBook[] = [];
  /** Symbol s is a member of instruments `#memberOf[#memberStart[s] … #memberStart[s + 1])` (instrument · 8 + member index). */
  readonly #memberStart: Int32Array;
  readonly #memberOf: Int32Array;
  /** The consolidated book composed before it is analysed. */
  readonly #composed: Float64Array;
  readonly #states: FeedStates;

  /**
   * Creates the analyser and the adaptive processor for the rings' layouts.
   *
   * @param options see {@link AnalyticsLoopOptions}.
   * @throws RangeError when the rings' slot sizes do not fit the layouts, or
   *   `wire` does not name every symbol in at most `MAX_SYMBOL_BYTES` bytes.
   */
  constructor(options: AnalyticsLoopOptions) {
    this.#raw = options.raw;
    this.#processed = options.processed;
    this.#counters = options.counters;
    this.#symbols = options.symbols;
    const bookLayout = new BookSlotLayout(options.levels ?? 20);
    const consolidated = options.consolidated ?? [];
    const frameLayout = new FrameSlotLayout({
      levels: bookLayout.levels,
      notionals: options.notionals,
      venueMembers: mostMembers(consolidated),
    });
    this.#bookLayout = bookLayout;
    this.#frameLayout = frameLayout;
    if (this.#raw.slotBytes < bookLayout.slotBytes) {
      throw new RangeError(
        `raw ring slots hold ${this.#raw.slotBytes} bytes, book frames need ${bookLayout.slotBytes}`,
      );
    }
    if (this.#processed.slotBytes < frameLayout.slotBytes) {
      throw new RangeError(
        `processed ring slots hold ${this.#processed.slotBytes} bytes, analytics frames need ${frameLayout.slotBytes}`,
      );
    }
    if (options.wire) {
      const wire = new WireSlotLayout(frameLayout);
      if (this.#processed.slotBytes < wire.slotBytes) {
        throw new RangeError(
          `processed ring slots hold ${this.#processed.slotBytes} bytes, wire slots need ${wire.slotBytes}`,
        );
      }
      const { names, watch } = options.wire;
      if (names.length !== options.symbols) {
        throw new RangeError(`wire: expected ${options.symbols} symbol names, got ${names.length}`);
      }
      const utf8 = new TextEncoder();
      for (const name of names) {
        const bytes = utf8.encode(name);
        if (bytes.length > MAX_SYMBOL_BYTES) {
          throw new RangeError(
            `wire: symbol ${
              JSON.stringify(name)
            } has ${bytes.length} bytes, at most ${MAX_SYMBOL_BYTES} fit`,
          );
        }
        this.#names.push(bytes);
      }
      this.#wire = wire;
      this.#watch = WatchFlags.attach(watch);
    }
    this.#analyser = new Analyser({
      symbols: options.symbols,
      bookLayout,
      frameLayout,
      wallFactor: options.wallFactor,
      notionals: options.notionals,
    });
    this.#adaptive = new AdaptiveProcessor({
      symbols: options.symbols,
      capacity: this.#raw.capacity,
      ...(options.adaptive || {}),
    });
    this.#skipping = options.adaptive !== false;
    this.#frame = new Float64Array(this.#raw.slotWords);
    this.#batch = options.batch ?? 256;
    this.#ids = new Int32Array(this.#batch);
    this.#newest = new Uint8Array(this.#batch);
    this.#costMs = options.costMs ?? 0;
    this.#lease = options.lease;
    // Consolidated instruments: their books and which symbols feed which.
    const refs: number[][] = Array.from({ length: options.symbols }, () => []);
    for (const x of consolidated) {
      if (!(x.symbolId >= 0 && x.symbolId < options.symbols)) {
        throw new RangeError(
          `consolidated instrument id ${x.symbolId} is not a symbol id (0 to ${
            options.symbols - 1
          })`,
        );
      }
      for (const m of x.members) {
        if (!(m >= 0 && m < options.symbols)) {
          throw new RangeError(
            `consolidated member id ${m} is not a symbol id (0 to ${options.symbols - 1})`,
          );
        }
      }
      const book = new ConsolidatedBook({
        symbolId: x.symbolId,
        members: x.members,
        levels: bookLayout.levels,
        staleMs: options.staleMs,
        intervalMs: options.consolidateIntervalMs,
      });
      x.members.forEach((m, k) => refs[m].push(this.#instruments.length * 8 + k));
      this.#instruments.push(book);
    }
    this.#memberStart = new Int32Array(options.symbols + 1);
    for (let s = 0; s < options.symbols; s++) {
      this.#memberStart[s + 1] = this.#memberStart[s] + refs[s].length;
    }
    this.#memberOf = Int32Array.from(refs.flat());
    this.#composed = new Float64Array(bookLayout.slotWords);
    const counters = this.#counters;
    this.#states = {
      feedState: (id: number) => counters.load(counters.ingestSymbol(id, INGEST_FEED_STATE)),
    };
    this.#counters.store(this.#counters.analytics(ANALYTICS_STARTED), 1);
  }

  /**
   * Handle up to one batch of the frames available now. Returns how many
   * frames were taken (processed or skipped); 0 when the raw ring was empty.
   */
  drain(): number {
    if (this.#lost()) return 0;
    const raw = this.#raw;
    const processed = this.#processed;
    const c = this.#counters;
    c.add(c.analytics(ANALYTICS_HEARTBEAT), 1);
    const available = raw.available();
    if (available === 0) {
      // Idle: the lag driver sees an empty ring, so an overload mode recovers
      // even when no frame arrives.
      this.#adaptive.beginBatch(0);
      if (this.#consolidate() > 0) processed.wake();
      this.#flush();
      return 0;
    }
    this.#adaptive.beginBatch(available);
    const n = Math.min(available, this.#batch);
    const ids = this.#ids;
    let seen = 0;
    for (; seen < n; seen++) {
      const at = raw.peekAt(seen);
      if (at < 0) break;
      const id = raw.f64[at + BOOK_SYMBOL_ID];
      ids[seen] = id >= 0 && id < this.#symbols ? id : -1;
    }
    this.#adaptive.markNewest(ids, seen, this.#newest);
    const frame = this.#frame;
    let taken = 0;
    for (let k = 0; k < seen; k++) {
      // The lease before every frame: a fenced generation takes nothing more.
      if (this.#lost() || !raw.pop(frame)) break;
      taken++;
      const symbolId = frame[BOOK_SYMBOL_ID];
      if (!(symbolId >= 0 && symbolId < this.#symbols)) {
        // Cannot happen with our ingest; counted, never analysed.
        c.add(c.analyticsSymbol(this.#symbols, ANALYTICS_SKIPPED), 1);
        c.add(c.analyticsSymbol(this.#symbols, ANALYTICS_ANALYSED), 1);
        continue;
      }
      // Every frame of a member feeds its instruments, analysed or skipped.
      for (let r = this.#memberStart[symbolId]; r < this.#memberStart[symbolId + 1]; r++) {
        const ref = this.#memberOf[r];
        this.#instruments[ref >> 3].update(ref & 7, frame, 0, this.#bookLayout);
      }
      // The look-ahead may be off after drop-oldest overtook us: trust it only
      // when the popped frame is the one it saw.
      const newest = ids[k] === symbolId && this.#newest[k] === 1;
      if (!this.#adaptive.shouldProcess(symbolId, newest || !this.#skipping)) {
        c.add(c.analyticsSymbol(symbolId, ANALYTICS_SKIPPED), 1);
        c.add(c.analyticsSymbol(symbolId, ANALYTICS_ANALYSED), 1);
        continue;
      }
      const t0 = performance.now();
      const at = processed.reserve();
      this.#analyser.analyse(frame, 0, processed.f64, at, performance.timeOrigin + t0);
      if (this.#frameLayout.venueMembers > 0) {
        processed.f64[at + this.#frameLayout.venueCount()] = 0; // a plain symbol: no members
      }
      if (this.#wire) this.#encode(symbolId, at);
      if (this.#costMs > 0) { while (performance.now() - t0 < this.#costMs) { /* busy */ } }
      // One wake for the batch (below), not a notify per frame.
      processed.commit(false);
      c.add(c.analyticsSymbol(symbolId, ANALYTICS_PROCESSED), 1);
      c.add(c.analyticsSymbol(symbolId, ANALYTICS_ANALYSED), 1);
      const ms = performance.now() - t0;
      this.#adaptive.recordProcessingTime(ms);
      this.#observe(ms / 1000);
    }
    this.#consolidate();
    processed.wake();
    this.#flush();
    return taken;
  }

  /**
   * Run until the raw ring is closed and empty, then close the processed
   * ring. Blocks the calling worker (waits with `Atomics.wait` when idle).
   */
  run(): void {
    const raw = this.#raw;
    for (;;) {
      if (this.drain() > 0) continue;
      if (this.#fenced) return; // a restarted generation owns the rings now
      if (raw.closed && raw.available() === 0) break;
      raw.waitForData(100);
    }
    this.#flush();
    this.#processed.close();
  }

  /** Whether this loop lost its lease (it touches the rings no more). */
  get fenced(): boolean {
    return this.#fenced;
  }

  #lost(): boolean {
    if (this.#fenced) return true;
    if (this.#lease === undefined || this.#lease.held()) return false;
    this.#fenced = true;
    return true;
  }

  /**
   * Compose, analyse and publish every consolidated instrument that is due;
   * returns how many were written. Writes each instrument's feed state.
   */
  #consolidate(): number {
    const n = this.#instruments.length;
    // A fenced generation writes no more (the batch loop may have stopped on the lease).
    if (n === 0 || this.#lost()) return 0;
    const c = this.#counters;
    const processed = this.#processed;
    const wall = performance.timeOrigin + performance.now();
    let written = 0;
    for (let i = 0; i < n; i++) {
      const x = this.#instruments[i];
      if (!x.due(wall, this.#states)) continue;
      const t0 = performance.now();
      const at = processed.reserve();
      const mask = x.compose(
        this.#states,
        this.#composed,
        0,
        this.#bookLayout,
        processed.f64,
        at,
        this.#frameLayout,
        wall,
      );
      this.#analyser.analyse(this.#composed, 0, processed.f64, at, performance.timeOrigin + t0);
      if (this.#wire) this.#encode(x.symbolId, at);
      processed.commit(false);
      c.add(c.analyticsSymbol(x.symbolId, ANALYTICS_PROCESSED), 1);
      c.store(
        c.ingestSymbol(x.symbolId, INGEST_FEED_STATE),
        mask !== 0
          ? FeedState.Live
          : x.clock() === x.clock()
          ? FeedState.Stale
          : FeedState.Connecting,
      );
      this.#observe((performance.now() - t0) / 1000);
      written++;
    }
    return written;
  }

  /** The wire bytes of the frame at word `at` of the processed ring, or none when unwatched. */
  #encode(symbolId: number, at: number): void {
    const wire = this.#wire!;
    const processed = this.#processed;
    if (this.#watch!.isWatched(symbolId)) {
      encodeWireSlot(processed.u8, processed.f64, at, wire, this.#names[symbolId], this.#names);
    } else {
      processed.f64[at + wire.headerStart + WIRE_LENGTH] = 0;
    }
  }

  #observe(seconds: number): void {
    const b = PROCESSING_BUCKETS_SECONDS;
    let i = 0;
    while (i < b.length && seconds > b[i]) i++;
    this.#buckets[i]++;
    this.#sumUnits += seconds / PROCESSING_SUM_UNIT_SECONDS;
  }

  #flush(): void {
    const c = this.#counters;
    for (let i = 0; i < this.#buckets.length; i++) {
      if (this.#buckets[i] !== 0) {
        c.add(c.analytics(ANALYTICS_PROCESSING_BUCKETS + i), this.#buckets[i]);
        this.#buckets[i] = 0;
      }
    }
    const whole = Math.floor(this.#sumUnits);
    if (whole > 0) {
      c.add(c.analytics(ANALYTICS_PROCESSING_SUM), whole);
      this.#sumUnits -= whole;
    }
    const mode = this.#adaptive.mode;
    if (mode !== this.#lastMode) {
      c.store(c.analytics(ANALYTICS_MODE), mode);
      c.add(c.analytics(ANALYTICS_MODE_CHANGES), 1);
      this.#lastMode = mode;
    }
  }
}
