/**
 * The main thread's per-symbol history: the last `depth` analytics frames of
 * each symbol, kept as copies of processed-ring slots in one preallocated
 * Float64Array per symbol. Insert is O(1) (a ring index, never `shift()`), and
 * nothing is allocated per frame.
 *
 * Subscribers (the WebSocket hub) are called synchronously after each insert
 * with the stored copy, so they read the frame in place.
 *
 * @example
 * ```ts
 * import { HistoryStore } from "./history_store.ts";
 * import { FrameSlotLayout, FRAME_MID, FRAME_SYMBOL_ID } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const history = new HistoryStore({ symbols: 2, layout });
 * const frame = new Float64Array(layout.slotWords);
 * frame[FRAME_SYMBOL_ID] = 1;
 * frame[FRAME_MID] = 3000.5;
 * history.push(frame);
 * history.size(1); // 1
 * history.f64(1)[history.latestBase(1) + FRAME_MID]; // 3000.5
 * ```
 * @module
 */

import { FRAME_SYMBOL_ID, type FrameSlotLayout } from "../pipeline/frame_slot.ts";

/** Options of {@link HistoryStore}. */
export interface HistoryStoreOptions {
  /** Number of symbols (ids 0..symbols-1). Required. */
  symbols: number;
  /** Frames kept per symbol. Default 100. */
  depth?: number;
  /** Layout of the frames stored. Required. */
  layout: FrameSlotLayout;
}

/** Called after a frame is stored; `base` is its first word in `f64`. */
export type HistoryListener = (symbolId: number, f64: Float64Array, base: number) => void;

/**
 * Fixed-size rings of analytics frames, one per symbol.
 *
 * @example
 * ```ts
 * import { HistoryStore } from "./history_store.ts";
 * import { FRAME_MID, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const history = new HistoryStore({ symbols: 1, depth: 3, layout: new FrameSlotLayout() });
 * const frame = new Float64Array(history.layout.slotWords); // symbol 0
 * for (const mid of [100, 101, 102, 103]) {
 *   frame[FRAME_MID] = mid;
 *   history.push(frame);
 * }
 * const mids: number[] = [];
 * history.forEach(0, (f64, base) => mids.push(f64[base + FRAME_MID]));
 * mids; // [101, 102, 103]: the last `depth` frames, oldest first
 * ```
 */
export class HistoryStore {
  /** Frames kept per symbol. */
  readonly depth: number;
  /** Number of symbols. */
  readonly symbols: number;
  /** Frame layout. */
  readonly layout: FrameSlotLayout;
  readonly #rings: Float64Array[];
  /** One view per stored slot, made once, so a push copies with `set` and allocates nothing. */
  readonly #views: Float64Array[][];
  readonly #next: Uint32Array;
  readonly #count: Uint32Array;
  readonly #listeners = new Set<HistoryListener>();
  #rejected = 0;

  /**
   * Allocates every symbol's ring, empty.
   *
   * @param options see {@link HistoryStoreOptions}.
   * @throws RangeError when `symbols` or `depth` is not a positive integer.
   */
  constructor(options: HistoryStoreOptions) {
    const depth = options.depth ?? 100;
    if (!Number.isInteger(options.symbols) || options.symbols < 1) {
      throw new RangeError(`history symbols must be a positive integer, got ${options.symbols}`);
    }
    if (!Number.isInteger(depth) || depth < 1 || depth > 100_000) {
      throw new RangeError(`history depth must be an integer from 1 to 100000, got ${depth}`);
    }
    this.depth = depth;
    this.symbols = options.symbols;
    this.layout = options.layout;
    this.#rings = [];
    this.#views = [];
    const words = this.layout.slotWords;
    for (let s = 0; s < this.symbols; s++) {
      const ring = new Float64Array(depth * words);
      this.#rings.push(ring);
      const views: Float64Array[] = [];
      for (let i = 0; i < depth; i++) views.push(ring.subarray(i * words, (i + 1) * words));
      this.#views.push(views);
    }
    this.#next = new Uint32Array(this.symbols);
    this.#count = new Uint32Array(this.symbols);
  }

  /**
   * Store a copy of `slot` (exactly one frame: `layout.slotWords` words, e.g.
   * a preallocated view into a batch buffer) under its symbol and notify the
   * listeners. Returns false (and counts it) when the frame's symbol id is out
   * of range.
   *
   * @throws RangeError when `slot` is not one frame long.
   */
  push(slot: Float64Array): boolean {
    const words = this.layout.slotWords;
    if (slot.length !== words) {
      throw new RangeError(`history push expects one frame of ${words} words, got ${slot.length}`);
    }
    const symbolId = slot[FRAME_SYMBOL_ID];
    if (!(symbolId >= 0 && symbolId < this.symbols) || symbolId !== (symbolId | 0)) {
      this.#rejected++;
      return false;
    }
    const ring = this.#rings[symbolId];
    const index = this.#next[symbolId];
    const at = index * words;
    this.#views[symbolId][index].set(slot);
    this.#next[symbolId] = (this.#next[symbolId] + 1) % this.depth;
    if (this.#count[symbolId] < this.depth) this.#count[symbolId]++;
    for (const listener of this.#listeners) listener(symbolId, ring, at);
    return true;
  }

  /** Frames refused because their symbol id was out of range. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Number of frames stored for `symbolId` (at most `depth`). */
  size(symbolId: number): number {
    return this.#count[symbolId] ?? 0;
  }

  /** The storage array of `symbolId`; frames sit at multiples of `layout.slotWords`. */
  f64(symbolId: number): Float64Array {
    return this.#rings[symbolId];
  }

  /** First word of the newest frame of `symbolId` in {@link HistoryStore.f64}, or -1. */
  latestBase(symbolId: number): number {
    if (!this.size(symbolId)) return -1;
    return ((this.#next[symbolId] + this.depth - 1) % this.depth) * this.layout.slotWords;
  }

  /** Call `fn` with each stored frame of `symbolId`, oldest first. */
  forEach(symbolId: number, fn: (f64: Float64Array, base: number) => void): void {
    const n = this.size(symbolId);
    const ring = this.#rings[symbolId];
    const first = (this.#next[symbolId] + this.depth - n) % this.depth;
    for (let k = 0; k < n; k++) fn(ring, ((first + k) % this.depth) * this.layout.slotWords);
  }

  /** Register a listener called after every stored frame; returns an unsubscribe function. */
  subscribe(listener: HistoryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
