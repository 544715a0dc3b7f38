/**
 * Binary layout of one order-book frame in a raw-ring slot.
 *
 * A slot is a run of float64 words. The header comes first, then `levels`
 * (price, size) pairs for the bids (best first, prices descending), then
 * `levels` pairs for the asks (best first, prices ascending). Unused level
 * pairs past `bidCount` / `askCount` are left as they were and must be ignored.
 *
 * This module is the only place that knows these offsets; everything else
 * goes through {@link BookSlotLayout}.
 *
 * @example
 * ```ts
 * import { BOOK_BID_COUNT, BOOK_SYMBOL_ID, BookSlotLayout } from "./book_slot.ts";
 * const layout = new BookSlotLayout(20);
 * layout.slotBytes; // 704
 * const f64 = new Float64Array(layout.slotWords);
 * f64[BOOK_SYMBOL_ID] = 0;
 * f64[layout.bidPrice(0)] = 100.5;
 * f64[layout.bidSize(0)] = 2;
 * f64[BOOK_BID_COUNT] = 1;
 * ```
 * @module
 */

import { LevelBlockLayout } from "./level_block.ts";

/** Word offset of the symbol id (index into the run's symbol list). */
export const BOOK_SYMBOL_ID = 0;
/** Word offset of the exchange's lastUpdateId (or `u` of a diff event); exact up to 2^53. */
export const BOOK_LAST_UPDATE_ID = 1;
/** Word offset of the exchange event time in epoch ms, or NaN when the stream has none. */
export const BOOK_EVENT_TIME = 2;
/** Word offset of the local receive time in epoch ms (fractional). */
export const BOOK_RECEIVE_TIME = 3;
/** Word offset of the time the frame finished parsing, epoch ms (fractional). */
export const BOOK_PARSED_TIME = 4;
/** Word offset of the flag bits ({@link BOOK_FLAG_STALE} and friends). */
export const BOOK_FLAGS = 5;
/** Word offset of the number of valid bid levels. */
export const BOOK_BID_COUNT = 6;
/** Word offset of the number of valid ask levels. */
export const BOOK_ASK_COUNT = 7;
/** Number of header words before the first level. */
export const BOOK_HEADER_WORDS = 8;

/** Flag: the book is the last good book of a symbol that is out of sync (diff mode). */
export const BOOK_FLAG_STALE = 1;
/** Flag: the frame comes from a locally maintained diff book (`--stream diff`). */
export const BOOK_FLAG_FROM_DIFF = 2;
/** Flag: the first frame after a (re)connect or resync of this symbol. */
export const BOOK_FLAG_RESYNCED = 4;

/** Default number of levels per side kept in a slot. */
export const DEFAULT_BOOK_LEVELS = 20;
/** Largest number of levels per side a slot may be configured with. */
export const MAX_BOOK_LEVELS = 1000;

/**
 * Offsets and sizes of a book slot holding `levels` levels per side.
 *
 * @example
 * ```ts
 * import { BOOK_HEADER_WORDS, BookSlotLayout } from "./book_slot.ts";
 * const l = new BookSlotLayout(5);
 * l.askPrice(0) === BOOK_HEADER_WORDS + 10; // true
 * ```
 */
export class BookSlotLayout extends LevelBlockLayout {
  /** Slot size in float64 words. */
  readonly slotWords: number;
  /** Slot size in bytes (a multiple of 8). */
  readonly slotBytes: number;

  /**
   * Compute the layout for `levels` levels per side.
   *
   * @param levels levels per side, an integer from 1 to {@link MAX_BOOK_LEVELS}; default 20.
   * @throws RangeError when `levels` is out of range.
   */
  constructor(levels: number = DEFAULT_BOOK_LEVELS) {
    if (!Number.isInteger(levels) || levels < 1 || levels > MAX_BOOK_LEVELS) {
      throw new RangeError(
        `book levels must be an integer from 1 to ${MAX_BOOK_LEVELS}, got ${levels}`,
      );
    }
    super(levels, BOOK_HEADER_WORDS);
    this.slotWords = BOOK_HEADER_WORDS + 4 * levels;
    this.slotBytes = this.slotWords * 8;
  }
}
