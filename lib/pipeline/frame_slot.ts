/**
 * Binary layout of one analytics frame in a processed-ring slot.
 *
 * A slot is a run of float64 words. A fixed header of {@link FRAME_HEADER_WORDS}
 * words comes first (named offsets below), then three blocks whose size depends
 * on the run's configuration:
 *
 * 1. slippage: for each configured notional `i`, four words
 *    (buy bps, sell bps, buy filled quote, sell filled quote);
 * 2. walls: `wallsPerSide` (price, size) pairs for the bids, then the same for
 *    the asks, largest first; unused pairs are NaN;
 * 3. levels: `levels` (price, size) pairs for the bids (best first), then
 *    `levels` pairs for the asks, exactly as in the book slot; pairs past
 *    {@link FRAME_BID_COUNT} / {@link FRAME_ASK_COUNT} must be ignored;
 * 4. venues, only when the run has consolidated instruments (`venueMembers`
 *    > 0, else no word at all): one count word (the frame's members, 0 for a
 *    plain symbol), a member-index word per bid level then per ask level (the
 *    member each level comes from), then per member ({@link VENUE_MEMBER_WORDS}
 *    words): its symbol id, best bid, best ask, age in ms, stale (1) or not (0).
 *
 * Quantities that cannot be computed (one-sided book, no previous frame, too
 * few samples) are NaN. Times are epoch milliseconds (fractional).
 *
 * The {@link FRAME_FLAGS} word holds the book's flags in bits 0–7 (the
 * `BOOK_FLAG_*` values), the analytics flags `FRAME_FLAG_*` in bits 8–15, and
 * from bit 16 two "slippage exceeds the visible book" bits per notional
 * (see {@link slippageExceedsBit}).
 *
 * This module is the only place that knows these offsets; everything else
 * goes through the constants and {@link FrameSlotLayout}.
 *
 * @example
 * ```ts
 * import { FRAME_MID, FrameSlotLayout } from "./frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const f64 = new Float64Array(layout.slotWords);
 * f64[FRAME_MID] = 100.5;
 * f64[layout.slippageBuyBps(0)] = 1.25; // buying the first notional (10k) costs 1.25 bps
 * ```
 * @module
 */

import { DEFAULT_BOOK_LEVELS, MAX_BOOK_LEVELS } from "./book_slot.ts";
import { LevelBlockLayout } from "./level_block.ts";

/** Word offset of the symbol id (index into the run's symbol list), copied from the book. */
export const FRAME_SYMBOL_ID = 0;
/** Word offset of the flag bits (book flags, `FRAME_FLAG_*`, slippage exceed bits). */
export const FRAME_FLAGS = 1;
/** Word offset of the exchange's lastUpdateId, copied from the book. */
export const FRAME_LAST_UPDATE_ID = 2;
/** Word offset of the per-symbol sequence number: frames analysed for this symbol so far, this one included (first = 1). */
export const FRAME_SEQUENCE = 3;
/** Word offset of the exchange event time (NaN when the stream has none). */
export const FRAME_EVENT_TIME = 4;
/** Word offset of the local receive time. */
export const FRAME_RECEIVE_TIME = 5;
/** Word offset of the time the book finished parsing. */
export const FRAME_PARSED_TIME = 6;
/** Word offset of the time the analytics were computed. */
export const FRAME_ANALYSED_TIME = 7;
/** Word offset of the time the main thread took the frame; the analyser writes NaN, main fills it. */
export const FRAME_DELIVERED_TIME = 8;
/**
 * Word offset of the symbol's frame rate in frames/s: over the frames of the
 * last 10 s (by receive time, this one included), `(n − 1) · 1000 / (t_last − t_first)`;
 * NaN with fewer than 2 frames or a zero span.
 */
