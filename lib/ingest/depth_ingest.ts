/**
 * The partial-book (`depth20`) hot path, one message at a time: parse the
 * message straight into the raw ring's reserved slot, validate it in place,
 * check its update id, stamp it and commit — or count why not. The first
 * frame accepted for a symbol, and the first after each {@link DepthIngest.reset}
 * (a reconnect), is flagged `BOOK_FLAG_RESYNCED`. A rejected
 * frame leaves the slot reserved for the next message, so a rejection never
 * costs a drop. Nothing is allocated per frame.
 *
 * Used by the {@link Ingestor} for live connections and by the pipeline
 * benchmark to replay recorded frames through exactly the same code.
 *
 * @example
 * ```ts
 * import { DepthIngest } from "./depth_ingest.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(20);
 * const ring = SpscRing.create({ capacity: 16, slotBytes: layout.slotBytes });
 * const ingest = new DepthIngest({
 *   symbols: ["btcusdt"],
 *   ring,
 *   counters: PipelineCounters.create(2),
 * });
 * ingest.handle('{"stream":"btcusdt@depth20@100ms","data":{"lastUpdateId":1,"bids":[["1.0","2"]],"asks":[["1.1","3"]]}}', Date.now());
 * // 0: accepted (the symbol id)
 * ```
 * @module
 */

