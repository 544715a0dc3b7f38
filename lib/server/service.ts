/**
 * Assembles and runs the whole service: (optionally) the simulated exchange,
 * the two rings and the shared counters, the supervised workers, the
 * main-thread consumer and history, the WebSocket hub, metrics, and the HTTP
 * server. `close()` shuts down in order: ingest first, the rings drain, clients
 * are told, the server stops.
 *
 * What the server answers is not decided here: the app entry (`main.ts`)
 * passes a factory that turns the service state into an HTTP handler (the web
 * app with its routes and islands), so this layer imports none of them.
 *
 * @example
 * ```ts ignore
 * import { parseConfig } from "./config.ts";
 * const service = await runService(
 *   parseConfig(["--source", "sim", "--port", "0"]),
 *   ({ state }) => () => Response.json({ symbols: state.symbols }),
 * );
 * console.log(service.url);
 * await service.close();
 * ```
 * @module
 */

import { SpscRing } from "../pipeline/spsc_ring.ts";
import { BookSlotLayout } from "../pipeline/book_slot.ts";
import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
import { WatchFlags } from "../pipeline/watch_flags.ts";
import { WireSlotLayout } from "../pipeline/wire_slot.ts";
import { metricsFor } from "../metrics/metrics_registry.ts";
import { type SimExchange, startSimExchange } from "../sim/sim_exchange.ts";
import { serveHttp } from "../net/http_server.ts";
import { detectDataMode } from "../pipeline/data_mode.ts";
import type { VenueUrls } from "../ingest/venue_ingestors.ts";
import { restrictNetToVenues } from "./venue_permissions.ts";
import { type Config, ConfigError, redactConfig } from "./config.ts";
import { resolveSymbols, simSymbols } from "./symbol_resolution.ts";
import { consolidatedIds, withConsolidated } from "./consolidated_instruments.ts";
import { isConsolidatedName } from "../pipeline/venue_id.ts";
import { Backoff } from "../pipeline/backoff.ts";
import { connectionCap, readFdLimit } from "./connection_cap.ts";
import { FrameConsumer } from "./frame_consumer.ts";
import { BarStore } from "./bar_store.ts";
import { HistoryStore } from "./history_store.ts";
import { ringCapacities } from "./ring_capacity.ts";
import { LatencyTracker } from "./latency_tracker.ts";
import { createLogger, type Logger } from "../pipeline/logger.ts";
import type { ServiceState } from "./service_state.ts";
import { Supervisor } from "./supervisor.ts";
import { RecordRing } from "../pipeline/record_ring.ts";
import { RecorderStatus } from "../pipeline/recorder_status.ts";
import { RecordTotals } from "../metrics/record_totals.ts";
import { HostCheck } from "./host_check.ts";
import { guardHandler } from "./http_guard.ts";
import { WsHub } from "./ws_hub.ts";
import { WorkerWire } from "./worker_wire.ts";
import { MarketSummaryBuilder } from "./market_summary.ts";
import { FeedState } from "../pipeline/feed_state.ts";
import { INGEST_FEED_STATE } from "../pipeline/pipeline_counters.ts";
import { ReplayStatus } from "../pipeline/replay_status.ts";
import { replayConfig } from "./replay_setup.ts";
import type { BusNode } from "./bus_node.ts";
import { BusStartError } from "./bus_start_error.ts";
import { BusWire } from "./bus_wire.ts";
import type { FrameWire } from "./worker_wire.ts";
import { mostMembers } from "../analytics/consolidated_book.ts";

/** What the HTTP app is made from: the service's state and its logger. */
export interface HttpAppInput {
  /** Everything the routes read. */
  readonly state: ServiceState;
  /** The service's logger (for request errors). */
  readonly log: Logger;
}

/**
 * Makes the HTTP handler the service serves, once the state exists and before
 * the server listens. May be async (e.g. to build the client bundle first).
 *
 * @example
 * ```ts
 * import type { HttpAppFactory } from "./service.ts";
 * const factory: HttpAppFactory = ({ state }) => () => Response.json({ symbols: state.symbols });
 * ```
 */
export type HttpAppFactory = (
  input: HttpAppInput,
) => Deno.ServeHandler | Promise<Deno.ServeHandler>;

/** Extra options of {@link runService} that are not user flags. */
export interface ServiceExtras {
  /** Logger. Default one made from the config's log level and format. */
  log?: Logger;
  /** Supervisor hung-worker timeout, ms. Default 5000. */
  hungMs?: number;
  /** Connection backoff base and cap for the ingest side, ms. Defaults 1000 and 30000. */
  backoffBaseMs?: number;
  /** See `backoffBaseMs`. */
  backoffCapMs?: number;
}

