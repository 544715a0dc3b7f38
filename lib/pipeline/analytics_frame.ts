/**
 * A plain-object view of one analytics slot, for code off the hot path
 * (history API, tests). {@link readFrame} turns a slot into an
 * {@link AnalyticsFrame}.
 *
 * Quantities that could not be computed are NaN (JSON.stringify turns them
 * into `null`).
 *
 * @example
 * ```ts
 * import { readFrame } from "./analytics_frame.ts";
 * import { FrameSlotLayout } from "./frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const f64 = new Float64Array(layout.slotWords).fill(NaN);
 * const frame = readFrame(f64, 0, layout);
 * frame.bids.length; // 0 (the bid count word is NaN, read as 0)
 * ```
 * @module
 */

import {
  DEPTH_BANDS_BPS,
  FRAME_ANALYSED_TIME,
  FRAME_ASK_COUNT,
  FRAME_ASK_WALL_COUNT,
  FRAME_BID_COUNT,
  FRAME_BID_WALL_COUNT,
  FRAME_DELIVERED_TIME,
  FRAME_EVENT_TIME,
  FRAME_FLAGS,
  FRAME_IMBALANCE_1,
  FRAME_IMBALANCE_20,
  FRAME_IMBALANCE_5,
  FRAME_LAST_UPDATE_ID,
  FRAME_MID,
  FRAME_OFI,
  FRAME_OFI_10S,
  FRAME_OFI_1S,
  FRAME_OFI_L1,
  FRAME_OFI_L1_10S,
  FRAME_OFI_L1_1S,
  FRAME_PARSED_TIME,
  FRAME_RATE,
  FRAME_RECEIVE_TIME,
  FRAME_SEQUENCE,
  FRAME_SPREAD,
  FRAME_SPREAD_BPS,
  FRAME_SYMBOL_ID,
  FRAME_VOLATILITY_1M,
  FRAME_VOLATILITY_5M,
  FRAME_WALL_THRESHOLD,
  FRAME_WEIGHTED_MID,
  type FrameSlotLayout,
  slippageExceedsBit,
} from "./frame_slot.ts";
import { storedCount } from "./level_block.ts";

/** Base and quote depth of both sides within one band around mid. */
export interface DepthBand {
  /** Distance from mid in bps. */
  bps: number;
  /** Σ size of bids priced ≥ mid·(1 − bps/1e4). */
  bidBase: number;
  /** Σ price·size of those bids. */
  bidQuote: number;
  /** Σ size of asks priced ≤ mid·(1 + bps/1e4). */
  askBase: number;
  /** Σ price·size of those asks. */
  askQuote: number;
}

/** Slippage of buying and selling one notional. */
export interface SlippageEntry {
  /** Notional in quote currency. */
  notional: number;
  /** 1e4·(VWAP − mid)/mid walking the asks; positive when costly. */
  buyBps: number;
  /** 1e4·(mid − VWAP)/mid walking the bids; positive when costly. */
  sellBps: number;
  /** Quote amount the buy filled from the visible asks. */
  buyFilledQuote: number;
  /** Quote amount the sell filled from the visible bids. */
  sellFilledQuote: number;
  /** The buy needs more than the visible asks; buyBps is that of the visible part. */
  buyExceeds: boolean;
  /** The sell needs more than the visible bids; sellBps is that of the visible part. */
  sellExceeds: boolean;
}

/** One price level. */
export interface Level {
  /** Price in quote currency. */
  price: number;
  /** Size in base currency. */
  size: number;
}

/** Everything in one analytics slot, as a plain object. */
export interface AnalyticsFrame {
  /** Index of the symbol in the run's symbol list. */
  symbolId: number;
  /** Flag bits: book flags, `FRAME_FLAG_*`, slippage exceed bits. */
  flags: number;
  /** Exchange lastUpdateId. */
  lastUpdateId: number;
  /** Frames analysed for this symbol so far, this one included. */
  sequence: number;
  /** Exchange event time (NaN when the stream has none). */
  eventTime: number;
  /** Local receive time. */
  receiveTime: number;
  /** Parse finished. */
  parsedTime: number;
  /** Analytics computed. */
  analysedTime: number;
  /** Taken by the main thread (NaN until then). */
  deliveredTime: number;
  /** Frames/s of this symbol over the last 10 s. */
  frameRate: number;
  /** (Pb + Pa)/2. */
  mid: number;
  /** Pa − Pb. */
  spread: number;
  /** 1e4·spread/mid. */
  spreadBps: number;
  /** Naive microprice. */
  weightedMid: number;
  /** Imbalance over the top 1, 5 and 20 levels. */
  imbalance: { l1: number; l5: number; l20: number };
  /** OFI: this frame's e (multi-level and level 1) and window sums. */
  ofi: {
    e: number;
    eL1: number;
    sum1s: number;
    sum10s: number;
    l1Sum1s: number;
    l1Sum10s: number;
  };
  /** Realised volatility over 1 and 5 minutes (not annualised). */
  volatility: { m1: number; m5: number };
  /** Depth per band in {@link DEPTH_BANDS_BPS} order. */
  depth: DepthBand[];
  /** Slippage per configured notional. */
  slippage: SlippageEntry[];
  /** Walls: threshold, counts, and the largest few per side (largest first). */
  walls: { threshold: number; bidCount: number; askCount: number; bids: Level[]; asks: Level[] };
  /** Top bid levels, best first. */
  bids: Level[];
  /** Top ask levels, best first. */
  asks: Level[];
}

