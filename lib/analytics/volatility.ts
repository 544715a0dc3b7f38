/**
 * Realised volatility of the mid: sqrt(Σ ln(mid_i / mid_{i−1})²) over the
 * one-period (default 1 s) returns of the last 1 min and 5 min. Not annualised
 * and not scaled by time: it is the plain root of summed squared log returns
 * over the window (multiply by sqrt(periods per year / periods in the window)
 * to annualise).
 *
 * {@link VolatilitySampler} keeps the per-symbol state for a live feed.
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "Realised volatility".
 *
 * @example
 * ```ts
 * import { VolatilitySampler } from "./volatility.ts";
 * const v = new VolatilitySampler({ symbols: 1 });
 * v.observe(0, 0, 100);
 * v.observe(0, 1000, 101);
 * v.observe(0, 2000, 100);
 * v.short(0); // sqrt(ln(1.01)² + ln(100/101)²) ≈ 0.014072
 * ```
 * @module
 */

/** NaN for branches that rarely run, as a module constant V8 folds (see `analyser.ts`). */
const NOT_A_NUMBER = NaN;

/** Options of {@link VolatilitySampler}. */
export interface VolatilitySamplerOptions {
  /** Number of symbols (ids 0…symbols−1), a positive integer. */
  symbols: number;
  /** Sampling period in ms. Default 1000. */
  periodMs?: number;
  /** Returns in the short window. Default 60 (1 min of 1 s returns). */
  shortPeriods?: number;
  /** Returns in the long window and ring size. Default 300 (5 min). */
  longPeriods?: number;
}

/**
 * Samples each symbol's mid once per period and keeps the squared log returns
 * of the last `longPeriods` periods in a preallocated per-symbol ring.
 *
 * Sampling: the first frame whose time falls in a new period (floor(t / periodMs))
 * supplies that period's mid. Periods without frames carry the previous mid
 * forward, i.e. add zero returns (a quiet book did not move). Window sums are
 * recomputed from the ring at each sample (≤ 300 adds once per period), so
 * there is no drift. A volatility is NaN while its window holds no return,
 * i.e. until two samples exist.
 *
 * {@link VolatilitySampler.breakChain} forgets the last sample, so the next
 * sample starts a new chain and no return spans a gap (stale feed, resync,
 * one-sided book). Returns already in the ring stay until they age out.
 *
 * @example
 * ```ts
 * import { VolatilitySampler } from "./volatility.ts";
 * const v = new VolatilitySampler({ symbols: 1 });
 * v.observe(0, 0, 100);
 * v.observe(0, 1000, 101);
 * v.short(0); // ln(1.01) ≈ 0.00995
 * ```
 */
export class VolatilitySampler {
  /** Sampling period, ms. */
  readonly periodMs: number;
  /** Returns in the short window. */
  readonly shortPeriods: number;
  /** Returns in the long window (ring size). */
  readonly longPeriods: number;
  #period: Float64Array; // ring: period index of each return
  #r2: Float64Array; // ring: squared log return
  #written: Float64Array;
  #lastPeriod: Float64Array;
  #lastMid: Float64Array;
  #short: Float64Array;
  #long: Float64Array;
  /** (t, mid) of {@link VolatilitySampler.observe}, handed to {@link VolatilitySampler.observeEntry}. */
  #entry = new Float64Array(2);

