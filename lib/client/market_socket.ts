/**
 * The dashboard's live connection to `GET /ws` (protocol: `proto/market.proto`).
 * Runs in the browser (no `Deno` global) and in Deno, whose `WebSocket` is
 * the browser's.
 *
 * A `MarketSocket` follows one symbol at a time:
 * - connects with `?symbol=<symbol>` and binary frames;
 * - hands each `Hello` to `onHello` (its `history` REPLACES what the caller
 *   holds) and each in-order `Frame` of the symbol to `onFrame`;
 * - checks that frame seqs are consecutive: on a jump (frames conflated away
 *   by the server, or lost) it drops frames and sends `Resync`; the `Hello`
 *   that answers replaces the history. A reconnect always brings a new
 *   `Hello`; when its `epoch` differs from the last one the server restarted
 *   (`onHello` is told so);
 * - reconnects after any loss with exponential backoff and full jitter
 *   (default 0.5 s doubling to a 10 s cap), reporting
 *   `connecting | live | reconnecting | closed` with the retry time for a
 *   countdown;
 * - pings every `pingIntervalMs` and reconnects when nothing arrived for
 *   `staleAfterMs` (a connection can go silent without closing).
 *
 * @example
 * ```ts
 * import { MarketSocket } from "./market_socket.ts";
 * let mids: number[] = [];
 * const socket = new MarketSocket({
 *   url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
 *   symbol: "BTCUSDT",
 *   onHello: (hello) => {
 *     mids = hello.history.map((frame) => frame.mid); // replaces what we held
 *   },
 *   onFrame: (frame) => {
 *     mids.push(frame.mid);
 *   },
 *   onState: (s) => console.log(s.state, s.retryAt),
 * });
 * socket.subscribe("ETHUSDT"); // switch symbol
 * await socket.close();
 * ```
 * @module
 */

import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  ClientMessageSchema,
  type Frame,
  type Hello,
  type ServerError,
  type ServerMessage,
  ServerMessageSchema,
} from "../../proto/gen/market_pb.ts";
import { Backoff } from "../pipeline/backoff.ts";

/** Connection state of a {@link MarketSocket}. */
export type MarketSocketState = "connecting" | "live" | "reconnecting" | "closed";

/** What `onState` receives. */
export interface MarketSocketStatus {
  /** `connecting` (first attempt or a retry in progress), `live` (Hello received), `reconnecting` (waiting to retry), `closed` (by `close()`). */
  state: MarketSocketState;
  /** With `reconnecting`: epoch ms (`Date.now()` clock) of the next attempt, for a countdown; otherwise undefined. */
  retryAt?: number;
  /** Connection attempts that failed in a row (0 once live). */
  failures: number;
}

/** Why a `Hello` came and whether the server restarted. */
export interface HelloContext {
  /** `connect` (after (re)connecting), `resync` (after a gap), `switch` (after `subscribe`). */
  reason: "connect" | "resync" | "switch";
  /** The server's epoch differs from the one of the previous Hello (it restarted). */
  epochChanged: boolean;
}

/** Options of {@link MarketSocket}. */
export interface MarketSocketOptions {
  /** WebSocket URL of the feed, e.g. `ws://host/ws`; its `symbol` query parameter is set by the socket. Required. */
  url: string | URL;
  /** Symbol to follow (case-insensitive). Required. */
  symbol: string;
  /** A Hello for the followed symbol: replace the history with `hello.history`. */
  onHello?: (hello: Hello, info: HelloContext) => void;
  /** The next in-order frame of the followed symbol (read it before returning or copy what you keep). */
  onFrame?: (frame: Frame) => void;
  /** State changes. Called once at construction with `connecting`. */
  onState?: (status: MarketSocketStatus) => void;
  /** A `ServerError` (e.g. an unknown symbol). */
  onError?: (error: ServerError) => void;
  /** Upper bound of the first reconnect delay, ms. Default 500. */
  backoffBaseMs?: number;
  /** Cap of the reconnect delay bound, ms. Default 10000. */
  backoffCapMs?: number;
  /** Uniform random source in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
  /** Interval between Pings while connected, ms; 0 disables pings and the staleness check. Default 15000. */
  pingIntervalMs?: number;
  /** Reconnect when no message arrived for this long, ms (checked at each ping). Default 45000. */
  staleAfterMs?: number;
}

