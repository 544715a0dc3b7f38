/**
 * Kraken WebSocket v2 order books (`wss://ws.kraken.com/v2`, channel `book`).
 *
 * Rules, checked against the recordings in `tests/testdata/exchanges/`:
 * - Book messages are `{"channel":"book","type":"snapshot"|"update","data":
 *   [{"symbol":"BTC/USD","bids":[{"price":N,"qty":N}],"asks":[..],
 *   "checksum":N,"timestamp":".."}]}`; prices and quantities are JSON
 *   numbers whose text keeps trailing zeros (`0.12290`), and the checksum
 *   needs that text: `JSON.parse` would lose it, this parser keeps it.
 * - There are no sequence numbers: the checksum (CRC32 of the top 10 asks
 *   then the top 10 bids, `.` and leading zeros removed, unsigned) is the
 *   only gap signal; a mismatch resyncs the symbol (`checksum_mismatch`).
 * - After each message only the subscribed `depth` levels per side are
 *   kept (Kraken sends the level that enters the window, never the one that
 *   leaves it), then the checksum is checked.
 * - `heartbeat` and `status` channels and method replies (`subscribe`,
 *   `unsubscribe`, `pong`) are `Control`; a reply with `"success":false` is
 *   `VenueError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KRAKEN_PROTOCOL } from "./kraken_protocol.ts";
 * import { VenueSyncResult } from "./venue_protocol.ts";
 * const sync = KRAKEN_PROTOCOL.createSync({ symbols: ["BTC/USD"] });
 * assert.equal(sync.handle('{"channel":"heartbeat"}', Date.now()), VenueSyncResult.Control);
 * assert.deepEqual(JSON.parse(KRAKEN_PROTOCOL.subscribe(["BTC/USD"])[0]).params.depth, 10);
 * ```
 * @module
 */

import { RejectReason } from "../../pipeline/reject_reason.ts";
import type { VenueId } from "../../pipeline/venue_id.ts";
import { type VenueProtocol, type VenueSyncOptions, VenueSyncResult } from "./venue_protocol.ts";
import { LevelShape, VenueSyncState } from "./venue_sync_state.ts";

/** The book depths Kraken v2 offers. */
export const KRAKEN_DEPTHS: readonly number[] = [10, 25, 100, 500, 1000];

/** Options of {@link KrakenProtocol}. */
export interface KrakenProtocolOptions {
  /** Levels per side subscribed: one of {@link KRAKEN_DEPTHS}. Default 10. */
  depth?: number;
  /** Keep-alive period, ms. Default 30 000. */
  pingEveryMs?: number;
}

/** The Kraken v2 protocol (see the module docs). */
export class KrakenProtocol implements VenueProtocol {
  /** `"kraken"`. */
  readonly venue: VenueId = "kraken";
  /** Most symbols per connection. */
  readonly maxSymbolsPerConnection = 100;
  /** `{"method":"ping"}`. */
  readonly keepalive: { readonly text: string; readonly everyMs: number };
  /** Levels per side subscribed. */
  readonly depth: number;

  /** @param options see {@link KrakenProtocolOptions}. */
  constructor(options: KrakenProtocolOptions = {}) {
    const depth = options.depth ?? 10;
    if (!KRAKEN_DEPTHS.includes(depth)) {
      throw new RangeError(`Kraken depth must be one of ${KRAKEN_DEPTHS.join(", ")}, got ${depth}`);
    }
    this.depth = depth;
    const every = options.pingEveryMs ?? 30_000;
    if (!(every > 0)) throw new RangeError(`Kraken pingEveryMs must be > 0, got ${every}`);
    this.keepalive = { text: '{"method":"ping"}', everyMs: every };
  }

  /** The base URL itself: Kraken subscribes by message. */
  connectUrl(baseUrl: string, _symbols: readonly string[]): string {
    return baseUrl;
  }

  /** One `subscribe` for every symbol, with a snapshot. */
  subscribe(symbols: readonly string[]): string[] {
    return [this.#method("subscribe", symbols)];
  }

  /** `unsubscribe` then `subscribe` (which sends a fresh snapshot). */
  resubscribe(symbol: string): string[] {
    return [this.#method("unsubscribe", [symbol]), this.#method("subscribe", [symbol])];
  }

  #method(method: string, symbols: readonly string[]): string {
    const params = method === "subscribe"
      ? { channel: "book", symbol: symbols, depth: this.depth, snapshot: true }
      : { channel: "book", symbol: symbols, depth: this.depth };
    return JSON.stringify({ method, params });
  }

  /**
   * A sync whose books keep `depth` levels per side after each message;
   * they hold up to `bookCapacity` levels (default and minimum: twice the
   * depth) while a message is applied, so a message that inserts a level
   * before deleting another never loses the level at the window's edge.
   */
  createSync(options: VenueSyncOptions): KrakenSync {
    return new KrakenSync(options, this.depth);
  }
}

/** The Kraken v2 protocol at depth 10. */
export const KRAKEN_PROTOCOL: KrakenProtocol = new KrakenProtocol();

/**
 * The {@link VenueSync} of a Kraken v2 connection (made by
 * {@link KrakenProtocol.createSync}).
 *
 * @example
 * ```ts
 * import { KrakenSync } from "./kraken_protocol.ts";
 * new KrakenSync({ symbols: ["ALGO/USD"] }, 10).lastSeq(0); // NaN: Kraken has no sequence
 * ```
 */
export class KrakenSync extends VenueSyncState {
  /** Levels per side kept (the subscribed depth). */
  readonly depth: number;

