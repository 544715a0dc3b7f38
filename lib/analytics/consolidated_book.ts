/**
 * The book of a consolidated instrument (`--consolidate`, service name
 * `x:<name>`): the members' top levels merged into one ladder whose levels
 * are tagged with the member they come from, composed in the analytics
 * worker from the members' own book frames.
 *
 * Rules (docs/operating.md, "Consolidated instruments"):
 * - **Latest book per member.** {@link ConsolidatedBook.update} copies a
 *   member's newest book frame (counts, levels, receive and parse times,
 *   its stale flag) into this book's preallocated arrays; older ones are
 *   overwritten (the instrument keeps the latest, never a queue).
 * - **Fresh or stale.** A member contributes when its feed state is Live, its
 *   last book is not flagged stale (`BOOK_FLAG_STALE`: a book repeated while
 *   it resyncs) and that book is at most `staleMs` older than the
 *   instrument's clock (the newest receive time of any member: the data's own
 *   time, so a replay ages members as the recording did). A stale member
 *   contributes **no** level; its last quotes are still reported, flagged
 *   stale.
 * - **Merge.** The fresh members' levels are merged per side, best first
 *   (bids by descending price, asks ascending), into at most `levels` per
 *   side. A level is one member's level: equal prices on two members stay
 *   two levels, the lower member index first. Each level carries its member
 *   index (0 = the first member of `--consolidate`).
 * - **Crossed.** Members' books are not compared with each other: a best bid
 *   on one member above the best ask on another is kept (the analyser flags
 *   the frame `FRAME_FLAG_CROSSED`; the gap best bid − best ask is the
 *   arbitrage). Nothing is rejected.
 * - **Frame.** {@link ConsolidatedBook.compose} writes a book slot the
 *   analyser reads like any symbol's: the instrument's symbol id, update id
 *   = compositions so far, no event time, receive time = the clock above,
 *   parse time = the newest member's, flag `BOOK_FLAG_STALE` when no member
 *   is fresh (an empty book) and `BOOK_FLAG_RESYNCED` when the set of fresh
 *   members changed since the previous composition, or a member's book came
 *   flagged resynced since then (the ladder jumped: OFI and volatility start
 *   new chains). It also writes the frame slot's venues
 *   block (`FrameSlotLayout.venueCount` …).
 * - **Pace.** {@link ConsolidatedBook.due} says when to compose: a member
 *   changed or the fresh set changed, and at least `intervalMs` of wall time
 *   since the last composition (default 100 ms: at most 10 frames/s).
 *
 * Memory: one Float64Array of `members × (2 + 4 × levels)` words (the
 * members' tops) and a few per-member words, allocated once; composing
 * allocates nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConsolidatedBook } from "./consolidated_book.ts";
 * import { BOOK_ASK_COUNT, BOOK_BID_COUNT, BOOK_RECEIVE_TIME, BOOK_SYMBOL_ID, BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const bookLayout = new BookSlotLayout(2);
 * const frameLayout = new FrameSlotLayout({ levels: 2, venueMembers: 2 });
 * const x = new ConsolidatedBook({ symbolId: 2, members: [0, 1], levels: 2 });
 * const book = new Float64Array(bookLayout.slotWords);
 * book[BOOK_BID_COUNT] = 1; book[BOOK_ASK_COUNT] = 1; book[BOOK_RECEIVE_TIME] = 1000;
 * book[bookLayout.bidPrice(0)] = 99; book[bookLayout.bidSize(0)] = 1;
 * book[bookLayout.askPrice(0)] = 101; book[bookLayout.askSize(0)] = 1;
 * x.update(0, book, 0, bookLayout);
 * book[bookLayout.bidPrice(0)] = 100; // member 1 bids higher
 * x.update(1, book, 0, bookLayout);
 * const live = { feedState: () => 1 };
 * const merged = new Float64Array(bookLayout.slotWords);
 * const frame = new Float64Array(frameLayout.slotWords);
 * x.compose(live, merged, 0, bookLayout, frame, 0, frameLayout);
 * assert.equal(merged[BOOK_SYMBOL_ID], 2);
 * assert.deepEqual([merged[bookLayout.bidPrice(0)], merged[bookLayout.bidPrice(1)]], [100, 99]);
 * assert.deepEqual([frame[frameLayout.bidVenue(0)], frame[frameLayout.bidVenue(1)]], [1, 0]);
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
import { FeedState } from "../pipeline/feed_state.ts";
import { type FrameSlotLayout, MAX_VENUE_MEMBERS } from "../pipeline/frame_slot.ts";
import { storedCount } from "../pipeline/level_block.ts";

/** Where a consolidated book reads its members' feed states (e.g. the pipeline counters). */
export interface FeedStates {
  /** The feed state ({@link FeedState}) of symbol `symbolId`. */
  feedState(symbolId: number): number;
}

