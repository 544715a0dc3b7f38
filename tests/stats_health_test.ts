import assert from "node:assert/strict";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { REJECT_REASON_COUNT, RejectReason } from "../lib/pipeline/reject_reason.ts";
import {
  ANALYTICS_MODE,
  ANALYTICS_MODE_CHANGES,
  INGEST_DIFF_ETA_MS,
  INGEST_DIFF_RANGE_RESYNCS,
  INGEST_DIFF_SNAPSHOTS_INVALID,
  INGEST_DIFF_SNAPSHOTS_TOO_OLD,
  INGEST_DIFF_SYNCED,
  INGEST_RECEIVED,
  INGEST_RECONNECTS,
  INGEST_REST_429,
} from "../lib/pipeline/pipeline_counters.ts";
import { evaluateHealth } from "../lib/server/health.ts";
import { formatEta } from "../lib/server/diff_progress.ts";
import { WatchFlags } from "../lib/pipeline/watch_flags.ts";
import { buildStats } from "../lib/server/stats.ts";
import { checkAuth, tokenMatches } from "../lib/server/auth.ts";
import { metricsFor } from "../lib/metrics/metrics_registry.ts";
import { TestPipeline, withRoutes } from "./fixtures/service_state.ts";

Deno.test("health: all live and running → 200 ok", async () => {
  const p = new TestPipeline();
  await withRoutes(p.state, async (base) => {
    const res = await fetch(`${base}/health`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "ok");
    assert.deepEqual(body.reasons, []);
    assert.ok(body.uptimeSeconds >= 0);
  });
});

