/**
 * The dashboard's view of one analytics frame: the fields the panels show,
 * as plain numbers and number arrays, so the same shape comes from the
 * server's history (first paint) and from the live socket.
 *
 * A `DashFrame` is meant to be reused: {@linkcode copyDashFrame} and
 * {@linkcode dashFrameFromAnalytics} with a `target` write into an existing
 * object and its arrays instead of allocating new ones, so the live path can
 * keep one frame object per symbol.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { AnalyticsFrame } from "../pipeline/analytics_frame.ts";
import { BOOK_FLAG_RESYNCED, BOOK_FLAG_STALE } from "../pipeline/book_slot.ts";

/** One member of a consolidated instrument, as of a frame (`Frame.venues`). */
export interface DashVenue {
  /** The member's upper-case symbol (`OKX:BTC-USDT`); "" when the server did not name it. */
  symbol: string;
  /** Its own best bid (NaN with none). */
  bestBid: number;
  /** Its own best ask (NaN with none). */
  bestAsk: number;
  /** Age of its newest book when the frame was composed, ms (NaN before any). */
  ageMs: number;
  /** Stale: it contributes no level to the consolidated ladder. */
  stale: boolean;
}

/** One analytics frame as the dashboard uses it. Missing quantities are NaN. */
export interface DashFrame {
  /** Upper-case symbol, e.g. `BTCUSDT`. */
  symbol: string;
  /** Per-symbol sequence number of the frame. */
  seq: number;
  /** Local receive time, epoch milliseconds. */
  time: number;
  /** (best bid + best ask) / 2. */
  mid: number;
  /** best ask − best bid. */
  spread: number;
  /** 1e4 · spread / mid. */
  spreadBps: number;
  /** Naive microprice. */
  weightedMid: number;
  /** Imbalance over the top 1 level per side, −1..1. */
  imbalance1: number;
  /** Imbalance over the top 5 levels per side, −1..1. */
  imbalance5: number;
  /** Imbalance over the top 20 levels per side, −1..1. */
  imbalance20: number;
  /** This frame's order-flow imbalance contribution e (multi-level). */
  ofi: number;
  /** Σ e over the last second. */
  ofi1s: number;
  /** Σ e over the last 10 seconds. */
  ofi10s: number;
  /** Realised volatility over 1 minute. */
  vol1m: number;
  /** Realised volatility over 5 minutes. */
  vol5m: number;
  /** Frames per second of this symbol. */
  frameRate: number;
  /** Receive → delivered to the main thread, milliseconds. */
  latencyMs: number;
  /** Sizes at or above this are walls (NaN when unknown). */
  wallThreshold: number;
  /** The book was flagged stale (out of sync) when this frame was made. */
  stale: boolean;
  /**
   * The first frame of its symbol after the ingest (re)connected or (diff
   * mode) re-seeded the book: OFI and volatility start over here (see
   * {@linkcode isResyncedFrame}).
   */
  resynced: boolean;
  /** Bid prices, best first. */
  bidPrices: number[];
  /** Bid sizes, same order as `bidPrices`. */
  bidSizes: number[];
  /** Ask prices, best first. */
  askPrices: number[];
  /** Ask sizes, same order as `askPrices`. */
  askSizes: number[];
  /** Consolidated instrument: the member (index into `venues`) of each bid level; empty otherwise. */
  bidVenues: number[];
  /** Consolidated instrument: the member of each ask level; empty otherwise. */
  askVenues: number[];
  /** Consolidated instrument: its members in `--consolidate` order; empty for a plain symbol. */
  venues: DashVenue[];
  /** Depth band distances from mid in bps, e.g. `[10, 25, 50]`. */
  depthBps: number[];
  /** Bid notional (quote currency) within each band. */
  depthBidQuote: number[];
  /** Ask notional (quote currency) within each band. */
  depthAskQuote: number[];
}

