/**
 * Order-flow imbalance (OFI) after Cont, Kukanov and Stoikov (2014), between
 * two consecutive books n−1 (previous) and n (current):
 *
 * ```
 * e = 1{Pb_n ≥ Pb_{n−1}}·Qb_n − 1{Pb_n ≤ Pb_{n−1}}·Qb_{n−1}
 *   − 1{Pa_n ≤ Pa_{n−1}}·Qa_n + 1{Pa_n ≥ Pa_{n−1}}·Qa_{n−1}
 * ```
 *
 * Sign convention: e > 0 is buying pressure (bids added or raised, asks
 * removed or lifted), e < 0 selling pressure. Per side:
 * - bid up: +Qb_n (new best bid); bid same: Qb_n − Qb_{n−1}; bid down: −Qb_{n−1};
 * - ask down: −Qa_n (new best ask); ask same: Qa_{n−1} − Qa_n; ask up: +Qa_{n−1}.
 *
 * Multi-level OFI applies the same formula to level i of the current book and
 * level i of the previous book, and sums over levels 0…levels−1. A side's
 * term at level i ≥ 1 is left out when either book lacks that level; the
 * whole result is NaN when either book lacks a best bid or a best ask.
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "Order-flow imbalance (OFI)".
 *
 * @example
 * ```ts
 * import { askFlow, bidFlow } from "./order_flow.ts";
 * bidFlow(100, 5, 101, 2); // bid up: +2
 * askFlow(102, 4, 102, 1); // ask same, size 4 → 1: +3
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";
import { storedCount } from "../pipeline/level_block.ts";

/** NaN for branches that rarely run, as a module constant V8 folds (see `analyser.ts`). */
const NOT_A_NUMBER = NaN;

/**
 * Bid-side OFI term: 1{p ≥ pPrev}·q − 1{p ≤ pPrev}·qPrev.
 *
 * @example
 * ```ts
 * import { bidFlow } from "./order_flow.ts";
 * bidFlow(100, 5, 99, 7); // bid down: −5
 * ```
 */
export function bidFlow(pPrev: number, qPrev: number, p: number, q: number): number {
  return (p >= pPrev ? q : 0) - (p <= pPrev ? qPrev : 0);
}

/**
 * Ask-side OFI term: −1{p ≤ pPrev}·q + 1{p ≥ pPrev}·qPrev.
 *
 * @example
 * ```ts
 * import { askFlow } from "./order_flow.ts";
 * askFlow(102, 4, 103, 9); // ask up: +4
 * ```
 */
export function askFlow(pPrev: number, qPrev: number, p: number, q: number): number {
  return (p >= pPrev ? qPrev : 0) - (p <= pPrev ? q : 0);
}

/**
 * Writes the OFI contribution e between the previous book slot (`prev` at
 * `prevBase`) and the current one (`cur` at `curBase`), summed over the first
 * `levels` levels (1 = the classic best-level OFI), to `out[outIndex]`. Both
 * slots share `layout`. NaN when either book is missing its best bid or best
 * ask. The per-frame analyser uses this form: V8 boxes a double returned from
 * a call it does not inline into a new HeapNumber, and this function is too
 * big to be inlined into `Analyser.analyse`.
 *
 * @example
 * ```ts
 * import { writeOrderFlowImbalance } from "./order_flow.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FRAME_OFI_L1, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new BookSlotLayout(20);
 * const book = new LocalBook();
 * const prev = new Float64Array(layout.slotWords);
 * book.loadSnapshot([[100, 5]], [[102, 4]]);
 * book.writeTop(prev, 0, layout);
 * const cur = new Float64Array(layout.slotWords);
 * book.loadSnapshot([[101, 2]], [[102, 1]]);
 * book.writeTop(cur, 0, layout);
 * const frame = new Float64Array(new FrameSlotLayout({ levels: 20 }).slotWords);
 * writeOrderFlowImbalance(prev, 0, cur, 0, layout, 1, frame, FRAME_OFI_L1);
 * frame[FRAME_OFI_L1]; // bid up: +2, ask same with size 4 → 1: +3; e = 5
 * ```
 */
export function writeOrderFlowImbalance(
  prev: Float64Array,
  prevBase: number,
  cur: Float64Array,
  curBase: number,
  layout: BookSlotLayout,
  levels: number,
  out: Float64Array,
  outIndex: number,
): void {
  const max = layout.levels;
  const pnb = storedCount(prev[prevBase + BOOK_BID_COUNT], max);
  const pna = storedCount(prev[prevBase + BOOK_ASK_COUNT], max);
  const cnb = storedCount(cur[curBase + BOOK_BID_COUNT], max);
  const cna = storedCount(cur[curBase + BOOK_ASK_COUNT], max);
  if (pnb < 1 || pna < 1 || cnb < 1 || cna < 1) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  const nb = Math.min(levels, pnb, cnb);
  const na = Math.min(levels, pna, cna);
  out[outIndex] = 0;
  addFlow(prev, prevBase, cur, curBase, layout.bidsStart, nb, false, out, outIndex);
  addFlow(prev, prevBase, cur, curBase, layout.asksStart, na, true, out, outIndex);
}

/**
 * Adds the OFI terms of the first `n` levels of one side ({@link bidFlow} or,
 * for `ask`, {@link askFlow}) to `out[outIndex]`; the side's levels start at
 * word `start` of both book slots. The sum stays in the slot so no double
 * crosses the call.
 */
function addFlow(
  prev: Float64Array,
  prevBase: number,
  cur: Float64Array,
  curBase: number,
  start: number,
  n: number,
  ask: boolean,
  out: Float64Array,
  outIndex: number,
): void {
  let e = out[outIndex];
  for (let i = 0; i < n; i++) {
    const pPrev = prev[prevBase + start + 2 * i];
    const qPrev = prev[prevBase + start + 2 * i + 1];
    const p = cur[curBase + start + 2 * i];
    const q = cur[curBase + start + 2 * i + 1];
    e += ask ? askFlow(pPrev, qPrev, p, q) : bidFlow(pPrev, qPrev, p, q);
  }
  out[outIndex] = e;
}
