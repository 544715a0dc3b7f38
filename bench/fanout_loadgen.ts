/**
 * Fan-out load generator: opens N WebSocket clients against a running
 * depthwatch service (`GET /ws`), each subscribed to one symbol (round-robin
 * over `--symbols`), and measures what they receive. Run it as a SEPARATE
 * process from the service, so that the client side's CPU is not charged to
 * the server and the server's event loop is not slowed by the clients:
 *
 * ```sh
 * deno run -A bench/fanout_loadgen.ts --url http://127.0.0.1:8000/ \
 *   --clients 1000 --symbols BTCUSDT,ETHUSDT --warmup 1 --duration 5 --pid 12345
 * ```
 *
 * Phases: connect (at most `--concurrency` handshakes in flight, each within
 * `--connect-timeout` seconds), wait until every client has received a frame
 * (at most `--connect-timeout` seconds more: a service that just started may
 * not publish yet), warm-up (`--warmup` s, nothing counted), then
 * the measurement window (`--duration` s). One JSON line is printed on stdout
 * at the end ({@link LoadResult}); progress goes to stderr.
 *
 * Per frame received in the window the generator reads the frame's `seq` and
 * its latency stamps (`event_time`, `receive_time`, `analysed_time`,
 * `sent_time`, epoch ms stamped by the service on this machine) and records
 * `client receive time − stamp` in fixed 0.1 ms histograms (bounded memory
 * whatever the run length). By default the stamps are read by a small
 * protobuf wire scanner that stops after field 10 of the `Frame` (the
 * service writes fields in number order); `--decode full` decodes every
 * message with `@bufbuild/protobuf` and the generated schema instead (slower
 * client, same numbers). A jump in a client's `seq` counts the frames it
 * missed (conflated away by the hub); the client does not resync, to keep
 * its own load constant.
 *
 * With `--pid` (the service's process id) it also samples the service's CPU
 * (utime + stime from `/proc/<pid>/stat`) and resident memory (`VmRSS` from
 * `/proc/<pid>/status`), and with the service's `/metrics` it counts
 * `depthwatch_ws_disconnects_total` during the window. Per-core busy time of
 * the whole machine comes from `/proc/stat`. Linux only for those samples.
 *
 * Mind the file-descriptor limit: every client is one socket in this process
 * and one in the service (`ulimit -n` must exceed N plus a few dozen).
 *
 * @example
 * ```ts ignore
 * const child = new Deno.Command(Deno.execPath(), {
 *   args: ["run", "-A", "bench/fanout_loadgen.ts", "--url", url, "--clients", "100"],
 *   stdout: "piped",
 * }).spawn();
 * const out = new TextDecoder().decode((await child.output()).stdout).trim().split("\n");
 * const result: LoadResult = JSON.parse(out[out.length - 1]);
 * console.log(result.lag.sent.p99);
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { fromBinary } from "@bufbuild/protobuf";
import { ServerMessageSchema } from "../proto/gen/market_pb.ts";

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
  /** Seconds allowed for one handshake (open). Default 20. */
  connectTimeout?: number;
  /** Seconds after the last client connected before counting starts. Default 1. */
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

/** Quantiles of one latency, ms. */
export interface LagSummary {
  /** Samples recorded. */
  count: number;
  /** Median, ms (0.1 ms resolution). */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** 99.9th percentile, ms. */
  p999: number;
  /** Largest sample, ms. */
  max: number;
  /** Samples below zero (clock disagreement), counted as 0. */
  negative: number;
}

/** The JSON line the load generator prints. */
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

const BUCKET_MS = 0.1;
const BUCKETS = 300_000; // 30 s at 0.1 ms; larger samples go to the overflow count

/** Fixed-bucket latency histogram (0.1 ms, up to 30 s; max kept exactly). */
class LagHistogram {
  readonly counts = new Uint32Array(BUCKETS + 1);
  count = 0;
  max = 0;
  negative = 0;

  record(ms: number): void {
    if (!(ms >= 0)) {
      if (ms !== ms) return; // NaN: stamp absent
      this.negative++;
      ms = 0;
    }
    const b = Math.min(BUCKETS, Math.floor(ms / BUCKET_MS));
    this.counts[b]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) return b === BUCKETS ? this.max : Math.min((b + 1) * BUCKET_MS, this.max);
    }
    return this.max;
  }

  summary(): LagSummary {
    const r = (v: number) => Math.round(v * 10) / 10;
    return {
      count: this.count,
      p50: r(this.quantile(0.5)),
      p99: r(this.quantile(0.99)),
      p999: r(this.quantile(0.999)),
      max: r(this.max),
      negative: this.negative,
    };
  }
}

