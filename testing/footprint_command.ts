/**
 * The footprint benchmark's command line (`deno task footprint`, the body
 * of `bench/footprint.ts`): parse the flags ({@link parseFootprintFlags}),
 * run every scenario one after the other (`runScenario`), print the table
 * (or the JSON report) on stdout, progress on stderr.
 *
 * ```sh
 * deno task footprint                          # the five scenarios, 10 s warm-up, 20 s window
 * deno task footprint --quick                  # the same, 2 s warm-up, 5 s window
 * deno task footprint --scenarios 2x1,200x0 --duration 60 --json > footprint.json
 * ```
 *
 * @example
 * ```ts
 * const flags = parseFootprintFlags(["--quick", "--scenarios", "2x1"]);
 * flags.duration; // 5
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { VENUE_IDS, type VenueId } from "../lib/pipeline/venue_id.ts";
import { openFileLimit } from "./proc_stats.ts";
import { startTaskRuntime } from "./start_task.ts";
import { type FootprintRow, runScenario } from "./footprint_run.ts";
import { DEFAULT_SCENARIOS, parseScenarios, type Scenario } from "./footprint_scenario.ts";
import { type FootprintReport, formatReport, machineInfo } from "./footprint_table.ts";

/** Parsed flags of the footprint command. */
export interface FootprintFlags {
  /** Scenarios to run, in order. Default the five of issue 13. */
  scenarios: Scenario[];
  /** Warm-up, s. Default 10 (2 with `--quick`). */
  warmup: number;
  /** Window, s. Default 20 (5 with `--quick`). */
  duration: number;
  /** Frames/s per symbol. Default 10. */
  rate: number;
  /** Seconds allowed for symbols to go live and clients to connect. Default 120. */
  startTimeout: number;
  /** Run each scenario once more with `--inspect` first, for the memory of every isolate. Default true (`--no-inspect`: false). */
  isolates: boolean;
  /** V8 flags of the service; undefined: those of `deno task start`. */
  v8Flags: string[] | undefined;
  /** More flags for the service (`--service-args`, split at spaces). Default none. */
  serviceArgs: string[];
  /** The venues the symbols are spread over (`--venues`). Default `["binance"]`. */
  venues: VenueId[];
  /** Print the JSON report instead of the table. Default false. */
  json: boolean;
  /** `--help` was given. */
  help: boolean;
}

/** Usage text of `--help`. */
export const FOOTPRINT_USAGE =
  `Footprint benchmark (depthwatch): the service's memory, CPU per thread and
latency, with the simulated exchange and the dashboard clients in their own processes.

Usage: deno task footprint [options]

  --scenarios LIST    SYMBOLSxCLIENTS, comma-separated
                      (default ${
    DEFAULT_SCENARIOS.map((s) => `${s.symbols}x${s.clients}`).join(",")
  })
  --quick             short run: 2 s warm-up, 5 s window (what deno task bench runs)
  --warmup S          seconds of load before the window (default 10)
  --duration S        window, seconds (default 20)
  --rate N            frames/s per symbol (default 10)
  --start-timeout S   seconds for all symbols to go live and the clients to connect (default 120)
  --no-inspect        skip the first, short run of each scenario with --inspect that
                      reads the heap of every isolate (main, ingest, analytics); the
                      table then has the main isolate's only, from /metrics
  --v8-flags LIST     the service's V8 flags, comma-separated ("" for none; default
                      those of deno task start, which the service is also started
                      like: same environment variables)
  --service-args="…"  more flags for the service, space-separated (with "=":
                      they start with a dash), e.g.
                      --service-args="--record-dir /tmp/rec" for what recording costs
  --venues LIST       spread the symbols over these venues, comma-separated (default
                      binance; e.g. binance,bybit,okx,kraken: symbol i on venue i mod 4,
                      the simulated exchange speaking each venue's protocol)
  --json              print the report as JSON instead of the table
  --help              this text

Each scenario starts the simulated exchange, the service and (with clients) a
client process, waits until every symbol is live and every client receives
frames, warms up, then measures over the window. A scenario with more symbols
than the service's --symbols accepts runs with as many as it accepts, marked in
the table. Progress goes to stderr.`;

/**
 * Parses the command line.
 *
 * @throws TypeError naming the bad flag and what was expected.
 * @example
 * ```ts
 * parseFootprintFlags(["--duration", "30"]).duration; // 30
 * ```
 */
