/**
 * Receive → main-thread latency of frames: a fixed-bucket histogram (for
 * `depthwatch_pipeline_latency_seconds`) plus a ring of the most recent
 * samples for p50/p99. `observe` allocates nothing.
 *
 * @example
 * ```ts
 * import { LatencyTracker } from "./latency_tracker.ts";
 * const t = new LatencyTracker();
 * t.observe(0.0004);
 * t.count; // 1
 * t.quantile(0.5); // 0.0004
 * ```
 * @module
 */

import type { LatencyView } from "../metrics/metrics_sources.ts";

/** Default bucket upper bounds in seconds. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.002,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  1,
];

/**
 * Histogram and recent-sample quantiles of latencies in seconds.
 *
 * @example
 * ```ts
 * import { LatencyTracker } from "./latency_tracker.ts";
 * new LatencyTracker({ recent: 1024 }).quantile(0.99); // NaN (no samples)
 * ```
 */
export class LatencyTracker implements LatencyView {
  /** Bucket upper bounds, seconds. */
  readonly bucketsSeconds: readonly number[];
  /** Non-cumulative counts, one per bucket plus +Inf. */
  readonly counts: Float64Array;
  #sum = 0;
  #count = 0;
  readonly #recent: Float64Array;
  #next = 0;
  #filled = 0;

  /**
   * Creates an empty tracker.
   *
   * @param options.recent samples kept for quantiles (default 4096).
   * @param options.buckets bucket upper bounds, seconds (default {@link LATENCY_BUCKETS_SECONDS}).
   */
  constructor(options: { recent?: number; buckets?: readonly number[] } = {}) {
    this.bucketsSeconds = options.buckets ?? LATENCY_BUCKETS_SECONDS;
    this.counts = new Float64Array(this.bucketsSeconds.length + 1);
    this.#recent = new Float64Array(options.recent ?? 4096);
  }

  /** Record one latency in seconds (negative values, from clock skew, count as 0). */
  observe(seconds: number): void {
    const v = seconds > 0 ? seconds : 0;
    const b = this.bucketsSeconds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.#sum += v;
    this.#count++;
    this.#recent[this.#next] = v;
    this.#next = (this.#next + 1) % this.#recent.length;
    if (this.#filled < this.#recent.length) this.#filled++;
  }

  /** Sum of observations, seconds. */
  get sumSeconds(): number {
    return this.#sum;
  }

  /** Number of observations. */
  get count(): number {
    return this.#count;
  }

  /** Quantile `q` (0..1) of the recent samples, seconds; NaN when there are none. Allocates. */
  quantile(q: number): number {
    if (this.#filled === 0) return NaN;
    const sorted = this.#recent.slice(0, this.#filled).sort();
    return sorted[Math.min(this.#filled - 1, Math.floor(q * this.#filled))];
  }
}
