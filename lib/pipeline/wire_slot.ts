/**
 * Binary layout of a processed-ring slot that also carries the frame's wire
 * bytes: the analytics frame ({@link FrameSlotLayout}, float64 words), then a
 * wire header of {@link WIRE_HEADER_WORDS} float64 words (named offsets
 * below), then a byte region holding one complete WebSocket binary frame
 * whose payload is `ServerMessage { frame }` (see `proto/market.proto`): the
 * exact bytes the hub queues to every client watching the symbol.
 *
 * The analytics worker writes the `Frame` message at {@link WireSlotLayout.bodyStart}
 * and the WebSocket header, `ServerMessage.frame` tag and length right before
 * it, so the wire bytes start at a byte offset that depends on their length
 * ({@link WIRE_START}). Three doubles are main's to fill (`Frame.seq`,
 * `Frame.delivered_time`, `Frame.sent_time`): the worker writes them as
 * 8-byte placeholders and records where ({@link WIRE_SEQ_AT},
 * {@link WIRE_DELIVERED_AT}, {@link WIRE_SENT_AT}), main patches them in its
 * copy. A frame of a symbol nobody watches carries no bytes
 * ({@link WIRE_LENGTH} = 0).
 *
 * The region is sized by {@link maxFrameBytes}: the largest `Frame` the layout
 * allows (every field written, full ladders and walls, the longest symbol
 * name), so no frame can overrun its slot. At the default layout (20 levels,
 * 3 notionals, 3 walls) a slot is 1,168 + 40 + 7 + 1,420 = 2,635 bytes, rounded up
 * to whole words: 2,640.
 *
 * This module is the only place that knows these offsets.
 *
 * @example
 * ```ts
 * import { FrameSlotLayout } from "./frame_slot.ts";
 * import { WIRE_LENGTH, WireSlotLayout } from "./wire_slot.ts";
 * const wire = new WireSlotLayout(new FrameSlotLayout({ levels: 20 }));
 * const slot = new Float64Array(wire.slotWords);
 * slot[wire.headerStart + WIRE_LENGTH]; // 0: no wire bytes
 * wire.slotBytes; // 2640
 * ```
 * @module
 */

import type { FrameSlotLayout } from "./frame_slot.ts";
import { DEPTH_BANDS_BPS } from "./frame_slot.ts";

/** Longest symbol name the wire region has room for, in UTF-8 bytes (the ingest's symbol limit). */
export const MAX_SYMBOL_BYTES = 32;

/** Wire header word: bytes of the WebSocket frame in this slot; 0 = none (not watched). */
export const WIRE_LENGTH = 0;
/** Wire header word: byte offset, from the slot's first byte, of the WebSocket frame's first byte. */
export const WIRE_START = 1;
/** Wire header word: byte offset, from the slot's first byte, of the 8 bytes of `Frame.seq`. */
export const WIRE_SEQ_AT = 2;
/** Wire header word: byte offset, from the slot's first byte, of the 8 bytes of `Frame.delivered_time`. */
export const WIRE_DELIVERED_AT = 3;
/** Wire header word: byte offset, from the slot's first byte, of the 8 bytes of `Frame.sent_time`. */
export const WIRE_SENT_AT = 4;
/** Float64 words of the wire header. */
export const WIRE_HEADER_WORDS = 5;

/**
 * Largest protobuf tag of `market.proto`'s frame messages, in bytes: every
 * field number is below 2048 (a test checks it against the generated schema).
 */
export const WIRE_TAG_MAX_BYTES = 2;
/**
 * Non-repeated `double` fields of `Frame` (seq, times, scalars, analysed
 * seq); a test checks the count against the generated schema.
 */
export const FRAME_SCALAR_DOUBLES = 25;

/**
 * Bytes of `v` (a non-negative integer below 2^53) as a protobuf varint.
 *
 * @example
 * ```ts
 * import { varintBytes } from "./wire_slot.ts";
 * varintBytes(127); // 1
 * varintBytes(128); // 2
 * ```
 */
export function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Bytes of the header of an unmasked server-to-client WebSocket frame
 * carrying `payload` bytes (RFC 6455 §5.2).
 *
 * @example
 * ```ts
 * import { wsHeaderBytes } from "./wire_slot.ts";
 * wsHeaderBytes(125); // 2
 * wsHeaderBytes(126); // 4
 * wsHeaderBytes(70_000); // 10
 * ```
 */
export function wsHeaderBytes(payload: number): number {
  return payload < 126 ? 2 : payload <= 0xffff ? 4 : 10;
}

