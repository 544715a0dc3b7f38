/**
 * Writes an order book given as plain arrays into a book slot. For tests,
 * benchmarks and replays of recorded frames; not for the hot path.
 *
 * @example
 * ```ts
 * import { BookSlotLayout, BOOK_BID_COUNT } from "../lib/pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(5);
 * const f64 = new Float64Array(layout.slotWords);
 * writeBook(f64, 0, layout, { bids: [[99, 1]], asks: [[101, 2]] });
 * f64[BOOK_BID_COUNT]; // 1
 * ```
 * @module
 */

import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_EVENT_TIME,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_PARSED_TIME,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  type BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";

/** A book as plain arrays of [price, size], best first. */
export interface BookFixture {
  /** Bids, prices descending. */
  bids: readonly (readonly [number, number])[];
  /** Asks, prices ascending. */
  asks: readonly (readonly [number, number])[];
  /** Symbol id. Default 0. */
  symbolId?: number;
  /** lastUpdateId. Default 0. */
  lastUpdateId?: number;
  /** Exchange event time. Default NaN (partial-depth streams have none). */
  eventTime?: number;
  /** Receive time. Default 0. */
  receiveTime?: number;
  /** Parsed time. Default `receiveTime`. */
  parsedTime?: number;
  /** Book flags (`BOOK_FLAG_*`). Default 0. */
  flags?: number;
}

/**
 * Writes `book` into the slot at word `base`; levels beyond the layout are
 * cut off (counts say how many were kept).
 *
 * @example
 * ```ts
 * import { writeBook } from "./book_fixture.ts";
 * import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
 *
 * const layout = new BookSlotLayout(5);
 * const f64 = new Float64Array(layout.slotWords);
 * writeBook(f64, 0, layout, { bids: [], asks: [[101, 2]], receiveTime: 1000 });
 * ```
 */
export function writeBook(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  book: BookFixture,
): void {
  const nb = Math.min(book.bids.length, layout.levels);
  const na = Math.min(book.asks.length, layout.levels);
  f64[base + BOOK_SYMBOL_ID] = book.symbolId ?? 0;
  f64[base + BOOK_LAST_UPDATE_ID] = book.lastUpdateId ?? 0;
  f64[base + BOOK_EVENT_TIME] = book.eventTime ?? NaN;
  f64[base + BOOK_RECEIVE_TIME] = book.receiveTime ?? 0;
  f64[base + BOOK_PARSED_TIME] = book.parsedTime ?? book.receiveTime ?? 0;
  f64[base + BOOK_FLAGS] = book.flags ?? 0;
  f64[base + BOOK_BID_COUNT] = nb;
  f64[base + BOOK_ASK_COUNT] = na;
  for (let i = 0; i < nb; i++) {
    f64[base + layout.bidPrice(i)] = book.bids[i][0];
    f64[base + layout.bidSize(i)] = book.bids[i][1];
  }
  for (let i = 0; i < na; i++) {
    f64[base + layout.askPrice(i)] = book.asks[i][0];
    f64[base + layout.askSize(i)] = book.asks[i][1];
  }
}
