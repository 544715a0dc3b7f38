/**
 * Coinbase Advanced Trade market data (`wss://advanced-trade-ws.coinbase.com`),
 * channel `level2`, plus the `heartbeats` channel that keeps the connection
 * alive.
 *
 * Built from Coinbase's documentation: no full real level2 recording exists
 * (see `tests/testdata/exchanges/SOURCES.md`); the real partial frames are
 * tested, the rest with constructed frames.
 * - Book messages are `{"channel":"l2_data","client_id":"","timestamp":"..",
 *   "sequence_num":N,"events":[{"type":"snapshot"|"update","product_id":
 *   "BTC-USD","updates":[{"side":"bid"|"offer","event_time":"..",
 *   "price_level":"..","new_quantity":".."}]}]}`; a snapshot replaces the
 *   product's book, an update sets levels (`new_quantity` 0 deletes).
 * - `sequence_num` counts per connection, across every channel (heartbeats
 *   and subscription acks included): any jump means a message was lost and
 *   no product can be trusted, so every book is cleared and the answer is
 *   `Resync` with `symbolId` -1 (the runtime reconnects); on a connection of
 *   one product, `Resync` of that product (a resubscribe brings its fresh
 *   snapshot). The message that showed the jump starts the count again.
 * - An `l2_data` message whose content cannot be applied (a bad number, a
 *   missing field) was still counted by the sequence, so its updates are
 *   lost without a gap ever showing: it is a `Resync` as well. Events
 *   of products not subscribed here are skipped (`unknown_stream` when
 *   nothing else was in the message).
 * - `subscriptions` and `heartbeats` messages are `Control`;
 *   `{"type":"error","message":..}` is `VenueError`.
 * - Coinbase sends the whole book (no depth limit): the local book keeps the
 *   best `bookCapacity` levels per side (default
 *   {@link COINBASE_DEFAULT_CAPACITY}); levels past it are dropped, so after
 *   the price has walked through them a side can hold fewer levels than the
 *   venue until the next snapshot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COINBASE_PROTOCOL } from "./coinbase_protocol.ts";
 * import { VenueSyncResult } from "./venue_protocol.ts";
 * const sync = COINBASE_PROTOCOL.createSync({ symbols: ["BTC-USD", "ETH-USD"] });
 * const snap = '{"channel":"l2_data","client_id":"","timestamp":"2026-09-07T01:57:58.894355Z",' +
 *   '"sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[' +
 *   '{"side":"bid","event_time":"2026-09-07T01:57:58.894355Z","price_level":"100","new_quantity":"1"}]}]}';
 * assert.equal(sync.handle(snap, Date.now()), VenueSyncResult.Applied);
 * const gap = '{"channel":"heartbeats","timestamp":"2026-09-07T01:57:59Z","sequence_num":5,"events":[]}';
 * assert.equal(sync.handle(gap, Date.now()), VenueSyncResult.Resync);
 * assert.equal(sync.symbolId, -1); // every product of the connection
 * ```
 * @module
 */

import { RejectReason } from "../../pipeline/reject_reason.ts";
import type { VenueId } from "../../pipeline/venue_id.ts";
import type { VenueBook } from "./venue_book.ts";
import { type VenueProtocol, type VenueSyncOptions, VenueSyncResult } from "./venue_protocol.ts";
import { VenueSyncState } from "./venue_sync_state.ts";

/** {@link CoinbaseSync}'s event results besides a reject reason. */
const EVENT_OK = -1;
const EVENT_WAITING = -2;
const EVENT_UNKNOWN = -3;

/**
 * Default levels per side a Coinbase book keeps (Coinbase sends every level).
 * A level costs 42 B per side (`venue_book.ts`), so 1000 levels are 84 KB a
 * product; the analysed top (`--levels`, at most a few dozen) stays exact
 * until the price walks 1000 levels without a snapshot.
 */
export const COINBASE_DEFAULT_CAPACITY = 1000;

/** The Coinbase Advanced Trade `level2` protocol (see the module docs). */
export class CoinbaseProtocol implements VenueProtocol {
  /** `"coinbase"`. */
  readonly venue: VenueId = "coinbase";
  /** Most products per connection (level2 of busy products is heavy). */
  readonly maxSymbolsPerConnection = 50;
  /** Coinbase's level2 snapshot is the whole book: often several MB (16 MiB allowed). */
  readonly maxMessageBytes = 16 * 1024 * 1024;
  /** None: the `heartbeats` subscription makes the server send every second. */
  readonly keepalive: undefined = undefined;

  /** The base URL itself: Coinbase subscribes by message. */
  connectUrl(baseUrl: string, _symbols: readonly string[]): string {
    return baseUrl;
  }

