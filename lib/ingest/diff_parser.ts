/**
 * Parses diff-depth events (`depthUpdate`, streams `<symbol>@depth[@100ms]`)
 * from the WebSocket message string into a preallocated {@link DiffEvent},
 * without `JSON.parse` and without allocating on the common path.
 *
 * Accepted shapes: combined-stream wrapped
 * `{"stream":"bnbbtc@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[]}}`
 * and raw `/ws/` events (the bare `data` object). USD-M futures events also
 * carry `pu` (stored; NaN when absent) and `T` (ignored). Which update-id
 * chain the events follow is the option {@link DiffParserOptions.chain}: spot
 * (`pu` ignored, so `DiffSync` applies `U == prev u + 1`), USD-M (`pu`
 * required, so `DiffSync` applies `pu == prev u`), or, by default, whichever
 * the event shows (`pu` present or not). The symbol comes from
 * the stream name when there is one, else from `"s"`, else from
 * `fallbackSymbolId`. Quantities are absolute numbers; `"0.00000000"` and
 * `"0"` both parse to 0.
 *
 * Results: {@link RejectReason.Ok}; {@link RejectReason.Malformed} (not JSON,
 * truncated, an `"e"` other than depthUpdate, `U`, `u`, `b` or `a` missing or
 * of the wrong type, `pu` missing on the USD-M chain); {@link RejectReason.UnknownStream} (a stream other than a
 * diff stream, one other than the subscribed one when a suffix is given, or a
 * symbol not in the table); {@link RejectReason.TooManyLevels}
 * (more levels on a side than the event's capacity); or a
 * {@link ControlMessage} code ({@link isControlMessage}).
 *
 * @example
 * ```ts
 * import { DiffParser } from "./diff_parser.ts";
 * import { DiffEvent } from "./diff_event.ts";
 * import { SymbolTable } from "./symbol_table.ts";
 * const parser = new DiffParser(new SymbolTable(["bnbbtc"]));
 * const ev = new DiffEvent();
 * parser.parse('{"e":"depthUpdate","E":1,"s":"BNBBTC","U":157,"u":160,"b":[["0.0024","10"]],"a":[]}', ev);
 * // RejectReason.Ok; ev.finalUpdateId === 160, ev.bidPrices[0] === 0.0024
 * ```
 * @module
 */

import type { DiffEvent } from "./diff_event.ts";
import { DepthMessageScanner, StreamKind } from "./json_scan.ts";
import { RejectReason } from "../pipeline/reject_reason.ts";
import type { SymbolTable } from "./symbol_table.ts";

export { ControlMessage, isControlMessage } from "./json_scan.ts";

/**
 * The update-id chain diff events follow: `"spot"` (Binance spot: each event
 * starts at `U == prev u + 1`; a `pu` is not part of it and is ignored) or
 * `"usdm"` (Binance USD-M futures: each event names the previous event's
 * final id in `pu`, which must equal the previous `u`; an event without `pu`
 * is malformed).
 */
export type DiffChain = "spot" | "usdm";

/** Options of {@link DiffParser}. */
export interface DiffParserOptions {
  /**
   * The update-id chain of the connection ({@link DiffChain}). Default none:
   * the event decides (`pu` is stored when present, as for replays of
   * recordings of either venue).
   */
  chain?: DiffChain;
}

const CHAIN_ANY = 0;
const CHAIN_SPOT = 1;
const CHAIN_USDM = 2;

/**
 * A reusable diff-event parser.
 *
 * @example
 * ```ts
 * import { DiffParser } from "./diff_parser.ts";
 * import { DiffEvent } from "./diff_event.ts";
 * import { DiffSync } from "./diff_sync.ts";
 * import { SymbolTable } from "./symbol_table.ts";
 * import { RejectReason } from "../pipeline/reject_reason.ts";
 * declare const message: string; // one WebSocket text message
 * const parser = new DiffParser(new SymbolTable(["btcusdt"]));
 * const sync = new DiffSync({ symbolCount: 1 });
 * const ev = new DiffEvent();
 * const code = parser.parse(message, ev);
 * if (code === RejectReason.Ok) sync.onEvent(ev);
 * ```
 */
export class DiffParser {
  readonly #scanner: DepthMessageScanner;
  readonly #chain: number;

  /**
   * Creates a parser resolving symbols with `symbols`.
   *
   * @param symbols the run's symbols.
   * @param subscribedSuffix the stream suffix the connection subscribed to,
   *   e.g. `"@depth@100ms"`: a combined-stream message of any other stream
   *   (`btcusdt@depth`, the 1000 ms one) is {@link RejectReason.UnknownStream}.
   *   Default `""`: any diff stream.
   * @param options see {@link DiffParserOptions}.
   * @throws TypeError when `options.chain` is neither `"spot"` nor `"usdm"`.
   */
  constructor(symbols: SymbolTable, subscribedSuffix = "", options: DiffParserOptions = {}) {
    this.#scanner = new DepthMessageScanner(symbols);
    this.#scanner.subscribedSuffix = subscribedSuffix;
    const chain = options.chain;
    if (chain !== undefined && chain !== "spot" && chain !== "usdm") {
      throw new TypeError(`diff chain must be "spot" or "usdm", got ${JSON.stringify(chain)}`);
    }
    this.#chain = chain === "spot" ? CHAIN_SPOT : chain === "usdm" ? CHAIN_USDM : CHAIN_ANY;
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
   * Parses `text` into `event`. On Ok every field of the event is set; on any
   * other result its contents are unspecified.
   *
   * @param text one WebSocket text message.
   * @param event the scratch event to overwrite.
   * @param fallbackSymbolId symbol for events naming none; default -1.
   * @returns a {@link RejectReason} or a {@link ControlMessage} code. Never throws for bad text.
   */
  parse(text: string, event: DiffEvent, fallbackSymbolId = -1): number {
    const s = this.#scanner;
    const cap = event.bidPrices.length;
    s.setLevelTargets(
      event.bidPrices,
      0,
      event.bidSizes,
      0,
      event.askPrices,
      0,
      event.askSizes,
      0,
      1,
      cap,
    );
    const checked = s.scanDepth(text, StreamKind.Diff, fallbackSymbolId);
    if (checked !== RejectReason.Ok) return checked;
    const symbolId = s.depthSymbolId;
    if (
      s.firstUpdateId !== s.firstUpdateId || s.finalUpdateId !== s.finalUpdateId ||
      s.bidCount < 0 || s.askCount < 0
    ) {
      return RejectReason.Malformed;
    }
    // A diff event is sequenced by U/u; a lastUpdateId that disagrees with u
    // makes it ambiguous (which id is the book at?): refused, not guessed.
    if (s.lastUpdateId === s.lastUpdateId && s.lastUpdateId !== s.finalUpdateId) {
      return RejectReason.Malformed;
    }
    const pu = s.prevFinalUpdateId;
    // USD-M events are chained by pu: one without it cannot be placed.
    if (this.#chain === CHAIN_USDM && pu !== pu) return RejectReason.Malformed;
    if (s.bidCount > cap || s.askCount > cap) return RejectReason.TooManyLevels;
    event.symbolId = symbolId;
    event.eventTime = s.eventTime;
    event.firstUpdateId = s.firstUpdateId;
    event.finalUpdateId = s.finalUpdateId;
    event.prevFinalUpdateId = this.#chain === CHAIN_SPOT ? NaN : pu;
    event.bidCount = s.bidCount;
    event.askCount = s.askCount;
    return RejectReason.Ok;
  }
}
