/**
 * The order-book checksums of OKX and Kraken, computed the way the venues
 * define them, over the level text exactly as sent:
 *
 * - OKX (`books`): CRC32 of the top 25 levels, alternating
 *   `bidPx:bidSz:askPx:askSz` (a missing side skipped), joined with `:`, as a
 *   signed 32-bit integer.
 * - Kraken (v2 `book`): CRC32 of the top 10 asks (best first) then the top 10
 *   bids, each level its price text then its quantity text with the `.` and
 *   the leading zeros removed, as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { krakenChecksum, LevelTexts, okxChecksum } from "./venue_checksum.ts";
 * okxChecksum(LevelTexts.of([["3366.1", "7"]], [["3366.8", "9"]])); // crc32("3366.1:7:3366.8:9") | 0
 * krakenChecksum(LevelTexts.of([["0.12290", "8136.33288180"]], [["0.12307", "600.00000000"]])) >= 0; // true
 * ```
 * @module
 */

import { crc32 } from "node:zlib";

/**
 * Levels per side in an OKX checksum.
 *
 * @example
 * ```ts
 * OKX_CHECKSUM_LEVELS; // 25
 * ```
 */
export const OKX_CHECKSUM_LEVELS = 25;
/**
 * Levels per side in a Kraken checksum.
 *
 * @example
 * ```ts
 * KRAKEN_CHECKSUM_LEVELS; // 10
 * ```
 */
export const KRAKEN_CHECKSUM_LEVELS = 10;

/**
 * A book's best levels as the number texts sent, best first: what a checksum
 * is computed over. A feed keeps one and refills it for every checksum
 * (entries past the counts are left as they were).
 *
 * @example
 * ```ts
 * const top = new LevelTexts(25);
 * top.bidPx[0] = "3366.1";
 * top.bidSz[0] = "7";
 * top.bidCount = 1;
 * okxChecksumText(top); // "3366.1:7"
 * ```
 */
export class LevelTexts {
  /** Bid price texts. */
  readonly bidPx: string[];
  /** Bid size (quantity) texts, parallel to {@link bidPx}. */
  readonly bidSz: string[];
  /** Ask price texts. */
  readonly askPx: string[];
  /** Ask size (quantity) texts, parallel to {@link askPx}. */
  readonly askSz: string[];
  /** Valid entries of the bid arrays. */
  bidCount = 0;
  /** Valid entries of the ask arrays. */
  askCount = 0;

  /** @param levels Entries per side (e.g. {@link OKX_CHECKSUM_LEVELS}). */
  constructor(levels: number) {
    this.bidPx = new Array(levels).fill("");
    this.bidSz = new Array(levels).fill("");
    this.askPx = new Array(levels).fill("");
    this.askSz = new Array(levels).fill("");
  }

  /**
   * The texts of levels given as `[price, size, ...]` arrays (as a venue's JSON has them).
   *
   * @example
   * ```ts
   * LevelTexts.of([["1", "2"]], []).bidCount; // 1
   * ```
   */
  static of(
    bids: readonly (readonly string[])[],
    asks: readonly (readonly string[])[],
  ): LevelTexts {
    const t = new LevelTexts(Math.max(bids.length, asks.length));
    bids.forEach((l, i) => {
      t.bidPx[i] = l[0];
      t.bidSz[i] = l[1];
    });
    asks.forEach((l, i) => {
      t.askPx[i] = l[0];
      t.askSz[i] = l[1];
    });
    t.bidCount = bids.length;
    t.askCount = asks.length;
    return t;
  }
}

/**
 * OKX's checksum of a book's best levels (only the first 25 a side are used).
 *
 * @returns The signed 32-bit CRC32.
 * @example
 * ```ts
 * okxChecksum(LevelTexts.of([["1", "2"]], [])); // crc32("1:2") | 0
 * ```
 */
export function okxChecksum(top: LevelTexts): number {
  return crc32(okxChecksumText(top)) | 0;
}

/**
 * The string OKX's checksum is computed over.
 *
 * @example
 * ```ts
 * okxChecksumText(LevelTexts.of([["1", "2"], ["0.5", "3"]], [["1.5", "4"]])); // "1:2:1.5:4:0.5:3"
 * ```
 */
export function okxChecksumText(top: LevelTexts): string {
  let s = "";
  for (let i = 0; i < OKX_CHECKSUM_LEVELS; i++) {
    if (i < top.bidCount) s += (s === "" ? "" : ":") + top.bidPx[i] + ":" + top.bidSz[i];
    if (i < top.askCount) s += (s === "" ? "" : ":") + top.askPx[i] + ":" + top.askSz[i];
  }
  return s;
}

/**
 * Kraken's checksum of a book's best levels (only the first 10 a side are used).
 *
 * @returns The unsigned 32-bit CRC32.
 * @example
 * ```ts
 * krakenChecksum(LevelTexts.of([], [["0.12307", "600.00000000"]])); // crc32("1230760000000000")
 * ```
 */
export function krakenChecksum(top: LevelTexts): number {
  let s = "";
  const na = Math.min(KRAKEN_CHECKSUM_LEVELS, top.askCount);
  for (let i = 0; i < na; i++) s += krakenDigits(top.askPx[i]) + krakenDigits(top.askSz[i]);
  const nb = Math.min(KRAKEN_CHECKSUM_LEVELS, top.bidCount);
  for (let i = 0; i < nb; i++) s += krakenDigits(top.bidPx[i]) + krakenDigits(top.bidSz[i]);
  return crc32(s) >>> 0;
}

/**
 * A number text as Kraken's checksum takes it: without `.` and leading zeros.
 *
 * @example
 * ```ts
 * krakenDigits("0.00500000"); // "500000"
 * ```
 */
export function krakenDigits(text: string): string {
  const digits = text.replace(".", "");
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 0x30) i++;
  return digits.slice(i);
}
