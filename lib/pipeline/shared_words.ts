/**
 * Named Float64 words in a SharedArrayBuffer, one writer per word: the shape
 * of the small status blocks a worker publishes for the main thread
 * (`RecorderStatus`, `ReplayStatus`). Float64 words count exactly up to 2^53,
 * so nothing wraps; a reader may see the words of two moments mixed, which is
 * fine for counters and positions sampled for a display or a scrape.
 *
 * @example
 * ```ts
 * import { SharedWords } from "./shared_words.ts";
 * const FIELDS = ["reads", "writes"] as const;
 * const words = new SharedWords(FIELDS, SharedWords.allocate(FIELDS));
 * words.add("reads", 2);
 * words.toJSON(); // { reads: 2, writes: 0 }
 * ```
 * @module
 */

/** Named Float64 words over a SharedArrayBuffer (see the module documentation). */
export class SharedWords<F extends string> {
  /** The shared buffer; post it to the other thread and wrap it there. */
  readonly buffer: SharedArrayBuffer;
  readonly #fields: readonly F[];
  readonly #index: Readonly<Record<F, number>>;
  readonly #words: Float64Array;

  /** A zeroed buffer of one word per field. */
  static allocate(fields: readonly string[]): SharedArrayBuffer {
    return new SharedArrayBuffer(fields.length * 8);
  }

  /**
   * Wrap `buffer`, one word per field in order.
   *
   * @param what Named in the error, e.g. "recorder status".
   * @throws RangeError when `buffer` is not a SharedArrayBuffer of one word per field.
   */
  constructor(fields: readonly F[], buffer: SharedArrayBuffer, what = "status") {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== fields.length * 8) {
      throw new RangeError(
        `${what} buffer must be a ${fields.length * 8}-byte SharedArrayBuffer, got ${
          buffer instanceof SharedArrayBuffer ? `${buffer.byteLength} bytes` : typeof buffer
        }`,
      );
    }
    this.buffer = buffer;
    this.#fields = fields;
    this.#index = Object.fromEntries(fields.map((name, i) => [name, i])) as Record<F, number>;
    this.#words = new Float64Array(buffer);
  }

  /** The value of `field`. */
  get(field: F): number {
    return this.#words[this.#index[field]];
  }

  /** Set `field` (only its one writer does). */
  set(field: F, value: number): void {
    this.#words[this.#index[field]] = value;
  }

  /** Add `delta` to `field` (only its one writer does). */
  add(field: F, delta: number): void {
    this.#words[this.#index[field]] += delta;
  }

  /** Every field as a plain object (for `/stats`). */
  toJSON(): Record<F, number> {
    const out = {} as Record<F, number>;
    for (const f of this.#fields) out[f] = this.get(f);
    return out;
  }
}
