// The bar store against a plain reference computed from the raw frames
// (tests/fixtures/bar_reference.ts): generated frames with gaps (shorter and
// longer than the rings), one-sided books (NaN mid and spread), NaN OFI,
// reads that roll to a later clock; the quantisation bounds the docs state;
// midAt; and the bytes per symbol.
import assert from "node:assert/strict";
import fc from "fast-check";
import { Analyser } from "../lib/analytics/analyser.ts";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { recordedLines } from "../testing/recorded_data.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { BAR_RESOLUTIONS, type BarResolution, BarStore } from "../lib/server/bar_store.ts";
import {
  bf16Decode,
  bf16Encode,
  imbalanceDecode,
  imbalanceEncode,
  offsetDecode,
  offsetEncode,
} from "../lib/server/bar_quantise.ts";
import {
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import {
  assertMatches,
  BOUNDS,
  generateFrames as generate,
  referenceBars,
  type RefFrame,
  rng,
} from "./fixtures/bar_reference.ts";

const layout = new FrameSlotLayout({ levels: 5 });

function foldAll(store: BarStore, id: number, frames: RefFrame[]): void {
  const f = new Float64Array(layout.slotWords).fill(NaN);
  f[FRAME_SYMBOL_ID] = id;
  for (const x of frames) {
    f[FRAME_RECEIVE_TIME] = x.time;
    f[FRAME_MID] = x.mid;
    f[FRAME_SPREAD_BPS] = x.spreadBps;
    f[FRAME_IMBALANCE_5] = x.imbalance;
    f[FRAME_OFI] = x.ofi;
    assert.ok(store.fold(f, 0));
  }
}

function check(store: BarStore, id: number, frames: RefFrame[], now: number, what: string): void {
  for (const resolution of ["10s", "1m"] as BarResolution[]) {
    const { intervalMs, capacity } = BAR_RESOLUTIONS[resolution];
    const ref = referenceBars(frames, intervalMs, now);
    for (const limit of [capacity, 7]) {
      const series = store.read(id, resolution, limit, now);
      assert.equal(series.intervalMs, intervalMs);
      assertMatches(series, ref, limit, `${what}, ${resolution}, limit ${limit}`);
    }
  }
}

Deno.test("bars match the reference: dense frames with gaps, one-sided books, NaN OFI", () => {
  for (const seed of [1, 2, 3]) {
    // ~100 ms apart for ~2 h, gaps up to 90 min (longer than many 10 s bars, not than the hour).
    const frames = generate(seed, 60_000, 100, 90 * 60_000);
    const store = new BarStore({ symbols: 3 });
    let done = 0;
    for (const upTo of [500, 20_000, frames.length]) {
      foldAll(store, 1, frames.slice(done, upTo));
      done = upTo;
      const seen = frames.slice(0, upTo);
      const last = seen[seen.length - 1].time;
      for (const later of [0, 35_000, 3 * 3_600_000]) {
        check(store, 1, seen, last + later, `seed ${seed}, ${upTo} frames, now +${later} ms`);
      }
    }
    assert.equal(store.folded(1), frames.length);
    assert.equal(store.read(0, "10s", 360).time.length, 0, "a symbol without frames has no bars");
  }
});

Deno.test("bars match the reference: sparse frames over 30 hours wrap both rings", () => {
  // One frame every ~15 s, gaps up to 5 h: the 1 m ring (24 h) and the 10 s ring (1 h) wrap.
  const frames = generate(7, 7_000, 15_000, 5 * 3_600_000);
  const store = new BarStore({ symbols: 1 });
  foldAll(store, 0, frames);
  const last = frames[frames.length - 1].time;
  assert.ok(last - frames[0].time > 30 * 3_600_000, "the frames span more than a day");
  for (const later of [0, 59_000, 26 * 3_600_000]) {
    check(store, 0, frames, last + later, `sparse, now +${later} ms`);
  }
});

Deno.test("midAt is the close of the latest 10 s bar ending at or before the time", () => {
  const frames = generate(11, 20_000, 100, 20 * 60_000);
  const store = new BarStore({ symbols: 1 });
  foldAll(store, 0, frames);
  const last = frames[frames.length - 1].time;
  const ref = referenceBars(frames, 10_000, last);
  const byIndex = new Map(ref.map((b) => [b.time / 10_000, b]));
  const lastIndex = Math.floor(last / 10_000);
  const r = rng(5);
  for (let k = 0; k < 500; k++) {
    const t = last - Math.floor(r() * 2 * 3_600_000) + 60_000;
    const b = Math.floor(t / 10_000) - 1;
    const want = b >= lastIndex
      ? ref[ref.length - 1].close // after the open bar: the newest mid
      : b <= lastIndex - 1 - 360 || !byIndex.has(b)
      ? NaN // older than the hour kept, or before the first bar
      : byIndex.get(b)!.close;
    const got = store.midAt(0, t);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `midAt(${t}) = ${got}, expected NaN`);
    else assert.ok(Math.abs(got - want) <= want * BOUNDS.close, `midAt(${t}) = ${got} vs ${want}`);
  }
  assert.ok(Number.isNaN(store.midAt(5, last)), "an unknown id");
});

