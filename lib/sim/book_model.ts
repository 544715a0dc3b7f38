/**
 * The simulated order book of one symbol: a full price-level book on a tick grid
 * that moves like a real one. A fair price follows a random walk; the best bid and
 * ask follow it around a spread that widens in shocks and narrows again; level
 * sizes are log-normal (heavy-tailed) with occasional large resting orders
 * ("walls"); random churn adds, resizes and cancels levels, mostly near the top.
 * The book is never crossed.
 *
 * Every elementary change (one level set to a new absolute size, 0 removing it)
 * takes the next update id, exactly like Binance's `U`..`u` numbering. Each call
 * of {@link BookModel.advanceFrame} applies one frame's worth of changes and
 * leaves the changed levels of that frame in {@link BookModel.changedBids} /
 * {@link BookModel.changedAsks}, from which a diff event is encoded. Applying all
 * frames' changes to a snapshot taken at any update id reproduces the book.
 *
 * Prices are integer ticks and sizes integer lots (see {@link SymbolSpec}).
 * Storage is dense typed arrays over a window of ticks that is re-centred between
 * frames; nothing is allocated per frame. Deterministic for a given seed.
 *
 * @example
 * ```ts
 * import { BookModel } from "./book_model.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const book = new BookModel(symbolSpec("btcusdt"), { seed: 1 });
 * const before = book.updateId;
 * book.advanceFrame();
 * book.updateId > before; // true (usually; a frame can be quiet)
 * book.bestBidTicks() < book.bestAskTicks(); // true, always
 * ```
 * @module
 */

import { hashString, Prng } from "./prng.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/**
 * Options of {@link BookModel}.
 *
 * @example
 * ```ts
 * const options: BookModelOptions = { seed: 7, depthTicks: 1024, churnPerFrame: 8 };
 * ```
 */
export interface BookModelOptions {
  /** Seed of the random generator; mixed with the symbol name. Default 1. */
  seed?: number;
  /**
   * Levels of a side are kept within this many ticks of that side's best price.
   * With the default fill density this gives about 0.75 × depthTicks levels per
   * side. Default 4096 (about 3000 levels; REST `limit` above that returns what
   * exists, as a thin real book does).
   */
  depthTicks?: number;
  /** Mean number of random level changes per frame besides price moves. Default 4. */
  churnPerFrame?: number;
  /** Probability that a new level is a wall (a large resting order). Default 0.004. */
  wallProbability?: number;
  /** Size multiplier of a wall, drawn uniformly in [scale, 2 × scale]. Default 30. */
  wallScale?: number;
  /** Update id of the initial book (the next change gets id + 1). Default: derived from seed and symbol. */
  startUpdateId?: number;
  /**
   * A fair-price path shared with other books (another venue's book of the same
   * asset, see `venues/fair_path.ts`): the book's fair price is the path's value
   * at its frame number plus its own mean-reverting offset (standard deviation
   * {@link fairOffsetTicks}). Default none: the book walks on its own.
   */
  fairPath?: { fairAt(frame: number): number };
  /** Standard deviation of the book's offset from {@link fairPath}, ticks. Default 0.4 × the spec's spread. */
  fairOffsetTicks?: number;
}

const MAX_LOTS = 0xffffffff;
const NEAR_DENSITY = 0.9;
const FAR_DENSITY = 0.75;
const NEAR_TICKS = 20;

/**
 * Simulated order book of one symbol. See the module documentation.
 *
 * @example
 * ```ts
 * import { symbolSpec } from "./symbol_spec.ts";
 * const book = new BookModel(symbolSpec("ethusdt"), { seed: 3, depthTicks: 256 });
 * const changed = book.advanceFrame();
 * changed === book.changedBidCount + book.changedAskCount; // true
 * ```
 */
