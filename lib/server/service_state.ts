/**
 * What the running service hands to its routes (`ctx.state`): the pipeline's
 * shared memory, the main-thread stores and the supervisor's view of the
 * workers. Routes read it; only the service writes it.
 *
 * @example
 * ```ts
 * export const handler = (_req: Request, ctx: { state: ServiceState }) =>
 *   Response.json({ symbols: ctx.state.symbols });
 * ```
 * @module
 */

import type { SpscRing } from "../ring/spsc_ring.ts";
import type { PipelineCounters } from "../metrics/pipeline_counters.ts";
import type { HistoryStore } from "./history_store.ts";
import type { FrameSlotLayout } from "../analytics/frame_slot.ts";

/** The two workers the supervisor runs. */
export type WorkerName = "ingest" | "analytics";

/** State of a supervised worker. */
export type WorkerState = "starting" | "running" | "restarting" | "stopped";

/** The supervisor's view of its workers, read by /stats, /health and /metrics. */
export interface SupervisorView {
  /** Current state of a worker. */
  state(worker: WorkerName): WorkerState;
  /** Restarts of a worker since the service started. */
  restarts(worker: WorkerName): number;
  /** Frames lost in flight by worker restarts (at most one per restart), counted. */
  readonly inFlightLost: number;
}

/** Latency of frames from local receive to the main thread, kept by the consumer. */
export interface LatencyView {
  /** Upper bounds (seconds) of the histogram buckets; a +Inf bucket follows. */
  readonly bucketsSeconds: readonly number[];
  /** Non-cumulative counts per bucket (length = buckets + 1). */
  readonly counts: Float64Array;
  /** Sum of all observed latencies in seconds. */
  readonly sumSeconds: number;
  /** Number of observations. */
  readonly count: number;
  /** Approximate quantile (0..1) in seconds over the recent window, NaN when empty. */
  quantile(q: number): number;
}

/** Everything the routes may read. */
export interface ServiceState {
  /** Upper-case symbols, index = symbol id. */
  readonly symbols: readonly string[];
  /** The ingest source ("binance" or "sim") and stream kind. */
  readonly source: string;
  /** "depth20" or "diff". */
  readonly stream: string;
  /** Epoch ms when the service started. */
  readonly startedAt: number;
  /** Shared counters written by the workers and the main thread. */
  readonly counters: PipelineCounters;
  /** The raw ring (ingest → analytics). */
  readonly rawRing: SpscRing;
  /** The processed ring (analytics → main). */
  readonly processedRing: SpscRing;
  /** Last frames per symbol. */
  readonly history: HistoryStore;
  /** Analytics frame layout. */
  readonly layout: FrameSlotLayout;
  /** Worker supervision. */
  readonly supervisor: SupervisorView;
  /** Receive → main-thread latency. */
  readonly latency: LatencyView;
  /** The WebSocket hub (typed loosely here to keep this module free of the hub's imports). */
  readonly hub: unknown;
  /** Optional bearer token guarding /ws, /metrics, /stats and /api/*. */
  readonly authToken?: string;
}
