/**
 * Wire encoding of analytics frames: one analytics slot (a run of float64
 * words laid out by {@link FrameSlotLayout}) becomes the bytes of a
 * `depthwatch.v1.Frame` (see `proto/market.proto`), and those bytes become a
 * WebSocket binary frame whose payload is `ServerMessage { frame }`.
 *
 * The analytics worker encodes each frame of a watched symbol straight into
 * its processed-ring slot ({@link encodeWireSlot}, layout `wire_slot.ts`),
 * allocating nothing; the main thread copies those bytes once and sends the
 * copy to every client. The main thread uses {@link encodeFrame} (history in a
 * Hello, the first frames of a symbol that just became watched) and
 * {@link wireFrame}; both write with the same writer, so every path produces
 * the same bytes.
 *
 * The writer writes the protobuf wire format directly into a byte array
 * (field numbers are read from the generated schema, never written here); a
 * nested message's length is written after its fields, moving them when the
 * length needs more than one byte, so every length is the shortest varint, as
 * protobuf-es writes it.
 *
 * Numbers: doubles are sent as they are, NaN included (proto3 doubles carry
 * NaN; the decoder gives NaN back). Like any proto3 implicit field, a zero is
 * not written and decodes as 0, so −0 arrives as +0. Counts (`flags`, wall
 * counts) are unsigned 32-bit: a NaN or negative count is sent as 0.
 *
 * @example
 * ```ts
 * import { encodeFrame, wireFrame } from "./wire_encoder.ts";
 * import { fromBinary } from "@bufbuild/protobuf";
 * import { FrameSlotLayout, FRAME_MID } from "../pipeline/frame_slot.ts";
 * import { FrameSchema } from "../../proto/gen/market_pb.ts";
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const slot = new Float64Array(layout.slotWords).fill(NaN);
 * slot[FRAME_MID] = 100.5;
 * const frameBytes = encodeFrame(slot, 0, layout, "BTCUSDT", 1, Date.now());
 * fromBinary(FrameSchema, frameBytes).mid; // 100.5
 * wireFrame(frameBytes); // the WebSocket frame the hub sends
 * ```
 * @module
 */

import { WireType } from "@bufbuild/protobuf/wire";
import {
  DEPTH_BANDS_BPS,
  FRAME_ANALYSED_TIME,
  FRAME_ASK_COUNT,
  FRAME_ASK_WALL_COUNT,
  FRAME_BID_COUNT,
  FRAME_BID_WALL_COUNT,
  FRAME_DELIVERED_TIME,
  FRAME_EVENT_TIME,
  FRAME_FLAGS,
  FRAME_IMBALANCE_1,
  FRAME_IMBALANCE_20,
  FRAME_IMBALANCE_5,
  FRAME_LAST_UPDATE_ID,
  FRAME_MID,
  FRAME_OFI,
  FRAME_OFI_10S,
  FRAME_OFI_1S,
  FRAME_OFI_L1,
  FRAME_OFI_L1_10S,
  FRAME_OFI_L1_1S,
  FRAME_PARSED_TIME,
  FRAME_RATE,
  FRAME_RECEIVE_TIME,
  FRAME_SEQUENCE,
  FRAME_SPREAD,
  FRAME_SPREAD_BPS,
  FRAME_VOLATILITY_1M,
  FRAME_VOLATILITY_5M,
  FRAME_WALL_THRESHOLD,
  FRAME_WEIGHTED_MID,
  type FrameSlotLayout,
  slippageExceedsBit,
} from "../pipeline/frame_slot.ts";
import { storedCount } from "../pipeline/level_block.ts";
import {
  MAX_SYMBOL_BYTES,
  maxFrameBytes,
  varintBytes,
  WIRE_DELIVERED_AT,
  WIRE_LENGTH,
  WIRE_SENT_AT,
  WIRE_SEQ_AT,
  WIRE_START,
  type WireSlotLayout,
  wsHeaderBytes,
} from "../pipeline/wire_slot.ts";
import {
  DepthBandSchema,
  FrameSchema,
  ServerMessageSchema,
  SlippageSchema,
  VenueQuoteSchema,
  WallsSchema,
} from "../../proto/gen/market_pb.ts";

