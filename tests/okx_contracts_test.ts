/**
 * OKX derivative sizes in base units: the instruments endpoint's contract
 * values (`lib/ingest/venues/okx_instruments.ts`), the simulated exchange's
 * instruments and contract sizes (`lib/sim/venues/okx_feed.ts`), and the
 * venue assembly connecting a derivative only with its multiplier
 * (`lib/ingest/venue_ingestors.ts`), end to end over the simulated exchange
 * and through the service.
 */
import assert from "node:assert/strict";
import {
  fetchOkxInstruments,
  learnOkxContracts,
  OkxInstrumentsError,
  okxInstType,
  okxSizeMultiplier,
  parseOkxInstruments,
} from "../lib/ingest/venues/okx_instruments.ts";
import { createVenueIngestors } from "../lib/ingest/venue_ingestors.ts";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { okxSimContractValue } from "../lib/sim/venues/okx_feed.ts";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import {
  INGEST_FEED_STATE,
  INGEST_RECEIVED,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import { waitFor } from "../testing/fake_venue.ts";
import { runService } from "../lib/server/service.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { evaluateHealth } from "../lib/server/health.ts";
import { encodeFrame } from "../lib/analytics/wire_encoder.ts";
import { fromBinary } from "@bufbuild/protobuf";
import { FrameSchema } from "../proto/gen/market_pb.ts";
import type { Service } from "../lib/server/service.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./testdata/exchanges/${name}`, import.meta.url));

/** A log that keeps its lines. */
function recordingLog() {
  const lines: string[] = [];
  const keep = (...a: unknown[]) => lines.push(a.map(String).join(" "));
  return { lines, info: keep, warn: keep, error: keep };
}

/** A local HTTP server answering with `answer(n)` for the n-th request (from 1). */
function server(answer: (n: number, url: URL) => Response) {
  let n = 0;
  const urls: string[] = [];
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    urls.push(req.url);
    return answer(++n, new URL(req.url));
  });
  return {
    url: `http://127.0.0.1:${s.addr.port}`,
    urls,
    close: () => s.shutdown(),
  };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
}

Deno.test("okx instruments: the documented SWAP and FUTURES answers give each linear contract's ctVal; inverse ones are refused", () => {
  const swaps = parseOkxInstruments(fixture("okx_instruments_swap_constructed.json"), "SWAP");
  assert.deepEqual(swaps.map((i) => [i.instId, i.ctVal, i.ctMult, i.ctType, i.ctValCcy]), [
    ["BTC-USDT-SWAP", 0.01, 1, "linear", "BTC"],
    ["ETH-USDT-SWAP", 0.1, 1, "linear", "ETH"],
    ["BTC-USD-SWAP", 100, 1, "inverse", "USD"],
  ]);
  assert.equal(okxSizeMultiplier(swaps[0]), 0.01);
  assert.equal(okxSizeMultiplier(swaps[1]), 0.1);
  assert.throws(() => okxSizeMultiplier(swaps[2]), (e: Error) => {
    assert.ok(e instanceof OkxInstrumentsError);
    assert.match(e.message, /BTC-USD-SWAP is an inverse contract \(100 USD each\)/);
    assert.match(e.message, /not supported/);
    return true;
  });
  const futures = parseOkxInstruments(
    fixture("okx_instruments_futures_constructed.json"),
    "FUTURES",
  );
  assert.deepEqual(futures.map((i) => [i.instId, i.ctType]), [
    ["BTC-USDT-250328", "linear"],
    ["BTC-USD-250328", "inverse"],
  ]);
  assert.equal(okxSizeMultiplier(futures[0]), 0.01);
  assert.deepEqual(
    ["BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-250328"].map(okxInstType),
    ["SPOT", "SWAP", "FUTURES"],
  );
  assert.throws(() => okxInstType("BTC-USD-250328-60000-C"), /options\) are not supported/);
  assert.throws(() => okxInstType("BTC-USDT-PERP"), OkxInstrumentsError);
});

