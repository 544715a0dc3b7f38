/**
 * The liquidity heatmap's history in the browser: a fixed, preallocated ring
 * of columns, one per received frame, each column the ladder of that frame
 * (up to `levels` price levels per side, prices and sizes in typed arrays)
 * plus its best bid, best ask and receive time.
 *
 * The ring is the heatmap's only history. The server keeps ladders for the
 * newest frame of each symbol only (`lib/server/history_store.ts`) and holds
 * nothing per symbol for the heatmap, so a page starts with one column (the
 * seed's newest frame) and fills the rest from the live frames it receives.
 *
 * Memory: `capacity × levels × 2 sides × (8 + 4)` bytes of ladder plus
 * `capacity × 28` bytes of per-column numbers; at the defaults (600 columns
 * = 60 s at 10 frames/s, 20 levels) 304,800 bytes per page, allocated once.
 * {@linkcode HeatmapRing.push} copies a frame in O(levels) and allocates
 * nothing; levels deeper than `levels` are dropped (ladders are best first,
 * so the levels nearest the touch are kept).
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * const ring = new HeatmapRing({ capacity: 2, levels: 5 });
 * ring.push({ time: 1, bidPrices: [99], bidSizes: [3], askPrices: [101], askSizes: [4] });
 * const s = ring.newest;
 * assert.equal(ring.bestBid[s], 99);
 * assert.equal(ring.reference(s), 100);
 * ```
 *
 * @module
 */
import { RingIndex } from "./ring_index.ts";

/** What a column is made from: a frame's time and ladder (a `DashFrame` fits). */
export interface LadderSource {
  /** Receive time, epoch ms. */
  time: number;
  /** Bid prices, best (highest) first. */
  bidPrices: ArrayLike<number>;
  /** Bid sizes, same order. */
  bidSizes: ArrayLike<number>;
  /** Ask prices, best (lowest) first. */
  askPrices: ArrayLike<number>;
  /** Ask sizes, same order. */
  askSizes: ArrayLike<number>;
}

/** Options of {@linkcode HeatmapRing}. */
export interface HeatmapRingOptions {
  /** Columns kept (frames). Default 600: 60 s at 10 frames/s. */
  capacity?: number;
  /** Price levels kept per side and column; deeper levels are dropped. Default 20. */
  levels?: number;
}

/** Default columns of the heatmap ring. */
export const DEFAULT_HEATMAP_COLUMNS = 600;
/** Default levels per side of each heatmap column. */
export const DEFAULT_HEATMAP_LEVELS = 20;

/**
 * Fixed ring of ladder columns. See the module docs.
 *
 * Column `s` (a slot from {@linkcode HeatmapRing.slot}) keeps its levels in
 * `prices`/`sizes` at `s × 2 × levels`: bids from offset 0 (`bidCount[s]` of
 * them, best first), asks from offset `levels` (`askCount[s]`, best first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * const ring = new HeatmapRing({ capacity: 3, levels: 2 });
 * for (let t = 0; t < 5; t++) {
 *   ring.push({ time: t, bidPrices: [10 + t], bidSizes: [1], askPrices: [], askSizes: [] });
 * }
 * assert.equal(ring.size, 3);
 * assert.equal(ring.time[ring.slot(0)], 2); // the oldest kept
 * assert.ok(Number.isNaN(ring.bestAsk[ring.newest])); // a one-sided book
 * ```
 */
export class HeatmapRing extends RingIndex {
  /** Levels kept per side of a column. */
  readonly levels: number;
  /** Level prices, `2 × levels` per column (bids, then asks). */
  readonly prices: Float64Array;
  /** Level sizes, same layout as `prices`. */
  readonly sizes: Float32Array;
  /** Bid levels stored per column. */
  readonly bidCount: Uint16Array;
  /** Ask levels stored per column. */
  readonly askCount: Uint16Array;
  /** Best bid per column (NaN: no bids). */
  readonly bestBid: Float64Array;
  /** Best ask per column (NaN: no asks). */
  readonly bestAsk: Float64Array;
  /** Receive time per column, epoch ms. */
  readonly time: Float64Array;

  /**
   * Allocates every column, empty.
   *
   * @param options See {@linkcode HeatmapRingOptions}.
   * @throws RangeError when `capacity` is not an integer from 1 to 100,000 or
   * `levels` not an integer from 1 to 5,000.
   */
  constructor(options: HeatmapRingOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_HEATMAP_COLUMNS;
    const levels = options.levels ?? DEFAULT_HEATMAP_LEVELS;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100_000) {
      throw new RangeError(
        `heatmap capacity must be an integer from 1 to 100000 columns, got ${capacity}`,
      );
    }
    if (!Number.isInteger(levels) || levels < 1 || levels > 5_000) {
      throw new RangeError(`heatmap levels must be an integer from 1 to 5000, got ${levels}`);
    }
    super(capacity);
    this.levels = levels;
    this.prices = new Float64Array(capacity * 2 * levels);
    this.sizes = new Float32Array(capacity * 2 * levels);
    this.bidCount = new Uint16Array(capacity);
    this.askCount = new Uint16Array(capacity);
    this.bestBid = new Float64Array(capacity);
    this.bestAsk = new Float64Array(capacity);
    this.time = new Float64Array(capacity);
  }

  /**
   * The column's reference price: the mid when both sides have levels, the
   * one best price of a one-sided book, NaN for an empty book.
   */
  reference(s: number): number {
    const b = this.bestBid[s];
    const a = this.bestAsk[s];
    if (b === b && a === a) return (a + b) / 2;
    if (b === b) return b;
    return a;
  }

  /**
   * Half the price extent of the column's ladder around `centre`: the larger
   * of centre − deepest bid and deepest ask − centre (0 for an empty book).
   */
  extent(s: number, centre: number): number {
    const base = s * 2 * this.levels;
    const nb = this.bidCount[s];
    const na = this.askCount[s];
    let e = 0;
    if (nb > 0) e = Math.max(e, Math.abs(centre - this.prices[base + nb - 1]));
    if (na > 0) e = Math.max(e, Math.abs(this.prices[base + this.levels + na - 1] - centre));
    return e;
  }

  /** Append one frame's ladder as the newest column, overwriting the oldest when full. */
  push(f: LadderSource): void {
    const s = this.next;
    const L = this.levels;
    const base = s * 2 * L;
    const nb = copySide(f.bidPrices, f.bidSizes, this.prices, this.sizes, base, L);
    const na = copySide(f.askPrices, f.askSizes, this.prices, this.sizes, base + L, L);
    this.bidCount[s] = nb;
    this.askCount[s] = na;
    this.bestBid[s] = nb > 0 ? this.prices[base] : NaN;
    this.bestAsk[s] = na > 0 ? this.prices[base + L] : NaN;
    this.time[s] = f.time;
    this.advance();
  }
}

/** Copy up to `max` levels with a finite price and a positive size; returns how many. */
function copySide(
  prices: ArrayLike<number>,
  sizes: ArrayLike<number>,
  outPrices: Float64Array,
  outSizes: Float32Array,
  at: number,
  max: number,
): number {
  const n = Math.min(prices.length, sizes.length);
  let k = 0;
  for (let i = 0; i < n && k < max; i++) {
    const p = prices[i];
    const q = sizes[i];
    if (!(p === p && q > 0 && Number.isFinite(p))) continue;
    outPrices[at + k] = p;
    outSizes[at + k] = q;
    k++;
  }
  return k;
}
