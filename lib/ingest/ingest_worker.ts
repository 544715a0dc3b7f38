/// <reference lib="deno.worker" />
/**
 * Ingest worker entry: attaches the shared raw ring and counters posted by the
 * supervisor and runs an {@link Ingestor}. Messages in: `{ type: "start", … }`
 * and `{ type: "stop" }`; out: `{ type: "started" }`, `{ type: "stopped" }`.
 *
 * @module
 */
import { SpscRing } from "../pipeline/spsc_ring.ts";
import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
import { Ingestor, type IngestorOptions } from "./ingestor.ts";
import { createLogger, type LogFormat, type LogLevel } from "../pipeline/logger.ts";

/** The start message the supervisor posts. */
export interface IngestStartMessage {
  type: "start";
  rawRing: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  options: Omit<IngestorOptions, "rawRing" | "counters" | "log">;
  /** Log level and format of the service (the worker logs overflow and callback errors). */
  log?: { level?: LogLevel; format?: LogFormat };
}

let ingestor: Ingestor | undefined;

self.onmessage = async (e: MessageEvent<IngestStartMessage | { type: "stop" }>) => {
  const msg = e.data;
  if (msg.type === "start") {
    ingestor = new Ingestor({
      ...msg.options,
      rawRing: SpscRing.attach(msg.rawRing),
      counters: PipelineCounters.attach(msg.counters),
      log: createLogger(msg.log),
    });
    ingestor.start();
    self.postMessage({ type: "started" });
  } else if (msg.type === "stop") {
    await ingestor?.stop();
    self.postMessage({ type: "stopped" });
  }
};