export class BookModel {
  /** Instrument parameters. */
  readonly spec: SymbolSpec;
  /** Ticks a side may extend beyond its best price. */
  readonly depthTicks: number;
  /** Width of the dense window in ticks. */
  readonly windowTicks: number;
  /** Lots of each bid level by window index (0 = no level). Read-only for callers. */
  readonly bids: Uint32Array;
  /** Lots of each ask level by window index (0 = no level). Read-only for callers. */
  readonly asks: Uint32Array;
  /** Window indices of the bid levels changed in the last frame (first `changedBidCount`). */
  readonly changedBids: Int32Array;
  /** Window indices of the ask levels changed in the last frame (first `changedAskCount`). */
  readonly changedAsks: Int32Array;
  /** Number of valid entries in {@link changedBids}. */
  changedBidCount = 0;
  /** Number of valid entries in {@link changedAsks}. */
  changedAskCount = 0;
  /** Absolute tick of window index 0. */
  origin = 0;
  /** Window index of the best bid. */
  bestBid = 0;
  /** Window index of the best ask. */
  bestAsk = 0;
  /** Id of the last applied change. */
  updateId: number;
  /** Id of the first change of the last frame (`U`); equals `updateId + 1` when the frame was quiet. */
  frameFirstUpdateId: number;
  /** Frames advanced so far. */
  frames = 0;

  #rng: Prng;
  #fair: number;
  #spread: number;
  #churn: number;
  #wallProbability: number;
  #wallScale: number;
  #margin: number;
  #bidMarks: Uint32Array;
  #askMarks: Uint32Array;
  #bidLevels = 0;
  #askLevels = 0;
  #path: { fairAt(frame: number): number } | undefined;
  #offsetStd: number;
  #offset = 0;

