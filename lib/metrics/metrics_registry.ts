/**
 * The Prometheus registry of the service: every `depthwatch_*` metric of
 * docs/design.md §7 plus prom-client's default process metrics, all
 * collected at scrape time from the shared counters, the rings, the
 * supervisor, the latency histogram and the WebSocket hub.
 *
 * All pipeline counters of one scrape come from a single
 * {@link PipelineTotals.sample} (taken once per scrape and shared by every
 * metric's `collect`), so the accounting identities hold exactly within one
 * scrape taken while the pipeline is paused:
 *
 * - `depthwatch_frames_received_total = depthwatch_frames_rejected_by_symbol_total + depthwatch_frames_accepted_total` (per symbol)
 * - `Σ accepted = depthwatch_queue_dropped_total{queue="raw"} + Σ analysed + depthwatch_queue_depth{queue="raw"}`
 * - `analysed = processed + skipped` (per symbol)
 * - `Σ processed = depthwatch_queue_dropped_total{queue="processed"} + Σ delivered + depthwatch_queue_depth{queue="processed"}`
 * - `Σ depthwatch_frames_rejected_by_reason_total = Σ depthwatch_frames_rejected_by_symbol_total`
 *
 * Series per symbol are kept to the eight families that an identity or an
 * alert needs (received, rejected by symbol, accepted, analysed, processed,
 * skipped, delivered, feed up); rejections by reason carry no symbol label
 * (per symbol and reason: `/stats`). The per-symbol families are written by
 * a {@link SymbolSeries} with each symbol's label text escaped once, and
 * appended after the registry's text; a scrape allocates nothing per
 * series but its line of text.
 *
 * The counters are uint32 words that wrap; {@link DepthwatchMetrics.sample}
 * must run every second (or at least once per 2^32 increments) to keep the
 * totals exact. {@link metricsFor} gives the one instance per state that the
 * service samples and `/metrics` renders.
 *
 * Under Deno, prom-client's Linux process collectors read `/proc/self/*`,
 * which needs read permission the service does not have in production
 * (`--allow-read=.`). When `/proc/self/status` is not readable,
 * `process_resident_memory_bytes` comes from `Deno.memoryUsage().rss`, and
 * the `/proc`-only process metrics (virtual memory, heap, open and max fds)
 * are left out instead of reporting zeros.
 *
 * Of prom-client's `nodejs_*` metrics, the active handles and requests (always
 * empty under Deno) and `nodejs_active_resources_total` (a gauge named like a
 * counter; it is `sum(nodejs_active_resources)`) are left out, so the
 * exposition passes `promtool check metrics` without a lint warning.
 *
 * @example
 * ```ts
 * import { metricsFor } from "./metrics_registry.ts";
 * import type { MetricsSources } from "./metrics_sources.ts";
 * declare const state: MetricsSources; // the running service's state
 * const metrics = metricsFor(state);
 * const timer = setInterval(() => metrics.sample(), 1000);
 * const text = await metrics.render(); // Prometheus text format 0.0.4
 * clearInterval(timer);
 * ```
 * @module
 */

import { collectDefaultMetrics, Counter, Gauge, type Metric, Registry } from "prom-client";
import { REJECT_REASON_NAMES } from "../pipeline/reject_reason.ts";
import { FEED_STATE_NAMES, FeedState } from "../pipeline/feed_state.ts";
import { type MetricsSources, WORKER_NAMES } from "./metrics_sources.ts";
import {
  type PipelineGlobals,
  type PipelineSnapshot,
  type PipelineTotals,
  pipelineTotals,
  type SymbolCounter,
} from "./pipeline_totals.ts";
import { type SymbolFamily, SymbolSeries, UNKNOWN_SYMBOL } from "./symbol_series.ts";
import { readHubStats } from "./hub_stats.ts";
import type { RecordTotals } from "./record_totals.ts";
import { VENUE_IDS, type VenueId, venueOf } from "../pipeline/venue_id.ts";

/**
 * Content type of the Prometheus text exposition format rendered by {@link DepthwatchMetrics.render}.
 *
 * @example
 * ```ts
 * import { type DepthwatchMetrics, METRICS_CONTENT_TYPE } from "./metrics_registry.ts";
 * declare const metrics: DepthwatchMetrics;
 * new Response(await metrics.render(), { headers: { "Content-Type": METRICS_CONTENT_TYPE } });
 * ```
 */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /**
   * Register prom-client's default process metrics (`process_*`, and `nodejs_*`
   * but for the active handle, request and resource totals). Default `true`.
   */
  defaultMetrics?: boolean;
}

