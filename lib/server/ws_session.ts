/**
 * One dashboard's WebSocket connection to the hub (`ws_hub.ts`): the
 * per-client half of the protocol of `proto/market.proto`.
 *
 * A session owns the client's state (subscribed symbols, the frames held for
 * it while it is behind, its message budget) and its side of the protocol:
 * the first subscription from the `?symbol=` query, `Subscribe`,
 * `Unsubscribe`, `Resync` (each answered with a `Hello`), `Ping` (answered
 * with a `Heartbeat`) and `ServerError` replies. Every byte the server sends
 * to a client goes through {@link WsSession.send}.
 *
 * Client messages (binary `ClientMessage`s) are bounded: text frames close
 * with 1003, undecodable or empty messages with 1008 (`protocol`), messages
 * over `maxMessageBytes` with 1009 (`too_large`), more than
 * `maxMessagesPerSecond` (token bucket, bursts up to that many) with 1008
 * (`rate_limit`). Unknown symbols are answered with a `ServerError`.
 *
 * What is shared by all sessions (symbol names, subscriber sets, encoded
 * history, counters) stays with the hub, reached through a
 * {@link SessionHost}; `ws_hub.ts` is that host.
 *
 * @example
 * ```ts
 * import { WsSession, type SessionHost } from "./ws_session.ts";
 * declare const socket: WebSocket; // from Deno.upgradeWebSocket
 * declare const host: SessionHost; // the hub
 * const limits = { maxMessageBytes: 4096, maxMessagesPerSecond: 20 };
 * const session = new WsSession(socket, host, limits, "BTCUSDT");
 * session.gone; // false until the connection ends
 * ```
 * @module
 */

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
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
  /** Malformed message or too many messages per second. */
  policy: 1008,
  /** A message over `maxMessageBytes`. */
  tooLarge: 1009,
  /** The client read too slowly for longer than `maxBehindMs`. */
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
 *   ended: (session) => subscribers.forEach((set) => set.delete(session)),
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
  /** `session` ended (called once): forget it and count `reason`. */
  ended(session: WsSession, reason: DisconnectReason): void;
}

/**
 * Limits of one session's incoming messages (the hub validates them).
 *
 * @example
 * ```ts
 * import type { SessionLimits } from "./ws_session.ts";
 * const limits: SessionLimits = { maxMessageBytes: 4096, maxMessagesPerSecond: 20 };
 * ```
 */
export interface SessionLimits {
  /** Largest client message in bytes; larger closes with 1009. */
  maxMessageBytes: number;
  /** Client messages allowed per second (bursts up to this many); more closes with 1008. */
  maxMessagesPerSecond: number;
}

/**
 * One connected client: its state and its side of the protocol. Created by
 * the hub on upgrade; it wires the socket's events itself.
 *
 * @example
 * ```ts
 * import { CLOSE_CODES, type SessionHost, WsSession } from "./ws_session.ts";
 * declare const socket: WebSocket;
 * declare const host: SessionHost;
 * const limits = { maxMessageBytes: 4096, maxMessagesPerSecond: 20 };
 * const session = new WsSession(socket, host, limits, null);
 * session.close("shutdown", CLOSE_CODES.shutdown, "server shutting down");
 * session.gone; // true
 * ```
 */
export class WsSession {
  /** The client's socket. */
  readonly socket: WebSocket;
  /** Subscribed flag per symbol id. */
  readonly subscribed: Uint8Array;
  /** Fan-out state: newest unsent frame bytes per symbol while behind (null when none). */
  readonly pending: (Uint8Array | null)[];
  /** Fan-out state: frames dropped per symbol since the last one sent. */
  readonly dropped: Uint32Array;
  /** Fan-out state: time the client fell behind (`performance.now()`); 0 when it is not behind. */
  behindSince = 0;
  readonly #host: SessionHost;
  readonly #limits: SessionLimits;
  #gone = false;
  /** Token bucket for client messages. */
  #tokens: number;
  #refilledAt: number;

  /**
   * @param socket The upgraded socket (before it opens).
   * @param host The hub serving this session.
   * @param limits Bounds of the client's messages.
   * @param firstSymbol The `?symbol=` of the upgrade request (any case): the
   * first subscription once the socket opens; `null` means the first symbol.
   * An unknown one is answered with a `ServerError` and the first symbol.
   */
  constructor(
    socket: WebSocket,
    host: SessionHost,
    limits: SessionLimits,
    firstSymbol: string | null,
  ) {
    this.socket = socket;
    this.#host = host;
    this.#limits = limits;
    const n = host.symbols.length;
    this.subscribed = new Uint8Array(n);
    this.pending = new Array(n).fill(null);
    this.dropped = new Uint32Array(n);
    this.#tokens = limits.maxMessagesPerSecond;
    this.#refilledAt = performance.now();
    socket.binaryType = "arraybuffer";
    socket.onopen = () => this.#open(firstSymbol);
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onerror = () => this.#end("error");
    socket.onclose = () => this.#end("client_close");
  }

