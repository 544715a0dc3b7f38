/**
 * Slippage of a market order for a notional N in quote currency, walking the
 * visible levels of a book slot.
 *
 * A buy walks the asks, a sell the bids. Each level supplies up to price·size
 * of quote; the last level is taken partially. VWAP = quote spent / base
 * filled. Both directions are reported positive when costly:
 * - buy:  slippage_bps = 1e4 · (VWAP − mid) / mid
 * - sell: slippage_bps = 1e4 · (mid − VWAP) / mid
 *
 * Whole levels add their price·size and size as they are (compensated sums);
 * only the level that completes N adds (N − quote so far) / price of base.
 * When N exceeds the visible side, {@link BookWalk.exceeds} is set and the
 * slippage is that of the visible part (a lower bound of the true cost);
 * {@link BookWalk.filledQuote} is then the sum of price·size over the visible
 * side (never N − a remainder, which would round to N's ulp).
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "Slippage".
 *
 * @example
 * ```ts
 * import { BookWalk, Trade, walkBook } from "./slippage.ts";
 * import { BookSlotLayout, BOOK_ASK_COUNT } from "../pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(2);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[layout.askPrice(0)] = 100; f64[layout.askSize(0)] = 1;
 * f64[layout.askPrice(1)] = 101; f64[layout.askSize(1)] = 10; f64[BOOK_ASK_COUNT] = 2;
 * const walk = walkBook(f64, 0, layout, Trade.Buy, 201, new BookWalk());
 * walk.vwap; // 201 quote for 1 + 1 base = 100.5
 * 1e4 * (walk.vwap - 99.5) / 99.5; // the buy slippage against a mid of 99.5, ≈ 100.5 bps
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";
import { FRAME_MID, type FrameSlotLayout, slippageExceedsBit } from "../pipeline/frame_slot.ts";

/** NaN for branches that rarely run, as a module constant V8 folds (see `analyser.ts`). */
const NOT_A_NUMBER = NaN;

/** Direction of a market order. */
export const Trade = {
  /** Buy: takes the asks. */
  Buy: 0,
  /** Sell: takes the bids. */
  Sell: 1,
} as const;

/** One of the {@link Trade} values. */
export type Trade = typeof Trade[keyof typeof Trade];

/**
 * Result of one walk, reused between calls so the hot path allocates nothing.
 *
 * @example
 * ```ts
 * import { BookWalk } from "./slippage.ts";
 * const walk = new BookWalk(); // vwap NaN, nothing filled
 * ```
 */
export class BookWalk {
  /** Volume-weighted average price of the filled part; NaN when nothing filled. */
  vwap = NaN;
  /** Quote amount filled from the visible levels (≤ notional). */
  filledQuote = 0;
  /** Base amount filled. */
  filledBase = 0;
  /** The notional is larger than the visible side. */
  exceeds = false;
}

/**
 * Walks the side a `trade` takes for `notional` quote and stores VWAP, fill
 * and the exceed flag in `walk`.
 *
 * @example
 * ```ts
 * import { BookWalk, Trade, walkBook } from "./slippage.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * const book = new LocalBook();
 * book.loadSnapshot([[100, 50], [99, 100]], [[101, 10]]);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout);
 * const walk = walkBook(f64, 0, layout, Trade.Sell, 1e4, new BookWalk());
 * walk.filledBase; // 5000 / 100 + 5000 / 99 ≈ 100.505
 * walk.vwap; // 1e4 / 100.505 ≈ 99.4975
 * walk.exceeds; // false: the bids hold 14 900 of quote
 * ```
 */
