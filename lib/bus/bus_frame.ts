/**
 * The bytes of an analytics frame on the bus (`dw.v1.an.<venue>.<SYMBOL>.frame`,
 * docs/design.md §10) and their two ends.
 *
 * A bus payload is the protobuf `depthwatch.v1.Frame` message browsers get
 * (`proto/market.proto`, the bytes of `encodeFrame` / the worker's wire slot,
 * seq and both times filled) followed by ONE extra field, `Frame.epoch`
 * (field 35, a double): the publishing node's partition epoch (its lease
 * revision, an integer from 1 to 2^53 − 1). It is always the last
 * {@link EPOCH_TRAILER_BYTES} bytes: the two tag bytes, then the 8 bytes of
 * the double, little-endian. The payload is itself a valid `Frame` (any
 * protobuf decoder reads it, `epoch` included); a dashboard node cuts the
 * trailer off before forwarding the frame to browsers, which never get it.
 *
 * Publishing: {@link busFramePayload} copies the Frame bytes once and appends
 * the epoch (one allocation: the NATS client keeps a reference to a payload
 * until its next flush, so each payload must be a fresh buffer).
 *
 * Receiving: {@link readBusFrame} decodes a payload into an analytics slot
 * (layout `lib/pipeline/frame_slot.ts`) — the exact inverse of `encodeFrame`:
 * every scalar, the depth bands, slippage (its "exceeds" bools become the
 * slot's flag bits), walls and ladders — allocating nothing, and returns a
 * {@link BusFrameInfo}: the epoch, the Frame's length without the trailer,
 * where the seq / delivered-time / sent-time doubles are (for
 * `lib/server/bus_wire.ts`, which forwards the bytes with its own values
 * patched in) and the byte range of the symbol name (no string is made).
 *
 * Decoding rules:
 * - A field absent from the payload is 0 in the slot (proto3), except the
 *   ladder and wall pairs past their counts, which are NaN (as the analyser
 *   leaves unused walls). `FRAME_SYMBOL_ID` is not touched: the caller maps
 *   the frame's subject to its symbol id.
 * - A scalar that occurs twice keeps its last value; repeated doubles are
 *   accepted packed (as written here) and unpacked; a nested message that
 *   occurs twice (walls) is merged, as protobuf does. Unknown fields (of wire
 *   types varint, 64-bit, length-delimited, 32-bit) are skipped.
 * - Entries beyond the layout (more ladder levels than `layout.levels`, more
 *   walls than `layout.wallsPerSide`, more depth bands or slippage entries
 *   than the layout has) are **dropped and counted** in
 *   {@link BusFrameInfo.truncated}: the frame is still shown, with the levels
 *   this node keeps. A depth band or slippage entry whose `bps` / `notional`
 *   is not the layout's is stored by position and counted in
 *   {@link BusFrameInfo.mismatched} (nodes run with different
 *   `--notionals`: a configuration error the caller can report).
 * - Malformed payloads return null and never throw: truncated fields, a
 *   varint over 10 bytes, a length past its message, a known field with the
 *   wrong wire type, field number 0, groups, a packed array whose length is
 *   not a multiple of 8, prices and sizes of one ladder (or wall list) of
 *   different lengths, a missing or misplaced epoch trailer, an epoch that
 *   is not an integer from 1 to 2^53 − 1, or `epoch` anywhere but last. The
 *   slot's words are then unspecified (partly written): do not use it.
 *   The symbol's bytes are not checked to be UTF-8.
 *
 * @example
 * ```ts
 * import { busFramePayload, readBusFrame } from "./bus_frame.ts";
 * import { encodeFrame } from "../analytics/wire_encoder.ts";
 * import { FRAME_MID, FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const slot = new Float64Array(layout.slotWords);
 * slot[FRAME_MID] = 100.5;
 * const payload = busFramePayload(encodeFrame(slot, 0, layout, "BTCUSDT", 7, Date.now()), 42);
 * const received = new Float64Array(layout.slotWords);
 * const info = readBusFrame(payload, received, 0, layout);
 * info?.epoch; // 42
 * received[FRAME_MID]; // 100.5
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
  FRAME_SYMBOL_ID,
  FRAME_VOLATILITY_1M,
  FRAME_VOLATILITY_5M,
  FRAME_WALL_THRESHOLD,
  FRAME_WEIGHTED_MID,
  type FrameSlotLayout,
  slippageExceedsBit,
} from "../pipeline/frame_slot.ts";
import {
  DEPTH_BAND_FIELD,
  fieldNumbers,
  FRAME_FIELD,
  SLIPPAGE_FIELD,
  WALLS_FIELD,
} from "../analytics/wire_encoder.ts";
import { FrameSchema } from "../../proto/gen/market_pb.ts";

/** Bytes of the epoch trailer: the two tag bytes of `Frame.epoch` and its 8-byte double. */
export const EPOCH_TRAILER_BYTES = 10;

