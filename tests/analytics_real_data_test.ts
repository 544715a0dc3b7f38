import assert from "node:assert/strict";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { Analyser } from "../lib/analytics/analyser.ts";
import { FrameSlotLayout } from "../lib/pipeline/frame_slot.ts";
import { type AnalyticsFrame, readFrame } from "../lib/pipeline/analytics_frame.ts";
import { BookWalk, Trade } from "../lib/analytics/slippage.ts";
import { depthWithin, slippageBps } from "./fixtures/analytics_values.ts";
import { Side } from "../lib/analytics/side.ts";
import { recordedLines, type RecordedStream } from "../testing/recorded_data.ts";

interface Partial {
  stream: string;
  data: { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
}

function load(name: RecordedStream): Partial[] {
  return recordedLines(name).map((l) => JSON.parse(l) as Partial);
}

/** Analyses recorded partial-depth frames in order, 100 ms apart, and returns the frames. */
function analyseRecorded(lines: Partial[]): { frame: AnalyticsFrame; msg: Partial }[] {
  const bookLayout = new BookSlotLayout(20);
  const frameLayout = new FrameSlotLayout({ levels: 20 });
  const symbols = [...new Set(lines.map((l) => l.stream.split("@")[0]))];
  const analyser = new Analyser({ symbols: symbols.length, bookLayout, frameLayout });
  const book = new Float64Array(bookLayout.slotWords);
  const out = new Float64Array(frameLayout.slotWords);
  return lines.map((msg, i) => {
    writeBook(book, 0, bookLayout, {
      symbolId: symbols.indexOf(msg.stream.split("@")[0]),
      lastUpdateId: msg.data.lastUpdateId,
      receiveTime: 1_600_000_000_000 + 100 * i,
      bids: msg.data.bids.map(([p, q]) => [Number(p), Number(q)]),
      asks: msg.data.asks.map(([p, q]) => [Number(p), Number(q)]),
    });
    analyser.analyse(book, 0, out, 0, 1_600_000_000_001 + 100 * i);
    return { frame: readFrame(out, 0, frameLayout), msg };
  });
}

function checkInvariants(frame: AnalyticsFrame, msg: Partial): void {
  const pb = Number(msg.data.bids[0][0]);
  const pa = Number(msg.data.asks[0][0]);
  assert.ok(frame.spread > 0, `spread ${frame.spread} in ${msg.stream}`);
  assert.ok(frame.spreadBps > 0);
  assert.ok(frame.mid > pb && frame.mid < pa);
  assert.ok(frame.weightedMid >= pb && frame.weightedMid <= pa);
  for (const v of [frame.imbalance.l1, frame.imbalance.l5, frame.imbalance.l20]) {
    assert.ok(Math.abs(v) <= 1);
  }
  for (let b = 1; b < frame.depth.length; b++) {
    const [lo, hi] = [frame.depth[b - 1], frame.depth[b]];
    assert.ok(lo.bidBase <= hi.bidBase && lo.askBase <= hi.askBase);
    assert.ok(lo.bidQuote <= hi.bidQuote && lo.askQuote <= hi.askQuote);
  }
  let prevBuy = -Infinity, prevSell = -Infinity;
  for (const s of frame.slippage) {
    assert.ok(s.buyBps >= 0 && s.sellBps >= 0, `slippage ${s.buyBps}/${s.sellBps}`);
    // a larger notional never costs less
    assert.ok(s.buyBps >= prevBuy - 1e-9 && s.sellBps >= prevSell - 1e-9);
    prevBuy = s.buyBps;
    prevSell = s.sellBps;
    assert.ok(s.buyFilledQuote <= s.notional && s.sellFilledQuote <= s.notional);
    assert.equal(s.buyExceeds, s.buyFilledQuote < s.notional);
  }
  assert.equal(frame.bids.length, msg.data.bids.length);
  assert.equal(frame.asks[0].price, pa);
  assert.ok(frame.walls.bidCount >= frame.walls.bids.length);
  for (const w of [...frame.walls.bids, ...frame.walls.asks]) {
    assert.ok(w.size >= frame.walls.threshold);
  }
}

Deno.test("recorded spot depth20/depth5 frames satisfy the analytics invariants", () => {
  const lines = load("spot_depth20.jsonl");
  assert.equal(lines.length, 18);
  const seen = new Map<string, number>();
  for (const { frame, msg } of analyseRecorded(lines)) {
    checkInvariants(frame, msg);
    const sym = msg.stream.split("@")[0];
    seen.set(sym, (seen.get(sym) ?? 0) + 1);
    assert.equal(frame.sequence, seen.get(sym));
  }
});

Deno.test("recorded FLMUSDT depth20 frame: hand-checked values", () => {
  const [{ frame }] = analyseRecorded(load("spot_depth20.jsonl").slice(0, 1));
  // best bid 0.4856 × 2036.02, best ask 0.4863 × 5601
  assert.ok(Math.abs(frame.mid - 0.48595) < 1e-12);
  assert.ok(Math.abs(frame.spread - 0.0007) < 1e-12);
  assert.ok(Math.abs(frame.spreadBps - 1e4 * 0.0007 / 0.48595) < 1e-9);
  assert.ok(Math.abs(frame.imbalance.l1 - (2036.02 - 5601) / (2036.02 + 5601)) < 1e-12);
  // 10 bps band: bids ≥ 0.48546 → 0.4856 and 0.4855; asks ≤ 0.48644 → 0.4863
  assert.ok(Math.abs(frame.depth[0].bidBase - (2036.02 + 480)) < 1e-9);
  assert.ok(Math.abs(frame.depth[0].askBase - 5601) < 1e-9);
  // visible quote: bids Σ p·q ≈ 24 728 USDT, asks ≈ 25 479: 10k fits, 100k exceeds both
  assert.equal(frame.slippage[0].buyExceeds, false);
  assert.equal(frame.slippage[0].sellExceeds, false);
  assert.ok(Math.abs(frame.slippage[1].sellFilledQuote - 24_727.927439) < 1e-6);
  assert.equal(frame.slippage[1].buyExceeds, true);
  assert.equal(frame.slippage[1].sellExceeds, true);
});

Deno.test("recorded BTCUSDT depth20 frame satisfies the invariants", () => {
  const lines = load("spot_depth20_reconstructed.jsonl");
  const [{ frame, msg }] = analyseRecorded(lines);
  checkInvariants(frame, msg);
  assert.equal(frame.bids.length, 20);
  assert.ok(frame.mid > 35_000 && frame.mid < 36_000);
});

Deno.test("OFI on consecutive recorded frames of one symbol matches the formula", () => {
  const lines = load("spot_depth20.jsonl").filter((l) => l.stream.startsWith("ethusdt"));
  const frames = analyseRecorded(lines);
  for (let n = 1; n < frames.length; n++) {
    const p = lines[n - 1].data, c = lines[n].data;
    const [pb0, qb0] = p.bids[0].map(Number), [pb1, qb1] = c.bids[0].map(Number);
    const [pa0, qa0] = p.asks[0].map(Number), [pa1, qa1] = c.asks[0].map(Number);
    const e = (pb1 >= pb0 ? qb1 : 0) - (pb1 <= pb0 ? qb0 : 0) - (pa1 <= pa0 ? qa1 : 0) +
      (pa1 >= pa0 ? qa0 : 0);
    assert.ok(
      Math.abs(frames[n].frame.ofi.eL1 - e) < 1e-9,
      `frame ${n}: ${frames[n].frame.ofi.eL1} vs ${e}`,
    );
  }
});

Deno.test("the analyser's one-pass depth and slippage equal depthWithin and slippageBps", () => {
  const layout = new BookSlotLayout(20);
  const walk = new BookWalk();
  const lines = load("spot_depth20.jsonl");
  const frames = analyseRecorded(lines);
  for (const { frame, msg } of frames) {
    const f64 = new Float64Array(layout.slotWords);
    writeBook(f64, 0, layout, {
      bids: msg.data.bids.map(([p, q]) => [Number(p), Number(q)]),
      asks: msg.data.asks.map(([p, q]) => [Number(p), Number(q)]),
    });
    const mid = frame.mid;
    frame.depth.forEach((d) => {
      assert.equal(d.bidBase, depthWithin(f64, 0, layout, Side.Bid, mid, d.bps, false));
      assert.equal(d.bidQuote, depthWithin(f64, 0, layout, Side.Bid, mid, d.bps, true));
      assert.equal(d.askBase, depthWithin(f64, 0, layout, Side.Ask, mid, d.bps, false));
      assert.equal(d.askQuote, depthWithin(f64, 0, layout, Side.Ask, mid, d.bps, true));
    });
    for (const s of frame.slippage) {
      assert.equal(s.buyBps, slippageBps(f64, 0, layout, Trade.Buy, s.notional, mid, walk));
      assert.equal(s.buyExceeds, walk.exceeds);
      assert.equal(s.sellBps, slippageBps(f64, 0, layout, Trade.Sell, s.notional, mid, walk));
      assert.equal(s.sellFilledQuote, walk.filledQuote);
    }
  }
});
