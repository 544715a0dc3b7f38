/**
 * The state every venue's {@link VenueSync} keeps, shared by the venue
 * protocols: one {@link VenueBook} per symbol, whether it is in sync, its
 * last sequence number and update count, the result fields of the last
 * message, and the parts of {@link VenueSync} that do not depend on the
 * venue (`writeTop`, `reset`, ...). A venue's sync extends it and implements
 * `handle`.
 *
 * It also holds the level reading the venues share:
 * {@link VenueSyncState.readBook} checks every level of a message into a
 * {@link LevelBatch} (nothing changes, so a bad message is rejected with the
 * book untouched), {@link VenueSyncState.applyBook} then applies them.
 *
 * @example
 * ```ts
 * import { VenueSyncState } from "./venue_sync_state.ts";
 * import { VenueSyncResult } from "./venue_protocol.ts";
 * class NoSync extends VenueSyncState {
 *   handle(_text: string, _receivedAt: number): VenueSyncResult {
 *     return this.begin() ?? VenueSyncResult.Control;
 *   }
 * }
 * new NoSync({ symbols: ["BTC-USDT"] }, 10).synced(0); // false
 * ```
 * @module
 */

import { BOOK_LAST_UPDATE_ID, type BookSlotLayout } from "../../pipeline/book_slot.ts";
import { RejectReason } from "../../pipeline/reject_reason.ts";
import { JsonCursor } from "./json_cursor.ts";
import { BookChecksum } from "./book_checksum.ts";
import { DEFAULT_LEVEL_BATCH_CAPACITY, LevelBatch } from "./level_batch.ts";
import { VenueBook } from "./venue_book.ts";
import { type VenueSync, type VenueSyncOptions, VenueSyncResult } from "./venue_protocol.ts";

/** How a level is written in a message: `["px","sz",...]` or `{"price":px,"qty":sz,...}`. */
export const LevelShape = {
  /** An array whose first two elements are the price and the size (OKX, Bybit). */
  Array: 0,
  /** An object with a price key and a size key (Kraken v2: `price`, `qty`). */
  Object: 1,
} as const;

/** One of {@link LevelShape}. */
export type LevelShape = typeof LevelShape[keyof typeof LevelShape];

/** The common state of a venue's {@link VenueSync} (see the module docs). */
export abstract class VenueSyncState implements VenueSync {
  /** See {@link VenueSync.symbolId}. */
  symbolId = -1;
  /** See {@link VenueSync.changed}. */
  readonly changed: Int32Array;
  /** See {@link VenueSync.changedCount}. */
  changedCount = 0;
  /** See {@link VenueSync.reason}. */
  reason = 0;
  /** See {@link VenueSync.errorText}: the venue's whole error message as received. */
  errorText = "";
  /** See {@link VenueSync.eventTime}. */
  eventTime = NaN;
  /** The native symbols; id = index. */
  readonly symbols: readonly string[];
  /** The symbols' books. */
  protected readonly books: VenueBook[];
  /** 1 when a symbol's book is in sync. */
  protected readonly inSync: Uint8Array;
  /** Last sequence number per symbol (NaN when none). */
  protected readonly seq: Float64Array;
  /** Messages applied per symbol since its last snapshot (the slot's update id when there is no sequence). */
  protected readonly updates: Float64Array;
  /** Size multiplier per symbol. */
  protected readonly multiplier: Float64Array;
  /** The message cursor. */
  protected readonly cursor: JsonCursor = new JsonCursor();
  /** The checksum buffer. */
  protected readonly checksum: BookChecksum = new BookChecksum();
  /** The levels of the message being handled, read once (see {@link LevelBatch}). */
  protected readonly batch: LevelBatch;
  /** After {@link VenueSyncState.readBook}: the levels of the message (both sides). */
  protected levelCount = 0;
  #asksPos = -1;
  #bidsPos = -1;
  #shape: LevelShape = LevelShape.Array;
  #priceKey = "price";
  #sizeKey = "qty";

