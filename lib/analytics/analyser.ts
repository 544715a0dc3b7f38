/**
 * The analytics entry point: {@link Analyser.analyse} turns one book slot
 * into one analytics slot (layout in `frame_slot.ts`), keeping everything it
 * needs between frames in preallocated per-symbol typed arrays. It allocates
 * nothing per frame.
 *
 * Per-frame rules (see the function modules for the formulas):
 * - Two-sided quantities (mid, spread, weighted mid, imbalance, depth,
 *   slippage) are NaN when a side is empty; the frame gets
 *   `FRAME_FLAG_ONE_SIDED`. Walls use whatever levels are visible.
 * - OFI compares the book with the symbol's previous book, level i with
 *   level i, over `ofiLevels` levels (level-1 e is also reported). e is NaN
 *   (`FRAME_FLAG_NO_OFI`) on the symbol's first frame, on a frame flagged
 *   stale or resynced, on the first frame after a stale one, and when either
 *   book is one-sided. Every frame enters the 1 s / 10 s windows at its
 *   receive time (a NaN e counts as 0), which also gives the frame rate.
 * - Stale frames (`BOOK_FLAG_STALE`: the last good book repeated while the
 *   symbol resyncs) are analysed for the static quantities but feed neither
 *   OFI nor volatility: they clear the previous book and break the mid-sample
 *   chain, so the first fresh book afterwards is not compared across the gap.
 *   A resynced frame (`BOOK_FLAG_RESYNCED`) starts new chains the same way.
 * - Volatility samples the mid once per second of receive time.
 *
 * Allocation: no double crosses a call boundary as an argument or a return
 * value (V8 boxes those in a new HeapNumber when it does not inline the
 * call); the function modules write into typed arrays instead. Each of them
 * keeps its own module constant `NOT_A_NUMBER` for branches that rarely run:
 * a bare `NaN` there is a global lookup that V8's optimizing compiler cannot
 * fold until the branch has run once, so it merges the results as tagged
 * values and boxes the common branch's double on every call (measured with
 * `--trace-gc`); a module constant is folded, an imported one is not (it
 * boxes like a bare `NaN`, also measured), so the constant is not shared.
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "Order-flow imbalance (OFI)" and "Flags".
 *
 * @example
 * ```ts
 * import { Analyser } from "./analyser.ts";
 * import { BOOK_RECEIVE_TIME, BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FrameSlotLayout, FRAME_MID } from "../pipeline/frame_slot.ts";
 * import { LocalBook } from "../ingest/local_book.ts";
 * const bookLayout = new BookSlotLayout(20);
 * const frameLayout = new FrameSlotLayout({ levels: 20 });
 * const analyser = new Analyser({ symbols: 2, bookLayout, frameLayout });
 * const book = new Float64Array(bookLayout.slotWords);
 * const out = new Float64Array(frameLayout.slotWords);
 * const local = new LocalBook();
 * local.loadSnapshot([[99, 1]], [[101, 1]]);
 * local.writeTop(book, 0, bookLayout); // symbol 0
 * book[BOOK_RECEIVE_TIME] = 1000;
 * analyser.analyse(book, 0, out, 0, 1000.5);
 * out[FRAME_MID]; // 100
 * ```
 * @module
 */

