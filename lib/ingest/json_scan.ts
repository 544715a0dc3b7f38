/**
 * A zero-allocation scanner for Binance depth-family WebSocket messages, shared
 * by the partial-book parser ({@link ./depth_parser.ts}) and the diff-event
 * parser ({@link ./diff_parser.ts}).
 *
 * It copies the message string into a reused byte buffer with
 * `TextEncoder.encodeInto` (about 0.1 ns per char, far cheaper than
 * `charCodeAt` per char), walks the bytes, validates the JSON
 * structure strictly (a message `JSON.parse` refuses is never reported
 * well-formed), and records what it found: the stream name's symbol and kind,
 * the event's `e`, `E`, `s`, `U`, `u`, `pu`, `lastUpdateId`, the level arrays
 * (`bids`/`b`, `asks`/`a`, written straight into caller-supplied typed arrays)
 * and the keys of subscription replies. Unknown keys are validated and
 * skipped. Event keys belong in `"data"` when there is one; a message with
 * event keys both at the top level and a `"data"` object is malformed. A known
 * key with a value of the wrong type is malformed unless a later duplicate of
 * the key has a good value (the last duplicate wins, as in `JSON.parse`). Decimal strings are turned into numbers by accumulating digits:
 * when the digits fit in 2^53 and there are at most 22 of them after the
 * point, `mantissa / 10**scale` is a single correctly rounded division and
 * equals `parseFloat`; otherwise (and for exponents) the rare slow path calls
 * `parseFloat` on a substring. Strings with backslash escapes are decoded with
 * `JSON.parse` on the string alone (Binance never sends them). Messages longer
 * than {@link MAX_MESSAGE_CHARS} are refused as malformed, which bounds the
 * buffer.
 *
 * @example
 * ```ts
 * import { DepthMessageScanner, StreamKind } from "./json_scan.ts";
 * import { SymbolTable } from "./symbol_table.ts";
 * const scanner = new DepthMessageScanner(new SymbolTable(["btcusdt"]));
 * const prices = new Float64Array(20), sizes = new Float64Array(20);
 * scanner.setLevelTargets(prices, 0, sizes, 0, prices, 0, sizes, 0, 1, 20);
 * scanner.scan('{"stream":"btcusdt@depth5","data":{"lastUpdateId":1,"bids":[["1.5","2"]],"asks":[]}}');
 * // true; scanner.streamKind === StreamKind.Partial, scanner.bidCount === 1, prices[0] === 1.5
 * ```
 * @module
 */

import type { SymbolTable } from "./symbol_table.ts";
import { RejectReason } from "../pipeline/reject_reason.ts";

/**
 * Codes the parsers return for messages that are not book data but that the
 * connection layer must act on. They are outside the {@link RejectReason}
 * range on purpose: check {@link isControlMessage} before using a result code
 * as a rejection counter index.
 *
 * @example
 * ```ts
 * import { ControlMessage, isControlMessage } from "./json_scan.ts";
 * isControlMessage(ControlMessage.ServerShutdown); // true
 * ```
 */
export const ControlMessage = {
  /** `{"e":"serverShutdown","E":...}` (raw) or the `!serverShutdown` combined stream. */
  ServerShutdown: 100,
  /** Reply to a SUBSCRIBE/UNSUBSCRIBE/... request: `{"result":null,"id":1}`. */
  SubscriptionReply: 101,
  /** Error reply to a request: `{"error":{...},"id":1}` or `{"code":2,"msg":"...","id":1}`. */
  SubscriptionError: 102,
} as const;

/** One of the {@link ControlMessage} values. */
export type ControlMessage = typeof ControlMessage[keyof typeof ControlMessage];

/**
 * True when a parser result code is a {@link ControlMessage} rather than a
 * {@link RejectReason}.
 *
 * @example
 * ```ts
 * import { isControlMessage } from "./json_scan.ts";
 * isControlMessage(0); // false (RejectReason.Ok)
 * ```
 */
export function isControlMessage(code: number): boolean {
  return code >= ControlMessage.ServerShutdown;
}

/**
 * What the `"stream"` name of a combined-stream message denotes.
 *
 * @example
 * ```ts
 * import { StreamKind } from "./json_scan.ts";
 * StreamKind.Partial; // 1, e.g. "btcusdt@depth20@100ms"
 * ```
 */
export const StreamKind = {
  /** The message had no `"stream"` key (a raw `/ws/` message). */
  None: 0,
  /** `<symbol>@depth<N>` or `<symbol>@depth<N>@<ms>ms`: partial book. */
  Partial: 1,
  /** `<symbol>@depth` or `<symbol>@depth@<ms>ms`: diff events. */
  Diff: 2,
  /** `!serverShutdown`. */
  ServerShutdown: 3,
  /** Any other stream name. */
  Other: 4,
} as const;

/** One of the {@link StreamKind} values. */
export type StreamKind = typeof StreamKind[keyof typeof StreamKind];

