/**
 * The browser's reader of the once-a-second `MarketSummary`
 * (`proto/market.proto`): it decodes the columns straight into preallocated
 * typed arrays ({@linkcode SummaryColumns}, one per column, reused for every
 * summary), so a 90 KB summary of 2,000 symbols costs no array, no object
 * per symbol and no garbage beyond the message's own buffer and its epoch
 * string. Field numbers are those of the generated schema.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import { create, toBinary } from "@bufbuild/protobuf";
 * import { ServerMessageSchema } from "../../proto/gen/market_pb.ts";
 * import { decodeSummary, SummaryColumns } from "./summary_decode.ts";
 * const bytes = toBinary(ServerMessageSchema, create(ServerMessageSchema, {
 *   kind: { case: "summary", value: { seq: 1, mid: [100.5], feedState: new Uint8Array([1]) } },
 * }));
 * const columns = new SummaryColumns(1);
 * decodeSummary(bytes, columns)?.mid[0]; // 100.5
 * ```
 * @module
 */
import { MarketSummarySchema, ServerMessageSchema } from "../../proto/gen/market_pb.ts";
import { SUMMARY_FLOAT_COLUMNS, type SummaryFloatColumn } from "../pipeline/summary_columns.ts";

/** The float columns of a summary, in the order of {@linkcode SummaryColumns.floats}. */
export const FLOAT_COLUMNS = SUMMARY_FLOAT_COLUMNS;

/** The name of one float column. */
export type FloatColumn = SummaryFloatColumn;

/**
 * One summary's values, a typed array per column, entry i = symbol i of the
 * server's list; the newest summary decoded overwrites them in place.
 *
 * @example
 * ```ts
 * import { SummaryColumns } from "./summary_decode.ts";
 * const c = new SummaryColumns(2000);
 * c.mid.length; // 2000, NaN until a summary is decoded
 * ```
 */
export class SummaryColumns {
  /** Number of symbols. */
  readonly size: number;
  /** Feed state per symbol (0 connecting, 1 live, 2 stale, 3 resyncing). */
  readonly feedState: Uint8Array;
  /** Mid per symbol. */
  readonly mid: Float64Array;
  /** Relative mid change over 1 minute (0.01 = +1 %). */
  readonly change1m: Float32Array;
  /** Relative mid change over 15 minutes. */
  readonly change15m: Float32Array;
  /** Spread, bps. */
  readonly spreadBps: Float32Array;
  /** Top-5 imbalance, -1..1. */
  readonly imbalanceL5: Float32Array;
  /** OFI summed over 10 s. */
  readonly ofi10s: Float32Array;
  /** Realised volatility over 1 minute. */
  readonly volatility1m: Float32Array;
  /** Bid depth within 10 bps, quote currency. */
  readonly depthBid10bps: Float32Array;
  /** Ask depth within 10 bps, quote currency. */
  readonly depthAsk10bps: Float32Array;
  /** Age of the newest frame when the summary was built, ms. */
  readonly ageMs: Float32Array;
  /** The float columns in {@linkcode FLOAT_COLUMNS} order (the same arrays). */
  readonly floats: readonly Float32Array[];
  /** Seq of the summary decoded last (0 before any). */
  seq = 0;
  /** Its server time, epoch ms. */
  serverTime = NaN;
  /** Summaries the server skipped for this client just before it. */
  conflated = 0;
  /** The server's epoch it carried. */
  epoch = "";

  /** Allocates every column for `size` symbols, NaN (feed states 0). */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(`SummaryColumns: size must be a non-negative integer, got ${size}`);
    }
    this.size = size;
    this.feedState = new Uint8Array(size);
    this.mid = new Float64Array(size).fill(NaN);
    const f = () => new Float32Array(size).fill(NaN);
    this.change1m = f();
    this.change15m = f();
    this.spreadBps = f();
    this.imbalanceL5 = f();
    this.ofi10s = f();
    this.volatility1m = f();
    this.depthBid10bps = f();
    this.depthAsk10bps = f();
    this.ageMs = f();
    this.floats = FLOAT_COLUMNS.map((name) => this[name]);
  }
}

const SF = MarketSummarySchema.field;
const MF = ServerMessageSchema.field;
const FLOAT_FIELD: Record<number, number> = Object.fromEntries(
  FLOAT_COLUMNS.map((name, i) => [SF[name].number, i]),
);
const decoder = new TextDecoder();