/** What {@link createMetrics} returns. */
export interface DepthwatchMetrics {
  /**
   * Read every wrapping counter once so the totals stay exact across the
   * uint32 wrap. Call every second.
   */
  sample(): void;
  /** Render all metrics in the Prometheus text format (one consistent pass over the counters). */
  render(): Promise<string>;
}

/** The value shape prom-client's registry expects from `get()`. */
interface MetricValues {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/** A counter whose running total is read at each scrape (`read`). */
function readCounter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge whose value is read at each scrape (`read`). */
function readGauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}

/**
 * A histogram whose buckets live elsewhere (shared memory, the latency view):
 * a custom prom-client metric object whose `get()` builds the cumulative
 * buckets, `_sum` and `_count` from a reading of non-cumulative counts.
 */
function externalHistogram(
  registry: Registry,
  name: string,
  help: string,
  read: () => { bounds: readonly number[]; counts: ArrayLike<number>; sum: number },
): void {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    labelNames: [] as string[],
    reset() {},
    get(): Promise<MetricValues> {
      const { bounds, counts, sum } = read();
      const values: MetricValues["values"] = [];
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += counts[i] ?? 0;
        values.push({
          metricName: `${name}_bucket`,
          labels: { le: i < bounds.length ? bounds[i] : "+Inf" },
          value: cumulative,
        });
      }
      values.push({ metricName: `${name}_sum`, labels: {}, value: sum });
      values.push({ metricName: `${name}_count`, labels: {}, value: cumulative });
      return Promise.resolve({ name, help, type: "histogram", aggregator: "sum", values });
    },
  };
  registry.registerMetric(metric as unknown as Metric<string>);
}

/** What every group of metrics registers into and collects from. */
interface MetricsContext {
  /** The registry being built. */
  registry: Registry;
  /** `[registry]`, for the `registers` option of prom-client metrics. */
  registers: Registry[];
  /** The sources of the service. */
  state: MetricsSources;
  /** The pipeline totals; per-symbol values are those of the current scrape's sample. */
  totals: PipelineTotals;
  /** The fixed-size part of the current scrape's sample (one sample per scrape). */
  snap: () => PipelineGlobals;
  /** Per-symbol families, rendered by a {@link SymbolSeries} instead of the registry. */
  symbolFamilies: SymbolFamily[];
}

/**
 * Frame counters along the pipeline (per symbol, so that every identity of
 * docs/design.md §1 can be checked from a scrape), rejections by reason and
 * by symbol, and frames lost to worker restarts.
 */
function frameMetrics({ registers, totals, snap, state, symbolFamilies }: MetricsContext): void {
  const n = state.symbols.length;
  const perSymbol = (
    name: string,
    help: string,
    counter: SymbolCounter,
    unknown = false,
  ) =>
    symbolFamilies.push({
      name,
      help,
      type: "counter",
      unknown,
      value: (id) => totals.value(id, counter),
    });

  perSymbol(
    "depthwatch_frames_received_total",
    `Frames received per symbol (symbol="${UNKNOWN_SYMBOL}" for frames that name no subscribed symbol).`,
    "received",
    true,
  );
  symbolFamilies.push({
    name: "depthwatch_frames_rejected_by_symbol_total",
    help: "Frames rejected per symbol, all reasons " +
      `(symbol="${UNKNOWN_SYMBOL}" for frames that name no subscribed symbol; ` +
      "by reason: depthwatch_frames_rejected_by_reason_total, per symbol and reason: /stats).",
    type: "counter",
    unknown: true,
    value: (id) => totals.rejected(id, 0),
  });
  new Counter({
    name: "depthwatch_frames_rejected_by_reason_total",
    help: "Frames rejected by reason, all symbols together " +
      "(per symbol: depthwatch_frames_rejected_by_symbol_total).",
    labelNames: ["reason"],
    registers,
    collect() {
      snap(); // the scrape's sample
      this.reset();
      for (let r = 1; r < REJECT_REASON_NAMES.length; r++) {
        let sum = 0;
        for (let id = 0; id <= n; id++) sum += totals.rejected(id, r);
        this.inc({ reason: REJECT_REASON_NAMES[r] }, sum);
      }
    },
  });
  perSymbol(
    "depthwatch_frames_accepted_total",
    "Frames accepted into the raw queue per symbol.",
    "accepted",
  );
  perSymbol(
    "depthwatch_frames_analysed_total",
    "Frames taken from the raw queue by the analytics worker per symbol (processed + skipped).",
    "analysed",
  );
  perSymbol(
    "depthwatch_frames_processed_total",
    "Frames analysed and written to the processed queue per symbol.",
    "processed",
  );
  perSymbol(
    "depthwatch_frames_skipped_total",
    "Frames skipped by the adaptive processor per symbol.",
    "skipped",
  );
  perSymbol(
    "depthwatch_frames_delivered_total",
    "Frames taken from the processed queue by the main thread per symbol.",
    "delivered",
  );
  new Counter({
    name: "depthwatch_frames_lost_in_flight_total",
    help: "Frames lost in flight by worker restarts (at most one per restart).",
    registers,
    collect() {
      this.reset();
      this.inc(state.supervisor.inFlightLost);
    },
  });
}

