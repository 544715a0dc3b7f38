/**
 * What every subscription-based venue of the simulated exchange (Bybit, OKX,
 * Kraken, Coinbase) does the same way: a client connects to the venue's path,
 * subscribes to a symbol's book by message, gets a snapshot of the venue's
 * depth-limited view ({@link BookWindow}) and then one update per frame that
 * changed the view; connection-level heartbeats; and the stream faults of
 * `sim_fault.ts` (stall, gap, truncated, checksum, reset, quiet; close and
 * garbage act on the connection set). A venue subclass only spells the
 * messages ({@link WindowedVenueFeed.snapshotText} and friends) and answers
 * the client's messages.
 *
 * A {@link VenueChannel} is one symbol at one depth: its view, its sequence
 * numbers and its subscribers. Its update text is encoded once per frame and
 * sent to every subscriber; a gap fault withholds it from all of them (the
 * sequence numbers still advance, so the next update shows the gap).
 *
 * A `stall` stops a symbol's data (snapshots, updates, keep-alives) while the
 * sequence numbers go on; connection-level heartbeats and pongs continue, as
 * on a venue whose matching engine stalls behind a live gateway.
 *
 * Counting (per symbol, per message sent): `framesSent`, `snapshotsSent`,
 * `updatesSent`, `keepAlivesSent`, `badChecksumsSent`, `resetsSent`; a
 * withheld update counts once in `gapEventsDropped`.
 *
 * @example
 * ```ts
 * import { WindowedVenueFeed } from "./venue_feed.ts";
 * function symbolsServed(feed: WindowedVenueFeed): number {
 *   return feed.books.length;
 * }
 * ```
 * @module
 */

import type { BookModel } from "../book_model.ts";
import { Connection, type ConnectionSet } from "../sim_connection.ts";
import type { SymbolFeed } from "../sim_frame_ticker.ts";
import type { SimCounters } from "../sim_stats.ts";
import type { StreamFaults } from "../sim_stream_faults.ts";
import { BookWindow } from "./book_window.ts";
import type { VenueSimSymbol } from "./venue_symbol.ts";

/**
 * One simulated book a venue feed serves.
 *
 * @example
 * ```ts
 * import { BookModel } from "../book_model.ts";
 * import { venueSimSymbol } from "./venue_symbol.ts";
 * const symbol = venueSimSymbol("okx:btc-usdt");
 * const served: VenueBook = { index: 0, symbol, book: new BookModel(symbol.spec) };
 * ```
 */
export interface VenueBook {
  /** Index of the symbol in the simulator's symbol list (stats, faults). */
  readonly index: number;
  /** The symbol. */
  readonly symbol: VenueSimSymbol;
  /** Its book. */
  readonly book: BookModel;
}

/**
 * The parts a venue feed works with.
 *
 * @example
 * ```ts
 * import { ConnectionSet } from "../sim_connection.ts";
 * import { SimCounters } from "../sim_stats.ts";
 * import { StreamFaults } from "../sim_stream_faults.ts";
 * const counters = new SimCounters([]);
 * const parts: VenueFeedParts = {
 *   books: [],
 *   connections: new ConnectionSet({ symbolCount: 0, counters }),
 *   counters,
 *   faults: new StreamFaults(0),
 * };
 * ```
 */
export interface VenueFeedParts {
  /** The books of this venue. */
  books: readonly VenueBook[];
  /** Where the venue's connections are kept (shared with the other venues). */
  connections: ConnectionSet;
  /** The simulator's counters. */
  counters: SimCounters;
  /** The pending stream faults. */
  faults: StreamFaults;
  /** Heartbeat period, ms (Kraken `heartbeat`, Coinbase `heartbeats`). Default 1000. */
  heartbeatMs?: number;
  /** Unchanged frames after which OKX sends an empty keep-alive update. Default 10. */
  keepAliveFrames?: number;
}

