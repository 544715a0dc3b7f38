/**
 * Diff mode bring-up against the simulated exchange, with the service as its
 * own process (`main.ts --stream diff`): sync progress in /health, /stats and
 * the dashboard's view at a staged point and at the end, the REST weight
 * budget as the exchange counts it, and watched symbols snapshotted first.
 */
import assert from "node:assert/strict";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { SNAPSHOT_IN_FLIGHT, SNAPSHOT_QUEUE } from "../lib/ingest/ingestor.ts";
import { healthFromStats } from "../lib/client/health_view.ts";
import { spawnServiceOn } from "../testing/footprint_processes.ts";
import { symbolNames } from "../testing/footprint_scenario.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

async function get(base: string, path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(new URL(path, base));
  return { status: res.status, body: await res.json() };
}

/** Polls `/stats` until `cond` holds for it; the timeout only guards against a hang. */
async function statsWhen(base: string, what: string, cond: (stats: Json) => boolean) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { body } = await get(base, "stats");
    if (cond(body)) return body;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(body.diffSync)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Upper-case symbols with at least one accepted frame (a diff book emits only once seeded). */
function withFrames(stats: Json): string[] {
  return Object.keys(stats.symbols).filter((s) => stats.symbols[s].accepted > 0).sort();
}

Deno.test("diff bring-up: staged progress in /health, /stats and the dashboard view, inside the weight budget", async () => {
  const symbols = symbolNames(6);
  const sim = await startSimExchange({ symbols, rate: 20, seed: 5 });
  // The last three send no events until `clear`: no event, no snapshot request.
  for (const symbol of symbols.slice(3)) sim.inject({ kind: "stall", symbol });
  const service = await spawnServiceOn(sim, {
    symbols,
    inspect: false,
    args: ["--stream", "diff", "--stale-ms", "600000"],
  });
  try {
    // Stage 1: the first three are synced and nothing else can be.
    let stats = await statsWhen(service.url, "3 books synced", (s) => s.diffSync.synced === 3);
    assert.deepEqual(withFrames(stats), symbols.slice(0, 3).map((s) => s.toUpperCase()));
    // Three left at the default pace (62.5 ms each, depth 100 against 4800 per minute): 188 ms.
    assert.deepEqual(stats.diffSync, {
      synced: 3,
      total: 6,
      etaSeconds: 1,
      watched: 0,
      snapshotDepth: 100,
      rangeResyncs: stats.diffSync.rangeResyncs,
      snapshotsTooOld: stats.diffSync.snapshotsTooOld,
      snapshotsInvalid: 0,
    });
    const health = await get(service.url, "health");
    assert.equal(health.status, 503);
    assert.ok(
      health.body.reasons.includes("diff sync: 3/6 books synced, ETA 1s"),
      JSON.stringify(health.body.reasons),
    );
    assert.deepEqual(healthFromStats(stats).diffSync, { synced: 3, total: 6, etaSeconds: 1 });

    // Stage 2: released, every book syncs; the reason goes away.
    sim.inject({ kind: "clear" });
    stats = await statsWhen(service.url, "6 books synced", (s) => s.diffSync.synced === 6);
    assert.equal(stats.diffSync.etaSeconds, 0);
    assert.deepEqual(withFrames(stats), symbols.map((s) => s.toUpperCase()).sort());
    assert.deepEqual(healthFromStats(stats).diffSync, { synced: 6, total: 6, etaSeconds: 0 });
    const reasons: string[] = (await get(service.url, "health")).body.reasons;
    assert.ok(!reasons.some((r) => r.startsWith("diff sync")), JSON.stringify(reasons));
    // The exchange never had to refuse a request: the budget was kept.
    const rest = sim.stats().rest;
    assert.equal(rest["429"] ?? 0, 0, JSON.stringify(rest));
    assert.ok(sim.stats().usedWeight1m <= 4800);
    // Every snapshot the sync was handed is counted by outcome in /metrics, the
    // refused ones also in /stats.
    const metrics = await (await fetch(new URL("metrics", service.url))).text();
    const snapshots = (outcome: string) =>
      Number(
        metrics.match(
          new RegExp(`^depthwatch_diff_snapshots_total\\{outcome="${outcome}"\\} (\\d+)$`, "m"),
        )?.[1],
      );
    assert.ok(snapshots("applied") >= 6, metrics);
    assert.equal(snapshots("too_old"), stats.diffSync.snapshotsTooOld);
    assert.equal(snapshots("invalid"), 0);
  } finally {
    await service.stop();
    await sim.close();
  }
});