  /** `level2` for the products, then `heartbeats`. */
  subscribe(symbols: readonly string[]): string[] {
    return [
      JSON.stringify({ type: "subscribe", product_ids: symbols, channel: "level2" }),
      JSON.stringify({ type: "subscribe", channel: "heartbeats" }),
    ];
  }

  /** `unsubscribe` then `subscribe` of the product's `level2` (which sends a fresh snapshot). */
  resubscribe(symbol: string): string[] {
    return [
      JSON.stringify({ type: "unsubscribe", product_ids: [symbol], channel: "level2" }),
      JSON.stringify({ type: "subscribe", product_ids: [symbol], channel: "level2" }),
    ];
  }

  /** A sync whose books hold `bookCapacity` levels per side (default {@link COINBASE_DEFAULT_CAPACITY}). */
  createSync(options: VenueSyncOptions): CoinbaseSync {
    return new CoinbaseSync(options);
  }
}

/** The Coinbase Advanced Trade `level2` protocol. */
export const COINBASE_PROTOCOL: CoinbaseProtocol = new CoinbaseProtocol();

/**
 * The {@link VenueSync} of a Coinbase Advanced Trade connection (made by
 * {@link CoinbaseProtocol.createSync}). `lastSeq` of a product is the
 * connection's `sequence_num` of the last message that changed its book.
 *
 * @example
 * ```ts
 * import { CoinbaseSync } from "./coinbase_protocol.ts";
 * const sync = new CoinbaseSync({ symbols: ["BTC-USD", "ETH-USD"] });
 * sync.connectionSeq; // NaN before the first message
 * ```
 */
export class CoinbaseSync extends VenueSyncState {
  #connSeq = NaN;

  /** @param options see {@link VenueSyncOptions}. */
  constructor(options: VenueSyncOptions) {
    super(options, options.bookCapacity ?? COINBASE_DEFAULT_CAPACITY);
  }

  /** The last `sequence_num` of the connection (NaN before the first). */
  get connectionSeq(): number {
    return this.#connSeq;
  }

  /** See {@link VenueSync.resetAll}; the connection's sequence starts again too. */
  override resetAll(): void {
    super.resetAll();
    this.#connSeq = NaN;
  }

  /** See {@link VenueSync.handle}. */
  handle(text: string, _receivedAt: number): VenueSyncResult {
    this.begin();
    const c = this.cursor;
    if (!c.begin(text) || !c.enterObject()) return this.reject(RejectReason.Malformed, -1);
    let channelPos = -1, eventsPos = -1, typePos = -1, seq = NaN, time = NaN;
    while (c.nextKey()) {
      if (c.keyIs("channel")) channelPos = c.pos;
      else if (c.keyIs("events")) eventsPos = c.pos;
      else if (c.keyIs("type")) typePos = c.pos;
      else if (c.keyIs("sequence_num")) {
        if (!c.readInteger()) return this.reject(RejectReason.Malformed, -1);
        seq = c.value;
        continue;
      } else if (c.keyIs("timestamp")) {
        if (!c.readTime()) return this.reject(RejectReason.Malformed, -1);
        time = c.value;
        continue;
      }
      c.skipValue();
    }
    if (channelPos < 0) {
      if (typePos >= 0) {
        c.pos = typePos;
        if (c.readString() && c.stringIs("error")) return this.venueError(text);
      }
      return this.reject(RejectReason.Malformed, -1);
    }
    if (seq === seq) {
      const last = this.#connSeq;
      if (last === last && seq !== last + 1) {
        this.#connSeq = seq;
        return this.#lost(RejectReason.SequenceGap);
      }
      this.#connSeq = seq;
    }
    c.pos = channelPos;
    if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
    if (c.stringIs("subscriptions") || c.stringIs("heartbeats")) return VenueSyncResult.Control;
    if (!c.stringIs("l2_data")) return this.reject(RejectReason.UnknownStream, -1);
    if (eventsPos < 0) return this.#lost(RejectReason.Malformed);
    // check pass over every event, then the apply pass
    let unknown = false;
    for (let apply = 0; apply < 2; apply++) {
      c.pos = eventsPos;
      if (!c.enterArray()) return this.#lost(RejectReason.Malformed);
      let waiting = -1;
      while (c.nextItem()) {
        const eventPos = c.pos;
        c.skipValue();
        const after = c.pos;
        const r = this.#event(eventPos, apply === 1);
        if (r >= 0) return this.#lost(r);
        if (r === EVENT_WAITING) waiting = this.symbolId;
        else if (r === EVENT_UNKNOWN) unknown = true;
        c.pos = after;
      }
      if (apply === 1 && this.changedCount === 0) {
        if (waiting >= 0) return this.reject(RejectReason.BeforeSnapshot, waiting);
        if (unknown) return this.reject(RejectReason.UnknownStream, -1);
        return VenueSyncResult.Control; // no event
      }
    }
    for (let i = 0; i < this.changedCount; i++) this.seq[this.changed[i]] = seq;
    this.symbolId = this.changed[0];
    this.eventTime = time;
    return VenueSyncResult.Applied;
  }