/**
 * Whether frame flags (`Frame.flags` on the wire, `AnalyticsFrame.flags` on
 * the server) mark the first frame of a symbol after the ingest (re)connected
 * or re-seeded its book (`BOOK_FLAG_RESYNCED`): its OFI is "no OFI" and its
 * volatility starts a new chain. docs/analytics.md, "Flags".
 *
 * @example
 * ```ts
 * import { isResyncedFrame } from "./dash_frame.ts";
 * isResyncedFrame(4); // true: BOOK_FLAG_RESYNCED
 * isResyncedFrame(2 | 256); // false
 * ```
 */
export function isResyncedFrame(flags: number): boolean {
  return (flags & BOOK_FLAG_RESYNCED) !== 0;
}

/**
 * A new frame with every number NaN and every list empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * const f = emptyDashFrame("BTCUSDT");
 * assert.ok(Number.isNaN(f.mid));
 * assert.equal(f.bidPrices.length, 0);
 * ```
 */
export function emptyDashFrame(symbol = ""): DashFrame {
  return {
    symbol,
    seq: NaN,
    time: NaN,
    mid: NaN,
    spread: NaN,
    spreadBps: NaN,
    weightedMid: NaN,
    imbalance1: NaN,
    imbalance5: NaN,
    imbalance20: NaN,
    ofi: NaN,
    ofi1s: NaN,
    ofi10s: NaN,
    vol1m: NaN,
    vol5m: NaN,
    frameRate: NaN,
    latencyMs: NaN,
    wallThreshold: NaN,
    stale: false,
    resynced: false,
    bidPrices: [],
    bidSizes: [],
    askPrices: [],
    askSizes: [],
    bidVenues: [],
    askVenues: [],
    venues: [],
    depthBps: [],
    depthBidQuote: [],
    depthAskQuote: [],
  };
}

/**
 * Copy `src` members into `dst` (reusing `dst`'s objects; allocates only when
 * `dst` grows).
 *
 * @example
 * ```ts
 * import { copyVenues, type DashVenue } from "./dash_frame.ts";
 * const dst: DashVenue[] = [];
 * copyVenues(dst, [{ symbol: "BTCUSDT", bestBid: 1, bestAsk: 2, ageMs: 0, stale: false }]);
 * dst.length; // 1
 * ```
 */
export function copyVenues(dst: DashVenue[], src: readonly DashVenue[]): void {
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const s = src[i];
    const d = dst[i] ??= { symbol: "", bestBid: NaN, bestAsk: NaN, ageMs: NaN, stale: false };
    d.symbol = s.symbol;
    d.bestBid = s.bestBid;
    d.bestAsk = s.bestAsk;
    d.ageMs = s.ageMs;
    d.stale = s.stale;
  }
  dst.length = n;
}

/**
 * Copy `src` into `dst` (values, then the length); allocation-free once `dst`
 * has grown.
 *
 * @example
 * ```ts
 * const dst = [1, 2, 3];
 * copyInto(dst, [7]); // dst is [7]
 * ```
 */
export function copyInto(dst: number[], src: ArrayLike<number>): void {
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = src[i];
  dst.length = n;
}

/**
 * Copy every field of `src` into `dst` (reusing `dst`'s arrays) and return `dst`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyDashFrame, emptyDashFrame } from "./dash_frame.ts";
 * const a = emptyDashFrame("ETHUSDT");
 * a.mid = 3000;
 * a.bidPrices.push(2999.9);
 * const b = copyDashFrame(a, emptyDashFrame());
 * assert.equal(b.mid, 3000);
 * assert.notEqual(b.bidPrices, a.bidPrices);
 * assert.deepEqual(b.bidPrices, [2999.9]);
 * ```
 */
