/**
 * The wire bytes of live frames, encoded once in the analytics worker
 * (`lib/analytics/wire_encoder.ts` into `lib/pipeline/wire_slot.ts` slots) and
 * forwarded by the main thread (`lib/server/worker_wire.ts`): byte for byte
 * what the main thread's encoder made before (`fixtures/reference_frame_codec.ts`),
 * decodable by the generated code, never past its slot; unwatched frames carry
 * none; a symbol watched mid-stream is encoded on main until the worker sees
 * the flag; seq, Hello and Resync keep working in the real service.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { create, fromBinary, ScalarType, toBinary } from "@bufbuild/protobuf";
import {
  ClientMessageSchema,
  DepthBandSchema,
  FrameSchema,
  ServerMessageSchema,
  SlippageSchema,
  WallsSchema,
} from "../proto/gen/market_pb.ts";
import {
  FRAME_ASK_COUNT,
  FRAME_ASK_WALL_COUNT,
  FRAME_BID_COUNT,
  FRAME_BID_WALL_COUNT,
  FRAME_DELIVERED_TIME,
  FRAME_FLAGS,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
  MAX_NOTIONALS,
  MAX_WALLS_PER_SIDE,
} from "../lib/pipeline/frame_slot.ts";
import { BookSlotLayout, MAX_BOOK_LEVELS } from "../lib/pipeline/book_slot.ts";
import {
  FRAME_SCALAR_DOUBLES,
  MAX_SYMBOL_BYTES,
  maxFrameBytes,
  WIRE_LENGTH,
  WIRE_START,
  WIRE_TAG_MAX_BYTES,
  WireSlotLayout,
} from "../lib/pipeline/wire_slot.ts";
import { MAX_SYMBOL_LENGTH } from "../lib/ingest/symbol_table.ts";
import {
  encodeFrame,
  encodeWireSlot,
  frameOfWire,
  wireFrame,
} from "../lib/analytics/wire_encoder.ts";
import { AnalyticsLoop } from "../lib/analytics/analytics_loop.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import { PipelineCounters } from "../lib/pipeline/pipeline_counters.ts";
import { WatchFlags } from "../lib/pipeline/watch_flags.ts";
import { WorkerWire } from "../lib/server/worker_wire.ts";
import { FrameConsumer } from "../lib/server/frame_consumer.ts";
import { HistoryStore } from "../lib/server/history_store.ts";
import { LatencyTracker } from "../lib/server/latency_tracker.ts";
import { serveHttp } from "../lib/net/http_server.ts";
import { parseConfig } from "../lib/server/config.ts";
import { WsHub } from "../lib/server/ws_hub.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { startService } from "../main.ts";
import { writeBook } from "../testing/book_fixture.ts";
import * as reference from "./fixtures/reference_frame_codec.ts";

/** Any double but −0 (proto3 does not write zeros, so −0 arrives as +0). */
const anyDouble = fc.double().map((v) => (Object.is(v, -0) ? 0 : v));
/** A double the main thread may fill in (seq, delivered, sent): never 0. */
const filled = fc.double().filter((v) => v !== 0);

const layoutArb = fc.record({
  levels: fc.integer({ min: 1, max: 30 }),
  notionals: fc.array(fc.double({ min: 1, max: 1e9, noNaN: true }), {
    minLength: 1,
    maxLength: MAX_NOTIONALS,
  }),
  wallsPerSide: fc.integer({ min: 0, max: MAX_WALLS_PER_SIDE }),
}).map((o) => new FrameSlotLayout(o));

/** Fill a frame at word `base` with `words`, counts and flags made valid. */
function frameArb(layout: FrameSlotLayout) {
  return fc.record({
    words: fc.array(anyDouble, { minLength: layout.slotWords, maxLength: layout.slotWords }),
    bidCount: fc.integer({ min: 0, max: layout.levels }),
    askCount: fc.integer({ min: 0, max: layout.levels }),
    bidWalls: fc.integer({ min: 0, max: 40 }),
    askWalls: fc.integer({ min: 0, max: 40 }),
    flags: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  }).map((r) => (f64: Float64Array, base: number) => {
    f64.set(r.words, base);
    f64[base + FRAME_FLAGS] = r.flags;
    f64[base + FRAME_BID_COUNT] = r.bidCount;
    f64[base + FRAME_ASK_COUNT] = r.askCount;
    f64[base + FRAME_BID_WALL_COUNT] = r.bidWalls;
    f64[base + FRAME_ASK_WALL_COUNT] = r.askWalls;
  });
}

