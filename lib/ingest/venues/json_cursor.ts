/**
 * A zero-allocation JSON cursor over a string, for the venue protocols.
 *
 * {@link JsonCursor.begin} first validates the whole message (strict JSON
 * grammar, nesting bounded by {@link MAX_JSON_DEPTH}, length bounded by
 * `maxChars`), so a message `JSON.parse` refuses is never half-read. The
 * protocols then walk it in any key order: {@link JsonCursor.nextKey} steps
 * through an object's keys, {@link JsonCursor.keyIs} compares a key with a
 * literal without making a string, {@link JsonCursor.pos} remembers where a
 * value starts so it can be read later, and the `read*` methods read a value
 * at the cursor. Nothing is allocated: the cursor reads the string with
 * `charCodeAt` and keeps every result in its own fields.
 *
 * Numbers are read from their text. {@link JsonCursor.readDecimal} reads a
 * bare number (`0.12290`, Kraken) or a numeric string (`"0.12290"`, OKX,
 * Bybit, Coinbase) and keeps what checksums need: the number of decimals as
 * sent and the decimal digits as an integer mantissa split in two exact parts
 * ({@link JsonCursor.mantHi} · 10^9 + {@link JsonCursor.mantLo}), so the text
 * as sent can be rebuilt without keeping a string.
 *
 * Strings are compared raw: a string written with backslash escapes never
 * equals a literal (no venue escapes its keys or symbols).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonCursor } from "./json_cursor.ts";
 * const c = new JsonCursor();
 * assert.equal(c.begin('{"qty":0.12290,"side":"bid"}'), true);
 * c.enterObject();
 * let qty = NaN, decimals = -1;
 * while (c.nextKey()) {
 *   if (c.keyIs("qty") && c.readDecimal()) {
 *     qty = c.value;
 *     decimals = c.decimals;
 *   } else c.skipValue();
 * }
 * assert.equal(qty, 0.1229);
 * assert.equal(decimals, 5); // the text was 0.12290
 * ```
 * @module
 */

/** Deepest nesting of arrays and objects {@link JsonCursor.begin} accepts. */
export const MAX_JSON_DEPTH = 32;

/** Default longest message, in UTF-16 code units, {@link JsonCursor.begin} accepts. */
export const DEFAULT_MAX_MESSAGE_CHARS = 16 * 1024 * 1024;

/** Most digits (both sides of the point) {@link JsonCursor.readDecimal} accepts. */
export const MAX_DECIMAL_DIGITS = 24;

/** Most digits after the point {@link JsonCursor.readDecimal} accepts (10^22 is the largest exact power of ten). */
export const MAX_DECIMALS = 22;

/** Exact powers of ten 10^0 … 10^22. */
export const POW10: Float64Array = (() => {
  const a = new Float64Array(MAX_DECIMALS + 1);
  for (let i = 0; i <= MAX_DECIMALS; i++) a[i] = Number(`1e${i}`);
  return a;
})();

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const DOT = 0x2e;
const MINUS = 0x2d;
const PLUS = 0x2b;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const ZERO = 0x30;
const NINE = 0x39;
const KIND_OBJECT = 1;
const KIND_ARRAY = 2;

/** Options of {@link JsonCursor}. */
export interface JsonCursorOptions {
  /** Longest message accepted, in UTF-16 code units. Default {@link DEFAULT_MAX_MESSAGE_CHARS}. */
  maxChars?: number;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (as `Date.UTC`, which would allocate its result). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * The cursor (see the module docs). One per connection: it keeps the last
 * message it was given.
 *
 * @example
 * ```ts
 * import { JsonCursor } from "./json_cursor.ts";
 * const c = new JsonCursor();
 * c.begin('[1,2'); // false: truncated
 * ```
 */
export class JsonCursor {
  /** Longest message accepted (UTF-16 code units). */
  readonly maxChars: number;
  /** After a successful `read*`: the number read (epoch ms for {@link JsonCursor.readTime}). */
  value = 0;
  /** After {@link JsonCursor.readDecimal}: digits after the point, as sent. */
  decimals = 0;
  /** After {@link JsonCursor.readDecimal}: the mantissa's digits above the last nine (exact integer). */
  mantHi = 0;
  /** After {@link JsonCursor.readDecimal}: the mantissa's last nine digits. */
  mantLo = 0;
  /** After {@link JsonCursor.readString} or {@link JsonCursor.readDecimal}: start of the text read (inside the quotes). */
  start = 0;
  /** End (exclusive) of the text read; see {@link JsonCursor.start}. */
  end = 0;
  #s = "";
  #n = 0;
  #p = 0;
  #keyStart = 0;
  #keyEnd = 0;
  readonly #stack = new Uint8Array(MAX_JSON_DEPTH);

