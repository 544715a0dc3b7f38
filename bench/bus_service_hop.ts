/**
 * The NATS bus through the whole system (issue 16's benchmark): frames per
 * second and latency from the ingest's receipt of an exchange message to a
 * dashboard client, over the single-process path and over the bus, in ONE
 * run on the same simulated exchange process (N symbols × R frames/s):
 *
 * 1. `single`: one service, `--bus memory` (today's default), reading the
 *    exchange (`--source binance --binance-ws-url/--binance-rest-url`);
 * 2. `bus`: nats-server (JetStream) + one `--role ingest` node + one
 *    `--role dashboard` node, separate processes (testing/cluster.ts); the
 *    client connects to the dashboard node.
 *
 * The client (testing/hop_client_process.ts, its own process) speaks the
 * browser protocol, subscribes to every symbol, and per frame takes its wall
 * clock at receipt − `Frame.receive_time` (the ingest's receive stamp; same
 * machine clock): frames/s, p50/p90/p99/max after a warm-up, frames lost
 * (seq gaps) and resyncs. Over the same window: CPU (cores) and RSS of every
 * process, the busiest threads of each (`top -H`, testing/thread_stats.ts),
 * per-core busy time and the load average.
 *
 * Flags: `--symbols N` (default 1000), `--rate R` frames/s per symbol
 * (default 20), `--warmup S` (default 5), `--duration S` window (default 20),
 * `--partitions P` (default 16), `--only single|bus`, `--history N` for
 * every node (default: the service's; the bus's history depth follows it),
 * `--browser` (after each window, 10 s of a Chromium page on `/s/<first
 * symbol>`: testing/hop_page.ts), `--json FILE` (append the result as one
 * JSON line).
 *
 * The machine is small and shared (2 vCPU, other work running): every
 * process of both paths and the client share its 2 cores; numbers are
 * indicative, the table prints the load average.
 *
 * Run: `deno task bus-hop` or `deno run -A bench/bus_service_hop.ts --symbols 200`.
 * @module
 */

import { parseArgs } from "node:util";
import { Cluster, eventually, readBusStats, readStats } from "../testing/cluster.ts";
import { spawnService } from "../testing/service_process.ts";
import { spawnHopClient } from "../testing/hop_client_process.ts";
import type { HopClientResult } from "../testing/hop_client.ts";
import { coreBusy, coreTimes, processCpuMs, processRssMiB } from "../testing/proc_stats.ts";
import { launchChromium } from "../testing/chromium_session.ts";
import { type PageLatency, pageLatency } from "../testing/hop_page.ts";
import type { Browser } from "playwright-core";
import { threadBusy, type ThreadCpu, threadCpuMs } from "../testing/thread_stats.ts";

/** One process's share of a window. */
interface ProcessUse {
  /** CPU over the window, cores. */
  cores: number;
  /** Largest RSS sampled in the window, MiB. */
  rssMiB: number;
  /** Busiest threads, summed by name: `name cores`. */
  threads: string;
}

/** One path's measurement. */
interface PathResult {
  path: "single" | "bus";
  client: HopClientResult;
  processes: Record<string, ProcessUse>;
  coreBusy: number[] | undefined;
  load: number[];
  bus?: Record<string, unknown>;
  /** Frames the pipeline node (service / ingest) dropped from its rings in the window. */
  ringDrops?: { raw: number; processed: number };
  /** The Chromium page's sample on /s/<first symbol> after the window (with `--browser`). */
  page?: PageLatency;
}

let browser: Browser | undefined;

/** With `--browser`: a 10 s latency sample of a real dashboard page after the window. */
async function pageSample(cluster: Cluster, url: string, result: PathResult): Promise<void> {
  if (browser === undefined) return;
  const symbol = cluster.symbols[0].toUpperCase();
  log(`${result.path}: Chromium on /s/${symbol} for 10 s`);
  try {
    result.page = await pageLatency(browser, url, symbol, { warmup: 3, duration: 10 });
  } catch (e) {
    log(`${result.path}: the page sample failed: ${(e as Error).message}`);
  }
}

