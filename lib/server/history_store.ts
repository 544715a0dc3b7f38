/**
 * The main thread's per-symbol history, kept once and compact: the last
 * `depth` analytics frames of each symbol WITHOUT their ladders (the words
 * before `layout.bidsStart`: scalars, depth bands, slippage, walls; plus the
 * time each was stored), and the newest frame of each symbol in full (with its
 * ladders). The dashboard charts the scalars over time and shows only the
 * newest ladder, so older ladders are never needed.
 *
 * Cost per symbol at the default layout (20 levels, 3 notionals, 3 walls) and
 * depth 100: 100 records × 67 words × 8 bytes = 53,600 bytes of records plus
 * one 1,168-byte full frame, in two preallocated Float64Arrays (no object per
 * frame). Insert is O(1) (a ring index) and allocates nothing.
 *
 * Readers ({@link HistoryStore.forEach}: `/api/history`, the first paint, the
 * hub's Hellos) get each stored frame as a full slot: the newest one as it
 * is, older ones rebuilt in a scratch slot whose ladder counts are 0 (no
 * levels). Subscribers (the WebSocket hub) are called synchronously after
 * each insert with the newest full frame, read in place.
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

import {
  FRAME_ASK_COUNT,
  FRAME_BID_COUNT,
  FRAME_SYMBOL_ID,
  type FrameSlotLayout,
} from "../pipeline/frame_slot.ts";

/** Options of {@link HistoryStore}. */
export interface HistoryStoreOptions {
  /** Number of symbols (ids 0..symbols-1). Required. */
  symbols: number;
  /** Frames kept per symbol. Default 100. */
  depth?: number;
  /** Layout of the frames stored. Required. */
  layout: FrameSlotLayout;
}

/**
 * Called after a frame is stored; `base` is its first word in `f64` (the
 * full newest frame, ladders included), `storedAt` the epoch ms it was stored.
 */
export type HistoryListener = (
  symbolId: number,
  f64: Float64Array,
  base: number,
  storedAt: number,
) => void;

/**
 * Called by {@link HistoryStore.forEach} with one stored frame: a full slot at
 * word `base` of `f64` (valid only during the call), and when it was stored.
 */
export type HistoryVisitor = (f64: Float64Array, base: number, storedAt: number) => void;

/**
 * Fixed-size rings of ladder-less frame records, one per symbol, and each
 * symbol's newest frame in full.
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
  /** Words of one record: the slot's words before its ladders, then the time it was stored. */
  readonly recordWords: number;
  /** Records of every symbol: symbol s's ring starts at word `s * depth * recordWords`. */
  readonly #records: Float64Array;
  /** The newest full frame of every symbol: symbol s's at word `s * slotWords`. */
  readonly #latest: Float64Array;
  /** A full slot rebuilt from a record for a reader (ladder counts 0). */
  readonly #scratch: Float64Array;
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
    this.recordWords = this.layout.bidsStart + 1;
    this.#records = new Float64Array(this.symbols * depth * this.recordWords);
    this.#latest = new Float64Array(this.symbols * this.layout.slotWords);
    this.#scratch = new Float64Array(this.layout.slotWords);
    this.#next = new Uint32Array(this.symbols);
    this.#count = new Uint32Array(this.symbols);
  }

  /**
   * Store `slot` (exactly one frame: `layout.slotWords` words, e.g. a
   * preallocated view into a batch buffer) under its symbol: its ladder-less
   * record in the ring, the whole frame as the symbol's newest; then notify
   * the listeners. Returns false (and counts it) when the frame's symbol id is
   * out of range.
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
    const storedAt = performance.timeOrigin + performance.now();
    const rw = this.recordWords;
    const index = this.#next[symbolId];
    const at = (symbolId * this.depth + index) * rw;
    const records = this.#records;
    for (let w = 0; w < rw - 1; w++) records[at + w] = slot[w];
    records[at + rw - 1] = storedAt;
    const base = symbolId * words;
    this.#latest.set(slot, base);
    this.#next[symbolId] = index + 1 === this.depth ? 0 : index + 1;
    if (this.#count[symbolId] < this.depth) this.#count[symbolId]++;
    for (const listener of this.#listeners) listener(symbolId, this.#latest, base, storedAt);
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

  /** The array holding the newest full frame of `symbolId` (see {@link HistoryStore.latestBase}). */
  f64(_symbolId: number): Float64Array {
    return this.#latest;
  }

  /** First word of the newest frame of `symbolId` in {@link HistoryStore.f64}, or -1. */
  latestBase(symbolId: number): number {
    if (!this.size(symbolId)) return -1;
    return symbolId * this.layout.slotWords;
  }

  /**
   * Call `fn` with each stored frame of `symbolId`, oldest first: the newest
   * one in full, older ones without ladders (their bid and ask counts 0).
   * The slot handed to `fn` is valid only during the call.
   */
  forEach(symbolId: number, fn: HistoryVisitor): void {
    const n = this.size(symbolId);
    if (n === 0) return;
    const rw = this.recordWords;
    const records = this.#records;
    const scratch = this.#scratch;
    const ring = symbolId * this.depth;
    const first = (this.#next[symbolId] + this.depth - n) % this.depth;
    for (let k = 0; k < n; k++) {
      const at = (ring + (first + k) % this.depth) * rw;
      const storedAt = records[at + rw - 1];
      if (k === n - 1) {
        fn(this.#latest, symbolId * this.layout.slotWords, storedAt);
        return;
      }
      for (let w = 0; w < rw - 1; w++) scratch[w] = records[at + w];
      scratch[FRAME_BID_COUNT] = 0;
      scratch[FRAME_ASK_COUNT] = 0;
      fn(scratch, 0, storedAt);
    }
  }

  /** Register a listener called after every stored frame; returns an unsubscribe function. */
  subscribe(listener: HistoryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
