/**
 * The main thread's longer history: per symbol, the 10-second bars of the
 * last hour (360) and the 1-minute bars of the last 24 hours (1,440) of
 * mid, spread, top-5 imbalance and OFI, as defined in
 * `lib/analytics/mid_bars.ts`, in preallocated rings shared by every
 * symbol, plus each symbol's open (partial) bars.
 *
 * **Memory.** One typed array per field and resolution for all symbols (no
 * object per bar): a closed bar is 13 bytes, quantised as
 * `bar_quantise.ts` states (close float32; high and low uint16 offsets from
 * it in 0.1 bps; spread and OFI bfloat16; imbalance and "had frames" one
 * int8); the open is the previous bar's close. Per symbol: (360 + 1,440) ×
 * 13 B = 23,400 B of rings, two open-bar accumulators of 12 float64 (192 B),
 * the first bar index of each resolution, the frames folded and the receive
 * time of the newest frame folded (32 B): 23,624 B
 * ({@link BarStore.byteLength} / symbols), within the 25 KB budget.
 *
 * **Export and import** ({@link BarStore.exportSymbol},
 * {@link BarStore.importSymbol}): one symbol's complete state as bytes in
 * the layout of `bar_export_layout.ts` (23,656 B), so a dashboard node that
 * starts watching a symbol gets the owner's hour and day of bars at once.
 *
 * **Folding** ({@link BarStore.fold}, called by the frame consumer for every
 * frame it delivers, before the history stores it, so each delivered frame
 * is folded exactly once; the store lives on main, so the bars survive a
 * restart of the analytics worker): the frame goes into the open 10 s bar
 * of its receive time. When a frame belongs to a later bar, the open one is
 * closed (stored, and merged into the open 1 m bar: 1-minute bars are the
 * exact merge of their six 10 s bars, from the unquantised accumulators),
 * the bars in between are stored as flat carries without frames, and the
 * frame's bar is opened at the prevailing mid. Allocates nothing. A frame
 * received before the open bar (a clock stepped back) is folded into the open
 * bar and counted in {@link BarStore.late}.
 *
 * **Reading rolls to now.** A symbol that gets no frames still shows the time
 * that passed: {@link BarStore.read} and {@link BarStore.midAt} read the
 * open bar as closed once the clock is past it, and the bars after it as
 * carries, without writing anything (frames in flight for a bar the clock has
 * just left still land in it).
 *
 * @example
 * ```ts
 * import { BarStore } from "./bar_store.ts";
 * import { FRAME_MID, FRAME_RECEIVE_TIME, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const bars = new BarStore({ symbols: 1, now: () => 1_000_025_000 });
 * const frame = new Float64Array(new FrameSlotLayout().slotWords).fill(NaN);
 * frame[0] = 0; // symbol id
 * frame[FRAME_RECEIVE_TIME] = 1_000_000_000;
 * frame[FRAME_MID] = 100;
 * bars.fold(frame, 0);
 * bars.read(0, "10s", 3).close; // [100, 100, 100]: the bar, a carry, the partial carry
 * bars.midAt(0, 1_000_010_000); // 100
 * ```
 * @module
 */

import {
  ACC_CLOSE,
  ACC_FRAMES,
  ACC_HIGH,
  ACC_INDEX,
  ACC_LOW,
  ACC_OPEN,
  ACC_WORDS,
  BAR_10S_MS,
  BAR_1M_MS,
  barImbalance,
  barIndex,
  barOfi,
  barSpreadBps,
  foldAnalyticsFrame,
  mergeBar,
  openBar,
} from "../analytics/mid_bars.ts";
import { FRAME_RECEIVE_TIME, FRAME_SYMBOL_ID } from "../pipeline/frame_slot.ts";
import { type BarExportLayout, barExportLayout } from "./bar_export_layout.ts";
import * as BX from "./bar_export_layout.ts";
import {
  bf16Decode,
  bf16Encode,
  IMBALANCE_NO_FRAMES,
  imbalanceDecode,
  imbalanceEncode,
  offsetDecode,
  offsetEncode,
} from "./bar_quantise.ts";

/** The bar resolutions served. */
export type BarResolution = "10s" | "1m";

/** Interval and bars kept of each resolution. */
export const BAR_RESOLUTIONS: Readonly<
  Record<BarResolution, { readonly intervalMs: number; readonly capacity: number }>