/** The largest epoch a payload may carry (2^53 − 1: an integer a double holds exactly). */
export const MAX_EPOCH = Number.MAX_SAFE_INTEGER;

/** What {@link readBusFrame} found besides the slot's words. */
export interface BusFrameInfo {
  /** The publishing node's partition epoch (an integer from 1 to 2^53 − 1). */
  epoch: number;
  /** Bytes of the `Frame` message: the payload without its epoch trailer. */
  frameLength: number;
  /** The frame's `seq` (the publishing hub's sequence number; 0 when absent). */
  seq: number;
  /** The frame's `sent_time` (not kept in a slot; 0 when absent). */
  sentTime: number;
  /** Byte offset in the payload of the 8 bytes of `seq`; -1 when the field is absent. */
  seqAt: number;
  /** Byte offset in the payload of the 8 bytes of `delivered_time`; -1 when absent. */
  deliveredAt: number;
  /** Byte offset in the payload of the 8 bytes of `sent_time`; -1 when absent. */
  sentAt: number;
  /** Byte offset in the payload of the symbol name's UTF-8 bytes (0 when absent). */
  symbolStart: number;
  /** Bytes of the symbol name (0 when absent). */
  symbolLength: number;
  /** Values dropped because the layout has no room for them (levels, walls, bands, slippage entries). */
  truncated: number;
  /** Depth bands and slippage entries whose `bps` / `notional` differ from the layout's. */
  mismatched: number;
}

/**
 * A fresh {@link BusFrameInfo} (all zero, offsets -1), for callers that keep
 * their own instead of the shared one {@link readBusFrame} fills by default.
 *
 * @example
 * ```ts
 * import { newBusFrameInfo } from "./bus_frame.ts";
 * newBusFrameInfo().seqAt; // -1
 * ```
 */
export function newBusFrameInfo(): BusFrameInfo {
  return {
    epoch: 0,
    frameLength: 0,
    seq: 0,
    sentTime: 0,
    seqAt: -1,
    deliveredAt: -1,
    sentAt: -1,
    symbolStart: 0,
    symbolLength: 0,
    truncated: 0,
    mismatched: 0,
  };
}

const F = FRAME_FIELD;
const D = DEPTH_BAND_FIELD;
const S = SLIPPAGE_FIELD;
const W = WALLS_FIELD;
/** `Frame.epoch`: the bus's trailer, never in the frames browsers get. */
const EPOCH_FIELD = fieldNumbers(FrameSchema, ["epoch"]).epoch;

/** The tag of `Frame.epoch` (64-bit wire type) as a varint: it must be two bytes. */
const EPOCH_TAG = EPOCH_FIELD * 8 + WireType.Bit64;
if (EPOCH_TAG < 0x80 || EPOCH_TAG >= 0x4000) {
  throw new Error(`proto/gen: Frame.epoch's tag ${EPOCH_TAG} is not a two-byte varint`);
}
const EPOCH_TAG_0 = (EPOCH_TAG & 0x7f) | 0x80;
const EPOCH_TAG_1 = EPOCH_TAG >>> 7;