import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_EVENT_TIME,
  BOOK_FLAG_RESYNCED,
  BOOK_FLAG_STALE,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_PARSED_TIME,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  type BookSlotLayout,
} from "../pipeline/book_slot.ts";
import { storedCount } from "../pipeline/level_block.ts";
import { writeDepthBands } from "./depth_band.ts";
import { FlowWindow } from "./flow_window.ts";
import {
  FRAME_ANALYSED_TIME,
  FRAME_ASK_COUNT,
  FRAME_ASK_WALL_COUNT,
  FRAME_BID_COUNT,
  FRAME_BID_WALL_COUNT,
  FRAME_BOOK_FLAGS_MASK,
  FRAME_DELIVERED_TIME,
  FRAME_EVENT_TIME,
  FRAME_FLAG_CROSSED,
  FRAME_FLAG_NO_OFI,
  FRAME_FLAG_ONE_SIDED,
  FRAME_FLAG_WINDOW_OVERFLOW,
  FRAME_FLAGS,
  FRAME_IMBALANCE_1,
  FRAME_IMBALANCE_20,
  FRAME_IMBALANCE_5,
  FRAME_LAST_UPDATE_ID,
  FRAME_MID,
  FRAME_OFI,
  FRAME_OFI_10S,
  FRAME_OFI_1S,
  FRAME_OFI_L1,
  FRAME_OFI_L1_10S,
  FRAME_OFI_L1_1S,
  FRAME_PARSED_TIME,
  FRAME_RATE,
  FRAME_RECEIVE_TIME,
  FRAME_SEQUENCE,
  FRAME_SYMBOL_ID,
  FRAME_VOLATILITY_1M,
  FRAME_VOLATILITY_5M,
  FRAME_WALL_THRESHOLD,
  type FrameSlotLayout,
} from "../pipeline/frame_slot.ts";
import { writeImbalance } from "./imbalance.ts";
import { writeTopOfBook } from "./mid_spread.ts";
import { writeOrderFlowImbalance } from "./order_flow.ts";
import { Side } from "./side.ts";
import { BookWalk, writeSlippage } from "./slippage.ts";
import { VolatilitySampler } from "./volatility.ts";
import { DEFAULT_WALL_FACTOR, findWallsFrom, writeMedianVisibleSize } from "./walls.ts";

/** Options of {@link Analyser}. */
export interface AnalyserOptions {
  /** Number of symbols; book slots carry ids 0…symbols−1. A positive integer. */
  symbols: number;
  /** Layout of the incoming book slots. */
  bookLayout: BookSlotLayout;
  /** Layout of the analytics slots written; must have the same `levels`. */
  frameLayout: FrameSlotLayout;
  /** Wall factor k: walls are levels with size ≥ k × median visible size. Default 5. */
  wallFactor?: number;
  /** Slippage notionals; if given they must equal `frameLayout.notionals` (the layout decides). */
  notionals?: readonly number[];
  /** Levels summed by the multi-level OFI, 1…levels. Default all levels. */
  ofiLevels?: number;
  /** Entries per symbol in the OFI window ring. Default 1024. */
  windowCapacity?: number;
}

/**
 * Computes analytics frames from book frames for a fixed set of symbols.
 *
 * Allocation: no double crosses a call boundary as an argument or a return
 * value (V8 boxes those in a new HeapNumber when it does not inline the
 * call); the function modules write into typed arrays instead. Each of them
 * keeps its own module constant `NOT_A_NUMBER` for branches that rarely run:
 * a bare `NaN` there is a global lookup that V8's optimizing compiler cannot
 * fold until the branch has run once, so it merges the results as tagged
 * values and boxes the common branch's double on every call (measured with
 * `--trace-gc`); a module constant is folded, an imported one is not (it
 * boxes like a bare `NaN`, also measured), so the constant is not shared.
 *
 * @example
 * ```ts
 * import { Analyser } from "./analyser.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * declare const raw: SpscRing; // book slots from the ingest worker
 * declare const processed: SpscRing; // analytics slots to the main thread
 * const bookLayout = new BookSlotLayout(20);
 * const frameLayout = new FrameSlotLayout({ levels: 20 });
 * const analyser = new Analyser({ symbols: 1, bookLayout, frameLayout, wallFactor: 4 });
 * const book = new Float64Array(bookLayout.slotWords);
 * while (raw.pop(book)) {
 *   const at = processed.reserve();
 *   analyser.analyse(book, 0, processed.f64, at, Date.now());
 *   processed.commit();
 * }
 * ```
 */
export class Analyser {
  /** Number of symbols. */
  readonly symbols: number;
  /** Book slot layout read. */
  readonly bookLayout: BookSlotLayout;
  /** Analytics slot layout written. */
  readonly frameLayout: FrameSlotLayout;
  /** Wall factor k. */
  readonly wallFactor: number;
  /** Levels summed by the multi-level OFI. */
  readonly ofiLevels: number;
  #prevBooks: Float64Array;
  #hasPrev: Uint8Array;
  #sequence: Float64Array;
  #window: FlowWindow;
  #volatility: VolatilitySampler;
  #scratch: Float64Array;
  #walk = new BookWalk();
  /** Doubles handed to FlowWindow / VolatilitySampler (see `analyse`). */
  #entry = new Float64Array(3);

