/**
 * The liquidity heatmap's pure parts: the column ring, the price → row
 * mapping and its refit (re-centre) rule, the colour scale, the column
 * drawing (one-sided and empty books included) and the painter's choice
 * between incremental and full redraws (on a recording 2D context).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { HeatmapRing, type LadderSource } from "../lib/client/heatmap_ring.ts";
import {
  ASK_LINE,
  BID_LINE,
  HEAT_BACKGROUND,
  HEAT_PALETTE,
  SizeScale,
} from "../lib/client/heatmap_scale.ts";
import {
  axisTicks,
  fitView,
  PriceView,
  RECENTRE_FRACTION,
  refitReason,
} from "../lib/client/heatmap_view.ts";
import { accumulateColumn, columnTick, drawColumn } from "../lib/client/heatmap_column.ts";
import { HeatmapPainter } from "../lib/client/heatmap_painter.ts";
import { DashboardStore } from "../lib/client/dashboard_store.ts";
import { buildSeed } from "../lib/client/dashboard_seed.ts";
import { type DashFrame, emptyDashFrame } from "../lib/client/dash_frame.ts";
import { HeatmapFeed } from "../lib/client/heatmap_feed.ts";

/** A ladder of `n` levels per side around `mid`, tick `tick`, sizes from `size(i)`. */
function ladder(
  mid: number,
  n: number,
  tick = 0.5,
  size = (i: number) => 1 + i,
  time = 0,
): LadderSource {
  const bidPrices: number[] = [];
  const askPrices: number[] = [];
  const bidSizes: number[] = [];
  const askSizes: number[] = [];
  for (let i = 0; i < n; i++) {
    bidPrices.push(mid - tick / 2 - i * tick);
    askPrices.push(mid + tick / 2 + i * tick);
    bidSizes.push(size(i));
    askSizes.push(size(i));
  }
  return { time, bidPrices, bidSizes, askPrices, askSizes };
}

const EMPTY: LadderSource = { time: 0, bidPrices: [], bidSizes: [], askPrices: [], askSizes: [] };

Deno.test("HeatmapRing keeps the newest `capacity` columns, oldest first, across wrap-around", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })), {
        maxLength: 40,
      }),
      (capacity, levels, shapes) => {
        const ring = new HeatmapRing({ capacity, levels });
        shapes.forEach(([nb, na], t) => {
          const f = ladder(1000 + t, Math.max(nb, na), 1, (i) => t * 10 + i + 1, t);
          f.bidPrices = (f.bidPrices as number[]).slice(0, nb);
          f.askPrices = (f.askPrices as number[]).slice(0, na);
          ring.push(f);
        });
        const kept = shapes.slice(Math.max(0, shapes.length - capacity));
        assert.equal(ring.size, kept.length);
        assert.equal(ring.pushed, shapes.length);
        kept.forEach(([nb, na], k) => {
          const t = shapes.length - kept.length + k;
          const s = ring.slot(k);
          assert.equal(ring.time[s], t);
          assert.equal(ring.bidCount[s], Math.min(nb, levels), "bids truncated to `levels`");
          assert.equal(ring.askCount[s], Math.min(na, levels));
          const base = s * 2 * levels;
          for (let i = 0; i < ring.bidCount[s]; i++) {
            assert.equal(ring.prices[base + i], 1000 + t - 0.5 - i);
            assert.equal(ring.sizes[base + i], t * 10 + i + 1);
          }
          for (let i = 0; i < ring.askCount[s]; i++) {
            assert.equal(ring.prices[base + levels + i], 1000 + t + 0.5 + i);
          }
          assert.equal(ring.bestBid[s], nb > 0 ? 1000 + t - 0.5 : NaN);
          assert.equal(ring.bestAsk[s], na > 0 ? 1000 + t + 0.5 : NaN);
        });
        assert.equal(ring.newest, shapes.length === 0 ? -1 : ring.slot(ring.size - 1));
      },
    ),
  );
});

