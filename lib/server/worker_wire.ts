/**
 * The wire bytes the analytics worker encoded for the frame being stored,
 * handed from the {@link FrameConsumer} to the WebSocket hub: the consumer
 * stages each frame's slot (layout `lib/pipeline/wire_slot.ts`) just before it
 * stores the frame in the history, and the hub, called by the history for
 * that frame, takes the bytes instead of encoding the frame itself.
 *
 * {@link WorkerWire.take} fills the three fields only the main thread knows —
 * `Frame.seq` (the hub's sequence number), `Frame.delivered_time` (when the
 * consumer took the frame) and `Frame.sent_time` (when the history stored it)
 * — into their 8-byte placeholders, then copies the WebSocket frame out: one
 * allocation per watched frame, shared by all its clients, no protobuf
 * encoding on the main thread. The result is byte for byte what
 * `wireFrame(encodeFrame(…))` makes (`lib/analytics/wire_encoder.ts`).
 * {@link WorkerWire.frameView} gives the bus publisher the same `Frame`
 * message bytes (without the WebSocket framing) as a view into the slot.
 *
 * @example
 * ```ts
 * import { WorkerWire } from "./worker_wire.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { WireSlotLayout } from "../pipeline/wire_slot.ts";
 * import { encodeWireSlot } from "../analytics/wire_encoder.ts";
 * const layout = new WireSlotLayout(new FrameSlotLayout({ levels: 20 }));
 * const f64 = new Float64Array(layout.slotWords); // a slot of symbol 0, as popped from the ring
 * const u8 = new Uint8Array(f64.buffer);
 * encodeWireSlot(u8, f64, 0, layout, new TextEncoder().encode("BTCUSDT"));
 * const wire = new WorkerWire(layout);
 * wire.stage(u8, f64, 0);
 * const bytes = wire.take(0, 1, Date.now(), Date.now()); // the WebSocket frame to send
 * bytes !== null; // true
 * ```
 * @module
 */

import { FRAME_SYMBOL_ID } from "../pipeline/frame_slot.ts";
import {
  WIRE_DELIVERED_AT,
  WIRE_LENGTH,
  WIRE_SENT_AT,
  WIRE_SEQ_AT,
  WIRE_START,
  type WireSlotLayout,
} from "../pipeline/wire_slot.ts";

/**
 * Where the WebSocket hub takes a stored frame's wire bytes from instead of
 * encoding the frame itself: the analytics worker's slot ({@link WorkerWire})
 * or a frame received from the bus (`BusWire`, `bus_wire.ts`).
 *
 * @example
 * ```ts
 * import type { FrameWire } from "./worker_wire.ts";
 * const none: FrameWire = { take: () => null }; // the hub encodes every frame
 * none.take(0, 1, 1, 1); // null
 * ```
 */
export interface FrameWire {
  /**
   * The complete WebSocket binary frame of `ServerMessage { frame }` for the
   * frame of `symbolId` being stored, with `Frame.seq`, `Frame.delivered_time`
   * and `Frame.sent_time` set to the three values, as a fresh copy the caller
   * may keep; null when there are no such bytes (the caller encodes the frame
   * itself), including when one of the three is 0. Taken at most once.
   */
  take(
    symbolId: number,
    seq: number,
    deliveredTime: number,
    sentTime: number,
  ): Uint8Array<ArrayBuffer> | null;
}

/**
 * One staged slot at a time (main thread only).
 *
 * @example
 * ```ts
 * import { WorkerWire } from "./worker_wire.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { WireSlotLayout } from "../pipeline/wire_slot.ts";
 * const wire = new WorkerWire(new WireSlotLayout(new FrameSlotLayout({ levels: 20 })));
 * wire.take(0, 1, 1, 1); // null: nothing staged
 * ```
 */
export class WorkerWire implements FrameWire {
  /** Layout of the processed slots staged. */
  readonly layout: WireSlotLayout;
  #u8: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(new ArrayBuffer(0));
  #f64: Float64Array = new Float64Array(0);
  #slot = 0;
  /** Symbol of the staged slot; -1 when nothing is staged, it has no bytes, or they were taken. */
  #symbolId = -1;
  /** Symbol of the staged slot for {@link frameView} (taking does not reset it); -1 when none. */
  #framed = -1;

  /** @param layout the processed ring's slot layout. */
  constructor(layout: WireSlotLayout) {
    this.layout = layout;
  }

  /**
   * Stage the slot at word `slot` of `f64`; `u8` is the same memory as bytes
   * (byte `8 * slot` is the slot's first). It may be patched in place.
   */
  stage(u8: Uint8Array, f64: Float64Array, slot: number): void {
    if (u8 !== this.#u8) {
      this.#u8 = u8;
      this.#view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    }
    this.#f64 = f64;
    this.#slot = slot;
    const length = f64[slot + this.layout.headerStart + WIRE_LENGTH];
    this.#symbolId = length > 0 ? f64[slot + FRAME_SYMBOL_ID] : -1;
    this.#framed = this.#symbolId;
  }

  /** Forget the staged slot. */
  clear(): void {
    this.#symbolId = -1;
    this.#framed = -1;
  }

  /**
   * The staged frame's WebSocket bytes with `seq`, `deliveredTime` and
   * `sentTime` filled in, as a fresh copy; null when nothing is staged for
   * `symbolId` (the worker did not encode it), or when one of the three is 0
   * (proto3 does not write a 0, so the placeholder would be wrong: the caller
   * encodes such a frame itself). A staged frame is taken at most once.
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
    this.#patch(seq, deliveredTime, sentTime);
    const f64 = this.#f64;
    const h = this.#slot + this.layout.headerStart;
    const start = this.#slot * 8 + f64[h + WIRE_START];
    return this.#u8.slice(start, start + f64[h + WIRE_LENGTH]);
  }

  /**
   * The staged frame's `Frame` message bytes (no WebSocket header, no
   * `ServerMessage` around them) with `seq`, `deliveredTime` and `sentTime`
   * filled in, as a view into the staged slot (no copy: valid until the next
   * {@link stage}, and patched again by a later `take` or `frameView`); what
   * the bus publisher sends (`busFramePayload` in `lib/bus/bus_frame.ts`
   * copies it). Works whether or not {@link take} already took the same
   * staged frame, any number of times. Null when nothing is staged for
   * `symbolId` (the worker did not encode it: the caller encodes it with
   * `encodeFrame`) or when one of the three is 0 (as {@link take}).
   */
  frameView(
    symbolId: number,
    seq: number,
    deliveredTime: number,
    sentTime: number,
  ): Uint8Array | null {
    if (symbolId !== this.#framed || seq === 0 || deliveredTime === 0 || sentTime === 0) {
      return null;
    }
    this.#patch(seq, deliveredTime, sentTime);
    const f64 = this.#f64;
    const h = this.#slot + this.layout.headerStart;
    const first = this.#slot * 8;
    const end = first + f64[h + WIRE_START] + f64[h + WIRE_LENGTH];
    return this.#u8.subarray(first + this.layout.bodyStart, end);
  }

  /** Write the three values into the staged slot's placeholders. */
  #patch(seq: number, deliveredTime: number, sentTime: number): void {
    const f64 = this.#f64;
    const h = this.#slot + this.layout.headerStart;
    const first = this.#slot * 8;
    const view = this.#view;
    view.setFloat64(first + f64[h + WIRE_SEQ_AT], seq, true);
    view.setFloat64(first + f64[h + WIRE_DELIVERED_AT], deliveredTime, true);
    view.setFloat64(first + f64[h + WIRE_SENT_AT], sentTime, true);
  }
}
