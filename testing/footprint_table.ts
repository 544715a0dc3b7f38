/**
 * The footprint report: the machine it ran on ({@link machineInfo}) and the
 * measured rows ({@link FootprintRow}), as one JSON document
 * ({@link FootprintReport}) or as a Markdown table ({@link formatReport}),
 * one row per scenario, ready to paste into BENCHMARKS.md. A row whose
 * scenario did not run as asked (e.g. fewer symbols than asked) has its
 * symbol count marked `*` and a note under the table.
 *
 * @example
 * ```ts ignore
 * const report: FootprintReport = { machine: machineInfo(), rows: [row] };
 * console.log(formatReport(report));
 * ```
 * @module
 */

import type { FootprintRow } from "./footprint_run.ts";

/** The machine a report was measured on. */
export interface MachineInfo {
  /** Logical CPUs (`nproc`). */
  cpus: number;
  /** `model name` of `/proc/cpuinfo`. */
  model: string;
  /** Total memory, GiB. */
  memGiB: number;
  /** Deno and V8 versions. */
  deno: string;
  /** V8 version. */
  v8: string;
  /** 1-minute load average when the report started. */
  loadStart: number;
  /** 1-minute load average when it ended. */
  loadEnd: number;
}

/** What `deno task footprint --json` prints. */
export interface FootprintReport {
  /** Where it ran. */
  machine: MachineInfo;
  /**
   * Warm-up and window, seconds; frames/s per symbol; whether isolate memory
   * came from an `--inspect` run; the service's V8 flags (absent: none);
   * more service flags (absent: none).
   */
  settings: {
    warmup: number;
    duration: number;
    rate: number;
    isolates: boolean;
    v8Flags?: string[];
    serviceArgs?: string[];
    /** Venues the symbols were spread over (`--venues`). */
    venues?: string[];
  };
  /** One per scenario, in the order run. */
  rows: FootprintRow[];
  /** Scenarios that failed, with the error. */
  failed: { scenario: FootprintRow["scenario"]; error: string }[];
}

/**
 * The machine as far as Linux tells (load averages both set to now; the
 * caller sets `loadEnd` when done).
 *
 * @example
 * ```ts
 * machineInfo().cpus === navigator.hardwareConcurrency; // true
 * ```
 */
export function machineInfo(): MachineInfo {
  let model = "?";
  try {
    model = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?";
  } catch { /* not Linux */ }
  const load = Deno.loadavg()[0];
  return {
    cpus: navigator.hardwareConcurrency,
    model,
    memGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    loadStart: load,
    loadEnd: load,
  };
}

const fmt = (v: number) => Number.isFinite(v) ? String(v) : "?";

/** Isolate cells: `main · ingest · analytics` of `pick`, `?` for one not measured. */
function perIsolate(row: FootprintRow, pick: (i: FootprintRow["isolates"][number]) => string) {
  return ["main", "ingest", "analytics"].map((name) => {
    const i = row.isolates.find((x) => x.name === name);
    return i ? pick(i) : "?";
  }).join(" · ");
}

/** Column headings of {@link formatReport}. */
const HEAD = [
  "symbols",
  "clients",
  "RSS MiB",
  "peak (HWM) MiB",
  "heap used/total MiB main · ingest · analytics",
  "external MiB main · ingest · analytics",
  "CPU % all",
  "main",
  "ingest",
  "analytics",
  "other",
  "recv→client p50/p99 ms",
  "frames/s in (asked)",
  "ring drops raw/processed",
  "skips",
  "disconnects",
  "CPU % exchange/clients",
];

/** One row's cells. */
function cells(row: FootprintRow, mark: string): string[] {
  const disc = Math.max(
    Object.values(row.disconnects).reduce((a, b) => a + b, 0),
    Object.values(row.clients?.window.closed ?? {}).reduce((a, b) => a + b, 0),
  );
  const s = row.scenario;
  return [
    row.symbolsRun === s.symbols
      ? `${s.symbols}${mark}`
      : `${row.symbolsRun} of ${s.symbols}${mark}`,
    row.clients
      ? `${row.clients.connected}${row.clients.connected < s.clients ? ` of ${s.clients}` : ""}`
      : `${s.clients}`,
    fmt(row.memory.rssMiB),
    fmt(row.memory.hwmMiB),
    perIsolate(row, (i) => `${fmt(i.heapUsedMiB)}/${fmt(i.heapTotalMiB)}`),
    perIsolate(row, (i) => fmt(i.externalMiB)),
    fmt(row.cpu.total),
    fmt(row.cpu.main),
    fmt(row.cpu.ingest),
    fmt(row.cpu.analytics),
    fmt(row.cpu.other),
    row.latency ? `${fmt(row.latency.p50)}/${fmt(row.latency.p99)}` : "–",
    `${row.framesPerSecond.received} (${row.framesPerSecond.expected})`,
    `${row.drops.raw}/${row.drops.processed}`,
    String(row.skipped.window),
    String(disc),
    `${fmt(row.exchange.cpu)}/${
      row.clients ? fmt(Math.round(row.clients.window.self.cpuCores * 100)) : "–"
    }`,
  ];
}

/**
 * The report as text: a line on the machine, a Markdown table (one row per
 * scenario, figures over the window), the notes of marked rows and the
 * scenarios that failed.
 *
 * @example
 * ```ts ignore
 * console.log(formatReport({ machine: machineInfo(), settings, rows, failed: [] }));
 * ```
 */
export function formatReport(report: FootprintReport): string {
  const m = report.machine;
  const { warmup, duration, rate, isolates, v8Flags = [], serviceArgs = [], venues = [] } =
    report.settings;
  const lines = [
    `machine: ${m.cpus} × ${m.model}, ${m.memGiB} GiB, Deno ${m.deno} (V8 ${m.v8}); ` +
    `load average ${m.loadStart.toFixed(2)} → ${m.loadEnd.toFixed(2)} ` +
    `(exchange, service and clients share these ${m.cpus} cores with whatever else runs)`,
    `${rate} frames/s per symbol; ${warmup} s warm-up, ${duration} s window; ` +
    `RSS is the mean of VmRSS over the window, peak is VmHWM since start; ` +
    `CPU in % of one core; memory of the service process only` +
    (isolates
      ? "; heap and external memory per isolate from a separate short run with --inspect"
      : "") +
    `; service V8 flags: ${v8Flags.length ? v8Flags.join(",") : "none"}` +
    (serviceArgs.length ? `; more service flags: ${serviceArgs.join(" ")}` : "") +
    (venues.length > 1 || (venues.length === 1 && venues[0] !== "binance")
      ? `; symbols spread over ${venues.join(", ")}`
      : ""),
    "",
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map(() => "---").join("|")}|`,
  ];
  const notes: string[] = [];
  let marked = 0;
  for (const row of report.rows) {
    const mark = row.notes.length > 0 ? ` [${++marked}]` : "";
    if (mark) notes.push(`[${marked}] ${row.notes.join("; ")}`);
    lines.push(`| ${cells(row, mark).join(" | ")} |`);
  }
  if (notes.length) lines.push("", ...notes);
  for (const f of report.failed) {
    lines.push(`failed: ${f.scenario.symbols} symbols, ${f.scenario.clients} clients: ${f.error}`);
  }
  return lines.join("\n");
}