  /**
   * Makes a sampler with empty rings: every volatility is NaN until a
   * symbol has two samples.
   *
   * @param options see {@link VolatilitySamplerOptions}.
   * @throws RangeError when an option is out of range.
   */
  constructor(options: VolatilitySamplerOptions) {
    const { symbols, periodMs = 1000, shortPeriods = 60, longPeriods = 300 } = options;
    if (!Number.isInteger(symbols) || symbols < 1) {
      throw new RangeError(`symbols must be a positive integer, got ${symbols}`);
    }
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) {
      throw new RangeError(`periodMs must be a positive finite number, got ${periodMs}`);
    }
    if (
      !Number.isInteger(shortPeriods) || !Number.isInteger(longPeriods) || shortPeriods < 1 ||
      longPeriods < shortPeriods
    ) {
      throw new RangeError(
        `periods must be integers with 1 ≤ shortPeriods ≤ longPeriods, got ${shortPeriods}, ${longPeriods}`,
      );
    }
    this.periodMs = periodMs;
    this.shortPeriods = shortPeriods;
    this.longPeriods = longPeriods;
    this.#period = new Float64Array(symbols * longPeriods);
    this.#r2 = new Float64Array(symbols * longPeriods);
    this.#written = new Float64Array(symbols);
    this.#lastPeriod = new Float64Array(symbols).fill(NaN);
    this.#lastMid = new Float64Array(symbols).fill(NaN);
    this.#short = new Float64Array(symbols).fill(NaN);
    this.#long = new Float64Array(symbols).fill(NaN);
  }

  /**
   * Feeds symbol `s`'s mid at time `t` (ms). Only the first observation of a
   * new period is sampled; others are ignored, as are times going backwards.
   * A mid that is not a positive finite number breaks the chain.
   *
   * @example
   * ```ts
   * import { VolatilitySampler } from "./volatility.ts";
   * const v = new VolatilitySampler({ symbols: 1 });
   * v.observe(0, 0, 100); // samples period 0
   * v.observe(0, 2500, 102); // samples period 2; period 1 had no frame: a zero return
   * v.observe(0, 2900, 105); // ignored: period 2 is already sampled
   * v.short(0); // sqrt(0² + ln(1.02)²) ≈ 0.019803
   * ```
   */
  observe(s: number, t: number, mid: number): void {
    const entry = this.#entry;
    entry[0] = t;
    entry[1] = mid;
    this.observeEntry(s, entry);
  }

  /**
   * {@link VolatilitySampler.observe} with (t, mid) read from `entry[0]`,
   * `entry[1]`. The analyser uses this form: V8 boxes each double passed to a
   * call it does not inline into a new HeapNumber; a typed-array read
   * allocates nothing.
   *
   * @example
   * ```ts
   * import { VolatilitySampler } from "./volatility.ts";
   * const v = new VolatilitySampler({ symbols: 1 });
   * const entry = new Float64Array(2); // t, mid; reused for every frame
   * entry[0] = 0;
   * entry[1] = 100;
   * v.observeEntry(0, entry);
   * entry[0] = 1000;
   * entry[1] = 101;
   * v.observeEntry(0, entry);
   * v.short(0); // ln(1.01) ≈ 0.00995
   * ```
   */
  observeEntry(s: number, entry: Float64Array): void {
    const t = entry[0];
    const mid = entry[1];
    if (!(mid > 0) || !Number.isFinite(mid) || !Number.isFinite(t)) {
      this.breakChain(s);
      return;
    }
    const p = Math.floor(t / this.periodMs);
    const last = this.#lastPeriod[s];
    if (last === last) { // not NaN
      if (p <= last) return;
      const cap = this.longPeriods;
      const zeros = Math.min(p - last - 1, cap);
      for (let q = p - zeros; q < p; q++) this.#append(s, q, 0);
      const r = Math.log(mid / this.#lastMid[s]);
      this.#append(s, p, r * r);
    }
    this.#lastPeriod[s] = p;
    this.#lastMid[s] = mid;
    this.#recompute(s, p);
  }

  /**
   * Forgets symbol `s`'s last sample: the next sample starts a new chain.
   *
   * @example
   * ```ts
   * import { VolatilitySampler } from "./volatility.ts";
   * const v = new VolatilitySampler({ symbols: 1 });
   * v.observe(0, 0, 100);
   * v.breakChain(0); // e.g. the feed went stale
   * v.observe(0, 1000, 150);
   * v.short(0); // NaN: no return spans the break
   * ```
   */
  breakChain(s: number): void {
    this.#lastPeriod[s] = NaN;
    this.#lastMid[s] = NaN;
  }

  #append(s: number, p: number, r2: number): void {
    const cap = this.longPeriods;
    const j = s * cap + (this.#written[s] % cap);
    this.#period[j] = p;
    this.#r2[j] = r2;
    this.#written[s]++;
  }

  #recompute(s: number, p: number): void {
    const cap = this.longPeriods;
    const n = Math.min(this.#written[s], cap);
    const shortEdge = p - this.shortPeriods;
    const longEdge = p - this.longPeriods;
    let shortSum = 0, shortN = 0, longSum = 0, longN = 0;
    for (let k = 0; k < n; k++) {
      const j = s * cap + k;
      const q = this.#period[j];
      if (q > longEdge) {
        longSum += this.#r2[j];
        longN++;
        if (q > shortEdge) {
          shortSum += this.#r2[j];
          shortN++;
        }
      }
    }
    this.#short[s] = shortN > 0 ? Math.sqrt(shortSum) : NOT_A_NUMBER;
    this.#long[s] = longN > 0 ? Math.sqrt(longSum) : NOT_A_NUMBER;
  }

  /** Realised volatility of symbol `s` over the short window (1 min), as of its last sample. */
  short(s: number): number {
    return this.#short[s];
  }
  /** Realised volatility of symbol `s` over the long window (5 min), as of its last sample. */
  long(s: number): number {
    return this.#long[s];
  }
}
