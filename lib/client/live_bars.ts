/**
 * The dashboard's longer history of one symbol: the bars of
 * `GET /api/history?resolution=10s|1m`, kept streaming by folding each live
 * frame into the open bar with the server's own definition
 * (`lib/analytics/mid_bars.ts`), so a bar closed in the browser is the bar
 * the server closes (exact; the server's stored bars are quantised).
 *
 * The answer's `seq` is the hub sequence number of the newest frame the
 * server folded; {@linkcode LiveBars.fold} takes frames in seq order after
 * it. A frame that is not the next one (frames conflated or missed while
 * the page was hidden, a restarted server) makes `fold` answer `"gap"`: the
 * caller fetches the bars again.
 *
 * Bars are held in Float64Array columns sized to the resolution's capacity
 * (plus the open bar): folding allocates nothing. A symbol without frames
 * still shows the time passing: {@linkcode LiveBars.fill} draws flat carries
 * up to now, like the server's reads.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import { LiveBars } from "./live_bars.ts";
 * const bars = new LiveBars(10_000, 360);
 * bars.load({ intervalMs: 10_000, seq: 0, time: [], open: [], high: [], low: [], close: [],
 *   spreadBps: [], imbalance: [], ofi: [], frames: [], accumulator: [] });
 * bars.fold(1, 1_000_000, 100, 1.5, 0.2, 3); // "folded": seq 1 follows the answer's seq 0
 * bars.size; // 1: the open bar
 * ```
 * @module
 */
import {
  ACC_CLOSE,
  ACC_FRAMES,
  ACC_HIGH,
  ACC_INDEX,
  ACC_LOW,
  ACC_WORDS,
  barImbalance,
  barIndex,
  barOfi,
  barSpreadBps,
  foldFrame,
  openBar,
} from "../analytics/mid_bars.ts";
import type { SeriesBuffer } from "./chart_data.ts";

/** The bars answer of `/api/history?resolution=10s|1m` (null for unknown values). */
export interface BarsAnswer {
  /** Bar interval, ms. */
  intervalMs: number;
  /** Frames folded by the server (the hub seq of the newest). */
  seq: number;
  /** Bar starts, epoch ms, oldest first; the last bar is open. */
  time: number[];
  /** Opens. */
  open: (number | null)[];
  /** Highs. */
  high: (number | null)[];
  /** Lows. */
  low: (number | null)[];
  /** Closes. */
  close: (number | null)[];
  /** Mean spreads, bps. */
  spreadBps: (number | null)[];
  /** Mean top-5 imbalances. */
  imbalance: (number | null)[];
  /** OFI sums. */
  ofi: (number | null)[];
  /** 1 when the bar had frames. */
  frames: number[];
  /** The open bar's accumulator (`ACC_*` words). */
  accumulator: (number | null)[];
}

/** Bar columns a chart can plot. */
export type BarColumn = "close" | "high" | "low" | "spreadBps" | "imbalance" | "ofi";

/** What {@linkcode LiveBars.fold} did with a frame. */
export type FoldResult = "folded" | "old" | "gap";

const num = (v: number | null | undefined) => v ?? NaN;

/** Closed bars in columns plus the open bar's accumulator. See the module docs. */
export class LiveBars {
  /** Bar interval, ms. */
  readonly intervalMs: number;
  /** Closed bars kept at most. */
  readonly capacity: number;
  readonly #time: Float64Array;
  readonly #cols: Record<BarColumn, Float64Array>;
  readonly #acc = new Float64Array(ACC_WORDS).fill(NaN);
  #next = 0;
  #size = 0;
  #seq = NaN;