Deno.test("okx instruments: bad answers are refused saying what was wrong and what was expected", async () => {
  const bad: [string, RegExp][] = [
    ["<html>502 Bad Gateway</html>", /expected JSON \{"code":"0","data":\[…\]\}, got "<html>/],
    ["[]", /expected an object/],
    [
      '{"code":"51001","msg":"Instrument ID does not exist","data":[]}',
      /OKX answered code "51001" \("Instrument ID does not exist"\), expected "0"/,
    ],
    ['{"code":"0","msg":""}', /expected "data" to be an array, got undefined/],
    ['{"code":"0","data":[{"ctVal":"0.01"}]}', /data\[0\]: expected an object with an "instId"/],
    [
      '{"code":"0","data":[{"instId":"BTC-USDT-SWAP","instType":"FUTURES","ctVal":"0.01","ctMult":"1","ctType":"linear"}]}',
      /expected instType "SWAP", got "FUTURES"/,
    ],
    [
      '{"code":"0","data":[{"instId":"BTC-USDT-SWAP","instType":"SWAP","ctVal":"","ctMult":"1","ctType":"linear"}]}',
      /BTC-USDT-SWAP: expected ctVal to be a positive decimal string such as "0.01", got ""/,
    ],
    [
      '{"code":"0","data":[{"instId":"BTC-USDT-SWAP","instType":"SWAP","ctVal":"0","ctMult":"1","ctType":"linear"}]}',
      /ctVal to be a positive decimal/,
    ],
    [
      '{"code":"0","data":[{"instId":"BTC-USDT-SWAP","instType":"SWAP","ctVal":0.01,"ctMult":"1","ctType":"linear"}]}',
      /ctVal to be a positive decimal string .*got 0.01/,
    ],
    [
      '{"code":"0","data":[{"instId":"BTC-USDT-SWAP","instType":"SWAP","ctVal":"0.01","ctMult":"-1","ctType":"linear"}]}',
      /ctMult to be a positive decimal/,
    ],
    [
      '{"code":"0","data":[{"instId":"BTC-USDT-SWAP","instType":"SWAP","ctVal":"0.01","ctMult":"1"}]}',
      /expected ctType "linear" or "inverse", got undefined/,
    ],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parseOkxInstruments(text, "SWAP"), (e: Error) => {
      assert.ok(e instanceof OkxInstrumentsError, text);
      assert.match(e.message, message, text);
      assert.match(e.message, /^OKX instruments \(SWAP\)/);
      return true;
    });
  }
  // HTTP errors name the status and the URL.
  const s = server(() => new Response("busy", { status: 503 }));
  try {
    await assert.rejects(
      fetchOkxInstruments(s.url, "SWAP"),
      /\/api\/v5\/public\/instruments\?instType=SWAP answered HTTP 503, expected 200: busy/,
    );
  } finally {
    await s.close();
  }
});