/** Depth, capacity, high-water mark and drops of the raw and processed rings. */
function queueMetrics({ registers, snap }: MetricsContext): void {
  const perQueue = (
    name: string,
    help: string,
    kind: "gauge" | "counter",
    pick: (q: PipelineSnapshot["queues"]["raw"]) => number,
  ) => {
    const collect = (metric: Gauge<"queue"> | Counter<"queue">) => {
      const { raw, processed } = snap().queues;
      if (metric instanceof Gauge) {
        metric.set({ queue: "raw" }, pick(raw));
        metric.set({ queue: "processed" }, pick(processed));
      } else {
        metric.reset();
        metric.inc({ queue: "raw" }, pick(raw));
        metric.inc({ queue: "processed" }, pick(processed));
      }
    };
    const config = { name, help, labelNames: ["queue"] as const, registers };
    if (kind === "gauge") {
      new Gauge({
        ...config,
        collect() {
          collect(this);
        },
      });
    } else {
      new Counter({
        ...config,
        collect() {
          collect(this);
        },
      });
    }
  };
  perQueue("depthwatch_queue_depth", "Frames waiting in the queue.", "gauge", (q) => q.depth);
  perQueue("depthwatch_queue_capacity", "Slots in the queue.", "gauge", (q) => q.capacity);
  perQueue(
    "depthwatch_queue_high_water",
    "Highest queue depth seen.",
    "gauge",
    (q) => q.highWater,
  );
  perQueue(
    "depthwatch_queue_dropped_total",
    "Frames dropped by the queue's overflow policy (oldest first).",
    "counter",
    (q) => q.dropped,
  );
}

/**
 * Per venue (`venue` label, the venues with symbols): symbols by feed state,
 * frames received and accepted, rejections by reason — sums of the
 * per-symbol counters of the venue's symbols, so one venue's trouble is told
 * apart from another's. Frames that name no symbol have no venue (they are
 * in the `unknown` symbol row of the per-symbol families).
 */
function venueMetrics({ registers, totals, snap, state }: MetricsContext): void {
  const byVenue = new Map<VenueId, number[]>();
  state.symbols.forEach((name, id) => {
    const venue = venueOf(name);
    if (venue === undefined) return; // a consolidated instrument: no venue of its own
    const ids = byVenue.get(venue) ?? [];
    ids.push(id);
    byVenue.set(venue, ids);
  });
  const venues = VENUE_IDS.filter((v) => byVenue.has(v));
  const sum = (ids: readonly number[], read: (id: number) => number) => {
    let total = 0;
    for (const id of ids) total += read(id);
    return total;
  };
  new Gauge({
    name: "depthwatch_venue_symbols",
    help: "Symbols of each venue by feed state (connecting, live, stale, resyncing).",
    labelNames: ["venue", "state"],
    registers,
    collect() {
      snap(); // the scrape's sample
      for (const venue of venues) {
        const counts = FEED_STATE_NAMES.map(() => 0);
        for (const id of byVenue.get(venue)!) {
          const st = totals.value(id, "feedState");
          if (st < counts.length) counts[st]++;
        }
        FEED_STATE_NAMES.forEach((name, st) => this.set({ venue, state: name }, counts[st]));
      }
    },
  });
  const perVenue = (name: string, help: string, read: (id: number) => number) =>
    new Counter({
      name,
      help,
      labelNames: ["venue"],
      registers,
      collect() {
        snap();
        this.reset();
        for (const venue of venues) this.inc({ venue }, sum(byVenue.get(venue)!, read));
      },
    });
  perVenue(
    "depthwatch_venue_received_total",
    "Messages received for the venue's symbols (per symbol: depthwatch_frames_received_total).",
    (id) => totals.value(id, "received"),
  );
  perVenue(
    "depthwatch_venue_frames_total",
    "Frames of the venue's symbols accepted into the raw queue.",
    (id) => totals.value(id, "accepted"),
  );
  new Counter({
    name: "depthwatch_venue_errors_total",
    help: "Error messages sent by the venues other than Binance, all venues together " +
      "(each logged with its venue, at most one line per 10 s per venue).",
    registers,
    collect() {
      this.reset();
      this.inc(snap().ingest.venueErrors);
    },
  });
  new Counter({
    name: "depthwatch_venue_rejected_total",
    help:
      "Messages of the venue's symbols rejected, by reason (checksum_mismatch, sequence_gap, …).",
    labelNames: ["venue", "reason"],
    registers,
    collect() {
      snap();
      this.reset();
      for (const venue of venues) {
        const ids = byVenue.get(venue)!;
        for (let r = 1; r < REJECT_REASON_NAMES.length; r++) {
          this.inc(
            { venue, reason: REJECT_REASON_NAMES[r] },
            sum(ids, (id) => totals.rejected(id, r)),
          );
        }
      }
    },
  });
}

