/**
 * Per-symbol synchronisation of diff-depth streams with REST snapshots,
 * following Binance's documented procedure ("How to manage a local order book
 * correctly"), for N symbols at once. The state machine does no I/O: the
 * connection layer feeds it events ({@link DiffSync.onEvent}), the REST layer
 * asks it which symbol needs a snapshot ({@link DiffSync.takeSnapshotRequest})
 * and hands the result back ({@link DiffSync.onSnapshot}), and the emitter asks
 * when a frame is due ({@link DiffSync.dueForEmit}) and writes it
 * ({@link DiffSync.writeFrame}).
 *
 * ## Update-id rules
 * Every event covers the ids `(start, u]` where `start` is `pu` (USD-M futures,
 * `prevFinalUpdateId` not NaN) or `U - 1` (spot). Then:
 * - while buffering, each new event must chain onto the last buffered one
 *   (`start == last u`); when it does not, the older buffered events can never
 *   be bridged and are discarded (counted as `SequenceGap`);
 * - on a snapshot with `lastUpdateId` L, buffered events with `u <= L` are
 *   dropped (`BeforeSnapshot`); if the first remaining event has `start > L`
 *   (spot: `L < U - 1`) the snapshot is too old and another one is requested;
 *   so the first applied event satisfies `U <= L + 1 <= u` on spot and
 *   `pu <= L < u` on futures (this also accepts a futures snapshot whose id falls
 *   between two events, which the stricter `U <= L` would refuse needlessly);
 * - once synced, every event must have `start == previous u`, i.e.
 *   `U == prev u + 1` (spot) or `pu == prev u` (futures). An event with
 *   `u <= previous u` is an old duplicate: rejected as `StaleUpdateId`, the book
 *   stays synced. Anything else is a `SequenceGap`: that symbol (only) goes
 *   out of sync, keeps its last good book (emitted flagged stale), and a
 *   snapshot is requested for it.
 *
 * ## Seeded range (snapshots cut at `snapshotDepth`)
 * A snapshot asked with `limit = snapshotDepth` that returns that many levels
 * on a side was cut there: levels beyond its deepest price exist on the
 * exchange but are unknown here. Diff events later insert levels beyond it
 * (those that changed), but unchanged ones stay missing, so the top
 * `trustedLevels` of a side are only known to be complete while that many of
 * the side's levels lie inside the seeded range (bids at or above the deepest
 * snapshot bid, asks at or below the deepest snapshot ask). When an applied
 * event leaves fewer (the price walked past the seeded levels, or the range
 * thinned out), the symbol loses sync as on a gap — the last good book is
 * kept and emitted flagged stale — and a new snapshot is requested
 * (counted in `rangeResyncs`). A side returned with fewer levels than asked is
 * complete: no limit applies to it. Without `snapshotDepth` nothing is checked.
 *
 * ## States
 * {@link SyncState.Buffering}: no book yet, events are buffered.
 * {@link SyncState.Synced}: the book is current; events are applied.
 * {@link SyncState.Resyncing}: out of sync; the last good book is kept and
 * emitted flagged `BOOK_FLAG_STALE`, events are buffered.
 *
 * ## Accounting (exact, per symbol, see {@link DiffSyncCounters})
 * - `received = applied + rejectedTotal + buffered` — every event passed to
 *   {@link DiffSync.onEvent} is, at any moment, applied, rejected (with one
 *   reason) or still in the buffer. `onEvent` returns `Ok` when the event was
 *   applied OR buffered; a buffered event may later be rejected
 *   (`BeforeSnapshot`, `BufferOverflow`, `SequenceGap`), which only the counters
 *   show. Metrics must therefore come from the counters, not the return codes.
 * - `applied = coalesced + framesFromEvents + pending` — every applied event is
 *   either the newest event of an emitted frame, folded into a later event's
 *   frame (coalesced), or not yet emitted (pending).
 * - `framesEmitted = framesFromEvents + framesWithoutEvents` — frames without
 *   new events are those written right after a snapshot with nothing to
 *   replay, and the periodic stale frames while resyncing.
 *
 * ## Buffering: a ring of the newest events
 * Events wait for a snapshot in a ring that keeps the most recent ones: when it
 * is full (events or level updates), the oldest is dropped and counted as
 * `BufferOverflow`. Only events newer than the snapshot are ever replayed, and
 * a snapshot is asked for shortly before it is sent (the REST layer takes a
 * request with {@link DiffSync.takeSnapshotRequest} when the weight budget lets
 * it go out), so what matters is the time from taking the request to handing
 * the answer over; a symbol can wait minutes for its turn, and buffering all
 * of that would be useless. If the ring dropped events the snapshot does not
 * contain, the first kept event starts after `lastUpdateId`: the snapshot is
 * `TooOld` and another one is requested (the path that handles any
 * too-old snapshot).
 *
 * Each symbol has a small ring of its own (`bufferEvents` events,
 * `bufferLevels` level updates). Taking a symbol's request lends it a larger
 * ring from a pool of `snapshotBuffers` (`snapshotBufferEvents`,
 * `snapshotBufferLevels`); its events move there and stay until
 * {@link DiffSync.onSnapshot} or {@link DiffSync.onSnapshotFailed}, when the
 * newest that fit move back (the rest counted as `BufferOverflow`). With no
 * free pool ring, a taken symbol keeps its own ring; a busy one may then get
 * a `TooOld` snapshot and try again. The pool should hold one ring per request
 * that can be taken and unsettled at once.
 *
 * Sizes (defaults): Binance's diff stream sends a symbol ≤ 10 events/s; a busy
 * symbol's event carries tens to hundreds of level updates. A lent ring of 128
 * events and 8192 level updates covers 12.8 s of events, or ~0.8–8 s of a
 * busy symbol at 100–1000 updates per event, against a REST round trip of
 * 0.1–1 s. The own ring (16 events, 256 updates: 1.6 s of a quiet symbol)
 * only has to bridge snapshots handed over without a lent ring.
 *
 * ## Memory
 * Everything is allocated in the constructor, except a book replaced by a
 * larger one for a deeper snapshot (see `bookCapacity`). Per symbol: the book
 * (4 × `bookCapacity` float64: 6.25 KiB at 200) and its own ring
 * (6 × `bufferEvents` + 2 × `bufferLevels` float64: 4.75 KiB by default); once:
 * `snapshotBuffers` lent rings (6 × `snapshotBufferEvents` +
 * 2 × `snapshotBufferLevels` float64: 134 KiB each by default).
 *
 * @example
 * ```ts
 * import { DiffSync } from "./diff_sync.ts";
 * import { DiffEvent } from "./diff_event.ts";
 * import { DiffParser } from "./diff_parser.ts";
 * import { SymbolTable } from "./symbol_table.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * const parser = new DiffParser(new SymbolTable(["bnbbtc"]));
 * const event = new DiffEvent();
 * parser.parse(
 *   '{"e":"depthUpdate","E":1,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[]}',
 *   event,
 * );
 * const sync = new DiffSync({ symbolCount: 1 });
 * sync.onEvent(event); // RejectReason.Ok: buffered, a snapshot is now wanted
 * const sym = sync.takeSnapshotRequest(); // 0: fetch /api/v3/depth for it
 * sync.onSnapshot(sym, { lastUpdateId: 158, bids: [[0.0023, 5]], asks: [[0.0026, 100]] });
 * // the buffered event (U 157 <= 158 + 1 <= u 160) is replayed: the book is synced at 160
 * const layout = new BookSlotLayout(20);
 * const f64 = new Float64Array(layout.slotWords);
 * if (sync.dueForEmit(sym, Date.now())) sync.writeFrame(sym, f64, 0, layout, Date.now());
 * ```
 * @module
 */

