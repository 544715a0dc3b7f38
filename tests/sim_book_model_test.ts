import assert from "node:assert/strict";
import fc from "fast-check";
import { BookModel } from "../lib/sim/book_model.ts";
import { formatScaled } from "../lib/sim/decimal_format.ts";
import { FrameEncoder } from "../lib/sim/frame_encoder.ts";
import { Prng } from "../lib/sim/prng.ts";
import { symbolSpec } from "../lib/sim/symbol_spec.ts";
import { recordedJson, recordedLines } from "../testing/recorded_data.ts";

type Level = [string, string];
interface Diff {
  e: string;
  E: number;
  s: string;
  U: number;
  u: number;
  b: Level[];
  a: Level[];
}
interface Depth {
  lastUpdateId: number;
  bids: Level[];
  asks: Level[];
}

/** Tiny reference book: price string → size number, applying Binance rules. */
class RefBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  lastId = 0;
  constructor(snapshot: Depth) {
    for (const [p, q] of snapshot.bids) this.bids.set(Number(p), Number(q));
    for (const [p, q] of snapshot.asks) this.asks.set(Number(p), Number(q));
    this.lastId = snapshot.lastUpdateId;
  }
  apply(ev: Diff): void {
    assert.equal(ev.U, this.lastId + 1, `event U=${ev.U} must follow u=${this.lastId}`);
    for (const [p, q] of ev.b) {
      if (Number(q) === 0) this.bids.delete(Number(p));
      else this.bids.set(Number(p), Number(q));
    }
    for (const [p, q] of ev.a) {
      if (Number(q) === 0) this.asks.delete(Number(p));
      else this.asks.set(Number(p), Number(q));
    }
    this.lastId = ev.u;
  }
  top(n: number): { bids: number[][]; asks: number[][] } {
    const bids = [...this.bids].sort((x, y) => y[0] - x[0]).slice(0, n);
    const asks = [...this.asks].sort((x, y) => x[0] - y[0]).slice(0, n);
    return { bids, asks };
  }
}

function levels(d: Depth): { bids: number[][]; asks: number[][] } {
  const conv = (ls: Level[]) => ls.map(([p, q]) => [Number(p), Number(q)]);
  return { bids: conv(d.bids), asks: conv(d.asks) };
}

function assertSortedUncrossed(d: Depth, what: string): void {
  const { bids, asks } = levels(d);
  for (let i = 1; i < bids.length; i++) {
    assert.ok(bids[i][0] < bids[i - 1][0], `${what}: bids desc`);
  }
  for (let i = 1; i < asks.length; i++) assert.ok(asks[i][0] > asks[i - 1][0], `${what}: asks asc`);
  assert.ok(bids.length > 0 && asks.length > 0, `${what}: both sides present`);
  assert.ok(bids[0][0] < asks[0][0], `${what}: not crossed (${bids[0][0]} < ${asks[0][0]})`);
  for (const [, q] of [...bids, ...asks]) assert.ok(q > 0, `${what}: sizes positive`);
}

Deno.test("formatScaled writes exact 8-decimal strings", () => {
  assert.equal(formatScaled(6000001, 2), "60000.01000000");
  assert.equal(formatScaled(3513, 4), "0.35130000");
  assert.equal(formatScaled(0, 5), "0.00000000");
  assert.equal(formatScaled(7, 0), "7.00000000");
  assert.equal(formatScaled(12345678, 8), "0.12345678");
  assert.throws(() => formatScaled(-1, 2), /non-negative safe integer/);
  assert.throws(() => formatScaled(1, 9), /0\.\.8/);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 8 }), (u, d) => {
      const s = formatScaled(u, d);
      assert.match(s, /^\d+\.\d{8}$/);
      // Exact: the digits are the integer's digits with the point moved.
      assert.equal(BigInt(s.replace(".", "")), BigInt(u) * 10n ** BigInt(8 - d));
    }),
  );
});

Deno.test("Prng is deterministic per seed and roughly uniform", () => {
  const a = new Prng(123), b = new Prng(123), c = new Prng(124);
  const xs = Array.from({ length: 1000 }, () => a.next());
  const ys = Array.from({ length: 1000 }, () => b.next());
  const zs = Array.from({ length: 1000 }, () => c.next());
  assert.deepEqual(xs, ys);
  assert.notDeepEqual(xs, zs);
  for (const x of xs) assert.ok(x >= 0 && x < 1);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  assert.throws(() => new Prng(NaN), /finite/);
});

Deno.test("symbolSpec: real-like BTC/ETH, hashed defaults for others, bad names rejected", () => {
  const btc = symbolSpec("BTCUSDT");
  assert.equal(btc.symbol, "BTCUSDT");
  assert.equal(btc.stream, "btcusdt");
  assert.equal(btc.priceDecimals, 2);
  assert.equal(btc.startTicks, 6_000_000);
  assert.equal(symbolSpec("ethusdt").startTicks, 300_000);
  const x = symbolSpec("nknusdt");
  assert.deepEqual(symbolSpec("NKNUSDT"), x);
  assert.ok(x.priceDecimals >= 0 && x.priceDecimals <= 8);
  assert.throws(() => symbolSpec("btc-usdt"), /letters or digits/);
  assert.throws(() => symbolSpec(""), /letters or digits/);
});

