import assert from "node:assert/strict";
import {
  BOOK_FLAG_FROM_DIFF,
  BOOK_FLAG_RESYNCED,
  BOOK_FLAG_STALE,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { type BookFixture, writeBook } from "../testing/book_fixture.ts";
import { Analyser } from "../lib/analytics/analyser.ts";
import {
  FRAME_FLAG_CROSSED,
  FRAME_FLAG_NO_OFI,
  FRAME_FLAG_ONE_SIDED,
  FRAME_FLAG_WINDOW_OVERFLOW,
  FrameSlotLayout,
  slippageExceedsBit,
} from "../lib/pipeline/frame_slot.ts";
import { type AnalyticsFrame, readFrame } from "../lib/pipeline/analytics_frame.ts";

const bookLayout = new BookSlotLayout(5);
const frameLayout = new FrameSlotLayout({ levels: 5, notionals: [500, 5000], wallsPerSide: 2 });

function rig(options: { symbols?: number; windowCapacity?: number } = {}) {
  const analyser = new Analyser({
    symbols: options.symbols ?? 2,
    bookLayout,
    frameLayout,
    windowCapacity: options.windowCapacity,
  });
  const book = new Float64Array(2 * bookLayout.slotWords);
  const out = new Float64Array(2 * frameLayout.slotWords);
  // Uses slot 1 of each array to catch base-offset mistakes.
  return (b: BookFixture, nowMs = (b.receiveTime ?? 0) + 1): AnalyticsFrame => {
    writeBook(book, bookLayout.slotWords, bookLayout, b);
    analyser.analyse(book, bookLayout.slotWords, out, frameLayout.slotWords, nowMs);
    return readFrame(out, frameLayout.slotWords, frameLayout);
  };
}

// mid 100; bids 99×10 (990 quote), 98×2; asks 101×1, 102×30
const BASE: BookFixture = {
  symbolId: 1,
  lastUpdateId: 77,
  eventTime: 5000,
  receiveTime: 5010,
  parsedTime: 5010.5,
  flags: BOOK_FLAG_FROM_DIFF,
  bids: [[99, 10], [98, 2]],
  asks: [[101, 1], [102, 30]],
};

Deno.test("analyse fills every field of a hand-computed frame", () => {
  const f = rig()(BASE, 5012);
  assert.equal(f.symbolId, 1);
  assert.equal(
    f.flags,
    BOOK_FLAG_FROM_DIFF | FRAME_FLAG_NO_OFI | slippageExceedsBit(1, 0) | slippageExceedsBit(1, 1),
  );
  assert.equal(f.lastUpdateId, 77);
  assert.equal(f.sequence, 1);
  assert.equal(f.eventTime, 5000);
  assert.equal(f.receiveTime, 5010);
  assert.equal(f.parsedTime, 5010.5);
  assert.equal(f.analysedTime, 5012);
  assert.ok(Number.isNaN(f.deliveredTime));
  assert.ok(Number.isNaN(f.frameRate)); // one frame
  assert.equal(f.mid, 100);
  assert.equal(f.spread, 2);
  assert.equal(f.spreadBps, 200);
  assert.equal(f.weightedMid, (10 / 11) * 101 + (1 / 11) * 99);
  assert.deepEqual(f.imbalance, { l1: 9 / 11, l5: (12 - 31) / 43, l20: (12 - 31) / 43 });
  assert.ok(Number.isNaN(f.ofi.e) && Number.isNaN(f.ofi.eL1));
  assert.deepEqual(
    [f.ofi.sum1s, f.ofi.sum10s, f.ofi.l1Sum1s, f.ofi.l1Sum10s],
    [0, 0, 0, 0],
  );
  assert.ok(Number.isNaN(f.volatility.m1) && Number.isNaN(f.volatility.m5));
  // bands: 10 bps = [99.9, 100.1] and 25 bps = [99.75, 100.25]: nothing; 50 bps = [99.5, 100.5]: nothing
  for (const d of f.depth) assert.deepEqual([d.bidBase, d.askBase], [0, 0]);
  // slippage 500: buy 101×1 (101) + 399 at 102 → VWAP 500 / (1 + 399/102)
  const buyVwap = 500 / (1 + 399 / 102);
  assert.ok(Math.abs(f.slippage[0].buyBps - 1e4 * (buyVwap - 100) / 100) < 1e-9);
  assert.equal(f.slippage[0].sellBps, 100); // 500 at 99
  assert.equal(f.slippage[0].buyExceeds, false);
  // 5000 exceeds both sides: asks hold 101 + 3060 quote, bids 990 + 196
  assert.equal(f.slippage[1].buyFilledQuote, 101 + 3060);
  assert.equal(f.slippage[1].buyExceeds, true);
  assert.equal(f.slippage[1].sellFilledQuote, 990 + 196);
  assert.equal(f.slippage[1].sellExceeds, true);
  // walls: sizes 1 2 10 30 → median 6, threshold 30: only the 30 ask
  assert.equal(f.walls.threshold, 30);
  assert.deepEqual(f.walls.bids, []);
  assert.deepEqual(f.walls.asks, [{ price: 102, size: 30 }]);
  assert.deepEqual(f.bids, [{ price: 99, size: 10 }, { price: 98, size: 2 }]);
  assert.deepEqual(f.asks, [{ price: 101, size: 1 }, { price: 102, size: 30 }]);
});

Deno.test("OFI across frames, windows and frame rate", () => {
  const run = rig();
  run({ ...BASE, receiveTime: 0 });
  // bid up 99 → 99.5 (+4), ask same 101: 1 − 1 = 0; level 2: bid 98 → 99 up (+2), ask same 102: 30 − 25 = +5
  const f2 = run({
    ...BASE,
    receiveTime: 100,
    bids: [[99.5, 4], [99, 2]],
    asks: [[101, 1], [102, 25]],
  });
  assert.equal(f2.ofi.eL1, 4);
  assert.equal(f2.ofi.e, 4 + 2 + 5);
  assert.equal(f2.flags & FRAME_FLAG_NO_OFI, 0);
  // ask down to 100.5 ×3: −3; bid same 99.5: 6 − 4 = +2
  const f3 = run({
    ...BASE,
    receiveTime: 1050,
    bids: [[99.5, 6], [99, 2]],
    asks: [[100.5, 3], [101, 1]],
  });
  assert.equal(f3.ofi.eL1, -1);
  // level 2: bid same 2 − 2 = 0; ask 102 → 101 down: −1
  assert.equal(f3.ofi.e, -2);
  // 1 s window (50, 1050]: frames at 100 and 1050
  assert.equal(f3.ofi.l1Sum1s, 3);
  assert.equal(f3.ofi.sum1s, 9);
  assert.equal(f3.ofi.l1Sum10s, 3);
  assert.equal(f3.ofi.sum10s, 9);
  assert.equal(f3.frameRate, 2 * 1000 / 1050);
  const f4 = run({
    ...BASE,
    receiveTime: 2100,
    bids: [[99.5, 6], [99, 2]],
    asks: [[100.5, 3], [101, 1]],
  });
  assert.equal(f4.ofi.eL1, 0);
  assert.equal(f4.ofi.l1Sum1s, 0); // (1100, 2100]: only this frame
  assert.equal(f4.ofi.l1Sum10s, 3);
  assert.equal(f4.sequence, 4);
});

Deno.test("stale frames are analysed but feed neither OFI nor volatility", () => {
  const run = rig();
  run({ ...BASE, receiveTime: 0 });
  run({ ...BASE, receiveTime: 1000, bids: [[99, 12]] });
  const stale = run({ ...BASE, receiveTime: 2000, bids: [[99, 12]], flags: BOOK_FLAG_STALE });
  assert.equal(stale.mid, 100);
  assert.equal(
    stale.flags & (BOOK_FLAG_STALE | FRAME_FLAG_NO_OFI),
    BOOK_FLAG_STALE | FRAME_FLAG_NO_OFI,
  );
  assert.ok(Number.isNaN(stale.ofi.eL1));
  assert.equal(stale.sequence, 3);
  // Fresh again after the gap with a very different book: no OFI, no jump in volatility.
  const fresh = run({ ...BASE, receiveTime: 3000, bids: [[149, 1]], asks: [[151, 1]] });
  assert.ok(Number.isNaN(fresh.ofi.eL1));
  // the only return so far is second 1 (mid 100 → 100); ln(150/100) must not enter
  assert.equal(fresh.volatility.m1, 0);
  const next = run({ ...BASE, receiveTime: 4000, bids: [[149, 2]], asks: [[151, 1]] });
  assert.equal(next.ofi.eL1, 1);
  // returns: second 1 (0), second 4 (150 → 150, 0): the 100 → 150 jump never entered
  assert.equal(next.volatility.m1, 0);
  assert.equal(next.ofi.l1Sum10s, 2 + 1); // frame at 1000: bid same 12 − 10 = +2
});

Deno.test("a resynced frame starts new OFI and volatility chains", () => {
  const run = rig();
  run({ ...BASE, receiveTime: 0 });
  const r = run({
    ...BASE,
    receiveTime: 1000,
    bids: [[89, 1]],
    asks: [[91, 1]],
    flags: BOOK_FLAG_RESYNCED,
  });
  assert.ok(Number.isNaN(r.ofi.eL1));
  assert.ok(Number.isNaN(r.volatility.m1));
  const n = run({ ...BASE, receiveTime: 2000, bids: [[89, 1]], asks: [[91, 4]] });
  assert.equal(n.ofi.eL1, -3); // ask same 91: 1 − 4
  assert.equal(n.volatility.m1, 0);
});

Deno.test("one-sided and empty books give NaN and a flag, never throw", () => {
  const run = rig();
  run(BASE);
  const noAsks = run({ ...BASE, receiveTime: 6000, asks: [] });
  assert.equal(noAsks.flags & FRAME_FLAG_ONE_SIDED, FRAME_FLAG_ONE_SIDED);
  for (
    const v of [
      noAsks.mid,
      noAsks.spread,
      noAsks.spreadBps,
      noAsks.weightedMid,
      noAsks.imbalance.l1,
      noAsks.ofi.eL1,
      noAsks.depth[0].bidBase,
      noAsks.slippage[0].sellBps,
    ]
  ) assert.ok(Number.isNaN(v));
  assert.equal(noAsks.slippage[0].buyExceeds, true);
  assert.equal(noAsks.walls.threshold, 5 * 6); // median of 10 and 2
  assert.deepEqual(noAsks.asks, []);
  const empty = run({ ...BASE, receiveTime: 7000, bids: [], asks: [] });
  assert.ok(Number.isNaN(empty.mid) && Number.isNaN(empty.walls.threshold));
  assert.equal(empty.walls.bidCount, 0);
  assert.equal(empty.sequence, 3);
});

Deno.test("crossed books are flagged", () => {
  const f = rig()({ ...BASE, bids: [[101, 1]], asks: [[100, 1]] });
  assert.equal(f.flags & FRAME_FLAG_CROSSED, FRAME_FLAG_CROSSED);
  assert.equal(f.spread, -1);
});

Deno.test("sequence numbers count per symbol", () => {
  const run = rig();
  assert.equal(run({ ...BASE, symbolId: 0 }).sequence, 1);
  assert.equal(run({ ...BASE, symbolId: 1 }).sequence, 1);
  assert.equal(run({ ...BASE, symbolId: 1 }).sequence, 2);
  assert.equal(run({ ...BASE, symbolId: 0 }).sequence, 2);
});

Deno.test("window overflow is flagged", () => {
  const run = rig({ windowCapacity: 4 });
  const flags: number[] = [];
  for (let i = 0; i < 6; i++) flags.push(run({ ...BASE, receiveTime: i }).flags);
  assert.deepEqual(flags.map((f) => (f & FRAME_FLAG_WINDOW_OVERFLOW) !== 0), [
    false,
    false,
    false,
    false,
    true,
    true,
  ]);
});

Deno.test("bad symbol ids and mismatched options throw RangeError", () => {
  const run = rig();
  assert.throws(
    () => run({ ...BASE, symbolId: 2 }),
    /symbol id must be an integer from 0 to 1, got 2/,
  );
  assert.throws(() => run({ ...BASE, symbolId: 0.5 }), RangeError);
  assert.throws(
    () => new Analyser({ symbols: 1, bookLayout: new BookSlotLayout(20), frameLayout }),
    /same levels, got 20 and 5/,
  );
  assert.throws(
    () => new Analyser({ symbols: 1, bookLayout, frameLayout, notionals: [1e4] }),
    /set them on FrameSlotLayout/,
  );
  assert.throws(
    () => new Analyser({ symbols: 1, bookLayout, frameLayout, ofiLevels: 6 }),
    RangeError,
  );
  assert.throws(
    () => new Analyser({ symbols: 1, bookLayout, frameLayout, wallFactor: 0 }),
    RangeError,
  );
});