  /** Whether the server has stopped serving this client (its end is then counted). */
  get gone(): boolean {
    return this.#gone;
  }

  /**
   * Send bytes to the client: the one place the server writes to a client.
   * Nothing is sent once it is gone or not open; a failing send ends it as
   * `error`.
   */
  send(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.#gone || this.socket.readyState !== WebSocket.OPEN) return;
    try {
      this.socket.send(bytes);
    } catch {
      this.#end("error");
    }
  }

  /** Stop serving the client, count why, and close its socket with `code` and `text`. */
  close(reason: DisconnectReason, code: number, text: string): void {
    if (this.#gone) return;
    this.#end(reason);
    try {
      this.socket.close(code, text.slice(0, 120));
    } catch {
      // already closing or closed
    }
  }

  /** Forget the client and count its reason (once). */
  #end(reason: DisconnectReason): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#host.ended(this, reason);
    this.pending.fill(null);
  }

  #open(firstSymbol: string | null): void {
    if (this.#gone) return;
    const wanted = firstSymbol === null ? 0 : this.#host.symbolId(firstSymbol);
    this.#subscribe(wanted ?? 0);
    if (wanted === undefined) {
      const symbols = this.#host.symbols;
      this.#sendError(
        ErrorCode.UNKNOWN_SYMBOL,
        `unknown symbol ${JSON.stringify(firstSymbol)} in the query; subscribed to ${
          symbols[0]
        } instead (expected one of ${symbols.join(", ")})`,
        firstSymbol ?? "",
      );
    }
  }

  #onMessage(data: unknown): void {
    if (this.#gone) return;
    const message = this.#decode(data);
    if (message === null) return;
    const kind = message.kind;
    switch (kind.case) {
      case "subscribe":
        for (const name of kind.value.symbols) {
          const s = this.#lookup(name);
          if (s !== undefined && !this.subscribed[s]) this.#subscribe(s);
        }
        return;
      case "unsubscribe":
        for (const name of kind.value.symbols) {
          const s = this.#lookup(name);
          if (s !== undefined) this.#unsubscribe(s);
        }
        return;
      case "resync":
        this.#resync(kind.value.symbol);
        return;
      case "ping":
        this.#sendHeartbeat(kind.value.nonce);
        return;
      default:
        this.close(
          "protocol",
          CLOSE_CODES.policy,
          "empty message: expected one of subscribe, unsubscribe, resync, ping",
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
    if (!this.#takeToken()) {
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

  /** Refill the token bucket and take one token; false when it is empty. */
  #takeToken(): boolean {
    const rate = this.#limits.maxMessagesPerSecond;
    const t = performance.now();
    this.#tokens = Math.min(rate, this.#tokens + (t - this.#refilledAt) * rate / 1000);
    this.#refilledAt = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #subscribe(symbolId: number): void {
    this.subscribed[symbolId] = 1;
    this.#host.subscribe(this, symbolId);
    this.#sendHello(symbolId);
  }

  #unsubscribe(symbolId: number): void {
    this.subscribed[symbolId] = 0;
    this.pending[symbolId] = null;
    this.dropped[symbolId] = 0;
    this.#host.unsubscribe(this, symbolId);
  }

  #resync(name: string): void {
    const s = this.#lookup(name);
    if (s === undefined) return;
    if (!this.subscribed[s]) {
      this.#sendError(
        ErrorCode.INVALID_REQUEST,
        `cannot resync ${this.#host.symbols[s]}: not subscribed (send Subscribe first)`,
        name,
      );
      return;
    }
    this.#sendHello(s);
  }

  /** The id of `name`, or undefined after answering with an unknown-symbol error. */
  #lookup(name: string): number | undefined {
    const s = this.#host.symbolId(name);
    if (s === undefined) {
      this.#sendError(
        ErrorCode.UNKNOWN_SYMBOL,
        `unknown symbol ${JSON.stringify(name)}: expected one of ${this.#host.symbols.join(", ")}`,
        name,
      );
    }
    return s;
  }

  /** A Hello carries the newest frames, so nothing held back for the symbol is still owed. */
  #sendHello(symbolId: number): void {
    this.pending[symbolId] = null;
    this.dropped[symbolId] = 0;
    const symbols = this.#host.symbols;
    const subscribed: string[] = [];
    for (let s = 0; s < symbols.length; s++) {
      if (this.subscribed[s]) subscribed.push(symbols[s]);
    }
    this.send(this.#host.hello(symbolId, subscribed));
  }

  #sendError(code: ErrorCode, message: string, symbol: string): void {
    this.#host.errorSent();
    this.send(
      toBinary(
        ServerMessageSchema,
        create(ServerMessageSchema, { kind: { case: "error", value: { code, message, symbol } } }),
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
