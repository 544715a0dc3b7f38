/**
 * The WebSocket fan-out of analytics frames to dashboards (`GET /ws`), speaking
 * the protocol of `proto/market.proto`.
 *
 * The hub listens to the {@link HistoryStore}: every stored frame gets the
 * symbol's next sequence number (1, 2, 3, … per symbol, per hub instance; the
 * instance is named by a random `epoch`). A frame of a symbol someone is
 * subscribed to is encoded ONCE, as a complete WebSocket frame, and that
 * buffer is queued to every subscriber; a frame nobody watches is not
 * encoded at all. The analytics worker encodes the frames of watched symbols
 * into the processed ring (`lib/pipeline/wire_slot.ts`); the hub takes those
 * bytes (`WorkerWire`: one copy, the seq and two times filled in) and
 * encodes a frame itself only when the worker did not (a symbol watched a
 * moment ago: the watch flags reach the worker up to ~250 ms late). The hub
 * keeps no history of its own: a Hello encodes the history store's frames on
 * demand (Hellos are rare), so the frame history is held once, in the store.
 *
 * Backpressure, per client, from `socket.bufferedAmount`: while a client has
 * more than `maxBufferedBytes` queued it is "behind" and is sent nothing; the
 * hub keeps only the newest frame per symbol for it (each replaced frame is
 * counted in {@link WsHub.framesConflated}). When its queue drains below the
 * limit (checked on every frame and every `drainCheckMs`) it gets those newest
 * frames, each with `ServerMessage.conflated` = frames skipped, so its seq
 * jumps and it resyncs. A client behind for longer than `maxBehindMs` is
 * closed with 1013 (reason `slow`). Every byte counts against that budget:
 * Hellos, errors and heartbeats too, so a client with no subscription that
 * stops reading is behind and closed as well; one over `hardMaxBufferedBytes`
 * is closed at once (see `ws_session.ts`). A slow client never delays the others:
 * sending only queues bytes, and a behind client costs one reference per
 * symbol per frame. Per-client conflation state exists only while the client
 * is behind (`WsSession.owed`, a map from symbol id to what is owed).
 *
 * The market summary (`market_summary.ts`, the overview page's one message
 * per second for every symbol) goes to the clients that asked for it
 * (`/ws?summary=1`, or `WatchSummary` later): {@link WsHub.publishSummary}
 * frames it once and queues the same bytes to each of them. A behind client
 * is owed only the newest summary (each one replaced is counted in
 * {@link WsHub.summariesConflated}) and gets it, with `conflated` = summaries
 * skipped, when it drains, after the frames it is owed.
 *
 * Each connection is a {@link WsSession} (`ws_session.ts`): the per-client
 * protocol (Subscribe, Unsubscribe, Resync, Ping, errors), its message limits,
 * and the one place where bytes are sent to a client. The hub serves the
 * sessions as their {@link SessionHost}. The sockets are depthwatch's own
 * (`lib/net/ws_upgrade.ts`): the message size is enforced from each frame
 * header while reading, and upgrades work only on requests served by
 * `serveHttp` (`lib/net/http_server.ts`).
 *
 * @example
 * ```ts
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { serveHttp } from "../net/http_server.ts";
 * import { HistoryStore } from "./history_store.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const history = new HistoryStore({ symbols: 2, layout });
 * const hub = new WsHub({ history, symbols: ["BTCUSDT", "ETHUSDT"] });
 * serveHttp({ hostname: "127.0.0.1", port: 0 }, (req) =>
 *   new URL(req.url).pathname === "/ws" ? hub.upgrade(req) : new Response("hi"));
 * // later: hub.close("shutting down");
 * ```
 * @module
 */

import { FRAME_DELIVERED_TIME, type FrameSlotLayout } from "../pipeline/frame_slot.ts";
import { encodeFrame, frameOfWire, wireFrame } from "../analytics/wire_encoder.ts";
import { upgradeWebSocket } from "../net/ws_upgrade.ts";
import { encodeFrame as encodeWsFrame, OPCODE } from "../net/ws_frame.ts";
import { withConflated } from "./market_summary.ts";
import type { HistoryStore } from "./history_store.ts";
import { encodeHello, wrapFrame } from "./frame_codec.ts";
import type { FrameWire } from "./worker_wire.ts";
import { MAX_SYMBOL_BYTES } from "../pipeline/wire_slot.ts";
import {
  CLOSE_CODES,
  DISCONNECT_REASONS,
  type DisconnectReason,
  type SessionHost,
  type SessionLimits,
  WsSession,
} from "./ws_session.ts";

