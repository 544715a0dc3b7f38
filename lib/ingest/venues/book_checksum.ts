/**
 * Book checksums of the venues that send one, computed from a
 * {@link VenueBook} without strings: the text each venue checksums is
 * rebuilt from the levels' decimals and mantissas into a reused byte buffer
 * and its CRC32 (IEEE, the same as `crc32` of `node:zlib`) is taken with a
 * table, so nothing is allocated per message (`node:zlib`'s `crc32` would
 * need a fresh `subarray` view of the buffer each time).
 *
 * - OKX v5 (`books`): the top 25 levels, alternating
 *   `bidPx:bidSz:askPx:askSz` joined by `:` (when one side has fewer levels,
 *   only the other side's entries), texts as received; signed int32.
 * - Kraken v2 (`book`): the top 10 asks (ascending) then the top 10 bids
 *   (descending), each price text and quantity text with the `.` removed and
 *   leading zeros stripped, concatenated; unsigned 32-bit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32 } from "node:zlib";
 * import { BookChecksum } from "./book_checksum.ts";
 * import { VenueBook } from "./venue_book.ts";
 * const book = new VenueBook(25);
 * book.bids.apply(3366.1, 1, 0, 33661, 7, 0, 0, 7); // "3366.1" "7"
 * book.asks.apply(3366.8, 1, 0, 33668, 9, 0, 0, 9); // "3366.8" "9"
 * const sum = new BookChecksum();
 * sum.okx(book);
 * assert.equal(sum.value, crc32("3366.1:7:3366.8:9") | 0);
 * sum.kraken(book);
 * assert.equal(sum.value, crc32("336689336617"));
 * ```
 * @module
 */

import type { BookSide, VenueBook } from "./venue_book.ts";

/** Levels per side of the OKX checksum. */
export const OKX_CHECKSUM_LEVELS = 25;
/** Levels per side of the Kraken checksum. */
export const KRAKEN_CHECKSUM_LEVELS = 10;

const CRC_TABLE: Int32Array = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * CRC32 (IEEE 802.3, as `node:zlib`'s `crc32`) of `bytes[0 .. length)`, unsigned.
 *
 * @example
 * ```ts
 * import { crc32Of } from "./book_checksum.ts";
 * crc32Of(new TextEncoder().encode("123456789"), 9); // 0xcbf43926
 * ```
 */
export function crc32Of(bytes: Uint8Array, length: number): number {
  let c = -1;
  for (let i = 0; i < length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Longest text a level's price or size can need: 24 digits, a point and a leading zero. */
const MAX_NUMBER_TEXT = 27;

/**
 * Computes venue checksums into one reused buffer (one per connection).
 * After a call, {@link BookChecksum.value} is the checksum and
 * {@link BookChecksum.bytes}`[0 .. `{@link BookChecksum.length}`)` the text
 * that was checksummed (for logs and tests).
 *
 * @example
 * ```ts
 * import { BookChecksum } from "./book_checksum.ts";
 * import { VenueBook } from "./venue_book.ts";
 * const sum = new BookChecksum();
 * sum.okx(new VenueBook(25));
 * sum.value; // 0: the CRC32 of the empty text
 * ```
 */
export class BookChecksum {
  /** The checksummed text of the last call (ASCII bytes). */
  readonly bytes: Uint8Array = new Uint8Array(
    2 * OKX_CHECKSUM_LEVELS * 2 * (MAX_NUMBER_TEXT + 1) +
      2 * KRAKEN_CHECKSUM_LEVELS * 2 * MAX_NUMBER_TEXT,
  );
  /** Length of the checksummed text of the last call. */
  length = 0;
  /**
   * The checksum of the last call. A field, not a return value: a number
   * past 2^30 returned from a call that is not inlined is a fresh heap object.
   */
  value = 0;
  readonly #digits = new Uint8Array(32);

  /**
   * The OKX checksum (signed int32) of the book's top
   * {@link OKX_CHECKSUM_LEVELS} levels, into {@link BookChecksum.value}.
   */
  okx(book: VenueBook): void {
    const bids = book.bids, asks = book.asks, out = this.bytes;
    let p = 0;
    for (let i = 0; i < OKX_CHECKSUM_LEVELS; i++) {
      if (i < bids.count) {
        const k = bids.count - 1 - i;
        if (p > 0) out[p++] = 0x3a;
        p = this.#text(p, bids.priceHi[k], bids.priceLo[k], bids.priceDecimals[k], false);
        out[p++] = 0x3a;
        p = this.#text(p, bids.sizeHi[k], bids.sizeLo[k], bids.sizeDecimals[k], false);
      }
      if (i < asks.count) {
        const k = asks.count - 1 - i;
        if (p > 0) out[p++] = 0x3a;
        p = this.#text(p, asks.priceHi[k], asks.priceLo[k], asks.priceDecimals[k], false);
        out[p++] = 0x3a;
        p = this.#text(p, asks.sizeHi[k], asks.sizeLo[k], asks.sizeDecimals[k], false);
      }
    }
    this.length = p;
    this.#crc(p);
    this.value = this.value | 0;
  }

  /**
   * The Kraken v2 checksum (unsigned) of the book's top
   * {@link KRAKEN_CHECKSUM_LEVELS} levels, into {@link BookChecksum.value}.
   */
  kraken(book: VenueBook): void {
    let p = this.#krakenSide(0, book.asks);
    p = this.#krakenSide(p, book.bids);
    this.length = p;
    this.#crc(p);
  }

  /** CRC32 of `bytes[0 .. length)` into {@link BookChecksum.value} (unsigned). */
  #crc(length: number): void {
    const bytes = this.bytes;
    let c = -1;
    for (let i = 0; i < length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    this.value = (c ^ -1) >>> 0;
  }

  #krakenSide(p: number, side: BookSide): number {
    const n = side.count < KRAKEN_CHECKSUM_LEVELS ? side.count : KRAKEN_CHECKSUM_LEVELS;
    for (let i = 0, k = side.count - 1; i < n; i++, k--) {
      p = this.#text(p, side.priceHi[k], side.priceLo[k], side.priceDecimals[k], true);
      p = this.#text(p, side.sizeHi[k], side.sizeLo[k], side.sizeDecimals[k], true);
    }
    return p;
  }

  /**
   * Write the decimal text of mantissa `hi · 10^9 + lo` with `decimals`
   * decimals at `p`; `stripped`: without the point and leading zeros.
   */
  #text(p: number, hi: number, lo: number, decimals: number, stripped: boolean): number {
    const d = this.#digits, out = this.bytes;
    let k = 0;
    if (hi > 0) {
      for (let j = 0; j < 9; j++) {
        d[k++] = lo % 10;
        lo = (lo / 10) >>> 0;
      }
      while (hi > 0) {
        d[k++] = hi % 10;
        hi = Math.floor(hi / 10);
      }
    } else {
      do {
        d[k++] = lo % 10;
        lo = (lo / 10) >>> 0;
      } while (lo > 0);
    }
    if (stripped) {
      if (k === 1 && d[0] === 0) return p; // "0.000" strips to nothing
      while (k > 0) out[p++] = 0x30 + d[--k];
      return p;
    }
    while (k < decimals + 1) d[k++] = 0;
    while (k > 0) {
      if (k === decimals) out[p++] = 0x2e;
      out[p++] = 0x30 + d[--k];
    }
    return p;
  }
}
