/**
 * One footprint measurement ({@link runScenario}): the simulated exchange in
 * one process, the service pointed at it in a second, the dashboard clients
 * in a third (`testing/footprint_processes.ts`,
 * `testing/footprint_clients.ts`). Phases:
 *
 * 1. start the exchange with the scenario's symbols at `rate` frames/s each,
 *    and the service watching all of them (as many as `--symbols` accepts,
 *    see `acceptedSymbols`; the row then says so), with the V8 flags and
 *    environment of `deno task start` unless told otherwise;
 * 2. wait until every symbol is live and has delivered a frame (`/stats`);
 * 3. connect the clients (one symbol each, spread over the symbols) and wait
 *    until each has received a frame;
 * 4. warm up for `warmup` seconds;
 * 5. measure over `duration` seconds: the CPU time of each thread of the
 *    service (`/proc/PID/task/TID/stat`; the main thread is TID == PID, a
 *    worker's thread is `worker-<id>`), its resident memory (VmRSS sampled
 *    every 250 ms, VmHWM), the frames the clients got and their receive →
 *    client latency, and the increase of the service's counters (`/stats`:
 *    frames received, ring drops, adaptive skips, disconnects);
 * 6. after the window, the main isolate's heap and external memory from
 *    `/metrics`.
 *
 * The memory of each isolate (main, ingest worker, analytics worker) can
 * only be read from outside through the V8 inspector
 * (`testing/footprint_inspector.ts`), and a service started with
 * `--inspect` is not the one users run (at 2 symbols it held about 5 MiB
 * more RSS and 4 MiB more main heap; at 200 and more symbols the difference
 * drowns in the swings of the garbage collector). So by default each
 * scenario runs twice: first a short
 * run with `--inspect` that reads every isolate after its window (and tells
 * which `worker-<id>` thread is which worker), then the measured run
 * without it, whose figures (RSS, CPU, latency, counters) make the row; the
 * row's isolate memory comes from the first run.
 *
 * Everything it started is stopped, also on failure.
 *
 * @example
 * ```ts ignore
 * const row = await runScenario({ symbols: 2, clients: 1 }, { warmup: 1, duration: 2 });
 * console.log(row.memory.rssMiB, row.cpu.main, row.latency?.p99);
 * ```
 * @module
 */

import type { Stats } from "../lib/server/stats.ts";
import { processCpuMs } from "./proc_stats.ts";
import { type StartTaskRuntime, startTaskRuntime } from "./start_task.ts";
import { processMemory, threadCpuDelta, type ThreadTime, threadTimes } from "./footprint_proc.ts";
import { type IsolateMemory, isolateMemory } from "./footprint_inspector.ts";
import {
  type ExchangeProcess,
  type ServiceOnExchange,
  spawnExchange,
  spawnServiceOn,
} from "./footprint_processes.ts";
import {
  type ClientsProcess,
  type ClientsReady,
  type ClientsWindow,
  startClientsProcess,
} from "./footprint_clients.ts";
import { acceptedSymbols, type Scenario, symbolNames } from "./footprint_scenario.ts";
import type { VenueId } from "../lib/pipeline/venue_id.ts";
import { venueUrls } from "../lib/sim/venues/venue_router.ts";

