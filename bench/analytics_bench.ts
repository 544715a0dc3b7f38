/**
 * Throughput of `Analyser.analyse` on realistic 20-level books.
 *
 * Each iteration analyses a batch of 64 frames (4 symbols, random-walk books
 * from a fixed seed), so frames/s = 64 × iterations/s. Baseline: copying the
 * same 64 book slots with `TypedArray.set` (the floor any analysis pays to
 * touch the data). Also a naive implementation that builds level objects,
 * sorts for the median and allocates per frame, for comparison.
 *
 * Run: deno bench -A bench/analytics_bench.ts
 */

import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { Analyser } from "../lib/analytics/analyser.ts";
import { FrameSlotLayout } from "../lib/pipeline/frame_slot.ts";

const LEVELS = 20;
const BATCH = 64;
const SYMBOLS = 4;
const bookLayout = new BookSlotLayout(LEVELS);
const frameLayout = new FrameSlotLayout({ levels: LEVELS });

// Deterministic xorshift PRNG.
let seed = 0x9e3779b9;
function rand(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

const books = new Float64Array(BATCH * bookLayout.slotWords);
const mids = [40_000, 2_500, 0.5, 5];
for (let i = 0; i < BATCH; i++) {
  const s = i % SYMBOLS;
  const tick = mids[s] * 1e-5;
  mids[s] += (rand() - 0.5) * 10 * tick;
  const bids: [number, number][] = [];
  const asks: [number, number][] = [];
  let pb = mids[s] - tick * (1 + Math.floor(rand() * 3));
  let pa = mids[s] + tick * (1 + Math.floor(rand() * 3));
  for (let k = 0; k < LEVELS; k++) {
    // heavy-tailed sizes, occasional large resting orders
    const size = () => (10_000 / mids[s]) * (rand() < 0.05 ? 40 : 1) / (0.05 + rand());
    bids.push([pb, size()]);
    asks.push([pa, size()]);
    pb -= tick * (1 + Math.floor(rand() * 4));
    pa += tick * (1 + Math.floor(rand() * 4));
  }
  writeBook(books, i * bookLayout.slotWords, bookLayout, {
    symbolId: s,
    receiveTime: 1_700_000_000_000 + i * 25,
    bids,
    asks,
  });
}
const views = Array.from(
  { length: BATCH },
  (_, i) => books.subarray(i * bookLayout.slotWords, (i + 1) * bookLayout.slotWords),
);
const out = new Float64Array(BATCH * frameLayout.slotWords);
const analyser = new Analyser({ symbols: SYMBOLS, bookLayout, frameLayout });
let clock = 1_700_000_000_000;

Deno.bench({
  name: "copy 64 book slots with TypedArray.set",
  group: "analyse 64 frames",
  baseline: true,
  fn() {
    for (let i = 0; i < BATCH; i++) out.set(views[i], i * frameLayout.slotWords);
  },
});

Deno.bench({
  name: "Analyser.analyse 64 frames (20 levels)",
  group: "analyse 64 frames",
  fn() {
    clock += 1;
    for (let i = 0; i < BATCH; i++) {
      analyser.analyse(books, i * bookLayout.slotWords, out, i * frameLayout.slotWords, clock);
    }
  },
});

interface NaiveLevel {
  price: number;
  size: number;
}

/** An allocation-heavy implementation of a subset of the analytics (no OFI windows, no volatility). */
function naiveAnalyse(f64: Float64Array, base: number): Record<string, number> {
  const nb = f64[base + 6], na = f64[base + 7];
  const bids: NaiveLevel[] = [];
  const asks: NaiveLevel[] = [];
  for (let i = 0; i < nb; i++) {
    bids.push({
      price: f64[base + bookLayout.bidPrice(i)],
      size: f64[base + bookLayout.bidSize(i)],
    });
  }
  for (let i = 0; i < na; i++) {
    asks.push({
      price: f64[base + bookLayout.askPrice(i)],
      size: f64[base + bookLayout.askSize(i)],
    });
  }
  const mid = (bids[0].price + asks[0].price) / 2;
  const sum = (xs: NaiveLevel[]) => xs.reduce((a, l) => a + l.size, 0);
  const imb = (n: number) => {
    const b = sum(bids.slice(0, n)), a = sum(asks.slice(0, n));
    return (b - a) / (b + a);
  };
  const result: Record<string, number> = {
    mid,
    spread: asks[0].price - bids[0].price,
    imb1: imb(1),
    imb5: imb(5),
    imb20: imb(20),
  };
  for (const bps of [10, 25, 50]) {
    result[`bid${bps}`] = sum(bids.filter((l) => l.price >= mid * (1 - bps / 1e4)));
    result[`ask${bps}`] = sum(asks.filter((l) => l.price <= mid * (1 + bps / 1e4)));
  }
  for (const notional of frameLayout.notionals) {
    for (const [name, side] of [["buy", asks], ["sell", bids]] as const) {
      let left = notional, got = 0;
      for (const l of side) {
        const take = Math.min(left, l.price * l.size);
        got += take / l.price;
        left -= take;
        if (left <= 0) break;
      }
      result[`${name}${notional}`] = ((notional - left) / got - mid) / mid * 1e4;
    }
  }
  const sizes = [...bids, ...asks].map((l) => l.size).sort((a, b) => a - b);
  const median = sizes[sizes.length >> 1];
  result.walls = [...bids, ...asks].filter((l) => l.size >= 5 * median).length;
  return result;
}

let sink = 0;
Deno.bench({
  name: "naive allocating analysis 64 frames (subset)",
  group: "analyse 64 frames",
  fn() {
    for (let i = 0; i < BATCH; i++) sink += naiveAnalyse(books, i * bookLayout.slotWords).mid;
  },
});

addEventListener("unload", () => {
  if (sink === 42) console.log(sink); // keep the naive results alive
});
