/**
 * The bookkeeping of a fixed-capacity ring of columns (the caller keeps one
 * typed array per field, indexed by slot): where the next column goes, how
 * many are stored, the slot of the k-th oldest. The base class of the chart ring
 * ({@linkcode FrameRing}) and the heatmap's ring of ladders, which add their columns. Allocates nothing.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import { RingIndex } from "./ring_index.ts";
 * const ring = new RingIndex(3);
 * for (let i = 0; i < 4; i++) ring.advance(); // slots 0, 1, 2, 0
 * ring.size; // 3
 * ring.slot(0); // 1: the oldest kept
 * ring.newest; // 0
 * ```
 * @module
 */

/** Slot arithmetic of a ring of `capacity` columns. */
export class RingIndex {
  /** Columns the ring holds at most. */
  readonly capacity: number;
  #next = 0;
  #size = 0;
  #pushed = 0;

  /**
   * A ring of `capacity` columns (an integer ≥ 1; the owner validates its range).
   *
   * @example
   * ```ts
   * import { RingIndex } from "./ring_index.ts";
   * new RingIndex(600).next; // 0
   * ```
   */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** The slot the next column is written to. */
  get next(): number {
    return this.#next;
  }

  /** Columns stored (at most `capacity`). */
  get size(): number {
    return this.#size;
  }

  /** Columns pushed since construction or the last {@linkcode RingIndex.clear}. */
  get pushed(): number {
    return this.#pushed;
  }

  /** Slot of the k-th oldest stored column (0 = oldest, size − 1 = newest). */
  slot(k: number): number {
    let i = this.#next - this.#size + k;
    if (i < 0) i += this.capacity;
    else if (i >= this.capacity) i -= this.capacity;
    return i;
  }

  /** Slot of the newest column, or −1 when empty. */
  get newest(): number {
    return this.#size === 0 ? -1 : this.slot(this.#size - 1);
  }

  /** Count the column just written at {@linkcode RingIndex.next} and move past it. */
  advance(): void {
    const i = this.#next;
    this.#next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.#size < this.capacity) this.#size++;
    this.#pushed++;
  }

  /** Forget every column. */
  clear(): void {
    this.#next = 0;
    this.#size = 0;
    this.#pushed = 0;
  }
}
