/**
 * A locally maintained price-level order book for diff-depth streams.
 *
 * Each side keeps up to `capacity` levels in preallocated `Float64Array`s.
 * Updates carry absolute quantities: a size of zero (compared numerically, so
 * `"0.00000000"` and `"0"` both parse to 0) removes the level, any other size
 * replaces it. Lookups are binary searches; inserts and deletes move the tail
 * with `copyWithin`. Nothing is allocated per update.
 *
 * Logically bids are descending and asks ascending (index 0 is the best level,
 * see {@link LocalBook.bidPrice}). In storage both sides are kept ascending with
 * the touch at the END of the array (asks are stored negated), because most
 * updates land near the touch and this way they move only a few elements.
 *
 * When a side is full and a new level arrives, the level farthest from the touch
 * is dropped (or the new level itself, when it is the farthest); each such drop
 * is counted in {@link LocalBook.droppedLevels}. Deep levels lost this way come
 * back with the next snapshot; the top of the book is never affected.
 *
 * @example
 * ```ts
 * import { LocalBook } from "./local_book.ts";
 * const book = new LocalBook({ capacity: 1000 });
 * book.loadSnapshot([[100, 1], [99, 2]], [[101, 3]]);
 * book.setBid(100, 0); // removes 100
 * book.bestBid(); // 99
 * book.bestAsk(); // 101
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../pipeline/book_slot.ts";

/** Default number of levels kept per side. */
export const DEFAULT_LOCAL_BOOK_CAPACITY = 5000;

/**
 * The shape of one parsed diff-depth event, structurally identical to
 * `DiffEvent` of `diff_event.ts`. Only the first `bidCount` / `askCount`
 * entries of the level arrays are meaningful.
 *
 * @example
 * ```ts
 * import { type DiffEventLike } from "./local_book.ts";
 * const ev: DiffEventLike = {
 *   symbolId: 0, eventTime: 1, firstUpdateId: 10, finalUpdateId: 12,
 *   prevFinalUpdateId: NaN, bidCount: 1, askCount: 0,
 *   bidPrices: new Float64Array([100]), bidSizes: new Float64Array([0]),
 *   askPrices: new Float64Array(0), askSizes: new Float64Array(0),
 * };
 * ```
 */
export interface DiffEventLike {
  /** Index of the symbol in the run's symbol list. */
  symbolId: number;
  /** Exchange event time `E`, epoch ms. */
  eventTime: number;
  /** First update id in the event, `U`. */
  firstUpdateId: number;
  /** Final update id in the event, `u`. */
  finalUpdateId: number;
  /** Final update id of the previous event, `pu` (USD-M futures); NaN on spot. */
  prevFinalUpdateId: number;
  /** Number of valid bid updates. */
  bidCount: number;
  /** Number of valid ask updates. */
  askCount: number;
  /** Bid update prices. */
  bidPrices: Float64Array;
  /** Bid update sizes (absolute; 0 removes the level). */
  bidSizes: Float64Array;
  /** Ask update prices. */
  askPrices: Float64Array;
  /** Ask update sizes (absolute; 0 removes the level). */
  askSizes: Float64Array;
}

/** A `[price, size]` pair as in a REST depth snapshot, already parsed to numbers. */
export type LevelPair = readonly [number, number];

/** Options of {@link LocalBook}. */
export interface LocalBookOptions {
  /** Levels kept per side, a positive integer. Default {@link DEFAULT_LOCAL_BOOK_CAPACITY} (5000). */
  capacity?: number;
}

/**
 * Checks a list of snapshot levels: every entry must be a pair of a finite
 * price > 0 and a finite size >= 0.
 *
 * @returns an empty string when valid, otherwise a message saying what was wrong.
 * @example
 * ```ts
 * import { checkLevels } from "./local_book.ts";
 * checkLevels([[1, 2]], "bids"); // ""
 * checkLevels([[-1, 2]], "bids"); // "bids[0]: price must be a finite number > 0, got -1"
 * ```
 */