  /**
   * Allocates the per-symbol state (previous books, windows, samplers).
   *
   * @param options see {@link AnalyserOptions}.
   * @throws RangeError when an option is out of range or the layouts disagree.
   */
  constructor(options: AnalyserOptions) {
    const { symbols, bookLayout, frameLayout } = options;
    const wallFactor = options.wallFactor ?? DEFAULT_WALL_FACTOR;
    const ofiLevels = options.ofiLevels ?? bookLayout.levels;
    if (!Number.isInteger(symbols) || symbols < 1) {
      throw new RangeError(`symbols must be a positive integer, got ${symbols}`);
    }
    if (bookLayout.levels !== frameLayout.levels) {
      throw new RangeError(
        `book and frame layouts must have the same levels, got ${bookLayout.levels} and ${frameLayout.levels}`,
      );
    }
    if (!(wallFactor > 0) || !Number.isFinite(wallFactor)) {
      throw new RangeError(`wallFactor must be a positive finite number, got ${wallFactor}`);
    }
    if (!Number.isInteger(ofiLevels) || ofiLevels < 1 || ofiLevels > bookLayout.levels) {
      throw new RangeError(
        `ofiLevels must be an integer from 1 to ${bookLayout.levels}, got ${ofiLevels}`,
      );
    }
    const n = options.notionals;
    if (
      n !== undefined &&
      (n.length !== frameLayout.notionals.length ||
        n.some((v, i) => v !== frameLayout.notionals[i]))
    ) {
      throw new RangeError(
        `notionals [${n}] differ from the frame layout's [${frameLayout.notionals}]; set them on FrameSlotLayout`,
      );
    }
    this.symbols = symbols;
    this.bookLayout = bookLayout;
    this.frameLayout = frameLayout;
    this.wallFactor = wallFactor;
    this.ofiLevels = ofiLevels;
    this.#prevBooks = new Float64Array(symbols * bookLayout.slotWords);
    this.#hasPrev = new Uint8Array(symbols);
    this.#sequence = new Float64Array(symbols);
    this.#window = new FlowWindow({ symbols, capacity: options.windowCapacity ?? 1024 });
    this.#volatility = new VolatilitySampler({ symbols });
    this.#scratch = new Float64Array(2 * bookLayout.levels);
  }

