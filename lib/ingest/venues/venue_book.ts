/**
 * A venue symbol's local price-level book, in preallocated typed arrays.
 *
 * Each side keeps its levels sorted best first (bids descending, asks
 * ascending) with, per level, the price and size as numbers and the decimal
 * text as received: the count of decimals and the digits as an exact
 * mantissa (`hi · 10^9 + lo`, as `JsonCursor.readDecimal` reads it),
 * so a checksum can rebuild the exact text (`0.12290`, not `0.1229`)
 * without any string being kept. Prices are compared numerically, so `"30244"`
 * and `"30244.0"` are the same level (the later text wins).
 *
 * A side holds at most `capacity` levels: a level that would be past the
 * last when the side is full is dropped, and inserting a better level into a
 * full side drops the farthest one. Nothing is allocated after construction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VenueBook } from "./venue_book.ts";
 * const book = new VenueBook(10);
 * // price 100.5 (text "100.5"), size 2.25 (text "2.250")
 * book.bids.apply(100.5, 1, 0, 1005, 2.25, 3, 0, 2250);
 * book.bids.apply(101, 0, 0, 101, 1, 0, 0, 1);
 * assert.equal(book.bids.price[0], 101);
 * book.bids.apply(101, 0, 0, 101, 0, 0, 0, 0); // size 0 deletes
 * assert.equal(book.bids.count, 1);
 * ```
 * @module
 */

import { LevelBatch } from "./level_batch.ts";
import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../../pipeline/book_slot.ts";

/** The one-level batch {@link BookSide.apply} goes through. */
const ONE = new LevelBatch(1);

/** Largest capacity (levels per side) a {@link VenueBook} may have. */
export const MAX_VENUE_BOOK_CAPACITY = 100_000;

/**
 * One side of a {@link VenueBook}: `count` levels, best first, in parallel
 * typed arrays of length `capacity`.
 *
 * @example
 * ```ts
 * import { BookSide } from "./venue_book.ts";
 * const asks = new BookSide(5, false);
 * asks.apply(10, 0, 0, 10, 1, 0, 0, 1);
 * asks.count; // 1
 * ```
 */
export class BookSide {
  /** Most levels the side holds. */
  readonly capacity: number;
  /** True for bids (prices descending), false for asks (ascending). */
  readonly descending: boolean;
  /** Prices, best first. */
  readonly price: Float64Array;
  /** Sizes as received (venue units). */
  readonly size: Float64Array;
  /** Decimals of each price's text. */
  readonly priceDecimals: Uint8Array;
  /** Mantissa digits above the last nine of each price's text. */
  readonly priceHi: Float64Array;
  /** Last nine mantissa digits of each price's text. */
  readonly priceLo: Uint32Array;
  /** Decimals of each size's text. */
  readonly sizeDecimals: Uint8Array;
  /** Mantissa digits above the last nine of each size's text. */
  readonly sizeHi: Float64Array;
  /** Last nine mantissa digits of each size's text. */
  readonly sizeLo: Uint32Array;
  /** Levels held. */
  count = 0;