/** Stamps of one frame, filled by the scanners (NaN when absent). */
interface Stamps {
  kind: number; // ServerMessage field number: 1 hello, 2 frame, 3 error, 4 heartbeat
  seq: number;
  event: number;
  receive: number;
  analysed: number;
  sent: number;
}

function varint(bytes: Uint8Array, at: { pos: number }): number {
  let v = 0, shift = 0, b: number;
  do {
    b = bytes[at.pos++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80 && shift < 64);
  return v;
}

/**
 * Read kind, seq and stamps from `ServerMessage` bytes without decoding the
 * whole message. Proto3 omits zero doubles: an absent seq or stamp reads 0
 * for seq and NaN for stamps.
 */
function scan(bytes: Uint8Array, out: Stamps): void {
  out.kind = 0;
  out.seq = 0;
  out.event =
    out.receive =
    out.analysed =
    out.sent =
      NaN;
  const at = { pos: 0 };
  const tag = varint(bytes, at);
  out.kind = tag >>> 3;
  if (out.kind !== 2 || (tag & 7) !== 2) return;
  const len = varint(bytes, at);
  const end = at.pos + len;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (at.pos < end) {
    const t = varint(bytes, at);
    const field = t >>> 3, wire = t & 7;
    if (field > 10) return;
    if (wire === 1) {
      const v = view.getFloat64(at.pos, true);
      at.pos += 8;
      if (field === 2) out.seq = v;
      else if (field === 5) out.event = v;
      else if (field === 6) out.receive = v;
      else if (field === 8) out.analysed = v;
      else if (field === 10) out.sent = v;
    } else if (wire === 0) varint(bytes, at);
    else if (wire === 2) {
      const skip = varint(bytes, at); // read first: `at.pos += varint()` would lose its advance
      at.pos += skip;
    } else if (wire === 5) at.pos += 4;
    else return;
  }
}

/** The same as {@link scan}, through `@bufbuild/protobuf` and the generated schema. */
function decodeFull(bytes: Uint8Array, out: Stamps): void {
  const m = fromBinary(ServerMessageSchema, bytes);
  out.seq = 0;
  out.event =
    out.receive =
    out.analysed =
    out.sent =
      NaN;
  switch (m.kind.case) {
    case "hello":
      out.kind = 1;
      return;
    case "frame": {
      const f = m.kind.value;
      out.kind = 2;
      out.seq = f.seq;
      // proto3: an absent double decodes as 0; the scanner reports NaN for those.
      out.event = f.eventTime || NaN;
      out.receive = f.receiveTime || NaN;
      out.analysed = f.analysedTime || NaN;
      out.sent = f.sentTime || NaN;
      return;
    }
    case "error":
      out.kind = 3;
      return;
    default:
      out.kind = 4;
  }
}

/** utime + stime of a process, ms. */
function processCpuMs(pid: number | "self"): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ = 100 on Linux
}

