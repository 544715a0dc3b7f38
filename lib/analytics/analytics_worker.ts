/// <reference lib="deno.worker" />
/**
 * Analytics worker entry: attaches the rings and counters posted by the
 * supervisor and runs an {@link AnalyticsLoop} until the raw ring is closed
 * and drained. Message in: `{ type: "start", … }`; out: `{ type: "started" }`,
 * then `{ type: "stopped" }` when the loop ends.
 *
 * @module
 */
import { SpscRing } from "../pipeline/spsc_ring.ts";
import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
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
  options: Omit<AnalyticsLoopOptions, "raw" | "processed" | "counters">;
}

self.onmessage = (e: MessageEvent<AnalyticsStartMessage>) => {
  const msg = e.data;
  if (msg.type !== "start") return;
  const loop = new AnalyticsLoop({
    ...msg.options,
    raw: SpscRing.attach(msg.rawRing),
    processed: SpscRing.attach(msg.processedRing),
    counters: PipelineCounters.attach(msg.counters),
  });
  self.postMessage({ type: "started" });
  loop.run(); // blocks until the raw ring is closed and drained
  self.postMessage({ type: "stopped" });
};
