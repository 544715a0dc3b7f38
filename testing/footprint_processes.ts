/**
 * The two server-side processes of a footprint run, each its own `deno run`
 * so that the service's memory and CPU are its own:
 *
 * - {@link spawnExchange}: the simulated Binance exchange
 *   (`lib/sim/sim_main.ts`) serving the given symbols at a rate;
 * - {@link spawnServiceOn}: the depthwatch service (`main.ts --source
 *   binance`) pointed at that exchange's WebSocket and REST URLs, started
 *   with `--inspect=127.0.0.1:0` so that the memory of each of its isolates
 *   can be read (`testing/footprint_inspector.ts`).
 *
 * Both wait until the child printed its URL, keep the tail of its stderr,
 * and stop with SIGTERM (SIGKILL after a grace period).
 *
 * @example
 * ```ts ignore
 * const exchange = await spawnExchange({ symbols: ["btcusdt", "ethusdt"], rate: 10 });
 * const service = await spawnServiceOn(exchange, { symbols: ["btcusdt", "ethusdt"] });
 * try {
 *   console.log(service.url, service.pid, service.inspectorUrl);
 * } finally {
 *   await service.stop();
 *   await exchange.stop();
 * }
 * ```
 * @module
 */

import { drainLines, stopChild } from "./service_process.ts";

/** Repository root (the folder holding `main.ts`). */
const ROOT = new URL("../", import.meta.url);

/** Bytes of a child's stderr kept for {@link ChildServer.stderrTail}. */
const TAIL_BYTES = 4096;

/** A server child process (see {@link spawnExchange}, {@link spawnServiceOn}). */
export interface ChildServer {
  /** Process id. */
  readonly pid: number;
  /** The last few KiB the child wrote to stderr. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** The simulated exchange as a process. */
export interface ExchangeProcess extends ChildServer {
  /** WebSocket base URL, e.g. `ws://127.0.0.1:41234`. */
  readonly wsUrl: string;
  /** REST base URL, e.g. `http://127.0.0.1:41234` (also `/sim/stats`). */
  readonly restUrl: string;
}

/** The service as a process. */
export interface ServiceOnExchange extends ChildServer {
  /** Base URL, e.g. `http://127.0.0.1:41235/`. */
  readonly url: string;
  /** The V8 inspector's WebSocket URL (`ws://127.0.0.1:PORT/ID`); undefined without `inspect`. */
  readonly inspectorUrl: string | undefined;
}

/** What to wait for in a child's output. */
interface Expect {
  /** Matched against stdout lines; the first group of each is kept by name. */
  stdout: Record<string, RegExp>;
  /** Matched against stderr lines. */
  stderr: Record<string, RegExp>;
}

/**
 * Spawn `deno <args>` in the repository root and wait until every pattern of
 * `expect` matched a line (first group kept), at most `startTimeoutMs`.
 */
async function spawnServer(
  what: string,
  args: string[],
  expect: Expect,
  startTimeoutMs: number,
  env: Record<string, string> = {},
): Promise<{ server: ChildServer; found: Record<string, string> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const found: Record<string, string> = {};
  const wanted = Object.keys(expect.stdout).length + Object.keys(expect.stderr).length;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const match = (patterns: Record<string, RegExp>) => (line: string) => {
        for (const [name, re] of Object.entries(patterns)) {
          const m = re.exec(line);
          if (m && !(name in found)) found[name] = m[1];
        }
        if (Object.keys(found).length === wanted) resolve();
      };
      const onStderr = match(expect.stderr);
      drainLines(child.stderr, (line) => {
        tail = (tail + line + "\n").slice(-TAIL_BYTES);
        onStderr(line);
      }).catch(() => {});
      drainLines(child.stdout, match(expect.stdout)).catch(() => {});
      timer = setTimeout(
        () =>
          reject(new Error(`${what} did not start within ${startTimeoutMs} ms; stderr:\n${tail}`)),
        startTimeoutMs,
      );
      child.status.then((s) =>
        reject(new Error(`${what} exited with code ${s.code} before it listened; stderr:\n${tail}`))
      );
    });
  } catch (e) {
    await stopChild(child, 1000);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  let stopping: Promise<void> | undefined;
  const server: ChildServer = {
    pid: child.pid,
    stderrTail: () => tail,
    stop: (graceMs = 5000) => stopping ??= stopChild(child, graceMs),
  };
  return { server, found };
}

