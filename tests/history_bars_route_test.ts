// GET /api/history?resolution=raw|10s|1m: the bars of the bar store through
// the real app, and the bad inputs (unknown symbol, bad resolution, a limit
// beyond the ring).
import assert from "node:assert/strict";
import { TestPipeline, withRoutes } from "./fixtures/service_state.ts";
import { ACC_FRAMES, ACC_WORDS } from "../lib/analytics/mid_bars.ts";

function fill(): TestPipeline {
  const p = new TestPipeline({ historyDepth: 5, rawCapacity: 16, processedCapacity: 16 });
  p.ingest(0, 7);
  p.ingest(1, 2);
  p.analyse(100);
  p.deliver(100);
  return p;
}

Deno.test("history bars: raw is unchanged, 10s and 1m answer columns with the open bar last", async () => {
  const p = fill();
  await withRoutes(p.state, async (base) => {
    const raw = await (await fetch(`${base}/api/history?symbol=btcusdt&resolution=raw`)).json();
    const plain = await (await fetch(`${base}/api/history?symbol=btcusdt`)).json();
    assert.equal(raw.frames.length, 5);
    assert.deepEqual(
      raw.frames.map((f: { mid: number }) => f.mid),
      plain.frames.map((f: { mid: number }) => f.mid),
    );
    for (const [resolution, intervalMs] of [["10s", 10_000], ["1m", 60_000]] as const) {
      const res = await fetch(`${base}/api/history?symbol=BTCUSDT&resolution=${resolution}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const body = await res.json();
      assert.equal(body.symbol, "BTCUSDT");
      assert.equal(body.resolution, resolution);
      assert.equal(body.intervalMs, intervalMs);
      assert.equal(body.seq, 7, "frames folded = the hub seq of the newest");
      assert.equal(body.partial, true);
      // The 7 frames were received now: one bar, or two when a boundary passed since.
      const n = body.time.length;
      assert.ok(n === 1 || n === 2, `${n} bars`);
      for (
        const col of ["open", "high", "low", "close", "spreadBps", "imbalance", "ofi", "frames"]
      ) {
        assert.equal(body[col].length, n, `${col} column`);
      }
      assert.equal(body.time[0] % intervalMs, 0, "aligned on the interval");
      assert.equal(body.open[0], null, "no mid prevailed before the first frame");
      assert.equal(body.high[0], 107);
      assert.equal(body.low[0], 101);
      assert.equal(body.close[n - 1], 107);
      assert.equal(body.spreadBps[0], null, "the test frames carry no spread");
      assert.equal(body.frames[0], 1);
      assert.equal(body.accumulator.length, ACC_WORDS);
      if (n === 1) assert.equal(body.accumulator[ACC_FRAMES], 7);
    }
    const limited = await (await fetch(`${base}/api/history?symbol=ethusdt&resolution=1m&limit=1`))
      .json();
    assert.equal(limited.time.length, 1);
    assert.equal(limited.close[0], 102);
  });
});

Deno.test("history bars: a symbol without frames has empty columns", async () => {
  const p = new TestPipeline();
  await withRoutes(p.state, async (base) => {
    const body = await (await fetch(`${base}/api/history?symbol=ETHUSDT&resolution=10s`)).json();
    assert.equal(body.partial, false);
    assert.deepEqual([body.time, body.close, body.accumulator], [[], [], []]);
  });
});

Deno.test("history bars: bad resolution, huge limit, unknown symbol", async () => {
  const p = fill();
  await withRoutes(p.state, async (base) => {
    const cases: [string, number, RegExp][] = [
      ["?symbol=BTCUSDT&resolution=5m", 400, /bad resolution "5m"; expected one of raw, 10s, 1m/],
      ["?symbol=BTCUSDT&resolution=", 400, /bad resolution ""; expected one of raw, 10s, 1m/],
      ["?symbol=BTCUSDT&resolution=10S", 400, /bad resolution/],
      ["?symbol=BTCUSDT&resolution=1m&resolution=10s", 400, /"resolution" given more than once/],
      ["?symbol=BTCUSDT&resolution=10s&limit=361", 400, /expected an integer from 1 to 360/],
      ["?symbol=BTCUSDT&resolution=1m&limit=1441", 400, /expected an integer from 1 to 1440/],
      [
        "?symbol=BTCUSDT&resolution=1m&limit=99999999999999999999",
        400,
        /bad limit.*from 1 to 1440 \(the 1m bars kept\)/,
      ],
      ["?symbol=BTCUSDT&resolution=10s&limit=0", 400, /from 1 to 360/],
      ["?symbol=BTCUSDT&resolution=raw&limit=6", 400, /from 1 to 5"?$/],
      ["?symbol=dogeusdt&resolution=1m", 404, /unknown symbol "DOGEUSDT"; valid symbols/],
    ];
    for (const [query, status, re] of cases) {
      const res = await fetch(`${base}/api/history${query}`);
      assert.equal(res.status, status, query);
      const body = await res.json();
      assert.match(body.error, re, query);
    }
  });
});