Deno.test("a frame received before the open bar goes into it, counted late; a bad id is refused", () => {
  const store = new BarStore({ symbols: 1 });
  const f = new Float64Array(layout.slotWords).fill(NaN);
  f[FRAME_SYMBOL_ID] = 0;
  f[FRAME_RECEIVE_TIME] = 1_000_000_015_000;
  f[FRAME_MID] = 10;
  store.fold(f, 0);
  f[FRAME_RECEIVE_TIME] = 1_000_000_005_000;
  f[FRAME_MID] = 12;
  store.fold(f, 0);
  assert.equal(store.late, 1);
  const s = store.read(0, "10s", 1, 1_000_000_015_000);
  assert.deepEqual([s.low[0], s.high[0], s.close[0]], [10, 12, 12]);
  f[FRAME_SYMBOL_ID] = 1;
  assert.equal(store.fold(f, 0), false);
  assert.equal(store.rejected, 1);
  assert.equal(store.folded(0), 2);
  assert.throws(() => store.read(0, "10s", 361), /from 1 to 360/);
  assert.throws(() => store.read(0, "1m", 0), /from 1 to 1440/);
});

Deno.test("quantisation stays within the stated bounds", () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, min: -1e30, max: 1e30 }), (x) => {
      const d = bf16Decode(bf16Encode(x));
      if (Math.abs(x) < 1.2e-38) return Math.abs(d - x) <= 1.2e-38;
      return Math.abs(d - x) <= Math.abs(x) * 2 ** -8;
    }),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(
      fc.double({ noNaN: true, min: 1e-6, max: 1e7 }),
      fc.double({ noNaN: true, min: 0, max: 0.6 }),
      (close, rel) => {
        const c = Math.fround(close);
        const high = c * (1 + rel);
        const low = c * (1 - rel);
        const h = offsetDecode(offsetEncode(high, c), c, 1);
        const l = offsetDecode(offsetEncode(low, c), c, -1);
        return Math.abs(h - high) <= c * BOUNDS.highLow && Math.abs(l - low) <= c * BOUNDS.highLow;
      },
    ),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(fc.double({ noNaN: true, min: -1, max: 1 }), (x) => {
      return Math.abs(imbalanceDecode(imbalanceEncode(x, true)) - x) <= BOUNDS.imbalance;
    }),
    { numRuns: 20_000 },
  );
  // Saturation and the reserved codes.
  assert.equal(offsetDecode(offsetEncode(200, 100), 100, 1), 100 * (1 + 0.65534));
  assert.ok(Number.isNaN(offsetDecode(offsetEncode(NaN, 100), 100, 1)));
  assert.ok(Number.isNaN(bf16Decode(bf16Encode(NaN))));
  assert.ok(Number.isNaN(imbalanceDecode(imbalanceEncode(NaN, true))));
  assert.ok(Number.isNaN(imbalanceDecode(imbalanceEncode(0.5, false))));
  assert.notEqual(imbalanceEncode(NaN, true), imbalanceEncode(NaN, false));
});

Deno.test("memory: the bars of one symbol fit in 25 KB", () => {
  const symbols = 2000;
  const store = new BarStore({ symbols });
  const perSymbol = store.byteLength / symbols;
  console.log(`bar store: ${perSymbol} bytes per symbol (typed arrays / ${symbols} symbols)`);
  assert.equal(perSymbol, (360 + 1440) * 13 + 2 * 12 * 8 + 2 * 8 + 8 + 8);
  assert.ok(perSymbol <= 25_000, `${perSymbol} B per symbol, budget 25,000 B`);
});

Deno.test("bars of the recorded Binance depth20 frames match the reference", () => {
  // The real frames, analysed by the real analyser, received 4.3 s apart: bars of 2 or 3
  // frames, and minutes. Real mids, spreads, imbalances and OFI (NaN on each symbol's first).
  const lines = recordedLines("spot_depth20.jsonl").map((l) =>
    JSON.parse(l) as {
      stream: string;
      data: { lastUpdateId: number; bids: [string, string][]; asks: [string, string][] };
    }
  );
  const bookLayout = new BookSlotLayout(20);
  const frameLayout = new FrameSlotLayout({ levels: 20 });
  const names = [...new Set(lines.map((l) => l.stream.split("@")[0]))];
  const analyser = new Analyser({ symbols: names.length, bookLayout, frameLayout });
  const book = new Float64Array(bookLayout.slotWords);
  const out = new Float64Array(frameLayout.slotWords);
  const store = new BarStore({ symbols: names.length });
  const frames: RefFrame[][] = names.map(() => []);
  const t0 = 1_700_000_003_000;
  lines.forEach((msg, i) => {
    const id = names.indexOf(msg.stream.split("@")[0]);
    const time = t0 + 4_300 * i;
    writeBook(book, 0, bookLayout, {
      symbolId: id,
      lastUpdateId: msg.data.lastUpdateId,
      receiveTime: time,
      bids: msg.data.bids.map(([p, q]) => [Number(p), Number(q)]),
      asks: msg.data.asks.map(([p, q]) => [Number(p), Number(q)]),
    });
    analyser.analyse(book, 0, out, 0, time + 1);
    store.fold(out, 0);
    frames[id].push({
      time,
      mid: out[FRAME_MID],
      spreadBps: out[FRAME_SPREAD_BPS],
      imbalance: out[FRAME_IMBALANCE_5],
      ofi: out[FRAME_OFI],
    });
  });
  const now = t0 + 4_300 * lines.length;
  for (let id = 0; id < names.length; id++) {
    assert.ok(frames[id].some((f) => Number.isFinite(f.ofi)), `${names[id]}: a real OFI`);
    check(store, id, frames[id], now, `recorded ${names[id]}`);
  }
});