/**
 * One client connection of a venue.
 *
 * @example
 * ```ts
 * function subscribed(session: VenueSession): number {
 *   return session.channels.size;
 * }
 * ```
 */
export class VenueSession {
  /** The connection (in the shared connection set). */
  readonly conn: Connection;
  /** The connection id the venue reports (`conn_id`, `connId`, `connection_id`). */
  readonly id: string;
  /** The channels the client subscribed to. */
  readonly channels: Set<VenueChannel> = new Set();
  /** Messages sent so far (Coinbase's `sequence_num` of the next message). */
  sequence = 0;
  /** Whether the client asked for heartbeats (Coinbase's `heartbeats` channel). */
  heartbeats = false;
  /** Heartbeats sent on this connection. */
  heartbeatCount = 0;
  /** `performance.now()` of the last heartbeat (or of the open). */
  lastHeartbeatMs: number;

  /**
   * @param conn The connection.
   * @param id Its venue connection id.
   * @param nowMs `performance.now()` at open.
   */
  constructor(conn: Connection, id: string, nowMs: number) {
    this.conn = conn;
    this.id = id;
    this.lastHeartbeatMs = nowMs;
  }
}

/**
 * One symbol at one depth on one venue: the view, the sequence state and the
 * subscribers.
 *
 * @example
 * ```ts
 * function nextU(channel: VenueChannel): number {
 *   return channel.seq + 1; // Bybit: the next delta's u
 * }
 * ```
 */
export class VenueChannel {
  /** The served book. */
  readonly served: VenueBook;
  /** Levels per side of the view. */
  readonly depth: number;
  /** The depth-limited view. */
  readonly window: BookWindow;
  /** The subscribed sessions. */
  readonly subs: VenueSession[] = [];
  /** The venue's sequence number (Bybit `u`, OKX `seqId`); unused by Kraken and Coinbase. */
  seq: number;
  /** Frames in a row that did not change the view (OKX keep-alives). */
  quietFrames = 0;
  /** Sessions that subscribed during a stall: they get the snapshot at the first frame after it. */
  readonly awaitingSnapshot: VenueSession[] = [];

  /**
   * @param served The book.
   * @param depth Levels per side.
   * @param firstSeq Initial sequence number.
   */
  constructor(served: VenueBook, depth: number, firstSeq: number) {
    this.served = served;
    this.depth = depth;
    this.window = new BookWindow(served.book, depth);
    this.seq = firstSeq;
  }
}

/** What a frame sent on a channel, for the counters. */
const enum Sent {
  Nothing,
  Update,
  KeepAlive,
  ResetSnapshot,
  ResetUpdate,
}

/**
 * A subscription-based venue. See the module documentation.
 *
 * @example
 * ```ts
 * function serve(feed: WindowedVenueFeed, req: Request): Response {
 *   return feed.upgrade(req);
 * }
 * ```
 */
export abstract class WindowedVenueFeed implements SymbolFeed {
  /** The venue's books. */
  readonly books: readonly VenueBook[];
  /** Books by native symbol (upper case). */
  readonly byNative: ReadonlyMap<string, VenueBook>;
  protected readonly connections: ConnectionSet;
  protected readonly counters: SimCounters;
  protected readonly faults: StreamFaults;
  protected readonly heartbeatMs: number;
  protected readonly keepAliveFrames: number;
  /** Whether the channel's updates carry a checksum (the `checksum` fault applies to them). */
  protected abstract checksummed(ch: VenueChannel): boolean;
  readonly #channels = new Map<string, VenueChannel>();
  /** Channels by symbol index (sparse). */
  readonly #bySymbol: VenueChannel[][] = [];
  readonly #sessions = new Set<VenueSession>();
  #nextId = 1;