/** Options of {@link spawnExchange}. */
export interface ExchangeOptions {
  /** Symbols to simulate, lower-case. Required. */
  symbols: readonly string[];
  /** Frames per second per symbol. Default 10. */
  rate?: number;
  /** Give up when the exchange has not printed its URLs within this many ms. Default 60000. */
  startTimeoutMs?: number;
}

/**
 * Start `deno run -A lib/sim/sim_main.ts --port 0 --symbols … --rate …` and
 * wait for its WebSocket and REST URLs.
 *
 * @throws Error when it exits or stays silent past `startTimeoutMs`.
 * @example
 * ```ts ignore
 * const exchange = await spawnExchange({ symbols: ["btcusdt"], rate: 50 });
 * const stats = await (await fetch(`${exchange.restUrl}/sim/stats`)).json();
 * await exchange.stop();
 * ```
 */
export async function spawnExchange(options: ExchangeOptions): Promise<ExchangeProcess> {
  const { server, found } = await spawnServer(
    "the simulated exchange",
    [
      "run",
      "-A",
      "lib/sim/sim_main.ts",
      "--port",
      "0",
      "--rate",
      String(options.rate ?? 10),
      "--symbols",
      options.symbols.join(","),
    ],
    {
      stdout: { ws: /^sim exchange ws:\s+(\S+)/, rest: /^sim exchange rest:\s+(\S+)/ },
      stderr: {},
    },
    options.startTimeoutMs ?? 60_000,
  );
  return { ...server, wsUrl: found.ws, restUrl: found.rest };
}

/** Options of {@link spawnServiceOn}. */
export interface ServiceOnOptions {
  /** Symbols to watch. Required. */
  symbols: readonly string[];
  /** More `main.ts` flags, e.g. `["--max-clients", "2000"]`. Default `[]`. */
  args?: readonly string[];
  /** Start with `--inspect=127.0.0.1:0` (see {@link ServiceOnExchange.inspectorUrl}). Default true. */
  inspect?: boolean;
  /** V8 flags (`--v8-flags=…`), e.g. those of `deno task start` (`testing/start_task.ts`). Default none. */
  v8Flags?: readonly string[];
  /** More environment variables of the service process. Default none. */
  env?: Record<string, string>;
  /** Give up when the service has not printed its URL within this many ms. Default 60000. */
  startTimeoutMs?: number;
}

/**
 * Start `deno run -A [--inspect=127.0.0.1:0] [--v8-flags=…] main.ts --source binance
 * --binance-ws-url <exchange> --binance-rest-url <exchange> --port 0
 * --log-level warn --symbols … <args>` and wait for its URL (and the
 * inspector's).
 *
 * @throws Error when the service exits (e.g. refuses a flag) or stays silent past `startTimeoutMs`.
 * @example
 * ```ts ignore
 * const service = await spawnServiceOn(exchange, { symbols: ["btcusdt"], args: ["--max-clients", "10"] });
 * await service.stop();
 * ```
 */
export async function spawnServiceOn(
  exchange: Pick<ExchangeProcess, "wsUrl" | "restUrl">,
  options: ServiceOnOptions,
): Promise<ServiceOnExchange> {
  const inspect = options.inspect ?? true;
  const { server, found } = await spawnServer(
    "the service",
    [
      "run",
      "-A",
      ...(inspect ? ["--inspect=127.0.0.1:0"] : []),
      ...(options.v8Flags?.length ? [`--v8-flags=${options.v8Flags.join(",")}`] : []),
      "main.ts",
      "--source",
      "binance",
      "--binance-ws-url",
      exchange.wsUrl,
      "--binance-rest-url",
      exchange.restUrl,
      "--port",
      "0",
      "--log-level",
      "warn",
      "--symbols",
      options.symbols.join(","),
      ...(options.args ?? []),
    ],
    {
      stdout: { url: /depthwatch listening on (\S+)/ },
      stderr: inspect ? { inspector: /^Debugger listening on (ws:\/\/\S+)/ } : {},
    },
    options.startTimeoutMs ?? 60_000,
    options.env,
  );
  return { ...server, url: found.url, inspectorUrl: found.inspector };
}