Deno.test("okx contracts: retried with backoff until OKX answers; spot needs no request; unlisted and inverse symbols are refused", async () => {
  const swaps = fixture("okx_instruments_swap_constructed.json");
  const s = server((n, url) => {
    if (url.searchParams.get("instType") !== "SWAP") return new Response("no", { status: 404 });
    if (n === 1) return new Response("overloaded", { status: 500 });
    if (n === 2) return new Response('{"code":"50011","msg":"Too Many Requests","data":[]}');
    return new Response(swaps);
  });
  const log = recordingLog();
  try {
    const { multipliers, refused } = await learnOkxContracts({
      restUrl: s.url,
      symbols: ["BTC-USDT", "BTC-USDT-SWAP", "ETH-USDT-SWAP", "BTC-USD-SWAP", "SOL-USDT-SWAP"],
      backoffBaseMs: 10,
      backoffCapMs: 20,
      log,
    });
    assert.deepEqual([...multipliers], [
      ["BTC-USDT", 1],
      ["BTC-USDT-SWAP", 0.01],
      ["ETH-USDT-SWAP", 0.1],
    ]);
    assert.deepEqual([...refused.keys()], ["BTC-USD-SWAP", "SOL-USDT-SWAP"]);
    assert.match(refused.get("BTC-USD-SWAP")!, /inverse contract/);
    assert.match(
      refused.get("SOL-USDT-SWAP")!,
      /OKX lists no SWAP instrument SOL-USDT-SWAP \(3 listed\)/,
    );
    // One request per attempt, SWAP only (no future, and spot needs none).
    assert.equal(s.urls.length, 3);
    assert.ok(s.urls.every((u) => u.endsWith("/api/v5/public/instruments?instType=SWAP")));
    const warns = log.lines.filter((l) => l.includes("cannot learn the contract values"));
    assert.equal(warns.length, 2);
    assert.match(
      warns[0],
      /\(attempt 1\): .*HTTP 500.*these symbols stay connecting, retrying in \d+ ms/,
    );
    assert.match(warns[1], /\(attempt 2\): .*code "50011"/);
    assert.ok(
      log.lines.some((l) =>
        /contract values learnt: BTC-USDT-SWAP 0.01 base units per contract/.test(l)
      ),
    );
    assert.ok(log.lines.some((l) => /okx: BTC-USD-SWAP is not connected: .*inverse/.test(l)));
  } finally {
    await s.close();
  }
});

Deno.test("okx contracts: an abort ends the retries; what was not learnt is in neither map", async () => {
  const s = server(() => new Response("down", { status: 502 }));
  const abort = new AbortController();
  const log = recordingLog();
  try {
    const learning = learnOkxContracts({
      restUrl: s.url,
      symbols: ["BTC-USDT-SWAP", "ETH-USDT"],
      backoffBaseMs: 5,
      backoffCapMs: 10,
      signal: abort.signal,
      log,
    });
    await waitFor("a few attempts", () => s.urls.length >= 3);
    abort.abort();
    const { multipliers, refused } = await learning;
    assert.deepEqual([...multipliers], [["ETH-USDT", 1]]);
    assert.equal(refused.size, 0);
  } finally {
    await s.close();
  }
});

Deno.test("sim okx: the instruments endpoint lists the derivatives' contract values; their sizes are sent in contracts", async () => {
  const sim = await startSimExchange({
    symbols: ["okx:btc-usdt-swap", "okx:eth-usdt-swap", "okx:sol-usdt-250328", "okx:btc-usdt"],
    rate: 0,
  });
  try {
    const rest = sim.venueUrls.okx.restUrl;
    assert.equal(rest, sim.restUrl, "OKX's REST is the simulated exchange's http URL");
    const swaps = await fetchOkxInstruments(rest, "SWAP");
    assert.deepEqual(swaps.map((i) => [i.instId, i.ctVal, i.ctType, i.lotSz]), [
      ["BTC-USDT-SWAP", 0.01, "linear", "0.001"],
      ["ETH-USDT-SWAP", 0.1, "linear", "0.001"],
    ]);
    const futures = await fetchOkxInstruments(rest, "FUTURES");
    assert.deepEqual(futures.map((i) => [i.instId, i.ctVal]), [["SOL-USDT-250328", 1]]);
    const spot = await (await fetch(`${rest}/api/v5/public/instruments?instType=SPOT`)).json();
    assert.deepEqual(spot.data.map((i: { instId: string }) => i.instId), ["BTC-USDT"]);
    const missing = await fetch(`${rest}/api/v5/public/instruments`);
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).code, "50014");
    assert.deepEqual(okxSimContractValue("BTC-USDT-SWAP"), { text: "0.01", decimals: 2 });
    assert.equal(okxSimContractValue("BTC-USDT"), null);

    // One snapshot each of the swap and the spot pair, as sent.
    const texts = await snapshots(sim.venueUrls.okx.wsUrl, ["BTC-USDT-SWAP", "BTC-USDT"]);
    const swapSizes = sizesOf(texts.get("BTC-USDT-SWAP")!);
    const spotSizes = sizesOf(texts.get("BTC-USDT")!);
    // Contracts carry the instrument's lot (0.001 contract): at most 3 decimals; spot 5.
    assert.ok(swapSizes.every((t) => !/\.\d{4,}$/.test(t)), swapSizes.join(","));
    assert.ok(spotSizes.some((t) => /\.\d{4,5}$/.test(t)));
    // In contracts the swap's sizes are ~100 times the spot's (same base sizes model).
    const ratio = median(swapSizes.map(Number)) / median(spotSizes.map(Number));
    assert.ok(ratio > 10, `contracts should be ~100× base sizes, ratio ${ratio}`);
  } finally {
    await sim.close();
  }
});

