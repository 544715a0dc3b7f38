/**
 * Escalating, rate-limited logging of queue overflow (the seed's
 * "SmartQueue" behaviour): any drop is a warning; more than 1% of the frames
 * of the last 10 s dropped is an error; more than 10% is critical. Each
 * severity logs at most once per `intervalMs`; the counters in /metrics carry
 * the exact numbers.
 *
 * @example
 * ```ts
 * import { OverflowLog } from "./overflow_log.ts";
 * const log = new OverflowLog({ queue: "raw" });
 * log.record(5, 100, Date.now()); // logs an error (at most once per 10 s)
 * log.severity; // "error" (5 of 105 frames dropped: more than 1%, up to 10%)
 * ```
 * @module
 */

/** Severity of the current overflow rate. */
export type OverflowSeverity = "none" | "warning" | "error" | "critical";

/** Options of {@link OverflowLog}. */
export interface OverflowLogOptions {
  /** Queue name used in messages. Required. */
  queue: string;
  /** Sliding window for the drop rate, ms. Default 10000. */
  windowMs?: number;
  /** Minimum time between two messages of the same severity, ms. Default 10000. */
  intervalMs?: number;
  /** Where messages go. Default `console`. */
  log?: Pick<Console, "warn" | "error">;
}

const BUCKETS = 100;

/**
 * Tracks drops against frames over a sliding window and logs with escalating severity.
 *
 * @example
 * ```ts
 * import { OverflowLog } from "./overflow_log.ts";
 * const log = new OverflowLog({ queue: "raw", log: { warn() {}, error() {} } });
 * log.record(0, 1000, 0);
 * log.severity; // "none"
 * ```
 */
export class OverflowLog {
  readonly #queue: string;
  readonly #bucketMs: number;
  readonly #intervalMs: number;
  readonly #log: Pick<Console, "warn" | "error">;
  readonly #drops = new Float64Array(BUCKETS);
  readonly #frames = new Float64Array(BUCKETS);
  readonly #lastLogged = new Float64Array(4).fill(-Infinity);
  #bucket = -1;
  #severity: OverflowSeverity = "none";

  /**
   * Creates a log with an empty window.
   *
   * @param options see {@link OverflowLogOptions}.
   */
  constructor(options: OverflowLogOptions) {
    this.#queue = options.queue;
    this.#bucketMs = (options.windowMs ?? 10_000) / BUCKETS;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#log = options.log ?? console;
  }

  /** Severity computed by the last {@link OverflowLog.record}. */
  get severity(): OverflowSeverity {
    return this.#severity;
  }

  /**
   * Add `drops` dropped and `frames` delivered-into-the-queue frames seen at
   * `nowMs`, update the severity and log if due.
   */
  record(drops: number, frames: number, nowMs: number): void {
    const bucket = Math.floor(nowMs / this.#bucketMs);
    if (this.#bucket < 0) this.#bucket = bucket;
    // Clear the buckets that the window slid past.
    for (let b = this.#bucket + 1; b <= bucket && b <= this.#bucket + BUCKETS; b++) {
      this.#drops[b % BUCKETS] = 0;
      this.#frames[b % BUCKETS] = 0;
    }
    this.#bucket = Math.max(this.#bucket, bucket);
    this.#drops[bucket % BUCKETS] += drops;
    this.#frames[bucket % BUCKETS] += frames;
    let d = 0, f = 0;
    for (let i = 0; i < BUCKETS; i++) {
      d += this.#drops[i];
      f += this.#frames[i];
    }
    const rate = d / Math.max(1, d + f);
    const level = d === 0 ? 0 : rate > 0.1 ? 3 : rate > 0.01 ? 2 : 1;
    this.#severity = (["none", "warning", "error", "critical"] as const)[level];
    if (drops === 0 || level === 0) return;
    if (nowMs - this.#lastLogged[level] < this.#intervalMs) return;
    this.#lastLogged[level] = nowMs;
    const msg = `${this.#queue} queue overflow: ${d} frames dropped (oldest first) of ${
      d + f
    } in the last ${(this.#bucketMs * BUCKETS) / 1000} s (${(rate * 100).toFixed(2)}%)`;
    if (level === 1) this.#log.warn(`warning: ${msg}`);
    else this.#log.error(`${level === 3 ? "critical" : "error"}: ${msg}`);
  }
}
