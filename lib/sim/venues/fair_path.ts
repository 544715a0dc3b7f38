/**
 * The fair-price path shared by the simulated books of one base asset across
 * venues (`btcusdt`, `okx:btc-usdt`, `bybit:btcusdt`, ...): a seeded random
 * walk in ticks, indexed by frame number. Each book follows it plus its own
 * small mean-reverting offset (see `BookModelOptions.fairPath`), so the venues
 * quote nearly the same prices and a consolidated book is occasionally crossed.
 *
 * Memory is bounded: the last {@link FAIR_PATH_WINDOW} frames are kept in a
 * ring; a book asking for an older frame (it fell that far behind the others)
 * gets the oldest kept value.
 *
 * @example
 * ```ts
 * import { FairPath } from "./fair_path.ts";
 * const path = new FairPath({ startTicks: 6_000_000, volTicksPerFrame: 3, seed: 1 });
 * path.fairAt(0); // 6000000
 * path.fairAt(5) === path.fairAt(5); // true: every book sees the same path
 * ```
 * @module
 */

import { Prng } from "../prng.ts";

/**
 * Frames of the path kept for books that lag behind the leader.
 *
 * @example
 * ```ts
 * FAIR_PATH_WINDOW; // 4096
 * ```
 */
export const FAIR_PATH_WINDOW = 4096;

/**
 * Options of {@link FairPath}.
 *
 * @example
 * ```ts
 * const options: FairPathOptions = { startTicks: 300_000, volTicksPerFrame: 1.5, seed: 7 };
 * ```
 */
export interface FairPathOptions {
  /** Fair price at frame 0, ticks. */
  startTicks: number;
  /** Standard deviation of one frame's step, ticks. */
  volTicksPerFrame: number;
  /** Seed of the walk. */
  seed: number;
}

/**
 * A shared fair-price walk. See the module documentation.
 *
 * @example
 * ```ts
 * const path = new FairPath({ startTicks: 1000, volTicksPerFrame: 1, seed: 2 });
 * const a = path.fairAt(3), b = path.fairAt(3);
 * a === b; // true
 * ```
 */
export class FairPath {
  readonly #rng: Prng;
  readonly #vol: number;
  readonly #ring = new Float64Array(FAIR_PATH_WINDOW);
  /** Newest frame generated. */
  #last = 0;

  /**
   * Makes the path; frame 0 is `startTicks`.
   *
   * @param options See {@link FairPathOptions}.
   */
  constructor(options: FairPathOptions) {
    this.#rng = new Prng(options.seed);
    this.#vol = options.volTicksPerFrame;
    this.#ring[0] = options.startTicks;
  }

  /**
   * Fair price of frame `frame` (≥ 0), ticks; generates the path up to it.
   *
   * @param frame Frame number of the asking book (its `frames` count).
   */
  fairAt(frame: number): number {
    const mask = FAIR_PATH_WINDOW - 1;
    while (this.#last < frame) {
      const prev = this.#ring[this.#last & mask];
      this.#last++;
      this.#ring[this.#last & mask] = prev + this.#rng.normal() * this.#vol;
    }
    const oldest = Math.max(0, this.#last - mask);
    return this.#ring[(frame < oldest ? oldest : frame) & mask];
  }
}