/** The first `books` snapshot text of each instId. */
async function snapshots(wsUrl: string, instIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ws = new WebSocket(wsUrl);
  const done = Promise.withResolvers<void>();
  ws.onopen = () =>
    ws.send(JSON.stringify({
      op: "subscribe",
      args: instIds.map((instId) => ({ channel: "books", instId })),
    }));
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.action === "snapshot" && !out.has(m.arg.instId)) out.set(m.arg.instId, e.data);
    if (out.size === instIds.length) done.resolve();
  };
  ws.onerror = () => done.reject(new Error("websocket error"));
  const timer = setTimeout(() => done.reject(new Error("no snapshots")), 15_000);
  try {
    await done.promise;
  } finally {
    clearTimeout(timer);
    const closed = new Promise((r) => ws.onclose = r);
    ws.close();
    await closed;
  }
  return out;
}

/** The size texts of a snapshot, bids then asks. */
function sizesOf(text: string): string[] {
  const d = JSON.parse(text).data[0];
  return [...d.bids, ...d.asks].map((l: string[]) => l[1]);
}

const LAYOUT = new BookSlotLayout(20);

/** The last frame of each symbol id in the ring: bid and ask sizes and prices. */
function drainSizes(ring: SpscRing, into: Map<number, { sizes: number[]; prices: number[] }>) {
  for (;;) {
    const at = ring.peek();
    if (at < 0) return;
    const f = ring.f64;
    const sizes: number[] = [], prices: number[] = [];
    for (let i = 0; i < f[at + BOOK_BID_COUNT]; i++) {
      sizes.push(f[at + LAYOUT.bidSize(i)]);
      prices.push(f[at + LAYOUT.bidPrice(i)]);
    }
    for (let i = 0; i < f[at + BOOK_ASK_COUNT]; i++) {
      sizes.push(f[at + LAYOUT.askSize(i)]);
      prices.push(f[at + LAYOUT.askPrice(i)]);
    }
    into.set(f[at + BOOK_SYMBOL_ID], { sizes, prices });
    ring.commitRead();
  }
}