// What each Frame field number is to the reader (field numbers come from the schema).
const K_UNKNOWN = 0;
const K_SLOT = 1; // a double stored in a slot word (WORD_OF)
const K_SEQ = 2;
const K_DELIVERED = 3;
const K_SENT = 4;
const K_FLAGS = 5;
const K_SYMBOL = 6;
const K_DEPTH = 7;
const K_SLIPPAGE = 8;
const K_WALLS = 9;
const K_LADDER = 10; // LADDER_OF: 0 bid prices, 1 bid sizes, 2 ask prices, 3 ask sizes
const K_EPOCH = 11;
const KINDS = 64;
const KIND_OF = new Uint8Array(KINDS);
const WORD_OF = new Int16Array(KINDS);
const LADDER_OF = new Int8Array(KINDS);
for (
  const [field, word] of [
    [F.lastUpdateId, FRAME_LAST_UPDATE_ID],
    [F.eventTime, FRAME_EVENT_TIME],
    [F.receiveTime, FRAME_RECEIVE_TIME],
    [F.parsedTime, FRAME_PARSED_TIME],
    [F.analysedTime, FRAME_ANALYSED_TIME],
    [F.frameRate, FRAME_RATE],
    [F.mid, FRAME_MID],
    [F.spread, FRAME_SPREAD],
    [F.spreadBps, FRAME_SPREAD_BPS],
    [F.weightedMid, FRAME_WEIGHTED_MID],
    [F.imbalanceL1, FRAME_IMBALANCE_1],
    [F.imbalanceL5, FRAME_IMBALANCE_5],
    [F.imbalanceL20, FRAME_IMBALANCE_20],
    [F.ofi, FRAME_OFI],
    [F.ofiL1, FRAME_OFI_L1],
    [F.ofi1s, FRAME_OFI_1S],
    [F.ofi10s, FRAME_OFI_10S],
    [F.ofiL11s, FRAME_OFI_L1_1S],
    [F.ofiL110s, FRAME_OFI_L1_10S],
    [F.volatility1m, FRAME_VOLATILITY_1M],
    [F.volatility5m, FRAME_VOLATILITY_5M],
    [F.analysedSeq, FRAME_SEQUENCE],
  ]
) {
  KIND_OF[field] = K_SLOT;
  WORD_OF[field] = word;
}
KIND_OF[F.seq] = K_SEQ;
KIND_OF[F.deliveredTime] = K_DELIVERED;
KIND_OF[F.sentTime] = K_SENT;
KIND_OF[F.flags] = K_FLAGS;
KIND_OF[F.symbol] = K_SYMBOL;
KIND_OF[F.depth] = K_DEPTH;
KIND_OF[F.slippage] = K_SLIPPAGE;
KIND_OF[F.walls] = K_WALLS;
KIND_OF[EPOCH_FIELD] = K_EPOCH;
[F.bidPrices, F.bidSizes, F.askPrices, F.askSizes].forEach((field, i) => {
  KIND_OF[field] = K_LADDER;
  LADDER_OF[field] = i;
});
if (Math.max(...Object.values(F)) >= KINDS) {
  throw new Error(`proto/gen: a Frame field number is ${KINDS} or more; widen the reader's tables`);
}

/** Whether this machine stores a double's bytes in protobuf's (little-endian) order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Scratch double for reading and writing single values (seq, epoch, bps, notional). */
const SCRATCH = new Float64Array(1);
const SCRATCH_U8 = new Uint8Array(SCRATCH.buffer);

/** Copy the 8 little-endian bytes of a double from `src[at..]` into `dst[to..]` (host order). */
function copyDouble(src: Uint8Array, at: number, dst: Uint8Array, to: number): void {
  if (LITTLE_ENDIAN) {
    for (let i = 0; i < 8; i++) dst[to + i] = src[at + i];
  } else {
    for (let i = 0; i < 8; i++) dst[to + i] = src[at + 7 - i];
  }
}

/** The double whose 8 little-endian bytes are at `src[at..]`. */
function doubleAt(src: Uint8Array, at: number): number {
  copyDouble(src, at, SCRATCH_U8, 0);
  return SCRATCH[0];
}

