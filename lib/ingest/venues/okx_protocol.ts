/**
 * OKX v5 public order books (`wss://ws.okx.com:8443/ws/v5/public`), channel
 * `books` (a 400-level snapshot, then incremental updates) or `books5` (a
 * full 5-level snapshot every push).
 *
 * Rules, checked against the recordings in `tests/testdata/exchanges/`:
 * - `books` data is `{"asks":[["px","sz","0","n"],..],"bids":[..],"ts":"..",
 *   "checksum":N,"prevSeqId":N,"seqId":N}` under `"action":"snapshot"` or
 *   `"update"`; an update needs `prevSeqId` equal to the symbol's last
 *   `seqId`, else the symbol resyncs (`sequence_gap`). An update with
 *   `seqId == prevSeqId` and no levels is a keep-alive (`Control`). The
 *   documented sequence reset (`seqId < prevSeqId`, `prevSeqId` still the
 *   last `seqId`) is accepted. Recordings older than the sequence fields
 *   rely on the checksum alone.
 * - The checksum (CRC32 of the top 25 levels, texts as received, signed) is
 *   checked on the book after applying; a mismatch resyncs the symbol
 *   (`checksum_mismatch`). `"checksum":0` or no checksum means none.
 * - `books5` (and `bbo-tbt`) messages have no `action`: each is a snapshot.
 * - `{"event":"subscribe"|"unsubscribe"|"notice",..}` and the text `pong` are
 *   `Control`; `{"event":"error",..}` is `VenueError`.
 * - Derivative sizes are contracts: {@link VenueSyncOptions.sizeMultiplier}
 *   (`ctVal`, learnt from OKX's REST API by `okx_instruments.ts`) converts the
 *   sizes written to the slot; the checksum uses the text as received.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OKX_PROTOCOL } from "./okx_protocol.ts";
 * import { VenueSyncResult } from "./venue_protocol.ts";
 * const sync = OKX_PROTOCOL.createSync({ symbols: ["BTC-USDT"] });
 * const snapshot = '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot",' +
 *   '"data":[{"asks":[["101","2","0","1"]],"bids":[["100","1","0","1"]],"ts":"1","checksum":0,' +
 *   '"prevSeqId":-1,"seqId":7}]}';
 * assert.equal(sync.handle(snapshot, Date.now()), VenueSyncResult.Applied);
 * assert.equal(sync.lastSeq(0), 7);
 * assert.equal(sync.handle("pong", Date.now()), VenueSyncResult.Control);
 * ```
 * @module
 */

import { RejectReason } from "../../pipeline/reject_reason.ts";
import type { VenueId } from "../../pipeline/venue_id.ts";
import { OKX_CHECKSUM_LEVELS } from "./book_checksum.ts";
import { type VenueProtocol, type VenueSyncOptions, VenueSyncResult } from "./venue_protocol.ts";
import { LevelShape, VenueSyncState } from "./venue_sync_state.ts";

/** The OKX order-book channels this protocol reads. */
export type OkxBookChannel = "books" | "books5";

/** Options of {@link OkxProtocol}. */
export interface OkxProtocolOptions {
  /** The channel subscribed. Default `"books"`. */
  channel?: OkxBookChannel;
  /** Keep-alive period, ms (OKX closes a connection silent for 30 s). Default 20 000. */
  pingEveryMs?: number;
}

/** Levels per side of an OKX `books` snapshot. */
export const OKX_BOOKS_DEPTH = 400;

/** The OKX v5 protocol (see the module docs). */
export class OkxProtocol implements VenueProtocol {
  /** `"okx"`. */
  readonly venue: VenueId = "okx";
  /** Most symbols per connection (OKX allows more; this bounds one connection's work). */
  readonly maxSymbolsPerConnection = 100;
  /** The text `ping`; the server answers `pong`. */
  readonly keepalive: { readonly text: string; readonly everyMs: number };
  /** The channel subscribed. */
  readonly channel: OkxBookChannel;

  /** @param options see {@link OkxProtocolOptions}. */
  constructor(options: OkxProtocolOptions = {}) {
    this.channel = options.channel ?? "books";
    if (this.channel !== "books" && this.channel !== "books5") {
      throw new RangeError(`OKX channel must be "books" or "books5", got "${this.channel}"`);
    }
    const every = options.pingEveryMs ?? 20_000;
    if (!(every > 0 && every < 30_000)) {
      throw new RangeError(
        `OKX pingEveryMs must be > 0 and < 30000 (the idle timeout), got ${every}`,
      );
    }
    this.keepalive = { text: "ping", everyMs: every };
  }

