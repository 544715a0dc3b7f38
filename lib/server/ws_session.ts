/**
 * One dashboard's WebSocket connection to the hub (`ws_hub.ts`): the
 * per-client half of the protocol of `proto/market.proto`.
 *
 * A session owns the client's state (subscribed symbols, the frames held for
 * it while it is behind, its message budget) and its side of the protocol:
 * the first subscription from the `?symbol=` query, `Subscribe`,
 * `Unsubscribe`, `Resync` (each answered with a `Hello`), `Ping` (answered
 * with a `Heartbeat`), `WatchSummary` and the `?summary=1` query (the market
 * summary on or off; without `?symbol=` a summary connection subscribes to no
 * symbol and its Hello names none) and `ServerError` replies. Every byte the server sends
 * to a client goes through {@link WsSession.send}.
 *
 * Client messages (binary `ClientMessage`s) are bounded: text frames close
 * with 1003, undecodable or empty messages with 1008 (`protocol`), messages
 * over `maxMessageBytes` with 1009 (`too_large`), more than
 * `maxMessagesPerSecond` (token bucket, bursts up to that many) with 1008
 * (`rate_limit`). A bad request (unknown symbols, a resync of a symbol not
 * subscribed) is answered with ONE `ServerError` naming what was wrong
 * (bounded in length, never one per item); more than `maxBadRequestsPerMinute`
 * (token bucket, bursts up to that many) closes with 1008 (`protocol`).
 *
 * Every reply counts against the client's send budget, whatever it is
 * subscribed to: a send that leaves more than `maxBufferedBytes` queued makes
 * the client "behind" (the hub then conflates its frames and closes it as
 * `slow` if it stays behind), and a client with more than
 * `hardMaxBufferedBytes` queued when a request arrives (or when anything is
 * sent outside a request) is closed at once with 1013 (`slow`). A Hello that
 * would go to a client already over its budget is owed instead (an
 * {@link OwedFrame} without a frame) and sent by the hub once the client has
 * drained, like a conflated frame: however many symbols one request names,
 * its replies cost at most the budget plus one Hello and one error.
 *
 * Inbound limits of the WebSocket layer itself (`lib/net/ws_frame_reader.ts`:
 * the message size checked from each frame header, fragments, UTF-8, masking)
 * and its idle timeout end the session too; their close codes map to
 * `too_large` (1009), `protocol` (1002, 1007, 1008) and `idle` (1001).
 *
 * What is shared by all sessions (symbol names, subscriber sets, encoded
 * history, counters) stays with the hub, reached through a
 * {@link SessionHost}; `ws_hub.ts` is that host.
 *
 * @example
 * ```ts
 * import { WsSession, type SessionHost } from "./ws_session.ts";
 * import type { ServerWebSocket } from "../net/ws_server_socket.ts";
 * declare const socket: ServerWebSocket; // from upgradeWebSocket (lib/net/ws_upgrade.ts)
 * declare const host: SessionHost; // the hub
 * const limits = {
 *   maxMessageBytes: 4096,
 *   maxMessagesPerSecond: 20,
 *   maxBadRequestsPerMinute: 10,
 *   maxBufferedBytes: 256 << 10,
 *   hardMaxBufferedBytes: 512 << 10,
 * };
 * const session = new WsSession(socket, host, limits, "BTCUSDT");
 * session.gone; // false until the connection ends
 * ```
 * @module
 */

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CLOSE } from "../net/ws_frame.ts";
import { ServerWebSocket, type ServerWebSocketCloseEvent } from "../net/ws_server_socket.ts";
import {
  type ClientMessage,
  ClientMessageSchema,
  ErrorCode,
  ServerMessageSchema,
} from "../../proto/gen/market_pb.ts";

/**
 * Why a client connection ended.
 *
 * @example
 * ```ts
 * import type { DisconnectReason } from "./ws_session.ts";
 * const reason: DisconnectReason = "slow";
 * ```
 */
export type DisconnectReason =
  | "slow"
  | "error"
  | "client_close"
  | "protocol"
  | "rate_limit"
  | "too_large"
  | "idle"
  | "shutdown";