/**
 * The bus payload of one frame: a fresh copy of `frame` (the bytes of a
 * `Frame` message, e.g. `WorkerWire.frameView` or `encodeFrame`) followed by
 * the `epoch` trailer — one allocation, never changed afterwards (the NATS
 * client queues a reference until its next flush).
 *
 * @param frame the `Frame` message bytes (without WebSocket framing or `ServerMessage`).
 * @param epoch the partition epoch, an integer from 1 to 2^53 − 1 (the lease revision).
 * @throws RangeError when `epoch` is not an integer from 1 to 2^53 − 1.
 * @example
 * ```ts
 * import { busFramePayload, EPOCH_TRAILER_BYTES } from "./bus_frame.ts";
 * const frame = new Uint8Array([0x0a, 0x01, 0x41]); // Frame { symbol: "A" }
 * busFramePayload(frame, 3).length === frame.length + EPOCH_TRAILER_BYTES; // true
 * ```
 */
export function busFramePayload(frame: Uint8Array, epoch: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(epoch) || epoch < 1) {
    throw new RangeError(
      `busFramePayload: the epoch must be an integer from 1 to 2^53 - 1 (a lease revision), got ${epoch}`,
    );
  }
  const n = frame.length;
  const out = new Uint8Array(n + EPOCH_TRAILER_BYTES);
  out.set(frame);
  out[n] = EPOCH_TAG_0;
  out[n + 1] = EPOCH_TAG_1;
  SCRATCH[0] = epoch;
  copyDouble(SCRATCH_U8, 0, out, n + 2);
  return out;
}

/**
 * The bus payload's epoch, or 0 when `payload` does not end with a valid
 * epoch trailer (checks only the last {@link EPOCH_TRAILER_BYTES} bytes: a
 * cheap look before deciding to decode, e.g. to drop a stale epoch).
 *
 * @example
 * ```ts
 * import { busFrameEpoch, busFramePayload } from "./bus_frame.ts";
 * busFrameEpoch(busFramePayload(new Uint8Array(0), 9)); // 9
 * busFrameEpoch(new Uint8Array(3)); // 0
 * ```
 */
export function busFrameEpoch(payload: Uint8Array): number {
  const n = payload.length - EPOCH_TRAILER_BYTES;
  if (n < 0 || payload[n] !== EPOCH_TAG_0 || payload[n + 1] !== EPOCH_TAG_1) return 0;
  const epoch = doubleAt(payload, n + 2);
  return Number.isSafeInteger(epoch) && epoch >= 1 ? epoch : 0;
}

/** Slot word of a `DepthBand` field of band `b`; -1 for a field it does not store. */
function bandWord(layout: FrameSlotLayout, field: number, b: number): number {
  switch (field) {
    case D.bidBase:
      return layout.depthBidBase(b);
    case D.bidQuote:
      return layout.depthBidQuote(b);
    case D.askBase:
      return layout.depthAskBase(b);
    case D.askQuote:
      return layout.depthAskQuote(b);
    default:
      return -1;
  }
}

/** Slot word of a `Slippage` double of notional `i`; -1 for a field it does not store. */
function slippageWord(layout: FrameSlotLayout, field: number, i: number): number {
  switch (field) {
    case S.buyBps:
      return layout.slippageBuyBps(i);
    case S.sellBps:
      return layout.slippageSellBps(i);
    case S.buyFilledQuote:
      return layout.slippageBuyFilled(i);
    case S.sellFilledQuote:
      return layout.slippageSellFilled(i);
    default:
      return -1;
  }
}

/** Nothing to read (the reader drops its reference to the last payload). */
const EMPTY = new Uint8Array(0);

/** The one reader of this thread: its state lives between the calls of one decode. */
class BusFrameReader {
  u8: Uint8Array = EMPTY;
  pos = 0;
  /** Set by a malformed field: the decode fails. */
  bad = false;
  /** The last varint needed more than 35 bits. */
  wide = false;
  info: BusFrameInfo = newBusFrameInfo();
  layout: FrameSlotLayout | null = null;
  f64: Float64Array = new Float64Array(0);
  /** The bytes of `f64` (cached per array). */
  slot8: Uint8Array = new Uint8Array(0);
  base = 0;
  /** The flags varint (last occurrence) and the exceed bits of the slippage bools. */
  flags = 0;
  exceeds = 0;
  bands = 0;
  slippages = 0;
  /** Values seen per ladder (bid prices, bid sizes, ask prices, ask sizes), then per wall list. */
  readonly counts = new Float64Array(8);

