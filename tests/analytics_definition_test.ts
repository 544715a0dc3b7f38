/**
 * docs/analytics.md is complete: a reimplementation written from that page
 * alone (below, sharing no code with lib/analytics) matches every field the
 * Analyser writes, to 1e-9 (relative, or absolute for quantities that are
 * differences: OFI sums, bps), over the recorded Binance frames and over
 * generated 4,000-frame sequences with jitter, gaps of up to 90 s, depth
 * changes, one-sided books, stale and resynced frames.
 */
import assert from "node:assert/strict";
import { Analyser } from "../lib/analytics/analyser.ts";
import { BOOK_FLAG_RESYNCED, BOOK_FLAG_STALE, BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { type AnalyticsFrame, readFrame } from "../lib/pipeline/analytics_frame.ts";
import { FrameSlotLayout } from "../lib/pipeline/frame_slot.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { recordedLines } from "../testing/recorded_data.ts";

type Lv = [number, number];
interface Input {
  symbol: number;
  t: number;
  flags: number;
  bids: Lv[];
  asks: Lv[];
}

const NOTIONALS = [1e3, 1e4, 1e5, 1e6, 1e8, 1e12, 1e15];
const BANDS = [10, 25, 50];

// ------------------------------------------------ the reference, from docs/analytics.md

interface RefState {
  prev: { bids: Lv[]; asks: Lv[] } | null;
  window: { t: number; e1: number; em: number }[];
  lastSecond: number;
  lastMid: number;
  returns: { q: number; r2: number }[];
  vol1: number;
  vol5: number;
}

const newState = (): RefState => ({
  prev: null,
  window: [],
  lastSecond: NaN,
  lastMid: NaN,
  returns: [],
  vol1: NaN,
  vol5: NaN,
});

function ofi(p: { bids: Lv[]; asks: Lv[] }, c: { bids: Lv[]; asks: Lv[] }, levels: number) {
  if (!p.bids.length || !p.asks.length || !c.bids.length || !c.asks.length) return NaN;
  let e = 0;
  for (let i = 0; i < Math.min(levels, p.bids.length, c.bids.length); i++) {
    const [pp, qp] = p.bids[i], [pc, qc] = c.bids[i];
    e += (pc >= pp ? qc : 0) - (pc <= pp ? qp : 0);
  }
  for (let i = 0; i < Math.min(levels, p.asks.length, c.asks.length); i++) {
    const [pp, qp] = p.asks[i], [pc, qc] = c.asks[i];
    e += (pc >= pp ? qp : 0) - (pc <= pp ? qc : 0);
  }
  return e;
}

function walk(levels: Lv[], n: number) {
  let spent = 0, got = 0;
  for (const [p, q] of levels) {
    if (p * q >= n - spent) return { spent: n, got: got + (n - spent) / p, exceeds: false };
    spent += p * q;
    got += q;
  }
  return { spent, got, exceeds: true };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const k = v.length >> 1;
  return v.length % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

function reference(st: RefState, f: Input, levels: number) {
  const { bids, asks, t } = f;
  const stale = (f.flags & BOOK_FLAG_STALE) !== 0;
  const resynced = (f.flags & BOOK_FLAG_RESYNCED) !== 0;
  const two = bids.length > 0 && asks.length > 0;
  const [Pb, Qb] = two ? bids[0] : [NaN, NaN];
  const [Pa, Qa] = two ? asks[0] : [NaN, NaN];
  const mid = (Pb + Pa) / 2;
  const I = Qb / (Qb + Qa);
  const imb = (n: number) => {
    if (!two) return NaN;
    const sb = bids.slice(0, n).reduce((s, l) => s + l[1], 0);
    const sa = asks.slice(0, n).reduce((s, l) => s + l[1], 0);
    return sb + sa > 0 ? (sb - sa) / (sb + sa) : NaN;
  };
  // OFI
  let e1 = NaN, em = NaN;
  if (stale) st.prev = null;
  else {
    if (st.prev && !resynced) {
      e1 = ofi(st.prev, f, 1);
      em = ofi(st.prev, f, levels);
    }
    st.prev = { bids, asks };
  }
  if (Number.isFinite(t)) st.window.push({ t, e1: e1 === e1 ? e1 : 0, em: em === em ? em : 0 });
  const inWindow = (w: number) => st.window.filter((x) => x.t > t - w);
  st.window = inWindow(10_000);
  const sum = (xs: { e1: number; em: number }[], k: "e1" | "em") =>
    xs.reduce((s, x) => s + x[k], 0);
  const long = st.window, short = inWindow(1000);
  const rate = long.length >= 2 && long[long.length - 1].t > long[0].t
    ? ((long.length - 1) * 1000) / (long[long.length - 1].t - long[0].t)
    : NaN;
  // volatility
  if (stale || resynced) st.lastSecond = st.lastMid = NaN;
  if (!stale) {
    if (!(mid > 0 && Number.isFinite(mid) && Number.isFinite(t))) st.lastSecond = st.lastMid = NaN;
    else {
      const p = Math.floor(t / 1000);
      let sampled = true;
      if (st.lastSecond === st.lastSecond) {
        if (p <= st.lastSecond) sampled = false;
        else {
          for (let q = Math.max(st.lastSecond + 1, p - 300); q < p; q++) {
            st.returns.push({ q, r2: 0 });
          }
          st.returns.push({ q: p, r2: Math.log(mid / st.lastMid) ** 2 });
        }
      }
      if (sampled) {
        st.lastSecond = p;
        st.lastMid = mid;
        const within = (n: number) => st.returns.filter((r) => r.q > p - n);
        const v = (n: number) => {
          const r = within(n);
          return r.length ? Math.sqrt(r.reduce((s, x) => s + x.r2, 0)) : NaN;
        };
        st.vol1 = v(60);
        st.vol5 = v(300);
        st.returns = within(300);
      }
    }
  }
  // depth bands
  const depth = BANDS.map((x) => {
    if (mid !== mid) return { bidBase: NaN, bidQuote: NaN, askBase: NaN, askQuote: NaN };
    const off = (mid * x) / 1e4;
    const b = bids.filter(([p]) => p >= mid - off), a = asks.filter(([p]) => p <= mid + off);
    return {
      bidBase: b.reduce((s, l) => s + l[1], 0),
      bidQuote: b.reduce((s, l) => s + l[0] * l[1], 0),
      askBase: a.reduce((s, l) => s + l[1], 0),
      askQuote: a.reduce((s, l) => s + l[0] * l[1], 0),
    };
  });
  const slippage = NOTIONALS.map((n) => {
    const buy = walk(asks, n), sell = walk(bids, n);
    const vb = buy.got > 0 ? buy.spent / buy.got : NaN;
    const vs = sell.got > 0 ? sell.spent / sell.got : NaN;
    return {
      buyBps: (1e4 * (vb - mid)) / mid,
      sellBps: (1e4 * (mid - vs)) / mid,
      buyFilledQuote: buy.spent,
      sellFilledQuote: sell.spent,
      buyExceeds: buy.exceeds,
      sellExceeds: sell.exceeds,
    };
  });
  const threshold = 5 * median([...bids, ...asks].map((l) => l[1]));
  const walls = (side: Lv[]) => {
    const w = side.filter(([, q]) => q >= threshold);
    return { count: w.length, top: [...w].sort((a, b) => b[1] - a[1]).slice(0, 3) };
  };
  let flags = f.flags & 0xff;
  if (!two) flags |= 1 << 8;
  else if (Pb >= Pa) flags |= 1 << 9;
  if (e1 !== e1) flags |= 1 << 10;
  slippage.forEach((s, k) => {
    if (s.buyExceeds) flags |= 1 << (16 + 2 * k);
    if (s.sellExceeds) flags |= 1 << (17 + 2 * k);
  });
  return {
    flags,
    mid,
    spread: Pa - Pb,
    spreadBps: (1e4 * (Pa - Pb)) / mid,
    weightedMid: Qb + Qa > 0 ? I * Pa + (1 - I) * Pb : NaN,
    imbalance: { l1: imb(1), l5: imb(5), l20: imb(20) },
    ofi: {
      e: em,
      eL1: e1,
      sum1s: sum(short, "em"),
      sum10s: sum(long, "em"),
      l1Sum1s: sum(short, "e1"),
      l1Sum10s: sum(long, "e1"),
      scale: long.reduce((s, x) => s + Math.abs(x.em) + Math.abs(x.e1), 1),
    },
    frameRate: rate,
    volatility: { m1: st.vol1, m5: st.vol5 },
    depth,
    slippage,
    walls: { threshold, bids: walls(bids), asks: walls(asks) },
  };
}

// ------------------------------------------------ comparison

function near(what: string, actual: number, expected: number, scale = Math.abs(expected)): void {
  if (expected !== expected) {
    assert.ok(actual !== actual, `${what}: expected NaN, got ${actual}`);
    return;
  }
  const err = Math.abs(actual - expected);
  assert.ok(
    err <= 1e-9 * Math.max(scale, 1e-300) || err === 0,
    `${what}: ${actual} vs ${expected}`,
  );
}

function compare(at: string, a: AnalyticsFrame, r: ReturnType<typeof reference>): void {
  assert.equal(a.flags, r.flags, `${at}: flags`);
  near(`${at} mid`, a.mid, r.mid);
  near(`${at} spread`, a.spread, r.spread, Math.abs(r.mid));
  near(`${at} spreadBps`, a.spreadBps, r.spreadBps, 1);
  near(`${at} weightedMid`, a.weightedMid, r.weightedMid);
  for (const k of ["l1", "l5", "l20"] as const) {
    near(`${at} imb ${k}`, a.imbalance[k], r.imbalance[k], 1);
  }
  for (const k of ["e", "eL1", "sum1s", "sum10s", "l1Sum1s", "l1Sum10s"] as const) {
    near(`${at} ofi ${k}`, a.ofi[k], r.ofi[k], r.ofi.scale);
  }
  near(`${at} frameRate`, a.frameRate, r.frameRate);
  near(`${at} vol1m`, a.volatility.m1, r.volatility.m1);
  near(`${at} vol5m`, a.volatility.m5, r.volatility.m5);
  r.depth.forEach((d, b) => {
    for (const k of ["bidBase", "bidQuote", "askBase", "askQuote"] as const) {
      near(`${at} depth ${BANDS[b]} ${k}`, a.depth[b][k], d[k]);
    }
  });
  r.slippage.forEach((s, k) => {
    const x = a.slippage[k];
    near(`${at} slip ${NOTIONALS[k]} buyBps`, x.buyBps, s.buyBps, 1);
    near(`${at} slip ${NOTIONALS[k]} sellBps`, x.sellBps, s.sellBps, 1);
    near(`${at} slip ${NOTIONALS[k]} buyFilled`, x.buyFilledQuote, s.buyFilledQuote);
    near(`${at} slip ${NOTIONALS[k]} sellFilled`, x.sellFilledQuote, s.sellFilledQuote);
    assert.equal(x.buyExceeds, s.buyExceeds);
    assert.equal(x.sellExceeds, s.sellExceeds);
  });
  near(`${at} wall threshold`, a.walls.threshold, r.walls.threshold);
  assert.equal(a.walls.bidCount, r.walls.bids.count, `${at} bid walls`);
  assert.equal(a.walls.askCount, r.walls.asks.count, `${at} ask walls`);
  assert.deepEqual(a.walls.bids.map((l) => [l.price, l.size]), r.walls.bids.top, `${at} bid walls`);
  assert.deepEqual(a.walls.asks.map((l) => [l.price, l.size]), r.walls.asks.top, `${at} ask walls`);
}

function run(name: string, inputs: Input[], symbols: number, levels = 20): number {
  const bookLayout = new BookSlotLayout(levels);
  const frameLayout = new FrameSlotLayout({ levels, notionals: NOTIONALS });
  const analyser = new Analyser({ symbols, bookLayout, frameLayout });
  const book = new Float64Array(bookLayout.slotWords);
  const out = new Float64Array(frameLayout.slotWords);
  const states = Array.from({ length: symbols }, newState);
  inputs.forEach((f, i) => {
    writeBook(book, 0, bookLayout, {
      symbolId: f.symbol,
      receiveTime: f.t,
      flags: f.flags,
      bids: f.bids,
      asks: f.asks,
    });
    analyser.analyse(book, 0, out, 0, 0);
    compare(
      `${name} #${i}`,
      readFrame(out, 0, frameLayout),
      reference(states[f.symbol], f, levels),
    );
  });
  return inputs.length;
}

// ------------------------------------------------ the data

Deno.test("the definitions reproduce every field of the recorded frames", () => {
  const symbols: string[] = [];
  const inputs = recordedLines("spot_depth20.jsonl").map((line, i): Input => {
    const m = JSON.parse(line) as {
      stream: string;
      data: { bids: [string, string][]; asks: [string, string][] };
    };
    const s = m.stream.split("@")[0];
    if (!symbols.includes(s)) symbols.push(s);
    const lv = (l: [string, string][]) => l.map(([p, q]): Lv => [Number(p), Number(q)]);
    return {
      symbol: symbols.indexOf(s),
      t: 1_600_000_000_000 + 370 * i,
      flags: 0,
      bids: lv(m.data.bids),
      asks: lv(m.data.asks),
    };
  });
  assert.equal(run("recorded", inputs, symbols.length), 18);
});

/** Deterministic generator (xorshift32). */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function generated(seed: number, frames: number): Input[] {
  const r = rng(seed);
  const tick = 0.01;
  let midTicks = 10_000 + Math.floor(r() * 1000);
  let t = 1_700_000_000_000 + Math.floor(r() * 1000);
  const out: Input[] = [];
  const side = (best: number, dir: number, n: number): Lv[] => {
    const levels: Lv[] = [];
    let p = best;
    for (let i = 0; i < n; i++) {
      // sizes with 3 decimals; now and then a wall, now and then equal sizes
      const q = r() < 0.05 ? 50 + Math.floor(r() * 3) : Math.round(r() * 5000) / 1000 + 0.001;
      levels.push([Math.round(p * 100) / 100, q]);
      p += dir * tick * (1 + Math.floor(r() * 3));
    }
    return levels;
  };
  for (let i = 0; i < frames; i++) {
    const u = r();
    // jitter 0–250 ms, now and then the same millisecond, a gap of seconds or a minute and a half
    t += u < 0.02 ? 1000 * Math.floor(r() * 90) : u < 0.05 ? 0 : Math.floor(r() * 250);
    if (r() < 0.3) midTicks += Math.floor(r() * 5) - 2;
    const spread = 1 + Math.floor(r() * 3);
    const nb = r() < 0.01 ? 0 : 1 + Math.floor(r() * 20);
    const na = r() < 0.01 ? 0 : 1 + Math.floor(r() * 20);
    const v = r();
    const flags = v < 0.02 ? BOOK_FLAG_STALE : v < 0.03 ? BOOK_FLAG_RESYNCED : 0;
    out.push({
      symbol: i % 2,
      t,
      flags,
      bids: side(midTicks * tick, -1, nb),
      asks: side((midTicks + spread) * tick, 1, na),
    });
  }
  return out;
}

Deno.test("the definitions reproduce every field of generated sequences with jitter, gaps and resyncs", () => {
  for (const seed of [1, 2, 3]) assert.equal(run(`seed ${seed}`, generated(seed, 4000), 2), 4000);
});
