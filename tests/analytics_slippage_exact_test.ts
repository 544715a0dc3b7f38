/**
 * Slippage at every notional the config accepts (1e3 … 1e15: `--notionals`
 * takes up to 1e15) against an exact reference written here: BigInt fractions
 * built from the decimal strings of the recorded Binance frames and of
 * generated books (up to 100 levels, the largest `--levels`), walked by the
 * definition in docs/analytics.md ("Slippage").
 *
 * Tolerance. The best float64 answer is the exact value rounded once: within
 * u = 2⁻⁵³ ≈ 1.1e-16 relative. The product cannot quite reach it: it starts
 * from prices and sizes already rounded once each (≤ u), rounds each
 * price·size (≤ u), sums with Neumaier compensation (≤ u + O(L·u²) for L
 * positive terms) and divides once for the VWAP (≤ u): about 6u for filled
 * quote, filled base and VWAP. {@link REL} = 16u = 2⁻⁴⁹ ≈ 1.8e-15 leaves room
 * (measured worst: about 2.5u). The old fill, notional − remainder, was off by
 * 1e-13 already at 1e7 and fails this at every notional past the visible book.
 * Slippage in bps, 1e4·(VWAP − mid)/mid, subtracts two close prices, so its
 * error is absolute: ≤ 1e4·REL·max(1, VWAP/mid) bps (≈ 1.8e-11 bps near the
 * top of the book; the best float64 answer is only good to about 1e4·2u).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBinary } from "@bufbuild/protobuf";
import { FrameSchema } from "../proto/gen/market_pb.ts";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { FRAME_FLAGS, FrameSlotLayout, slippageExceedsBit } from "../lib/pipeline/frame_slot.ts";
import { writeTopOfBook } from "../lib/analytics/mid_spread.ts";
import { BookWalk, Trade, walkBook, writeSlippage } from "../lib/analytics/slippage.ts";
import { encodeFrame } from "../lib/analytics/wire_encoder.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { recordedJson, recordedLines } from "../testing/recorded_data.ts";

/** Relative tolerance of filled quote, filled base and VWAP: 16u (see the header). */
const REL = 2 ** -49;

/** Every decade the config accepts, in two layouts of at most 7 notionals. */
const NOTIONAL_SETS = [
  [1e3, 1e5, 1e7, 1e9, 1e11, 1e13, 1e15],
  [1e4, 1e6, 1e8, 1e10, 1e12, 1e14, 1e15],
];

// ---------------------------------------------------------------- exact fractions

