/**
 * The two ends of a frame's bytes on the bus: an ingest node takes the
 * `Frame` message out of the worker's slot (`WorkerWire.frameView`, whether
 * or not the hub took the slot's bytes first) and publishes it with its epoch;
 * a dashboard node decodes it (`readBusFrame`) and its hub sends the received
 * bytes (`BusWire.take`) with its own seq and times: byte for byte what the
 * hub would have encoded from the decoded slot.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBinary } from "@bufbuild/protobuf";
import { ServerMessageSchema } from "../proto/gen/market_pb.ts";
import {
  type BusFrameInfo,
  busFramePayload,
  newBusFrameInfo,
  readBusFrame,
} from "../lib/bus/bus_frame.ts";
import {
  encodeFrame,
  encodeWireSlot,
  frameOfWire,
  wireFrame,
} from "../lib/analytics/wire_encoder.ts";
import {
  FRAME_DELIVERED_TIME,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { MAX_SYMBOL_BYTES, WIRE_LENGTH, WireSlotLayout } from "../lib/pipeline/wire_slot.ts";
import { BusWire } from "../lib/server/bus_wire.ts";
import { WorkerWire } from "../lib/server/worker_wire.ts";
import { HistoryStore } from "../lib/server/history_store.ts";
import { WsHub } from "../lib/server/ws_hub.ts";
import { serveHttp } from "../lib/net/http_server.ts";
import { differingWords, layoutArb, slotArb } from "./fixtures/frame_slot_arbitrary.ts";

/** A double a node fills in (seq, delivered, sent): never 0. */
const filled = fc.double().filter((v) => v !== 0);
const epochArb = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const symbolArb = fc.stringMatching(new RegExp(`^[A-Z0-9]{1,${MAX_SYMBOL_BYTES}}$`));
const utf8 = new TextEncoder();

/** What the hub would send for `slot` (delivered time set) encoded on its own thread. */
function hubBytes(
  slot: Float64Array,
  layout: FrameSlotLayout,
  symbol: string,
  seq: number,
  delivered: number,
  sent: number,
): Uint8Array {
  const copy = slot.slice();
  copy[FRAME_DELIVERED_TIME] = delivered;
  return wireFrame(encodeFrame(copy, 0, layout, symbol, seq, sent));
}

