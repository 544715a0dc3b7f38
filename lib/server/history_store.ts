/**
 * The main thread's per-symbol history, kept once and compact: for each of
 * the last `depth` analytics frames of a symbol a short record of the words
 * the dashboard draws over time ({@link HISTORY_FIELDS}: sequence, flags,
 * receive and delivered times, mid, weighted mid, spread in bps, the three
 * imbalances and the OFI with its 1 s and 10 s sums; plus the time it was
 * stored), and the newest frame of each symbol in full (every word, ladders
 * included). The dashboard charts those words over time and shows every other
 * field (ladders, depth bands, slippage, walls, volatility…) of the newest
 * frame only, so older frames keep nothing else.
 *
 * Cost per symbol at depth 100: 100 records × 14 words × 8 bytes = 11,200
 * bytes plus one full frame (1,168 bytes at the default layout: 20 levels, 3
 * notionals, 3 walls), in two preallocated Float64Arrays (no object per
 * frame). Values are stored as the float64 they were, so what a reader gets
 * is exactly what was sent live. Insert is O(1) (a ring index) and allocates
 * nothing.
 *
 * Readers ({@link HistoryStore.forEach}: `/api/history`, the first paint, the
 * hub's Hellos) get each stored frame as a full slot: the newest one as it
 * is, older ones rebuilt in a scratch slot holding the record's words, the
 * symbol id, ladder counts of 0 (no levels) and NaN in every word the record
 * does not keep. Subscribers (the WebSocket hub) are called synchronously
 * after each insert with the newest full frame, read in place.
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
  FRAME_DELIVERED_TIME,
  FRAME_FLAGS,
  FRAME_IMBALANCE_1,
  FRAME_IMBALANCE_20,
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI,
  FRAME_OFI_10S,
  FRAME_OFI_1S,
  FRAME_RECEIVE_TIME,
  FRAME_SEQUENCE,
  FRAME_SPREAD_BPS,
  FRAME_SYMBOL_ID,
  FRAME_WEIGHTED_MID,
  type FrameSlotLayout,
} from "../pipeline/frame_slot.ts";

/**
 * The frame words a history record keeps, in record order (record word `i`
 * holds frame word `HISTORY_FIELDS[i]`); the record's last word is the time
 * it was stored. These are the columns the dashboard's frame ring draws over
 * time (`lib/client/frame_ring.ts`: time, seq, mid, weighted mid, spread bps,
 * imbalances, OFI and its sums, latency = delivered − receive) and the
 * frame's flags. Every other word of an older frame reads as NaN.
 *
 * @example
 * ```ts
 * import { HISTORY_FIELDS } from "./history_store.ts";
 * import { FRAME_MID } from "../pipeline/frame_slot.ts";
 * HISTORY_FIELDS.includes(FRAME_MID); // true
 * HISTORY_FIELDS.length; // 13 (+ the stored time = 14 words a record)
 * ```
 */
export const HISTORY_FIELDS: readonly number[] = Object.freeze([
  FRAME_SEQUENCE,
  FRAME_FLAGS,
  FRAME_RECEIVE_TIME,
  FRAME_DELIVERED_TIME,
  FRAME_MID,
  FRAME_WEIGHTED_MID,
  FRAME_SPREAD_BPS,
  FRAME_IMBALANCE_1,
  FRAME_IMBALANCE_5,
  FRAME_IMBALANCE_20,
  FRAME_OFI,
  FRAME_OFI_1S,
  FRAME_OFI_10S,
]);

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
 * Fixed-size rings of compact frame records ({@link HISTORY_FIELDS}), one per
 * symbol, and each symbol's newest frame in full.
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
  /** Words of one record: the {@link HISTORY_FIELDS} words, then the time it was stored. */
  readonly recordWords: number;
  /** Records of every symbol: symbol s's ring starts at word `s * depth * recordWords`. */
  readonly #records: Float64Array;
  /** The newest full frame of every symbol: symbol s's at word `s * slotWords`. */
  readonly #latest: Float64Array;
  /** A full slot rebuilt from a record for a reader (ladder counts 0, unkept words NaN). */
  readonly #scratch: Float64Array;
  /** {@link HISTORY_FIELDS} as a typed array (the copy loops read it per frame). */
  readonly #fields = Int32Array.from(HISTORY_FIELDS);
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
    this.recordWords = HISTORY_FIELDS.length + 1;
    this.#records = new Float64Array(this.symbols * depth * this.recordWords);
    this.#latest = new Float64Array(this.symbols * this.layout.slotWords);
    this.#scratch = new Float64Array(this.layout.slotWords).fill(NaN);
    this.#scratch[FRAME_BID_COUNT] = 0;
    this.#scratch[FRAME_ASK_COUNT] = 0;
    this.#next = new Uint32Array(this.symbols);
    this.#count = new Uint32Array(this.symbols);
  }

  /**
   * Store `slot` (exactly one frame: `layout.slotWords` words, e.g. a
   * preallocated view into a batch buffer) under its symbol: its compact
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
    const fields = this.#fields;
    for (let i = 0; i < rw - 1; i++) records[at + i] = slot[fields[i]];
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
   * one in full, older ones with their {@link HISTORY_FIELDS} words, the
   * symbol id, bid and ask counts 0 and NaN in every other word.
   * The slot handed to `fn` is valid only during the call.
   */
  forEach(symbolId: number, fn: HistoryVisitor): void {
    const n = this.size(symbolId);
    if (n === 0) return;
    const rw = this.recordWords;
    const records = this.#records;
    const scratch = this.#scratch;
    const fields = this.#fields;
    scratch[FRAME_SYMBOL_ID] = symbolId;
    const ring = symbolId * this.depth;
    const first = (this.#next[symbolId] + this.depth - n) % this.depth;
    for (let k = 0; k < n; k++) {
      const at = (ring + (first + k) % this.depth) * rw;
      const storedAt = records[at + rw - 1];
      if (k === n - 1) {
        fn(this.#latest, symbolId * this.layout.slotWords, storedAt);
        return;
      }
      for (let i = 0; i < rw - 1; i++) scratch[fields[i]] = records[at + i];
      fn(scratch, 0, storedAt);
    }
  }

  /** Register a listener called after every stored frame; returns an unsubscribe function. */
  subscribe(listener: HistoryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
