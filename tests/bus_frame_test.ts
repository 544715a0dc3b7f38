/**
 * The bytes of an analytics frame on the bus (`lib/bus/bus_frame.ts`): the
 * `Frame` message plus an epoch trailer, decoded back into a slot word for
 * word (the exact inverse of `encodeFrame`), readable by the generated code;
 * a smaller layout keeps what fits and counts the rest; malformed payloads
 * are refused with null and never throw.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { FrameSchema } from "../proto/gen/market_pb.ts";
import {
  busFrameEpoch,
  busFramePayload,
  EPOCH_TRAILER_BYTES,
  newBusFrameInfo,
  readBusFrame,
} from "../lib/bus/bus_frame.ts";
import { encodeFrame } from "../lib/analytics/wire_encoder.ts";
import {
  DEPTH_BANDS_BPS,
  FRAME_ASK_COUNT,
  FRAME_BID_COUNT,
  FRAME_BID_WALL_COUNT,
  FRAME_DELIVERED_TIME,
  FRAME_FLAGS,
  FRAME_HEADER_WORDS,
  FRAME_MID,
  FRAME_SEQUENCE,
  FRAME_SYMBOL_ID,
  FRAME_WALL_THRESHOLD,
  FrameSlotLayout,
  slippageExceedsBit,
} from "../lib/pipeline/frame_slot.ts";
import { anyDouble, differingWords, layoutArb, slotArb } from "./fixtures/frame_slot_arbitrary.ts";

const epochArb = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const utf8 = new TextDecoder();

/** The double whose 8 little-endian bytes are at `bytes[at..]`. */
function doubleAt(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(at, true);
}

