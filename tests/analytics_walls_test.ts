import assert from "node:assert/strict";
import fc from "fast-check";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { findWalls, medianVisibleSize } from "./fixtures/analytics_values.ts";
import { selectKth } from "../lib/analytics/select.ts";
import { Side } from "../lib/analytics/side.ts";

const layout = new BookSlotLayout(10);
const scratch = new Float64Array(2 * layout.levels);

function book(bidSizes: number[], askSizes: number[]): Float64Array {
  const f64 = new Float64Array(layout.slotWords);
  writeBook(f64, 0, layout, {
    bids: bidSizes.map((q, i) => [100 - i, q]),
    asks: askSizes.map((q, i) => [101 + i, q]),
  });
  return f64;
}

Deno.test("median over both sides, odd count", () => {
  const f64 = book([1, 2, 50], [3, 4]); // 1 2 3 4 50
  assert.equal(medianVisibleSize(f64, 0, layout, scratch), 3);
  const out = new Float64Array(6);
  assert.equal(findWalls(f64, 0, layout, Side.Bid, 5 * 3, out, 0, 3), 1);
  assert.deepEqual([...out], [98, 50, NaN, NaN, NaN, NaN]);
  assert.equal(findWalls(f64, 0, layout, Side.Ask, 15, out, 0, 3), 0);
  assert.deepEqual([...out], [NaN, NaN, NaN, NaN, NaN, NaN]);
});

Deno.test("median over both sides, even count: mean of the middle two", () => {
  const f64 = book([1, 2, 40, 30], [3, 4]); // 1 2 3 4 30 40 → 3.5
  assert.equal(medianVisibleSize(f64, 0, layout, scratch), 3.5);
  const out = new Float64Array(6);
  // threshold 17.5: bids 40 (price 98) and 30 (price 97), largest first
  assert.equal(findWalls(f64, 0, layout, Side.Bid, 17.5, out, 0, 3), 2);
  assert.deepEqual([...out], [98, 40, 97, 30, NaN, NaN]);
});

Deno.test("more walls than kept: count all, keep the largest", () => {
  const f64 = book([100, 1, 1, 1, 200, 150, 1], [1, 1, 1, 1, 1, 1, 1]);
  assert.equal(medianVisibleSize(f64, 0, layout, scratch), 1);
  const out = new Float64Array(4);
  assert.equal(findWalls(f64, 0, layout, Side.Bid, 5, out, 0, 2), 3);
  assert.deepEqual([...out], [96, 200, 95, 150]);
});

Deno.test("equal walls keep book order (best price first)", () => {
  const f64 = book([1, 9, 1, 9, 9], [1, 1, 1]);
  const out = new Float64Array(4);
  assert.equal(findWalls(f64, 0, layout, Side.Bid, 5, out, 0, 2), 3);
  assert.deepEqual([...out], [99, 9, 97, 9]);
});

Deno.test("a size equal to the threshold is a wall", () => {
  const f64 = book([1, 1, 5], [1, 1]);
  const out = new Float64Array(2);
  assert.equal(
    findWalls(f64, 0, layout, Side.Bid, 5 * medianVisibleSize(f64, 0, layout, scratch), out, 0, 1),
    1,
  );
  assert.deepEqual([...out], [98, 5]);
});

Deno.test("walls on empty and one-sided books", () => {
  const empty = book([], []);
  assert.ok(Number.isNaN(medianVisibleSize(empty, 0, layout, scratch)));
  const out = new Float64Array(2);
  assert.equal(findWalls(empty, 0, layout, Side.Bid, NaN, out, 0, 1), 0);
  const asksOnly = book([], [2, 20, 3]);
  assert.equal(medianVisibleSize(asksOnly, 0, layout, scratch), 3);
  assert.equal(findWalls(asksOnly, 0, layout, Side.Ask, 15, out, 0, 1), 1);
  assert.deepEqual([...out], [102, 20]);
});

Deno.test("median needs a large enough scratch array", () => {
  assert.throws(
    () => medianVisibleSize(book([1], [1]), 0, layout, new Float64Array(3)),
    /scratch must hold at least 20/,
  );
});

Deno.test("selectKth agrees with sorting (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 60 }),
      fc.nat(),
      (xs, kSeed) => {
        const k = kSeed % xs.length;
        const a = Float64Array.from(xs);
        const sorted = [...xs].sort((x, y) => x - y);
        // === rather than Object.is: -0 and 0 are equal in the sort order, so
        // either may be the k-th value.
        assert.ok(selectKth(a, a.length, k) === sorted[k], `k-th of ${xs} is ${sorted[k]}`);
        for (let i = 0; i < k; i++) assert.ok(a[i] <= a[k]);
        for (let i = k + 1; i < a.length; i++) assert.ok(a[i] >= a[k]);
      },
    ),
  );
  assert.throws(() => selectKth(new Float64Array(3), 3, 3), RangeError);
});

Deno.test("median agrees with a sorted-copy median (property)", () => {
  const sizes = fc.array(fc.double({ min: 1e-8, max: 1e6, noNaN: true }), { maxLength: 10 });
  fc.assert(
    fc.property(sizes, sizes, (b, a) => {
      const all = [...b, ...a].sort((x, y) => x - y);
      const n = all.length;
      const expected = n === 0 ? NaN : n % 2 ? all[n >> 1] : (all[n / 2 - 1] + all[n / 2]) / 2;
      assert.equal(medianVisibleSize(book(b, a), 0, layout, scratch), expected);
    }),
  );
});