Deno.test("HeatmapRing: levels without a positive size or a finite price are not stored; clear empties", () => {
  const ring = new HeatmapRing({ capacity: 3, levels: 4 });
  ring.push({
    time: 1,
    bidPrices: [10, NaN, 9, 8],
    bidSizes: [0, 5, 2, -1],
    askPrices: [11, Infinity],
    askSizes: [3, 3],
  });
  const s = ring.newest;
  assert.equal(ring.bidCount[s], 1);
  assert.equal(ring.bestBid[s], 9);
  assert.equal(ring.askCount[s], 1);
  ring.clear();
  assert.equal(ring.size, 0);
  assert.equal(ring.newest, -1);
  assert.throws(() => new HeatmapRing({ capacity: 0 }), /capacity must be an integer from 1/);
  assert.throws(() => new HeatmapRing({ levels: 1.5 }), /levels must be an integer from 1/);
});

Deno.test("one-sided and empty books: reference, extent, refit, fit", () => {
  const ring = new HeatmapRing({ capacity: 4, levels: 3 });
  const view = new PriceView();
  view.rows = 100;
  ring.push(EMPTY);
  assert.ok(Number.isNaN(ring.reference(ring.newest)));
  assert.equal(ring.extent(ring.newest, 100), 0);
  assert.equal(refitReason(ring, view), "none", "an empty book gives nothing to centre on");
  assert.equal(fitView(ring, view, 4), false);
  assert.equal(view.valid, false);

  const bidsOnly = ladder(100, 3, 1);
  bidsOnly.askPrices = [];
  ring.push(bidsOnly);
  assert.equal(ring.reference(ring.newest), 99.5, "a bid-only book centres on its best bid");
  assert.equal(refitReason(ring, view), "unset");
  assert.ok(fitView(ring, view, 4));
  assert.equal(view.centre, 99.5);
  assert.equal(refitReason(ring, view), "none");

  const asksOnly = ladder(100, 1, 1);
  asksOnly.bidPrices = [];
  ring.push(asksOnly);
  assert.equal(ring.reference(ring.newest), 100.5);
  view.reset();
  assert.ok(fitView(ring, view, 1));
  assert.ok(view.span > 0, "one level: a 1 bp view, not a zero span");
  assert.equal(refitReason(ring, view), "none");

  ring.push(EMPTY); // an empty book after data keeps the view
  assert.equal(refitReason(ring, view), "none");
});

Deno.test("PriceView: rows fall as prices rise; each price lies in its row's band", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
      fc.double({ min: 1e-6, max: 0.5, noNaN: true }),
      fc.integer({ min: 1, max: 4000 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 20 }),
      (centre, relSpan, rows, fractions) => {
        const view = new PriceView();
        const span = centre * relSpan;
        view.set(centre, span, rows);
        assert.equal(view.rowOf(view.high), 0);
        const prices = fractions.map((f) => view.low + f * span).sort((a, b) => a - b);
        for (let i = 1; i < prices.length; i++) {
          assert.ok(view.rowOf(prices[i]) <= view.rowOf(prices[i - 1]), "monotone");
        }
        for (const p of prices) {
          const r = view.rowOf(p);
          assert.ok(r >= 0 && r <= rows, `row ${r} within 0..${rows}`);
          const eps = span * 1e-9;
          assert.ok(view.priceAt(r) >= p - eps && view.priceAt(r + 1) <= p + eps);
        }
      },
    ),
  );
});

Deno.test("re-centre rule: none right after a fit; off-centre exactly past the middle 60 %", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1, max: 1e5, noNaN: true }),
      fc.integer({ min: 1, max: 30 }),
      fc.array(fc.double({ min: -0.01, max: 0.01, noNaN: true }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 10, max: 2000 }),
      (mid, levels, moves, rows) => {
        const tick = mid * 1e-4;
        const ring = new HeatmapRing({ capacity: 32, levels });
        for (const m of moves) ring.push(ladder(mid * (1 + m), levels, tick));
        const view = new PriceView();
        view.rows = rows;
        assert.ok(fitView(ring, view, 32));
        assert.equal(refitReason(ring, view), "none", "a fit never asks for another");
        const ref = ring.reference(ring.newest);
        assert.ok(Math.abs(ref - view.centre) < 1e-9 * mid);
        // Move the view's centre so the mid sits just inside / outside the middle 60 %.
        const span = view.span;
        view.set(ref - RECENTRE_FRACTION * span * 0.99, span, rows);
        assert.notEqual(refitReason(ring, view), "off-centre");
        view.set(ref - RECENTRE_FRACTION * span * 1.01, span, rows);
        assert.equal(refitReason(ring, view), "off-centre");
      },
    ),
  );
});

