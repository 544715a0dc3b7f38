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
 * import { krakenChecksum, okxChecksum } from "./venue_checksum.ts";
 * okxChecksum(["3366.1"], ["7"], ["3366.8"], ["9"]); // crc32("3366.1:7:3366.8:9") | 0
 * krakenChecksum(["0.12290"], ["8136.33288180"], ["0.12307"], ["600.00000000"]) >= 0; // true
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
 * OKX's checksum of a book given as text, best levels first.
 *
 * @param bidPx Bid price texts (only the first 25 are used).
 * @param bidSz Bid size texts, parallel to `bidPx`.
 * @param askPx Ask price texts.
 * @param askSz Ask size texts.
 * @param bidCount Valid entries of the bid arrays. Default their length.
 * @param askCount Valid entries of the ask arrays. Default their length.
 * @returns The signed 32-bit CRC32.
 * @example
 * ```ts
 * okxChecksum(["1"], ["2"], [], []); // crc32("1:2") | 0
 * ```
 */
export function okxChecksum(
  bidPx: readonly string[],
  bidSz: readonly string[],
  askPx: readonly string[],
  askSz: readonly string[],
  bidCount: number = bidPx.length,
  askCount: number = askPx.length,
): number {
  return crc32(okxChecksumText(bidPx, bidSz, askPx, askSz, bidCount, askCount)) | 0;
}

/**
 * The string OKX's checksum is computed over.
 *
 * @example
 * ```ts
 * okxChecksumText(["1", "0.5"], ["2", "3"], ["1.5"], ["4"]); // "1:2:1.5:4:0.5:3"
 * ```
 */
export function okxChecksumText(
  bidPx: readonly string[],
  bidSz: readonly string[],
  askPx: readonly string[],
  askSz: readonly string[],
  bidCount: number = bidPx.length,
  askCount: number = askPx.length,
): string {
  let s = "";
  for (let i = 0; i < OKX_CHECKSUM_LEVELS; i++) {
    if (i < bidCount) s += (s === "" ? "" : ":") + bidPx[i] + ":" + bidSz[i];
    if (i < askCount) s += (s === "" ? "" : ":") + askPx[i] + ":" + askSz[i];
  }
  return s;
}

/**
 * Kraken's checksum of a book given as the number text sent, best levels first.
 *
 * @param bidPx Bid price texts (only the first 10 are used).
 * @param bidQty Bid quantity texts.
 * @param askPx Ask price texts.
 * @param askQty Ask quantity texts.
 * @param bidCount Valid entries of the bid arrays. Default their length.
 * @param askCount Valid entries of the ask arrays. Default their length.
 * @returns The unsigned 32-bit CRC32.
 * @example
 * ```ts
 * krakenChecksum([], [], ["0.12307"], ["600.00000000"]); // crc32("1230760000000000")
 * ```
 */
export function krakenChecksum(
  bidPx: readonly string[],
  bidQty: readonly string[],
  askPx: readonly string[],
  askQty: readonly string[],
  bidCount: number = bidPx.length,
  askCount: number = askPx.length,
): number {
  let s = "";
  const na = Math.min(KRAKEN_CHECKSUM_LEVELS, askCount);
  for (let i = 0; i < na; i++) s += krakenDigits(askPx[i]) + krakenDigits(askQty[i]);
  const nb = Math.min(KRAKEN_CHECKSUM_LEVELS, bidCount);
  for (let i = 0; i < nb; i++) s += krakenDigits(bidPx[i]) + krakenDigits(bidQty[i]);
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