/** Adaptive processor mode, processing-time and pipeline-latency histograms. */
function analyticsMetrics({ registry, registers, snap, state }: MetricsContext): void {
  new Gauge({
    name: "depthwatch_adaptive_mode",
    help: "Adaptive processor mode: 0 every frame, 1 every 2nd, 2 every 3rd.",
    registers,
    collect() {
      this.set(snap().analytics.mode);
    },
  });
  new Counter({
    name: "depthwatch_adaptive_mode_changes_total",
    help: "Adaptive processor mode changes.",
    registers,
    collect() {
      this.reset();
      this.inc(snap().analytics.modeChanges);
    },
  });
  externalHistogram(
    registry,
    "depthwatch_processing_seconds",
    "Analytics processing time per frame.",
    () => {
      const a = snap().analytics;
      return {
        bounds: a.processingBucketsSeconds,
        counts: a.processingCounts,
        sum: a.processingSumSeconds,
      };
    },
  );
  externalHistogram(
    registry,
    "depthwatch_pipeline_latency_seconds",
    "Latency of frames from local receive to the main thread.",
    () => {
      const l = state.latency;
      return { bounds: l.bucketsSeconds, counts: l.counts, sum: l.sumSeconds };
    },
  );
}

/** HTTP server: open connections against the cap, refusals, timeouts, accept errors, bad requests. */
function httpMetrics({ registers, state }: MetricsContext): void {
  new Gauge({
    name: "depthwatch_http_connections",
    help: "Open TCP connections, HTTP and WebSocket.",
    registers,
    collect() {
      this.set(state.http?.counters.open ?? 0);
    },
  });
  new Gauge({
    name: "depthwatch_http_connections_max",
    help: "The connection cap (--max-connections, below the file-descriptor limit).",
    registers,
    collect() {
      this.set(state.http?.maxConnections ?? 0);
    },
  });
  new Counter({
    name: "depthwatch_http_connections_refused_total",
    help: "Connections answered 503 because the connection cap was reached.",
    registers,
    collect() {
      this.reset();
      this.inc(state.http?.counters.refusedOverCap ?? 0);
    },
  });
  new Counter({
    name: "depthwatch_http_timeouts_total",
    help: "Connections closed by a timeout: a request head too slow (header), " +
      "a kept-alive connection idle (idle), a stalled write (write).",
    labelNames: ["kind"],
    registers,
    collect() {
      this.reset();
      const http = state.http?.counters;
      this.inc({ kind: "header" }, http?.closedHeadersTimeout ?? 0);
      this.inc({ kind: "idle" }, http?.closedIdleTimeout ?? 0);
      this.inc({ kind: "write" }, http?.closedWriteTimeout ?? 0);
    },
  });
  new Counter({
    name: "depthwatch_http_accept_errors_total",
    help: "Failed accepts (e.g. EMFILE at the file-descriptor limit); each is retried.",
    registers,
    collect() {
      this.reset();
      this.inc(state.http?.counters.acceptErrors ?? 0);
    },
  });
  new Counter({
    name: "depthwatch_http_bad_requests_total",
    help: "Requests the server refused itself (malformed, too large, unsupported), by status.",
    labelNames: ["status"],
    registers,
    collect() {
      this.reset();
      for (const [status, n] of Object.entries(state.http?.counters.badRequests ?? {})) {
        this.inc({ status }, n);
      }
    },
  });
}

/** The market summary's fan-out (the overview page's once-a-second message). */
function summaryMetrics({ registers, state }: Pick<MetricsContext, "registers" | "state">): void {
  new Gauge({
    name: "depthwatch_ws_overview_clients",
    help: "WebSocket clients receiving the once-a-second market summary.",
    registers,
    collect() {
      this.set(readHubStats(state.hub).summaryClients);
    },
  });
  const counters = [
    [
      "depthwatch_ws_overview_messages_sent_total",
      "Market summaries sent (each to one client).",
      "summariesSent",
    ],
    [
      "depthwatch_ws_overview_bytes_sent_total",
      "Bytes of market summaries sent, summed over clients.",
      "summaryBytesSent",
    ],
    [
      "depthwatch_ws_overview_messages_conflated_total",
      "Market summaries replaced by a newer one while a client was behind.",
      "summariesConflated",
    ],
  ] as const;
  for (const [name, help, key] of counters) {
    readCounter(registers, name, help, () => readHubStats(state.hub)[key]);
  }
}

