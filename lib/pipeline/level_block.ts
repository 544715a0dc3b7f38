/**
 * The levels block that book slots and analytics slots share: `levels` bid
 * levels, then `levels` ask levels, each a (price, size) pair of float64
 * words, best level first.
 *
 * @example
 * ```ts
 * const block = new LevelBlockLayout(5, 8);
 * block.askPrice(0); // 8 + 2 · 5 = 18
 * block.bidSize(1); // 11
 * ```
 * @module
 */

/**
 * The number of entries a count word of a slot (levels or walls per side)
 * stands for: a NaN or negative count is 0, and at most `max` are stored.
 *
 * @example
 * ```ts
 * storedCount(NaN, 20); // 0
 * storedCount(25, 20); // 20
 * ```
 */
export function storedCount(v: number, max: number): number {
  return v >= 0 ? (v < max ? v : max) : 0;
}

/**
 * Offsets of a levels block starting at word `bidsStart`; `BookSlotLayout`
 * and `FrameSlotLayout` extend it.
 *
 * @example
 * ```ts
 * new LevelBlockLayout(20, 0).asksStart; // 40
 * ```
 */
export class LevelBlockLayout {
  /** Levels per side. */
  readonly levels: number;
  /** Word offset of the first bid price. */
  readonly bidsStart: number;
  /** Word offset of the first ask price. */
  readonly asksStart: number;

  /**
   * @param levels levels per side (the slot layouts check the range).
   * @param bidsStart word offset of the block in its slot.
   */
  constructor(levels: number, bidsStart: number) {
    this.levels = levels;
    this.bidsStart = bidsStart;
    this.asksStart = bidsStart + 2 * levels;
  }

  /** Word offset of bid level `i`'s price (0 = best). */
  bidPrice(i: number): number {
    return this.bidsStart + 2 * i;
  }
  /** Word offset of bid level `i`'s size. */
  bidSize(i: number): number {
    return this.bidsStart + 2 * i + 1;
  }
  /** Word offset of ask level `i`'s price (0 = best). */
  askPrice(i: number): number {
    return this.asksStart + 2 * i;
  }
  /** Word offset of ask level `i`'s size. */
  askSize(i: number): number {
    return this.asksStart + 2 * i + 1;
  }
}