/**
 * Every {@link DisconnectReason}, in a fixed order (for metrics).
 *
 * @example
 * ```ts
 * import { DISCONNECT_REASONS } from "./ws_session.ts";
 * DISCONNECT_REASONS.includes("slow"); // true
 * ```
 */
export const DISCONNECT_REASONS: readonly DisconnectReason[] = [
  "slow",
  "error",
  "client_close",
  "protocol",
  "rate_limit",
  "too_large",
  "idle",
  "shutdown",
];

/**
 * Close codes the server sends (see `proto/market.proto`).
 *
 * @example
 * ```ts
 * import { CLOSE_CODES } from "./ws_session.ts";
 * CLOSE_CODES.slow; // 1013
 * ```
 */
export const CLOSE_CODES = {
  /** The server is shutting down. */
  shutdown: 1001,
  /** A text frame: only binary protobuf is accepted. */
  unsupportedData: 1003,
  /** Malformed message, too many bad requests, or too many messages per second. */
  policy: 1008,
  /** A message over `maxMessageBytes`. */
  tooLarge: 1009,
  /** The client read too slowly for longer than `maxBehindMs`, or over the hard cap. */
  slow: 1013,
} as const;

/**
 * What a session needs from the hub that serves it.
 *
 * @example
 * ```ts
 * import type { SessionHost, WsSession } from "./ws_session.ts";
 * const subscribers = [new Set<WsSession>()];
 * const host: SessionHost = {
 *   symbols: ["BTCUSDT"],
 *   symbolId: (name) => name.toUpperCase() === "BTCUSDT" ? 0 : undefined,
 *   subscribe: (session, s) => void subscribers[s].add(session),
 *   unsubscribe: (session, s) => void subscribers[s].delete(session),
 *   hello: () => new Uint8Array(0),
 *   errorSent: () => {},
 *   behind: () => {},
 *   ended: (session) => subscribers.forEach((set) => set.delete(session)),
 *   watchSummary: () => {},
 *   summaryHello: () => new Uint8Array(0),
 * };
 * ```
 */
export interface SessionHost {
  /** Upper-case symbol names, index = symbol id. */
  readonly symbols: readonly string[];
  /** The id of a symbol name given in any case; `undefined` when there is no such symbol. */
  symbolId(name: string): number | undefined;
  /** Start sending `symbolId`'s frames to `session`. */
  subscribe(session: WsSession, symbolId: number): void;
  /** Stop sending `symbolId`'s frames to `session`. */
  unsubscribe(session: WsSession, symbolId: number): void;
  /** The encoded `ServerMessage` Hello of `symbolId` (with its history) listing `subscribed`. */
  hello(symbolId: number, subscribed: readonly string[]): Uint8Array<ArrayBuffer>;
  /** Count one `ServerError` sent. */
  errorSent(): void;
  /** `session` has more than its send budget queued: conflate its frames, close it if it stays so. */
  behind(session: WsSession): void;
  /** `session` ended (called once): forget it and count `reason`. */
  ended(session: WsSession, reason: DisconnectReason): void;
  /** Start (`true`) or stop sending the once-a-second market summary to `session`. */
  watchSummary(session: WsSession, enabled: boolean): void;
  /**
   * The encoded `ServerMessage` Hello of a connection that follows no
   * symbol (summary only): epoch and symbols, an empty `symbol`, no history.
   */
  summaryHello(): Uint8Array<ArrayBuffer>;
}

/**
 * Limits of one session: its incoming messages and its send budget (the hub
 * validates them).
 *
 * @example
 * ```ts
 * import type { SessionLimits } from "./ws_session.ts";
 * const limits: SessionLimits = {
 *   maxMessageBytes: 4096,
 *   maxMessagesPerSecond: 20,
 *   maxBadRequestsPerMinute: 10,
 *   maxBufferedBytes: 256 << 10,
 *   hardMaxBufferedBytes: 512 << 10,
 * };
 * ```
 */