Deno.test("health: stale, connecting, resyncing feeds and a restarting worker → 503 with reasons", async () => {
  const p = new TestPipeline({ symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"] });
  p.setFeed(0, FeedState.Stale);
  p.setFeed(1, FeedState.Connecting);
  p.setFeed(2, FeedState.Resyncing);
  p.supervisor.states.analytics = "restarting";
  await withRoutes(p.state, async (base) => {
    const res = await fetch(`${base}/health`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, "degraded");
    assert.deepEqual(body.reasons, [
      "BTCUSDT: feed stale",
      "ETHUSDT: reconnecting",
      "SOLUSDT: resyncing",
      "analytics worker restarting",
    ]);
  });
  // One problem at a time, each alone enough for 503.
  const one = new TestPipeline({ symbols: ["BTCUSDT"] });
  assert.equal(evaluateHealth(one.state, Date.now()).status, "ok");
  one.supervisor.states.ingest = "starting";
  assert.deepEqual(evaluateHealth(one.state, Date.now()).reasons, ["ingest worker starting"]);
  one.supervisor.states.ingest = "running";
  one.setFeed(0, FeedState.Resyncing);
  assert.deepEqual(evaluateHealth(one.state, Date.now()).reasons, ["BTCUSDT: resyncing"]);
  one.setFeed(0, 9);
  assert.deepEqual(evaluateHealth(one.state, Date.now()).reasons, [
    "BTCUSDT: unknown feed state 9",
  ]);
});

Deno.test("health: stays open when a token is configured", async () => {
  const p = new TestPipeline({ authToken: "s3cret" });
  await withRoutes(p.state, async (base) => {
    const res = await fetch(`${base}/health`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
});

Deno.test("stats: queues, per-symbol accounting, ingest, workers, latency, memory", async () => {
  const p = new TestPipeline({ rawCapacity: 4, processedCapacity: 4 });
  const c = p.counters;
  const t0 = Date.now();
  p.ingest(0, 6, t0 - 250); // 2 dropped from raw
  p.reject(0, RejectReason.Unsorted, 2);
  p.reject(1, RejectReason.Malformed, 1);
  p.analyse(3, (_s, k) => k === 0); // 1 skipped, 2 processed
  p.deliver(1, t0); // latency 250 ms
  p.setFeed(1, FeedState.Stale);
  c.add(c.ingest(INGEST_RECONNECTS), 3);
  c.add(c.ingest(INGEST_REST_429), 1);
  c.store(c.analytics(ANALYTICS_MODE), 1);
  c.add(c.analytics(ANALYTICS_MODE_CHANGES), 2);
  p.supervisor.states.ingest = "restarting";
  p.supervisor.restartCounts.ingest = 2;
  p.supervisor.inFlightLost = 1;
  p.hub.clients = 2;
  p.hub.disconnects = { slow: 1 };
  await withRoutes(p.state, async (base) => {
    const res = await fetch(`${base}/stats`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const s = await res.json();
    assert.equal(s.source, "sim");
    assert.ok(s.uptimeSeconds >= 0 && s.uptimeSeconds < 60);
    assert.deepEqual(s.ws, {
      clients: 2,
      framesConflated: 0,
      framesEncoded: 0,
      summaryClients: 0,
      summariesSent: 0,
      summaryBytesSent: 0,
      summariesConflated: 0,
      disconnects: { slow: 1 },
    });
    assert.deepEqual(s.queues.raw, {
      capacity: 4,
      depth: 1,
      highWater: 4,
      pushed: 6,
      popped: 3,
      dropped: 2,
      overtaken: 0,
    });
    assert.deepEqual(s.queues.processed, {
      capacity: 4,
      depth: 1,
      highWater: 2,
      pushed: 2,
      popped: 1,
      dropped: 0,
      overtaken: 0,
    });
    assert.deepEqual(s.adaptive, { mode: 1, name: "every-2nd", changes: 2 });
    const btc = s.symbols.BTCUSDT;
    assert.equal(btc.feedState, "live");
    assert.equal(btc.received, 8);
    assert.equal(btc.accepted, 6);
    assert.equal(btc.rejected.unsorted, 2);
    assert.equal(btc.rejected.crossed, 0);
    assert.equal(btc.rejectedTotal, 2);
    assert.equal(Object.keys(btc.rejected).length, REJECT_REASON_COUNT - 1); // every reason but "ok"
    assert.equal(btc.analysed, 3);
    assert.equal(btc.processed, 2);
    assert.equal(btc.skipped, 1);
    assert.equal(btc.delivered, 1);
    assert.ok(btc.lastFrameAgeMs >= 250 && btc.lastFrameAgeMs < 10_000, `${btc.lastFrameAgeMs}`);
    const eth = s.symbols.ETHUSDT;
    assert.equal(eth.feedState, "stale");
    assert.equal(eth.rejected.malformed, 1);
    assert.equal(eth.lastFrameAgeMs, null, "no frame yet");
    assert.equal(s.ingest.reconnects, 3);
    assert.equal(s.ingest.rest429, 1);
    assert.deepEqual(s.workers, {
      ingest: { state: "restarting", restarts: 2 },
      analytics: { state: "running", restarts: 0 },
      inFlightLost: 1,
    });
    assert.equal(s.latency.count, 1);
    assert.equal(s.latency.p50Ms, 250);
    assert.equal(s.latency.p99Ms, 250);
    assert.ok(s.memory.rssBytes > 1e6);
  });
});

Deno.test("stats: shares wrap-extended totals with /metrics sampling", () => {
  const p = new TestPipeline({ symbols: ["BTCUSDT"] });
  const c = p.counters;
  const received = c.ingestSymbol(0, INGEST_RECEIVED);
  const metrics = metricsFor(p.state);
  for (let i = 0; i < 3; i++) {
    c.add(received, 2 ** 31);
    metrics.sample();
  }
  assert.equal(buildStats(p.state).symbols.BTCUSDT.received, 3 * 2 ** 31);
  const empty = buildStats(new TestPipeline().state);
  assert.equal(empty.latency.p50Ms, null, "no latency before the first frame");
  assert.equal(empty.processing.meanUs, null);
});

Deno.test("auth: tokenMatches compares whole tokens", () => {
  assert.equal(tokenMatches("abc", "abc"), true);
  assert.equal(tokenMatches("abd", "abc"), false);
  assert.equal(tokenMatches("ab", "abc"), false);
  assert.equal(tokenMatches("abcd", "abc"), false);
  assert.equal(tokenMatches("", "abc"), false);
  assert.equal(tokenMatches("ü", "ü"), true);
  assert.equal(checkAuth(new Request("http://x/"), new URL("http://x/"), undefined), null);
  assert.equal(checkAuth(new Request("http://x/"), new URL("http://x/"), ""), null);
});

Deno.test("auth: /metrics, /stats and /api/history need the token; header and query forms", async () => {
  const token = "tok-3n4R_x";
  const p = new TestPipeline({ authToken: token });
  await withRoutes(p.state, async (base) => {
    for (const path of ["/metrics", "/stats", "/api/history?symbol=BTCUSDT"]) {
      const sep = path.includes("?") ? "&" : "?";
      let res = await fetch(`${base}${path}`);
      assert.equal(res.status, 401, `${path} without a token`);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      const body = await res.text();
      assert.match(body, /token is required/);
      assert.ok(!body.includes(token), "the token is never echoed");

      res = await fetch(`${base}${path}`, { headers: { Authorization: "Bearer wrong" } });
      assert.equal(res.status, 401, `${path} with a wrong header token`);
      assert.match(res.headers.get("www-authenticate") ?? "", /invalid_token/);
      assert.ok(!(await res.text()).includes(token));

      res = await fetch(`${base}${path}${sep}token=${token}x`);
      assert.equal(res.status, 401, `${path} with a wrong query token`);
      await res.body?.cancel();

      res = await fetch(`${base}${path}`, { headers: { Authorization: `Basic ${token}` } });
      assert.equal(res.status, 401, `${path} with another scheme`);
      await res.body?.cancel();

      res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, `${path} with the header token`);
      await res.body?.cancel();

      res = await fetch(`${base}${path}`, { headers: { Authorization: `bearer ${token}` } });
      assert.equal(res.status, 200, `${path}: the scheme is case-insensitive`);
      await res.body?.cancel();

      res = await fetch(`${base}${path}${sep}token=${encodeURIComponent(token)}`);
      assert.equal(res.status, 200, `${path} with the query token`);
      await res.body?.cancel();
    }
  });
});

Deno.test("diff sync progress: a /health reason and /stats fields while books are not all synced", () => {
  const p = new TestPipeline({ symbols: ["A", "B", "C", "D", "E"] });
  const watch = WatchFlags.create(5);
  watch.set(4, true);
  const state = { ...p.state, stream: "diff" as const, diff: { watch, snapshotDepth: 100 } };
  const c = p.counters;
  // Before the ingest's first estimate.
  assert.deepEqual(evaluateHealth(state).reasons, ["diff sync: 0/5 books synced, ETA unknown"]);
  assert.equal(buildStats(state).diffSync?.etaSeconds, null);
  c.store(c.ingest(INGEST_DIFF_SYNCED), 3);
  c.store(c.ingest(INGEST_DIFF_ETA_MS), 129_001);
  c.store(c.ingest(INGEST_DIFF_RANGE_RESYNCS), 7);
  c.store(c.ingest(INGEST_DIFF_SNAPSHOTS_TOO_OLD), 4);
  c.store(c.ingest(INGEST_DIFF_SNAPSHOTS_INVALID), 2);
  assert.deepEqual(evaluateHealth(state).reasons, ["diff sync: 3/5 books synced, ETA 2m10s"]);
  assert.deepEqual(buildStats(state).diffSync, {
    synced: 3,
    total: 5,
    etaSeconds: 130,
    watched: 1,
    snapshotDepth: 100,
    rangeResyncs: 7,
    snapshotsTooOld: 4,
    snapshotsInvalid: 2,
  });
  c.store(c.ingest(INGEST_DIFF_SYNCED), 5);
  assert.equal(evaluateHealth(state).status, "ok");
  assert.equal(buildStats(state).diffSync?.etaSeconds, 0);
  // depth20 mode has no such section.
  assert.equal(buildStats(p.state).diffSync, null);
  assert.deepEqual([45, 60, 3599, 3725].map(formatEta), ["45s", "1m00s", "59m59s", "1h02m"]);
});