> = Object.freeze({
  "10s": Object.freeze({ intervalMs: BAR_10S_MS, capacity: 360 }),
  "1m": Object.freeze({ intervalMs: BAR_1M_MS, capacity: 1440 }),
});

/** Options of {@link BarStore}. */
export interface BarStoreOptions {
  /** Number of symbols (ids 0..symbols-1). Required. */
  symbols: number;
  /** The clock reads roll to, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * Bars of one symbol and resolution, oldest first, as columns (what
 * `/api/history?resolution=…` answers). The last bar is the one open now
 * (partial). Unknown values are NaN.
 */
export interface BarSeries {
  /** Bar interval, ms. */
  intervalMs: number;
  /** Start of each bar, epoch ms. */
  time: number[];
  /** Mid prevailing at the bar's start (the previous close). */
  open: number[];
  /** Highest mid. */
  high: number[];
  /** Lowest mid. */
  low: number[];
  /** Last mid. */
  close: number[];
  /** Mean spread, bps. */
  spreadBps: number[];
  /** Mean top-5 imbalance. */
  imbalance: number[];
  /** Σ OFI e. */
  ofi: number[];
  /** 1 when the bar had frames, 0 for a flat carry. */
  frames: number[];
  /**
   * The open bar's accumulator (`lib/analytics/mid_bars.ts` word order), so
   * a client can keep folding live frames into it; empty when no bar.
   */
  accumulator: number[];
}

/** The row columns of a ring, in export order. */
const ROW_COLUMNS = ["close", "high", "low", "spread", "ofi", "imbalance"] as const;
type RowColumn = typeof ROW_COLUMNS[number];

/** This machine stores numbers little-endian (an export is in the exporter's order). */
const NATIVE_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One resolution's rings (every symbol's) and open bars. */
class BarRing {
  readonly intervalMs: number;
  readonly capacity: number;
  readonly close: Float32Array;
  readonly high: Uint16Array;
  readonly low: Uint16Array;
  readonly spread: Uint16Array;
  readonly imbalance: Int8Array;
  readonly ofi: Uint16Array;
  /** The open bar of every symbol: symbol s's at word `s * ACC_WORDS`. */
  readonly acc: Float64Array;
  /** Index of the first bar ever opened per symbol (NaN: none). */
  readonly first: Float64Array;

  constructor(symbols: number, intervalMs: number, capacity: number) {
    this.intervalMs = intervalMs;
    this.capacity = capacity;
    const n = symbols * capacity;
    this.close = new Float32Array(n);
    this.high = new Uint16Array(n);
    this.low = new Uint16Array(n);
    this.spread = new Uint16Array(n);
    this.imbalance = new Int8Array(n);
    this.ofi = new Uint16Array(n);
    this.acc = new Float64Array(symbols * ACC_WORDS).fill(NaN);
    this.first = new Float64Array(symbols).fill(NaN);
    // Touch every page now: fresh typed arrays are mapped lazily, so the bars
    // would otherwise grow the resident set over their first 24 hours. The
    // budget is paid at start and RSS stays flat (and benchmarks see it).
    for (const a of [this.close, this.high, this.low, this.spread, this.imbalance, this.ofi]) {
      a.fill(0);
    }
  }

  get byteLength(): number {
    return this.close.byteLength + this.high.byteLength + this.low.byteLength +
      this.spread.byteLength + this.imbalance.byteLength + this.ofi.byteLength +
      this.acc.byteLength + this.first.byteLength;
  }

  slot(id: number, index: number): number {
    return id * this.capacity + index % this.capacity;
  }

  /** Store the open bar of `id` (its accumulator) as closed. */
  store(id: number): void {
    const a = id * ACC_WORDS;
    const acc = this.acc;
    const s = this.slot(id, acc[a + ACC_INDEX]);
    const close = Math.fround(acc[a + ACC_CLOSE]);
    this.close[s] = close;
    this.high[s] = offsetEncode(acc[a + ACC_HIGH], close);
    this.low[s] = offsetEncode(acc[a + ACC_LOW], close);
    this.spread[s] = bf16Encode(barSpreadBps(acc, a));
    this.imbalance[s] = imbalanceEncode(barImbalance(acc, a), acc[a + ACC_FRAMES] > 0);
    this.ofi[s] = bf16Encode(barOfi(acc, a));
  }

