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

/** The start message the supervisor posts. */
export interface AnalyticsStartMessage {
  type: "start";
  rawRing: SharedArrayBuffer;
  processedRing: SharedArrayBuffer;
  counters: SharedArrayBuffer;
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