/**
 * A reconnecting, self-resyncing WebSocket to the depthwatch feed.
 *
 * @example
 * ```ts
 * import { MarketSocket } from "./market_socket.ts";
 * const s = new MarketSocket({ url: "ws://127.0.0.1:8000/ws", symbol: "btcusdt" });
 * s.symbol; // "BTCUSDT"
 * s.close();
 * ```
 */
export class MarketSocket {
  readonly #url: URL;
  readonly #options: MarketSocketOptions;
  readonly #backoff: Backoff;
  readonly #pingMs: number;
  readonly #staleMs: number;
  #symbol: string;
  #ws: WebSocket | null = null;
  #state: MarketSocketState = "connecting";
  #failures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #epoch = "";
  #lastSeq = 0;
  /** Frames are ignored until the next Hello of the followed symbol; why it is awaited. */
  #awaiting: HelloContext["reason"] | null = "connect";
  #lastMessageAt = 0;
  #nonce = 0;
  #gaps = 0;
  #resyncs = 0;
  #reconnects = 0;

  /**
   * Opens the connection (http: and https: URLs become ws: and wss:).
   *
   * @param options see {@link MarketSocketOptions}.
   * @throws TypeError when the URL is not ws:, wss:, http: or https:.
   */
  constructor(options: MarketSocketOptions) {
    const url = new URL(options.url);
    if (url.protocol === "http:") url.protocol = "ws:";
    if (url.protocol === "https:") url.protocol = "wss:";
    if (url.protocol !== "ws:" && url.protocol !== "wss:") {
      throw new TypeError(`MarketSocket: url must be ws: or wss:, got ${url.protocol}`);
    }
    this.#url = url;
    this.#options = options;
    this.#symbol = options.symbol.toUpperCase();
    this.#backoff = new Backoff({
      baseMs: options.backoffBaseMs ?? 500,
      capMs: options.backoffCapMs ?? 10_000,
      random: options.random,
    });
    this.#pingMs = options.pingIntervalMs ?? 15_000;
    this.#staleMs = options.staleAfterMs ?? 45_000;
    this.#emitState();
    this.#connect();
  }

  /** The followed symbol, upper-case. */
  get symbol(): string {
    return this.#symbol;
  }
  /** Current state. */
  get state(): MarketSocketState {
    return this.#state;
  }
  /** Epoch of the last Hello ("" before any). */
  get epoch(): string {
    return this.#epoch;
  }
  /** Seq of the last frame delivered (or of the last Hello). */
  get lastSeq(): number {
    return this.#lastSeq;
  }
  /** Seq jumps seen. */
  get gaps(): number {
    return this.#gaps;
  }
  /** Resync requests sent. */
  get resyncs(): number {
    return this.#resyncs;
  }
  /** Connections lost (each followed by a reconnect unless closed). */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Follow another symbol (case-insensitive); its Hello replaces the history. */
  subscribe(symbol: string): void {
    const next = symbol.toUpperCase();
    if (next === this.#symbol || this.#state === "closed") return;
    const previous = this.#symbol;
    this.#symbol = next;
    this.#awaiting = "switch";
    if (this.#ws?.readyState === WebSocket.OPEN) {
      this.#send({ case: "unsubscribe", value: { symbols: [previous] } });
      this.#send({ case: "subscribe", value: { symbols: [next] } });
    }
  }

  /**
   * Close for good: no reconnects, timers cleared, state `closed`. The promise
   * resolves once the underlying socket has closed (callers may ignore it).
   */
  close(): Promise<void> {
    if (this.#state === "closed") return Promise.resolve();
    this.#state = "closed";
    clearTimeout(this.#retryTimer);
    this.#stopPing();
    const ws = this.#ws;
    this.#ws = null;
    const done = ws ? this.#detach(ws, 1000) : Promise.resolve();
    this.#emitState();
    return done;
  }

  #connect(): void {
    this.#retryTimer = undefined;
    const url = new URL(this.#url);
    url.searchParams.set("symbol", this.#symbol);
    this.#awaiting = "connect";
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.#lost();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.onopen = () => {
      this.#lastMessageAt = Date.now();
      this.#startPing();
    };
    ws.onmessage = (event) => this.#onMessage(event.data);
    ws.onclose = () => {
      if (this.#ws === ws) this.#lost();
    };
  }

  #lost(): void {
    this.#ws = null;
    this.#stopPing();
    if (this.#state === "closed") return;
    this.#reconnects++;
    if (this.#state !== "live") this.#failures++;
    const delay = this.#backoff.next();
    this.#state = "reconnecting";
    this.#emitState(Date.now() + delay);
    this.#retryTimer = setTimeout(() => {
      if (this.#state === "closed") return;
      this.#state = "connecting";
      this.#emitState();
      this.#connect();
    }, delay);
  }

  #onMessage(data: unknown): void {
    this.#lastMessageAt = Date.now();
    if (!(data instanceof ArrayBuffer)) return; // the server sends binary only
    let message: ServerMessage;
    try {
      message = fromBinary(ServerMessageSchema, new Uint8Array(data));
    } catch {
      this.#resync(); // a garbled message: start again from a Hello
      return;
    }
    const kind = message.kind;
    switch (kind.case) {
      case "hello": {
        const hello = kind.value;
        if (hello.symbol !== this.#symbol) return; // a Hello of a symbol we left
        const reason = this.#awaiting ?? "resync";
        const epochChanged = this.#epoch !== "" && hello.epoch !== this.#epoch;
        this.#epoch = hello.epoch;
        this.#lastSeq = hello.seq;
        this.#awaiting = null;
        if (this.#state !== "live") {
          this.#state = "live";
          this.#failures = 0;
          this.#backoff.reset();
          this.#emitState();
        }
        this.#options.onHello?.(hello, { reason, epochChanged });
        return;
      }
      case "frame": {
        const frame = kind.value;
        if (frame.symbol !== this.#symbol || this.#awaiting !== null) return;
        if (frame.seq <= this.#lastSeq) return; // older than the Hello we hold
        if (frame.seq !== this.#lastSeq + 1) {
          this.#gaps++;
          this.#resync();
          return;
        }
        this.#lastSeq = frame.seq;
        this.#options.onFrame?.(frame);
        return;
      }
      case "error":
        this.#options.onError?.(kind.value);
        return;
      default:
        return; // heartbeat: liveness only
    }
  }

  #resync(): void {
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    this.#awaiting = "resync";
    this.#resyncs++;
    this.#send({ case: "resync", value: { symbol: this.#symbol } });
  }

  #send(kind: MessageInitShape<typeof ClientMessageSchema>["kind"]): void {
    const ws = this.#ws;
    if (ws?.readyState !== WebSocket.OPEN) return;
    ws.send(toBinary(ClientMessageSchema, create(ClientMessageSchema, { kind })));
  }

  #startPing(): void {
    if (this.#pingMs <= 0) return;
    this.#stopPing();
    this.#pingTimer = setInterval(() => {
      const ws = this.#ws;
      if (!ws) return;
      if (this.#staleMs > 0 && Date.now() - this.#lastMessageAt > this.#staleMs) {
        this.#ws = null;
        this.#detach(ws, 4000);
        this.#lost();
        return;
      }
      this.#nonce = (this.#nonce + 1) >>> 0;
      this.#send({ case: "ping", value: { nonce: this.#nonce } });
    }, this.#pingMs);
  }

  #stopPing(): void {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  /** Stop listening to `ws` and close it; resolves when it has closed. */
  #detach(ws: WebSocket, code: number): Promise<void> {
    ws.onmessage = null;
    ws.onopen = null;
    if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
    try {
      ws.close(code);
    } catch {
      // already closing
    }
    return closed;
  }

  #emitState(retryAt?: number): void {
    this.#options.onState?.({ state: this.#state, retryAt, failures: this.#failures });
  }
}
