/**
 * Fan-out load: {@link runLoad} opens N WebSocket clients against a running
 * depthwatch service ({@link FanoutClients}) and measures what they receive.
 * Run it in a SEPARATE process from the service (`runLoadProcess` in
 * `testing/fanout_load_process.ts`), so that the client side's CPU is not
 * charged to the server and the server's event loop is not slowed by the
 * clients.
 *
 * Phases: connect (at most `concurrency` handshakes in flight, each within
 * `connectTimeout` seconds), wait until every client has received a frame (at
 * most `connectTimeout` seconds more: a service that just started may not
 * publish yet), warm-up (`warmup` s, nothing counted), then the measurement
 * window (`duration` s).
 *
 * Per frame received in the window it records `client receive time − stamp`
 * for the frame's `event_time`, `receive_time`, `analysed_time` and
 * `sent_time` (epoch ms stamped by the service on this machine) in fixed
 * 0.1 ms histograms (bounded memory whatever the run length), read with the
 * wire scanner of `testing/frame_stamps.ts` or, with `decode: "full"`,
 * `@bufbuild/protobuf` (slower client, same numbers).
 *
 * With `pid` (the service's process id) it also samples the service's CPU
 * and resident memory, and with the service's `/metrics` it counts
 * `depthwatch_ws_disconnects_total` during the window. Per-core busy time of
 * the whole machine comes from `/proc/stat` (`testing/proc_stats.ts`). Linux
 * only for those samples.
 *
 * Mind the file-descriptor limit: every client is one socket in this process
 * and one in the service (`ulimit -n` must exceed N plus a few dozen).
 *
 * @example
 * ```ts ignore
 * const result = await runLoad({ url: "http://127.0.0.1:8000/", clients: 200, duration: 3 });
 * console.log(result.lag.sent.p99); // ms
 * ```
 * @module
 */

