/**
 * An incremental, strict parser of an HTTP/1.x request head (request line and
 * header fields) from the bytes a connection has received so far.
 *
 * The parser accepts a small subset of RFC 9112 and rejects the rest with one
 * error class, {@link HttpHeadError}, carrying the status to answer and a
 * one-line reason; the connection is closed after such an answer. What it
 * takes and what it refuses:
 *
 * - Request line `METHOD SP target SP HTTP/1.x` with single spaces; the method
 *   a token; the target origin-form (`/path?query`) or absolute-form
 *   (`http://host/path`, whose authority must equal `Host`), visible ASCII
 *   only. HTTP/1.1 and HTTP/1.0 only: another `HTTP/d.d` is 505.
 * - Lines end in CRLF; a bare CR or LF is 400. Empty lines before the request
 *   line are skipped (RFC 9112 §2.2).
 * - Header names are tokens, with no space before the colon; values are
 *   visible ASCII, obs-text, spaces and tabs (no NUL or other control
 *   characters); obs-fold (a line starting with a space or tab) is 400.
 * - HTTP/1.1 needs exactly one valid `Host` (HTTP/1.0 at most one): 400.
 * - `Content-Length` must be decimal digits and every copy must agree (400);
 *   any `Transfer-Encoding` is 501, since this server takes no chunked request
 *   bodies. Together these rule out the framing ambiguities behind request
 *   smuggling.
 * - A request line over `maxRequestLineBytes` is 414; a head over
 *   `maxHeadBytes` or with more than `maxHeaders` fields is 431.
 *
 * Scanning is incremental: each call looks only at bytes it has not seen, so a
 * head that arrives one byte at a time costs linear time; the fields are parsed
 * once the blank line that ends the head has arrived.
 *
 * @example
 * ```ts
 * import { RequestHeadParser } from "./http_head_parser.ts";
 * const parser = new RequestHeadParser();
 * const bytes = new TextEncoder().encode("GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
 * const head = parser.parse(bytes);
 * head?.method; // "GET"
 * head?.byteLength === bytes.length; // true
 * ```
 * @module
 */

/** The statuses a request head can be refused with. */
export type HttpHeadErrorStatus = 400 | 414 | 431 | 501 | 505;

/**
 * A request head the parser refuses: `status` is the response to send, the
 * message a one-line reason saying what was wrong and what is expected. The
 * reason never quotes the client's bytes.
 *
 * @example
 * ```ts
 * import { HttpHeadError, RequestHeadParser } from "./http_head_parser.ts";
 * try {
 *   new RequestHeadParser().parse(new TextEncoder().encode("GET / HTTP/2.0\r\n\r\n"));
 * } catch (err) {
 *   if (err instanceof HttpHeadError) err.status; // 505
 * }
 * ```
 */
export class HttpHeadError extends Error {
  /** The status to answer with. */
  readonly status: HttpHeadErrorStatus;

  /**
   * Make the error for a refused head.
   *
   * @param status The status to answer with.
   * @param reason What was wrong and what was expected, in one line.
   */
  constructor(status: HttpHeadErrorStatus, reason: string) {
    super(reason);
    this.name = "HttpHeadError";
    this.status = status;
  }
}

/** Size limits of a request head. */
export interface HttpHeadLimits {
  /** Longest request line in bytes, without its CRLF; longer is 414. Default 8192. */
  maxRequestLineBytes?: number;
  /** Longest head in bytes, request line and final blank line included; longer is 431. Default 16384. */
  maxHeadBytes?: number;
  /** Most header fields; more is 431. Default 100. */
  maxHeaders?: number;
}

/** The default {@link HttpHeadLimits}. */
export const DEFAULT_HEAD_LIMITS: Readonly<Required<HttpHeadLimits>> = Object.freeze({
  maxRequestLineBytes: 8192,
  maxHeadBytes: 16384,
  maxHeaders: 100,
});

