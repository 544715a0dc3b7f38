/**
 * The analytics worker's adaptive processor: decides, per frame, whether to
 * analyse it or skip it, so that analytics that fall behind catch up instead
 * of letting the raw ring overflow, while the newest frame of every symbol is
 * always analysed (the dashboard never goes stale because of skipping).
 *
 * The mode (0 = process all, 1 = process 1 of 2, 2 = process 1 of 3) is the
 * larger of two drivers, each with hysteresis:
 *
 * - **Time driver** (the seed's semantics): the average of the last `window`
 *   (default 5) per-frame processing times, kept in a preallocated ring.
 *   Average > `slowerMs` (150) → 2; else > `slowMs` (100) → 1; else
 *   < `recoverMs` (70) → 0; between `recoverMs` and `slowMs` the mode is kept.
 *   Before `window` samples exist, the average is over the samples so far.
 * - **Lag driver**: raw-ring depth as a fraction of its capacity, given once per
 *   batch. Fraction > `lagHigher` (0.8) → 2; else > `lagHigh` (0.5) → at least 1
 *   (a mode of 2 is kept); else < `lagLow` (0.1) → 0; otherwise kept.
 *
 * **Which frames are skipped.** Frames the worker marks as the newest of their
 * symbol are always processed. The other frames are skipped in runs, per symbol:
 * in mode `m ≥ 1`, after a processed frame of a symbol (of either kind), its next
 * `m` non-newest frames are skipped and the one after them is processed. So a
 * symbol's non-newest frames go skip, process, skip, process… in mode 1 and
 * skip, skip, process… in mode 2. In mode 0 every frame is processed.
 *
 * "Newest" is whatever the worker can see cheaply: {@link AdaptiveProcessor.markNewest}
 * marks the last frame of each symbol within a batch. A frame that is newest in
 * its batch while a newer one already waits in the ring is then processed too,
 * which errs on the side of analysing more, never on going stale.
 *
 * The processor decides and counts nothing: the analytics loop counts the
 * processed and skipped frames and the mode in the shared pipeline counters.
 * Nothing is allocated per frame.
 *
 * @example
 * ```ts
 * import { AdaptiveProcessor } from "./adaptive_processor.ts";
 *
 * const adaptive = new AdaptiveProcessor({ symbols: 2, capacity: 2048 });
 * const ids = new Int32Array([0, 1, 0, 0, 1]);
 * const newest = new Uint8Array(ids.length);
 * adaptive.beginBatch(1800); // ring 88% full: mode 2
 * adaptive.markNewest(ids, ids.length, newest); // newest = [0, 0, 0, 1, 1]
 * let skipped = 0;
 * for (let i = 0; i < ids.length; i++) {
 *   if (adaptive.shouldProcess(ids[i], newest[i] === 1)) {
 *     const t0 = performance.now();
 *     // ... analyse frame i ...
 *     adaptive.recordProcessingTime(performance.now() - t0);
 *   } else skipped++;
 * }
 * skipped; // 2: the first two frames of symbol 0
 * ```
 * @module
 */

/** The effective mode: 0 processes every frame, 1 one of 2, 2 one of 3. */
export type AdaptiveMode = 0 | 1 | 2;

/** Options of {@link AdaptiveProcessor}. */
export interface AdaptiveProcessorOptions {
  /** Number of symbols (ids 0..symbols-1). Required, a positive integer. */
  symbols: number;
  /** Capacity of the raw ring, in frames; the lag watermarks are fractions of it. Required. */
  capacity: number;
  /** Average processing time (ms) above which the time driver enters mode 1. Default 100. */
  slowMs?: number;
  /** Average processing time (ms) above which the time driver enters mode 2. Default 150. */
  slowerMs?: number;
  /** Average processing time (ms) below which the time driver returns to mode 0. Default 70. */
  recoverMs?: number;
  /** Number of recent processing times averaged. Default 5. */
  window?: number;
  /** Raw depth fraction above which the lag driver is at least in mode 1. Default 0.5. */
  lagHigh?: number;
  /** Raw depth fraction above which the lag driver enters mode 2. Default 0.8. */
  lagHigher?: number;
  /** Raw depth fraction below which the lag driver returns to mode 0. Default 0.1. */
  lagLow?: number;
}

/**
 * Per-frame process/skip decisions driven by processing time and ring lag.
 *
 * @example
 * ```ts
 * import { AdaptiveProcessor } from "./adaptive_processor.ts";
 * const adaptive = new AdaptiveProcessor({ symbols: 1, capacity: 64, slowMs: 10, slowerMs: 20, recoverMs: 5 });
 * for (let i = 0; i < 5; i++) adaptive.recordProcessingTime(12);
 * adaptive.mode; // 1
 * adaptive.shouldProcess(0, false); // false: first non-newest frame after a processed one
 * adaptive.shouldProcess(0, false); // true
 * adaptive.shouldProcess(0, true); // true: the newest frame is always processed
 * ```
 */
