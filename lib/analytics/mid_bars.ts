/**
 * Mid bars: how analytics frames fold into fixed-interval bars, the one
 * definition the server's bar store (`lib/server/bar_store.ts`) and the
 * dashboard's live bars (`lib/client/live_bars.ts`) share.
 *
 * A bar is kept while open in an **accumulator**: {@link ACC_WORDS} float64
 * words at some base of a caller's Float64Array (no object per bar, nothing
 * allocated per frame). The rules, all of them:
 *
 * - **Alignment.** Bars are aligned on the frame's local receive time: bar
 *   `i` of an interval `I` covers `[i·I, (i+1)·I)` epoch ms, so `i =
 *   floor(receiveTime / I)` ({@link barIndex}). Every symbol's bars share the
 *   same boundaries; a 1-minute bar covers exactly six 10-second bars.
 * - **Mid is a step function of time.** The mid prevailing at an instant is
 *   the mid of the newest frame received before it. A bar's **open** is the
 *   mid prevailing at its start, i.e. the previous bar's close; NaN when none
 *   is known yet (the first bar of a symbol, before any two-sided book). Its
 *   **high** and **low** span the open and every finite mid folded into it;
 *   its **close** is the last finite mid folded (the open when none was).
 * - **Bars without frames are flat carries.** A bar in which no frame arrived
 *   (a quiet book or a disconnect) opens, closes, highs and lows at the mid
 *   prevailing, and says it had no frames: its spread, imbalance and OFI are
 *   NaN ({@link barSpreadBps}, {@link barImbalance}, {@link barOfi}). A gap in
 *   the feed therefore shows as a run of flat bars marked "no frames", never
 *   as interpolated prices or as missing time.
 * - **NaN never poisons a bar.** Each quantity folds only its finite values
 *   (a mid only when positive: no book has a mid of 0 or below), with its own
 *   count: a one-sided book (mid and spread NaN) still adds its
 *   imbalance and OFI; a frame whose OFI is NaN (the first after a resync:
 *   `FRAME_FLAG_NO_OFI`) still moves the mid. A quantity with no finite value
 *   in a bar is NaN in that bar, while the bar still counts the frame.
 * - **Means and sums.** Spread (bps) and top-5 imbalance (`imbalance_l5`) are
 *   the arithmetic means of the finite values of the bar's frames (each frame
 *   weighs one, however long its book lasted); OFI is the sum of the frames'
 *   multi-level contributions `e` (the frame's `ofi.e`).
 * - **Merging.** A longer bar is exactly the merge of the shorter bars it
 *   covers ({@link mergeBar}: sums and counts add, high/low widen, the later
 *   close wins), so a store may build 1-minute bars from 10-second ones
 *   without refolding frames.
 * - **Late frames.** A caller folds a frame into the open bar when its bar
 *   index is that bar's, opens later bars when it is later; a frame whose
 *   receive time falls before the open bar (a clock stepped back) is folded
 *   into the open bar: frames are never dropped or folded twice.
 *
 * @example
 * ```ts
 * import {
 *   ACC_WORDS, barImbalance, barIndex, barSpreadBps, foldFrame, openBar, ACC_CLOSE, ACC_HIGH,
 * } from "./mid_bars.ts";
 * const acc = new Float64Array(ACC_WORDS);
 * openBar(acc, 0, barIndex(1_700_000_003_000, 10_000), 100); // the mid prevailing was 100
 * foldFrame(acc, 0, 101, 2, 0.5, 3);
 * foldFrame(acc, 0, NaN, NaN, 0.1, 1); // one-sided: mid and spread NaN
 * acc[ACC_HIGH]; // 101
 * acc[ACC_CLOSE]; // 101
 * barSpreadBps(acc, 0); // 2
 * barImbalance(acc, 0); // 0.3
 * ```
 * @module
 */

import {
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI,
  FRAME_SPREAD_BPS,
} from "../pipeline/frame_slot.ts";

/** Interval of the short bars, ms (10 seconds). */
export const BAR_10S_MS = 10_000;
/** Interval of the long bars, ms (1 minute). */
export const BAR_1M_MS = 60_000;

