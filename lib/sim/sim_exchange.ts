/**
 * The simulated Binance spot exchange: a `Deno.serve` server on 127.0.0.1 that
 * speaks the protocol depthwatch ingests (docs/design.md §3 and §4), backed by
 * one {@link BookModel} per symbol, with faults on demand.
 *
 * Endpoints:
 * - `GET /stream?streams=a/b/c` — combined-stream WebSocket; every message is
 *   `{"stream":"<name>","data":{...}}`.
 * - `GET /ws/<stream>[/<stream>...]` — raw WebSocket; messages are the bare payloads.
 *   `GET /ws` alone opens a socket with no streams.
 * - `GET /api/v3/depth?symbol=BTCUSDT&limit=N` — REST snapshot (limit default 100,
 *   above 5000 truncated to 5000), consistent with the diff stream, with the
 *   `X-MBX-USED-WEIGHT-1M` header; more than `weightLimit` weight in a minute → 429.
 * - `POST /sim/fault` — body: one fault object or an array of them (see
 *   {@link SimFault}); `GET /sim/stats` — {@link SimStats} as JSON.
 *
 * Streams: `<s>@depth5|depth10|depth20[@100ms]` (partial book) and
 * `<s>@depth[@100ms]` (diff events). Every subscribed stream gets one frame per
 * simulated frame of its symbol, i.e. `rate` per second whatever the speed
 * suffix says (a quiet frame sends no diff event, as on Binance). Update ids are
 * shared between the partial and diff views of a book.
 *
 * Unknown stream names: a name that is not a depth stream of the forms above
 * (wrong type, upper-case, bad characters) makes the WebSocket upgrade fail with
 * HTTP 400 and `{"code":-1100,"msg":"..."}` (Binance answers a malformed stream URL
 * with 400). A well-formed name for a symbol the simulator does not list is
 * accepted and simply never delivers data, as Binance does for a symbol that
 * does not trade; such subscriptions are counted in `stats().unknownStreams`.
 * Messages sent by the client (e.g. `SUBSCRIBE`) are answered with
 * `{"error":{"code":2,"msg":"..."},"id":...}`: the simulator only supports
 * streams given in the URL.
 *
 * Frames are generated in batches by one interval timer from elapsed time (not
 * one timer per frame), so tens of thousands of frames per second work. A client
 * whose socket buffers more than `maxBufferedBytes` is disconnected (code 1008),
 * as Binance drops slow consumers.
 *
 * @example
 * ```ts
 * import { startSimExchange } from "./sim_exchange.ts";
 * const sim = await startSimExchange({ symbols: ["btcusdt"], rate: 10 });
 * const ws = new WebSocket(`${sim.wsUrl}/stream?streams=btcusdt@depth20@100ms`);
 * // ... frames arrive; inject faults:
 * sim.inject({ kind: "stall", durationMs: 500 });
 * ws.close();
 * await sim.close();
 * ```
 * @module
 */

import { BookModel } from "./book_model.ts";
import { FrameEncoder, MAX_SNAPSHOT_LIMIT } from "./frame_encoder.ts";
import { depthRequestWeight, WeightMeter } from "./rest_weight.ts";
import { FAULT_KINDS, type FaultKind, parseFault, type SimFault } from "./sim_fault.ts";
import { parseStreamName } from "./stream_name.ts";
import { type SymbolSpec, symbolSpec } from "./symbol_spec.ts";

/** Options of {@link startSimExchange}. */
export interface SimExchangeOptions {
  /** Symbols to simulate (case-insensitive). Default `["btcusdt", "ethusdt"]`. */
  symbols?: string[];
  /** Frames per second per symbol; 0 stops the clock (use `step()`). Default 10. */
  rate?: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Levels per side of the partial streams in `partialUrl` (5, 10 or 20). Default 20. */
  levels?: number;
  /** Seed of the books; the same seed gives the same sequence of frames. Default 1. */
  seed?: number;
  /** Ticks a book side extends beyond its best price (see BookModel). Default 4096. */
  depthTicks?: number;
  /** Disconnect a client whose socket has more than this many bytes queued. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** REST weight allowed per minute before 429. Default 6000. */
  weightLimit?: number;
}