/**
 * The event type named by the `"e"` key.
 *
 * @example
 * ```ts
 * import { EventType } from "./json_scan.ts";
 * EventType.DepthUpdate; // 1
 * ```
 */
export const EventType = {
  /** No `"e"` key. */
  None: 0,
  /** `"depthUpdate"`. */
  DepthUpdate: 1,
  /** `"serverShutdown"`. */
  ServerShutdown: 2,
  /** Anything else. */
  Other: 3,
} as const;

/** One of the {@link EventType} values. */
export type EventType = typeof EventType[keyof typeof EventType];

/** Deepest nesting of skipped (unknown) values accepted before reporting malformed. */
export const MAX_SKIP_DEPTH = 64;

/** Longest message accepted, in UTF-16 chars (4 Mi); longer ones are malformed. */
export const MAX_MESSAGE_CHARS = 4 * 1024 * 1024;

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/**
 * UTF-8 bytes of `str` followed by at least one 0 byte (the scanner's end
 * sentinel, so that no read goes past the array). Allocates; slow paths only.
 */
function paddedBytes(str: string): Uint8Array {
  const out = new Uint8Array(str.length * 3 + 8);
  const n = ENCODER.encodeInto(str, out).written;
  return out.subarray(0, n + 1);
}

/** The JSON string whose quotes are at `b[open]` and `b[close]`, decoded. Slow path only. */
function decodeString(b: Uint8Array, open: number, close: number): string {
  return JSON.parse(DECODER.decode(b.subarray(open, close + 1))) as string;
}

/** `parseFloat` of the ASCII bytes `b[start, end)`. Slow path only. */
function parseFloatBytes(b: Uint8Array, start: number, end: number): number {
  return parseFloat(DECODER.decode(b.subarray(start, end)));
}

/** 10**i for i = 0..22, all exact doubles. */
const POW10 = new Float64Array(23);
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10[i] = p;

// Char codes.
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const AT = 64;
const BANG = 33;

// Key ids.
const K_UNKNOWN = 0;
const K_STREAM = 1;
const K_DATA = 2;
const K_EVENT = 3; // e
const K_EVENT_TIME = 4; // E
const K_SYMBOL = 5; // s
const K_FIRST = 6; // U
const K_FINAL = 7; // u
const K_PREV_FINAL = 8; // pu
const K_BIDS = 9; // b, bids
const K_ASKS = 10; // a, asks
const K_LAST_UPDATE_ID = 11;
const K_RESULT = 12;
const K_ID = 13;
const K_ERROR = 14; // error, code

/** Skips JSON whitespace from `i`; returns the index of the next other char. */
function ws(b: Uint8Array, i: number): number {
  let c = b[i];
  while (c <= 32 && (c === 32 || c === 10 || c === 13 || c === 9)) c = b[++i];
  return i;
}

