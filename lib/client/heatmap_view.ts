/**
 * The liquidity heatmap's price axis: which prices the canvas rows show, and
 * when that must change.
 *
 * A {@linkcode PriceView} maps prices to `rows` canvas rows, highest price
 * at row 0, over `[centre − span/2, centre + span/2]`. The view is kept
 * while the book moves inside it, so each new frame costs one column; it is
 * refitted, and the canvas fully redrawn, only when {@linkcode refitReason}
 * says so:
 *
 * - `"unset"`: no view yet and the newest column has a price;
 * - `"off-centre"`: the newest reference price (mid, or the one best price of
 *   a one-sided book) left the middle 60 % of the visible range, i.e.
 *   |ref − centre| > 0.3 × span;
 * - `"overflow"`: the newest ladder reaches past the view (extent > span/2);
 * - `"shrunk"`: the newest ladder fills under 1/32 of the view (extent < span/64).
 *
 * {@linkcode fitView} then centres on the newest reference price with a half
 * span of 1.1 × the largest distance of a visible column's reference price
 * from it, kept between 1.25 × the ladder's extent and
 * {@linkcode MAX_ZOOM_OUT} × that extent: the recent path of the price stays
 * on screen (a book of 20 levels is narrow next to a minute of price moves)
 * without zooming out so far that the book is a line. Right after a fit none
 * of the rules holds, and the 2× gap between the zoom-out limit and the
 * `"shrunk"` rule keeps a ladder whose depth wobbles from refitting every
 * frame.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { HeatmapRing } from "./heatmap_ring.ts";

/** Why the view must be refitted, or `"none"`. */
export type RefitReason = "none" | "unset" | "off-centre" | "overflow" | "shrunk";

/** Fraction of the span the reference price may move from the centre (middle 60 %). */
export const RECENTRE_FRACTION = 0.3;
/** Widest view, in ladder extents per half span. */
export const MAX_ZOOM_OUT = 16;

/**
 * Prices → rows. See the module docs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PriceView } from "./heatmap_view.ts";
 * const view = new PriceView();
 * view.set(100, 10, 100); // 95..105 over 100 rows
 * assert.equal(view.rowOf(105), 0);
 * assert.equal(view.rowOf(100), 50);
 * assert.equal(view.rowOf(94), 110); // below the view: callers clip
 * assert.equal(view.priceAt(50), 100);
 * ```
 */
export class PriceView {
  /** Middle price (NaN: unset). */
  centre = NaN;
  /** Price span of the whole height. */
  span = NaN;
  /** Canvas rows. */
  rows = 0;
  #top = NaN;
  #rowsPerPrice = NaN;

  /** The view has a centre and a span. */
  get valid(): boolean {
    return this.centre === this.centre && this.span > 0 && this.rows > 0;
  }

  /** Highest price shown (row 0's top edge). */
  get high(): number {
    return this.#top;
  }

  /** Lowest price shown. */
  get low(): number {
    return this.#top - this.span;
  }

  /** Set centre, span and row count. */
  set(centre: number, span: number, rows: number): void {
    this.centre = centre;
    this.span = span;
    this.rows = rows;
    this.#top = centre + span / 2;
    this.#rowsPerPrice = rows / span;
  }

  /** Forget the centre and span (keeps the rows). */
  reset(): void {
    this.centre = NaN;
    this.span = NaN;
    this.#top = NaN;
    this.#rowsPerPrice = NaN;
  }