export function checkLevels(levels: ArrayLike<LevelPair>, what: string): string {
  if (levels === null || typeof levels !== "object" || typeof levels.length !== "number") {
    return `${what}: expected an array of [price, size] pairs, got ${typeof levels}`;
  }
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (!Array.isArray(level) || level.length < 2) {
      return `${what}[${i}]: expected a [price, size] pair`;
    }
    const price = level[0];
    const size = level[1];
    if (typeof price !== "number" || !(price > 0) || price === Infinity) {
      return `${what}[${i}]: price must be a finite number > 0, got ${price}`;
    }
    if (typeof size !== "number" || !(size >= 0) || size === Infinity) {
      return `${what}[${i}]: size must be a finite number >= 0, got ${size}`;
    }
  }
  return "";
}

/**
 * One side of the book, stored ascending by key with the best level last.
 * Bids use key = price, asks key = -price, so "better" is always "larger key".
 */
class Side {
  readonly keys: Float64Array;
  readonly sizes: Float64Array;
  readonly capacity: number;
  count = 0;
  dropped = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.keys = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
  }

  /** Index of the first key >= `key` (0..count). */
  lowerBound(key: number): number {
    const keys = this.keys;
    let lo = 0;
    let hi = this.count;
    // Most updates hit the touch: check the top before searching.
    if (hi > 0 && keys[hi - 1] < key) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  set(key: number, size: number): void {
    const keys = this.keys;
    const sizes = this.sizes;
    const count = this.count;
    const i = this.lowerBound(key);
    if (i < count && keys[i] === key) {
      if (size === 0) {
        keys.copyWithin(i, i + 1, count);
        sizes.copyWithin(i, i + 1, count);
        this.count = count - 1;
      } else {
        sizes[i] = size;
      }
      return;
    }
    if (size === 0) return; // removing an absent level: nothing to do
    if (count < this.capacity) {
      keys.copyWithin(i + 1, i, count);
      sizes.copyWithin(i + 1, i, count);
      keys[i] = key;
      sizes[i] = size;
      this.count = count + 1;
      return;
    }
    // Full: the farthest level (index 0) goes, or the new one if it is the farthest.
    this.dropped++;
    if (i === 0) return;
    keys.copyWithin(0, 1, i);
    sizes.copyWithin(0, 1, i);
    keys[i - 1] = key;
    sizes[i - 1] = size;
  }
}

/**
 * A price-level order book with fixed capacity per side.
 *
 * @example
 * ```ts
 * import { LocalBook } from "./local_book.ts";
 * import { BOOK_BID_COUNT, BookSlotLayout } from "../pipeline/book_slot.ts";
 * const book = new LocalBook();
 * book.loadSnapshot([[0.3521, 672]], [[0.3529, 10968]]);
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * book.writeTop(f64, 0, layout);
 * f64[BOOK_BID_COUNT]; // 1
 * ```
 */
export class LocalBook {
  /** Levels kept per side. */
  readonly capacity: number;
  /** Updates skipped because the price or size was not a valid number. */
  invalidLevels = 0;
  readonly #bids: Side;
  readonly #asks: Side;

