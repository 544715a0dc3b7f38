/**
 * A latency histogram with fixed 0.1 ms buckets up to 30 s (larger samples
 * share one overflow bucket; the maximum is kept exactly), so a load run of
 * any length records every sample in bounded memory.
 *
 * @example
 * ```ts
 * const h = new LagHistogram();
 * for (const ms of [0.4, 1.2, 7.5]) h.record(ms);
 * h.summary(); // { count: 3, p50: 1.2, p99: 7.5, p999: 7.5, max: 7.5, negative: 0 }
 * ```
 * @module
 */

/** Quantiles of one latency, ms. */
export interface LagSummary {
  /** Samples recorded. */
  count: number;
  /** Median, ms (0.1 ms resolution). */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** 99.9th percentile, ms. */
  p999: number;
  /** Largest sample, ms. */
  max: number;
  /** Samples below zero (clock disagreement), counted as 0. */
  negative: number;
}

/** Bucket width, ms. */
const BUCKET_MS = 0.1;
/** Buckets below the overflow bucket: 30 s at 0.1 ms. */
const BUCKETS = 300_000;

/**
 * Fixed-bucket latency histogram (0.1 ms, up to 30 s; max kept exactly).
 * A quantile is the upper edge of the bucket holding it, capped at the
 * maximum.
 *
 * @example
 * ```ts
 * const h = new LagHistogram();
 * h.record(2.34);
 * h.record(NaN); // an absent stamp: ignored
 * h.record(-1); // clocks disagree: counted as 0 and in `negative`
 * h.quantile(0.5); // 0.1
 * ```
 */
export class LagHistogram {
  /** Samples per bucket; the last one holds everything from 30 s on. */
  readonly counts: Uint32Array = new Uint32Array(BUCKETS + 1);
  /** Samples recorded. */
  count = 0;
  /** Largest sample, ms. */
  max = 0;
  /** Samples below zero, recorded as 0. */
  negative = 0;

  /** Record one latency in ms; NaN (stamp absent) is ignored, a negative value counts as 0. */
  record(ms: number): void {
    if (!(ms >= 0)) {
      if (ms !== ms) return; // NaN: stamp absent
      this.negative++;
      ms = 0;
    }
    const b = Math.min(BUCKETS, Math.floor(ms / BUCKET_MS));
    this.counts[b]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The `q` quantile (0..1) in ms; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) return b === BUCKETS ? this.max : Math.min((b + 1) * BUCKET_MS, this.max);
    }
    return this.max;
  }

  /** Count, p50, p99, p99.9 and max, rounded to 0.1 ms. */
  summary(): LagSummary {
    const r = (v: number) => Math.round(v * 10) / 10;
    return {
      count: this.count,
      p50: r(this.quantile(0.5)),
      p99: r(this.quantile(0.99)),
      p999: r(this.quantile(0.999)),
      max: r(this.max),
      negative: this.negative,
    };
  }
}
