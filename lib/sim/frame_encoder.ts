/**
 * Encodes a {@link BookModel} as Binance spot JSON text: partial book payloads
 * (`<s>@depth20@100ms`), diff depth events (`<s>@depth@100ms`) and REST
 * `/api/v3/depth` bodies, with 8-decimal price and quantity strings. One encoder
 * per model; its scratch arrays are reused, so the only allocations are the
 * strings themselves.
 *
 * @example
 * ```ts
 * import { BookModel } from "./book_model.ts";
 * import { FrameEncoder } from "./frame_encoder.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const book = new BookModel(symbolSpec("btcusdt"), { seed: 1 });
 * const enc = new FrameEncoder(book);
 * book.advanceFrame();
 * const partial = enc.partial(20); // '{"lastUpdateId":...,"bids":[["60000.00000000","0.12345000"],...'
 * const diff = enc.diff(Date.now()); // '{"e":"depthUpdate",...}' or null when the frame was quiet
 * ```
 * @module
 */

import type { BookModel } from "./book_model.ts";
import { formatScaled } from "./decimal_format.ts";

/**
 * Largest `limit` of the REST depth endpoint.
 *
 * @example
 * ```ts
 * const requested = 6000;
 * const limit = Math.min(requested, MAX_SNAPSHOT_LIMIT); // 5000
 * ```
 */
export const MAX_SNAPSHOT_LIMIT = 5000;

/**
 * Text encoder of one simulated book. See the module documentation.
 *
 * @example
 * ```ts
 * import { BookModel } from "./book_model.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const enc = new FrameEncoder(new BookModel(symbolSpec("btcusdt")));
 * JSON.parse(enc.snapshot(5)).bids.length; // 5
 * enc.price(6000001); // "60000.01000000"
 * ```
 */
export class FrameEncoder {
  /** The encoded book. */
  readonly book: BookModel;
  #ticks: Float64Array;
  #lots: Float64Array;
  #order: Int32Array;

  /**
   * Makes an encoder with scratch arrays sized for the book and the largest snapshot.
   *
   * @param book The book to encode.
   */
  constructor(book: BookModel) {
    this.book = book;
    this.#ticks = new Float64Array(MAX_SNAPSHOT_LIMIT);
    this.#lots = new Float64Array(MAX_SNAPSHOT_LIMIT);
    this.#order = new Int32Array(book.windowTicks);
  }

  /** Price text of an absolute tick, e.g. `"60000.01000000"`. */
  price(ticks: number): string {
    return formatScaled(ticks, this.book.spec.priceDecimals);
  }

  /** Quantity text of a lot count, e.g. `"0.12345000"`. */
  quantity(lots: number): string {
    return formatScaled(lots, this.book.spec.lotDecimals);
  }

  /**
   * The partial book payload with the top `levels` per side:
   * `{"lastUpdateId":N,"bids":[["p","q"],...],"asks":[...]}`.
   *
   * @param levels Levels per side (5, 10 or 20 on Binance; any 1..5000 here).
   * @param crossed When true, the best bid is moved up to at or above the best ask
   *   (a fault for testing validators); the bids stay sorted.
   */
  partial(levels: number, crossed = false): string {
    return this.#book(levels, crossed, '{"lastUpdateId":');
  }

  /**
   * The REST `/api/v3/depth` body for `limit` levels per side; the same shape as
   * {@link partial}. Applying every diff event with `u` greater than its
   * `lastUpdateId` reproduces the book.
   *
   * @param limit Levels per side, 1..5000.
   */
  snapshot(limit: number): string {
    return this.#book(limit, false, '{"lastUpdateId":');
  }

  /**
   * The diff event of the last frame, or `null` if the frame changed nothing
   * (Binance sends no event for a quiet interval).
   *
   * @param eventTimeMs The `E` field, epoch milliseconds.
   */
  diff(eventTimeMs: number): string | null {
    const book = this.book;
    const nb = book.changedBidCount, na = book.changedAskCount;
    if (nb + na === 0) return null;
    let s = '{"e":"depthUpdate","E":' + Math.floor(eventTimeMs) + ',"s":"' + book.spec.symbol +
      '","U":' + book.frameFirstUpdateId + ',"u":' + book.updateId + ',"b":[';
    const order = this.#order;
    // Bids, best (highest) first.
    order.set(book.changedBids.subarray(0, nb));
    order.subarray(0, nb).sort();
    for (let k = nb - 1; k >= 0; k--) {
      const i = order[k];
      s += (k === nb - 1 ? '["' : ',["') + this.price(book.origin + i) + '","' +
        this.quantity(book.bids[i]) + '"]';
    }
    s += '],"a":[';
    order.set(book.changedAsks.subarray(0, na));
    order.subarray(0, na).sort();
    for (let k = 0; k < na; k++) {
      const i = order[k];
      s += (k === 0 ? '["' : ',["') + this.price(book.origin + i) + '","' +
        this.quantity(book.asks[i]) + '"]';
    }
    return s + "]}";
  }

  #book(levels: number, crossed: boolean, head: string): string {
    if (!Number.isInteger(levels) || levels < 1 || levels > MAX_SNAPSHOT_LIMIT) {
      throw new RangeError(`levels must be an integer in 1..${MAX_SNAPSHOT_LIMIT}, got ${levels}`);
    }
    const book = this.book;
    const ticks = this.#ticks, lots = this.#lots;
    let s = head + book.updateId + ',"bids":[';
    const nb = book.topBids(levels, ticks, lots);
    if (crossed && nb > 0) {
      // Best bid at or above the best ask; still above the second bid, so sorted.
      ticks[0] = book.bestAskTicks() + (book.frames % 3);
    }
    for (let k = 0; k < nb; k++) {
      s += (k === 0 ? '["' : ',["') + this.price(ticks[k]) + '","' + this.quantity(lots[k]) +
        '"]';
    }
    s += '],"asks":[';
    const na = book.topAsks(levels, ticks, lots);
    for (let k = 0; k < na; k++) {
      s += (k === 0 ? '["' : ',["') + this.price(ticks[k]) + '","' + this.quantity(lots[k]) +
        '"]';
    }
    return s + "]}";
  }
}
