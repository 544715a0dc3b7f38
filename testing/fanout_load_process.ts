/**
 * The fan-out load generator ({@link runLoad}) as a separate process, both
 * ends: {@link runLoadProcess} starts `deno run -A` on this file with the
 * options as flags and reads the one JSON line ({@link LoadResult}) it prints
 * on stdout; {@link loadgenMain} is the command itself (flags → `runLoad` →
 * JSON line; progress on stderr). `bench/fanout_loadgen.ts` is the same
 * command for manual runs:
 *
 * ```sh
 * deno run -A bench/fanout_loadgen.ts --url http://127.0.0.1:8000/ \
 *   --clients 1000 --symbols BTCUSDT,ETHUSDT --warmup 1 --duration 5 --pid 12345
 * ```
 *
 * Flags (defaults are those of {@link LoadOptions}): `--url` (required),
 * `--clients`, `--symbols` (comma-separated), `--concurrency`,
 * `--connect-timeout`, `--warmup`, `--duration` (seconds), `--pid`,
 * `--decode scan|full`, `--token`, `--help`.
 *
 * @example
 * ```ts ignore
 * import { spawnService } from "./service_process.ts";
 * const service = await spawnService();
 * const result = await runLoadProcess({ url: service.url, clients: 500, pid: service.pid });
 * await service.stop();
 * console.log(result.lag.sent.p99);
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { type LoadOptions, type LoadResult, runLoad } from "./fanout_load.ts";

/** Repository root: the child runs there, so it finds deno.json's import map. */
const ROOT = new URL("../", import.meta.url);

/** Flag name → {@link LoadOptions} key, for every option a flag carries. */
const FLAGS = {
  url: "url",
  clients: "clients",
  symbols: "symbols",
  concurrency: "concurrency",
  "connect-timeout": "connectTimeout",
  warmup: "warmup",
  duration: "duration",
  pid: "pid",
  decode: "decode",
  token: "token",
} as const satisfies Record<string, keyof LoadOptions>;

/** Options given → command-line flags (undefined ones left out, lists comma-joined). */
function loadFlags(options: LoadOptions): string[] {
  const args: string[] = [];
  for (const [flag, key] of Object.entries(FLAGS)) {
    const v = options[key];
    if (v !== undefined) args.push(`--${flag}`, Array.isArray(v) ? v.join(",") : String(v));
  }
  return args;
}

/**
 * Command-line flags → {@link LoadOptions} (the inverse of what
 * {@link runLoadProcess} passes; flags not given keep `runLoad`'s defaults).
 *
 * @throws TypeError naming the flag when `--url` is missing, a number flag is
 *   not a number, or `--decode` is neither `scan` nor `full`.
 * @example
 * ```ts
 * parseLoadFlags(["--url", "http://127.0.0.1:8000/", "--clients", "10"]).clients; // 10
 * ```
 */
export function parseLoadFlags(args: string[]): LoadOptions {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(
      Object.keys(FLAGS).map((flag) => [flag, { type: "string" as const }]),
    ),
  });
  const text = (flag: keyof typeof FLAGS) => values[flag] as string | undefined;
  const num = (flag: keyof typeof FLAGS) => {
    const t = text(flag);
    if (t === undefined) return undefined;
    const v = Number(t);
    if (!Number.isFinite(v)) throw new TypeError(`--${flag}: expected a number, got "${t}"`);
    return v;
  };
  const url = text("url");
  if (!url) throw new TypeError("--url is required (the service's base URL)");
  const decode = text("decode");
  if (decode !== undefined && decode !== "scan" && decode !== "full") {
    throw new TypeError(`--decode: expected scan or full, got "${decode}"`);
  }
  return {
    url,
    clients: num("clients"),
    symbols: text("symbols")?.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean),
    concurrency: num("concurrency"),
    connectTimeout: num("connect-timeout"),
    warmup: num("warmup"),
    duration: num("duration"),
    pid: num("pid"),
    decode,
    token: text("token"),
  };
}

/**
 * The load-generator command: with `--help` (or without `--url`) print the
 * usage of `command` on stderr and exit (0, or 2); otherwise run the load,
 * print one JSON line ({@link LoadResult}) on stdout and exit 0.
 *
 * @param command how the usage line names the command, e.g. `bench/fanout_loadgen.ts`
 * @example
 * ```ts ignore
 * if (import.meta.main) await loadgenMain(Deno.args, "bench/fanout_loadgen.ts");
 * ```
 */
export async function loadgenMain(args: string[], command: string): Promise<void> {
  const help = args.includes("--help");
  let options: LoadOptions | undefined;
  try {
    if (!help) options = parseLoadFlags(args);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
  }
  if (!options) {
    console.error(
      `usage: deno run -A ${command} --url http://127.0.0.1:PORT/ [--clients 100]\n` +
        "  [--symbols BTCUSDT,ETHUSDT] [--concurrency 50] [--connect-timeout 20] [--warmup 1]\n" +
        "  [--duration 5] [--pid SERVICE_PID] [--decode scan|full] [--token T]\n" +
        "Prints one JSON line (LoadResult) on stdout.",
    );
    Deno.exit(help ? 0 : 2);
  }
  console.log(JSON.stringify(await runLoad(options)));
  // Closing thousands of sockets politely is not part of the measurement.
  setTimeout(() => Deno.exit(0), 500);
}

/**
 * Run the load generator as a separate `deno run` process with `options`
 * and return its {@link LoadResult}. `options.log` is not used: with
 * `verbose` the child's progress goes to this process's stderr, otherwise it
 * is discarded. The child is killed after `maxSeconds` (default: connect
 * budget + warm-up + window + 60 s).
 *
 * @throws Error when the child fails or prints no result.
 * @example
 * ```ts ignore
 * const result = await runLoadProcess({ url: service.url, clients: 500, pid: service.pid });
 * ```
 */
export async function runLoadProcess(
  options: LoadOptions & { verbose?: boolean; maxSeconds?: number },
): Promise<LoadResult> {
  const { verbose, maxSeconds, log: _log, ...load } = options;
  const seconds = maxSeconds ??
    (load.connectTimeout ?? 20) + (load.warmup ?? 1) + (load.duration ?? 5) + 60;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, ...loadFlags(load)],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: verbose ? "inherit" : "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, seconds * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const last = lines[lines.length - 1];
  if (!last?.startsWith("{")) {
    throw new Error(`load generator exited with code ${out.code} and no result`);
  }
  return JSON.parse(last) as LoadResult;
}

if (import.meta.main) await loadgenMain(Deno.args, "testing/fanout_load_process.ts");
