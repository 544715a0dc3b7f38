/**
 * The dashboard clients of a footprint run, in their own process: N real
 * WebSocket clients of the service ({@link FanoutClients}), one symbol each,
 * spread evenly over the symbols ({@link clientSymbols}). Unlike the fan-out
 * load generator (`testing/fanout_load_process.ts`, which runs its own
 * warm-up and window), this process is driven by the footprint run over
 * stdin, so that its window is the same as the one in which the service's
 * threads are measured:
 *
 * 1. it connects every client and waits until each has received a frame,
 *    then prints `{"event":"ready",…}` ({@link ClientsReady});
 * 2. `start` on stdin opens the window (frames, lags and closes counted);
 * 3. `stop` closes it and prints `{"event":"window",…}` ({@link ClientsWindow});
 * 4. end of stdin closes the clients and exits.
 *
 * {@link startClientsProcess} is the other end.
 *
 * ```sh
 * deno run -A testing/footprint_clients.ts --url http://127.0.0.1:8000/ \
 *   --symbol-count 2000 --clients 1000
 * ```
 *
 * @example
 * ```ts ignore
 * const clients = await startClientsProcess({ url: service.url, symbolCount: 2, clients: 1 });
 * clients.start();
 * await new Promise((r) => setTimeout(r, 5000));
 * const window = await clients.stop();
 * await clients.close();
 * console.log(window.lag.receive.p99, window.frames);
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { FanoutClients } from "./fanout_clients.ts";
import { LagHistogram, type LagSummary } from "./lag_histogram.ts";
import { processCpuMs } from "./proc_stats.ts";
import { drainLines, stopChild } from "./service_process.ts";
import { clientSymbols, symbolNames } from "./footprint_scenario.ts";

/** What the clients process reports once every client receives frames. */
export interface ClientsReady {
  /** Clients asked for. */
  clients: number;
  /** Clients whose socket opened. */
  connected: number;
  /** Clients that failed to open. */
  connectFailed: number;
  /** The first connect error. */
  connectError?: string;
  /** Opened clients that received a frame before the wait ended. */
  flowing: number;
  /** Seconds from the first handshake to every client receiving frames. */
  connectSeconds: number;
}

/** What the clients saw in the window. */
export interface ClientsWindow {
  /** Window length, s. */
  seconds: number;
  /** Frames received by all clients in the window. */
  frames: number;
  /** Frames per opened client in the window: fewest, median, most. */
  framesPerClient: { min: number; p50: number; max: number };
  /** Frames missed by seq jumps (conflated away by the service). */
  seqMissed: number;
  /** Client sockets the server closed in the window, by close code. */
  closed: Record<string, number>;
  /** Client receive time − frame stamp, ms: `receive` is ingest's receive time, `sent` the hub's. */
  lag: { receive: LagSummary; sent: LagSummary };
  /** This process: CPU in cores over the window, and the p99 delay of a 10 ms timer (a saturated client inflates the lags). */
  self: { cpuCores: number; loopDelayP99: number };
}

/** Flags of the clients command. */
interface ClientsFlags {
  url: string;
  symbolCount: number;
  clients: number;
  connectTimeout: number;
}

function parseClientsFlags(args: string[]): ClientsFlags {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: "string" },
      "symbol-count": { type: "string" },
      clients: { type: "string" },
      "connect-timeout": { type: "string" },
    },
  });
  const num = (flag: string, v: string | undefined, fallback?: number) => {
    const n = v === undefined ? fallback : Number(v);
    if (n === undefined || !Number.isInteger(n) || n < 1) {
      throw new TypeError(`--${flag}: expected a positive integer, got "${v}"`);
    }
    return n;
  };
  if (!values.url) throw new TypeError("--url is required (the service's base URL)");
  return {
    url: values.url,
    symbolCount: num("symbol-count", values["symbol-count"]),
    clients: num("clients", values.clients),
    connectTimeout: num("connect-timeout", values["connect-timeout"], 60),
  };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** The command: connect, report ready, then follow stdin (see the module doc). */