export function walkBook(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  trade: Trade,
  notional: number,
  walk: BookWalk,
): BookWalk {
  const buy = trade === Trade.Buy;
  const n = Math.min(f64[base + (buy ? BOOK_ASK_COUNT : BOOK_BID_COUNT)], layout.levels);
  const start = base + (buy ? layout.asksStart : layout.bidsStart);
  // Whole levels add their price·size and their size as they are; only the
  // last level, taken partially, adds a difference (notional − spent so far,
  // then below that level's price·size). Deriving the fill as notional −
  // remainder instead rounds it to the notional's ulp (0.125 at 1e15). Both
  // sums are compensated (Neumaier: `quoteErr`/`baseErr` carry what each
  // addition rounded away), so a fill is within a few ulps of the exact sum
  // of the decimal levels: see docs/analytics.md, "Slippage".
  let quote = 0, quoteErr = 0, baseSum = 0, baseErr = 0;
  let exceeds = true;
  for (let i = 0; i < n; i++) {
    const p = f64[start + 2 * i];
    const size = f64[start + 2 * i + 1];
    const levelQuote = p * size;
    const need = notional - quote - quoteErr;
    // the level's base: all of it, or the part that completes the notional
    const take = levelQuote >= need ? need / p : size;
    const b = baseSum + take;
    baseErr += baseSum >= take ? baseSum - b + take : take - b + baseSum;
    baseSum = b;
    if (levelQuote >= need) {
      exceeds = false;
      break;
    }
    const q = quote + levelQuote;
    quoteErr += quote >= levelQuote ? quote - q + levelQuote : levelQuote - q + quote;
    quote = q;
  }
  const spent = exceeds ? quote + quoteErr : notional;
  const got = baseSum + baseErr;
  walk.filledQuote = spent;
  walk.filledBase = got;
  walk.vwap = got > 0 ? spent / got : NOT_A_NUMBER;
  walk.exceeds = exceeds;
  return walk;
}

/**
 * Writes buy and sell slippage (bps and filled quote) for every notional of
 * `frameLayout` into the analytics slot at `out[outBase…]`, against the mid
 * already in the slot (`FRAME_MID`, see `writeTopOfBook`), and returns the
 * slippage exceed flag bits to OR into the frame flags. No double crosses a
 * call boundary, so nothing is boxed.
 *
 * @example
 * ```ts
 * import { BookWalk, writeSlippage } from "./slippage.ts";
 * import { writeTopOfBook } from "./mid_spread.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FrameSlotLayout, slippageExceedsBit } from "../pipeline/frame_slot.ts";
 * const book = new LocalBook();
 * book.loadSnapshot([[99, 200]], [[101, 50], [102, 100]]);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout);
 * const frameLayout = new FrameSlotLayout({ levels: 20, notionals: [1e4, 1e5] });
 * const frame = new Float64Array(frameLayout.slotWords);
 * writeTopOfBook(f64, 0, layout, frame, 0); // mid 100
 * const flags = writeSlippage(f64, 0, layout, frame, 0, frameLayout, new BookWalk());
 * frame[frameLayout.slippageBuyBps(0)]; // 50 + 4950 / 102 ≈ 98.53 base, VWAP ≈ 101.49: ≈ 149.25 bps
 * frame[frameLayout.slippageSellBps(0)]; // VWAP 99: 100 bps
 * frame[frameLayout.slippageBuyFilled(1)]; // 15 250: only that much of 1e5 is visible
 * flags === (slippageExceedsBit(1, 0) | slippageExceedsBit(1, 1)); // true: 1e5 exceeds both sides
 * ```
 */
export function writeSlippage(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  out: Float64Array,
  outBase: number,
  frameLayout: FrameSlotLayout,
  walk: BookWalk,
): number {
  const mid = out[outBase + FRAME_MID];
  const notionals = frameLayout.notionals;
  let flags = 0;
  for (let i = 0; i < notionals.length; i++) {
    walkBook(f64, base, layout, Trade.Buy, +notionals[i], walk);
    out[outBase + frameLayout.slippageBuyBps(i)] = (1e4 * (walk.vwap - mid)) / mid;
    out[outBase + frameLayout.slippageBuyFilled(i)] = walk.filledQuote;
    if (walk.exceeds) flags |= slippageExceedsBit(i, 0);
    walkBook(f64, base, layout, Trade.Sell, +notionals[i], walk);
    out[outBase + frameLayout.slippageSellBps(i)] = (1e4 * (mid - walk.vwap)) / mid;
    out[outBase + frameLayout.slippageSellFilled(i)] = walk.filledQuote;
    if (walk.exceeds) flags |= slippageExceedsBit(i, 1);
  }
  return flags;
}
