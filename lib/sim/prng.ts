/**
 * A small seeded pseudo-random number generator (SFC32, "small fast counting")
 * for the simulated exchange. The same seed always yields the same sequence, so
 * a simulated order book is reproducible. Not for cryptography.
 *
 * @example
 * ```ts
 * import { Prng } from "./prng.ts";
 * const rng = new Prng(42);
 * const u = rng.next(); // 0 <= u < 1
 * const z = rng.normal(); // standard normal
 * ```
 * @module
 */

/**
 * FNV-1a 32-bit hash of a string, used to derive per-symbol seeds and defaults.
 *
 * @param text The string to hash.
 * @returns An unsigned 32-bit integer.
 * @example
 * ```ts
 * hashString("btcusdt") === hashString("btcusdt"); // true
 * ```
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Seeded generator. All methods are allocation-free.
 *
 * @example
 * ```ts
 * const a = new Prng(7), b = new Prng(7);
 * a.next() === b.next(); // true
 * ```
 */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare = 0;
  #hasSpare = false;

  /**
   * Seeds a generator; the same seed gives the same sequence.
   *
   * @param seed Any finite number; its low 32 bits and the bits above are mixed in.
   * @throws {TypeError} if `seed` is not a finite number.
   */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new TypeError(`Prng seed must be a finite number, got ${seed}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    this.#a = 0x9e3779b9 ^ hi;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162 ^ lo;
    this.#d = 1;
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /**
   * Next unsigned 32-bit integer.
   *
   * @example
   * ```ts
   * new Prng(1).nextUint32() >= 0; // true
   * ```
   */
  nextUint32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /**
   * Uniform float in [0, 1).
   *
   * @example
   * ```ts
   * const u = new Prng(1).next(); // 0 <= u < 1
   * ```
   */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Uniform integer in [0, n).
   *
   * @param n Exclusive upper bound, a positive integer.
   * @example
   * ```ts
   * new Prng(1).int(6); // 0..5
   * ```
   */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * Standard normal variate (Box-Muller; the second value is kept for the next call).
   *
   * @example
   * ```ts
   * const z = new Prng(1).normal();
   * ```
   */
  normal(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const m = Math.sqrt(-2 * Math.log(u));
    this.#spare = m * Math.sin(2 * Math.PI * v);
    this.#hasSpare = true;
    return m * Math.cos(2 * Math.PI * v);
  }

  /**
   * Geometric number of failures before a success with probability `p` (mean (1-p)/p).
   *
   * @param p Success probability in (0, 1].
   * @example
   * ```ts
   * new Prng(1).geometric(0.2); // 0, 1, 2, ... with mean 4
   * ```
   */
  geometric(p: number): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return Math.floor(Math.log(u) / Math.log(1 - p));
  }
}