/** VmRSS of a process, MiB. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Per-core [busy, total] jiffies from /proc/stat. */
function coreTimes(): [number, number][] {
  const out: [number, number][] = [];
  for (const line of Deno.readTextFileSync("/proc/stat").split("\n")) {
    if (!/^cpu\d+ /.test(line)) continue;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out.push([total - v[3] - v[4], total]);
  }
  return out;
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

function now(): number {
  return performance.timeOrigin + performance.now();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run the load: connect, warm up, measure, close every client.
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
  const symbols = options.symbols ?? ["BTCUSDT", "ETHUSDT"];
  const concurrency = options.concurrency ?? 50;
  const connectTimeoutMs = (options.connectTimeout ?? 20) * 1000;
  const warmupMs = (options.warmup ?? 1) * 1000;
  const durationMs = (options.duration ?? 5) * 1000;
  const decode = options.decode === "full" ? decodeFull : scan;
  const log = options.log ?? ((line: string) => console.error(line));
  const wsBase = new URL("ws", options.url);
  wsBase.protocol = wsBase.protocol === "https:" ? "wss:" : "ws:";

  const lag = {
    sent: new LagHistogram(),
    analysed: new LagHistogram(),
    receive: new LagHistogram(),
    event: new LagHistogram(),
  };
  const frames = new Float64Array(n);
  const lastSeq = new Float64Array(n);
  const gaps = new Float64Array(n);
  const sockets: (WebSocket | null)[] = new Array(n).fill(null);
  const opened = new Uint8Array(n);
  const flowing = new Uint8Array(n); // 1 once the client got its first frame
  let flowingCount = 0;
  const closedInWindow: Record<string, number> = {};
  let measuring = false;
  let hellos = 0;
  let connectFailed = 0;
  let connectError: string | undefined;
  const stamps: Stamps = { kind: 0, seq: 0, event: NaN, receive: NaN, analysed: NaN, sent: NaN };

  function open(i: number): Promise<void> {
    const url = new URL(wsBase);
    url.searchParams.set("symbol", symbols[i % symbols.length]);
    if (options.token) url.searchParams.set("token", options.token);
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      let settled = false;
      const timer = setTimeout(() => fail(new Error("connect timeout")), connectTimeoutMs);
      function fail(e: unknown): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        connectFailed++;
        connectError ??= e instanceof Error ? e.message : String(e);
        try {
          ws.close();
        } catch { /* not open */ }
        resolve();
      }
      ws.onopen = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sockets[i] = ws;
        opened[i] = 1;
        resolve();
      };
      ws.onerror = (e) => fail((e as ErrorEvent).message ?? "error");
      ws.onclose = (e) => {
        if (!settled) return fail(new Error(`closed ${e.code} before open`));
        sockets[i] = null;
        if (measuring) closedInWindow[e.code] = (closedInWindow[e.code] ?? 0) + 1;
      };
      ws.onmessage = (e) => {
        const t = now();
        decode(new Uint8Array(e.data as ArrayBuffer), stamps);
        if (stamps.kind === 1) {
          hellos++;
          lastSeq[i] = 0; // the next frame sets the reference
          return;
        }
        if (stamps.kind !== 2) return;
        if (flowing[i] === 0) {
          flowing[i] = 1;
          flowingCount++;
        }
        const expected = lastSeq[i] + 1;
        lastSeq[i] = stamps.seq;
        if (!measuring) return;
        frames[i]++;
        if (expected > 1 && stamps.seq > expected) gaps[i] += stamps.seq - expected;
        lag.sent.record(t - stamps.sent);
        lag.analysed.record(t - stamps.analysed);
        lag.receive.record(t - stamps.receive);
        lag.event.record(t - stamps.event);
      };
    });
  }

  // Connect with bounded concurrency.
  const t0 = performance.now();
  let next = 0;
  let lastLog = t0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        await open(next++);
        if (performance.now() - lastLog > 1000) {
          lastLog = performance.now();
          log(`loadgen: ${next}/${n} connecting, ${connectFailed} failed`);
        }
      }
    }),
  );
  const connectSeconds = (performance.now() - t0) / 1000;
  const connected = opened.reduce((a, b) => a + b, 0);
  log(`loadgen: ${connected}/${n} connected in ${connectSeconds.toFixed(1)} s`);
  // A service that just started may not publish yet: wait (bounded) for frames to flow.
  const flowDeadline = performance.now() + connectTimeoutMs;
  while (flowingCount < connected && performance.now() < flowDeadline) await sleep(50);
  log(`loadgen: ${flowingCount}/${connected} clients receiving frames`);
  await sleep(warmupMs);

  // Event-loop delay of this process (a busy client inflates the lags it reports).
  const loop = new LagHistogram();
  let tick = performance.now();
  const ticker = setInterval(() => {
    const t = performance.now();
    loop.record(t - tick - 10);
    tick = t;
  }, 10);

  // Window start.
  const pid = options.pid;
  const d0 = await disconnectTotals(options.url, options.token).catch(() => undefined);
  const cpu0 = pid ? processCpuMs(pid) : 0;
  const self0 = processCpuMs("self");
  const rssStart = pid ? rssMiB(pid) : NaN;
  let rssMax = rssStart;
  const cores0 = coreTimes();
  const w0 = performance.now();
  measuring = true;
  const sampler = setInterval(() => {
    if (pid) rssMax = Math.max(rssMax, rssMiB(pid));
  }, 250);
  await sleep(durationMs);
  measuring = false;
  const w1 = performance.now();
  clearInterval(sampler);
  clearInterval(ticker);
  const wall = w1 - w0;
  const cpu1 = pid ? processCpuMs(pid) : 0;
  const self1 = processCpuMs("self");
  const rssEnd = pid ? rssMiB(pid) : NaN;
  const cores1 = coreTimes();
  const d1 = await disconnectTotals(options.url, options.token).catch(() => undefined);

  const per = [...frames.filter((_, i) => opened[i] === 1)].sort((a, b) => a - b);
  const total = per.reduce((a, b) => a + b, 0);
  const result: LoadResult = {
    clients: n,
    connected,
    connectFailed,
    connectError,
    connectSeconds: Math.round(connectSeconds * 100) / 100,
    hellos,
    windowSeconds: Math.round(wall) / 1000,
    frames: total,
    framesPerClient: {
      min: per[0] ?? 0,
      p50: per[per.length >> 1] ?? 0,
      mean: per.length ? Math.round((total / per.length) * 10) / 10 : 0,
      max: per[per.length - 1] ?? 0,
    },
    seqMissed: gaps.reduce((a, b) => a + b, 0),
    clientsWithGaps: gaps.filter((g) => g > 0).length,
    closedInWindow,
    lag: {
      sent: lag.sent.summary(),
      analysed: lag.analysed.summary(),
      receive: lag.receive.summary(),
      event: lag.event.summary(),
    },
    loadgen: {
      cpuCores: Math.round(((self1 - self0) / wall) * 100) / 100,
      loopDelayP99: loop.summary().p99,
      loopDelayMax: loop.summary().max,
    },
  };
  if (pid) {
    const r = (v: number) => Math.round(v * 10) / 10;
    result.server = {
      cpuCores: Math.round(((cpu1 - cpu0) / wall) * 100) / 100,
      rssStartMiB: r(rssStart),
      rssMaxMiB: r(Math.max(rssMax, rssEnd)),
      rssEndMiB: r(rssEnd),
    };
  }
  if (d0 && d1) {
    result.disconnects = {};
    for (const k of Object.keys(d1)) result.disconnects[k] = d1[k] - (d0[k] ?? 0);
  }
  if (cores0.length === cores1.length) {
    result.coreBusy = cores1.map(([b, t], i) => {
      const dt = t - cores0[i][1];
      return dt > 0 ? Math.round(((b - cores0[i][0]) / dt) * 1000) / 1000 : 0;
    });
  }
  for (const ws of sockets) {
    try {
      ws?.close(1000, "load generator done");
    } catch { /* already closed */ }
  }
  return result;
}