/**
 * A running service.
 *
 * @example
 * ```ts
 * import type { Service } from "./service.ts";
 * async function healthOf(service: Service): Promise<number> {
 *   const res = await fetch(new URL("/health", service.url));
 *   await res.body?.cancel();
 *   return res.status;
 * }
 * ```
 */
export interface Service {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8000/`. */
  readonly url: string;
  /** Everything the routes read. */
  readonly state: ServiceState;
  /** The worker supervisor (tests kill workers through it). */
  readonly supervisor: Supervisor;
  /** The simulated exchange when `--source sim`. */
  readonly sim?: SimExchange;
  /** Shut down in order; resolves when everything is closed. */
  close(): Promise<void>;
}

/**
 * Start the service described by `config`, serving what `app` makes from its
 * state. The app entry (`main.ts`) wraps this with the web app; start the
 * whole service through it.
 *
 * @example
 * ```ts ignore
 * const s = await runService(parseConfig(["--source=sim", "--port=0"]), ({ state }) =>
 *   () => Response.json({ symbols: state.symbols }));
 * await fetch(s.url);
 * await s.close();
 * ```
 */
export async function runService(
  config: Config,
  app: HttpAppFactory,
  extras: ServiceExtras = {},
): Promise<Service> {
  const log = extras.log ?? createLogger({ level: config.logLevel, format: config.logFormat });
  log.info("starting depthwatch", JSON.stringify(redactConfig(config)));
  // A replay takes its symbols and stream from the recording (unless given).
  config = await replayConfig(config, log);
  const replay = config.source === "replay" ? ReplayStatus.create() : undefined;
  const connections = capConnections(config, log);
  // With a NATS bus a node runs the pipeline (ingest half), serves from the bus
  // (dashboard half), or both; one process is both, without NATS.
  const nats = config.bus !== "memory";
  const ingestHalf = !nats || config.role !== "dashboard";
  const dashboardHalf = nats && config.role !== "ingest";
  // Net access to the venues in use only, before the sim or any worker starts
  // (workers inherit the permissions they are created with). A simulated or
  // replayed run reaches no venue at all: not even a venue the simulated
  // exchange does not speak can fall back to its production host.
  await restrictNetToVenues(ingestHalf && config.source === "binance" ? config.venues : [], log);
  const sim = config.source === "sim" && ingestHalf
    ? await startSimExchange({
      symbols: simSymbols(config).filter((s) => !isConsolidatedName(s)),
      rate: config.simRate,
      levels: config.levels === 5 || config.levels === 10 ? config.levels : 20,
    })
    : undefined;
  if (sim) log.info(`simulated exchange on ${sim.wsUrl} (${config.simRate} frames/s per symbol)`);
  const wsUrl = sim?.wsUrl ?? config.binanceWsUrl;
  const restUrl = sim?.restUrl ?? config.binanceRestUrl;
  // The other venues: the simulated exchange's URLs (when it speaks them), else --venue-url.
  const venueUrls: VenueUrls = { ...config.venueUrls, ...simVenueUrls(sim) };
  // `--symbols` with a pattern or `all`: the list comes from the exchange's listing.
  try {
    if (!replay) {
      config = await resolveSymbols(config, restUrl, {
        log,
        backoff: new Backoff({ baseMs: extras.backoffBaseMs, capMs: extras.backoffCapMs }),
      });
    }
  } catch (e) {
    await sim?.close();
    throw e;
  }
  // A replay's or a listing's symbols replaced the list: the instruments go back at its end.
  if (config.consolidate.length > 0) {
    config = {
      ...config,
      symbols: Object.freeze(withConsolidated(config.symbols, config.consolidate)),
    };
  }

  const { layout, wireLayout, rawRing, processedRing, counters } = createPipelineMemory(
    config,
    ingestHalf,
  );
  log.info(
    `rings: raw ${rawRing.capacity} slots, processed ${processedRing.capacity} slots` +
      (config.rawCapacity === undefined || config.processedCapacity === undefined
        ? ` (defaults sized from ${config.symbols.length} symbols)`
        : ""),
  );
  const history = new HistoryStore({
    symbols: config.symbols.length,
    depth: config.history,
    layout,
  });
  // The bars live on main, so they outlive a restarted analytics worker.
  // The analytics clock: the wall clock live, the recorded receive time in a replay
  // (so bars, their reads and the summary's 1 m / 15 m changes are the recording's).
  const clock = replay
    ? () => {
      const t = replay.get("clockMs");
      return t === t ? t : Date.now();
    }
    : Date.now;
  const bars = new BarStore({ symbols: config.symbols.length, now: clock });
  const latency = new LatencyTracker();
  // Which symbols dashboards watch: the analytics worker encodes their frames for the
  // wire; in diff mode the ingest also snapshots them first.
  const watch = WatchFlags.create(config.symbols.length);
  const symbols = config.symbols.map((s) => s.toUpperCase());
  const recording = createRecording(config, log);
  const wire = new WorkerWire(wireLayout);
  const busWire = dashboardHalf ? new BusWire() : undefined;
  // A frame's bytes are staged by the worker (its own pipeline) or by the bus (another node's).
  const hubWire: FrameWire = busWire
    ? {
      take: (s, seq, delivered, sent) =>
        wire.take(s, seq, delivered, sent) ?? busWire.take(s, seq, delivered, sent),
    }
    : wire;
  const hub = new WsHub({
    history,
    symbols,
    layout,
    wire: hubWire,
    maxClients: config.maxClients,
    allowedOrigins: [...config.allowedOrigins],
  });
  const bus = nats
    ? await startBus(config, log, { symbols, history, bars, latency, hub, wire, busWire }, sim)
    : undefined;
  const supervisor = superviseWorkers(config, extras, log, { wsUrl, restUrl, venueUrls }, {
    rawRing,
    processedRing,
    counters,
    watch,
    names: symbols,
    replay,
    recording,
    bus,
  });
  // The overview's summary, built once a second (SUMMARY_MS) for every symbol and sent by the
  // hub to the clients that asked; the 1 m and 15 m changes come from the bars' `midAt`.
  const summary = new MarketSummaryBuilder({
    history,
    epoch: hub.epoch,
    lookback: bars,
    feedState: (id) => {
      const c = counters.load(counters.ingestSymbol(id, INGEST_FEED_STATE));
      return c >= 0 && c <= 255 ? c : FeedState.Connecting;
    },
  });
  summary.build(clock());
  // A dashboard half shows the overview merged from every ingest node's summary.
  const overview = bus?.summary ?? summary;
  if (overview !== summary) overview.build(clock());
  const state: ServiceState = {
    symbols,
    mode: detectDataMode({
      source: config.source,
      wsUrl: config.binanceWsUrl,
      restUrl: config.binanceRestUrl,
      venues: config.venues,
      venueUrls: config.venueUrls,
    }),
    source: config.source,
    stream: config.stream,
    startedAt: Date.now(),
    counters,
    rawRing,
    processedRing,
    history,
    bars,
    layout,
    supervisor,
    latency,
    hub,
    summary: overview,
    authToken: config.authToken,
    diff: config.stream === "diff" && ingestHalf
      ? { watch, snapshotDepth: config.snapshotDepth }
      : undefined,
    replay,
    replayPath: config.replayPath,
    record: recording?.totals,
    bus,
  };
  const metrics = metricsFor(state);
  const sampler = setInterval(() => {
    metrics.sample();
    recording?.totals.read(); // extends the ring's wrapping counters
  }, 1000);
  const watching = setInterval(() => {
    markWatched(watch, hub, bus);
    bus?.syncWatches();
  }, WATCH_SYNC_MS);
  const summarising = setInterval(() => {
    const now = clock();
    const own = ingestHalf ? summary.build(now) : undefined;
    if (own && bus) bus.publishSummary(own);
    hub.publishSummary(overview === summary ? own! : overview.build(now));
  }, SUMMARY_MS);
  const consumer = new FrameConsumer({
    processed: processedRing,
    history,
    bars,
    counters,
    latency,
    wire,
  });
  const consuming = ingestHalf ? consumer.run() : Promise.resolve();

  // Every response passes the Host check and gets nosniff, whatever made it.
  const handler = guardHandler(await app({ state, log }), {
    hostCheck: new HostCheck({ bound: config.host, allowed: config.allowedHosts }),
    log,
  });
  let url = "";
  const server = serveHttp({
    hostname: config.host,
    port: config.port,
    maxConnections: connections,
    headersTimeoutMs: config.headerTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    log,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      url = `http://${host}:${port}/`;
    },
  }, handler);
  state.http = { counters: server.counters, maxConnections: connections };

  // Serve first: while the workers start, /health already answers (503, "starting").
  // A dashboard node runs no workers.
  if (ingestHalf) await supervisor.start();

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      log.info("shutting down: ingest first, then the rings drain");
      if (ingestHalf) await supervisor.stop(800);
      // The analytics worker closed the processed ring; the consumer drains it and returns.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([consuming, new Promise((r) => timer = setTimeout(r, 400))]);
      clearTimeout(timer);
      consumer.stop();
      await consuming;
      metrics.sample();
      // Give the leases up at once (another node takes over without waiting a TTL).
      await bus?.close();
      hub.close("shutdown");
      clearInterval(sampler);
      clearInterval(watching);
      clearInterval(summarising);
      await server.shutdown();
      await sim?.close();
      log.info("stopped");
    })();

  return { url, state, supervisor, sim, close };
}

