/**
 * Whole-system run (`deno task system-run`): the service on its simulated
 * exchange with many symbols (default 200 at 10 frames/s each, i.e. 2,000
 * frames/s through ingest → raw ring → analytics → processed ring → hub),
 * plus dashboard-like WebSocket clients (default 100, one symbol each,
 * spread over the symbols) in a separate load-generator process
 * (`testing/fanout_load_process.ts`). Reports, over the measurement window:
 *
 * - CPU busy per core of the machine (`/proc/stat`), the service's CPU in
 *   cores (all its threads) and RSS;
 * - latency to the client, p50/p99/max, from each stamp in the frame:
 *   `event_time` (exchange send: the simulator's `E`, only in `--stream diff`,
 *   where it is the event's scheduled send time), `receive_time` (ingest
 *   receive; the only exchange-side stamp of depth20 frames, which carry no
 *   event time), `analysed_time` and `sent_time` (hub);
 * - pipeline totals from `/metrics` over the run: frames received, processed,
 *   skipped, ring drops, adaptive mode, WebSocket disconnects;
 * - frames per client, frames missed (seq jumps), disconnects.
 *
 * Flags (defaults in brackets): `--symbols-count` [200], `--rate` frames/s
 * per symbol [10], `--clients` [100], `--stream` depth20|diff [depth20],
 * `--warmup` seconds [5], `--duration` seconds [30], `--json` path to write
 * the report, `--verbose` (load-generator progress on stderr).
 *
 * In diff mode every symbol first needs a REST snapshot (weight 50 each;
 * the service keeps its weight under 4,800 a minute), so 200 symbols take
 * about two minutes to come up; clients of a symbol not yet synced receive
 * nothing until it is, and the run waits up to `--settle` seconds [150] for
 * every client to receive a frame before the warm-up starts.
 *
 * @example
 * ```sh
 * deno task system-run                       # depth20, 200 symbols, 100 clients, 30 s
 * deno run -A tools/system_run.ts --stream diff --duration 60 --json /tmp/run.json
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import type { LoadResult } from "../testing/fanout_load.ts";
import { runLoadProcess } from "../testing/fanout_load_process.ts";
import { spawnService } from "../testing/service_process.ts";

/** Options of {@link systemRun}. */
export interface SystemRunOptions {
  /** Simulated symbols. Default 200. */
  symbolsCount?: number;
  /** Frames/s per symbol. Default 10. */
  rate?: number;
  /** WebSocket clients. Default 100. */
  clients?: number;
  /** Stream the service ingests. Default `"depth20"`. */
  stream?: "depth20" | "diff";
  /** Seconds counted before the window, after every client receives frames. Default 5. */
  warmup?: number;
  /** Window, seconds. Default 30. */
  duration?: number;
  /** Seconds allowed for clients to connect and for their symbols to start publishing. Default 150 in diff mode, 30 otherwise. */
  settle?: number;
  /** Show the load generator's progress. Default false. */
  verbose?: boolean;
}

/** What {@link systemRun} measured. */
export interface SystemRunReport {
  /** The options used (defaults filled in). */
  options: Required<SystemRunOptions>;
  /** Machine description. */
  machine: { cpus: number; model: string; memGiB: number; deno: string; loadavg: number[] };
  /** The load generator's result (lags, CPU per core, service CPU and RSS). */
  load: LoadResult;
  /** Increase of pipeline counters from /metrics between the start and the end of the load run. */
  pipeline: Record<string, number>;
  /** `depthwatch_adaptive_mode` at the end. */
  adaptiveMode: number;
}

/** Symbol names the simulator accepts: two real ones, then `s001usdt`, `s002usdt`, … */
function symbolNames(n: number): string[] {
  const out = ["btcusdt", "ethusdt"].slice(0, n);
  for (let i = out.length; i < n; i++) out.push(`s${String(i).padStart(3, "0")}usdt`);
  return out;
}

/** Sums of the counters we report, from Prometheus text. */
function pipelineTotals(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (k: string, v: number) => out[k] = (out[k] ?? 0) + v;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^(\w+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name, labels = "", value] = m;
    const v = Number(value);
    switch (name) {
      case "depthwatch_frames_received_total":
      case "depthwatch_frames_processed_total":
      case "depthwatch_frames_skipped_total":
      case "depthwatch_ws_frames_conflated_total":
      case "depthwatch_reconnects_total":
        add(name, v);
        break;
      case "depthwatch_frames_rejected_by_symbol_total":
        add(name, v);
        break;
      case "depthwatch_queue_dropped_total":
      case "depthwatch_ws_disconnects_total":
        add(`${name}${labels}`, v);
        break;
      case "depthwatch_adaptive_mode":
        out[name] = v;
        break;
    }
  }
  return out;
}

async function metrics(url: string): Promise<Record<string, number>> {
  const res = await fetch(new URL("metrics", url), { signal: AbortSignal.timeout(5000) });
  return pipelineTotals(await res.text());
}

function machine(): SystemRunReport["machine"] {
  const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "?";
  return {
    cpus: navigator.hardwareConcurrency,
    model,
    memGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    deno: Deno.version.deno,
    loadavg: Deno.loadavg(),
  };
}

/**
 * Start the service with `symbolsCount` simulated symbols, run the load, stop
 * the service, return the measurements.
 *
 * @example
 * ```ts ignore
 * const report = await systemRun({ duration: 10 });
 * console.log(report.load.lag.receive.p99);
 * ```
 */