Deno.test("book model: never crossed, sorted, ids advance by one per change (many seeds)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 }),
      fc.constantFrom("btcusdt", "ethusdt", "nknusdt", "lrcbtc", "dogeusdt"),
      (seed, sym) => {
        const book = new BookModel(symbolSpec(sym), { seed, depthTicks: 256 });
        const enc = new FrameEncoder(book);
        for (let f = 0; f < 300; f++) {
          const before = book.updateId;
          const changed = book.advanceFrame();
          assert.equal(book.frameFirstUpdateId, before + 1);
          assert.ok(book.updateId - before >= changed, "at least one id per changed level");
          assert.ok(book.bestBidTicks() < book.bestAskTicks(), "never crossed");
          assert.ok(
            book.bids[book.bestBid] > 0 && book.asks[book.bestAsk] > 0,
            "best levels exist",
          );
          if (f % 50 === 0) assertSortedUncrossed(JSON.parse(enc.partial(20)), `frame ${f}`);
        }
      },
    ),
    { numRuns: 15 },
  );
});

Deno.test("book model: snapshot + diff events reproduce the book exactly, across re-centring", () => {
  // High volatility and a small window force several re-centrings.
  const spec = { ...symbolSpec("btcusdt"), volTicksPerFrame: 40 };
  const book = new BookModel(spec, { seed: 9, depthTicks: 128 });
  const enc = new FrameEncoder(book);
  for (let i = 0; i < 50; i++) book.advanceFrame();
  const ref = new RefBook(JSON.parse(enc.snapshot(5000)));
  const startOrigin = book.origin;
  let quiet = 0;
  for (let f = 0; f < 2000; f++) {
    book.advanceFrame();
    const text = enc.diff(1_700_000_000_000 + f * 100);
    if (text === null) {
      quiet++;
      continue;
    }
    const ev: Diff = JSON.parse(text);
    assert.equal(ev.e, "depthUpdate");
    assert.equal(ev.s, "BTCUSDT");
    ref.apply(ev);
    if (f % 97 === 0) {
      assert.deepEqual(ref.top(5000), levels(JSON.parse(enc.snapshot(5000))), `frame ${f}`);
    }
  }
  assert.notEqual(book.origin, startOrigin, "the window was re-centred at least once");
  assert.deepEqual(ref.top(5000), levels(JSON.parse(enc.snapshot(5000))));
  assert.ok(quiet < 2000);
});

Deno.test("book model: deterministic for a seed, different across seeds", () => {
  const run = (seed: number) => {
    const book = new BookModel(symbolSpec("ethusdt"), { seed });
    const enc = new FrameEncoder(book);
    const out: (string | null)[] = [];
    for (let f = 0; f < 100; f++) {
      book.advanceFrame();
      out.push(enc.diff(f), enc.partial(10));
    }
    return out;
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
});

Deno.test("book model moves like a market: mid walks, spread widens and narrows, sizes heavy-tailed", () => {
  const book = new BookModel(symbolSpec("btcusdt"), { seed: 3 });
  const mids = new Set<number>();
  const spreads: number[] = [];
  for (let f = 0; f < 20000; f++) {
    book.advanceFrame();
    mids.add(book.bestBidTicks() + book.bestAskTicks());
    spreads.push(book.bestAskTicks() - book.bestBidTicks());
  }
  assert.ok(mids.size > 100, `mid moved to ${mids.size} distinct values`);
  const narrow = spreads.filter((s) => s === 1).length;
  const wide = spreads.filter((s) => s >= 5).length;
  assert.ok(narrow > spreads.length / 4, `spread is often one tick (${narrow})`);
  assert.ok(wide > 0, "spread sometimes widens to 5+ ticks");
  const sizes: number[] = [];
  for (const q of book.bids) if (q > 0) sizes.push(q);
  sizes.sort((a, b) => a - b);
  const median = sizes[sizes.length >> 1];
  assert.ok(sizes.length > 1000, `a deep book (${sizes.length} bid levels)`);
  assert.ok(sizes[sizes.length - 1] > 20 * median, "heavy tail: walls far above the median");
});

Deno.test("sim frames have the shape of recorded Binance frames", () => {
  const realDiff = JSON.parse(recordedLines("spot_diff.jsonl")[1]).data;
  const realDepth = JSON.parse(recordedLines("spot_depth20.jsonl")[0]).data;
  const realRest = recordedJson("rest_depth.json") as { bids: Level[]; asks: Level[] };
  const book = new BookModel(symbolSpec("nknusdt"), { seed: 1 });
  const enc = new FrameEncoder(book);
  let diff: string | null = null;
  while (diff === null) {
    book.advanceFrame();
    diff = enc.diff(Date.now());
  }
  const simDiff = JSON.parse(diff);
  const simDepth = JSON.parse(enc.partial(20));
  const simRest = JSON.parse(enc.snapshot(1000));
  assert.deepEqual(Object.keys(simDiff), Object.keys(realDiff));
  assert.deepEqual(Object.keys(simDepth), Object.keys(realDepth));
  assert.deepEqual(Object.keys(simRest), Object.keys(realRest));
  const decimal = /^\d+\.\d{8}$/;
  for (const real of [...realDepth.bids, ...realRest.asks.slice(0, 20)]) {
    assert.match(real[0], decimal, "recorded prices are 8-decimal strings");
    assert.match(real[1], decimal);
  }
  for (const [p, q] of [...simDepth.bids, ...simDepth.asks, ...simDiff.b, ...simDiff.a]) {
    assert.match(p, decimal);
    assert.match(q, decimal);
  }
  assert.equal(simDepth.bids.length, realDepth.bids.length);
  assert.equal(typeof simDiff.U, typeof realDiff.U);
  assertSortedUncrossed(realDepth, "recorded frame");
  assertSortedUncrossed(simDepth, "sim frame");
});