  /**
   * Fills the analytics slot at `out[outBase…]` from the book slot at
   * `book[bookBase…]`, updates the symbol's state, and stamps the analysed
   * time with `nowMs` (the delivered time is set to NaN for main to fill).
   *
   * @throws RangeError when the book's symbol id is not an integer in [0, symbols).
   * @example
   * ```ts
   * import { Analyser } from "./analyser.ts";
   * import { BookSlotLayout } from "../pipeline/book_slot.ts";
   * import { FRAME_SEQUENCE, FrameSlotLayout } from "../pipeline/frame_slot.ts";
   * const bookLayout = new BookSlotLayout(5);
   * const frameLayout = new FrameSlotLayout({ levels: 5 });
   * const analyser = new Analyser({ symbols: 1, bookLayout, frameLayout });
   * const book = new Float64Array(bookLayout.slotWords); // symbol 0, an empty book
   * const out = new Float64Array(frameLayout.slotWords);
   * analyser.analyse(book, 0, out, 0, Date.now());
   * out[FRAME_SEQUENCE]; // 1: the first frame of symbol 0
   * ```
   */
  analyse(
    book: Float64Array,
    bookBase: number,
    out: Float64Array,
    outBase: number,
    nowMs: number,
  ): void {
    const bl = this.bookLayout;
    const s = book[bookBase + BOOK_SYMBOL_ID];
    if (!(s >= 0 && s < this.symbols && s === Math.floor(s))) {
      throw new RangeError(
        `book symbol id must be an integer from 0 to ${this.symbols - 1}, got ${s}`,
      );
    }
    const bookFlags = book[bookBase + BOOK_FLAGS] | 0;
    const stale = (bookFlags & BOOK_FLAG_STALE) !== 0;
    const resynced = (bookFlags & BOOK_FLAG_RESYNCED) !== 0;
    const nb = storedCount(book[bookBase + BOOK_BID_COUNT], bl.levels);
    const na = storedCount(book[bookBase + BOOK_ASK_COUNT], bl.levels);
    let flags = bookFlags & FRAME_BOOK_FLAGS_MASK;

    // Every double goes from function to function through a typed array
    // (mostly this slot), never as an argument or a return value: V8 boxes
    // those in a new HeapNumber when it does not inline the call. Flags and
    // counts are small integers, which it does not box. The top of book stays
    // inline here: as a method of its own it measured about 4% slower.
    writeTopOfBook(book, bookBase, bl, out, outBase);
    if (nb < 1 || na < 1) flags |= FRAME_FLAG_ONE_SIDED;
    else if (book[bookBase + bl.bidPrice(0)] >= book[bookBase + bl.askPrice(0)]) {
      flags |= FRAME_FLAG_CROSSED;
    }
    writeImbalance(book, bookBase, bl, 1, out, outBase + FRAME_IMBALANCE_1);
    writeImbalance(book, bookBase, bl, 5, out, outBase + FRAME_IMBALANCE_5);
    writeImbalance(book, bookBase, bl, 20, out, outBase + FRAME_IMBALANCE_20);
    flags |= this.#orderFlow(s, book, bookBase, out, outBase, nb, na, stale, resynced);
    this.#volatilityOf(s, book, bookBase, out, outBase, stale, resynced);
    // Depth bands and slippage around the slot's mid, written straight into the slot.
    const fl = this.frameLayout;
    writeDepthBands(book, bookBase, bl, out, outBase, fl);
    flags |= writeSlippage(book, bookBase, bl, out, outBase, fl, this.#walk);
    this.#walls(book, bookBase, out, outBase);
    this.#levels(book, bookBase, out, outBase, nb, na);

    // Identity and stamps.
    out[outBase + FRAME_SYMBOL_ID] = s;
    out[outBase + FRAME_FLAGS] = flags;
    out[outBase + FRAME_LAST_UPDATE_ID] = book[bookBase + BOOK_LAST_UPDATE_ID];
    out[outBase + FRAME_SEQUENCE] = ++this.#sequence[s];
    out[outBase + FRAME_EVENT_TIME] = book[bookBase + BOOK_EVENT_TIME];
    out[outBase + FRAME_RECEIVE_TIME] = book[bookBase + BOOK_RECEIVE_TIME];
    out[outBase + FRAME_PARSED_TIME] = book[bookBase + BOOK_PARSED_TIME];
    out[outBase + FRAME_ANALYSED_TIME] = nowMs;
    out[outBase + FRAME_DELIVERED_TIME] = NaN;
  }

  /**
   * Order flow against the symbol's previous book, which this book then
   * replaces (a stale book clears it), and the 1 s / 10 s windows with the
   * frame rate; returns the no-OFI / window-overflow flags.
   */
  #orderFlow(
    s: number,
    book: Float64Array,
    bookBase: number,
    out: Float64Array,
    outBase: number,
    nb: number,
    na: number,
    stale: boolean,
    resynced: boolean,
  ): number {
    const bl = this.bookLayout;
    const prev = this.#prevBooks;
    const prevBase = s * bl.slotWords;
    out[outBase + FRAME_OFI_L1] = NaN;
    out[outBase + FRAME_OFI] = NaN;
    if (stale) {
      this.#hasPrev[s] = 0;
    } else {
      if (this.#hasPrev[s] === 1 && !resynced) {
        writeOrderFlowImbalance(prev, prevBase, book, bookBase, bl, 1, out, outBase + FRAME_OFI_L1);
        writeOrderFlowImbalance(
          prev,
          prevBase,
          book,
          bookBase,
          bl,
          this.ofiLevels,
          out,
          outBase + FRAME_OFI,
        );
      }
      prev[prevBase + BOOK_BID_COUNT] = nb;
      prev[prevBase + BOOK_ASK_COUNT] = na;
      const bs = bl.bidsStart, as = bl.asksStart;
      for (let i = 0; i < 2 * nb; i++) prev[prevBase + bs + i] = book[bookBase + bs + i];
      for (let i = 0; i < 2 * na; i++) prev[prevBase + as + i] = book[bookBase + as + i];
      this.#hasPrev[s] = 1;
    }
    let flags = 0;
    const e1 = out[outBase + FRAME_OFI_L1];
    const em = out[outBase + FRAME_OFI];
    if (e1 !== e1) flags |= FRAME_FLAG_NO_OFI;
    const w = this.#window;
    const entry = this.#entry;
    const receive = book[bookBase + BOOK_RECEIVE_TIME];
    if (receive === receive) {
      entry[0] = receive;
      entry[1] = e1 === e1 ? e1 : 0;
      entry[2] = em === em ? em : 0;
      if (w.pushEntry(s, entry)) flags |= FRAME_FLAG_WINDOW_OVERFLOW;
    }
    out[outBase + FRAME_OFI_L1_1S] = w.shortSumL1(s);
    out[outBase + FRAME_OFI_L1_10S] = w.longSumL1(s);
    out[outBase + FRAME_OFI_1S] = w.shortSum(s);
    out[outBase + FRAME_OFI_10S] = w.longSum(s);
    out[outBase + FRAME_RATE] = w.rate(s);
    return flags;
  }