Deno.test("re-centre rule: a ladder that outgrows or shrinks in the view refits", () => {
  const ring = new HeatmapRing({ capacity: 4, levels: 40 });
  ring.push(ladder(100, 10, 0.1)); // extent 1
  const view = new PriceView();
  view.rows = 100;
  fitView(ring, view, 4);
  ring.push(ladder(100, 40, 0.1)); // extent 4 > span / 2
  assert.equal(refitReason(ring, view), "overflow");
  fitView(ring, view, 4);
  view.set(view.centre, 400, 100);
  assert.equal(refitReason(ring, view), "shrunk");
});

Deno.test("axisTicks: round steps, highest first, inside the range", () => {
  const out = new Float64Array(8);
  const n = axisTicks(59_981.2, 59_983.1, 5, out);
  const ticks = [...out.subarray(0, n)];
  assert.deepEqual(ticks, [59_983, 59_982.5, 59_982, 59_981.5]);
  assert.equal(axisTicks(5, 5, 5, out), 0, "an empty range has no ticks");
});

/** Relative luminance (sRGB weights on the packed bytes; monotone is all that matters). */
function luma(packed: number): number {
  return 0.2126 * (packed & 255) + 0.7152 * ((packed >>> 8) & 255) +
    0.0722 * ((packed >>> 16) & 255);
}

Deno.test("colour scale: lightness rises with size; lines and background are not heat colours", () => {
  for (let i = 1; i < 256; i++) {
    assert.ok(luma(HEAT_PALETTE[i]) >= luma(HEAT_PALETTE[i - 1]) - 0.5, `lightness at ${i}`);
  }
  assert.ok(luma(HEAT_PALETTE[255]) > 4 * luma(HEAT_PALETTE[0]));
  for (const c of [BID_LINE, ASK_LINE, HEAT_BACKGROUND]) {
    assert.ok(!HEAT_PALETTE.includes(c), `${c.toString(16)} is not a heat colour`);
  }
  const scale = new SizeScale({ decades: 3 });
  scale.cap = 1000;
  assert.equal(scale.index(0), -1);
  assert.equal(scale.index(NaN), -1);
  assert.equal(scale.index(1), 0);
  assert.equal(scale.index(0.001), 0, "below the range: the bottom colour");
  assert.equal(scale.index(1000), 255);
  assert.equal(scale.index(1e9), 255, "walls saturate at the cap");
  assert.equal(scale.index(Math.sqrt(1000)), 128, "log: the geometric middle is mid-scale");
  fc.assert(
    fc.property(
      fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
      fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
      (a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        assert.ok(scale.index(lo) <= scale.index(hi));
      },
    ),
  );
});

Deno.test("colour scale: the cap is the ring's percentile within one histogram bin (19 %)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }),
      fc.double({ min: 0.05, max: 1, noNaN: true }),
      (sizes, p) => {
        const ring = new HeatmapRing({ capacity: 8, levels: 8 });
        for (let i = 0; i < sizes.length; i += 8) {
          const chunk = sizes.slice(i, i + 8);
          ring.push({
            time: i,
            bidPrices: chunk.map((_, k) => 100 - k),
            bidSizes: chunk,
            askPrices: [],
            askSizes: [],
          });
        }
        const stored: number[] = [];
        for (let k = 0; k < ring.size; k++) {
          const s = ring.slot(k);
          for (let i = 0; i < ring.bidCount[s]; i++) stored.push(ring.sizes[s * 16 + i]);
        }
        stored.sort((x, y) => x - y);
        const exact = stored[Math.ceil(p * stored.length) - 1];
        const scale = new SizeScale({ percentile: p });
        const cap = scale.fit(ring);
        assert.ok(cap >= exact && cap <= exact * 2 ** 0.25 * (1 + 1e-9), `${cap} vs ${exact}`);
      },
    ),
  );
  const empty = new SizeScale();
  assert.ok(Number.isNaN(empty.fit(new HeatmapRing())), "no sizes: no cap");
  assert.throws(() => new SizeScale({ percentile: 0 }), /percentile must be in \(0, 1\]/);
});

