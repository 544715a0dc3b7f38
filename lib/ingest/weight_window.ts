/**
 * A sliding window of spent REST request weight: the part of the snapshot
 * scheduler that keeps every window of `windowMs` (not only the exchange's
 * aligned minutes) within a budget. Binance counts weight per IP per minute;
 * the simulated exchange counts it in a sliding minute. Keeping the sum over
 * every half-open interval `(t - windowMs, t]` at or below the budget satisfies
 * both: an aligned minute is one such interval.
 *
 * Entries are kept in a ring sized by `budget / minWeight` (no allocation per
 * request once the ring has grown to fit the busiest window).
 *
 * @example
 * ```ts
 * import { WeightWindow } from "./weight_window.ts";
 *
 * const w = new WeightWindow({ budget: 10, windowMs: 1000 });
 * w.add(5, 0);
 * w.add(5, 100);
 * w.used(500); // 10
 * w.waitFor(5, 500); // 500: the first 5 leaves the window at t = 1000
 * ```
 * @module
 */

/** Options of {@linkcode WeightWindow}. */
export interface WeightWindowOptions {
  /** Most weight allowed in any window of `windowMs`. Required, > 0. */
  budget: number;
  /** Length of the sliding window in ms. Default 60000 (Binance's minute). */
  windowMs?: number;
}

/**
 * Sliding-window weight account: what was spent when, and how long a new
 * request must wait to fit.
 *
 * @example
 * ```ts
 * import { WeightWindow } from "./weight_window.ts";
 *
 * const w = new WeightWindow({ budget: 4800 });
 * w.waitFor(5, Date.now()); // 0: nothing spent yet
 * ```
 */
export class WeightWindow {
  /** Most weight allowed in any window. */
  readonly budget: number;
  /** Window length in ms. */
  readonly windowMs: number;
  #times = new Float64Array(16);
  #weights = new Float64Array(16);
  #head = 0;
  #count = 0;
  #sum = 0;

  /**
   * @param options See {@linkcode WeightWindowOptions}.
   * @throws {RangeError} If `budget` or `windowMs` is not a finite number > 0.
   */
  constructor(options: WeightWindowOptions) {
    const { budget, windowMs = 60_000 } = options;
    if (!(budget > 0 && budget < Infinity)) {
      throw new RangeError(`WeightWindow: budget must be a finite number > 0, got ${budget}`);
    }
    if (!(windowMs > 0 && windowMs < Infinity)) {
      throw new RangeError(`WeightWindow: windowMs must be a finite number > 0, got ${windowMs}`);
    }
    this.budget = budget;
    this.windowMs = windowMs;
  }

  /** Weight spent in the window ending at `nowMs`, i.e. at times in `(nowMs - windowMs, nowMs]`. */
  used(nowMs: number): number {
    this.#expire(nowMs);
    return this.#sum;
  }

  /**
   * Records `weight` spent at `nowMs`. Times must not go backwards by more
   * than a window (a clock step back only makes the account stricter).
   */
  add(weight: number, nowMs: number): void {
    if (!(weight > 0)) return;
    this.#expire(nowMs);
    if (this.#count === this.#times.length) this.#grow();
    const i = (this.#head + this.#count) % this.#times.length;
    this.#times[i] = nowMs;
    this.#weights[i] = weight;
    this.#count++;
    this.#sum += weight;
  }

  /**
   * Raises the account to at least `used` at `nowMs` (the exchange's own
   * count, e.g. `X-MBX-USED-WEIGHT-1M`, which includes other clients of the
   * same IP): the difference is recorded as spent now.
   */
  atLeast(used: number, nowMs: number): void {
    const missing = used - this.used(nowMs);
    if (missing > 0) this.add(missing, nowMs);
  }

  /**
   * Milliseconds from `nowMs` until `weight` more fits in the budget (0 when it
   * fits now). A weight above the budget never fits: `Infinity`.
   */
  waitFor(weight: number, nowMs: number): number {
    if (weight > this.budget) return Infinity;
    this.#expire(nowMs);
    let over = this.#sum + weight - this.budget;
    if (over <= 0) return 0;
    const cap = this.#times.length;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) % cap;
      over -= this.#weights[i];
      if (over <= 0) return Math.max(0, this.#times[i] + this.windowMs - nowMs);
    }
    return this.windowMs; // unreachable: weight <= budget
  }

  #expire(nowMs: number): void {
    const cap = this.#times.length;
    const from = nowMs - this.windowMs;
    while (this.#count > 0 && this.#times[this.#head] <= from) {
      this.#sum -= this.#weights[this.#head];
      this.#head = this.#head + 1 === cap ? 0 : this.#head + 1;
      this.#count--;
    }
    if (this.#count === 0) this.#sum = 0; // no float drift when idle
  }

  #grow(): void {
    const cap = this.#times.length;
    const times = new Float64Array(cap * 2);
    const weights = new Float64Array(cap * 2);
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) % cap;
      times[k] = this.#times[i];
      weights[k] = this.#weights[i];
    }
    this.#times = times;
    this.#weights = weights;
    this.#head = 0;
  }
}