const symbolArb = fc.stringMatching(new RegExp(`^[A-Z0-9]{1,${MAX_SYMBOL_BYTES}}$`));
const utf8 = new TextEncoder();

Deno.test("wire slot: the schema facts its bound relies on hold", () => {
  for (const schema of [FrameSchema, DepthBandSchema, SlippageSchema, WallsSchema]) {
    for (const field of schema.fields) {
      assert.ok(field.number < 2 ** (7 * WIRE_TAG_MAX_BYTES - 3), `${field.name} tag too long`);
    }
  }
  // `epoch` is the bus trailer (lib/bus/bus_frame.ts): never in a slot's frame.
  const scalarDoubles = FrameSchema.fields.filter((f) =>
    f.fieldKind === "scalar" && f.scalar === ScalarType.DOUBLE && f.name !== "epoch"
  );
  assert.equal(scalarDoubles.length, FRAME_SCALAR_DOUBLES);
  // The ServerMessage.frame tag is one byte; the symbol bound is the ingest's.
  assert.ok(((ServerMessageSchema.field.frame.number << 3) | 2) < 0x80);
  assert.equal(MAX_SYMBOL_BYTES, MAX_SYMBOL_LENGTH);
});

Deno.test("wire slot: the largest possible frame of any layout fits its slot and nothing past it", () => {
  const layouts = [
    new FrameSlotLayout({ levels: 1, notionals: [1], wallsPerSide: 0 }),
    new FrameSlotLayout(),
    new FrameSlotLayout({
      levels: MAX_BOOK_LEVELS,
      notionals: Array.from({ length: MAX_NOTIONALS }, (_, i) => 10 ** i + 0.5),
      wallsPerSide: MAX_WALLS_PER_SIDE,
    }),
  ];
  for (const frame of layouts) {
    const wire = new WireSlotLayout(frame);
    // Slot 1 of 3: slots 0 and 2 must stay untouched.
    const f64 = new Float64Array(3 * wire.slotWords).fill(-7.25);
    const u8 = new Uint8Array(f64.buffer);
    const base = wire.slotWords;
    f64.fill(NaN, base, base + frame.slotWords); // every double written (NaN is)
    f64[base + FRAME_SYMBOL_ID] = 0;
    f64[base + FRAME_FLAGS] = -1; // every flag and exceed bit: the longest varint
    f64[base + FRAME_BID_COUNT] = frame.levels;
    f64[base + FRAME_ASK_COUNT] = frame.levels;
    f64[base + FRAME_BID_WALL_COUNT] = 2 ** 40; // sent clamped to 2^32 − 1: the longest varint
    f64[base + FRAME_ASK_WALL_COUNT] = 2 ** 40;
    const symbol = "Z".repeat(MAX_SYMBOL_BYTES);
    const n = encodeWireSlot(u8, f64, base, wire, utf8.encode(symbol));
    assert.ok(n <= wire.maxWireBytes, `${n} > ${wire.maxWireBytes}`);
    for (const w of [...f64.subarray(0, base), ...f64.subarray(2 * wire.slotWords)]) {
      assert.equal(w, -7.25);
    }
    const staged = new WorkerWire(wire);
    staged.stage(u8, f64, base);
    const bytes = staged.take(0, 2 ** 53, 1.5, 2.5)!;
    const frameBytes = frameOfWire(bytes);
    assert.ok(frameBytes.length <= maxFrameBytes(frame));
    const decoded = fromBinary(FrameSchema, frameBytes);
    assert.equal(decoded.symbol, symbol);
    assert.equal(decoded.bidPrices.length, frame.levels);
    assert.equal(decoded.walls?.askPrices.length, frame.wallsPerSide);
    assert.equal(decoded.slippage.length, frame.notionals.length);
    assert.ok(decoded.slippage.every((s) => s.buyExceeds && s.sellExceeds));
  }
  // The figures docs/operating.md and the module doc give for the default layout.
  const wire = new WireSlotLayout(new FrameSlotLayout());
  assert.equal(wire.maxFrameBytes, 1420);
  assert.equal(wire.slotBytes, 2640);
});