export async function systemRun(options: SystemRunOptions = {}): Promise<SystemRunReport> {
  const o: Required<SystemRunOptions> = {
    symbolsCount: options.symbolsCount ?? 200,
    rate: options.rate ?? 10,
    clients: options.clients ?? 100,
    stream: options.stream ?? "depth20",
    warmup: options.warmup ?? 5,
    duration: options.duration ?? 30,
    settle: options.settle ?? (options.stream === "diff" ? 150 : 30),
    verbose: options.verbose ?? false,
  };
  const symbols = symbolNames(o.symbolsCount);
  // Spread the clients evenly over the symbols.
  const step = Math.max(1, Math.floor(symbols.length / Math.max(1, o.clients)));
  const clientSymbols = symbols.filter((_, i) => i % step === 0).map((s) => s.toUpperCase());
  const service = await spawnService({
    args: [
      "--symbols",
      symbols.join(","),
      "--sim-rate",
      String(o.rate),
      "--stream",
      o.stream,
      "--max-clients",
      String(Math.max(1000, o.clients + 100)),
    ],
  });
  try {
    const m0 = await metrics(service.url);
    const load = await runLoadProcess({
      url: service.url,
      clients: o.clients,
      symbols: clientSymbols,
      connectTimeout: o.settle,
      warmup: o.warmup,
      duration: o.duration,
      pid: service.pid,
      verbose: o.verbose,
    });
    const m1 = await metrics(service.url);
    const pipeline: Record<string, number> = {};
    for (const k of Object.keys(m1)) {
      if (k !== "depthwatch_adaptive_mode") pipeline[k] = m1[k] - (m0[k] ?? 0);
    }
    return {
      options: o,
      machine: machine(),
      load,
      pipeline,
      adaptiveMode: m1.depthwatch_adaptive_mode ?? NaN,
    };
  } finally {
    await service.stop();
  }
}

function printReport(r: SystemRunReport): void {
  const o = r.options;
  const l = r.load;
  const lag = (name: string, s: { count: number; p50: number; p99: number; max: number }) =>
    console.log(
      `  ${name.padEnd(28)} ${
        s.count ? `p50 ${s.p50} ms  p99 ${s.p99} ms  max ${s.max} ms  (${s.count} frames)` : "n/a"
      }`,
    );
  console.log(
    `system run: ${o.symbolsCount} symbols × ${o.rate} frames/s (${o.stream}), ${o.clients} clients, ` +
      `${l.windowSeconds} s window after ${o.warmup} s warm-up`,
  );
  console.log(
    `machine: ${r.machine.cpus} × ${r.machine.model}, ${r.machine.memGiB} GiB, Deno ${r.machine.deno}, ` +
      `load average at end ${r.machine.loadavg.map((v) => v.toFixed(2)).join(" ")}`,
  );
  console.log(
    `CPU busy per core (whole machine): ${
      (l.coreBusy ?? []).map((b) => `${Math.round(b * 100)}%`).join(" ")
    }; service ${l.server ? Math.round(l.server.cpuCores * 100) : "?"}% of a core, ` +
      `load generator ${
        Math.round(l.loadgen.cpuCores * 100)
      }% (loop delay p99 ${l.loadgen.loopDelayP99} ms)`,
  );
  if (l.server) {
    console.log(
      `service RSS: ${l.server.rssStartMiB} MiB at window start, max ${l.server.rssMaxMiB}, end ${l.server.rssEndMiB}`,
    );
  }
  console.log("latency to client receive, by stamp:");
  lag("exchange E (diff only)", l.lag.event);
  lag("ingest receive", l.lag.receive);
  lag("analysed", l.lag.analysed);
  lag("hub sent", l.lag.sent);
  console.log(
    `clients: ${l.connected}/${l.clients} connected, frames/client ${l.framesPerClient.min}..${l.framesPerClient.max} ` +
      `(mean ${l.framesPerClient.mean}, expected ~${Math.round(o.rate * l.windowSeconds)}), ` +
      `missed by seq jump ${l.seqMissed}, closed in window ${JSON.stringify(l.closedInWindow)}, ` +
      `server disconnects in window ${JSON.stringify(l.disconnects ?? {})}`,
  );
  console.log(
    "pipeline over the whole load run incl. connect and close (/metrics deltas; " +
      "client_close counts the load generator's own closes at the end):",
  );
  for (const [k, v] of Object.entries(r.pipeline)) console.log(`  ${k} ${v}`);
  console.log(`  depthwatch_adaptive_mode at end ${r.adaptiveMode}`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "symbols-count": { type: "string", default: "200" },
      rate: { type: "string", default: "10" },
      clients: { type: "string", default: "100" },
      stream: { type: "string", default: "depth20" },
      warmup: { type: "string", default: "5" },
      duration: { type: "string", default: "30" },
      settle: { type: "string" },
      json: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || (values.stream !== "depth20" && values.stream !== "diff")) {
    console.error(
      "usage: deno run -A tools/system_run.ts [--symbols-count 200] [--rate 10] [--clients 100]\n" +
        "  [--stream depth20|diff] [--warmup 5] [--duration 30] [--settle S] [--json PATH] [--verbose]",
    );
    Deno.exit(values.help ? 0 : 2);
  }
  const report = await systemRun({
    symbolsCount: Number(values["symbols-count"]),
    rate: Number(values.rate),
    clients: Number(values.clients),
    stream: values.stream as "depth20" | "diff",
    warmup: Number(values.warmup),
    duration: Number(values.duration),
    settle: values.settle ? Number(values.settle) : undefined,
    verbose: values.verbose,
  });
  printReport(report);
  if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
}