  /**
   * Builds the initial book around the symbol's start price.
   *
   * @param spec Instrument parameters, e.g. from `symbolSpec("btcusdt")`.
   * @param options See {@link BookModelOptions}.
   * @throws {RangeError} if an option is out of range.
   */
  constructor(spec: SymbolSpec, options: BookModelOptions = {}) {
    const seed = options.seed ?? 1;
    const depth = options.depthTicks ?? 4096;
    if (!Number.isInteger(depth) || depth < 16 || depth > 1 << 20) {
      throw new RangeError(`depthTicks must be an integer in 16..1048576, got ${depth}`);
    }
    const churn = options.churnPerFrame ?? 4;
    if (!(churn >= 0 && churn <= 10000)) {
      throw new RangeError(`churnPerFrame must be in 0..10000, got ${churn}`);
    }
    const wallP = options.wallProbability ?? 0.004;
    if (!(wallP >= 0 && wallP <= 1)) {
      throw new RangeError(`wallProbability must be in 0..1, got ${wallP}`);
    }
    const wallScale = options.wallScale ?? 30;
    if (!(wallScale >= 1)) throw new RangeError(`wallScale must be >= 1, got ${wallScale}`);
    this.spec = spec;
    this.depthTicks = depth;
    this.windowTicks = depth * 4;
    this.#margin = depth >> 1;
    this.#churn = churn;
    this.#wallProbability = wallP;
    this.#wallScale = wallScale;
    this.#rng = new Prng((hashString(spec.stream) ^ (seed >>> 0)) + Math.floor(seed / 4294967296));
    this.bids = new Uint32Array(this.windowTicks);
    this.asks = new Uint32Array(this.windowTicks);
    this.changedBids = new Int32Array(this.windowTicks);
    this.changedAsks = new Int32Array(this.windowTicks);
    this.#bidMarks = new Uint32Array(this.windowTicks);
    this.#askMarks = new Uint32Array(this.windowTicks);
    const start = options.startUpdateId ?? 1_000_000_000 + (this.#rng.nextUint32() % 1_000_000_000);
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError(`startUpdateId must be a non-negative safe integer, got ${start}`);
    }
    this.updateId = start;
    this.frameFirstUpdateId = start + 1;
    this.#path = options.fairPath;
    this.#offsetStd = options.fairOffsetTicks ?? 0.4 * spec.spreadTicks;
    if (!(this.#offsetStd >= 0)) {
      throw new RangeError(`fairOffsetTicks must be >= 0, got ${options.fairOffsetTicks}`);
    }
    this.#fair = this.#path === undefined ? spec.startTicks : this.#path.fairAt(0);
    this.#spread = spec.spreadTicks;
    this.#populate();
  }

  /** Absolute tick of the best bid. */
  bestBidTicks(): number {
    return this.origin + this.bestBid;
  }

  /** Absolute tick of the best ask. */
  bestAskTicks(): number {
    return this.origin + this.bestAsk;
  }

  /** Number of bid levels in the book. */
  get bidLevels(): number {
    return this.#bidLevels;
  }

  /** Number of ask levels in the book. */
  get askLevels(): number {
    return this.#askLevels;
  }

  /**
   * Copies up to `n` best bids, best first (descending price), as absolute ticks
   * and lots into the given arrays.
   *
   * @returns The number of levels written.
   * @example
   * ```ts
   * import { symbolSpec } from "./symbol_spec.ts";
   * const book = new BookModel(symbolSpec("btcusdt"));
   * const t = new Float64Array(20), l = new Float64Array(20);
   * const n = book.topBids(20, t, l); // t[0] is the best bid tick
   * ```
   */
  topBids(n: number, ticks: Float64Array, lots: Float64Array): number {
    const bids = this.bids;
    const limit = Math.min(n, ticks.length, lots.length);
    let k = 0;
    for (let i = this.bestBid; i >= 0 && k < limit; i--) {
      const q = bids[i];
      if (q !== 0) {
        ticks[k] = this.origin + i;
        lots[k] = q;
        k++;
      }
    }
    return k;
  }

  /**
   * Copies up to `n` best asks, best first (ascending price), as absolute ticks
   * and lots into the given arrays.
   *
   * @returns The number of levels written.
   */
  topAsks(n: number, ticks: Float64Array, lots: Float64Array): number {
    const asks = this.asks;
    const limit = Math.min(n, ticks.length, lots.length);
    const w = this.windowTicks;
    let k = 0;
    for (let i = this.bestAsk; i < w && k < limit; i++) {
      const q = asks[i];
      if (q !== 0) {
        ticks[k] = this.origin + i;
        lots[k] = q;
        k++;
      }
    }
    return k;
  }

  /**
   * Applies one frame of market activity: the fair price and spread move, the
   * best prices follow (cancelling or adding levels), then random churn.
   *
   * @returns The number of changed levels in this frame (0 for a quiet frame).
   */
  advanceFrame(): number {
    this.#recentreIfNeeded();
    this.frames++;
    this.changedBidCount = 0;
    this.changedAskCount = 0;
    this.frameFirstUpdateId = this.updateId + 1;
    const rng = this.#rng;
    const spec = this.spec;

    // Fair price random walk (own or shared plus an offset) and a mean-reverting
    // spread with rare widening shocks.
    if (this.#path === undefined) this.#fair += rng.normal() * spec.volTicksPerFrame;
    else {
      this.#offset = 0.9 * this.#offset + 0.4359 * this.#offsetStd * rng.normal();
      this.#fair = this.#path.fairAt(this.frames) + this.#offset;
    }
    const base = spec.spreadTicks;
    let s = this.#spread + 0.25 * (base - this.#spread) + 0.35 * base * rng.normal();
    if (rng.next() < 0.004) s *= 4 + 12 * rng.next();
    this.#spread = s = Math.min(60 * base, Math.max(1, s));

    const lo = this.depthTicks + 1;
    const hi = this.windowTicks - this.depthTicks - 2;
    let targetBid = Math.floor(this.#fair - s / 2) - this.origin;
    if (targetBid < lo) targetBid = lo;
    if (targetBid > hi - 1) targetBid = hi - 1;
    let targetAsk = targetBid + Math.max(1, Math.round(s));
    if (targetAsk > hi) targetAsk = hi;

    // Retreats first (moving away from the other side), then advances: never crossed.
    if (targetAsk > this.bestAsk) this.#retreatAsks(targetAsk);
    if (targetBid < this.bestBid) this.#retreatBids(targetBid);
    if (targetAsk < this.bestAsk) this.#advanceAsks(targetAsk);
    if (targetBid > this.bestBid) this.#advanceBids(targetBid);

    const n = this.#churn <= 0 ? 0 : 1 + rng.geometric(Math.min(1, 1 / this.#churn));
    for (let i = 0; i < n; i++) this.#churnOnce();
    return this.changedBidCount + this.changedAskCount;
  }

  /**
   * A frame in which nothing happens (the `quiet` fault): the frame count
   * advances, no level changes, so the frame's change lists are empty.
   */
  idleFrame(): void {
    this.frames++;
    this.changedBidCount = 0;
    this.changedAskCount = 0;
    this.frameFirstUpdateId = this.updateId + 1;
  }

  #newLots(): number {
    const rng = this.#rng;
    let q = Math.exp(this.spec.sizeMu + this.spec.sizeSigma * rng.normal());
    if (rng.next() < this.#wallProbability) q *= this.#wallScale * (1 + rng.next());
    q = Math.round(q);
    return q < 1 ? 1 : q > MAX_LOTS ? MAX_LOTS : q;
  }

  #populate(): void {
    const rng = this.#rng;
    const mid = this.windowTicks >> 1;
    this.origin = Math.round(this.#fair) - mid;
    const spread = Math.max(1, Math.round(this.#spread));
    this.bestBid = mid - (spread >> 1);
    this.bestAsk = this.bestBid + spread;
    for (let d = 0; d <= this.depthTicks; d++) {
      const p = d === 0 ? 1 : d < NEAR_TICKS ? NEAR_DENSITY : FAR_DENSITY;
      if (rng.next() < p) {
        this.bids[this.bestBid - d] = this.#newLots();
        this.#bidLevels++;
      }
      if (rng.next() < p) {
        this.asks[this.bestAsk + d] = this.#newLots();
        this.#askLevels++;
      }
    }
  }

  #recentreIfNeeded(): void {
    const w = this.windowTicks, depth = this.depthTicks, margin = this.#margin;
    if (this.bestBid - depth >= margin && this.bestAsk + depth < w - margin) return;
    const shift = ((this.bestBid + this.bestAsk) >> 1) - (w >> 1);
    if (shift === 0) return;
    for (const a of [this.bids, this.asks]) {
      if (shift > 0) {
        a.copyWithin(0, shift);
        a.fill(0, w - shift);
      } else {
        a.copyWithin(-shift, 0, w + shift);
        a.fill(0, 0, -shift);
      }
    }
    this.#bidMarks.fill(0);
    this.#askMarks.fill(0);
    this.origin += shift;
    this.bestBid -= shift;
    this.bestAsk -= shift;
  }

  #setBid(i: number, lots: number): void {
    const old = this.bids[i];
    if (old === lots) return;
    this.bids[i] = lots;
    if (old === 0) this.#bidLevels++;
    else if (lots === 0) this.#bidLevels--;
    this.updateId++;
    const mark = this.frames >>> 0;
    if (this.#bidMarks[i] !== mark) {
      this.#bidMarks[i] = mark;
      this.changedBids[this.changedBidCount++] = i;
    }
  }

  #setAsk(i: number, lots: number): void {
    const old = this.asks[i];
    if (old === lots) return;
    this.asks[i] = lots;
    if (old === 0) this.#askLevels++;
    else if (lots === 0) this.#askLevels--;
    this.updateId++;
    const mark = this.frames >>> 0;
    if (this.#askMarks[i] !== mark) {
      this.#askMarks[i] = mark;
      this.changedAsks[this.changedAskCount++] = i;
    }
  }

  /** Best ask moves up to `target`: asks below it are taken or cancelled. */
  #retreatAsks(target: number): void {
    const asks = this.asks;
    let next = -1;
    const end = Math.min(this.windowTicks - 1, this.bestAsk + this.depthTicks);
    for (let i = target; i <= end; i++) {
      if (asks[i] !== 0) {
        next = i;
        break;
      }
    }
    if (next < 0) {
      this.#setAsk(target, this.#newLots());
      next = target;
    }
    const old = this.bestAsk;
    for (let i = old; i < target; i++) if (asks[i] !== 0) this.#setAsk(i, 0);
    this.bestAsk = next;
    // The far end of the side may now reach further: resting orders appear there.
    const last = Math.min(this.windowTicks - 1, next + this.depthTicks);
    for (let i = old + this.depthTicks + 1; i <= last; i++) {
      if (this.#rng.next() < FAR_DENSITY) this.#setAsk(i, this.#newLots());
    }
  }

  /** Best bid moves down to `target`: bids above it are taken or cancelled. */
  #retreatBids(target: number): void {
    const bids = this.bids;
    let next = -1;
    const end = Math.max(0, this.bestBid - this.depthTicks);
    for (let i = target; i >= end; i--) {
      if (bids[i] !== 0) {
        next = i;
        break;
      }
    }
    if (next < 0) {
      this.#setBid(target, this.#newLots());
      next = target;
    }
    const old = this.bestBid;
    for (let i = old; i > target; i--) if (bids[i] !== 0) this.#setBid(i, 0);
    this.bestBid = next;
    const last = Math.max(0, next - this.depthTicks);
    for (let i = old - this.depthTicks - 1; i >= last; i--) {
      if (this.#rng.next() < FAR_DENSITY) this.#setBid(i, this.#newLots());
    }
  }

  /** Best ask improves down to `target` (> best bid): new levels fill the gap; far asks are trimmed. */
  #advanceAsks(target: number): void {
    const rng = this.#rng;
    const old = this.bestAsk;
    this.#setAsk(target, this.#newLots());
    for (let i = target + 1; i < old; i++) {
      if (rng.next() < NEAR_DENSITY) this.#setAsk(i, this.#newLots());
    }
    const asks = this.asks;
    const last = Math.min(this.windowTicks - 1, old + this.depthTicks);
    for (let i = target + this.depthTicks + 1; i <= last; i++) {
      if (asks[i] !== 0) this.#setAsk(i, 0);
    }
    this.bestAsk = target;
  }

  /** Best bid improves up to `target` (< best ask): new levels fill the gap; far bids are trimmed. */
  #advanceBids(target: number): void {
    const rng = this.#rng;
    const old = this.bestBid;
    this.#setBid(target, this.#newLots());
    for (let i = target - 1; i > old; i--) {
      if (rng.next() < NEAR_DENSITY) this.#setBid(i, this.#newLots());
    }
    const bids = this.bids;
    const last = Math.max(0, old - this.depthTicks);
    for (let i = target - this.depthTicks - 1; i >= last; i--) {
      if (bids[i] !== 0) this.#setBid(i, 0);
    }
    this.bestBid = target;
  }

