/**
 * What the metrics read from the running service, declared here so that the
 * metrics layer depends on no server module: the server's `ServiceState`
 * extends {@link MetricsSources}, its supervisor implements
 * {@link SupervisorView} and its latency tracker {@link LatencyView}.
 *
 * @example
 * ```ts
 * import type { MetricsSources, WorkerName } from "./metrics_sources.ts";
 *
 * function restarts(sources: MetricsSources, worker: WorkerName): number {
 *   return sources.supervisor.restarts(worker);
 * }
 * ```
 * @module
 */

import type { ReplayStatus } from "../pipeline/replay_status.ts";
import type { RecordTotals } from "./record_totals.ts";
import type { PipelineSources } from "./pipeline_totals.ts";
import type { DataMode } from "../pipeline/data_mode.ts";

/** The two workers the supervisor runs. */
export type WorkerName = "ingest" | "analytics";

/** Every worker name, in the order metrics and /stats list them. */
export const WORKER_NAMES: readonly WorkerName[] = ["ingest", "analytics"];

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
  /** The recorder worker (`--record-dir`); absent from views without one. */
  recorder?(): { state: WorkerState; restarts: number };
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

/**
 * The HTTP server's connection counters (`HttpServerCounters` of
 * `lib/net/http_server.ts`, read live).
 *
 * @example
 * ```ts
 * import type { HttpCounters } from "./metrics_sources.ts";
 * declare const counters: HttpCounters;
 * counters.open; // open connections now
 * ```
 */
export interface HttpCounters {
  /** Open connections, HTTP and WebSocket. */
  readonly open: number;
  /** Connections answered 503 because the cap was reached. */
  readonly refusedOverCap: number;
  /** Connections closed because a request head did not arrive in time. */
  readonly closedHeadersTimeout: number;
  /** Kept-alive connections closed after the idle timeout. */
  readonly closedIdleTimeout: number;
  /** Connections closed because a write to the client stalled. */
  readonly closedWriteTimeout: number;
  /** Failed `accept` calls (e.g. EMFILE), each retried. */
  readonly acceptErrors: number;
  /** Requests the server refused itself, by HTTP status. */
  readonly badRequests: Readonly<Record<number, number>>;
}

/**
 * The HTTP server as `/metrics` sees it: its live counters and its connection cap.
 *
 * @example
 * ```ts
 * import type { HttpView } from "./metrics_sources.ts";
 * declare const http: HttpView;
 * http.counters.open <= http.maxConnections; // true
 * ```
 */
export interface HttpView {
  /** Live counters. */
  readonly counters: HttpCounters;
  /** The connection cap (`--max-connections`). */
  readonly maxConnections: number;
}

/**
 * What the metrics read of a node on a NATS bus (`lib/server/bus_node.ts`).
 *
 * @example
 * ```ts
 * import type { BusView } from "./metrics_sources.ts";
 * const held = (bus: BusView) => bus.held;
 * ```
 */
export interface BusView {
  /** `all`, `ingest` or `dashboard`. */
  readonly role: string;
  /** NATS is connected now. */
  readonly connected: boolean;
  /** NATS reconnects so far. */
  readonly reconnects: number;
  /** Partitions held now. */
  readonly held: number;
  /** Symbols subscribed on the bus now. */
  readonly subscribed: number;
  /** Live frames lost during joins, history reads that failed (dashboard half). */
  readonly joinLosses: { frames: number; history: number };
  /** Frames received from the bus. */
  readonly received: number;
  /** Frames published, refused by the fence, or not handed to a disconnected client. */
  readonly publishCounters: {
    published: number;
    fenced: number;
    failed: number;
    backpressure: number;
  };
  /** Lease events. */
  readonly leaseCounters: { holds: number; takeovers: number; losses: number; releases: number };
  /** Frames received and dropped, by reason; bars seeds of newly watched symbols, by result. */
  readonly counters: {
    staleEpoch: number;
    own: number;
    duplicate: number;
    malformed: number;
    barsSeeded: number;
    barsSeedFailed: number;
  };
}

/** Everything `/metrics` reads: the pipeline's counters and rings plus the main-thread views. */
export interface MetricsSources extends PipelineSources {
  /** Where the data comes from (`depthwatch_info`'s `mode` label; see `lib/pipeline/data_mode.ts`). */
  readonly mode: DataMode;
  /** The ingest source ("binance" or "sim"), `depthwatch_info`'s `source` label. */
  readonly source: string;
  /** The depth stream kind ("depth20" or "diff"), `depthwatch_info`'s `stream` label. */
  readonly stream: string;
  /** Worker supervision. */
  readonly supervisor: SupervisorView;
  /** Receive → main-thread latency. */
  readonly latency: LatencyView;
  /** The WebSocket hub, read through `readHubStats` (typed loosely: the hub lives in the server). */
  readonly hub: unknown;
  /** The HTTP server's connections; set once it listens (absent before, and in tests without one). */
  http?: HttpView;
  /** `--source replay`: the replay position (written by the ingest worker). Absent otherwise. */
  readonly replay?: ReplayStatus;
  /** `--record-dir`: the recording's totals. Absent otherwise. */
  readonly record?: RecordTotals;
  /** The node on a NATS bus; absent with `--bus memory`. */
  readonly bus?: BusView;
}