export interface SessionLimits {
  /** Largest client message in bytes; larger closes with 1009. */
  maxMessageBytes: number;
  /** Client messages allowed per second (bursts up to this many); more closes with 1008 (`rate_limit`). */
  maxMessagesPerSecond: number;
  /** Bad requests allowed per minute (bursts up to this many); more closes with 1008 (`protocol`). */
  maxBadRequestsPerMinute: number;
  /** Send budget: a client with more bytes than this queued is behind. */
  maxBufferedBytes: number;
  /** Hard cap: a client with more bytes than this queued is closed as `slow` (1013). */
  hardMaxBufferedBytes: number;
}

/**
 * What a behind client is owed for one symbol (held in {@link WsSession.owed}
 * until it drains): the newest frame not sent and how many older ones it
 * replaced, or a Hello (no frame: a Hello carries the newest frames, so none
 * is held while it is owed).
 *
 * @example
 * ```ts
 * import type { OwedFrame } from "./ws_session.ts";
 * const frame: OwedFrame = { wire: new Uint8Array([0x82, 2, 0x12, 0]), dropped: 2 }; // seq jumps by 3
 * const hello: OwedFrame = { wire: null, dropped: 0 };
 * ```
 */
export interface OwedFrame {
  /**
   * The newest frame not sent, as the hub framed it for every subscriber
   * (the analytics worker's bytes, or `wireFrame` of
   * `lib/analytics/wire_encoder.ts`; shared, not a copy); null when a Hello
   * is owed.
   */
  wire: Uint8Array | null;
  /** Frames replaced by a newer one since the last sent (the `conflated` count); 0 for a Hello. */
  dropped: number;
}

/** Longest `ServerError` message in characters (longer ones are cut with "…"). */
const MAX_ERROR_CHARS = 400;

/** `names` quoted and joined, cut to a bounded length, with the count when any are left out. */
function listed(names: readonly string[]): string {
  let text = "";
  for (let i = 0; i < names.length; i++) {
    const next = JSON.stringify(names[i].slice(0, 40));
    if (text.length + next.length > MAX_ERROR_CHARS / 2) {
      return `${text} … (${names.length} in all)`;
    }
    text += i === 0 ? next : `, ${next}`;
  }
  return text;
}

/** A token bucket: `rate` tokens per `perMs`, holding at most `rate`. */
class TokenBucket {
  readonly #rate: number;
  readonly #perMs: number;
  #tokens: number;
  #refilledAt = performance.now();

  constructor(rate: number, perMs: number) {
    this.#rate = rate;
    this.#perMs = perMs;
    this.#tokens = rate;
  }

  /** Refill, then take one token; false when there is none. */
  take(): boolean {
    const t = performance.now();
    this.#tokens = Math.min(
      this.#rate,
      this.#tokens + (t - this.#refilledAt) * this.#rate / this.#perMs,
    );
    this.#refilledAt = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * One connected client: its state and its side of the protocol. Created by
 * the hub on upgrade; it wires the socket's events itself.
 *
 * @example
 * ```ts
 * import { CLOSE_CODES, type SessionHost, WsSession } from "./ws_session.ts";
 * import type { ServerWebSocket } from "../net/ws_server_socket.ts";
 * declare const socket: ServerWebSocket;
 * declare const host: SessionHost;
 * const limits = {
 *   maxMessageBytes: 4096,
 *   maxMessagesPerSecond: 20,
 *   maxBadRequestsPerMinute: 10,
 *   maxBufferedBytes: 256 << 10,
 *   hardMaxBufferedBytes: 512 << 10,
 * };
 * const session = new WsSession(socket, host, limits, null);
 * session.close("shutdown", CLOSE_CODES.shutdown, "server shutting down");
 * session.gone; // true
 * ```
 */
export class WsSession {
  /** The client's socket. */
  readonly socket: ServerWebSocket;
  /** Ids of the subscribed symbols, ascending (a few numbers, whatever the number of symbols). */
  readonly subscribed: number[] = [];
  /**
   * Fan-out state: what the client is owed per symbol id while it is behind
   * (made when it falls behind, dropped when it has drained), else null.
   */
  owed: Map<number, OwedFrame> | null = null;
  /** Fan-out state: time the client fell behind (`performance.now()`); 0 when it is not behind. */
  behindSince = 0;
  /** The client receives the once-a-second market summary. */
  summary = false;
  /**
   * Fan-out state: summaries not sent while the client was behind, the
   * newest of which it is owed (it gets the hub's newest when it drains;
   * `conflated` = this − 1). 0 when nothing is owed.
   */
  summariesOwed = 0;
  readonly #host: SessionHost;
  readonly #limits: SessionLimits;
  #gone = false;
  /** While a request is answered (its replies are sent whole). */
  #answering = false;
  readonly #messages: TokenBucket;
  readonly #badRequests: TokenBucket;