Deno.test("columns: sizes add up per row; tick bands; empty and one-sided books", () => {
  // Fine levels (many per row): every size lands in exactly one row.
  const ring = new HeatmapRing({ capacity: 2, levels: 50 });
  ring.push(ladder(100, 50, 0.001, (i) => i + 1));
  const view = new PriceView();
  view.set(100, 1, 10);
  const acc = new Float32Array(10);
  accumulateColumn(ring, ring.newest, view, acc);
  const total = 2 * (50 * 51) / 2;
  assert.equal(acc.reduce((a, b) => a + b, 0), total);
  assert.ok(Math.abs(columnTick(ring, ring.newest) - 0.001) < 1e-9, "tick from the level gaps");

  // Coarse levels: each covers its band of rows.
  const coarse = new HeatmapRing({ capacity: 1, levels: 2 });
  coarse.push(ladder(100, 2, 1, () => 7));
  view.set(100, 4, 40); // 10 rows per price unit
  const acc40 = new Float32Array(40);
  accumulateColumn(coarse, coarse.newest, view, acc40);
  assert.equal(acc40.filter((v) => v === 7).length, 40, "4 levels × 10 rows each");

  const out = { pixels: new Uint32Array(3 * 40), width: 3, height: 40 };
  const place = { x: 1, width: 2, lineWidth: 1 };
  const scale = new SizeScale();
  const one = new HeatmapRing({ capacity: 3, levels: 2 });
  one.push(EMPTY);
  drawColumn(one, one.newest, -1, view, scale, acc40, out, place);
  for (let r = 0; r < 40; r++) {
    assert.equal(out.pixels[r * 3], 0, "x = 0 untouched");
    assert.equal(out.pixels[r * 3 + 1], HEAT_BACKGROUND, "an empty book is background");
  }
  const bids = ladder(100, 2, 1);
  bids.askPrices = [];
  one.push(bids);
  drawColumn(one, one.newest, one.slot(0), view, scale, acc40, out, place);
  assert.ok(out.pixels.includes(BID_LINE), "the bid line is drawn");
  assert.ok(!out.pixels.includes(ASK_LINE), "no ask line for a bid-only book");
  assert.equal(out.pixels[view.rowOf(99.5) * 3 + 2], BID_LINE);
});

Deno.test("columns: the step line joins the previous column's best price", () => {
  const ring = new HeatmapRing({ capacity: 2, levels: 1 });
  ring.push({ time: 0, bidPrices: [99], bidSizes: [1], askPrices: [], askSizes: [] });
  ring.push({ time: 1, bidPrices: [97], bidSizes: [1], askPrices: [], askSizes: [] });
  const view = new PriceView();
  view.set(98, 4, 4); // rows: 100..99, 99..98, 98..97, 97..96
  const out = { pixels: new Uint32Array(4 * 2), width: 2, height: 4 };
  drawColumn(ring, ring.slot(1), ring.slot(0), view, new SizeScale(), new Float32Array(4), out, {
    x: 0,
    width: 2,
    lineWidth: 1,
  });
  // Rows 1 (99) down to 3 (97) in the first pixel column: the vertical join.
  assert.deepEqual([0, 1, 2, 3].map((r) => out.pixels[r * 2] === BID_LINE), [
    false,
    true,
    true,
    true,
  ]);
  assert.equal(out.pixels[3 * 2 + 1], BID_LINE, "the horizontal run at the new best bid");
});

interface Call {
  op: "drawImage" | "putImageData";
  args: number[];
}

/** A canvas whose 2D context records the painter's calls. */
function recordingCanvas(): { canvas: HTMLCanvasElement; calls: Call[] } {
  const calls: Call[] = [];
  const ctx = {
    drawImage: (_img: unknown, ...args: number[]) => calls.push({ op: "drawImage", args }),
    putImageData: (_d: unknown, ...args: number[]) => calls.push({ op: "putImageData", args }),
  };
  const canvas = { width: 0, height: 0, getContext: () => ctx } as unknown as HTMLCanvasElement;
  return { canvas, calls };
}