export const FRAME_RATE = 9;
/** Word offset of mid = (Pb + Pa) / 2. */
export const FRAME_MID = 10;
/** Word offset of spread = Pa − Pb. */
export const FRAME_SPREAD = 11;
/** Word offset of spread_bps = 1e4 · spread / mid. */
export const FRAME_SPREAD_BPS = 12;
/** Word offset of the weighted mid I·Pa + (1 − I)·Pb, I = Qb / (Qb + Qa). */
export const FRAME_WEIGHTED_MID = 13;
/** Word offset of the imbalance over the top 1 level per side. */
export const FRAME_IMBALANCE_1 = 14;
/** Word offset of the imbalance over the top 5 levels per side. */
export const FRAME_IMBALANCE_5 = 15;
/** Word offset of the imbalance over the top 20 levels per side. */
export const FRAME_IMBALANCE_20 = 16;
/** Word offset of this frame's multi-level OFI contribution e (sum over the OFI levels). */
export const FRAME_OFI = 17;
/** Word offset of this frame's level-1 OFI contribution e. */
export const FRAME_OFI_L1 = 18;
/** Word offset of the sum of level-1 e over the last 1 s. */
export const FRAME_OFI_L1_1S = 19;
/** Word offset of the sum of level-1 e over the last 10 s. */
export const FRAME_OFI_L1_10S = 20;
/** Word offset of the sum of multi-level e over the last 1 s. */
export const FRAME_OFI_1S = 21;
/** Word offset of the sum of multi-level e over the last 10 s. */
export const FRAME_OFI_10S = 22;
/** Word offset of the realised volatility over the last 1 min (not annualised). */
export const FRAME_VOLATILITY_1M = 23;
/** Word offset of the realised volatility over the last 5 min (not annualised). */
export const FRAME_VOLATILITY_5M = 24;
/** Word offset of the number of valid bid levels in the levels block. */
export const FRAME_BID_COUNT = 25;
/** Word offset of the number of valid ask levels in the levels block. */
export const FRAME_ASK_COUNT = 26;
/** Word offset of the number of bid levels that are walls (may exceed the walls kept). */
export const FRAME_BID_WALL_COUNT = 27;
/** Word offset of the number of ask levels that are walls. */
export const FRAME_ASK_WALL_COUNT = 28;
/** Word offset of the wall threshold: wall factor × median visible size (NaN for an empty book). */
export const FRAME_WALL_THRESHOLD = 29;
/**
 * Word offset of the depth block: for each band in {@link DEPTH_BANDS_BPS},
 * four words (bid base, bid quote, ask base, ask quote). Use the
 * `FrameSlotLayout.depth*` methods rather than this offset.
 */
export const FRAME_DEPTH_START = 30;
/** Distances from mid, in bps, of the depth bands. */
export const DEPTH_BANDS_BPS: readonly number[] = [10, 25, 50];
/** Words per depth band. */
const DEPTH_BAND_WORDS = 4;
/** Number of header words before the slippage block. */
export const FRAME_HEADER_WORDS = FRAME_DEPTH_START + DEPTH_BAND_WORDS * DEPTH_BANDS_BPS.length;

/** Analytics flag: at least one side of the book is empty; two-sided quantities are NaN. */
export const FRAME_FLAG_ONE_SIDED = 1 << 8;
/** Analytics flag: best bid ≥ best ask (crossed or locked book). */
export const FRAME_FLAG_CROSSED = 1 << 9;
/** Analytics flag: no OFI e for this frame (first frame, after stale/resync, or one-sided); e is NaN. */
export const FRAME_FLAG_NO_OFI = 1 << 10;
/** Analytics flag: the OFI window ring was full and dropped entries younger than 10 s early. */
export const FRAME_FLAG_WINDOW_OVERFLOW = 1 << 11;
/** Mask of the bits copied from the book's flags. */
export const FRAME_BOOK_FLAGS_MASK = 0xff;
/** Bit of the first slippage exceed flag. */
const SLIPPAGE_FLAGS_SHIFT = 16;

/** Default notionals (quote currency) for the slippage block. */
export const DEFAULT_NOTIONALS: readonly number[] = [10_000, 100_000, 1_000_000];
/** Largest number of notionals (their exceed bits must fit in bits 16–29). */
export const MAX_NOTIONALS = 7;
/** Default number of walls kept per side. */
export const DEFAULT_WALLS_PER_SIDE = 3;
/** Largest number of walls kept per side. */
export const MAX_WALLS_PER_SIDE = 16;
/** Words per notional in the slippage block. */
const SLIPPAGE_WORDS = 4;
/** Most members of one consolidated instrument. */
export const MAX_VENUE_MEMBERS = 8;
/** Words per member in the venues block: symbol id, best bid, best ask, age ms, stale. */
export const VENUE_MEMBER_WORDS = 5;