export function copyDashFrame(src: DashFrame, dst: DashFrame): DashFrame {
  dst.symbol = src.symbol;
  dst.seq = src.seq;
  dst.time = src.time;
  dst.mid = src.mid;
  dst.spread = src.spread;
  dst.spreadBps = src.spreadBps;
  dst.weightedMid = src.weightedMid;
  dst.imbalance1 = src.imbalance1;
  dst.imbalance5 = src.imbalance5;
  dst.imbalance20 = src.imbalance20;
  dst.ofi = src.ofi;
  dst.ofi1s = src.ofi1s;
  dst.ofi10s = src.ofi10s;
  dst.vol1m = src.vol1m;
  dst.vol5m = src.vol5m;
  dst.frameRate = src.frameRate;
  dst.latencyMs = src.latencyMs;
  dst.wallThreshold = src.wallThreshold;
  dst.stale = src.stale;
  dst.resynced = src.resynced;
  copyInto(dst.bidPrices, src.bidPrices);
  copyInto(dst.bidSizes, src.bidSizes);
  copyInto(dst.askPrices, src.askPrices);
  copyInto(dst.askSizes, src.askSizes);
  copyInto(dst.bidVenues, src.bidVenues);
  copyInto(dst.askVenues, src.askVenues);
  copyVenues(dst.venues, src.venues);
  copyInto(dst.depthBps, src.depthBps);
  copyInto(dst.depthBidQuote, src.depthBidQuote);
  copyInto(dst.depthAskQuote, src.depthAskQuote);
  return dst;
}

/**
 * Map a server-side {@linkcode AnalyticsFrame} (from `readFrame`) to a
 * {@linkcode DashFrame}. Latency is delivered − receive when both are known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { readFrame } from "../pipeline/analytics_frame.ts";
 * import { dashFrameFromAnalytics } from "./dash_frame.ts";
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const frame = readFrame(new Float64Array(layout.slotWords), 0, layout);
 * frame.mid = 101.5;
 * assert.equal(dashFrameFromAnalytics(frame, "BTCUSDT").mid, 101.5);
 * ```
 *
 * @param frame The analytics frame.
 * @param symbol Its upper-case symbol name.
 * @param target Frame to write into (default: a new one).
 */
export function dashFrameFromAnalytics(
  frame: AnalyticsFrame,
  symbol: string,
  target: DashFrame = emptyDashFrame(),
): DashFrame {
  const t = target;
  t.symbol = symbol;
  t.seq = frame.sequence;
  t.time = frame.receiveTime;
  t.mid = frame.mid;
  t.spread = frame.spread;
  t.spreadBps = frame.spreadBps;
  t.weightedMid = frame.weightedMid;
  t.imbalance1 = frame.imbalance.l1;
  t.imbalance5 = frame.imbalance.l5;
  t.imbalance20 = frame.imbalance.l20;
  t.ofi = frame.ofi.e;
  t.ofi1s = frame.ofi.sum1s;
  t.ofi10s = frame.ofi.sum10s;
  t.vol1m = frame.volatility.m1;
  t.vol5m = frame.volatility.m5;
  t.frameRate = frame.frameRate;
  t.latencyMs = frame.deliveredTime - frame.receiveTime;
  t.wallThreshold = frame.walls.threshold;
  t.stale = (frame.flags & BOOK_FLAG_STALE) !== 0;
  t.resynced = isResyncedFrame(frame.flags);
  t.bidPrices.length = 0;
  t.bidSizes.length = 0;
  for (const l of frame.bids) {
    t.bidPrices.push(l.price);
    t.bidSizes.push(l.size);
  }
  t.askPrices.length = 0;
  t.askSizes.length = 0;
  for (const l of frame.asks) {
    t.askPrices.push(l.price);
    t.askSizes.push(l.size);
  }
  // The slot's venues block carries symbol ids, not names: members come with the live frames.
  t.bidVenues.length = 0;
  t.askVenues.length = 0;
  t.venues.length = 0;
  t.depthBps.length = 0;
  t.depthBidQuote.length = 0;
  t.depthAskQuote.length = 0;
  for (const d of frame.depth) {
    t.depthBps.push(d.bps);
    t.depthBidQuote.push(d.bidQuote);
    t.depthAskQuote.push(d.askQuote);
  }
  return t;
}