import {
  BOOK_EVENT_TIME,
  BOOK_FLAG_FROM_DIFF,
  BOOK_FLAG_RESYNCED,
  BOOK_FLAG_STALE,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_SYMBOL_ID,
  type BookSlotLayout,
} from "../pipeline/book_slot.ts";
import { checkLevels, type DiffEventLike, LocalBook } from "./local_book.ts";
import type { DepthSnapshot } from "./depth_snapshot.ts";
import { REJECT_REASON_COUNT, RejectReason } from "../pipeline/reject_reason.ts";

export type { DiffEventLike, LevelPair } from "./local_book.ts";

/** Sync state of one symbol. */
export const SyncState = {
  /** No book yet: events are buffered while a snapshot is pending. */
  Buffering: 0,
  /** The local book is current; events are applied as they come. */
  Synced: 1,
  /** Out of sync: the last good book is kept (flagged stale), events are buffered. */
  Resyncing: 2,
} as const;

/** One of the {@link SyncState} values. */
export type SyncState = typeof SyncState[keyof typeof SyncState];

/** What {@link DiffSync.onSnapshot} did with a snapshot. */
export const SnapshotOutcome = {
  /** Loaded; buffered events were replayed; the symbol is synced. */
  Applied: 0,
  /** The symbol is already synced; the snapshot was not used. */
  Ignored: 1,
  /** Older than the buffered events (`lastUpdateId < first start`); another one was requested. */
  TooOld: 2,
  /** Not a valid snapshot (bad id or levels); another one was requested. */
  Invalid: 3,
} as const;

/** One of the {@link SnapshotOutcome} values. */
export type SnapshotOutcome = typeof SnapshotOutcome[keyof typeof SnapshotOutcome];

/** Options of {@link DiffSync}. */
export interface DiffSyncOptions {
  /** Number of symbols; ids are 0..symbolCount-1. Required. */
  symbolCount: number;
  /**
   * Levels kept per side of each local book at first. A snapshot with more
   * than half as many levels on a side replaces the book with one of twice
   * its levels (once per deeper re-seed; the book never shrinks). Default 5000.
   */
  bookCapacity?: number;
  /** Events each symbol's own ring keeps (the most recent; module docs, "Memory"). Default 16. */
  bufferEvents?: number;
  /** Level updates (both sides) each symbol's own ring keeps. Default 256. */
  bufferLevels?: number;
  /**
   * Larger rings lent to symbols whose snapshot request was taken, until the
   * snapshot is handed over or failed (module docs, "Memory"). Default 8.
   */
  snapshotBuffers?: number;
  /** Events a lent ring keeps; at least `bufferEvents`. Default 128 (or `bufferEvents` if larger). */
  snapshotBufferEvents?: number;
  /** Level updates a lent ring keeps; at least `bufferLevels`. Default 8192 (or `bufferLevels` if larger). */
  snapshotBufferLevels?: number;
  /** Minimum time between two frames of one symbol, ms. Default 100. */
  minEmitIntervalMs?: number;
  /** Time between repeated frames of a stale (resyncing) book, ms. Default 1000. */
  staleEmitIntervalMs?: number;
  /**
   * The `limit` snapshots are fetched with; enables the seeded-range check
   * (module docs). Default: none (snapshots are taken as complete).
   */
  snapshotDepth?: number;
  /** Top levels per side that must lie inside the seeded range. Default 20. */
  trustedLevels?: number;
}

/** Counters of one symbol (a copy; see the module docs for the identities). */
export interface DiffSyncCounters {
  /** Events passed to `onEvent` for this symbol. */
  received: number;
  /** Events applied to the book (directly or replayed from the buffer). */
  applied: number;
  /** Events currently buffered. */
  buffered: number;
  /** Rejected events, all reasons. */
  rejectedTotal: number;
  /** Rejected events by reason code (index = {@link RejectReason} value; index 0 is 0). */
  rejected: number[];
  /** Applied events folded into a later event's frame. */
  coalesced: number;
  /** Applied events not yet written in a frame. */
  pending: number;
  /** Frames written. */
  framesEmitted: number;
  /** Frames that carried at least one newly applied event. */
  framesFromEvents: number;
  /** Frames that carried no new event (right after a snapshot, stale repeats). */
  framesWithoutEvents: number;
  /** Times the symbol went out of sync (gap, bad event, failed bridge, reset). */
  resyncs: number;
  /** Snapshots loaded. */
  snapshotsApplied: number;
  /** Snapshots refused as too old. */
  snapshotsTooOld: number;
  /** Snapshots refused as invalid. */
  snapshotsInvalid: number;
  /** Snapshots ignored because the symbol was synced. */
  snapshotsIgnored: number;
  /** Book levels dropped because a side was full. */
  droppedLevels: number;
  /** Times the symbol lost sync because the top levels left the seeded range (also counted in `resyncs`). */
  rangeResyncs: number;
}

const REQ_NONE = 0;
const REQ_QUEUED = 1;
const REQ_IN_FLIGHT = 2;
/** In flight, but the symbol was forgotten since ({@link DiffSync.forget}): the answer is ignored. */
const REQ_CANCELLED = 3;

