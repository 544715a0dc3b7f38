/**
 * One recorded line: `<ISO-8601 receive time> <raw message>\n`, the tardis
 * layout (e.g. `2026-12-02T12:00:00.1234560Z {"stream":…}`). The time is UTC
 * with seven fraction digits, the last always 0: microsecond precision in
 * tardis's 28-byte form (tardis tools split a line at byte 28, so a shorter
 * time would cost the message its first byte). The reader accepts 0–9 digits
 * and keeps whole microseconds (extra digits are cut). The message bytes are
 * kept as they are; a message may not contain a line feed.
 *
 * Encoding writes into a caller's buffer and parsing reads from one, so neither
 * allocates.
 *
 * @example
 * ```ts
 * import { encodeLine, parseTime, TIME_LENGTH } from "./record_line.ts";
 * const buf = new Uint8Array(64);
 * const end = encodeLine(buf, 0, Date.UTC(2026, 11, 2, 12) * 1000 + 123456, '{"a":1}');
 * new TextDecoder().decode(buf.subarray(0, end)); // '2026-12-02T12:00:00.1234560Z {"a":1}\n'
 * parseTime(buf, 0, end).us; // 1796212800123456
 * TIME_LENGTH; // 28
 * ```
 * @module
 */

/** Bytes of a written time: `YYYY-MM-DDTHH:MM:SS.ffffff0Z` (tardis's 28). */
export const TIME_LENGTH = 28;

/** Line feed, the record terminator. */
export const LF = 10;
const SPACE = 32;
const ZERO = 48;
const US_PER_DAY = 86_400_000_000;
/** Largest recordable receive time: the largest exact integer µs (2255-06-05T23:47:34.740991Z). */
export const MAX_TIME_US = Number.MAX_SAFE_INTEGER;

const encoder = new TextEncoder();

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (month 1–12).
 *
 * @example
 * ```ts
 * import { daysFromCivil } from "./record_line.ts";
 * daysFromCivil(1970, 1, 2); // 1
 * daysFromCivil(2000, 3, 1); // 11017
 * ```
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function put(buf: Uint8Array, pos: number, value: number, digits: number): void {
  for (let i = pos + digits - 1; i >= pos; i--) {
    buf[i] = ZERO + (value % 10);
    value = Math.floor(value / 10);
  }
}

/**
 * Writes `us` (µs since the epoch, 0 ≤ us ≤ {@link MAX_TIME_US}, an integer) as
 * `YYYY-MM-DDTHH:MM:SS.ffffff0Z` at `pos`; returns the position after it. The
 * caller checks the range and that 28 bytes fit.
 *
 * @example
 * ```ts
 * import { writeTime } from "./record_line.ts";
 * const buf = new Uint8Array(28);
 * writeTime(buf, 0, 1_000_001); // 28
 * new TextDecoder().decode(buf); // "1970-01-01T00:00:01.0000010Z"
 * ```
 */
export function writeTime(buf: Uint8Array, pos: number, us: number): number {
  const days = Math.floor(us / US_PER_DAY);
  let rest = us - days * US_PER_DAY;
  // civil from days (Howard Hinnant's algorithm)
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  put(buf, pos, year, 4);
  buf[pos + 4] = 45; // -
  put(buf, pos + 5, month, 2);
  buf[pos + 7] = 45;
  put(buf, pos + 8, day, 2);
  buf[pos + 10] = 84; // T
  const hour = Math.floor(rest / 3_600_000_000);
  rest -= hour * 3_600_000_000;
  const minute = Math.floor(rest / 60_000_000);
  rest -= minute * 60_000_000;
  const second = Math.floor(rest / 1_000_000);
  put(buf, pos + 11, hour, 2);
  buf[pos + 13] = 58; // :
  put(buf, pos + 14, minute, 2);
  buf[pos + 16] = 58;
  put(buf, pos + 17, second, 2);
  buf[pos + 19] = 46; // .
  put(buf, pos + 20, rest - second * 1_000_000, 6);
  buf[pos + 26] = ZERO; // 100 ns digit: tardis's width
  buf[pos + 27] = 90; // Z
  return pos + TIME_LENGTH;
}

/**
 * Whether `us` can be written: an integer µs from 1970 to {@link MAX_TIME_US} (year 2255).
 *
 * @example
 * ```ts
 * import { isRecordableTime } from "./record_line.ts";
 * [isRecordableTime(1), isRecordableTime(-1), isRecordableTime(0.5)]; // [true, false, false]
 * ```
 */
export function isRecordableTime(us: number): boolean {
  return Number.isInteger(us) && us >= 0 && us <= MAX_TIME_US;
}

/**
 * Encodes one line (time, space, message, line feed) into `buf` at `pos`.
 * Returns the position after the line feed, or -1 when it does not fit; the
 * caller checks {@link isRecordableTime} and that the message has no line feed.
 * Allocates nothing for bytes and ASCII strings (exchange JSON); another
 * string costs one `subarray` view (TextEncoder.encodeInto).
 *
 * @example
 * ```ts
 * import { encodeLine } from "./record_line.ts";
 * const buf = new Uint8Array(40);
 * encodeLine(buf, 0, 0, new Uint8Array([123, 125])); // 32
 * encodeLine(buf, 0, 0, "x".repeat(20)); // -1: does not fit
 * ```
 */