/** WebSocket hub: clients, conflated frames, disconnects. */
function hubMetrics({ registers, state }: MetricsContext): void {
  new Gauge({
    name: "depthwatch_ws_clients",
    help: "Connected WebSocket clients.",
    registers,
    collect() {
      this.set(readHubStats(state.hub).clients);
    },
  });
  new Counter({
    name: "depthwatch_ws_frames_conflated_total",
    help: "Frames replaced by a newer frame of the same symbol while a client was behind.",
    registers,
    collect() {
      this.reset();
      this.inc(readHubStats(state.hub).framesConflated);
    },
  });
  new Counter({
    name: "depthwatch_ws_frames_encoded_on_main_total",
    help:
      "Live frames the main thread encoded because the analytics worker had not (a symbol just subscribed); the rest arrive encoded.",
    registers,
    collect() {
      this.reset();
      this.inc(readHubStats(state.hub).framesEncoded);
    },
  });
  summaryMetrics({ registers, state });
  new Counter({
    name: "depthwatch_ws_disconnects_total",
    help: "WebSocket client disconnects by reason.",
    labelNames: ["reason"],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(readHubStats(state.hub).disconnects)) {
        this.inc({ reason }, n);
      }
    },
  });
}

/** Exchange feeds: liveness, reconnects, stale events, rollovers, REST requests. */
function feedMetrics({ registers, snap, state, totals, symbolFamilies }: MetricsContext): void {
  const n = state.symbols.length;
  symbolFamilies.push({
    name: "depthwatch_feed_up",
    help: "1 when the symbol's feed is live, 0 otherwise.",
    type: "gauge",
    value: (id) => totals.value(id, "feedState") === FeedState.Live ? 1 : 0,
  });
  new Gauge({
    name: "depthwatch_feeds",
    help:
      "Symbols by feed state (connecting, live, stale, resyncing); they add up to the symbol count.",
    labelNames: ["state"],
    registers,
    collect() {
      snap(); // the scrape's sample
      const counts = FEED_STATE_NAMES.map(() => 0);
      for (let id = 0; id < n; id++) {
        const st = totals.value(id, "feedState");
        if (st < counts.length) counts[st]++;
      }
      FEED_STATE_NAMES.forEach((name, st) => this.set({ state: name }, counts[st]));
    },
  });
  new Counter({
    name: "depthwatch_reconnects_total",
    help: "Exchange reconnects (connections opened after a close or a stale feed).",
    registers,
    collect() {
      this.reset();
      this.inc(snap().ingest.reconnects);
    },
  });
  new Counter({
    name: "depthwatch_stale_events_total",
    help: "Stale-feed watchdog firings.",
    registers,
    collect() {
      this.reset();
      this.inc(snap().ingest.staleEvents);
    },
  });
  new Counter({
    name: "depthwatch_server_shutdowns_total",
    help: "serverShutdown notices from the exchange (each answered by a new connection).",
    registers,
    collect() {
      this.reset();
      this.inc(snap().ingest.serverShutdowns);
    },
  });
  new Counter({
    name: "depthwatch_connection_rollovers_total",
    help: "Connections replaced before closing (serverShutdown or the 24-hour limit).",
    registers,
    collect() {
      this.reset();
      this.inc(snap().ingest.rollovers);
    },
  });
  new Counter({
    name: "depthwatch_rest_requests_total",
    help: "REST snapshot requests by outcome class (sent, 429, 418, error).",
    labelNames: ["outcome"],
    registers,
    collect() {
      const i = snap().ingest;
      this.reset();
      this.inc({ outcome: "sent" }, i.restRequests);
      this.inc({ outcome: "429" }, i.rest429);
      this.inc({ outcome: "418" }, i.rest418);
      this.inc({ outcome: "error" }, i.restErrors);
    },
  });
  new Counter({
    name: "depthwatch_diff_snapshots_total",
    help: "Diff mode: REST snapshots handed to the sync by outcome (applied; too_old and " +
      "invalid were refused and another one requested).",
    labelNames: ["outcome"],
    registers,
    collect() {
      const i = snap().ingest;
      this.reset();
      this.inc({ outcome: "applied" }, i.snapshotsApplied);
      this.inc({ outcome: "too_old" }, i.snapshotsTooOld);
      this.inc({ outcome: "invalid" }, i.snapshotsInvalid);
    },
  });
}