import type { SpscRing } from "../pipeline/spsc_ring.ts";
import {
  INGEST_ACCEPTED,
  INGEST_CONTROL_MESSAGES,
  INGEST_RECEIVED,
  type PipelineCounters,
} from "../pipeline/pipeline_counters.ts";
import {
  BOOK_FLAG_RESYNCED,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_PARSED_TIME,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../pipeline/book_slot.ts";
import { DepthParser, isControlMessage } from "./depth_parser.ts";
import { RejectReason } from "../pipeline/reject_reason.ts";
import { SymbolTable } from "./symbol_table.ts";
import { UpdateIdTracker, validateBook } from "./validate_book.ts";

/** Options of {@link DepthIngest}. */
export interface DepthIngestOptions {
  /** Lower-case symbols; id = index. Required. */
  symbols: readonly string[];
  /** The raw ring; this object is its producer. Required. */
  ring: SpscRing;
  /** Shared counters (at least `symbols.length + 1` rows); the last row counts frames of no known symbol. Required. */
  counters: PipelineCounters;
  /**
   * The service-wide id of each symbol (index = its id here): the counter row
   * and the frame's `BOOK_SYMBOL_ID` (an ingest of one venue of a multi-venue
   * symbol list). Default: the id itself.
   */
  rows?: ArrayLike<number>;
  /** The counter row of frames that name no known symbol. Default: the counters' last row. */
  unknownRow?: number;
  /** Book levels per side. Default 20. */
  levels?: number;
  /** How long to wait for space when the ring's policy is `block`, ms. Default 1000. */
  reserveTimeoutMs?: number;
  /**
   * The stream suffix subscribed to, e.g. `"@depth20@100ms"`: frames of any
   * other stream are rejected as `unknown_stream`. Default `""`: any partial
   * book stream (for replays of recorded frames).
   */
  subscribedSuffix?: string;
}

/** What {@link DepthIngest.handle} did with a message that was not a frame of a symbol. */
export const DEPTH_INGEST_CONTROL = -2;
/** Returned by {@link DepthIngest.handle} for a frame that was rejected (and counted). */
export const DEPTH_INGEST_REJECTED = -1;

/**
 * Parses, validates and commits partial-book frames into the raw ring.
 *
 * @example
 * ```ts
 * import { DEPTH_INGEST_CONTROL, DEPTH_INGEST_REJECTED, DepthIngest } from "./depth_ingest.ts";
 * declare const ingest: DepthIngest;
 * declare const text: string; // one WebSocket text message
 * const id = ingest.handle(text, Date.now());
 * if (id === DEPTH_INGEST_REJECTED) {
 *   // rejected and counted by reason; the slot stays reserved for the next message
 * } else if (id === DEPTH_INGEST_CONTROL) {
 *   // a control message (reply, serverShutdown): nothing was written
 * } else {
 *   // the frame of symbol `id` was committed to the ring
 * }
 * ```
 */
export class DepthIngest {
  /** The slot layout frames are written in. */
  readonly layout: BookSlotLayout;
  readonly #ring: SpscRing;
  readonly #counters: PipelineCounters;
  readonly #parser: DepthParser;
  readonly #tracker: UpdateIdTracker;
  /** 1 while a symbol's next accepted frame is its first since a (re)connect. */
  readonly #resynced: Uint8Array;
  /** Service-wide id of each symbol id (option `rows`). */
  readonly #rows: Int32Array;
  readonly #unknownRow: number;
  readonly #reserveTimeoutMs: number;

  /**
   * Creates the parser and the per-symbol update-id tracker for the ring.
   *
   * @param options see {@link DepthIngestOptions}.
   * @throws RangeError when the ring's slots are too small for `levels`, or
   *   `rows` does not give one row per symbol.
   */
  constructor(options: DepthIngestOptions) {
    this.layout = new BookSlotLayout(options.levels ?? 20);
    this.#ring = options.ring;
    if (this.layout.slotBytes > this.#ring.slotBytes) {
      throw new RangeError(
        `raw ring slots hold ${this.#ring.slotBytes} bytes; ${this.layout.levels} levels need ${this.layout.slotBytes}`,
      );
    }
    this.#counters = options.counters;
    this.#parser = new DepthParser(new SymbolTable(options.symbols), {
      layout: this.layout,
      subscribedSuffix: options.subscribedSuffix,
    });
    this.#tracker = new UpdateIdTracker(options.symbols.length);
    this.#resynced = new Uint8Array(options.symbols.length).fill(1);
    const n = options.symbols.length;
    if (options.rows !== undefined && options.rows.length !== n) {
      throw new RangeError(`rows must give one row per symbol (${n}), got ${options.rows.length}`);
    }
    this.#rows = options.rows === undefined
      ? Int32Array.from({ length: n }, (_, i) => i)
      : Int32Array.from(options.rows);
    this.#unknownRow = options.unknownRow ?? options.counters.unknownRow;
    this.#reserveTimeoutMs = options.reserveTimeoutMs ?? 1000;
  }

  /**
   * Handle one text message received at `receivedAt` (epoch ms). Returns the
   * symbol id (index in `symbols`; the frame and the counters carry its row,
   * option `rows`) of an accepted frame, {@link DEPTH_INGEST_REJECTED} for a
   * counted rejection, or {@link DEPTH_INGEST_CONTROL} for a control message.
   */
  handle(text: string, receivedAt: number): number {
    const ring = this.#ring;
    const f64 = ring.f64;
    const at = ring.reserve(this.#reserveTimeoutMs);
    const c = this.#counters;
    if (at < 0) {
      // Refused by a drop-newest or block ring (never with drop-oldest): the
      // ring counted the drop; count the frame as accepted into the ring's
      // door so that accepted = dropped + analysed + depth still holds.
      c.add(c.ingestSymbol(this.#unknownRow, INGEST_RECEIVED), 1);
      c.add(c.ingestSymbol(this.#unknownRow, INGEST_ACCEPTED), 1);
      return DEPTH_INGEST_REJECTED;
    }
    const code = this.#parser.parse(text, f64, at);
    if (isControlMessage(code)) {
      c.add(c.ingest(INGEST_CONTROL_MESSAGES), 1);
      return DEPTH_INGEST_CONTROL;
    }
    // A frame that did not parse names no symbol we can trust: it is counted
    // under the extra "unknown" row.
    const symbolId = code === RejectReason.Ok ? f64[at + BOOK_SYMBOL_ID] : -1;
    let reason = code;
    if (reason === RejectReason.Ok) {
      reason = validateBook(f64, at, this.layout);
      if (reason === RejectReason.Ok) {
        reason = this.#tracker.check(symbolId, f64[at + BOOK_LAST_UPDATE_ID]);
      }
    }
    const row = symbolId >= 0 ? this.#rows[symbolId] : this.#unknownRow;
    c.add(c.ingestSymbol(row, INGEST_RECEIVED), 1);
    if (reason !== RejectReason.Ok) {
      c.add(c.rejected(row, reason), 1);
      return DEPTH_INGEST_REJECTED;
    }
    this.#tracker.accept(symbolId, f64[at + BOOK_LAST_UPDATE_ID]);
    if (this.#resynced[symbolId] === 1) {
      // The parser wrote 0: a partial book carries no other flag.
      f64[at + BOOK_FLAGS] = BOOK_FLAG_RESYNCED;
      this.#resynced[symbolId] = 0;
    }
    f64[at + BOOK_SYMBOL_ID] = row;
    f64[at + BOOK_RECEIVE_TIME] = receivedAt;
    f64[at + BOOK_PARSED_TIME] = performance.timeOrigin + performance.now();
    ring.commit();
    c.add(c.ingestSymbol(row, INGEST_ACCEPTED), 1);
    return symbolId;
  }

  /**
   * Forget the last accepted update id of `symbolId` and flag its next
   * accepted frame `BOOK_FLAG_RESYNCED` (after a reconnect: its OFI and
   * volatility chains start over there). Every symbol's first frame after
   * construction carries the flag too.
   */
  reset(symbolId: number): void {
    this.#tracker.reset(symbolId);
    this.#resynced[symbolId] = 1;
  }
}
