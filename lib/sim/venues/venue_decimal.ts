/**
 * Decimal text of integer tick and lot counts in the spellings the venues use:
 * fixed decimals (`"71423.80"`, Bybit, Binance USD-M, Kraken's number tokens)
 * and trimmed (`"30243.5"`, OKX and Coinbase). Integer arithmetic only, so no
 * binary-float rounding leaks into the text.
 *
 * @example
 * ```ts
 * import { formatFixed, formatTrimmed } from "./venue_decimal.ts";
 * formatFixed(7142380, 2); // "71423.80"
 * formatTrimmed(7142380, 2); // "71423.8"
 * formatTrimmed(7142300, 2); // "71423"
 * ```
 * @module
 */

const ZEROS = "000000000000000000";

/**
 * Formats `units × 10^-decimals` with exactly `decimals` decimals.
 *
 * @param units A non-negative safe integer.
 * @param decimals 0..18.
 * @returns E.g. `"0.12290"` for `(12290, 5)`.
 * @throws {RangeError} if `units` or `decimals` is out of range.
 * @example
 * ```ts
 * formatFixed(5, 3); // "0.005"
 * formatFixed(12, 0); // "12"
 * ```
 */
export function formatFixed(units: number, decimals: number): string {
  if (!Number.isSafeInteger(units) || units < 0) {
    throw new RangeError(`formatFixed: units must be a non-negative safe integer, got ${units}`);
  }
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 18) {
    throw new RangeError(`formatFixed: decimals must be an integer in 0..18, got ${decimals}`);
  }
  if (decimals === 0) return "" + units;
  let digits = "" + units;
  if (digits.length <= decimals) digits = ZEROS.slice(0, decimals + 1 - digits.length) + digits;
  const cut = digits.length - decimals;
  return digits.slice(0, cut) + "." + digits.slice(cut);
}

/**
 * Formats `units × 10^-decimals` without trailing zeros (and without a
 * trailing point): OKX's and Coinbase's spelling.
 *
 * @param units A non-negative safe integer.
 * @param decimals 0..18.
 * @throws {RangeError} if `units` or `decimals` is out of range.
 * @example
 * ```ts
 * formatTrimmed(144679, 5); // "1.44679"
 * formatTrimmed(800, 4); // "0.08"
 * ```
 */
export function formatTrimmed(units: number, decimals: number): string {
  const text = formatFixed(units, decimals);
  if (decimals === 0) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 0x30) end--;
  if (text.charCodeAt(end - 1) === 0x2e) end--;
  return text.slice(0, end);
}
