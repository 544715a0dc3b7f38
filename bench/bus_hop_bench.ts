/**
 * The NATS bus hop (docs/design.md §10): 700-byte analytics frames from a
 * publishing process (bench/workers/bus_hop_publisher.ts, lib/bus/
 * frame_publisher.ts: an ingest node) through a real nats-server
 * (testing/nats_server.ts, JetStream on, the `DW_V1_AN` history stream
 * capturing every frame in memory as in production) to this process
 * (lib/bus/frame_subscriptions.ts watching every symbol: a dashboard node).
 *
 * Measured per configuration: frames/s received, frames lost, and the
 * latency the hop adds — receive time minus the send time stamped in the
 * frame (both `performance.timeOrigin + now()`, one machine clock) —
 * p50/p99/max over the frames after a 0.5 s warm-up. Configurations: as
 * fast as the publisher can (throughput), and paced at 20,000 frames/s (the
 * target: 20,000 frames/s with < 5 ms added p99). Also timed: reading a
 * symbol's newest 100 frames from the stream (ordered consumer, the way
 * `lastFrames` reads), the same by a direct get per message, and the newest
 * one frame (one direct get).
 *
 * The machine is shared and small (2 cores, other work running): numbers
 * are indicative; the table prints the load average.
 *
 * Each case runs once (later calls return at once): the `deno bench` time
 * column is not the result; the table printed at the end is.
 * `BENCH_BUS_SECONDS` sets the window (default 3), `BENCH_BUS_SYMBOLS` the
 * symbol count (default 200).
 *
 * Run: `deno bench -A bench/bus_hop_bench.ts`.
 * @module
 */
import { connect } from "@nats-io/transport-node";
import process from "node:process";
import type { NatsConnection } from "@nats-io/nats-core";
import { startNatsServer } from "../testing/nats_server.ts";
import { FrameSubscriptions } from "../lib/bus/frame_subscriptions.ts";
import { FrameHistoryStream } from "../lib/bus/frame_history_stream.ts";
import { FramePublisher } from "../lib/bus/frame_publisher.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { processCpuMs } from "../testing/proc_stats.ts";

const SECONDS = Number(Deno.env.get("BENCH_BUS_SECONDS") ?? 3);
const SYMBOLS = Number(Deno.env.get("BENCH_BUS_SYMBOLS") ?? 200);
const WARMUP_S = 0.5;
const TARGET_RATE = 20_000;
const TARGET_P99_MS = 5;

interface HopResult {
  name: string;
  sent: number;
  received: number;
  failed: number;
  framesPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  load: string;
  p90: number;
  /** CPU of this (subscribing) process over the window, in cores. */
  subscriberCpu: number;
  /** CPU of nats-server over the window, in cores. */
  serverCpu: number;
}
const hops: HopResult[] = [];
const reads: { name: string; ms: number; frames: number }[] = [];
const loads: string[] = [];

/** A fresh nats-server (JetStream) with the history stream, and a connection, for one case. */
async function withServer(
  fn: (nc: NatsConnection, history: FrameHistoryStream, url: string, pid: number) => Promise<void>,
  stream: "memory" | "file" | "none" = "memory",
): Promise<void> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  try {
    const history = new FrameHistoryStream(nc, {
      depth: 100,
      storage: stream === "file" ? "file" : "memory",
    });
    if (stream !== "none") await history.ensure();
    await fn(nc, history, server.url, server.pid);
  } finally {
    await nc.close();
    await server.stop();
  }
}

