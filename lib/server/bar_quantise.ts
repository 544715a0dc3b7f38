/**
 * The quantisations of a stored bar (`bar_store.ts`), each a pair of pure
 * functions, with the error bounds the docs state and
 * `tests/bar_store_test.ts` checks:
 *
 * | field                | stored as                                                         | bytes | error bound                                                       |
 * | -------------------- | ----------------------------------------------------------------- | ----- | ----------------------------------------------------------------- |
 * | close                | float32                                                           | 4     | ≤ 2⁻²⁴ relative (0.0006 bps)                                      |
 * | high, low            | uint16 distance from the stored close, in 0.1 bps of it           | 2 + 2 | ≤ 0.05 bps of the close (+ the close's); saturates at 6,553.4 bps |
 * | spread (bps), OFI    | bfloat16: the top 16 bits of the float32, rounded to nearest even | 2 + 2 | ≤ 2⁻⁸ relative (0.39 %) for magnitudes ≥ 1.2e-38                  |
 * | imbalance, had frames| int8: round(imbalance · 126); −128 no frames, 127 unknown         | 1     | ≤ 1/252 + 5e-5 absolute (0.0041)                                  |
 *
 * 13 bytes a bar; the open is not stored (it is the previous bar's close).
 * NaN is kept as NaN by every field (a reserved code each).
 *
 * @example
 * ```ts
 * import { bf16Decode, bf16Encode } from "./bar_quantise.ts";
 * bf16Decode(bf16Encode(1.5)); // 1.5 (exactly representable)
 * Number.isNaN(bf16Decode(bf16Encode(NaN))); // true
 * ```
 * @module
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bfloat16 code of NaN. */
export const BF16_NAN = 0x7fc0;

/**
 * The bfloat16 code (top 16 bits of the float32, rounded to nearest even) of `x`.
 *
 * @example
 * ```ts
 * import { bf16Encode } from "./bar_quantise.ts";
 * bf16Encode(1); // 0x3f80
 * ```
 */
export function bf16Encode(x: number): number {
  if (x !== x) return BF16_NAN;
  f32[0] = x;
  const u = u32[0];
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * The number a bfloat16 code stands for.
 *
 * @example
 * ```ts
 * import { bf16Decode } from "./bar_quantise.ts";
 * bf16Decode(0xbf80); // -1
 * ```
 */
export function bf16Decode(code: number): number {
  u32[0] = code << 16;
  return f32[0];
}

/** The uint16 code of an unknown (NaN) high or low offset. */
export const OFFSET_NAN = 0xffff;
/** The largest offset code: 6,553.4 bps (a larger distance saturates to it). */
export const OFFSET_MAX = 0xfffe;
/** Offsets are in units of 0.1 bps of the close (1e-5). */
const OFFSET_UNIT = 1e-5;

/**
 * The uint16 code of `|price − close|` in 0.1 bps of `close` (rounded,
 * saturating at {@link OFFSET_MAX}); {@link OFFSET_NAN} when either is not
 * finite or the close is not positive.
 *
 * @example
 * ```ts
 * import { offsetEncode } from "./bar_quantise.ts";
 * offsetEncode(100.01, 100); // 10: 1 bps
 * ```
 */
export function offsetEncode(price: number, close: number): number {
  const q = Math.round(Math.abs(price - close) / close / OFFSET_UNIT);
  if (!(close > 0) || !(q >= 0)) return OFFSET_NAN;
  return q > OFFSET_MAX ? OFFSET_MAX : q;
}

/**
 * The price `code` stands for, `sign` (+1 above the close, −1 below) of `close`.
 *
 * @example
 * ```ts
 * import { offsetDecode } from "./bar_quantise.ts";
 * offsetDecode(10, 100, -1); // 99.99
 * ```
 */
export function offsetDecode(code: number, close: number, sign: 1 | -1): number {
  if (code === OFFSET_NAN) return NaN;
  return close * (1 + sign * code * OFFSET_UNIT);
}

/** The int8 code of a bar without frames. */
export const IMBALANCE_NO_FRAMES = -128;
/** The int8 code of a bar with frames and no finite imbalance. */
export const IMBALANCE_NAN = 127;
const IMBALANCE_SCALE = 126;

/**
 * The int8 code of a bar's mean imbalance (clamped to −1..1, in steps of
 * 1/126), or {@link IMBALANCE_NO_FRAMES} / {@link IMBALANCE_NAN}.
 *
 * @example
 * ```ts
 * import { imbalanceEncode } from "./bar_quantise.ts";
 * imbalanceEncode(0.5, true); // 63
 * imbalanceEncode(NaN, false); // -128
 * ```
 */
export function imbalanceEncode(imbalance: number, hadFrames: boolean): number {
  if (!hadFrames) return IMBALANCE_NO_FRAMES;
  if (!Number.isFinite(imbalance)) return IMBALANCE_NAN;
  const c = imbalance > 1 ? 1 : imbalance < -1 ? -1 : imbalance;
  return Math.round(c * IMBALANCE_SCALE);
}

/**
 * The imbalance an int8 code stands for (4 decimals), NaN for the two reserved codes.
 *
 * @example
 * ```ts
 * import { imbalanceDecode } from "./bar_quantise.ts";
 * imbalanceDecode(63); // 0.5
 * ```
 */
export function imbalanceDecode(code: number): number {
  if (code === IMBALANCE_NO_FRAMES || code === IMBALANCE_NAN) return NaN;
  return Math.round(code / IMBALANCE_SCALE * 1e4) / 1e4;
}
