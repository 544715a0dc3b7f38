import assert from "node:assert/strict";
import fc from "fast-check";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { askFlow, bidFlow } from "../lib/analytics/order_flow.ts";
import { orderFlowImbalance } from "./fixtures/analytics_values.ts";
import { FlowWindow } from "../lib/analytics/flow_window.ts";

const layout = new BookSlotLayout(5);

function book(bids: [number, number][], asks: [number, number][]): Float64Array {
  const f64 = new Float64Array(layout.slotWords);
  writeBook(f64, 0, layout, { bids, asks });
  return f64;
}

Deno.test("bid term: price up, same, down", () => {
  // previous best bid 100 × 5
  assert.equal(bidFlow(100, 5, 101, 2), 2); // up: the new size counts in full
  assert.equal(bidFlow(100, 5, 100, 8), 3); // same: size change 8 − 5
  assert.equal(bidFlow(100, 5, 100, 1), -4); // same, size cut: 1 − 5
  assert.equal(bidFlow(100, 5, 99, 7), -5); // down: the old size left
});

Deno.test("ask term: price down, same, up", () => {
  // previous best ask 102 × 4
  assert.equal(askFlow(102, 4, 101, 6), -6); // down: new selling interest
  assert.equal(askFlow(102, 4, 102, 1), 3); // same: 4 − 1 taken off the ask
  assert.equal(askFlow(102, 4, 102, 9), -5); // same, added: 4 − 9
  assert.equal(askFlow(102, 4, 103, 9), 4); // up: the old ask was lifted
});

Deno.test("level-1 OFI between two book slots sums both sides", () => {
  const prev = book([[100, 5]], [[102, 4]]);
  assert.equal(orderFlowImbalance(prev, 0, book([[101, 2]], [[101.5, 6]]), 0, layout, 1), 2 - 6);
  assert.equal(orderFlowImbalance(prev, 0, book([[100, 8]], [[102, 1]]), 0, layout, 1), 3 + 3);
  assert.equal(orderFlowImbalance(prev, 0, book([[99, 7]], [[103, 9]]), 0, layout, 1), -5 + 4);
  assert.equal(orderFlowImbalance(prev, 0, prev, 0, layout, 5), 0);
});

Deno.test("multi-level OFI compares level i with level i and sums", () => {
  const prev = book([[100, 5], [99, 3]], [[102, 4], [103, 2]]);
  const cur = book([[100, 5], [99.5, 1]], [[102, 4], [103, 7]]);
  assert.equal(orderFlowImbalance(prev, 0, cur, 0, layout, 1), 0); // level 1 unchanged
  // level 2: bid up 99 → 99.5: +1; ask same 103: 2 − 7 = −5
  assert.equal(orderFlowImbalance(prev, 0, cur, 0, layout, 2), 1 - 5);
  assert.equal(orderFlowImbalance(prev, 0, cur, 0, layout, 5), 1 - 5);
});

Deno.test("multi-level OFI leaves out a level missing in either book", () => {
  const prev = book([[100, 5], [99, 3]], [[102, 4], [103, 2]]);
  const cur = book([[100, 5]], [[102, 4], [104, 2]]); // bid level 2 gone
  // only the ask at level 2 counts: up 103 → 104: +2
  assert.equal(orderFlowImbalance(prev, 0, cur, 0, layout, 2), 2);
});

Deno.test("OFI is NaN when a best level is missing in either book", () => {
  const two = book([[100, 5]], [[102, 4]]);
  const noBid = book([], [[102, 4]]);
  const noAsk = book([[100, 5]], []);
  assert.ok(Number.isNaN(orderFlowImbalance(two, 0, noBid, 0, layout, 1)));
  assert.ok(Number.isNaN(orderFlowImbalance(noAsk, 0, two, 0, layout, 3)));
});

Deno.test("OFI of a book against itself is zero (property)", () => {
  const level = fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1000 }));
  fc.assert(
    fc.property(fc.array(level, { minLength: 1, maxLength: 5 }), (lv) => {
      const f64 = book(lv.map(([p, q]) => [p, q]), lv.map(([p, q]) => [p + 2000, q]));
      assert.equal(orderFlowImbalance(f64, 0, f64, 0, layout, 5), 0);
    }),
  );
});