/** A cursor over protobuf bytes (varints up to 2^53). */
class Cursor {
  at: number;
  constructor(readonly bytes: Uint8Array, start: number, readonly end: number) {
    this.at = start;
  }
  varint(): number {
    let value = 0, scale = 1, b: number;
    do {
      if (this.at >= this.end) throw new RangeError("summary: truncated varint");
      b = this.bytes[this.at++];
      value += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80);
    return value;
  }
  /** Skip a field of wire type `wt`. */
  skip(wt: number): void {
    if (wt === 0) this.varint();
    else if (wt === 1) this.at += 8;
    else if (wt === 2) this.at += this.varint();
    else if (wt === 5) this.at += 4;
    else throw new RangeError(`summary: unsupported wire type ${wt}`);
  }
}

/**
 * Decode `bytes` (one `ServerMessage`) into `out` when it is a summary and
 * return `out`; null when it is another message. Columns the message lacks
 * read NaN.
 *
 * @throws RangeError when a column's length is not `out.size` (a summary of
 * another symbol list) or the bytes are malformed.
 * @example
 * ```ts
 * import { decodeSummary, SummaryColumns } from "./summary_decode.ts";
 * decodeSummary(new Uint8Array([0x78, 1]), new SummaryColumns(1)); // null: no summary in it
 * ```
 */
export function decodeSummary(bytes: Uint8Array, out: SummaryColumns): SummaryColumns | null {
  const top = new Cursor(bytes, 0, bytes.length);
  let start = -1, end = -1, conflated = 0;
  while (top.at < top.end) {
    const tag = top.varint();
    const field = Math.floor(tag / 8), wt = tag & 7;
    if (field === MF.summary.number && wt === 2) {
      const len = top.varint();
      start = top.at;
      end = top.at = start + len;
    } else if (field === MF.conflated.number && wt === 0) {
      conflated = top.varint();
    } else {
      top.skip(wt);
    }
  }
  if (start < 0 || end > bytes.length) return null;
  out.conflated = conflated;
  readSummary(new Cursor(bytes, start, end), out);
  return out;
}

/** Read the summary's fields into `out`. */
function readSummary(c: Cursor, out: SummaryColumns): void {
  const view = new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength);
  let seen = 0; // bit i: float column i was present; bit 30: mid
  while (c.at < c.end) {
    const tag = c.varint();
    const field = Math.floor(tag / 8), wt = tag & 7;
    if (field === SF.seq.number && wt === 1) {
      out.seq = view.getFloat64(c.at, true);
      c.at += 8;
    } else if (field === SF.serverTime.number && wt === 1) {
      out.serverTime = view.getFloat64(c.at, true);
      c.at += 8;
    } else if (field === SF.epoch.number && wt === 2) {
      const len = c.varint();
      out.epoch = decoder.decode(c.bytes.subarray(c.at, c.at + len));
      c.at += len;
    } else if (field === SF.feedState.number && wt === 2) {
      const len = c.varint();
      sized("feed_state", len, out.size);
      out.feedState.set(c.bytes.subarray(c.at, c.at + len));
      c.at += len;
    } else if (field === SF.mid.number && wt === 2) {
      const len = c.varint();
      sized("mid", len / 8, out.size);
      const mid = out.mid;
      for (let i = 0; i < mid.length; i++) mid[i] = view.getFloat64(c.at + 8 * i, true);
      c.at += len;
      seen |= 1 << 30;
    } else if (wt === 2 && FLOAT_FIELD[field] !== undefined) {
      const k = FLOAT_FIELD[field];
      const len = c.varint();
      sized(FLOAT_COLUMNS[k], len / 4, out.size);
      const col = out.floats[k];
      for (let i = 0; i < col.length; i++) col[i] = view.getFloat32(c.at + 4 * i, true);
      c.at += len;
      seen |= 1 << k;
    } else {
      c.skip(wt);
    }
  }
  if (!(seen & (1 << 30))) out.mid.fill(NaN);
  for (let k = 0; k < out.floats.length; k++) if (!(seen & (1 << k))) out.floats[k].fill(NaN);
}

function sized(name: string, values: number, size: number): void {
  if (values !== size) {
    throw new RangeError(
      `summary column ${name} has ${values} values, expected one per symbol (${size} symbols)`,
    );
  }
}