Deno.test("painter: first paint full, then only new columns blitted; full on resize, reset, re-centre", () => {
  const { canvas, calls } = recordingCanvas();
  const ring = new HeatmapRing({ capacity: 100, levels: 5 });
  const painter = new HeatmapPainter(canvas, ring);
  assert.equal(painter.paint(), "none", "no size yet");
  painter.resize(150, 50, 2); // 300 × 100 device px: columns 3 px wide, 100 visible
  assert.equal(canvas.width, 300);
  assert.equal(canvas.height, 100);
  assert.equal(painter.columnWidth, 3);
  assert.equal(painter.visibleColumns, 100);

  ring.push(ladder(100, 5, 0.01));
  assert.equal(painter.paint(), "full");
  assert.equal(painter.paint(), "none", "nothing new: no paint");
  calls.length = 0;
  ring.push(ladder(100, 5, 0.01));
  ring.push(ladder(100, 5, 0.01));
  assert.equal(painter.paint(), "columns");
  assert.deepEqual(calls, [
    { op: "drawImage", args: [6, 0, 294, 100, 0, 0, 294, 100] },
    { op: "putImageData", args: [0, 0, 294, 0, 6, 100] },
  ], "scroll by two columns, then put only their strip");

  // The mid walks out of the middle 60 %: one full redraw, re-centred.
  const span = painter.view.span;
  ring.push(ladder(100 + 0.31 * span, 5, 0.01));
  assert.equal(painter.paint(), "full");
  assert.equal(painter.view.centre, 100 + 0.31 * span);

  painter.resize(150, 50, 1); // DPR change
  assert.equal(canvas.width, 150);
  assert.equal(painter.paint(), "full");

  ring.clear(); // a symbol switch or a resync
  painter.invalidate(true);
  assert.equal(painter.view.valid, false);
  assert.equal(painter.paint(), "full");
  ring.push(ladder(3000, 5, 0.01));
  assert.equal(painter.paint(), "full", "the new symbol's first column fits a new view");
  assert.equal(painter.view.centre, 3000);

  // More new columns than fit: one full redraw instead of a blit.
  for (let i = 0; i < 120; i++) ring.push(ladder(3000, 5, 0.01));
  assert.equal(painter.paint(), "full");
  assert.deepEqual(painter.counts, { paints: 7, full: 6 }, "one incremental paint of seven");
});

Deno.test("painter: the size cap is re-estimated every quarter screen; a 2× move redraws", () => {
  const { canvas } = recordingCanvas();
  const ring = new HeatmapRing({ capacity: 40, levels: 5 });
  const painter = new HeatmapPainter(canvas, ring);
  painter.resize(40, 20, 1); // 40 columns of 1 px
  ring.push(ladder(100, 5, 0.01, () => 1));
  assert.equal(painter.paint(), "full");
  const cap = painter.scale.cap;
  for (let i = 0; i < 10; i++) ring.push(ladder(100, 5, 0.01, () => 1.1));
  assert.equal(painter.paint(), "columns", "sizes within 2×: the cap and the canvas stay");
  assert.equal(painter.scale.cap, cap);
  for (let i = 0; i < 10; i++) ring.push(ladder(100, 5, 0.01, () => 50));
  assert.equal(painter.paint(), "full", "sizes 50× larger: a new cap, a full redraw");
  assert.ok(painter.scale.cap > 2 * cap);
});