  /**
   * @param options the symbols and sizes (see {@link VenueSyncOptions}).
   * @param capacity levels per side of each book.
   * @throws RangeError for an empty symbol list or a bad multiplier.
   */
  constructor(options: VenueSyncOptions, capacity: number) {
    const n = options.symbols.length;
    if (n === 0) throw new RangeError("a venue connection needs at least one symbol, got none");
    this.symbols = options.symbols.slice();
    this.books = [];
    for (let i = 0; i < n; i++) this.books.push(new VenueBook(capacity));
    this.inSync = new Uint8Array(n);
    this.seq = new Float64Array(n).fill(NaN);
    this.updates = new Float64Array(n);
    this.changed = new Int32Array(n);
    this.multiplier = new Float64Array(n).fill(1);
    this.batch = new LevelBatch(Math.max(DEFAULT_LEVEL_BATCH_CAPACITY, 2 * capacity));
    const m = options.sizeMultiplier;
    if (m !== undefined) {
      if (m.length !== n) {
        throw new RangeError(
          `sizeMultiplier must have one entry per symbol (${n}), got ${m.length}`,
        );
      }
      for (let i = 0; i < n; i++) {
        if (!(m[i] > 0) || !Number.isFinite(m[i])) {
          throw new RangeError(`sizeMultiplier[${i}] must be a finite number > 0, got ${m[i]}`);
        }
        this.multiplier[i] = m[i];
      }
    }
  }

  /** See {@link VenueSync.handle}. */
  abstract handle(text: string, receivedAt: number): VenueSyncResult;

  /** Clear the result fields before a message; returns undefined (for `??` chains). */
  protected begin(): undefined {
    this.symbolId = -1;
    this.changedCount = 0;
    this.reason = 0;
    this.eventTime = NaN;
    return undefined;
  }

  /** Answer `Rejected` for `reason` (book untouched). */
  protected reject(reason: number, symbolId: number): VenueSyncResult {
    this.reason = reason;
    this.symbolId = symbolId;
    return VenueSyncResult.Rejected;
  }

  /** Answer `Resync` for `reason`: the symbol's book is cleared and waits for a snapshot. */
  protected resync(reason: number, symbolId: number): VenueSyncResult {
    this.reason = reason;
    this.symbolId = symbolId;
    this.changedCount = 0;
    this.reset(symbolId);
    return VenueSyncResult.Resync;
  }

  /** Answer `VenueError` with the message as the error text. */
  protected venueError(text: string): VenueSyncResult {
    this.errorText = text;
    return VenueSyncResult.VenueError;
  }

  /** Record that a symbol's book changed (once per message). */
  protected markChanged(symbolId: number): void {
    for (let i = 0; i < this.changedCount; i++) if (this.changed[i] === symbolId) return;
    this.changed[this.changedCount++] = symbolId;
    this.symbolId = symbolId;
  }

  /**
   * Check pass over a message's level lists at cursor positions `asksPos`
   * and `bidsPos` (-1: absent, no levels): every level is read into
   * {@link VenueSyncState.batch}, nothing changes. Returns
   * {@link RejectReason.Ok} and sets {@link VenueSyncState.levelCount}, or
   * the reason the lists are bad: not a list of levels (`Malformed`), a
   * price that is not a decimal > 0 (`BadPrice`), a size that is not a
   * decimal >= 0 (`BadSize`). In the object shape the price and size keys
   * are `priceKey` and `sizeKey`.
   */
  protected readBook(
    asksPos: number,
    bidsPos: number,
    shape: LevelShape,
    priceKey = "price",
    sizeKey = "qty",
  ): number {
    this.batch.clear();
    this.levelCount = 0;
    this.#asksPos = asksPos;
    this.#bidsPos = bidsPos;
    this.#shape = shape;
    this.#priceKey = priceKey;
    this.#sizeKey = sizeKey;
    const r = this.#readSide(asksPos, true, null);
    if (r !== RejectReason.Ok) return r;
    const q = this.#readSide(bidsPos, false, null);
    this.levelCount = this.batch.count;
    return q;
  }