Deno.test("bus frame: a random slot goes through encodeFrame, busFramePayload and readBusFrame unchanged", () => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant(layout),
          slotArb(layout),
          fc.integer({ min: 0, max: 3 }),
          fc.string({ unit: "grapheme", maxLength: 40 }),
          anyDouble,
          anyDouble,
          epochArb,
        )
      ),
      ([layout, slot, pad, symbol, seq, sent, epoch]) => {
        const frame = encodeFrame(slot, 0, layout, symbol, seq, sent);
        const payload = busFramePayload(frame, epoch);
        const out = new Float64Array(pad + layout.slotWords + 2).fill(-3.5);
        out[pad + FRAME_SYMBOL_ID] = 77;
        const info = readBusFrame(payload, out, pad, layout, newBusFrameInfo());
        assert.ok(info, "decoded");
        assert.equal(info.epoch, epoch);
        assert.equal(info.frameLength, frame.length);
        assert.ok(Object.is(info.seq, seq));
        assert.ok(Object.is(info.sentTime, sent));
        assert.equal(info.truncated, 0);
        assert.equal(info.mismatched, 0);
        // Where the three patchable doubles are (absent when 0: proto3 does not write a 0).
        const delivered = slot[FRAME_DELIVERED_TIME];
        for (
          const [at, v] of [[info.seqAt, seq], [info.sentAt, sent], [info.deliveredAt, delivered]]
        ) {
          if (v === 0) assert.equal(at, -1);
          else assert.ok(Object.is(doubleAt(payload, at), v));
        }
        const name = payload.subarray(info.symbolStart, info.symbolStart + info.symbolLength);
        assert.equal(utf8.decode(name), symbol);
        // Every word as it was; the symbol id is the caller's; nothing around the slot is touched.
        const expected = slot.slice();
        expected[FRAME_SYMBOL_ID] = 77;
        assert.deepStrictEqual(
          differingWords(out.subarray(pad, pad + layout.slotWords), expected),
          [],
        );
        for (let i = 0; i < out.length; i++) {
          if (i < pad || i >= pad + layout.slotWords) assert.equal(out[i], -3.5);
        }
        // The generated code reads the payload as a Frame carrying the epoch.
        const decoded = fromBinary(FrameSchema, payload);
        assert.equal(decoded.epoch, epoch);
        assert.deepStrictEqual({ ...decoded, epoch: 0 }, fromBinary(FrameSchema, frame));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("bus frame: a layout with fewer levels, walls or notionals keeps what fits and counts the rest", () => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant(layout),
          slotArb(layout),
          fc.integer({ min: 1, max: layout.levels }),
          fc.integer({ min: 0, max: layout.wallsPerSide }),
          fc.integer({ min: 1, max: layout.notionals.length }),
          fc.boolean(),
        )
      ),
      ([layout, slot, levels, walls, nNotionals, alter]) => {
        const notionals = layout.notionals.slice(0, nNotionals);
        if (alter) notionals[0] += 1;
        const small = new FrameSlotLayout({ levels, wallsPerSide: walls, notionals });
        const payload = busFramePayload(encodeFrame(slot, 0, layout, "X", 1, 1), 9);
        const out = new Float64Array(small.slotWords);
        const info = readBusFrame(payload, out, 0, small);
        assert.ok(info);
        const bids = slot[FRAME_BID_COUNT];
        const asks = slot[FRAME_ASK_COUNT];
        const bidWalls = Math.min(slot[FRAME_BID_WALL_COUNT], layout.wallsPerSide);
        const askWalls = Math.min(slot[FRAME_BID_WALL_COUNT + 1], layout.wallsPerSide);
        const dropped = 2 * (bids - Math.min(bids, levels)) + 2 * (asks - Math.min(asks, levels)) +
          2 * (bidWalls - Math.min(bidWalls, walls)) + 2 * (askWalls - Math.min(askWalls, walls)) +
          (layout.notionals.length - nNotionals);
        assert.equal(info.truncated, dropped);
        assert.equal(info.mismatched, alter ? 1 : 0);
        // Header words the same (counts capped), then whatever fits, by position.
        for (let w = 1; w < FRAME_HEADER_WORDS; w++) {
          const want = w === FRAME_BID_COUNT
            ? Math.min(bids, levels)
            : w === FRAME_ASK_COUNT
            ? Math.min(asks, levels)
            : slot[w];
          assert.ok(Object.is(out[w], want), `word ${w}`);
        }
        for (let i = 0; i < nNotionals; i++) {
          assert.ok(Object.is(out[small.slippageBuyBps(i)], slot[layout.slippageBuyBps(i)]));
          assert.ok(
            Object.is(out[small.slippageSellFilled(i)], slot[layout.slippageSellFilled(i)]),
          );
        }
        for (let k = 0; k < Math.min(bidWalls, walls); k++) {
          assert.ok(Object.is(out[small.wallSize(0, k)], slot[layout.wallSize(0, k)]));
        }
        for (let i = 0; i < Math.min(asks, levels); i++) {
          assert.ok(Object.is(out[small.askPrice(i)], slot[layout.askPrice(i)]));
          assert.ok(Object.is(out[small.askSize(i)], slot[layout.askSize(i)]));
        }
        for (let i = Math.min(bids, levels); i < levels; i++) {
          assert.ok(isNaN(out[small.bidPrice(i)]));
        }
      },
    ),
    { numRuns: 200 },
  );
});

/** A payload with the epoch trailer after `body`, written by protobuf-es' writer. */
function handMade(fill: (w: BinaryWriter) => void, epoch = 4): Uint8Array {
  const w = new BinaryWriter();
  fill(w);
  return busFramePayload(w.finish(), epoch);
}

/** Field numbers of the generated schemas. */
const f = (name: keyof typeof FrameSchema.field) => FrameSchema.field[name].number;

