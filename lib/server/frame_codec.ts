/**
 * Wire encoding of analytics frames: one processed-ring slot (a run of
 * float64 words laid out by {@link FrameSlotLayout}) becomes the bytes of a
 * `depthwatch.v1.Frame` (see `proto/market.proto`), written once per frame and
 * shared by every client. {@link wrapFrame} and {@link encodeHello} put those
 * bytes into a `ServerMessage` without re-encoding them, so a Hello carrying
 * 100 frames of history costs a few copies, not 100 encodes.
 *
 * The encoder writes the protobuf wire format directly with one reused
 * `BinaryWriter` (field numbers are read from the generated schema, never
 * written here), so a frame costs one allocation: its result bytes.
 * {@link wireFrame} wraps and frames those bytes for the WebSocket in one more.
 *
 * Numbers: doubles are sent as they are, NaN included (proto3 doubles carry
 * NaN; the decoder gives NaN back). Like any proto3 implicit field, a zero is
 * not written and decodes as 0, so −0 arrives as +0. Counts (`flags`, wall
 * counts) are unsigned 32-bit: a NaN or negative count is sent as 0.
 *
 * @example
 * ```ts
 * import { encodeFrame, wrapFrame } from "./frame_codec.ts";
 * import { fromBinary } from "@bufbuild/protobuf";
 * import { FrameSlotLayout, FRAME_MID } from "../pipeline/frame_slot.ts";
 * import { ServerMessageSchema } from "../../proto/gen/market_pb.ts";
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const slot = new Float64Array(layout.slotWords).fill(NaN);
 * slot[FRAME_MID] = 100.5;
 * const frameBytes = encodeFrame(slot, 0, layout, "BTCUSDT", 1, Date.now());
 * const message = fromBinary(ServerMessageSchema, wrapFrame(frameBytes));
 * message.kind.case; // "frame"
 * ```
 * @module
 */

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
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
  DepthBandSchema,
  FrameSchema,
  HelloSchema,
  ServerMessageSchema,
  SlippageSchema,
  WallsSchema,
} from "../../proto/gen/market_pb.ts";