  /**
   * Apply the levels of the last {@link VenueSyncState.readBook} (which
   * returned `Ok`) to `book`: from the batch, or, when the message had more
   * levels than the batch holds, by reading the text again a batch at a time.
   */
  protected applyBook(book: VenueBook): void {
    const batch = this.batch;
    if (!batch.overflowed) {
      batch.applyTo(book);
      return;
    }
    batch.clear();
    this.#readSide(this.#asksPos, true, book);
    this.#readSide(this.#bidsPos, false, book);
    batch.applyTo(book);
  }

  /**
   * Read one level list into the batch. Checking (`book` null): a level past
   * the batch's capacity is read into its spare slot and counted. Applying
   * (the text already checked): a full batch is applied to `book` and
   * cleared.
   */
  #readSide(pos: number, isAsk: boolean, book: VenueBook | null): number {
    if (pos < 0) return RejectReason.Ok;
    const c = this.cursor, batch = this.batch;
    c.pos = pos;
    if (!c.enterArray()) return RejectReason.Malformed;
    const objects = this.#shape === LevelShape.Object;
    const priceKey = this.#priceKey, sizeKey = this.#sizeKey;
    while (c.nextItem()) {
      if (book !== null && batch.count === batch.capacity) {
        batch.applyTo(book);
        batch.clear();
      }
      const i = batch.next;
      batch.isAsk[i] = isAsk ? 1 : 0;
      if (!objects) {
        if (!c.enterArray() || !c.nextItem()) return RejectReason.Malformed;
        if (!c.readDecimal()) return RejectReason.BadPrice;
        batch.setPrice(i, c);
        if (!c.nextItem()) return RejectReason.Malformed;
        if (!c.readDecimal()) return RejectReason.BadSize;
        batch.setSize(i, c);
        while (c.nextItem()) c.skipValue();
      } else {
        if (!c.enterObject()) return RejectReason.Malformed;
        let havePrice = false, haveSize = false;
        while (c.nextKey()) {
          if (c.keyIs(priceKey)) {
            if (!c.readDecimal()) return RejectReason.BadPrice;
            batch.setPrice(i, c);
            havePrice = true;
          } else if (c.keyIs(sizeKey)) {
            if (!c.readDecimal()) return RejectReason.BadSize;
            batch.setSize(i, c);
            haveSize = true;
          } else c.skipValue();
        }
        if (!havePrice || !haveSize) return RejectReason.Malformed;
      }
      if (!(batch.price[i] > 0)) return RejectReason.BadPrice;
      batch.count++;
    }
    return RejectReason.Ok;
  }

  /** See {@link VenueSync.synced}. */
  synced(symbolId: number): boolean {
    return this.inSync[symbolId] === 1;
  }

  /** See {@link VenueSync.lastSeq}. */
  lastSeq(symbolId: number): number {
    return this.seq[symbolId];
  }

  /** See {@link VenueSync.writeTop}. */
  writeTop(symbolId: number, f64: Float64Array, at: number, layout: BookSlotLayout): void {
    this.books[symbolId].writeTop(f64, at, layout, this.multiplier[symbolId]);
    const seq = this.seq[symbolId];
    f64[at + BOOK_LAST_UPDATE_ID] = seq === seq ? seq : this.updates[symbolId];
  }

  /** The book of a symbol (read-only use: tests and diagnostics). */
  book(symbolId: number): VenueBook {
    return this.books[symbolId];
  }

  /** See {@link VenueSync.reset}. */
  reset(symbolId: number): void {
    if (symbolId < 0 || symbolId >= this.books.length) return;
    this.books[symbolId].clear();
    this.inSync[symbolId] = 0;
    this.seq[symbolId] = NaN;
    this.updates[symbolId] = 0;
  }

  /** See {@link VenueSync.resetAll}. */
  resetAll(): void {
    for (let i = 0; i < this.books.length; i++) this.reset(i);
  }
}
