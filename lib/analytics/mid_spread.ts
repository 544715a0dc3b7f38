/**
 * Top-of-book prices of a book slot, per docs/design.md §5, from the best
 * bid (Pb, Qb) and best ask (Pa, Qa):
 *
 * - mid = (Pb + Pa) / 2;
 * - spread = Pa − Pb (negative for a crossed book);
 * - spread_bps = 1e4 · spread / mid;
 * - weighted mid (naive microprice) = I·Pa + (1 − I)·Pb with I = Qb / (Qb + Qa):
 *   a heavier bid pulls the price towards the ask; NaN when Qb + Qa is 0.
 *
 * All four are NaN when either side is empty. They are written into the
 * analytics slot, not returned: V8 boxes a double returned from a call it does
 * not inline into a new HeapNumber (one allocation per call). Nothing is
 * allocated.
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "Top of book".
 *
 * @example
 * ```ts
 * import { writeTopOfBook } from "./mid_spread.ts";
 * import { BookSlotLayout, BOOK_BID_COUNT, BOOK_ASK_COUNT } from "../pipeline/book_slot.ts";
 * import { FRAME_MID, FRAME_WEIGHTED_MID, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new BookSlotLayout(1);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[layout.bidPrice(0)] = 99; f64[layout.bidSize(0)] = 3; f64[BOOK_BID_COUNT] = 1;
 * f64[layout.askPrice(0)] = 101; f64[layout.askSize(0)] = 1; f64[BOOK_ASK_COUNT] = 1;
 * const frame = new Float64Array(new FrameSlotLayout({ levels: 1 }).slotWords);
 * writeTopOfBook(f64, 0, layout, frame, 0);
 * frame[FRAME_MID]; // 100
 * frame[FRAME_WEIGHTED_MID]; // 0.75·101 + 0.25·99 = 100.5
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";
import {
  FRAME_MID,
  FRAME_SPREAD,
  FRAME_SPREAD_BPS,
  FRAME_WEIGHTED_MID,
} from "../pipeline/frame_slot.ts";

/** NaN for branches that rarely run, as a module constant V8 folds (see `analyser.ts`). */
const NOT_A_NUMBER = NaN;

/**
 * Writes mid, spread, spread in bps and weighted mid of the book slot at
 * `f64[base…]` into the analytics slot at `out[outBase…]` (words
 * `FRAME_MID`, `FRAME_SPREAD`, `FRAME_SPREAD_BPS`, `FRAME_WEIGHTED_MID`).
 *
 * @example
 * ```ts
 * import { writeTopOfBook } from "./mid_spread.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FRAME_MID, FRAME_SPREAD_BPS, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const book = new LocalBook();
 * book.loadSnapshot([[99, 3]], [[101, 1]]);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout);
 * const frame = new Float64Array(new FrameSlotLayout({ levels: 20 }).slotWords);
 * writeTopOfBook(f64, 0, layout, frame, 0);
 * frame[FRAME_MID]; // 100
 * frame[FRAME_SPREAD_BPS]; // 1e4 · 2 / 100 = 200
 * ```
 */
export function writeTopOfBook(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  out: Float64Array,
  outBase: number,
): void {
  if (!(f64[base + BOOK_BID_COUNT] >= 1 && f64[base + BOOK_ASK_COUNT] >= 1)) {
    out[outBase + FRAME_MID] = NOT_A_NUMBER;
    out[outBase + FRAME_SPREAD] = NOT_A_NUMBER;
    out[outBase + FRAME_SPREAD_BPS] = NOT_A_NUMBER;
    out[outBase + FRAME_WEIGHTED_MID] = NOT_A_NUMBER;
    return;
  }
  const pb = f64[base + layout.bidPrice(0)];
  const qb = f64[base + layout.bidSize(0)];
  const pa = f64[base + layout.askPrice(0)];
  const qa = f64[base + layout.askSize(0)];
  const mid = (pb + pa) / 2;
  out[outBase + FRAME_MID] = mid;
  out[outBase + FRAME_SPREAD] = pa - pb;
  out[outBase + FRAME_SPREAD_BPS] = (1e4 * (pa - pb)) / mid;
  const total = qb + qa;
  if (!(total > 0)) {
    out[outBase + FRAME_WEIGHTED_MID] = NOT_A_NUMBER;
    return;
  }
  const i = qb / total;
  out[outBase + FRAME_WEIGHTED_MID] = i * pa + (1 - i) * pb;
}