  /**
   * Creates an empty book.
   *
   * @param options see {@link LocalBookOptions}.
   * @throws RangeError when `capacity` is not a positive integer.
   */
  constructor(options: LocalBookOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_LOCAL_BOOK_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`LocalBook capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#bids = new Side(capacity);
    this.#asks = new Side(capacity);
  }

  /** Number of bid levels held. */
  get bidCount(): number {
    return this.#bids.count;
  }
  /** Number of ask levels held. */
  get askCount(): number {
    return this.#asks.count;
  }
  /** Levels dropped (both sides, since construction) because a side was full. */
  get droppedLevels(): number {
    return this.#bids.dropped + this.#asks.dropped;
  }

  /** Price of bid level `i` (0 = best, prices descending); NaN past the end. */
  bidPrice(i: number): number {
    const s = this.#bids;
    return i >= 0 && i < s.count ? s.keys[s.count - 1 - i] : NaN;
  }
  /** Size of bid level `i` (0 = best); NaN past the end. */
  bidSize(i: number): number {
    const s = this.#bids;
    return i >= 0 && i < s.count ? s.sizes[s.count - 1 - i] : NaN;
  }
  /** Price of ask level `i` (0 = best, prices ascending); NaN past the end. */
  askPrice(i: number): number {
    const s = this.#asks;
    return i >= 0 && i < s.count ? -s.keys[s.count - 1 - i] : NaN;
  }
  /** Size of ask level `i` (0 = best); NaN past the end. */
  askSize(i: number): number {
    const s = this.#asks;
    return i >= 0 && i < s.count ? s.sizes[s.count - 1 - i] : NaN;
  }
  /** Number of bid levels priced at or above `price`. */
  bidsAtOrAbove(price: number): number {
    const s = this.#bids;
    return s.count - s.lowerBound(price);
  }
  /** Number of ask levels priced at or below `price`. */
  asksAtOrBelow(price: number): number {
    const s = this.#asks;
    return s.count - s.lowerBound(-price);
  }
  /** Best (highest) bid price, NaN when there are no bids. */
  bestBid(): number {
    return this.bidPrice(0);
  }
  /** Best (lowest) ask price, NaN when there are no asks. */
  bestAsk(): number {
    return this.askPrice(0);
  }

  /**
   * Sets the bid level at `price` to the absolute `size` (0 removes it).
   * An update with a non-finite or non-positive price, or a negative or
   * non-finite size, is skipped and counted in {@link invalidLevels}.
   */
  setBid(price: number, size: number): void {
    if (!(price > 0 && price < Infinity && size >= 0 && size < Infinity)) {
      this.invalidLevels++;
      return;
    }
    this.#bids.set(price, size);
  }

  /** Sets the ask level at `price` to the absolute `size` (0 removes it); see {@link setBid}. */
  setAsk(price: number, size: number): void {
    if (!(price > 0 && price < Infinity && size >= 0 && size < Infinity)) {
      this.invalidLevels++;
      return;
    }
    this.#asks.set(-price, size);
  }

  /**
   * Applies the level updates of one diff event (bids, then asks). Does not
   * look at update ids: sequencing is the job of `DiffSync`.
   */
  apply(event: DiffEventLike): void {
    const bp = event.bidPrices;
    const bs = event.bidSizes;
    for (let i = 0, n = event.bidCount; i < n; i++) this.setBid(bp[i], bs[i]);
    const ap = event.askPrices;
    const as = event.askSizes;
    for (let i = 0, n = event.askCount; i < n; i++) this.setAsk(ap[i], as[i]);
  }

  /**
   * Replaces the whole book with a REST snapshot. Levels may come in any
   * order; levels with size 0 are skipped. Levels beyond capacity are dropped
   * farthest-first and counted.
   *
   * @throws RangeError when a level is not a [finite price > 0, finite size >= 0]
   *   pair; the book is left unchanged in that case.
   */
  loadSnapshot(bids: ArrayLike<LevelPair>, asks: ArrayLike<LevelPair>): void {
    const problem = checkLevels(bids, "snapshot bids") || checkLevels(asks, "snapshot asks");
    if (problem) throw new RangeError(problem);
    this.clear();
    for (let i = 0; i < bids.length; i++) this.#bids.set(bids[i][0], bids[i][1]);
    for (let i = 0; i < asks.length; i++) this.#asks.set(-asks[i][0], asks[i][1]);
  }

  /** Removes all levels (counters are kept). */
  clear(): void {
    this.#bids.count = 0;
    this.#asks.count = 0;
  }

  /**
   * Writes the top `layout.levels` levels per side into the book slot starting
   * at word `base` of `f64`: the level pairs and `BOOK_BID_COUNT` /
   * `BOOK_ASK_COUNT`. Other header words are left to the caller.
   */
  writeTop(f64: Float64Array, base: number, layout: BookSlotLayout): void {
    const bids = this.#bids;
    const asks = this.#asks;
    const nb = bids.count < layout.levels ? bids.count : layout.levels;
    const na = asks.count < layout.levels ? asks.count : layout.levels;
    for (let i = 0, j = bids.count - 1; i < nb; i++, j--) {
      f64[base + layout.bidPrice(i)] = bids.keys[j];
      f64[base + layout.bidSize(i)] = bids.sizes[j];
    }
    for (let i = 0, j = asks.count - 1; i < na; i++, j--) {
      f64[base + layout.askPrice(i)] = -asks.keys[j];
      f64[base + layout.askSize(i)] = asks.sizes[j];
    }
    f64[base + BOOK_BID_COUNT] = nb;
    f64[base + BOOK_ASK_COUNT] = na;
  }
}
