/**
 * The levels of one message, parsed once and held until the message is known
 * good, then applied to a {@link VenueBook} without parsing the text again.
 *
 * A venue sync reads a message's levels into the batch while checking them
 * (nothing changes yet, so a bad message is rejected with the book
 * untouched), decides on the sequence rule, then applies the batch. A batch
 * holds at most `capacity` levels; a message with more (a Coinbase-sized
 * snapshot) is flagged {@link LevelBatch.overflowed} and its levels are read
 * from the text a second time instead. Nothing is allocated after
 * construction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LevelBatch } from "./level_batch.ts";
 * import { VenueBook } from "./venue_book.ts";
 * const batch = new LevelBatch(16);
 * batch.push(true, 101, 0, 0, 101, 2, 0, 0, 2); // ask 101 × 2
 * batch.push(false, 100, 0, 0, 100, 1, 0, 0, 1); // bid 100 × 1
 * const book = new VenueBook(10);
 * batch.applyTo(book);
 * assert.equal(book.asks.price[0], 101);
 * assert.equal(book.bids.size[0], 1);
 * ```
 * @module
 */

import type { JsonCursor } from "./json_cursor.ts";
import type { VenueBook } from "./venue_book.ts";

/** Default capacity of a {@link LevelBatch}, in levels (both sides together). */
export const DEFAULT_LEVEL_BATCH_CAPACITY = 2048;

/** A message's parsed levels (see the module docs). */
export class LevelBatch {
  /** Most levels held. */
  readonly capacity: number;
  /** 1 for an ask, 0 for a bid. */
  readonly isAsk: Uint8Array;
  /** Prices. */
  readonly price: Float64Array;
  /** Decimals of each price's text. */
  readonly priceDecimals: Uint8Array;
  /** Mantissa digits above the last nine of each price's text. */
  readonly priceHi: Float64Array;
  /** Last nine mantissa digits of each price's text. */
  readonly priceLo: Uint32Array;
  /** Sizes. */
  readonly size: Float64Array;
  /** Decimals of each size's text. */
  readonly sizeDecimals: Uint8Array;
  /** Mantissa digits above the last nine of each size's text. */
  readonly sizeHi: Float64Array;
  /** Last nine mantissa digits of each size's text. */
  readonly sizeLo: Uint32Array;
  /** Levels pushed since {@link LevelBatch.clear} (may exceed the capacity). */
  count = 0;

  /**
   * @param capacity most levels held, an integer >= 1; default {@link DEFAULT_LEVEL_BATCH_CAPACITY}.
   * @throws RangeError when `capacity` is not an integer >= 1.
   */
  constructor(capacity: number = DEFAULT_LEVEL_BATCH_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`level batch capacity must be an integer >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    const n = capacity + 1; // a spare slot: where levels past the capacity are read
    this.isAsk = new Uint8Array(n);
    this.price = new Float64Array(n);
    this.priceDecimals = new Uint8Array(n);
    this.priceHi = new Float64Array(n);
    this.priceLo = new Uint32Array(n);
    this.size = new Float64Array(n);
    this.sizeDecimals = new Uint8Array(n);
    this.sizeHi = new Float64Array(n);
    this.sizeLo = new Uint32Array(n);
  }

  /** Whether more levels were pushed than the batch holds (they were counted, not kept). */
  get overflowed(): boolean {
    return this.count > this.capacity;
  }

  /** Forget the levels. */
  clear(): void {
    this.count = 0;
  }

  /**
   * The slot the next level is read into: {@link LevelBatch.count} while
   * there is room, else the spare slot (the level is checked and counted,
   * not kept).
   */
  get next(): number {
    return this.count < this.capacity ? this.count : this.capacity;
  }

  /** Set slot `i`'s price from the decimal the cursor read last. */
  setPrice(i: number, c: JsonCursor): void {
    this.price[i] = c.value;
    this.priceDecimals[i] = c.decimals;
    this.priceHi[i] = c.mantHi;
    this.priceLo[i] = c.mantLo;
  }

  /** Set slot `i`'s size from the decimal the cursor read last. */
  setSize(i: number, c: JsonCursor): void {
    this.size[i] = c.value;
    this.sizeDecimals[i] = c.decimals;
    this.sizeHi[i] = c.mantHi;
    this.sizeLo[i] = c.mantLo;
  }

  /**
   * Add a level given by its parts (tests and examples; the venues read
   * levels with {@link LevelBatch.setPrice} and {@link LevelBatch.setSize}:
   * a call with number arguments can allocate, a field copy cannot).
   */
  push(
    isAsk: boolean,
    price: number,
    priceDecimals: number,
    priceHi: number,
    priceLo: number,
    size: number,
    sizeDecimals: number,
    sizeHi: number,
    sizeLo: number,
  ): void {
    const i = this.next;
    this.isAsk[i] = isAsk ? 1 : 0;
    this.price[i] = price;
    this.priceDecimals[i] = priceDecimals;
    this.priceHi[i] = priceHi;
    this.priceLo[i] = priceLo;
    this.size[i] = size;
    this.sizeDecimals[i] = sizeDecimals;
    this.sizeHi[i] = sizeHi;
    this.sizeLo[i] = sizeLo;
    this.count++;
  }

  /** Apply the levels held, in the order read (all of them unless {@link LevelBatch.overflowed}). */
  applyTo(book: VenueBook): void {
    const n = this.count < this.capacity ? this.count : this.capacity;
    for (let i = 0; i < n; i++) (this.isAsk[i] === 1 ? book.asks : book.bids).applyFrom(this, i);
  }
}