Deno.test("flow window: 1 s and 10 s sums expire entries at the window edge", () => {
  const w = new FlowWindow({ symbols: 2 });
  w.push(1, 0, 1, 10);
  w.push(1, 500, 2, 20);
  w.push(1, 1200, 4, 40);
  // 1 s window at t = 1200 covers (200, 1200]: entries at 500 and 1200
  assert.equal(w.shortSumL1(1), 6);
  assert.equal(w.shortSum(1), 60);
  assert.equal(w.longSumL1(1), 7);
  assert.equal(w.longSum(1), 70);
  w.push(1, 10_500, 8, 80);
  // 10 s window covers (500, 10500]: the entry at exactly 500 is out
  assert.equal(w.longSumL1(1), 12);
  assert.equal(w.longSum(1), 120);
  assert.equal(w.longCount(1), 2);
  assert.equal(w.shortSumL1(1), 8);
  assert.equal(w.shortSum(1), 80);
  // symbol 0 is untouched
  assert.equal(w.longSum(0), 0);
  assert.ok(Number.isNaN(w.rate(0)));
});

Deno.test("flow window: frame rate from the 10 s window", () => {
  const w = new FlowWindow({ symbols: 1 });
  w.push(0, 0, 0, 0);
  assert.ok(Number.isNaN(w.rate(0)));
  for (let i = 1; i <= 10; i++) w.push(0, i * 100, 0, 0);
  assert.equal(w.rate(0), 10);
  for (let i = 11; i <= 200; i++) w.push(0, i * 250, 0, 0); // slows to 4/s
  assert.equal(w.rate(0), 4);
});

Deno.test("flow window: overflow drops the oldest early and reports it", () => {
  const w = new FlowWindow({ symbols: 1, capacity: 3 });
  assert.equal(w.push(0, 0, 1, 1), false);
  assert.equal(w.push(0, 1, 2, 2), false);
  assert.equal(w.push(0, 2, 4, 4), false);
  assert.equal(w.push(0, 3, 8, 8), true);
  assert.equal(w.longSumL1(0), 14);
  assert.equal(w.shortSumL1(0), 14);
});

Deno.test("flow window sums match a naive recomputation (property)", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 700 }),
          fc.double({ min: -1e6, max: 1e6, noNaN: true }),
          fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        ),
        { minLength: 1, maxLength: 300 },
      ),
      (steps) => {
        const cap = 64;
        const w = new FlowWindow({ symbols: 1, capacity: cap });
        const log: [number, number, number][] = [];
        let t = 0;
        for (const [dt, e1, em] of steps) {
          t += dt;
          w.push(0, t, e1, em);
          log.push([t, e1, em]);
          const kept = log.slice(-cap); // what a ring of `cap` can still hold
          const inLong = kept.filter(([u]) => u > t - 10_000);
          const inShort = inLong.filter(([u]) => u > t - 1_000);
          const sum = (xs: [number, number, number][], k: 1 | 2) =>
            xs.reduce((a, x) => a + x[k], 0);
          const tol = 1e-6 * (1 + kept.reduce((a, x) => a + Math.abs(x[1]) + Math.abs(x[2]), 0));
          assert.ok(Math.abs(w.longSumL1(0) - sum(inLong, 1)) <= tol);
          assert.ok(Math.abs(w.longSum(0) - sum(inLong, 2)) <= tol);
          assert.ok(Math.abs(w.shortSumL1(0) - sum(inShort, 1)) <= tol);
          assert.ok(Math.abs(w.shortSum(0) - sum(inShort, 2)) <= tol);
          assert.equal(w.longCount(0), inLong.length);
        }
      },
    ),
    { numRuns: 50 },
  );
});