  /** The base URL itself: OKX subscribes by message. */
  connectUrl(baseUrl: string, _symbols: readonly string[]): string {
    return baseUrl;
  }

  /** One `subscribe` with an argument per symbol. */
  subscribe(symbols: readonly string[]): string[] {
    return [this.#op("subscribe", symbols)];
  }

  /** `unsubscribe` then `subscribe`: OKX then sends a fresh snapshot. */
  resubscribe(symbol: string): string[] {
    return [this.#op("unsubscribe", [symbol]), this.#op("subscribe", [symbol])];
  }

  #op(op: string, symbols: readonly string[]): string {
    return JSON.stringify({
      op,
      args: symbols.map((instId) => ({ channel: this.channel, instId })),
    });
  }

  /**
   * A sync whose books hold `bookCapacity` levels per side. Default: the
   * channel's depth (400 or 5): 34 KB a symbol (twice that was measured as
   * the largest part of a venue symbol's cost at 2,000 symbols). When one
   * message inserts before it deletes, the farthest level may go and come
   * back with a later update: only the far end of the 400, never the
   * checksum's top 25 or the analysed levels. `books` needs at least 25.
   */
  createSync(options: VenueSyncOptions): OkxSync {
    return new OkxSync(options, this.channel);
  }
}

/** The OKX v5 `books` protocol with default options. */
export const OKX_PROTOCOL: OkxProtocol = new OkxProtocol();

/**
 * The {@link VenueSync} of an OKX connection (made by
 * {@link OkxProtocol.createSync}).
 *
 * @example
 * ```ts
 * import { OkxSync } from "./okx_protocol.ts";
 * const sync = new OkxSync({ symbols: ["BTC-USDT-SWAP"], sizeMultiplier: [0.01] }, "books");
 * sync.synced(0); // false until a snapshot
 * ```
 */
export class OkxSync extends VenueSyncState {
  #snapshotOnly: boolean;

  /**
   * @param options see {@link VenueSyncOptions}.
   * @param channel the channel subscribed.
   */
  constructor(options: VenueSyncOptions, channel: OkxBookChannel) {
    const depth = channel === "books" ? OKX_BOOKS_DEPTH : 5;
    const capacity = options.bookCapacity ?? depth;
    if (channel === "books" && capacity < OKX_CHECKSUM_LEVELS) {
      throw new RangeError(
        `OKX books need a bookCapacity of at least ${OKX_CHECKSUM_LEVELS} (the checksum depth), got ${capacity}`,
      );
    }
    super(options, capacity);
    this.#snapshotOnly = channel === "books5";
  }