// Per-symbol counter words (besides the per-reason rejections).
const C_RECEIVED = 0;
const C_APPLIED = 1;
const C_COALESCED = 2;
const C_FRAMES_FROM_EVENTS = 3;
const C_FRAMES_WITHOUT_EVENTS = 4;
const C_RESYNCS = 5;
const C_SNAP_APPLIED = 6;
const C_SNAP_TOO_OLD = 7;
const C_SNAP_INVALID = 8;
const C_SNAP_IGNORED = 9;
const C_REJECTED_TOTAL = 10;
const C_RANGE_RESYNCS = 11;
const C_WORDS = 12;

// Event header words in an EventBuffer (one event = EV_WORDS float64).
const EV_FIRST = 0; // U
const EV_LAST = 1; // u
const EV_START = 2; // pu, or U - 1
const EV_TIME = 3; // E
const EV_BIDS = 4; // bid update count
const EV_ASKS = 5; // ask update count
const EV_WORDS = 6;

/**
 * A ring of the most recent copied events of one symbol, in one Float64Array:
 * `eventCapacity` headers of {@link EV_WORDS} words, then `levelCapacity`
 * level updates as (price, size) pairs in a second ring. Dropping the oldest
 * event frees its levels.
 */
class EventBuffer {
  readonly eventCapacity: number;
  readonly levelCapacity: number;
  readonly data: Float64Array;
  /** Word where the level ring starts. */
  readonly levelBase: number;
  head = 0; // slot of the oldest event
  count = 0;
  levelHead = 0; // level index of the oldest event's first level
  levelCount = 0;

  constructor(eventCapacity: number, levelCapacity: number) {
    this.eventCapacity = eventCapacity;
    this.levelCapacity = levelCapacity;
    this.levelBase = eventCapacity * EV_WORDS;
    this.data = new Float64Array(this.levelBase + 2 * levelCapacity);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.data.byteLength;
  }

  /** Header word of the `k`-th oldest event. */
  at(k: number): number {
    const s = this.head + k;
    return (s >= this.eventCapacity ? s - this.eventCapacity : s) * EV_WORDS;
  }

  /** `u` of the newest event. */
  lastFinal(): number {
    return this.data[this.at(this.count - 1) + EV_LAST];
  }

  /** `u` of the oldest event. */
  oldestFinal(): number {
    return this.data[this.head * EV_WORDS + EV_LAST];
  }

  /** `E` of the oldest event. */
  oldestTime(): number {
    return this.data[this.head * EV_WORDS + EV_TIME];
  }

  /** Start (`pu` or `U - 1`) of the oldest event. */
  oldestStart(): number {
    return this.data[this.head * EV_WORDS + EV_START];
  }

  /** True when an event of `levels` level updates fits without dropping any. */
  fits(levels: number): boolean {
    return this.count < this.eventCapacity && this.levelCapacity - this.levelCount >= levels;
  }

  dropOldest(): void {
    const h = this.head * EV_WORDS;
    const n = this.data[h + EV_BIDS] + this.data[h + EV_ASKS];
    this.levelHead = (this.levelHead + n) % this.levelCapacity;
    this.levelCount -= n;
    this.head = this.head + 1 === this.eventCapacity ? 0 : this.head + 1;
    this.count--;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.levelHead = 0;
    this.levelCount = 0;
  }