/** Worker supervisor: restarts and running state. */
function workerMetrics({ registers, state }: MetricsContext): void {
  new Counter({
    name: "depthwatch_worker_restarts_total",
    help: "Worker restarts by the supervisor.",
    labelNames: ["worker"],
    registers,
    collect() {
      this.reset();
      // A dashboard node on a NATS bus runs no workers.
      if (state.bus?.role === "dashboard") return;
      for (const w of WORKER_NAMES) this.inc({ worker: w }, state.supervisor.restarts(w));
      // With --record-dir, the recorder worker too.
      const recorder = state.record && state.supervisor.recorder?.();
      if (recorder) this.inc({ worker: "recorder" }, recorder.restarts);
    },
  });
  new Gauge({
    name: "depthwatch_worker_up",
    help: "1 when the worker is running, 0 otherwise.",
    labelNames: ["worker"],
    registers,
    collect() {
      if (state.bus?.role === "dashboard") return;
      for (const w of WORKER_NAMES) {
        this.set({ worker: w }, state.supervisor.state(w) === "running" ? 1 : 0);
      }
      const recorder = state.record && state.supervisor.recorder?.();
      if (recorder) this.set({ worker: "recorder" }, recorder.state === "running" ? 1 : 0);
    },
  });
}

/**
 * `depthwatch_info`: always 1, its labels say what runs: `mode` (LIVE, SIM or
 * REPLAY: where the data comes from, see `lib/pipeline/data_mode.ts`),
 * `source` (--source) and `stream` (--stream).
 */
function infoMetric({ registers, state }: MetricsContext): void {
  new Gauge({
    name: "depthwatch_info",
    help: "Always 1; mode (LIVE real Binance, SIM simulated, REPLAY recorded), source and stream.",
    labelNames: ["mode", "source", "stream"],
    registers,
    collect() {
      this.set({ mode: state.mode, source: state.source, stream: state.stream }, 1);
    },
  });
}

/**
 * `--source replay` only: where the replay is — the replay clock (recorded
 * receive time of the last record delivered), records delivered, bad lines
 * skipped, passes finished, speed (+Inf at max), the byte offset in the file
 * and the back-pressure waits.
 */
function replayMetrics({ registers, state }: MetricsContext): void {
  const status = state.replay;
  if (status === undefined) return;
  const gauge = (name: string, help: string, read: () => number) =>
    readGauge(registers, name, help, read);
  const counter = (name: string, help: string, read: () => number) =>
    readCounter(registers, name, help, read);
  gauge(
    "depthwatch_replay_clock_seconds",
    "Replay clock: the recorded receive time of the last record delivered, Unix seconds (NaN before the first).",
    () => status.get("clockMs") / 1000,
  );
  gauge(
    "depthwatch_replay_speed",
    "Replay speed factor (+Inf for max).",
    () => status.get("speed"),
  );
  gauge(
    "depthwatch_replay_offset_bytes",
    "Byte offset in the recording file of the last line read.",
    () => status.get("offset"),
  );
  gauge(
    "depthwatch_replay_done",
    "1 once the replay reached its end and stopped.",
    () => status.get("done"),
  );
  counter(
    "depthwatch_replay_records_total",
    "Records of the recording delivered to the ingest (every loop).",
    () => status.get("records"),
  );
  counter(
    "depthwatch_replay_bad_lines_total",
    "Lines of the recording that are not `<time> <message>` or go back in time, skipped.",
    () => status.get("badLines"),
  );
  counter(
    "depthwatch_replay_loops_total",
    "Passes over the recording finished (--replay-loop).",
    () => status.get("loops"),
  );
  counter(
    "depthwatch_replay_waits_total",
    "Times the replay waited for room in the raw ring (back-pressure at high speed).",
    () => status.get("waits"),
  );
}

/**
 * A NATS `--bus` only: the connection, the frames published (or refused by
 * the lease fence, or not handed to a disconnected client), received and
 * dropped, the leases held and their events, the symbols subscribed.
 */