/** Options of {@link ConsolidatedBook}. */
export interface ConsolidatedBookOptions {
  /** The instrument's symbol id (its row in the run's symbol list). Required. */
  symbolId: number;
  /** The members' symbol ids, 2 to 8 distinct ids, in `--consolidate` order (member index = position). Required. */
  members: readonly number[];
  /** Levels per side of the books read and written, 1 to 1000. Required. */
  levels: number;
  /** A member whose newest book is older than this (ms, behind the instrument's clock) is stale. Default 2000. */
  staleMs?: number;
  /** Least wall time between two compositions, ms. Default 100. */
  intervalMs?: number;
}

/** Words per member in the tops array: bid count, ask count, bid pairs, ask pairs. */
const TOP_HEADER = 2;
const NOT_A_NUMBER = NaN;

/**
 * The frame slot's `venueMembers` for a run's instruments: the most members
 * any has (0 without instruments: the slot then has no venue block). The
 * service and the analytics worker both size their layouts with it.
 *
 * @example
 * ```ts
 * import { mostMembers } from "./consolidated_book.ts";
 * mostMembers([{ members: [0, 1] }, { members: [2, 3, 4] }]); // 3
 * mostMembers([]); // 0
 * ```
 */
export function mostMembers(
  instruments: readonly { readonly members: ArrayLike<unknown> }[],
): number {
  let most = 0;
  for (const x of instruments) if (x.members.length > most) most = x.members.length;
  return most;
}

/**
 * One consolidated instrument's members and their newest books.
 *
 * @example
 * ```ts
 * import { ConsolidatedBook } from "./consolidated_book.ts";
 * const x = new ConsolidatedBook({ symbolId: 3, members: [0, 2], levels: 20 });
 * x.members; // [0, 2]
 * x.due(0, { feedState: () => 1 }); // false: no member has a book yet
 * ```
 */
export class ConsolidatedBook {
  /** The instrument's symbol id. */
  readonly symbolId: number;
  /** The members' symbol ids (member index = position). */
  readonly members: readonly number[];
  /** Levels per side. */
  readonly levels: number;
  /** Staleness bound, ms. */
  readonly staleMs: number;
  /** Least wall time between compositions, ms. */
  readonly intervalMs: number;
  readonly #stride: number;
  /** Per member: bid count, ask count, `levels` bid (price, size) pairs, `levels` ask pairs. */
  readonly #tops: Float64Array;
  readonly #receive: Float64Array;
  readonly #parsed: Float64Array;
  readonly #bookStale: Uint8Array;
  /** Merge cursors, one per member. */
  readonly #head: Int32Array;
  #composed = 0;
  #dirty = false;
  /** The fresh mask of the last composition (-1 before the first). */
  #lastMask = -1;
  /** A member's book came flagged `BOOK_FLAG_RESYNCED` since the last composition. */
  #memberResynced = false;
  #lastWall = -Infinity;

  /**
   * @param options see {@link ConsolidatedBookOptions}.
   * @throws RangeError for fewer than 2 or more than 8 members, repeated
   *   members, the instrument among its members, or bad levels / times.
   */
  constructor(options: ConsolidatedBookOptions) {
    const { symbolId, members, levels } = options;
    if (members.length < 2 || members.length > MAX_VENUE_MEMBERS) {
      throw new RangeError(
        `a consolidated instrument needs 2 to ${MAX_VENUE_MEMBERS} members, got ${members.length}`,
      );
    }
    if (new Set(members).size !== members.length || members.includes(symbolId)) {
      throw new RangeError(
        `consolidated members must be distinct symbols other than the instrument ${symbolId}, got ${
          members.join(", ")
        }`,
      );
    }
    if (!Number.isInteger(levels) || levels < 1 || levels > 1000) {
      throw new RangeError(`levels must be an integer from 1 to 1000, got ${levels}`);
    }
    const staleMs = options.staleMs ?? 2000;
    const intervalMs = options.intervalMs ?? 100;
    if (!(staleMs > 0) || !(intervalMs >= 0)) {
      throw new RangeError(
        `staleMs must be positive and intervalMs non-negative, got ${staleMs} and ${intervalMs}`,
      );
    }
    this.symbolId = symbolId;
    this.members = Object.freeze([...members]);
    this.levels = levels;
    this.staleMs = staleMs;
    this.intervalMs = intervalMs;
    this.#stride = TOP_HEADER + 4 * levels;
    this.#tops = new Float64Array(members.length * this.#stride);
    this.#receive = new Float64Array(members.length).fill(NaN);
    this.#parsed = new Float64Array(members.length).fill(NaN);
    this.#bookStale = new Uint8Array(members.length);
    this.#head = new Int32Array(members.length);
  }

