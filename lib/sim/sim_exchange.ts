/**
 * The simulated Binance spot exchange: a `Deno.serve` server on 127.0.0.1 that
 * speaks the protocol depthwatch ingests (docs/design.md §3 and §4), backed by
 * one {@link BookModel} per symbol, with faults on demand. This module composes
 * the parts, each in its own file:
 *
 * - `GET /stream?streams=a/b/c` (combined) and `GET /ws/<stream>[/<stream>...]`
 *   (raw) — WebSocket streams; see `sim_stream_endpoint.ts` (upgrades, unknown
 *   names), `sim_connection.ts` (open connections, slow consumers) and
 *   `sim_frame_ticker.ts` (the frames).
 * - `GET /api/v3/depth?symbol=BTCUSDT&limit=N` — REST snapshot (limit default 100,
 *   above 5000 truncated to 5000), consistent with the diff stream, with the
 *   `X-MBX-USED-WEIGHT-1M` header; more than `weightLimit` weight in a minute → 429.
 *   See `sim_rest.ts`.
 * - `GET /api/v3/exchangeInfo` — the listing of the simulated symbols in
 *   Binance's shape (weight 20, statuses from `statuses`, default `TRADING`).
 *   See `sim_exchange_info.ts`.
 * - The other venues at their production paths, each speaking its protocol:
 *   Binance USD-M `/public/stream?streams=…` and `/fapi/v1/depth`, Bybit
 *   `/v5/public/spot|linear`, OKX `/ws/v5/public`, Kraken `/v2`, Coinbase `/`
 *   (WebSocket upgrade). See `venues/venue_router.ts` and the feed of each
 *   venue; {@link SimExchange.venueUrls} gives their base URLs. Symbols of the
 *   same base asset on several venues follow one price path (`venues/fair_path.ts`)
 *   with small per-venue offsets.
 * - `POST /sim/fault` — body: one fault object or an array of them (see
 *   {@link SimFault} and `sim_fault_injector.ts`); `GET /sim/stats` —
 *   {@link SimStats} as JSON.
 *
 * Streams: `<s>@depth5|depth10|depth20[@100ms]` (partial book) and
 * `<s>@depth[@100ms]` (diff events). Every subscribed stream gets one frame per
 * simulated frame of its symbol, i.e. `rate` per second whatever the speed
 * suffix says (a quiet frame sends no diff event, as on Binance). Update ids are
 * shared between the partial and diff views of a book. A client whose socket
 * buffers more than `maxBufferedBytes` is disconnected (code 1008), as Binance
 * drops slow consumers.
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
import { FrameEncoder } from "./frame_encoder.ts";
import { ConnectionSet } from "./sim_connection.ts";
import { parseFault, type SimFault } from "./sim_fault.ts";
import { FaultInjector } from "./sim_fault_injector.ts";
import { FrameTicker } from "./sim_frame_ticker.ts";
import { JsonReplies } from "./sim_http.ts";
import { resolveSimOptions, type SimConfig, type SimExchangeOptions } from "./sim_options.ts";
import { RepeatingCloses } from "./sim_repeating_close.ts";
import { WeightMeter } from "./rest_weight.ts";
import { ExchangeInfoEndpoint } from "./sim_exchange_info.ts";
import { DepthEndpoint } from "./sim_rest.ts";
import { SimCounters, type SimStats } from "./sim_stats.ts";
import { StreamEndpoint } from "./sim_stream_endpoint.ts";
import { StreamFaults } from "./sim_stream_faults.ts";
import type { VenueId } from "../pipeline/venue_id.ts";
import { hashString } from "./prng.ts";
import { FairPath } from "./venues/fair_path.ts";
import type { VenueBook } from "./venues/venue_feed.ts";
import { VenueFeeds, type VenueUrls, venueUrls } from "./venues/venue_router.ts";

export type { SimExchangeOptions } from "./sim_options.ts";
export type { SimStats } from "./sim_stats.ts";
export type { VenueUrls } from "./venues/venue_router.ts";

/**
 * Handle of a running simulated exchange.
 *
 * @example
 * ```ts
 * const sim: SimExchange = await startSimExchange({ rate: 0 });
 * sim.step(5);
 * sim.stats().framesGenerated.BTCUSDT; // 5
 * await sim.close();
 * ```
 */
