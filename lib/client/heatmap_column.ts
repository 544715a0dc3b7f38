/**
 * One heatmap column into pixels: the pure, allocation-free core of the
 * liquidity heatmap's drawing, on a `Uint32Array` view of `ImageData`.
 *
 * Each price level covers the rows of its tick band `[price − tick/2,
 * price + tick/2)` (at least one row); where several levels fall in one row
 * (a tick thinner than a row) their sizes add up. Each row then gets the
 * colour of its summed size ({@linkcode SizeScale}), or the background when
 * nothing rests there. The tick is the column's smallest gap between
 * neighbouring levels of one side (else the spread, else one row).
 *
 * The best bid and best ask are drawn over the heat as `lineWidth`-row
 * horizontal runs across the column, joined to the previous column's rows
 * by a vertical run in the column's first pixel column: a step line, drawn
 * with exact colours so it scrolls with the heat when the canvas is blitted.
 * When the spread is thinner than a line, the ask line is lifted to sit
 * right above the bid line, so both stay visible.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { HeatmapRing } from "./heatmap_ring.ts";
import {
  ASK_LINE,
  BID_LINE,
  HEAT_BACKGROUND,
  HEAT_PALETTE,
  type SizeScale,
} from "./heatmap_scale.ts";
import type { PriceView } from "./heatmap_view.ts";

/** A pixel buffer: a `Uint32Array` over RGBA bytes, `width` × `height`, row-major. */
export interface PixelBuffer {
  /** Packed pixels (see `packRgb`). */
  pixels: Uint32Array;
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
}

/** Where and how to draw one column. */
export interface ColumnPlacement {
  /** Left pixel of the column. */
  x: number;
  /** Column width in pixels. */
  width: number;
  /** Thickness of the best bid/ask lines in rows. */
  lineWidth: number;
}

/**
 * The column's tick: the smallest positive gap between neighbouring levels
 * of one side, else the spread, else NaN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * import { columnTick } from "./heatmap_column.ts";
 * const ring = new HeatmapRing({ capacity: 1, levels: 3 });
 * ring.push({ time: 0, bidPrices: [10, 9.5, 9], bidSizes: [1, 1, 1], askPrices: [11], askSizes: [1] });
 * assert.equal(columnTick(ring, ring.newest), 0.5);
 * ```
 */
export function columnTick(ring: HeatmapRing, s: number): number {
  const L = ring.levels;
  const base = s * 2 * L;
  let tick = Infinity;
  const nb = ring.bidCount[s];
  for (let i = 1; i < nb; i++) {
    const g = ring.prices[base + i - 1] - ring.prices[base + i];
    if (g > 0 && g < tick) tick = g;
  }
  const na = ring.askCount[s];
  for (let i = 1; i < na; i++) {
    const g = ring.prices[base + L + i] - ring.prices[base + L + i - 1];
    if (g > 0 && g < tick) tick = g;
  }
  if (tick === Infinity) {
    const spread = ring.bestAsk[s] - ring.bestBid[s];
    return spread > 0 ? spread : NaN;
  }
  return tick;
}

/**
 * Sum the column's sizes into `acc` (one entry per row of `view`, zeroed
 * first). Levels outside the view are skipped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * import { accumulateColumn } from "./heatmap_column.ts";
 * import { PriceView } from "./heatmap_view.ts";
 * const ring = new HeatmapRing({ capacity: 1, levels: 2 });
 * ring.push({ time: 0, bidPrices: [99, 98], bidSizes: [2, 3], askPrices: [101], askSizes: [5] });
 * const view = new PriceView();
 * view.set(100, 4, 4); // one row per price unit: 102..98
 * const acc = new Float32Array(4);
 * accumulateColumn(ring, ring.newest, view, acc);
 * assert.deepEqual([...acc], [5, 0, 2, 3]); // row 0 is 102..101: the ask at 101 ± 0.5
 * ```
 */
export function accumulateColumn(
  ring: HeatmapRing,
  s: number,
  view: PriceView,
  acc: Float32Array,
): void {
  const rows = view.rows;
  acc.fill(0, 0, rows);
  const tick = columnTick(ring, s);
  const half = tick === tick ? tick / 2 : 0;
  const L = ring.levels;
  const base = s * 2 * L;
  addSide(ring, base, ring.bidCount[s], half, view, acc, rows);
  addSide(ring, base + L, ring.askCount[s], half, view, acc, rows);
}