  /**
   * Allocates the columns, empty.
   *
   * @param intervalMs the bar interval (10,000 or 60,000).
   * @param capacity closed bars kept (360 or 1,440).
   */
  constructor(intervalMs: number, capacity: number) {
    this.intervalMs = intervalMs;
    this.capacity = capacity;
    this.#time = new Float64Array(capacity);
    this.#cols = {
      close: new Float64Array(capacity),
      high: new Float64Array(capacity),
      low: new Float64Array(capacity),
      spreadBps: new Float64Array(capacity),
      imbalance: new Float64Array(capacity),
      ofi: new Float64Array(capacity),
    };
  }

  /** Bars held: the closed ones and the open one. */
  get size(): number {
    return this.#size + (this.#acc[ACC_INDEX] === this.#acc[ACC_INDEX] ? 1 : 0);
  }

  /** The seq of the newest frame folded (NaN before {@linkcode LiveBars.load}). */
  get seq(): number {
    return this.#seq;
  }

  /** The open bar's value of `column` so far (NaN before any bar). */
  openValue(column: BarColumn): number {
    return openValue(this.#acc, column);
  }

  /** Frames folded into the open bar. */
  get openFrames(): number {
    return this.#acc[ACC_FRAMES] || 0;
  }

  /** Replace everything with a server answer. */
  load(answer: BarsAnswer): void {
    this.#next = 0;
    this.#size = 0;
    const n = answer.time.length;
    for (let k = 0; k < n - 1; k++) {
      this.#push(
        answer.time[k],
        num(answer.close[k]),
        num(answer.high[k]),
        num(answer.low[k]),
        num(answer.spreadBps[k]),
        num(answer.imbalance[k]),
        num(answer.ofi[k]),
      );
    }
    this.#acc.fill(NaN);
    if (answer.accumulator.length === ACC_WORDS) {
      for (let w = 0; w < ACC_WORDS; w++) this.#acc[w] = num(answer.accumulator[w]);
    }
    this.#seq = answer.seq;
  }

  #push(
    time: number,
    close: number,
    high: number,
    low: number,
    spread: number,
    imbalance: number,
    ofi: number,
  ): void {
    const i = this.#next;
    this.#time[i] = time;
    const c = this.#cols;
    c.close[i] = close;
    c.high[i] = high;
    c.low[i] = low;
    c.spreadBps[i] = spread;
    c.imbalance[i] = imbalance;
    c.ofi[i] = ofi;
    this.#next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.#size < this.capacity) this.#size++;
  }

  /** Close the open bar and carry up to (not including) bar `index`, then open it. */
  #advance(index: number): void {
    const acc = this.#acc;
    const open = acc[ACC_INDEX];
    const close = acc[ACC_CLOSE];
    this.#push(
      open * this.intervalMs,
      close,
      acc[ACC_HIGH],
      acc[ACC_LOW],
      barSpreadBps(acc, 0),
      barImbalance(acc, 0),
      barOfi(acc, 0),
    );
    for (let i = Math.max(open + 1, index - this.capacity); i < index; i++) {
      this.#push(i * this.intervalMs, close, close, close, NaN, NaN, NaN);
    }
    openBar(acc, 0, index, close);
  }

  /**
   * Fold one live frame (its seq, receive time, mid, spread in bps, top-5
   * imbalance and OFI e): `"old"` when the server had folded it already,
   * `"gap"` when it is not the next frame (fetch the bars again), else
   * `"folded"`. Allocates nothing.
   */
  fold(
    seq: number,
    time: number,
    mid: number,
    spreadBps: number,
    imbalance: number,
    ofi: number,
  ): FoldResult {
    if (!(seq > this.#seq)) return "old";
    if (seq !== this.#seq + 1) return "gap";
    const acc = this.#acc;
    const index = barIndex(time, this.intervalMs);
    if (acc[ACC_INDEX] !== acc[ACC_INDEX]) openBar(acc, 0, index, NaN);
    else if (index > acc[ACC_INDEX]) this.#advance(index);
    foldFrame(acc, 0, mid, spreadBps, imbalance, ofi);
    this.#seq = seq;
    return "folded";
  }

  /**
   * Fill `out` with one column as steps, oldest first: each bar is two
   * points, its value at its start and at its end (the open bar ends now),
   * then the flat carry from the open bar's end to now when the clock is past
   * it (its price columns the close, the others unknown: a gap). x is in
   * seconds relative to `nowMs` (≤ 0); bars older than the resolution's span
   * are left out. Returns the number of points.
   */
  fill(column: BarColumn, out: SeriesBuffer, nowMs: number): number {
    const acc = this.#acc;
    const openIndex = acc[ACC_INDEX];
    if (openIndex !== openIndex) {
      out.truncate(0);
      return 0;
    }
    const iv = this.intervalMs;
    const from = nowMs - this.capacity * iv;
    const x = (t: number) => (Math.min(t, nowMs) - nowMs) / 1000;
    let k = 0;
    const col = this.#cols[column];
    for (let j = 0; j < this.#size; j++) {
      let s = this.#next - this.#size + j;
      if (s < 0) s += this.capacity;
      const t = this.#time[s];
      if (t + iv <= from) continue;
      const v = finiteOrNaN(col[s]);
      out.set(k++, x(Math.max(t, from)), v);
      out.set(k++, x(t + iv), v);
    }
    const start = openIndex * iv;
    const open = openValue(acc, column);
    out.set(k++, x(Math.max(start, from)), open);
    out.set(k++, x(start + iv), open);
    if (start + iv < nowMs) {
      // Flat carry up to now: the close, no frames (spread, imbalance, OFI unknown).
      const priced = column === "close" || column === "high" || column === "low";
      const carry = priced ? finiteOrNaN(acc[ACC_CLOSE]) : NaN;
      out.set(k++, x(Math.max(start + iv, from)), carry);
      out.set(k++, 0, carry);
    }
    out.truncate(k);
    return k;
  }
}

function finiteOrNaN(v: number): number {
  return Number.isFinite(v) ? v : NaN;
}

function openValue(acc: Float64Array, column: BarColumn): number {
  switch (column) {
    case "close":
      return finiteOrNaN(acc[ACC_CLOSE]);
    case "high":
      return finiteOrNaN(acc[ACC_HIGH]);
    case "low":
      return finiteOrNaN(acc[ACC_LOW]);
    case "spreadBps":
      return barSpreadBps(acc, 0);
    case "imbalance":
      return barImbalance(acc, 0);
    case "ofi":
      return barOfi(acc, 0);
  }
}