/**
 * The venue URLs of the simulated exchange, when it speaks other venues
 * (`SimExchange.venueUrls`); none otherwise.
 */
function simVenueUrls(sim: SimExchange | undefined): VenueUrls {
  const urls = (sim as { venueUrls?: VenueUrls } | undefined)?.venueUrls;
  return urls ?? {};
}

/** How often the market summary is built and sent, ms. */
const SUMMARY_MS = 1000;

/** How often the main thread copies "has a subscriber" per symbol into the watch flags, ms. */
const WATCH_SYNC_MS = 250;

/**
 * Marks each symbol watched while at least one dashboard is subscribed to it,
 * or (on a NATS bus) while this node holds its partition: every frame it
 * publishes is then encoded by the analytics worker.
 */
function markWatched(watch: WatchFlags, hub: WsHub, bus: BusNode | undefined): void {
  for (let s = 0; s < watch.bytes.length; s++) {
    const watched = hub.subscribers(s) > 0 || (bus?.holds(s) ?? false);
    if (watched !== watch.isWatched(s)) watch.set(s, watched);
  }
}

/**
 * The connection cap below the file-descriptor limit, logged with where the
 * limit came from; a `--max-connections` that does not fit is a ConfigError.
 */
function capConnections(config: Config, log: Logger): number {
  let cap;
  try {
    cap = connectionCap({
      requested: config.maxConnections,
      fdLimitFlag: config.fdLimit,
      fdLimitRead: readFdLimit(),
    });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ConfigError(e.message, "--max-connections");
  }
  const assumed = cap.fdLimitSource === "assumed"
    ? " (could not be read: that needs --allow-all; pass --fd-limit or DEPTHWATCH_FD_LIMIT)"
    : "";
  log.info(
    `file-descriptor limit ${cap.fdLimit} from ${cap.fdLimitSource}${assumed}; ` +
      `serving at most ${cap.cap} connections at once (HTTP and WebSocket)`,
  );
  if (cap.cap < config.maxClients) {
    log.warn(
      `--max-clients ${config.maxClients} is above the connection cap ${cap.cap}: ` +
        `at most ${cap.cap} dashboards can connect (raise the fd limit)`,
    );
  }
  return cap.cap;
}

