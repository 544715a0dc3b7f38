import assert from "node:assert/strict";
import fc from "fast-check";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  DEPTH_BANDS_BPS,
  FRAME_ASK_COUNT,
  FRAME_ASK_WALL_COUNT,
  FRAME_BID_COUNT,
  FRAME_BID_WALL_COUNT,
  FRAME_FLAGS,
  FRAME_MID,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { readFrame } from "../lib/pipeline/analytics_frame.ts";
import { encodeHello, wrapFrame } from "../lib/server/frame_codec.ts";
import { encodeFrame, frameOfWire, wireFrame } from "../lib/analytics/wire_encoder.ts";
import { encodeFrame as encodeWsFrame, OPCODE } from "../lib/net/ws_frame.ts";
import { frameToAnalytics } from "./fixtures/frame_from_wire.ts";
import { FrameSchema, ServerMessageSchema } from "../proto/gen/market_pb.ts";

/** Any double but −0 (proto3 does not write zeros, so −0 arrives as +0, as documented). */
const anyDouble = fc.double().map((v) => (Object.is(v, -0) ? 0 : v));

const layoutArb = fc.record({
  levels: fc.integer({ min: 1, max: 30 }),
  notionals: fc.array(fc.double({ min: 1, max: 1e9, noNaN: true }), {
    minLength: 1,
    maxLength: 7,
  }),
  wallsPerSide: fc.integer({ min: 0, max: 16 }),
}).map((o) => new FrameSlotLayout(o));

/** A layout and a slot filled with arbitrary doubles, counts and flags made valid. */
const slotArb = layoutArb.chain((layout) =>
  fc.record({
    words: fc.array(anyDouble, { minLength: layout.slotWords, maxLength: layout.slotWords }),
    bidCount: fc.integer({ min: 0, max: layout.levels }),
    askCount: fc.integer({ min: 0, max: layout.levels }),
    bidWalls: fc.integer({ min: 0, max: 40 }),
    askWalls: fc.integer({ min: 0, max: 40 }),
    flags: fc.integer({ min: 0, max: (1 << 30) - 1 }),
    pad: fc.integer({ min: 0, max: 3 }),
  }).map((r) => {
    const f64 = new Float64Array(r.pad + layout.slotWords);
    f64.set(r.words, r.pad);
    const base = r.pad;
    f64[base + FRAME_SYMBOL_ID] = 0;
    f64[base + FRAME_FLAGS] = r.flags;
    f64[base + FRAME_BID_COUNT] = r.bidCount;
    f64[base + FRAME_ASK_COUNT] = r.askCount;
    f64[base + FRAME_BID_WALL_COUNT] = r.bidWalls;
    f64[base + FRAME_ASK_WALL_COUNT] = r.askWalls;
    return { layout, f64, base };
  })
);

Deno.test("frame codec: wire frame decodes to exactly what readFrame reads from the slot", () => {
  fc.assert(
    fc.property(slotArb, fc.integer({ min: 1, max: 2 ** 40 }), ({ layout, f64, base }, seq) => {
      const bytes = encodeFrame(f64, base, layout, "BTCUSDT", seq, 1234.5);
      const frame = fromBinary(FrameSchema, bytes);
      assert.equal(frame.symbol, "BTCUSDT");
      assert.equal(frame.seq, seq);
      assert.equal(frame.sentTime, 1234.5);
      assert.deepStrictEqual(frameToAnalytics(frame, 0), readFrame(f64, base, layout));
    }),
    { numRuns: 300 },
  );
});

Deno.test("frame codec: the hand-written encoding decodes like protobuf-es' own encoding", () => {
  fc.assert(
    fc.property(slotArb, ({ layout, f64, base }) => {
      const ours = fromBinary(FrameSchema, encodeFrame(f64, base, layout, "ETHUSDT", 9, 1));
      const theirs = fromBinary(FrameSchema, toBinary(FrameSchema, ours));
      assert.deepStrictEqual(ours, theirs);
    }),
    { numRuns: 100 },
  );
});

Deno.test("frame codec: NaN quantities stay NaN, absent levels stay absent", () => {
  const layout = new FrameSlotLayout({ levels: 3, notionals: [1000], wallsPerSide: 1 });
  const f64 = new Float64Array(layout.slotWords).fill(NaN);
  const frame = fromBinary(FrameSchema, encodeFrame(f64, 0, layout, "X", 1, 0));
  assert.ok(Number.isNaN(frame.mid));
  assert.ok(Number.isNaN(frame.lastUpdateId));
  assert.equal(frame.bidPrices.length, 0);
  assert.equal(frame.askSizes.length, 0);
  assert.equal(frame.walls?.bidCount, 0);
  assert.deepStrictEqual(frame.depth.map((d) => d.bps), [...DEPTH_BANDS_BPS]);
  assert.ok(Number.isNaN(frame.depth[0].bidBase));
  assert.equal(frame.slippage[0].notional, 1000);
});

