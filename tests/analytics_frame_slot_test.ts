import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DEPTH_BANDS_BPS,
  FRAME_FLAG_NO_OFI,
  FRAME_HEADER_WORDS,
  FrameSlotLayout,
  slippageExceedsBit,
} from "../lib/pipeline/frame_slot.ts";
import { type AnalyticsFrame, readFrame } from "../lib/pipeline/analytics_frame.ts";
import { writeFrame } from "./fixtures/frame_writer.ts";
import { BOOK_FLAG_STALE } from "../lib/pipeline/book_slot.ts";

function allOffsets(l: FrameSlotLayout): number[] {
  const offs: number[] = [];
  for (let w = 0; w < FRAME_HEADER_WORDS; w++) offs.push(w);
  for (let i = 0; i < l.notionals.length; i++) {
    offs.push(
      l.slippageBuyBps(i),
      l.slippageSellBps(i),
      l.slippageBuyFilled(i),
      l.slippageSellFilled(i),
    );
  }
  for (let s = 0; s < 2; s++) {
    for (let k = 0; k < l.wallsPerSide; k++) offs.push(l.wallPrice(s, k), l.wallSize(s, k));
  }
  for (let i = 0; i < l.levels; i++) {
    offs.push(l.bidPrice(i), l.bidSize(i), l.askPrice(i), l.askSize(i));
  }
  return offs;
}

Deno.test("default layout: sizes and offsets", () => {
  const l = new FrameSlotLayout();
  assert.equal(FRAME_HEADER_WORDS, 42);
  assert.deepEqual(l.notionals, [10_000, 100_000, 1_000_000]);
  assert.equal(l.slotWords, 42 + 3 * 4 + 3 * 2 * 2 + 4 * 20);
  assert.equal(l.slotBytes, 8 * l.slotWords);
  assert.equal(l.bidsStart, 42 + 12 + 12);
  assert.equal(l.asksStart, l.bidsStart + 40);
  assert.equal(slippageExceedsBit(0, 0), 1 << 16);
  assert.equal(slippageExceedsBit(6, 1), 1 << 29);
});

Deno.test("every word of the slot has exactly one meaning (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.integer({ min: 1, max: 1e9 }), { minLength: 1, maxLength: 7 }),
      fc.integer({ min: 0, max: 16 }),
      (levels, notionals, wallsPerSide) => {
        const l = new FrameSlotLayout({ levels, notionals, wallsPerSide });
        const offs = allOffsets(l).sort((a, b) => a - b);
        assert.deepEqual(offs, Array.from({ length: l.slotWords }, (_, i) => i));
        // depth words are inside the header, distinct
        const depth = DEPTH_BANDS_BPS.flatMap((_, b) => [
          l.depthBidBase(b),
          l.depthBidQuote(b),
          l.depthAskBase(b),
          l.depthAskQuote(b),
        ]);
        assert.equal(new Set(depth).size, 12);
        assert.ok(depth.every((w) => w < FRAME_HEADER_WORDS));
      },
    ),
  );
});

Deno.test("layout rejects bad options with a clear message", () => {
  assert.throws(() => new FrameSlotLayout({ levels: 0 }), /levels must be an integer from 1/);
  assert.throws(() => new FrameSlotLayout({ notionals: [] }), /notionals must hold 1 to 7/);
  assert.throws(() => new FrameSlotLayout({ notionals: [1, 2, 3, 4, 5, 6, 7, 8] }), RangeError);
  assert.throws(() => new FrameSlotLayout({ notionals: [-5] }), /positive finite number, got -5/);
  assert.throws(() => new FrameSlotLayout({ wallsPerSide: 17 }), /wallsPerSide/);
});

function sampleFrame(): AnalyticsFrame {
  return {
    symbolId: 3,
    flags: BOOK_FLAG_STALE | FRAME_FLAG_NO_OFI | slippageExceedsBit(1, 0),
    lastUpdateId: 11_655_824_136,
    sequence: 42,
    eventTime: NaN,
    receiveTime: 1_700_000_000_123.25,
    parsedTime: 1_700_000_000_123.5,
    analysedTime: 1_700_000_000_124,
    deliveredTime: NaN,
    frameRate: 9.5,
    mid: 100,
    spread: 2,
    spreadBps: 200,
    weightedMid: 100.5,
    imbalance: { l1: 0.5, l5: -0.25, l20: 0.125 },
    ofi: { e: -4, eL1: 2, sum1s: 7, sum10s: 70, l1Sum1s: 6, l1Sum10s: 60 },
    volatility: { m1: 0.001, m5: NaN },
    depth: DEPTH_BANDS_BPS.map((bps, b) => ({
      bps,
      bidBase: b + 1,
      bidQuote: 100 * (b + 1),
      askBase: b + 2,
      askQuote: 100 * (b + 2),
    })),
    slippage: [
      {
        notional: 1e4,
        buyBps: 1,
        sellBps: 2,
        buyFilledQuote: 1e4,
        sellFilledQuote: 1e4,
        buyExceeds: false,
        sellExceeds: false,
      },
      {
        notional: 1e5,
        buyBps: 3,
        sellBps: 4,
        buyFilledQuote: 5e4,
        sellFilledQuote: 1e5,
        buyExceeds: true,
        sellExceeds: false,
      },
      {
        notional: 1e6,
        buyBps: NaN,
        sellBps: NaN,
        buyFilledQuote: 0,
        sellFilledQuote: 0,
        buyExceeds: false,
        sellExceeds: false,
      },
    ],
    walls: {
      threshold: 17.5,
      bidCount: 4,
      askCount: 1,
      bids: [{ price: 98, size: 40 }, { price: 97, size: 30 }, { price: 95, size: 20 }],
      asks: [{ price: 105, size: 18 }],
    },
    bids: [{ price: 99, size: 3 }, { price: 98, size: 40 }],
    asks: [{ price: 101, size: 1 }],
  };
}

Deno.test("a frame round-trips through writeFrame and readFrame", () => {
  const l = new FrameSlotLayout({ levels: 5 });
  const f64 = new Float64Array(3 * l.slotWords).fill(-1);
  const frame = sampleFrame();
  writeFrame(frame, f64, l.slotWords, l);
  assert.deepEqual(readFrame(f64, l.slotWords, l), frame);
  // neighbours untouched
  assert.ok(f64.subarray(0, l.slotWords).every((v) => v === -1));
  assert.ok(f64.subarray(2 * l.slotWords).every((v) => v === -1));
});

Deno.test("exceed booleans and flags agree after a round trip", () => {
  const l = new FrameSlotLayout({ levels: 5 });
  const f64 = new Float64Array(l.slotWords);
  const frame = sampleFrame();
  frame.slippage[2].sellExceeds = true;
  writeFrame(frame, f64, 0, l);
  const back = readFrame(f64, 0, l);
  assert.equal(back.flags & slippageExceedsBit(2, 1), slippageExceedsBit(2, 1));
  assert.equal(back.slippage[2].sellExceeds, true);
  assert.equal(back.slippage[0].buyExceeds, false);
});

Deno.test("writeFrame rejects frames that do not fit the layout", () => {
  const l = new FrameSlotLayout({ levels: 1, notionals: [1e4, 1e5, 1e6] });
  const f64 = new Float64Array(l.slotWords);
  assert.throws(() => writeFrame(sampleFrame(), f64, 0, l), /at most 1 levels per side/);
  const two = new FrameSlotLayout({ levels: 5, notionals: [1e4] });
  assert.throws(() => writeFrame(sampleFrame(), f64, 0, two), /one per notional/);
});