  /** One random add, resize or cancel, mostly near the top of a random side. */
  #churnOnce(): void {
    const rng = this.#rng;
    const bidSide = rng.next() < 0.5;
    const d = rng.next() < 0.85 ? rng.geometric(0.15) : rng.int(this.depthTicks + 1);
    if (d > this.depthTicks) return;
    const action = rng.next();
    if (bidSide) {
      const i = this.bestBid - d;
      if (i < 0) return;
      const q = this.bids[i];
      if (q === 0) this.#setBid(i, this.#newLots());
      else if (action < 0.25) {
        if (this.#bidLevels <= 1) return;
        this.#setBid(i, 0);
        if (i === this.bestBid) {
          let j = i - 1;
          while (this.bids[j] === 0) j--;
          this.bestBid = j;
        }
      } else this.#setBid(i, this.#resize(q));
    } else {
      const i = this.bestAsk + d;
      if (i >= this.windowTicks) return;
      const q = this.asks[i];
      if (q === 0) this.#setAsk(i, this.#newLots());
      else if (action < 0.25) {
        if (this.#askLevels <= 1) return;
        this.#setAsk(i, 0);
        if (i === this.bestAsk) {
          let j = i + 1;
          while (this.asks[j] === 0) j++;
          this.bestAsk = j;
        }
      } else this.#setAsk(i, this.#resize(q));
    }
  }

  #resize(q: number): number {
    const r = Math.round(q * Math.exp(0.5 * this.#rng.normal()));
    return r < 1 ? 1 : r > MAX_LOTS ? MAX_LOTS : r;
  }
}