/** A length-delimited field holding `n` bytes, at most. */
function delimited(n: number): number {
  return WIRE_TAG_MAX_BYTES + varintBytes(n) + n;
}

/**
 * Largest encoded `Frame` (protobuf bytes, before `ServerMessage` and
 * WebSocket framing) for `layout`: every scalar written, every depth band and
 * slippage entry with all its fields, walls and ladders full, a symbol name of
 * `symbolBytes` bytes.
 *
 * @example
 * ```ts
 * import { FrameSlotLayout } from "./frame_slot.ts";
 * import { maxFrameBytes } from "./wire_slot.ts";
 * maxFrameBytes(new FrameSlotLayout({ levels: 20 })); // 1420
 * ```
 */
export function maxFrameBytes(layout: FrameSlotLayout, symbolBytes = MAX_SYMBOL_BYTES): number {
  const double = WIRE_TAG_MAX_BYTES + 8;
  const uint32 = WIRE_TAG_MAX_BYTES + 5;
  const bool = WIRE_TAG_MAX_BYTES + 1;
  const packed = (n: number) => delimited(8 * n);
  const band = delimited(5 * double);
  const slippage = delimited(5 * double + 2 * bool);
  const walls = delimited(double + 2 * uint32 + 4 * packed(layout.wallsPerSide));
  return delimited(symbolBytes) +
    FRAME_SCALAR_DOUBLES * double +
    uint32 + // flags
    DEPTH_BANDS_BPS.length * band +
    layout.notionals.length * slippage +
    walls +
    4 * packed(layout.levels) +
    venuesBytes(layout);
}

/**
 * Largest venue fields of a consolidated instrument's `Frame`
 * (`bid_venues`, `ask_venues`: packed member indexes below 8, one byte each;
 * `venues`: one `VenueQuote` per member, names of up to
 * {@link MAX_SYMBOL_BYTES}); 0 when the layout has no venues block.
 */
function venuesBytes(layout: FrameSlotLayout): number {
  if (layout.venueMembers === 0) return 0;
  const quote = delimited(
    delimited(MAX_SYMBOL_BYTES) + 3 * (WIRE_TAG_MAX_BYTES + 8) +
      WIRE_TAG_MAX_BYTES + 1,
  );
  return 2 * delimited(layout.levels) + layout.venueMembers * quote;
}

/**
 * Offsets and sizes of a processed slot with wire bytes, for a frame layout.
 *
 * @example
 * ```ts
 * import { FrameSlotLayout } from "./frame_slot.ts";
 * import { WireSlotLayout } from "./wire_slot.ts";
 * const frame = new FrameSlotLayout({ levels: 20 });
 * const wire = new WireSlotLayout(frame);
 * wire.headerStart === frame.slotWords; // true: the analytics frame comes first
 * wire.bodyStart - wire.regionStart; // 7: room for the WebSocket header, tag and length
 * ```
 */
export class WireSlotLayout {
  /** The analytics frame at the start of the slot. */
  readonly frame: FrameSlotLayout;
  /** Word offset of the wire header (right after the frame's words). */
  readonly headerStart: number;
  /** Byte offset of the wire byte region. */
  readonly regionStart: number;
  /** Largest `Frame` message, bytes ({@link maxFrameBytes}). */
  readonly maxFrameBytes: number;
  /** Largest complete WebSocket frame (header + `ServerMessage { frame }`), bytes. */
  readonly maxWireBytes: number;
  /** Byte offset where the `Frame` message starts; the framing is written right before it. */
  readonly bodyStart: number;
  /** Slot size in float64 words. */
  readonly slotWords: number;
  /** Slot size in bytes (a multiple of 8). */
  readonly slotBytes: number;

  /** @param frame the analytics frame layout the slot starts with. */
  constructor(frame: FrameSlotLayout) {
    this.frame = frame;
    this.headerStart = frame.slotWords;
    this.regionStart = (frame.slotWords + WIRE_HEADER_WORDS) * 8;
    this.maxFrameBytes = maxFrameBytes(frame);
    // ServerMessage { frame = 2 }: one tag byte, then the length.
    const payload = 1 + varintBytes(this.maxFrameBytes) + this.maxFrameBytes;
    const prefix = wsHeaderBytes(payload) + 1 + varintBytes(this.maxFrameBytes);
    this.maxWireBytes = prefix + this.maxFrameBytes;
    this.bodyStart = this.regionStart + prefix;
    this.slotWords = Math.ceil((this.bodyStart + this.maxFrameBytes) / 8);
    this.slotBytes = this.slotWords * 8;
  }
}