/**
 * The pipeline's shared memory (both rings and the counters), the analytics
 * frame layout and the processed slots' layout (the frame and its wire bytes).
 */
function createPipelineMemory(config: Config, ingest: boolean): {
  layout: FrameSlotLayout;
  wireLayout: WireSlotLayout;
  rawRing: SpscRing;
  processedRing: SpscRing;
  counters: PipelineCounters;
} {
  const bookLayout = new BookSlotLayout(config.levels);
  const layout = new FrameSlotLayout({
    levels: config.levels,
    notionals: config.notionals,
    venueMembers: mostMembers(config.consolidate),
  });
  // A dashboard node runs no workers: its rings only satisfy the metrics.
  const capacity = ingest ? ringCapacities(config) : { raw: 2, processed: 2 };
  // Live data cannot wait, so a full ring drops its oldest frame; a replay can,
  // so its rings block the producer instead (the replay source waits for room).
  const policy = config.source === "replay" ? "block" : "drop-oldest";
  const rawRing = SpscRing.create({
    capacity: capacity.raw,
    slotBytes: bookLayout.slotBytes,
    policy,
  });
  const wireLayout = new WireSlotLayout(layout);
  const processedRing = SpscRing.create({
    capacity: capacity.processed,
    slotBytes: wireLayout.slotBytes,
    policy,
  });
  // One extra row counts frames that name no known symbol.
  const counters = PipelineCounters.create(config.symbols.length + 1);
  return { layout, wireLayout, rawRing, processedRing, counters };
}

/**
 * Join the NATS bus (`--bus nats://…`) in the configured role; a bus that
 * cannot be joined stops the start (the simulated exchange is closed first).
 */
