import assert from "node:assert/strict";
import { TestPipeline, withRoutes } from "./fixtures/service_state.ts";

function fill(): TestPipeline {
  const p = new TestPipeline({ historyDepth: 5, rawCapacity: 16, processedCapacity: 16 });
  p.ingest(0, 7);
  p.ingest(1, 2);
  p.analyse(100);
  p.deliver(100);
  return p;
}

Deno.test("history: frames of a symbol, oldest first, NaN as null, case-insensitive", async () => {
  const p = fill();
  await withRoutes(p.state, async (base) => {
    const res = await fetch(`${base}/api/history?symbol=btcusdt`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.json();
    assert.equal(body.symbol, "BTCUSDT");
    assert.deepEqual(
      body.frames.map((f: { sequence: number }) => f.sequence),
      [3, 4, 5, 6, 7],
      "the newest 5 of 7 frames, oldest first",
    );
    const f = body.frames[4];
    assert.equal(f.symbolId, 0);
    assert.equal(f.mid, 107);
    assert.equal(f.spread, null, "NaN becomes null");
    assert.equal(f.imbalance.l1, null);
    assert.ok(Number.isFinite(f.deliveredTime));
    assert.equal(f.depth.length, 3);
    assert.equal(f.slippage.length, p.layout.notionals.length);
    assert.deepEqual(f.bids, []);

    const eth = await (await fetch(`${base}/api/history?symbol=EthUsdt`)).json();
    assert.deepEqual(eth.frames.map((x: { mid: number }) => x.mid), [101, 102]);

    const limited = await (await fetch(`${base}/api/history?symbol=BTCUSDT&limit=2`)).json();
    assert.deepEqual(limited.frames.map((x: { sequence: number }) => x.sequence), [6, 7]);

    const head = await fetch(`${base}/api/history?symbol=BTCUSDT`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");

    const post = await fetch(`${base}/api/history?symbol=BTCUSDT`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });
});

Deno.test("history: a watched symbol without frames yet gives an empty list", async () => {
  const p = new TestPipeline();
  await withRoutes(p.state, async (base) => {
    const body = await (await fetch(`${base}/api/history?symbol=ETHUSDT`)).json();
    assert.deepEqual(body, { symbol: "ETHUSDT", frames: [] });
  });
});

Deno.test("history: errors name what was wrong and list the valid symbols", async () => {
  const p = fill();
  await withRoutes(p.state, async (base) => {
    const cases: [string, number, RegExp][] = [
      ["", 400, /missing query parameter "symbol"; valid symbols: BTCUSDT, ETHUSDT/],
      ["?symbol=", 400, /missing query parameter "symbol"; valid symbols: BTCUSDT, ETHUSDT/],
      ["?symbol=dogeusdt", 404, /unknown symbol "DOGEUSDT"; valid symbols: BTCUSDT, ETHUSDT/],
      ["?symbol=BTC%20USDT", 400, /malformed symbol.*valid symbols: BTCUSDT, ETHUSDT/],
      ["?symbol=okx:BTC-USDT", 404, /unknown symbol "OKX:BTC-USDT"; valid symbols: BTCUSDT/],
      ["?symbol=%3Cscript%3E", 400, /malformed symbol/],
      [`?symbol=${"A".repeat(40)}`, 400, /malformed symbol/],
      ["?symbol=BTCUSDT&symbol=ETHUSDT", 400, /"symbol" given more than once/],
      ["?symbol=BTCUSDT&limit=0", 400, /bad limit "0"; expected an integer from 1 to 5/],
      ["?symbol=BTCUSDT&limit=6", 400, /bad limit "6"/],
      ["?symbol=BTCUSDT&limit=-1", 400, /bad limit/],
      ["?symbol=BTCUSDT&limit=1.5", 400, /bad limit/],
      ["?symbol=BTCUSDT&limit=abc", 400, /bad limit/],
      ["?symbol=BTCUSDT&limit=99999999999999999999", 400, /bad limit/],
      ["?symbol=BTCUSDT&since=5", 400, /unknown query parameter "since"/],
    ];
    for (const [query, status, re] of cases) {
      const res = await fetch(`${base}/api/history${query}`);
      assert.equal(res.status, status, query);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      const body = await res.json();
      assert.match(body.error, re, query);
    }
  });
});

Deno.test("history: venue symbols and consolidated instruments, in any case", async () => {
  const p = new TestPipeline({ symbols: ["OKX:BTC-USDT", "KRAKEN:BTC/USD", "X:BTC"] });
  p.ingest(0, 2);
  p.ingest(1, 1);
  p.ingest(2, 3);
  p.analyse(100);
  p.deliver(100);
  await withRoutes(p.state, async (base) => {
    const cases: [string, string, number][] = [
      ["okx:btc-usdt", "OKX:BTC-USDT", 2],
      ["KRAKEN%3ABTC%2FUSD", "KRAKEN:BTC/USD", 1],
      ["x:btc", "X:BTC", 3],
    ];
    for (const [query, symbol, frames] of cases) {
      const res = await fetch(`${base}/api/history?symbol=${query}`);
      assert.equal(res.status, 200, query);
      const body = await res.json();
      assert.equal(body.symbol, symbol);
      assert.equal(body.frames.length, frames, query);
    }
    const bars = await fetch(`${base}/api/history?symbol=kraken:btc/usd&resolution=10s`);
    assert.equal(bars.status, 200);
    assert.equal((await bars.json()).symbol, "KRAKEN:BTC/USD");
  });
});