/**
 * Field numbers of a generated message, by its TypeScript field name.
 *
 * @throws Error when the generated code lacks one of the fields (`deno task proto`).
 * @example
 * ```ts
 * import { fieldNumbers } from "./wire_encoder.ts";
 * import { ServerMessageSchema } from "../../proto/gen/market_pb.ts";
 * fieldNumbers(ServerMessageSchema, ["frame"]).frame; // 2
 * ```
 */
export function fieldNumbers<T extends string>(
  schema: { field: Record<string, { number: number }> },
  names: readonly T[],
): Record<T, number> {
  const out = {} as Record<T, number>;
  for (const name of names) {
    const field = schema.field[name];
    if (!field) throw new Error(`proto/gen is out of date: field "${name}" is missing`);
    out[name] = field.number;
  }
  return out;
}

/**
 * The `Frame` field numbers by name (read from the generated schema), shared
 * by every writer and reader of frames (`lib/bus/bus_frame.ts` decodes them).
 *
 * @example
 * ```ts
 * import { FRAME_FIELD } from "./wire_encoder.ts";
 * FRAME_FIELD.mid; // 12
 * ```
 */
export const FRAME_FIELD = fieldNumbers(FrameSchema, [
  "symbol",
  "seq",
  "lastUpdateId",
  "flags",
  "eventTime",
  "receiveTime",
  "parsedTime",
  "analysedTime",
  "deliveredTime",
  "sentTime",
  "frameRate",
  "mid",
  "spread",
  "spreadBps",
  "weightedMid",
  "imbalanceL1",
  "imbalanceL5",
  "imbalanceL20",
  "ofi",
  "ofiL1",
  "ofi1s",
  "ofi10s",
  "ofiL11s",
  "ofiL110s",
  "volatility1m",
  "volatility5m",
  "depth",
  "slippage",
  "walls",
  "bidPrices",
  "bidSizes",
  "askPrices",
  "askSizes",
  "analysedSeq",
  "bidVenues",
  "askVenues",
  "venues",
]);
/**
 * The `VenueQuote` field numbers by name.
 *
 * @example
 * ```ts
 * import { VENUE_QUOTE_FIELD } from "./wire_encoder.ts";
 * VENUE_QUOTE_FIELD.stale; // 5
 * ```
 */
export const VENUE_QUOTE_FIELD = fieldNumbers(VenueQuoteSchema, [
  "symbol",
  "bestBid",
  "bestAsk",
  "ageMs",
  "stale",
]);
/**
 * The `DepthBand` field numbers by name.
 *
 * @example
 * ```ts
 * import { DEPTH_BAND_FIELD } from "./wire_encoder.ts";
 * DEPTH_BAND_FIELD.bps; // 1
 * ```
 */
export const DEPTH_BAND_FIELD = fieldNumbers(DepthBandSchema, [
  "bps",
  "bidBase",
  "bidQuote",
  "askBase",
  "askQuote",
]);
/**
 * The `Slippage` field numbers by name.
 *
 * @example
 * ```ts
 * import { SLIPPAGE_FIELD } from "./wire_encoder.ts";
 * SLIPPAGE_FIELD.notional; // 1
 * ```
 */
export const SLIPPAGE_FIELD = fieldNumbers(SlippageSchema, [
  "notional",
  "buyBps",
  "sellBps",
  "buyFilledQuote",
  "sellFilledQuote",
  "buyExceeds",
  "sellExceeds",
]);
/**
 * The `Walls` field numbers by name.
 *
 * @example
 * ```ts
 * import { WALLS_FIELD } from "./wire_encoder.ts";
 * WALLS_FIELD.threshold; // 1
 * ```
 */
export const WALLS_FIELD = fieldNumbers(WallsSchema, [
  "threshold",
  "bidCount",
  "askCount",
  "bidPrices",
  "bidSizes",
  "askPrices",
  "askSizes",
]);
const F = FRAME_FIELD;
const D = DEPTH_BAND_FIELD;
const S = SLIPPAGE_FIELD;
const W = WALLS_FIELD;
const V = VENUE_QUOTE_FIELD;
/** No member names: `VenueQuote.symbol` is left out. */
const NO_NAMES: readonly Uint8Array[] = [];
/** The tag of `ServerMessage.frame` (one byte). */
const FRAME_TAG = (ServerMessageSchema.field.frame.number << 3) | WireType.LengthDelimited;

