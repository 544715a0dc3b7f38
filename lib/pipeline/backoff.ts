/**
 * Capped exponential backoff with full jitter, used between exchange
 * (re)connection attempts, REST retries and the dashboard's WebSocket
 * reconnects. It uses no `Deno` API, so the browser client bundles it.
 *
 * The n-th delay (counting from 0) is drawn uniformly from
 * `[0, min(capMs, baseMs * 2^n))`, so retries of many clients spread out
 * instead of arriving in waves. Call {@linkcode Backoff.reset} after a
 * connection proved healthy (for example after it delivered frames).
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 *
 * const backoff = new Backoff({ baseMs: 100, capMs: 1000 });
 * const first = backoff.next(); // somewhere in [0, 100)
 * const second = backoff.next(); // somewhere in [0, 200)
 * backoff.reset(); // the next delay is in [0, 100) again
 * ```
 * @module
 */

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /** Upper bound of the first delay, in milliseconds. Must be > 0. Default 1000. */
  baseMs?: number;
  /** Largest upper bound any delay can have, in milliseconds. Must be >= `baseMs`. Default 30000. */
  capMs?: number;
  /** Source of uniform numbers in [0, 1). Default `Math.random`. Inject one to make delays deterministic. */
  random?: () => number;
}

/** Exponents above this cannot raise the bound any further for any sane base/cap pair. */
const MAX_EXPONENT = 52;

/**
 * Capped exponential backoff with full jitter.
 *
 * @example
 * ```ts
 * import { Backoff } from "./backoff.ts";
 *
 * const backoff = new Backoff({ baseMs: 10, capMs: 40, random: () => 0.5 });
 * backoff.next(); // 5
 * backoff.next(); // 10
 * backoff.next(); // 20
 * backoff.next(); // 20 (capped at 40 * 0.5)
 * ```
 */
export class Backoff {
  /** Upper bound of the first delay, in milliseconds. */
  readonly baseMs: number;
  /** Largest upper bound of any delay, in milliseconds. */
  readonly capMs: number;
  #random: () => number;
  #attempt = 0;

  /**
   * Creates a backoff in its initial state (next delay below `baseMs`).
   *
   * @param options Base, cap and random source; see {@linkcode BackoffOptions}.
   * @throws {RangeError} If `baseMs` is not a positive finite number or `capMs` is below `baseMs`.
   */
  constructor(options: BackoffOptions = {}) {
    const { baseMs = 1000, capMs = 30000, random = Math.random } = options;
    if (!Number.isFinite(baseMs) || baseMs <= 0) {
      throw new RangeError(`Backoff: baseMs must be a positive finite number, got ${baseMs}`);
    }
    if (!Number.isFinite(capMs) || capMs < baseMs) {
      throw new RangeError(
        `Backoff: capMs must be a finite number >= baseMs (${baseMs}), got ${capMs}`,
      );
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.#random = random;
  }

  /** Number of delays handed out since construction or the last {@linkcode Backoff.reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * Upper bound (exclusive) of the delay the next call to {@linkcode Backoff.next} returns.
   *
   * @example
   * ```ts
   * import { Backoff } from "./backoff.ts";
   *
   * new Backoff({ baseMs: 100, capMs: 1000 }).bound(); // 100
   * ```
   */
  bound(): number {
    const exponent = this.#attempt < MAX_EXPONENT ? this.#attempt : MAX_EXPONENT;
    const raw = this.baseMs * 2 ** exponent;
    return raw < this.capMs ? raw : this.capMs;
  }

  /**
   * Returns the next delay in milliseconds and advances the attempt count.
   *
   * @example
   * ```ts
   * import { Backoff } from "./backoff.ts";
   *
   * const delay = new Backoff().next(); // in [0, 1000)
   * ```
   */
  next(): number {
    const bound = this.bound();
    if (this.#attempt < MAX_EXPONENT) this.#attempt++;
    let r = this.#random();
    // A misbehaving random source must not produce negative or oversized delays.
    if (!(r >= 0)) r = 0;
    else if (r >= 1) r = 0.9999999999999999;
    return r * bound;
  }

  /**
   * Returns to the initial state: the next delay is below `baseMs` again.
   *
   * @example
   * ```ts
   * import { Backoff } from "./backoff.ts";
   *
   * const backoff = new Backoff();
   * backoff.next();
   * backoff.reset();
   * backoff.attempt; // 0
   * ```
   */
  reset(): void {
    this.#attempt = 0;
  }
}