function load(): string {
  return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function runPublisher(
  url: string,
  rate: number,
): Promise<{ sent: number; failed: number; seconds: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./workers/bus_hop_publisher.ts", import.meta.url).pathname,
      url,
      String(rate),
      String(SECONDS),
      String(SYMBOLS),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bus_hop_publisher exited with ${out.code}`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

/** One configuration: subscribe every symbol, run the publisher, wait for the stragglers. */
async function hop(
  name: string,
  rate: number,
  nc: NatsConnection,
  url: string,
  serverPid: number,
): Promise<void> {
  const subs = new FrameSubscriptions(nc, { maxSymbols: SYMBOLS });
  const capacity = Math.ceil((rate > 0 ? rate : 400_000) * (SECONDS + 1));
  const lat = new Float64Array(capacity);
  let count = 0;
  let received = 0;
  const warmupFrames = rate > 0 ? rate * WARMUP_S : 0;
  const scratch = new Uint8Array(12);
  const scratchF64 = new Float64Array(scratch.buffer, 0, 1);
  const scratchU32 = new Uint32Array(scratch.buffer, 8, 1);
  const sink = (b: Uint8Array) => {
    const now = performance.timeOrigin + performance.now();
    received++;
    scratch.set(b.subarray(0, 12));
    if (scratchU32[0] >= warmupFrames && count < capacity) lat[count++] = now - scratchF64[0];
  };
  for (let s = 0; s < SYMBOLS; s++) await subs.watch("bench", `S${s}`, sink);
  const cpu0 = process.cpuUsage();
  const server0 = serverPid ? processCpuMs(serverPid) : NaN;
  const pub = await runPublisher(url, rate);
  const cpu = process.cpuUsage(cpu0);
  const serverCpu = serverPid ? (processCpuMs(serverPid) - server0) / 1000 / pub.seconds : NaN;
  let last = -1;
  while (received < pub.sent && received !== last) {
    last = received;
    await new Promise((r) => setTimeout(r, 1000));
  }
  subs.close();
  const sorted = lat.subarray(0, count).sort();
  hops.push({
    name,
    sent: pub.sent,
    received,
    failed: pub.failed,
    framesPerSecond: Math.round(received / pub.seconds),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    load: load(),
    p90: percentile(sorted, 0.9),
    subscriberCpu: (cpu.user + cpu.system) / 1e6 / pub.seconds,
    serverCpu,
  });
}

async function time(name: string, frames: number, runs: number, f: () => Promise<unknown>) {
  const t = performance.now();
  for (let i = 0; i < runs; i++) await f();
  reads.push({ name, ms: (performance.now() - t) / runs, frames });
}

/** History reads over a stream holding 100 frames of every symbol. */
async function historyReads(nc: NatsConnection, history: FrameHistoryStream): Promise<void> {
  const publisher = new FramePublisher(nc);
  for (let s = 0; s < SYMBOLS; s++) publisher.register(s, "hist", `S${s}`);
  for (let i = 0; i < 120; i++) {
    for (let s = 0; s < SYMBOLS; s++) publisher.publish(s, new Uint8Array(700));
    await nc.flush();
  }
  await waitStored(nc);
  const sym = (i: number) => `S${i % SYMBOLS}`;
  let i = 0;
  await time(
    "lastFrames(100): ordered consumer",
    100,
    50,
    () => history.lastFrames("hist", sym(i++), 100),
  );
  await time(
    "lastFramesByDirectWalk(100): a direct get per frame",
    100,
    20,
    () => history.lastFramesByDirectWalk("hist", sym(i++), 100),
  );
  await time(
    "lastFrames(1): one direct get (last_by_subj)",
    1,
    200,
    () => history.lastFrames("hist", sym(i++), 1),
  );
  loads.push(load());
}

async function waitStored(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (let k = 0; k < 500; k++) {
    const info = await jsm.streams.info("DW_V1_AN");
    if (info.state.last_seq >= SYMBOLS * 120) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const group = "NATS bus hop, 700-byte frames";
Deno.bench({
  name: `as fast as one publisher can, ${SYMBOLS} symbols`,
  group,
  n: 1,
  warmup: 0,
  fn: async () => {
    if (!hops.some((h) => h.name === "max")) {
      await withServer((nc, _h, url, pid) => hop("max", 0, nc, url, pid));
    }
  },
});
Deno.bench({
  name: `paced ${TARGET_RATE} frames/s, ${SYMBOLS} symbols`,
  group,
  n: 1,
  warmup: 0,
  fn: async () => {
    const name = `${TARGET_RATE}/s`;
    if (!hops.some((h) => h.name === name)) {
      await withServer((nc, _h, url, pid) => hop(name, TARGET_RATE, nc, url, pid));
    }
  },
});
Deno.bench({
  name: `paced ${TARGET_RATE} frames/s, ${SYMBOLS} symbols, no history stream`,
  group,
  n: 1,
  warmup: 0,
  fn: async () => {
    const name = `${TARGET_RATE}/s, no stream`;
    if (!hops.some((h) => h.name === name)) {
      await withServer((nc, _h, url, pid) => hop(name, TARGET_RATE, nc, url, pid), "none");
    }
  },
});
Deno.bench({
  name: `paced ${TARGET_RATE} frames/s, ${SYMBOLS} symbols, history stream on file storage`,
  group,
  n: 1,
  warmup: 0,
  fn: async () => {
    const name = `${TARGET_RATE}/s, file stream`;
    if (!hops.some((h) => h.name === name)) {
      await withServer((nc, _h, url, pid) => hop(name, TARGET_RATE, nc, url, pid), "file");
    }
  },
});
Deno.bench({
  name: "history reads from DW_V1_AN",
  group,
  n: 1,
  warmup: 0,
  fn: async () => {
    if (reads.length === 0) await withServer((nc, history) => historyReads(nc, history));
  },
});

globalThis.addEventListener("unload", () => {
  if (hops.length === 0 && reads.length === 0) return;
  console.log(
    `\nNATS bus hop (nats-server 2.9.10 on 127.0.0.1; window ${SECONDS} s; ${SYMBOLS} symbols; ` +
      `latency in ms, receive − stamp, after ${WARMUP_S} s warm-up; indicative: shared 2-core machine):`,
  );
  console.log(
    "  config | sent | received | failed | frames/s | p50 | p90 | p99 | max | subscriber CPU | nats-server CPU | load avg | ok",
  );
  for (const h of hops) {
    const ok = h.name === "max" ? "" : h.framesPerSecond >= TARGET_RATE * 0.95 &&
        h.p99 < TARGET_P99_MS && h.received === h.sent
      ? "yes"
      : "NO";
    console.log(
      `  ${h.name} | ${h.sent} | ${h.received} | ${h.failed} | ${h.framesPerSecond} | ` +
        `${h.p50.toFixed(2)} | ${h.p90.toFixed(2)} | ${h.p99.toFixed(2)} | ${h.max.toFixed(2)} | ` +
        `${Math.round(h.subscriberCpu * 100)}% | ${
          Math.round(h.serverCpu * 100)
        }% | ${h.load} | ${ok}`,
    );
  }
  for (const r of reads) {
    console.log(`  ${r.name}: ${r.ms.toFixed(2)} ms per read of ${r.frames}`);
  }
  if (loads.length) console.log(`  (history reads at load ${loads[0]})`);
});