Deno.test("wire encoder: the main thread's encodeFrame and wireFrame make the bytes of the encoder they replace", () => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant(layout),
          frameArb(layout),
          fc.integer({ min: 0, max: 3 }),
          fc.string({ unit: "grapheme", maxLength: 40 }),
          anyDouble,
          anyDouble,
        )
      ),
      ([layout, fill, pad, symbol, seq, sent]) => {
        const f64 = new Float64Array(pad + layout.slotWords);
        fill(f64, pad);
        const ours = encodeFrame(f64, pad, layout, symbol, seq, sent);
        const theirs = reference.encodeFrame(f64, pad, layout, symbol, seq, sent);
        assert.deepStrictEqual(ours, theirs);
        assert.deepStrictEqual(wireFrame(ours), reference.wireFrame(theirs));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("wire encoder: the worker's slot bytes, once main fills seq and times, are the bytes main encoded before", () => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant(layout),
          frameArb(layout),
          fc.integer({ min: 0, max: 2 }),
          fc.uint8Array({ minLength: 64, maxLength: 64 }),
          symbolArb,
          fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          filled,
          filled,
        )
      ),
      ([layout, fill, slotIndex, junk, symbol, seq, delivered, sent]) => {
        const wire = new WireSlotLayout(layout);
        const f64 = new Float64Array(3 * wire.slotWords);
        const u8 = new Uint8Array(f64.buffer);
        // Stale bytes from an earlier frame in every slot: nothing may depend on them.
        for (let at = 0; at < u8.length; at += junk.length) {
          u8.set(junk.subarray(0, u8.length - at), at);
        }
        const base = slotIndex * wire.slotWords;
        fill(f64, base);
        f64[base + FRAME_SYMBOL_ID] = 1;
        f64[base + FRAME_DELIVERED_TIME] = NaN; // as the analyser leaves it
        encodeWireSlot(u8, f64, base, wire, utf8.encode(symbol));

        const staged = new WorkerWire(wire);
        staged.stage(u8, f64, base);
        assert.equal(staged.take(0, seq, delivered, sent), null, "another symbol's bytes");
        assert.equal(staged.take(1, seq, 0, sent), null, "a 0 main would not write");
        const bytes = staged.take(1, seq, delivered, sent);
        assert.equal(staged.take(1, seq, delivered, sent), null, "taken once");

        // What the main thread made before: its consumer stamps delivered time, the hub encodes.
        f64[base + FRAME_DELIVERED_TIME] = delivered;
        const expected = reference.wireFrame(
          reference.encodeFrame(f64, base, layout, symbol, seq, sent),
        );
        assert.deepStrictEqual(bytes, expected);
        const message = fromBinary(ServerMessageSchema, payloadOf(bytes!));
        assert.equal(message.kind.case, "frame");
        assert.equal(message.conflated, 0);
        const frame = message.kind.value!;
        assert.equal(frame.symbol, symbol);
        assert.equal(frame.seq, seq);
        assert.ok(Object.is(frame.deliveredTime, delivered));
        assert.ok(Object.is(frame.sentTime, sent));
      },
    ),
    { numRuns: 300 },
  );
});

/** The payload of an unmasked WebSocket frame. */
function payloadOf(wire: Uint8Array): Uint8Array {
  const len7 = wire[1] & 0x7f;
  return wire.subarray(len7 < 126 ? 2 : len7 === 126 ? 4 : 10);
}

