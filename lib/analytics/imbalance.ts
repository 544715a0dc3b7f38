/**
 * Order-book imbalance over the top N levels of each side:
 * (ΣQb − ΣQa) / (ΣQb + ΣQa), in [−1, 1], positive when bids are heavier.
 *
 * A side with fewer than N levels contributes the levels it has. The result
 * is NaN when either side is empty (a one-sided book is a data condition, not
 * a ±1 signal) or when both sums are 0.
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "Imbalance".
 *
 * @example
 * ```ts
 * import { writeImbalance } from "./imbalance.ts";
 * import { BookSlotLayout, BOOK_BID_COUNT, BOOK_ASK_COUNT } from "../pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(2);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[layout.bidPrice(0)] = 99; f64[layout.bidSize(0)] = 3; f64[BOOK_BID_COUNT] = 1;
 * f64[layout.askPrice(0)] = 101; f64[layout.askSize(0)] = 1; f64[BOOK_ASK_COUNT] = 1;
 * const out = new Float64Array(1);
 * writeImbalance(f64, 0, layout, 5, out, 0); // out[0] = (3 − 1) / (3 + 1) = 0.5
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";

/** NaN for branches that rarely run, as a module constant V8 folds (see `analyser.ts`). */
const NOT_A_NUMBER = NaN;

/**
 * Writes the imbalance over the top `n` levels per side (n ≥ 1) of the book
 * slot at `base` to `out[outIndex]`. The analyser uses this form: V8 boxes a
 * double returned from a call it does not inline into a new HeapNumber (one
 * allocation per call).
 *
 * @example
 * ```ts
 * import { writeImbalance } from "./imbalance.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FRAME_IMBALANCE_5, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const book = new LocalBook();
 * book.loadSnapshot([[99, 3], [98, 2]], [[101, 1], [102, 4]]);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout);
 * const frame = new Float64Array(new FrameSlotLayout({ levels: 20 }).slotWords);
 * writeImbalance(f64, 0, layout, 5, frame, FRAME_IMBALANCE_5);
 * frame[FRAME_IMBALANCE_5]; // (5 − 5) / (5 + 5) = 0
 * writeImbalance(f64, 0, layout, 1, frame, FRAME_IMBALANCE_5);
 * frame[FRAME_IMBALANCE_5]; // top level only: (3 − 1) / (3 + 1) = 0.5
 * ```
 */
export function writeImbalance(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  n: number,
  out: Float64Array,
  outIndex: number,
): void {
  const nb = Math.min(n, f64[base + BOOK_BID_COUNT]);
  const na = Math.min(n, f64[base + BOOK_ASK_COUNT]);
  if (!(nb >= 1 && na >= 1)) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  let qb = 0;
  for (let i = 0; i < nb; i++) qb += f64[base + layout.bidSize(i)];
  let qa = 0;
  for (let i = 0; i < na; i++) qa += f64[base + layout.askSize(i)];
  const total = qb + qa;
  if (!(total > 0)) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  out[outIndex] = (qb - qa) / total;
}
