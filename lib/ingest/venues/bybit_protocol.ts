/**
 * Bybit v5 public order books (`wss://stream.bybit.com/v5/public/spot`, or
 * `/linear`), topic `orderbook.{depth}.{SYMBOL}`.
 *
 * Rules, checked against the recordings in `tests/testdata/exchanges/`:
 * - Messages are `{"topic":"orderbook.50.BTCUSDT","type":"snapshot"|"delta",
 *   "ts":N,"data":{"s":"BTCUSDT","b":[["px","sz"]],"a":[..],"u":N,"seq":N},
 *   "cts":N}`, read in any key order.
 * - First a snapshot, then deltas with `u == previous u + 1`; any other `u`
 *   resyncs the symbol (`sequence_gap`). A later snapshot, or a message with
 *   `u == 1` (the service restarted), replaces the book.
 * - No checksum. `{"success":true,"op":"subscribe",..}` and pongs are
 *   `Control`; `"success":false` is `VenueError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BYBIT_PROTOCOL } from "./bybit_protocol.ts";
 * import { VenueSyncResult } from "./venue_protocol.ts";
 * const sync = BYBIT_PROTOCOL.createSync({ symbols: ["BTCUSDT"] });
 * const snap = '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,' +
 *   '"data":{"s":"BTCUSDT","b":[["100","1"]],"a":[["101","2"]],"u":5,"seq":9},"cts":1}';
 * assert.equal(sync.handle(snap, Date.now()), VenueSyncResult.Applied);
 * assert.equal(sync.lastSeq(0), 5);
 * ```
 * @module
 */

import { RejectReason } from "../../pipeline/reject_reason.ts";
import type { VenueId } from "../../pipeline/venue_id.ts";
import { type VenueProtocol, type VenueSyncOptions, VenueSyncResult } from "./venue_protocol.ts";
import { LevelShape, VenueSyncState } from "./venue_sync_state.ts";

/** The order-book depths Bybit v5 offers (spot: 1, 50, 200, 1000; linear adds 500). */
export const BYBIT_DEPTHS: readonly number[] = [1, 50, 200, 500, 1000];

/** Options of {@link BybitProtocol}. */
export interface BybitProtocolOptions {
  /** Levels per side subscribed: one of {@link BYBIT_DEPTHS}. Default 50. */
  depth?: number;
  /** Keep-alive period, ms (Bybit recommends 20 s). Default 20 000. */
  pingEveryMs?: number;
}

/** The Bybit v5 protocol (see the module docs). */
export class BybitProtocol implements VenueProtocol {
  /** `"bybit"`. */
  readonly venue: VenueId = "bybit";
  /** Most symbols per connection (Bybit's spot limit is 10 topics per subscribe message; one message per 10 here). */
  readonly maxSymbolsPerConnection = 50;
  /** `{"op":"ping"}`. */
  readonly keepalive: { readonly text: string; readonly everyMs: number };
  /** Levels per side subscribed. */
  readonly depth: number;

  /** @param options see {@link BybitProtocolOptions}. */
  constructor(options: BybitProtocolOptions = {}) {
    const depth = options.depth ?? 50;
    if (!BYBIT_DEPTHS.includes(depth)) {
      throw new RangeError(`Bybit depth must be one of ${BYBIT_DEPTHS.join(", ")}, got ${depth}`);
    }
    this.depth = depth;
    const every = options.pingEveryMs ?? 20_000;
    if (!(every > 0)) throw new RangeError(`Bybit pingEveryMs must be > 0, got ${every}`);
    this.keepalive = { text: '{"op":"ping"}', everyMs: every };
  }

  /** The base URL itself (it names the category, `/v5/public/spot` or `/linear`). */
  connectUrl(baseUrl: string, _symbols: readonly string[]): string {
    return baseUrl;
  }

  /** `subscribe` messages of at most 10 topics each. */
  subscribe(symbols: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < symbols.length; i += 10) {
      out.push(this.#op("subscribe", symbols.slice(i, i + 10)));
    }
    return out;
  }

  /** `unsubscribe` then `subscribe` (which sends a fresh snapshot). */
  resubscribe(symbol: string): string[] {
    return [this.#op("unsubscribe", [symbol]), this.#op("subscribe", [symbol])];
  }

  #op(op: string, symbols: readonly string[]): string {
    return JSON.stringify({ op, args: symbols.map((s) => `orderbook.${this.depth}.${s}`) });
  }

