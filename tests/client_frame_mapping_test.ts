import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { DepthBandSchema, FrameSchema, WallsSchema } from "../proto/gen/market_pb.ts";
import { FrameSlotLayout } from "../lib/pipeline/frame_slot.ts";
import { readFrame } from "../lib/pipeline/analytics_frame.ts";
import { writeFrame } from "./fixtures/frame_writer.ts";
import { dashFrameFromAnalytics, emptyDashFrame } from "../lib/client/dash_frame.ts";
import { dashFrameFromWire } from "../lib/client/wire_frame.ts";

Deno.test("dashFrameFromWire maps a decoded wire frame, NaN included, into a reused frame", () => {
  const wire = create(FrameSchema, {
    symbol: "ETHUSDT",
    seq: 42,
    flags: 1,
    receiveTime: 1000,
    deliveredTime: 1003.5,
    mid: 3000.05,
    spread: 0.1,
    spreadBps: 0.33,
    weightedMid: 3000.07,
    imbalanceL1: 0.5,
    imbalanceL5: -0.25,
    imbalanceL20: NaN,
    ofi: 3,
    ofi1s: 7,
    ofi10s: -12,
    volatility1m: 0.001,
    volatility5m: 0.002,
    frameRate: 49.5,
    depth: [create(DepthBandSchema, { bps: 10, bidQuote: 5e5, askQuote: 4e5 })],
    walls: create(WallsSchema, { threshold: 12 }),
    bidPrices: [3000, 2999.9],
    bidSizes: [1, 2],
    askPrices: [3000.1],
    askSizes: [3],
  });
  const decoded = fromBinary(FrameSchema, toBinary(FrameSchema, wire));
  const target = emptyDashFrame();
  const bids = target.bidPrices;
  const f = dashFrameFromWire(decoded, target);
  assert.equal(f, target);
  assert.equal(f.bidPrices, bids, "arrays are reused");
  assert.equal(f.symbol, "ETHUSDT");
  assert.equal(f.seq, 42);
  assert.equal(f.time, 1000);
  assert.equal(f.latencyMs, 3.5);
  assert.equal(f.imbalance5, -0.25);
  assert.ok(Number.isNaN(f.imbalance20));
  assert.equal(f.ofi10s, -12);
  assert.equal(f.wallThreshold, 12);
  assert.equal(f.stale, true);
  assert.deepEqual(f.bidPrices, [3000, 2999.9]);
  assert.deepEqual(f.askSizes, [3]);
  assert.deepEqual(f.depthBps, [10]);
  assert.deepEqual(f.depthBidQuote, [5e5]);
  // A shallower frame shrinks the reused arrays.
  const shallow = dashFrameFromWire(create(FrameSchema, { symbol: "ETHUSDT" }), target);
  assert.equal(shallow.bidPrices.length, 0);
  assert.equal(shallow.depthBps.length, 0);
  assert.ok(Number.isNaN(shallow.wallThreshold), "no walls message → NaN threshold");
});

Deno.test("dashFrameFromAnalytics maps a history slot the same way", () => {
  const layout = new FrameSlotLayout({ levels: 5 });
  const f64 = new Float64Array(layout.slotWords).fill(NaN);
  const frame = readFrame(f64, 0, layout);
  Object.assign(frame, {
    flags: 0,
    sequence: 9,
    receiveTime: 500,
    deliveredTime: 501,
    mid: 100.5,
    spreadBps: 9.95,
    weightedMid: 100.6,
    bids: [{ price: 100, size: 2 }, { price: 99.5, size: 1 }],
    asks: [{ price: 101, size: 4 }],
  });
  frame.imbalance.l1 = 0.1;
  frame.ofi.sum1s = 5;
  frame.walls.threshold = 3;
  frame.depth.forEach((d, i) => (d.bidQuote = i + 1));
  writeFrame(frame, f64, 0, layout);
  const f = dashFrameFromAnalytics(readFrame(f64, 0, layout), "BTCUSDT");
  assert.equal(f.symbol, "BTCUSDT");
  assert.equal(f.seq, 9);
  assert.equal(f.latencyMs, 1);
  assert.equal(f.mid, 100.5);
  assert.equal(f.imbalance1, 0.1);
  assert.equal(f.ofi1s, 5);
  assert.equal(f.wallThreshold, 3);
  assert.equal(f.stale, false);
  assert.deepEqual(f.bidPrices, [100, 99.5]);
  assert.deepEqual(f.bidSizes, [2, 1]);
  assert.deepEqual(f.askPrices, [101]);
  assert.deepEqual(f.depthBps, [10, 25, 50]);
  assert.deepEqual(f.depthBidQuote, [1, 2, 3]);
});