Deno.test("store: onFrame sees every ingested frame, onHistory every replaced history", () => {
  const store = new DashboardStore(
    buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }),
    { scheduler: { requestFrame: () => 1, cancelFrame: () => {} } },
  );
  const ring = new HeatmapRing({ capacity: 10, levels: 2 });
  const histories: string[] = [];
  const off = store.onFrame((f) => ring.push(f));
  const offH = store.onHistory((s) => histories.push(s));
  const f = emptyDashFrame("BTCUSDT");
  for (let i = 0; i < 3; i++) {
    f.time = i;
    f.bidPrices = [100 - i];
    f.bidSizes = [1];
    store.ingest(f); // three frames before any render: each one recorded
  }
  assert.equal(ring.size, 3);
  assert.deepEqual([0, 1, 2].map((k) => ring.bestBid[ring.slot(k)]), [100, 99, 98]);
  store.replaceHistory("BTCUSDT", [f], "e1", true);
  assert.deepEqual(histories, ["BTCUSDT"]);
  off();
  offH();
  store.ingest(f);
  store.replaceHistory("BTCUSDT", [], "e2");
  assert.equal(ring.size, 3, "unsubscribed");
  assert.deepEqual(histories, ["BTCUSDT"]);
  store.close();
});

/** A canvas whose 2D context keeps real pixels (self-blits and puts), to compare paints. */
function pixelCanvas(): { canvas: HTMLCanvasElement; screen: () => Uint32Array } {
  let screen = new Uint32Array(0);
  const canvas = { width: 0, height: 0 } as { width: number; height: number };
  const sized = () => {
    if (screen.length !== canvas.width * canvas.height) {
      screen = new Uint32Array(canvas.width * canvas.height);
    }
  };
  const ctx = {
    putImageData(img: ImageData, dx: number, dy: number, x0 = 0, y0 = 0, w?: number, h?: number) {
      sized();
      const src = new Uint32Array(img.data.buffer);
      const W = w ?? img.width;
      const H = h ?? img.height;
      for (let y = y0; y < y0 + H; y++) {
        for (let x = x0; x < x0 + W; x++) {
          screen[(dy + y) * canvas.width + dx + x] = src[y * img.width + x];
        }
      }
    },
    drawImage(
      _src: unknown,
      sx: number,
      sy: number,
      sw: number,
      sh: number,
      dx: number,
      dy: number,
    ) {
      sized();
      const copy = screen.slice();
      for (let y = 0; y < sh; y++) {
        for (let x = 0; x < sw; x++) {
          screen[(dy + y) * canvas.width + dx + x] = copy[(sy + y) * canvas.width + sx + x];
        }
      }
    },
  };
  Object.assign(canvas, { getContext: () => ctx });
  return { canvas: canvas as unknown as HTMLCanvasElement, screen: () => screen };
}