const UTF8 = new TextEncoder();
/** Why an upgrade request was refused before it became a WebSocket. */
export type UpgradeRejectReason = "not_websocket" | "origin" | "capacity" | "closed";

/** Options of {@link WsHub}. */
export interface WsHubOptions {
  /** The main thread's frame history; the hub publishes every frame stored in it. Required. */
  history: HistoryStore;
  /** Upper-case symbol names, index = symbol id; as many as `history.symbols`. Required. */
  symbols: readonly string[];
  /** Frame layout. Default `history.layout` (must be the same object when given). */
  layout?: FrameSlotLayout;
  /**
   * The wire bytes of the frame being stored — the analytics worker's (a
   * `WorkerWire` staged by the `FrameConsumer`) or a bus frame's (a
   * `BusWire`): sent as they are when present, so the main thread encodes a
   * live frame only when there are none (e.g. its symbol was not watched
   * yet). Default none: every frame is encoded here.
   */
  wire?: FrameWire;
  /**
   * Send budget: a client with more bytes than this queued (frames, Hellos,
   * errors, heartbeats) is behind (conflated). Default 256 KiB (about 200 frames).
   */
  maxBufferedBytes?: number;
  /**
   * Hard cap: a client with more bytes than this queued when it sends a
   * request (or is sent anything else) is closed as `slow` at once. At least
   * `maxBufferedBytes`. Default 2 × `maxBufferedBytes`.
   */
  hardMaxBufferedBytes?: number;
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
  /**
   * Largest client message in bytes, summed over its fragments and refused
   * from the frame header before its payload is read: 1009. Default 4096.
   */
  maxMessageBytes?: number;
  /** Client messages allowed per second (bursts up to this many); more closes with 1008. Default 20. */
  maxMessagesPerSecond?: number;
  /**
   * Bad requests (answered with a `ServerError`) allowed per minute, bursts up
   * to this many; more closes with 1008 (`protocol`). Default 10.
   */
  maxBadRequestsPerMinute?: number;
  /** How often behind clients are checked for draining or timing out, ms. Default 50. */
  drainCheckMs?: number;
  /**
   * Liveness of each socket: a ping after half of this without a byte from
   * the client, closed (1001, reason `idle`) after all of it, ms. Default 120000.
   */
  idleTimeoutMs?: number;
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

/**
 * WebSocket hub: one per service.
 *
 * @example
 * ```ts
 * import type { HistoryStore } from "./history_store.ts";
 * declare const history: HistoryStore; // one symbol
 * declare const request: Request;
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
  /** {@link WsHub.symbols} in UTF-8, encoded once (the members' names of consolidated frames). */
  readonly #names: readonly Uint8Array[];
  /** Frame layout. */
  readonly layout: FrameSlotLayout;
  readonly #maxBuffered: number;
  readonly #maxBehindMs: number;
  readonly #maxClients: number;
  readonly #allowedOrigins: ReadonlySet<string>;
  readonly #anyOrigin: boolean;
  readonly #limits: SessionLimits;
  readonly #drainCheckMs: number;
  readonly #idleTimeoutMs: number;
  readonly #index = new Map<string, number>();
  /** Current sequence number per symbol. */
  readonly #seq: Float64Array;
  readonly #history: HistoryStore;
  readonly #wire: FrameWire | undefined;
  readonly #clients = new Set<WsSession>();
  readonly #bySymbol: Set<WsSession>[];
  readonly #behind = new Set<WsSession>();
  readonly #summaryClients = new Set<WsSession>();
  /** The newest summary (a `ServerMessage`) and its WebSocket frame, shared by every client. */
  #summary: Uint8Array | null = null;
  #summaryFrame: Uint8Array | null = null;
  #summariesSent = 0;
  #summaryBytesSent = 0;
  #summariesConflated = 0;
  readonly #disconnects: Record<DisconnectReason, number>;
  readonly #rejected: Record<UpgradeRejectReason, number> = {
    not_websocket: 0,
    origin: 0,
    capacity: 0,
    closed: 0,
  };
  /** What every session reaches of the hub. */
  readonly #host: SessionHost;
  readonly #unsubscribe: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #framesSent = 0;
  #framesConflated = 0;
  #framesEncoded = 0;
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
    this.#names = this.symbols.map((s) => UTF8.encode(s.slice(0, MAX_SYMBOL_BYTES)));
    this.symbols.forEach((s, i) => {
      if (!s || this.#index.has(s)) {
        throw new RangeError(`WsHub: symbol names must be non-empty and unique, got "${s}"`);
      }
      this.#index.set(s, i);
    });
    this.#maxBuffered = positive("maxBufferedBytes", options.maxBufferedBytes ?? 256 << 10, true);
    this.#maxBehindMs = positive("maxBehindMs", options.maxBehindMs ?? 5000, false);
    this.#maxClients = positive("maxClients", options.maxClients ?? 1000, true);
    const hardMax = positive(
      "hardMaxBufferedBytes",
      options.hardMaxBufferedBytes ?? 2 * this.#maxBuffered,
      true,
    );
    if (hardMax < this.#maxBuffered) {
      throw new RangeError(
        `WsHub: hardMaxBufferedBytes must be at least maxBufferedBytes (${this.#maxBuffered}), got ${hardMax}`,
      );
    }
    this.#limits = {
      maxBufferedBytes: this.#maxBuffered,
      hardMaxBufferedBytes: hardMax,
      maxBadRequestsPerMinute: positive(
        "maxBadRequestsPerMinute",
        options.maxBadRequestsPerMinute ?? 10,
        false,
      ),
      maxMessageBytes: positive("maxMessageBytes", options.maxMessageBytes ?? 4096, true),
      maxMessagesPerSecond: positive(
        "maxMessagesPerSecond",
        options.maxMessagesPerSecond ?? 20,
        false,
      ),
    };
    this.#drainCheckMs = positive("drainCheckMs", options.drainCheckMs ?? 50, false);
    this.#idleTimeoutMs = positive("idleTimeoutMs", options.idleTimeoutMs ?? 120_000, true);
    const origins = options.allowedOrigins ?? [];
    this.#anyOrigin = origins.includes("*");
    this.#allowedOrigins = new Set(origins.map((o) => o.replace(/\/+$/, "").toLowerCase()));
    this.#disconnects = Object.fromEntries(DISCONNECT_REASONS.map((r) => [r, 0])) as Record<
      DisconnectReason,
      number
    >;
    this.epoch = crypto.randomUUID();
    const n = this.symbols.length;
    this.#history = history;
    this.#wire = options.wire;
    this.#seq = new Float64Array(n);
    this.#bySymbol = [];
    for (let s = 0; s < n; s++) this.#bySymbol.push(new Set());
    this.#host = {
      symbols: this.symbols,
      symbolId: (name) => this.#index.get(name.toUpperCase()),
      subscribe: (session, s) => this.#bySymbol[s].add(session),
      unsubscribe: (session, s) => this.#bySymbol[s].delete(session),
      hello: (s, subscribed) => this.#hello(s, subscribed),
      errorSent: () => this.#errorsSent++,
      behind: (session) => this.#markBehind(session),
      ended: (session, reason) => this.#forget(session, reason),
      watchSummary: (session, enabled) => this.#watchSummary(session, enabled),
      summaryHello: () => this.#summaryHello(),
    };
    // Frames stored before the hub existed become seq 1..k of this epoch.
    for (let s = 0; s < n; s++) this.#seq[s] = history.size(s);
    this.#unsubscribe = history.subscribe((s, f64, base, storedAt) =>
      this.#publish(s, f64, base, storedAt)
    );
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
  /**
   * Live frames the main thread encoded itself because the analytics worker
   * had not (their symbol had just become watched, or no `wire` was given).
   */
  get framesEncoded(): number {
    return this.#framesEncoded;
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
  /** Clients that receive the market summary. */
  get summaryClients(): number {
    return this.#summaryClients.size;
  }
  /** Market summaries sent (each to one client). */
  get summariesSent(): number {
    return this.#summariesSent;
  }
  /** Bytes of the market summaries sent (WebSocket frames, summed over clients). */
  get summaryBytesSent(): number {
    return this.#summaryBytesSent;
  }
  /** Summaries not sent to a behind client because a newer one replaced them. */
  get summariesConflated(): number {
    return this.#summariesConflated;
  }
  /** Clients currently behind (being conflated). */
  get clientsBehind(): number {
    return this.#behind.size;
  }
  /** Clients subscribed to symbol `symbolId` (0 for an unknown id). */
  subscribers(symbolId: number): number {
    return this.#bySymbol[symbolId]?.size ?? 0;
  }
  /** The current sequence number of symbol `symbolId` (0 before its first frame). */
  seq(symbolId: number): number {
    return this.#seq[symbolId] ?? 0;
  }

  /**
   * Skip one sequence number of symbol `symbolId`: its next frame's seq is
   * two more than the last one sent, so every client of the symbol sees a gap
   * and resyncs (a new Hello with the history). For a book that started over
   * elsewhere (a new epoch of its partition on a NATS bus); an unknown id is
   * ignored.
   */
  skipSeq(symbolId: number): void {
    if (symbolId >= 0 && symbolId < this.#seq.length) this.#seq[symbolId]++;
  }

  /**
   * Turn an HTTP request into a hub client. Answers 426 to a request that is
   * not a WebSocket upgrade, 403 to a foreign `Origin`, 503 when
   * `maxClients` are connected or the hub is closed; otherwise the 101
   * response of `upgradeWebSocket` (`lib/net/ws_upgrade.ts`), which works
   * only for requests served by `serveHttp`. The query parameter `symbol`
   * (case-insensitive) picks the first subscription, default the first
   * symbol; an unknown one is answered with a `ServerError` and the default.
   * `summary=1` (or `true`) asks for the market summary; then, without
   * `symbol`, the client follows no symbol (see `proto/market.proto`).
   */
  upgrade(req: Request): Response {
    const refusal = this.#refusal(req);
    if (refusal !== null) return refusal;
    const { socket, response } = upgradeWebSocket(req, {
      maxMessageBytes: this.#limits.maxMessageBytes,
      idleTimeoutMs: this.#idleTimeoutMs,
    });
    const query = new URL(req.url).searchParams;
    const summary = query.get("summary");
    this.#clients.add(
      new WsSession(
        socket,
        this.#host,
        this.#limits,
        query.get("symbol"),
        summary === "1" || summary === "true",
      ),
    );
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
      client.close("shutdown", CLOSE_CODES.shutdown, reason);
    }
  }

  /** The answer to an upgrade request that is refused (counted), or null to accept it. */
  #refusal(req: Request): Response | null {
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
    return null;
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

  /**
   * Give a stored frame the next seq; when anyone is subscribed to its symbol,
   * take its wire bytes (sent time = when it was stored, as its history copy
   * keeps) — the worker's, or encoded here when the worker sent none — and
   * queue the same bytes to every subscriber, or hold them for a behind one.
   */
  #publish(symbolId: number, f64: Float64Array, base: number, storedAt: number): void {
    const seq = ++this.#seq[symbolId];
    const subscribers = this.#bySymbol[symbolId];
    if (subscribers.size === 0) return;
    const wire = this.#wire?.take(symbolId, seq, f64[base + FRAME_DELIVERED_TIME], storedAt) ??
      this.#encode(symbolId, f64, base, seq, storedAt);
    for (const client of subscribers) {
      if (client.behindSince !== 0) this.#tryDrain(client);
      if (client.behindSince === 0 && client.socket.bufferedAmount <= this.#maxBuffered) {
        client.sendFrame(wire);
        this.#framesSent++;
        continue;
      }
      // Behind: keep only the newest frame of this symbol (none while its Hello is owed:
      // the Hello will carry it).
      this.#markBehind(client);
      if (client.gone) continue;
      const owed = client.owed ??= new Map();
      const held = owed.get(symbolId);
      if (held === undefined) {
        owed.set(symbolId, { wire, dropped: 0 });
      } else if (held.wire !== null) {
        held.dropped++;
        this.#framesConflated++;
        held.wire = wire;
      }
    }
  }

  /**
   * Send `summary` (the bytes of a `ServerMessage { summary }`, from
   * `MarketSummaryBuilder.build`) to every client that asked for it: framed
   * once, the same bytes queued to each; a behind client is owed it instead
   * (replacing an older one it was owed, counted).
   */
  publishSummary(summary: Uint8Array): void {
    if (this.#closed) return;
    this.#summary = summary;
    const frame = this.#summaryFrame = encodeWsFrame(OPCODE.binary, summary);
    for (const client of this.#summaryClients) {
      if (client.summariesOwed > 0) {
        // This one replaces the one it was owed; sent now if it has drained.
        client.summariesOwed++;
        this.#summariesConflated++;
        if (client.behindSince !== 0) this.#tryDrain(client);
        else this.#sendOwedSummary(client);
        continue;
      }
      if (client.behindSince !== 0) this.#tryDrain(client);
      if (client.behindSince === 0 && client.socket.bufferedAmount <= this.#maxBuffered) {
        this.#sendSummary(client, frame, frame.length);
        continue;
      }
      this.#markBehind(client);
      if (!client.gone) client.summariesOwed = 1;
    }
  }

  #sendSummary(client: WsSession, bytes: Uint8Array, length: number): void {
    client.sendFrame(bytes);
    this.#summariesSent++;
    this.#summaryBytesSent += length;
  }

  /** Send a drained client the newest summary it is owed (with the count skipped). */
  #sendOwedSummary(client: WsSession): void {
    const owed = client.summariesOwed;
    if (owed === 0 || client.gone || this.#summary === null) return;
    if (client.socket.bufferedAmount > this.#maxBuffered) {
      this.#markBehind(client);
      return;
    }
    client.summariesOwed = 0;
    if (owed === 1) {
      this.#sendSummary(client, this.#summaryFrame!, this.#summaryFrame!.length);
      return;
    }
    const frame = encodeWsFrame(OPCODE.binary, withConflated(this.#summary, owed - 1));
    this.#sendSummary(client, frame, frame.length);
  }

  #watchSummary(client: WsSession, enabled: boolean): void {
    client.summary = enabled;
    if (enabled) {
      this.#summaryClients.add(client);
    } else {
      this.#summaryClients.delete(client);
      client.summariesOwed = 0;
    }
  }

  /** The Hello of a summary-only connection: epoch and symbols, no symbol, no history. */
  #summaryHello(): Uint8Array<ArrayBuffer> {
    return encodeHello({
      epoch: this.epoch,
      symbols: this.symbols,
      symbol: "",
      seq: 0,
      serverTime: now(),
      subscribed: [],
      layout: this.layout,
    }, []);
  }

  /** The wire bytes of a live frame, encoded on this thread (counted). */
  #encode(
    symbolId: number,
    f64: Float64Array,
    base: number,
    seq: number,
    storedAt: number,
  ): Uint8Array<ArrayBuffer> {
    this.#framesEncoded++;
    return wireFrame(
      encodeFrame(f64, base, this.layout, this.symbols[symbolId], seq, storedAt, this.#names),
    );
  }

  /** Count `client` as behind from now (unless it is already): the timer checks it from then on. */
  #markBehind(client: WsSession): void {
    if (client.behindSince !== 0 || client.gone) return;
    client.behindSince = performance.now();
    this.#behind.add(client);
    this.#startTimer();
  }

  /**
   * Send what a behind client is owed (Hellos, the newest frame per symbol)
   * once its queue drained below the budget, stopping when it is over the
   * budget again (then it is behind anew, its clock restarted: it is reading);
   * close it if it stayed behind too long.
   */
  #tryDrain(client: WsSession): void {
    if (client.gone) return;
    if (client.socket.bufferedAmount > this.#maxBuffered) {
      if (performance.now() - client.behindSince > this.#maxBehindMs) {
        client.close("slow", CLOSE_CODES.slow, "client read too slowly");
      }
      return;
    }
    client.behindSince = 0;
    this.#behind.delete(client);
    const owed = client.owed;
    if (owed === null) return this.#sendOwedSummary(client);
    for (const [s, held] of owed) {
      if (client.gone) return;
      if (client.socket.bufferedAmount > this.#maxBuffered) {
        this.#markBehind(client);
        return;
      }
      if (held.wire === null) {
        client.sendOwedHello(s);
        continue;
      }
      owed.delete(s);
      // Nothing replaced: the shared wire bytes as they are; else re-wrapped with the count.
      if (held.dropped === 0) client.sendFrame(held.wire);
      else client.send(wrapFrame(frameOfWire(held.wire), held.dropped));
      this.#framesSent++;
    }
    if (owed.size === 0 && client.owed === owed) client.owed = null;
    this.#sendOwedSummary(client);
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

  /**
   * The encoded Hello of `symbolId`: its current seq and its history, each
   * frame encoded now from the history store (the newest with its ladders,
   * older ones without); frame k of n has seq `seq - (n - 1 - k)`.
   */
  #hello(symbolId: number, subscribed: readonly string[]): Uint8Array<ArrayBuffer> {
    const seq = this.#seq[symbolId];
    const name = this.symbols[symbolId];
    const frames: Uint8Array[] = [];
    let next = seq - this.#history.size(symbolId) + 1;
    this.#history.forEach(symbolId, (f64, base, storedAt) => {
      frames.push(encodeFrame(f64, base, this.layout, name, next++, storedAt, this.#names));
    });
    return encodeHello({
      epoch: this.epoch,
      symbols: this.symbols,
      symbol: name,
      seq,
      serverTime: now(),
      subscribed,
      layout: this.layout,
    }, frames);
  }

  /** Forget a session that ended and count its reason (its session calls this once). */
  #forget(client: WsSession, reason: DisconnectReason): void {
    this.#disconnects[reason]++;
    this.#clients.delete(client);
    this.#behind.delete(client);
    this.#summaryClients.delete(client);
    for (const s of client.subscribed) this.#bySymbol[s].delete(client);
    if (this.#behind.size === 0) this.#stopTimer();
  }
}