/** True when `b[s, s + lit.length)` equals the ASCII string `lit`. */
function eq(b: Uint8Array, s: number, lit: string): boolean {
  for (let k = 0; k < lit.length; k++) {
    if (b[s + k] !== lit.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * True when the four little-endian bytes of `v` are all ASCII digits '0'..'9'
 * (each byte's high nibble is 3, and adding 6 does not carry into it).
 */
function isFourDigits(v: number): boolean {
  return (((v & 0xF0F0F0F0) | (((v + 0x06060606) & 0xF0F0F0F0) >>> 4)) | 0) === 0x33333333;
}

/** The value 0..9999 of four little-endian ASCII digits (check {@link isFourDigits} first). */
function fourDigitsValue(v: number): number {
  let d = v & 0x0F0F0F0F;
  d = (Math.imul(d, 10) + (d >>> 8)) & 0x00FF00FF;
  return (Math.imul(d, 100) + (d >>> 16)) & 0xFFFF;
}

/** Key id of the unescaped key `t[s, e)`. */
function keyId(t: Uint8Array, s: number, e: number): number {
  switch (e - s) {
    case 1:
      switch (t[s]) {
        case 101: // e
          return K_EVENT;
        case 69: // E
          return K_EVENT_TIME;
        case 115: // s
          return K_SYMBOL;
        case 85: // U
          return K_FIRST;
        case 117: // u
          return K_FINAL;
        case 98: // b
          return K_BIDS;
        case 97: // a
          return K_ASKS;
      }
      return K_UNKNOWN;
    case 2:
      if (eq(t, s, "pu")) return K_PREV_FINAL;
      if (eq(t, s, "id")) return K_ID;
      return K_UNKNOWN;
    case 4:
      if (eq(t, s, "bids")) return K_BIDS;
      if (eq(t, s, "asks")) return K_ASKS;
      if (eq(t, s, "data")) return K_DATA;
      if (eq(t, s, "code")) return K_ERROR;
      return K_UNKNOWN;
    case 5:
      return eq(t, s, "error") ? K_ERROR : K_UNKNOWN;
    case 6:
      if (eq(t, s, "stream")) return K_STREAM;
      if (eq(t, s, "result")) return K_RESULT;
      return K_UNKNOWN;
    case 12:
      return eq(t, s, "lastUpdateId") ? K_LAST_UPDATE_ID : K_UNKNOWN;
  }
  return K_UNKNOWN;
}

/**
 * Scans one depth-family message at a time, reusing itself. Read the public
 * fields after {@link DepthMessageScanner.scan} returned true; they are reset
 * at the start of every scan.
 *
 * @example
 * ```ts
 * import { DepthMessageScanner } from "./json_scan.ts";
 * import { SymbolTable } from "./symbol_table.ts";
 * const s = new DepthMessageScanner(new SymbolTable(["btcusdt"]));
 * s.scan('{"result":null,"id":7}'); // true; s.hasResult && s.messageId === 7
 * ```
 */
export class DepthMessageScanner {
  /** Kind of the `"stream"` name ({@link StreamKind.None} when absent). */
  streamKind: StreamKind = StreamKind.None;
  /** Symbol id of the last message {@link DepthMessageScanner.scanDepth} accepted. */
  depthSymbolId = -1;
  /** Symbol id of the stream name, -1 when unknown or absent. */
  streamSymbolId = -1;
  /**
   * Whether the stream name's suffix (from its `@`) is the subscribed one
   * ({@link DepthMessageScanner.subscribedSuffix}); true when the message had
   * no `"stream"` key or no suffix is set.
   */
  streamSubscribed = true;
  /**
   * The stream suffix the connection subscribed to, e.g. `"@depth20@100ms"`;
   * a stream name with any other suffix (`@depth5@100ms`, `@depth20`) is
   * {@link RejectReason.UnknownStream} in {@link DepthMessageScanner.scanDepth}.
   * Default `""`: any suffix of the expected {@link StreamKind} is accepted.
   */
  subscribedSuffix = "";
  /** Whether the event had an `"s"` key. */
  hasEventSymbol = false;
  /** Symbol id of the `"s"` value, -1 when unknown or absent. */
  eventSymbolId = -1;
  /** The `"e"` value's type. */
  eventType: EventType = EventType.None;
  /** `"E"`, NaN when absent. */
  eventTime = NaN;
  /** `"lastUpdateId"`, NaN when absent. */
  lastUpdateId = NaN;
  /** `"U"`, NaN when absent. */
  firstUpdateId = NaN;
  /** `"u"`, NaN when absent. */
  finalUpdateId = NaN;
  /** `"pu"`, NaN when absent. */
  prevFinalUpdateId = NaN;
  /** Number of bid levels seen (may exceed the capacity), -1 when absent. */
  bidCount = -1;
  /** Number of ask levels seen (may exceed the capacity), -1 when absent. */
  askCount = -1;
  /** Whether the top level had a `"data"` key. */
  hasData = false;
  /** Whether the top level had a `"result"` key. */
  hasResult = false;
  /** Whether the top level had an `"error"` or `"code"` key. */
  hasError = false;
  /** Whether the top level had an `"id"` key. */
  hasId = false;
  /** Top-level `"id"` when it is a number, NaN otherwise. */
  messageId = NaN;

  #symbols: SymbolTable;
  #bidPrices: Float64Array = new Float64Array(0);
  #bidPriceOffset = 0;
  #bidSizes: Float64Array = new Float64Array(0);
  #bidSizeOffset = 0;
  #askPrices: Float64Array = new Float64Array(0);
  #askPriceOffset = 0;
  #askSizes: Float64Array = new Float64Array(0);
  #askSizeOffset = 0;
  #stride = 1;
  #capacity = 0;
  #num = 0;
  #escaped = false;
  /** Bit `1 << key` set while the last value of a known key had the wrong type. */
  #typeErrors = 0;
  /** Whether event keys (`e`, `b`, `lastUpdateId`, ...) appeared at the top level. */
  #topEventKeys = false;
  /** Spellings of the level keys seen: bit 0 `b`, 1 `bids`, 2 `a`, 3 `asks`. */
  #levelForms = 0;
  #stack = new Uint8Array(MAX_SKIP_DEPTH);
  #buf = new Uint8Array(16 * 1024);
  /** View over `#buf` for 4-byte loads; null while a slow path parses other bytes. */
  #view: DataView | null = new DataView(this.#buf.buffer);

  /**
   * Creates a scanner with no level targets (levels are counted, not stored,
   * until {@link DepthMessageScanner.setLevelTargets}).
   *
   * @param symbols the run's symbols, used to resolve stream names and `"s"` values.
   */
  constructor(symbols: SymbolTable) {
    this.#symbols = symbols;
  }

  /**
   * Where level `n` goes: bid price to `bidPrices[bidPriceOffset + n * stride]`,
   * bid size to `bidSizes[bidSizeOffset + n * stride]`, the same for asks.
   * Levels past `capacity` are counted and validated but not stored.
   *
   * @example
   * ```ts
   * import { DepthMessageScanner } from "./json_scan.ts";
   * import { SymbolTable } from "./symbol_table.ts";
   * import { BookSlotLayout } from "../pipeline/book_slot.ts";
   * const layout = new BookSlotLayout(5);
   * const f64 = new Float64Array(layout.slotWords);
   * const scanner = new DepthMessageScanner(new SymbolTable(["btcusdt"]));
   * // interleaved (price, size) pairs as in a book slot:
   * const b = layout.bidsStart, a = layout.asksStart;
   * scanner.setLevelTargets(f64, b, f64, b + 1, f64, a, f64, a + 1, 2, layout.levels);
   * scanner.scan('{"lastUpdateId":1,"bids":[["1.5","2"]],"asks":[["1.6","3"]]}'); // true
   * f64[layout.bidSize(0)]; // 2
   * ```
   */
  setLevelTargets(
    bidPrices: Float64Array,
    bidPriceOffset: number,
    bidSizes: Float64Array,
    bidSizeOffset: number,
    askPrices: Float64Array,
    askPriceOffset: number,
    askSizes: Float64Array,
    askSizeOffset: number,
    stride: number,
    capacity: number,
  ): void {
    this.#bidPrices = bidPrices;
    this.#bidPriceOffset = bidPriceOffset;
    this.#bidSizes = bidSizes;
    this.#bidSizeOffset = bidSizeOffset;
    this.#askPrices = askPrices;
    this.#askPriceOffset = askPriceOffset;
    this.#askSizes = askSizes;
    this.#askSizeOffset = askSizeOffset;
    this.#stride = stride;
    this.#capacity = capacity;
  }

  /**
   * Scans `text`. Never throws for any string input.
   *
   * @returns true when `text` is one well-formed JSON object; false otherwise.
   * @example
   * ```ts
   * import { DepthMessageScanner } from "./json_scan.ts";
   * import { SymbolTable } from "./symbol_table.ts";
   * new DepthMessageScanner(new SymbolTable(["x"])).scan("{"); // false
   * ```
   */
  scan(text: string): boolean {
    this.streamKind = StreamKind.None;
    this.streamSymbolId = -1;
    this.streamSubscribed = true;
    this.hasEventSymbol = false;
    this.eventSymbolId = -1;
    this.eventType = EventType.None;
    this.eventTime = NaN;
    this.lastUpdateId = NaN;
    this.firstUpdateId = NaN;
    this.finalUpdateId = NaN;
    this.prevFinalUpdateId = NaN;
    this.bidCount = -1;
    this.askCount = -1;
    this.hasData = false;
    this.hasResult = false;
    this.hasError = false;
    this.hasId = false;
    this.messageId = NaN;
    this.#typeErrors = 0;
    this.#topEventKeys = false;
    this.#levelForms = 0;
    if (typeof text !== "string" || text.length > MAX_MESSAGE_CHARS) return false;
    const need = text.length * 3 + 8;
    if (this.#buf.length < need) {
      this.#buf = new Uint8Array(Math.max(need, this.#buf.length * 2));
      this.#view = new DataView(this.#buf.buffer);
    }
    const t = this.#buf;
    const n = ENCODER.encodeInto(text, t).written;
    t[n] = 0; // end sentinel: every read stops here, none goes past the array
    let i = ws(t, 0);
    if (t[i] !== LBRACE) return false;
    i = this.#object(t, i, true);
    // A wrapped message has its event keys inside "data" only.
    if (i < 0 || this.#typeErrors !== 0 || (this.hasData && this.#topEventKeys)) return false;
    const forms = this.#levelForms;
    if ((forms & 3) === 3 || (forms & 12) === 12) return false;
    return ws(t, i) === n;
  }

  /**
   * Symbol of the message: the stream name's when there is a `"stream"` key,
   * else the `"s"` value's, else `fallbackId`.
   *
   * @returns a symbol id, or -1 when the name is not in the table.
   * @example
   * ```ts
   * import { DepthMessageScanner } from "./json_scan.ts";
   * import { SymbolTable } from "./symbol_table.ts";
   * const scanner = new DepthMessageScanner(new SymbolTable(["btcusdt", "ethusdt"]));
   * // a raw spot partial book names no symbol: the connection's symbol is the fallback
   * scanner.scan('{"lastUpdateId":1,"bids":[],"asks":[]}');
   * scanner.symbolId(1); // 1
   * scanner.scan('{"stream":"btcusdt@depth5","data":{"lastUpdateId":1,"bids":[],"asks":[]}}');
   * scanner.symbolId(1); // 0
   * ```
   */
  symbolId(fallbackId: number): number {
    if (this.streamKind !== StreamKind.None) return this.streamSymbolId;
    if (this.hasEventSymbol) return this.eventSymbolId;
    return fallbackId;
  }

  /**
   * The {@link ControlMessage} code of the last scanned message, or 0 when it
   * is not a control message.
   *
   * @example
   * ```ts
   * import { ControlMessage, DepthMessageScanner } from "./json_scan.ts";
   * import { SymbolTable } from "./symbol_table.ts";
   * const scanner = new DepthMessageScanner(new SymbolTable(["btcusdt"]));
   * scanner.scan('{"e":"serverShutdown","E":1}');
   * scanner.control() === ControlMessage.ServerShutdown; // true
   * ```
   */
  control(): number {
    if (
      this.streamKind === StreamKind.ServerShutdown || this.eventType === EventType.ServerShutdown
    ) {
      return ControlMessage.ServerShutdown;
    }
    if (this.hasId && !this.hasData && this.streamKind === StreamKind.None) {
      if (this.hasError) return ControlMessage.SubscriptionError;
      if (this.hasResult) return ControlMessage.SubscriptionReply;
    }
    return 0;
  }

  /**
   * Scans `text` and checks what every depth parser checks before reading the
   * levels: one well-formed message, not a control message, from a stream of
   * `kind` (or from a raw stream) with the {@link DepthMessageScanner.subscribedSuffix}
   * when one is set, naming a symbol of the table (or
   * `fallbackId`), with event type depthUpdate (or none).
   *
   * @returns `RejectReason.Ok`, and then {@link DepthMessageScanner.depthSymbolId}
   *   is the message's symbol; otherwise a rejection reason or a
   *   {@link ControlMessage} code.
   * @example
   * ```ts
   * // if (scanner.scanDepth(text, StreamKind.Diff, -1) === RejectReason.Ok) use(scanner.depthSymbolId);
   * ```
   */
  scanDepth(text: string, kind: StreamKind, fallbackId: number): number {
    if (!this.scan(text)) return RejectReason.Malformed;
    const control = this.control();
    if (control !== 0) return control;
    if (this.streamKind !== StreamKind.None && this.streamKind !== kind) {
      return RejectReason.UnknownStream;
    }
    if (!this.streamSubscribed) return RejectReason.UnknownStream;
    const symbolId = this.symbolId(fallbackId);
    if (symbolId < 0) return RejectReason.UnknownStream;
    if (this.eventType !== EventType.None && this.eventType !== EventType.DepthUpdate) {
      return RejectReason.Malformed;
    }
    this.depthSymbolId = symbolId;
    return RejectReason.Ok;
  }

  /** Parses the object at `t[i] === '{'`; returns the index after `}` or -1. */
  #object(t: Uint8Array, i: number, top: boolean): number {
    i = ws(t, i + 1);
    if (t[i] === RBRACE) return i + 1;
    for (;;) {
      if (t[i] !== QUOTE) return -1;
      const ks = i + 1;
      const ke = this.#stringEnd(t, ks);
      if (ke < 0) return -1;
      let key: number;
      if (this.#escaped) {
        const decoded = paddedBytes(decodeString(t, ks - 1, ke));
        key = keyId(decoded, 0, decoded.length - 1);
      } else {
        key = keyId(t, ks, ke);
      }
      if (key === K_BIDS || key === K_ASKS) {
        // Remember which spelling was used ("b" or "bids"): a message with both
        // is ambiguous and refused, rather than silently taking one of them.
        this.#levelForms |= 1 << ((key === K_BIDS ? 0 : 2) + (ke - ks === 1 ? 0 : 1));
      }
      i = ws(t, ke + 1);
      if (t[i] !== COLON) return -1;
      i = this.#member(t, ws(t, i + 1), key, top);
      if (i < 0) return -1;
      i = ws(t, i);
      const c = t[i];
      if (c === COMMA) {
        i = ws(t, i + 1);
        continue;
      }
      return c === RBRACE ? i + 1 : -1;
    }
  }

  /**
   * Parses the value of member `key` at `i`; returns the index after it or -1.
   * A known key whose value has the wrong type (e.g. `"u":"x"`) is skipped and
   * remembered in `#typeErrors`; a later duplicate with a good value clears it,
   * which matches `JSON.parse` (the last duplicate wins).
   */
  #member(t: Uint8Array, i: number, key: number, top: boolean): number {
    const r = this.#knownMember(t, i, key, top);
    if (r >= 0) {
      this.#typeErrors &= ~(1 << key);
      return r;
    }
    this.#typeErrors |= 1 << key;
    return this.#skipValue(t, i);
  }

  /** {@link #member} without the type-error bookkeeping. */
  #knownMember(t: Uint8Array, i: number, key: number, top: boolean): number {
    if (top && key >= K_EVENT && key <= K_LAST_UPDATE_ID) this.#topEventKeys = true;
    switch (key) {
      case K_STREAM:
        if (!top) break;
        return this.#stream(t, i);
      case K_DATA:
        if (!top) break;
        this.hasData = true;
        if (t[i] !== LBRACE) return -1;
        return this.#object(t, i, false);
      case K_EVENT:
        return this.#event(t, i);
      case K_EVENT_TIME:
        i = this.#decimal(t, i, true);
        this.eventTime = this.#num;
        return i;
      case K_SYMBOL:
        return this.#eventSymbol(t, i);
      case K_FIRST:
        i = this.#decimal(t, i, true);
        this.firstUpdateId = this.#num;
        return i;
      case K_FINAL:
        i = this.#decimal(t, i, true);
        this.finalUpdateId = this.#num;
        return i;
      case K_PREV_FINAL:
        i = this.#decimal(t, i, true);
        this.prevFinalUpdateId = this.#num;
        return i;
      case K_LAST_UPDATE_ID:
        i = this.#decimal(t, i, true);
        this.lastUpdateId = this.#num;
        return i;
      case K_BIDS:
        return this.#levels(t, i, true);
      case K_ASKS:
        return this.#levels(t, i, false);
      case K_RESULT:
        if (!top) break;
        this.hasResult = true;
        break;
      case K_ERROR:
        if (!top) break;
        this.hasError = true;
        break;
      case K_ID: {
        if (!top) break;
        this.hasId = true;
        const c = t[i];
        if (c === MINUS || (c >= 48 && c <= 57)) {
          i = this.#decimal(t, i, true);
          this.messageId = this.#num;
          return i;
        }
        break;
      }
    }
    return this.#skipValue(t, i);
  }

  /** Parses the `"stream"` string value at `i`. */
  #stream(t: Uint8Array, i: number): number {
    if (t[i] !== QUOTE) return -1;
    const e = this.#stringEnd(t, i + 1);
    if (e < 0) return -1;
    if (this.#escaped) {
      const decoded = paddedBytes(decodeString(t, i, e));
      this.#classifyStream(decoded, 0, decoded.length - 1);
    } else {
      this.#classifyStream(t, i + 1, e);
    }
    return e + 1;
  }

  /** Sets streamKind / streamSymbolId from the stream name `t[s, e)`. */
  #classifyStream(t: Uint8Array, s: number, e: number): void {
    this.streamSymbolId = -1;
    this.streamKind = StreamKind.Other;
    if (t[s] === BANG) {
      if (e - s === 15 && eq(t, s + 1, "serverShutdown")) {
        this.streamKind = StreamKind.ServerShutdown;
      }
      return;
    }
    let at = s;
    while (at < e && t[at] !== AT) at++;
    this.streamSymbolId = this.#symbols.idOfBytes(t, s, at);
    const want = this.subscribedSuffix;
    if (want !== "") this.streamSubscribed = e - at === want.length && eq(t, at, want);
    // Suffix: "depth" digits* ("@" digits+ "ms")?
    let p = at + 1;
    if (at >= e || e - p < 5 || !eq(t, p, "depth")) return;
    p += 5;
    const ds = p;
    while (p < e && t[p] >= 48 && t[p] <= 57) p++;
    const partial = p > ds;
    if (p < e) {
      if (t[p] !== AT) return;
      const ms = ++p;
      while (p < e && t[p] >= 48 && t[p] <= 57) p++;
      if (p === ms || e - p !== 2 || !eq(t, p, "ms")) return;
    }
    this.streamKind = partial ? StreamKind.Partial : StreamKind.Diff;
  }

  /** Parses the `"e"` string value at `i`. */
  #event(t: Uint8Array, i: number): number {
    if (t[i] !== QUOTE) return -1;
    const e = this.#stringEnd(t, i + 1);
    if (e < 0) return -1;
    let str = t;
    let s = i + 1;
    let end = e;
    if (this.#escaped) {
      str = paddedBytes(decodeString(t, i, e));
      s = 0;
      end = str.length - 1;
    }
    if (end - s === 11 && eq(str, s, "depthUpdate")) this.eventType = EventType.DepthUpdate;
    else if (end - s === 14 && eq(str, s, "serverShutdown")) {
      this.eventType = EventType.ServerShutdown;
    } else this.eventType = EventType.Other;
    return e + 1;
  }

  /** Parses the `"s"` string value at `i`. */
  #eventSymbol(t: Uint8Array, i: number): number {
    if (t[i] !== QUOTE) return -1;
    const e = this.#stringEnd(t, i + 1);
    if (e < 0) return -1;
    this.hasEventSymbol = true;
    if (this.#escaped) {
      const decoded = decodeString(t, i, e);
      this.eventSymbolId = decoded.indexOf("@") >= 0 ? -1 : this.#symbols.idOf(decoded);
    } else {
      let at = i + 1;
      while (at < e && t[at] !== AT) at++;
      this.eventSymbolId = at < e ? -1 : this.#symbols.idOfBytes(t, i + 1, e);
    }
    return e + 1;
  }

  /** Parses a level array (`[[p, q], ...]`) at `i` into the bid or ask targets. */
  #levels(t: Uint8Array, i: number, bids: boolean): number {
    if (t[i] !== LBRACKET) return -1;
    const prices = bids ? this.#bidPrices : this.#askPrices;
    const sizes = bids ? this.#bidSizes : this.#askSizes;
    let po = bids ? this.#bidPriceOffset : this.#askPriceOffset;
    let so = bids ? this.#bidSizeOffset : this.#askSizeOffset;
    const stride = this.#stride;
    const cap = this.#capacity;
    let n = 0;
    i = ws(t, i + 1);
    let c = t[i];
    if (c !== RBRACKET) {
      const view = this.#view as DataView;
      for (;;) {
        if (c !== LBRACKET) return -1;
        i = ws(t, i + 1);
        let price = 0;
        let size = 0;
        for (let k = 0; k < 2; k++) {
          // Inline fast path for the common `"123.45600000"`; anything else
          // (sign, exponent, escapes, bare numbers, long mantissas) goes to
          // #levelValue, which handles and validates every form.
          let value = NaN;
          if (t[i] === QUOTE) {
            let j = i + 1;
            let m = 0;
            for (;;) {
              const v = view.getUint32(j, true);
              if (
                (((v & 0xF0F0F0F0) | (((v + 0x06060606) & 0xF0F0F0F0) >>> 4)) | 0) !== 0x33333333
              ) break;
              let d = v & 0x0F0F0F0F;
              d = (Math.imul(d, 10) + (d >>> 8)) & 0x00FF00FF;
              d = (Math.imul(d, 100) + (d >>> 16)) & 0xFFFF;
              m = m * 1e4 + d;
              j += 4;
            }
            let x = t[j];
            while (x >= 48 && x <= 57) {
              m = m * 10 + (x - 48);
              x = t[++j];
            }
            let scale = 0;
            if (j > i + 1) {
              if (x === DOT) {
                const fs = ++j;
                for (;;) {
                  const v = view.getUint32(j, true);
                  if (
                    (((v & 0xF0F0F0F0) | (((v + 0x06060606) & 0xF0F0F0F0) >>> 4)) | 0) !==
                      0x33333333
                  ) break;
                  let d = v & 0x0F0F0F0F;
                  d = (Math.imul(d, 10) + (d >>> 8)) & 0x00FF00FF;
                  d = (Math.imul(d, 100) + (d >>> 16)) & 0xFFFF;
                  m = m * 1e4 + d;
                  j += 4;
                }
                x = t[j];
                while (x >= 48 && x <= 57) {
                  m = m * 10 + (x - 48);
                  x = t[++j];
                }
                scale = j - fs;
              }
              if (
                x === QUOTE && scale <= 22 && m <= 9007199254740991 &&
                (scale > 0 || t[j - 1] !== DOT)
              ) {
                value = m / POW10[scale];
                i = j + 1;
              }
            }
          }
          if (value !== value) {
            i = this.#levelValue(t, i);
            if (i < 0) return -1;
            value = this.#num;
          }
          i = ws(t, i);
          if (k === 0) {
            price = value;
            if (t[i] !== COMMA) return -1;
            i = ws(t, i + 1);
          } else {
            size = value;
          }
        }
        c = t[i];
        if (n < cap) {
          prices[po] = price;
          sizes[so] = size;
          po += stride;
          so += stride;
        }
        n++;
        while (c === COMMA) { // extra elements in a level are skipped
          i = this.#skipValue(t, ws(t, i + 1));
          if (i < 0) return -1;
          i = ws(t, i);
          c = t[i];
        }
        if (c !== RBRACKET) return -1;
        i = ws(t, i + 1);
        c = t[i];
        if (c === COMMA) {
          i = ws(t, i + 1);
          c = t[i];
          continue;
        }
        if (c !== RBRACKET) return -1;
        break;
      }
    }
    if (bids) this.bidCount = n;
    else this.askCount = n;
    return i + 1;
  }

  /** Parses a price or size at `i`: a decimal string or a bare JSON number. */
  #levelValue(t: Uint8Array, i: number): number {
    if (t[i] !== QUOTE) return this.#decimal(t, i, true);
    const p = this.#decimal(t, i + 1, false);
    if (p >= 0 && t[p] === QUOTE) return p + 1;
    // Slow path: escaped or not a number at all.
    const e = this.#stringEnd(t, i + 1);
    if (e < 0 || !this.#escaped) return -1;
    const decoded = paddedBytes(decodeString(t, i, e));
    const view = this.#view;
    this.#view = null; // the 4-byte loads are only valid on #buf
    const end = this.#decimal(decoded, 0, false);
    this.#view = view;
    return end === decoded.length - 1 ? e + 1 : -1;
  }

  /**
   * Parses `-?digits(.digits)?([eE][+-]?digits)?` at `i` into `#num`; with
   * `strict`, rejects a leading zero before more digits (JSON number rules).
   * Returns the index after the number or -1.
   */
  #decimal(t: Uint8Array, i: number, strict: boolean): number {
    const start = i;
    const view = this.#view;
    const neg = t[i] === MINUS;
    if (neg) i++;
    // The integer digits, then (after a dot) the fraction digits, each four at
    // a time (SWAR on a little-endian 32-bit load) while it can, then one at a
    // time. `m` stays exact while below 2^53 and is checked at the end.
    const ds = i;
    let m = 0;
    let fs = -1; // index of the first fraction digit, -1 in the integer part
    let scale = 0;
    let c: number;
    for (;;) {
      if (view !== null) {
        for (;;) {
          const v = view.getUint32(i, true);
          if (!isFourDigits(v)) break;
          m = m * 1e4 + fourDigitsValue(v);
          i += 4;
        }
      }
      c = t[i];
      while (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        c = t[++i];
      }
      if (fs >= 0) {
        scale = i - fs;
        if (scale === 0) return -1;
        break;
      }
      if (i === ds) return -1;
      if (strict && i - ds > 1 && t[ds] === 48) return -1;
      if (c !== DOT) break;
      fs = ++i;
    }
    if (c === 101 || c === 69) {
      c = t[++i];
      if (c === PLUS || c === MINUS) c = t[++i];
      const es = i;
      while (c >= 48 && c <= 57) c = t[++i];
      if (i === es) return -1;
      this.#num = parseFloatBytes(t, start, i);
      return i;
    }
    if (m <= 9007199254740991 && scale <= 22) {
      const v = m / POW10[scale];
      this.#num = neg ? -v : v;
    } else {
      this.#num = parseFloatBytes(t, start, i);
    }
    return i;
  }

  /**
   * Finds the closing quote of the string whose first char is at `i`; sets
   * `#escaped` when it contains escapes. Returns -1 on an invalid or
   * unterminated string.
   */
  #stringEnd(t: Uint8Array, i: number): number {
    let escaped = false;
    for (;;) {
      const c = t[i];
      if (c === QUOTE) {
        this.#escaped = escaped;
        return i;
      }
      if (c === BACKSLASH) {
        escaped = true;
        const d = t[i + 1];
        if (d === 117) { // \uXXXX
          for (let k = i + 2; k < i + 6; k++) {
            const h = t[k] | 32;
            if (!((h >= 48 && h <= 57) || (h >= 97 && h <= 102))) return -1;
          }
          i += 6;
          continue;
        }
        if (
          d === QUOTE || d === BACKSLASH || d === 47 || d === 98 || d === 102 || d === 110 ||
          d === 114 || d === 116
        ) {
          i += 2;
          continue;
        }
        return -1;
      }
      if (!(c >= 32)) return -1; // control char, or past the end (NaN)
      i++;
    }
  }

  /** Parses `"key" :` at `i` inside a skipped object; returns the index of the value or -1. */
  #skipKey(t: Uint8Array, i: number): number {
    if (t[i] !== QUOTE) return -1;
    const e = this.#stringEnd(t, i + 1);
    if (e < 0) return -1;
    i = ws(t, e + 1);
    return t[i] === COLON ? ws(t, i + 1) : -1;
  }

  /** Validates and skips any JSON value at `i` (iteratively); returns the index after it or -1. */
  #skipValue(t: Uint8Array, i: number): number {
    const stack = this.#stack;
    let depth = 0;
    for (;;) {
      let c = t[i];
      if (c === LBRACE || c === LBRACKET) {
        i = ws(t, i + 1);
        if (t[i] === (c === LBRACE ? RBRACE : RBRACKET)) {
          i++;
        } else {
          if (depth === MAX_SKIP_DEPTH) return -1;
          stack[depth++] = c;
          if (c === LBRACE) {
            i = this.#skipKey(t, i);
            if (i < 0) return -1;
          }
          continue;
        }
      } else if (c === QUOTE) {
        i = this.#stringEnd(t, i + 1);
        if (i < 0) return -1;
        i++;
      } else if (c === MINUS || (c >= 48 && c <= 57)) {
        i = this.#decimal(t, i, true);
        if (i < 0) return -1;
      } else if (c === 116 && eq(t, i, "true")) i += 4;
      else if (c === 102 && eq(t, i, "false")) i += 5;
      else if (c === 110 && eq(t, i, "null")) i += 4;
      else return -1;
      // After a value: close finished containers or move to the next element.
      for (;;) {
        if (depth === 0) return i;
        i = ws(t, i);
        c = t[i];
        const open = stack[depth - 1];
        if (c === COMMA) {
          i = ws(t, i + 1);
          if (open === LBRACE) {
            i = this.#skipKey(t, i);
            if (i < 0) return -1;
          }
          break;
        }
        if (c !== (open === LBRACE ? RBRACE : RBRACKET)) return -1;
        depth--;
        i++;
      }
    }
  }
}