  /** @param options see {@link JsonCursorOptions}. */
  constructor(options: JsonCursorOptions = {}) {
    const max = options.maxChars ?? DEFAULT_MAX_MESSAGE_CHARS;
    if (!Number.isInteger(max) || max < 2) {
      throw new RangeError(`maxChars must be an integer >= 2, got ${max}`);
    }
    this.maxChars = max;
  }

  /** The message being read. */
  get text(): string {
    return this.#s;
  }

  /** Position of the cursor (an index into the message); set it to come back to a remembered value. */
  get pos(): number {
    return this.#p;
  }
  set pos(p: number) {
    this.#p = p;
  }

  /**
   * Take a message and validate all of it; the cursor is then at its start.
   * False (and the message must be rejected as malformed) when it is not
   * one JSON value, nests deeper than {@link MAX_JSON_DEPTH} or is longer
   * than {@link JsonCursor.maxChars}.
   */
  begin(text: string): boolean {
    this.#s = text;
    this.#n = text.length;
    this.#p = 0;
    if (text.length > this.maxChars) return false;
    return this.#validate();
  }

  #ws(p: number): number {
    const s = this.#s, n = this.#n;
    while (p < n && isWs(s.charCodeAt(p))) p++;
    return p;
  }

  /** End of the string starting at the quote at p, or -1. */
  #scanString(p: number): number {
    const s = this.#s, n = this.#n;
    p++;
    while (p < n) {
      const c = s.charCodeAt(p);
      if (c === QUOTE) return p + 1;
      if (c === BACKSLASH) {
        const e = s.charCodeAt(p + 1);
        if (e === 0x75) {
          if (
            p + 5 >= n || !isHex(s.charCodeAt(p + 2)) || !isHex(s.charCodeAt(p + 3)) ||
            !isHex(s.charCodeAt(p + 4)) || !isHex(s.charCodeAt(p + 5))
          ) return -1;
          p += 6;
        } else if (
          e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 ||
          e === 0x6e || e === 0x72 || e === 0x74
        ) {
          p += 2;
        } else return -1;
      } else if (c < 0x20) return -1;
      else p++;
    }
    return -1;
  }

  /** End of the number starting at p, or -1. */
  #scanNumber(p: number): number {
    const s = this.#s;
    if (s.charCodeAt(p) === MINUS) p++;
    const first = s.charCodeAt(p);
    if (first === ZERO) p++;
    else if (first > ZERO && first <= NINE) {
      p++;
      while (isDigit(s.charCodeAt(p))) p++;
    } else return -1;
    if (s.charCodeAt(p) === DOT) {
      p++;
      if (!isDigit(s.charCodeAt(p))) return -1;
      while (isDigit(s.charCodeAt(p))) p++;
    }
    const e = s.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const sign = s.charCodeAt(p);
      if (sign === PLUS || sign === MINUS) p++;
      if (!isDigit(s.charCodeAt(p))) return -1;
      while (isDigit(s.charCodeAt(p))) p++;
    }
    return p;
  }

  #literal(p: number, word: string): number {
    const s = this.#s;
    for (let i = 0; i < word.length; i++) {
      if (s.charCodeAt(p + i) !== word.charCodeAt(i)) return -1;
    }
    return p + word.length;
  }

  /** Whole-message validation, iterative, depth bounded. */
  #validate(): boolean {
    const s = this.#s, n = this.#n, stack = this.#stack;
    let depth = 0;
    let p = this.#ws(0);
    for (;;) {
      // expecting a value at p
      const c = s.charCodeAt(p);
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (depth === MAX_JSON_DEPTH) return false;
        p = this.#ws(p + 1);
        const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
        if (s.charCodeAt(p) === close) {
          p++;
        } else {
          stack[depth++] = c === OPEN_OBJECT ? KIND_OBJECT : KIND_ARRAY;
          if (c === OPEN_OBJECT) {
            if (s.charCodeAt(p) !== QUOTE) return false;
            p = this.#scanString(p);
            if (p < 0) return false;
            p = this.#ws(p);
            if (s.charCodeAt(p) !== COLON) return false;
            p = this.#ws(p + 1);
          }
          continue;
        }
      } else if (c === QUOTE) p = this.#scanString(p);
      else if (c === MINUS || isDigit(c)) p = this.#scanNumber(p);
      else if (c === 0x74) p = this.#literal(p, "true");
      else if (c === 0x66) p = this.#literal(p, "false");
      else if (c === 0x6e) p = this.#literal(p, "null");
      else return false;
      if (p < 0) return false;
      // after a value: close containers or move to the next element
      for (;;) {
        p = this.#ws(p);
        if (depth === 0) return p === n;
        const kind = stack[depth - 1];
        const d = s.charCodeAt(p);
        if (d === COMMA) {
          p = this.#ws(p + 1);
          if (kind === KIND_OBJECT) {
            if (s.charCodeAt(p) !== QUOTE) return false;
            p = this.#scanString(p);
            if (p < 0) return false;
            p = this.#ws(p);
            if (s.charCodeAt(p) !== COLON) return false;
            p = this.#ws(p + 1);
          }
          break;
        }
        if (
          (d === CLOSE_OBJECT && kind === KIND_OBJECT) || (d === CLOSE_ARRAY && kind === KIND_ARRAY)
        ) {
          depth--;
          p++;
          continue;
        }
        return false;
      }
    }
  }

  /** The character code at the cursor after whitespace (NaN at the end). */
  peek(): number {
    this.#p = this.#ws(this.#p);
    return this.#s.charCodeAt(this.#p);
  }

  /** Whether the value at the cursor is an object. */
  isObject(): boolean {
    return this.peek() === OPEN_OBJECT;
  }

  /** Whether the value at the cursor is an array. */
  isArray(): boolean {
    return this.peek() === OPEN_ARRAY;
  }

  /** Step into the object at the cursor; false (cursor unmoved) when the value is not an object. */
  enterObject(): boolean {
    if (this.peek() !== OPEN_OBJECT) return false;
    this.#p++;
    return true;
  }

  /**
   * Step to the next key of the object entered last and leave the cursor at
   * its value (which must be read or skipped before the next call); false at
   * the object's end (the cursor then is past it).
   */
  nextKey(): boolean {
    const s = this.#s;
    let p = this.#ws(this.#p);
    let c = s.charCodeAt(p);
    if (c === CLOSE_OBJECT) {
      this.#p = p + 1;
      return false;
    }
    if (c === COMMA) {
      p = this.#ws(p + 1);
      c = s.charCodeAt(p);
    }
    if (c !== QUOTE) {
      // only after a value that was not consumed: the message itself is valid
      this.#p = p;
      return false;
    }
    const end = this.#scanString(p);
    this.#keyStart = p + 1;
    this.#keyEnd = end - 1;
    p = this.#ws(end);
    this.#p = this.#ws(p + 1); // past ':'
    return true;
  }

  /** Whether the key found by {@link JsonCursor.nextKey} is `name` (compared raw). */
  keyIs(name: string): boolean {
    return this.#spanIs(this.#keyStart, this.#keyEnd, name);
  }

  /** Step into the array at the cursor; false (cursor unmoved) when the value is not an array. */
  enterArray(): boolean {
    if (this.peek() !== OPEN_ARRAY) return false;
    this.#p++;
    return true;
  }

  /**
   * Step to the next element of the array entered last (the previous element
   * must have been read or skipped); false at the array's end (the cursor
   * then is past it).
   */
  nextItem(): boolean {
    let p = this.#ws(this.#p);
    const c = this.#s.charCodeAt(p);
    if (c === CLOSE_ARRAY) {
      this.#p = p + 1;
      return false;
    }
    if (c === COMMA) p = this.#ws(p + 1);
    this.#p = p;
    return p < this.#n;
  }

  /** Skip the value at the cursor (the message was validated by {@link JsonCursor.begin}). */
  skipValue(): void {
    const s = this.#s, n = this.#n;
    let p = this.#ws(this.#p);
    const c = s.charCodeAt(p);
    if (c === QUOTE) {
      this.#p = this.#scanString(p);
      return;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      let depth = 0;
      while (p < n) {
        const d = s.charCodeAt(p);
        if (d === QUOTE) {
          p = this.#scanString(p);
          continue;
        }
        if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
        else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
          if (--depth === 0) {
            this.#p = p + 1;
            return;
          }
        }
        p++;
      }
      this.#p = n;
      return;
    }
    while (p < n) {
      const d = s.charCodeAt(p);
      if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY || isWs(d)) break;
      p++;
    }
    this.#p = p;
  }

  /** Read the string at the cursor: its raw text is `[start, end)`; false (cursor unmoved) when not a string. */
  readString(): boolean {
    const p = this.#ws(this.#p);
    if (this.#s.charCodeAt(p) !== QUOTE) return false;
    const end = this.#scanString(p);
    this.start = p + 1;
    this.end = end - 1;
    this.#p = end;
    return true;
  }

  /** Whether the text read last (`[start, end)`) is `name`. */
  stringIs(name: string): boolean {
    return this.#spanIs(this.start, this.end, name);
  }

  /** Whether the text read last starts with `prefix`. */
  stringStartsWith(prefix: string): boolean {
    if (this.end - this.start < prefix.length) return false;
    return this.#spanIs(this.start, this.start + prefix.length, prefix);
  }

  /** The index in `names` of the text read last, or -1. */
  stringIndex(names: readonly string[]): number {
    for (let i = 0; i < names.length; i++) {
      if (this.#spanIs(this.start, this.end, names[i])) return i;
    }
    return -1;
  }

  /** The character code at `start + i` of the text read last. */
  charAt(i: number): number {
    return this.#s.charCodeAt(this.start + i);
  }

  #spanIs(a: number, b: number, name: string): boolean {
    if (b - a !== name.length) return false;
    const s = this.#s;
    for (let i = 0; i < name.length; i++) {
      if (s.charCodeAt(a + i) !== name.charCodeAt(i)) return false;
    }
    return true;
  }

  /**
   * Read a true/false literal into {@link JsonCursor.value} (1 or 0); false
   * (cursor unmoved) when the value is not a boolean.
   */
  readBool(): boolean {
    const p = this.#ws(this.#p);
    const c = this.#s.charCodeAt(p);
    if (c === 0x74) {
      this.value = 1;
      this.#p = p + 4;
      return true;
    }
    if (c === 0x66) {
      this.value = 0;
      this.#p = p + 5;
      return true;
    }
    return false;
  }

  /** Span of the bare number or numeric string at the cursor into start/end; advances past it. */
  #numberSpan(): boolean {
    const s = this.#s;
    const p = this.#ws(this.#p);
    const c = s.charCodeAt(p);
    if (c === QUOTE) {
      const end = this.#scanString(p);
      this.start = p + 1;
      this.end = end - 1;
      this.#p = end;
      return true;
    }
    if (c === MINUS || isDigit(c)) {
      const end = this.#scanNumber(p);
      this.start = p;
      this.end = end;
      this.#p = end;
      return true;
    }
    return false;
  }

  /**
   * Read a non-negative decimal written as a bare number or a string
   * (`12.50`, `"12.50"`): sets {@link JsonCursor.value},
   * {@link JsonCursor.decimals}, {@link JsonCursor.mantHi},
   * {@link JsonCursor.mantLo} and the span `[start, end)`. False for
   * anything else: a sign, an exponent, no digit on either side of the
   * point, more than {@link MAX_DECIMAL_DIGITS} digits or more than
   * {@link MAX_DECIMALS} decimals. The value is the correctly rounded double
   * of the text (as `parseFloat`) whenever the digits fit in 2^53; past that
   * it may be one unit in the last place off, while the mantissa stays exact.
   */
  readDecimal(): boolean {
    // one pass for the usual case (at most 15 digits); the rare longer
    // number is read again in two exact parts
    const s = this.#s, n = this.#n;
    let p = this.#ws(this.#p);
    const quoted = s.charCodeAt(p) === QUOTE;
    if (quoted) p++;
    const a = p;
    let m = 0, digits = 0, dot = -1;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c >= ZERO && c <= NINE) {
        m = m * 10 + (c - ZERO);
        digits++;
      } else if (c === DOT) {
        if (dot >= 0 || p === a) return false;
        dot = p;
      } else break;
      p++;
    }
    const b = p;
    if (quoted) {
      if (s.charCodeAt(p) !== QUOTE) return false;
      p++;
    } else {
      // a bare number must end here: no sign, exponent or other character
      const c = s.charCodeAt(p);
      if (
        p === a || (p < n && c !== COMMA && c !== CLOSE_ARRAY && c !== CLOSE_OBJECT && !isWs(c))
      ) return false;
    }
    if (digits === 0 || dot === b - 1) return false;
    const decimals = dot < 0 ? 0 : b - dot - 1;
    if (decimals > MAX_DECIMALS || digits > MAX_DECIMAL_DIGITS) return false;
    this.start = a;
    this.end = b;
    this.#p = p;
    this.decimals = decimals;
    if (digits <= 15) {
      const hi = Math.floor(m / 1e9);
      this.mantHi = hi;
      this.mantLo = m - hi * 1e9;
      this.value = decimals === 0 ? m : m / POW10[decimals];
      return true;
    }
    let hi = 0, lo = 0, k = 0;
    const loFrom = digits - 9;
    for (let i = a; i < b; i++) {
      const c = s.charCodeAt(i);
      if (c === DOT) continue;
      if (k < loFrom) hi = hi * 10 + (c - ZERO);
      else lo = lo * 10 + (c - ZERO);
      k++;
    }
    this.mantHi = hi;
    this.mantLo = lo;
    const whole = hi * 1e9 + lo;
    this.value = decimals === 0 ? whole : whole / POW10[decimals];
    return true;
  }

  /**
   * Read an integer written as a bare number or a string (`42`, `"-1"`,
   * `"1652453225000"`) into {@link JsonCursor.value}; false for a fraction,
   * an exponent, or a magnitude past 2^53.
   */
  readInteger(): boolean {
    if (!this.#numberSpan()) return false;
    const s = this.#s;
    let a = this.start;
    const b = this.end;
    let sign = 1;
    if (s.charCodeAt(a) === MINUS) {
      sign = -1;
      a++;
    }
    if (a === b || b - a > 16) return false;
    let v = 0;
    for (let i = a; i < b; i++) {
      const c = s.charCodeAt(i);
      if (!isDigit(c)) return false;
      v = v * 10 + (c - ZERO);
    }
    if (v > Number.MAX_SAFE_INTEGER) return false;
    this.value = sign * v;
    return true;
  }

  /**
   * Read an ISO 8601 UTC time string (`2024-10-03T02:46:57.050170Z`, any
   * number of fraction digits, `Z` or `+00:00`) into {@link JsonCursor.value}
   * as epoch ms (fractional); false for anything else.
   */
  readTime(): boolean {
    if (!this.readString()) return false;
    const s = this.#s, a = this.start, b = this.end;
    if (b - a < 20) return false;
    const year = this.#digits(a, 4), month = this.#digits(a + 5, 2), day = this.#digits(a + 8, 2);
    const hour = this.#digits(a + 11, 2), minute = this.#digits(a + 14, 2);
    const second = this.#digits(a + 17, 2);
    if (
      year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60 ||
      s.charCodeAt(a + 4) !== MINUS || s.charCodeAt(a + 7) !== MINUS ||
      (s.charCodeAt(a + 10) | 0x20) !== 0x74 || s.charCodeAt(a + 13) !== COLON ||
      s.charCodeAt(a + 16) !== COLON
    ) return false;
    let p = a + 19;
    let frac = 0, scale = 1;
    if (s.charCodeAt(p) === DOT) {
      p++;
      const from = p;
      while (p < b && isDigit(s.charCodeAt(p))) {
        if (scale < 1e9) {
          frac = frac * 10 + (s.charCodeAt(p) - ZERO);
          scale *= 10;
        }
        p++;
      }
      if (p === from) return false;
    }
    const z = s.charCodeAt(p);
    if (!((z | 0x20) === 0x7a && p + 1 === b) && !(b - p === 6 && this.#spanIs(p, b, "+00:00"))) {
      return false;
    }
    this.value = daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 +
      second * 1000 + (frac / scale) * 1000;
    return true;
  }

  #digits(p: number, count: number): number {
    let v = 0;
    for (let i = 0; i < count; i++) {
      const c = this.#s.charCodeAt(p + i);
      if (!isDigit(c)) return -1;
      v = v * 10 + (c - ZERO);
    }
    return v;
  }
}
