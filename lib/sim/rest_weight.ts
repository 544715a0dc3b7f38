/**
 * A sliding one-minute meter of used REST weight, as reported in the
 * `X-MBX-USED-WEIGHT-1M` header (the weight of a request is
 * `depthRequestWeight` in `lib/pipeline/depth_request_weight.ts`).
 *
 * @example
 * ```ts
 * import { WeightMeter } from "./rest_weight.ts";
 * const meter = new WeightMeter();
 * meter.add(50, 0);
 * meter.used(1000); // 50
 * meter.used(61_000); // 0
 * ```
 * @module
 */

/**
 * Options of {@link WeightMeter}.
 *
 * @example
 * ```ts
 * const options: WeightMeterOptions = { windowMs: 10_000, buckets: 10 };
 * new WeightMeter(options).windowMs; // 10000
 * ```
 */
export interface WeightMeterOptions {
  /** Length of the sliding window in ms. Default 60000. */
  windowMs?: number;
  /** Number of buckets the window is split into. Default 60 (one per second). */
  buckets?: number;
}

/**
 * Sliding-window sum of request weight in fixed buckets (no allocation per request).
 *
 * @example
 * ```ts
 * const m = new WeightMeter({ windowMs: 1000, buckets: 10 });
 * m.add(5, 0);
 * m.used(500); // 5
 * ```
 */
export class WeightMeter {
  /** Length of the sliding window in ms. */
  readonly windowMs: number;
  #bucketMs: number;
  #starts: Float64Array;
  #weights: Float64Array;

  /**
   * Makes an empty meter.
   *
   * @param options See {@link WeightMeterOptions}.
   * @throws {RangeError} if `windowMs` is not positive or `buckets` not an integer >= 1.
   */
  constructor(options: WeightMeterOptions = {}) {
    const windowMs = options.windowMs ?? 60_000;
    const buckets = options.buckets ?? 60;
    if (!(windowMs > 0) || !Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError(
        `WeightMeter needs windowMs > 0 and an integer buckets >= 1, got ${windowMs} and ${buckets}`,
      );
    }
    this.windowMs = windowMs;
    this.#bucketMs = windowMs / buckets;
    this.#starts = new Float64Array(buckets).fill(-Infinity);
    this.#weights = new Float64Array(buckets);
  }

  /** Adds `weight` used at time `nowMs`. */
  add(weight: number, nowMs: number): void {
    const slot = Math.floor(nowMs / this.#bucketMs);
    const i = slot % this.#starts.length;
    const start = slot * this.#bucketMs;
    if (this.#starts[i] !== start) {
      this.#starts[i] = start;
      this.#weights[i] = 0;
    }
    this.#weights[i] += weight;
  }

  /** Weight used in the window ending at `nowMs`. */
  used(nowMs: number): number {
    let sum = 0;
    const from = nowMs - this.windowMs;
    for (let i = 0; i < this.#starts.length; i++) {
      if (this.#starts[i] > from && this.#starts[i] <= nowMs) sum += this.#weights[i];
    }
    return sum;
  }

  /**
   * Whole seconds until at least `weight` more fits under `limit` (0 if it fits now).
   *
   * @example
   * ```ts
   * const m = new WeightMeter();
   * m.add(6000, 0);
   * m.retryAfterSeconds(5, 6000, 10_000); // 51
   * ```
   */
  retryAfterSeconds(weight: number, limit: number, nowMs: number): number {
    let used = this.used(nowMs);
    if (used + weight <= limit) return 0;
    const n = this.#starts.length;
    // Expire the oldest buckets one by one until the request fits.
    const order: number[] = [];
    for (let i = 0; i < n; i++) {
      if (this.#starts[i] > nowMs - this.windowMs && this.#starts[i] <= nowMs) order.push(i);
    }
    order.sort((a, b) => this.#starts[a] - this.#starts[b]);
    for (const i of order) {
      used -= this.#weights[i];
      if (used + weight <= limit) {
        return Math.max(
          1,
          Math.ceil((this.#starts[i] + this.#bucketMs + this.windowMs - nowMs) / 1000),
        );
      }
    }
    return Math.ceil(this.windowMs / 1000);
  }
}