async function startBus(
  config: Config,
  log: Logger,
  parts: {
    symbols: readonly string[];
    history: HistoryStore;
    bars: BarStore;
    latency: LatencyTracker;
    hub: WsHub;
    wire: WorkerWire;
    busWire?: BusWire;
  },
  sim: SimExchange | undefined,
): Promise<BusNode> {
  try {
    // Loaded only with a NATS bus: one process (`--bus memory`) never loads the NATS client.
    const { BusNode } = await import("./bus_node.ts");
    return await BusNode.start({
      url: config.bus,
      role: config.role,
      nodeId: config.nodeId,
      partitions: config.partitions,
      capacity: config.capacity,
      leaseTtlMs: config.leaseTtlMs,
      log,
      ...parts,
    });
  } catch (e) {
    parts.hub.close("shutdown");
    await sim?.close();
    throw e instanceof BusStartError ? e : new BusStartError((e as Error).message, { cause: e });
  }
}

/** `--record-dir`: the record ring, the recorder's counters and their totals; undefined without it. */
function createRecording(config: Config, log: Logger): Recording | undefined {
  if (config.recordDir === undefined) return undefined;
  const ring = RecordRing.create({ capacity: config.recordRingBytes });
  const status = RecorderStatus.create();
  const bound = (n: number, unit: string, scale: number) =>
    n === Infinity ? "none" : `${n / scale} ${unit}`;
  log.info(
    `recording to ${config.recordDir} (bounds: ${bound(config.recordMaxBytes, "GB", 1e9)}, ${
      bound(config.recordMaxAgeMs, "h", 3_600_000)
    }; record ring ${config.recordRingBytes / 2 ** 20} MiB)`,
  );
  return { ring, status, totals: new RecordTotals(config.recordDir, ring, status) };
}

/** The recording's shared memory and its totals. */
interface Recording {
  ring: RecordRing;
  status: RecorderStatus;
  totals: RecordTotals;
}

/** The supervisor of the ingest and analytics workers (not started) reading the exchange at `feed`. */
function superviseWorkers(
  config: Config,
  extras: ServiceExtras,
  log: Logger,
  feed: { wsUrl: string; restUrl: string; venueUrls: VenueUrls },
  memory: {
    rawRing: SpscRing;
    processedRing: SpscRing;
    counters: PipelineCounters;
    watch: WatchFlags;
    names: readonly string[];
    replay?: ReplayStatus;
    recording?: Recording;
    bus?: BusNode;
  },
): Supervisor {
  const { wsUrl, restUrl, venueUrls } = feed;
  const { rawRing, processedRing, counters, watch, names, replay, recording, bus } = memory;
  return new Supervisor({
    recorder: recording && {
      ring: recording.ring,
      status: recording.status,
      options: {
        dir: config.recordDir!,
        maxBytes: config.recordMaxBytes,
        maxAgeMs: config.recordMaxAgeMs,
      },
    },
    rawRing,
    processedRing,
    counters,
    hungMs: extras.hungMs,
    log,
    workerLog: { level: config.logLevel, format: config.logFormat },
    ingest: {
      // The instruments come last and are never connected: the ingest gets the real symbols.
      symbols: config.symbols.filter((s) => !isConsolidatedName(s)),
      wsUrl,
      restUrl,
      venueUrls,
      stream: config.stream,
      levels: config.levels,
      snapshotDepth: config.snapshotDepth,
      restWeightLimit: config.restWeightLimit,
      watch: config.stream === "diff" ? watch.buffer : undefined,
      staleMs: config.staleMs,
      backoffBaseMs: extras.backoffBaseMs,
      backoffCapMs: extras.backoffCapMs,
      // On a NATS bus: connect only to the symbols of the partitions this node holds.
      partitionOf: bus?.owned ? [...bus.partitionOf] : undefined,
      owned: bus?.owned?.buffer,
      replay: replay && {
        path: config.replayPath!,
        speed: config.replaySpeed,
        fromUs: config.replayFrom,
        toUs: config.replayTo,
        loop: config.replayLoop,
        status: replay.buffer,
      },
    },
    analytics: {
      symbols: config.symbols.length,
      levels: config.levels,
      notionals: [...config.notionals],
      wallFactor: config.wallFactor,
      costMs: config.analyticsCostMs,
      wire: { names: [...names], watch: watch.buffer },
      consolidated: consolidatedIds(config.symbols, config.consolidate),
      staleMs: config.staleMs,
      // A replay analyses every frame (it waits for the analytics instead), so
      // its results are those of the live run at any speed.
      adaptive: replay ? false : undefined,
    },
  });
}