function busMetrics({ registers, state }: MetricsContext): void {
  const bus = state.bus;
  if (bus === undefined) return;
  readGauge(
    registers,
    "depthwatch_bus_connected",
    "1 while NATS is connected.",
    () => bus.connected ? 1 : 0,
  );
  readCounter(
    registers,
    "depthwatch_bus_reconnects_total",
    "NATS reconnects.",
    () => bus.reconnects,
  );
  new Counter({
    name: "depthwatch_bus_frames_published_total",
    help: "Analytics frames of held partitions by result: published; fenced (the lease was " +
      "not held at that moment); failed (NATS disconnected: not sent, lost); backpressure " +
      "(the NATS client already held its bound of unsent bytes: not sent, lost).",
    labelNames: ["result"],
    registers,
    collect() {
      this.reset();
      const c = bus.publishCounters;
      this.inc({ result: "published" }, c.published);
      this.inc({ result: "fenced" }, c.fenced);
      this.inc({ result: "failed" }, c.failed - c.backpressure);
      this.inc({ result: "backpressure" }, c.backpressure);
    },
  });
  readCounter(
    registers,
    "depthwatch_bus_frames_received_total",
    "Analytics frames received from the bus (the symbols this node's browsers watch).",
    () => bus.received,
  );
  new Counter({
    name: "depthwatch_bus_frames_dropped_total",
    help: "Frames received and not stored, by reason: stale_epoch (from a previous owner), " +
      "duplicate (already stored), own (this node holds the partition), malformed.",
    labelNames: ["reason"],
    registers,
    collect() {
      this.reset();
      const c = bus.counters;
      this.inc({ reason: "stale_epoch" }, c.staleEpoch);
      this.inc({ reason: "duplicate" }, c.duplicate);
      this.inc({ reason: "own" }, c.own);
      this.inc({ reason: "malformed" }, c.malformed);
    },
  });
  readGauge(registers, "depthwatch_bus_leases_held", "Partitions this node holds.", () => bus.held);
  new Counter({
    name: "depthwatch_bus_lease_events_total",
    help: "Partition lease events: hold (taken), takeover (taken from another node), loss " +
      "(refused or expired: fenced), release (handed back or given up on stop).",
    labelNames: ["event"],
    registers,
    collect() {
      this.reset();
      const c = bus.leaseCounters;
      this.inc({ event: "hold" }, c.holds);
      this.inc({ event: "takeover" }, c.takeovers);
      this.inc({ event: "loss" }, c.losses);
      this.inc({ event: "release" }, c.releases);
    },
  });
  new Counter({
    name: "depthwatch_bus_join_losses_total",
    help: "What joining a newly watched symbol lost: frames (live frames dropped while its " +
      "join buffer was full), history (history reads that failed or timed out: the join went " +
      "on live without history).",
    labelNames: ["kind"],
    registers,
    collect() {
      this.reset();
      this.inc({ kind: "frames" }, bus.joinLosses.frames);
      this.inc({ kind: "history" }, bus.joinLosses.history);
    },
  });
  new Counter({
    name: "depthwatch_bus_bars_seeds_total",
    help: "Bars of a newly watched symbol asked of its owner (dashboard half), by result: " +
      "seeded (imported); failed (no owner answered in time, or the bytes were refused).",
    labelNames: ["result"],
    registers,
    collect() {
      this.reset();
      this.inc({ result: "seeded" }, bus.counters.barsSeeded);
      this.inc({ result: "failed" }, bus.counters.barsSeedFailed);
    },
  });
  readGauge(
    registers,
    "depthwatch_bus_subscriptions",
    "Symbols this node is subscribed to on the bus.",
    () => bus.subscribed,
  );
}

/**
 * `--record-dir` only: what the recorder wrote (compressed bytes, hour files,
 * blocks, records), what was lost before the disk (a full record ring, blocks
 * a disk error lost), disk errors, and how full the record ring is.
 */
function recordMetrics({ registers, state }: MetricsContext): void {
  const totals = state.record;
  if (totals === undefined) return;
  // One read per scrape (prom-client collects every metric in one synchronous loop).
  let pending: ReturnType<RecordTotals["read"]> | null = null;
  const read = () => {
    if (pending === null) {
      pending = totals.read();
      queueMicrotask(() => pending = null);
    }
    return pending;
  };
  const counters: [string, string, keyof ReturnType<RecordTotals["read"]>][] = [
    [
      "depthwatch_record_bytes_written_total",
      "Compressed bytes the recorder appended to data and index files.",
      "bytesWritten",
    ],
    ["depthwatch_record_files_total", "Hour files the recorder opened.", "files"],
    ["depthwatch_record_blocks_total", "zstd blocks the recorder wrote.", "blocks"],
    ["depthwatch_record_records_total", "Records (lines) written to disk.", "records"],
    [
      "depthwatch_record_dropped_total",
      "Records lost before the disk: the record ring was full, or a disk error lost their block.",
      "dropped",
    ],
    [
      "depthwatch_record_errors_total",
      "Disk errors of the recorder (open, write, rename, delete).",
      "errors",
    ],
  ];
  for (const [name, help, key] of counters) {
    readCounter(registers, name, help, () => read()[key] as number);
  }
  new Gauge({
    name: "depthwatch_record_ring_used_bytes",
    help: "Bytes waiting in the record ring (ingest → recorder).",
    registers,
    collect() {
      this.set(read().ringUsedBytes);
    },
  });
  new Gauge({
    name: "depthwatch_record_ring_capacity_bytes",
    help: "Data bytes of the record ring (--record-ring-bytes).",
    registers,
    collect() {
      this.set(read().ringBytes);
    },
  });
}