  /**
   * Samples the mid (already in the slot) for volatility, unless the book is
   * stale; a stale or resynced book breaks the chain.
   */
  #volatilityOf(
    s: number,
    book: Float64Array,
    bookBase: number,
    out: Float64Array,
    outBase: number,
    stale: boolean,
    resynced: boolean,
  ): void {
    const vol = this.#volatility;
    if (stale || resynced) vol.breakChain(s);
    if (!stale) {
      const entry = this.#entry;
      entry[0] = book[bookBase + BOOK_RECEIVE_TIME];
      entry[1] = out[outBase + FRAME_MID];
      vol.observeEntry(s, entry);
    }
    out[outBase + FRAME_VOLATILITY_1M] = vol.short(s);
    out[outBase + FRAME_VOLATILITY_5M] = vol.long(s);
  }

  /** The wall threshold (k × median visible size) and the walls of each side. */
  #walls(book: Float64Array, bookBase: number, out: Float64Array, outBase: number): void {
    const bl = this.bookLayout;
    const fl = this.frameLayout;
    const thresholdIndex = outBase + FRAME_WALL_THRESHOLD;
    writeMedianVisibleSize(book, bookBase, bl, this.#scratch, out, thresholdIndex);
    out[thresholdIndex] *= this.wallFactor;
    out[outBase + FRAME_BID_WALL_COUNT] = findWallsFrom(
      book,
      bookBase,
      bl,
      Side.Bid,
      out,
      thresholdIndex,
      out,
      outBase + fl.wallPrice(Side.Bid, 0),
      fl.wallsPerSide,
    );
    out[outBase + FRAME_ASK_WALL_COUNT] = findWallsFrom(
      book,
      bookBase,
      bl,
      Side.Ask,
      out,
      thresholdIndex,
      out,
      outBase + fl.wallPrice(Side.Ask, 0),
      fl.wallsPerSide,
    );
  }

  /** The book's levels, copied for the ladder and depth chart. */
  #levels(
    book: Float64Array,
    bookBase: number,
    out: Float64Array,
    outBase: number,
    nb: number,
    na: number,
  ): void {
    const bl = this.bookLayout;
    const fl = this.frameLayout;
    out[outBase + FRAME_BID_COUNT] = nb;
    out[outBase + FRAME_ASK_COUNT] = na;
    const fb = outBase + fl.bidsStart, fa = outBase + fl.asksStart;
    const bb = bookBase + bl.bidsStart, ba = bookBase + bl.asksStart;
    for (let i = 0; i < 2 * nb; i++) out[fb + i] = book[bb + i];
    for (let i = 0; i < 2 * na; i++) out[fa + i] = book[ba + i];
  }

  /**
   * Frames analysed so far for symbol `s` (the last sequence number written).
   *
   * @example
   * ```ts
   * import { Analyser } from "./analyser.ts";
   * import { BookSlotLayout } from "../pipeline/book_slot.ts";
   * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
   * const analyser = new Analyser({
   *   symbols: 1,
   *   bookLayout: new BookSlotLayout(5),
   *   frameLayout: new FrameSlotLayout({ levels: 5 }),
   * });
   * analyser.sequence(0); // 0 before the first frame of symbol 0
   * ```
   */
  sequence(s: number): number {
    return this.#sequence[s];
  }
}
