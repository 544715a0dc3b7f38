/**
 * Visible depth within a band of X bps around mid, per side.
 *
 * Bids count when price ≥ mid − mid·X/1e4, asks when price ≤ mid + mid·X/1e4
 * (both edges inclusive). Only the levels in the slot are seen: a band wider
 * than the visible book reports the whole visible side. NaN when `mid` is NaN
 * (a one-sided book).
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "Depth bands".
 *
 * @example
 * ```ts
 * import { writeDepthBands } from "./depth_band.ts";
 * import { BookSlotLayout, BOOK_BID_COUNT, BOOK_ASK_COUNT } from "../pipeline/book_slot.ts";
 * import { FRAME_MID, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new BookSlotLayout(2);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[layout.bidPrice(0)] = 99.95; f64[layout.bidSize(0)] = 2;
 * f64[layout.bidPrice(1)] = 99.5; f64[layout.bidSize(1)] = 7; f64[BOOK_BID_COUNT] = 2;
 * const frameLayout = new FrameSlotLayout({ levels: 2 });
 * const out = new Float64Array(frameLayout.slotWords);
 * out[FRAME_MID] = 100;
 * writeDepthBands(f64, 0, layout, out, 0, frameLayout);
 * out[frameLayout.depthBidBase(0)]; // 2 within 10 bps (99.5 is 50 bps away)
 * out[frameLayout.depthBidQuote(0)]; // 199.9
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";
import { DEPTH_BANDS_BPS, FRAME_MID, type FrameSlotLayout } from "../pipeline/frame_slot.ts";

/** NaN for branches that rarely run, as a module constant V8 folds (see `analyser.ts`). */
const NOT_A_NUMBER = NaN;

/**
 * Writes the depth of every band of {@link DEPTH_BANDS_BPS} (bid/ask × base/quote)
 * into the analytics slot at `out[outBase…]`, in one pass per side, around
 * the mid already in the slot (`FRAME_MID`, see `writeTopOfBook`); all NaN
 * when the mid is NaN. No double crosses a call boundary, so nothing is boxed.
 *
 * @example
 * ```ts
 * import { writeDepthBands } from "./depth_band.ts";
 * import { writeTopOfBook } from "./mid_spread.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FRAME_MID, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const book = new LocalBook();
 * book.loadSnapshot([[99.95, 2], [99.8, 3], [99.5, 7]], [[100.05, 1], [100.2, 4], [101, 5]]);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout);
 * const frameLayout = new FrameSlotLayout({ levels: 20 });
 * const frame = new Float64Array(frameLayout.slotWords);
 * writeTopOfBook(f64, 0, layout, frame, 0);
 * frame[FRAME_MID]; // 100
 * writeDepthBands(f64, 0, layout, frame, 0, frameLayout);
 * frame[frameLayout.depthBidBase(0)]; // 2 (10 bps: bids ≥ 99.9)
 * frame[frameLayout.depthAskBase(1)]; // 5 (25 bps: asks ≤ 100.25, 1 + 4)
 * frame[frameLayout.depthBidBase(2)]; // 12 (50 bps: bids ≥ 99.5, edge included)
 * frame[frameLayout.depthBidQuote(0)]; // 199.9
 * ```
 */
export function writeDepthBands(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  out: Float64Array,
  outBase: number,
  frameLayout: FrameSlotLayout,
): void {
  const mid = out[outBase + FRAME_MID];
  const bands = DEPTH_BANDS_BPS.length;
  const fill = mid === mid ? 0 : NOT_A_NUMBER;
  for (let b = 0; b < bands; b++) {
    out[outBase + frameLayout.depthBidBase(b)] = fill;
    out[outBase + frameLayout.depthBidQuote(b)] = fill;
    out[outBase + frameLayout.depthAskBase(b)] = fill;
    out[outBase + frameLayout.depthAskQuote(b)] = fill;
  }
  if (!(mid === mid)) return;
  const nb = Math.min(f64[base + BOOK_BID_COUNT], layout.levels);
  const na = Math.min(f64[base + BOOK_ASK_COUNT], layout.levels);
  addSide(f64, base + layout.bidsStart, nb, false, out, outBase, frameLayout);
  addSide(f64, base + layout.asksStart, na, true, out, outBase, frameLayout);
}

/**
 * Adds the `n` levels of one side, from word `start`, to the bands they lie
 * in: bids at or above mid − offset, asks at or below mid + offset, with
 * offset = mid·X/1e4. Levels are best first, so the walk stops at the first
 * level outside every band. The mid is read from the slot, not passed, so it
 * is not boxed.
 */
function addSide(
  f64: Float64Array,
  start: number,
  n: number,
  ask: boolean,
  out: Float64Array,
  outBase: number,
  frameLayout: FrameSlotLayout,
): void {
  const mid = out[outBase + FRAME_MID];
  const bands = DEPTH_BANDS_BPS.length;
  for (let i = 0; i < n; i++) {
    const p = f64[start + 2 * i];
    const q = f64[start + 2 * i + 1];
    let inside = false;
    for (let b = 0; b < bands; b++) {
      const offset = (mid * DEPTH_BANDS_BPS[b]) / 1e4;
      if (ask ? p <= mid + offset : p >= mid - offset) {
        inside = true;
        out[outBase + (ask ? frameLayout.depthAskBase(b) : frameLayout.depthBidBase(b))] += q;
        out[outBase + (ask ? frameLayout.depthAskQuote(b) : frameLayout.depthBidQuote(b))] += p * q;
      }
    }
    if (!inside) break;
  }
}