  #pushHeader(first: number, last: number, start: number, time: number, nb: number, na: number) {
    const h = this.at(this.count);
    const d = this.data;
    d[h + EV_FIRST] = first;
    d[h + EV_LAST] = last;
    d[h + EV_START] = start;
    d[h + EV_TIME] = time;
    d[h + EV_BIDS] = nb;
    d[h + EV_ASKS] = na;
    this.levelCount += nb + na;
    this.count++;
  }

  /** Appends a copy; the caller made room ({@link fits}). */
  push(ev: DiffEventLike, start: number): void {
    const d = this.data;
    const cap = this.levelCapacity;
    let w = (this.levelHead + this.levelCount) % cap;
    for (let i = 0; i < ev.bidCount; i++) {
      d[this.levelBase + 2 * w] = ev.bidPrices[i];
      d[this.levelBase + 2 * w + 1] = ev.bidSizes[i];
      if (++w === cap) w = 0;
    }
    for (let i = 0; i < ev.askCount; i++) {
      d[this.levelBase + 2 * w] = ev.askPrices[i];
      d[this.levelBase + 2 * w + 1] = ev.askSizes[i];
      if (++w === cap) w = 0;
    }
    this.#pushHeader(
      ev.firstUpdateId,
      ev.finalUpdateId,
      start,
      ev.eventTime,
      ev.bidCount,
      ev.askCount,
    );
  }

  /**
   * Moves every event of `src` (oldest first) to the end of this buffer and
   * clears `src`; the caller made room (this buffer can take all of them).
   */
  takeAll(src: EventBuffer): void {
    const s = src.data;
    const d = this.data;
    let r = src.levelHead;
    let w = (this.levelHead + this.levelCount) % this.levelCapacity;
    for (let k = 0; k < src.count; k++) {
      const h = src.at(k);
      const nb = s[h + EV_BIDS];
      const na = s[h + EV_ASKS];
      for (let i = 0, n = nb + na; i < n; i++) {
        d[this.levelBase + 2 * w] = s[src.levelBase + 2 * r];
        d[this.levelBase + 2 * w + 1] = s[src.levelBase + 2 * r + 1];
        if (++r === src.levelCapacity) r = 0;
        if (++w === this.levelCapacity) w = 0;
      }
      this.#pushHeader(s[h + EV_FIRST], s[h + EV_LAST], s[h + EV_START], s[h + EV_TIME], nb, na);
    }
    src.clear();
  }

  /** Applies the oldest event's levels to `book` and removes it. */
  applyOldest(book: LocalBook): void {
    const h = this.head * EV_WORDS;
    const d = this.data;
    const cap = this.levelCapacity;
    let r = this.levelHead;
    for (let i = 0, n = d[h + EV_BIDS]; i < n; i++) {
      book.setBid(d[this.levelBase + 2 * r], d[this.levelBase + 2 * r + 1]);
      if (++r === cap) r = 0;
    }
    for (let i = 0, n = d[h + EV_ASKS]; i < n; i++) {
      book.setAsk(d[this.levelBase + 2 * r], d[this.levelBase + 2 * r + 1]);
      if (++r === cap) r = 0;
    }
    this.dropOldest();
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`DiffSync option ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0) || value === Infinity) {
    throw new RangeError(`DiffSync option ${name} must be a finite number >= 0, got ${value}`);
  }
  return value;
}

/** Checks an event's shape and levels; returns `Ok` or the reason to reject it. */
function checkEvent(ev: DiffEventLike): RejectReason {
  const U = ev.firstUpdateId;
  const u = ev.finalUpdateId;
  if (!Number.isSafeInteger(U) || !Number.isSafeInteger(u) || U > u || U < 0) {
    return RejectReason.Malformed;
  }
  const pu = ev.prevFinalUpdateId;
  if (!Number.isNaN(pu) && (!Number.isSafeInteger(pu) || pu >= U)) return RejectReason.Malformed;
  const nb = ev.bidCount;
  const na = ev.askCount;
  if (
    !Number.isInteger(nb) || !Number.isInteger(na) || nb < 0 || na < 0 ||
    nb > ev.bidPrices.length || nb > ev.bidSizes.length ||
    na > ev.askPrices.length || na > ev.askSizes.length
  ) {
    return RejectReason.Malformed;
  }
  const bp = ev.bidPrices;
  const bs = ev.bidSizes;
  for (let i = 0; i < nb; i++) {
    if (!(bp[i] > 0 && bp[i] < Infinity)) return RejectReason.BadPrice;
    if (!(bs[i] >= 0 && bs[i] < Infinity)) return RejectReason.BadSize;
  }
  const ap = ev.askPrices;
  const as = ev.askSizes;
  for (let i = 0; i < na; i++) {
    if (!(ap[i] > 0 && ap[i] < Infinity)) return RejectReason.BadPrice;
    if (!(as[i] >= 0 && as[i] < Infinity)) return RejectReason.BadSize;
  }
  return RejectReason.Ok;
}

/**
 * The diff-depth sync state machine for `symbolCount` symbols.
 *
 * @example
 * ```ts
 * import { DiffSync, SyncState } from "./diff_sync.ts";
 * const sync = new DiffSync({ symbolCount: 1, minEmitIntervalMs: 100 });
 * sync.state(0) === SyncState.Buffering; // true
 * ```
 */
export class DiffSync {
  /** Number of symbols. */
  readonly symbolCount: number;
  /** Minimum time between two frames of one symbol, ms. */
  readonly minEmitIntervalMs: number;
  /** Time between repeated frames of a stale book, ms. */
  readonly staleEmitIntervalMs: number;
  /** Events refused because their `symbolId` was out of range (returned `UnknownStream`). */
  unknownSymbolEvents = 0;

  readonly #books: LocalBook[] = [];
  /** Per symbol: levels dropped by books it had before its current one. */
  readonly #droppedBefore: Float64Array;
  /** Per symbol: the ring events go to (its own, or one lent from the pool). */
  readonly #buffers: EventBuffer[] = [];
  /** Per symbol: its own small ring. */
  readonly #own: EventBuffer[] = [];
  /** The larger rings lent while a snapshot is in flight. */
  readonly #pool: EventBuffer[] = [];
  /** Indexes of the free rings of the pool (a stack of `#freeCount`). */
  readonly #free: Int32Array;
  #freeCount: number;
  /** Per symbol: index of the ring lent to it, or -1. */
  readonly #lent: Int32Array;
  readonly #state: Uint8Array;
  readonly #request: Uint8Array;
  readonly #requestOrder: Float64Array;
  #requestSeq = 0;
  readonly #awaitingBridge: Uint8Array;
  readonly #resynced: Uint8Array;
  readonly #dirty: Uint8Array;
  readonly #lastU: Float64Array;
  readonly #lastE: Float64Array;
  readonly #lastEmit: Float64Array;
  readonly #pending: Float64Array;
  readonly #counters: Float64Array;
  readonly #rejected: Float64Array;
  readonly #snapshotDepth: number;
  readonly #trustedLevels: number;
  /** Per symbol: deepest seeded bid price (0 = the whole side was seeded). */
  readonly #bidFloor: Float64Array;
  /** Per symbol: deepest seeded ask price (Infinity = the whole side was seeded). */
  readonly #askCeiling: Float64Array;
  #synced = 0;

  /**
   * Allocates every book and event buffer; all symbols start buffering.
   *
   * @param options see {@link DiffSyncOptions}.
   * @throws RangeError when an option is out of range.
   */
  constructor(options: DiffSyncOptions) {
    const n = positiveInt("symbolCount", options?.symbolCount);
    const bookCapacity = positiveInt("bookCapacity", options.bookCapacity ?? 5000);
    const bufferEvents = positiveInt("bufferEvents", options.bufferEvents ?? 16);
    const bufferLevels = positiveInt("bufferLevels", options.bufferLevels ?? 256);
    const poolSize = options.snapshotBuffers ?? 8;
    if (!Number.isInteger(poolSize) || poolSize < 0) {
      throw new RangeError(
        `DiffSync option snapshotBuffers must be an integer >= 0, got ${poolSize}`,
      );
    }
    const poolEvents = positiveInt(
      "snapshotBufferEvents",
      options.snapshotBufferEvents ?? Math.max(128, bufferEvents),
    );
    const poolLevels = positiveInt(
      "snapshotBufferLevels",
      options.snapshotBufferLevels ?? Math.max(8192, bufferLevels),
    );
    if (poolEvents < bufferEvents || poolLevels < bufferLevels) {
      throw new RangeError(
        `DiffSync options snapshotBufferEvents/snapshotBufferLevels (${poolEvents}/${poolLevels}) must be at least bufferEvents/bufferLevels (${bufferEvents}/${bufferLevels}): a lent ring takes over a symbol's whole ring`,
      );
    }
    this.minEmitIntervalMs = nonNegative("minEmitIntervalMs", options.minEmitIntervalMs ?? 100);
    this.staleEmitIntervalMs = nonNegative(
      "staleEmitIntervalMs",
      options.staleEmitIntervalMs ?? 1000,
    );
    this.#snapshotDepth = options.snapshotDepth === undefined
      ? Infinity
      : positiveInt("snapshotDepth", options.snapshotDepth);
    this.#trustedLevels = positiveInt("trustedLevels", options.trustedLevels ?? 20);
    if (this.#snapshotDepth < this.#trustedLevels) {
      throw new RangeError(
        `DiffSync option snapshotDepth (${this.#snapshotDepth}) must be at least trustedLevels (${this.#trustedLevels}): a shallower snapshot can never seed the levels analysed`,
      );
    }
    this.#bidFloor = new Float64Array(n);
    this.#askCeiling = new Float64Array(n).fill(Infinity);
    this.symbolCount = n;
    for (let i = 0; i < n; i++) {
      this.#books.push(new LocalBook({ capacity: bookCapacity }));
      const own = new EventBuffer(bufferEvents, bufferLevels);
      this.#own.push(own);
      this.#buffers.push(own);
    }
    this.#lent = new Int32Array(n).fill(-1);
    this.#droppedBefore = new Float64Array(n);
    this.#free = new Int32Array(poolSize);
    for (let i = 0; i < poolSize; i++) {
      this.#pool.push(new EventBuffer(poolEvents, poolLevels));
      this.#free[i] = poolSize - 1 - i;
    }
    this.#freeCount = poolSize;
    this.#state = new Uint8Array(n); // all Buffering
    this.#request = new Uint8Array(n);
    this.#requestOrder = new Float64Array(n);
    this.#awaitingBridge = new Uint8Array(n);
    this.#resynced = new Uint8Array(n);
    this.#dirty = new Uint8Array(n);
    this.#lastU = new Float64Array(n).fill(NaN);
    this.#lastE = new Float64Array(n).fill(NaN);
    this.#lastEmit = new Float64Array(n).fill(-Infinity);
    this.#pending = new Float64Array(n);
    this.#counters = new Float64Array(n * C_WORDS);
    this.#rejected = new Float64Array(n * REJECT_REASON_COUNT);
  }

  #checkSymbol(symbolId: number): void {
    if (!Number.isInteger(symbolId) || symbolId < 0 || symbolId >= this.symbolCount) {
      throw new RangeError(
        `symbolId must be an integer from 0 to ${this.symbolCount - 1}, got ${symbolId}`,
      );
    }
  }

  #reject(sym: number, reason: RejectReason): RejectReason {
    this.#rejected[sym * REJECT_REASON_COUNT + reason]++;
    this.#counters[sym * C_WORDS + C_REJECTED_TOTAL]++;
    return reason;
  }

  #requestSnapshot(sym: number): void {
    if (this.#request[sym] !== REQ_NONE) return;
    this.#request[sym] = REQ_QUEUED;
    this.#requestOrder[sym] = this.#requestSeq++;
  }

  /**
   * The snapshot request of `sym` was taken: if a pool ring is free, its
   * buffered events move there, so the events between the request and the
   * answer fit even when the symbol is busy.
   */
  #lend(sym: number): void {
    if (this.#lent[sym] >= 0 || this.#freeCount === 0) return;
    const slot = this.#free[--this.#freeCount];
    const ring = this.#pool[slot];
    ring.takeAll(this.#own[sym]); // a pool ring is at least as large
    this.#buffers[sym] = ring;
    this.#lent[sym] = slot;
  }

  /**
   * The request of `sym` settled: its buffered events move back to its own
   * ring, the oldest dropped (`BufferOverflow`) where they do not fit.
   */
  #giveBack(sym: number): void {
    const slot = this.#lent[sym];
    if (slot < 0) return;
    const ring = this.#pool[slot];
    const own = this.#own[sym];
    while (ring.count > own.eventCapacity || ring.levelCount > own.levelCapacity) {
      ring.dropOldest();
      this.#reject(sym, RejectReason.BufferOverflow);
    }
    own.takeAll(ring);
    this.#buffers[sym] = own;
    this.#lent[sym] = -1;
    this.#free[this.#freeCount++] = slot;
  }

  /** Synced → Resyncing: keep the book, flag it stale, ask for a snapshot. */
  #loseSync(sym: number, request: boolean): void {
    if (this.#state[sym] === SyncState.Synced) {
      this.#state[sym] = SyncState.Resyncing;
      this.#synced--;
      this.#dirty[sym] = 1;
      this.#resynced[sym] = 0;
      this.#counters[sym * C_WORDS + C_RESYNCS]++;
    }
    this.#awaitingBridge[sym] = 0;
    if (request) this.#requestSnapshot(sym);
  }

  #applyEvent(sym: number, ev: DiffEventLike): void {
    this.#books[sym].apply(ev);
    this.#lastU[sym] = ev.finalUpdateId;
    this.#lastE[sym] = ev.eventTime;
    this.#pending[sym]++;
    this.#counters[sym * C_WORDS + C_APPLIED]++;
    this.#checkRange(sym);
  }

  /** True when the top `trustedLevels` of both sides lie inside the seeded range. */
  #inRange(sym: number): boolean {
    const book = this.#books[sym];
    const floor = this.#bidFloor[sym];
    if (floor > 0 && book.bidsAtOrAbove(floor) < this.#trustedLevels) return false;
    const ceiling = this.#askCeiling[sym];
    return ceiling === Infinity || book.asksAtOrBelow(ceiling) >= this.#trustedLevels;
  }

  /** A synced book whose top left the seeded range loses sync (module docs). */
  #checkRange(sym: number): void {
    if (this.#inRange(sym)) return;
    this.#counters[sym * C_WORDS + C_RANGE_RESYNCS]++;
    this.#loseSync(sym, true);
  }

  #buffer(sym: number, ev: DiffEventLike, start: number): RejectReason {
    const buf = this.#buffers[sym];
    if (buf.count > 0) {
      if (ev.finalUpdateId <= buf.lastFinal()) return this.#reject(sym, RejectReason.StaleUpdateId);
      if (start !== buf.lastFinal()) {
        // The older events can never be bridged to anything after this one.
        while (buf.count > 0) {
          buf.dropOldest();
          this.#reject(sym, RejectReason.SequenceGap);
        }
        buf.clear();
      }
    }
    this.#requestSnapshot(sym);
    const levels = ev.bidCount + ev.askCount;
    if (levels > buf.levelCapacity) {
      // Cannot be held at all; the chain is broken, so the rest goes too.
      while (buf.count > 0) {
        buf.dropOldest();
        this.#reject(sym, RejectReason.BufferOverflow);
      }
      buf.clear();
      return this.#reject(sym, RejectReason.BufferOverflow);
    }
    while (!buf.fits(levels)) {
      buf.dropOldest();
      this.#reject(sym, RejectReason.BufferOverflow);
    }
    buf.push(ev, start);
    return RejectReason.Ok;
  }

  /**
   * Feeds one parsed diff event. Applies it (synced), buffers a copy of it
   * (buffering/resyncing), or rejects it with a counted reason. The event object
   * may be reused by the caller right after the call.
   *
   * @returns `Ok` when applied or buffered; otherwise the reason this event was
   *   rejected: `UnknownStream` (symbolId out of range, counted in
   *   {@link unknownSymbolEvents}), `Malformed` / `BadPrice` / `BadSize` (a synced
   *   symbol then resyncs, since an event was lost), `BeforeSnapshot` (already in
   *   the snapshot), `StaleUpdateId` (older than what was applied or buffered),
   *   `SequenceGap` (the symbol goes out of sync), `BufferOverflow` (the event
   *   alone exceeds the level capacity of the symbol's ring).
   */
  onEvent(ev: DiffEventLike): RejectReason {
    const sym = ev.symbolId;
    if (!Number.isInteger(sym) || sym < 0 || sym >= this.symbolCount) {
      this.unknownSymbolEvents++;
      return RejectReason.UnknownStream;
    }
    this.#counters[sym * C_WORDS + C_RECEIVED]++;
    const bad = checkEvent(ev);
    if (bad !== RejectReason.Ok) {
      this.#reject(sym, bad);
      if (this.#state[sym] === SyncState.Synced) this.#loseSync(sym, true);
      return bad;
    }
    const pu = ev.prevFinalUpdateId;
    const start = Number.isNaN(pu) ? ev.firstUpdateId - 1 : pu;
    if (this.#state[sym] !== SyncState.Synced) return this.#buffer(sym, ev, start);

    const lastU = this.#lastU[sym];
    if (this.#awaitingBridge[sym] === 1) {
      if (ev.finalUpdateId <= lastU) return this.#reject(sym, RejectReason.BeforeSnapshot);
      if (start <= lastU) {
        this.#awaitingBridge[sym] = 0;
        this.#applyEvent(sym, ev);
        return RejectReason.Ok;
      }
      // The stream is ahead of the snapshot: it was too old. Keep this event.
      this.#counters[sym * C_WORDS + C_SNAP_TOO_OLD]++;
      this.#loseSync(sym, true);
      return this.#buffer(sym, ev, start);
    }
    if (ev.finalUpdateId <= lastU) return this.#reject(sym, RejectReason.StaleUpdateId);
    if (start !== lastU) {
      this.#loseSync(sym, true);
      return this.#reject(sym, RejectReason.SequenceGap);
    }
    this.#applyEvent(sym, ev);
    return RejectReason.Ok;
  }

  /**
   * Hands over a REST snapshot for `symbolId` (whether or not it was taken
   * with {@link takeSnapshotRequest}). Drops buffered events it already
   * contains, loads it into the book and replays the rest of the buffer.
   *
   * @returns what was done; on `TooOld` and `Invalid` another snapshot is
   *   requested (see {@link takeSnapshotRequest}).
   * @throws RangeError when `symbolId` is out of range.
   */
  onSnapshot(symbolId: number, snapshot: DepthSnapshot): SnapshotOutcome {
    this.#checkSymbol(symbolId);
    if (this.#request[symbolId] === REQ_CANCELLED) {
      this.#counters[symbolId * C_WORDS + C_SNAP_IGNORED]++;
      this.#settleCancelled(symbolId);
      return SnapshotOutcome.Ignored;
    }
    const outcome = this.#loadSnapshot(symbolId, snapshot);
    this.#giveBack(symbolId);
    return outcome;
  }

  #loadSnapshot(sym: number, snapshot: DepthSnapshot): SnapshotOutcome {
    const cw = sym * C_WORDS;
    if (this.#state[sym] === SyncState.Synced) {
      this.#counters[cw + C_SNAP_IGNORED]++;
      if (this.#request[sym] === REQ_IN_FLIGHT) this.#request[sym] = REQ_NONE;
      return SnapshotOutcome.Ignored;
    }
    this.#request[sym] = REQ_NONE;
    const L = snapshot?.lastUpdateId;
    if (
      !Number.isSafeInteger(L) || L < 0 ||
      checkLevels(snapshot.bids, "bids") !== "" || checkLevels(snapshot.asks, "asks") !== ""
    ) {
      this.#counters[cw + C_SNAP_INVALID]++;
      this.#requestSnapshot(sym);
      return SnapshotOutcome.Invalid;
    }
    const buf = this.#buffers[sym];
    while (buf.count > 0 && buf.oldestFinal() <= L) {
      buf.dropOldest();
      this.#reject(sym, RejectReason.BeforeSnapshot);
    }
    if (buf.count > 0 && buf.oldestStart() > L) {
      this.#counters[cw + C_SNAP_TOO_OLD]++;
      this.#requestSnapshot(sym);
      return SnapshotOutcome.TooOld;
    }
    let book = this.#books[sym];
    const most = Math.max(snapshot.bids.length, snapshot.asks.length);
    if (2 * most > book.capacity) {
      // A deeper snapshot than the book was sized for (a re-seed): room for
      // twice its levels, so that none of the seeded range is cut off.
      this.#droppedBefore[sym] += book.droppedLevels;
      book = new LocalBook({ capacity: 2 * most });
      this.#books[sym] = book;
    }
    book.loadSnapshot(snapshot.bids, snapshot.asks);
    this.#bidFloor[sym] = snapshot.bids.length >= this.#snapshotDepth
      ? deepest(snapshot.bids, Math.min)
      : 0;
    this.#askCeiling[sym] = snapshot.asks.length >= this.#snapshotDepth
      ? deepest(snapshot.asks, Math.max)
      : Infinity;
    let lastU = L;
    let lastE = typeof snapshot.eventTime === "number" ? snapshot.eventTime : NaN;
    const replayed = buf.count;
    while (buf.count > 0) {
      // Chain continuity was checked when buffering.
      lastU = buf.oldestFinal();
      lastE = buf.oldestTime();
      buf.applyOldest(book);
    }
    buf.clear();
    this.#lastU[sym] = lastU;
    this.#lastE[sym] = lastE;
    this.#pending[sym] += replayed;
    this.#counters[cw + C_APPLIED] += replayed;
    this.#counters[cw + C_SNAP_APPLIED]++;
    this.#state[sym] = SyncState.Synced;
    this.#synced++;
    this.#awaitingBridge[sym] = replayed === 0 ? 1 : 0;
    this.#resynced[sym] = 1;
    this.#dirty[sym] = 1;
    this.#checkRange(sym);
    return SnapshotOutcome.Applied;
  }

  /** Symbols currently synced (a current book; not buffering, not resyncing). */
  get syncedCount(): number {
    return this.#synced;
  }

  /** Symbols waiting for a snapshot request to be taken. */
  get queuedRequests(): number {
    let n = 0;
    for (let i = 0; i < this.symbolCount; i++) if (this.#request[i] === REQ_QUEUED) n++;
    return n;
  }

  /**
   * Takes the symbol that has waited longest for a snapshot and marks its
   * request in flight; with `priority`, waiting symbols whose byte in it is
   * not 0 (e.g. someone watches them) come first, oldest first among them;
   * the symbol borrows a larger ring for its events while the request is out
   * (module docs, "Buffering"). The REST layer calls this when its weight budget and
   * staggering allow another request, and later calls {@link onSnapshot} or
   * {@link onSnapshotFailed}. A request is queued when a symbol buffers an
   * event while it has none pending (so the stream is already open: at start
   * and after {@link reset}), when a synced symbol loses sync, and again after
   * a snapshot was too old, invalid or failed. Requests come out oldest first.
   *
   * @param priority One byte per symbol (index = symbol id); non-zero first. Optional.
   * @returns a symbol id, or -1 when no symbol is waiting.
   */
  takeSnapshotRequest(priority?: ArrayLike<number>): number {
    let best = -1;
    let bestOrder = Infinity;
    let bestFirst = false;
    for (let i = 0; i < this.symbolCount; i++) {
      if (this.#request[i] !== REQ_QUEUED) continue;
      const first = priority !== undefined && priority[i] !== 0;
      if (first === bestFirst ? this.#requestOrder[i] < bestOrder : first) {
        best = i;
        bestOrder = this.#requestOrder[i];
        bestFirst = first;
      }
    }
    if (best >= 0) {
      this.#request[best] = REQ_IN_FLIGHT;
      this.#lend(best);
    }
    return best;
  }

  /** The snapshot request in flight for `symbolId` failed: queue it again (at the back). */
  onSnapshotFailed(symbolId: number): void {
    this.#checkSymbol(symbolId);
    if (this.#request[symbolId] === REQ_CANCELLED) return this.#settleCancelled(symbolId);
    if (this.#request[symbolId] === REQ_IN_FLIGHT) this.#request[symbolId] = REQ_NONE;
    this.#giveBack(symbolId);
    if (this.#state[symbolId] !== SyncState.Synced) this.#requestSnapshot(symbolId);
  }

  /** True when `symbolId` waits for a snapshot request to be taken. */
  wantsSnapshot(symbolId: number): boolean {
    this.#checkSymbol(symbolId);
    return this.#request[symbolId] === REQ_QUEUED;
  }

  /**
   * True when a snapshot request of `symbolId` was taken, then the symbol was
   * forgotten ({@link forget}), and the answer has not come yet: it will be
   * ignored (counted in `snapshotsIgnored`).
   */
  snapshotCancelled(symbolId: number): boolean {
    this.#checkSymbol(symbolId);
    return this.#request[symbolId] === REQ_CANCELLED;
  }

  /** The answer to a cancelled request came: settle it; events buffered since (the symbol is back) want a new one. */
  #settleCancelled(sym: number): void {
    this.#request[sym] = REQ_NONE;
    this.#giveBack(sym);
    if (this.#buffers[sym].count > 0) this.#requestSnapshot(sym);
  }

  /**
   * Forgets `symbolId` as if it had never been seen, when its stream was
   * closed for good (the ingest of owned partitions released its partition;
   * docs/design.md §10): no book (nothing is emitted for it, not even a stale
   * frame), no buffered events (each counted rejected as `SequenceGap`: they
   * can never be bridged), no snapshot wanted; applied events not yet
   * emitted are counted as coalesced. A snapshot request in flight is
   * cancelled: its answer will be ignored ({@link snapshotCancelled}). Events
   * that come later (the symbol is back) start a bring-up from scratch, as
   * at start. Other symbols are untouched.
   *
   * @throws RangeError when `symbolId` is out of range.
   * @example
   * ```ts
   * import { DiffSync, SyncState } from "./diff_sync.ts";
   * const sync = new DiffSync({ symbolCount: 1 });
   * sync.forget(0);
   * sync.state(0) === SyncState.Buffering; // true
   * ```
   */
  forget(symbolId: number): void {
    this.#checkSymbol(symbolId);
    const sym = symbolId;
    if (this.#state[sym] === SyncState.Synced) this.#synced--;
    this.#state[sym] = SyncState.Buffering;
    const buf = this.#buffers[sym];
    while (buf.count > 0) {
      buf.dropOldest();
      this.#reject(sym, RejectReason.SequenceGap);
    }
    buf.clear();
    const request = this.#request[sym];
    if (request === REQ_QUEUED) this.#request[sym] = REQ_NONE;
    else if (request === REQ_IN_FLIGHT) this.#request[sym] = REQ_CANCELLED;
    this.#counters[sym * C_WORDS + C_COALESCED] += this.#pending[sym];
    this.#pending[sym] = 0;
    this.#books[sym].clear();
    this.#lastU[sym] = NaN;
    this.#lastE[sym] = NaN;
    this.#lastEmit[sym] = -Infinity;
    this.#awaitingBridge[sym] = 0;
    this.#resynced[sym] = 0;
    this.#dirty[sym] = 0;
    this.#bidFloor[sym] = 0;
    this.#askCeiling[sym] = Infinity;
  }

  /** True when a snapshot request of `symbolId` was taken and not yet answered. */
  snapshotInFlight(symbolId: number): boolean {
    this.#checkSymbol(symbolId);
    return this.#request[symbolId] === REQ_IN_FLIGHT;
  }

  /**
   * Marks `symbolId` out of sync after its connection was lost or replaced:
   * the last good book is kept (flagged stale), buffered events stay (events of
   * the new connection must chain onto them or they are discarded), and a
   * snapshot is requested as soon as the new connection delivers an event for
   * it (Binance: open the stream first, then fetch the snapshot). Other
   * symbols are untouched.
   */
  reset(symbolId: number): void {
    this.#checkSymbol(symbolId);
    this.#loseSync(symbolId, false);
  }

  /** Current {@link SyncState} of `symbolId`. */
  state(symbolId: number): SyncState {
    this.#checkSymbol(symbolId);
    return this.#state[symbolId] as SyncState;
  }

  /** True while `symbolId` is out of sync but has a last good book (frames carry BOOK_FLAG_STALE). */
  isStale(symbolId: number): boolean {
    return this.state(symbolId) === SyncState.Resyncing;
  }

  /** True when `symbolId` has a book to emit (synced or resyncing). */
  hasBook(symbolId: number): boolean {
    return this.state(symbolId) !== SyncState.Buffering;
  }

  /** The local book of `symbolId` (read it; do not modify it). */
  book(symbolId: number): LocalBook {
    this.#checkSymbol(symbolId);
    return this.#books[symbolId];
  }

  /** `u` of the last applied event (or the snapshot's lastUpdateId); NaN before the first snapshot. */
  lastUpdateId(symbolId: number): number {
    this.#checkSymbol(symbolId);
    return this.#lastU[symbolId];
  }

  /**
   * True when a frame of `symbolId` should be written now: it has a book, at
   * least `minEmitIntervalMs` passed since its last frame, and either new events
   * were applied, its state changed (snapshot loaded, sync lost), or it is stale
   * and `staleEmitIntervalMs` passed.
   */
  dueForEmit(symbolId: number, nowMs: number): boolean {
    this.#checkSymbol(symbolId);
    const sym = symbolId;
    const st = this.#state[sym];
    if (st === SyncState.Buffering) return false;
    const since = nowMs - this.#lastEmit[sym];
    if (since < this.minEmitIntervalMs) return false;
    if (this.#pending[sym] > 0 || this.#dirty[sym] === 1) return true;
    return st === SyncState.Resyncing && since >= this.staleEmitIntervalMs;
  }

  /**
   * Writes the current book of `symbolId` into the slot at word `base` of
   * `f64`: the top `layout.levels` levels per side, `BOOK_SYMBOL_ID`,
   * `BOOK_LAST_UPDATE_ID` (last applied `u`), `BOOK_EVENT_TIME` (last applied
   * `E`, NaN after a snapshot without one) and `BOOK_FLAGS`
   * (`BOOK_FLAG_FROM_DIFF`, `| BOOK_FLAG_STALE` while resyncing,
   * `| BOOK_FLAG_RESYNCED` on the first frame after a snapshot was loaded).
   * `BOOK_RECEIVE_TIME` and `BOOK_PARSED_TIME` are left to the caller. Counts
   * the frame and its coalesced events.
   *
   * @returns the number of newly applied events this frame carries.
   * @throws RangeError when `symbolId` is out of range; Error when the symbol
   *   has no book yet (check {@link dueForEmit} or {@link hasBook} first).
   */
  writeFrame(
    symbolId: number,
    f64: Float64Array,
    base: number,
    layout: BookSlotLayout,
    nowMs: number,
  ): number {
    this.#checkSymbol(symbolId);
    const sym = symbolId;
    const st = this.#state[sym];
    if (st === SyncState.Buffering) {
      throw new Error(
        `symbol ${sym} has no book yet (waiting for its first snapshot); check dueForEmit() first`,
      );
    }
    this.#books[sym].writeTop(f64, base, layout);
    let flags = BOOK_FLAG_FROM_DIFF;
    if (st === SyncState.Resyncing) flags |= BOOK_FLAG_STALE;
    if (this.#resynced[sym] === 1) {
      flags |= BOOK_FLAG_RESYNCED;
      this.#resynced[sym] = 0;
    }
    f64[base + BOOK_SYMBOL_ID] = sym;
    f64[base + BOOK_LAST_UPDATE_ID] = this.#lastU[sym];
    f64[base + BOOK_EVENT_TIME] = this.#lastE[sym];
    f64[base + BOOK_FLAGS] = flags;
    const cw = sym * C_WORDS;
    const carried = this.#pending[sym];
    if (carried > 0) {
      this.#counters[cw + C_FRAMES_FROM_EVENTS]++;
      this.#counters[cw + C_COALESCED] += carried - 1;
    } else {
      this.#counters[cw + C_FRAMES_WITHOUT_EVENTS]++;
    }
    this.#pending[sym] = 0;
    this.#dirty[sym] = 0;
    this.#lastEmit[sym] = nowMs;
    return carried;
  }

  /** Events of `symbolId` rejected with `reason` (including buffered events rejected later). */
  rejected(symbolId: number, reason: RejectReason): number {
    this.#checkSymbol(symbolId);
    return this.#rejected[symbolId * REJECT_REASON_COUNT + reason];
  }

  /** A copy of the counters of `symbolId` (allocates; for tests and `/stats`, not per pass). */
  counters(symbolId: number): DiffSyncCounters {
    return this.readCounters(symbolId, {
      received: 0,
      applied: 0,
      buffered: 0,
      rejectedTotal: 0,
      rejected: new Array<number>(REJECT_REASON_COUNT).fill(0),
      coalesced: 0,
      pending: 0,
      framesEmitted: 0,
      framesFromEvents: 0,
      framesWithoutEvents: 0,
      resyncs: 0,
      snapshotsApplied: 0,
      snapshotsTooOld: 0,
      snapshotsInvalid: 0,
      snapshotsIgnored: 0,
      droppedLevels: 0,
      rangeResyncs: 0,
    });
  }

  /**
   * Fill `into` with the counters of `symbolId` and return it: allocates
   * nothing, so a loop over every symbol can reuse one object.
   */
  readCounters(symbolId: number, into: DiffSyncCounters): DiffSyncCounters {
    this.#checkSymbol(symbolId);
    const c = this.#counters;
    const cw = symbolId * C_WORDS;
    for (let r = 0; r < REJECT_REASON_COUNT; r++) {
      into.rejected[r] = this.#rejected[symbolId * REJECT_REASON_COUNT + r];
    }
    into.received = c[cw + C_RECEIVED];
    into.applied = c[cw + C_APPLIED];
    into.buffered = this.#buffers[symbolId].count;
    into.rejectedTotal = c[cw + C_REJECTED_TOTAL];
    into.coalesced = c[cw + C_COALESCED];
    into.pending = this.#pending[symbolId];
    into.framesFromEvents = c[cw + C_FRAMES_FROM_EVENTS];
    into.framesWithoutEvents = c[cw + C_FRAMES_WITHOUT_EVENTS];
    into.framesEmitted = into.framesFromEvents + into.framesWithoutEvents;
    into.resyncs = c[cw + C_RESYNCS];
    into.snapshotsApplied = c[cw + C_SNAP_APPLIED];
    into.snapshotsTooOld = c[cw + C_SNAP_TOO_OLD];
    into.snapshotsInvalid = c[cw + C_SNAP_INVALID];
    into.snapshotsIgnored = c[cw + C_SNAP_IGNORED];
    into.droppedLevels = this.#droppedBefore[symbolId] + this.#books[symbolId].droppedLevels;
    into.rangeResyncs = c[cw + C_RANGE_RESYNCS];
    return into;
  }
}

/** The deepest price of snapshot levels: `Math.min` for bids, `Math.max` for asks. */
function deepest(levels: ArrayLike<readonly [number, number]>, pick: typeof Math.min): number {
  let p = levels[0][0];
  for (let i = 1; i < levels.length; i++) p = pick(p, levels[i][0]);
  return p;
}