Deno.test("analytics loop: frames of watched symbols carry their wire bytes, unwatched ones none", () => {
  const levels = 5;
  const bookLayout = new BookSlotLayout(levels);
  const frameLayout = new FrameSlotLayout({ levels });
  const wire = new WireSlotLayout(frameLayout);
  const raw = SpscRing.create({ capacity: 16, slotBytes: bookLayout.slotBytes });
  const processed = SpscRing.create({ capacity: 16, slotBytes: wire.slotBytes });
  processed.u8.fill(0xab); // stale bytes everywhere, as after many frames
  const watch = WatchFlags.create(2);
  watch.set(1, true);
  const names = ["BTCUSDT", "ETHUSDT"];
  const loop = new AnalyticsLoop({
    raw,
    processed,
    counters: PipelineCounters.create(3),
    symbols: 2,
    levels,
    adaptive: false,
    wire: { names, watch: watch.buffer },
  });
  const book = new Float64Array(bookLayout.slotWords);
  for (let i = 0; i < 6; i++) {
    writeBook(book, 0, bookLayout, {
      symbolId: i % 2,
      lastUpdateId: 100 + i,
      receiveTime: 1000 + i,
      bids: [[99 - i, 1 + i], [98, 2]],
      asks: [[101 + i, 3], [102, 4]],
    });
    raw.push(book);
  }
  assert.equal(loop.drain(), 6);
  const out = new Float64Array(wire.slotWords);
  const u8 = new Uint8Array(out.buffer);
  const staged = new WorkerWire(wire);
  for (let i = 0; i < 6; i++) {
    assert.ok(processed.pop(out));
    const symbolId = out[FRAME_SYMBOL_ID];
    assert.equal(symbolId, i % 2);
    if (symbolId === 0) {
      assert.equal(out[wire.headerStart + WIRE_LENGTH], 0);
      continue;
    }
    assert.ok(out[wire.headerStart + WIRE_START] >= wire.regionStart);
    staged.stage(u8, out, 0);
    out[FRAME_DELIVERED_TIME] = 5000 + i;
    const bytes = staged.take(1, i, 5000 + i, 6000 + i);
    const expected = reference.wireFrame(
      reference.encodeFrame(out, 0, frameLayout, "ETHUSDT", i, 6000 + i),
    );
    assert.deepStrictEqual(bytes, expected);
  }
  assert.throws(
    () =>
      new AnalyticsLoop({
        raw,
        processed: SpscRing.create({ capacity: 2, slotBytes: frameLayout.slotBytes }),
        counters: PipelineCounters.create(3),
        symbols: 2,
        levels,
        wire: { names, watch: watch.buffer },
      }),
    /processed ring slots hold 688 bytes, wire slots need 1672/,
  );
  assert.throws(
    () =>
      new AnalyticsLoop({
        raw,
        processed,
        counters: PipelineCounters.create(3),
        symbols: 2,
        levels,
        wire: { names: ["BTCUSDT", "X".repeat(MAX_SYMBOL_BYTES + 1)], watch: watch.buffer },
      }),
    /has 33 bytes, at most 32 fit/,
  );
});

/** A raw WebSocket client that decodes every server message. */
class Client {
  readonly ws: WebSocket;
  readonly messages: ReturnType<typeof fromBinary<typeof ServerMessageSchema>>[] = [];
  /** Payloads as received. */
  readonly raw: Uint8Array[] = [];
  readonly opened: Promise<void>;
  constructor(url: string, symbol: string) {
    const u = new URL("ws", url);
    u.protocol = "ws:";
    u.searchParams.set("symbol", symbol);
    this.ws = new WebSocket(u);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((r) => this.ws.onopen = () => r());
    this.ws.onmessage = (e) => {
      const bytes = new Uint8Array(e.data as ArrayBuffer);
      this.raw.push(bytes);
      this.messages.push(fromBinary(ServerMessageSchema, bytes));
    };
  }
  send(kind: Parameters<typeof create<typeof ClientMessageSchema>>[1]): void {
    this.ws.send(toBinary(ClientMessageSchema, create(ClientMessageSchema, kind)));
  }
  frames(symbol: string) {
    return this.messages.flatMap((m) =>
      m.kind.case === "frame" && m.kind.value.symbol === symbol ? [m.kind.value] : []
    );
  }
  async close(): Promise<void> {
    const closed = new Promise((r) => this.ws.onclose = r);
    this.ws.close();
    await closed;
  }
}

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("hub: sends the worker's bytes when a frame has them, encodes on main when it has none", async () => {
  const levels = 5;
  const layout = new FrameSlotLayout({ levels });
  const wireLayout = new WireSlotLayout(layout);
  const processed = SpscRing.create({ capacity: 8, slotBytes: wireLayout.slotBytes });
  const history = new HistoryStore({ symbols: 2, layout });
  const wire = new WorkerWire(wireLayout);
  const hub = new WsHub({ history, symbols: ["BTCUSDT", "ETHUSDT"], wire });
  const consumer = new FrameConsumer({
    processed,
    history,
    counters: PipelineCounters.create(3),
    latency: new LatencyTracker(),
    wire,
  });
  const stored: number[] = [];
  history.subscribe((_s, _f64, _base, storedAt) => stored.push(storedAt));
  const server = serveHttp(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => hub.upgrade(req),
  );
  const client = new Client(`http://127.0.0.1:${server.addr.port}/`, "BTCUSDT");
  try {
    await client.opened;
    await until("the Hello", () => client.messages.length === 1);
    const slot = new Float64Array(wireLayout.slotWords);
    const bytes = new Uint8Array(slot.buffer);
    slot[FRAME_BID_COUNT] = slot[FRAME_ASK_COUNT] = levels;
    for (let i = 0; i < levels; i++) {
      slot[layout.bidPrice(i)] = 100 - i;
      slot[layout.bidSize(i)] = 1 + i;
      slot[layout.askPrice(i)] = 101 + i;
      slot[layout.askSize(i)] = 2 + i;
    }
    // 1: not encoded by the worker (the symbol was not watched yet): main encodes it.
    processed.push(slot);
    // 2 and 3: encoded by the worker; 3 is of a symbol nobody watches here.
    encodeWireSlot(bytes, slot, 0, wireLayout, utf8.encode("BTCUSDT"));
    processed.push(slot);
    slot[FRAME_SYMBOL_ID] = 1;
    encodeWireSlot(bytes, slot, 0, wireLayout, utf8.encode("ETHUSDT"));
    processed.push(slot);
    assert.equal(consumer.drainOnce(), 3);
    assert.equal(hub.framesEncoded, 1);
    assert.equal(hub.framesSent, 2);
    await until("two frames", () => client.messages.length === 3);
    for (const [k, seq] of [[1, 1], [2, 2]]) {
      const sent = client.raw[k];
      const f = client.frames("BTCUSDT")[k - 1];
      assert.equal(f.seq, seq);
      slot[FRAME_SYMBOL_ID] = 0;
      slot[FRAME_DELIVERED_TIME] = f.deliveredTime;
      const expected = reference.wireFrame(
        reference.encodeFrame(slot, 0, layout, "BTCUSDT", seq, stored[k - 1]),
      );
      assert.deepStrictEqual(sent, payloadOf(expected));
    }
  } finally {
    await client.close();
    hub.close();
    await server.shutdown();
  }
});