  /** Store bars `from..to` of `id` as flat carries at `close` (only the last `capacity`). */
  carry(id: number, from: number, to: number, close: number): void {
    const start = Math.max(from, to - this.capacity + 1);
    const c = Math.fround(close);
    const zero = offsetEncode(c, c);
    for (let i = start; i <= to; i++) {
      const s = this.slot(id, i);
      this.close[s] = c;
      this.high[s] = zero;
      this.low[s] = zero;
      this.spread[s] = bf16Encode(NaN);
      this.imbalance[s] = IMBALANCE_NO_FRAMES;
      this.ofi[s] = bf16Encode(NaN);
    }
  }

  /** Close the open bar of `id` (stored; `merge` gets it first), carry up to `index`, open `index`. */
  advance(id: number, index: number, merge?: BarRing): void {
    const a = id * ACC_WORDS;
    const open = this.acc[a + ACC_INDEX];
    this.store(id);
    merge?.mergeFrom(id, this);
    const close = this.acc[a + ACC_CLOSE];
    this.carry(id, open + 1, index - 1, close);
    openBar(this.acc, a, index, close);
  }

  mergeFrom(id: number, shorter: BarRing): void {
    mergeBar(this.acc, id * ACC_WORDS, shorter.acc, id * ACC_WORDS);
  }

  /** The bytes of column `col` of symbol `id`'s rows (a view). */
  rowBytes(col: RowColumn, id: number): Uint8Array {
    const a = this[col];
    const bpe = a.BYTES_PER_ELEMENT;
    return new Uint8Array(a.buffer, a.byteOffset + id * this.capacity * bpe, this.capacity * bpe);
  }

  /** The stored close of bar `index` of `id`, NaN when it is not kept. */
  closeAt(id: number, index: number): number {
    const open = this.acc[id * ACC_WORDS + ACC_INDEX];
    if (!(index >= this.first[id] && index < open && index >= open - this.capacity)) return NaN;
    return this.close[this.slot(id, index)];
  }
}

/**
 * Per-symbol 10-second and 1-minute mid bars in fixed memory. See the module docs.
 *
 * @example
 * ```ts
 * import { BarStore } from "./bar_store.ts";
 * const bars = new BarStore({ symbols: 2000 });
 * bars.byteLength / bars.symbols; // 23624 bytes per symbol
 * ```
 */
export class BarStore {
  /** Number of symbols. */
  readonly symbols: number;
  readonly #now: () => number;
  readonly #r10: BarRing;
  readonly #r1m: BarRing;
  /** Frames folded per symbol. */
  readonly #folded: Float64Array;
  /** Receive time of the newest frame folded per symbol (-Infinity: none). */
  readonly #lastReceive: Float64Array;
  /** The export layout of this store's rings. */
  readonly #layout: BarExportLayout;
  /** A 1 m accumulator merged with the open 10 s one, for reads. */
  readonly #scratch = new Float64Array(ACC_WORDS);
  #late = 0;
  #rejected = 0;

  /**
   * Allocates every symbol's rings, empty.
   *
   * @param options see {@link BarStoreOptions}.
   * @throws RangeError when `symbols` is not a positive integer.
   */
  constructor(options: BarStoreOptions) {
    if (!Number.isInteger(options.symbols) || options.symbols < 1) {
      throw new RangeError(`bar store symbols must be a positive integer, got ${options.symbols}`);
    }
    this.symbols = options.symbols;
    this.#now = options.now ?? Date.now;
    const { "10s": r10, "1m": r1m } = BAR_RESOLUTIONS;
    this.#r10 = new BarRing(this.symbols, r10.intervalMs, r10.capacity);
    this.#r1m = new BarRing(this.symbols, r1m.intervalMs, r1m.capacity);
    this.#folded = new Float64Array(this.symbols);
    this.#lastReceive = new Float64Array(this.symbols).fill(-Infinity);
    this.#layout = barExportLayout(r10.capacity, r1m.capacity, ACC_WORDS);
  }

  /** Bytes of every typed array the store holds (all symbols). */
  get byteLength(): number {
    return this.#r10.byteLength + this.#r1m.byteLength + this.#folded.byteLength +
      this.#lastReceive.byteLength;
  }

  /** Frames folded into the open bar because they were received before it. */
  get late(): number {
    return this.#late;
  }