/** Field numbers of a generated message, by its TypeScript field name. */
function numbers<T extends string>(
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

const F = numbers(FrameSchema, [
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
]);
const D = numbers(DepthBandSchema, ["bps", "bidBase", "bidQuote", "askBase", "askQuote"]);
const S = numbers(SlippageSchema, [
  "notional",
  "buyBps",
  "sellBps",
  "buyFilledQuote",
  "sellFilledQuote",
  "buyExceeds",
  "sellExceeds",
]);
const W = numbers(WallsSchema, [
  "threshold",
  "bidCount",
  "askCount",
  "bidPrices",
  "bidSizes",
  "askPrices",
  "askSizes",
]);
const M = numbers(ServerMessageSchema, ["hello", "frame", "conflated"]);
const H = numbers(HelloSchema, ["history"]);

/** One writer reused by every encode on this thread (its buffer grows once, then stays). */
const writer = new BinaryWriter();

/** The writer's bytes (a fresh copy over a plain ArrayBuffer); the writer is reset. */
function finish(): Uint8Array<ArrayBuffer> {
  return writer.finish() as Uint8Array<ArrayBuffer>;
}

function double(field: number, v: number): void {
  // proto3 implicit presence: 0 is the default and not written; NaN is.
  if (v !== 0) writer.tag(field, WireType.Bit64).double(v);
}

function uint32(field: number, v: number): void {
  const n = v >= 1 ? (v >= 0xffffffff ? 0xffffffff : Math.floor(v)) : 0;
  if (n !== 0) writer.tag(field, WireType.Varint).uint32(n);
}

/** Packed repeated double from `n` words starting at `at`, `stride` apart. */
function packed(field: number, f64: Float64Array, at: number, n: number, stride: number): void {
  if (n <= 0) return;
  writer.tag(field, WireType.LengthDelimited).fork();
  for (let i = 0; i < n; i++) writer.double(f64[at + i * stride]);
  writer.join();
}

/**
 * Encode the analytics slot at word `base` of `f64` as the bytes of one
 * `depthwatch.v1.Frame` (not yet wrapped in a `ServerMessage`: see
 * {@link wrapFrame}). Reads the slot in place; allocates only the result.
 *
 * @param f64 the array holding the slot (e.g. `HistoryStore.f64(symbolId)`).
 * @param base the slot's first word in `f64`.
 * @param layout the slot layout.
 * @param symbol the symbol's upper-case name, written as `Frame.symbol`.
 * @param seq the hub's sequence number for this frame (`Frame.seq`).
 * @param sentTime epoch ms written as `Frame.sent_time`.
 * @throws RangeError when the slot does not fit in `f64` at `base`.
 * @example
 * ```ts
 * import { encodeFrame } from "./frame_codec.ts";
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
): Uint8Array<ArrayBuffer> {
  if (!(base >= 0) || base + layout.slotWords > f64.length) {
    throw new RangeError(
      `encodeFrame: a slot of ${layout.slotWords} words at word ${base} does not fit an array of ${f64.length} words`,
    );
  }
  const flags = f64[base + FRAME_FLAGS] | 0;
  if (symbol.length) writer.tag(F.symbol, WireType.LengthDelimited).string(symbol);
  double(F.seq, seq);
  double(F.lastUpdateId, f64[base + FRAME_LAST_UPDATE_ID]);
  if (flags !== 0) writer.tag(F.flags, WireType.Varint).uint32(flags >>> 0);
  double(F.eventTime, f64[base + FRAME_EVENT_TIME]);
  double(F.receiveTime, f64[base + FRAME_RECEIVE_TIME]);
  double(F.parsedTime, f64[base + FRAME_PARSED_TIME]);
  double(F.analysedTime, f64[base + FRAME_ANALYSED_TIME]);
  double(F.deliveredTime, f64[base + FRAME_DELIVERED_TIME]);
  double(F.sentTime, sentTime);
  double(F.frameRate, f64[base + FRAME_RATE]);
  double(F.mid, f64[base + FRAME_MID]);
  double(F.spread, f64[base + FRAME_SPREAD]);
  double(F.spreadBps, f64[base + FRAME_SPREAD_BPS]);
  double(F.weightedMid, f64[base + FRAME_WEIGHTED_MID]);
  double(F.imbalanceL1, f64[base + FRAME_IMBALANCE_1]);
  double(F.imbalanceL5, f64[base + FRAME_IMBALANCE_5]);
  double(F.imbalanceL20, f64[base + FRAME_IMBALANCE_20]);
  double(F.ofi, f64[base + FRAME_OFI]);
  double(F.ofiL1, f64[base + FRAME_OFI_L1]);
  double(F.ofi1s, f64[base + FRAME_OFI_1S]);
  double(F.ofi10s, f64[base + FRAME_OFI_10S]);
  double(F.ofiL11s, f64[base + FRAME_OFI_L1_1S]);
  double(F.ofiL110s, f64[base + FRAME_OFI_L1_10S]);
  double(F.volatility1m, f64[base + FRAME_VOLATILITY_1M]);
  double(F.volatility5m, f64[base + FRAME_VOLATILITY_5M]);
  for (let b = 0; b < DEPTH_BANDS_BPS.length; b++) {
    writer.tag(F.depth, WireType.LengthDelimited).fork();
    double(D.bps, DEPTH_BANDS_BPS[b]);
    double(D.bidBase, f64[base + layout.depthBidBase(b)]);
    double(D.bidQuote, f64[base + layout.depthBidQuote(b)]);
    double(D.askBase, f64[base + layout.depthAskBase(b)]);
    double(D.askQuote, f64[base + layout.depthAskQuote(b)]);
    writer.join();
  }
  for (let i = 0; i < layout.notionals.length; i++) {
    writer.tag(F.slippage, WireType.LengthDelimited).fork();
    double(S.notional, layout.notionals[i]);
    double(S.buyBps, f64[base + layout.slippageBuyBps(i)]);
    double(S.sellBps, f64[base + layout.slippageSellBps(i)]);
    double(S.buyFilledQuote, f64[base + layout.slippageBuyFilled(i)]);
    double(S.sellFilledQuote, f64[base + layout.slippageSellFilled(i)]);
    if (flags & slippageExceedsBit(i, 0)) writer.tag(S.buyExceeds, WireType.Varint).bool(true);
    if (flags & slippageExceedsBit(i, 1)) writer.tag(S.sellExceeds, WireType.Varint).bool(true);
    writer.join();
  }
  writer.tag(F.walls, WireType.LengthDelimited).fork();
  double(W.threshold, f64[base + FRAME_WALL_THRESHOLD]);
  const bidWalls = f64[base + FRAME_BID_WALL_COUNT];
  const askWalls = f64[base + FRAME_ASK_WALL_COUNT];
  uint32(W.bidCount, bidWalls);
  uint32(W.askCount, askWalls);
  const nBidWalls = Math.ceil(storedCount(bidWalls, layout.wallsPerSide));
  const nAskWalls = Math.ceil(storedCount(askWalls, layout.wallsPerSide));
  packed(W.bidPrices, f64, base + layout.wallPrice(0, 0), nBidWalls, 2);
  packed(W.bidSizes, f64, base + layout.wallSize(0, 0), nBidWalls, 2);
  packed(W.askPrices, f64, base + layout.wallPrice(1, 0), nAskWalls, 2);
  packed(W.askSizes, f64, base + layout.wallSize(1, 0), nAskWalls, 2);
  writer.join();
  const nBids = Math.ceil(storedCount(f64[base + FRAME_BID_COUNT], layout.levels));
  const nAsks = Math.ceil(storedCount(f64[base + FRAME_ASK_COUNT], layout.levels));
  packed(F.bidPrices, f64, base + layout.bidPrice(0), nBids, 2);
  packed(F.bidSizes, f64, base + layout.bidSize(0), nBids, 2);
  packed(F.askPrices, f64, base + layout.askPrice(0), nAsks, 2);
  packed(F.askSizes, f64, base + layout.askSize(0), nAsks, 2);
  double(F.analysedSeq, f64[base + FRAME_SEQUENCE]);
  return finish();
}

/**
 * Wrap encoded `Frame` bytes (from {@link encodeFrame}) into the bytes of a
 * `ServerMessage { frame }`, with `conflated` set when it is > 0 (frames of
 * this symbol dropped for one slow client just before this one).
 *
 * @throws RangeError when `conflated` is not a non-negative 32-bit integer.
 * @example
 * ```ts
 * import { encodeFrame, wrapFrame } from "./frame_codec.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 1 });
 * const frame = encodeFrame(new Float64Array(layout.slotWords), 0, layout, "BTCUSDT", 1, 0);
 * const forAll = wrapFrame(frame); // sent to every client
 * const forSlow = wrapFrame(frame, 3); // one client missed 3 frames before it
 * ```
 */
export function wrapFrame(frameBytes: Uint8Array, conflated = 0): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(conflated) || conflated < 0 || conflated > 0xffffffff) {
    throw new RangeError(
      `wrapFrame: conflated must be an integer from 0 to 2^32-1, got ${conflated}`,
    );
  }
  writer.tag(M.frame, WireType.LengthDelimited).bytes(frameBytes);
  if (conflated > 0) writer.tag(M.conflated, WireType.Varint).uint32(conflated);
  return finish();
}

