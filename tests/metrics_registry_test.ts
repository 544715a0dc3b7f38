import assert from "node:assert/strict";
import fc from "fast-check";
import { createMetrics, metricsFor } from "../lib/metrics/metrics_registry.ts";
import {
  ANALYTICS_MODE,
  ANALYTICS_PROCESSING_BUCKETS,
  ANALYTICS_PROCESSING_SUM,
  INGEST_RECEIVED,
  INGEST_RECONNECTS,
  PROCESSING_BUCKETS_SECONDS,
} from "../lib/pipeline/pipeline_counters.ts";
import { REJECT_REASON_COUNT, RejectReason } from "../lib/pipeline/reject_reason.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { TestPipeline, withRoutes } from "./fixtures/service_state.ts";
import {
  checkHistogram,
  parsePromText,
  type PromFamily,
  sampleValue,
} from "./fixtures/prom_text.ts";
import { assertIdentities } from "./fixtures/metrics_identities.ts";

const EXPECTED: Record<string, PromFamily["type"]> = {
  depthwatch_frames_received_total: "counter",
  depthwatch_frames_rejected_by_reason_total: "counter",
  depthwatch_frames_rejected_by_symbol_total: "counter",
  depthwatch_frames_accepted_total: "counter",
  depthwatch_frames_analysed_total: "counter",
  depthwatch_frames_processed_total: "counter",
  depthwatch_frames_skipped_total: "counter",
  depthwatch_frames_delivered_total: "counter",
  depthwatch_queue_depth: "gauge",
  depthwatch_queue_capacity: "gauge",
  depthwatch_queue_high_water: "gauge",
  depthwatch_queue_dropped_total: "counter",
  depthwatch_adaptive_mode: "gauge",
  depthwatch_processing_seconds: "histogram",
  depthwatch_pipeline_latency_seconds: "histogram",
  depthwatch_ws_clients: "gauge",
  depthwatch_ws_frames_conflated_total: "counter",
  depthwatch_ws_frames_encoded_on_main_total: "counter",
  depthwatch_ws_disconnects_total: "counter",
  depthwatch_ws_overview_clients: "gauge",
  depthwatch_ws_overview_messages_sent_total: "counter",
  depthwatch_ws_overview_bytes_sent_total: "counter",
  depthwatch_ws_overview_messages_conflated_total: "counter",
  depthwatch_feed_up: "gauge",
  depthwatch_feeds: "gauge",
  depthwatch_info: "gauge",
  depthwatch_reconnects_total: "counter",
  depthwatch_worker_restarts_total: "counter",
  depthwatch_server_shutdowns_total: "counter",
  depthwatch_connection_rollovers_total: "counter",
  process_resident_memory_bytes: "gauge",
  process_cpu_seconds_total: "counter",
};