/** `queues.raw.dropped` and `queues.processed.dropped` of a node's /stats. */
async function ringDrops(url: string): Promise<{ raw: number; processed: number }> {
  const q = (await readStats(url)).queues as Record<string, { dropped: number }>;
  return { raw: q.raw.dropped, processed: q.processed.dropped };
}

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    symbols: { type: "string", default: "1000" },
    rate: { type: "string", default: "20" },
    warmup: { type: "string", default: "5" },
    duration: { type: "string", default: "20" },
    partitions: { type: "string", default: "16" },
    only: { type: "string" },
    browser: { type: "boolean", default: false },
    history: { type: "string" },
    json: { type: "string" },
  },
});
const SYMBOLS = Number(flags.symbols);
const RATE = Number(flags.rate);
const WARMUP = Number(flags.warmup);
const DURATION = Number(flags.duration);
const PARTITIONS = Number(flags.partitions);
/** What `deno task start` sets (deno.json). */
const NODE_ENV = { MALLOC_ARENA_MAX: "2" };
/** `--history` for every node when given (the bus's history depth follows it), else the default. */
const NODE_ARGS = flags.history === undefined ? [] : ["--history", flags.history];

/**
 * The pid of the nats-server using the JetStream store `storeDir` (from /proc).
 *
 * @throws Error when there is none.
 */
function natsPid(storeDir: string): number {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const args = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      if (args[0].endsWith("nats-server") && args.includes(storeDir)) return Number(e.name);
    } catch { /* gone */ }
  }
  throw new Error(`no nats-server process with the store ${storeDir} in /proc`);
}

/** Threads' cores summed by name (`tokio-runtime-w` ×4 → one entry), busiest 4. */
function threadSummary(before: ThreadCpu[], after: ThreadCpu[], ms: number): string {
  const byName = new Map<string, number>();
  for (const t of threadBusy(before, after, ms)) {
    byName.set(t.name, (byName.get(t.name) ?? 0) + t.cores);
  }
  return [...byName].sort((a, b) => b[1] - a[1]).slice(0, 4)
    .map(([n, c]) => `${n} ${c.toFixed(2)}`).join(", ");
}