  /** See {@link VenueSync.handle}. */
  handle(text: string, _receivedAt: number): VenueSyncResult {
    this.begin();
    if (text === "pong") return VenueSyncResult.Control;
    const c = this.cursor;
    if (!c.begin(text) || !c.enterObject()) return this.reject(RejectReason.Malformed, -1);
    let eventPos = -1, argPos = -1, actionPos = -1, dataPos = -1;
    while (c.nextKey()) {
      if (c.keyIs("arg")) argPos = c.pos;
      else if (c.keyIs("data")) dataPos = c.pos;
      else if (c.keyIs("action")) actionPos = c.pos;
      else if (c.keyIs("event")) eventPos = c.pos;
      c.skipValue();
    }
    if (eventPos >= 0) {
      c.pos = eventPos;
      if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
      if (c.stringIs("error")) return this.venueError(text);
      return VenueSyncResult.Control;
    }
    if (argPos < 0 || dataPos < 0) return this.reject(RejectReason.Malformed, -1);
    // arg: channel and instId
    c.pos = argPos;
    if (!c.enterObject()) return this.reject(RejectReason.Malformed, -1);
    let id = -1, channelOk = false, snapshotChannel = false, haveInst = false;
    while (c.nextKey()) {
      if (c.keyIs("channel")) {
        if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
        if (c.stringIs("books") || c.stringIs("books-l2-tbt") || c.stringIs("books50-l2-tbt")) {
          channelOk = true;
        } else if (c.stringIs("books5") || c.stringIs("bbo-tbt")) {
          channelOk = true;
          snapshotChannel = true;
        }
      } else if (c.keyIs("instId")) {
        if (!c.readString()) return this.reject(RejectReason.Malformed, -1);
        id = c.stringIndex(this.symbols);
        haveInst = true;
      } else c.skipValue();
    }
    if (!haveInst) return this.reject(RejectReason.Malformed, -1);
    if (!channelOk || id < 0) return this.reject(RejectReason.UnknownStream, id);
    // action
    let snapshot = snapshotChannel || this.#snapshotOnly;
    if (actionPos >= 0) {
      c.pos = actionPos;
      if (!c.readString()) return this.reject(RejectReason.Malformed, id);
      if (c.stringIs("snapshot")) snapshot = true;
      else if (c.stringIs("update")) snapshot = false;
      else return this.reject(RejectReason.Malformed, id);
    } else if (!snapshot) return this.reject(RejectReason.Malformed, id);
    // data: one element per push; several are applied in order
    c.pos = dataPos;
    if (!c.enterArray()) return this.reject(RejectReason.Malformed, id);
    let result: VenueSyncResult = VenueSyncResult.Control;
    let items = 0;
    while (c.nextItem()) {
      const itemPos = c.pos;
      c.skipValue();
      const after = c.pos;
      result = this.#element(itemPos, id, snapshot);
      if (result !== VenueSyncResult.Applied && result !== VenueSyncResult.Control) return result;
      c.pos = after;
      items++;
    }
    if (items === 0) return this.reject(RejectReason.Malformed, id);
    if (this.changedCount > 0) return VenueSyncResult.Applied;
    this.symbolId = id;
    return result;
  }

  /** One element of `data`. */
  #element(pos: number, id: number, snapshot: boolean): VenueSyncResult {
    const c = this.cursor;
    c.pos = pos;
    if (!c.enterObject()) return this.reject(RejectReason.Malformed, id);
    let asksPos = -1, bidsPos = -1;
    let seqId = NaN, prevSeqId = NaN, checksum = 0, ts = NaN;
    while (c.nextKey()) {
      if (c.keyIs("asks")) {
        asksPos = c.pos;
        c.skipValue();
      } else if (c.keyIs("bids")) {
        bidsPos = c.pos;
        c.skipValue();
      } else if (c.keyIs("seqId")) {
        if (!c.readInteger()) return this.reject(RejectReason.Malformed, id);
        seqId = c.value;
      } else if (c.keyIs("prevSeqId")) {
        if (!c.readInteger()) return this.reject(RejectReason.Malformed, id);
        prevSeqId = c.value;
      } else if (c.keyIs("checksum")) {
        if (!c.readInteger()) return this.reject(RejectReason.Malformed, id);
        checksum = c.value;
      } else if (c.keyIs("ts")) {
        if (!c.readInteger()) return this.reject(RejectReason.Malformed, id);
        ts = c.value;
      } else c.skipValue();
    }
    // check pass: nothing changes until the whole element is known good
    const r = this.readBook(asksPos, bidsPos, LevelShape.Array);
    if (r !== RejectReason.Ok) return this.reject(r, id);
    const levels = this.levelCount;
    const book = this.books[id];
    if (snapshot) {
      book.beginSnapshot();
    } else {
      if (this.inSync[id] === 0) return this.reject(RejectReason.BeforeSnapshot, id);
      const last = this.seq[id];
      if (seqId === seqId && prevSeqId === prevSeqId && last === last) {
        if (prevSeqId !== last) return this.resync(RejectReason.SequenceGap, id);
        if (seqId === prevSeqId && levels === 0) {
          this.symbolId = id;
          return VenueSyncResult.Control;
        }
      }
    }
    this.applyBook(book);
    book.endSnapshot();
    if (checksum !== 0) {
      this.checksum.okx(book);
      if (this.checksum.value !== checksum) return this.resync(RejectReason.ChecksumMismatch, id);
    }
    this.inSync[id] = 1;
    this.seq[id] = seqId;
    this.updates[id] = snapshot ? 1 : this.updates[id] + 1;
    this.eventTime = ts;
    this.markChanged(id);
    return VenueSyncResult.Applied;
  }
}
