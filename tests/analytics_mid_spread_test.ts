import assert from "node:assert/strict";
import fc from "fast-check";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { writeBook } from "../testing/book_fixture.ts";
import {
  imbalance,
  midPrice,
  spread,
  spreadBps,
  weightedMid,
} from "./fixtures/analytics_values.ts";

const layout = new BookSlotLayout(20);

function book(bids: [number, number][], asks: [number, number][], base = 0): Float64Array {
  const f64 = new Float64Array(base + layout.slotWords);
  writeBook(f64, base, layout, { bids, asks });
  return f64;
}

Deno.test("mid, spread, spread_bps and weighted mid of a hand-computed book", () => {
  const f64 = book([[99, 3], [98, 1]], [[101, 1], [102, 5]]);
  assert.equal(midPrice(f64, 0, layout), 100);
  assert.equal(spread(f64, 0, layout), 2);
  assert.equal(spreadBps(f64, 0, layout), 200); // 1e4 · 2 / 100
  // I = 3 / (3 + 1) = 0.75 → 0.75·101 + 0.25·99 = 100.5 (heavy bid pulls towards the ask)
  assert.equal(weightedMid(f64, 0, layout), 100.5);
});

Deno.test("weighted mid leans towards the bid when the ask is heavier", () => {
  const f64 = book([[10, 1]], [[12, 3]]);
  // I = 1/4 → 0.25·12 + 0.75·10 = 10.5
  assert.equal(weightedMid(f64, 0, layout), 10.5);
});

Deno.test("slot functions honour a non-zero base", () => {
  const base = 3 * layout.slotWords;
  const f64 = book([[50, 2]], [[52, 2]], base);
  assert.equal(midPrice(f64, base, layout), 51);
  assert.equal(spread(f64, base, layout), 2);
  assert.equal(weightedMid(f64, base, layout), 51);
  assert.ok(Number.isNaN(midPrice(f64, 0, layout))); // the zeroed slot 0 is empty
});

Deno.test("one-sided and empty books give NaN, never throw", () => {
  for (
    const f64 of [book([], [[101, 1]]), book([[99, 1]], []), book([], [])]
  ) {
    assert.ok(Number.isNaN(midPrice(f64, 0, layout)));
    assert.ok(Number.isNaN(spread(f64, 0, layout)));
    assert.ok(Number.isNaN(spreadBps(f64, 0, layout)));
    assert.ok(Number.isNaN(weightedMid(f64, 0, layout)));
    assert.ok(Number.isNaN(imbalance(f64, 0, layout, 1)));
    assert.ok(Number.isNaN(imbalance(f64, 0, layout, 20)));
  }
});

Deno.test("weighted mid is NaN when both best sizes are zero", () => {
  assert.ok(Number.isNaN(weightedMid(book([[99, 0]], [[101, 0]]), 0, layout)));
});

Deno.test("imbalance at 1, 5 and 20 levels", () => {
  const f64 = book(
    [[99, 1], [98, 2], [97, 3], [96, 4], [95, 5], [94, 6]],
    [[101, 2], [102, 2], [103, 2], [104, 2], [105, 2], [106, 2]],
  );
  assert.equal(imbalance(f64, 0, layout, 1), (1 - 2) / (1 + 2));
  assert.equal(imbalance(f64, 0, layout, 5), (15 - 10) / (15 + 10));
  // Only 6 levels per side exist: N = 20 uses all of them (21 vs 12).
  assert.equal(imbalance(f64, 0, layout, 20), (21 - 12) / (21 + 12));
});

Deno.test("imbalance with fewer levels than N on one side uses the levels present", () => {
  const f64 = book([[99, 4], [98, 6]], [[101, 5]]);
  assert.equal(imbalance(f64, 0, layout, 5), (10 - 5) / 15);
  assert.equal(imbalance(f64, 0, layout, 1), (4 - 5) / 9);
});

Deno.test("imbalance is within [-1, 1] and mid between best bid and ask (property)", () => {
  const side = fc.array(fc.double({ min: 1e-8, max: 1e6, noNaN: true }), {
    minLength: 1,
    maxLength: 20,
  });
  fc.assert(
    fc.property(side, side, fc.double({ min: 0.01, max: 1e5, noNaN: true }), (qb, qa, pb) => {
      const bids = qb.map((q, i) => [pb - i * 0.01, q] as [number, number]);
      const asks = qa.map((q, i) => [pb + 0.01 * (i + 1), q] as [number, number]);
      const f64 = book(bids, asks);
      for (const n of [1, 5, 20]) {
        const v = imbalance(f64, 0, layout, n);
        assert.ok(v >= -1 && v <= 1, `imbalance ${v} out of range`);
      }
      const mid = midPrice(f64, 0, layout);
      assert.ok(mid >= bids[0][0] && mid <= asks[0][0]);
      const wm = weightedMid(f64, 0, layout);
      assert.ok(wm >= bids[0][0] - 1e-9 && wm <= asks[0][0] + 1e-9);
    }),
  );
});