  /**
   * @param socket The upgraded socket (before it opens).
   * @param host The hub serving this session.
   * @param limits Bounds of the client's messages.
   * @param firstSymbol The `?symbol=` of the upgrade request (any case): the
   * first subscription once the socket opens; `null` means the first symbol.
   * An unknown one is answered with a `ServerError` and the first symbol.
   * @param summary The upgrade request asked for the market summary
   * (`?summary=1`): the session receives it, and without `firstSymbol` it
   * subscribes to no symbol (its Hello is the host's `summaryHello`).
   */
  constructor(
    socket: ServerWebSocket,
    host: SessionHost,
    limits: SessionLimits,
    firstSymbol: string | null,
    summary = false,
  ) {
    this.socket = socket;
    this.#host = host;
    this.#limits = limits;
    this.#messages = new TokenBucket(limits.maxMessagesPerSecond, 1000);
    this.#badRequests = new TokenBucket(limits.maxBadRequestsPerMinute, 60_000);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => this.#open(firstSymbol, summary);
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onerror = () => this.#end("error");
    socket.onclose = (event) => this.#end(closeReason(event));
  }

  /** Whether the server has stopped serving this client (its end is then counted). */
  get gone(): boolean {
    return this.#gone;
  }

  /**
   * Send bytes to the client: the one place the server writes to a client,
   * and the one budget check. Nothing is sent once it is gone or not open; a
   * failing send ends it as `error`. Outside a request, a client over the hard
   * cap is closed as `slow` instead; a send that leaves it over its budget
   * tells the hub it is behind.
   */
  send(bytes: Uint8Array<ArrayBuffer>): void {
    this.#write(bytes, false);
  }

  /**
   * Send a binary frame already encoded for the wire (`encodeFrame` of
   * `lib/net/ws_frame.ts`): the hub encodes each live frame once and queues
   * the same bytes to every subscriber. Same budget as {@link WsSession.send}.
   */
  sendFrame(frame: Uint8Array): void {
    this.#write(frame, true);
  }

  #write(bytes: Uint8Array, framed: boolean): void {
    if (this.#gone || this.socket.readyState !== ServerWebSocket.OPEN) return;
    if (!this.#answering && this.#overHardCap()) return;
    try {
      if (framed) this.socket.sendFrame(bytes);
      else this.socket.send(bytes);
    } catch {
      this.#end("error");
      return;
    }
    if (this.behindSince === 0 && this.socket.bufferedAmount > this.#limits.maxBufferedBytes) {
      this.#host.behind(this);
    }
  }

  /** Whether the client has more than the hard cap queued (then it is closed as `slow`). */
  #overHardCap(): boolean {
    const queued = this.socket.bufferedAmount;
    const cap = this.#limits.hardMaxBufferedBytes;
    if (queued <= cap) return false;
    this.close("slow", CLOSE_CODES.slow, `client read too slowly: ${queued} bytes queued`);
    return true;
  }