  /** Frames refused because their symbol id was out of range. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Frames folded for symbol `id` since the start. */
  folded(id: number): number {
    return this.#folded[id] ?? 0;
  }

  /**
   * Set the frames-folded count of symbol `id` (what `/api/history` answers
   * as `seq`): a node that imported a symbol's bars numbers its frames
   * itself. Ignored for an unknown id or a count that is not a finite number.
   */
  setFolded(id: number, count: number): void {
    if (id >= 0 && id < this.symbols && Number.isFinite(count)) this.#folded[id] = count;
  }

  /** Receive time (epoch ms) of the newest frame folded for `id`; -Infinity when none. */
  lastReceive(id: number): number {
    return this.#lastReceive[id] ?? -Infinity;
  }

  /**
   * Fold the analytics frame at word `base` of `f64` into its symbol's bars.
   * Returns false (and counts it) when its symbol id is out of range.
   * Allocates nothing.
   */
  fold(f64: Float64Array, base: number): boolean {
    const id = f64[base + FRAME_SYMBOL_ID];
    if (!(id >= 0 && id < this.symbols) || id !== (id | 0)) {
      this.#rejected++;
      return false;
    }
    const r10 = this.#r10;
    const r1m = this.#r1m;
    const a = id * ACC_WORDS;
    const open = r10.acc[a + ACC_INDEX];
    let t = f64[base + FRAME_RECEIVE_TIME];
    if (!Number.isFinite(t)) t = this.#now();
    const index = barIndex(t, BAR_10S_MS);
    if (open !== open) {
      const minute = barIndex(index * BAR_10S_MS, BAR_1M_MS);
      openBar(r10.acc, a, index, NaN);
      openBar(r1m.acc, a, minute, NaN);
      r10.first[id] = index;
      r1m.first[id] = minute;
    } else if (index > open) {
      r10.advance(id, index, r1m);
      const minute = barIndex(index * BAR_10S_MS, BAR_1M_MS);
      if (minute > r1m.acc[a + ACC_INDEX]) r1m.advance(id, minute);
    } else if (index < open) {
      this.#late++;
    }
    foldAnalyticsFrame(r10.acc, a, f64, base);
    this.#folded[id]++;
    if (t > this.#lastReceive[id]) this.#lastReceive[id] = t;
    return true;
  }

  /**
   * Symbol `id`'s complete bar state (both rings' rows, open bars, first
   * indexes, frames folded, receive time of the newest frame folded) in the
   * layout of `bar_export_layout.ts`, for {@link BarStore.importSymbol} on
   * another node. Allocates the bytes (a control path, not per frame).
   *
   * @throws RangeError when `id` is not a symbol id of this store.
   * @example
   * ```ts
   * import { BarStore } from "./bar_store.ts";
   * const owner = new BarStore({ symbols: 1 });
   * const other = new BarStore({ symbols: 1 });
   * other.importSymbol(0, owner.exportSymbol(0)); // true
   * ```
   */
  exportSymbol(id: number): Uint8Array<ArrayBuffer> {
    if (!(id >= 0 && id < this.symbols) || id !== (id | 0)) {
      throw new RangeError(
        `bar export: symbol id must be an integer from 0 to ${this.symbols - 1}, got ${id}`,
      );
    }
    const l = this.#layout;
    const out = new Uint8Array(l.byteLength);
    const view = new DataView(out.buffer);
    const r10 = this.#r10;
    const r1m = this.#r1m;
    const header = [BX.BAR_EXPORT_MAGIC, BX.BAR_EXPORT_VERSION, r10.capacity, r10.intervalMs];
    header.push(r1m.capacity, r1m.intervalMs, ACC_WORDS);
    const words = [BX.BX_MAGIC, BX.BX_VERSION, BX.BX_CAPACITY_10S, BX.BX_INTERVAL_10S];
    words.push(BX.BX_CAPACITY_1M, BX.BX_INTERVAL_1M, BX.BX_ACC_WORDS);
    words.forEach((w, k) => view.setUint32(4 * w, header[k], NATIVE_LE));
    const put = (w: number, v: number) => view.setFloat64(BX.BX_SCALARS_BYTE + 8 * w, v, NATIVE_LE);
    put(BX.BX_FOLDED, this.#folded[id]);
    put(BX.BX_LAST_RECEIVE, this.#lastReceive[id]);
    put(BX.BX_FIRST_10S, r10.first[id]);
    put(BX.BX_FIRST_1M, r1m.first[id]);
    const a = id * ACC_WORDS;
    for (let w = 0; w < ACC_WORDS; w++) {
      put(BX.BX_ACC_10S + w, r10.acc[a + w]);
      put(l.acc1m + w, r1m.acc[a + w]);
    }
    for (const [ring, rows] of [[r10, l.rows10s], [r1m, l.rows1m]] as const) {
      for (const col of ROW_COLUMNS) out.set(ring.rowBytes(col, id), rows[col]);
    }
    return out;
  }

  /**
   * Replace symbol `id`'s bars with `bytes` from {@link BarStore.exportSymbol}
   * (of this or another store). Returns false, changing nothing, when `id`
   * is not a symbol of this store or the bytes are not an export of rings of
   * this store's capacities and intervals (length, magic, version, byte
   * order, an inconsistent open bar); never throws.
   *
   * @example
   * ```ts
   * import { BarStore } from "./bar_store.ts";
   * const bars = new BarStore({ symbols: 1 });
   * bars.importSymbol(0, new Uint8Array(10)); // false: not an export
   * ```
   */
  importSymbol(id: number, bytes: Uint8Array): boolean {
    const l = this.#layout;
    if (!(id >= 0 && id < this.symbols) || id !== (id | 0)) return false;
    if (!(bytes instanceof Uint8Array) || bytes.byteLength !== l.byteLength) return false;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const r10 = this.#r10;
    const r1m = this.#r1m;
    const expect: [number, number][] = [
      [BX.BX_MAGIC, BX.BAR_EXPORT_MAGIC],
      [BX.BX_VERSION, BX.BAR_EXPORT_VERSION],
      [BX.BX_CAPACITY_10S, r10.capacity],
      [BX.BX_INTERVAL_10S, r10.intervalMs],
      [BX.BX_CAPACITY_1M, r1m.capacity],
      [BX.BX_INTERVAL_1M, r1m.intervalMs],
      [BX.BX_ACC_WORDS, ACC_WORDS],
    ];
    for (const [w, v] of expect) if (view.getUint32(4 * w, NATIVE_LE) !== v) return false;
    const get = (w: number) => view.getFloat64(BX.BX_SCALARS_BYTE + 8 * w, NATIVE_LE);
    const folded = get(BX.BX_FOLDED);
    const lastReceive = get(BX.BX_LAST_RECEIVE);
    const first10 = get(BX.BX_FIRST_10S);
    const first1m = get(BX.BX_FIRST_1M);
    const open10 = get(BX.BX_ACC_10S + ACC_INDEX);
    const open1m = get(l.acc1m + ACC_INDEX);
    if (!(Number.isInteger(folded) && folded >= 0) || lastReceive !== lastReceive) return false;
    const none = [first10, first1m, open10, open1m].every((v) => v !== v);
    const some = [first10, first1m, open10, open1m].every(Number.isInteger) &&
      first10 <= open10 && first1m <= open1m &&
      open1m === barIndex(open10 * BAR_10S_MS, BAR_1M_MS);
    if (!none && !some) return false;
    this.#folded[id] = folded;
    this.#lastReceive[id] = lastReceive;
    r10.first[id] = first10;
    r1m.first[id] = first1m;
    const a = id * ACC_WORDS;
    for (let w = 0; w < ACC_WORDS; w++) {
      r10.acc[a + w] = get(BX.BX_ACC_10S + w);
      r1m.acc[a + w] = get(l.acc1m + w);
    }
    for (const [ring, rows] of [[r10, l.rows10s], [r1m, l.rows1m]] as const) {
      for (const col of ROW_COLUMNS) {
        const dst = ring.rowBytes(col, id);
        dst.set(bytes.subarray(rows[col], rows[col] + dst.byteLength));
      }
    }
    return true;
  }

  /** The open bar of `id` at `resolution` with everything folded so far (a view valid until the next call). */
  #openBar(id: number, resolution: BarResolution): { acc: Float64Array; base: number } {
    const a = id * ACC_WORDS;
    if (resolution === "10s") return { acc: this.#r10.acc, base: a };
    const s = this.#scratch;
    for (let w = 0; w < ACC_WORDS; w++) s[w] = this.#r1m.acc[a + w];
    mergeBar(s, 0, this.#r10.acc, a);
    return { acc: s, base: 0 };
  }

  /**
   * The newest `limit` bars of symbol `id` at `resolution` up to the bar
   * holding `nowMs` (default the store's clock), oldest first; the last is
   * open (partial). Bars after the last frame are flat carries. Empty before
   * the symbol's first frame. Allocates (a read path, not per frame).
   *
   * @throws RangeError when `limit` is not an integer from 1 to the resolution's capacity.
   */
  read(id: number, resolution: BarResolution, limit?: number, nowMs?: number): BarSeries {
    const ring = resolution === "10s" ? this.#r10 : this.#r1m;
    const n = limit ?? ring.capacity;
    if (!Number.isInteger(n) || n < 1 || n > ring.capacity) {
      throw new RangeError(`bar limit must be an integer from 1 to ${ring.capacity}, got ${limit}`);
    }
    const out: BarSeries = {
      intervalMs: ring.intervalMs,
      time: [],
      open: [],
      high: [],
      low: [],
      close: [],
      spreadBps: [],
      imbalance: [],
      ofi: [],
      frames: [],
      accumulator: [],
    };
    const a = id * ACC_WORDS;
    const openIndex = ring.acc[a + ACC_INDEX];
    if (!(id >= 0 && id < this.symbols) || openIndex !== openIndex) return out;
    const { acc, base } = this.#openBar(id, resolution);
    const last = Math.max(barIndex(nowMs ?? this.#now(), ring.intervalMs), openIndex);
    const from = Math.max(last - n + 1, ring.first[id]);
    const carry = acc[base + ACC_CLOSE];
    for (let i = from; i <= last; i++) {
      out.time.push(i * ring.intervalMs);
      if (i < openIndex) {
        const s = ring.slot(id, i);
        const close = ring.close[s];
        out.open.push(ring.closeAt(id, i - 1));
        out.high.push(offsetDecode(ring.high[s], close, 1));
        out.low.push(offsetDecode(ring.low[s], close, -1));
        out.close.push(close);
        out.spreadBps.push(bf16Decode(ring.spread[s]));
        out.imbalance.push(imbalanceDecode(ring.imbalance[s]));
        out.ofi.push(bf16Decode(ring.ofi[s]));
        out.frames.push(ring.imbalance[s] === IMBALANCE_NO_FRAMES ? 0 : 1);
      } else if (i === openIndex) {
        out.open.push(acc[base + ACC_OPEN]);
        out.high.push(acc[base + ACC_HIGH]);
        out.low.push(acc[base + ACC_LOW]);
        out.close.push(acc[base + ACC_CLOSE]);
        out.spreadBps.push(barSpreadBps(acc, base));
        out.imbalance.push(barImbalance(acc, base));
        out.ofi.push(barOfi(acc, base));
        out.frames.push(acc[base + ACC_FRAMES] > 0 ? 1 : 0);
      } else {
        for (const col of [out.open, out.high, out.low, out.close]) col.push(carry);
        out.spreadBps.push(NaN);
        out.imbalance.push(NaN);
        out.ofi.push(NaN);
        out.frames.push(0);
      }
    }
    if (last === openIndex) {
      for (let w = 0; w < ACC_WORDS; w++) out.accumulator.push(acc[base + w]);
    } else {
      const fresh = new Float64Array(ACC_WORDS);
      openBar(fresh, 0, last, carry);
      out.accumulator.push(...fresh);
    }
    return out;
  }

  /**
   * The mid prevailing at `timeMs` at 10-second granularity: the close of the
   * latest 10 s bar ending at or before `timeMs` (for a time after the open
   * bar's end, the newest mid known); NaN when unknown (before the symbol's
   * first bar, older than the hour kept, an unknown id). Allocates nothing.
   *
   * @example
   * ```ts
   * import { BarStore } from "./bar_store.ts";
   * const bars = new BarStore({ symbols: 1 });
   * bars.midAt(0, Date.now() - 60_000); // NaN: no frame yet
   * ```
   */
  midAt(id: number, timeMs: number): number {
    if (!(id >= 0 && id < this.symbols)) return NaN;
    const ring = this.#r10;
    const a = id * ACC_WORDS;
    const open = ring.acc[a + ACC_INDEX];
    const b = barIndex(timeMs, BAR_10S_MS) - 1;
    if (b >= open) return ring.acc[a + ACC_CLOSE];
    return ring.closeAt(id, b);
  }
}