Deno.test("okx contracts end to end: over the simulated exchange the swap's sizes reach the ring in base units", async () => {
  const sim = await startSimExchange({ symbols: ["okx:btc-usdt-swap", "okx:btc-usdt"], rate: 0 });
  const symbols = ["okx:btc-usdt-swap", "okx:btc-usdt"];
  const rawRing = SpscRing.create({ capacity: 256, slotBytes: LAYOUT.slotBytes });
  const counters = PipelineCounters.create(symbols.length + 1);
  const log = recordingLog();
  const ingest = createVenueIngestors({
    symbols,
    wsUrl: "ws://127.0.0.1:1",
    rawRing,
    counters,
    levels: 20,
    backoffBaseMs: 20,
    backoffCapMs: 100,
    staleMs: 60_000,
    log,
    venueUrls: { okx: sim.venueUrls.okx },
  });
  try {
    // The static books as the sim sends them (rate 0: nothing changes).
    const texts = await snapshots(sim.venueUrls.okx.wsUrl, ["BTC-USDT-SWAP", "BTC-USDT"]);
    assert.deepEqual(ingest.venues.map((v) => v.venue), ["okx"], "spot first, the swap later");
    ingest.start();
    const frames = new Map<number, { sizes: number[]; prices: number[] }>();
    await waitFor("a frame of both symbols", () => {
      drainSizes(rawRing, frames);
      return frames.has(0) && frames.has(1);
    });
    assert.equal(ingest.venues.length, 2, "the swap's ingest joined once its ctVal was known");
    assert.equal(counters.load(counters.ingestSymbol(0, INGEST_FEED_STATE)), FeedState.Live);
    const swapData = JSON.parse(texts.get("BTC-USDT-SWAP")!).data[0];
    const top = (side: string[][]) => side.slice(0, 20);
    // The sim's base sizes: contracts × 0.01 (lots of 10^-5 BTC written in contracts of 0.01 BTC).
    const expected = [...top(swapData.bids), ...top(swapData.asks)].map((l) => {
      const [int, frac = ""] = l[1].split(".");
      return Number(`${int}${frac.padEnd(3, "0")}`) / 1e5; // lots / 10^5
    });
    const swap = frames.get(0)!;
    assert.equal(swap.sizes.length, expected.length);
    swap.sizes.forEach((size, k) => {
      assert.ok(
        Math.abs(size - expected[k]) <= 1e-12 * expected[k],
        `level ${k}: ring ${size}, sim base size ${expected[k]}`,
      );
    });
    assert.deepEqual(
      swap.prices,
      [...top(swapData.bids), ...top(swapData.asks)].map((l) => Number(l[0])),
    );
    // Spot and swap books of the same asset are comparable: the same order of magnitude.
    const ratio = median(swap.sizes) / median(frames.get(1)!.sizes);
    assert.ok(ratio > 0.1 && ratio < 10, `swap/spot median size ratio ${ratio}`);
    assert.ok(log.lines.some((l) => l.includes("BTC-USDT-SWAP 0.01 base units per contract")));
  } finally {
    await ingest.stop();
    await sim.close();
  }
});