/** A parsed request head. */
export interface RequestHead {
  /** The method as sent (case-sensitive). */
  method: string;
  /** The request target as sent: origin-form (`/path?q`) or absolute-form (`http://host/path`). */
  target: string;
  /** The protocol version. */
  version: "HTTP/1.1" | "HTTP/1.0";
  /** The header fields in order, names lower-cased, values without surrounding whitespace. */
  headers: Array<[name: string, value: string]>;
  /** The `Host` value (validated: a name or IP address with an optional port); "" for HTTP/1.0 without one. */
  host: string;
  /** The body length from `Content-Length`; 0 without one. */
  contentLength: number;
  /** Whether the client wants the connection kept open after the response (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`). */
  keepAlive: boolean;
  /** Whether the client sent `Expect: 100-continue` and waits before sending its body. */
  expectContinue: boolean;
  /** Bytes of the head, from the first received byte through the blank line; the body (or the next request) starts here. */
  byteLength: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** tchar (RFC 9110 §5.6.2): 1 for bytes allowed in a token. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** A name or IPv4 address, or an IPv6 literal in brackets, with an optional port. */
const HOST = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const DIGITS = /^[0-9]{1,15}$/;
const ABSOLUTE = /^https?:\/\/([^/?#]*)/i;

/** The string of bytes[from, to) with one character per byte (ISO-8859-1, as `Headers` stores it). */
function byteString(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode.apply(null, bytes.subarray(from, to) as unknown as number[]);
}

/** Lower-cased token bytes[from, to) as a string; throws 400 when a byte is not a tchar. */
function tokenAt(bytes: Uint8Array, from: number, to: number, what: string): string {
  if (from === to) throw new HttpHeadError(400, `empty ${what}; expected a token`);
  let s = "";
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (TCHAR[b] === 0) {
      throw new HttpHeadError(
        400,
        `invalid byte 0x${b.toString(16).padStart(2, "0")} in ${what}; expected a token ` +
          "(letters, digits, !#$%&'*+-.^_`|~)",
      );
    }
    s += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
  }
  return s;
}

/**
 * Parses request heads incrementally. One parser serves one connection:
 * after a head is returned, call {@link RequestHeadParser.reset} before the
 * next request.
 *
 * @example
 * ```ts
 * import { RequestHeadParser } from "./http_head_parser.ts";
 * const parser = new RequestHeadParser({ maxHeaders: 20 });
 * const all = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
 * let head = null;
 * for (let n = 1; n <= all.length && head === null; n++) head = parser.parse(all.subarray(0, n));
 * head?.host; // "a"
 * parser.reset();
 * ```
 */
export class RequestHeadParser {
  /** The limits in force. */
  readonly limits: Readonly<Required<HttpHeadLimits>>;
  /** Index of the next byte to scan. */
  #scanned = 0;
  /** Index of the request line's first byte, -1 while skipping leading empty lines. */
  #start = -1;
  /** Index of the CR that ends the request line, -1 until seen. */
  #lineEnd = -1;

  /**
   * Make a parser with the given limits.
   *
   * @param limits Size limits; see {@link HttpHeadLimits} for the defaults.
   * @throws {RangeError} when a limit is not a positive integer or the request
   * line limit exceeds the head limit.
   */
  constructor(limits: HttpHeadLimits = {}) {
    const l = {
      maxRequestLineBytes: limits.maxRequestLineBytes ?? DEFAULT_HEAD_LIMITS.maxRequestLineBytes,
      maxHeadBytes: limits.maxHeadBytes ?? DEFAULT_HEAD_LIMITS.maxHeadBytes,
      maxHeaders: limits.maxHeaders ?? DEFAULT_HEAD_LIMITS.maxHeaders,
    };
    for (const [k, v] of Object.entries(l)) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new RangeError(`${k} must be a positive integer, got ${v}`);
      }
    }
    if (l.maxRequestLineBytes > l.maxHeadBytes) {
      throw new RangeError(
        `maxRequestLineBytes (${l.maxRequestLineBytes}) must not exceed maxHeadBytes (${l.maxHeadBytes})`,
      );
    }
    this.limits = Object.freeze(l);
  }

  /** Forget the previous head; the next {@link parse} reads a new one from its bytes' start. */
  reset(): void {
    this.#scanned = 0;
    this.#start = -1;
    this.#lineEnd = -1;
  }

