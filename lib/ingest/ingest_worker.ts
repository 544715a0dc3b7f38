/// <reference lib="deno.worker" />
/**
 * Ingest worker entry: attaches the shared raw ring and counters posted by the
 * supervisor and runs the ingest of every venue of its symbols
 * ({@link createVenueIngestors}: an `Ingestor` for Binance spot and USD-M, a
 * `VenueIngest` for each other venue, URLs from `options.venueUrls`). Messages in: `{ type: "start", … }`
 * and `{ type: "stop" }`; out: `{ type: "started" }`, `{ type: "stopped" }`.
 * With a lease (lib/pipeline/worker_lease.ts), a worker that lost it (the
 * supervisor restarted it: Deno's `terminate()` does not stop a running
 * worker) stops touching the rings, releases the lease and ends itself.
 * With `options.partitionOf` and `options.owned` (an `OwnedPartitions`
 * buffer) it connects only the symbols of the partitions the main thread
 * marks owned, following the flags on its own (see {@link Ingestor}).
 *
 * @module
 */
import { SpscRing } from "../pipeline/spsc_ring.ts";
import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
import {
  createVenueIngestors,
  type VenueIngestors,
  type VenueIngestorsOptions,
} from "./venue_ingestors.ts";
import { createLogger, type LogFormat, type LogLevel } from "../pipeline/logger.ts";
import { WorkerLease } from "../pipeline/worker_lease.ts";
import { RecordRing, recordTap } from "../pipeline/record_ring.ts";

/**
 * The start message the supervisor posts.
 *
 * @example
 * ```ts
 * import type { IngestStartMessage } from "./ingest_worker.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const symbols = ["btcusdt"];
 * const rawRing = SpscRing.create({ slotBytes: new BookSlotLayout(20).slotBytes });
 * const counters = PipelineCounters.create(symbols.length + 1);
 * const worker = new Worker(new URL("./ingest_worker.ts", import.meta.url), { type: "module" });
 * const start: IngestStartMessage = {
 *   type: "start",
 *   rawRing: rawRing.buffer,
 *   counters: counters.buffer,
 *   options: { symbols, wsUrl: "wss://stream.binance.com:9443" },
 * };
 * worker.postMessage(start);
 * ```
 */
export interface IngestStartMessage {
  /** Message tag. */
  type: "start";
  /** Buffer of the raw ring the worker produces into ({@link SpscRing.attach}). */
  rawRing: SharedArrayBuffer;
  /** Buffer of the shared pipeline counters ({@link PipelineCounters.attach}). */
  counters: SharedArrayBuffer;
  /**
   * Everything else the {@link Ingestor} needs. With `--bus nats`: also
   * `partitionOf` (a `Uint16Array`, symbol id → partition) and `owned` (the
   * `OwnedPartitions` buffer the main thread keeps writing), so that only the
   * symbols of owned partitions are connected; a restarted worker gets the
   * same buffer and follows the flags as they are then. `venueUrls`: the
   * URLs of the venues other than Binance spot (default each venue's
   * production URL; `--source sim`: the simulated exchange's).
   */
  options: Omit<VenueIngestorsOptions, "rawRing" | "counters" | "log" | "protocols">;
  /** Log level and format of the service (the worker logs overflow and callback errors). */
  log?: { level?: LogLevel; format?: LogFormat };
  /** The lease buffer and this worker's generation ({@link WorkerLease}). Default none. */
  lease?: { buffer: SharedArrayBuffer; generation: number };
  /**
   * Buffer of the record ring (`--record-dir`, {@link RecordRing.attach}): every
   * record the ingest taps goes into it (a full ring drops and counts, never
   * waits). Default none: nothing is recorded.
   */
  recordRing?: SharedArrayBuffer;
}

/** How often a worker without traffic checks its lease, ms. */
const LEASE_CHECK_MS = 50;

let ingestor: VenueIngestors | undefined;

self.onmessage = async (e: MessageEvent<IngestStartMessage | { type: "stop" }>) => {
  const msg = e.data;
  if (msg.type === "start") {
    const lease = msg.lease
      ? WorkerLease.attach(msg.lease.buffer, "ingest", msg.lease.generation)
      : undefined;
    let check: ReturnType<typeof setInterval> | undefined;
    const record = msg.recordRing ? RecordRing.attach(msg.recordRing) : undefined;
    const started = createVenueIngestors({
      ...msg.options,
      tap: record && recordTap(record),
      rawRing: SpscRing.attach(msg.rawRing),
      counters: PipelineCounters.attach(msg.counters),
      log: createLogger(msg.log),
      lease,
      onFenced: () => {
        clearInterval(check);
        lease?.release();
        self.close();
      },
    });
    ingestor = started;
    if (lease) check = setInterval(() => started.checkLease(), LEASE_CHECK_MS);
    started.start();
    self.postMessage({ type: "started" });
  } else if (msg.type === "stop") {
    await ingestor?.stop();
    self.postMessage({ type: "stopped" });
  }
};