  /** A varint: its low 35 bits (exact); `wide` when more were set. */
  varint(end: number): number {
    const u8 = this.u8;
    let v = 0;
    let mul = 1;
    this.wide = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) break;
      const b = u8[this.pos++];
      if (i < 5) v += (b & 0x7f) * mul;
      else if ((b & 0x7f) !== 0) this.wide = true;
      mul *= 128;
      if (b < 0x80) return v;
    }
    this.bad = true;
    return 0;
  }

  /** A length-delimited field's length, checked against `end`. */
  length(end: number): number {
    const n = this.varint(end);
    if (this.wide || n > end - this.pos) this.bad = true;
    return n;
  }

  /** Whether 8 bytes of a double are there (else the decode fails). */
  has8(end: number): boolean {
    if (end - this.pos >= 8) return true;
    this.bad = true;
    return false;
  }

  /** A double into slot word `word`. */
  toWord(end: number, word: number): void {
    if (!this.has8(end)) return;
    copyDouble(this.u8, this.pos, this.slot8, 8 * (this.base + word));
    this.pos += 8;
  }

  /** A double's value. */
  double(end: number): number {
    if (!this.has8(end)) return 0;
    const v = doubleAt(this.u8, this.pos);
    this.pos += 8;
    return v;
  }

  /** Skip a field of wire type `wt` (groups and invalid types are malformed). */
  skip(wt: number, end: number): void {
    switch (wt) {
      case WireType.Varint:
        this.varint(end);
        return;
      case WireType.Bit64:
        if (this.has8(end)) this.pos += 8;
        return;
      case WireType.LengthDelimited: {
        const n = this.length(end); // moves pos past the length first
        this.pos += n;
        return;
      }
      case WireType.Bit32:
        if (end - this.pos >= 4) this.pos += 4;
        else this.bad = true;
        return;
      default:
        this.bad = true;
    }
  }

  /** A field's tag as [field number * 8 + wire type]; fails on field 0. */
  tag(end: number): number {
    const t = this.varint(end);
    if (this.wide || t < 8) this.bad = true;
    return t;
  }

  /**
   * One or more doubles of repeated list `list` (index into `counts`),
   * packed or not, into every second word from `first`, at most `cap`.
   */
  repeated(wt: number, end: number, list: number, first: number, cap: number): void {
    let stop: number;
    if (wt === WireType.LengthDelimited) {
      const n = this.length(end);
      if (this.bad || n % 8 !== 0) {
        this.bad = true;
        return;
      }
      stop = this.pos + n;
    } else if (wt === WireType.Bit64) {
      if (!this.has8(end)) return;
      stop = this.pos + 8;
    } else {
      this.bad = true;
      return;
    }
    const counts = this.counts;
    while (this.pos < stop) {
      const k = counts[list]++;
      if (k < cap) this.toWord(stop, first + 2 * k);
      else {
        this.info.truncated++;
        this.pos += 8;
      }
    }
  }

  /** The fields of a `Frame` up to `end`; false when malformed. */
  frame(end: number): boolean {
    const layout = this.layout!;
    const info = this.info;
    while (this.pos < end && !this.bad) {
      const t = this.tag(end);
      if (this.bad) break;
      const field = Math.floor(t / 8);
      const wt = t & 7;
      const kind = field < KINDS ? KIND_OF[field] : K_UNKNOWN;
      if (kind === K_UNKNOWN) {
        this.skip(wt, end);
      } else if (kind === K_SLOT || kind === K_DELIVERED || kind === K_SEQ || kind === K_SENT) {
        if (wt !== WireType.Bit64) return false;
        const at = this.pos;
        if (kind === K_SLOT) this.toWord(end, WORD_OF[field]);
        else if (kind === K_DELIVERED) {
          this.toWord(end, FRAME_DELIVERED_TIME);
          info.deliveredAt = at;
        } else if (kind === K_SEQ) {
          info.seq = this.double(end);
          info.seqAt = at;
        } else {
          info.sentTime = this.double(end);
          info.sentAt = at;
        }
      } else if (kind === K_FLAGS) {
        if (wt !== WireType.Varint) return false;
        this.flags = this.varint(end) % 0x1_0000_0000;
      } else if (kind === K_LADDER) {
        const list = LADDER_OF[field];
        const first = (list < 2 ? layout.bidsStart : layout.asksStart) + (list & 1);
        this.repeated(wt, end, list, first, layout.levels);
      } else if (kind === K_EPOCH) {
        return false; // only as the trailer
      } else {
        if (wt !== WireType.LengthDelimited) return false;
        const n = this.length(end);
        if (this.bad) break;
        const stop = this.pos + n;
        if (kind === K_SYMBOL) {
          info.symbolStart = this.pos;
          info.symbolLength = n;
          this.pos = stop;
        } else if (kind === K_DEPTH) this.band(stop);
        else if (kind === K_SLIPPAGE) this.slippage(stop);
        else this.walls(stop);
      }
    }
    return !this.bad;
  }

  /** The next `DepthBand` (up to `end`) into the next band's words. */
  band(end: number): void {
    const layout = this.layout!;
    const b = this.bands++;
    const kept = b < DEPTH_BANDS_BPS.length;
    if (!kept) this.info.truncated++;
    let bps = 0;
    while (this.pos < end && !this.bad) {
      const t = this.tag(end);
      if (this.bad) return;
      const field = Math.floor(t / 8);
      const wt = t & 7;
      const word = field === D.bps ? -2 : bandWord(layout, field, b);
      if (word === -1) this.skip(wt, end);
      else if (wt !== WireType.Bit64) this.bad = true;
      else if (word === -2) bps = this.double(end);
      else if (kept) this.toWord(end, word);
      else this.skip(wt, end);
    }
    if (kept && bps !== DEPTH_BANDS_BPS[b]) this.info.mismatched++;
  }

  /** The next `Slippage` (up to `end`) into the next notional's words and exceed bits. */
  slippage(end: number): void {
    const layout = this.layout!;
    const i = this.slippages++;
    const kept = i < layout.notionals.length;
    if (!kept) this.info.truncated++;
    let notional = 0;
    while (this.pos < end && !this.bad) {
      const t = this.tag(end);
      if (this.bad) return;
      const field = Math.floor(t / 8);
      const wt = t & 7;
      if (field === S.buyExceeds || field === S.sellExceeds) {
        if (wt !== WireType.Varint) {
          this.bad = true;
          return;
        }
        const on = this.varint(end) !== 0 || this.wide;
        if (kept && on) this.exceeds |= slippageExceedsBit(i, field === S.buyExceeds ? 0 : 1);
        continue;
      }
      const word = field === S.notional ? -2 : slippageWord(layout, field, i);
      if (word === -1) this.skip(wt, end);
      else if (wt !== WireType.Bit64) this.bad = true;
      else if (word === -2) notional = this.double(end);
      else if (kept) this.toWord(end, word);
      else this.skip(wt, end);
    }
    if (kept && notional !== layout.notionals[i]) this.info.mismatched++;
  }

  /** A `Walls` message (up to `end`), merged into what earlier ones set. */
  walls(end: number): void {
    const layout = this.layout!;
    const cap = layout.wallsPerSide;
    while (this.pos < end && !this.bad) {
      const t = this.tag(end);
      if (this.bad) break;
      const field = Math.floor(t / 8);
      const wt = t & 7;
      if (field === W.threshold) {
        if (wt !== WireType.Bit64) this.bad = true;
        else this.toWord(end, FRAME_WALL_THRESHOLD);
      } else if (field === W.bidCount || field === W.askCount) {
        if (wt !== WireType.Varint) this.bad = true;
        else {
          const word = field === W.bidCount ? FRAME_BID_WALL_COUNT : FRAME_ASK_WALL_COUNT;
          this.f64[this.base + word] = this.varint(end) % 0x1_0000_0000;
        }
      } else if (field === W.bidPrices || field === W.bidSizes) {
        const size = field === W.bidSizes ? 1 : 0;
        this.repeated(wt, end, 4 + size, layout.wallPrice(0, 0) + size, cap);
      } else if (field === W.askPrices || field === W.askSizes) {
        const size = field === W.askSizes ? 1 : 0;
        this.repeated(wt, end, 6 + size, layout.wallPrice(1, 0) + size, cap);
      } else {
        this.skip(wt, end);
      }
    }
  }
}