/** Accumulator word: the bar's index (`floor(time / interval)`); NaN while no bar is open. */
export const ACC_INDEX = 0;
/** Accumulator word: the mid prevailing at the bar's start (NaN when unknown). */
export const ACC_OPEN = 1;
/** Accumulator word: the highest of the open and the finite mids folded. */
export const ACC_HIGH = 2;
/** Accumulator word: the lowest of the open and the finite mids folded. */
export const ACC_LOW = 3;
/** Accumulator word: the last finite mid folded, else the open. */
export const ACC_CLOSE = 4;
/** Accumulator word: Σ finite spread (bps). */
export const ACC_SPREAD_SUM = 5;
/** Accumulator word: how many finite spreads. */
export const ACC_SPREAD_N = 6;
/** Accumulator word: Σ finite top-5 imbalance. */
export const ACC_IMBALANCE_SUM = 7;
/** Accumulator word: how many finite imbalances. */
export const ACC_IMBALANCE_N = 8;
/** Accumulator word: Σ finite OFI contributions e. */
export const ACC_OFI_SUM = 9;
/** Accumulator word: how many finite OFI contributions. */
export const ACC_OFI_N = 10;
/** Accumulator word: frames folded (whatever their values). */
export const ACC_FRAMES = 11;
/** Words of one accumulator. */
export const ACC_WORDS = 12;

/**
 * The index of the bar of interval `intervalMs` holding time `timeMs`
 * (`floor(timeMs / intervalMs)`; the bar starts at `index · intervalMs`).
 *
 * @example
 * ```ts
 * import { barIndex } from "./mid_bars.ts";
 * barIndex(25_000, 10_000); // 2: the bar [20 s, 30 s)
 * ```
 */
export function barIndex(timeMs: number, intervalMs: number): number {
  return Math.floor(timeMs / intervalMs);
}

/**
 * Open bar `index` in the accumulator at `base`: open, high, low and close
 * at `prevailingMid` (NaN when none is known), every sum and count 0.
 *
 * @example
 * ```ts
 * import { ACC_WORDS, ACC_FRAMES, openBar } from "./mid_bars.ts";
 * const acc = new Float64Array(ACC_WORDS);
 * openBar(acc, 0, 7, 100);
 * acc[ACC_FRAMES]; // 0
 * ```
 */
export function openBar(
  acc: Float64Array,
  base: number,
  index: number,
  prevailingMid: number,
): void {
  const mid = Number.isFinite(prevailingMid) ? prevailingMid : NaN;
  acc[base + ACC_INDEX] = index;
  acc[base + ACC_OPEN] = mid;
  acc[base + ACC_HIGH] = mid;
  acc[base + ACC_LOW] = mid;
  acc[base + ACC_CLOSE] = mid;
  acc[base + ACC_SPREAD_SUM] = 0;
  acc[base + ACC_SPREAD_N] = 0;
  acc[base + ACC_IMBALANCE_SUM] = 0;
  acc[base + ACC_IMBALANCE_N] = 0;
  acc[base + ACC_OFI_SUM] = 0;
  acc[base + ACC_OFI_N] = 0;
  acc[base + ACC_FRAMES] = 0;
}

/**
 * Fold one frame's values into the open bar at `base` (the caller decided
 * it is this bar's frame). Non-finite values (and a mid that is not
 * positive) are skipped, each on its own.
 * Allocates nothing.
 *
 * @example
 * ```ts
 * import { ACC_WORDS, ACC_LOW, foldFrame, openBar } from "./mid_bars.ts";
 * const acc = new Float64Array(ACC_WORDS);
 * openBar(acc, 0, 0, NaN);
 * foldFrame(acc, 0, 99.5, 1.2, -0.2, 4);
 * acc[ACC_LOW]; // 99.5
 * ```
 *
 * @param mid the frame's mid.
 * @param spreadBps its spread in bps.
 * @param imbalance its top-5 imbalance.
 * @param ofi its multi-level OFI contribution e.
 */
export function foldFrame(
  acc: Float64Array,
  base: number,
  mid: number,
  spreadBps: number,
  imbalance: number,
  ofi: number,
): void {
  if (mid > 0 && mid < Infinity) {
    // `!(a >= b)` is also true when a is NaN (no mid known yet).
    if (!(acc[base + ACC_HIGH] >= mid)) acc[base + ACC_HIGH] = mid;
    if (!(acc[base + ACC_LOW] <= mid)) acc[base + ACC_LOW] = mid;
    acc[base + ACC_CLOSE] = mid;
  }
  if (Number.isFinite(spreadBps)) {
    acc[base + ACC_SPREAD_SUM] += spreadBps;
    acc[base + ACC_SPREAD_N]++;
  }
  if (Number.isFinite(imbalance)) {
    acc[base + ACC_IMBALANCE_SUM] += imbalance;
    acc[base + ACC_IMBALANCE_N]++;
  }
  if (Number.isFinite(ofi)) {
    acc[base + ACC_OFI_SUM] += ofi;
    acc[base + ACC_OFI_N]++;
  }
  acc[base + ACC_FRAMES]++;
}

