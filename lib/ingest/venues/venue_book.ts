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
 * Levels are stored touch last (see {@link BookSide}); level `i` (0 = best)
 * is at slot {@link BookSide.slot}`(i)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VenueBook } from "./venue_book.ts";
 * const book = new VenueBook(10);
 * // price 100.5 (text "100.5"), size 2.25 (text "2.250")
 * book.bids.apply(100.5, 1, 0, 1005, 2.25, 3, 0, 2250);
 * book.bids.apply(101, 0, 0, 101, 1, 0, 0, 1);
 * assert.equal(book.bids.price[book.bids.slot(0)], 101);
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
 * One side of a {@link VenueBook}: `count` levels in parallel typed arrays
 * of length `capacity`.
 *
 * Storage is in *slots*, with the best level in the LAST slot
 * (`count - 1`): bids are stored ascending, asks descending. Most changes
 * land near the touch, and this way an insert or delete moves only the few
 * levels better than it (as `LocalBook` does for Binance). Read level `i`
 * (0 = best) at slot {@link BookSide.slot}`(i)`. A snapshot, which venues
 * send best first, is loaded best first between
 * {@link BookSide.beginSnapshot} and {@link BookSide.endSnapshot} (each
 * level then lands after the others, nothing moves) and turned around once
 * at the end.
 *
 * @example
 * ```ts
 * import { BookSide } from "./venue_book.ts";
 * const asks = new BookSide(5, false);
 * asks.apply(10, 0, 0, 10, 1, 0, 0, 1);
 * asks.apply(9, 0, 0, 9, 2, 0, 0, 2);
 * asks.price[asks.slot(0)]; // 9: the best ask
 * ```
 */
export class BookSide {
  /** Most levels the side holds. */
  readonly capacity: number;
  /** True for bids (best = highest), false for asks (best = lowest). */
  readonly descending: boolean;
  /** Prices by slot (see {@link BookSide.slot}). */
  readonly price: Float64Array;
  /** Sizes as received (venue units), by slot. */
  readonly size: Float64Array;
  /** Decimals of each price's text, by slot. */
  readonly priceDecimals: Uint8Array;
  /** Mantissa digits above the last nine of each price's text, by slot. */
  readonly priceHi: Float64Array;
  /** Last nine mantissa digits of each price's text, by slot. */
  readonly priceLo: Uint32Array;
  /** Decimals of each size's text, by slot. */
  readonly sizeDecimals: Uint8Array;
  /** Mantissa digits above the last nine of each size's text, by slot. */
  readonly sizeHi: Float64Array;
  /** Last nine mantissa digits of each size's text, by slot. */
  readonly sizeLo: Uint32Array;
  /** Levels held (slots `0 .. count)`). */
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

  #touchLast = true;

  /** The slot of level `i` (0 = best; valid for `i < count`). */
  slot(i: number): number {
    return this.#touchLast ? this.count - 1 - i : i;
  }

  /** Empty the side and store what follows best first until {@link BookSide.endSnapshot}. */
  beginSnapshot(): void {
    this.count = 0;
    this.#touchLast = false;
  }

  /** After {@link BookSide.beginSnapshot}: turn the levels around, touch last again. */
  endSnapshot(): void {
    if (this.#touchLast) return;
    this.#touchLast = true;
    const price = this.price, size = this.size, pd = this.priceDecimals, ph = this.priceHi;
    const pl = this.priceLo, sd = this.sizeDecimals, sh = this.sizeHi, sl = this.sizeLo;
    for (let a = 0, b = this.count - 1; a < b; a++, b--) {
      let t = price[a];
      price[a] = price[b];
      price[b] = t;
      t = size[a];
      size[a] = size[b];
      size[b] = t;
      t = pd[a];
      pd[a] = pd[b];
      pd[b] = t;
      t = ph[a];
      ph[a] = ph[b];
      ph[b] = t;
      t = pl[a];
      pl[a] = pl[b];
      pl[b] = t;
      t = sd[a];
      sd[a] = sd[b];
      sd[b] = t;
      t = sh[a];
      sh[a] = sh[b];
      sh[b] = t;
      t = sl[a];
      sl[a] = sl[b];
      sl[b] = t;
    }
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
    // binary search in slot order: the first slot not before `price`
    const ascending = this.descending === this.#touchLast;
    let lo = 0, hi = count;
    if (ascending) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (prices[mid] < price) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (prices[mid] > price) lo = mid + 1;
        else hi = mid;
      }
    }
    const s = lo;
    if (s < count && prices[s] === price) {
      if (batch.size[j] === 0) {
        if (s + 1 < count) this.#move(s, s + 1, count);
        this.count = count - 1;
      } else this.#write(s, batch, j);
      return;
    }
    if (batch.size[j] === 0) return;
    if (count < this.capacity) {
      if (s < count) this.#move(s + 1, s, count);
      this.#write(s, batch, j);
      this.count = count + 1;
      return;
    }
    // full: the farthest level goes, unless the new one is farther still
    if (this.#touchLast) {
      // the farthest is slot 0
      if (s === 0) return;
      if (s > 1) this.#move(0, 1, s);
      this.#write(s - 1, batch, j);
    } else {
      // the farthest is the last slot
      if (s >= count) return;
      if (s < count - 1) this.#move(s + 1, s, count - 1);
      this.#write(s, batch, j);
    }
  }

  /** `copyWithin(target, start, end)` on every array. */
  #move(target: number, start: number, end: number): void {
    this.price.copyWithin(target, start, end);
    this.size.copyWithin(target, start, end);
    this.priceDecimals.copyWithin(target, start, end);
    this.priceHi.copyWithin(target, start, end);
    this.priceLo.copyWithin(target, start, end);
    this.sizeDecimals.copyWithin(target, start, end);
    this.sizeHi.copyWithin(target, start, end);
    this.sizeLo.copyWithin(target, start, end);
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

  /** Keep only the best `levels` levels (the farthest go). */
  truncate(levels: number): void {
    const count = this.count;
    if (count <= levels) return;
    const keep = levels < 0 ? 0 : levels;
    if (keep > 0 && this.#touchLast) this.#move(0, count - keep, count);
    this.count = keep;
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

  /** Empty both sides for a snapshot (see {@link BookSide.beginSnapshot}). */
  beginSnapshot(): void {
    this.bids.beginSnapshot();
    this.asks.beginSnapshot();
  }

  /** The snapshot is in (see {@link BookSide.endSnapshot}). */
  endSnapshot(): void {
    this.bids.endSnapshot();
    this.asks.endSnapshot();
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
    for (let i = 0, k = bids.count - 1; i < nb; i++, k--) {
      f64[at + layout.bidPrice(i)] = bids.price[k];
      f64[at + layout.bidSize(i)] = bids.size[k] * sizeMultiplier;
    }
    for (let i = 0, k = asks.count - 1; i < na; i++, k--) {
      f64[at + layout.askPrice(i)] = asks.price[k];
      f64[at + layout.askSize(i)] = asks.size[k] * sizeMultiplier;
    }
    f64[at + BOOK_BID_COUNT] = nb;
    f64[at + BOOK_ASK_COUNT] = na;
  }
}