import { FanoutClients } from "./fanout_clients.ts";
import { LagHistogram, type LagSummary } from "./lag_histogram.ts";
import { coreBusy, coreTimes, processCpuMs, processRssMiB } from "./proc_stats.ts";

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:8000/`. Required. */
  url: string;
  /** Number of WebSocket clients. Default 100. */
  clients?: number;
  /** Symbols the clients subscribe to, round-robin (client i gets symbol i mod n). Default `["BTCUSDT", "ETHUSDT"]`. */
  symbols?: readonly string[];
  /** Handshakes in flight at once. Default 50. */
  concurrency?: number;
  /** Seconds allowed for one handshake (open), and again for every client's first frame. Default 20. */
  connectTimeout?: number;
  /** Seconds after the last client received its first frame before counting starts. Default 1. */
  warmup?: number;
  /** Length of the measurement window in seconds. Default 5. */
  duration?: number;
  /** Process id of the service, for CPU and RSS samples; `undefined` for none. Default none. */
  pid?: number;
  /** `"scan"` reads the stamps with a wire scanner; `"full"` decodes with `@bufbuild/protobuf`. Default `"scan"`. */
  decode?: "scan" | "full";
  /** Auth token sent as `?token=` when the service needs one. Default none. */
  token?: string;
  /** Progress messages (one line each). Default: write to stderr. */
  log?: (line: string) => void;
}

/** What {@link runLoad} measured (the load generator prints it as one JSON line). */
export interface LoadResult {
  /** Clients asked for. */
  clients: number;
  /** Clients whose socket opened. */
  connected: number;
  /** Clients that failed to open (refused, timed out). */
  connectFailed: number;
  /** First connect error, for the report. */
  connectError?: string;
  /** Seconds the connect phase took. */
  connectSeconds: number;
  /** Hello messages received (one per client expected). */
  hellos: number;
  /** Length of the measurement window, seconds (measured). */
  windowSeconds: number;
  /** Frames received in the window, all clients. */
  frames: number;
  /** Frames per client in the window: min, median, mean, max (over the clients that connected). */
  framesPerClient: { min: number; p50: number; mean: number; max: number };
  /** Frames missed by seq jumps (conflated by the hub), all clients. */
  seqMissed: number;
  /** Clients that saw at least one seq jump. */
  clientsWithGaps: number;
  /** Client sockets closed by the server during the window, by close code. */
  closedInWindow: Record<string, number>;
  /** Lag = client receive time − stamp, per stamp. `event` only has samples when frames carry an exchange event time. */
  lag: { sent: LagSummary; analysed: LagSummary; receive: LagSummary; event: LagSummary };
  /** Service process samples (with `pid`): CPU in cores (1.0 = one core busy), RSS in MiB. */
  server?: { cpuCores: number; rssStartMiB: number; rssMaxMiB: number; rssEndMiB: number };
  /** `depthwatch_ws_disconnects_total` increase during the window, by reason (from /metrics). */
  disconnects?: Record<string, number>;
  /** Machine: busy fraction per core during the window (from /proc/stat). */
  coreBusy?: number[];
  /** This load generator: CPU in cores during the window, and its event-loop delay (ms) of a 10 ms timer. */
  loadgen: { cpuCores: number; loopDelayP99: number; loopDelayMax: number };
}

/** `depthwatch_ws_disconnects_total` by reason, from the service's /metrics. */
async function disconnectTotals(base: string, token?: string): Promise<Record<string, number>> {
  const url = new URL("metrics", base);
  if (token) url.searchParams.set("token", token);
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^depthwatch_ws_disconnects_total\{[^}]*reason="([^"]+)"[^}]*\}\s+(\S+)/.exec(line);
    if (m) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Round to `digits` decimals. */
const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** The window's readings besides the clients' own counts. */
type WindowReadings = Pick<LoadResult, "server" | "disconnects" | "coreBusy" | "loadgen"> & {
  /** Measured window length, ms. */
  wallMs: number;
};

/**
 * Measure one window of `durationMs` with `clients.measuring` set: the
 * service's CPU and RSS (with `pid`), the machine's cores, this process's CPU
 * and event-loop delay, and the disconnects the service counted.
 */
async function measureWindow(
  clients: FanoutClients,
  durationMs: number,
  options: LoadOptions,
): Promise<WindowReadings> {
  // Event-loop delay of this process (a busy client inflates the lags it reports).
  const loop = new LagHistogram();
  let tick = performance.now();
  const ticker = setInterval(() => {
    const t = performance.now();
    loop.record(t - tick - 10);
    tick = t;
  }, 10);

  const pid = options.pid;
  const d0 = await disconnectTotals(options.url, options.token).catch(() => undefined);
  const cpu0 = pid ? processCpuMs(pid) : 0;
  const self0 = processCpuMs("self");
  const rssStart = pid ? processRssMiB(pid) : NaN;
  let rssMax = rssStart;
  const cores0 = coreTimes();
  const w0 = performance.now();
  clients.measuring = true;
  const sampler = setInterval(() => {
    if (pid) rssMax = Math.max(rssMax, processRssMiB(pid));
  }, 250);
  await sleep(durationMs);
  clients.measuring = false;
  const wallMs = performance.now() - w0;
  clearInterval(sampler);
  clearInterval(ticker);
  const cpu1 = pid ? processCpuMs(pid) : 0;
  const self1 = processCpuMs("self");
  const rssEnd = pid ? processRssMiB(pid) : NaN;
  const cores1 = coreTimes();
  const d1 = await disconnectTotals(options.url, options.token).catch(() => undefined);

  const loopSummary = loop.summary();
  const out: WindowReadings = {
    wallMs,
    coreBusy: coreBusy(cores0, cores1),
    loadgen: {
      cpuCores: round((self1 - self0) / wallMs, 2),
      loopDelayP99: loopSummary.p99,
      loopDelayMax: loopSummary.max,
    },
  };
  if (pid) {
    out.server = {
      cpuCores: round((cpu1 - cpu0) / wallMs, 2),
      rssStartMiB: round(rssStart, 1),
      rssMaxMiB: round(Math.max(rssMax, rssEnd), 1),
      rssEndMiB: round(rssEnd, 1),
    };
  }
  if (d0 && d1) {
    out.disconnects = {};
    for (const k of Object.keys(d1)) out.disconnects[k] = d1[k] - (d0[k] ?? 0);
  }
  return out;
}

/** The {@link LoadResult} of `clients` after a window. */
function loadResult(
  clients: FanoutClients,
  n: number,
  connectSeconds: number,
  window: WindowReadings,
): LoadResult {
  const per = clients.framesPerClient();
  const total = per.reduce((a, b) => a + b, 0);
  const { wallMs, ...readings } = window;
  const result: LoadResult = {
    clients: n,
    connected: per.length,
    connectFailed: clients.connectFailed,
    connectError: clients.connectError,
    connectSeconds: round(connectSeconds, 2),
    hellos: clients.hellos,
    windowSeconds: Math.round(wallMs) / 1000,
    frames: total,
    framesPerClient: {
      min: per[0] ?? 0,
      p50: per[per.length >> 1] ?? 0,
      mean: per.length ? round(total / per.length, 1) : 0,
      max: per[per.length - 1] ?? 0,
    },
    seqMissed: clients.gaps.reduce((a, b) => a + b, 0),
    clientsWithGaps: clients.gaps.filter((g) => g > 0).length,
    closedInWindow: clients.closedInWindow,
    lag: {
      sent: clients.lag.sent.summary(),
      analysed: clients.lag.analysed.summary(),
      receive: clients.lag.receive.summary(),
      event: clients.lag.event.summary(),
    },
    loadgen: readings.loadgen,
  };
  if (readings.server) result.server = readings.server;
  if (readings.disconnects) result.disconnects = readings.disconnects;
  if (readings.coreBusy) result.coreBusy = readings.coreBusy;
  return result;
}

/**
 * Run the load: connect, wait for frames, warm up, measure, close every
 * client.
 *
 * @returns the measured {@link LoadResult}.
 * @example
 * ```ts ignore
 * const result = await runLoad({ url: "http://127.0.0.1:8000/", clients: 200, duration: 3 });
 * result.lag.sent.p99; // ms
 * ```
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const n = options.clients ?? 100;
  const connectTimeoutMs = (options.connectTimeout ?? 20) * 1000;
  const log = options.log ?? ((line: string) => console.error(line));
  const clients = new FanoutClients(n, {
    url: options.url,
    symbols: options.symbols ?? ["BTCUSDT", "ETHUSDT"],
    token: options.token,
    connectTimeoutMs,
    decode: options.decode,
  });

  const t0 = performance.now();
  const connected = await clients.connect(options.concurrency ?? 50, log);
  const connectSeconds = (performance.now() - t0) / 1000;
  log(`loadgen: ${connected}/${n} connected in ${connectSeconds.toFixed(1)} s`);
  // A service that just started may not publish yet: wait (bounded) for frames to flow.
  await clients.untilFlowing(connectTimeoutMs);
  log(`loadgen: ${clients.flowingCount}/${connected} clients receiving frames`);
  await sleep((options.warmup ?? 1) * 1000);

  const window = await measureWindow(clients, (options.duration ?? 5) * 1000, options);
  const result = loadResult(clients, n, connectSeconds, window);
  clients.close();
  return result;
}