/**
 * Writes protobuf fields into a byte array at `pos`. One instance per thread,
 * reused: writing allocates nothing.
 */
class ProtoWriter {
  out: Uint8Array = new Uint8Array(0);
  pos = 0;
  /** Where the last forced seq / delivered / sent doubles were written (see `frame`). */
  seqAt = -1;
  deliveredAt = -1;
  sentAt = -1;
  readonly #scratch = new DataView(new ArrayBuffer(8));

  varint(v: number): void {
    const out = this.out;
    let p = this.pos;
    while (v >= 0x80) {
      out[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    out[p++] = v;
    this.pos = p;
  }

  tag(field: number, type: WireType): void {
    this.varint(field * 8 + type);
  }

  /** 8 little-endian bytes of `v`, as protobuf-es writes a double. */
  fixed64(v: number): void {
    const s = this.#scratch;
    s.setFloat64(0, v, true);
    const out = this.out;
    const p = this.pos;
    for (let i = 0; i < 8; i++) out[p + i] = s.getUint8(i);
    this.pos = p + 8;
  }

  /** A double field; proto3 implicit presence: 0 is not written, NaN is. */
  double(field: number, v: number): void {
    if (v === 0) return;
    this.tag(field, WireType.Bit64);
    this.fixed64(v);
  }

  /** A double field written whatever its value; returns where its 8 bytes are. */
  forced(field: number, v: number): number {
    this.tag(field, WireType.Bit64);
    const at = this.pos;
    this.fixed64(v);
    return at;
  }

  uint32(field: number, v: number): void {
    const n = v >= 1 ? (v >= 0xffffffff ? 0xffffffff : Math.floor(v)) : 0;
    if (n === 0) return;
    this.tag(field, WireType.Varint);
    this.varint(n);
  }

  /** Open a length-delimited field; returns the position of its length byte for {@link join}. */
  fork(field: number): number {
    this.tag(field, WireType.LengthDelimited);
    return this.pos++;
  }

  /** Close the field opened by {@link fork}: write its length, moving its bytes when it needs more than one. */
  join(at: number): void {
    const len = this.pos - at - 1;
    const n = varintBytes(len);
    if (n > 1) {
      this.out.copyWithin(at + n, at + 1, this.pos);
      this.pos += n - 1;
    }
    const end = this.pos;
    this.pos = at;
    this.varint(len);
    this.pos = end;
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WireType.LengthDelimited);
    this.varint(b.length);
    this.out.set(b, this.pos);
    this.pos += b.length;
  }

  /** Packed repeated double from `n` words starting at `at`, `stride` apart. */
  packed(field: number, f64: Float64Array, at: number, n: number, stride: number): void {
    if (n <= 0) return;
    this.tag(field, WireType.LengthDelimited);
    this.varint(8 * n);
    for (let i = 0; i < n; i++) this.fixed64(f64[at + i * stride]);
  }

  /**
   * The fields of one `Frame`. With `force`, seq, delivered time and sent
   * time are written even when 0 and their positions recorded (placeholders
   * the main thread patches).
   */
  frame(
    f64: Float64Array,
    base: number,
    layout: FrameSlotLayout,
    symbol: Uint8Array,
    seq: number,
    sentTime: number,
    force: boolean,
    names: readonly Uint8Array[],
  ): void {
    const flags = f64[base + FRAME_FLAGS] | 0;
    if (symbol.length) this.bytes(F.symbol, symbol);
    if (force) this.seqAt = this.forced(F.seq, seq);
    else this.double(F.seq, seq);
    this.double(F.lastUpdateId, f64[base + FRAME_LAST_UPDATE_ID]);
    if (flags !== 0) {
      this.tag(F.flags, WireType.Varint);
      this.varint(flags >>> 0);
    }
    this.double(F.eventTime, f64[base + FRAME_EVENT_TIME]);
    this.double(F.receiveTime, f64[base + FRAME_RECEIVE_TIME]);
    this.double(F.parsedTime, f64[base + FRAME_PARSED_TIME]);
    this.double(F.analysedTime, f64[base + FRAME_ANALYSED_TIME]);
    if (force) this.deliveredAt = this.forced(F.deliveredTime, f64[base + FRAME_DELIVERED_TIME]);
    else this.double(F.deliveredTime, f64[base + FRAME_DELIVERED_TIME]);
    if (force) this.sentAt = this.forced(F.sentTime, sentTime);
    else this.double(F.sentTime, sentTime);
    this.double(F.frameRate, f64[base + FRAME_RATE]);
    this.double(F.mid, f64[base + FRAME_MID]);
    this.double(F.spread, f64[base + FRAME_SPREAD]);
    this.double(F.spreadBps, f64[base + FRAME_SPREAD_BPS]);
    this.double(F.weightedMid, f64[base + FRAME_WEIGHTED_MID]);
    this.double(F.imbalanceL1, f64[base + FRAME_IMBALANCE_1]);
    this.double(F.imbalanceL5, f64[base + FRAME_IMBALANCE_5]);
    this.double(F.imbalanceL20, f64[base + FRAME_IMBALANCE_20]);
    this.double(F.ofi, f64[base + FRAME_OFI]);
    this.double(F.ofiL1, f64[base + FRAME_OFI_L1]);
    this.double(F.ofi1s, f64[base + FRAME_OFI_1S]);
    this.double(F.ofi10s, f64[base + FRAME_OFI_10S]);
    this.double(F.ofiL11s, f64[base + FRAME_OFI_L1_1S]);
    this.double(F.ofiL110s, f64[base + FRAME_OFI_L1_10S]);
    this.double(F.volatility1m, f64[base + FRAME_VOLATILITY_1M]);
    this.double(F.volatility5m, f64[base + FRAME_VOLATILITY_5M]);
    for (let b = 0; b < DEPTH_BANDS_BPS.length; b++) {
      const at = this.fork(F.depth);
      this.double(D.bps, DEPTH_BANDS_BPS[b]);
      this.double(D.bidBase, f64[base + layout.depthBidBase(b)]);
      this.double(D.bidQuote, f64[base + layout.depthBidQuote(b)]);
      this.double(D.askBase, f64[base + layout.depthAskBase(b)]);
      this.double(D.askQuote, f64[base + layout.depthAskQuote(b)]);
      this.join(at);
    }
    for (let i = 0; i < layout.notionals.length; i++) {
      const at = this.fork(F.slippage);
      this.double(S.notional, layout.notionals[i]);
      this.double(S.buyBps, f64[base + layout.slippageBuyBps(i)]);
      this.double(S.sellBps, f64[base + layout.slippageSellBps(i)]);
      this.double(S.buyFilledQuote, f64[base + layout.slippageBuyFilled(i)]);
      this.double(S.sellFilledQuote, f64[base + layout.slippageSellFilled(i)]);
      if (flags & slippageExceedsBit(i, 0)) this.#true(S.buyExceeds);
      if (flags & slippageExceedsBit(i, 1)) this.#true(S.sellExceeds);
      this.join(at);
    }
    const walls = this.fork(F.walls);
    this.double(W.threshold, f64[base + FRAME_WALL_THRESHOLD]);
    const bidWalls = f64[base + FRAME_BID_WALL_COUNT];
    const askWalls = f64[base + FRAME_ASK_WALL_COUNT];
    this.uint32(W.bidCount, bidWalls);
    this.uint32(W.askCount, askWalls);
    const nBidWalls = Math.ceil(storedCount(bidWalls, layout.wallsPerSide));
    const nAskWalls = Math.ceil(storedCount(askWalls, layout.wallsPerSide));
    this.packed(W.bidPrices, f64, base + layout.wallPrice(0, 0), nBidWalls, 2);
    this.packed(W.bidSizes, f64, base + layout.wallSize(0, 0), nBidWalls, 2);
    this.packed(W.askPrices, f64, base + layout.wallPrice(1, 0), nAskWalls, 2);
    this.packed(W.askSizes, f64, base + layout.wallSize(1, 0), nAskWalls, 2);
    this.join(walls);
    const nBids = Math.ceil(storedCount(f64[base + FRAME_BID_COUNT], layout.levels));
    const nAsks = Math.ceil(storedCount(f64[base + FRAME_ASK_COUNT], layout.levels));
    this.packed(F.bidPrices, f64, base + layout.bidPrice(0), nBids, 2);
    this.packed(F.bidSizes, f64, base + layout.bidSize(0), nBids, 2);
    this.packed(F.askPrices, f64, base + layout.askPrice(0), nAsks, 2);
    this.packed(F.askSizes, f64, base + layout.askSize(0), nAsks, 2);
    this.double(F.analysedSeq, f64[base + FRAME_SEQUENCE]);
    if (layout.venueMembers > 0) this.#venues(f64, base, layout, nBids, nAsks, names);
  }

  /**
   * A consolidated instrument's venue fields (none for a plain symbol's
   * frame, whose member count is 0): the member index of every level sent,
   * then one `VenueQuote` per member. Written before `epoch` (the bus
   * appends it after the frame: it must stay last).
   */
  #venues(
    f64: Float64Array,
    base: number,
    layout: FrameSlotLayout,
    nBids: number,
    nAsks: number,
    names: readonly Uint8Array[],
  ): void {
    const members = storedCount(f64[base + layout.venueCount()], layout.venueMembers);
    if (!(members >= 1)) return;
    this.#indexes(F.bidVenues, f64, base + layout.bidVenue(0), nBids);
    this.#indexes(F.askVenues, f64, base + layout.askVenue(0), nAsks);
    for (let k = 0; k < members; k++) {
      const at = this.fork(F.venues);
      const name = names[f64[base + layout.memberSymbol(k)]];
      if (name !== undefined && name.length > 0) this.bytes(V.symbol, name);
      this.double(V.bestBid, f64[base + layout.memberBestBid(k)]);
      this.double(V.bestAsk, f64[base + layout.memberBestAsk(k)]);
      this.double(V.ageMs, f64[base + layout.memberAge(k)]);
      if (f64[base + layout.memberStale(k)] === 1) this.#true(V.stale);
      this.join(at);
    }
  }