Deno.test("frame codec: wrapFrame makes a ServerMessage with the same frame and conflated count", () => {
  const layout = new FrameSlotLayout({ levels: 2 });
  const f64 = new Float64Array(layout.slotWords);
  f64[FRAME_MID] = 42.25;
  const inner = encodeFrame(f64, 0, layout, "BTCUSDT", 17, 5);
  const plain = fromBinary(ServerMessageSchema, wrapFrame(inner));
  assert.equal(plain.kind.case, "frame");
  assert.equal(plain.conflated, 0);
  if (plain.kind.case !== "frame") return;
  assert.equal(plain.kind.value.seq, 17);
  assert.equal(plain.kind.value.mid, 42.25);
  const slow = fromBinary(ServerMessageSchema, wrapFrame(inner, 5));
  assert.equal(slow.conflated, 5);
  assert.deepStrictEqual(slow.kind, plain.kind);
  assert.throws(() => wrapFrame(inner, -1), /conflated must be an integer/);
  assert.throws(() => wrapFrame(inner, 1.5), /conflated must be an integer/);
});

Deno.test("frame codec: wireFrame is byte for byte the WebSocket framing of wrapFrame, at every header size; frameOfWire gives the frame back", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 65_000, max: 66_000 }),
        fc.constant(123),
        fc.constant(124),
      ),
      fc.integer({ min: 0, max: 255 }),
      (n, fill) => {
        const inner = new Uint8Array(n).fill(fill);
        const wire = wireFrame(inner);
        assert.deepStrictEqual(wire, encodeWsFrame(OPCODE.binary, wrapFrame(inner)));
        assert.deepStrictEqual(wire.subarray(wire.length - n), inner);
        assert.deepStrictEqual(frameOfWire(wire), inner);
      },
    ),
  );
  const layout = new FrameSlotLayout({ levels: 20 });
  const frame = encodeFrame(
    new Float64Array(layout.slotWords).fill(1.5),
    0,
    layout,
    "BTCUSDT",
    9,
    1,
  );
  assert.deepStrictEqual(wireFrame(frame), encodeWsFrame(OPCODE.binary, wrapFrame(frame)));
  // Anything else is refused: another opcode, another message, a truncated frame.
  const wire = wireFrame(frame);
  for (
    const bad of [
      encodeWsFrame(OPCODE.text, wrapFrame(frame)),
      encodeWsFrame(OPCODE.binary, wrapFrame(frame, 3)),
      wire.subarray(0, wire.length - 1),
      new Uint8Array(0),
    ]
  ) assert.throws(() => frameOfWire(bad), /frameOfWire: expected the bytes of wireFrame/);
});

Deno.test("frame codec: encodeHello carries its info and the history frames in order", () => {
  const layout = new FrameSlotLayout({ levels: 4, notionals: [10, 20] });
  const f64 = new Float64Array(layout.slotWords);
  const history: Uint8Array[] = [];
  for (let i = 1; i <= 5; i++) {
    f64[FRAME_MID] = 100 + i;
    history.push(encodeFrame(f64, 0, layout, "ETHUSDT", i, i));
  }
  const bytes = encodeHello({
    epoch: "abc",
    symbols: ["BTCUSDT", "ETHUSDT"],
    symbol: "ETHUSDT",
    seq: 5,
    serverTime: 99.5,
    subscribed: ["ETHUSDT"],
    layout,
  }, history);
  const msg = fromBinary(ServerMessageSchema, bytes);
  assert.equal(msg.kind.case, "hello");
  if (msg.kind.case !== "hello") return;
  const hello = msg.kind.value;
  assert.equal(hello.epoch, "abc");
  assert.deepStrictEqual(hello.symbols, ["BTCUSDT", "ETHUSDT"]);
  assert.equal(hello.symbol, "ETHUSDT");
  assert.equal(hello.seq, 5);
  assert.equal(hello.serverTime, 99.5);
  assert.deepStrictEqual(hello.subscribed, ["ETHUSDT"]);
  assert.equal(hello.levels, 4);
  assert.deepStrictEqual(hello.notionals, [10, 20]);
  assert.deepStrictEqual(hello.depthBandsBps, [...DEPTH_BANDS_BPS]);
  assert.deepStrictEqual(hello.history.map((f) => [f.seq, f.mid]), [
    [1, 101],
    [2, 102],
    [3, 103],
    [4, 104],
    [5, 105],
  ]);
  // A Hello with a large history still decodes (length prefixes wider than one byte).
  const big = encodeHello({ ...hello, layout, subscribed: [] }, Array(100).fill(history[0]));
  const decoded = fromBinary(ServerMessageSchema, big);
  assert.equal(decoded.kind.case === "hello" && decoded.kind.value.history.length, 100);
  assert.equal(
    toBinary(ServerMessageSchema, create(ServerMessageSchema, decoded)).length,
    big.length,
  );
});

Deno.test("frame codec: a slot that does not fit the array is refused with a clear error", () => {
  const layout = new FrameSlotLayout({ levels: 5 });
  const f64 = new Float64Array(layout.slotWords);
  assert.throws(() => encodeFrame(f64, 1, layout, "X", 1, 0), /does not fit an array/);
  assert.throws(() => encodeFrame(f64, -1, layout, "X", 1, 0), /does not fit an array/);
});
