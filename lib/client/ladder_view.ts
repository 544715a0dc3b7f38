/**
 * The order-book ladder's view model: a fixed number of rows per side (so
 * the ladder never changes height), each with its size bar as a fraction of
 * the largest size shown, its cumulative size, and whether it is a wall.
 *
 * Display order: asks from the farthest shown down to the best ask, then the
 * spread row, then bids from the best down. Rows past the book's depth are
 * kept with `present: false` and render blank.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { DashFrame } from "./dash_frame.ts";

/** One ladder row. */
export interface LadderRow {
  /** The row holds a level (false: blank filler row). */
  present: boolean;
  /** Level price. */
  price: number;
  /** Level size. */
  size: number;
  /** Σ size from the best level to this one. */
  total: number;
  /** size / largest size shown on either side, 0..1. */
  bar: number;
  /** size ≥ the frame's wall threshold. */
  wall: boolean;
  /** Consolidated instrument: the member (index into `DashFrame.venues`) of the level; -1 otherwise. */
  venue: number;
}

/** The whole ladder. */
export interface LadderModel {
  /** Rows per side. */
  readonly rows: number;
  /** Ask rows in display order (farthest first, best ask last). */
  readonly asks: LadderRow[];
  /** Bid rows in display order (best bid first). */
  readonly bids: LadderRow[];
  /** Best ask − best bid (NaN when a side is empty). */
  spread: number;
  /** Spread in bps of mid. */
  spreadBps: number;
  /** Mid price. */
  mid: number;
  /** Largest size shown (the full bar). */
  maxSize: number;
}

function blankRow(): LadderRow {
  return { present: false, price: NaN, size: NaN, total: NaN, bar: 0, wall: false, venue: -1 };
}

/**
 * A ladder with `rows` blank rows per side.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLadder } from "./ladder_view.ts";
 * const l = createLadder(10);
 * assert.equal(l.asks.length, 10);
 * assert.equal(l.bids[0].present, false);
 * ```
 *
 * @throws RangeError when `rows` is not an integer from 1 to 1000.
 */
export function createLadder(rows: number): LadderModel {
  if (!Number.isInteger(rows) || rows < 1 || rows > 1000) {
    throw new RangeError(`ladder rows must be an integer from 1 to 1000, got ${rows}`);
  }
  return {
    rows,
    asks: Array.from({ length: rows }, blankRow),
    bids: Array.from({ length: rows }, blankRow),
    spread: NaN,
    spreadBps: NaN,
    mid: NaN,
    maxSize: NaN,
  };
}

function setRow(
  row: LadderRow,
  price: number,
  size: number,
  total: number,
  wall: number,
  venue: number,
) {
  row.present = true;
  row.venue = venue;
  row.price = price;
  row.size = size;
  row.total = total;
  row.wall = size >= wall; // false when the threshold is NaN
}

function clearRow(row: LadderRow) {
  row.present = false;
  row.price = NaN;
  row.size = NaN;
  row.total = NaN;
  row.bar = 0;
  row.wall = false;
  row.venue = -1;
}

/**
 * Fills the rows of one side with its first `count` levels and their running
 * totals (best level first; `reversed` puts it in the last row) and blanks
 * the rest. Returns the side's largest size, 0 when it has none.
 */
function fillSide(
  rows: LadderRow[],
  reversed: boolean,
  count: number,
  prices: readonly number[],
  sizes: readonly number[],
  wall: number,
  venues: readonly number[],
): number {
  const n = rows.length;
  let max = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[reversed ? n - 1 - i : i];
    if (i < count) {
      const size = sizes[i];
      total += size;
      setRow(row, prices[i], size, total, wall, i < venues.length ? venues[i] : -1);
      if (size > max) max = size;
    } else clearRow(row);
  }
  return max;
}

/**
 * Fill `ladder` from `frame` in place (no allocation) and return it. `null`
 * blanks every row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLadder, fillLadder } from "./ladder_view.ts";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * const f = emptyDashFrame("BTCUSDT");
 * f.bidPrices.push(99, 98); f.bidSizes.push(1, 4);
 * f.askPrices.push(101); f.askSizes.push(2);
 * const l = fillLadder(f, createLadder(2));
 * assert.deepEqual(l.bids.map((r) => r.total), [1, 5]);
 * assert.equal(l.asks[1].price, 101); // best ask sits next to the spread row
 * assert.equal(l.asks[0].present, false);
 * assert.equal(l.bids[1].bar, 1);
 * ```
 */
export function fillLadder(frame: DashFrame | null, ladder: LadderModel): LadderModel {
  const rows = ladder.rows;
  if (frame === null) {
    for (let i = 0; i < rows; i++) {
      clearRow(ladder.asks[i]);
      clearRow(ladder.bids[i]);
    }
    ladder.spread =
      ladder.spreadBps =
      ladder.mid =
      ladder.maxSize =
        NaN;
    return ladder;
  }
  const nb = Math.min(rows, frame.bidPrices.length, frame.bidSizes.length);
  const na = Math.min(rows, frame.askPrices.length, frame.askSizes.length);
  const wall = frame.wallThreshold;
  const bidMax = fillSide(
    ladder.bids,
    false,
    nb,
    frame.bidPrices,
    frame.bidSizes,
    wall,
    frame.bidVenues,
  );
  // Best ask (i = 0) goes to the last display row, next to the spread.
  const askMax = fillSide(
    ladder.asks,
    true,
    na,
    frame.askPrices,
    frame.askSizes,
    wall,
    frame.askVenues,
  );
  const max = bidMax > askMax ? bidMax : askMax;
  for (let i = 0; i < rows; i++) {
    const b = ladder.bids[i];
    b.bar = b.present && max > 0 ? b.size / max : 0;
    const a = ladder.asks[i];
    a.bar = a.present && max > 0 ? a.size / max : 0;
  }
  ladder.maxSize = max > 0 ? max : NaN;
  ladder.spread = nb > 0 && na > 0 ? frame.askPrices[0] - frame.bidPrices[0] : NaN;
  ladder.mid = nb > 0 && na > 0 ? (frame.askPrices[0] + frame.bidPrices[0]) / 2 : NaN;
  ladder.spreadBps = ladder.spread / ladder.mid * 1e4;
  return ladder;
}
