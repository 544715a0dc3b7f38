/**
 * The WebSocket fan-out of analytics frames to dashboards (`GET /ws`), speaking
 * the protocol of `proto/market.proto`.
 *
 * The hub listens to the {@link HistoryStore}: every stored frame gets the
 * symbol's next sequence number (1, 2, 3, … per symbol, per hub instance; the
 * instance is named by a random `epoch`), is encoded ONCE into shared bytes,
 * kept in a per-symbol ring of encoded frames (for Hellos) and sent as the same
 * bytes to every subscribed client.
 *
 * Backpressure, per client, from `socket.bufferedAmount`: while a client has
 * more than `maxBufferedBytes` queued it is "behind" and is sent nothing; the
 * hub keeps only the newest frame per symbol for it (each replaced frame is
 * counted in {@link WsHub.framesConflated}). When its queue drains below the
 * limit (checked on every frame and every `drainCheckMs`) it gets those newest
 * frames, each with `ServerMessage.conflated` = frames skipped, so its seq
 * jumps and it resyncs. A client behind for longer than `maxBehindMs` is
 * closed with 1013 (reason `slow`). A slow client never delays the others:
 * sending only queues bytes, and a behind client costs one reference per
 * symbol per frame.
 *
 * Client messages (binary `ClientMessage`s) are bounded: text frames close
 * with 1003, undecodable or empty messages with 1008 (`protocol`), messages
 * over `maxMessageBytes` with 1009 (`too_large`), more than
 * `maxMessagesPerSecond` (token bucket, bursts up to that many) with 1008
 * (`rate_limit`). Unknown symbols are answered with a `ServerError`.
 *
 * @example
 * ```ts
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { HistoryStore } from "./history_store.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const history = new HistoryStore({ symbols: 2, layout });
 * const hub = new WsHub({ history, symbols: ["BTCUSDT", "ETHUSDT"] });
 * Deno.serve((req) => new URL(req.url).pathname === "/ws" ? hub.upgrade(req) : new Response("hi"));
 * // later: hub.close("shutting down");
 * ```
 * @module
 */

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { FrameSlotLayout } from "../pipeline/frame_slot.ts";
import type { HistoryStore } from "./history_store.ts";
import { encodeFrame, encodeHello, wrapFrame } from "./frame_codec.ts";
import {
  type ClientMessage,
  ClientMessageSchema,
  ErrorCode,
  ServerMessageSchema,
} from "../../proto/gen/market_pb.ts";

/** Why a client connection ended. */
export type DisconnectReason =
  | "slow"
  | "error"
  | "client_close"
  | "protocol"
  | "rate_limit"
  | "too_large"
  | "shutdown";

/** Every {@link DisconnectReason}, in a fixed order (for metrics). */
export const DISCONNECT_REASONS: readonly DisconnectReason[] = [
  "slow",
  "error",
  "client_close",
  "protocol",
  "rate_limit",
  "too_large",
  "shutdown",
];

/** Why an upgrade request was refused before it became a WebSocket. */
export type UpgradeRejectReason = "not_websocket" | "origin" | "capacity" | "closed";

/** Close codes the hub sends (see `proto/market.proto`). */
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

/** Options of {@link WsHub}. */
export interface WsHubOptions {
  /** The main thread's frame history; the hub publishes every frame stored in it. Required. */
  history: HistoryStore;
  /** Upper-case symbol names, index = symbol id; as many as `history.symbols`. Required. */
  symbols: readonly string[];
  /** Frame layout. Default `history.layout` (must be the same object when given). */
  layout?: FrameSlotLayout;
  /** A client with more bytes than this queued is behind (conflated). Default 256 KiB (about 200 frames). */
  maxBufferedBytes?: number;
  /** A client behind for longer than this is closed as `slow`, ms. Default 5000. */
  maxBehindMs?: number;
  /** Connections over this are refused with 503. Default 1000. */
  maxClients?: number;
  /**
   * Origins accepted besides the request's own host (exact `scheme://host[:port]`
   * strings; `"*"` accepts any). Requests without an `Origin` header (non-browser
   * clients) are accepted. Default `[]`.
   */
  allowedOrigins?: readonly string[];
  /** Largest client message in bytes; larger closes with 1009. Default 4096. */
  maxMessageBytes?: number;
  /** Client messages allowed per second (bursts up to this many); more closes with 1008. Default 20. */
  maxMessagesPerSecond?: number;
  /** How often behind clients are checked for draining or timing out, ms. Default 50. */
  drainCheckMs?: number;
  /** Deno's idle timeout of each socket in seconds (ping/pong liveness). Default 120. */
  idleTimeoutSeconds?: number;
}

