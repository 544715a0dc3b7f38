/**
 * Pipeline benchmark: pre-recorded depth20 messages replayed by the ingest
 * side at full speed through parse → raw ring → analytics worker → processed
 * ring → main-thread history, against the same stages joined by postMessage
 * (baseline). Each iteration moves FRAMES frames with zero drops (the rings
 * use the `block` policy here, so the producer waits instead of dropping).
 * A paced run at 10,000 frames/s reports receive → main latency p50/p99.
 *
 * Run: `deno task bench` (or `deno bench -A bench/pipeline_bench.ts`).
 * @module
 */
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { FRAME_RECEIVE_TIME, FrameSlotLayout } from "../lib/pipeline/frame_slot.ts";
import { PipelineCounters } from "../lib/pipeline/pipeline_counters.ts";
import { HistoryStore } from "../lib/server/history_store.ts";
import { LatencyTracker } from "../lib/server/latency_tracker.ts";
import { FrameConsumer } from "../lib/server/frame_consumer.ts";
import { BookModel } from "../lib/sim/book_model.ts";
import { FrameEncoder } from "../lib/sim/frame_encoder.ts";
import { symbolSpec } from "../lib/sim/symbol_spec.ts";

const FRAMES = 50_000;
const PACED_RATE = 10_000;
const PACED_FRAMES = 20_000;
const SYMBOLS = ["btcusdt", "ethusdt"];

// Pre-recorded messages: the simulated exchange's depth20 frames, combined-stream wrapped.
const recorded: string[] = [];
{
  const encoders = SYMBOLS.map((s) => {
    const book = new BookModel(symbolSpec(s), { seed: 3 });
    return { s, book, enc: new FrameEncoder(book) };
  });
  for (let i = 0; i < 2000; i++) {
    const { s, book, enc } = encoders[i % encoders.length];
    book.advanceFrame();
    recorded.push(`{"stream":"${s}@depth20@100ms","data":${enc.partial(20)}}`);
  }
}

const bookLayout = new BookSlotLayout(20);
const frameLayout = new FrameSlotLayout({ levels: 20 });
const worker = (path: string) => new Worker(new URL(path, import.meta.url), { type: "module" });

// ---- ring pipeline (production components)
const raw = SpscRing.create({ capacity: 2048, slotBytes: bookLayout.slotBytes, policy: "block" });
const processed = SpscRing.create({
  capacity: 2048,
  slotBytes: frameLayout.slotBytes,
  policy: "block",
});
const counters = PipelineCounters.create(SYMBOLS.length + 1);
const history = new HistoryStore({ symbols: SYMBOLS.length, layout: frameLayout });
let latency = new LatencyTracker({ recent: PACED_FRAMES });
let consumer = new FrameConsumer({ processed, history, counters, latency });
let consuming = consumer.run();
const ringReplay = worker("./workers/pipeline_replay_worker.ts");
ringReplay.postMessage({
  type: "init",
  frames: recorded,
  symbols: SYMBOLS,
  ring: raw.buffer,
  counters: counters.buffer,
});
const analytics = worker("../lib/analytics/analytics_worker.ts");
analytics.postMessage({
  type: "start",
  rawRing: raw.buffer,
  processedRing: processed.buffer,
  counters: counters.buffer,
  // Analyse every frame, like the baseline: this measures full-analytics throughput.
  options: { symbols: SYMBOLS.length, levels: 20, adaptive: false },
});

// Completion is signalled by the history itself, not by polling: a frequent
// timer on the main thread was measured to delay Atomics.waitAsync wake-ups
// (receive → main p50 2.5–5.6 ms with a 1 ms poll, 0.04 ms without).
let ringCount = 0;
let ringTarget = Infinity;
let ringDone: (() => void) | null = null;
history.subscribe(() => {
  if (++ringCount >= ringTarget && ringDone) {
    const done = ringDone;
    ringDone = null;
    done();
  }
});

function runRing(count: number, rate: number): Promise<void> {
  ringTarget = ringCount + count;
  const finished = new Promise<void>((resolve) => ringDone = resolve);
  ringReplay.postMessage({ type: "run", count, rate });
  return finished;
}