  /**
   * @param parts See {@link VenueFeedParts}.
   */
  constructor(parts: VenueFeedParts) {
    this.books = parts.books;
    this.byNative = new Map(parts.books.map((b) => [b.symbol.native, b]));
    this.connections = parts.connections;
    this.counters = parts.counters;
    this.faults = parts.faults;
    this.heartbeatMs = parts.heartbeatMs ?? 1000;
    this.keepAliveFrames = parts.keepAliveFrames ?? 10;
    for (const b of parts.books) this.#bySymbol[b.index] = [];
  }

  /** The snapshot message of a channel's view (sent on subscribe). */
  protected abstract snapshotText(ch: VenueChannel, eventTimeMs: number): string;
  /**
   * The update message of the view's last changes; advances the channel's
   * sequence numbers. With `badChecksum`, the checksum is computed over the
   * view with one size altered.
   */
  protected abstract updateText(
    ch: VenueChannel,
    eventTimeMs: number,
    badChecksum: boolean,
  ): string;
  /** The message a `reset` fault sends, and whether it is a snapshot. */
  protected abstract resetText(ch: VenueChannel, eventTimeMs: number): [string, boolean];
  /** Answers one client message. */
  protected abstract onMessage(session: VenueSession, text: string): void;
  /** The first sequence number of a new channel. */
  protected abstract firstSeq(served: VenueBook, depth: number): number;

  /** The empty keep-alive update after `keepAliveFrames` unchanged frames, or null (no keep-alives). */
  protected keepAliveText(_ch: VenueChannel, _eventTimeMs: number): string | null {
    return null;
  }

  /** The heartbeat message due on a session, or null if it gets none. */
  protected heartbeatText(_session: VenueSession, _nowMs: number): string | null {
    return null;
  }

  /** Sent when the socket opens (Kraken's `status`). */
  protected onOpen(_session: VenueSession): void {}

  /** The venue's notice before a `serverShutdown` fault closes the session, or null for none. */
  protected shutdownNotice(_session: VenueSession): string | null {
    return null;
  }

  /** The session's connection id as the venue spells it. */
  protected connectionId(n: number): string {
    return "sim" + n.toString(16).padStart(5, "0");
  }

  /**
   * Sends a message of the venue on a session (Coinbase stamps `sequence_num`).
   * `cut` sends only the first half (the `truncated` fault).
   */
  protected deliver(session: VenueSession, text: string, cut = false): void {
    this.connections.send(session.conn, cut ? text.slice(0, text.length >> 1) : text);
  }

  /**
   * A message of the venue withheld from a session (the `gap` fault): as if
   * lost on the way, so what numbers a connection's messages moves on
   * (Coinbase's `sequence_num`). Default: nothing.
   */
  protected lost(_session: VenueSession): void {}

  /** Counts an error answer and sends it. */
  protected reject(session: VenueSession, text: string): void {
    this.counters.clientErrors++;
    this.deliver(session, text);
  }

  /** Counts an acknowledgement and sends it. */
  protected ack(session: VenueSession, text: string): void {
    this.counters.acksSent++;
    this.deliver(session, text);
  }

  /** Counts a pong and sends it. */
  protected pong(session: VenueSession, text: string): void {
    this.counters.pongsSent++;
    this.deliver(session, text);
  }