/** Repository root (the folder holding `main.ts`). */
const ROOT = new URL("../", import.meta.url);

/** A depthwatch service running as a child process (see {@link spawnService}). */
export interface ServiceProcess {
  /** Base URL the service printed, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** Process id (a `deno run` process: its workers are threads of it). */
  readonly pid: number;
  /** The last few KiB the service wrote to stderr (its log). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link spawnService}. */
export interface SpawnServiceOptions {
  /** Extra `main.ts` flags, e.g. `["--symbols", "btcusdt", "--sim-rate", "100"]`. Default `[]`. */
  args?: readonly string[];
  /** Give up when the service has not printed its URL within this many ms. Default 60000. */
  startTimeoutMs?: number;
}

async function drainLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    rest += decoder.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  if (rest) onLine(rest);
}

/**
 * Start `deno run -A main.ts --source sim --port 0 --log-level warn <args>` and
 * wait for its `depthwatch listening on <url>` line. Its stdout is drained,
 * its stderr kept as a bounded tail.
 *
 * @throws Error when the service exits or stays silent past `startTimeoutMs`.
 * @example
 * ```ts ignore
 * const service = await spawnService({ args: ["--sim-rate", "100", "--max-clients", "3000"] });
 * console.log(service.url, service.pid);
 * await service.stop();
 * ```
 */