/** Counters of a running simulated exchange. Symbol keys are upper-case. */
export interface SimStats {
  /** Open WebSocket connections. */
  connections: number;
  /** WebSocket connections opened since start. */
  connectionsOpened: number;
  /** WebSocket upgrades refused (bad stream names or too many streams). */
  upgradesRejected: number;
  /** Subscriptions to well-formed streams of symbols not simulated. */
  unknownStreams: number;
  /** Simulated frames (book updates) per symbol. */
  framesGenerated: Record<string, number>;
  /** Messages carrying a frame of the symbol that were sent, over all connections. */
  framesSent: Record<string, number>;
  /** Diff events withheld by `gap` faults, per symbol. */
  gapEventsDropped: Record<string, number>;
  /** Last update id per symbol. */
  updateIds: Record<string, number>;
  /** Messages not sent because the symbol was stalled. */
  framesStalled: number;
  /** Frames cut by `truncated` faults. */
  framesTruncated: number;
  /** Non-JSON messages sent by `garbage` faults. */
  garbageSent: number;
  /** Bytes (UTF-16 code units, i.e. ASCII bytes here) of all messages sent. */
  bytesSent: number;
  /** Connections closed by the server (faults, shutdown, slow consumers). */
  serverCloses: number;
  /** Connections closed because they fell behind (`maxBufferedBytes`). */
  slowConsumerCloses: number;
  /** Frames skipped because the timer fell more than a second behind. */
  framesBehindSkipped: number;
  /** REST answers by HTTP status (e.g. `{ "200": 3, "429": 1 }`). */
  rest: Record<string, number>;
  /** REST weight used in the last minute. */
  usedWeight1m: number;
  /** Faults injected, by kind. */
  faults: Record<FaultKind, number>;
  /** Faults injected in total. */
  faultsTotal: number;
}

/** Handle of a running simulated exchange. */
export interface SimExchange {
  /** WebSocket base URL, e.g. `ws://127.0.0.1:40123` (like `wss://stream.binance.com:9443`). */
  readonly wsUrl: string;
  /** REST base URL, e.g. `http://127.0.0.1:40123`. */
  readonly restUrl: string;
  /** Bound port. */
  readonly port: number;
  /** Combined-stream URL of `<s>@depth<levels>@100ms` for all symbols. */
  readonly partialUrl: string;
  /** Combined-stream URL of `<s>@depth@100ms` for all symbols. */
  readonly diffUrl: string;
  /** Simulated symbols, lower-case. */
  readonly symbols: readonly string[];
  /**
   * Injects a fault (validated; see {@link SimFault}).
   * @throws {TypeError} if the fault is invalid or names a symbol not simulated.
   */
  inject(fault: SimFault): void;
  /** Generates and sends `frames` frames of every symbol now (also when `rate` is 0). */
  step(frames?: number): void;
  /** Counters; see {@link SimStats}. */
  stats(): SimStats;
  /** Closes every socket, timer and the server. */
  close(): Promise<void>;
}

interface Subscription {
  readonly conn: Connection;
  readonly name: string;
  /** Index into the symbol arrays, or -1 for a symbol not simulated. */
  readonly symbol: number;
  /** Partial book levels, or 0 for the diff stream. */
  readonly levels: number;
  /** `{"stream":"<name>","data":` for combined connections, "" for raw ones. */
  readonly prefix: string;
}

interface Connection {
  readonly socket: WebSocket;
  readonly combined: boolean;
  readonly subs: Subscription[];
  readonly symbols: Set<number>;
  open: boolean;
  /** performance.now() at which the next pump closes it (serverShutdown, slow consumer), or Infinity. */
  closeAt: number;
  closeCode: number;
  closeReason: string;
}

interface RepeatingClose {
  symbol: number;
  code: number;
  everyMs: number;
  nextAt: number;
  until: number;
}