  /**
   * Upgrades a request to a WebSocket of this venue.
   *
   * @returns The upgrade response, or 426 for a plain HTTP request.
   */
  upgrade(req: Request): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade request\n", { status: 426 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
    const conn = new Connection(socket, false);
    const session = new VenueSession(conn, this.connectionId(this.#nextId++), performance.now());
    conn.shutdownNotice = this.shutdownNotice(session);
    socket.onopen = () => {
      this.connections.attach(conn);
      if (!conn.open) return;
      this.#sessions.add(session);
      this.onOpen(session);
    };
    socket.onmessage = (e) => {
      if (!conn.open) return;
      this.onMessage(session, typeof e.data === "string" ? e.data : "");
    };
    const drop = () => {
      this.connections.detach(conn);
      this.#drop(session);
    };
    socket.onclose = drop;
    socket.onerror = drop;
    return response;
  }

  /**
   * Subscribes a session to a book at a depth and sends the snapshot.
   *
   * @returns The channel, or null if the session already had it.
   */
  protected subscribe(
    session: VenueSession,
    served: VenueBook,
    depth: number,
    sendSnapshot = true,
  ): VenueChannel | null {
    const key = served.index + ":" + depth;
    let ch = this.#channels.get(key);
    if (ch === undefined) {
      ch = new VenueChannel(served, depth, this.firstSeq(served, depth));
      this.#channels.set(key, ch);
      this.#bySymbol[served.index].push(ch);
    }
    if (session.channels.has(ch)) return null;
    if (ch.subs.length === 0) ch.window.refresh();
    ch.subs.push(session);
    session.channels.add(ch);
    session.conn.symbols.add(served.index);
    if (sendSnapshot) {
      const now = performance.now();
      if (this.faults.stallUntil[served.index] > now) {
        this.counters.framesStalled++;
        ch.awaitingSnapshot.push(session);
      } else {
        this.deliver(session, this.snapshotText(ch, performance.timeOrigin + now));
        this.counters.snapshotsSent[served.index]++;
        this.counters.framesSent[served.index]++;
      }
    }
    return ch;
  }

  /** The session's channel of a book at a depth, if subscribed. */
  protected channelOf(
    session: VenueSession,
    served: VenueBook,
    depth: number,
  ): VenueChannel | null {
    for (const ch of session.channels) if (ch.served === served && ch.depth === depth) return ch;
    return null;
  }

  /**
   * Unsubscribes a session from a book at a depth; nothing if it was not
   * subscribed.
   *
   * @returns Whether the session had that channel.
   */
  protected unsubscribe(session: VenueSession, served: VenueBook, depth: number): boolean {
    const ch = this.channelOf(session, served, depth);
    if (ch === null) return false;
    this.#leave(session, ch);
    return true;
  }

  /** Takes a session off a channel it is subscribed to. */
  #leave(session: VenueSession, ch: VenueChannel): void {
    const at = ch.subs.indexOf(session);
    if (at >= 0) ch.subs.splice(at, 1);
    const waiting = ch.awaitingSnapshot.indexOf(session);
    if (waiting >= 0) ch.awaitingSnapshot.splice(waiting, 1);
    session.channels.delete(ch);
    for (const other of session.channels) if (other.served === ch.served) return;
    session.conn.symbols.delete(ch.served.index);
  }

  #drop(session: VenueSession): void {
    if (!this.#sessions.delete(session)) return;
    for (const ch of [...session.channels]) this.#leave(session, ch);
  }

  /**
   * Sends the heartbeats due at `nowMs` (`performance.now()` time).
   */
  heartbeat(nowMs: number): void {
    for (const session of this.#sessions) {
      if (!session.conn.open || nowMs - session.lastHeartbeatMs < this.heartbeatMs) continue;
      const text = this.heartbeatText(session, nowMs);
      session.lastHeartbeatMs = nowMs;
      if (text === null) continue;
      session.heartbeatCount++;
      this.counters.heartbeatsSent++;
      this.deliver(session, text);
    }
  }

