/**
 * Test helper: the service's pipeline in one thread — the real
 * {@link Ingestor} (live against an exchange, or replaying a recording) into
 * a raw ring, the real {@link AnalyticsLoop} (adaptive skipping off, as in a
 * replay) into a processed ring, and every analytics frame collected per
 * symbol. Live, the ingest's `tap` either keeps every record it is handed (each received
 * message; in diff mode the REST snapshots and generated book snapshots;
 * disconnect markers) with its receive time as a tardis-format line (`record`), or goes through the
 * service's own recorder (`recordDir`): the record ring, a {@link Recorder}
 * and a {@link RecordWriter} writing hour files, on this thread.
 *
 * @example
 * ```ts
 * import { runPipeline } from "./replay_pipeline.ts";
 * declare const wsUrl: string;
 * const run = runPipeline({ symbols: ["btcusdt"], ingest: { wsUrl }, record: true });
 * await run.until(() => run.frames[0].length >= 10);
 * const { lines } = await run.stop();
 * lines.length; // messages received
 * ```
 * @module
 */
import { Ingestor, type IngestorOptions } from "../lib/ingest/ingestor.ts";
import { AnalyticsLoop } from "../lib/analytics/analytics_loop.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import { PipelineCounters } from "../lib/pipeline/pipeline_counters.ts";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import {
  FRAME_ANALYSED_TIME,
  FRAME_DELIVERED_TIME,
  FRAME_PARSED_TIME,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { RecordWriter, usToIso } from "../lib/record/mod.ts";
import { Recorder } from "../lib/record/recorder.ts";
import { RecordRing, recordTap } from "../lib/pipeline/record_ring.ts";
import type { RingPolicy } from "../lib/pipeline/ring_layout.ts";

/** Options of {@link runPipeline}. */
export interface PipelineRunOptions {
  /** Lower-case symbols. Required. */
  symbols: readonly string[];
  /** Ingestor options besides the rings, counters and symbols. Required. */
  ingest: Omit<IngestorOptions, "rawRing" | "counters" | "symbols">;
  /** Keep every tapped record as a tardis line. Default false. */
  record?: boolean;
  /**
   * Record through the record ring and the recorder into this directory
   * (`DIR/binance/YYYY-MM-DD/HH.dwrec.zst`, closed by `stop()`). Default none.
   */
  recordDir?: string;
  /** Raw ring policy. Default `"block"` (what a replay runs with). */
  policy?: RingPolicy;
  /** Raw ring slots. Default 4096. */
  rawCapacity?: number;
}

/** A running pipeline (see {@link runPipeline}). */
export interface PipelineRun {
  /** Analytics frames per symbol id, in order (copies of the frame words). */
  frames: Float64Array[][];
  /** The ingestor. */
  ingestor: Ingestor;
  /** The raw ring. */
  rawRing: SpscRing;
  /** The record ring (with `recordDir`; its counters say what was dropped). */
  recordRing?: RecordRing;
  /** Shared counters. */
  counters: PipelineCounters;
  /** The recorded lines so far (with `record`; a test may add its own, e.g. REST snapshots). */
  lines: string[];
  /** Wait until `cond` holds (checked every 10 ms; the timeout only guards against a hang). */
  until(cond: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stop the ingest, drain both rings; the recorded lines (empty unless `record`). */
  stop(): Promise<{ lines: string[] }>;
}

/** The words of an analytics frame that are latency stamps (not results). */
export const LATENCY_STAMPS: readonly number[] = [
  FRAME_PARSED_TIME,
  FRAME_ANALYSED_TIME,
  FRAME_DELIVERED_TIME,
];

/**
 * Start the pipeline (see the module docs).
 *
 * @example
 * ```ts
 * import { runPipeline } from "./replay_pipeline.ts";
 * import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
 * declare const path: string;
 * const status = ReplayStatus.create();
 * const run = runPipeline({
 *   symbols: ["btcusdt"],
 *   ingest: { wsUrl: "ws://unused", replay: { path, speed: Infinity, status: status.buffer } },
 * });
 * await run.ingestor.replayFinished;
 * await run.stop();
 * ```
 */
export function runPipeline(options: PipelineRunOptions): PipelineRun {
  const symbols = options.symbols;
  const levels = options.ingest.levels ?? 20;
  const rawRing = SpscRing.create({
    capacity: options.rawCapacity ?? 4096,
    slotBytes: new BookSlotLayout(levels).slotBytes,
    policy: options.policy ?? "block",
  });
  const layout = new FrameSlotLayout({ levels });
  const processed = SpscRing.create({ capacity: 4096, slotBytes: layout.slotBytes });
  const counters = PipelineCounters.create(symbols.length + 1);
  const lines: string[] = [];
  const recordRing = options.recordDir === undefined ? undefined : RecordRing.create();
  const recording = recordRing && new Recorder({
    ring: RecordRing.attach(recordRing.buffer),
    writer: new RecordWriter({ dir: options.recordDir!, venue: "binance" }),
  }).run();
  const ingestor = new Ingestor({
    ...options.ingest,
    symbols,
    rawRing,
    counters,
    tap: recordRing
      ? recordTap(recordRing)
      : options.record
      ? (text, at) => lines.push(`${usToIso(Math.round(at * 1000))} ${text}`)
      : undefined,
  });
  const loop = new AnalyticsLoop({
    raw: rawRing,
    processed,
    counters,
    symbols: symbols.length,
    levels,
    adaptive: false,
  });
  const frames: Float64Array[][] = symbols.map(() => []);
  const slot = new Float64Array(processed.slotWords);
  const pump = () => {
    while (loop.drain() > 0) {
      while (processed.pop(slot)) {
        frames[slot[FRAME_SYMBOL_ID]].push(slot.slice(0, layout.slotWords));
      }
    }
  };
  const timer = setInterval(pump, 2);
  ingestor.start();
  return {
    frames,
    ingestor,
    rawRing,
    recordRing,
    counters,
    lines,
    async until(cond, timeoutMs = 60_000) {
      const t0 = performance.now();
      while (!cond()) {
        if (performance.now() - t0 > timeoutMs) throw new Error("timed out waiting");
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      await ingestor.stop();
      clearInterval(timer);
      pump();
      recordRing?.close();
      await recording;
      return { lines };
    },
  };
}

/**
 * Where two analytics frames differ, ignoring the latency stamps: the first
 * word index whose bits differ, or -1 when they are equal bit for bit (NaN
 * equals NaN of the same bits).
 *
 * @example
 * ```ts
 * import { firstDifference } from "./replay_pipeline.ts";
 * firstDifference(Float64Array.of(1, NaN), Float64Array.of(1, NaN)); // -1
 * ```
 */
export function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (LATENCY_STAMPS.includes(i)) continue;
    if (x[i] !== y[i]) return i;
  }
  return -1;
}
