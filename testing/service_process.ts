/**
 * A depthwatch service in a separate process, for benchmarks and system runs
 * that must not share an event loop (or a CPU account) with the service:
 * {@link spawnService} starts `main.ts` on the simulated exchange, waits until
 * it listens, keeps the tail of its log, and stops it. Its CPU and memory are
 * read from `/proc/<pid>` with `testing/proc_stats.ts`. {@link serviceFlags}
 * lists the flags `main.ts` knows (from its `--help`), so a harness can leave
 * out flags a branch does not have yet ({@link supportedArgs}).
 *
 * @example
 * ```ts ignore
 * import { processRssMiB } from "./proc_stats.ts";
 * const service = await spawnService({ args: ["--symbols", "btcusdt", "--sim-rate", "100"] });
 * try {
 *   const res = await fetch(new URL("metrics", service.url));
 *   console.log(await res.text(), processRssMiB(service.pid));
 * } finally {
 *   await service.stop();
 * }
 * ```
 * @module
 */

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
  /** The exit code once the process has exited (a signal counts as 128 + its number), else null. */
  exitCode(): number | null;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /**
   * Send `signal` (default `SIGKILL`: a crash, no shutdown) and resolve when
   * the process has exited; at once when it already has.
   */
  kill(signal?: Deno.Signal): Promise<void>;
}

/** A simulated exchange a service connects to instead of its own (see {@link SpawnServiceOptions.exchange}). */
export interface ExchangeUrls {
  /** WebSocket base URL, e.g. `ws://127.0.0.1:41234`. */
  readonly wsUrl: string;
  /** REST base URL, e.g. `http://127.0.0.1:41234`. */
  readonly restUrl: string;
}

/** Options of {@link spawnService}. */
export interface SpawnServiceOptions {
  /** Extra `main.ts` flags, e.g. `["--symbols", "btcusdt", "--sim-rate", "100"]`. Default `[]`. */
  args?: readonly string[];
  /** Give up when the service has not printed its URL within this many ms. Default 60000. */
  startTimeoutMs?: number;
  /**
   * Start it under `sh -c 'ulimit -n <fileLimit>; exec deno …'` (soft and
   * hard limit on open files; Deno would raise a lower soft limit to the
   * hard one). Default: the limit this process has.
   */
  fileLimit?: number;
  /** Flags of `deno run` itself, before `main.ts` (e.g. `["--cpu-prof"]`). Default `[]`. */
  denoFlags?: readonly string[];
  /**
   * Connect to this exchange (`--source binance --binance-ws-url … --binance-rest-url …`,
   * e.g. one started by `testing/footprint_processes.ts` `spawnExchange`) instead of
   * running the built-in simulated exchange (`--source sim`). Several services given the
   * same exchange see the same market. Default: `--source sim`.
   */
  exchange?: ExchangeUrls;
  /**
   * More environment variables of the service (added to this process's), e.g.
   * `{ DEPTHWATCH_NATS_TOKEN: "…" }` for credentials that never go on a command line.
   * Default none.
   */
  env?: Record<string, string>;
}

/** Bytes of the service's stderr kept for {@link ServiceProcess.stderrTail}. */
const TAIL_BYTES = 4096;

/**
 * Read `stream` to its end, calling `onLine` with each line (without its
 * newline; a last unterminated line included).
 *
 * @example
 * ```ts ignore
 * const lines: string[] = [];
 * await drainLines(child.stderr, (line) => lines.push(line));
 * ```
 */
export async function drainLines(
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
 * Start `deno run -A main.ts --source sim --port 0 --log-level warn <args>` (with
 * `exchange`: `--source binance --binance-ws-url <ws> --binance-rest-url <rest>`
 * instead of `--source sim`) and wait for its `depthwatch listening on <url>`
 * line. Its stdout is drained, its stderr kept as a bounded tail.
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
  const deno = [
    Deno.execPath(),
    "run",
    "-A",
    ...(options.denoFlags ?? []),
    "main.ts",
    ...(options.exchange === undefined ? ["--source", "sim"] : [
      "--source",
      "binance",
      "--binance-ws-url",
      options.exchange.wsUrl,
      "--binance-rest-url",
      options.exchange.restUrl,
    ]),
    "--port",
    "0",
    "--log-level",
    "warn",
    ...(options.args ?? []),
  ];
  const limit = options.fileLimit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new RangeError(`spawnService: fileLimit ${limit} is not a positive integer`);
  }
  // `exec` keeps the pid: it is the service's.
  const [command, ...args] = limit === undefined
    ? deno
    : ["sh", "-c", `ulimit -n ${limit} && exec "$@"`, "sh", ...deno];
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  drainLines(child.stderr, (line) => {
    tail = (tail + line + "\n").slice(-TAIL_BYTES);
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
  }).catch(async (e) => {
    await stopChild(child, 1000); // a service that never listened is not left running
    throw e;
  }).finally(() => clearTimeout(timer));
  let stopping: Promise<void> | undefined;
  let exitCode: number | null = null;
  child.status.then((s) => exitCode = s.signal ? 128 + signalNumber(s.signal) : s.code);
  return {
    url,
    pid: child.pid,
    stderrTail: () => tail,
    exitCode: () => exitCode,
    stop: (graceMs = 5000) => stopping ??= stopChild(child, graceMs),
    kill: async (signal: Deno.Signal = "SIGKILL") => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      await child.status;
    },
  };
}

/**
 * SIGTERM `child`, SIGKILL it after `graceMs`; resolves when it has exited.
 *
 * @example
 * ```ts ignore
 * const child = new Deno.Command("sleep", { args: ["60"] }).spawn();
 * await stopChild(child, 1000);
 * ```
 */
export async function stopChild(child: Deno.ChildProcess, graceMs: number): Promise<void> {
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
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGABRT: 6,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 0;
}

/**
 * The flags `main.ts` documents in its `--help` (e.g. `--max-clients`): what
 * this checkout of the service accepts.
 *
 * @example
 * ```ts ignore
 * const flags = await serviceFlags();
 * if (!flags.has("--max-connections")) console.warn("no connection cap yet");
 * ```
 */
export async function serviceFlags(): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--help"],
    cwd: ROOT,
    stdin: "null",
  }).output();
  const help = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`main.ts --help exited with code ${out.code}: expected the flag list`);
  }
  return new Set(help.match(/^\s+--[a-z0-9-]+/gm)?.map((f) => f.trim()) ?? []);
}

/**
 * `args` (`--flag value` pairs) without the flags not in `known`, and the
 * flags left out: a harness passes flags a later version of the service has
 * and runs anyway on one that lacks them.
 *
 * @example
 * ```ts
 * const known = new Set(["--sim-rate"]);
 * supportedArgs(["--sim-rate", "20", "--max-connections", "100"], known);
 * // { args: ["--sim-rate", "20"], dropped: ["--max-connections"] }
 * ```
 */
export function supportedArgs(
  args: readonly string[],
  known: ReadonlySet<string>,
): { args: string[]; dropped: string[] } {
  const kept: string[] = [];
  const dropped: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    if (!args[i].startsWith("--") || i + 1 >= args.length) {
      throw new TypeError(`supportedArgs: expected --flag value pairs, got ${args.join(" ")}`);
    }
    if (known.has(args[i])) kept.push(args[i], args[i + 1]);
    else dropped.push(args[i]);
  }
  return { args: kept, dropped };
}