Deno.test("service: live frames come from the worker once their symbol is watched, with consecutive seq through subscribe and resync", async () => {
  const config = parseConfig([
    "--source=sim",
    "--port=0",
    "--sim-rate=20",
    "--symbols=btcusdt,ethusdt",
  ]);
  const log = createLogger({ level: "warn", format: "text", write: () => {} });
  const service = await startService(config, { log });
  const hub = service.state.hub as WsHub;
  const client = new Client(service.url, "BTCUSDT");
  try {
    await client.opened;
    // Watched from the upgrade: the first frames may be encoded on main (the flag
    // reaches the worker a moment later); after that, only worker bytes.
    await until("BTCUSDT frames", () => client.frames("BTCUSDT").length >= 3);
    const mainEncoded = () => hub.framesEncoded;
    let settled = mainEncoded();
    await until("worker-encoded frames", () => {
      if (mainEncoded() !== settled) settled = mainEncoded();
      return client.frames("BTCUSDT").length >= settled + 10;
    });
    assert.ok(hub.framesSent > hub.framesEncoded, "most frames sent are the worker's bytes");

    // A second symbol watched mid-stream: its Hello, then consecutive frames.
    client.send({ kind: { case: "subscribe", value: { symbols: ["ETHUSDT"] } } });
    await until("ETHUSDT frames", () => client.frames("ETHUSDT").length >= 10);
    // Resync: a new Hello whose seq the next live frame continues.
    client.send({ kind: { case: "resync", value: { symbol: "BTCUSDT" } } });
    await until(
      "a second BTCUSDT Hello",
      () =>
        client.messages.filter((m) => m.kind.case === "hello" && m.kind.value.symbol === "BTCUSDT")
          .length === 2,
    );
    const count = client.frames("BTCUSDT").length;
    await until("frames after the resync", () => client.frames("BTCUSDT").length >= count + 5);

    for (const symbol of ["BTCUSDT", "ETHUSDT"]) {
      let seq = -1;
      for (const m of client.messages) {
        if (m.kind.case === "hello" && m.kind.value.symbol === symbol) {
          assert.equal(m.kind.value.epoch, hub.epoch);
          assert.ok(seq < 0 || m.kind.value.seq >= seq, "a Hello never goes back");
          seq = m.kind.value.seq;
        } else if (m.kind.case === "frame" && m.kind.value.symbol === symbol) {
          const f = m.kind.value;
          assert.equal(f.seq, seq + 1 + m.conflated, `${symbol} seq`);
          seq = f.seq;
          assert.ok(f.sentTime >= f.deliveredTime && f.deliveredTime > 0, "main filled its times");
          assert.ok(f.bidPrices.length > 0);
        }
      }
    }
  } finally {
    await client.close();
    await service.close();
  }
});