export function encodeLine(
  buf: Uint8Array,
  pos: number,
  us: number,
  message: string | Uint8Array,
): number {
  const start = pos + TIME_LENGTH + 1;
  let end: number;
  if (typeof message === "string") {
    // Each UTF-16 unit encodes to at least one byte: a quick bound before encoding.
    const room = buf.length - start - 1;
    if (room < message.length) return -1;
    end = encodeAscii(buf, start, message);
    if (end < 0) {
      const { read, written } = encoder.encodeInto(message, buf.subarray(start, buf.length - 1));
      if (read < message.length) return -1;
      end = start + written;
    }
  } else {
    end = start + message.length;
    if (end + 1 > buf.length) return -1;
    buf.set(message, start);
  }
  writeTime(buf, pos, us);
  buf[pos + TIME_LENGTH] = SPACE;
  buf[end] = LF;
  return end + 1;
}

/** Copies an all-ASCII string byte by byte (no allocation); -1 at the first other character. */
function encodeAscii(buf: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return -1;
    buf[pos + i] = c;
  }
  return pos + text.length;
}

/** Result slot of {@link parseTime}, reused by the caller to avoid allocation. */
export interface ParsedTime {
  /** Receive time in µs since the epoch, NaN when the line is not `<time> <message>`. */
  us: number;
  /** Index of the message's first byte (after the single space). */
  messageStart: number;
}

const shared: ParsedTime = { us: NaN, messageStart: 0 };

function digits(buf: Uint8Array, pos: number, n: number): number {
  let v = 0;
  for (let i = pos; i < pos + n; i++) {
    const d = buf[i] - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Parses the `<time> ` head of the line `buf[start, end)` (end excludes the
 * line feed). Returns a shared result object (valid until the next call; pass
 * `out` to keep your own): `us` is NaN when the head is not
 * `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z ` with a valid date, or no message follows.
 *
 * @example
 * ```ts
 * import { parseTime } from "./record_line.ts";
 * const line = new TextEncoder().encode("2019-07-01T00:00:00.0529306Z {}");
 * const t = parseTime(line, 0, line.length);
 * [t.us, t.messageStart]; // [1561939200052930, 29]
 * parseTime(new TextEncoder().encode("garbage {}"), 0, 10).us; // NaN
 * ```
 */
export function parseTime(
  buf: Uint8Array,
  start: number,
  end: number,
  out: ParsedTime = shared,
): ParsedTime {
  out.us = NaN;
  out.messageStart = start;
  if (end - start < 22) return out; // 20-char time, space, ≥ 1 message byte
  const p = start;
  if (buf[p + 4] !== 45 || buf[p + 7] !== 45 || buf[p + 10] !== 84) return out;
  if (buf[p + 13] !== 58 || buf[p + 16] !== 58) return out;
  const year = digits(buf, p, 4), month = digits(buf, p + 5, 2), day = digits(buf, p + 8, 2);
  const hour = digits(buf, p + 11, 2), minute = digits(buf, p + 14, 2);
  const second = digits(buf, p + 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return out;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return out;
  let q = p + 19;
  let fraction = 0;
  if (buf[q] === 46) {
    q++;
    let n = 0;
    for (; q < end && n < 10; q++, n++) {
      const d = buf[q] - ZERO;
      if (d < 0 || d > 9) break;
      if (n < 6) fraction = fraction * 10 + d;
    }
    if (n === 0 || n > 9) return out;
    for (; n < 6; n++) fraction *= 10;
  }
  if (buf[q] !== 90 || buf[q + 1] !== SPACE || q + 2 >= end) return out;
  const days = daysFromCivil(year, month, day);
  out.us = days * US_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction;
  out.messageStart = q + 2;
  return out;
}

/**
 * µs since the epoch of an ISO-8601 UTC time as recordings write it
 * (`YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`), or NaN: for `--replay-from`-style
 * options, where `Date.parse` would keep only milliseconds.
 *
 * @example
 * ```ts
 * import { isoToUs } from "./record_line.ts";
 * isoToUs("2026-12-02T12:00:00.123456Z"); // 1796212800123456
 * isoToUs("2026-12-02 12:00"); // NaN
 * ```
 */
export function isoToUs(text: string): number {
  const bytes = encoder.encode(`${text} .`);
  return parseTime(bytes, 0, bytes.length, { us: NaN, messageStart: 0 }).us;
}

/**
 * The ISO-8601 text of a receive time with µs (`YYYY-MM-DDTHH:MM:SS.ffffffZ`),
 * e.g. for a replay clock; "" when `us` is not recordable.
 *
 * @example
 * ```ts
 * import { usToIso } from "./record_line.ts";
 * usToIso(1796212800123456); // "2026-12-02T12:00:00.123456Z"
 * ```
 */
export function usToIso(us: number): string {
  if (!isRecordableTime(us)) return "";
  const buf = new Uint8Array(TIME_LENGTH);
  writeTime(buf, 0, us);
  return String.fromCharCode(...buf.subarray(0, 26)) + "Z";
}

/**
 * Receive time `at` (epoch ms, as the connections stamp it) rounded to the
 * whole microsecond a recording keeps: the ingest uses this rounded time live,
 * so a replay hands it exactly the times it had.
 *
 * @example
 * ```ts
 * import { quantiseReceiveTime } from "./record_line.ts";
 * quantiseReceiveTime(1000.0004); // 1000
 * quantiseReceiveTime(1000.0006); // 1000.001
 * ```
 */
export function quantiseReceiveTime(at: number): number {
  return Math.round(at * 1000) / 1000;
}
