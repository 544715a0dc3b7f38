/**
 * Browser-side capped exponential backoff with full jitter, for the
 * dashboard's WebSocket reconnects. Free of the `Deno` global so it bundles
 * for the browser.
 *
 * The n-th delay (from 0) is drawn uniformly from `[0, min(capMs, baseMs·2^n))`,
 * so many tabs reconnecting after a server restart spread out instead of
 * arriving together.
 *
 * @example
 * ```ts
 * const backoff = new JitterBackoff({ baseMs: 500, capMs: 10_000 });
 * backoff.next(); // in [0, 500)
 * backoff.next(); // in [0, 1000)
 * backoff.reset(); // after a connection proved healthy
 * ```
 * @module
 */

/** Options of {@link JitterBackoff}. */
export interface JitterBackoffOptions {
  /** Upper bound of the first delay, ms; positive. Default 500. */
  baseMs?: number;
  /** Largest upper bound of any delay, ms; at least `baseMs`. Default 10000. */
  capMs?: number;
  /** Uniform source in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * Full-jitter backoff.
 *
 * @example
 * ```ts
 * const b = new JitterBackoff({ baseMs: 100, capMs: 400, random: () => 0.5 });
 * [b.next(), b.next(), b.next(), b.next()]; // [50, 100, 200, 200]
 * ```
 */
export class JitterBackoff {
  /** Upper bound of the first delay, ms. */
  readonly baseMs: number;
  /** Largest upper bound of any delay, ms. */
  readonly capMs: number;
  readonly #random: () => number;
  #attempt = 0;

  /** @throws RangeError when `baseMs` is not positive and finite or `capMs` is below it. */
  constructor(options: JitterBackoffOptions = {}) {
    const { baseMs = 500, capMs = 10_000, random = Math.random } = options;
    if (!(baseMs > 0) || !Number.isFinite(baseMs)) {
      throw new RangeError(`JitterBackoff: baseMs must be a positive finite number, got ${baseMs}`);
    }
    if (!(capMs >= baseMs) || !Number.isFinite(capMs)) {
      throw new RangeError(
        `JitterBackoff: capMs must be finite and >= baseMs (${baseMs}), got ${capMs}`,
      );
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.#random = random;
  }

  /** Delays handed out since construction or the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay in ms. */
  next(): number {
    const bound = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.#attempt, 52));
    this.#attempt++;
    return this.#random() * bound;
  }

  /** Start again from the first delay. */
  reset(): void {
    this.#attempt = 0;
  }
}
