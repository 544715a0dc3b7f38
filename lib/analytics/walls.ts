/**
 * Walls: visible levels whose size is at least k × the median visible size.
 *
 * The median is taken over the sizes of all visible levels of both sides
 * together (one reference for the whole book, so a thin side does not make
 * every level of it a wall); with an even count it is the mean of the two
 * middle sizes. It is computed in a caller-owned scratch array with
 * {@link selectKth}, allocating nothing.
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "Walls".
 *
 * @example
 * ```ts
 * import { writeMedianVisibleSize } from "./walls.ts";
 * import { BookSlotLayout, BOOK_BID_COUNT, BOOK_ASK_COUNT } from "../pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(2);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[layout.bidPrice(0)] = 99; f64[layout.bidSize(0)] = 1;
 * f64[layout.bidPrice(1)] = 98; f64[layout.bidSize(1)] = 3; f64[BOOK_BID_COUNT] = 2;
 * f64[layout.askPrice(0)] = 101; f64[layout.askSize(0)] = 20; f64[BOOK_ASK_COUNT] = 1;
 * const out = new Float64Array(1);
 * writeMedianVisibleSize(f64, 0, layout, new Float64Array(4), out, 0); // out[0] = 3
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";
import { selectKth } from "./select.ts";
import { Side } from "./side.ts";

/** NaN for branches that rarely run, as a module constant V8 folds (see `analyser.ts`). */
const NOT_A_NUMBER = NaN;

/** Default wall factor k. */
export const DEFAULT_WALL_FACTOR = 5;

/**
 * Writes the median size over the visible levels of both sides to
 * `out[outIndex]`; NaN for an empty book. `scratch` must hold at least
 * 2 × layout.levels values; its contents are overwritten. The analyser uses
 * this form: V8 boxes a double returned from a call it does not inline into a
 * new HeapNumber (one allocation per call).
 *
 * @throws RangeError when `scratch` is too small.
 * @example
 * ```ts
 * import { writeMedianVisibleSize } from "./walls.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * const book = new LocalBook();
 * book.loadSnapshot([[99, 1], [98, 3]], [[101, 20]]);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout);
 * const scratch = new Float64Array(2 * layout.levels);
 * const thresholds = new Float64Array(1);
 * writeMedianVisibleSize(f64, 0, layout, scratch, thresholds, 0);
 * thresholds[0]; // 3, the median of sizes 1, 3, 20
 * ```
 */
export function writeMedianVisibleSize(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  scratch: Float64Array,
  out: Float64Array,
  outIndex: number,
): void {
  if (scratch.length < 2 * layout.levels) {
    throw new RangeError(
      `scratch must hold at least ${2 * layout.levels} values, got ${scratch.length}`,
    );
  }
  const nb = Math.min(f64[base + BOOK_BID_COUNT], layout.levels);
  const na = Math.min(f64[base + BOOK_ASK_COUNT], layout.levels);
  let n = 0;
  for (let i = 0; i < nb; i++) scratch[n++] = f64[base + layout.bidSize(i)];
  for (let i = 0; i < na; i++) scratch[n++] = f64[base + layout.askSize(i)];
  if (n === 0) {
    out[outIndex] = NOT_A_NUMBER;
    return;
  }
  const k = n >>> 1;
  const upper = selectKth(scratch, n, k);
  if (n & 1) {
    out[outIndex] = upper;
    return;
  }
  // After selection every value before index k is ≤ upper: the lower middle is their maximum.
  let lower = scratch[0];
  for (let i = 1; i < k; i++) if (scratch[i] > lower) lower = scratch[i];
  out[outIndex] = (lower + upper) / 2;
}

/**
 * Counts the levels of `side` with size ≥ the threshold
 * `thresholds[thresholdIndex]` and writes the largest `maxWalls` of them as
 * (price, size) pairs into `out` from word `outBase`, largest first (ties keep
 * book order, best price first); unused pairs become NaN. Returns the count
 * (which may exceed `maxWalls`). A NaN threshold finds no walls. The
 * threshold is read from a typed array because V8 boxes a double passed to a
 * call it does not inline into a new HeapNumber (one allocation per call).
 *
 * @example
 * ```ts
 * import { findWallsFrom } from "./walls.ts";
 * import { Side } from "./side.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * const book = new LocalBook();
 * book.loadSnapshot([[99, 1], [98, 3]], [[101, 20], [102, 2], [103, 40]]);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout);
 * const walls = new Float64Array(2);
 * findWallsFrom(f64, 0, layout, Side.Ask, new Float64Array([15]), 0, walls, 0, 1); // 2
 * walls; // [103, 40]: the larger of the two walls (101×20, 103×40)
 * ```
 */
export function findWallsFrom(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  side: Side,
  thresholds: Float64Array,
  thresholdIndex: number,
  out: Float64Array,
  outBase: number,
  maxWalls: number,
): number {
  const threshold = thresholds[thresholdIndex];
  for (let k = 0; k < maxWalls; k++) {
    out[outBase + 2 * k] = NaN;
    out[outBase + 2 * k + 1] = NaN;
  }
  const bid = side === Side.Bid;
  const n = Math.min(f64[base + (bid ? BOOK_BID_COUNT : BOOK_ASK_COUNT)], layout.levels);
  const start = base + (bid ? layout.bidsStart : layout.asksStart);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const q = f64[start + 2 * i + 1];
    if (!(q >= threshold)) continue;
    const kept = count < maxWalls ? count : maxWalls;
    count++;
    // Insertion into the kept list, sorted by size descending; NaN slots are empty.
    let pos = kept;
    while (pos > 0 && q > out[outBase + 2 * (pos - 1) + 1]) pos--;
    if (pos >= maxWalls) continue;
    const last = kept < maxWalls ? kept : maxWalls - 1;
    for (let j = last; j > pos; j--) {
      out[outBase + 2 * j] = out[outBase + 2 * (j - 1)];
      out[outBase + 2 * j + 1] = out[outBase + 2 * (j - 1) + 1];
    }
    out[outBase + 2 * pos] = f64[start + 2 * i];
    out[outBase + 2 * pos + 1] = q;
  }
  return count;
}
