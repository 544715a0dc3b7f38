/**
 * Map a decoded wire `Frame` (proto/market.proto, `depthwatch.v1.Frame`) to
 * the dashboard's {@linkcode DashFrame}, writing into a reused object.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { Frame } from "../../proto/gen/market_pb.ts";
import { BOOK_FLAG_STALE } from "../pipeline/book_slot.ts";
import {
  copyInto,
  copyVenues,
  type DashFrame,
  emptyDashFrame,
  isResyncedFrame,
} from "./dash_frame.ts";

/**
 * Copy a wire frame into `target` (default: a new frame). Latency is
 * delivered − receive (the server-side pipeline latency). Allocation-free
 * once `target`'s arrays have grown to the book depth.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { FrameSchema } from "../../proto/gen/market_pb.ts";
 * import { dashFrameFromWire } from "./wire_frame.ts";
 * const wire = create(FrameSchema, { symbol: "BTCUSDT", seq: 7, mid: 100, bidPrices: [99.5] });
 * const f = dashFrameFromWire(wire);
 * assert.equal(f.seq, 7);
 * assert.deepEqual(f.bidPrices, [99.5]);
 * ```
 */
export function dashFrameFromWire(frame: Frame, target: DashFrame = emptyDashFrame()): DashFrame {
  const t = target;
  t.symbol = frame.symbol;
  t.seq = frame.seq;
  t.time = frame.receiveTime;
  t.mid = frame.mid;
  t.spread = frame.spread;
  t.spreadBps = frame.spreadBps;
  t.weightedMid = frame.weightedMid;
  t.imbalance1 = frame.imbalanceL1;
  t.imbalance5 = frame.imbalanceL5;
  t.imbalance20 = frame.imbalanceL20;
  t.ofi = frame.ofi;
  t.ofi1s = frame.ofi1s;
  t.ofi10s = frame.ofi10s;
  t.vol1m = frame.volatility1m;
  t.vol5m = frame.volatility5m;
  t.frameRate = frame.frameRate;
  t.latencyMs = frame.deliveredTime - frame.receiveTime;
  t.wallThreshold = frame.walls ? frame.walls.threshold : NaN;
  t.stale = (frame.flags & BOOK_FLAG_STALE) !== 0;
  t.resynced = isResyncedFrame(frame.flags);
  copyInto(t.bidPrices, frame.bidPrices);
  copyInto(t.bidSizes, frame.bidSizes);
  copyInto(t.askPrices, frame.askPrices);
  copyInto(t.askSizes, frame.askSizes);
  copyInto(t.bidVenues, frame.bidVenues);
  copyInto(t.askVenues, frame.askVenues);
  copyVenues(t.venues, frame.venues);
  const bands = frame.depth;
  const n = bands.length;
  for (let i = 0; i < n; i++) {
    t.depthBps[i] = bands[i].bps;
    t.depthBidQuote[i] = bands[i].bidQuote;
    t.depthAskQuote[i] = bands[i].askQuote;
  }
  t.depthBps.length = n;
  t.depthBidQuote.length = n;
  t.depthAskQuote.length = n;
  return t;
}