export class AdaptiveProcessor {
  /** Number of symbols. */
  readonly symbols: number;
  /** Raw ring capacity the watermarks refer to. */
  readonly capacity: number;
  /** Time-driver threshold for mode 1, ms. */
  readonly slowMs: number;
  /** Time-driver threshold for mode 2, ms. */
  readonly slowerMs: number;
  /** Time-driver recovery threshold, ms. */
  readonly recoverMs: number;
  /** Number of processing times averaged. */
  readonly window: number;
  /** Lag-driver watermark for (at least) mode 1, fraction of capacity. */
  readonly lagHigh: number;
  /** Lag-driver watermark for mode 2, fraction of capacity. */
  readonly lagHigher: number;
  /** Lag-driver recovery watermark, fraction of capacity. */
  readonly lagLow: number;

  readonly #times: Float64Array;
  #timeNext = 0;
  #timeCount = 0;
  #average = 0;
  #timeMode: AdaptiveMode = 0;
  #lagMode: AdaptiveMode = 0;
  #mode: AdaptiveMode = 0;
  /** Per symbol: non-newest frames skipped since its last processed frame. */
  readonly #run: Uint32Array;
  /** Scratch of {@link markNewest}: symbols already seen in the backward scan. */
  readonly #seen: Uint8Array;

