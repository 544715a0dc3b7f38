/// <reference lib="deno.worker" />
/**
 * Analytics worker entry: attaches the rings and counters posted by the
 * supervisor and runs an {@link AnalyticsLoop} until the raw ring is closed
 * and drained. Message in: `{ type: "start", … }`; out: `{ type: "started" }`,
 * then `{ type: "stopped" }` when the loop ends. With a lease
 * (lib/pipeline/worker_lease.ts), a worker that lost it (the supervisor
 * restarted it: Deno's `terminate()` does not stop a worker blocked in its
 * loop) takes and publishes no frame more, releases the lease and ends itself.
 *
 * @module
 */
import { SpscRing } from "../pipeline/spsc_ring.ts";
import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
import { WorkerLease } from "../pipeline/worker_lease.ts";
import { AnalyticsLoop, type AnalyticsLoopOptions } from "./analytics_loop.ts";

/**
 * The start message the supervisor posts.
 *
 * @example
 * ```ts
 * import type { AnalyticsStartMessage } from "./analytics_worker.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const symbols = 2;
 * const raw = SpscRing.create({ slotBytes: new BookSlotLayout(20).slotBytes });
 * const processed = SpscRing.create({ slotBytes: new FrameSlotLayout({ levels: 20 }).slotBytes });
 * const counters = PipelineCounters.create(symbols + 1);
 * const worker = new Worker(new URL("./analytics_worker.ts", import.meta.url), { type: "module" });
 * const start: AnalyticsStartMessage = {
 *   type: "start",
 *   rawRing: raw.buffer,
 *   processedRing: processed.buffer,
 *   counters: counters.buffer,
 *   options: { symbols },
 * };
 * worker.postMessage(start);
 * ```
 */
export interface AnalyticsStartMessage {
  /** Message tag. */
  type: "start";
  /** Buffer of the raw ring the worker consumes ({@link SpscRing.attach}). */
  rawRing: SharedArrayBuffer;
  /** Buffer of the processed ring the worker produces into. */
  processedRing: SharedArrayBuffer;
  /** Buffer of the shared pipeline counters ({@link PipelineCounters.attach}). */
  counters: SharedArrayBuffer;
  /** Everything else the {@link AnalyticsLoop} needs. */
  options: Omit<AnalyticsLoopOptions, "raw" | "processed" | "counters" | "lease">;
  /** The lease buffer and this worker's generation ({@link WorkerLease}). Default none. */
  lease?: { buffer: SharedArrayBuffer; generation: number };
}

self.onmessage = (e: MessageEvent<AnalyticsStartMessage>) => {
  const msg = e.data;
  if (msg.type !== "start") return;
  const lease = msg.lease
    ? WorkerLease.attach(msg.lease.buffer, "analytics", msg.lease.generation)
    : undefined;
  const loop = new AnalyticsLoop({
    ...msg.options,
    raw: SpscRing.attach(msg.rawRing),
    processed: SpscRing.attach(msg.processedRing),
    counters: PipelineCounters.attach(msg.counters),
    lease,
  });
  self.postMessage({ type: "started" });
  loop.run(); // blocks until the raw ring is closed and drained, or the lease is lost
  if (loop.fenced) {
    lease?.release();
    self.close();
    return;
  }
  self.postMessage({ type: "stopped" });
};
