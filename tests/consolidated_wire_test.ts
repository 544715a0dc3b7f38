/**
 * A consolidated instrument's frame on the wire: the venues block of the slot
 * (`FrameSlotLayout.venueMembers`) becomes `Frame.bid_venues`, `ask_venues`
 * and `venues` (fields 36–38) — the same bytes from the worker's slot and the
 * main thread's `encodeFrame`, within the slot's bound at the largest
 * layout — a plain symbol's frame gains no byte, and on the bus the epoch
 * (field 35) stays the last field, cut off cleanly.
 */
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { FrameSchema, VenueQuoteSchema } from "../proto/gen/market_pb.ts";
import {
  encodeFrame,
  encodeWireSlot,
  FRAME_FIELD,
  frameOfWire,
  VENUE_QUOTE_FIELD,
} from "../lib/analytics/wire_encoder.ts";
import {
  FRAME_ASK_COUNT,
  FRAME_BID_COUNT,
  FRAME_MID,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
  MAX_VENUE_MEMBERS,
} from "../lib/pipeline/frame_slot.ts";
import { MAX_SYMBOL_BYTES, WIRE_TAG_MAX_BYTES, WireSlotLayout } from "../lib/pipeline/wire_slot.ts";
import { MAX_BOOK_LEVELS } from "../lib/pipeline/book_slot.ts";
import { WorkerWire } from "../lib/server/worker_wire.ts";
import {
  busFrameEpoch,
  busFramePayload,
  EPOCH_TRAILER_BYTES,
  readBusFrame,
} from "../lib/bus/bus_frame.ts";

/** The symbols' UTF-8 names by id, as the hub encodes them once. */
const utf8Names = (names: readonly string[]) => names.map((n) => new TextEncoder().encode(n));

const utf8 = new TextEncoder();

/** A consolidated slot: `members` members (symbol ids 10, 11, …), levels alternating between them. */
function consolidatedSlot(layout: FrameSlotLayout, members: number, levels = layout.levels) {
  const f64 = new Float64Array(layout.slotWords).fill(NaN);
  f64[FRAME_SYMBOL_ID] = 0;
  f64[FRAME_MID] = 100;
  f64[FRAME_BID_COUNT] = levels;
  f64[FRAME_ASK_COUNT] = levels;
  for (let i = 0; i < levels; i++) {
    f64[layout.bidPrice(i)] = 99 - i;
    f64[layout.bidSize(i)] = 1;
    f64[layout.askPrice(i)] = 101 + i;
    f64[layout.askSize(i)] = 2;
    f64[layout.bidVenue(i)] = i % members;
    f64[layout.askVenue(i)] = (i + 1) % members;
  }
  f64[layout.venueCount()] = members;
  for (let k = 0; k < members; k++) {
    f64[layout.memberSymbol(k)] = 10 + k;
    f64[layout.memberBestBid(k)] = 99 - k;
    f64[layout.memberBestAsk(k)] = 101 + k;
    f64[layout.memberAge(k)] = k === 0 ? 0 : 12.5 * k; // 0 is not written and decodes as 0
    f64[layout.memberStale(k)] = k === 1 ? 1 : 0;
  }
  return f64;
}

/** Names by symbol id: ids 10… are the members. */
function names(members: number, length = 12): string[] {
  const out = Array.from({ length: 10 + members }, (_, i) => `S${i}`);
  for (let k = 0; k < members; k++) out[10 + k] = `OKX:M${k}-`.padEnd(length, "Z");
  return out;
}

Deno.test("consolidated wire: the venues block decodes as Frame.bid_venues, ask_venues and venues", () => {
  assert.deepEqual(
    [FRAME_FIELD.bidVenues, FRAME_FIELD.askVenues, FRAME_FIELD.venues],
    [36, 37, 38],
  );
  assert.deepEqual(Object.values(VENUE_QUOTE_FIELD), [1, 2, 3, 4, 5]);
  for (const field of VenueQuoteSchema.fields) {
    assert.ok(field.number < 2 ** (7 * WIRE_TAG_MAX_BYTES - 3));
  }
  const layout = new FrameSlotLayout({ levels: 5, venueMembers: 3 });
  const slot = consolidatedSlot(layout, 3);
  const symbols = names(3);
  const frame = fromBinary(
    FrameSchema,
    encodeFrame(slot, 0, layout, "X:BTC", 1, 2, utf8Names(symbols)),
  );
  assert.deepEqual(frame.bidVenues, [0, 1, 2, 0, 1]);
  assert.deepEqual(frame.askVenues, [1, 2, 0, 1, 2]);
  assert.deepEqual(
    frame.venues.map((v) => [v.symbol, v.bestBid, v.bestAsk, v.ageMs, v.stale]),
    [
      [symbols[10], 99, 101, 0, false],
      [symbols[11], 98, 102, 12.5, true],
      [symbols[12], 97, 103, 25, false],
    ],
  );
  // Without names the members go unnamed; everything else is the same.
  const unnamed = fromBinary(FrameSchema, encodeFrame(slot, 0, layout, "X:BTC", 1, 2));
  assert.deepEqual(unnamed.venues.map((v) => v.symbol), ["", "", ""]);
  assert.deepEqual(unnamed.bidVenues, frame.bidVenues);
});

