/**
 * A consolidated instrument end to end in the real service (`--source sim`,
 * two Binance-spot sim symbols merged as `X:BTC`): its frames flow through
 * the analytics worker with venue tags and member quotes, are analysed like a
 * symbol's, reach the wire with named members, and a stalled member is shown
 * stale and contributes no level. Every wait is for a condition (generous
 * timeouts only guard against a hang).
 */
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { runService, type Service } from "../lib/server/service.ts";
import { consolidatedSimConfig } from "./fixtures/consolidated_config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { encodeFrame } from "../lib/analytics/wire_encoder.ts";
import { FrameSchema } from "../proto/gen/market_pb.ts";
import {
  FRAME_ASK_COUNT,
  FRAME_BID_COUNT,
  FRAME_FLAG_CROSSED,
  FRAME_FLAGS,
  FRAME_MID,
} from "../lib/pipeline/frame_slot.ts";
import {
  ANALYTICS_ANALYSED,
  ANALYTICS_PROCESSED,
  INGEST_FEED_STATE,
} from "../lib/pipeline/pipeline_counters.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";

/** The symbols' UTF-8 names by id, as the hub encodes them once. */
const utf8Names = (names: readonly string[]) => names.map((n) => new TextEncoder().encode(n));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  what: string,
  fn: () => boolean,
  ms = 60_000,
  state?: () => unknown,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(state?.())}`);
}

/** The newest frame of `symbol`, as the wire sends it (members named), or null. */
function latest(service: Service, symbol: string) {
  const { history, layout, symbols } = service.state;
  const id = symbols.indexOf(symbol);
  const base = history.latestBase(id);
  if (base < 0) return null;
  const f64 = history.f64(id);
  const bytes = encodeFrame(f64, base, layout, symbol, 1, 0, utf8Names(symbols));
  return { slot: f64.slice(base, base + layout.slotWords), wire: fromBinary(FrameSchema, bytes) };
}

Deno.test({
  name:
    "consolidated service: X:BTC frames flow with venue tags; a stalled member is stale and left out",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const config = consolidatedSimConfig("BTC=btcusdt,btcusdc", { simRate: 20, staleMs: 1000 });
    // The member missing from --symbols was added; the instrument comes last.
    assert.deepEqual(config.symbols, ["btcusdt", "btcusdc", "x:btc"]);
    const service = await runService(
      config,
      () => () => new Response("ok"),
      { log: createLogger({ level: "error" }) },
    );
    try {
      const { symbols, layout, counters } = service.state;
      assert.deepEqual(symbols, ["BTCUSDT", "BTCUSDC", "X:BTC"]);
      assert.equal(layout.venueMembers, 2);
      const x = symbols.indexOf("X:BTC");
      await until("X:BTC frames with both members fresh", () => {
        const f = latest(service, "X:BTC");
        return f !== null && f.wire.venues.length === 2 && f.wire.venues.every((v) => !v.stale);
      });
      let f = latest(service, "X:BTC")!;
      // Members are named and quoted; every level is tagged with a member index.
      assert.deepEqual(f.wire.venues.map((v) => v.symbol), ["BTCUSDT", "BTCUSDC"]);
      assert.equal(f.wire.bidVenues.length, f.wire.bidPrices.length);
      assert.equal(f.wire.askVenues.length, f.wire.askPrices.length);
      assert.equal(f.wire.bidPrices.length, config.levels, "two 20-level books fill 20 levels");
      assert.ok(f.wire.bidVenues.every((v) => v === 0 || v === 1));
      // The ladder is each member's levels merged best first.
      for (let i = 1; i < f.wire.bidPrices.length; i++) {
        assert.ok(f.wire.bidPrices[i] <= f.wire.bidPrices[i - 1], "bids descending");
        assert.ok(f.wire.askPrices[i] >= f.wire.askPrices[i - 1], "asks ascending");
      }
      const [a, b] = f.wire.venues;
      assert.equal(f.wire.bidPrices[0], Math.max(a.bestBid, b.bestBid));
      assert.equal(f.wire.askPrices[0], Math.min(a.bestAsk, b.bestAsk));
      // Analysed like any symbol: mid of the merged top; crossed flagged when the venues cross.
      assert.equal(f.slot[FRAME_MID], (f.wire.bidPrices[0] + f.wire.askPrices[0]) / 2);
      const crossed = f.wire.bidPrices[0] >= f.wire.askPrices[0];
      assert.equal((f.slot[FRAME_FLAGS] & FRAME_FLAG_CROSSED) !== 0, crossed);
      // Counted as processed, never as taken from the raw ring; its feed state is the loop's.
      assert.ok(counters.load(counters.analyticsSymbol(x, ANALYTICS_PROCESSED)) > 0);
      assert.equal(counters.load(counters.analyticsSymbol(x, ANALYTICS_ANALYSED)), 0);
      assert.equal(counters.load(counters.ingestSymbol(x, INGEST_FEED_STATE)), FeedState.Live);

      // Stall member 1: it turns stale and no level comes from it any more.
      service.sim!.inject({ kind: "stall", symbol: "btcusdc" });
      await until("BTCUSDC stale in X:BTC", () => {
        const g = latest(service, "X:BTC");
        return g !== null && g.wire.venues[1].stale && !g.wire.venues[0].stale;
      });
      f = latest(service, "X:BTC")!;
      assert.ok(f.wire.bidVenues.length > 0 && f.wire.bidVenues.every((v) => v === 0));
      assert.ok(f.wire.askVenues.every((v) => v === 0));
      assert.equal(f.wire.bidPrices[0], f.wire.venues[0].bestBid);
      assert.equal(f.wire.askPrices[0], f.wire.venues[0].bestAsk);
      assert.equal(f.slot[FRAME_BID_COUNT], config.levels);
      assert.equal(f.slot[FRAME_ASK_COUNT], config.levels);
      assert.equal(
        (f.slot[FRAME_FLAGS] & FRAME_FLAG_CROSSED) !== 0,
        false,
        "one venue: not crossed",
      );
      assert.ok(
        f.wire.venues[1].ageMs > 1000 || Number.isNaN(f.wire.venues[1].ageMs) ||
          f.wire.venues[1].stale,
      );
      // The member comes back once the stall is cleared.
      service.sim!.inject({ kind: "clear" });
      await until(
        "BTCUSDC fresh again",
        () => {
          const g = latest(service, "X:BTC");
          return g !== null && g.wire.venues.every((v) => !v.stale) &&
            [...g.wire.bidVenues, ...g.wire.askVenues].includes(1);
        },
        60_000,
        () => {
          const g = latest(service, "X:BTC");
          return {
            venues: g?.wire.venues.map((v) => [v.symbol, v.bestBid, v.bestAsk, v.ageMs, v.stale]),
            bids: g?.wire.bidVenues,
            asks: g?.wire.askVenues,
            feed: symbols.map((_, i) => counters.load(counters.ingestSymbol(i, INGEST_FEED_STATE))),
          };
        },
      );
      // A plain symbol's frame carries no venue fields.
      const plain = latest(service, "BTCUSDT")!;
      assert.deepEqual([plain.wire.venues.length, plain.wire.bidVenues.length], [0, 0]);
    } finally {
      await service.close();
    }
  },
});