Deno.test("okx contracts end to end: while the sim's instruments endpoint fails the swap stays connecting, the spot pair is live; then it recovers", async () => {
  const sim = await startSimExchange({ symbols: ["okx:btc-usdt-swap", "okx:btc-usdt"], rate: 20 });
  const symbols = ["okx:btc-usdt-swap", "okx:btc-usdt"];
  const rawRing = SpscRing.create({ capacity: 1024, slotBytes: LAYOUT.slotBytes });
  const counters = PipelineCounters.create(symbols.length + 1);
  const log = recordingLog();
  sim.inject({ kind: "rest429", count: 1_000_000, retryAfterSec: 1 });
  const ingest = createVenueIngestors({
    symbols,
    wsUrl: "ws://127.0.0.1:1",
    rawRing,
    counters,
    backoffBaseMs: 20,
    backoffCapMs: 50,
    log,
    venueUrls: { okx: sim.venueUrls.okx },
  });
  const state = (id: number) => counters.load(counters.ingestSymbol(id, INGEST_FEED_STATE));
  try {
    ingest.start();
    const frames = new Map<number, { sizes: number[]; prices: number[] }>();
    await waitFor("the spot pair live", () => state(1) === FeedState.Live);
    await waitFor(
      "three failed attempts logged",
      () =>
        log.lines.filter((l) => l.includes("cannot learn the contract values of BTC-USDT-SWAP"))
          .length >= 3,
    );
    drainSizes(rawRing, frames);
    assert.equal(state(0), FeedState.Connecting);
    assert.equal(frames.has(0), false, "no frame of the swap: its sizes are not known");
    assert.equal(counters.load(counters.ingestSymbol(0, INGEST_RECEIVED)), 0);
    assert.match(
      log.lines.find((l) => l.includes("cannot learn"))!,
      /HTTP 429, expected 200: \{"code":"50011".*stay connecting/,
    );
    // OKX answers again: the swap connects with its multiplier.
    sim.inject({ kind: "clear" });
    await waitFor("the swap live", () => state(0) === FeedState.Live);
    assert.equal(state(1), FeedState.Live);
  } finally {
    await ingest.stop();
    await sim.close();
  }
});

/** The newest frame of `symbol` as the wire sends it, or null. */
function latest(service: Service, symbol: string) {
  const { history, layout, symbols } = service.state;
  const id = symbols.indexOf(symbol);
  const base = history.latestBase(id);
  if (base < 0) return null;
  return fromBinary(
    FrameSchema,
    encodeFrame(
      history.f64(id),
      base,
      layout,
      symbol,
      1,
      0,
      symbols.map((n) => new TextEncoder().encode(n)),
    ),
  );
}

Deno.test({
  name:
    "okx contracts service: --source sim with a swap and the spot pair: comparable sizes on the wire",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const config = parseConfig([
      "--source",
      "sim",
      "--port",
      "0",
      "--symbols",
      "okx:BTC-USDT-SWAP,okx:BTC-USDT",
      "--sim-rate",
      "20",
    ]);
    const service = await runService(config, () => () => new Response("ok"), {
      log: createLogger({ level: "error" }),
    });
    try {
      const names = service.state.symbols;
      const swapName = names.find((n) => /swap/i.test(n))!;
      const spotName = names.find((n) => n !== swapName)!;
      await waitFor(
        "frames of both",
        () => latest(service, swapName) !== null && latest(service, spotName) !== null,
        30_000,
      );
      const swap = latest(service, swapName)!, spot = latest(service, spotName)!;
      const sizes = (f: typeof swap) => [...f.bidSizes, ...f.askSizes];
      const ratio = median(sizes(swap)) / median(sizes(spot));
      assert.ok(ratio > 0.1 && ratio < 10, `swap/spot median size ratio ${ratio}`);
      await waitFor("healthy", () => evaluateHealth(service.state).reasons.length === 0, 30_000);
    } finally {
      await service.close();
    }
  },
});

Deno.test({
  name:
    "okx contracts service: an instruments endpoint that fails leaves the swap reconnecting in /health, the spot pair live",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const sim = await startSimExchange({
      symbols: ["okx:btc-usdt-swap", "okx:btc-usdt"],
      rate: 20,
    });
    sim.inject({ kind: "rest429", count: 1_000_000, retryAfterSec: 1 });
    const okx = sim.venueUrls.okx;
    const config = parseConfig([
      "--port",
      "0",
      "--symbols",
      "okx:BTC-USDT-SWAP,okx:BTC-USDT",
      "--venue-url",
      `okx=${okx.wsUrl},${okx.restUrl}`,
    ]);
    const service = await runService(config, () => () => new Response("ok"), {
      log: createLogger({ level: "error" }),
    });
    try {
      const { counters, symbols } = service.state;
      const spot = symbols.findIndex((n) => !/swap/i.test(n));
      await waitFor(
        "the spot pair live",
        () => counters.load(counters.ingestSymbol(spot, INGEST_FEED_STATE)) === FeedState.Live,
        30_000,
      );
      // Several failed attempts later the swap is still not connected.
      await waitFor(
        "the instruments asked again and again",
        () => (sim.stats().rest[429] ?? 0) >= 3,
        30_000,
      );
      const health = evaluateHealth(service.state);
      assert.equal(health.status, "degraded");
      assert.deepEqual(health.reasons, ["okx:BTC-USDT-SWAP: reconnecting"]);
    } finally {
      await service.close();
      await sim.close();
    }
  },
});