export interface SimExchange {
  /** WebSocket base URL, e.g. `ws://127.0.0.1:40123` (like `wss://stream.binance.com:9443`). */
  readonly wsUrl: string;
  /** REST base URL, e.g. `http://127.0.0.1:40123`. */
  readonly restUrl: string;
  /** Bound port. */
  readonly port: number;
  /** Combined-stream URL of `<s>@depth<levels>@100ms` for all Binance spot symbols ("" if none). */
  readonly partialUrl: string;
  /** Combined-stream URL of `<s>@depth@100ms` for all Binance spot symbols ("" if none). */
  readonly diffUrl: string;
  /** Simulated symbols, as service names (`btcusdt`, `okx:btc-usdt`). */
  readonly symbols: readonly string[];
  /**
   * Base URLs of every venue on this server, in the shape of `VENUES` in
   * `lib/pipeline/venue_id.ts` (use them in place of the production ones), e.g.
   * `venueUrls.okx.wsUrl` = `ws://127.0.0.1:40123/ws/v5/public`,
   * `venueUrls["binance-usdm"]` = `{ wsUrl: "ws://…", restUrl: "http://…" }` (host only, as
   * `VENUES`: the client adds `/public/stream?streams=…`).
   */
  readonly venueUrls: Readonly<Record<VenueId, VenueUrls>>;
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

/** The parts of one simulated exchange, wired together, and its HTTP routes. */
class Simulation {
  readonly counters: SimCounters;
  readonly replies = new JsonReplies();
  readonly encoders: FrameEncoder[];
  readonly connections: ConnectionSet;
  readonly closes = new RepeatingCloses();
  readonly rest: DepthEndpoint;
  readonly exchangeInfo: ExchangeInfoEndpoint;
  readonly streams: StreamEndpoint;
  readonly ticker: FrameTicker;
  readonly injector: FaultInjector;
  readonly venues: VenueFeeds;
  #closed = false;

  constructor(config: SimConfig) {
    const { specs, streams, seed, depthTicks, symbols } = config;
    const counters = this.counters = new SimCounters(symbols.map((s) => s.key));
    const paths = sharedFairPaths(config);
    this.encoders = specs.map((spec, i) =>
      new FrameEncoder(new BookModel(spec, { seed, depthTicks, fairPath: paths[i] }))
    );
    const spot = (i: number) => symbols[i].venue === "binance";
    const symbolIndex = new Map(
      streams.flatMap((s, i) => spot(i) ? [[s, i] as [string, number]] : []),
    );
    const connections = this.connections = new ConnectionSet({
      symbolCount: specs.length,
      counters,
      maxBufferedBytes: config.maxBufferedBytes,
    });
    const faults = new StreamFaults(specs.length);
    const weights = new WeightMeter();
    this.rest = new DepthEndpoint({
      encoders: new Map([...symbolIndex].map(([s, i]) => [s, this.encoders[i]])),
      replies: this.replies,
      weightLimit: config.weightLimit,
      weights,
    });
    this.exchangeInfo = new ExchangeInfoEndpoint({
      specs: specs.filter((_, i) => spot(i)),
      statuses: config.statuses,
      replies: this.replies,
      weights,
      weightLimit: config.weightLimit,
    });
    this.streams = new StreamEndpoint({
      symbolIndex,
      connections,
      replies: this.replies,
      counters,
    });
    const venueBooks: VenueBook[] = [];
    for (let i = 0; i < symbols.length; i++) {
      if (!spot(i)) venueBooks.push({ index: i, symbol: symbols[i], book: this.encoders[i].book });
    }
    this.venues = new VenueFeeds({
      books: venueBooks,
      symbolCount: symbols.length,
      connections,
      counters,
      faults,
      replies: this.replies,
      forcedAnswer: (nowMs) => this.rest.forcedAnswer(nowMs),
      heartbeatMs: config.heartbeatMs,
      keepAliveFrames: config.keepAliveFrames,
    });
    this.ticker = new FrameTicker({
      encoders: this.encoders,
      connections,
      faults,
      counters,
      rate: config.rate,
      feeds: this.venues.bySymbol,
    });
    this.injector = new FaultInjector({
      streams,
      faults,
      closes: this.closes,
      connections,
      rest: this.rest,
      counters,
      venueCheck: (kind, symbol) => this.venues.check(kind, symbol),
    });
  }