for (const scroll of ["canvas", "buffer"] as const) {
  Deno.test(`painter (${scroll} scroll): incremental paints show what a full redraw shows`, () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 6 }), // frames before the next paint
            fc.integer({ min: -3, max: 3 }), // mid step in ticks
            fc.integer({ min: 0, max: 5 }), // bid levels
            fc.integer({ min: 0, max: 5 }), // ask levels
          ),
          { minLength: 1, maxLength: 25 },
        ),
        (steps) => {
          const ring = new HeatmapRing({ capacity: 24, levels: 5 });
          const a = pixelCanvas();
          const live = new HeatmapPainter(a.canvas, ring, { scroll });
          live.resize(37, 30, 1); // 2-px columns, 18 visible, a 1-px margin
          let mid = 100;
          for (const [frames, step, nb, na] of steps) {
            for (let i = 0; i < frames; i++) {
              mid += step * 0.01;
              const f = ladder(mid, 5, 0.01, () => 1);
              f.bidPrices = (f.bidPrices as number[]).slice(0, nb);
              f.askPrices = (f.askPrices as number[]).slice(0, na);
              ring.push(f);
            }
            live.paint();
          }
          // A second painter with the same view redraws everything at once.
          const b = pixelCanvas();
          const fresh = new HeatmapPainter(b.canvas, ring);
          fresh.resize(37, 30, 1);
          if (live.view.valid) fresh.view.set(live.view.centre, live.view.span, 30);
          fresh.paint();
          const W = 37;
          const got = a.screen();
          const want = b.screen();
          for (let y = 0; y < 30; y++) {
            for (let x = 1; x < W; x++) { // x = 0 is the margin (not a whole column)
              if (got[y * W + x] !== want[y * W + x]) {
                assert.fail(`pixel (${x}, ${y}) differs after ${ring.pushed} frames`);
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
}

function dash(symbol: string, bid: number, time = 0): DashFrame {
  const f = emptyDashFrame(symbol);
  f.time = time;
  f.bidPrices = [bid];
  f.bidSizes = [1];
  f.askPrices = [bid + 1];
  f.askSizes = [1];
  return f;
}

Deno.test("feed: records the shown symbol's frames; switch and resync clear and seed one column; pause holds paints", () => {
  const store = new DashboardStore(
    buildSeed({
      symbols: ["BTCUSDT", "ETHUSDT"],
      symbol: "BTCUSDT",
      frames: [dash("BTCUSDT", 60_000)],
    }),
    { scheduler: { requestFrame: () => 1, cancelFrame: () => {} } },
  );
  const ring = new HeatmapRing({ capacity: 8, levels: 2 });
  const resets: string[] = [];
  let requests = 0;
  const feed = new HeatmapFeed(store, ring, {
    reset: (s) => resets.push(s),
    request: () => requests++,
  });
  assert.deepEqual(resets, ["BTCUSDT"]);
  assert.equal(ring.size, 1, "seeded with the one ladder the server keeps");
  assert.equal(ring.bestBid[ring.newest], 60_000);

  for (let i = 1; i <= 3; i++) store.ingest(dash("BTCUSDT", 60_000 + i, i));
  store.ingest(dash("ETHUSDT", 2_999)); // not shown: ignored
  assert.equal(ring.size, 4);
  assert.equal(ring.bestBid[ring.newest], 60_003);

  const before = requests;
  store.setPaused(true);
  store.ingest(dash("BTCUSDT", 60_004, 4));
  assert.equal(ring.size, 5, "paused: still recorded");
  assert.equal(requests, before, "paused: no paint asked");
  store.setPaused(false);
  assert.equal(requests, before + 1, "resume asks for a paint");

  // A resync Hello for the shown symbol: clear, then the Hello's newest ladder.
  store.replaceHistory("BTCUSDT", [dash("BTCUSDT", 59_990, 9)], "epoch-2", true);
  assert.deepEqual(resets, ["BTCUSDT", "BTCUSDT"]);
  assert.equal(ring.size, 1);
  assert.equal(ring.bestBid[ring.newest], 59_990);
  store.replaceHistory("ETHUSDT", [dash("ETHUSDT", 3_000)], "epoch-2"); // another symbol's: ignored
  assert.equal(ring.size, 1);

  // A symbol switch: clear, seeded with ETH's newest frame.
  store.select("ETHUSDT");
  assert.equal(feed.symbol, "ETHUSDT");
  assert.deepEqual(resets, ["BTCUSDT", "BTCUSDT", "ETHUSDT"]);
  assert.equal(ring.size, 1);
  assert.equal(ring.bestBid[ring.newest], 3_000);
  store.ingest(dash("BTCUSDT", 60_010));
  assert.equal(ring.size, 1, "the old symbol's frames are ignored after the switch");
  store.ingest(dash("ETHUSDT", 3_001));
  assert.equal(ring.size, 2);

  feed.dispose();
  store.ingest(dash("ETHUSDT", 3_002));
  store.select("BTCUSDT");
  assert.equal(ring.size, 2, "disposed: no more columns or resets");
  assert.equal(resets.length, 3);
  store.close();
});

Deno.test("columns: a spread thinner than a row still shows both lines, ask above bid", () => {
  const ring = new HeatmapRing({ capacity: 1, levels: 1 });
  ring.push({ time: 0, bidPrices: [100], bidSizes: [1], askPrices: [100.001], askSizes: [1] });
  const view = new PriceView();
  view.set(100, 10, 10); // 1 price unit per row: bid and ask in the same row
  const out = { pixels: new Uint32Array(10), width: 1, height: 10 };
  drawColumn(ring, ring.newest, -1, view, new SizeScale(), new Float32Array(10), out, {
    x: 0,
    width: 1,
    lineWidth: 1,
  });
  const bidRow = out.pixels.indexOf(BID_LINE);
  const askRow = out.pixels.indexOf(ASK_LINE);
  assert.ok(bidRow >= 0 && askRow >= 0, "both lines drawn");
  assert.equal(askRow, bidRow - 1, "the ask line right above the bid line");
});