const reader = new BusFrameReader();
/** The info {@link readBusFrame} fills when given none. */
const SHARED_INFO = newBusFrameInfo();

/** Words of the slot past the symbol id up to the walls block: 0 (absent). */
function resetSlot(f64: Float64Array, base: number, layout: FrameSlotLayout): void {
  f64.fill(0, base + FRAME_SYMBOL_ID + 1, base + layout.wallsStart);
  f64.fill(NaN, base + layout.wallsStart, base + layout.slotWords);
}

/**
 * Decode the bus payload of one frame (see the module documentation for the
 * rules) into the analytics slot at word `base` of `f64`, allocating nothing
 * (after the first call with a given `f64`).
 *
 * @param payload the message's bytes as received (read, never changed).
 * @param f64 the array holding the slot; every word but `FRAME_SYMBOL_ID` is written.
 * @param base the slot's first word in `f64`.
 * @param layout this node's frame slot layout.
 * @param info where to put what was found besides the slot; default one
 *   object shared by every call (read it before the next call).
 * @returns `info`, or null when the payload is malformed (the slot's words are then unspecified).
 * @throws RangeError when the slot does not fit in `f64` at `base` (a caller's error, not the payload's).
 * @example
 * ```ts
 * import { busFramePayload, readBusFrame } from "./bus_frame.ts";
 * import { encodeFrame } from "../analytics/wire_encoder.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const payload = busFramePayload(
 *   encodeFrame(new Float64Array(layout.slotWords), 0, layout, "BTCUSDT", 1, 1),
 *   5,
 * );
 * const info = readBusFrame(payload, new Float64Array(layout.slotWords), 0, layout)!;
 * new TextDecoder().decode(payload.subarray(info.symbolStart, info.symbolStart + info.symbolLength)); // "BTCUSDT"
 * readBusFrame(payload.subarray(0, 5), new Float64Array(layout.slotWords), 0, layout); // null
 * ```
 */