  /**
   * @param options see {@link AdaptiveProcessorOptions}.
   * @throws RangeError when an option is out of range or the thresholds are not ordered
   *   (`recoverMs < slowMs < slowerMs`, `0 < lagLow < lagHigh < lagHigher < 1`).
   */
  constructor(options: AdaptiveProcessorOptions) {
    const {
      symbols,
      capacity,
      slowMs = 100,
      slowerMs = 150,
      recoverMs = 70,
      window = 5,
      lagHigh = 0.5,
      lagHigher = 0.8,
      lagLow = 0.1,
    } = options;
    if (!Number.isInteger(symbols) || symbols < 1 || symbols > 65_536) {
      throw new RangeError(
        `adaptive processor symbols must be an integer from 1 to 65536, got ${symbols}`,
      );
    }
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `adaptive processor capacity must be a positive integer (raw ring slots), got ${capacity}`,
      );
    }
    if (!Number.isInteger(window) || window < 1 || window > 1024) {
      throw new RangeError(
        `adaptive processor window must be an integer from 1 to 1024, got ${window}`,
      );
    }
    if (
      !Number.isFinite(slowerMs) || !(recoverMs >= 0) || !(recoverMs < slowMs) ||
      !(slowMs < slowerMs)
    ) {
      throw new RangeError(
        "adaptive processor times must satisfy 0 <= recoverMs < slowMs < slowerMs (finite), " +
          `got recoverMs=${recoverMs}, slowMs=${slowMs}, slowerMs=${slowerMs}`,
      );
    }
    if (!(lagLow > 0) || !(lagLow < lagHigh) || !(lagHigh < lagHigher) || !(lagHigher < 1)) {
      throw new RangeError(
        "adaptive processor watermarks must satisfy 0 < lagLow < lagHigh < lagHigher < 1, " +
          `got lagLow=${lagLow}, lagHigh=${lagHigh}, lagHigher=${lagHigher}`,
      );
    }
    this.symbols = symbols;
    this.capacity = capacity;
    this.slowMs = slowMs;
    this.slowerMs = slowerMs;
    this.recoverMs = recoverMs;
    this.window = window;
    this.lagHigh = lagHigh;
    this.lagHigher = lagHigher;
    this.lagLow = lagLow;
    this.#times = new Float64Array(window);
    this.#run = new Uint32Array(symbols);
    this.#seen = new Uint8Array(symbols);
  }

  /** The effective mode: the larger of {@link timeMode} and {@link lagMode}. */
  get mode(): AdaptiveMode {
    return this.#mode;
  }

  /** Mode asked for by the processing-time driver. */
  get timeMode(): AdaptiveMode {
    return this.#timeMode;
  }

  /** Mode asked for by the ring-lag driver. */
  get lagMode(): AdaptiveMode {
    return this.#lagMode;
  }

  /** Average of the recorded processing times in the window, ms (0 before any). */
  get averageMs(): number {
    return this.#average;
  }

  /**
   * Starts a batch: updates the lag driver from the raw ring's depth (frames
   * waiting, including the batch about to be processed).
   *
   * @example
   * ```ts
   * import { AdaptiveProcessor } from "./adaptive_processor.ts";
   * import { SpscRing } from "../pipeline/spsc_ring.ts";
   * const raw = SpscRing.create({ capacity: 2048, slotBytes: 704 });
   * const adaptive = new AdaptiveProcessor({ symbols: 1, capacity: raw.capacity });
   * adaptive.beginBatch(raw.available());
   * adaptive.lagMode; // 0: nothing waits in the ring
   * ```
   * @throws RangeError when `rawDepth` is negative or not a number.
   */
  beginBatch(rawDepth: number): void {
    if (!(rawDepth >= 0)) {
      throw new RangeError(`raw depth must be a number >= 0, got ${rawDepth}`);
    }
    const fraction = rawDepth / this.capacity;
    if (fraction > this.lagHigher) this.#lagMode = 2;
    else if (fraction > this.lagHigh) {
      if (this.#lagMode < 1) this.#lagMode = 1;
    } else if (fraction < this.lagLow) this.#lagMode = 0;
    this.#update();
  }

  /**
   * Marks, in `out[0..count)`, the last frame of each symbol among
   * `symbolIds[0..count)` with 1 and every other frame with 0 (one backward scan,
   * no allocation). Pass `out[i] === 1` as `isNewestOfSymbol` of frame `i`.
   *
   * @example
   * ```ts
   * import { AdaptiveProcessor } from "./adaptive_processor.ts";
   * const adaptive = new AdaptiveProcessor({ symbols: 2, capacity: 2048 });
   * const out = new Uint8Array(4);
   * adaptive.markNewest([1, 0, 1, 1], 4, out); // out = [0, 1, 0, 1]
   * ```
   * @throws RangeError when `out` or `symbolIds` is shorter than `count`, or an id is out of range.
   */
  markNewest(symbolIds: ArrayLike<number>, count: number, out: Uint8Array): void {
    if (!Number.isInteger(count) || count < 0 || count > symbolIds.length || count > out.length) {
      throw new RangeError(
        `markNewest count must be an integer from 0 to min(symbolIds.length=${symbolIds.length}, ` +
          `out.length=${out.length}), got ${count}`,
      );
    }
    const seen = this.#seen;
    seen.fill(0);
    for (let i = count - 1; i >= 0; i--) {
      const s = symbolIds[i];
      this.#checkSymbol(s);
      if (seen[s] === 0) {
        seen[s] = 1;
        out[i] = 1;
      } else {
        out[i] = 0;
      }
    }
  }

  /**
   * Decides whether to analyse the next frame of `symbolId`. The newest frame of a symbol is always processed; otherwise see
   * the module documentation for which frames each mode skips.
   *
   * @example
   * ```ts
   * import { AdaptiveProcessor } from "./adaptive_processor.ts";
   * const adaptive = new AdaptiveProcessor({ symbols: 1, capacity: 2048 });
   * adaptive.beginBatch(1800); // the ring is 88% full: mode 2 analyses one frame of three
   * const symbolIds = [0, 0, 0, 0];
   * const newest = new Uint8Array(symbolIds.length);
   * adaptive.markNewest(symbolIds, symbolIds.length, newest);
   * symbolIds.map((s, i) => adaptive.shouldProcess(s, newest[i] === 1));
   * // [false, false, true, true]: the newest frame is always analysed
   * ```
   * @throws RangeError when `symbolId` is not a symbol id.
   */
  shouldProcess(symbolId: number, isNewestOfSymbol: boolean): boolean {
    this.#checkSymbol(symbolId);
    if (!isNewestOfSymbol && this.#mode !== 0) {
      const run = this.#run[symbolId];
      if (run < this.#mode) {
        this.#run[symbolId] = run + 1;
        return false;
      }
    }
    this.#run[symbolId] = 0;
    return true;
  }

  /**
   * Records the processing time of one frame and updates the time driver.
   *
   * @example
   * ```ts
   * import { AdaptiveProcessor } from "./adaptive_processor.ts";
   * const adaptive = new AdaptiveProcessor({ symbols: 1, capacity: 2048 });
   * adaptive.recordProcessingTime(0.004); // 4 µs
   * adaptive.averageMs; // 0.004
   * ```
   * @throws RangeError when `ms` is negative or not finite.
   */
  recordProcessingTime(ms: number): void {
    if (!(ms >= 0) || ms === Infinity) {
      throw new RangeError(`processing time must be a finite number of ms >= 0, got ${ms}`);
    }
    const times = this.#times;
    times[this.#timeNext] = ms;
    this.#timeNext = this.#timeNext + 1 === times.length ? 0 : this.#timeNext + 1;
    if (this.#timeCount < times.length) this.#timeCount++;
    // Summing the window afresh (instead of a running sum) cannot drift.
    let sum = 0;
    for (let i = 0; i < this.#timeCount; i++) sum += times[i];
    const average = sum / this.#timeCount;
    this.#average = average;
    if (average > this.slowerMs) this.#timeMode = 2;
    else if (average > this.slowMs) this.#timeMode = 1;
    else if (average < this.recoverMs) this.#timeMode = 0;
    this.#update();
  }

  #update(): void {
    this.#mode = this.#timeMode > this.#lagMode ? this.#timeMode : this.#lagMode;
  }

  #checkSymbol(symbolId: number): void {
    if (!(symbolId >= 0 && symbolId < this.symbols) || !Number.isInteger(symbolId)) {
      throw new RangeError(
        `symbol id must be an integer from 0 to ${this.symbols - 1}, got ${symbolId}`,
      );
    }
  }
}