/**
 * Flag bit set when a buy (`side` 0 = buy, walking the asks) or sell (`side` 1,
 * walking the bids) of notional number `i` exceeds the visible book.
 *
 * @example
 * ```ts
 * import { slippageExceedsBit } from "./frame_slot.ts";
 * slippageExceedsBit(0, 0); // 1 << 16: buying notional 0 exceeds the visible asks
 * slippageExceedsBit(2, 1); // 1 << 21: selling notional 2 exceeds the visible bids
 * ```
 */
export function slippageExceedsBit(i: number, side: 0 | 1): number {
  return 1 << (SLIPPAGE_FLAGS_SHIFT + 2 * i + side);
}

/** Options of {@link FrameSlotLayout}. */
export interface FrameSlotLayoutOptions {
  /** Levels per side, the same as the book slot's; an integer from 1 to 1000. Default 20. */
  levels?: number;
  /** Notionals in quote currency for slippage, each positive and finite, 1 to 7 of them. Default [10k, 100k, 1M]. */
  notionals?: readonly number[];
  /** Largest walls kept per side, an integer from 0 to 16. Default 3. */
  wallsPerSide?: number;
  /**
   * Room for the members of a consolidated instrument: the largest member
   * count of the run's instruments, an integer from 0 to
   * {@link MAX_VENUE_MEMBERS}. Default 0: no venues block (no word added).
   */
  venueMembers?: number;
}

/**
 * Offsets and sizes of an analytics slot for a given configuration.
 *
 * @example
 * ```ts
 * import { FrameSlotLayout } from "./frame_slot.ts";
 * const l = new FrameSlotLayout({ levels: 20, notionals: [1e4, 1e5, 1e6], wallsPerSide: 3 });
 * l.slotWords; // 42 + 3*4 + 3*2*2 + 4*20 = 146
 * l.bidPrice(0) === l.bidsStart; // true
 * const x = new FrameSlotLayout({ levels: 20, venueMembers: 3 });
 * x.slotWords; // 146 + 1 + 2*20 + 5*3 = 202
 * x.askVenue(0); // 146 + 1 + 20 = 167
 * ```
 */
export class FrameSlotLayout extends LevelBlockLayout {
  /** Notionals for slippage, in quote currency (a frozen copy). */
  readonly notionals: readonly number[];
  /** Walls kept per side. */
  readonly wallsPerSide: number;
  /** Word offset of the slippage block. */
  readonly slippageStart: number;
  /** Word offset of the walls block. */
  readonly wallsStart: number;
  /** Members the venues block has room for (0: no venues block). */
  readonly venueMembers: number;
  /** Word offset of the venues block (= the slot's end when it has none). */
  readonly venuesStart: number;
  /** Slot size in float64 words. */
  readonly slotWords: number;
  /** Slot size in bytes (a multiple of 8). */
  readonly slotBytes: number;

  /**
   * Compute the layout for the given levels, notionals and walls per side.
   *
   * @param options see {@link FrameSlotLayoutOptions}.
   * @throws RangeError when an option is out of range.
   */
  constructor(options: FrameSlotLayoutOptions = {}) {
    const levels = options.levels ?? DEFAULT_BOOK_LEVELS;
    const notionals = options.notionals ?? DEFAULT_NOTIONALS;
    const walls = options.wallsPerSide ?? DEFAULT_WALLS_PER_SIDE;
    if (!Number.isInteger(levels) || levels < 1 || levels > MAX_BOOK_LEVELS) {
      throw new RangeError(
        `frame levels must be an integer from 1 to ${MAX_BOOK_LEVELS}, got ${levels}`,
      );
    }
    if (notionals.length < 1 || notionals.length > MAX_NOTIONALS) {
      throw new RangeError(
        `notionals must hold 1 to ${MAX_NOTIONALS} values, got ${notionals.length}`,
      );
    }
    for (const n of notionals) {
      if (!Number.isFinite(n) || n <= 0) {
        throw new RangeError(`each notional must be a positive finite number, got ${n}`);
      }
    }
    if (!Number.isInteger(walls) || walls < 0 || walls > MAX_WALLS_PER_SIDE) {
      throw new RangeError(
        `wallsPerSide must be an integer from 0 to ${MAX_WALLS_PER_SIDE}, got ${walls}`,
      );
    }
    const members = options.venueMembers ?? 0;
    if (!Number.isInteger(members) || members < 0 || members > MAX_VENUE_MEMBERS) {
      throw new RangeError(
        `venueMembers must be an integer from 0 to ${MAX_VENUE_MEMBERS}, got ${members}`,
      );
    }
    const wallsStart = FRAME_HEADER_WORDS + SLIPPAGE_WORDS * notionals.length;
    super(levels, wallsStart + 4 * walls);
    this.notionals = Object.freeze([...notionals]);
    this.wallsPerSide = walls;
    this.slippageStart = FRAME_HEADER_WORDS;
    this.wallsStart = wallsStart;
    this.venueMembers = members;
    this.venuesStart = this.bidsStart + 4 * levels;
    this.slotWords = this.venuesStart +
      (members === 0 ? 0 : 1 + 2 * levels + VENUE_MEMBER_WORDS * members);
    this.slotBytes = this.slotWords * 8;
  }