  /** Packed repeated uint32 of `n` member indexes (each 0…7, one byte) from word `at` on. */
  #indexes(field: number, f64: Float64Array, at: number, n: number): void {
    if (n <= 0) return;
    this.tag(field, WireType.LengthDelimited);
    this.varint(n);
    const out = this.out;
    for (let i = 0; i < n; i++) out[this.pos++] = f64[at + i] & 7;
  }

  #true(field: number): void {
    this.tag(field, WireType.Varint);
    this.varint(1);
  }

  /**
   * The WebSocket header, `ServerMessage.frame` tag and length of a `Frame`
   * of `n` bytes, written to END at `end` (where the frame starts); returns
   * where they start.
   */
  framing(end: number, n: number): number {
    const payload = 1 + varintBytes(n) + n;
    const header = wsHeaderBytes(payload);
    const start = end - (header + 1 + varintBytes(n));
    const out = this.out;
    out[start] = 0x82; // FIN, binary
    if (header === 2) {
      out[start + 1] = payload;
    } else if (header === 4) {
      out[start + 1] = 126;
      out[start + 2] = payload >>> 8;
      out[start + 3] = payload & 0xff;
    } else {
      out[start + 1] = 127;
      const high = Math.floor(payload / 0x1_0000_0000);
      for (let i = 0; i < 4; i++) out[start + 2 + i] = (high >>> (24 - 8 * i)) & 0xff;
      for (let i = 0; i < 4; i++) out[start + 6 + i] = (payload >>> (24 - 8 * i)) & 0xff;
    }
    out[start + header] = FRAME_TAG;
    this.pos = start + header + 1;
    this.varint(n);
    return start;
  }
}