  /**
   * Stop serving the client, count why, and close its socket with `code` and
   * `text`. At shutdown what is queued is still delivered; any other reason
   * cuts the client off and frees its backlog at once.
   */
  close(reason: DisconnectReason, code: number, text: string): void {
    if (this.#gone) return;
    this.#end(reason);
    try {
      if (reason === "shutdown") this.socket.close(code, text);
      else this.socket.terminate(code, text);
    } catch {
      // already closing or closed
    }
  }

  /**
   * Send the Hello owed for `symbolId` (an {@link OwedFrame} without a
   * frame); the hub calls it when the client has drained below its budget.
   */
  sendOwedHello(symbolId: number): void {
    const held = this.owed?.get(symbolId);
    if (held === undefined || held.wire !== null) return;
    this.owed!.delete(symbolId);
    this.#answering = true;
    try {
      this.send(this.#host.hello(symbolId, this.#subscribedNames()));
    } finally {
      this.#answering = false;
    }
  }

  /** Forget the client and count its reason (once). */
  #end(reason: DisconnectReason): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#host.ended(this, reason);
    this.owed = null;
  }

  #open(firstSymbol: string | null, summary: boolean): void {
    if (this.#gone) return;
    if (summary) {
      this.#host.watchSummary(this, true);
      if (firstSymbol === null) {
        this.#answering = true;
        try {
          this.send(this.#host.summaryHello());
        } finally {
          this.#answering = false;
        }
        return;
      }
    }
    const wanted = firstSymbol === null ? 0 : this.#host.symbolId(firstSymbol);
    this.#answering = true;
    try {
      this.#subscribe(wanted ?? 0);
      if (wanted === undefined) {
        this.#badRequest(
          ErrorCode.UNKNOWN_SYMBOL,
          `unknown symbol ${listed([firstSymbol ?? ""])} in the query; subscribed to ${
            this.#host.symbols[0]
          } instead`,
          firstSymbol ?? "",
        );
      }
    } finally {
      this.#answering = false;
    }
  }

  #onMessage(data: unknown): void {
    if (this.#gone) return;
    const message = this.#decode(data);
    if (message === null || this.#overHardCap()) return;
    this.#answering = true;
    try {
      this.#answer(message);
    } finally {
      this.#answering = false;
    }
  }

  #answer(message: ClientMessage): void {
    const kind = message.kind;
    switch (kind.case) {
      case "subscribe": {
        const { ids, unknown } = this.#lookup(kind.value.symbols);
        for (const s of ids) if (!this.subscribed.includes(s)) this.#subscribe(s);
        this.#unknownSymbols(unknown);
        return;
      }
      case "unsubscribe": {
        const { ids, unknown } = this.#lookup(kind.value.symbols);
        for (const s of ids) this.#unsubscribe(s);
        this.#unknownSymbols(unknown);
        return;
      }
      case "resync":
        this.#resync(kind.value.symbol);
        return;
      case "ping":
        this.#sendHeartbeat(kind.value.nonce);
        return;
      case "watchSummary":
        this.#host.watchSummary(this, kind.value.enabled);
        return;
      default:
        this.close(
          "protocol",
          CLOSE_CODES.policy,
          "empty message: expected one of subscribe, unsubscribe, resync, ping, watchSummary",
        );
    }
  }

  /** The decoded message, or null after closing the connection for a message out of bounds. */
  #decode(data: unknown): ClientMessage | null {
    if (typeof data === "string") {
      this.close(
        "protocol",
        CLOSE_CODES.unsupportedData,
        "text frames are not accepted: send binary ClientMessage protobuf",
      );
      return null;
    }
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : data instanceof Uint8Array
      ? data
      : null;
    if (bytes === null) {
      this.close("protocol", CLOSE_CODES.unsupportedData, "unexpected message type");
      return null;
    }
    const max = this.#limits.maxMessageBytes;
    if (bytes.byteLength > max) {
      this.close(
        "too_large",
        CLOSE_CODES.tooLarge,
        `message of ${bytes.byteLength} bytes; at most ${max} accepted`,
      );
      return null;
    }
    if (!this.#messages.take()) {
      this.close(
        "rate_limit",
        CLOSE_CODES.policy,
        `more than ${this.#limits.maxMessagesPerSecond} messages per second`,
      );
      return null;
    }
    try {
      return fromBinary(ClientMessageSchema, bytes);
    } catch {
      this.close(
        "protocol",
        CLOSE_CODES.policy,
        "malformed message: expected a depthwatch.v1.ClientMessage",
      );
      return null;
    }
  }

  #subscribe(symbolId: number): void {
    if (this.#gone) return; // a failed send ended it: the hub has forgotten it
    const list = this.subscribed;
    if (!list.includes(symbolId)) {
      let at = list.length;
      while (at > 0 && list[at - 1] > symbolId) at--;
      list.splice(at, 0, symbolId);
    }
    this.#host.subscribe(this, symbolId);
    this.#sendHello(symbolId);
  }

