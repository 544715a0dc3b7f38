/**
 * Reads what a load generator needs from one `ServerMessage` of `GET /ws`:
 * its kind, and for a frame its `seq` and latency stamps (`event_time`,
 * `receive_time`, `analysed_time`, `sent_time`, epoch ms). Two readers give
 * the same result: {@link scanFrameStamps}, a protobuf wire scanner that stops
 * after the last stamp field of the `Frame` (the service writes fields in number order),
 * and {@link decodeFrameStamps}, which decodes the whole message with
 * `@bufbuild/protobuf` and the generated schema (slower).
 *
 * @example
 * ```ts
 * const stamps = newFrameStamps();
 * declare const bytes: Uint8Array; // one binary WebSocket message
 * scanFrameStamps(bytes, stamps);
 * if (stamps.kind === MessageKind.Frame) console.log(stamps.seq, Date.now() - stamps.sent);
 * ```
 * @module
 */

import { fromBinary } from "@bufbuild/protobuf";
import { FrameSchema, ServerMessageSchema } from "../proto/gen/market_pb.ts";

/**
 * `ServerMessage` kinds: the field number of each case of its `oneof kind`
 * (from the generated schema, so proto/market.proto stays the one definition).
 */
export const MessageKind = {
  /** `hello`, the first message of a connection. */
  Hello: ServerMessageSchema.field.hello.number,
  /** `frame`, one order-book frame. */
  Frame: ServerMessageSchema.field.frame.number,
  /** `error`. */
  Error: ServerMessageSchema.field.error.number,
  /** `heartbeat`. */
  Heartbeat: ServerMessageSchema.field.heartbeat.number,
} as const;

/** Kind, seq and stamps of one message, filled in place by the readers. */
export interface FrameStamps {
  /** One of {@link MessageKind}; 0 for an empty message. */
  kind: number;
  /** The frame's `seq`; 0 when absent or not a frame. */
  seq: number;
  /** `event_time` (exchange), epoch ms; NaN when absent. */
  event: number;
  /** `receive_time` (ingest receive), epoch ms; NaN when absent. */
  receive: number;
  /** `analysed_time`, epoch ms; NaN when absent. */
  analysed: number;
  /** `sent_time` (hub encode), epoch ms; NaN when absent. */
  sent: number;
}

/** `Frame` field numbers of seq and the stamps (the scanner stops after the highest). */
const FRAME_SEQ = FrameSchema.field.seq.number;
const FRAME_EVENT = FrameSchema.field.eventTime.number;
const FRAME_RECEIVE = FrameSchema.field.receiveTime.number;
const FRAME_ANALYSED = FrameSchema.field.analysedTime.number;
const FRAME_SENT = FrameSchema.field.sentTime.number;
const FRAME_LAST = Math.max(FRAME_SEQ, FRAME_EVENT, FRAME_RECEIVE, FRAME_ANALYSED, FRAME_SENT);

/** Wire types of the protobuf encoding. */
const WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5;

/**
 * A {@link FrameStamps} to reuse for every message (the readers allocate
 * nothing per message but the varint cursor).
 *
 * @example
 * ```ts
 * newFrameStamps().sent; // NaN
 * ```
 */
export function newFrameStamps(): FrameStamps {
  return { kind: 0, seq: 0, event: NaN, receive: NaN, analysed: NaN, sent: NaN };
}

function clear(out: FrameStamps): void {
  out.kind = 0;
  out.seq = 0;
  out.event =
    out.receive =
    out.analysed =
    out.sent =
      NaN;
}

function varint(bytes: Uint8Array, at: { pos: number }): number {
  let v = 0, shift = 0, b: number;
  do {
    b = bytes[at.pos++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80 && shift < 64);
  return v;
}

/**
 * Read kind, seq and stamps from `ServerMessage` bytes without decoding the
 * whole message. Proto3 omits zero doubles: an absent seq reads 0, an absent
 * stamp NaN.
 *
 * @example
 * ```ts
 * const out = newFrameStamps();
 * scanFrameStamps(new Uint8Array([0x0a, 0x00]), out); // an empty hello
 * out.kind === MessageKind.Hello; // true
 * ```
 */
export function scanFrameStamps(bytes: Uint8Array, out: FrameStamps): void {
  clear(out);
  const at = { pos: 0 };
  const tag = varint(bytes, at);
  out.kind = tag >>> 3;
  if (out.kind !== MessageKind.Frame || (tag & 7) !== WIRE_LEN) return;
  const end = varint(bytes, at) + at.pos;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (at.pos < end) {
    const t = varint(bytes, at);
    const field = t >>> 3, wire = t & 7;
    if (field > FRAME_LAST) return;
    if (wire === WIRE_I64) {
      const v = view.getFloat64(at.pos, true);
      at.pos += 8;
      if (field === FRAME_SEQ) out.seq = v;
      else if (field === FRAME_EVENT) out.event = v;
      else if (field === FRAME_RECEIVE) out.receive = v;
      else if (field === FRAME_ANALYSED) out.analysed = v;
      else if (field === FRAME_SENT) out.sent = v;
    } else if (wire === WIRE_VARINT) varint(bytes, at);
    else if (wire === WIRE_LEN) {
      const skip = varint(bytes, at); // read first: `at.pos += varint()` would lose its advance
      at.pos += skip;
    } else if (wire === WIRE_I32) at.pos += 4;
    else return;
  }
}

/**
 * The same as {@link scanFrameStamps}, through `@bufbuild/protobuf` and the
 * generated schema.
 *
 * @example
 * ```ts
 * const out = newFrameStamps();
 * decodeFrameStamps(new Uint8Array([0x0a, 0x00]), out);
 * out.kind === MessageKind.Hello; // true
 * ```
 */
export function decodeFrameStamps(bytes: Uint8Array, out: FrameStamps): void {
  const m = fromBinary(ServerMessageSchema, bytes);
  clear(out);
  switch (m.kind.case) {
    case "hello":
      out.kind = MessageKind.Hello;
      return;
    case "frame": {
      const f = m.kind.value;
      out.kind = MessageKind.Frame;
      out.seq = f.seq;
      // proto3: an absent double decodes as 0; the scanner reports NaN for those.
      out.event = f.eventTime || NaN;
      out.receive = f.receiveTime || NaN;
      out.analysed = f.analysedTime || NaN;
      out.sent = f.sentTime || NaN;
      return;
    }
    case "error":
      out.kind = MessageKind.Error;
      return;
    default:
      out.kind = MessageKind.Heartbeat;
  }
}