  /**
   * Updates were lost (a `sequence_num` jump, or an `l2_data` message that
   * cannot be applied although the sequence counted it): no book of the
   * connection can be trusted. Every book is cleared and the answer is
   * `Resync` of every symbol: -1 (the runtime reconnects), or, when the
   * connection carries one symbol, that symbol (the runtime resubscribes it,
   * which brings a fresh snapshot; the sequence goes on from here).
   */
  #lost(reason: number): VenueSyncResult {
    for (let i = 0; i < this.books.length; i++) this.reset(i);
    this.changedCount = 0;
    this.symbolId = this.books.length === 1 ? 0 : -1;
    this.reason = reason;
    return VenueSyncResult.Resync;
  }

  /**
   * One event: check it (`apply` false) or apply it. Returns
   * `EVENT_OK`, `EVENT_WAITING` (an update skipped: its product
   * waits for a snapshot), `EVENT_UNKNOWN` (a product not subscribed
   * here, skipped) or the {@link RejectReason} that makes the event bad.
   */
  #event(pos: number, apply: boolean): number {
    const c = this.cursor;
    c.pos = pos;
    if (!c.enterObject()) return RejectReason.Malformed;
    let id = -1, haveProduct = false, snapshot = false, haveType = false, updatesPos = -1;
    while (c.nextKey()) {
      if (c.keyIs("product_id")) {
        if (!c.readString()) return RejectReason.Malformed;
        id = c.stringIndex(this.symbols);
        haveProduct = true;
      } else if (c.keyIs("type")) {
        if (!c.readString()) return RejectReason.Malformed;
        if (c.stringIs("snapshot")) snapshot = true;
        else if (!c.stringIs("update")) return RejectReason.Malformed;
        haveType = true;
      } else if (c.keyIs("updates")) {
        updatesPos = c.pos;
        c.skipValue();
      } else c.skipValue();
    }
    if (!haveProduct || !haveType || updatesPos < 0) return RejectReason.Malformed;
    if (id < 0) return EVENT_UNKNOWN;
    if (!apply) {
      const r = this.#updates(updatesPos, null);
      return r === RejectReason.Ok ? EVENT_OK : r;
    }
    const book = this.books[id];
    if (snapshot) book.beginSnapshot();
    else if (this.inSync[id] === 0) {
      this.symbolId = id;
      return EVENT_WAITING;
    }
    this.#updates(updatesPos, book);
    book.endSnapshot();
    this.inSync[id] = 1;
    this.updates[id] = snapshot ? 1 : this.updates[id] + 1;
    this.markChanged(id);
    return EVENT_OK;
  }

  /**
   * An event's `updates`: checked into the batch (`book` null; a level past
   * its capacity is read into the spare slot and counted), or, the text
   * already checked, applied to `book` a batch at a time. A {@link RejectReason}.
   */
  #updates(pos: number, book: VenueBook | null): number {
    const c = this.cursor, batch = this.batch;
    batch.clear();
    c.pos = pos;
    if (!c.enterArray()) return RejectReason.Malformed;
    while (c.nextItem()) {
      if (book !== null && batch.count === batch.capacity) {
        batch.applyTo(book);
        batch.clear();
      }
      const i = batch.next;
      if (!c.enterObject()) return RejectReason.Malformed;
      let side = 0, havePrice = false, haveSize = false;
      while (c.nextKey()) {
        if (c.keyIs("side")) {
          if (!c.readString()) return RejectReason.Malformed;
          if (c.stringIs("bid")) side = 1;
          else if (c.stringIs("offer") || c.stringIs("ask")) side = 2;
          else return RejectReason.Malformed;
        } else if (c.keyIs("price_level")) {
          if (!c.readDecimal() || !(c.value > 0)) return RejectReason.BadPrice;
          batch.setPrice(i, c);
          havePrice = true;
        } else if (c.keyIs("new_quantity")) {
          if (!c.readDecimal()) return RejectReason.BadSize;
          batch.setSize(i, c);
          haveSize = true;
        } else c.skipValue();
      }
      if (side === 0 || !havePrice || !haveSize) return RejectReason.Malformed;
      batch.isAsk[i] = side === 2 ? 1 : 0;
      batch.count++;
    }
    if (book !== null) batch.applyTo(book);
    return RejectReason.Ok;
  }
}