Deno.test("flow window recomputation removes drift from add/subtract", () => {
  const w = new FlowWindow({ symbols: 1, capacity: 16 });
  // Huge values pass through, then only small ones remain in the window.
  for (let i = 0; i < 8; i++) w.push(0, i, 1e17, 1e17);
  for (let i = 0; i < 40; i++) w.push(0, 20_000 + i * 2000, 0.1, 0.1);
  // Window (t − 10 s, t]: 5 entries of 0.1. The first 0.1 is absorbed when added to
  // 8e17, so plain add/subtract would end at 0.4; the recomputation every 16 pushes
  // (the last one at push 48) restores the exact sum.
  assert.ok(Math.abs(w.longSumL1(0) - 0.5) < 1e-12, `sum ${w.longSumL1(0)}`);
});

Deno.test("flow window rejects bad options", () => {
  assert.throws(() => new FlowWindow({ symbols: 0 }), RangeError);
  assert.throws(() => new FlowWindow({ symbols: 1, capacity: 1 }), RangeError);
  assert.throws(() => new FlowWindow({ symbols: 1, shortMs: 5000, longMs: 1000 }), RangeError);
});

/**
 * The flow window as it was before its storage became a chunk pool: one
 * plain ring of `capacity` entries per symbol. The model the pooled window
 * must match bit for bit.
 */
class PlainRingWindow {
  readonly times: Float64Array;
  readonly e1: Float64Array;
  readonly em: Float64Array;
  readonly written: Float64Array;
  readonly longStart: Float64Array;
  readonly shortStart: Float64Array;
  readonly sinceRecompute: Float64Array;
  readonly sums: Float64Array;
  constructor(symbols: number, readonly cap: number) {
    this.times = new Float64Array(symbols * cap);
    this.e1 = new Float64Array(symbols * cap);
    this.em = new Float64Array(symbols * cap);
    this.written = new Float64Array(symbols);
    this.longStart = new Float64Array(symbols);
    this.shortStart = new Float64Array(symbols);
    this.sinceRecompute = new Float64Array(symbols);
    this.sums = new Float64Array(symbols * 4);
  }
  push(s: number, t: number, e1: number, em: number): boolean {
    const { cap, sums, times, e1: a1, em: am } = this;
    const off = s * cap, so = s * 4;
    let written = this.written[s], longStart = this.longStart[s], shortStart = this.shortStart[s];
    let overflow = false;
    if (written - longStart >= cap) {
      const j = off + (longStart % cap);
      sums[so + 2] -= a1[j];
      sums[so + 3] -= am[j];
      if (shortStart === longStart) {
        sums[so] -= a1[j];
        sums[so + 1] -= am[j];
        shortStart++;
      }
      longStart++;
      overflow = true;
    }
    const w = off + (written % cap);
    times[w] = t;
    a1[w] = e1;
    am[w] = em;
    written++;
    sums[so] += e1;
    sums[so + 1] += em;
    sums[so + 2] += e1;
    sums[so + 3] += em;
    while (longStart < written && times[off + (longStart % cap)] <= t - 10_000) {
      const j = off + (longStart % cap);
      sums[so + 2] -= a1[j];
      sums[so + 3] -= am[j];
      longStart++;
    }
    while (shortStart < longStart) {
      const j = off + (shortStart % cap);
      sums[so] -= a1[j];
      sums[so + 1] -= am[j];
      shortStart++;
    }
    while (shortStart < written && times[off + (shortStart % cap)] <= t - 1_000) {
      const j = off + (shortStart % cap);
      sums[so] -= a1[j];
      sums[so + 1] -= am[j];
      shortStart++;
    }
    this.written[s] = written;
    this.longStart[s] = longStart;
    this.shortStart[s] = shortStart;
    if (++this.sinceRecompute[s] >= cap) {
      this.sinceRecompute[s] = 0;
      let s1 = 0, sm = 0, l1 = 0, lm = 0;
      for (let k = longStart; k < written; k++) {
        const j = off + (k % cap);
        l1 += a1[j];
        lm += am[j];
        if (k >= shortStart) {
          s1 += a1[j];
          sm += am[j];
        }
      }
      sums[so] = s1;
      sums[so + 1] = sm;
      sums[so + 2] = l1;
      sums[so + 3] = lm;
    }
    return overflow;
  }
  rate(s: number): number {
    const n = this.written[s] - this.longStart[s];
    if (n < 2) return NaN;
    const off = s * this.cap;
    const span = this.times[off + ((this.written[s] - 1) % this.cap)] -
      this.times[off + (this.longStart[s] % this.cap)];
    return span > 0 ? ((n - 1) * 1000) / span : NaN;
  }
}

