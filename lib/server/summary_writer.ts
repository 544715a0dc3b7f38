/**
 * The one writer of the market summary message (`ServerMessage { summary }`
 * of `proto/market.proto`): both summaries a node can send — the one built
 * from its own frames (`market_summary.ts`) and the one merged from the
 * ingest nodes' summaries on a dashboard node (`bus_summary.ts`) — hand their
 * per-symbol values to a {@linkcode SummaryWriter}, so the columns, their
 * order and their encoding live in this file only.
 *
 * The message is columnar: a header (epoch, seq, server time), one byte of
 * feed state per symbol, then one packed column per value, one entry per
 * symbol in the order of the server's symbol list: `mid` as doubles, the
 * others ({@linkcode SUMMARY_FLOAT_COLUMNS}) as floats. The writer reuses one
 * protobuf writer (its buffer grows to the message's size once), so a write
 * allocates only the finished message.
 *
 * @example
 * ```ts
 * import { type SummaryReaders, SummaryWriter } from "./summary_writer.ts";
 * import { SUMMARY_COLUMNS } from "../pipeline/summary_columns.ts";
 * const writer = new SummaryWriter({ symbols: 2, epoch: "e1" });
 * const nan = (_id: number) => NaN;
 * const read = Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c, nan])) as SummaryReaders;
 * const bytes = writer.write(Date.now(), new Uint8Array([1, 0]), { ...read, mid: (id) => 100 + id });
 * writer.seq; // 1
 * writer.latest === bytes; // true
 * ```
 * @module
 */

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { fieldNumbers } from "../analytics/wire_encoder.ts";
import { MarketSummarySchema, ServerMessageSchema } from "../../proto/gen/market_pb.ts";
import {
  SUMMARY_COLUMNS,
  SUMMARY_FLOAT_COLUMNS,
  type SummaryColumn,
} from "../pipeline/summary_columns.ts";

/**
 * The value of each column for symbol `id` (NaN when unknown), one reader per
 * column; the writer calls each reader once per symbol, column by column.
 */
export type SummaryReaders = Readonly<Record<SummaryColumn, (id: number) => number>>;

/** Options of {@linkcode SummaryWriter}. */
export interface SummaryWriterOptions {
  /** Symbols covered (ids 0..symbols-1): every column holds this many values. Required. */
  symbols: number;
  /** The hub's epoch (`WsHub.epoch`), carried in every summary. Required. */
  epoch: string;
}

const S = fieldNumbers(MarketSummarySchema, [
  "epoch",
  "seq",
  "serverTime",
  "feedState",
  ...SUMMARY_COLUMNS,
]);
const M = fieldNumbers(ServerMessageSchema, ["summary"]);

/**
 * Writes numbered summaries (seq 1, 2, …) of one hub instance; see the module
 * documentation.
 *
 * @example
 * ```ts
 * import { type SummaryReaders, SummaryWriter } from "./summary_writer.ts";
 * import { SUMMARY_COLUMNS } from "../pipeline/summary_columns.ts";
 * const read = Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c, (_id: number) => 0])) as SummaryReaders;
 * const writer = new SummaryWriter({ symbols: 1, epoch: "e" });
 * writer.write(0, new Uint8Array(1), read);
 * writer.write(1000, new Uint8Array(1), read);
 * writer.seq; // 2
 * ```
 */
export class SummaryWriter {
  /** Symbols covered (ids 0..symbols-1). */
  readonly symbols: number;
  readonly #epoch: string;
  /** One writer reused by every summary (its buffer grows once, then stays). */
  readonly #writer = new BinaryWriter();
  #seq = 0;
  #latest: Uint8Array<ArrayBuffer> | null = null;
  #bytesBuilt = 0;

  /** @throws RangeError when `symbols` is not a non-negative integer. */
  constructor(options: SummaryWriterOptions) {
    if (!Number.isInteger(options.symbols) || options.symbols < 0) {
      throw new RangeError(
        `SummaryWriter: symbols must be a non-negative integer, got ${options.symbols}`,
      );
    }
    this.symbols = options.symbols;
    this.#epoch = options.epoch;
  }

  /** Summaries written so far (the seq of the newest; 0 before the first). */
  get seq(): number {
    return this.#seq;
  }

  /** Bytes of every summary written so far. */
  get bytesBuilt(): number {
    return this.#bytesBuilt;
  }

  /** The newest summary written (a `ServerMessage { summary }`), or null before the first. */
  get latest(): Uint8Array<ArrayBuffer> | null {
    return this.#latest;
  }

  /**
   * Write the next summary (seq one more than the previous one's) with server
   * time `nowMs`, the feed state of symbol i in `feedStates[i]` and the
   * columns read by `read`; keep it as {@linkcode SummaryWriter.latest} and
   * return its bytes.
   *
   * @throws RangeError when `feedStates` does not hold one byte per symbol.
   */
  write(nowMs: number, feedStates: Uint8Array, read: SummaryReaders): Uint8Array<ArrayBuffer> {
    if (feedStates.length !== this.symbols) {
      throw new RangeError(
        `SummaryWriter: expected ${this.symbols} feed states (one per symbol), got ${feedStates.length}`,
      );
    }
    const w = this.#writer;
    this.#seq++;
    w.tag(M.summary, WireType.LengthDelimited).fork();
    w.tag(S.epoch, WireType.LengthDelimited).string(this.#epoch);
    w.tag(S.seq, WireType.Bit64).double(this.#seq);
    w.tag(S.serverTime, WireType.Bit64).double(nowMs);
    w.tag(S.feedState, WireType.LengthDelimited).bytes(feedStates);
    this.#column(S.mid, true, read.mid);
    for (const name of SUMMARY_FLOAT_COLUMNS) this.#column(S[name], false, read[name]);
    w.join();
    const bytes = w.finish() as Uint8Array<ArrayBuffer>;
    this.#latest = bytes;
    this.#bytesBuilt += bytes.length;
    return bytes;
  }

  /** One packed column of `read(id)` for every symbol; doubles or floats. */
  #column(field: number, doubles: boolean, read: (id: number) => number): void {
    const w = this.#writer;
    const n = this.symbols;
    w.tag(field, WireType.LengthDelimited).fork();
    if (doubles) { for (let id = 0; id < n; id++) w.double(read(id)); }
    else for (let id = 0; id < n; id++) w.float(read(id));
    w.join();
  }
}
