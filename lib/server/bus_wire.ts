/**
 * The wire bytes of a frame received from the bus, handed to the WebSocket
 * hub of a dashboard node: the bus subscriber decodes each payload into a
 * slot (`readBusFrame`, `lib/bus/bus_frame.ts`), stages the payload here
 * with what the decode found, stores the slot in the history, and the hub,
 * called by the history for that frame, takes the bytes instead of encoding
 * the frame again — the same contract as `WorkerWire` on an ingest
 * node ({@link FrameWire}).
 *
 * {@link BusWire.take} builds the complete WebSocket binary frame of
 * `ServerMessage { frame }` around the payload's `Frame` bytes (the epoch
 * trailer cut off: browsers never get it) and writes this node's `seq`,
 * delivered time and sent time over the publisher's: one allocation per
 * taken frame, shared by all its clients. The result is byte for byte what
 * `wireFrame(encodeFrame(…))` makes of the decoded slot with the same seq
 * and times (`lib/analytics/wire_encoder.ts`). The payload itself is only
 * read (it may be a view into the NATS client's read buffer).
 *
 * @example
 * ```ts
 * import { BusWire } from "./bus_wire.ts";
 * import { busFramePayload, readBusFrame } from "../bus/bus_frame.ts";
 * import { encodeFrame } from "../analytics/wire_encoder.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const published = new Float64Array(layout.slotWords);
 * const payload = busFramePayload(encodeFrame(published, 0, layout, "BTCUSDT", 9, 2), 3);
 * const slot = new Float64Array(layout.slotWords);
 * const info = readBusFrame(payload, slot, 0, layout)!;
 * const wire = new BusWire();
 * wire.stage(0, payload, info);
 * const bytes = wire.take(0, 1, Date.now(), Date.now()); // the WebSocket frame to send
 * bytes !== null; // true
 * ```
 * @module
 */

import type { BusFrameInfo } from "../bus/bus_frame.ts";
import { framingBytes, writeFraming } from "../analytics/wire_encoder.ts";
import type { FrameWire } from "./worker_wire.ts";

const SCRATCH = new Float64Array(1);
const SCRATCH_U8 = new Uint8Array(SCRATCH.buffer);
/** Whether this machine stores a double's bytes little-endian (protobuf's order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const EMPTY = new Uint8Array(0);

/** Write `v` as 8 little-endian bytes at `out[at..]`. */
function putDouble(out: Uint8Array, at: number, v: number): void {
  SCRATCH[0] = v;
  if (LITTLE_ENDIAN) { for (let i = 0; i < 8; i++) out[at + i] = SCRATCH_U8[i]; }
  else for (let i = 0; i < 8; i++) out[at + i] = SCRATCH_U8[7 - i];
}

/**
 * One staged bus frame at a time (main thread only).
 *
 * @example
 * ```ts
 * import { BusWire } from "./bus_wire.ts";
 * const wire = new BusWire();
 * wire.take(0, 1, 1, 1); // null: nothing staged
 * ```
 */
export class BusWire implements FrameWire {
  #payload: Uint8Array = EMPTY;
  /** Symbol of the staged frame; -1 when nothing is staged, it cannot be patched, or it was taken. */
  #symbolId = -1;
  #frameLength = 0;
  #seqAt = -1;
  #deliveredAt = -1;
  #sentAt = -1;

  /**
   * Stage the frame of `symbolId` received as `payload`, whose decode
   * (`readBusFrame`) gave `info`; the numbers of `info` are copied, the
   * payload is kept by reference until {@link clear} or the next stage (it
   * must not change meanwhile). A frame without its seq, delivered time or
   * sent time field cannot be patched: nothing is staged (the hub encodes
   * it).
   */
  stage(symbolId: number, payload: Uint8Array, info: BusFrameInfo): void {
    const patchable = info.seqAt >= 0 && info.deliveredAt >= 0 && info.sentAt >= 0 &&
      info.frameLength <= payload.length;
    this.#payload = payload;
    this.#symbolId = patchable ? symbolId : -1;
    this.#frameLength = info.frameLength;
    this.#seqAt = info.seqAt;
    this.#deliveredAt = info.deliveredAt;
    this.#sentAt = info.sentAt;
  }

  /** Forget the staged frame (and drop the reference to its payload). */
  clear(): void {
    this.#symbolId = -1;
    this.#payload = EMPTY;
  }

  /**
   * The staged frame as a WebSocket binary frame of `ServerMessage { frame }`
   * (the `Frame` without the epoch trailer) with `seq`, `deliveredTime` and
   * `sentTime` written in, as a fresh copy (one allocation); null when
   * nothing is staged for `symbolId` or one of the three is 0 (see
   * {@link FrameWire.take}). A staged frame is taken at most once.
   */
  take(
    symbolId: number,
    seq: number,
    deliveredTime: number,
    sentTime: number,
  ): Uint8Array<ArrayBuffer> | null {
    if (symbolId !== this.#symbolId || seq === 0 || deliveredTime === 0 || sentTime === 0) {
      return null;
    }
    this.#symbolId = -1;
    const n = this.#frameLength;
    const prefix = framingBytes(n);
    const out = new Uint8Array(prefix + n);
    writeFraming(out, prefix, n);
    const src = this.#payload;
    for (let i = 0; i < n; i++) out[prefix + i] = src[i];
    putDouble(out, prefix + this.#seqAt, seq);
    putDouble(out, prefix + this.#deliveredAt, deliveredTime);
    putDouble(out, prefix + this.#sentAt, sentTime);
    return out;
  }
}
