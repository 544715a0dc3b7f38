import assert from "node:assert/strict";
import fc from "fast-check";
import { createLadder, fillLadder } from "../lib/client/ladder_view.ts";
import { emptyDashFrame } from "../lib/client/dash_frame.ts";
import {
  decimalsOf,
  decimalsOfAll,
  formatCompact,
  formatFixed,
  TickFormatter,
} from "../lib/client/tick_format.ts";

const size = fc.double({ min: 0, max: 1e5, noNaN: true });

Deno.test("fillLadder: fixed rows, cumulative totals, bars relative to the largest, walls", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 15 }),
      fc.array(size, { maxLength: 25 }),
      fc.array(size, { maxLength: 25 }),
      fc.oneof(fc.constant(NaN), size),
      (rows, bidSizes, askSizes, threshold) => {
        const f = emptyDashFrame("BTCUSDT");
        bidSizes.forEach((q, i) => {
          f.bidPrices.push(100 - i);
          f.bidSizes.push(q);
        });
        askSizes.forEach((q, i) => {
          f.askPrices.push(101 + i);
          f.askSizes.push(q);
        });
        f.wallThreshold = threshold;
        const l = fillLadder(f, createLadder(rows));
        assert.equal(l.bids.length, rows);
        assert.equal(l.asks.length, rows);
        const shownBids = bidSizes.slice(0, rows);
        const shownAsks = askSizes.slice(0, rows);
        const max = Math.max(0, ...shownBids, ...shownAsks);
        let total = 0;
        l.bids.forEach((r, i) => {
          assert.equal(r.present, i < shownBids.length);
          if (!r.present) return assert.equal(r.bar, 0);
          total += shownBids[i];
          assert.equal(r.price, 100 - i);
          assert.equal(r.total, total);
          assert.equal(r.bar, max > 0 ? shownBids[i] / max : 0);
          assert.equal(r.wall, shownBids[i] >= threshold);
        });
        total = 0;
        for (let i = 0; i < rows; i++) {
          const r = l.asks[rows - 1 - i]; // best ask is the last display row
          assert.equal(r.present, i < shownAsks.length);
          if (!r.present) continue;
          total += shownAsks[i];
          assert.equal(r.price, 101 + i);
          assert.equal(r.total, total);
          assert.ok(r.bar >= 0 && r.bar <= 1);
        }
        const bars = [...l.bids, ...l.asks].map((r) => r.bar);
        if (max > 0) assert.equal(Math.max(...bars), 1);
        if (shownBids.length && shownAsks.length) assert.equal(l.spread, 1);
        else assert.ok(Number.isNaN(l.spread));
      },
    ),
  );
});

Deno.test("fillLadder reuses its rows and blanks them for a null frame", () => {
  const l = createLadder(3);
  const rows = [...l.bids, ...l.asks];
  const f = emptyDashFrame("ETHUSDT");
  f.bidPrices.push(10);
  f.bidSizes.push(2);
  f.askPrices.push(11);
  f.askSizes.push(3);
  fillLadder(f, l);
  assert.deepEqual([...l.bids, ...l.asks], rows, "same row objects");
  assert.equal(l.asks[2].bar, 1);
  assert.equal(l.mid, 10.5);
  fillLadder(null, l);
  assert.ok([...l.bids, ...l.asks].every((r) => !r.present && r.bar === 0));
  assert.ok(Number.isNaN(l.mid));
  assert.throws(() => createLadder(0), RangeError);
});

Deno.test("decimalsOf finds the tick decimals of decimal prices, and they print back exactly", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
      fc.integer({ min: 0, max: 8 }),
      (n, d) => {
        const v = n / 10 ** d;
        const found = decimalsOf(v);
        assert.ok(found <= d, `${v} needs at most ${d} decimals, got ${found}`);
        // The printed price reads back as the same double.
        assert.equal(Number(formatFixed(v, found).replaceAll(",", "")), v);
      },
    ),
  );
  assert.equal(decimalsOf(65000.01), 2);
  assert.equal(decimalsOf(0.00001234), 8);
  assert.equal(decimalsOf(NaN), 0);
  assert.equal(decimalsOfAll([1, 2.5, 3.25, NaN]), 2);
});

Deno.test("TickFormatter decimals only grow, so a column's digits never jitter", () => {
  const f = new TickFormatter();
  f.observe([100.5]);
  assert.equal(f.price(100), "100.0");
  f.observe([100.25, 101]);
  assert.equal(f.decimals, 2);
  f.observe([100]);
  assert.equal(f.decimals, 2);
  assert.equal(f.price(1234.5), "1,234.50");
  assert.equal(f.price(NaN), "—");
});

Deno.test("formatCompact keeps three significant digits with unit suffixes", () => {
  assert.equal(formatCompact(999), "999");
  assert.equal(formatCompact(999.6), "999.6");
  assert.equal(formatCompact(1000), "1.00k");
  assert.equal(formatCompact(-1234), "-1.23k");
  assert.equal(formatCompact(12_345_678), "12.3M");
  assert.equal(formatCompact(0.123456), "0.1235");
  assert.equal(formatCompact(Infinity), "—");
});

Deno.test("TickFormatter with a cap never uses more decimals than the cap", () => {
  const sizes = new TickFormatter(0, 4);
  sizes.observe([0.12345678, 1.5]);
  assert.equal(sizes.decimals, 4);
  assert.equal(sizes.price(2), "2.0000");
});