Deno.test("diff bring-up: a symbol a dashboard opens is snapshotted ahead of the backlog", async () => {
  const symbols = symbolNames(20);
  const watched = symbols[19];
  const sim = await startSimExchange({ symbols, rate: 20, seed: 9 });
  // The service's REST calls pass through here: every snapshot request, in order.
  const order: string[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/api/v3/depth") order.push(url.searchParams.get("symbol")!.toLowerCase());
    return fetch(`${sim.restUrl}${url.pathname}${url.search}`);
  });
  // The watched symbol is silent at first, so it has not asked for a snapshot
  // when the dashboard opens; the others come up slowly (depth 1000 = weight
  // 50 against 2400 per minute: one every 1.25 s).
  sim.inject({ kind: "stall", symbol: watched });
  const service = await spawnServiceOn({
    wsUrl: sim.wsUrl,
    restUrl: `http://127.0.0.1:${proxy.addr.port}`,
  }, {
    symbols,
    inspect: false,
    args: [
      "--stream",
      "diff",
      "--stale-ms",
      "600000",
      "--snapshot-depth",
      "1000",
      "--rest-weight-limit",
      "3000",
    ],
  });
  let ws: WebSocket | undefined;
  try {
    await statsWhen(service.url, "a first book", (s) => s.diffSync.synced >= 1);
    ws = new WebSocket(`${service.url.replace("http", "ws")}ws?symbol=${watched}`);
    await new Promise((resolve, reject) => {
      ws!.onopen = resolve;
      ws!.onerror = reject;
    });
    await statsWhen(
      service.url,
      "the dashboard counted as watching",
      (s) => s.diffSync.watched === 1,
    );
    const before = order.length;
    const backlog = symbols.filter((s) => s !== watched && !order.includes(s)).length;
    // Without priority the watched symbol would queue behind the whole backlog.
    assert.ok(backlog > SNAPSHOT_QUEUE + SNAPSHOT_IN_FLIGHT, `backlog ${backlog} too small`);
    sim.inject({ kind: "clear" });
    await statsWhen(
      service.url,
      "the watched book",
      (s) => s.symbols[watched.toUpperCase()].accepted > 0,
    );
    const ahead = order.slice(before, order.indexOf(watched, before));
    // Only requests already handed to the REST client may go first.
    assert.ok(ahead.length <= SNAPSHOT_QUEUE + SNAPSHOT_IN_FLIGHT, `ahead: ${ahead}`);
    assert.equal(order.filter((s) => s === watched).length, 1);
  } finally {
    ws?.close();
    await service.stop();
    await proxy.shutdown();
    await sim.close();
  }
});

Deno.test("diff bring-up: a book that walks past its seeded levels is re-seeded ten times deeper", async () => {
  // The simulator's BTCUSDT walks ~30 ticks a frame: at 50 frames/s it leaves
  // 100 seeded levels within seconds.
  const symbols = ["btcusdt", "ethusdt"];
  const sim = await startSimExchange({ symbols, rate: 50, seed: 4 });
  const limits: number[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    if (url.searchParams.get("symbol") === "BTCUSDT") {
      limits.push(Number(url.searchParams.get("limit")));
    }
    return fetch(`${sim.restUrl}${url.pathname}${url.search}`);
  });
  const service = await spawnServiceOn({
    wsUrl: sim.wsUrl,
    restUrl: `http://127.0.0.1:${proxy.addr.port}`,
  }, { symbols, inspect: false, args: ["--stream", "diff", "--stale-ms", "600000"] });
  try {
    const stats = await statsWhen(
      service.url,
      "a 5000-level snapshot of BTCUSDT after two range resyncs",
      // /stats publishes the ingest's counters every housekeeping tick: the
      // proxy can see the 5000-level request before /stats counts the resync
      // that asked for it, so the count is waited for, not read at once.
      (s) => limits.includes(5000) && s.diffSync.synced === 2 && s.diffSync.rangeResyncs >= 2,
    );
    // 100 first, then 1000 after the first range resync, then the maximum.
    // (A snapshot refused as too old is asked again at the same depth.)
    assert.deepEqual([...new Set(limits)], [100, 1000, 5000], JSON.stringify(limits));
    assert.ok(limits.every((l, i) => i === 0 || l >= limits[i - 1]), JSON.stringify(limits));
    // /stats keeps showing the configured depth; the re-seeds are counted.
    assert.equal(stats.diffSync.snapshotDepth, 100);
  } finally {
    await service.stop();
    await proxy.shutdown();
    await sim.close();
  }
});