Deno.test("bus frame: unpacked repeated doubles, merged walls, zeros written and unknown fields decode as protobuf does", () => {
  const layout = new FrameSlotLayout({ levels: 3, notionals: [100, 200], wallsPerSide: 2 });
  const payload = handMade((w) => {
    w.tag(40, WireType.Varint).uint64(2n ** 63n); // unknown fields of every wire type
    w.tag(41, WireType.Bit64).double(1);
    w.tag(42, WireType.LengthDelimited).bytes(new Uint8Array(300));
    w.tag(43, WireType.Bit32).fixed32(5);
    w.tag(200, WireType.Varint).uint32(1);
    w.tag(f("mid"), WireType.Bit64).double(3); // overwritten below: the last one counts
    w.tag(f("mid"), WireType.Bit64).double(7.5);
    w.tag(f("analysedSeq"), WireType.Bit64).double(0); // a zero written explicitly
    w.tag(f("flags"), WireType.Varint).uint64(2n ** 40n + 6n); // a 64-bit varint: its low 32 bits
    w.tag(f("bidPrices"), WireType.Bit64).double(10); // unpacked
    w.tag(f("bidPrices"), WireType.LengthDelimited).fork().double(9).double(8).double(7).join();
    w.tag(f("bidSizes"), WireType.LengthDelimited).fork().double(1).double(2).join();
    w.tag(f("bidSizes"), WireType.Bit64).double(3);
    w.tag(f("bidSizes"), WireType.Bit64).double(4);
    w.tag(f("depth"), WireType.LengthDelimited).fork()
      .tag(9, WireType.Varint).uint32(1)
      .tag(1, WireType.Bit64).double(DEPTH_BANDS_BPS[0])
      .tag(2, WireType.Bit64).double(11)
      .join();
    w.tag(f("slippage"), WireType.LengthDelimited).fork()
      .tag(1, WireType.Bit64).double(100)
      .tag(7, WireType.Varint).bool(true)
      .tag(3, WireType.Bit64).double(-2)
      .join();
    w.tag(f("slippage"), WireType.LengthDelimited).fork()
      .tag(1, WireType.Bit64).double(150) // not the layout's 200: stored, counted
      .tag(6, WireType.Varint).bool(true)
      .join();
    w.tag(f("walls"), WireType.LengthDelimited).fork()
      .tag(1, WireType.Bit64).double(55)
      .tag(2, WireType.Varint).uint32(4)
      .tag(4, WireType.LengthDelimited).fork().double(99).join()
      .join();
    w.tag(f("walls"), WireType.LengthDelimited).fork()
      .tag(5, WireType.Bit64).double(12)
      .tag(4, WireType.Bit64).double(98)
      .tag(5, WireType.Bit64).double(13)
      .join();
  });
  const out = new Float64Array(layout.slotWords).fill(-1);
  const info = readBusFrame(payload, out, 0, layout);
  assert.ok(info);
  assert.equal(out[FRAME_MID], 7.5);
  assert.ok(Object.is(out[FRAME_SEQUENCE], 0));
  assert.equal(out[FRAME_FLAGS], 6 | slippageExceedsBit(0, 1) | slippageExceedsBit(1, 0));
  assert.equal(out[FRAME_BID_COUNT], 3);
  assert.equal(info.truncated, 2, "the fourth bid level: price 7 and size 4");
  assert.deepStrictEqual(
    [0, 1, 2].flatMap((i) => [out[layout.bidPrice(i)], out[layout.bidSize(i)]]),
    [10, 1, 9, 2, 8, 3],
  );
  assert.equal(out[FRAME_ASK_COUNT], 0);
  assert.ok(isNaN(out[layout.askPrice(0)]));
  assert.equal(out[layout.depthBidBase(0)], 11);
  assert.equal(out[layout.depthAskQuote(0)], 0, "absent: 0");
  assert.equal(out[layout.depthBidBase(1)], 0, "band 1 absent: 0");
  assert.equal(out[layout.slippageSellBps(0)], -2);
  assert.equal(info.mismatched, 1, "the second notional");
  assert.equal(out[FRAME_WALL_THRESHOLD], 55);
  assert.equal(out[FRAME_BID_WALL_COUNT], 4);
  assert.deepStrictEqual(
    [out[layout.wallPrice(0, 0)], out[layout.wallSize(0, 0)]],
    [99, 12],
  );
  assert.deepStrictEqual([out[layout.wallPrice(0, 1)], out[layout.wallSize(0, 1)]], [98, 13]);
  assert.equal(out[FRAME_SYMBOL_ID], -1, "the caller's word");
  assert.equal(info.seqAt, -1);
});