/** prom-client's default process metrics (with `defaults`), fitted to the permissions the service has. */
function processMetrics({ registry, registers }: MetricsContext, defaults: boolean): void {
  if (defaults) {
    collectDefaultMetrics({ register: registry });
    for (const name of LEFT_OUT_DEFAULTS) registry.removeSingleMetric(name);
    if (!canRead("/proc/self/fd")) registry.removeSingleMetric("process_open_fds");
    if (!canRead("/proc/self/limits")) registry.removeSingleMetric("process_max_fds");
  }
  // prom-client's RSS collector reads /proc/self/status (and sets the virtual
  // and heap gauges from the same read); without read access it reports 0.
  if (!defaults || !canRead("/proc/self/status")) {
    for (const name of PROC_STATUS_METRICS) registry.removeSingleMetric(name);
    new Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().rss);
      },
    });
  }
}

/**
 * Create a registry with every depthwatch metric collected from `state`.
 * Several registries over the same state share one set of counter extenders
 * (see `pipelineTotals`), so `sample()` on any of them keeps all exact.
 *
 * @example
 * ```ts
 * import { createMetrics } from "./metrics_registry.ts";
 * import type { MetricsSources } from "./metrics_sources.ts";
 *
 * declare const state: MetricsSources; // the running service's state
 * const { render } = createMetrics(state, { defaultMetrics: false });
 * console.log(await render());
 * ```
 */
export function createMetrics(
  state: MetricsSources,
  options: MetricsOptions = {},
): DepthwatchMetrics {
  const registry = new Registry();
  const registers = [registry];
  const totals = pipelineTotals(state);

  // One sample per scrape: prom-client calls every metric's get()/collect()
  // synchronously in one loop, so a sample taken at most once until the next
  // microtask is shared by all metrics of that scrape.
  let pending: PipelineGlobals | null = null;
  const snap = (): PipelineGlobals => {
    if (pending === null) {
      totals.sample();
      pending = totals.globals();
      queueMicrotask(() => pending = null);
    }
    return pending;
  };

  const symbolFamilies: SymbolFamily[] = [];
  const context: MetricsContext = { registry, registers, state, totals, snap, symbolFamilies };
  frameMetrics(context);
  queueMetrics(context);
  analyticsMetrics(context);
  hubMetrics(context);
  httpMetrics(context);
  feedMetrics(context);
  venueMetrics(context);
  workerMetrics(context);
  infoMetric(context);
  replayMetrics(context);
  recordMetrics(context);
  busMetrics(context);
  processMetrics(context, options.defaultMetrics ?? true);
  const series = new SymbolSeries(state.symbols);

  return {
    sample() {
      totals.sample();
    },
    async render() {
      snap();
      // Per-symbol text first, from the same sample as the registry's collects.
      const perSymbol = series.render(symbolFamilies);
      return (await registry.metrics()) + perSymbol;
    },
  };
}

/**
 * prom-client default metrics the service does not expose. Under Deno,
 * `process._getActiveHandles()` and `_getActiveRequests()` are stubs that
 * always return `[]`, so the `nodejs_active_handles*` and
 * `nodejs_active_requests*` gauges would report a constant 0.
 * `nodejs_active_resources_total` is `sum(nodejs_active_resources)`. The three
 * `_total` ones are gauges, which the Prometheus naming rules (and
 * `promtool check metrics`) reserve for counters.
 */
const LEFT_OUT_DEFAULTS = [
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** prom-client metrics filled from one read of /proc/self/status. */
const PROC_STATUS_METRICS = [
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
];

function canRead(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

const instances = new WeakMap<MetricsSources, DepthwatchMetrics>();

/**
 * The one {@link DepthwatchMetrics} of `state` (with default metrics),
 * created on first use: the service samples it every second and `/metrics`
 * renders it.
 *
 * @example
 * ```ts
 * import { metricsFor } from "./metrics_registry.ts";
 * import type { MetricsSources } from "./metrics_sources.ts";
 * declare const state: MetricsSources; // the running service's state
 * metricsFor(state) === metricsFor(state); // true
 * ```
 */
export function metricsFor(state: MetricsSources): DepthwatchMetrics {
  let m = instances.get(state);
  if (!m) {
    m = createMetrics(state);
    instances.set(state, m);
  }
  return m;
}
