/**
 * Sanity checks on a parsed book slot, and a per-symbol update-id sequence
 * check for partial-book streams.
 *
 * @example
 * ```ts
 * import { validateBook } from "./validate_book.ts";
 * import { BOOK_BID_COUNT, BookSlotLayout } from "../pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(5);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[BOOK_BID_COUNT] = 1;
 * f64[layout.bidPrice(0)] = 100;
 * f64[layout.bidSize(0)] = 1;
 * validateBook(f64, 0, layout); // RejectReason.Ok
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";
import { RejectReason } from "../pipeline/reject_reason.ts";

/**
 * Checks the book in the slot at `f64[base...]`.
 *
 * Levels are checked bids first, then asks, best level first, and the first
 * failure wins: a price that is NaN, non-finite, zero or negative is
 * {@link RejectReason.BadPrice}; a size that is NaN, non-finite or negative is
 * {@link RejectReason.BadSize} (zero is allowed); a bid price not strictly
 * below the previous one, or an ask price not strictly above the previous
 * one, is {@link RejectReason.Unsorted}. Then, when both sides are non-empty,
 * best bid >= best ask is {@link RejectReason.Crossed}. Counts that are not
 * integers from 0 to `layout.levels` are {@link RejectReason.Malformed}.
 * Allocates nothing.
 *
 * @returns {@link RejectReason.Ok} or the first problem found.
 * @example
 * ```ts
 * import { validateBook } from "./validate_book.ts";
 * import { BOOK_ASK_COUNT, BOOK_BID_COUNT, BookSlotLayout } from "../pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(5);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[BOOK_BID_COUNT] = 1;
 * f64[layout.bidPrice(0)] = 101;
 * f64[layout.bidSize(0)] = 1;
 * f64[BOOK_ASK_COUNT] = 1;
 * f64[layout.askPrice(0)] = 100;
 * f64[layout.askSize(0)] = 1;
 * validateBook(f64, 0, layout); // RejectReason.Crossed: bid 101 >= ask 100
 * ```
 */
export function validateBook(f64: Float64Array, base: number, layout: BookSlotLayout): number {
  const bidCount = f64[base + BOOK_BID_COUNT];
  const askCount = f64[base + BOOK_ASK_COUNT];
  const levels = layout.levels;
  if (
    !(bidCount >= 0 && bidCount <= levels && askCount >= 0 && askCount <= levels) ||
    bidCount !== Math.floor(bidCount) || askCount !== Math.floor(askCount)
  ) {
    return RejectReason.Malformed;
  }
  const bids = base + layout.bidsStart;
  let prev = Infinity;
  for (let i = 0; i < bidCount; i++) {
    const p = f64[bids + 2 * i];
    const q = f64[bids + 2 * i + 1];
    if (!(p > 0 && p < Infinity)) return RejectReason.BadPrice;
    if (!(q >= 0 && q < Infinity)) return RejectReason.BadSize;
    if (!(p < prev)) return RejectReason.Unsorted;
    prev = p;
  }
  const asks = base + layout.asksStart;
  prev = 0;
  for (let i = 0; i < askCount; i++) {
    const p = f64[asks + 2 * i];
    const q = f64[asks + 2 * i + 1];
    if (!(p > 0 && p < Infinity)) return RejectReason.BadPrice;
    if (!(q >= 0 && q < Infinity)) return RejectReason.BadSize;
    if (!(p > prev)) return RejectReason.Unsorted;
    prev = p;
  }
  if (bidCount > 0 && askCount > 0 && f64[bids] >= f64[asks]) return RejectReason.Crossed;
  return RejectReason.Ok;
}

/**
 * Last accepted update id per symbol, in one preallocated Float64Array.
 * A partial-book frame whose lastUpdateId is below the last accepted one is
 * stale; an equal one means the book did not change.
 *
 * @example
 * ```ts
 * import { UpdateIdTracker } from "./validate_book.ts";
 * const ids = new UpdateIdTracker(2);
 * ids.check(0, 160); // RejectReason.Ok
 * ids.accept(0, 160);
 * ids.check(0, 160); // RejectReason.Duplicate
 * ids.check(0, 159); // RejectReason.StaleUpdateId
 * ids.reset(0); // after a reconnect any id is accepted again
 * ```
 */
export class UpdateIdTracker {
  /** Number of symbols tracked. */
  readonly size: number;
  readonly #last: Float64Array;

  /**
   * Creates a tracker with no id accepted for any symbol.
   *
   * @param symbolCount number of symbols (ids 0 to symbolCount - 1), an integer >= 1.
   * @throws RangeError when `symbolCount` is not a positive integer.
   */
  constructor(symbolCount: number) {
    if (!Number.isInteger(symbolCount) || symbolCount < 1) {
      throw new RangeError(`symbol count must be a positive integer, got ${symbolCount}`);
    }
    this.size = symbolCount;
    this.#last = new Float64Array(symbolCount).fill(NaN);
  }

  /**
   * Compares `lastUpdateId` with the symbol's last accepted id (does not record it).
   *
   * @returns {@link RejectReason.Ok} when newer or nothing was accepted since the last
   *   reset; {@link RejectReason.Duplicate} when equal; {@link RejectReason.StaleUpdateId}
   *   when older; {@link RejectReason.Malformed} when `lastUpdateId` is NaN.
   * @throws RangeError when `symbolId` is out of range (a caller bug).
   * @example
   * ```ts
   * import { UpdateIdTracker } from "./validate_book.ts";
   * new UpdateIdTracker(1).check(0, 5); // RejectReason.Ok
   * ```
   */
  check(symbolId: number, lastUpdateId: number): number {
    const last = this.#last[this.#index(symbolId)];
    if (lastUpdateId !== lastUpdateId) return RejectReason.Malformed;
    if (last !== last || lastUpdateId > last) return RejectReason.Ok;
    return lastUpdateId === last ? RejectReason.Duplicate : RejectReason.StaleUpdateId;
  }

  /**
   * Records `lastUpdateId` as the symbol's last accepted id.
   *
   * @example
   * ```ts
   * import { UpdateIdTracker } from "./validate_book.ts";
   * const tracker = new UpdateIdTracker(1);
   * tracker.accept(0, 161);
   * tracker.last(0); // 161
   * ```
   */
  accept(symbolId: number, lastUpdateId: number): void {
    this.#last[this.#index(symbolId)] = lastUpdateId;
  }

  /**
   * The symbol's last accepted id, NaN when none since the last reset.
   *
   * @example
   * ```ts
   * import { UpdateIdTracker } from "./validate_book.ts";
   * new UpdateIdTracker(1).last(0); // NaN
   * ```
   */
  last(symbolId: number): number {
    return this.#last[this.#index(symbolId)];
  }

  /**
   * Forgets the symbol's last id (after a reconnect the exchange may restart lower).
   *
   * @example
   * ```ts
   * import { UpdateIdTracker } from "./validate_book.ts";
   * const tracker = new UpdateIdTracker(1);
   * tracker.accept(0, 161);
   * tracker.reset(0);
   * tracker.check(0, 5); // RejectReason.Ok
   * ```
   */
  reset(symbolId: number): void {
    this.#last[this.#index(symbolId)] = NaN;
  }

  #index(symbolId: number): number {
    if (!(symbolId >= 0 && symbolId < this.size) || symbolId !== Math.floor(symbolId)) {
      throw new RangeError(
        `symbol id must be an integer from 0 to ${this.size - 1}, got ${symbolId}`,
      );
    }
    return symbolId;
  }
}