/** The one writer of this thread. */
const writer = new ProtoWriter();
/** The main thread's scratch for {@link encodeFrame} (grows to the largest frame, then stays). */
let scratch = new Uint8Array(0);
const utf8 = new TextEncoder();

/**
 * Encode the analytics slot at word `base` of `f64` as the bytes of one
 * `depthwatch.v1.Frame` (not yet wrapped: see {@link wireFrame}). Reads the
 * slot in place; allocates the result (and the symbol's UTF-8 bytes). For the
 * main thread; the worker's path is {@link encodeWireSlot}.
 *
 * @param f64 the array holding the slot (e.g. `HistoryStore.f64(symbolId)`).
 * @param base the slot's first word in `f64`.
 * @param layout the slot layout.
 * @param symbol the symbol's upper-case name, written as `Frame.symbol`.
 * @param seq the hub's sequence number for this frame (`Frame.seq`).
 * @param sentTime epoch ms written as `Frame.sent_time`.
 * @param names every symbol's UTF-8 name by symbol id, encoded once by the
 *   caller (as the hub's list, each at most `MAX_SYMBOL_BYTES`), for
 *   `VenueQuote.symbol` of a consolidated instrument's members. Default none:
 *   the members go unnamed.
 * @throws RangeError when the slot does not fit in `f64` at `base`.
 * @example
 * ```ts
 * import { encodeFrame } from "./wire_encoder.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const bytes = encodeFrame(new Float64Array(layout.slotWords), 0, layout, "ETHUSDT", 7, 0);
 * bytes.length > 0; // true
 * ```
 */
