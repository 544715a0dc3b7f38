/**
 * A venue's depth-limited view of a simulated book: the top `depth` levels per
 * side, and after each frame the levels of that view that changed. Venues that
 * publish a bounded book (Bybit `orderbook.50`, OKX `books` 400, Kraken depth
 * 10, ...) send exactly those changes: a level that left the view is sent with
 * size 0, a level that entered it with its size, so a client that applies the
 * updates to the snapshot holds the venue's top `depth` exactly, and its
 * checksum over the top levels matches the venue's.
 *
 * All arrays are allocated once; {@link BookWindow.advance} allocates nothing.
 *
 * @example
 * ```ts
 * import { BookModel } from "../book_model.ts";
 * import { symbolSpec } from "../symbol_spec.ts";
 * import { BookWindow } from "./book_window.ts";
 * const book = new BookModel(symbolSpec("btcusdt"), { seed: 1 });
 * const view = new BookWindow(book, 10);
 * view.refresh(); // view.bidCount === 10
 * book.advanceFrame();
 * const changed = view.advance(); // changes within the top 10 (sizes 0 = removed)
 * changed === view.changedBidCount + view.changedAskCount; // true
 * ```
 * @module
 */

import type { BookModel } from "../book_model.ts";

/**
 * The top levels of a book and their changes. See the module documentation.
 *
 * @example
 * ```ts
 * import { BookModel } from "../book_model.ts";
 * import { symbolSpec } from "../symbol_spec.ts";
 * const view = new BookWindow(new BookModel(symbolSpec("ethusdt")), 5);
 * view.refresh();
 * view.bidTicks[0] > view.bidTicks[1]; // true: bids best (highest) first
 * ```
 */
export class BookWindow {
  /** The book viewed. */
  readonly book: BookModel;
  /** Levels per side. */
  readonly depth: number;
  /** Bid prices (ticks), best first; the first {@link bidCount} are valid. */
  bidTicks: Float64Array;
  /** Bid sizes (lots), parallel to {@link bidTicks}. */
  bidLots: Float64Array;
  /** Ask prices (ticks), best (lowest) first. */
  askTicks: Float64Array;
  /** Ask sizes (lots). */
  askLots: Float64Array;
  /** Valid bid levels. */
  bidCount = 0;
  /** Valid ask levels. */
  askCount = 0;
  /** Changed bid prices of the last {@link advance}, best first. */
  readonly changedBidTicks: Float64Array;
  /** New sizes of {@link changedBidTicks}; 0 = the level left the view. */
  readonly changedBidLots: Float64Array;
  /** Changed ask prices of the last {@link advance}, best first. */
  readonly changedAskTicks: Float64Array;
  /** New sizes of {@link changedAskTicks}; 0 = the level left the view. */
  readonly changedAskLots: Float64Array;
  /** Valid entries of the changed bid arrays. */
  changedBidCount = 0;
  /** Valid entries of the changed ask arrays. */
  changedAskCount = 0;
  #oldBidTicks: Float64Array;
  #oldBidLots: Float64Array;
  #oldAskTicks: Float64Array;
  #oldAskLots: Float64Array;

  /**
   * Makes an empty view; call {@link refresh} before the first {@link advance}.
   *
   * @param book The simulated book.
   * @param depth Levels per side, 1..5000.
   * @throws {RangeError} if `depth` is out of range.
   */
  constructor(book: BookModel, depth: number) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 5000) {
      throw new RangeError(`BookWindow depth must be an integer in 1..5000, got ${depth}`);
    }
    this.book = book;
    this.depth = depth;
    this.bidTicks = new Float64Array(depth);
    this.bidLots = new Float64Array(depth);
    this.askTicks = new Float64Array(depth);
    this.askLots = new Float64Array(depth);
    this.#oldBidTicks = new Float64Array(depth);
    this.#oldBidLots = new Float64Array(depth);
    this.#oldAskTicks = new Float64Array(depth);
    this.#oldAskLots = new Float64Array(depth);
    this.changedBidTicks = new Float64Array(2 * depth);
    this.changedBidLots = new Float64Array(2 * depth);
    this.changedAskTicks = new Float64Array(2 * depth);
    this.changedAskLots = new Float64Array(2 * depth);
  }

  /** Reads the book's current top levels; no changes are recorded. */
  refresh(): void {
    this.bidCount = this.book.topBids(this.depth, this.bidTicks, this.bidLots);
    this.askCount = this.book.topAsks(this.depth, this.askTicks, this.askLots);
    this.changedBidCount = 0;
    this.changedAskCount = 0;
  }

  /**
   * Reads the book's current top levels and records what changed since the
   * last {@link refresh} or {@link advance}.
   *
   * @returns The number of changed levels (both sides).
   */
  advance(): number {
    let t = this.#oldBidTicks, l = this.#oldBidLots;
    this.#oldBidTicks = this.bidTicks;
    this.#oldBidLots = this.bidLots;
    this.bidTicks = t;
    this.bidLots = l;
    t = this.#oldAskTicks;
    l = this.#oldAskLots;
    this.#oldAskTicks = this.askTicks;
    this.#oldAskLots = this.askLots;
    this.askTicks = t;
    this.askLots = l;
    const oldBids = this.bidCount, oldAsks = this.askCount;
    this.bidCount = this.book.topBids(this.depth, this.bidTicks, this.bidLots);
    this.askCount = this.book.topAsks(this.depth, this.askTicks, this.askLots);
    this.changedBidCount = diffSide(
      this.#oldBidTicks,
      this.#oldBidLots,
      oldBids,
      this.bidTicks,
      this.bidLots,
      this.bidCount,
      -1,
      this.changedBidTicks,
      this.changedBidLots,
    );
    this.changedAskCount = diffSide(
      this.#oldAskTicks,
      this.#oldAskLots,
      oldAsks,
      this.askTicks,
      this.askLots,
      this.askCount,
      1,
      this.changedAskTicks,
      this.changedAskLots,
    );
    return this.changedBidCount + this.changedAskCount;
  }
}

/**
 * Merges two sorted level lists (`dir` -1: descending bids, 1: ascending asks)
 * into the list of changes, best first. Returns the number of changes.
 */
function diffSide(
  oldTicks: Float64Array,
  oldLots: Float64Array,
  oldCount: number,
  newTicks: Float64Array,
  newLots: Float64Array,
  newCount: number,
  dir: number,
  outTicks: Float64Array,
  outLots: Float64Array,
): number {
  let i = 0, j = 0, n = 0;
  while (i < oldCount || j < newCount) {
    if (j >= newCount || (i < oldCount && (oldTicks[i] - newTicks[j]) * dir < 0)) {
      outTicks[n] = oldTicks[i++];
      outLots[n++] = 0;
    } else if (i >= oldCount || (oldTicks[i] - newTicks[j]) * dir > 0) {
      outTicks[n] = newTicks[j];
      outLots[n++] = newLots[j++];
    } else {
      if (oldLots[i] !== newLots[j]) {
        outTicks[n] = newTicks[j];
        outLots[n++] = newLots[j];
      }
      i++;
      j++;
    }
  }
  return n;
}