  /** Sends the frame just generated for symbol `i` to its subscribers (the frame ticker calls it). */
  emit(i: number, nowMs: number, eventTimeMs: number): void {
    const channels = this.#bySymbol[i];
    if (channels === undefined) return;
    const faults = this.faults, counters = this.counters;
    const stalled = faults.stallUntil[i] > nowMs;
    const reset = faults.resetPending[i] === 1;
    const cut = faults.truncatedPending[i] > 0;
    let withheld = false, badUsed = false, resetUsed = false, anySent = false;
    for (let c = 0; c < channels.length; c++) {
      const ch = channels[c];
      const n = ch.subs.length;
      if (n === 0) continue;
      const changed = ch.window.advance();
      let text: string | null = null;
      let sent = Sent.Nothing;
      let bad = false;
      if (reset) {
        const [t, isSnapshot] = this.resetText(ch, eventTimeMs);
        text = t;
        sent = isSnapshot ? Sent.ResetSnapshot : Sent.ResetUpdate;
        ch.quietFrames = 0;
      } else if (changed === 0) {
        if (this.keepAliveFrames > 0 && ++ch.quietFrames >= this.keepAliveFrames) {
          text = this.keepAliveText(ch, eventTimeMs);
          ch.quietFrames = 0;
          if (text !== null) sent = Sent.KeepAlive;
        }
      } else {
        ch.quietFrames = 0;
        const withhold = !stalled && faults.gapPending[i] > 0;
        bad = !withhold && !stalled && faults.checksumPending[i] > 0 && this.checksummed(ch);
        text = this.updateText(ch, eventTimeMs, bad);
        sent = Sent.Update;
        if (withhold) {
          withheld = true;
          for (let k = 0; k < n; k++) this.lost(ch.subs[k]);
          continue;
        }
      }
      if (stalled) {
        if (text !== null) counters.framesStalled += n;
        continue;
      }
      const waiting = ch.awaitingSnapshot.length;
      if (waiting > 0) {
        // Subscribed during a stall: the snapshot now, instead of this frame's message.
        const snapshot = this.snapshotText(ch, eventTimeMs);
        for (let k = 0; k < waiting; k++) this.deliver(ch.awaitingSnapshot[k], snapshot, cut);
        counters.snapshotsSent[i] += waiting;
        counters.framesSent[i] += waiting;
        anySent = true;
      }
      if (text === null) {
        ch.awaitingSnapshot.length = 0;
        continue;
      }
      let sentTo = 0;
      for (let k = 0; k < n; k++) {
        const s = ch.subs[k];
        if (waiting > 0 && ch.awaitingSnapshot.includes(s)) continue;
        this.deliver(s, text, cut);
        sentTo++;
      }
      ch.awaitingSnapshot.length = 0;
      const m = sentTo;
      if (m === 0) continue;
      anySent = true;
      counters.framesSent[i] += m;
      if (sent === Sent.ResetSnapshot) counters.snapshotsSent[i] += m;
      else counters.updatesSent[i] += m;
      if (sent === Sent.KeepAlive) counters.keepAlivesSent[i] += m;
      if (sent === Sent.ResetSnapshot || sent === Sent.ResetUpdate) {
        counters.resetsSent[i] += m;
        resetUsed = true;
      }
      if (bad) {
        counters.badChecksumsSent[i] += m;
        badUsed = true;
      }
    }
    if (withheld) {
      faults.gapPending[i]--;
      counters.gapEventsDropped[i]++;
    }
    if (badUsed) faults.checksumPending[i]--;
    if (resetUsed) faults.resetPending[i] = 0;
    if (cut && anySent) {
      faults.truncatedPending[i]--;
      counters.framesTruncated++;
    }
  }
}

/**
 * ISO-8601 time with microseconds, as Kraken and Coinbase write it
 * (`2024-10-03T02:46:57.050170Z`).
 *
 * @example
 * ```ts
 * isoMicros(0); // "1970-01-01T00:00:00.000000Z"
 * ```
 */
export function isoMicros(epochMs: number): string {
  const iso = new Date(Math.floor(epochMs)).toISOString();
  const micros = Math.floor((epochMs - Math.floor(epochMs)) * 1000);
  return iso.slice(0, 23) + String(micros).padStart(3, "0") + "Z";
}

/**
 * Parses a client message as a JSON object, or returns null.
 *
 * @example
 * ```ts
 * parseClientJson('{"op":"ping"}'); // { op: "ping" }
 * parseClientJson("ping"); // null
 * ```
 */
export function parseClientJson(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}
