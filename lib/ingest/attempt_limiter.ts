/**
 * Sliding-window limit on connection attempts (Binance allows 300 connection
 * attempts per 5 minutes per IP). Timestamps of recent attempts live in a ring
 * preallocated at construction, so checking and recording allocate nothing.
 *
 * @example
 * ```ts
 * import { AttemptLimiter } from "./attempt_limiter.ts";
 *
 * const limiter = new AttemptLimiter({ maxAttempts: 2, windowMs: 1000 });
 * limiter.tryAcquire(0); // true
 * limiter.tryAcquire(10); // true
 * limiter.tryAcquire(20); // false: two attempts in the last second
 * limiter.waitMs(20); // 980: the first attempt leaves the window at 1000
 * ```
 * @module
 */

/** Options of {@linkcode AttemptLimiter}. */
export interface AttemptLimiterOptions {
  /** Attempts allowed within any window. Positive integer. Default 300. */
  maxAttempts?: number;
  /** Window length in milliseconds. Must be > 0. Default 300000 (5 minutes). */
  windowMs?: number;
  /** Clock used when a method is called without a time, in ms. Default `performance.now`. */
  now?: () => number;
}

/**
 * Allows at most `maxAttempts` attempts within any `windowMs` sliding window.
 * Share one instance between all connections that count against the same limit.
 *
 * @example
 * ```ts
 * import { AttemptLimiter } from "./attempt_limiter.ts";
 *
 * const limiter = new AttemptLimiter(); // 300 per 5 minutes
 * if (!limiter.tryAcquire()) {
 *   const wait = limiter.waitMs(); // try again after this many ms
 * }
 * ```
 */
export class AttemptLimiter {
  /** Attempts allowed within any window. */
  readonly maxAttempts: number;
  /** Window length in milliseconds. */
  readonly windowMs: number;
  /** Number of attempts refused so far. */
  refused = 0;
  #times: Float64Array;
  #start = 0;
  #count = 0;
  #now: () => number;

  /**
   * Creates a limiter with an empty window.
   *
   * @param options Limit, window and clock; see {@linkcode AttemptLimiterOptions}.
   * @throws {RangeError} If `maxAttempts` is not a positive integer or `windowMs` is not positive.
   */
  constructor(options: AttemptLimiterOptions = {}) {
    const { maxAttempts = 300, windowMs = 300_000, now = () => performance.now() } = options;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1_000_000) {
      throw new RangeError(
        `AttemptLimiter: maxAttempts must be an integer in [1, 1000000], got ${maxAttempts}`,
      );
    }
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new RangeError(`AttemptLimiter: windowMs must be a positive number, got ${windowMs}`);
    }
    this.maxAttempts = maxAttempts;
    this.windowMs = windowMs;
    this.#times = new Float64Array(maxAttempts);
    this.#now = now;
  }

  /** Drops timestamps that left the window ending at `nowMs`. */
  #prune(nowMs: number): void {
    const cutoff = nowMs - this.windowMs;
    const times = this.#times;
    while (this.#count > 0 && times[this.#start] <= cutoff) {
      this.#start = this.#start + 1 === times.length ? 0 : this.#start + 1;
      this.#count--;
    }
  }

  /**
   * Records an attempt at `nowMs` if the window has room.
   *
   * @param nowMs Time of the attempt; defaults to the limiter's clock. Must not go backwards.
   * @returns `true` if the attempt may proceed (and was recorded), `false` if the limit is reached.
   *
   * @example
   * ```ts
   * import { AttemptLimiter } from "./attempt_limiter.ts";
   *
   * new AttemptLimiter({ maxAttempts: 1 }).tryAcquire(); // true
   * ```
   */
  tryAcquire(nowMs: number = this.#now()): boolean {
    this.#prune(nowMs);
    const times = this.#times;
    if (this.#count === times.length) {
      this.refused++;
      return false;
    }
    let end = this.#start + this.#count;
    if (end >= times.length) end -= times.length;
    times[end] = nowMs;
    this.#count++;
    return true;
  }

  /**
   * How long to wait before {@linkcode AttemptLimiter.tryAcquire} can succeed.
   *
   * @param nowMs Current time; defaults to the limiter's clock.
   * @returns 0 if an attempt is allowed now, otherwise milliseconds until the oldest attempt leaves the window.
   *
   * @example
   * ```ts
   * import { AttemptLimiter } from "./attempt_limiter.ts";
   *
   * new AttemptLimiter().waitMs(); // 0
   * ```
   */
  waitMs(nowMs: number = this.#now()): number {
    this.#prune(nowMs);
    if (this.#count < this.#times.length) return 0;
    const wait = this.#times[this.#start] + this.windowMs - nowMs;
    return wait > 0 ? wait : 0;
  }

  /**
   * Attempts recorded within the window ending at `nowMs`.
   *
   * @example
   * ```ts
   * import { AttemptLimiter } from "./attempt_limiter.ts";
   *
   * const limiter = new AttemptLimiter();
   * limiter.tryAcquire(0);
   * limiter.used(1); // 1
   * ```
   */
  used(nowMs: number = this.#now()): number {
    this.#prune(nowMs);
    return this.#count;
  }
}