  /** Row of `price` (may be outside 0..rows−1: callers clip); floor of the exact position. */
  rowOf(price: number): number {
    return Math.floor((this.#top - price) * this.#rowsPerPrice);
  }

  /** Price at the top edge of row `row` (fractional rows allowed). */
  priceAt(row: number): number {
    return this.#top - row / this.#rowsPerPrice;
  }
}

/**
 * Whether the view must be refitted for the newest column of `ring`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * import { PriceView, refitReason } from "./heatmap_view.ts";
 * const ring = new HeatmapRing({ capacity: 4, levels: 2 });
 * const view = new PriceView();
 * view.rows = 100;
 * assert.equal(refitReason(ring, view), "none"); // nothing to show
 * ring.push({ time: 0, bidPrices: [99, 98], bidSizes: [1, 1], askPrices: [101, 102], askSizes: [1, 1] });
 * assert.equal(refitReason(ring, view), "unset");
 * view.set(100, 10, 100);
 * assert.equal(refitReason(ring, view), "none");
 * view.set(103.1, 10, 100); // mid 100 is 3.1 from the centre: outside the middle 60 %
 * assert.equal(refitReason(ring, view), "off-centre");
 * ```
 */
export function refitReason(ring: HeatmapRing, view: PriceView): RefitReason {
  const s = ring.newest;
  if (s < 0) return "none";
  const ref = ring.reference(s);
  if (ref !== ref) return "none"; // an empty book: keep whatever is shown
  if (!view.valid) return "unset";
  if (Math.abs(ref - view.centre) > RECENTRE_FRACTION * view.span) return "off-centre";
  const e = ring.extent(s, view.centre);
  if (e > view.span / 2) return "overflow";
  if (e > 0 && e < view.span / (4 * MAX_ZOOM_OUT)) return "shrunk";
  return "none";
}

/**
 * Fit `view` (its `rows` kept) to the newest `visible` columns of `ring`.
 * Returns false (view unchanged) when the newest column is an empty book.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * import { fitView, PriceView, refitReason } from "./heatmap_view.ts";
 * const ring = new HeatmapRing({ capacity: 4, levels: 2 });
 * ring.push({ time: 0, bidPrices: [99, 98], bidSizes: [1, 1], askPrices: [101, 102], askSizes: [1, 1] });
 * const view = new PriceView();
 * view.rows = 200;
 * assert.ok(fitView(ring, view, 4));
 * assert.equal(view.centre, 100);
 * assert.equal(refitReason(ring, view), "none");
 * ```
 */
export function fitView(ring: HeatmapRing, view: PriceView, visible: number): boolean {
  const s = ring.newest;
  if (s < 0) return false;
  const centre = ring.reference(s);
  if (centre !== centre) return false;
  let extent = ring.extent(s, centre);
  // A single level (or a crossed quote) has no extent: show ±1 bp around it.
  if (!(extent > 0)) extent = Math.max(Math.abs(centre) * 1e-4, 1e-12);
  let dev = 0;
  const n = Math.min(visible, ring.size);
  for (let k = ring.size - n; k < ring.size; k++) {
    const r = ring.reference(ring.slot(k));
    if (r === r) dev = Math.max(dev, Math.abs(r - centre));
  }
  const half = Math.min(MAX_ZOOM_OUT * extent, Math.max(extent * 1.25, 1.1 * dev));
  view.set(centre, 2 * half, view.rows);
  return true;
}

/**
 * Round price steps for `count` or so axis labels over `[low, high]`: the
 * step is 1, 2 or 5 × 10^k. Writes the label prices (highest first) into
 * `out` and returns how many (at most `out.length`). Allocates nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { axisTicks } from "./heatmap_view.ts";
 * const out = new Float64Array(8);
 * const n = axisTicks(99.3, 100.7, 4, out);
 * assert.deepEqual([...out.subarray(0, n)], [100.5, 100, 99.5]);
 * ```
 */
export function axisTicks(low: number, high: number, count: number, out: Float64Array): number {
  const range = high - low;
  if (!(range > 0) || !(count > 0)) return 0;
  const raw = range / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  let n = 0;
  for (let i = Math.floor(high / step); i * step >= low && n < out.length; i--) {
    if (i * step <= high) out[n++] = Number((i * step).toPrecision(12));
  }
  return n;
}