/** Options of {@link runScenario}. */
export interface FootprintOptions {
  /** Frames per second per symbol. Default 10. */
  rate?: number;
  /** Seconds between every client receiving frames and the window. Default 10. */
  warmup?: number;
  /** Length of the measurement window, seconds. Default 20. */
  duration?: number;
  /** Seconds allowed for every symbol to go live, and for the clients to connect and receive. Default 120. */
  startTimeout?: number;
  /** First run the scenario with `--inspect` to read every isolate's memory (see the module doc). Default true. */
  isolates?: boolean;
  /** Window of the `--inspect` run, seconds. Default 3 (at most `duration`). */
  isolatesDuration?: number;
  /**
   * How the service runs: its V8 flags and the environment variables set in
   * front of it. Default: those of `deno task start` (`testing/start_task.ts`),
   * so that the figures are those of the service users start.
   */
  runtime?: StartTaskRuntime;
  /** More flags for the service, e.g. `["--record-dir", "/tmp/rec"]` to measure what recording costs. Default none. */
  serviceArgs?: readonly string[];
  /**
   * The venues the symbols are spread over (symbol i on venue i mod n, see
   * `symbolNames`); the simulated exchange speaks each, the service gets
   * their URLs with `--venue-url`. Default `["binance"]`.
   */
  venues?: readonly VenueId[];
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

/** Memory of one isolate, MiB. */
export interface IsolateRow {
  /** `main`, `ingest` or `analytics` (or a worker's entry file name). */
  name: string;
  /** V8 heap in use. */
  heapUsedMiB: number;
  /** V8 heap committed. */
  heapTotalMiB: number;
  /** Outside the V8 heap (`Deno.memoryUsage().external`). */
  externalMiB: number;
  /** ArrayBuffer backing stores it holds (NaN when unknown). */
  arrayBuffersMiB: number;
}

/** One measured scenario: a row of the footprint table. */
export interface FootprintRow {
  /** The scenario asked for. */
  scenario: Scenario;
  /** Symbols actually run (fewer than asked when the service refuses more). */
  symbolsRun: number;
  /** Why the row differs from the scenario, or what to know when reading it; empty when nothing. */
  notes: string[];
  /** Measured window, s. */
  windowSeconds: number;
  /** Frames per second the service received in the window, and what the exchange was asked for. */
  framesPerSecond: { received: number; expected: number };
  /**
   * Service resident memory, MiB: VmRSS sampled every 250 ms over the window
   * (mean, first, last, largest), VmHWM (peak since start) and RssAnon at
   * the end. The mean is the row's figure: RSS swings with the garbage
   * collector (ArrayBuffers are freed only when collected).
   */
  memory: {
    rssMiB: number;
    rssStartMiB: number;
    rssEndMiB: number;
    rssMaxMiB: number;
    hwmMiB: number;
    anonMiB: number;
  };
  /** Memory per isolate, main first: from the `--inspect` run, or only the main isolate from `/metrics` without it. */
  isolates: IsolateRow[];
  /** The main isolate as the measured run's `/metrics` reported it after the window. */
  mainIsolateMetrics: IsolateRow;
  /** The `--inspect` run's resident memory (mean over its window) and peak, MiB; null without it. */
  inspectRun: { rssMiB: number; hwmMiB: number } | null;
  /** Service CPU in the window, % of one core: all threads, main, ingest, analytics, the rest; and per thread name. */
  cpu: {
    total: number;
    main: number;
    ingest: number;
    analytics: number;
    other: number;
    byThreadName: Record<string, number>;
  };
  /** Receive → client latency, ms (client receive time − ingest receive stamp); null without clients. */
  latency: { p50: number; p99: number; max: number } | null;
  /** Clients: how they connected and what they got in the window; null without clients. */
  clients: (ClientsReady & { window: ClientsWindow }) | null;
  /** Frames dropped from the raw and processed rings in the window, and since the service started. */
  drops: { raw: number; processed: number; rawSinceStart: number; processedSinceStart: number };
  /** Frames the adaptive processor skipped in the window, and since start. */
  skipped: { window: number; sinceStart: number };
  /** Service-side WebSocket disconnects in the window, by reason (zeros left out). */
  disconnects: Record<string, number>;
  /** Worker restarts since start. */
  workerRestarts: number;
  /** The exchange process: CPU in the window (% of one core), RSS, frames its timer skipped (fell behind) in the window. */
  exchange: { cpu: number; rssMiB: number; framesBehindSkipped: number };
}

const MIB = 1024 * 1024;
const round1 = (v: number) => Math.round(v * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(url: string | URL): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET ${url}: HTTP ${res.status}`);
  }
  return await res.json() as T;
}

/** The counters of one `/stats` reading that the row needs. */
interface Counters {
  /** The service's uptime when it took the reading, ms (so a slow answer does not stretch the interval). */
  at: number;
  received: number;
  skipped: number;
  rawDropped: number;
  processedDropped: number;
  disconnects: Record<string, number>;
  restarts: number;
  live: number;
  symbols: number;
}

async function counters(serviceUrl: string): Promise<Counters> {
  const s = await getJson<Stats>(new URL("stats", serviceUrl));
  let received = 0, skipped = 0, live = 0;
  const symbols = Object.values(s.symbols);
  for (const sym of symbols) {
    received += sym.received;
    skipped += sym.skipped;
    if (sym.feedState === "live" && sym.delivered > 0) live++;
  }
  return {
    at: s.uptimeSeconds * 1000,
    received,
    skipped,
    rawDropped: s.queues.raw.dropped,
    processedDropped: s.queues.processed.dropped,
    disconnects: { ...s.ws.disconnects },
    restarts: s.workers.ingest.restarts + s.workers.analytics.restarts,
    live,
    symbols: symbols.length,
  };
}

/** Poll `/stats` until every symbol is live and delivered a frame. */
async function untilLive(serviceUrl: string, timeoutMs: number, log: (l: string) => void) {
  const t0 = performance.now();
  let last = performance.now();
  for (;;) {
    const c = await counters(serviceUrl);
    if (c.symbols > 0 && c.live === c.symbols) return;
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(`only ${c.live} of ${c.symbols} symbols live after ${timeoutMs} ms`);
    }
    if (performance.now() - last > 5000) {
      last = performance.now();
      log(`footprint: ${c.live}/${c.symbols} symbols live`);
    }
    await sleep(500);
  }
}

/** The main isolate's memory from `/metrics` (when the inspector is not used). */
async function mainIsolateFromMetrics(serviceUrl: string): Promise<IsolateRow> {
  const res = await fetch(new URL("metrics", serviceUrl), { signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  const value = (name: string) => {
    const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) / MIB : NaN;
  };
  return {
    name: "main",
    heapUsedMiB: round1(value("nodejs_heap_size_used_bytes")),
    heapTotalMiB: round1(value("nodejs_heap_size_total_bytes")),
    externalMiB: round1(value("nodejs_external_memory_bytes")),
    arrayBuffersMiB: NaN,
  };
}

/** `ingest_worker` → `ingest`, `analytics_worker` → `analytics`. */
function isolateName(i: IsolateMemory): string {
  return i.name.replace(/_worker$/, "");
}

/** Thread name → worker role (`worker-1` → `analytics`), as the inspector reports the workers. */
type WorkerRoles = Map<string, string>;

function rolesOf(isolates: readonly IsolateMemory[]): WorkerRoles {
  const roles: WorkerRoles = new Map();
  for (const i of isolates) {
    if (i.workerId !== undefined) roles.set(`worker-${i.workerId}`, isolateName(i));
  }
  return roles;
}

/**
 * The supervisor's spawn order (analytics first, then ingest): what the
 * worker threads are when no inspector said so.
 */
const SPAWN_ORDER: WorkerRoles = new Map([["worker-1", "analytics"], ["worker-2", "ingest"]]);

/** The spawn order when recording (`--record-dir`): the recorder starts first. */
const SPAWN_ORDER_RECORDING: WorkerRoles = new Map([
  ["worker-1", "recorder"],
  ["worker-2", "analytics"],
  ["worker-3", "ingest"],
]);

/** What the worker threads are when no inspector said so, for these service flags. */
function spawnOrder(serviceArgs: readonly string[] = []): WorkerRoles {
  const recording = serviceArgs.some((a) => a === "--record-dir" || a.startsWith("--record-dir="));
  return recording ? SPAWN_ORDER_RECORDING : SPAWN_ORDER;
}

/**
 * Split the service's thread CPU into main (TID == PID), ingest, analytics
 * (their `worker-<id>` threads, named by `roles`) and the rest.
 */
function splitCpu(
  pid: number,
  threads: ThreadTime[],
  totalMs: number,
  wallMs: number,
  roles: WorkerRoles,
  notes: string[],
): FootprintRow["cpu"] {
  const pct = (ms: number) => round1(ms / wallMs * 100);
  const byRole: Record<string, number> = {};
  for (const t of threads) {
    const key = t.tid === pid ? "main" : roles.get(t.name) ?? t.name;
    byRole[key] = (byRole[key] ?? 0) + t.cpuMs;
  }
  for (const role of ["main", "ingest", "analytics"]) {
    if (!(role in byRole)) {
      notes.push(`no thread found for ${role}`);
      byRole[role] = NaN;
    }
  }
  const { main, ingest, analytics } = byRole;
  return {
    total: pct(totalMs),
    main: pct(main),
    ingest: pct(ingest),
    analytics: pct(analytics),
    // Threads that ended inside the window are only in the process total.
    other: pct(Math.max(0, totalMs - (main || 0) - (ingest || 0) - (analytics || 0))),
    byThreadName: Object.fromEntries(
      Object.entries(byRole).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, pct(v)]),
    ),
  };
}

/** Every reading of the window; see {@link runScenario} phase 5. */
async function measure(
  exchange: ExchangeProcess,
  service: ServiceOnExchange,
  clients: ClientsProcess | undefined,
  durationMs: number,
) {
  const sim0 = await getJson<{ framesBehindSkipped: number }>(`${exchange.restUrl}/sim/stats`);
  const c0 = await counters(service.url);
  const threads0 = threadTimes(service.pid);
  const cpu0 = processCpuMs(service.pid);
  const simCpu0 = processCpuMs(exchange.pid);
  const w0 = performance.now();
  clients?.start();
  const rss = [processMemory(service.pid).rssMiB];
  const sampler = setInterval(() => rss.push(processMemory(service.pid).rssMiB), 250);
  await sleep(durationMs);
  clearInterval(sampler);
  const threads1 = threadTimes(service.pid);
  const cpu1 = processCpuMs(service.pid);
  const simCpu1 = processCpuMs(exchange.pid);
  const wallMs = performance.now() - w0;
  const mem = processMemory(service.pid);
  const window = await clients?.stop();
  const c1 = await counters(service.url);
  const sim1 = await getJson<{ framesBehindSkipped: number }>(`${exchange.restUrl}/sim/stats`);
  return {
    wallMs,
    threads: threadCpuDelta(threads0, threads1),
    cpuMs: cpu1 - cpu0,
    simCpuMs: simCpu1 - simCpu0,
    simRssMiB: processMemory(exchange.pid).rssMiB,
    simBehind: sim1.framesBehindSkipped - sim0.framesBehindSkipped,
    mem: {
      ...mem,
      rssMeanMiB: [...rss, mem.rssMiB].reduce((a, b) => a + b, 0) / (rss.length + 1),
      rssStartMiB: rss[0],
      rssMaxMiB: Math.max(...rss, mem.rssMiB),
    },
    c0,
    c1,
    window,
  };
}

/** What one run of a scenario gives: the row, and which worker thread is which. */
interface RunResult {
  row: FootprintRow;
  roles: WorkerRoles;
}

/** `--venue-url` flags pointing the service's venues (but Binance spot) at the simulated exchange. */
function venueUrlArgs(
  exchange: Pick<ExchangeProcess, "wsUrl" | "restUrl">,
  venues: readonly VenueId[],
): string[] {
  const urls = venueUrls(exchange.wsUrl, exchange.restUrl);
  return venues.filter((v) => v !== "binance").flatMap((v) => [
    "--venue-url",
    `${v}=${urls[v].wsUrl}${urls[v].restUrl ? `,${urls[v].restUrl}` : ""}`,
  ]);
}

/**
 * One run of a scenario (phases 1–6 of the module doc); with `inspect`, the
 * service runs with `--inspect` and every isolate is read after the window.
 * `roles` names the worker threads when the inspector does not.
 */
async function runOnce(
  scenario: Scenario,
  options: FootprintOptions,
  inspect: boolean,
  roles: WorkerRoles,
): Promise<RunResult> {
  const rate = options.rate ?? 10;
  const log = options.log ?? (() => {});
  const runtime = options.runtime ?? await startTaskRuntime();
  const startTimeoutMs = (options.startTimeout ?? 120) * 1000;
  const notes: string[] = [];
  const symbolsRun = acceptedSymbols(scenario.symbols);
  if (symbolsRun < scenario.symbols) {
    notes.push(
      `ran ${symbolsRun} of ${scenario.symbols} symbols: the service's --symbols accepts at most ${symbolsRun}`,
    );
  }
  const venues = options.venues ?? ["binance"];
  const symbols = symbolNames(symbolsRun, venues);
  const what = `${symbolsRun} symbols × ${rate}/s, ${scenario.clients} clients` +
    (venues.length > 1 || venues[0] !== "binance" ? ` on ${venues.join(",")}` : "") +
    (inspect ? ", with --inspect" : "");
  log(`footprint: ${what}: starting`);
  const exchange = await spawnExchange({ symbols, rate, startTimeoutMs });
  let service: ServiceOnExchange | undefined;
  let clients: ClientsProcess | undefined;
  try {
    service = await spawnServiceOn(exchange, {
      symbols,
      inspect,
      startTimeoutMs,
      args: [
        "--max-clients",
        String(Math.max(1000, scenario.clients + 100)),
        ...venueUrlArgs(exchange, venues),
        ...(options.serviceArgs ?? []),
      ],
      v8Flags: runtime.v8Flags,
      env: runtime.env,
    });
    const live = service;
    await untilLive(live.url, startTimeoutMs, log).catch((e) => {
      throw new Error(
        `${e instanceof Error ? e.message : e}; service stderr:\n${live.stderrTail()}`,
      );
    });
    if (scenario.clients > 0) {
      log(`footprint: connecting ${scenario.clients} clients`);
      clients = await startClientsProcess({
        url: service.url,
        symbolCount: symbolsRun,
        clients: scenario.clients,
        connectTimeout: startTimeoutMs / 1000,
      });
      const r = clients.ready;
      if (r.connected < r.clients || r.flowing < r.connected) {
        notes.push(
          `${r.connected}/${r.clients} clients connected, ${r.flowing} received frames` +
            (r.connectError ? ` (${r.connectError})` : ""),
        );
      }
    }
    const warmup = options.warmup ?? 10;
    const duration = options.duration ?? 20;
    const windowSeconds = inspect ? Math.min(duration, options.isolatesDuration ?? 3) : duration;
    log(`footprint: warming up ${warmup} s, then measuring ${windowSeconds} s`);
    await sleep(warmup * 1000);
    const m = await measure(exchange, service, clients, windowSeconds * 1000);
    const mainIsolateMetrics = await mainIsolateFromMetrics(service.url);
    let isolates = [mainIsolateMetrics];
    if (inspect) {
      if (!service.inspectorUrl) throw new Error("the service printed no inspector URL");
      const read = await isolateMemory(service.inspectorUrl);
      roles = rolesOf(read);
      isolates = read.map((i) => ({
        name: isolateName(i),
        heapUsedMiB: round1(i.heapUsed / MIB),
        heapTotalMiB: round1(i.heapTotal / MIB),
        externalMiB: round1(i.external / MIB),
        arrayBuffersMiB: round1(i.arrayBuffers / MIB),
      }));
    }
    const cpu = splitCpu(service.pid, m.threads, m.cpuMs, m.wallMs, roles, notes);
    const seconds = (m.c1.at - m.c0.at) / 1000;
    const disconnects: Record<string, number> = {};
    for (const [reason, n] of Object.entries(m.c1.disconnects)) {
      const d = n - (m.c0.disconnects[reason] ?? 0);
      if (d > 0) disconnects[reason] = d;
    }
    if (m.simBehind > 0) notes.push(`the exchange fell behind: ${m.simBehind} frames skipped`);
    const w = m.window;
    const row: FootprintRow = {
      scenario,
      symbolsRun,
      notes,
      windowSeconds: round1(m.wallMs / 1000),
      framesPerSecond: {
        received: Math.round((m.c1.received - m.c0.received) / seconds),
        expected: symbolsRun * rate,
      },
      memory: {
        rssMiB: round1(m.mem.rssMeanMiB),
        rssStartMiB: round1(m.mem.rssStartMiB),
        rssEndMiB: round1(m.mem.rssMiB),
        rssMaxMiB: round1(m.mem.rssMaxMiB),
        hwmMiB: round1(m.mem.hwmMiB),
        anonMiB: round1(m.mem.anonMiB),
      },
      isolates,
      mainIsolateMetrics,
      inspectRun: null,
      cpu,
      latency: w
        ? { p50: w.lag.receive.p50, p99: w.lag.receive.p99, max: w.lag.receive.max }
        : null,
      clients: w && clients ? { ...clients.ready, window: w } : null,
      drops: {
        raw: m.c1.rawDropped - m.c0.rawDropped,
        processed: m.c1.processedDropped - m.c0.processedDropped,
        rawSinceStart: m.c1.rawDropped,
        processedSinceStart: m.c1.processedDropped,
      },
      skipped: { window: m.c1.skipped - m.c0.skipped, sinceStart: m.c1.skipped },
      disconnects,
      workerRestarts: m.c1.restarts,
      exchange: {
        cpu: round1(m.simCpuMs / m.wallMs * 100),
        rssMiB: round1(m.simRssMiB),
        framesBehindSkipped: m.simBehind,
      },
    };
    return { row, roles };
  } finally {
    await clients?.close();
    await service?.stop();
    await exchange.stop();
  }
}

/**
 * Measure one scenario: with `isolates` (the default) a short `--inspect`
 * run for the memory of each isolate, then the measured run (see the module
 * doc).
 *
 * @throws Error when a process fails to start, the symbols do not go live or
 *   the clients do not connect in time.
 * @example
 * ```ts ignore
 * const row = await runScenario({ symbols: 200, clients: 0 }, { duration: 10 });
 * console.log(row.memory.rssMiB, row.isolates.map((i) => i.heapUsedMiB));
 * ```
 */
export async function runScenario(
  scenario: Scenario,
  options: FootprintOptions = {},
): Promise<FootprintRow> {
  if (options.isolates === false) {
    const { row } = await runOnce(scenario, options, false, spawnOrder(options.serviceArgs));
    row.notes.push("worker threads named by the supervisor's spawn order; no heap of the workers");
    return row;
  }
  const inspected = await runOnce(scenario, options, true, spawnOrder(options.serviceArgs));
  const { row } = await runOnce(scenario, options, false, inspected.roles);
  row.isolates = inspected.row.isolates;
  row.inspectRun = {
    rssMiB: inspected.row.memory.rssMiB,
    hwmMiB: inspected.row.memory.hwmMiB,
  };
  return row;
}