/** Bytes of `v` (an unsigned 32-bit integer) as a protobuf varint. */
function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function putVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

/**
 * Encoded `Frame` bytes (from {@link encodeFrame}) as one unfragmented binary
 * WebSocket frame (RFC 6455 §5.2, server to client: unmasked) whose payload
 * is `ServerMessage { frame }` — the bytes of `encodeFrame` of
 * `lib/net/ws_frame.ts` applied to {@link wrapFrame}, made in ONE allocation.
 * The hub queues the result to every subscriber of the symbol; the `Frame`
 * bytes are its last `frameBytes.length` bytes.
 *
 * @example
 * ```ts
 * import { encodeFrame, wireFrame, wrapFrame } from "./frame_codec.ts";
 * import { encodeFrame as encodeWsFrame, OPCODE } from "../net/ws_frame.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 1 });
 * const frame = encodeFrame(new Float64Array(layout.slotWords), 0, layout, "BTCUSDT", 1, 0);
 * const wire = wireFrame(frame);
 * wire.length === encodeWsFrame(OPCODE.binary, wrapFrame(frame)).length; // true
 * ```
 */
export function wireFrame(frameBytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const n = frameBytes.length;
  const tag = (M.frame << 3) | WireType.LengthDelimited;
  const payload = varintLength(tag) + varintLength(n) + n;
  const header = payload < 126 ? 2 : payload <= 0xffff ? 4 : 10;
  const out = new Uint8Array(header + payload);
  out[0] = 0x82; // FIN, binary
  if (header === 2) {
    out[1] = payload;
  } else if (header === 4) {
    out[1] = 126;
    out[2] = payload >>> 8;
    out[3] = payload & 0xff;
  } else {
    out[1] = 127;
    const view = new DataView(out.buffer);
    view.setUint32(2, Math.floor(payload / 0x1_0000_0000));
    view.setUint32(6, payload >>> 0);
  }
  const at = putVarint(out, putVarint(out, header, tag), n);
  out.set(frameBytes, at);
  return out;
}

