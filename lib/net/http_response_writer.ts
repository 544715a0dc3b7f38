/**
 * Writes a fetch `Response` to an HTTP/1.x connection: status line, header
 * fields and body framing.
 *
 * Framing, in order of precedence:
 *
 * - No body for `HEAD` requests and for 1xx, 204 and 304 responses (the body,
 *   if any, is cancelled). A `101` is written exactly as given: it is the
 *   head of a protocol switch.
 * - A body stream with a valid `Content-Length` set by the handler (e.g. a
 *   static file) is streamed as it is read; if the stream yields a different
 *   number of bytes, the write fails and the connection must be closed.
 * - A body that is all available without waiting (a string, bytes, JSON, or a
 *   stream already closed with its chunks queued) is read whole and sent with
 *   `Content-Length`, head and body in one write when small. (Past 1 MiB such
 *   a body is sent chunked, so a stream that never waits is never buffered
 *   without bound.)
 * - Any other stream (e.g. `text/event-stream`) is sent with chunked transfer
 *   encoding, each chunk written as soon as it is read (nothing buffered);
 *   to an HTTP/1.0 client, without framing and closed at the end.
 *
 * The writer sets `Connection: close` when the connection will close, and
 * `Connection: keep-alive` to an HTTP/1.0 client that keeps it. `Date` is added
 * when missing. The writer compresses nothing (`Deno.serve` compressed by
 * default): static files are precompressed at build time and carry their own
 * `Content-Encoding` and `Content-Length` (`lib/web/static_files.ts`), which
 * pass through unchanged.
 *
 * @example
 * ```ts
 * import { writeResponse } from "./http_response_writer.ts";
 * const chunks: Uint8Array[] = [];
 * const sink = { write: (p: Uint8Array) => (chunks.push(p.slice()), Promise.resolve(p.length)) };
 * const reusable = await writeResponse(sink, new Response("hi"), { close: false });
 * reusable; // true: the connection can carry the next request
 * ```
 * @module
 */

/** Where a response is written: `Deno.Conn` and anything with its `write`. */
export interface ByteSink {
  /** Write some of `p` (at least one byte); resolves with the number written. */
  write(p: Uint8Array): Promise<number>;
}

/** Options of {@link writeResponse}. */
export interface WriteResponseOptions {
  /** The request was `HEAD`: write the head only (with the length if it is known). Default false. */
  head?: boolean;
  /** The server will close the connection after this response: say `Connection: close`. Default false. */
  close?: boolean;
  /** The request's protocol version; an HTTP/1.0 client gets no chunked encoding. Default "HTTP/1.1". */
  version?: "HTTP/1.1" | "HTTP/1.0";
}

/** Reason phrases of the statuses this service sends. Others go out with an empty phrase. */
const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  421: "Misdirected Request",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** Header fields the writer owns: the handler's values are dropped (except on a 101). */
const FRAMING = new Set(["connection", "content-length", "keep-alive", "transfer-encoding"]);

/** Bodies up to this size are written together with the head. */
const COALESCE_BYTES = 16384;
/** A body that keeps coming without waiting is buffered up to this size, then chunked. */
const MAX_BUFFERED_BYTES = 1 << 20;

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

let dateSecond = -1;
let dateValue = "";
/** The `Date` value, formatted at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
}

/** Write all of `p`. */
async function writeAll(sink: ByteSink, p: Uint8Array): Promise<void> {
  let off = 0;
  while (off < p.length) off += await sink.write(off === 0 ? p : p.subarray(off));
}

/** The head's text: status line and fields, ending with the blank line. */
function headText(response: Response, fields: string): string {
  const reason = response.statusText || REASONS[response.status] || "";
  let s = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  let hasDate = false;
  const upgrade = response.status === 101;
  for (const [name, value] of response.headers) {
    if (!upgrade && FRAMING.has(name)) continue;
    if (name === "date") hasDate = true;
    s += `${name}: ${value}\r\n`;
  }
  if (!hasDate && !upgrade) s += `date: ${httpDate()}\r\n`;
  return s + fields + "\r\n";
}

/** Size of `chunk` in chunked framing. */
function framedLength(chunk: Uint8Array): number {
  return chunk.length.toString(16).length + 2 + chunk.length + 2;
}

/** Copy `chunk` framed as one chunk into `out` at `at`; returns the offset after it. */
function putFramed(out: Uint8Array, at: number, chunk: Uint8Array): number {
  at += encoder.encodeInto(`${chunk.length.toString(16)}\r\n`, out.subarray(at)).written;
  out.set(chunk, at);
  out.set(CRLF, at + chunk.length);
  return at + chunk.length + 2;
}

/**
 * The head as bytes (one byte per character: header values are ISO-8859-1
 * byte strings), followed by `chunks`, framed when `chunked`.
 */
function headWith(text: string, chunks: readonly Uint8Array[], chunked: boolean): Uint8Array {
  let extra = 0;
  for (const c of chunks) extra += chunked ? framedLength(c) : c.length;
  const out = new Uint8Array(text.length + extra);
  // deno-lint-ignore no-control-regex
  if (!/[^\x00-\x7f]/.test(text)) encoder.encodeInto(text, out);
  else for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  let at = text.length;
  for (const c of chunks) {
    if (chunked) at = putFramed(out, at, c);
    else {
      out.set(c, at);
      at += c.length;
    }
  }
  return out;
}