export function encodeFrame(
  f64: Float64Array,
  base: number,
  layout: FrameSlotLayout,
  symbol: string,
  seq: number,
  sentTime: number,
  names: readonly Uint8Array[] = NO_NAMES,
): Uint8Array<ArrayBuffer> {
  if (!(base >= 0) || base + layout.slotWords > f64.length) {
    throw new RangeError(
      `encodeFrame: a slot of ${layout.slotWords} words at word ${base} does not fit an array of ${f64.length} words`,
    );
  }
  const name = utf8.encode(symbol);
  const room = maxFrameBytes(layout, name.length);
  if (scratch.length < room) scratch = new Uint8Array(room);
  writer.out = scratch;
  writer.pos = 0;
  writer.frame(
    f64,
    base,
    layout,
    name,
    seq,
    sentTime,
    false,
    names,
  );
  return scratch.slice(0, writer.pos);
}

/**
 * Encoded `Frame` bytes (from {@link encodeFrame}) as one unfragmented binary
 * WebSocket frame (RFC 6455 §5.2, server to client: unmasked) whose payload
 * is `ServerMessage { frame }`, in ONE allocation: the same bytes as
 * {@link encodeWireSlot} writes into a processed slot. The `Frame` bytes are
 * its last `frameBytes.length` bytes.
 *
 * @example
 * ```ts
 * import { encodeFrame, wireFrame } from "./wire_encoder.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 1 });
 * const frame = encodeFrame(new Float64Array(layout.slotWords), 0, layout, "BTCUSDT", 1, 0);
 * wireFrame(frame)[0]; // 0x82: FIN, binary
 * ```
 */
export function wireFrame(frameBytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const n = frameBytes.length;
  const prefix = framingBytes(n);
  const out = new Uint8Array(prefix + n);
  writeFraming(out, prefix, n);
  out.set(frameBytes, prefix);
  return out;
}

/**
 * Bytes that go before a `Frame` of `n` bytes to make it a WebSocket binary
 * frame of `ServerMessage { frame }`: the WebSocket header, the field's tag
 * and its length.
 *
 * @example
 * ```ts
 * import { framingBytes } from "./wire_encoder.ts";
 * framingBytes(100); // 4: a 2-byte header, the tag, one length byte
 * ```
 */
export function framingBytes(n: number): number {
  return wsHeaderBytes(1 + varintBytes(n) + n) + 1 + varintBytes(n);
}

/**
 * Write the {@link framingBytes} of a `Frame` of `n` bytes into `out`,
 * ending at `end` (where the frame's bytes start); returns where they start.
 *
 * @example
 * ```ts
 * import { framingBytes, writeFraming } from "./wire_encoder.ts";
 * const out = new Uint8Array(framingBytes(3) + 3);
 * writeFraming(out, framingBytes(3), 3); // 0; out[0] is 0x82: FIN, binary
 * ```
 */
export function writeFraming(out: Uint8Array, end: number, n: number): number {
  writer.out = out;
  return writer.framing(end, n);
}

/**
 * The encoded `Frame` inside bytes made by {@link wireFrame} or
 * {@link encodeWireSlot} (a view, not a copy): what `wrapFrame` needs to
 * resend a held frame with a `conflated` count.
 *
 * @throws RangeError when `wire` is not a binary WebSocket frame carrying a `ServerMessage { frame }`.
 * @example
 * ```ts
 * import { encodeFrame, frameOfWire, wireFrame } from "./wire_encoder.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 1 });
 * const frame = encodeFrame(new Float64Array(layout.slotWords), 0, layout, "BTCUSDT", 1, 0);
 * frameOfWire(wireFrame(frame)).length === frame.length; // true
 * ```
 */