export function readBusFrame(
  payload: Uint8Array,
  f64: Float64Array,
  base: number,
  layout: FrameSlotLayout,
  info: BusFrameInfo = SHARED_INFO,
): BusFrameInfo | null {
  if (!(base >= 0) || base + layout.slotWords > f64.length) {
    throw new RangeError(
      `readBusFrame: a slot of ${layout.slotWords} words at word ${base} does not fit an array of ${f64.length} words`,
    );
  }
  const epoch = busFrameEpoch(payload);
  if (epoch === 0) return null;
  const end = payload.length - EPOCH_TRAILER_BYTES;
  const r = reader;
  if (f64 !== r.f64) {
    r.f64 = f64;
    r.slot8 = new Uint8Array(f64.buffer, f64.byteOffset, f64.byteLength);
  }
  r.u8 = payload;
  r.pos = 0;
  r.bad = false;
  r.info = info;
  r.layout = layout;
  r.base = base;
  r.flags = 0;
  r.exceeds = 0;
  r.bands = 0;
  r.slippages = 0;
  r.counts.fill(0);
  info.epoch = epoch;
  info.frameLength = end;
  info.seq = 0;
  info.sentTime = 0;
  info.seqAt = -1;
  info.deliveredAt = -1;
  info.sentAt = -1;
  info.symbolStart = 0;
  info.symbolLength = 0;
  info.truncated = 0;
  info.mismatched = 0;
  resetSlot(f64, base, layout);
  const ok = r.frame(end);
  r.u8 = EMPTY;
  if (!ok || r.pos !== end) return null;
  const c = r.counts;
  if (c[0] !== c[1] || c[2] !== c[3] || c[4] !== c[5] || c[6] !== c[7]) return null;
  f64[base + FRAME_FLAGS] = (r.flags | r.exceeds) >>> 0;
  f64[base + FRAME_BID_COUNT] = Math.min(c[0], layout.levels);
  f64[base + FRAME_ASK_COUNT] = Math.min(c[2], layout.levels);
  return info;
}