  /** The timer's work: scheduled closes, then the frames due. */
  tick(): void {
    if (this.#closed) return;
    const now = performance.now();
    this.connections.closeDue(now);
    this.closes.run(now, this.connections);
    this.ticker.catchUp(now);
    this.venues.heartbeat(now);
  }

  step(frames = 1): void {
    this.ticker.step(frames, performance.now());
  }

  route(req: Request): Response | Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    const venue = this.venues.route(req, url);
    if (venue !== null) return venue;
    if (req.method === "GET" && path === "/stream") {
      return this.streams.combined(req, url.searchParams.get("streams"));
    }
    if (req.method === "GET" && (path === "/ws" || path.startsWith("/ws/"))) {
      return this.streams.raw(req, path.slice(3));
    }
    if (req.method === "GET" && path === "/api/v3/depth") return this.rest.handle(url);
    if (req.method === "GET" && path === "/api/v3/exchangeInfo") return this.exchangeInfo.handle();
    if (req.method === "POST" && path === "/sim/fault") return this.#postFault(req);
    if (req.method === "GET" && path === "/sim/stats") {
      return this.replies.json(200, JSON.stringify(this.stats()));
    }
    return new Response("not found\n", { status: 404 });
  }

  stats(): SimStats {
    return this.counters.snapshot({
      connections: this.connections.size,
      updateIds: this.encoders.map((e) => e.book.updateId),
      rest: this.replies.byStatus,
      usedWeight1m: this.rest.usedWeight(performance.now()),
    });
  }

  /** Stops the frames, answers held-back REST calls and closes every connection. */
  close(): void {
    this.#closed = true;
    this.ticker.stop();
    this.rest.finishDelayed();
    this.connections.shutdown();
  }

  /** `POST /sim/fault`: every fault of the body is validated before any is injected. */
  async #postFault(req: Request): Promise<Response> {
    let body: unknown;
    try {
      body = await req.json();
    } catch (err) {
      return this.replies.json(
        400,
        JSON.stringify({ error: `body must be JSON: ${(err as Error).message}` }),
      );
    }
    const list = Array.isArray(body) ? body : [body];
    try {
      const faults = list.map((f) => parseFault(f));
      for (const f of faults) this.injector.inject(f);
      return this.replies.json(
        200,
        JSON.stringify({ ok: true, injected: faults.map((f) => f.kind) }),
      );
    } catch (err) {
      return this.replies.json(400, JSON.stringify({ error: (err as Error).message }));
    }
  }
}

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
  const config = resolveSimOptions(options);
  const sim = new Simulation(config);
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: config.hostname, port: config.port, onListen: () => listening.resolve() },
    (req) => sim.route(req),
  );
  await listening.promise;
  const addr = server.addr;
  const timer = setInterval(() => sim.tick(), sim.ticker.intervalMs);
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const wsUrl = `ws://${host}:${addr.port}`;
  const spotStreams = config.symbols.filter((s) => s.venue === "binance").map((s) => s.name);
  const streamsUrl = (suffix: string) =>
    spotStreams.length === 0
      ? ""
      : `${wsUrl}/stream?streams=${spotStreams.map((s) => `${s}@${suffix}`).join("/")}`;
  const restUrl = `http://${host}:${addr.port}`;
  let closed = false;
  return {
    wsUrl,
    restUrl,
    port: addr.port,
    partialUrl: streamsUrl(`depth${config.levels}@100ms`),
    diffUrl: streamsUrl("depth@100ms"),
    symbols: config.streams,
    venueUrls: Object.freeze(venueUrls(wsUrl, restUrl)),
    inject: (fault) => sim.injector.inject(fault),
    step: (frames) => sim.step(frames),
    stats: () => sim.stats(),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      sim.close();
      await server.shutdown();
    },
  };
}

/**
 * One shared fair-price path per group of symbols that are the same
 * instrument (base asset, start price and tick) on two or more venues; a
 * symbol alone keeps its own walk (undefined), so Binance-only runs are as before.
 */
function sharedFairPaths(config: SimConfig): (FairPath | undefined)[] {
  const groups = new Map<string, number[]>();
  config.symbols.forEach((s, i) => {
    const key = `${s.base}:${s.spec.startTicks}:${s.spec.priceDecimals}`;
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [i]);
    else list.push(i);
  });
  const out: (FairPath | undefined)[] = new Array(config.symbols.length).fill(undefined);
  for (const [key, members] of groups) {
    if (members.length < 2) continue;
    const spec = config.specs[members[0]];
    const path = new FairPath({
      startTicks: spec.startTicks,
      volTicksPerFrame: spec.volTicksPerFrame,
      seed: (hashString(key) ^ (config.seed >>> 0)) + Math.floor(config.seed / 4294967296),
    });
    for (const i of members) out[i] = path;
  }
  return out;
}