  /**
   * Parse the head at the start of `bytes`: everything received since the
   * head's first byte (it may also hold the body or further requests). Each
   * call must pass the bytes of the previous call plus any new ones.
   *
   * @returns The head once complete, or null when more bytes are needed.
   * @throws {HttpHeadError} when the head is malformed or over a limit.
   */
  parse(bytes: Uint8Array): RequestHead | null {
    const { maxRequestLineBytes, maxHeadBytes } = this.limits;
    const n = bytes.length;
    let i = this.#scanned;
    while (i < n) {
      const b = bytes[i];
      if (b === CR) {
        if (i + 1 === n) break; // wait for the LF
        if (bytes[i + 1] !== LF) {
          throw new HttpHeadError(400, "CR not followed by LF; lines must end with CRLF");
        }
        if (this.#start >= 0) {
          if (this.#lineEnd < 0) {
            this.#lineEnd = i;
            if (i - this.#start > maxRequestLineBytes) break;
          } else if (bytes[i - 1] === LF) {
            // CRLF right after CRLF: the blank line that ends the head.
            i += 2;
            if (i > maxHeadBytes) break;
            this.#scanned = i;
            return this.#fields(bytes, i);
          }
        }
        i += 2;
        continue;
      }
      if (b === LF) throw new HttpHeadError(400, "bare LF; lines must end with CRLF");
      if (this.#start < 0) this.#start = i;
      i++;
    }
    this.#scanned = i;
    if (this.#start >= 0) {
      const lineBytes = (this.#lineEnd >= 0 ? this.#lineEnd : i) - this.#start;
      if (lineBytes > maxRequestLineBytes) {
        throw new HttpHeadError(
          414,
          `request line longer than ${maxRequestLineBytes} bytes; expected a shorter target`,
        );
      }
    }
    // Incomplete: the head needs at least one byte more than we have.
    if (n >= maxHeadBytes) {
      throw new HttpHeadError(
        431,
        `request head longer than ${maxHeadBytes} bytes; expected fewer or smaller header fields`,
      );
    }
    return null;
  }

  /** Parse the complete head bytes[start, end). */
  #fields(bytes: Uint8Array, end: number): RequestHead {
    const { method, target, version, absolute } = parseRequestLine(
      bytes,
      this.#start,
      this.#lineEnd,
    );
    // Header lines run from after the request line's CRLF to the blank line's CR.
    const { headers, host, hosts, contentLength, close, keepAliveToken, expectContinue } =
      parseHeaderFields(bytes, this.#lineEnd + 2, end - 2, this.limits.maxHeaders);
    if (hosts > 1) throw new HttpHeadError(400, "more than one Host field; expected exactly one");
    if (host === null && version === "HTTP/1.1") {
      throw new HttpHeadError(400, "missing Host field; HTTP/1.1 requires exactly one");
    }
    if (host !== null && !HOST.test(host)) {
      throw new HttpHeadError(
        400,
        "invalid Host; expected a name or IP address with an optional port",
      );
    }
    if (absolute !== null && absolute[1].toLowerCase() !== (host ?? "").toLowerCase()) {
      throw new HttpHeadError(400, "the absolute-form target's authority differs from Host");
    }
    return {
      method,
      target,
      version,
      headers,
      host: host ?? "",
      contentLength: contentLength === null ? 0 : Number(contentLength),
      keepAlive: !close && (version === "HTTP/1.1" || keepAliveToken),
      expectContinue,
      byteLength: end,
    };
  }
}

/** The request line's parts; `absolute` is the absolute-form match or null. */
interface RequestLine {
  method: string;
  target: string;
  version: "HTTP/1.1" | "HTTP/1.0";
  absolute: RegExpExecArray | null;
}

/** Parse and check the request line bytes[start, lineEnd): METHOD SP target SP version. */
function parseRequestLine(bytes: Uint8Array, start: number, lineEnd: number): RequestLine {
  let sp1 = start;
  while (sp1 < lineEnd && bytes[sp1] !== SP) sp1++;
  let sp2 = sp1 + 1;
  while (sp2 < lineEnd && bytes[sp2] !== SP) sp2++;
  if (sp1 >= lineEnd || sp2 >= lineEnd) {
    throw new HttpHeadError(400, "malformed request line; expected METHOD SP target SP HTTP/1.1");
  }
  const method = byteString(bytes, start, sp1);
  if (method.length === 0) {
    throw new HttpHeadError(400, "empty method; expected METHOD SP target SP HTTP/1.1");
  }
  for (let i = start; i < sp1; i++) {
    if (TCHAR[bytes[i]] === 0) throw new HttpHeadError(400, "method is not a token");
  }
  if (sp2 === sp1 + 1) {
    throw new HttpHeadError(400, "empty request target; expected METHOD SP target SP HTTP/1.1");
  }
  for (let i = sp1 + 1; i < sp2; i++) {
    const b = bytes[i];
    if (b < 0x21 || b > 0x7e) {
      throw new HttpHeadError(400, "request target has a byte outside visible ASCII");
    }
  }
  const target = byteString(bytes, sp1 + 1, sp2);
  const version = byteString(bytes, sp2 + 1, lineEnd);
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    if (/^HTTP\/[0-9]\.[0-9]$/.test(version)) {
      throw new HttpHeadError(505, "HTTP version not supported; expected HTTP/1.1 or HTTP/1.0");
    }
    throw new HttpHeadError(400, "malformed HTTP version; expected HTTP/1.1 or HTTP/1.0");
  }
  const absolute = ABSOLUTE.exec(target);
  if (target.charCodeAt(0) !== 0x2f && absolute === null) {
    throw new HttpHeadError(
      400,
      "request target must be origin-form (/path) or absolute-form (http://host/path)",
    );
  }
  return { method, target, version, absolute };
}

/** The header fields of a head, and what the server needs from them. */
interface HeaderFields {
  headers: Array<[string, string]>;
  host: string | null;
  hosts: number;
  contentLength: string | null;
  close: boolean;
  keepAliveToken: boolean;
  expectContinue: boolean;
}

/** Parse and check the header lines in bytes[from, last), each ending with CRLF. */
function parseHeaderFields(
  bytes: Uint8Array,
  from: number,
  last: number,
  maxHeaders: number,
): HeaderFields {
  const headers: Array<[string, string]> = [];
  let host: string | null = null;
  let hosts = 0;
  let contentLength: string | null = null;
  let close = false;
  let keepAliveToken = false;
  let expectContinue = false;
  let i = from;
  while (i < last) {
    let eol = i;
    while (bytes[eol] !== CR) eol++;
    const first = bytes[i];
    if (first === SP || first === HTAB) {
      throw new HttpHeadError(
        400,
        "obs-fold (a header line starting with whitespace) is not allowed",
      );
    }
    if (headers.length === maxHeaders) {
      throw new HttpHeadError(431, `more than ${maxHeaders} header fields`);
    }
    let colon = i;
    while (colon < eol && bytes[colon] !== COLON) colon++;
    if (colon === eol) {
      throw new HttpHeadError(400, "header line without a colon; expected name: value");
    }
    const name = tokenAt(bytes, i, colon, "header name");
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && (bytes[vs] === SP || bytes[vs] === HTAB)) vs++;
    while (ve > vs && (bytes[ve - 1] === SP || bytes[ve - 1] === HTAB)) ve--;
    for (let k = vs; k < ve; k++) {
      const b = bytes[k];
      if ((b < 0x20 && b !== HTAB) || b === 0x7f) {
        throw new HttpHeadError(
          400,
          `control byte 0x${b.toString(16).padStart(2, "0")} in the value of ${name}`,
        );
      }
    }
    const value = byteString(bytes, vs, ve);
    headers.push([name, value]);
    switch (name) {
      case "host":
        hosts++;
        host = value;
        break;
      case "content-length":
        if (!DIGITS.test(value)) {
          throw new HttpHeadError(400, "Content-Length must be decimal digits (at most 15)");
        }
        if (contentLength !== null && Number(contentLength) !== Number(value)) {
          throw new HttpHeadError(400, "conflicting Content-Length fields; expected one length");
        }
        contentLength = value;
        break;
      case "transfer-encoding":
        throw new HttpHeadError(
          501,
          "Transfer-Encoding on a request is not supported; send the body with Content-Length",
        );
      case "connection":
        for (const t of value.split(",")) {
          const token = t.trim().toLowerCase();
          if (token === "close") close = true;
          else if (token === "keep-alive") keepAliveToken = true;
        }
        break;
      case "expect":
        if (value.toLowerCase() === "100-continue") expectContinue = true;
        break;
    }
    i = eol + 2;
  }

  return { headers, host, hosts, contentLength, close, keepAliveToken, expectContinue };
}