const PARTIAL_LEVELS = [5, 10, 20];
const GARBAGE = "\u0000\u00ff<html>502 Bad Gateway</html> {{not json";

/**
 * Starts a simulated exchange.
 *
 * @param options See {@link SimExchangeOptions}.
 * @returns A handle once the server listens.
 * @throws {RangeError | TypeError} on invalid options.
 * @example
 * ```ts
 * const sim = await startSimExchange({ symbols: ["btcusdt", "ethusdt"], rate: 100, seed: 7 });
 * const res = await fetch(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=10`);
 * await res.json(); // { lastUpdateId, bids, asks }
 * await sim.close();
 * ```
 */
export async function startSimExchange(options: SimExchangeOptions = {}): Promise<SimExchange> {
  const symbolNames = options.symbols ?? ["btcusdt", "ethusdt"];
  if (!Array.isArray(symbolNames) || symbolNames.length === 0) {
    throw new TypeError(`symbols must be a non-empty array like ["btcusdt"], got ${symbolNames}`);
  }
  const specs: SymbolSpec[] = symbolNames.map((s) => symbolSpec(s));
  const streams = specs.map((s) => s.stream);
  if (new Set(streams).size !== streams.length) {
    throw new TypeError(`symbols must not repeat, got ${streams.join(",")}`);
  }
  const rate = options.rate ?? 10;
  if (!(rate >= 0 && rate <= 100_000)) {
    throw new RangeError(`rate must be 0..100000 frames/s per symbol, got ${rate}`);
  }
  const levels = options.levels ?? 20;
  if (!PARTIAL_LEVELS.includes(levels)) {
    throw new RangeError(`levels must be 5, 10 or 20 (Binance partial depths), got ${levels}`);
  }
  const hostname = options.hostname ?? "127.0.0.1";
  const seed = options.seed ?? 1;
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const weightLimit = options.weightLimit ?? 6000;

  const n = specs.length;
  const books = specs.map((spec) => new BookModel(spec, { seed, depthTicks: options.depthTicks }));
  const encoders = books.map((b) => new FrameEncoder(b));
  const symbolIndex = new Map(streams.map((s, i) => [s, i]));
  const subsBySymbol: Subscription[][] = specs.map(() => []);
  const connections = new Set<Connection>();

  // Per-symbol counters and fault state.
  const framesGenerated = new Float64Array(n);
  const framesSent = new Float64Array(n);
  const gapDropped = new Float64Array(n);
  const stallUntil = new Float64Array(n); // performance.now() ms; Infinity = until clear
  const gapPending = new Float64Array(n);
  const truncatedPending = new Float64Array(n);
  const crossedPending = new Uint8Array(n);
  const repeatingCloses: RepeatingClose[] = [];
  const faultCounts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<
    FaultKind,
    number
  >;
  const restCounts: Record<string, number> = {};
  const counters = {
    connectionsOpened: 0,
    upgradesRejected: 0,
    unknownStreams: 0,
    framesStalled: 0,
    framesTruncated: 0,
    garbageSent: 0,
    bytesSent: 0,
    serverCloses: 0,
    slowConsumerCloses: 0,
    framesBehindSkipped: 0,
  };
  let rest429 = 0, rest429After = 1, rest418 = 0, rest418After = 120;
  let restSlowMs = 0, restSlowLeft = 0;
  const weights = new WeightMeter();
  /** Finishers of REST responses held back by `restSlow`; close() runs them all. */
  const pendingDelays = new Set<() => void>();
  let closed = false;

  // Frame clock: symbol i has produced done[i] frames; frame k is due at start + k / rate.
  const clockStart = performance.now();
  const epochAtStart = performance.timeOrigin + clockStart;
  const done = new Float64Array(n);

  function closeConnection(conn: Connection, code: number, reason: string): void {
    if (!conn.open) return;
    detach(conn);
    counters.serverCloses++;
    try {
      conn.socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  function detach(conn: Connection): void {
    if (!conn.open) return;
    conn.open = false;
    connections.delete(conn);
    for (const sub of conn.subs) {
      if (sub.symbol < 0) continue;
      const list = subsBySymbol[sub.symbol];
      const at = list.indexOf(sub);
      if (at >= 0) list.splice(at, 1);
    }
  }

  function send(conn: Connection, text: string): void {
    if (!conn.open) return;
    if (conn.closeAt === -Infinity) return;
    if (conn.socket.bufferedAmount > maxBuffered) {
      // Closed by the next pump: closing here would change the lists being iterated.
      counters.slowConsumerCloses++;
      conn.closeAt = -Infinity;
      conn.closeCode = 1008;
      conn.closeReason = "slow consumer";
      return;
    }
    conn.socket.send(text);
    counters.bytesSent += text.length;
  }

  function emitFrame(i: number, nowMs: number, eventTime: number): void {
    const book = books[i], enc = encoders[i];
    book.advanceFrame();
    framesGenerated[i]++;
    const subs = subsBySymbol[i];
    if (subs.length === 0) return;
    const stalled = stallUntil[i] > nowMs;
    let diff: string | null | undefined;
    let diffWithheld = false;
    let p5: string | undefined, p10: string | undefined, p20: string | undefined;
    const crossed = crossedPending[i] === 1;
    let partialSent = false, anySent = false;
    const cut = truncatedPending[i] > 0;
    for (let k = 0; k < subs.length; k++) {
      const sub = subs[k];
      let text: string | null;
      if (sub.levels === 0) {
        if (diff === undefined) {
          diff = book.changedBidCount + book.changedAskCount === 0 ? null : enc.diff(eventTime);
          if (diff !== null && !stalled && gapPending[i] > 0) diffWithheld = true;
        }
        if (diff === null || diffWithheld) continue;
        text = diff;
      } else {
        text = sub.levels === 5
          ? (p5 ??= enc.partial(5, crossed))
          : sub.levels === 10
          ? (p10 ??= enc.partial(10, crossed))
          : sub.levels === 20
          ? (p20 ??= enc.partial(20, crossed))
          : enc.partial(sub.levels, crossed);
        partialSent = true;
      }
      if (stalled) {
        counters.framesStalled++;
        continue;
      }
      let message = sub.prefix === "" ? text : sub.prefix + text + "}";
      if (cut) message = message.slice(0, message.length >> 1);
      send(sub.conn, message);
      framesSent[i]++;
      anySent = true;
    }
    if (diffWithheld) {
      gapPending[i]--;
      gapDropped[i]++;
    }
    if (crossed && partialSent && !stalled) crossedPending[i] = 0;
    if (cut && anySent) {
      truncatedPending[i]--;
      counters.framesTruncated++;
    }
  }

  function pump(): void {
    if (closed) return;
    const now = performance.now();
    // Scheduled closes first.
    for (const conn of connections) {
      if (conn.closeAt <= now) closeConnection(conn, conn.closeCode, conn.closeReason);
    }
    for (let r = repeatingCloses.length - 1; r >= 0; r--) {
      const rc = repeatingCloses[r];
      if (now > rc.until) {
        repeatingCloses.splice(r, 1);
        continue;
      }
      if (now >= rc.nextAt) {
        rc.nextAt += rc.everyMs;
        closeMatching(rc.symbol, rc.code);
      }
    }
    if (rate === 0) return;
    const target = Math.floor(((now - clockStart) * rate) / 1000);
    const maxBurst = Math.max(1, Math.ceil(rate));
    for (let i = 0; i < n; i++) {
      if (target - done[i] > maxBurst) {
        counters.framesBehindSkipped += target - done[i] - maxBurst;
        done[i] = target - maxBurst;
      }
      while (done[i] < target) {
        done[i]++;
        emitFrame(i, now, epochAtStart + (done[i] * 1000) / rate);
      }
    }
  }

  function closeMatching(symbol: number, code: number): void {
    for (const conn of [...connections]) {
      if (symbol < 0 || conn.symbols.has(symbol)) closeConnection(conn, code, "sim fault: close");
    }
  }

  function symbolOf(fault: { symbol?: string }): number {
    if (fault.symbol === undefined) return -1;
    const i = symbolIndex.get(fault.symbol);
    if (i === undefined) {
      throw new TypeError(
        `fault names symbol "${fault.symbol}", which is not simulated (symbols: ${
          streams.join(", ")
        })`,
      );
    }
    return i;
  }

  function inject(input: SimFault): void {
    const fault = parseFault(input);
    const now = performance.now();
    const symbol = "symbol" in fault ? symbolOf(fault) : -1;
    const each = (f: (i: number) => void) => {
      if (symbol >= 0) f(symbol);
      else for (let i = 0; i < n; i++) f(i);
    };
    switch (fault.kind) {
      case "close": {
        const code = fault.code ?? 1000;
        closeMatching(symbol, code);
        if (fault.everyMs !== undefined && fault.everyMs > 0) {
          repeatingCloses.push({
            symbol,
            code,
            everyMs: fault.everyMs,
            nextAt: now + fault.everyMs,
            until: now + (fault.durationMs ?? 10_000),
          });
        }
        break;
      }
      case "stall": {
        const until = fault.durationMs === undefined ? Infinity : now + fault.durationMs;
        each((i) => stallUntil[i] = until);
        break;
      }
      case "gap":
        gapPending[symbol] += fault.events ?? 1;
        break;
      case "garbage": {
        const count = fault.count ?? 1;
        for (const conn of [...connections]) {
          if (symbol >= 0 && !conn.symbols.has(symbol)) continue;
          for (let c = 0; c < count; c++) {
            send(conn, GARBAGE);
            counters.garbageSent++;
          }
        }
        break;
      }
      case "truncated":
        each((i) => truncatedPending[i] += fault.count ?? 1);
        break;
      case "crossed":
        each((i) => crossedPending[i] = 1);
        break;
      case "serverShutdown": {
        const at = now + (fault.delayMs ?? 1000);
        const e = Math.floor(performance.timeOrigin + now);
        for (const conn of [...connections]) {
          if (symbol >= 0 && !conn.symbols.has(symbol)) continue;
          const payload = `{"e":"serverShutdown","E":${e}}`;
          send(conn, conn.combined ? `{"stream":"!serverShutdown","data":${payload}}` : payload);
          conn.closeAt = Math.min(conn.closeAt, at);
        }
        break;
      }
      case "rest429":
        rest429 += fault.count ?? 1;
        rest429After = fault.retryAfterSec ?? 1;
        break;
      case "rest418":
        rest418 += fault.count ?? 1;
        rest418After = fault.retryAfterSec ?? 120;
        break;
      case "restSlow":
        restSlowMs = fault.delayMs;
        restSlowLeft = fault.count ?? Infinity;
        break;
      case "clear":
        stallUntil.fill(0);
        gapPending.fill(0);
        truncatedPending.fill(0);
        crossedPending.fill(0);
        repeatingCloses.length = 0;
        rest429 = rest418 = 0;
        restSlowMs = restSlowLeft = 0;
        break;
    }
    faultCounts[fault.kind]++;
  }

  function jsonResponse(status: number, body: string, headers: Record<string, string> = {}) {
    restCounts[status] = (restCounts[status] ?? 0) + 1;
    return new Response(body, {
      status,
      headers: { "content-type": "application/json;charset=UTF-8", ...headers },
    });
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        pendingDelays.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      pendingDelays.add(finish);
    });
  }

  async function handleDepth(url: URL): Promise<Response> {
    const now = performance.now();
    const weightHeader = () => ({ "X-MBX-USED-WEIGHT-1M": String(weights.used(now)) });
    if (rest418 > 0) {
      rest418--;
      const until = Math.floor(performance.timeOrigin + now + rest418After * 1000);
      return jsonResponse(
        418,
        `{"code":-1003,"msg":"Way too much request weight used; IP banned until ${until}. ` +
          `Please use WebSocket Streams for live updates to avoid bans."}`,
        { "Retry-After": String(Math.ceil(rest418After)), ...weightHeader() },
      );
    }
    if (rest429 > 0) {
      rest429--;
      return jsonResponse(429, tooMuchWeight(), {
        "Retry-After": String(Math.ceil(rest429After)),
        ...weightHeader(),
      });
    }
    const symbol = url.searchParams.get("symbol");
    if (symbol === null || symbol === "") {
      return jsonResponse(
        400,
        `{"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}`,
      );
    }
    if (!/^[A-Z0-9\-_.]{1,20}$/.test(symbol)) {
      return jsonResponse(
        400,
        `{"code":-1100,"msg":"Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'."}`,
      );
    }
    const limitText = url.searchParams.get("limit");
    let limit = 100;
    if (limitText !== null) {
      if (!/^[0-9]{1,20}$/.test(limitText)) {
        return jsonResponse(
          400,
          `{"code":-1100,"msg":"Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."}`,
        );
      }
      limit = Number(limitText);
      if (limit < 1) {
        return jsonResponse(400, `{"code":-1104,"msg":"Parameter 'limit' must be at least 1."}`);
      }
      if (limit > MAX_SNAPSHOT_LIMIT) limit = MAX_SNAPSHOT_LIMIT;
    }
    const i = symbolIndex.get(symbol.toLowerCase());
    if (i === undefined) return jsonResponse(400, `{"code":-1121,"msg":"Invalid symbol."}`);
    const weight = depthRequestWeight(limit);
    if (weights.used(now) + weight > weightLimit) {
      return jsonResponse(429, tooMuchWeight(), {
        "Retry-After": String(weights.retryAfterSeconds(weight, weightLimit, now)),
        ...weightHeader(),
      });
    }
    weights.add(weight, now);
    const body = encoders[i].snapshot(limit);
    if (restSlowMs > 0 && restSlowLeft > 0) {
      restSlowLeft--;
      await delay(restSlowMs);
    }
    return jsonResponse(200, body, weightHeader());
  }

  function tooMuchWeight(): string {
    return `{"code":-1003,"msg":"Too much request weight used; current limit is ${weightLimit} ` +
      `request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."}`;
  }

  async function handleFault(req: Request): Promise<Response> {
    let body: unknown;
    try {
      body = await req.json();
    } catch (err) {
      return jsonResponse(
        400,
        JSON.stringify({ error: `body must be JSON: ${(err as Error).message}` }),
      );
    }
    const list = Array.isArray(body) ? body : [body];
    try {
      const faults = list.map((f) => parseFault(f));
      for (const f of faults) inject(f);
      return jsonResponse(200, JSON.stringify({ ok: true, injected: faults.map((f) => f.kind) }));
    } catch (err) {
      return jsonResponse(400, JSON.stringify({ error: (err as Error).message }));
    }
  }

  function handleUpgrade(req: Request, names: string[], combined: boolean): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade request\n", { status: 426 });
    }
    if (names.length > 1024) {
      counters.upgradesRejected++;
      return jsonResponse(
        400,
        `{"code":-1100,"msg":"Too many streams: ${names.length}, at most 1024 per connection."}`,
      );
    }
    const parsed = [];
    for (const name of names) {
      const p = parseStreamName(name);
      if ("error" in p) {
        counters.upgradesRejected++;
        return jsonResponse(400, JSON.stringify({ code: -1100, msg: p.error }));
      }
      parsed.push({ name, ...p });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
    const conn: Connection = {
      socket,
      combined,
      subs: [],
      symbols: new Set(),
      open: false,
      closeAt: Infinity,
      closeCode: 1001,
      closeReason: "server shutdown",
    };
    for (const p of parsed) {
      const symbol = symbolIndex.get(p.symbol) ?? -1;
      if (symbol < 0) counters.unknownStreams++;
      else conn.symbols.add(symbol);
      conn.subs.push({
        conn,
        name: p.name,
        symbol,
        levels: p.levels,
        prefix: combined ? `{"stream":"${p.name}","data":` : "",
      });
    }
    socket.onopen = () => {
      if (closed) {
        socket.close(1001, "sim exchange closing");
        return;
      }
      conn.open = true;
      connections.add(conn);
      counters.connectionsOpened++;
      for (const sub of conn.subs) if (sub.symbol >= 0) subsBySymbol[sub.symbol].push(sub);
    };
    socket.onmessage = (e) => {
      let id: unknown = null;
      try {
        id = typeof e.data === "string" ? JSON.parse(e.data)?.id ?? null : null;
      } catch {
        // Not JSON; answer with id null.
      }
      send(
        conn,
        JSON.stringify({
          error: {
            code: 2,
            msg: "Invalid request: the simulator only supports streams in the URL",
          },
          id,
        }),
      );
    };
    socket.onclose = () => detach(conn);
    socket.onerror = () => detach(conn);
    return response;
  }

  function handler(req: Request): Response | Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    if (req.method === "GET" && path === "/stream") {
      const list = url.searchParams.get("streams");
      if (list === null || list === "") {
        counters.upgradesRejected++;
        return jsonResponse(
          400,
          `{"code":-1100,"msg":"Missing streams: use /stream?streams=a/b/c"}`,
        );
      }
      return handleUpgrade(req, list.split("/"), true);
    }
    if (req.method === "GET" && (path === "/ws" || path.startsWith("/ws/"))) {
      const rest = path.slice(4);
      return handleUpgrade(req, rest === "" ? [] : rest.split("/"), false);
    }
    if (req.method === "GET" && path === "/api/v3/depth") return handleDepth(url);
    if (req.method === "POST" && path === "/sim/fault") return handleFault(req);
    if (req.method === "GET" && path === "/sim/stats") {
      return jsonResponse(200, JSON.stringify(stats()));
    }
    return new Response("not found\n", { status: 404 });
  }

  function record(values: ArrayLike<number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < n; i++) out[specs[i].symbol] = values[i];
    return out;
  }

  function stats(): SimStats {
    return {
      connections: connections.size,
      ...counters,
      framesGenerated: record(framesGenerated),
      framesSent: record(framesSent),
      gapEventsDropped: record(gapDropped),
      updateIds: record(books.map((b) => b.updateId)),
      rest: { ...restCounts },
      usedWeight1m: weights.used(performance.now()),
      faults: { ...faultCounts },
      faultsTotal: Object.values(faultCounts).reduce((a, b) => a + b, 0),
    };
  }

  function step(frames = 1): void {
    if (!Number.isInteger(frames) || frames < 0) {
      throw new RangeError(`step(frames) needs a non-negative integer, got ${frames}`);
    }
    if (closed) return;
    const now = performance.now();
    for (let f = 0; f < frames; f++) {
      for (let i = 0; i < n; i++) emitFrame(i, now, performance.timeOrigin + now);
    }
  }

  const listening = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname, port: options.port ?? 0, onListen: () => listening.resolve() },
    handler,
  );
  await listening.promise;
  const addr = server.addr;
  const tickMs = rate === 0 ? 20 : Math.max(2, Math.min(20, Math.floor(500 / rate)));
  const timer = setInterval(pump, tickMs);
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const wsUrl = `ws://${host}:${addr.port}`;

  return {
    wsUrl,
    restUrl: `http://${host}:${addr.port}`,
    port: addr.port,
    partialUrl: `${wsUrl}/stream?streams=${
      streams.map((s) => `${s}@depth${levels}@100ms`).join("/")
    }`,
    diffUrl: `${wsUrl}/stream?streams=${streams.map((s) => `${s}@depth@100ms`).join("/")}`,
    symbols: streams,
    inject,
    step,
    stats,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const finish of [...pendingDelays]) finish();
      for (const conn of [...connections]) closeConnection(conn, 1001, "sim exchange closing");
      await server.shutdown();
    },
  };
}
