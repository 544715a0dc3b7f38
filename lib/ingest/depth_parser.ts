/**
 * Parses partial-book messages (`<symbol>@depth<N>[@100ms]`) straight from the
 * WebSocket message string into a raw-ring book slot, without `JSON.parse` and
 * without allocating on the common path.
 *
 * Accepted shapes:
 * - spot, combined stream: `{"stream":"btcusdt@depth20@100ms","data":{"lastUpdateId":160,
 *   "bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}}`;
 * - spot, raw `/ws/` stream: the bare payload; it names no symbol, so the
 *   caller passes the connection's symbol as `fallbackSymbolId`;
 * - USD-M futures partial book, combined or raw: these carry the full
 *   `depthUpdate` envelope (`e`, `E`, `T`, `s`, `U`, `u`, `pu`, `b`, `a`).
 *   The book is the state as of `u`, so `u` is stored as the slot's
 *   lastUpdateId, `E` as its event time, and `b`/`a` are the levels; `T`, `U`,
 *   `pu` are ignored. A `lastUpdateId` key, when present, takes precedence.
 *
 * The symbol comes from the stream name when there is one (the `"s"` value is
 * then ignored), else from `"s"`, else from `fallbackSymbolId`. Whitespace and
 * any key order that JSON allows are accepted; unknown keys are skipped.
 *
 * Results: {@link RejectReason.Ok}; {@link RejectReason.Malformed} (not JSON,
 * truncated, or a required key missing or of the wrong type);
 * {@link RejectReason.UnknownStream} (a stream other than a partial book, one
 * other than the subscribed one when {@link DepthParserOptions.subscribedSuffix}
 * is set, or a symbol not in the table); {@link RejectReason.TooManyLevels} (more levels
 * on a side than the layout holds); or a {@link ControlMessage} code for a
 * serverShutdown message or a subscription reply ({@link isControlMessage}).
 *
 * @example
 * ```ts
 * import { DepthParser } from "./depth_parser.ts";
 * import { SymbolTable } from "./symbol_table.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * const layout = new BookSlotLayout(20);
 * const parser = new DepthParser(new SymbolTable(["btcusdt"]), { layout });
 * const f64 = new Float64Array(layout.slotWords);
 * parser.parse(
 *   '{"stream":"btcusdt@depth20@100ms","data":{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[]}}',
 *   f64,
 *   0,
 * ); // RejectReason.Ok; f64[layout.bidPrice(0)] === 0.0024
 * ```
 * @module
 */

import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_EVENT_TIME,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../pipeline/book_slot.ts";
import { DepthMessageScanner, StreamKind } from "./json_scan.ts";
import { RejectReason } from "../pipeline/reject_reason.ts";
import type { SymbolTable } from "./symbol_table.ts";

export { ControlMessage, isControlMessage } from "./json_scan.ts";

/** Options of {@link DepthParser}. */
export interface DepthParserOptions {
  /** Slot layout to write; default `new BookSlotLayout()` (20 levels per side). */
  layout?: BookSlotLayout;
  /**
   * The stream suffix the connection subscribed to, e.g. `"@depth20@100ms"`:
   * a combined-stream message of any other stream (`btcusdt@depth5@100ms`) is
   * {@link RejectReason.UnknownStream}. Default `""`: any partial-book stream.
   */
  subscribedSuffix?: string;
}

/**
 * A reusable partial-book parser. Not safe to share between concurrent users
 * (it keeps scratch state), which JavaScript's threading model guarantees.
 *
 * @example
 * ```ts
 * import { DepthParser, isControlMessage } from "./depth_parser.ts";
 * import { SymbolTable } from "./symbol_table.ts";
 * import { REJECT_REASON_NAMES, RejectReason } from "../pipeline/reject_reason.ts";
 * declare const message: string; // one WebSocket text message
 * const parser = new DepthParser(new SymbolTable(["btcusdt", "ethusdt"]));
 * const slot = new Float64Array(parser.layout.slotWords);
 * const code = parser.parse(message, slot, 0);
 * if (code === RejectReason.Ok) {
 *   // the slot holds the book: commit it
 * } else if (isControlMessage(code)) {
 *   console.log("control message", code, "for request", parser.controlId);
 * } else {
 *   console.log("rejected:", REJECT_REASON_NAMES[code]);
 * }
 * ```
 */
export class DepthParser {
  /** The slot layout written by {@link DepthParser.parse}. */
  readonly layout: BookSlotLayout;
  readonly #scanner: DepthMessageScanner;

  /**
   * Creates a parser writing slots of `options.layout`.
   *
   * @param symbols the run's symbols.
   * @param options see {@link DepthParserOptions}.
   */
  constructor(symbols: SymbolTable, options: DepthParserOptions = {}) {
    this.layout = options.layout ?? new BookSlotLayout();
    this.#scanner = new DepthMessageScanner(symbols);
    this.#scanner.subscribedSuffix = options.subscribedSuffix ?? "";
  }

  /** `"id"` of the last message when it was a subscription reply or error; NaN otherwise. */
  get controlId(): number {
    return this.#scanner.messageId;
  }

  /** `"E"` of the last message (e.g. of a serverShutdown); NaN when it had none. */
  get controlEventTime(): number {
    return this.#scanner.eventTime;
  }

  /**
   * Parses `text` into the slot at `f64[base, base + layout.slotWords)`.
   * On Ok it writes the symbol id, lastUpdateId, event time (`E`, or NaN),
   * flags (0), counts and levels; it never touches the receive and parsed
   * times. On any other result the slot's contents are unspecified.
   *
   * @param text one WebSocket text message.
   * @param f64 the ring's words.
   * @param base first word of the slot.
   * @param fallbackSymbolId symbol for messages naming none (raw spot streams); default -1.
   * @returns a {@link RejectReason} or a {@link ControlMessage} code. Never throws for bad text.
   * @throws RangeError when the slot does not fit in `f64` (a caller bug).
   */
  parse(text: string, f64: Float64Array, base: number, fallbackSymbolId = -1): number {
    const layout = this.layout;
    if (!(base >= 0 && base + layout.slotWords <= f64.length)) {
      throw new RangeError(
        `slot at word ${base} with ${layout.slotWords} words does not fit in ${f64.length} words`,
      );
    }
    const s = this.#scanner;
    const b = base + layout.bidsStart;
    const a = base + layout.asksStart;
    s.setLevelTargets(f64, b, f64, b + 1, f64, a, f64, a + 1, 2, layout.levels);
    const checked = s.scanDepth(text, StreamKind.Partial, fallbackSymbolId);
    if (checked !== RejectReason.Ok) return checked;
    const symbolId = s.depthSymbolId;
    const updateId = s.lastUpdateId === s.lastUpdateId ? s.lastUpdateId : s.finalUpdateId;
    if (updateId !== updateId || s.bidCount < 0 || s.askCount < 0) return RejectReason.Malformed;
    if (s.bidCount > layout.levels || s.askCount > layout.levels) {
      return RejectReason.TooManyLevels;
    }
    f64[base + BOOK_SYMBOL_ID] = symbolId;
    f64[base + BOOK_LAST_UPDATE_ID] = updateId;
    f64[base + BOOK_EVENT_TIME] = s.eventTime;
    f64[base + BOOK_FLAGS] = 0;
    f64[base + BOOK_BID_COUNT] = s.bidCount;
    f64[base + BOOK_ASK_COUNT] = s.askCount;
    return RejectReason.Ok;
  }
}