  /** A sync whose books hold `bookCapacity` levels per side (default: twice the depth). */
  createSync(options: VenueSyncOptions): BybitSync {
    return new BybitSync(options, options.bookCapacity ?? 2 * this.depth);
  }
}

/** The Bybit v5 protocol at depth 50. */
export const BYBIT_PROTOCOL: BybitProtocol = new BybitProtocol();

/**
 * The {@link VenueSync} of a Bybit v5 connection (made by
 * {@link BybitProtocol.createSync}).
 *
 * @example
 * ```ts
 * import { BybitSync } from "./bybit_protocol.ts";
 * new BybitSync({ symbols: ["XRPUSDT"] }, 1000).synced(0); // false
 * ```
 */
export class BybitSync extends VenueSyncState {
  /**
   * @param options see {@link VenueSyncOptions}.
   * @param capacity levels per side of each book.
   */
  constructor(options: VenueSyncOptions, capacity: number) {
    super(options, capacity);
  }

  /** See {@link VenueSync.handle}. */
  handle(text: string, _receivedAt: number): VenueSyncResult {
    this.begin();
    const c = this.cursor;
    if (!c.begin(text) || !c.enterObject()) return this.reject(RejectReason.Malformed, -1);
    let topicPos = -1, typePos = -1, dataPos = -1, successPos = -1, opPos = -1, ts = NaN;
    while (c.nextKey()) {
      if (c.keyIs("topic")) topicPos = c.pos;
      else if (c.keyIs("type")) typePos = c.pos;
      else if (c.keyIs("data")) dataPos = c.pos;
      else if (c.keyIs("ts")) {
        if (!c.readInteger()) return this.reject(RejectReason.Malformed, -1);
        ts = c.value;
        continue;
      } else if (c.keyIs("success")) successPos = c.pos;
      else if (c.keyIs("op")) opPos = c.pos;
      c.skipValue();
    }
    if (successPos >= 0) {
      c.pos = successPos;
      if (!c.readBool()) return this.reject(RejectReason.Malformed, -1);
      if (c.value === 0) return this.venueError(text);
    }
    if (topicPos < 0) {
      return successPos >= 0 || opPos >= 0
        ? VenueSyncResult.Control
        : this.reject(RejectReason.Malformed, -1);
    }
    c.pos = topicPos;
    if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
    if (!c.stringStartsWith("orderbook.")) return this.reject(RejectReason.UnknownStream, -1);
    if (typePos < 0 || dataPos < 0) return this.reject(RejectReason.Malformed, -1);
    c.pos = typePos;
    if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
    let snapshot: boolean;
    if (c.stringIs("snapshot")) snapshot = true;
    else if (c.stringIs("delta")) snapshot = false;
    else return this.reject(RejectReason.Malformed, -1);
    c.pos = dataPos;
    if (!c.enterObject()) return this.reject(RejectReason.Malformed, -1);
    let bidsPos = -1, asksPos = -1, id = -1, haveSymbol = false, u = NaN;
    while (c.nextKey()) {
      if (c.keyIs("b")) {
        bidsPos = c.pos;
        c.skipValue();
      } else if (c.keyIs("a")) {
        asksPos = c.pos;
        c.skipValue();
      } else if (c.keyIs("s")) {
        if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
        id = c.stringIndex(this.symbols);
        haveSymbol = true;
      } else if (c.keyIs("u")) {
        if (!c.readInteger()) return this.reject(RejectReason.Malformed, -1);
        u = c.value;
      } else c.skipValue();
    }
    if (!haveSymbol || u !== u) return this.reject(RejectReason.Malformed, -1);
    if (id < 0) return this.reject(RejectReason.UnknownStream, -1);
    const r = this.readBook(asksPos, bidsPos, LevelShape.Array);
    if (r !== RejectReason.Ok) return this.reject(r, id);
    const book = this.books[id];
    if (snapshot || u === 1) {
      book.beginSnapshot();
    } else {
      if (this.inSync[id] === 0) return this.reject(RejectReason.BeforeSnapshot, id);
      if (u !== this.seq[id] + 1) return this.resync(RejectReason.SequenceGap, id);
    }
    this.applyBook(book);
    book.endSnapshot();
    this.inSync[id] = 1;
    this.seq[id] = u;
    this.updates[id] = snapshot ? 1 : this.updates[id] + 1;
    this.eventTime = ts;
    this.markChanged(id);
    return VenueSyncResult.Applied;
  }
}
