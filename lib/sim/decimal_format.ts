/**
 * Formatting of integer tick and lot counts as Binance-style 8-decimal strings
 * (`"60000.01000000"`), with integer arithmetic only so no binary-float rounding
 * can leak into the text.
 *
 * @example
 * ```ts
 * import { formatScaled } from "./decimal_format.ts";
 * formatScaled(6000001, 2); // "60000.01000000"
 * formatScaled(0, 5); // "0.00000000"
 * ```
 * @module
 */

/** Number of decimals Binance spot prints for prices and quantities. */
const BINANCE_DECIMALS = 8;

const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
const ZEROS: readonly string[] = [
  "",
  "0",
  "00",
  "000",
  "0000",
  "00000",
  "000000",
  "0000000",
  "00000000",
];

/**
 * Formats `units × 10^-decimals` with exactly 8 decimals.
 *
 * @param units A non-negative safe integer (ticks or lots).
 * @param decimals How many decimals one unit has, 0..8 (tick 0.01 → 2).
 * @returns The decimal string, e.g. `"0.35130000"`.
 * @throws {RangeError} if `units` is not a non-negative safe integer or
 *   `decimals` is outside 0..8.
 * @example
 * ```ts
 * formatScaled(3513, 4); // "0.35130000"
 * ```
 */
export function formatScaled(units: number, decimals: number): string {
  if (!Number.isSafeInteger(units) || units < 0) {
    throw new RangeError(`formatScaled: units must be a non-negative safe integer, got ${units}`);
  }
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > BINANCE_DECIMALS) {
    throw new RangeError(`formatScaled: decimals must be an integer in 0..8, got ${decimals}`);
  }
  const scale = POW10[decimals];
  const whole = Math.floor(units / scale);
  const tail = ZEROS[BINANCE_DECIMALS - decimals];
  if (decimals === 0) return whole + "." + tail;
  const frac = "" + (units - whole * scale);
  return whole + "." + ZEROS[decimals - frac.length] + frac + tail;
}