  /** Word offset of the venues block's member count (0 for a plain symbol's frame); only with `venueMembers` > 0. */
  venueCount(): number {
    return this.venuesStart;
  }
  /** Word offset of the member index of bid level `i`. */
  bidVenue(i: number): number {
    return this.venuesStart + 1 + i;
  }
  /** Word offset of the member index of ask level `i`. */
  askVenue(i: number): number {
    return this.venuesStart + 1 + this.levels + i;
  }
  /** Word offset of member `k`'s symbol id. */
  memberSymbol(k: number): number {
    return this.venuesStart + 1 + 2 * this.levels + VENUE_MEMBER_WORDS * k;
  }
  /** Word offset of member `k`'s best bid (NaN without bids). */
  memberBestBid(k: number): number {
    return this.memberSymbol(k) + 1;
  }
  /** Word offset of member `k`'s best ask (NaN without asks). */
  memberBestAsk(k: number): number {
    return this.memberSymbol(k) + 2;
  }
  /** Word offset of member `k`'s book age in ms at composition (NaN before its first book). */
  memberAge(k: number): number {
    return this.memberSymbol(k) + 3;
  }
  /** Word offset of member `k`'s stale word: 1 stale (contributes nothing), 0 fresh. */
  memberStale(k: number): number {
    return this.memberSymbol(k) + 4;
  }

  /** Word offset of the bid base quantity within band `b` (index into {@link DEPTH_BANDS_BPS}). */
  depthBidBase(b: number): number {
    return FRAME_DEPTH_START + DEPTH_BAND_WORDS * b;
  }
  /** Word offset of the bid quote notional (Σ price·size) within band `b`. */
  depthBidQuote(b: number): number {
    return FRAME_DEPTH_START + DEPTH_BAND_WORDS * b + 1;
  }
  /** Word offset of the ask base quantity within band `b`. */
  depthAskBase(b: number): number {
    return FRAME_DEPTH_START + DEPTH_BAND_WORDS * b + 2;
  }
  /** Word offset of the ask quote notional within band `b`. */
  depthAskQuote(b: number): number {
    return FRAME_DEPTH_START + DEPTH_BAND_WORDS * b + 3;
  }

  /** Word offset of the slippage (bps) of buying notional `i` (walking the asks). */
  slippageBuyBps(i: number): number {
    return this.slippageStart + SLIPPAGE_WORDS * i;
  }
  /** Word offset of the slippage (bps) of selling notional `i` (walking the bids). */
  slippageSellBps(i: number): number {
    return this.slippageStart + SLIPPAGE_WORDS * i + 1;
  }
  /** Word offset of the quote amount a buy of notional `i` filled (< notional when it exceeds the book). */
  slippageBuyFilled(i: number): number {
    return this.slippageStart + SLIPPAGE_WORDS * i + 2;
  }
  /** Word offset of the quote amount a sell of notional `i` filled. */
  slippageSellFilled(i: number): number {
    return this.slippageStart + SLIPPAGE_WORDS * i + 3;
  }

  /** Word offset of the price of wall `k` (0 = largest) on `side` (0 bid, 1 ask); its size follows. */
  wallPrice(side: number, k: number): number {
    return this.wallsStart + 2 * (side * this.wallsPerSide + k);
  }
  /** Word offset of the size of wall `k` on `side`. */
  wallSize(side: number, k: number): number {
    return this.wallsStart + 2 * (side * this.wallsPerSide + k) + 1;
  }
}
