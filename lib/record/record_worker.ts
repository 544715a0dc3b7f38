/// <reference lib="deno.worker" />
/**
 * Recorder worker entry: attaches the record ring and the recorder status
 * posted by the supervisor and runs a {@link Recorder} over a
 * {@link RecordWriter} (venue "binance"). Messages in: `{ type: "start", … }`
 * and `{ type: "stop" }`; out: `{ type: "started" }`, `{ type: "stopped" }`.
 * Disk errors are logged (at most one line per {@link ERROR_LOG_MS}) and
 * counted, never thrown. With a lease, a generation that lost it closes its
 * file, releases the lease and ends itself.
 *
 * @module
 */
import { RecordRing } from "../pipeline/record_ring.ts";
import { RecorderStatus } from "../pipeline/recorder_status.ts";
import { createLogger, type LogFormat, type LogLevel } from "../pipeline/logger.ts";
import { WorkerLease } from "../pipeline/worker_lease.ts";
import { RecordWriter } from "./record_writer.ts";
import { Recorder } from "./recorder.ts";

/**
 * The start message the supervisor posts.
 *
 * @example
 * ```ts
 * import type { RecordStartMessage } from "./record_worker.ts";
 * import { RecordRing } from "../pipeline/record_ring.ts";
 * import { RecorderStatus } from "../pipeline/recorder_status.ts";
 * const start: RecordStartMessage = {
 *   type: "start",
 *   ring: RecordRing.create().buffer,
 *   status: RecorderStatus.create().buffer,
 *   options: { dir: "/var/lib/depthwatch", maxBytes: 50e9, maxAgeMs: 7 * 86_400_000 },
 * };
 * const worker = new Worker(new URL("./record_worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage(start);
 * ```
 */
export interface RecordStartMessage {
  /** Message tag. */
  type: "start";
  /** Buffer of the record ring ({@link RecordRing.attach}). */
  ring: SharedArrayBuffer;
  /** Buffer of the recorder status ({@link RecorderStatus.attach}). */
  status: SharedArrayBuffer;
  /** The recording. */
  options: {
    /** Recording directory. Required. */
    dir: string;
    /** Bound on the directory's bytes. Default Infinity. */
    maxBytes?: number;
    /** Hours older than this are deleted, ms. Default Infinity. */
    maxAgeMs?: number;
    /** Wall time between closed blocks, ms. Default 10,000. */
    flushMs?: number;
    /** Uncompressed bytes per block. Default 1 MiB. */
    blockBytes?: number;
  };
  /** Log level and format of the service. */
  log?: { level?: LogLevel; format?: LogFormat };
  /** The lease buffer and this worker's generation ({@link WorkerLease}). Default none. */
  lease?: { buffer: SharedArrayBuffer; generation: number };
}

/** Shortest time between two logged disk errors, ms (a full disk fails every block). */
export const ERROR_LOG_MS = 10_000;

let recorder: Recorder | undefined;
let running: Promise<void> | undefined;

self.onmessage = async (e: MessageEvent<RecordStartMessage | { type: "stop" }>) => {
  const msg = e.data;
  if (msg.type === "start") {
    const log = createLogger(msg.log);
    const lease = msg.lease
      ? WorkerLease.attach(msg.lease.buffer, "recorder", msg.lease.generation)
      : undefined;
    let lastLogged = -Infinity;
    let suppressed = 0;
    const writer = new RecordWriter({
      ...msg.options,
      venue: "binance",
      onError: (message) => {
        const now = performance.now();
        if (now - lastLogged < ERROR_LOG_MS) {
          suppressed++;
          return;
        }
        const more = suppressed > 0 ? ` (and ${suppressed} more errors since the last line)` : "";
        log.error(`recorder: ${message}${more}; the records of that block are dropped`);
        lastLogged = now;
        suppressed = 0;
      },
    });
    const started = new Recorder({
      ring: RecordRing.attach(msg.ring),
      writer,
      status: RecorderStatus.attach(msg.status),
      flushMs: msg.options.flushMs,
      lease,
    });
    recorder = started;
    running = started.run().then(() => {
      if (lease && !lease.held()) {
        lease.release();
        self.close();
      }
    });
    self.postMessage({ type: "started" });
  } else if (msg.type === "stop") {
    recorder?.stop();
    await running;
    self.postMessage({ type: "stopped" });
  }
};