function addSide(
  ring: HeatmapRing,
  at: number,
  count: number,
  half: number,
  view: PriceView,
  acc: Float32Array,
  rows: number,
): void {
  for (let i = 0; i < count; i++) {
    const p = ring.prices[at + i];
    const q = ring.sizes[at + i];
    let r0 = view.rowOf(p + half);
    let r1 = view.rowOf(p - half);
    if (r1 <= r0) r1 = r0 + 1;
    if (r1 <= 0 || r0 >= rows) continue;
    if (r0 < 0) r0 = 0;
    if (r1 > rows) r1 = rows;
    for (let r = r0; r < r1; r++) acc[r] += q;
  }
}

/**
 * Draw column `s` of `ring` into `out` at `place`: heat rows from `acc`
 * (filled here), then the best bid/ask step lines joined to column `prev`
 * (−1: none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * import { drawColumn } from "./heatmap_column.ts";
 * import { BID_LINE, HEAT_BACKGROUND, SizeScale } from "./heatmap_scale.ts";
 * import { PriceView } from "./heatmap_view.ts";
 * const ring = new HeatmapRing({ capacity: 1, levels: 1 });
 * ring.push({ time: 0, bidPrices: [99], bidSizes: [2], askPrices: [], askSizes: [] });
 * const view = new PriceView();
 * view.set(100, 4, 4);
 * const out = { pixels: new Uint32Array(4), width: 1, height: 4 };
 * drawColumn(ring, ring.newest, -1, view, new SizeScale(), new Float32Array(4), out, {
 *   x: 0,
 *   width: 1,
 *   lineWidth: 1,
 * });
 * assert.equal(out.pixels[0], HEAT_BACKGROUND); // nothing rests at 101..102
 * assert.equal(out.pixels[3], BID_LINE); // the best bid's row (99), drawn over its heat
 * ```
 */
export function drawColumn(
  ring: HeatmapRing,
  s: number,
  prev: number,
  view: PriceView,
  scale: SizeScale,
  acc: Float32Array,
  out: PixelBuffer,
  place: ColumnPlacement,
): void {
  const rows = Math.min(view.rows, out.height);
  const px = out.pixels;
  const stride = out.width;
  const x0 = place.x;
  const x1 = x0 + place.width;
  accumulateColumn(ring, s, view, acc);
  for (let r = 0; r < rows; r++) {
    const idx = scale.index(acc[r]);
    const colour = idx < 0 ? HEAT_BACKGROUND : HEAT_PALETTE[idx];
    const row = r * stride;
    for (let x = x0; x < x1; x++) px[row + x] = colour;
  }
  const lw = place.lineWidth;
  const bid = lineTop(ring.bestBid[s], NaN, view, lw);
  const ask = lineTop(ring.bestAsk[s], bid, view, lw);
  const prevBid = prev >= 0 ? lineTop(ring.bestBid[prev], NaN, view, lw) : NaN;
  const prevAsk = prev >= 0 ? lineTop(ring.bestAsk[prev], prevBid, view, lw) : NaN;
  drawStep(out, rows, bid, prevBid, x0, x1, lw, BID_LINE);
  drawStep(out, rows, ask, prevAsk, x0, x1, lw, ASK_LINE);
}

/**
 * Top row of a best-price line, NaN without a price. The ask line sits at
 * least one line above the bid line (`bidTop`), so both stay visible when
 * the spread is thinner than a row.
 */
function lineTop(price: number, bidTop: number, view: PriceView, lineWidth: number): number {
  if (price !== price) return NaN;
  const top = view.rowOf(price) - (lineWidth >> 1);
  return bidTop === bidTop && top > bidTop - lineWidth ? bidTop - lineWidth : top;
}

function drawStep(
  out: PixelBuffer,
  rows: number,
  top: number,
  prevTop: number,
  x0: number,
  x1: number,
  lineWidth: number,
  colour: number,
): void {
  if (top !== top) return;
  const px = out.pixels;
  const stride = out.width;
  const r0 = Math.max(0, top);
  const r1 = Math.min(rows, top + lineWidth);
  for (let r = r0; r < r1; r++) {
    const row = r * stride;
    for (let x = x0; x < x1; x++) px[row + x] = colour;
  }
  if (prevTop !== prevTop) return;
  const v0 = Math.max(0, Math.min(prevTop, top));
  const v1 = Math.min(rows, Math.max(prevTop, top) + lineWidth);
  const w = Math.min(x1 - x0, lineWidth);
  for (let r = v0; r < v1; r++) {
    const row = r * stride;
    for (let x = x0; x < x0 + w; x++) px[row + x] = colour;
  }
}