Deno.test("metrics: /metrics serves every metric with the right type, parseable", async () => {
  const p = new TestPipeline();
  p.ingest(0, 3);
  p.reject(1, RejectReason.Crossed, 2);
  p.analyse(10, (_s, k) => k === 1);
  p.deliver(10);
  p.hub.clients = 3;
  p.hub.framesConflated = 7;
  p.hub.framesEncoded = 5;
  Object.assign(p.hub, {
    summaryClients: 2,
    summariesSent: 11,
    summaryBytesSent: 990,
    summariesConflated: 3,
  });
  p.hub.disconnects = { slow: 2, 'odd "reason"\\x': 1 };
  p.supervisor.restartCounts.analytics = 4;
  p.setFeed(1, FeedState.Stale);
  await withRoutes(p.state, async (base) => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const f = parsePromText(await res.text());
    for (const [name, type] of Object.entries(EXPECTED)) {
      const fam = f.get(name);
      assert.ok(fam, `${name} is exported`);
      assert.equal(fam.type, type, `${name} is a ${type}`);
      assert.ok(fam.help.length > 0, `${name} has HELP`);
    }
    for (const fam of f.values()) {
      // prom-client's GC histogram stays empty under Deno (no gc performance entries).
      if (fam.type === "histogram" && fam.samples.length > 0) checkHistogram(fam);
    }
    assert.equal(sampleValue(f, "depthwatch_frames_received_total", { symbol: "BTCUSDT" }), 3);
    assert.ok(!f.has("depthwatch_frames_rejected_total"), "the symbol × reason family is gone");
    const bySymbol = (symbol: string) =>
      sampleValue(f, "depthwatch_frames_rejected_by_symbol_total", { symbol });
    assert.equal(bySymbol("ETHUSDT"), 2);
    assert.equal(bySymbol("BTCUSDT"), 0);
    assert.equal(bySymbol("UNKNOWN"), 0);
    assert.equal(
      f.get("depthwatch_frames_rejected_by_symbol_total")!.samples.length,
      3,
      "one series per symbol and the UNKNOWN row, zeros included",
    );
    const byReason = f.get("depthwatch_frames_rejected_by_reason_total")!.samples;
    assert.equal(
      byReason.length,
      REJECT_REASON_COUNT - 1,
      "every real reason once, zeros included",
    );
    assert.ok(!byReason.some((x) => "symbol" in x.labels), "no symbol label by reason");
    assert.ok(!byReason.some((x) => x.labels.reason === "ok"), "ok is not a rejection reason");
    assert.equal(
      sampleValue(f, "depthwatch_frames_rejected_by_reason_total", { reason: "crossed" }),
      2,
    );
    assert.equal(sampleValue(f, "depthwatch_feeds", { state: "live" }), 1);
    assert.equal(sampleValue(f, "depthwatch_feeds", { state: "stale" }), 1);
    assert.equal(sampleValue(f, "depthwatch_feeds", { state: "connecting" }), 0);
    assert.equal(sampleValue(f, "depthwatch_feeds", { state: "resyncing" }), 0);
    assert.equal(sampleValue(f, "depthwatch_frames_skipped_total", { symbol: "BTCUSDT" }), 1);
    assert.equal(sampleValue(f, "depthwatch_frames_delivered_total", { symbol: "BTCUSDT" }), 2);
    assert.equal(sampleValue(f, "depthwatch_feed_up", { symbol: "BTCUSDT" }), 1);
    assert.equal(sampleValue(f, "depthwatch_feed_up", { symbol: "ETHUSDT" }), 0);
    assert.equal(sampleValue(f, "depthwatch_ws_clients"), 3);
    assert.equal(
      sampleValue(f, "depthwatch_info", { mode: "SIM", source: "sim", stream: "depth20" }),
      1,
      "the info metric says the data is simulated",
    );
    assert.equal(sampleValue(f, "depthwatch_ws_frames_conflated_total"), 7);
    assert.equal(sampleValue(f, "depthwatch_ws_frames_encoded_on_main_total"), 5);
    assert.equal(sampleValue(f, "depthwatch_ws_overview_clients"), 2);
    assert.equal(sampleValue(f, "depthwatch_ws_overview_messages_sent_total"), 11);
    assert.equal(sampleValue(f, "depthwatch_ws_overview_bytes_sent_total"), 990);
    assert.equal(sampleValue(f, "depthwatch_ws_overview_messages_conflated_total"), 3);
    assert.equal(sampleValue(f, "depthwatch_ws_disconnects_total", { reason: "slow" }), 2);
    assert.equal(
      sampleValue(f, "depthwatch_ws_disconnects_total", { reason: 'odd "reason"\\x' }),
      1,
      "label values with quotes and backslashes survive escaping",
    );
    assert.equal(sampleValue(f, "depthwatch_worker_restarts_total", { worker: "analytics" }), 4);
    assert.equal(sampleValue(f, "depthwatch_worker_restarts_total", { worker: "ingest" }), 0);
    assert.equal(sampleValue(f, "depthwatch_queue_capacity", { queue: "raw" }), 8);
    assert.equal(sampleValue(f, "depthwatch_queue_high_water", { queue: "raw" }), 3);
    assert.ok(sampleValue(f, "process_resident_memory_bytes") > 1e6, "RSS is real, not 0");
    const latency = checkHistogram(f.get("depthwatch_pipeline_latency_seconds")!);
    assert.equal([...latency.values()][0].count, 2, "two frames delivered → two latencies");
    assertIdentities(f, p.state.symbols);
  });
});

Deno.test("metrics: the shared processing-time buckets become a cumulative histogram", async () => {
  const p = new TestPipeline({ symbols: ["BTCUSDT"] });
  const c = p.counters;
  const counts = PROCESSING_BUCKETS_SECONDS.map((_, i) => i % 3);
  counts.push(5); // +Inf
  counts.forEach((n, i) => c.add(c.analytics(ANALYTICS_PROCESSING_BUCKETS + i), n));
  c.add(c.analytics(ANALYTICS_PROCESSING_SUM), 123_456); // 10 ns units
  c.store(c.analytics(ANALYTICS_MODE), 2);
  const f = parsePromText(await createMetrics(p.state, { defaultMetrics: false }).render());
  const [series] = checkHistogram(f.get("depthwatch_processing_seconds")!).values();
  assert.deepEqual(series.buckets.map(([le]) => le), [...PROCESSING_BUCKETS_SECONDS, Infinity]);
  let cumulative = 0;
  series.buckets.forEach(([, v], i) => {
    cumulative += counts[i];
    assert.equal(v, cumulative);
  });
  assert.equal(series.count, counts.reduce((a, b) => a + b, 0));
  assert.ok(Math.abs(series.sum - 123_456e-8) < 1e-12);
  assert.equal(sampleValue(f, "depthwatch_adaptive_mode"), 2);
  assert.ok(!f.has("process_cpu_seconds_total"), "defaultMetrics: false leaves them out");
});