/**
 * The encoded `Frame` inside bytes made by {@link wireFrame} (a view, not a
 * copy): what {@link wrapFrame} needs to resend a held frame with a
 * `conflated` count.
 *
 * @throws RangeError when `wire` is not a binary WebSocket frame carrying a `ServerMessage { frame }`.
 * @example
 * ```ts
 * import { encodeFrame, frameOfWire, wireFrame } from "./frame_codec.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 1 });
 * const frame = encodeFrame(new Float64Array(layout.slotWords), 0, layout, "BTCUSDT", 1, 0);
 * frameOfWire(wireFrame(frame)).length === frame.length; // true
 * ```
 */
export function frameOfWire(wire: Uint8Array): Uint8Array {
  const len7 = wire.length >= 2 ? wire[1] & 0x7f : 0;
  let at = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
  const tag = (M.frame << 3) | WireType.LengthDelimited;
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
  if (wire[0] !== 0x82 || fields[0] !== tag || at + fields[1] !== wire.length) {
    throw new RangeError(
      "frameOfWire: expected the bytes of wireFrame (a binary WebSocket frame holding one ServerMessage { frame })",
    );
  }
  return wire.subarray(at);
}

/** Everything in a `Hello` except its history (see `proto/market.proto`). */
export interface HelloInfo {
  /** Random id of the hub instance. */
  epoch: string;
  /** Every symbol served, upper-case. */
  symbols: readonly string[];
  /** The symbol the Hello is about, upper-case. */
  symbol: string;
  /** The symbol's current sequence number (0 before any frame). */
  seq: number;
  /** Server time, epoch ms. */
  serverTime: number;
  /** The connection's subscriptions after this Hello, upper-case. */
  subscribed: readonly string[];
  /** The layout, for `levels`, `notionals` and the depth bands. */
  layout: FrameSlotLayout;
}

/**
 * Bytes of a `ServerMessage { hello }` whose history is the given encoded
 * `Frame`s (oldest first), copied in as they are.
 *
 * @example
 * ```ts
 * import { encodeHello } from "./frame_codec.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const bytes = encodeHello({
 *   epoch: "e1", symbols: ["BTCUSDT"], symbol: "BTCUSDT", seq: 0,
 *   serverTime: Date.now(), subscribed: ["BTCUSDT"], layout,
 * }, []);
 * ```
 */
export function encodeHello(
  info: HelloInfo,
  history: Iterable<Uint8Array>,
): Uint8Array<ArrayBuffer> {
  const hf = HelloSchema.field;
  writer.tag(M.hello, WireType.LengthDelimited).fork();
  writer.tag(hf.epoch.number, WireType.LengthDelimited).string(info.epoch);
  for (const s of info.symbols) writer.tag(hf.symbols.number, WireType.LengthDelimited).string(s);
  writer.tag(hf.symbol.number, WireType.LengthDelimited).string(info.symbol);
  for (const frame of history) writer.tag(H.history, WireType.LengthDelimited).bytes(frame);
  double(hf.seq.number, info.seq);
  double(hf.serverTime.number, info.serverTime);
  for (const s of info.subscribed) {
    writer.tag(hf.subscribed.number, WireType.LengthDelimited).string(s);
  }
  writer.tag(hf.levels.number, WireType.Varint).uint32(info.layout.levels);
  writer.tag(hf.notionals.number, WireType.LengthDelimited).fork();
  for (const n of info.layout.notionals) writer.double(n);
  writer.join();
  writer.tag(hf.depthBandsBps.number, WireType.LengthDelimited).fork();
  for (const b of DEPTH_BANDS_BPS) writer.double(b);
  writer.join();
  writer.join();
  return finish();
}