Deno.test("bus wire: a received frame is sent as the hub would encode its decoded slot, with this node's seq and times", () => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant(layout),
          slotArb(layout),
          fc.string({ unit: "grapheme", maxLength: 40 }),
          fc.tuple(filled, filled, filled),
          fc.tuple(filled, filled, filled),
          epochArb,
        )
      ),
      ([layout, slot, symbol, [pubSeq, pubDelivered, pubSent], [seq, delivered, sent], epoch]) => {
        slot[FRAME_DELIVERED_TIME] = pubDelivered;
        const payload = busFramePayload(
          encodeFrame(slot, 0, layout, symbol, pubSeq, pubSent),
          epoch,
        );
        const before = payload.slice();
        const received = new Float64Array(layout.slotWords);
        received[FRAME_SYMBOL_ID] = 3;
        const info = readBusFrame(payload, received, 0, layout);
        assert.ok(info);
        const wire = new BusWire();
        wire.stage(3, payload, info);
        assert.equal(wire.take(2, seq, delivered, sent), null, "another symbol's bytes");
        assert.equal(wire.take(3, seq, 0, sent), null, "a 0 the encoder would not write");
        const bytes = wire.take(3, seq, delivered, sent);
        assert.equal(wire.take(3, seq, delivered, sent), null, "taken once");
        assert.deepStrictEqual(bytes, hubBytes(received, layout, symbol, seq, delivered, sent));
        assert.equal(bytes!.byteOffset, 0);
        assert.equal(bytes!.buffer.byteLength, bytes!.length, "one buffer of its own");
        assert.deepStrictEqual(payload, before, "the payload is only read");
        const frame = fromBinary(ServerMessageSchema, payloadOf(bytes!));
        assert.equal(frame.kind.case, "frame");
        assert.equal(frame.kind.value!.epoch, 0, "browsers never get the epoch");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("bus wire: the worker's frame goes to the bus and back, whether or not the hub took it first", () => {
  fc.assert(
    fc.property(
      layoutArb.chain((layout) =>
        fc.tuple(
          fc.constant(layout),
          slotArb(layout),
          fc.integer({ min: 0, max: 2 }),
          symbolArb,
          fc.tuple(filled, filled, filled),
          fc.tuple(filled, filled, filled),
          epochArb,
          fc.boolean(),
        )
      ),
      (
        [
          layout,
          slot,
          index,
          symbol,
          [seq, delivered, sent],
          [seq2, delivered2, sent2],
          epoch,
          hubFirst,
        ],
      ) => {
        // The ingest node: the worker encodes into slot `index` of a batch, main stages it.
        const wireLayout = new WireSlotLayout(layout);
        const f64 = new Float64Array(3 * wireLayout.slotWords).fill(0.25);
        const u8 = new Uint8Array(f64.buffer);
        const base = index * wireLayout.slotWords;
        f64.set(slot, base);
        f64[base + FRAME_SYMBOL_ID] = 1;
        f64[base + FRAME_DELIVERED_TIME] = NaN; // as the analyser leaves it
        encodeWireSlot(u8, f64, base, wireLayout, utf8.encode(symbol));
        const staged = new WorkerWire(wireLayout);
        staged.stage(u8, f64, base);
        const took = hubFirst ? staged.take(1, seq, delivered, sent) : null;
        assert.equal(staged.frameView(0, seq, delivered, sent), null, "another symbol");
        assert.equal(staged.frameView(1, 0, delivered, sent), null, "a 0");
        const view = staged.frameView(1, seq, delivered, sent)!;
        assert.ok(view, "a view whether or not the hub took the bytes");
        assert.equal(view.buffer, f64.buffer, "a view into the slot, not a copy");
        assert.deepStrictEqual(
          staged.frameView(1, seq, delivered, sent),
          view,
          "any number of times",
        );
        f64[base + FRAME_DELIVERED_TIME] = delivered; // what main's consumer stamps
        const expected = encodeFrame(f64, base, layout, symbol, seq, sent);
        assert.deepStrictEqual(view.slice(), expected);
        if (took) assert.deepStrictEqual(frameOfWire(took), expected);
        else assert.deepStrictEqual(staged.take(1, seq, delivered, sent), wireFrame(expected));
        // The dashboard node: decode, then its hub sends with its own seq and times.
        const payload = busFramePayload(view, epoch);
        const received = new Float64Array(layout.slotWords);
        const info = readBusFrame(payload, received, 0, layout)!;
        assert.ok(info);
        assert.equal(info.epoch, epoch);
        assert.ok(Object.is(info.seq, seq));
        assert.ok(Object.is(received[FRAME_DELIVERED_TIME], delivered));
        const expectedSlot = f64.slice(base, base + layout.slotWords);
        expectedSlot[FRAME_SYMBOL_ID] = 0;
        assert.deepStrictEqual(differingWords(received, expectedSlot), []);
        const wire = new BusWire();
        wire.stage(1, payload, info);
        assert.deepStrictEqual(
          wire.take(1, seq2, delivered2, sent2),
          hubBytes(received, layout, symbol, seq2, delivered2, sent2),
        );
        // After clear, or a slot the worker left without bytes, there is nothing to view.
        staged.clear();
        assert.equal(staged.frameView(1, seq, delivered, sent), null);
        f64[base + wireLayout.headerStart + WIRE_LENGTH] = 0;
        staged.stage(u8, f64, base);
        assert.equal(staged.frameView(1, seq, delivered, sent), null);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("bus wire: every WebSocket header size, and a frame without a patchable field is left to the hub", () => {
  for (const n of [24, 125, 200, 70_000]) {
    const payload = new Uint8Array(n + 10).map((_, i) => i * 7);
    const info: BusFrameInfo = {
      ...newBusFrameInfo(),
      frameLength: n,
      seqAt: 0,
      deliveredAt: 8,
      sentAt: n - 8,
    };
    const wire = new BusWire();
    wire.stage(5, payload, info);
    const bytes = wire.take(5, 1.5, 2.5, 3.5)!;
    const frame = payload.slice(0, n);
    const view = new DataView(frame.buffer);
    view.setFloat64(0, 1.5, true);
    view.setFloat64(8, 2.5, true);
    view.setFloat64(n - 8, 3.5, true);
    assert.deepStrictEqual(bytes, wireFrame(frame), `a frame of ${n} bytes`);
  }
  const wire = new BusWire();
  const payload = new Uint8Array(40);
  for (const at of ["seqAt", "deliveredAt", "sentAt"] as const) {
    wire.stage(0, payload, {
      ...newBusFrameInfo(),
      frameLength: 30,
      seqAt: 0,
      deliveredAt: 8,
      sentAt: 16,
      [at]: -1,
    });
    assert.equal(wire.take(0, 1, 1, 1), null, `no ${at}`);
  }
  wire.stage(0, payload, {
    ...newBusFrameInfo(),
    frameLength: 30,
    seqAt: 0,
    deliveredAt: 8,
    sentAt: 16,
  });
  wire.clear();
  assert.equal(wire.take(0, 1, 1, 1), null, "cleared");
});

/** The payload of an unmasked WebSocket frame. */
function payloadOf(wire: Uint8Array): Uint8Array {
  const len7 = wire[1] & 0x7f;
  return wire.subarray(len7 < 126 ? 2 : len7 === 126 ? 4 : 10);
}

Deno.test("bus wire: a hub given a BusWire sends the received bytes and encodes nothing", async () => {
  const layout = new FrameSlotLayout({ levels: 5 });
  const history = new HistoryStore({ symbols: 2, layout });
  const wire = new BusWire();
  const hub = new WsHub({ history, symbols: ["BTCUSDT", "ETHUSDT"], wire });
  const stored: number[] = [];
  history.subscribe((_s, _f64, _base, storedAt) => stored.push(storedAt));
  const server = serveHttp(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => hub.upgrade(req),
  );
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/ws?symbol=ETHUSDT`);
  ws.binaryType = "arraybuffer";
  const raw: Uint8Array[] = [];
  ws.onmessage = (e) => raw.push(new Uint8Array(e.data as ArrayBuffer));
  try {
    await new Promise((r) => ws.onopen = r);
    await until("the Hello", () => raw.length === 1);
    const published = new Float64Array(layout.slotWords).fill(2.5);
    published[FRAME_SYMBOL_ID] = 1;
    const slot = new Float64Array(layout.slotWords);
    for (let k = 1; k <= 3; k++) {
      published[FRAME_DELIVERED_TIME] = 1000 + k;
      const payload = busFramePayload(
        encodeFrame(published, 0, layout, "ETHUSDT", 40 + k, 2000 + k),
        7,
      );
      const info = readBusFrame(payload, slot, 0, layout)!;
      slot[FRAME_SYMBOL_ID] = 1;
      slot[FRAME_DELIVERED_TIME] = 5000 + k; // this node's delivery
      wire.stage(1, payload, info);
      history.push(slot);
      wire.clear();
    }
    assert.equal(hub.framesEncoded, 0);
    await until("three frames", () => raw.length === 4);
    for (let k = 1; k <= 3; k++) {
      published[FRAME_DELIVERED_TIME] = 5000 + k;
      const expected = wireFrame(encodeFrame(published, 0, layout, "ETHUSDT", k, stored[k - 1]));
      assert.deepStrictEqual(
        raw[k],
        payloadOf(expected),
        `frame ${k}: seq ${k}, not the publisher's`,
      );
    }
  } finally {
    const closed = new Promise((r) => ws.onclose = r);
    ws.close();
    await closed;
    hub.close();
    await server.shutdown();
  }
});

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