Deno.test("consolidated wire: a plain symbol's frame in a venue layout is byte for byte the frame without one", () => {
  const plain = new FrameSlotLayout({ levels: 5 });
  const withVenues = new FrameSlotLayout({ levels: 5, venueMembers: 8 });
  assert.equal(plain.slotWords, withVenues.venuesStart, "the block only adds words at the end");
  assert.equal(withVenues.slotWords - plain.slotWords, 1 + 2 * 5 + 5 * 8);
  const a = new Float64Array(plain.slotWords).fill(1.5);
  a[FRAME_BID_COUNT] = 5;
  a[FRAME_ASK_COUNT] = 5;
  const b = new Float64Array(withVenues.slotWords).fill(7);
  b.set(a);
  b[withVenues.venueCount()] = 0; // what the analytics loop writes for a plain symbol
  assert.deepEqual(
    encodeFrame(b, 0, withVenues, "BTCUSDT", 3, 4, utf8Names(["BTCUSDT"])),
    encodeFrame(a, 0, plain, "BTCUSDT", 3, 4),
  );
});

Deno.test("consolidated wire: the largest consolidated frame fits its slot; worker and main bytes agree", () => {
  for (const levels of [20, MAX_BOOK_LEVELS]) {
    const frame = new FrameSlotLayout({ levels, venueMembers: MAX_VENUE_MEMBERS });
    const wire = new WireSlotLayout(frame);
    const f64 = new Float64Array(3 * wire.slotWords).fill(-7.25);
    const u8 = new Uint8Array(f64.buffer);
    const base = wire.slotWords;
    f64.set(consolidatedSlot(frame, MAX_VENUE_MEMBERS), base);
    const symbols = names(MAX_VENUE_MEMBERS, MAX_SYMBOL_BYTES);
    const bytes = symbols.map((s) => utf8.encode(s));
    const name = "X:".padEnd(MAX_SYMBOL_BYTES, "Q");
    const n = encodeWireSlot(u8, f64, base, wire, utf8.encode(name), bytes);
    assert.ok(n <= wire.maxWireBytes, `${n} > ${wire.maxWireBytes}`);
    for (const w of [...f64.subarray(0, base), ...f64.subarray(2 * wire.slotWords)]) {
      assert.equal(w, -7.25, "nothing written past the slot");
    }
    const staged = new WorkerWire(wire);
    staged.stage(u8, f64, base);
    const sent = frameOfWire(staged.take(0, 9, 1.5, 2.5)!);
    const main = encodeFrame(f64, base, frame, name, 9, 2.5, utf8Names(symbols));
    // Main leaves delivered time as in the slot (NaN) where the worker's copy has 1.5.
    const decodedSent = fromBinary(FrameSchema, sent);
    const decodedMain = fromBinary(FrameSchema, main);
    assert.equal(decodedSent.venues.length, MAX_VENUE_MEMBERS);
    assert.deepEqual(decodedSent.venues, decodedMain.venues);
    assert.deepEqual(decodedSent.bidVenues, decodedMain.bidVenues);
    assert.equal(decodedSent.bidVenues.length, levels);
    assert.equal(decodedSent.venues[7].symbol, symbols[17]);
  }
});

Deno.test("consolidated wire: on the bus the epoch stays the last field and is cut off cleanly", () => {
  const layout = new FrameSlotLayout({ levels: 5, venueMembers: 3 });
  const slot = consolidatedSlot(layout, 3);
  const symbols = names(3);
  const frameBytes = encodeFrame(slot, 0, layout, "X:BTC", 4, 5, utf8Names(symbols));
  const payload = busFramePayload(frameBytes, 77);
  assert.equal(busFrameEpoch(payload), 77);
  // The trailer is the payload's last bytes: the frame before it is the frame as sent.
  assert.deepEqual(payload.subarray(0, payload.length - EPOCH_TRAILER_BYTES), frameBytes);
  const decoded = fromBinary(FrameSchema, payload);
  assert.equal(decoded.epoch, 77);
  assert.deepEqual(decoded.bidVenues, [0, 1, 2, 0, 1]);
  // The bus decoder reads the frame (skipping the venue fields it does not store).
  const into = new Float64Array(layout.slotWords);
  const info = readBusFrame(payload, into, 0, layout);
  assert.ok(info !== null);
  assert.equal(info.epoch, 77);
  assert.equal(info.frameLength, frameBytes.length);
  assert.equal(into[FRAME_MID], 100);
  assert.equal(into[FRAME_BID_COUNT], 5);
});