/** An exact fraction n/d, d > 0. */
interface Q {
  n: bigint;
  d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function q(n: bigint, d = 1n): Q {
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

/** A decimal string ("0.48560000", "35776.62", "1e15" is not accepted) exactly. */
function dec(s: string): Q {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) throw new Error(`not a plain decimal: "${s}"`);
  const frac = m[2] ?? "";
  return q(BigInt(m[1] + frac), 10n ** BigInt(frac.length));
}

/** A float64 exactly (finite values only). */
function ofFloat(x: number): Q {
  if (!Number.isFinite(x)) throw new Error(`not finite: ${x}`);
  if (x === 0) return { n: 0n, d: 1n };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = exp === 0 ? frac : frac | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075;
  return e >= 0 ? q(sign * mant << BigInt(e)) : q(sign * mant, 1n << BigInt(-e));
}

const add = (a: Q, b: Q): Q => q(a.n * b.d + b.n * a.d, a.d * b.d);
const sub = (a: Q, b: Q): Q => q(a.n * b.d - b.n * a.d, a.d * b.d);
const mul = (a: Q, b: Q): Q => q(a.n * b.n, a.d * b.d);
const div = (a: Q, b: Q): Q => b.n < 0n ? q(-a.n * b.d, -a.d * b.n) : q(a.n * b.d, a.d * b.n);
const cmp = (a: Q, b: Q): number => {
  const l = a.n * b.d, r = b.n * a.d;
  return l < r ? -1 : l > r ? 1 : 0;
};
const abs = (a: Q): Q => a.n < 0n ? { n: -a.n, d: a.d } : a;

/** The float64 nearest to a fraction (ties to even): the best float64 answer. */
function toFloat(a: Q): number {
  if (a.n === 0n) return 0;
  const neg = a.n < 0n;
  const n = neg ? -a.n : a.n;
  // scale so the quotient has 53 bits: 2^52 ≤ n·2^k / d < 2^53
  let k = 52 - (n.toString(2).length - a.d.toString(2).length);
  const scaled = (k2: number) => k2 >= 0 ? [n << BigInt(k2), a.d] : [n, a.d << BigInt(-k2)];
  let [num, den] = scaled(k);
  if (num / den >= 1n << 53n) [num, den] = scaled(--k);
  if (num / den < 1n << 52n) [num, den] = scaled(++k);
  let quot = num / den;
  const rem2 = 2n * (num % den);
  if (rem2 > den || (rem2 === den && (quot & 1n) === 1n)) quot += 1n;
  const v = Number(quot) * 2 ** -k;
  return neg ? -v : v;
}

/** |actual − exact| / |exact|, computed exactly and then rounded. */
function relErr(actual: number, exact: Q): number {
  return toFloat(div(abs(sub(ofFloat(actual), exact)), abs(exact)));
}

// ---------------------------------------------------------------- the reference

/** A book as the exchange sent it: [price, size] decimal strings, best first. */
interface DecimalBook {
  name: string;
  bids: [string, string][];
  asks: [string, string][];
}

interface ExactWalk {
  spent: Q;
  got: Q;
  exceeds: boolean;
}

/**
 * The definition, on exact fractions: whole levels add price·size of quote
 * and size of base; the first level whose price·size reaches what is still
 * missing adds (notional − spent)/price of base and ends the walk at the
 * notional; if none does, the walk exceeds the visible side.
 */
function exactWalk(levels: [string, string][], notional: Q): ExactWalk {
  let spent = q(0n), got = q(0n);
  for (const [ps, ss] of levels) {
    const p = dec(ps), s = dec(ss);
    const need = sub(notional, spent);
    const levelQuote = mul(p, s);
    if (cmp(levelQuote, need) >= 0) {
      return { spent: notional, got: add(got, div(need, p)), exceeds: false };
    }
    spent = add(spent, levelQuote);
    got = add(got, s);
  }
  return { spent, got, exceeds: true };
}

/** The largest error seen, per quantity (relative; bps as in {@link bpsBound}). */
interface Worst {
  filledQuote: number;
  filledBase: number;
  vwap: number;
  bps: number;
}

const worstOf = (a: Worst, b: Worst): Worst => ({
  filledQuote: Math.max(a.filledQuote, b.filledQuote),
  filledBase: Math.max(a.filledBase, b.filledBase),
  vwap: Math.max(a.vwap, b.vwap),
  bps: Math.max(a.bps, b.bps),
});

const inUlps = (w: Worst) =>
  Object.fromEntries(Object.entries(w).map(([k, v]) => [k, +(v / 2 ** -53).toFixed(2)]));

const NONE: Worst = { filledQuote: 0, filledBase: 0, vwap: 0, bps: 0 };

/** The bps tolerance: 1e4·REL·max(1, VWAP/mid) (see the header). */
function bpsBound(vwap: Q, mid: Q): number {
  return 1e4 * REL * Math.max(1, toFloat(div(vwap, mid)));
}

/** Run the product on `book` for every notional and compare it with the reference. */
function checkBook(book: DecimalBook, levels: number): Worst {
  const layout = new BookSlotLayout(levels);
  const f64 = new Float64Array(layout.slotWords);
  const num = ([p, s]: [string, string]) => [Number(p), Number(s)] as const;
  writeBook(f64, 0, layout, { bids: book.bids.map(num), asks: book.asks.map(num) });
  const bids = book.bids.slice(0, levels), asks = book.asks.slice(0, levels);
  const mid = div(add(dec(bids[0][0]), dec(asks[0][0])), q(2n));
  const ten4 = q(10_000n);
  const walk = new BookWalk();
  let worst = NONE;
  for (const notionals of NOTIONAL_SETS) {
    const frameLayout = new FrameSlotLayout({ levels, notionals });
    const out = new Float64Array(frameLayout.slotWords);
    writeTopOfBook(f64, 0, layout, out, 0);
    const flags = writeSlippage(f64, 0, layout, out, 0, frameLayout, walk);
    for (let i = 0; i < notionals.length; i++) {
      const n = ofFloat(notionals[i]);
      for (
        const [side, exact, filledAt, bpsAt] of [
          [0, exactWalk(asks, n), frameLayout.slippageBuyFilled(i), frameLayout.slippageBuyBps(i)],
          [
            1,
            exactWalk(bids, n),
            frameLayout.slippageSellFilled(i),
            frameLayout.slippageSellBps(i),
          ],
        ] as const
      ) {
        const at = `${book.name} ${side ? "sell" : "buy"} ${notionals[i]}`;
        assert.equal((flags & slippageExceedsBit(i, side)) !== 0, exact.exceeds, `${at}: exceeds`);
        walkBook(f64, 0, layout, side ? Trade.Sell : Trade.Buy, notionals[i], walk);
        assert.equal(walk.filledQuote, out[filledAt], `${at}: the frame holds the walk's fill`);
        const vwap = div(exact.spent, exact.got);
        const bps = side
          ? div(mul(ten4, sub(mid, vwap)), mid)
          : div(mul(ten4, sub(vwap, mid)), mid);
        const seen: Worst = {
          filledQuote: relErr(walk.filledQuote, exact.spent),
          filledBase: relErr(walk.filledBase, exact.got),
          vwap: relErr(walk.vwap, vwap),
          bps: toFloat(abs(sub(ofFloat(out[bpsAt]), bps))) / bpsBound(vwap, mid) * REL,
        };
        for (const [key, err] of Object.entries(seen)) {
          assert.ok(
            err <= REL,
            `${at}: ${key} off by ${err} (filled ${walk.filledQuote} of exact ` +
              `${toFloat(exact.spent)}; ${out[bpsAt]} bps, exact ${toFloat(bps)})`,
          );
        }
        worst = worstOf(worst, seen);
      }
    }
    // the wire frame the worker sends carries the slot's values bit for bit
    out[FRAME_FLAGS] = flags; // as the analyser does
    const wire = fromBinary(FrameSchema, encodeFrame(out, 0, frameLayout, "X", 1, 0));
    assert.equal(wire.slippage.length, notionals.length);
    wire.slippage.forEach((s, i) => {
      assert.ok(Object.is(s.buyFilledQuote, out[frameLayout.slippageBuyFilled(i)]));
      assert.ok(Object.is(s.sellFilledQuote, out[frameLayout.slippageSellFilled(i)]));
      assert.ok(Object.is(s.buyBps, out[frameLayout.slippageBuyBps(i)]));
      assert.ok(Object.is(s.sellBps, out[frameLayout.slippageSellBps(i)]));
      assert.equal(s.buyExceeds, !!(flags & slippageExceedsBit(i, 0)));
      assert.equal(s.sellExceeds, !!(flags & slippageExceedsBit(i, 1)));
    });
  }
  return worst;
}

// ---------------------------------------------------------------- the books

function recordedBooks(): DecimalBook[] {
  const out: DecimalBook[] = [];
  for (const file of ["spot_depth20.jsonl", "spot_depth20_reconstructed.jsonl"] as const) {
    recordedLines(file).forEach((line, i) => {
      const m = JSON.parse(line) as {
        stream: string;
        data: { bids: [string, string][]; asks: [string, string][] };
      };
      out.push({ name: `${file}#${i} ${m.stream}`, bids: m.data.bids, asks: m.data.asks });
    });
  }
  recordedLines("futures_partial_depth.jsonl").forEach((line, i) => {
    // the last line is an unwrapped depthUpdate
    const m = JSON.parse(line) as { stream?: string; data?: unknown };
    const data = (m.data ?? m) as { b: [string, string][]; a: [string, string][] };
    out.push({ name: `futures#${i} ${m.stream ?? "raw"}`, bids: data.b, asks: data.a });
  });
  for (const file of ["rest_depth.json", "rest_depth_futures.json"] as const) {
    const m = recordedJson(file) as { bids: [string, string][]; asks: [string, string][] };
    out.push({ name: file, bids: m.bids, asks: m.asks });
  }
  return out;
}

Deno.test("slippage of every recorded frame at 1e3…1e15 matches the exact reference", () => {
  const books = recordedBooks();
  assert.ok(books.length >= 20, `recorded books: ${books.length}`);
  let worst = NONE;
  for (const book of books) worst = worstOf(worst, checkBook(book, 20));
  // the REST snapshots again with the largest --levels
  for (const book of books.filter((b) => b.name.startsWith("rest_"))) {
    worst = worstOf(worst, checkBook(book, 100));
  }
  console.log("worst error, in units of u = 2^-53:", inUlps(worst));
});

Deno.test("the issue's cases: flmusdt frame 0 fills exactly 25479.099176 at every notional", () => {
  const book = recordedBooks().find((b) => b.name.includes("flmusdt"))!;
  const layout = new BookSlotLayout(20);
  const f64 = new Float64Array(layout.slotWords);
  const num = ([p, s]: [string, string]) => [Number(p), Number(s)] as const;
  writeBook(f64, 0, layout, { bids: book.bids.map(num), asks: book.asks.map(num) });
  for (const notionals of NOTIONAL_SETS) {
    const frameLayout = new FrameSlotLayout({ levels: 20, notionals });
    const out = new Float64Array(frameLayout.slotWords);
    writeTopOfBook(f64, 0, layout, out, 0);
    writeSlippage(f64, 0, layout, out, 0, frameLayout, new BookWalk());
    for (let i = 0; i < notionals.length; i++) {
      if (notionals[i] < 1e5) continue;
      // the visible asks hold 25479.099176 quote; the float sum lands on its nearest double
      assert.equal(out[frameLayout.slippageBuyFilled(i)], 25479.099176, `at ${notionals[i]}`);
    }
  }
});

/** A generated side: `count` levels from `top`, `tick` apart, in the walk's order. */
function side(
  top: bigint,
  tick: bigint,
  sizes: bigint[],
  priceScale: number,
  sizeScale: number,
  dir: 1n | -1n,
): [string, string][] {
  const str = (v: bigint, scale: number) => {
    const s = v.toString().padStart(scale + 1, "0");
    return scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  };
  return sizes.map((s, i) => [str(top + dir * BigInt(i) * tick, priceScale), str(s, sizeScale)]);
}

Deno.test("slippage of generated books at 1e3…1e15 matches the exact reference", () => {
  let worst = NONE;
  const arb = fc.record({
    priceScale: fc.integer({ min: 0, max: 8 }),
    sizeScale: fc.integer({ min: 0, max: 8 }),
    // the best bid in units of 10^-priceScale, up to 1e13 units
    bid: fc.bigInt({ min: 1_000n, max: 10_000_000_000_000n }),
    tick: fc.bigInt({ min: 1n, max: 1000n }),
    spread: fc.bigInt({ min: 1n, max: 1000n }),
    bidSizes: fc.array(fc.bigInt({ min: 1n, max: 100_000_000_000_000n }), {
      minLength: 1,
      maxLength: 100,
    }),
    askSizes: fc.array(fc.bigInt({ min: 1n, max: 100_000_000_000_000n }), {
      minLength: 1,
      maxLength: 100,
    }),
  }).filter((g) => g.bid - g.tick * BigInt(g.bidSizes.length) > 0n);
  fc.assert(
    fc.property(arb, (g) => {
      const book: DecimalBook = {
        name: `generated ${JSON.stringify(g, (_, v) => typeof v === "bigint" ? `${v}` : v)}`,
        bids: side(g.bid, g.tick, g.bidSizes, g.priceScale, g.sizeScale, -1n),
        asks: side(g.bid + g.spread, g.tick, g.askSizes, g.priceScale, g.sizeScale, 1n),
      };
      worst = worstOf(worst, checkBook(book, 100));
    }),
    { numRuns: 300 },
  );
  console.log("worst error, in units of u = 2^-53:", inUlps(worst));
});

/**
 * Runs writeSlippage `frames` times in a child whose young generation is big
 * enough that no GC runs meanwhile; returns how much its heap grew. (Counting
 * `--trace-gc` lines between two console.log marks does not work: V8 buffers
 * its trace output, so the lines arrive after the marks.)
 */
async function heapGrowthDuringSlippage(
  allocatePerFrame: boolean,
  frames: number,
): Promise<number> {
  const url = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
  const script = `
    import { BookSlotLayout, BOOK_ASK_COUNT, BOOK_BID_COUNT } from ${
    url("../lib/pipeline/book_slot.ts")
  };
    import { FrameSlotLayout } from ${url("../lib/pipeline/frame_slot.ts")};
    import { writeTopOfBook } from ${url("../lib/analytics/mid_spread.ts")};
    import { BookWalk, writeSlippage } from ${url("../lib/analytics/slippage.ts")};
    const layout = new BookSlotLayout(20);
    const f64 = new Float64Array(layout.slotWords);
    for (let i = 0; i < 20; i++) {
      f64[layout.bidPrice(i)] = 100 - 0.01 * (i + 1); f64[layout.bidSize(i)] = 1.5 + i;
      f64[layout.askPrice(i)] = 100 + 0.01 * (i + 1); f64[layout.askSize(i)] = 2.5 + i;
    }
    f64[BOOK_BID_COUNT] = 20; f64[BOOK_ASK_COUNT] = 20;
    const frameLayout = new FrameSlotLayout({ levels: 20, notionals: [1e3, 1e5, 1e7, 1e9, 1e11, 1e13, 1e15] });
    const out = new Float64Array(frameLayout.slotWords);
    const walk = new BookWalk();
    let flags = 0; const keep = new Array(1024).fill(null);
    const loop = (n) => {
      for (let r = 0; r < n; r++) {
        f64[layout.askSize(r % 20)] += 1e-3;
        writeTopOfBook(f64, 0, layout, out, 0);
        flags |= writeSlippage(f64, 0, layout, out, 0, frameLayout, walk);
        ${allocatePerFrame ? "keep[r & 1023] = { r };" : ""}
      }
    };
    loop(20000);
    const before = Deno.memoryUsage().heapUsed;
    loop(${frames});
    const after = Deno.memoryUsage().heapUsed;
    console.log(JSON.stringify({ grown: after - before, flags: flags !== 0 }));
  `;
  const file = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      // Synchronous optimisation: the warm-up always ends in optimised code, however
      // busy the machine (with concurrent compilation a slow compile could leave
      // the measured loop in the interpreter, whose doubles are boxed); a 64 MiB
      // young generation holds every object the control allocates, without a GC.
      args: [
        "run",
        "--allow-read",
        "--v8-flags=--no-concurrent-recompilation,--no-concurrent-osr,--min-semi-space-size=64,--max-semi-space-size=64",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const result = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.equal(result.flags, true);
    return result.grown;
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("slippage allocates nothing per frame (heap flat over 300,000 frames × 7 notionals × 2 sides)", async () => {
  const frames = 300_000;
  const grown = await heapGrowthDuringSlippage(false, frames);
  assert.ok(
    grown < 64 * 1024,
    `heap grew ${grown} B over ${frames} frames: an allocation per frame`,
  );
  // Control: one small object per frame shows (≥ 16 B each), so the probe would notice.
  assert.ok(await heapGrowthDuringSlippage(true, frames) > frames * 8);
});