// ---- postMessage pipeline (baseline): same parser and analyser, copies by postMessage
const pmHistory = new HistoryStore({ symbols: SYMBOLS.length, layout: frameLayout });
let pmLatency = new LatencyTracker({ recent: PACED_FRAMES });
const channel = new MessageChannel();
const pmReplay = worker("./workers/pipeline_replay_worker.ts");
pmReplay.postMessage({ type: "init", frames: recorded, symbols: SYMBOLS, port: channel.port1 }, [
  channel.port1,
]);
const pmAnalytics = worker("./workers/pipeline_pm_analytics_worker.ts");
pmAnalytics.postMessage({ port: channel.port2, symbols: SYMBOLS.length }, [channel.port2]);
let pmDelivered = 0;
let pmTarget = Infinity;
let pmDone: (() => void) | null = null;
pmAnalytics.onmessage = (e) => {
  const frame = e.data as Float64Array;
  pmLatency.observe(
    (performance.timeOrigin + performance.now() - frame[FRAME_RECEIVE_TIME]) / 1000,
  );
  pmHistory.push(frame);
  if (++pmDelivered >= pmTarget && pmDone) {
    const done = pmDone;
    pmDone = null;
    done();
  }
};

function runPostMessage(count: number, rate: number): Promise<void> {
  pmTarget = pmDelivered + count;
  const finished = new Promise<void>((resolve) => pmDone = resolve);
  pmReplay.postMessage({ type: "run", count, rate });
  return finished;
}

const totals = new Map<string, { frames: number; ms: number }>();
async function timed(name: string, run: () => Promise<void>, frames: number) {
  const t0 = performance.now();
  await run();
  const t = totals.get(name) ?? { frames: 0, ms: 0 };
  t.frames += frames;
  t.ms += performance.now() - t0;
  totals.set(name, t);
}

/** p50 and p99 (seconds) of the paced runs, taken when each run ends. */
const pacedLatency = { ring: [NaN, NaN], postMessage: [NaN, NaN] };

// Latency first: the throughput runs leave garbage (the baseline's clones) whose
// collection would show up as latency of whatever runs next.
Deno.bench({
  name: `ring pipeline paced at ${PACED_RATE} frames/s (latency)`,
  n: 1,
  warmup: 0,
  fn: async () => {
    await runRing(PACED_FRAMES, 0); // warm the JIT first: measure steady state
    consumer.stop();
    await consuming;
    latency = new LatencyTracker({ recent: PACED_FRAMES });
    consumer = new FrameConsumer({ processed, history, counters, latency });
    consuming = consumer.run();
    await runRing(PACED_FRAMES, PACED_RATE);
    // Taken now: later throughput runs feed the same consumer's tracker.
    pacedLatency.ring = [latency.quantile(0.5), latency.quantile(0.99)];
  },
});
Deno.bench({
  name: `postMessage pipeline paced at ${PACED_RATE} frames/s (latency)`,
  n: 1,
  warmup: 0,
  fn: async () => {
    await runPostMessage(PACED_FRAMES, 0); // warm the JIT first: measure steady state
    pmLatency = new LatencyTracker({ recent: PACED_FRAMES });
    await runPostMessage(PACED_FRAMES, PACED_RATE);
    pacedLatency.postMessage = [pmLatency.quantile(0.5), pmLatency.quantile(0.99)];
  },
});

const group = `depth20 frames through the pipeline (${FRAMES} per iteration)`;
Deno.bench({
  name: "postMessage pipeline",
  group,
  baseline: true,
  n: 5,
  warmup: 1,
  fn: async () => await timed("postMessage", () => runPostMessage(FRAMES, 0), FRAMES),
});
Deno.bench({
  name: "SAB ring pipeline",
  group,
  n: 10,
  warmup: 2,
  fn: async () => await timed("ring", () => runRing(FRAMES, 0), FRAMES),
});
globalThis.addEventListener("unload", () => {
  console.log("\nsustained frames/s (zero drops):");
  const base = totals.get("postMessage");
  for (const [name, t] of totals) {
    const rate = (t.frames / t.ms) * 1000;
    const ratio = base ? rate / ((base.frames / base.ms) * 1000) : NaN;
    console.log(
      `  ${name.padEnd(12)} ${Math.round(rate).toLocaleString("en-US").padStart(10)}  ${
        ratio.toFixed(1)
      }x`,
    );
  }
  console.log(
    `  raw dropped ${raw.stats().dropped}, processed dropped ${processed.stats().dropped}`,
  );
  const ms = (v: number) => (v * 1000).toFixed(3);
  console.log(`receive → main latency at ${PACED_RATE} frames/s:`);
  for (const [name, [p50, p99]] of Object.entries(pacedLatency)) {
    console.log(`  ${name.padEnd(12)} p50 ${ms(p50)} ms  p99 ${ms(p99)} ms`);
  }
  for (const w of [ringReplay, analytics, pmReplay, pmAnalytics]) w.terminate();
});