type Op =
  | { kind: "ingest"; symbol: number; n: number }
  | { kind: "reject"; symbol: number; reason: number; n: number }
  | { kind: "analyse"; n: number; skipEvery: number }
  | { kind: "deliver"; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("ingest" as const),
    symbol: fc.integer({ min: 0, max: 2 }),
    n: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({
    kind: fc.constant("reject" as const),
    symbol: fc.integer({ min: 0, max: 3 }), // 3: a frame that names no subscribed symbol
    reason: fc.integer({ min: 1, max: REJECT_REASON_COUNT - 1 }),
    n: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({
    kind: fc.constant("analyse" as const),
    n: fc.integer({ min: 1, max: 12 }),
    skipEvery: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant("deliver" as const), n: fc.integer({ min: 1, max: 12 }) }),
);

Deno.test("metrics: accounting identities hold at every scrape, with drops and skips", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 1, maxLength: 30 }),
      fc.boolean(),
      async (ops, nearWrap) => {
        const p = new TestPipeline({
          symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
          rawCapacity: 8,
          processedCapacity: 4,
          rawStart: nearWrap ? 0xffff_fff0 : 0,
        });
        const metrics = createMetrics(p.state, { defaultMetrics: false });
        for (const op of ops) {
          if (op.kind === "ingest") p.ingest(op.symbol, op.n);
          else if (op.kind === "reject") p.reject(op.symbol, op.reason, op.n);
          else if (op.kind === "analyse") {
            p.analyse(op.n, (_s, k) => op.skipEvery > 0 && k % (op.skipEvery + 1) === 1);
          } else p.deliver(op.n);
          assertIdentities(parsePromText(await metrics.render()), p.state.symbols);
        }
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("metrics: a scenario with known drops and skips gives exact numbers", async () => {
  const p = new TestPipeline({ symbols: ["BTCUSDT"], rawCapacity: 4, processedCapacity: 2 });
  p.ingest(0, 10); // 6 dropped from raw, 4 waiting
  p.analyse(4, (_s, k) => k === 0); // 1 skipped, 3 processed → 1 dropped from processed
  p.ingest(0, 1);
  const f = parsePromText(await createMetrics(p.state, { defaultMetrics: false }).render());
  const raw = { queue: "raw" }, processed = { queue: "processed" }, btc = { symbol: "BTCUSDT" };
  assert.equal(sampleValue(f, "depthwatch_queue_dropped_total", raw), 6);
  assert.equal(sampleValue(f, "depthwatch_queue_depth", raw), 1);
  assert.equal(sampleValue(f, "depthwatch_queue_high_water", raw), 4);
  assert.equal(sampleValue(f, "depthwatch_frames_analysed_total", btc), 4);
  assert.equal(sampleValue(f, "depthwatch_frames_skipped_total", btc), 1);
  assert.equal(sampleValue(f, "depthwatch_queue_dropped_total", processed), 1);
  assert.equal(sampleValue(f, "depthwatch_queue_depth", processed), 2);
  assertIdentities(f, p.state.symbols);
});

Deno.test("metrics: sample() keeps totals exact past 2^32", async () => {
  const p = new TestPipeline({ symbols: ["BTCUSDT"] });
  const c = p.counters;
  const metrics = createMetrics(p.state, { defaultMetrics: false });
  const received = c.ingestSymbol(0, INGEST_RECEIVED);
  const reconnects = c.ingest(INGEST_RECONNECTS);
  const step = 2 ** 31 + 12_345; // less than 2^32 between samples
  for (let i = 0; i < 5; i++) {
    c.add(received, step);
    c.add(reconnects, step);
    metrics.sample();
  }
  assert.ok(c.load(received) < 2 ** 32, "the shared word itself wrapped");
  const f = parsePromText(await metrics.render());
  assert.equal(sampleValue(f, "depthwatch_frames_received_total", { symbol: "BTCUSDT" }), 5 * step);
  assert.equal(sampleValue(f, "depthwatch_reconnects_total"), 5 * step);
  // The contract has a limit: without a sample between two wraps, whole wraps are lost.
  const q = new TestPipeline({ symbols: ["BTCUSDT"] });
  const unsampled = createMetrics(q.state, { defaultMetrics: false });
  for (let i = 0; i < 3; i++) q.counters.add(q.counters.ingestSymbol(0, INGEST_RECEIVED), step);
  const g = parsePromText(await unsampled.render());
  assert.equal(
    sampleValue(g, "depthwatch_frames_received_total", { symbol: "BTCUSDT" }),
    (3 * step) % 2 ** 32,
  );
});

Deno.test("metrics: registries over one state share extenders; metricsFor is one per state", async () => {
  const p = new TestPipeline({ symbols: ["BTCUSDT"] });
  const c = p.counters;
  const a = createMetrics(p.state, { defaultMetrics: false });
  const b = createMetrics(p.state, { defaultMetrics: false });
  const received = c.ingestSymbol(0, INGEST_RECEIVED);
  c.add(received, 3 * 2 ** 30);
  a.sample();
  c.add(received, 3 * 2 ** 30); // wraps
  a.sample();
  const f = parsePromText(await b.render());
  assert.equal(
    sampleValue(f, "depthwatch_frames_received_total", { symbol: "BTCUSDT" }),
    6 * 2 ** 30,
    "b sees the wrap a sampled",
  );
  assert.equal(metricsFor(p.state), metricsFor(p.state));
  assert.notEqual(metricsFor(p.state), metricsFor(new TestPipeline().state));
});