export function parseFootprintFlags(args: string[]): FootprintFlags {
  const { values } = parseArgs({
    args,
    options: {
      scenarios: { type: "string" },
      quick: { type: "boolean" },
      warmup: { type: "string" },
      duration: { type: "string" },
      rate: { type: "string" },
      "start-timeout": { type: "string" },
      "no-inspect": { type: "boolean" },
      "v8-flags": { type: "string" },
      "service-args": { type: "string" },
      venues: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const seconds = (flag: string, fallback: number, min: number) => {
    const text = values[flag as keyof typeof values] as string | undefined;
    if (text === undefined) return fallback;
    const v = Number(text);
    if (text === "" || !Number.isFinite(v) || v < min) {
      throw new TypeError(`--${flag}: expected a number of at least ${min}, got "${text}"`);
    }
    return v;
  };
  const quick = values.quick === true;
  return {
    scenarios: values.scenarios === undefined
      ? DEFAULT_SCENARIOS.map((s) => ({ ...s }))
      : parseScenarios(values.scenarios),
    warmup: seconds("warmup", quick ? 2 : 10, 0),
    duration: seconds("duration", quick ? 5 : 20, 0.5),
    rate: seconds("rate", 10, 0.1),
    startTimeout: seconds("start-timeout", 120, 1),
    isolates: values["no-inspect"] !== true,
    v8Flags: values["v8-flags"]?.split(",").filter(Boolean),
    serviceArgs: values["service-args"]?.split(/\s+/).filter(Boolean) ?? [],
    venues: parseVenueList(values.venues),
    json: values.json === true,
    help: values.help === true,
  };
}

/** `--venues`: venue ids, comma-separated; undefined: Binance spot only. */
function parseVenueList(text: string | undefined): VenueId[] {
  if (text === undefined) return ["binance"];
  const out: VenueId[] = [];
  for (const item of text.split(",").map((v) => v.trim()).filter(Boolean)) {
    if (!(VENUE_IDS as readonly string[]).includes(item)) {
      throw new TypeError(
        `--venues: expected venue ids out of ${VENUE_IDS.join(", ")}, got "${item}"`,
      );
    }
    if (!out.includes(item as VenueId)) out.push(item as VenueId);
  }
  if (out.length === 0) throw new TypeError("--venues: expected at least one venue id");
  return out;
}

/**
 * Run every scenario of `flags` and collect the report; a scenario that
 * fails is listed in `failed` and the next one runs.
 *
 * @example
 * ```ts ignore
 * const report = await runFootprint(parseFootprintFlags(["--quick", "--scenarios", "2x1"]));
 * console.log(formatReport(report));
 * ```
 */
export async function runFootprint(
  flags: FootprintFlags,
  log: (line: string) => void = (line) => console.error(line),
): Promise<FootprintReport> {
  const machine = machineInfo();
  const rows: FootprintRow[] = [];
  const failed: FootprintReport["failed"] = [];
  const fds = openFileLimit();
  const started = await startTaskRuntime();
  const runtime = { env: started.env, v8Flags: flags.v8Flags ?? started.v8Flags };
  for (const scenario of flags.scenarios) {
    if (fds < scenario.clients + 200) {
      log(
        `footprint: ulimit -n is ${fds}; ${scenario.clients} clients need about ${
          scenario.clients + 200
        } per process`,
      );
    }
    try {
      rows.push(
        await runScenario(scenario, {
          rate: flags.rate,
          warmup: flags.warmup,
          duration: flags.duration,
          startTimeout: flags.startTimeout,
          isolates: flags.isolates,
          runtime,
          serviceArgs: flags.serviceArgs,
          venues: flags.venues,
          log,
        }),
      );
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      log(`footprint: ${scenario.symbols}x${scenario.clients} failed: ${error}`);
      failed.push({ scenario, error });
    }
  }
  machine.loadEnd = Deno.loadavg()[0];
  return {
    machine,
    settings: {
      warmup: flags.warmup,
      duration: flags.duration,
      rate: flags.rate,
      isolates: flags.isolates,
      v8Flags: runtime.v8Flags,
      serviceArgs: flags.serviceArgs,
      venues: flags.venues,
    },
    rows,
    failed,
  };
}

/**
 * The command: flags → scenarios → table (or JSON) on stdout. Exits 2 on a
 * bad flag, 1 when a scenario failed, 0 otherwise.
 *
 * @example
 * ```ts ignore
 * if (import.meta.main) await footprintMain(Deno.args);
 * ```
 */
export async function footprintMain(args: string[]): Promise<void> {
  let flags: FootprintFlags;
  try {
    flags = parseFootprintFlags(args);
  } catch (e) {
    console.error(`footprint: ${e instanceof Error ? e.message : e}\n\n${FOOTPRINT_USAGE}`);
    Deno.exit(2);
  }
  if (flags.help) {
    console.log(FOOTPRINT_USAGE);
    return;
  }
  const report = await runFootprint(flags);
  console.log(flags.json ? JSON.stringify(report, null, 2) : formatReport(report));
  if (report.failed.length > 0) Deno.exit(1);
}