  #unsubscribe(symbolId: number): void {
    const at = this.subscribed.indexOf(symbolId);
    if (at >= 0) this.subscribed.splice(at, 1);
    this.owed?.delete(symbolId);
    this.#host.unsubscribe(this, symbolId);
  }

  #resync(name: string): void {
    const { ids: [s], unknown } = this.#lookup([name]);
    if (s === undefined) return this.#unknownSymbols(unknown);
    if (!this.subscribed.includes(s)) {
      this.#badRequest(
        ErrorCode.INVALID_REQUEST,
        `cannot resync ${this.#host.symbols[s]}: not subscribed (send Subscribe first)`,
        name,
      );
      return;
    }
    this.#sendHello(s);
  }

  /** The ids of the known `names` and the unknown names. */
  #lookup(names: readonly string[]): { ids: number[]; unknown: string[] } {
    const ids: number[] = [];
    const unknown: string[] = [];
    for (const name of names) {
      const s = this.#host.symbolId(name);
      if (s === undefined) unknown.push(name);
      else ids.push(s);
    }
    return { ids, unknown };
  }

  /** Answer unknown symbols (if any) with ONE error naming them: the request was a bad one. */
  #unknownSymbols(unknown: readonly string[]): void {
    if (unknown.length > 0) {
      const symbols = this.#host.symbols;
      this.#badRequest(
        ErrorCode.UNKNOWN_SYMBOL,
        `unknown symbol${unknown.length === 1 ? "" : "s"} ${listed(unknown)}: expected one of ${
          listed(symbols)
        }`,
        unknown[0],
      );
    }
  }

  /**
   * Answer a bad request with one error, or close the client with 1008
   * (`protocol`) when it has sent more than `maxBadRequestsPerMinute`.
   */
  #badRequest(code: ErrorCode, message: string, symbol: string): void {
    if (!this.#badRequests.take()) {
      this.close(
        "protocol",
        CLOSE_CODES.policy,
        `more than ${this.#limits.maxBadRequestsPerMinute} bad requests per minute`,
      );
      return;
    }
    this.#sendError(code, message, symbol);
  }

  /**
   * A Hello carries the newest frames, so nothing held back for the symbol is
   * still owed. To a client over its send budget it is owed instead, and sent
   * when the client drains.
   */
  #sendHello(symbolId: number): void {
    if (this.behindSince !== 0 || this.socket.bufferedAmount > this.#limits.maxBufferedBytes) {
      const owed = this.owed ??= new Map();
      owed.set(symbolId, { wire: null, dropped: 0 });
      this.#host.behind(this);
      return;
    }
    this.owed?.delete(symbolId);
    this.send(this.#host.hello(symbolId, this.#subscribedNames()));
  }

  #subscribedNames(): string[] {
    const symbols = this.#host.symbols;
    return this.subscribed.map((s) => symbols[s]);
  }

  #sendError(code: ErrorCode, message: string, symbol: string): void {
    this.#host.errorSent();
    const value = {
      code,
      message: message.length > MAX_ERROR_CHARS
        ? `${message.slice(0, MAX_ERROR_CHARS - 1)}…`
        : message,
      symbol: symbol.slice(0, 40),
    };
    this.send(
      toBinary(
        ServerMessageSchema,
        create(ServerMessageSchema, { kind: { case: "error", value } }),
      ),
    );
  }

  #sendHeartbeat(nonce: number): void {
    const serverTime = performance.timeOrigin + performance.now();
    this.send(
      toBinary(
        ServerMessageSchema,
        create(ServerMessageSchema, { kind: { case: "heartbeat", value: { serverTime, nonce } } }),
      ),
    );
  }
}

/** The disconnect reason of a socket that closed by itself (not by the session). */
function closeReason(event: ServerWebSocketCloseEvent): DisconnectReason {
  if (event.wasClean) return "client_close";
  switch (event.code) {
    case CLOSE.messageTooBig:
      return "too_large";
    case CLOSE.protocolError:
    case CLOSE.invalidPayload:
    case CLOSE.policyViolation:
      return "protocol";
    case CLOSE.goingAway:
      return "idle";
    case CLOSE.abnormal:
      return "error";
    default:
      return "client_close";
  }
}