/** A valid payload of the default layout to break. */
function validFrame(): { layout: FrameSlotLayout; frame: Uint8Array } {
  const layout = new FrameSlotLayout({ levels: 5 });
  const slot = new Float64Array(layout.slotWords).fill(1.5);
  slot[FRAME_BID_COUNT] = 5;
  slot[FRAME_ASK_COUNT] = 4;
  slot[FRAME_BID_WALL_COUNT] = 2;
  slot[FRAME_BID_WALL_COUNT + 1] = 1;
  slot[FRAME_FLAGS] = 0x30001;
  return { layout, frame: encodeFrame(slot, 0, layout, "BTCUSDT", 12, 34) };
}

Deno.test("bus frame: malformed payloads are refused with null", () => {
  const { layout, frame } = validFrame();
  const out = new Float64Array(layout.slotWords);
  const read = (payload: Uint8Array) => readBusFrame(payload, out, 0, layout);
  assert.ok(read(busFramePayload(frame, 1)), "the valid one is read");
  const trailer = (epoch: number) => {
    const p = new Uint8Array(frame.length + EPOCH_TRAILER_BYTES);
    p.set(frame);
    p[frame.length] = 0x99;
    p[frame.length + 1] = 0x02;
    new DataView(p.buffer).setFloat64(frame.length + 2, epoch, true);
    return p;
  };
  assert.ok(read(trailer(2 ** 53 - 1)), "the largest epoch");
  const cases: Array<[string, Uint8Array]> = [
    ["no epoch", frame],
    ["empty", new Uint8Array(0)],
    ["epoch 0", trailer(0)],
    ["epoch NaN", trailer(NaN)],
    ["epoch 1.5", trailer(1.5)],
    ["epoch -3", trailer(-3)],
    ["epoch 2^53", trailer(2 ** 53)],
    ["epoch cut", busFramePayload(frame, 7).subarray(0, frame.length + 9)],
    ["epoch not last", busFramePayload(busFramePayload(frame, 7), 8)],
    ["mid as a varint", handMade((w) => w.tag(f("mid"), WireType.Varint).uint32(1))],
    ["seq as a fixed32", handMade((w) => w.tag(f("seq"), WireType.Bit32).fixed32(1))],
    ["flags as a double", handMade((w) => w.tag(f("flags"), WireType.Bit64).double(1))],
    ["symbol as a varint", handMade((w) => w.tag(f("symbol"), WireType.Varint).uint32(1))],
    ["walls as a double", handMade((w) => w.tag(f("walls"), WireType.Bit64).double(1))],
    ["ladder as a varint", handMade((w) => w.tag(f("askSizes"), WireType.Varint).uint32(1))],
    [
      "packed length 12",
      handMade((w) => w.tag(f("askSizes"), WireType.LengthDelimited).bytes(new Uint8Array(12))),
    ],
    ["prices without sizes", handMade((w) => w.tag(f("bidPrices"), WireType.Bit64).double(1))],
    [
      "wall sizes without prices",
      handMade((w) =>
        w.tag(f("walls"), WireType.LengthDelimited).fork().tag(7, WireType.Bit64).double(1).join()
      ),
    ],
    [
      "band field as a varint",
      handMade((w) =>
        w.tag(f("depth"), WireType.LengthDelimited).fork().tag(2, WireType.Varint).uint32(1).join()
      ),
    ],
    [
      "exceeds as a double",
      handMade((w) =>
        w.tag(f("slippage"), WireType.LengthDelimited).fork().tag(6, WireType.Bit64).double(1)
          .join()
      ),
    ],
    [
      "wall count as a double",
      handMade((w) =>
        w.tag(f("walls"), WireType.LengthDelimited).fork().tag(2, WireType.Bit64).double(1).join()
      ),
    ],
    ["field 0", handMade((w) => w.raw(new Uint8Array([0x01, 0, 0, 0, 0, 0, 0, 0, 0])))],
    ["a group", handMade((w) => w.raw(new Uint8Array([0xc3, 0x02, 0xc4, 0x02])))],
    ["wire type 6", handMade((w) => w.raw(new Uint8Array([0xc6, 0x02])))],
    [
      "an 11-byte varint",
      handMade((w) => w.raw(new Uint8Array([0x20, ...Array(10).fill(0xff), 0x01]))),
    ],
    ["a length past the end", handMade((w) => w.raw(new Uint8Array([0x0a, 0x05, 0x41])))],
    [
      "a nested length past its message",
      handMade((w) => w.raw(new Uint8Array([0xea, 0x01, 0x02, 0x42, 0x05]))),
    ],
    ["a double cut", handMade((w) => w.raw(new Uint8Array([0x61, 1, 2, 3])))],
    ["a tag cut", handMade((w) => w.raw(new Uint8Array([0x80])))],
  ];
  for (const [what, payload] of cases) assert.equal(read(payload), null, what);
});

