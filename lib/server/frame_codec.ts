/**
 * The main thread's `ServerMessage` wrappers around encoded frames (the frame
 * encoder itself is `lib/analytics/wire_encoder.ts`, shared with the
 * analytics worker): {@link wrapFrame} re-wraps one held frame with a
 * `conflated` count for a slow client, {@link encodeHello} puts the history
 * frames into a `Hello` without re-encoding them, so a Hello carrying 100
 * frames of history costs a few copies, not 100 encodes.
 *
 * Both write with one reused protobuf-es `BinaryWriter` (field numbers are
 * read from the generated schema, never written here).
 *
 * @example
 * ```ts
 * import { wrapFrame } from "./frame_codec.ts";
 * import { encodeFrame } from "../analytics/wire_encoder.ts";
 * import { fromBinary } from "@bufbuild/protobuf";
 * import { FrameSlotLayout, FRAME_MID } from "../pipeline/frame_slot.ts";
 * import { ServerMessageSchema } from "../../proto/gen/market_pb.ts";
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const slot = new Float64Array(layout.slotWords).fill(NaN);
 * slot[FRAME_MID] = 100.5;
 * const frameBytes = encodeFrame(slot, 0, layout, "BTCUSDT", 1, Date.now());
 * const message = fromBinary(ServerMessageSchema, wrapFrame(frameBytes, 2));
 * message.conflated; // 2
 * ```
 * @module
 */

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { DEPTH_BANDS_BPS, type FrameSlotLayout } from "../pipeline/frame_slot.ts";
import { HelloSchema, ServerMessageSchema } from "../../proto/gen/market_pb.ts";
import { fieldNumbers } from "../analytics/wire_encoder.ts";

const M = fieldNumbers(ServerMessageSchema, ["hello", "frame", "conflated"]);
const H = fieldNumbers(HelloSchema, ["history"]);

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

/**
 * Wrap encoded `Frame` bytes (from `encodeFrame` of `lib/analytics/wire_encoder.ts`) into the bytes of a
 * `ServerMessage { frame }`, with `conflated` set when it is > 0 (frames of
 * this symbol dropped for one slow client just before this one).
 *
 * @throws RangeError when `conflated` is not a non-negative 32-bit integer.
 * @example
 * ```ts
 * import { wrapFrame } from "./frame_codec.ts";
 * import { encodeFrame } from "../analytics/wire_encoder.ts";
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