  /**
   * @param options see {@link VenueSyncOptions}.
   * @param depth the subscribed depth.
   */
  constructor(options: VenueSyncOptions, depth: number) {
    super(options, Math.max(options.bookCapacity ?? 0, 2 * depth));
    this.depth = depth;
  }

  /** See {@link VenueSync.handle}. */
  handle(text: string, _receivedAt: number): VenueSyncResult {
    this.begin();
    const c = this.cursor;
    if (!c.begin(text) || !c.enterObject()) return this.reject(RejectReason.Malformed, -1);
    let channelPos = -1, typePos = -1, dataPos = -1, methodPos = -1, successPos = -1;
    let errorPos = -1;
    while (c.nextKey()) {
      if (c.keyIs("channel")) channelPos = c.pos;
      else if (c.keyIs("type")) typePos = c.pos;
      else if (c.keyIs("data")) dataPos = c.pos;
      else if (c.keyIs("method")) methodPos = c.pos;
      else if (c.keyIs("success")) successPos = c.pos;
      else if (c.keyIs("error")) errorPos = c.pos;
      c.skipValue();
    }
    if (successPos >= 0) {
      c.pos = successPos;
      if (c.readBool() && c.value === 0) return this.venueError(text);
    }
    if (methodPos >= 0) return errorPos >= 0 ? this.venueError(text) : VenueSyncResult.Control;
    if (errorPos >= 0) return this.venueError(text);
    if (channelPos < 0) return this.reject(RejectReason.Malformed, -1);
    c.pos = channelPos;
    if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
    if (c.stringIs("heartbeat") || c.stringIs("status")) return VenueSyncResult.Control;
    if (!c.stringIs("book")) return this.reject(RejectReason.UnknownStream, -1);
    if (typePos < 0 || dataPos < 0) return this.reject(RejectReason.Malformed, -1);
    c.pos = typePos;
    if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
    let snapshot: boolean;
    if (c.stringIs("snapshot")) snapshot = true;
    else if (c.stringIs("update")) snapshot = false;
    else return this.reject(RejectReason.Malformed, -1);
    c.pos = dataPos;
    if (!c.enterArray()) return this.reject(RejectReason.Malformed, -1);
    let items = 0;
    while (c.nextItem()) {
      const itemPos = c.pos;
      c.skipValue();
      const after = c.pos;
      const r = this.#element(itemPos, snapshot);
      if (r !== VenueSyncResult.Applied) return r;
      c.pos = after;
      items++;
    }
    if (items === 0) return this.reject(RejectReason.Malformed, -1);
    return VenueSyncResult.Applied;
  }

  /** One symbol's entry of `data`. */
  #element(pos: number, snapshot: boolean): VenueSyncResult {
    const c = this.cursor;
    c.pos = pos;
    if (!c.enterObject()) return this.reject(RejectReason.Malformed, -1);
    let asksPos = -1, bidsPos = -1, id = -1, haveSymbol = false, haveChecksum = false;
    let checksum = 0, time = NaN;
    while (c.nextKey()) {
      if (c.keyIs("bids")) {
        bidsPos = c.pos;
        c.skipValue();
      } else if (c.keyIs("asks")) {
        asksPos = c.pos;
        c.skipValue();
      } else if (c.keyIs("symbol")) {
        if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
        id = c.stringIndex(this.symbols);
        haveSymbol = true;
      } else if (c.keyIs("checksum")) {
        if (!c.readInteger()) return this.reject(RejectReason.Malformed, -1);
        checksum = c.value;
        haveChecksum = true;
      } else if (c.keyIs("timestamp")) {
        if (!c.readTime()) return this.reject(RejectReason.Malformed, -1);
        time = c.value;
      } else c.skipValue();
    }
    if (!haveSymbol) return this.reject(RejectReason.Malformed, -1);
    if (id < 0) return this.reject(RejectReason.UnknownStream, -1);
    const r = this.readBook(asksPos, bidsPos, LevelShape.Object, "price", "qty");
    if (r !== RejectReason.Ok) return this.reject(r, id);
    const book = this.books[id];
    if (snapshot) book.beginSnapshot();
    else if (this.inSync[id] === 0) return this.reject(RejectReason.BeforeSnapshot, id);
    this.applyBook(book);
    book.endSnapshot();
    book.truncate(this.depth);
    if (haveChecksum) {
      this.checksum.kraken(book);
      if (this.checksum.value !== checksum) return this.resync(RejectReason.ChecksumMismatch, id);
    }
    this.inSync[id] = 1;
    this.updates[id] = snapshot ? 1 : this.updates[id] + 1;
    if (time === time) this.eventTime = time;
    this.markChanged(id);
    return VenueSyncResult.Applied;
  }
}
