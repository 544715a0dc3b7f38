/**
 * Top-of-book prices of a book slot: mid, spread, spread in bps and the
 * weighted mid (naive microprice), per DESIGN.md section 5.
 *
 * All functions read the best bid (Pb, Qb) and best ask (Pa, Qa) of the book
 * slot at word `base` and write their result to `out[outIndex]`, NaN when
 * either side is empty. They write instead of returning because V8 boxes a
 * double returned from a call it does not inline into a new HeapNumber (one
 * allocation per call). They allocate nothing.
 *
 * @example
 * ```ts
 * import { BookSlotLayout, BOOK_BID_COUNT, BOOK_ASK_COUNT } from "../pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(1);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[layout.bidPrice(0)] = 99; f64[layout.bidSize(0)] = 3; f64[BOOK_BID_COUNT] = 1;
 * f64[layout.askPrice(0)] = 101; f64[layout.askSize(0)] = 1; f64[BOOK_ASK_COUNT] = 1;
 * const out = new Float64Array(2);
 * writeMidPrice(f64, 0, layout, out, 0); // out[0] = 100
 * writeWeightedMid(f64, 0, layout, out, 1); // out[1] = 0.75·101 + 0.25·99 = 100.5
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";

/**
 * NaN for branches that rarely run. A bare `NaN` there is a global lookup
 * that V8's optimizing compiler cannot fold until the branch has run once, so
 * it merges the results as tagged values and boxes the common branch's
 * double in a new HeapNumber on every call (measured with `--trace-gc`). A
 * module constant is folded.
 */
const NOT_A_NUMBER = NaN;

function twoSided(f64: Float64Array, base: number): boolean {
  return f64[base + BOOK_BID_COUNT] >= 1 && f64[base + BOOK_ASK_COUNT] >= 1;
}

/**
 * mid = (Pb + Pa) / 2; NaN when a side is empty.
 *
 * @example
 * ```ts
 * writeMidPrice(f64, base, layout, frame, FRAME_MID); // frame[FRAME_MID] = 100 for bid 99 / ask 101
 * ```
 */
export function writeMidPrice(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  out: Float64Array,
  outIndex: number,
): void {
  if (!twoSided(f64, base)) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  out[outIndex] = (f64[base + layout.bidPrice(0)] + f64[base + layout.askPrice(0)]) / 2;
}

/**
 * spread = Pa − Pb (negative for a crossed book); NaN when a side is empty.
 *
 * @example
 * ```ts
 * writeSpread(f64, base, layout, frame, FRAME_SPREAD); // 2 for bid 99 / ask 101
 * ```
 */
export function writeSpread(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  out: Float64Array,
  outIndex: number,
): void {
  if (!twoSided(f64, base)) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  out[outIndex] = f64[base + layout.askPrice(0)] - f64[base + layout.bidPrice(0)];
}

/**
 * spread_bps = 1e4 · spread / mid; NaN when a side is empty.
 *
 * @example
 * ```ts
 * writeSpreadBps(f64, base, layout, frame, FRAME_SPREAD_BPS); // 200 for bid 99 / ask 101
 * ```
 */
export function writeSpreadBps(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  out: Float64Array,
  outIndex: number,
): void {
  if (!twoSided(f64, base)) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  const pb = f64[base + layout.bidPrice(0)];
  const pa = f64[base + layout.askPrice(0)];
  out[outIndex] = (1e4 * (pa - pb)) / ((pb + pa) / 2);
}

/**
 * Weighted mid (naive microprice) = I·Pa + (1 − I)·Pb with I = Qb / (Qb + Qa):
 * a heavier bid pulls the price towards the ask. NaN when a side is empty or
 * Qb + Qa is 0.
 *
 * @example
 * ```ts
 * writeWeightedMid(f64, base, layout, frame, FRAME_WEIGHTED_MID); // 100.5 for 99×3 / 101×1
 * ```
 */
export function writeWeightedMid(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  out: Float64Array,
  outIndex: number,
): void {
  if (!twoSided(f64, base)) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  const pb = f64[base + layout.bidPrice(0)];
  const qb = f64[base + layout.bidSize(0)];
  const pa = f64[base + layout.askPrice(0)];
  const qa = f64[base + layout.askSize(0)];
  const total = qb + qa;
  if (!(total > 0)) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  const i = qb / total;
  out[outIndex] = i * pa + (1 - i) * pb;
}
