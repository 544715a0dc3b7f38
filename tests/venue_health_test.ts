import assert from "node:assert/strict";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { INGEST_VENUE_ERRORS } from "../lib/pipeline/pipeline_counters.ts";
import { evaluateHealth } from "../lib/server/health.ts";
import { createMetrics } from "../lib/metrics/metrics_registry.ts";
import { detectDataMode } from "../lib/pipeline/data_mode.ts";
import { TestPipeline } from "./fixtures/service_state.ts";
import { parsePromText, sampleValue } from "./fixtures/prom_text.ts";

// As the service names them: upper case, venue-prefixed unless Binance spot.
const SYMBOLS = [
  "BTCUSDT",
  "OKX:BTC-USDT",
  "OKX:ETH-USDT",
  "KRAKEN:BTC/USD",
  "KRAKEN:ETH/USD",
  "BYBIT:BTCUSDT",
];

Deno.test("health: reasons name the venue; a venue wholly down is one line; other venues stay healthy", () => {
  const p = new TestPipeline({ symbols: [...SYMBOLS] });
  assert.deepEqual(evaluateHealth(p.state).reasons, []);
  // OKX down (both symbols), one Kraken symbol resyncing.
  p.setFeed(1, FeedState.Connecting);
  p.setFeed(2, FeedState.Stale);
  p.setFeed(4, FeedState.Resyncing);
  const health = evaluateHealth(p.state);
  assert.equal(health.status, "degraded");
  assert.deepEqual(health.reasons, [
    "okx: 0 of 2 symbols live (1 reconnecting, 1 feed stale)",
    "kraken:ETH/USD: resyncing",
  ]);
  // Binance spot keeps its plain names, in symbol order before the venues after it.
  p.setFeed(0, FeedState.Stale);
  p.setFeed(5, FeedState.Connecting);
  assert.deepEqual(evaluateHealth(p.state).reasons, [
    "BTCUSDT: feed stale",
    "okx: 0 of 2 symbols live (1 reconnecting, 1 feed stale)",
    "kraken:ETH/USD: resyncing",
    "bybit:BTCUSDT: reconnecting",
  ]);
  // One OKX symbol back: the other is named alone.
  p.setFeed(1, FeedState.Live);
  assert.deepEqual(evaluateHealth(p.state).reasons.slice(1, 2), ["okx:ETH-USDT: feed stale"]);
});

Deno.test("metrics: per-venue symbols by state, received, frames and rejections", async () => {
  const p = new TestPipeline({ symbols: [...SYMBOLS] });
  p.setFeed(1, FeedState.Connecting);
  p.setFeed(2, FeedState.Connecting);
  p.setFeed(4, FeedState.Resyncing);
  p.ingest(0, 3);
  p.ingest(1, 2);
  p.ingest(2, 1);
  p.ingest(3, 4);
  p.reject(1, RejectReason.ChecksumMismatch, 2);
  p.reject(3, RejectReason.ChecksumMismatch, 1);
  p.reject(3, RejectReason.SequenceGap, 5);
  p.reject(6, RejectReason.Malformed, 7); // the unknown row: no venue
  p.counters.add(p.counters.ingest(INGEST_VENUE_ERRORS), 2);
  const f = parsePromText(await createMetrics(p.state, { defaultMetrics: false }).render());
  const v = (family: string, labels: Record<string, string>) => sampleValue(f, family, labels);
  assert.equal(v("depthwatch_venue_symbols", { venue: "okx", state: "connecting" }), 2);
  assert.equal(v("depthwatch_venue_symbols", { venue: "okx", state: "live" }), 0);
  assert.equal(v("depthwatch_venue_symbols", { venue: "kraken", state: "live" }), 1);
  assert.equal(v("depthwatch_venue_symbols", { venue: "kraken", state: "resyncing" }), 1);
  assert.equal(v("depthwatch_venue_symbols", { venue: "binance", state: "live" }), 1);
  assert.equal(v("depthwatch_venue_symbols", { venue: "bybit", state: "live" }), 1);
  assert.equal(
    f.get("depthwatch_venue_symbols")!.samples.filter((s) => s.labels.venue === "coinbase").length,
    0,
    "a venue without symbols has no series",
  );
  assert.equal(v("depthwatch_venue_frames_total", { venue: "binance" }), 3);
  assert.equal(v("depthwatch_venue_frames_total", { venue: "okx" }), 3);
  assert.equal(v("depthwatch_venue_frames_total", { venue: "kraken" }), 4);
  assert.equal(v("depthwatch_venue_received_total", { venue: "okx" }), 5);
  assert.equal(v("depthwatch_venue_received_total", { venue: "kraken" }), 10);
  assert.equal(
    v("depthwatch_venue_rejected_total", { venue: "okx", reason: "checksum_mismatch" }),
    2,
  );
  assert.equal(
    v("depthwatch_venue_rejected_total", { venue: "kraken", reason: "checksum_mismatch" }),
    1,
  );
  assert.equal(
    v("depthwatch_venue_rejected_total", { venue: "kraken", reason: "sequence_gap" }),
    5,
  );
  assert.equal(v("depthwatch_venue_rejected_total", { venue: "binance", reason: "malformed" }), 0);
  assert.equal(v("depthwatch_venue_errors_total", {}), 2);
  // Per venue: received = frames + rejected (no coalescing here).
  for (const venue of ["binance", "okx", "kraken", "bybit"]) {
    const rejected = f.get("depthwatch_venue_rejected_total")!.samples
      .filter((s) => s.labels.venue === venue).reduce((a, s) => a + s.value, 0);
    assert.equal(
      v("depthwatch_venue_received_total", { venue }),
      v("depthwatch_venue_frames_total", { venue }) + rejected,
      venue,
    );
  }
});

Deno.test("data mode: LIVE only when every venue in use is at its production host", () => {
  const binance = {
    source: "binance",
    wsUrl: "wss://stream.binance.com:9443",
    restUrl: "https://api.binance.com",
  };
  assert.equal(detectDataMode({ ...binance, venues: ["binance", "okx", "kraken"] }), "LIVE");
  assert.equal(
    detectDataMode({ ...binance, venues: ["binance-usdm", "bybit", "coinbase"] }),
    "LIVE",
  );
  assert.equal(
    detectDataMode({
      ...binance,
      venues: ["okx"],
      venueUrls: { okx: { wsUrl: "ws://127.0.0.1:9" } },
    }),
    "SIM",
  );
  assert.equal(
    detectDataMode({
      ...binance,
      venues: ["binance-usdm"],
      venueUrls: {
        "binance-usdm": {
          wsUrl: "wss://fstream.binance.com/public/stream",
          restUrl: "http://127.0.0.1:1",
        },
      },
    }),
    "SIM",
    "a REST URL off the production host",
  );
  assert.equal(
    detectDataMode({
      ...binance,
      venues: ["kraken"],
      venueUrls: { kraken: { wsUrl: "wss://ws.kraken.com:444/v2" } },
    }),
    "SIM",
    "the right host on another port",
  );
  // Binance spot's URLs matter only when Binance spot is in use.
  assert.equal(detectDataMode({ ...binance, wsUrl: "ws://127.0.0.1:1", venues: ["okx"] }), "LIVE");
  assert.equal(
    detectDataMode({ ...binance, wsUrl: "ws://127.0.0.1:1", venues: ["binance", "okx"] }),
    "SIM",
  );
  assert.equal(detectDataMode({ ...binance, source: "sim", venues: ["okx"] }), "SIM");
});