function positive(name: string, v: number, integer: boolean): number {
  if (!(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new RangeError(
      `WsHub: ${name} must be a positive ${integer ? "integer" : "number"}, got ${v}`,
    );
  }
  return v;
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

/** One connected client. */
class Client {
  readonly socket: WebSocket;
  /** Subscribed flag per symbol id. */
  readonly subscribed: Uint8Array;
  /** Newest unsent frame bytes per symbol while behind (null when none). */
  readonly pending: (Uint8Array | null)[];
  /** Frames dropped per symbol since the last one sent. */
  readonly dropped: Uint32Array;
  /** Time the client fell behind; 0 when it is not behind. */
  behindSince = 0;
  /** Set once the hub has stopped serving it; it is then counted. */
  gone = false;
  /** Token bucket for client messages. */
  tokens: number;
  refilledAt: number;

  constructor(socket: WebSocket, symbols: number, tokens: number) {
    this.socket = socket;
    this.subscribed = new Uint8Array(symbols);
    this.pending = new Array(symbols).fill(null);
    this.dropped = new Uint32Array(symbols);
    this.tokens = tokens;
    this.refilledAt = performance.now();
  }
}

/**
 * WebSocket hub: one per service.
 *
 * @example
 * ```ts
 * const hub = new WsHub({ history, symbols: ["BTCUSDT"], maxClients: 100 });
 * const response = hub.upgrade(request); // 101, or 403 / 426 / 503
 * hub.clients; // connected clients
 * ```
 */
export class WsHub {
  /** Random id of this hub instance, sent in every Hello. */
  readonly epoch: string;
  /** Upper-case symbols, index = symbol id. */
  readonly symbols: readonly string[];
  /** Frame layout. */
  readonly layout: FrameSlotLayout;
  readonly #history: HistoryStore;
  readonly #maxBuffered: number;
  readonly #maxBehindMs: number;
  readonly #maxClients: number;
  readonly #allowedOrigins: ReadonlySet<string>;
  readonly #anyOrigin: boolean;
  readonly #maxMessageBytes: number;
  readonly #rate: number;
  readonly #drainCheckMs: number;
  readonly #idleTimeout: number;
  readonly #index = new Map<string, number>();
  /** Current sequence number per symbol. */
  readonly #seq: Float64Array;
  /** Encoded frame bytes per symbol, ring of `history.depth`. */
  readonly #ring: (Uint8Array | null)[][];
  readonly #ringNext: Uint32Array;
  readonly #ringCount: Uint32Array;
  /** Encoded `Frame` bytes of the newest frame per symbol. */
  readonly #latest: (Uint8Array | null)[];
  /** Shared `ServerMessage` bytes of the newest frame per symbol (null until wrapped). */
  readonly #latestWrapped: (Uint8Array<ArrayBuffer> | null)[];
  readonly #clients = new Set<Client>();
  readonly #bySymbol: Set<Client>[];
  readonly #behind = new Set<Client>();
  readonly #disconnects: Record<DisconnectReason, number>;
  readonly #rejected: Record<UpgradeRejectReason, number> = {
    not_websocket: 0,
    origin: 0,
    capacity: 0,
    closed: 0,
  };
  readonly #unsubscribe: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #framesSent = 0;
  #framesConflated = 0;
  #errorsSent = 0;

  /** @throws RangeError when an option is out of range or the symbols do not match the history. */
  constructor(options: WsHubOptions) {
    const history = options.history;
    this.layout = options.layout ?? history.layout;
    if (this.layout !== history.layout) {
      throw new RangeError("WsHub: layout must be the history store's layout");
    }
    if (options.symbols.length !== history.symbols) {
      throw new RangeError(
        `WsHub: expected ${history.symbols} symbols (one per history symbol), got ${options.symbols.length}`,
      );
    }
    this.symbols = Object.freeze(options.symbols.map((s) => s.toUpperCase()));
    this.symbols.forEach((s, i) => {
      if (!s || this.#index.has(s)) {
        throw new RangeError(`WsHub: symbol names must be non-empty and unique, got "${s}"`);
      }
      this.#index.set(s, i);
    });
    this.#history = history;
    this.#maxBuffered = positive("maxBufferedBytes", options.maxBufferedBytes ?? 256 << 10, true);
    this.#maxBehindMs = positive("maxBehindMs", options.maxBehindMs ?? 5000, false);
    this.#maxClients = positive("maxClients", options.maxClients ?? 1000, true);
    this.#maxMessageBytes = positive("maxMessageBytes", options.maxMessageBytes ?? 4096, true);
    this.#rate = positive("maxMessagesPerSecond", options.maxMessagesPerSecond ?? 20, false);
    this.#drainCheckMs = positive("drainCheckMs", options.drainCheckMs ?? 50, false);
    this.#idleTimeout = positive("idleTimeoutSeconds", options.idleTimeoutSeconds ?? 120, true);
    const origins = options.allowedOrigins ?? [];
    this.#anyOrigin = origins.includes("*");
    this.#allowedOrigins = new Set(origins.map((o) => o.replace(/\/+$/, "").toLowerCase()));
    this.#disconnects = Object.fromEntries(DISCONNECT_REASONS.map((r) => [r, 0])) as Record<
      DisconnectReason,
      number
    >;
    this.epoch = crypto.randomUUID();
    const n = this.symbols.length;
    this.#seq = new Float64Array(n);
    this.#ring = [];
    this.#bySymbol = [];
    for (let s = 0; s < n; s++) {
      this.#ring.push(new Array(history.depth).fill(null));
      this.#bySymbol.push(new Set());
    }
    this.#ringNext = new Uint32Array(n);
    this.#ringCount = new Uint32Array(n);
    this.#latest = new Array(n).fill(null);
    this.#latestWrapped = new Array(n).fill(null);
    // Frames stored before the hub existed become seq 1..k of this epoch.
    for (let s = 0; s < n; s++) history.forEach(s, (f64, base) => this.#store(s, f64, base));
    this.#unsubscribe = history.subscribe((s, f64, base) => this.#publish(s, f64, base));
  }

  /** Connected clients. */
  get clients(): number {
    return this.#clients.size;
  }
  /** Frame messages sent (each to one client). */
  get framesSent(): number {
    return this.#framesSent;
  }
  /** Frames not sent to a behind client because a newer one of the same symbol replaced them. */
  get framesConflated(): number {
    return this.#framesConflated;
  }
  /** `ServerError` messages sent (unknown symbols, bad requests). */
  get errorsSent(): number {
    return this.#errorsSent;
  }
  /** Ended connections by reason (a snapshot). */
  get disconnects(): Readonly<Record<DisconnectReason, number>> {
    return { ...this.#disconnects };
  }
  /** Refused upgrade requests by reason (a snapshot). */
  get upgradesRejected(): Readonly<Record<UpgradeRejectReason, number>> {
    return { ...this.#rejected };
  }
  /** Clients currently behind (being conflated). */
  get clientsBehind(): number {
    return this.#behind.size;
  }
  /** The current sequence number of symbol `symbolId` (0 before its first frame). */
  seq(symbolId: number): number {
    return this.#seq[symbolId] ?? 0;
  }

  /**
   * Turn an HTTP request into a hub client. Answers 426 to a request that is
   * not a WebSocket upgrade, 403 to a foreign `Origin`, 503 when
   * `maxClients` are connected or the hub is closed; otherwise the 101
   * response of `Deno.upgradeWebSocket`. The query parameter `symbol`
   * (case-insensitive) picks the first subscription, default the first
   * symbol; an unknown one is answered with a `ServerError` and the default.
   */
  upgrade(req: Request): Response {
    if (this.#closed) {
      this.#rejected.closed++;
      return new Response("the WebSocket hub is shutting down\n", {
        status: 503,
        headers: { "retry-after": "5" },
      });
    }
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      this.#rejected.not_websocket++;
      return new Response(
        "this endpoint speaks WebSocket only: send a GET with 'Upgrade: websocket'\n",
        { status: 426, headers: { upgrade: "websocket" } },
      );
    }
    const origin = req.headers.get("origin");
    if (origin !== null && !this.#originAllowed(origin, req)) {
      this.#rejected.origin++;
      return new Response(
        `origin ${
          JSON.stringify(origin)
        } is not allowed: expected this server's own origin or one of --allowed-origins\n`,
        { status: 403 },
      );
    }
    if (this.#clients.size >= this.#maxClients) {
      this.#rejected.capacity++;
      return new Response(
        `too many WebSocket clients (the limit is ${this.#maxClients}); retry later\n`,
        { status: 503, headers: { "retry-after": "5" } },
      );
    }
    const requested = new URL(req.url).searchParams.get("symbol");
    const wanted = requested === null ? 0 : this.#index.get(requested.toUpperCase());
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: this.#idleTimeout });
    socket.binaryType = "arraybuffer";
    const client = new Client(socket, this.symbols.length, this.#rate);
    this.#clients.add(client);
    socket.onopen = () => {
      if (client.gone) return;
      const first = wanted ?? 0;
      client.subscribed[first] = 1;
      this.#bySymbol[first].add(client);
      this.#sendHello(client, first);
      if (wanted === undefined) {
        this.#sendError(
          client,
          ErrorCode.UNKNOWN_SYMBOL,
          `unknown symbol ${JSON.stringify(requested)} in the query; subscribed to ${
            this.symbols[0]
          } instead (expected one of ${this.symbols.join(", ")})`,
          requested ?? "",
        );
      }
    };
    socket.onmessage = (event) => this.#onMessage(client, event.data);
    socket.onerror = () => this.#drop(client, "error");
    socket.onclose = () => this.#drop(client, "client_close");
    return response;
  }

  /**
   * Stop publishing, close every client with 1001 and `reason`, and refuse
   * new upgrades with 503. Idempotent.
   */
  close(reason = "server shutting down"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.#stopTimer();
    for (const client of [...this.#clients]) {
      this.#disconnect(client, "shutdown", CLOSE_CODES.shutdown, reason);
    }
  }

  #originAllowed(origin: string, req: Request): boolean {
    if (this.#anyOrigin) return true;
    const normalized = origin.toLowerCase();
    if (this.#allowedOrigins.has(normalized)) return true;
    let host: string;
    try {
      host = new URL(normalized).host;
    } catch {
      return false; // "null" and other opaque origins
    }
    const own = (req.headers.get("host") ?? new URL(req.url).host).toLowerCase();
    return host === own;
  }

  /** Encode a frame, give it the next seq and keep it in the ring; returns its bytes. */
  #store(symbolId: number, f64: Float64Array, base: number): Uint8Array {
    const seq = ++this.#seq[symbolId];
    const bytes = encodeFrame(f64, base, this.layout, this.symbols[symbolId], seq, now());
    const ring = this.#ring[symbolId];
    ring[this.#ringNext[symbolId]] = bytes;
    this.#ringNext[symbolId] = (this.#ringNext[symbolId] + 1) % ring.length;
    if (this.#ringCount[symbolId] < ring.length) this.#ringCount[symbolId]++;
    this.#latest[symbolId] = bytes;
    this.#latestWrapped[symbolId] = null;
    return bytes;
  }

  #publish(symbolId: number, f64: Float64Array, base: number): void {
    const bytes = this.#store(symbolId, f64, base);
    const subscribers = this.#bySymbol[symbolId];
    if (subscribers.size === 0) return;
    const wrapped = wrapFrame(bytes);
    this.#latestWrapped[symbolId] = wrapped;
    for (const client of subscribers) {
      if (client.behindSince !== 0) this.#tryDrain(client);
      if (client.behindSince === 0 && client.socket.bufferedAmount <= this.#maxBuffered) {
        this.#send(client, wrapped);
        this.#framesSent++;
        continue;
      }
      // Behind: keep only the newest frame of this symbol.
      if (client.behindSince === 0) {
        client.behindSince = performance.now();
        this.#behind.add(client);
        this.#startTimer();
      }
      if (client.pending[symbolId] !== null) {
        client.dropped[symbolId]++;
        this.#framesConflated++;
      }
      client.pending[symbolId] = bytes;
    }
  }

  /** Send the pending frames of a behind client whose queue drained; close it if it stayed behind too long. */
  #tryDrain(client: Client): void {
    if (client.gone) return;
    if (client.socket.bufferedAmount > this.#maxBuffered) {
      if (performance.now() - client.behindSince > this.#maxBehindMs) {
        this.#disconnect(client, "slow", CLOSE_CODES.slow, "client read too slowly");
      }
      return;
    }
    client.behindSince = 0;
    this.#behind.delete(client);
    for (let s = 0; s < client.pending.length; s++) {
      const bytes = client.pending[s];
      if (bytes === null) continue;
      const dropped = client.dropped[s];
      client.pending[s] = null;
      client.dropped[s] = 0;
      const shared = this.#latestWrapped[s];
      const reuse = dropped === 0 && shared !== null && this.#latest[s] === bytes;
      this.#send(client, reuse ? shared : wrapFrame(bytes, dropped));
      this.#framesSent++;
    }
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      for (const client of [...this.#behind]) this.#tryDrain(client);
      if (this.#behind.size === 0) this.#stopTimer();
    }, this.#drainCheckMs);
  }

  #stopTimer(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #send(client: Client, bytes: Uint8Array<ArrayBuffer>): void {
    if (client.gone || client.socket.readyState !== WebSocket.OPEN) return;
    try {
      client.socket.send(bytes);
    } catch {
      this.#drop(client, "error");
    }
  }

  #sendHello(client: Client, symbolId: number): void {
    client.pending[symbolId] = null;
    client.dropped[symbolId] = 0;
    const subscribed: string[] = [];
    for (let s = 0; s < this.symbols.length; s++) {
      if (client.subscribed[s]) subscribed.push(this.symbols[s]);
    }
    this.#send(
      client,
      encodeHello({
        epoch: this.epoch,
        symbols: this.symbols,
        symbol: this.symbols[symbolId],
        seq: this.#seq[symbolId],
        serverTime: now(),
        subscribed,
        layout: this.layout,
      }, this.#historyOf(symbolId)),
    );
  }

  *#historyOf(symbolId: number): Generator<Uint8Array> {
    const ring = this.#ring[symbolId];
    const n = this.#ringCount[symbolId];
    const first = (this.#ringNext[symbolId] + ring.length - n) % ring.length;
    for (let k = 0; k < n; k++) {
      const bytes = ring[(first + k) % ring.length];
      if (bytes !== null) yield bytes;
    }
  }

  #sendError(client: Client, code: ErrorCode, message: string, symbol: string): void {
    this.#errorsSent++;
    this.#send(
      client,
      toBinary(
        ServerMessageSchema,
        create(ServerMessageSchema, {
          kind: { case: "error", value: { code, message, symbol } },
        }),
      ),
    );
  }

  #onMessage(client: Client, data: unknown): void {
    if (client.gone) return;
    if (typeof data === "string") {
      this.#disconnect(
        client,
        "protocol",
        CLOSE_CODES.unsupportedData,
        "text frames are not accepted: send binary ClientMessage protobuf",
      );
      return;
    }
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : data instanceof Uint8Array
      ? data
      : null;
    if (bytes === null) {
      this.#disconnect(client, "protocol", CLOSE_CODES.unsupportedData, "unexpected message type");
      return;
    }
    if (bytes.byteLength > this.#maxMessageBytes) {
      this.#disconnect(
        client,
        "too_large",
        CLOSE_CODES.tooLarge,
        `message of ${bytes.byteLength} bytes; at most ${this.#maxMessageBytes} accepted`,
      );
      return;
    }
    const t = performance.now();
    client.tokens = Math.min(
      this.#rate,
      client.tokens + (t - client.refilledAt) * this.#rate / 1000,
    );
    client.refilledAt = t;
    if (client.tokens < 1) {
      this.#disconnect(
        client,
        "rate_limit",
        CLOSE_CODES.policy,
        `more than ${this.#rate} messages per second`,
      );
      return;
    }
    client.tokens -= 1;
    let message: ClientMessage;
    try {
      message = fromBinary(ClientMessageSchema, bytes);
    } catch {
      this.#disconnect(
        client,
        "protocol",
        CLOSE_CODES.policy,
        "malformed message: expected a depthwatch.v1.ClientMessage",
      );
      return;
    }
    const kind = message.kind;
    switch (kind.case) {
      case "subscribe":
        for (const name of kind.value.symbols) {
          const s = this.#lookup(client, name);
          if (s === undefined || client.subscribed[s]) continue;
          client.subscribed[s] = 1;
          this.#bySymbol[s].add(client);
          this.#sendHello(client, s);
        }
        return;
      case "unsubscribe":
        for (const name of kind.value.symbols) {
          const s = this.#lookup(client, name);
          if (s === undefined) continue;
          client.subscribed[s] = 0;
          client.pending[s] = null;
          client.dropped[s] = 0;
          this.#bySymbol[s].delete(client);
        }
        return;
      case "resync": {
        const s = this.#lookup(client, kind.value.symbol);
        if (s === undefined) return;
        if (!client.subscribed[s]) {
          this.#sendError(
            client,
            ErrorCode.INVALID_REQUEST,
            `cannot resync ${this.symbols[s]}: not subscribed (send Subscribe first)`,
            kind.value.symbol,
          );
          return;
        }
        this.#sendHello(client, s);
        return;
      }
      case "ping":
        this.#send(
          client,
          toBinary(
            ServerMessageSchema,
            create(ServerMessageSchema, {
              kind: { case: "heartbeat", value: { serverTime: now(), nonce: kind.value.nonce } },
            }),
          ),
        );
        return;
      default:
        this.#disconnect(
          client,
          "protocol",
          CLOSE_CODES.policy,
          "empty message: expected one of subscribe, unsubscribe, resync, ping",
        );
    }
  }

  #lookup(client: Client, name: string): number | undefined {
    const s = this.#index.get(name.toUpperCase());
    if (s === undefined) {
      this.#sendError(
        client,
        ErrorCode.UNKNOWN_SYMBOL,
        `unknown symbol ${JSON.stringify(name)}: expected one of ${this.symbols.join(", ")}`,
        name,
      );
    }
    return s;
  }

  /** Stop serving a client, count why, and close its socket with `code`. */
  #disconnect(client: Client, reason: DisconnectReason, code: number, text: string): void {
    if (client.gone) return;
    this.#drop(client, reason);
    try {
      client.socket.close(code, text.slice(0, 120));
    } catch {
      // already closing or closed
    }
  }

  /** Forget a client and count its reason (once). */
  #drop(client: Client, reason: DisconnectReason): void {
    if (client.gone) return;
    client.gone = true;
    this.#disconnects[reason]++;
    this.#clients.delete(client);
    this.#behind.delete(client);
    for (const set of this.#bySymbol) set.delete(client);
    client.pending.fill(null);
    if (this.#behind.size === 0) this.#stopTimer();
  }
}