  /**
   * @param capacity most levels, an integer from 1 to {@link MAX_VENUE_BOOK_CAPACITY}.
   * @param descending true for bids.
   * @throws RangeError when `capacity` is out of range.
   */
  constructor(capacity: number, descending: boolean) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_VENUE_BOOK_CAPACITY) {
      throw new RangeError(
        `book capacity must be an integer from 1 to ${MAX_VENUE_BOOK_CAPACITY}, got ${capacity}`,
      );
    }
    this.capacity = capacity;
    this.descending = descending;
    this.price = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.priceDecimals = new Uint8Array(capacity);
    this.priceHi = new Float64Array(capacity);
    this.priceLo = new Uint32Array(capacity);
    this.sizeDecimals = new Uint8Array(capacity);
    this.sizeHi = new Float64Array(capacity);
    this.sizeLo = new Uint32Array(capacity);
  }

  /**
   * Set the level at `price` to `size` (0 deletes it; deleting an absent
   * level does nothing), keeping the text of both (decimals and mantissa).
   * For tests and examples: the venues apply a {@link LevelBatch}
   * ({@link BookSide.applyFrom}), which passes no number arguments.
   */
  apply(
    price: number,
    priceDecimals: number,
    priceHi: number,
    priceLo: number,
    size: number,
    sizeDecimals: number,
    sizeHi: number,
    sizeLo: number,
  ): void {
    ONE.clear();
    ONE.push(false, price, priceDecimals, priceHi, priceLo, size, sizeDecimals, sizeHi, sizeLo);
    this.applyFrom(ONE, 0);
  }

  /** {@link BookSide.apply} with level `j` of `batch` (its side is ignored). */
  applyFrom(batch: LevelBatch, j: number): void {
    const prices = this.price, count = this.count;
    const price = batch.price[j];
    // binary search: the level at `price`, or where it would go
    let lo = 0, hi = count;
    if (this.descending) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (prices[mid] > price) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (prices[mid] < price) lo = mid + 1;
        else hi = mid;
      }
    }
    const i = lo;
    if (i < count && prices[i] === price) {
      if (batch.size[j] === 0) this.#remove(i);
      else this.#write(i, batch, j);
      return;
    }
    if (batch.size[j] === 0 || i >= this.capacity) return;
    const last = count < this.capacity ? count : this.capacity - 1;
    if (i < last) {
      prices.copyWithin(i + 1, i, last);
      this.size.copyWithin(i + 1, i, last);
      this.priceDecimals.copyWithin(i + 1, i, last);
      this.priceHi.copyWithin(i + 1, i, last);
      this.priceLo.copyWithin(i + 1, i, last);
      this.sizeDecimals.copyWithin(i + 1, i, last);
      this.sizeHi.copyWithin(i + 1, i, last);
      this.sizeLo.copyWithin(i + 1, i, last);
    }
    this.#write(i, batch, j);
    this.count = last + 1;
  }

  #write(i: number, batch: LevelBatch, j: number): void {
    this.price[i] = batch.price[j];
    this.size[i] = batch.size[j];
    this.priceDecimals[i] = batch.priceDecimals[j];
    this.priceHi[i] = batch.priceHi[j];
    this.priceLo[i] = batch.priceLo[j];
    this.sizeDecimals[i] = batch.sizeDecimals[j];
    this.sizeHi[i] = batch.sizeHi[j];
    this.sizeLo[i] = batch.sizeLo[j];
  }

  #remove(i: number): void {
    const count = this.count;
    if (i + 1 < count) {
      this.price.copyWithin(i, i + 1, count);
      this.size.copyWithin(i, i + 1, count);
      this.priceDecimals.copyWithin(i, i + 1, count);
      this.priceHi.copyWithin(i, i + 1, count);
      this.priceLo.copyWithin(i, i + 1, count);
      this.sizeDecimals.copyWithin(i, i + 1, count);
      this.sizeHi.copyWithin(i, i + 1, count);
      this.sizeLo.copyWithin(i, i + 1, count);
    }
    this.count = count - 1;
  }

  /** Keep only the best `levels` levels. */
  truncate(levels: number): void {
    if (this.count > levels) this.count = levels < 0 ? 0 : levels;
  }
}

/**
 * A symbol's book: {@link BookSide} bids and asks of the same capacity.
 *
 * @example
 * ```ts
 * import { BookSlotLayout } from "../../pipeline/book_slot.ts";
 * import { VenueBook } from "./venue_book.ts";
 * const book = new VenueBook(50);
 * book.asks.apply(10, 0, 0, 10, 3, 0, 0, 3);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout, 1);
 * ```
 */
export class VenueBook {
  /** Bids, best (highest) first. */
  readonly bids: BookSide;
  /** Asks, best (lowest) first. */
  readonly asks: BookSide;

  /** @param capacity levels per side (see {@link BookSide}). */
  constructor(capacity: number) {
    this.bids = new BookSide(capacity, true);
    this.asks = new BookSide(capacity, false);
  }

  /** Levels per side the book holds at most. */
  get capacity(): number {
    return this.bids.capacity;
  }

  /** Remove every level. */
  clear(): void {
    this.bids.count = 0;
    this.asks.count = 0;
  }

  /** Keep only the best `levels` levels per side. */
  truncate(levels: number): void {
    this.bids.truncate(levels);
    this.asks.truncate(levels);
  }

  /**
   * Write the top `layout.levels` levels per side into the slot at word `at`
   * of `f64`, sizes multiplied by `sizeMultiplier` (contracts → base units),
   * and the bid and ask counts. Other header words are left alone.
   */
  writeTop(f64: Float64Array, at: number, layout: BookSlotLayout, sizeMultiplier: number): void {
    const bids = this.bids, asks = this.asks;
    const nb = bids.count < layout.levels ? bids.count : layout.levels;
    const na = asks.count < layout.levels ? asks.count : layout.levels;
    for (let i = 0; i < nb; i++) {
      f64[at + layout.bidPrice(i)] = bids.price[i];
      f64[at + layout.bidSize(i)] = bids.size[i] * sizeMultiplier;
    }
    for (let i = 0; i < na; i++) {
      f64[at + layout.askPrice(i)] = asks.price[i];
      f64[at + layout.askSize(i)] = asks.size[i] * sizeMultiplier;
    }
    f64[at + BOOK_BID_COUNT] = nb;
    f64[at + BOOK_ASK_COUNT] = na;
  }
}
