/**
 * The venue interface: what the ingest runtime (`venue_ingest.ts`) needs of
 * one venue's protocol, so that every venue runs behind the same ingest
 * worker, raw ring and accounting as Binance spot.
 *
 * A venue is two objects:
 * - a {@link VenueProtocol}: connection facts (URL, subscribe and keep-alive
 *   messages, how to get a fresh snapshot of one symbol), stateless;
 * - a {@link VenueSync} made by it for a list of native symbols: parses each
 *   message (no `JSON.parse`, nothing allocated per message), checks the
 *   venue's sequence rule, applies it to the symbol's local book, verifies
 *   the venue's checksum, and answers with a {@link VenueSyncResult} code.
 *   It writes a symbol's top levels into a book slot on request.
 *
 * Binance spot and Binance USD-M are not behind this interface: both are
 * diff streams with REST snapshots and run in the `Ingestor` (`ingestor.ts`,
 * option `venue`).
 *
 * Symbol ids are the index of the native symbol in the list given to
 * {@link VenueProtocol.createSync}; the runtime maps them to the service's ids.
 *
 * @example
 * ```ts
 * import { type VenueProtocol, VenueSyncResult } from "./venue_protocol.ts";
 * declare const protocol: VenueProtocol;
 * const sync = protocol.createSync({ symbols: ["BTC-USDT"], bookCapacity: 400 });
 * const code = sync.handle('{"event":"subscribe"}', Date.now());
 * if (code === VenueSyncResult.Control) {
 *   // an ack, pong or heartbeat: nothing changed
 * }
 * ```
 * @module
 */

import type { VenueId } from "../../pipeline/venue_id.ts";
import type { BookSlotLayout } from "../../pipeline/book_slot.ts";

/** What {@link VenueSync.handle} did with one message. */
export const VenueSyncResult = {
  /** The book of {@link VenueSync.symbolId} changed (snapshot or delta applied, checksum good). */
  Applied: 0,
  /** A message that is not book data (ack, pong, heartbeat, status, empty keep-alive update). */
  Control: 1,
  /**
   * Rejected and the book untouched: {@link VenueSync.reason} says why
   * ({@link VenueSync.symbolId} is -1 when no symbol is known). Reasons:
   * `malformed` (not JSON, truncated, a missing field), `unknown_stream` (a
   * channel or symbol not subscribed here), `bad_price` / `bad_size` (a
   * level that is not a plain non-negative decimal), `before_snapshot` (an
   * update while the symbol waits for its snapshot, e.g. after a Resync).
   * A rejected update is lost: the venue's sequence or checksum shows it on
   * the next message (a Resync), so the runtime only counts it.
   */
  Rejected: 2,
  /**
   * Rejected and the symbol's book is no longer trusted (a sequence gap or a
   * checksum mismatch): {@link VenueSync.reason} says why; the book was
   * cleared and the runtime must get a fresh snapshot
   * ({@link VenueProtocol.resubscribe}; when that gives no message, by
   * reconnecting). `symbolId` -1 means every symbol of the connection (a
   * per-connection sequence, as Coinbase's `sequence_num`, broke): the
   * runtime reconnects. (On a connection of one symbol such a break is a
   * Resync of that symbol: its resubscribe is enough.)
   */
  Resync: 3,
  /** A venue error message ({@link VenueSync.errorText} holds it). */
  VenueError: 4,
} as const;

/** One of the {@link VenueSyncResult} values. */
export type VenueSyncResult = typeof VenueSyncResult[keyof typeof VenueSyncResult];

/** Options of {@link VenueProtocol.createSync}. */
export interface VenueSyncOptions {
  /** The native symbols (upper case, the venue's spelling); id = index. Required. */
  symbols: readonly string[];
  /**
   * Levels per side a symbol's local book holds (the farthest go when full).
   * Default: OKX the channel's depth (`books` 400), Bybit and Kraken twice
   * the subscribed depth (and never less), Coinbase 1000 (it sends every
   * level).
   */
  bookCapacity?: number;
  /**
   * Multiplier from the venue's size unit to base units, per symbol id
   * (OKX derivatives count contracts: `ctVal`). Default 1 for every symbol.
   */
  sizeMultiplier?: ArrayLike<number>;
}

/**
 * The protocol state of one venue connection's symbols (see the module docs).
 * Every method is synchronous and allocates nothing per message.
 */
export interface VenueSync {
  /** After {@link VenueSync.handle}: the symbol id the message was for, or -1. */
  readonly symbolId: number;
  /**
   * After an `Applied`: the ids whose books changed are
   * `changed[0 .. changedCount)` (usually one, the same as `symbolId`; a
   * venue that batches several symbols in one message lists each once).
   */
  readonly changed: Int32Array;
  /** See {@link VenueSync.changed}. */
  readonly changedCount: number;
  /** After a `Rejected` or `Resync`: the `RejectReason` code. */
  readonly reason: number;
  /** After a `VenueError`: the venue's whole message as received, for the log. */
  readonly errorText: string;
  /** After an `Applied`: the venue's event time of the message, epoch ms (NaN when none). */
  readonly eventTime: number;
  /**
   * Handle one text message (received at `receivedAt`, epoch ms) and return
   * a {@link VenueSyncResult}.
   */
  handle(text: string, receivedAt: number): VenueSyncResult;
  /** Whether a symbol's book is in sync (a snapshot applied and no gap since). */
  synced(symbolId: number): boolean;
  /** The venue's last sequence number of a symbol (NaN when the venue has none). */
  lastSeq(symbolId: number): number;
  /**
   * Write the symbol's top `layout.levels` levels per side into the slot at
   * word `at` of `f64` (counts, levels, `BOOK_LAST_UPDATE_ID` = the last
   * sequence number or an update counter; other header words untouched).
   */
  writeTop(symbolId: number, f64: Float64Array, at: number, layout: BookSlotLayout): void;
  /** Forget a symbol's book and sequence (a reconnect or resubscribe): it waits for a snapshot. */
  reset(symbolId: number): void;
  /** Forget every symbol (the connection was lost). */
  resetAll(): void;
}

/** Connection facts of one venue (see the module docs). */
export interface VenueProtocol {
  /** The venue. */
  readonly venue: VenueId;
  /** Most symbols one connection subscribes to. */
  readonly maxSymbolsPerConnection: number;
  /** Keep-alive the client must send, or undefined when the server pings. */
  readonly keepalive?: { readonly text: string; readonly everyMs: number };
  /**
   * The longest message the venue sends, in characters (a whole-book
   * snapshot); longer ones are ignored and counted. Undefined: the runtime's
   * default (1 MiB).
   */
  readonly maxMessageBytes?: number;
  /** The URL of a connection carrying these native symbols, from the base URL (production or simulated). */
  connectUrl(baseUrl: string, symbols: readonly string[]): string;
  /** Messages to send once connected (none when the URL subscribes). */
  subscribe(symbols: readonly string[]): string[];
  /** Messages that make the venue send one symbol a fresh snapshot (unsubscribe + subscribe); empty when it cannot. */
  resubscribe(symbol: string): string[];
  /** A {@link VenueSync} for one connection's symbols. */
  createSync(options: VenueSyncOptions): VenueSync;
}