/** Run the client against `url` and sample `pids` over its window. */
async function measure(
  path: "single" | "bus",
  url: string,
  pids: Record<string, number>,
  pipelineUrl: string,
): Promise<PathResult> {
  let drops0: Promise<{ raw: number; processed: number }> | undefined;
  let drops1: Promise<{ raw: number; processed: number }> | undefined;
  const client = spawnHopClient({ url, warmup: WARMUP, duration: DURATION, setupTimeout: 180 });
  const all = { ...pids, client: client.pid };
  let cpu0: Record<string, number> = {};
  let threads0: Record<string, ThreadCpu[]> = {};
  let cores0 = coreTimes();
  let t0 = 0;
  const rss: Record<string, number> = {};
  let sampler: ReturnType<typeof setInterval> | undefined;
  const sampleRss = () => {
    for (const [k, pid] of Object.entries(all)) {
      try {
        rss[k] = Math.max(rss[k] ?? 0, processRssMiB(pid));
      } catch { /* gone */ }
    }
  };
  const done = new Promise<PathResult["processes"] & { __busy?: never }>((resolve) => {
    client.onWindow = (phase) => {
      if (phase === "start") {
        drops0 = ringDrops(pipelineUrl);
        t0 = performance.now();
        cores0 = coreTimes();
        for (const [k, pid] of Object.entries(all)) {
          cpu0[k] = processCpuMs(pid);
          threads0[k] = threadCpuMs(pid);
        }
        sampleRss();
        sampler = setInterval(sampleRss, 1000);
        return;
      }
      clearInterval(sampler);
      drops1 = ringDrops(pipelineUrl);
      sampleRss();
      const ms = performance.now() - t0;
      const out: Record<string, ProcessUse> = {};
      for (const [k, pid] of Object.entries(all)) {
        out[k] = {
          cores: Math.round(((processCpuMs(pid) - cpu0[k]) / ms) * 100) / 100,
          rssMiB: Math.round(rss[k] ?? NaN),
          threads: threadSummary(threads0[k], threadCpuMs(pid), ms),
        };
      }
      cpu0 = {};
      threads0 = {};
      resolve(out);
    };
  });
  let result: HopClientResult;
  try {
    result = await client.result;
  } catch (e) {
    client.kill();
    throw e;
  }
  const processes = await done;
  const [d0, d1] = await Promise.all([drops0!, drops1!]);
  return {
    ringDrops: { raw: d1.raw - d0.raw, processed: d1.processed - d0.processed },
    path,
    client: result,
    processes,
    coreBusy: coreBusy(cores0, coreTimes()),
    load: Deno.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function singlePath(cluster: Cluster): Promise<PathResult> {
  log(`single: one service (--bus memory) on the exchange`);
  const service = await spawnService({
    exchange: cluster.exchange,
    args: ["--symbols", cluster.symbols.join(","), ...NODE_ARGS],
    env: NODE_ENV,
    startTimeoutMs: 120_000,
  });
  try {
    const result = await measure("single", service.url, {
      service: service.pid,
      exchange: cluster.exchange.pid,
    }, service.url);
    await pageSample(cluster, service.url, result);
    return result;
  } finally {
    await service.stop();
  }
}

async function busPath(cluster: Cluster): Promise<PathResult> {
  log(`bus: nats-server + ingest node + dashboard node`);
  const ingest = await cluster.addNode({ role: "ingest", nodeId: "ingest-1", args: NODE_ARGS });
  await eventually(
    `ingest-1 holding all ${PARTITIONS} partitions`,
    async () => (await readBusStats(ingest.url)).owned.length === PARTITIONS,
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  log(`bus: ingest-1 holds all ${PARTITIONS} partitions; starting dash-1`);
  const dash = await cluster.addNode({ role: "dashboard", nodeId: "dash-1", args: NODE_ARGS });
  const result = await measure("bus", dash.url, {
    ingest: ingest.process.pid,
    dashboard: dash.process.pid,
    nats: natsPid(cluster.nats!.storeDir),
    exchange: cluster.exchange.pid,
  }, ingest.url);
  await pageSample(cluster, dash.url, result);
  const [i, d] = await Promise.all([readBusStats(ingest.url), readBusStats(dash.url)]);
  result.bus = {
    ingestPublished: i.published,
    ingestPublishFailed: i.publishFailed,
    ingestFenced: i.fenced,
    dashReceived: d.received,
    dashDropped: d.dropped,
    reconnects: i.reconnects + d.reconnects,
    leases: i.leases,
    dashSubscribed: d.subscribed,
  };
  // What the server and the nodes complained about (slow consumers, reconnects, fencing).
  const complaints = [
    ...cluster.nats!.logTail().split("\n").filter((l) => /\[(WRN|ERR)\]|Slow Consumer/i.test(l))
      .map((l) => `nats: ${l}`),
    ...[ingest, dash].flatMap((n) =>
      n.process.stderrTail().split("\n").filter((l) => l.trim() !== "").map((l) =>
        `${n.nodeId}: ${l}`
      )
    ),
  ];
  if (complaints.length > 0) {
    log(
      `bus: the last complaints of nats-server and the nodes:\n  ${
        complaints.slice(-24).join("\n  ")
      }`,
    );
  }
  const exits = cluster.unexpectedExits();
  if (exits.length > 0) throw new Error(exits.join("\n"));
  return result;
}

const T0 = performance.now();
/** A progress line on stderr with the seconds since start. */
function log(line: string): void {
  console.error(`[${((performance.now() - T0) / 1000).toFixed(1)} s] ${line}`);
}

const f1 = (v: number) => Number.isFinite(v) ? v.toFixed(1) : "–";

const c = (r: PathResult) => r.client;

function table(results: PathResult[]): string {
  const lines = [
    `| path | frames/s | p50 ms | p90 ms | p99 ms | max ms | lost (conflated) | resyncs | CPU cores per process | RSS MiB per process | load 1m |`,
    `| ---- | -------: | -----: | -----: | -----: | -----: | ---------------: | ------: | --------------------- | ------------------- | ------: |`,
  ];
  for (const r of results) {
    const c = r.client;
    const procs = Object.entries(r.processes);
    lines.push(
      `| ${r.path} | ${c.framesPerSecond} | ${f1(c.latency.p50)} | ${f1(c.latency.p90)} | ${
        f1(c.latency.p99)
      } | ${f1(c.latency.max)} | ${c.lost} (${c.conflated}) | ${c.resyncs} | ${
        procs.map(([k, p]) => `${k} ${p.cores.toFixed(2)}`).join(", ")
      } | ${procs.map(([k, p]) => `${k} ${p.rssMiB}`).join(", ")} | ${r.load[0]} |`,
    );
  }
  const s = results.find((r) => r.path === "single"), b = results.find((r) => r.path === "bus");
  if (s && b) {
    lines.push(
      ``,
      `added by the hop (bus − single): p50 ${
        f1(b.client.latency.p50 - s.client.latency.p50)
      } ms, p99 ${
        f1(b.client.latency.p99 - s.client.latency.p99)
      } ms; target: ${20_000} frames/s through the bus with < 5 ms added p99`,
    );
  }
  for (const r of results) {
    lines.push(``, `${r.path} threads (cores, by name):`);
    for (const [k, p] of Object.entries(r.processes)) lines.push(`  ${k}: ${p.threads}`);
    lines.push(`  cores busy: ${r.coreBusy?.join(" ")}; load ${r.load.join(" ")}`);
    lines.push(
      `  ring drops in the window (raw, processed): ${r.ringDrops?.raw}, ${r.ringDrops?.processed}; client: jumps ${
        c(r).jumps
      }, jumps before the window ${c(r).jumpsBefore}, backwards ${c(r).backwards}, errors ${
        c(r).errors
      }${c(r).closeCode ? `, closed ${c(r).closeCode}` : ""}; setup ${c(r).setupSeconds} s`,
    );
    if (r.bus) lines.push(`  bus: ${JSON.stringify(r.bus)}`);
    if (r.page) {
      lines.push(
        `  Chromium page (10 s, one symbol): ${r.page.frames} frames, p50 ${r.page.p50} ms, p99 ${r.page.p99} ms, max ${r.page.max} ms`,
      );
    }
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  console.error(
    `bus_service_hop: ${SYMBOLS} symbols × ${RATE} frames/s = ${
      SYMBOLS * RATE
    } frames/s offered; warm-up ${WARMUP} s, window ${DURATION} s; load ${
      Deno.loadavg().join(" ")
    }`,
  );
  const cluster = await Cluster.start({
    symbols: SYMBOLS,
    rate: RATE,
    partitions: PARTITIONS,
    env: NODE_ENV,
    startTimeoutMs: 120_000,
  });
  const results: PathResult[] = [];
  if (flags.browser) browser = await launchChromium();
  try {
    if (flags.only !== "bus") results.push(await singlePath(cluster));
    if (flags.only !== "single") results.push(await busPath(cluster));
  } finally {
    await browser?.close();
    log(`stopping the cluster`);
    await cluster.stop();
    log(`stopped`);
  }
  console.log(`\n${SYMBOLS} symbols × ${RATE} frames/s = ${SYMBOLS * RATE} frames/s offered\n`);
  console.log(table(results));
  if (flags.json) {
    await Deno.writeTextFile(
      flags.json,
      JSON.stringify({
        at: new Date().toISOString(),
        symbols: SYMBOLS,
        rate: RATE,
        history: flags.history ?? "default",
        warmup: WARMUP,
        duration: DURATION,
        results,
      }) + "\n",
      { append: true },
    );
  }
}

if (import.meta.main) await main();