/** The `n` (price, size) pairs stored from word `start` on. */
function pairs(f64: Float64Array, start: number, n: number): Level[] {
  const out: Level[] = [];
  for (let k = 0; k < n; k++) out.push({ price: f64[start + 2 * k], size: f64[start + 2 * k + 1] });
  return out;
}

/**
 * Reads the analytics slot at word `base` of `f64` into a new plain object.
 * Allocates; not for the hot path.
 *
 * @example
 * ```ts
 * import { readFrame } from "./analytics_frame.ts";
 * import { FrameSlotLayout, FRAME_MID } from "./frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const f64 = new Float64Array(layout.slotWords);
 * f64[FRAME_MID] = 42;
 * readFrame(f64, 0, layout).mid; // 42
 * ```
 */
export function readFrame(
  f64: Float64Array,
  base: number,
  layout: FrameSlotLayout,
): AnalyticsFrame {
  const flags = f64[base + FRAME_FLAGS] | 0;
  const depth: DepthBand[] = [];
  for (let b = 0; b < DEPTH_BANDS_BPS.length; b++) {
    depth.push({
      bps: DEPTH_BANDS_BPS[b],
      bidBase: f64[base + layout.depthBidBase(b)],
      bidQuote: f64[base + layout.depthBidQuote(b)],
      askBase: f64[base + layout.depthAskBase(b)],
      askQuote: f64[base + layout.depthAskQuote(b)],
    });
  }
  const slippage: SlippageEntry[] = [];
  for (let i = 0; i < layout.notionals.length; i++) {
    slippage.push({
      notional: layout.notionals[i],
      buyBps: f64[base + layout.slippageBuyBps(i)],
      sellBps: f64[base + layout.slippageSellBps(i)],
      buyFilledQuote: f64[base + layout.slippageBuyFilled(i)],
      sellFilledQuote: f64[base + layout.slippageSellFilled(i)],
      buyExceeds: (flags & slippageExceedsBit(i, 0)) !== 0,
      sellExceeds: (flags & slippageExceedsBit(i, 1)) !== 0,
    });
  }
  const bidWallCount = f64[base + FRAME_BID_WALL_COUNT];
  const askWallCount = f64[base + FRAME_ASK_WALL_COUNT];
  const walls = (side: number, n: number) =>
    pairs(f64, base + layout.wallPrice(side, 0), storedCount(n, layout.wallsPerSide));
  const bids = pairs(
    f64,
    base + layout.bidsStart,
    storedCount(f64[base + FRAME_BID_COUNT], layout.levels),
  );
  const asks = pairs(
    f64,
    base + layout.asksStart,
    storedCount(f64[base + FRAME_ASK_COUNT], layout.levels),
  );
  return {
    symbolId: f64[base + FRAME_SYMBOL_ID],
    flags,
    lastUpdateId: f64[base + FRAME_LAST_UPDATE_ID],
    sequence: f64[base + FRAME_SEQUENCE],
    eventTime: f64[base + FRAME_EVENT_TIME],
    receiveTime: f64[base + FRAME_RECEIVE_TIME],
    parsedTime: f64[base + FRAME_PARSED_TIME],
    analysedTime: f64[base + FRAME_ANALYSED_TIME],
    deliveredTime: f64[base + FRAME_DELIVERED_TIME],
    frameRate: f64[base + FRAME_RATE],
    mid: f64[base + FRAME_MID],
    spread: f64[base + FRAME_SPREAD],
    spreadBps: f64[base + FRAME_SPREAD_BPS],
    weightedMid: f64[base + FRAME_WEIGHTED_MID],
    imbalance: {
      l1: f64[base + FRAME_IMBALANCE_1],
      l5: f64[base + FRAME_IMBALANCE_5],
      l20: f64[base + FRAME_IMBALANCE_20],
    },
    ofi: {
      e: f64[base + FRAME_OFI],
      eL1: f64[base + FRAME_OFI_L1],
      sum1s: f64[base + FRAME_OFI_1S],
      sum10s: f64[base + FRAME_OFI_10S],
      l1Sum1s: f64[base + FRAME_OFI_L1_1S],
      l1Sum10s: f64[base + FRAME_OFI_L1_10S],
    },
    volatility: { m1: f64[base + FRAME_VOLATILITY_1M], m5: f64[base + FRAME_VOLATILITY_5M] },
    depth,
    slippage,
    walls: {
      threshold: f64[base + FRAME_WALL_THRESHOLD],
      bidCount: bidWallCount,
      askCount: askWallCount,
      bids: walls(0, bidWallCount),
      asks: walls(1, askWallCount),
    },
    bids,
    asks,
  };
}