/**
 * Fold the analytics frame at word `frameBase` of `f64` (mid, spread bps,
 * `imbalance_l5`, OFI e) into the open bar at `base`.
 *
 * @example
 * ```ts
 * import { ACC_CLOSE, ACC_WORDS, foldAnalyticsFrame, openBar } from "./mid_bars.ts";
 * import { FRAME_MID, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const frame = new Float64Array(new FrameSlotLayout().slotWords).fill(NaN);
 * frame[FRAME_MID] = 42;
 * const acc = new Float64Array(ACC_WORDS);
 * openBar(acc, 0, 0, NaN);
 * foldAnalyticsFrame(acc, 0, frame, 0);
 * acc[ACC_CLOSE]; // 42
 * ```
 */
export function foldAnalyticsFrame(
  acc: Float64Array,
  base: number,
  f64: Float64Array,
  frameBase: number,
): void {
  foldFrame(
    acc,
    base,
    f64[frameBase + FRAME_MID],
    f64[frameBase + FRAME_SPREAD_BPS],
    f64[frameBase + FRAME_IMBALANCE_5],
    f64[frameBase + FRAME_OFI],
  );
}

/**
 * Merge the bar at `srcBase` of `src` (a later, shorter bar inside the bar
 * at `dstBase` of `dst`) into that bar: sums and counts add, high and low
 * widen, a finite close replaces the close. The bar index of `dst` is kept.
 *
 * @example
 * ```ts
 * import { ACC_FRAMES, ACC_WORDS, foldFrame, mergeBar, openBar } from "./mid_bars.ts";
 * const minute = new Float64Array(ACC_WORDS);
 * const tenSeconds = new Float64Array(ACC_WORDS);
 * openBar(minute, 0, 0, 100);
 * openBar(tenSeconds, 0, 0, 100);
 * foldFrame(tenSeconds, 0, 101, 1, 0, 2);
 * mergeBar(minute, 0, tenSeconds, 0);
 * minute[ACC_FRAMES]; // 1
 * ```
 */
export function mergeBar(
  dst: Float64Array,
  dstBase: number,
  src: Float64Array,
  srcBase: number,
): void {
  const high = src[srcBase + ACC_HIGH];
  const low = src[srcBase + ACC_LOW];
  const close = src[srcBase + ACC_CLOSE];
  if (!(dst[dstBase + ACC_HIGH] >= high)) {
    if (Number.isFinite(high)) dst[dstBase + ACC_HIGH] = high;
  }
  if (!(dst[dstBase + ACC_LOW] <= low)) {
    if (Number.isFinite(low)) dst[dstBase + ACC_LOW] = low;
  }
  if (Number.isFinite(close)) dst[dstBase + ACC_CLOSE] = close;
  for (let w = ACC_SPREAD_SUM; w <= ACC_FRAMES; w++) dst[dstBase + w] += src[srcBase + w];
}

/**
 * Mean spread (bps) of the bar at `base`: NaN when it folded no finite spread.
 *
 * @example
 * ```ts
 * import { ACC_WORDS, barSpreadBps, openBar } from "./mid_bars.ts";
 * const acc = new Float64Array(ACC_WORDS);
 * openBar(acc, 0, 0, 100);
 * barSpreadBps(acc, 0); // NaN: a flat carry
 * ```
 */
export function barSpreadBps(acc: Float64Array, base: number): number {
  const n = acc[base + ACC_SPREAD_N];
  return n > 0 ? acc[base + ACC_SPREAD_SUM] / n : NaN;
}

/**
 * Mean top-5 imbalance of the bar at `base`: NaN when it folded none.
 *
 * @example
 * ```ts
 * import { ACC_WORDS, barImbalance, foldFrame, openBar } from "./mid_bars.ts";
 * const acc = new Float64Array(ACC_WORDS);
 * openBar(acc, 0, 0, 100);
 * foldFrame(acc, 0, NaN, NaN, 0.25, NaN);
 * barImbalance(acc, 0); // 0.25
 * ```
 */
export function barImbalance(acc: Float64Array, base: number): number {
  const n = acc[base + ACC_IMBALANCE_N];
  return n > 0 ? acc[base + ACC_IMBALANCE_SUM] / n : NaN;
}

/**
 * OFI sum of the bar at `base`: NaN when it folded no finite contribution.
 *
 * @example
 * ```ts
 * import { ACC_WORDS, barOfi, foldFrame, openBar } from "./mid_bars.ts";
 * const acc = new Float64Array(ACC_WORDS);
 * openBar(acc, 0, 0, 100);
 * foldFrame(acc, 0, 100, 1, 0, -3);
 * foldFrame(acc, 0, 100, 1, 0, 5);
 * barOfi(acc, 0); // 2
 * ```
 */
export function barOfi(acc: Float64Array, base: number): number {
  return acc[base + ACC_OFI_N] > 0 ? acc[base + ACC_OFI_SUM] : NaN;
}