async function clientsMain(args: string[]): Promise<void> {
  const flags = parseClientsFlags(args);
  const clients = new FanoutClients(flags.clients, {
    url: flags.url,
    symbols: clientSymbols(symbolNames(flags.symbolCount), flags.clients),
    connectTimeoutMs: flags.connectTimeout * 1000,
  });
  const quiet = () => {};
  const t0 = performance.now();
  const connected = await clients.connect(50, quiet);
  await clients.untilFlowing(flags.connectTimeout * 1000);
  const ready: ClientsReady = {
    clients: flags.clients,
    connected,
    connectFailed: clients.connectFailed,
    connectError: clients.connectError,
    flowing: clients.flowingCount,
    connectSeconds: round((performance.now() - t0) / 1000, 2),
  };
  console.log(JSON.stringify({ event: "ready", ...ready }));

  let w0 = 0, cpu0 = 0, tick = 0;
  let loop = new LagHistogram();
  let ticker: ReturnType<typeof setInterval> | undefined;
  await drainLines(Deno.stdin.readable, (line) => {
    if (line === "start") {
      loop = new LagHistogram();
      tick = performance.now();
      ticker = setInterval(() => {
        const t = performance.now();
        loop.record(t - tick - 10);
        tick = t;
      }, 10);
      cpu0 = processCpuMs("self");
      w0 = performance.now();
      clients.measuring = true;
    } else if (line === "stop") {
      clients.measuring = false;
      const ms = performance.now() - w0;
      clearInterval(ticker);
      const per = clients.framesPerClient();
      const window: ClientsWindow = {
        seconds: round(ms / 1000, 3),
        frames: per.reduce((a, b) => a + b, 0),
        framesPerClient: {
          min: per[0] ?? 0,
          p50: per[per.length >> 1] ?? 0,
          max: per[per.length - 1] ?? 0,
        },
        seqMissed: clients.gaps.reduce((a, b) => a + b, 0),
        closed: clients.closedInWindow,
        lag: { receive: clients.lag.receive.summary(), sent: clients.lag.sent.summary() },
        self: {
          cpuCores: round((processCpuMs("self") - cpu0) / ms, 2),
          loopDelayP99: loop.summary().p99,
        },
      };
      console.log(JSON.stringify({ event: "window", ...window }));
    }
  });
  clients.close();
  // Closing thousands of sockets politely is not part of the measurement.
  setTimeout(() => Deno.exit(0), 500);
}

/** Options of {@link startClientsProcess}. */
export interface ClientsProcessOptions {
  /** Base URL of the service. Required. */
  url: string;
  /** Symbols the service watches (named by `symbolNames`). Required. */
  symbolCount: number;
  /** Clients, at least 1. Required. */
  clients: number;
  /** Seconds allowed for connecting, and again for every client's first frame. Default 60. */
  connectTimeout?: number;
}

/** The clients process, ready (see {@link startClientsProcess}). */
export interface ClientsProcess {
  /** Process id. */
  readonly pid: number;
  /** What it reported when ready. */
  readonly ready: ClientsReady;
  /** Open the window. */
  start(): void;
  /** Close the window and get what the clients saw in it. */
  stop(): Promise<ClientsWindow>;
  /** Close every client and end the process. */
  close(): Promise<void>;
}

/**
 * Start the clients process and wait until it reports ready.
 *
 * @throws Error when it exits first or does not get ready within twice the connect timeout plus 30 s.
 * @example
 * ```ts ignore
 * const clients = await startClientsProcess({ url, symbolCount: 200, clients: 100 });
 * console.log(clients.ready.connected);
 * await clients.close();
 * ```
 */
export async function startClientsProcess(options: ClientsProcessOptions): Promise<ClientsProcess> {
  const connectTimeout = options.connectTimeout ?? 60;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--url",
      options.url,
      "--symbol-count",
      String(options.symbolCount),
      "--clients",
      String(options.clients),
      "--connect-timeout",
      String(connectTimeout),
    ],
    cwd: new URL("../", import.meta.url),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  drainLines(child.stderr, (line) => stderr = (stderr + line + "\n").slice(-4096)).catch(() => {});
  // Each JSON line on stdout answers the oldest waiter.
  const waiters: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] =
    [];
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => waiters.push({ resolve, reject }));
  drainLines(child.stdout, (line) => {
    if (!line.startsWith("{")) return;
    const { event: _event, ...reply } = JSON.parse(line);
    waiters.shift()?.resolve(reply);
  }).catch(() => {});
  child.status.then((s) => {
    for (const w of waiters.splice(0)) {
      w.reject(new Error(`the clients process exited with code ${s.code}; stderr:\n${stderr}`));
    }
  });
  const writer = child.stdin.getWriter();
  const send = (line: string) => writer.write(new TextEncoder().encode(line + "\n"));

  let timer: ReturnType<typeof setTimeout> | undefined;
  let ready: ClientsReady;
  try {
    ready = await Promise.race([
      next() as Promise<unknown> as Promise<ClientsReady>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the clients did not get ready in time; stderr:\n${stderr}`)),
          (2 * connectTimeout + 30) * 1000,
        );
      }),
    ]);
  } catch (e) {
    await stopChild(child, 1000);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  let closing: Promise<void> | undefined;
  return {
    pid: child.pid,
    ready,
    start: () => void send("start").catch(() => {}),
    stop: async () => {
      const reply = next();
      await send("stop");
      return await reply as unknown as ClientsWindow;
    },
    close: () =>
      closing ??= (async () => {
        await writer.close().catch(() => {});
        let kill: ReturnType<typeof setTimeout> | undefined;
        const exited = await Promise.race([
          child.status.then(() => true),
          new Promise<false>((r) => kill = setTimeout(() => r(false), 10_000)),
        ]);
        clearTimeout(kill);
        if (!exited) await stopChild(child, 1000);
      })(),
  };
}

if (import.meta.main) await clientsMain(Deno.args);
