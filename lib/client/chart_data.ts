/**
 * Frame → chart data mapping, in plain functions over reused buffers.
 *
 * chart.js with `parsing: false` reads datasets as arrays of `{x, y}` points.
 * A {@linkcode SeriesBuffer} owns such an array plus a pool of point objects;
 * the fill functions overwrite the points in place and set the array length,
 * so once a buffer has grown to its working size, refreshing a chart
 * allocates nothing.
 *
 * Time series use x = seconds relative to the newest frame (≤ 0), so the
 * right edge of every time chart is "now" and x is sorted ascending, which
 * `normalized: true` requires. Values that are not finite become `NaN`
 * (chart.js leaves a gap).
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { FrameRing } from "./frame_ring.ts";

/** One chart point as chart.js reads it with `parsing: false`. */
export interface Point {
  /** x value. */
  x: number;
  /** y value. */
  y: number;
}

/**
 * A dataset's `data` array and the point objects it reuses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SeriesBuffer } from "./chart_data.ts";
 * const s = new SeriesBuffer();
 * s.set(0, 1, 2);
 * s.truncate(1);
 * assert.deepEqual(s.data, [{ x: 1, y: 2 }]);
 * ```
 */
export class SeriesBuffer {
  /** The array to hand to chart.js as `dataset.data` (kept for the buffer's life). */
  readonly data: Point[] = [];
  readonly #pool: Point[] = [];

  /** Set point `k` to (x, y), reusing its object. Points must be set in order from 0. */
  set(k: number, x: number, y: number): void {
    let p = this.#pool[k];
    if (p === undefined) {
      p = { x: 0, y: 0 };
      this.#pool[k] = p;
    }
    p.x = x;
    p.y = y;
    this.data[k] = p;
  }

  /** Keep the first `n` points. */
  truncate(n: number): void {
    if (this.data.length !== n) this.data.length = n;
  }
}

function finiteOrNaN(v: number): number {
  return Number.isFinite(v) ? v : NaN;
}

/**
 * Fill `out` with one column of `ring`, oldest first, x in seconds relative
 * to the newest frame. Frames whose time is not finite are skipped. Returns
 * the number of points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fillSeries, SeriesBuffer } from "./chart_data.ts";
 * import { FrameRing } from "./frame_ring.ts";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * const ring = new FrameRing();
 * const f = emptyDashFrame("BTCUSDT");
 * f.time = 1000; f.mid = 10; ring.push(f);
 * f.time = 1500; f.mid = 11; ring.push(f);
 * const s = new SeriesBuffer();
 * assert.equal(fillSeries(ring, ring.mid, s), 2);
 * assert.deepEqual(s.data, [{ x: -0.5, y: 10 }, { x: 0, y: 11 }]);
 * ```
 *
 * @param ring The frame ring.
 * @param column One of the ring's columns (e.g. `ring.mid`).
 * @param out Buffer to fill.
 * @param scale Multiplier applied to each value. Default 1.
 */
export function fillSeries(
  ring: FrameRing,
  column: Float64Array,
  out: SeriesBuffer,
  scale = 1,
): number {
  const n = ring.size;
  if (n === 0) {
    out.truncate(0);
    return 0;
  }
  const t0 = ring.time[ring.newest];
  let k = 0;
  for (let i = 0; i < n; i++) {
    const s = ring.slot(i);
    const t = ring.time[s];
    if (!Number.isFinite(t)) continue;
    out.set(k++, (t - t0) / 1000, finiteOrNaN(column[s] * scale));
  }
  out.truncate(k);
  return k;
}

/** Which side of the book a depth curve is for. */
export type BookSide = "bid" | "ask";

/**
 * Fill `out` with the cumulative depth curve of one side: at each level's
 * price, the total size from the best level down to it. Points are sorted by
 * ascending price (bids deepest first, asks best first), ready for a
 * stepped line (`stepped: "before"` for bids, `"after"` for asks). Levels
 * with a non-finite price or a non-finite or negative size are skipped.
 * Returns the number of points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fillDepthCurve, SeriesBuffer } from "./chart_data.ts";
 * const s = new SeriesBuffer();
 * fillDepthCurve([100, 99, 98], [1, 2, 3], "bid", s);
 * assert.deepEqual(s.data, [{ x: 98, y: 6 }, { x: 99, y: 3 }, { x: 100, y: 1 }]);
 * ```
 *
 * @param prices Level prices, best first.
 * @param sizes Level sizes, same order.
 * @param side `"bid"` or `"ask"`.
 * @param out Buffer to fill.
 */
export function fillDepthCurve(
  prices: ArrayLike<number>,
  sizes: ArrayLike<number>,
  side: BookSide,
  out: SeriesBuffer,
): number {
  const n = Math.min(prices.length, sizes.length);
  let cum = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!usable(prices[i], sizes[i])) continue;
    cum += sizes[i];
    out.set(k++, prices[i], cum);
  }
  out.truncate(k);
  // Bids were written best (highest price) first; reverse in place so x ascends.
  if (side === "bid") out.data.reverse();
  return k;
}

function usable(price: number, size: number): boolean {
  return Number.isFinite(price) && Number.isFinite(size) && size >= 0;
}