/** The top-level field boundaries of a Frame (where a cut leaves whole fields). */
function boundaries(frame: Uint8Array): Set<number> {
  const r = new BinaryReader(frame);
  const out = new Set([0]);
  while (r.pos < frame.length) {
    const [, wt] = r.tag();
    r.skip(wt);
    out.add(r.pos);
  }
  return out;
}

Deno.test("bus frame: cut, flipped and random payloads never throw; a cut inside a field is refused", () => {
  const { layout, frame } = validFrame();
  const out = new Float64Array(layout.slotWords);
  const whole = boundaries(frame);
  for (let k = 0; k < frame.length; k++) {
    const info = readBusFrame(busFramePayload(frame.subarray(0, k), 3), out, 0, layout);
    if (!whole.has(k)) assert.equal(info, null, `cut at ${k}`);
    else if (info === null) {
      // Whole fields only: refused only for a ladder whose sizes were cut off.
      const rest = fromBinary(FrameSchema, frame.subarray(0, k));
      assert.ok(
        rest.bidPrices.length !== rest.bidSizes.length ||
          rest.askPrices.length !== rest.askSizes.length,
        `cut at field boundary ${k}`,
      );
    }
  }
  const payload = busFramePayload(frame, 3);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.uint8Array({ maxLength: 300 }),
      fc.boolean(),
      (flips, junk, withTrailer) => {
        const broken = payload.slice();
        for (const [at, x] of flips) broken[at] ^= x;
        readBusFrame(broken, out, 0, layout);
        readBusFrame(withTrailer ? busFramePayload(junk, 5) : junk, out, 0, layout);
      },
    ),
    { numRuns: Number(Deno.env.get("DEPTHWATCH_FUZZ_RUNS") ?? 3000) },
  );
});

Deno.test("bus frame: busFramePayload copies once and refuses an epoch that is not a lease revision", () => {
  const { frame } = validFrame();
  const payload = busFramePayload(frame, 123456789);
  assert.equal(payload.byteOffset, 0);
  assert.equal(payload.buffer.byteLength, frame.length + EPOCH_TRAILER_BYTES);
  assert.deepStrictEqual(payload.subarray(0, frame.length), frame);
  frame[0] ^= 0xff;
  assert.notEqual(payload[0], frame[0], "a copy, not a view");
  assert.equal(busFrameEpoch(payload), 123456789);
  assert.equal(busFrameEpoch(frame), 0);
  for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => busFramePayload(frame, bad), RangeError, String(bad));
  }
  assert.throws(
    () => readBusFrame(payload, new Float64Array(4), 0, new FrameSlotLayout()),
    RangeError,
  );
});
