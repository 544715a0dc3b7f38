/**
 * Whole-service replay throughput (`deno task replay-run`): writes a
 * recording made from the real Binance frames (testing/real_recording.ts:
 * the vendored depth20 message as `--symbols` symbols, `--records` records,
 * lib/record hour files), starts the service on it with `--source replay
 * --replay-speed max` (ingest worker → raw ring → analytics worker →
 * processed ring → main thread, as in production) and reports frames/s:
 * records over the time from the first record delivered to the last frame
 * analysed and consumed (`/stats`, polled every 50 ms), with the load
 * average (the machine is shared: numbers are indicative).
 *
 * Flags (defaults in brackets): `--records` [300000], `--symbols` [4],
 * `--json` path to write the report, `--cpu-prof` directory (runs the service
 * under `deno run --cpu-prof --cpu-prof-dir=…`); after `--`, more service
 * flags (e.g. `-- --raw-capacity 65536`).
 *
 * @example
 * ```sh
 * deno task replay-run
 * deno run -A tools/replay_run.ts --records 100000 --symbols 100 --json /tmp/replay.json
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { spawnService } from "../testing/service_process.ts";
import { writeRealRecording } from "../testing/real_recording.ts";

/** Options of {@link replayRun}. */
export interface ReplayRunOptions {
  /** Records in the recording. Default 300,000. */
  records?: number;
  /** Symbols. Default 4. */
  symbols?: number;
  /** Write V8 CPU profiles of the service here. Default: none. */
  cpuProfDir?: string;
  /** Give up after this many seconds. Default 300. */
  timeoutS?: number;
  /** More service flags (e.g. `["--raw-capacity", "8192"]`). Default none. */
  serviceArgs?: readonly string[];
}

/** What {@link replayRun} measured. */
export interface ReplayRunReport {
  records: number;
  symbols: number;
  /** Recording size on disk, bytes. */
  bytes: number;
  /** Seconds from the first record delivered to the last frame consumed. */
  seconds: number;
  /** records / seconds: frames/s through the whole service. */
  framesPerSecond: number;
  /** Seconds until the ingest had delivered every record. */
  ingestSeconds: number;
  /** Times the replay waited for room in the raw ring. */
  waits: number;
  /** Load average (1 min) before and after. */
  loadBefore: number;
  loadAfter: number;
  /** CPU seconds of the service's busiest thread during the run (the ingest worker's, at max). */
  busiestThreadCpuSeconds: number;
  /** CPU seconds of the whole service during the run. */
  processCpuSeconds: number;
  /** records / the busiest thread's CPU seconds: the rate if that thread had a core to itself. */
  framesPerBusiestCpuSecond: number;
  /** CPU seconds of the four busiest threads, `name:seconds`. */
  threads: string[];
}

/** CPU seconds (user + system) of each thread of `pid`, by thread id (Linux /proc; empty elsewhere). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime, stime in clock ticks (100/s)
      out.set(`${name}#${t.name}`, (Number(f[11]) + Number(f[12])) / 100);
    }
  } catch { /* not Linux, or the process is gone */ }
  return out;
}

function load1(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

interface Stats {
  replay: { records: number; done: boolean; waits: number } | null;
  queues: { processed: { popped: number } };
}

/**
 * Run the measurement (see the module docs).
 *
 * @example
 * ```ts
 * import { replayRun } from "./replay_run.ts";
 * const report = await replayRun({ records: 50_000 });
 * console.log(report.framesPerSecond);
 * ```
 */
export async function replayRun(options: ReplayRunOptions = {}): Promise<ReplayRunReport> {
  const records = options.records ?? 300_000;
  const symbols = options.symbols ?? 4;
  const rec = writeRealRecording({ records, symbols });
  const loadBefore = load1();
  const service = await spawnService({
    args: [
      "--source",
      "replay",
      "--replay-path",
      rec.dir,
      "--replay-speed",
      "max",
      ...(options.serviceArgs ?? []),
    ],
    denoFlags: options.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`] : [],
  });
  try {
    const deadline = performance.now() + (options.timeoutS ?? 300) * 1000;
    let start = NaN, ingestEnd = NaN, end = NaN, waits = 0;
    let cpuStart = new Map<string, number>();
    while (performance.now() < deadline) {
      const s = await (await fetch(new URL("/stats", service.url))).json() as Stats;
      const now = performance.now();
      const r = s.replay;
      if (r && r.records > 0 && start !== start) {
        start = now;
        cpuStart = threadCpu(service.pid);
      }
      if (r && r.done && r.records >= records && ingestEnd !== ingestEnd) ingestEnd = now;
      if (r) waits = r.waits;
      if (s.queues.processed.popped >= records) {
        end = now;
        break;
      }
      if (start !== start) cpuStart = threadCpu(service.pid);
      await new Promise((res) => setTimeout(res, 50));
    }
    if (end !== end) {
      throw new Error(`the replay did not finish in time; service log:\n${service.stderrTail()}`);
    }
    const seconds = (end - start) / 1000;
    let busiest = 0, total = 0;
    const used: [string, number][] = [];
    for (const [tid, cpu] of threadCpu(service.pid)) {
      const u = cpu - (cpuStart.get(tid) ?? 0);
      busiest = Math.max(busiest, u);
      total += u;
      used.push([tid.split("#")[0], u]);
    }
    used.sort((a, b) => b[1] - a[1]);
    return {
      records,
      symbols,
      bytes: rec.bytes,
      seconds,
      framesPerSecond: Math.round(records / seconds),
      ingestSeconds: (ingestEnd - start) / 1000,
      waits,
      loadBefore,
      loadAfter: load1(),
      busiestThreadCpuSeconds: busiest,
      processCpuSeconds: total,
      framesPerBusiestCpuSecond: Math.round(records / busiest),
      threads: used.slice(0, 4).map(([name, u]) => `${name}:${u.toFixed(2)}`),
    };
  } finally {
    await service.stop();
    Deno.removeSync(rec.dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      records: { type: "string", default: "300000" },
      symbols: { type: "string", default: "4" },
      json: { type: "string" },
      "cpu-prof": { type: "string" },
    },
  });
  const report = await replayRun({
    records: Number(values.records),
    symbols: Number(values.symbols),
    cpuProfDir: values["cpu-prof"],
    serviceArgs: positionals,
  });
  console.log(
    `replay at max through the whole service: ${report.records} records of ${report.symbols} ` +
      `symbols (${(report.bytes / 1e6).toFixed(1)} MB recorded) in ${
        report.seconds.toFixed(2)
      } s ` +
      `= ${report.framesPerSecond} frames/s (ingest done after ${
        report.ingestSeconds.toFixed(2)
      } s, ${report.waits} waits for ring room); load average ${report.loadBefore} → ${report.loadAfter}; ` +
      `busiest thread ${report.busiestThreadCpuSeconds.toFixed(2)} CPU s ` +
      `(= ${report.framesPerBusiestCpuSecond} frames per CPU second), whole service ${
        report.processCpuSeconds.toFixed(2)
      } CPU s (${report.threads.join(" ")})`,
  );
  if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
}