/** A promise that resolves to `PENDING` after a few microtasks: long enough for a queued chunk to arrive. */
const PENDING = Symbol("pending");
function pendingSoon(): Promise<typeof PENDING> {
  let p: Promise<typeof PENDING> = Promise.resolve(PENDING);
  for (let i = 0; i < 3; i++) p = p.then((x) => x);
  return p;
}

/**
 * Write `response` to `sink`.
 *
 * @example
 * ```ts
 * import { writeResponse } from "./http_response_writer.ts";
 * const out: Uint8Array[] = [];
 * const sink = { write: (p: Uint8Array) => (out.push(p.slice()), Promise.resolve(p.length)) };
 * await writeResponse(sink, new Response("hello"), { head: true, close: true });
 * new TextDecoder().decode(out[0]).includes("content-length: 5\r\n"); // true, and no body
 * ```
 *
 * @param sink The connection.
 * @param response The handler's response; its body is consumed or cancelled.
 * @param options See {@link WriteResponseOptions}.
 * @returns Whether the connection can carry another request: false when
 * `options.close` was set or the body had to be delimited by closing.
 * @throws whatever the sink or the body stream throws, and an `Error` when a
 * stream does not match its `Content-Length`; the connection must then be
 * closed, since the response may be cut short.
 */
export async function writeResponse(
  sink: ByteSink,
  response: Response,
  options: WriteResponseOptions = {},
): Promise<boolean> {
  const status = response.status;
  const http10 = options.version === "HTTP/1.0";
  let close = options.close ?? false;
  const connection = () =>
    close ? "connection: close\r\n" : http10 ? "connection: keep-alive\r\n" : "";
  const body = response.body;

  if (status === 101) {
    await cancel(body);
    await writeAll(sink, headWith(headText(response, ""), [], false));
    return true;
  }
  const declared = declaredLength(response);
  const noBody = options.head === true || status < 200 || status === 204 || status === 304;
  if (body === null || (noBody && (declared !== null || status === 204 || status === 304))) {
    // Nothing to read: the length is 0, the handler's (HEAD, 304) or none (204).
    await cancel(body);
    let length = "";
    if (status >= 200 && status !== 204) {
      if (noBody && declared !== null) length = `content-length: ${declared}\r\n`;
      else if (body === null && status !== 304) length = "content-length: 0\r\n";
    }
    await writeAll(sink, headWith(headText(response, length + connection()), [], false));
    return !close;
  }

  const reader = body.getReader();
  let ended = false;
  try {
    if (declared !== null) {
      await writeDeclared(sink, reader, response, declared, connection());
      ended = true;
      return !close;
    }

    // Read what is available without waiting: all of it for a string or bytes body.
    const chunks: Uint8Array[] = [];
    let total = 0;
    let next: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
    while (total <= MAX_BUFFERED_BYTES) {
      const read = reader.read();
      const r = await Promise.race([read, pendingSoon()]);
      if (r === PENDING) {
        next = read;
        break;
      }
      if (r.done) {
        ended = true;
        break;
      }
      chunks.push(r.value);
      total += r.value.length;
    }

    if (ended || noBody) {
      const length = ended ? `content-length: ${total}\r\n` : "";
      const head = headText(response, length + connection());
      if (noBody) await writeAll(sink, headWith(head, [], false));
      else if (total <= COALESCE_BYTES) await writeAll(sink, headWith(head, chunks, false));
      else {
        await writeAll(sink, headWith(head, [], false));
        for (const c of chunks) await writeAll(sink, c);
      }
      return !close;
    }

    // A stream: chunked, or delimited by closing for an HTTP/1.0 client.
    const chunked = !http10;
    if (http10) close = true;
    const fields = (chunked ? "transfer-encoding: chunked\r\n" : "") + connection();
    await writeAll(sink, headWith(headText(response, fields), chunks, chunked));
    for (;;) {
      const r = await (next ?? reader.read());
      next = null;
      if (r.done) break;
      if (r.value.length === 0) continue;
      if (!chunked) {
        await writeAll(sink, r.value);
        continue;
      }
      const framed = new Uint8Array(framedLength(r.value));
      putFramed(framed, 0, r.value);
      await writeAll(sink, framed);
    }
    ended = true;
    if (chunked) await writeAll(sink, LAST_CHUNK);
    return !close;
  } finally {
    if (!ended) reader.cancel().catch(() => {});
  }
}

/** Stream a body whose length the handler declared; fails when the stream disagrees. */
async function writeDeclared(
  sink: ByteSink,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  response: Response,
  declared: number,
  connection: string,
): Promise<void> {
  await writeAll(
    sink,
    headWith(headText(response, `content-length: ${declared}\r\n${connection}`), [], false),
  );
  let sent = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    if (sent + r.value.length > declared) {
      throw new Error(`response body is longer than its Content-Length ${declared}`);
    }
    sent += r.value.length;
    await writeAll(sink, r.value);
  }
  if (sent !== declared) {
    throw new Error(`response body has ${sent} bytes, fewer than its Content-Length ${declared}`);
  }
}

/** The handler's `Content-Length` when it is a plain decimal number, else null. */
function declaredLength(response: Response): number | null {
  const v = response.headers.get("content-length");
  return v !== null && /^[0-9]{1,15}$/.test(v) ? Number(v) : null;
}

/** Cancel a body that will not be sent. */
async function cancel(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (body !== null && !body.locked) await body.cancel().catch(() => {});
}