export async function spawnService(options: SpawnServiceOptions = {}): Promise<ServiceProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "main.ts",
      "--source",
      "sim",
      "--port",
      "0",
      "--log-level",
      "warn",
      ...(options.args ?? []),
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  drainLines(child.stderr, (line) => {
    tail = (tail + line + "\n").slice(-4096);
  }).catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the service printed no URL in time; stderr:\n${tail}`)),
      options.startTimeoutMs ?? 60_000,
    );
    drainLines(child.stdout, (line) => {
      const m = /depthwatch listening on (\S+)/.exec(line);
      if (m) resolve(m[1]);
    }).catch(() => {});
    child.status.then((s) =>
      reject(new Error(`the service exited with code ${s.code} before listening:\n${tail}`))
    );
  }).finally(() => clearTimeout(timer));
  let stopping: Promise<void> | undefined;
  return {
    url,
    pid: child.pid,
    stderrTail: () => tail,
    stop: (graceMs = 5000) =>
      stopping ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        let kill: ReturnType<typeof setTimeout> | undefined;
        const killed = new Promise<void>((r) =>
          kill = setTimeout(() => {
            try {
              child.kill("SIGKILL");
            } catch { /* already gone */ }
            r();
          }, graceMs)
        );
        await Promise.race([child.status, killed]);
        clearTimeout(kill);
        await child.status;
      })(),
  };
}

/**
 * Run this load generator as a separate `deno run` process with `options`
 * and return its {@link LoadResult}. `options.log` is not used: with
 * `verbose` the child's progress goes to this process's stderr, otherwise it
 * is discarded. The child is killed after `maxSeconds` (default: connect
 * budget + warm-up + window + 60 s).
 *
 * @throws Error when the child fails or prints no result.
 * @example
 * ```ts ignore
 * const service = await spawnService();
 * const result = await runLoadProcess({ url: service.url, clients: 500, pid: service.pid });
 * await service.stop();
 * ```
 */
export async function runLoadProcess(
  options: LoadOptions & { verbose?: boolean; maxSeconds?: number },
): Promise<LoadResult> {
  const o = options;
  const args = ["run", "-A", new URL(import.meta.url).pathname, "--url", o.url];
  const add = (flag: string, v: unknown) => {
    if (v !== undefined) args.push(flag, Array.isArray(v) ? v.join(",") : String(v));
  };
  add("--clients", o.clients);
  add("--symbols", o.symbols);
  add("--concurrency", o.concurrency);
  add("--connect-timeout", o.connectTimeout);
  add("--warmup", o.warmup);
  add("--duration", o.duration);
  add("--pid", o.pid);
  add("--decode", o.decode);
  add("--token", o.token);
  const maxSeconds = o.maxSeconds ??
    (o.connectTimeout ?? 20) + (o.warmup ?? 1) + (o.duration ?? 5) + 60;
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: o.verbose ? "inherit" : "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, maxSeconds * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const last = lines[lines.length - 1];
  if (!last?.startsWith("{")) {
    throw new Error(`load generator exited with code ${out.code} and no result`);
  }
  return JSON.parse(last) as LoadResult;
}

/**
 * The soft limit on open files of this process (`Max open files` in
 * `/proc/self/limits`); `Infinity` when unlimited, NaN when unknown.
 *
 * @example
 * ```ts ignore
 * if (openFileLimit() < 2 * clients + 100) console.warn("raise ulimit -n");
 * ```
 */
export function openFileLimit(): number {
  try {
    const m = /Max open files\s+(\S+)/.exec(Deno.readTextFileSync("/proc/self/limits"));
    if (!m) return NaN;
    return m[1] === "unlimited" ? Infinity : Number(m[1]);
  } catch {
    return NaN;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string" },
      clients: { type: "string", default: "100" },
      symbols: { type: "string", default: "BTCUSDT,ETHUSDT" },
      concurrency: { type: "string", default: "50" },
      "connect-timeout": { type: "string", default: "20" },
      warmup: { type: "string", default: "1" },
      duration: { type: "string", default: "5" },
      pid: { type: "string" },
      decode: { type: "string", default: "scan" },
      token: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || !values.url) {
    console.error(
      "usage: deno run -A bench/fanout_loadgen.ts --url http://127.0.0.1:PORT/ [--clients 100]\n" +
        "  [--symbols BTCUSDT,ETHUSDT] [--concurrency 50] [--connect-timeout 20] [--warmup 1]\n" +
        "  [--duration 5] [--pid SERVICE_PID] [--decode scan|full] [--token T]\n" +
        "Prints one JSON line (LoadResult) on stdout.",
    );
    Deno.exit(values.help ? 0 : 2);
  }
  const result = await runLoad({
    url: values.url,
    clients: Number(values.clients),
    symbols: values.symbols.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean),
    concurrency: Number(values.concurrency),
    connectTimeout: Number(values["connect-timeout"]),
    warmup: Number(values.warmup),
    duration: Number(values.duration),
    pid: values.pid ? Number(values.pid) : undefined,
    decode: values.decode === "full" ? "full" : "scan",
    token: values.token,
  });
  console.log(JSON.stringify(result));
  // Closing thousands of sockets politely is not part of the measurement.
  setTimeout(() => Deno.exit(0), 500);
}
