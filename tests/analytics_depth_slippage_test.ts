import assert from "node:assert/strict";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { Side } from "../lib/analytics/side.ts";
import { BookWalk, Trade, walkBook } from "../lib/analytics/slippage.ts";
import { depthWithin, midPrice, slippageBps } from "./fixtures/analytics_values.ts";

const layout = new BookSlotLayout(20);

function book(bids: [number, number][], asks: [number, number][]): Float64Array {
  const f64 = new Float64Array(layout.slotWords);
  writeBook(f64, 0, layout, { bids, asks });
  return f64;
}

function close(actual: number, expected: number, tol = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
}

// mid = 100; band edges: 10 bps 99.9/100.1, 25 bps 99.75/100.25, 50 bps 99.5/100.5
const bandBook = book(
  [[99.95, 2], [99.8, 3], [99.6, 4], [99.0, 10]],
  [[100.05, 1], [100.2, 5], [100.5, 2], [101, 8]],
);

Deno.test("depth within 10/25/50 bps per side, base and quote", () => {
  const mid = midPrice(bandBook, 0, layout);
  assert.equal(mid, 100);
  const d = (side: Side, bps: number, quote: boolean) =>
    depthWithin(bandBook, 0, layout, side, mid, bps, quote);
  assert.equal(d(Side.Bid, 10, false), 2);
  close(d(Side.Bid, 10, true), 199.9);
  assert.equal(d(Side.Ask, 10, false), 1);
  close(d(Side.Ask, 10, true), 100.05);
  assert.equal(d(Side.Bid, 25, false), 5);
  close(d(Side.Bid, 25, true), 199.9 + 299.4);
  assert.equal(d(Side.Ask, 25, false), 6);
  close(d(Side.Ask, 25, true), 100.05 + 501);
  assert.equal(d(Side.Bid, 50, false), 9);
  close(d(Side.Bid, 50, true), 199.9 + 299.4 + 398.4);
  // 100.5 sits exactly on the 50 bps edge and is included
  assert.equal(d(Side.Ask, 50, false), 8);
  close(d(Side.Ask, 50, true), 100.05 + 501 + 201);
  // wider than the visible book: the whole side
  assert.equal(d(Side.Bid, 1000, false), 19);
});

Deno.test("depth is NaN without a mid", () => {
  assert.ok(Number.isNaN(depthWithin(bandBook, 0, layout, Side.Bid, NaN, 10, false)));
});

// mid 100; asks 101×10 (1010 quote), 102×10 (1020); bids 99×10 (990), 98×10 (980)
const slipBook = book([[99, 10], [98, 10]], [[101, 10], [102, 10]]);

Deno.test("buy slippage within the first level", () => {
  const walk = new BookWalk();
  assert.equal(slippageBps(slipBook, 0, layout, Trade.Buy, 1010, 100, walk), 100);
  assert.equal(walk.vwap, 101);
  assert.equal(walk.filledBase, 10);
  assert.equal(walk.filledQuote, 1010);
  assert.equal(walk.exceeds, false);
});

Deno.test("buy slippage across levels takes the last one partially", () => {
  const walk = new BookWalk();
  // 1010 at 101 (10 base) + 510 at 102 (5 base): VWAP 1520 / 15
  close(
    slippageBps(slipBook, 0, layout, Trade.Buy, 1520, 100, walk),
    1e4 * (1520 / 15 - 100) / 100,
  );
  assert.equal(walk.filledBase, 15);
  assert.equal(walk.exceeds, false);
  // exactly the whole visible side is not "exceeding"
  assert.equal(slippageBps(slipBook, 0, layout, Trade.Buy, 2030, 100, walk), 150);
  assert.equal(walk.exceeds, false);
});

Deno.test("sell slippage is positive when costly", () => {
  const walk = new BookWalk();
  assert.equal(slippageBps(slipBook, 0, layout, Trade.Sell, 990, 100, walk), 100);
  // 990 at 99 + 490 at 98 (5 base): VWAP 1480 / 15
  close(
    slippageBps(slipBook, 0, layout, Trade.Sell, 1480, 100, walk),
    1e4 * (100 - 1480 / 15) / 100,
  );
});

Deno.test("notional beyond the visible book: flag set, slippage of the visible part", () => {
  const walk = new BookWalk();
  assert.equal(slippageBps(slipBook, 0, layout, Trade.Buy, 5000, 100, walk), 150);
  assert.equal(walk.exceeds, true);
  assert.equal(walk.filledQuote, 2030);
  assert.equal(walk.vwap, 101.5);
  assert.equal(slippageBps(slipBook, 0, layout, Trade.Sell, 1e6, 100, walk), 150);
  assert.equal(walk.exceeds, true);
  assert.equal(walk.filledQuote, 1970);
});

Deno.test("slippage on an empty side: NaN and exceeds", () => {
  const oneSided = book([[99, 10]], []);
  const walk = new BookWalk();
  assert.ok(Number.isNaN(slippageBps(oneSided, 0, layout, Trade.Buy, 100, NaN, walk)));
  assert.equal(walk.exceeds, true);
  assert.equal(walk.filledQuote, 0);
  walkBook(oneSided, 0, layout, Trade.Sell, 100, walk);
  assert.equal(walk.exceeds, false);
  assert.equal(walk.vwap, 99);
});
