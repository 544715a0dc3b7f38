// The REST depth endpoint on its own, driven with explicit clock times: weight
// accounting over the sliding minute, forced 429/418 answers, held-back answers.
import assert from "node:assert/strict";
import { BookModel } from "../lib/sim/book_model.ts";
import { FrameEncoder } from "../lib/sim/frame_encoder.ts";
import { JsonReplies } from "../lib/sim/sim_http.ts";
import { DepthEndpoint } from "../lib/sim/sim_rest.ts";
import { symbolSpec } from "../lib/sim/symbol_spec.ts";

function endpoint(weightLimit?: number) {
  const encoder = new FrameEncoder(new BookModel(symbolSpec("btcusdt"), { seed: 5 }));
  const replies = new JsonReplies();
  const rest = new DepthEndpoint({
    encoders: new Map([["btcusdt", encoder]]),
    replies,
    weightLimit,
  });
  const get = (query: string, nowMs: number) =>
    rest.handle(new URL(`http://sim/api/v3/depth?${query}`), nowMs);
  return { rest, replies, encoder, get };
}

const weightOf = (res: Response) => res.headers.get("X-MBX-USED-WEIGHT-1M");

Deno.test("depth weight: charged per limit, refused over the limit, freed a minute later", async () => {
  const { rest, replies, get } = endpoint(6000);
  for (let i = 0; i < 24; i++) {
    const res = await get("symbol=BTCUSDT&limit=5000", 500);
    assert.equal(res.status, 200);
    assert.equal(weightOf(res), String(250 * (i + 1)));
    await res.body?.cancel();
  }
  assert.equal(rest.usedWeight(500), 6000);

  let res = await get("symbol=BTCUSDT&limit=1", 30_000);
  assert.equal(res.status, 429, "6000 + 5 is over the limit");
  assert.equal(weightOf(res), "6000", "a refused request is not charged");
  assert.equal(res.headers.get("Retry-After"), "31", "the bucket [0, 1 s) expires at 61 s");
  assert.match((await res.json()).msg, /current limit is 6000 request weight per 1 MINUTE/);

  res = await get("symbol=BTCUSDT&limit=100", 60_000);
  assert.equal(res.status, 200, "the weight of second 0 left the window at 60 s");
  assert.equal(weightOf(res), "5");
  await res.body?.cancel();
  res = await get("symbol=BTCUSDT&limit=101", 60_000);
  assert.equal(weightOf(res), "30", "limit 101..500 weighs 25");
  await res.body?.cancel();
  assert.deepEqual(replies.byStatus, { "200": 26, "429": 1 });
});

Deno.test("depth parameters: Binance's error codes, limit default and clamp, weightless errors", async () => {
  const { rest, get } = endpoint();
  const cases: [string, number, number | null][] = [
    ["limit=5", 400, -1102],
    ["symbol=", 400, -1102],
    ["symbol=btcusdt", 400, -1100],
    ["symbol=BTCUSDT&limit=-1", 400, -1100],
    ["symbol=BTCUSDT&limit=0", 400, -1104],
    ["symbol=DOGEUSDT", 400, -1121],
  ];
  for (const [query, status, code] of cases) {
    const res = await get(query, 0);
    assert.equal(res.status, status, query);
    assert.equal((await res.json()).code, code, query);
  }
  assert.equal(rest.usedWeight(0), 0, "refused requests cost nothing");
  let res = await get("symbol=BTCUSDT", 0);
  assert.equal((await res.json()).bids.length, 100, "limit defaults to 100");
  res = await get("symbol=BTCUSDT&limit=99999", 0);
  assert.equal(weightOf(res), "255", "limit above 5000 is 5000 and weighs 250");
  await res.body?.cancel();
});

Deno.test("forced 418 and 429: 418 first, each counted down, before any parameter check", async () => {
  const { rest, get } = endpoint();
  rest.answer429(2, 1.5);
  rest.answer418(1, 120);
  let res = await get("symbol=nonsense", 1000);
  assert.equal(res.status, 418, "418 comes before 429 and before the bad symbol");
  assert.equal(res.headers.get("Retry-After"), "120");
  const until = Math.floor(performance.timeOrigin + 1000 + 120_000);
  assert.match((await res.json()).msg, new RegExp(`IP banned until ${until}\\.`));
  for (let i = 0; i < 2; i++) {
    res = await get("symbol=BTCUSDT", 1000);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("Retry-After"), "2", "fractional seconds round up");
    await res.body?.cancel();
  }
  assert.equal(rest.usedWeight(1000), 0, "forced answers cost nothing");
  res = await get("symbol=BTCUSDT", 1000);
  assert.equal(res.status, 200);
  await res.body?.cancel();

  rest.answer429(5, 1);
  rest.answer418(5, 1);
  rest.clearFaults();
  res = await get("symbol=BTCUSDT", 1000);
  assert.equal(res.status, 200, "clear forgets pending forced answers");
  await res.body?.cancel();
});

Deno.test("restSlow holds the answer; the snapshot is the book at admission; shutdown releases it", async () => {
  const { rest, encoder, get } = endpoint();
  rest.slowDown(60_000, 1);
  const admittedAt = encoder.book.updateId;
  let settled = false;
  const pending = get("symbol=BTCUSDT&limit=5", 0).then((res) => {
    settled = true;
    return res;
  });
  for (let i = 0; i < 20; i++) encoder.book.advanceFrame();
  assert.notEqual(encoder.book.updateId, admittedAt);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, "held back by the 60 s delay");
  rest.finishDelayed();
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal((await res.json()).lastUpdateId, admittedAt);

  const next = await get("symbol=BTCUSDT&limit=5", 0);
  assert.equal((await next.json()).lastUpdateId, encoder.book.updateId, "count 1: only one held");
});