export function frameOfWire(wire: Uint8Array): Uint8Array {
  const len7 = wire.length >= 2 ? wire[1] & 0x7f : 0;
  let at = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  let value = 0;
  let shift = 1;
  let read = 0;
  const fields: number[] = [];
  while (fields.length < 2 && at < wire.length) {
    const b = wire[at++];
    value += (b & 0x7f) * shift;
    shift *= 128;
    if (++read > 5) break;
    if (b < 0x80) {
      fields.push(value);
      value = 0;
      shift = 1;
      read = 0;
    }
  }
  if (wire[0] !== 0x82 || fields[0] !== FRAME_TAG || at + fields[1] !== wire.length) {
    throw new RangeError(
      "frameOfWire: expected the bytes of wireFrame (a binary WebSocket frame holding one ServerMessage { frame })",
    );
  }
  return wire.subarray(at);
}

/**
 * Encode the analytics frame of a processed slot as its wire bytes, into the
 * same slot (layout {@link WireSlotLayout}), allocating nothing: the
 * `Frame` at `bodyStart`, the WebSocket framing right before it, and the wire
 * header words (length, start, and where the seq, delivered-time and
 * sent-time placeholders are, for the main thread to fill). Once main has
 * written those three (each non-zero), the bytes are exactly
 * `wireFrame(encodeFrame(slot, …, symbol, seq, sentTime))`.
 *
 * @param u8 bytes of the array holding the slot; byte `8 * slot` is the slot's first byte.
 * @param f64 the same memory as float64 words (e.g. `SpscRing.u8` and `SpscRing.f64`).
 * @param slot the slot's first word in `f64`.
 * @param wire the slot layout.
 * @param symbol the symbol's name, UTF-8, at most `MAX_SYMBOL_BYTES` bytes.
 * @param names every symbol's UTF-8 name by symbol id, for `VenueQuote.symbol`
 *   of a consolidated instrument's members (each at most `MAX_SYMBOL_BYTES`).
 *   Default none: the members go unnamed.
 * @returns the wire frame's length in bytes.
 * @throws RangeError when the symbol name is too long for the slot.
 * @example
 * ```ts
 * import { encodeWireSlot } from "./wire_encoder.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { WIRE_LENGTH, WireSlotLayout } from "../pipeline/wire_slot.ts";
 * const wire = new WireSlotLayout(new FrameSlotLayout({ levels: 20 }));
 * const f64 = new Float64Array(wire.slotWords);
 * const n = encodeWireSlot(new Uint8Array(f64.buffer), f64, 0, wire, new TextEncoder().encode("BTCUSDT"));
 * f64[wire.headerStart + WIRE_LENGTH] === n; // true
 * ```
 */
export function encodeWireSlot(
  u8: Uint8Array,
  f64: Float64Array,
  slot: number,
  wire: WireSlotLayout,
  symbol: Uint8Array,
  names: readonly Uint8Array[] = NO_NAMES,
): number {
  if (symbol.length > MAX_SYMBOL_BYTES) {
    throw new RangeError(
      `encodeWireSlot: a symbol name of ${symbol.length} bytes does not fit the wire slot (at most ${MAX_SYMBOL_BYTES})`,
    );
  }
  const first = slot * 8;
  const body = first + wire.bodyStart;
  writer.out = u8;
  writer.pos = body;
  writer.frame(f64, slot, wire.frame, symbol, 1, 1, true, names);
  const n = writer.pos - body;
  if (n > wire.maxFrameBytes) {
    throw new RangeError(
      `encodeWireSlot: wrote a frame of ${n} bytes, over the slot's bound of ${wire.maxFrameBytes}`,
    );
  }
  const start = writer.framing(body, n);
  const h = slot + wire.headerStart;
  f64[h + WIRE_LENGTH] = body + n - start;
  f64[h + WIRE_START] = start - first;
  f64[h + WIRE_SEQ_AT] = writer.seqAt - first;
  f64[h + WIRE_DELIVERED_AT] = writer.deliveredAt - first;
  f64[h + WIRE_SENT_AT] = writer.sentAt - first;
  return body + n - start;
}