Deno.test("flow window: its pooled storage gives bit-for-bit the results of a plain ring per symbol (property)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(2, 3, 16, 17, 40, 64, 200), // 200: more chunks than the pool starts with
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 3 }),
          fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 12_000 })),
          fc.double({ min: -1e17, max: 1e17, noNaN: true }),
          fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        ),
        { minLength: 1, maxLength: 600 },
      ),
      (cap, steps) => {
        const pooled = new FlowWindow({ symbols: 4, capacity: cap });
        const plain = new PlainRingWindow(4, cap);
        const clock = [0, 0, 0, 0];
        for (const [s, dt, e1, em] of steps) {
          clock[s] += dt;
          const got = pooled.push(s, clock[s], e1, em);
          assert.equal(got, plain.push(s, clock[s], e1, em), "overflow");
          for (let q = 0; q < 4; q++) {
            const want = [
              plain.sums[q * 4],
              plain.sums[q * 4 + 1],
              plain.sums[q * 4 + 2],
              plain.sums[q * 4 + 3],
              plain.written[q] - plain.longStart[q],
              plain.rate(q),
            ];
            const have = [
              pooled.shortSumL1(q),
              pooled.shortSum(q),
              pooled.longSumL1(q),
              pooled.longSum(q),
              pooled.longCount(q),
              pooled.rate(q),
            ];
            have.forEach((v, i) => assert.ok(Object.is(v, want[i]), `symbol ${q} value ${i}`));
          }
        }
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("flow window: a jump past the long window that empties a whole chunk still takes its entries out of the short sums", () => {
  const pooled = new FlowWindow({ symbols: 1, capacity: 64 });
  const plain = new PlainRingWindow(1, 64);
  // 16 entries fill exactly the first chunk, all inside the short window.
  for (let i = 0; i < 16; i++) {
    pooled.push(0, 100 + i, i + 0.25, -i);
    plain.push(0, 100 + i, i + 0.25, -i);
  }
  // The 17th starts the next chunk and expires every earlier entry at once.
  pooled.push(0, 30_000, 7, 7);
  plain.push(0, 30_000, 7, 7);
  assert.deepStrictEqual(
    [pooled.shortSumL1(0), pooled.shortSum(0), pooled.longSumL1(0), pooled.longSum(0)],
    [plain.sums[0], plain.sums[1], plain.sums[2], plain.sums[3]],
  );
  assert.equal(pooled.shortSumL1(0), 7);
  assert.equal(pooled.longCount(0), 1);
});

Deno.test("flow window: the pool grows when every chunk is in use, keeping every entry", () => {
  const pooled = new FlowWindow({ symbols: 3, capacity: 1024 });
  const plain = new PlainRingWindow(3, 1024);
  // 1,500 entries 5 ms apart per symbol: up to 1,024 (all of the ring) in the
  // 10 s window, far more than the 4 chunks per symbol the pool starts with.
  for (let i = 0; i < 1500; i++) {
    for (let s = 0; s < 3; s++) {
      const e1 = Math.sin(i * (s + 1)), em = Math.cos(i) * 1e9;
      assert.equal(pooled.push(s, i * 5, e1, em), plain.push(s, i * 5, e1, em));
    }
  }
  for (let s = 0; s < 3; s++) {
    assert.deepStrictEqual(
      [pooled.shortSumL1(s), pooled.shortSum(s), pooled.longSumL1(s), pooled.longSum(s)],
      [...plain.sums.subarray(s * 4, s * 4 + 4)],
    );
    assert.equal(pooled.rate(s), plain.rate(s));
    assert.equal(pooled.longCount(s), 1024);
  }
});