  /** Compositions so far. */
  get composed(): number {
    return this.#composed;
  }

  /**
   * Take member `k`'s newest book: the book slot at word `base` of `book`
   * (layout `layout`, whose levels may differ: at most this book's levels are kept).
   */
  update(k: number, book: Float64Array, base: number, layout: BookSlotLayout): void {
    const top = k * this.#stride;
    const t = this.#tops;
    const n = this.levels < layout.levels ? this.levels : layout.levels;
    const nb = storedCount(book[base + BOOK_BID_COUNT], n);
    const na = storedCount(book[base + BOOK_ASK_COUNT], n);
    t[top] = nb;
    t[top + 1] = na;
    const bids = top + TOP_HEADER;
    const asks = bids + 2 * this.levels;
    for (let i = 0; i < nb; i++) {
      t[bids + 2 * i] = book[base + layout.bidPrice(i)];
      t[bids + 2 * i + 1] = book[base + layout.bidSize(i)];
    }
    for (let i = 0; i < na; i++) {
      t[asks + 2 * i] = book[base + layout.askPrice(i)];
      t[asks + 2 * i + 1] = book[base + layout.askSize(i)];
    }
    const receive = book[base + BOOK_RECEIVE_TIME];
    // The instrument's clock must not run backwards: an older stamp keeps the newer one.
    if (!(receive <= this.#receive[k])) this.#receive[k] = receive;
    this.#parsed[k] = book[base + BOOK_PARSED_TIME];
    const flags = book[base + BOOK_FLAGS];
    this.#bookStale[k] = (flags & BOOK_FLAG_STALE) !== 0 ? 1 : 0;
    // A member that started over (a new snapshot) jumps: so does the instrument's ladder.
    if ((flags & BOOK_FLAG_RESYNCED) !== 0) this.#memberResynced = true;
    this.#dirty = true;
  }

  /** The instrument's clock: the newest receive time of any member (NaN before any book). */
  clock(): number {
    let c = NOT_A_NUMBER;
    for (let k = 0; k < this.members.length; k++) {
      const r = this.#receive[k];
      if (r === r && !(r <= c)) c = r;
    }
    return c;
  }

  /** Bit `k` set: member `k` is fresh (contributes its levels) now. */
  freshMask(states: FeedStates): number {
    const clock = this.clock();
    let mask = 0;
    for (let k = 0; k < this.members.length; k++) {
      const r = this.#receive[k];
      if (
        r === r && this.#bookStale[k] === 0 && clock - r <= this.staleMs &&
        states.feedState(this.members[k]) === FeedState.Live
      ) {
        mask |= 1 << k;
      }
    }
    return mask;
  }

  /**
   * Whether to compose now (wall time `wallMs`): some member has a book, a
   * member changed since the last composition or the fresh set did, and at
   * least `intervalMs` passed since the last composition.
   */
  due(wallMs: number, states: FeedStates): boolean {
    if (wallMs - this.#lastWall < this.intervalMs) return false;
    if (this.#dirty) return true;
    return this.#lastMask >= 0 && this.freshMask(states) !== this.#lastMask;
  }

  /**
   * Compose the instrument's book now: the book slot at word `bookBase` of
   * `book` (for the analyser) and the venues block of the frame slot at word
   * `outBase` of `out` (nothing else of `out` is written). Returns the fresh
   * mask (bit k: member k contributed).
   *
   * @param wallMs wall time of this composition, for {@link due}. Default: `Date.now()`.
   * @throws RangeError when `frameLayout` has room for fewer members or its levels differ.
   */
  compose(
    states: FeedStates,
    book: Float64Array,
    bookBase: number,
    bookLayout: BookSlotLayout,
    out: Float64Array,
    outBase: number,
    frameLayout: FrameSlotLayout,
    wallMs: number = Date.now(),
  ): number {
    const m = this.members.length;
    if (frameLayout.venueMembers < m || frameLayout.levels !== bookLayout.levels) {
      throw new RangeError(
        `the frame layout has room for ${frameLayout.venueMembers} members and ${frameLayout.levels} levels, ` +
          `the instrument needs ${m} members and the book's ${bookLayout.levels} levels`,
      );
    }
    const mask = this.freshMask(states);
    const clock = this.clock();
    const n = bookLayout.levels < this.levels ? bookLayout.levels : this.levels;
    const nb = this.#merge(mask, 0, n, book, bookBase, bookLayout, out, outBase, frameLayout);
    const na = this.#merge(mask, 1, n, book, bookBase, bookLayout, out, outBase, frameLayout);
    let parsed = NOT_A_NUMBER;
    for (let k = 0; k < m; k++) {
      const p = this.#parsed[k];
      if (p === p && !(p <= parsed)) parsed = p;
    }
    let flags = mask === 0 ? BOOK_FLAG_STALE : 0;
    if ((this.#lastMask >= 0 && mask !== this.#lastMask) || this.#memberResynced) {
      flags |= BOOK_FLAG_RESYNCED;
    }
    this.#memberResynced = false;
    this.#composed++;
    book[bookBase + BOOK_SYMBOL_ID] = this.symbolId;
    book[bookBase + BOOK_LAST_UPDATE_ID] = this.#composed;
    book[bookBase + BOOK_EVENT_TIME] = NOT_A_NUMBER;
    book[bookBase + BOOK_RECEIVE_TIME] = clock;
    book[bookBase + BOOK_PARSED_TIME] = parsed;
    book[bookBase + BOOK_FLAGS] = flags;
    book[bookBase + BOOK_BID_COUNT] = nb;
    book[bookBase + BOOK_ASK_COUNT] = na;
    // The venues block: every member, fresh or not.
    out[outBase + frameLayout.venueCount()] = m;
    const t = this.#tops;
    for (let k = 0; k < m; k++) {
      const top = k * this.#stride;
      const bids = top + TOP_HEADER;
      const asks = bids + 2 * this.levels;
      const r = this.#receive[k];
      out[outBase + frameLayout.memberSymbol(k)] = this.members[k];
      out[outBase + frameLayout.memberBestBid(k)] = t[top] >= 1 ? t[bids] : NOT_A_NUMBER;
      out[outBase + frameLayout.memberBestAsk(k)] = t[top + 1] >= 1 ? t[asks] : NOT_A_NUMBER;
      out[outBase + frameLayout.memberAge(k)] = r === r ? clock - r : NOT_A_NUMBER;
      out[outBase + frameLayout.memberStale(k)] = (mask & (1 << k)) === 0 ? 1 : 0;
    }
    this.#lastMask = mask;
    this.#lastWall = wallMs;
    this.#dirty = false;
    return mask;
  }

  /**
   * Merge side `side` (0 bids, 1 asks) of the fresh members into at most `n`
   * levels of the book slot, writing each level's member index into the
   * frame's venues block; returns the levels written.
   */
  #merge(
    mask: number,
    side: number,
    n: number,
    book: Float64Array,
    bookBase: number,
    bl: BookSlotLayout,
    out: Float64Array,
    outBase: number,
    fl: FrameSlotLayout,
  ): number {
    const m = this.members.length;
    const t = this.#tops;
    const head = this.#head;
    head.fill(0);
    const offset = TOP_HEADER + side * 2 * this.levels;
    let written = 0;
    while (written < n) {
      let best = -1;
      let bestPrice = 0;
      for (let k = 0; k < m; k++) {
        if ((mask & (1 << k)) === 0) continue;
        const top = k * this.#stride;
        if (head[k] >= t[top + side]) continue;
        const price = t[top + offset + 2 * head[k]];
        // Strictly better only: on equal prices the lower member index stays first.
        if (best < 0 || (side === 0 ? price > bestPrice : price < bestPrice)) {
          best = k;
          bestPrice = price;
        }
      }
      if (best < 0) break;
      const at = best * this.#stride + offset + 2 * head[best];
      if (side === 0) {
        book[bookBase + bl.bidPrice(written)] = t[at];
        book[bookBase + bl.bidSize(written)] = t[at + 1];
        out[outBase + fl.bidVenue(written)] = best;
      } else {
        book[bookBase + bl.askPrice(written)] = t[at];
        book[bookBase + bl.askSize(written)] = t[at + 1];
        out[outBase + fl.askVenue(written)] = best;
      }
      head[best]++;
      written++;
    }
    return written;
  }
}
