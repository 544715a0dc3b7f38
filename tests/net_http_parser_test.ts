// The request head parser of lib/net: every rejection with its status, heads
// arriving one byte at a time, limits, and fast-check properties: it never
// throws anything but HttpHeadError, and on valid heads (split anywhere) it
// agrees with a simple string-based reference.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  HttpHeadError,
  type HttpHeadLimits,
  type RequestHead,
  RequestHeadParser,
} from "../lib/net/http_head_parser.ts";

const enc = new TextEncoder();

/** Bytes of `s`, one byte per character (so "\xe9" is the byte 0xe9). */
function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Parse `text` fed at once; the error's status when refused. */
function parse(text: string, limits?: HttpHeadLimits): RequestHead | null | number {
  try {
    return new RequestHeadParser(limits).parse(bytes(text));
  } catch (err) {
    if (err instanceof HttpHeadError) return err.status;
    throw err;
  }
}

/** Parse `b` fed one more byte per call, as a connection sees it; the head or the error. */
function parseBytewise(b: Uint8Array, limits?: HttpHeadLimits): RequestHead | null | HttpHeadError {
  const parser = new RequestHeadParser(limits);
  try {
    for (let n = 1; n <= b.length; n++) {
      const head = parser.parse(b.subarray(0, n));
      if (head !== null) return head;
    }
    return null;
  } catch (err) {
    if (err instanceof HttpHeadError) return err;
    throw err;
  }
}

Deno.test("parser: a plain GET, its fields, and bytes after the head left alone", () => {
  const text = "GET /stats?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nX-A:  one two \t\r\n" +
    "Connection: keep-alive\r\n\r\nNEXT";
  const head = parse(text) as RequestHead;
  assert.equal(head.method, "GET");
  assert.equal(head.target, "/stats?x=1");
  assert.equal(head.version, "HTTP/1.1");
  assert.deepEqual(head.headers, [
    ["host", "127.0.0.1:8000"],
    ["x-a", "one two"],
    ["connection", "keep-alive"],
  ]);
  assert.equal(head.host, "127.0.0.1:8000");
  assert.equal(head.contentLength, 0);
  assert.equal(head.keepAlive, true);
  assert.equal(head.expectContinue, false);
  assert.equal(head.byteLength, text.length - 4);
});

Deno.test("parser: incomplete heads wait, one byte at a time, and leading empty lines are skipped", () => {
  const text = "\r\n\r\nPOST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n" +
    "Expect: 100-continue\r\n\r\n";
  const parser = new RequestHeadParser();
  const b = bytes(text);
  for (let n = 1; n < b.length; n++) assert.equal(parser.parse(b.subarray(0, n)), null, `at ${n}`);
  const head = parser.parse(b);
  assert.ok(head);
  assert.equal(head.method, "POST");
  assert.equal(head.contentLength, 5);
  assert.equal(head.expectContinue, true);
  assert.equal(head.byteLength, b.length);
  parser.reset();
  assert.equal(parser.parse(bytes("GET / HTTP/1.1\r\nHost: b\r\n\r\n"))?.host, "b");
});

Deno.test("parser: keep-alive by version and Connection", () => {
  const keep = (t: string) => (parse(t) as RequestHead).keepAlive;
  assert.equal(keep("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), true);
  assert.equal(keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"), false);
  assert.equal(keep("GET / HTTP/1.0\r\n\r\n"), false);
  assert.equal(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), true);
  assert.equal(keep("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), false);
  const h10 = parse("GET / HTTP/1.0\r\n\r\n") as RequestHead;
  assert.equal(h10.host, "");
});

Deno.test("parser: absolute-form is taken when its authority is the Host", () => {
  const ok = parse("GET http://a:80/x HTTP/1.1\r\nHost: A:80\r\n\r\n") as RequestHead;
  assert.equal(ok.target, "http://a:80/x");
  assert.equal(parse("GET http://evil/x HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  assert.equal(parse("GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
});

Deno.test("parser: obs-text in values is kept byte for byte", () => {
  const head = parse("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n") as RequestHead;
  assert.deepEqual(head.headers[1], ["x", "caf\xe9"]);
});

/** Each malformed head, the status it gets and why. */
const REJECTIONS: Array<[name: string, text: string, status: number]> = [
  ["lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
  ["HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505],
  ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505],
  ["missing version", "GET /\r\nHost: a\r\n\r\n", 400],
  ["two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  ["trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400],
  ["method not a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  ["tab in target", "GET /\ta HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  ["non-ASCII target", "GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  ["asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  ["authority-form", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  ["bare LF", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400],
  ["bare LF ending", "GET / HTTP/1.1\r\nHost: a\n\n", 400],
  ["bare CR", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400],
  ["no Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 400],
  ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400],
  ["two Hosts in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400],
  ["empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400],
  ["Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400],
  ["Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400],
  ["space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400],
  ["no colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400],
  ["empty name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400],
  ["NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400],
  ["DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", 400],
  ["control in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400],
  ["obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400],
  ["Content-Length not a number", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400],
  ["Content-Length negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400],
  ["Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400],
  [
    "Content-Length huge",
    `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${"9".repeat(16)}\r\n\r\n`,
    400,
  ],
  [
    "conflicting Content-Length",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    400,
  ],
  ["Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501],
  [
    "Transfer-Encoding with Content-Length",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    501,
  ],
  [
    "Transfer-Encoding identity",
    "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
    501,
  ],
];

Deno.test("parser: each malformed head is refused with its status, at once and byte by byte", () => {
  for (const [name, text, status] of REJECTIONS) {
    assert.equal(parse(text), status, name);
    const bytewise = parseBytewise(bytes(text));
    assert.ok(bytewise instanceof HttpHeadError, `${name}: byte by byte`);
    assert.equal(bytewise.status, status, `${name}: byte by byte`);
    assert.ok(bytewise.message.length > 0 && !bytewise.message.includes("\n"), name);
  }
});

Deno.test("parser: identical repeated Content-Length is one length", () => {
  const head = parse(
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 005\r\n\r\n",
  ) as RequestHead;
  assert.equal(head.contentLength, 5);
});

Deno.test("parser: request line over its limit is 414, a long head 431, many fields 431", () => {
  const limits = { maxRequestLineBytes: 64, maxHeadBytes: 256, maxHeaders: 4 };
  const line = (target: string) => `GET ${target} HTTP/1.1`;
  // Exactly at the limit passes; one more byte is 414, even before the line ends.
  const atLimit = "/" + "a".repeat(64 - line("/").length);
  assert.equal(line(atLimit).length, 64);
  assert.ok(typeof parse(`${line(atLimit)}\r\nHost: a\r\n\r\n`, limits) === "object");
  assert.equal(parse(`${line(atLimit + "a")}\r\nHost: a\r\n\r\n`, limits), 414);
  assert.equal(parse(`GET /${"a".repeat(100)}`, limits), 414);
  // A head of exactly maxHeadBytes passes; one more byte is 431, complete or not.
  const head = (pad: number) => `GET / HTTP/1.1\r\nHost: a\r\nX: ${"v".repeat(pad)}\r\n\r\n`;
  const fit = 256 - head(0).length;
  assert.equal((parse(head(fit), limits) as RequestHead).byteLength, 256);
  assert.equal(parse(head(fit + 1), limits), 431);
  assert.equal(parse(head(fit + 1).slice(0, 256), limits), 431);
  assert.equal(parse("\r\n".repeat(200), limits), 431);
  const fields = (n: number) => `GET / HTTP/1.1\r\nHost: a\r\n${"X: 1\r\n".repeat(n - 1)}\r\n`;
  assert.ok(typeof parse(fields(4), limits) === "object");
  assert.equal(parse(fields(5), limits), 431);
  // Byte by byte gives the same answers.
  assert.equal((parseBytewise(bytes(head(fit + 1)), limits) as HttpHeadError).status, 431);
  assert.equal(
    (parseBytewise(bytes(`GET /${"a".repeat(100)}`), limits) as HttpHeadError).status,
    414,
  );
});

Deno.test("parser: limits are validated", () => {
  assert.throws(() => new RequestHeadParser({ maxHeaders: 0 }), RangeError);
  assert.throws(() => new RequestHeadParser({ maxHeadBytes: 1.5 }), RangeError);
  assert.throws(
    () => new RequestHeadParser({ maxRequestLineBytes: 100, maxHeadBytes: 50 }),
    /maxRequestLineBytes \(100\) must not exceed maxHeadBytes \(50\)/,
  );
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const pathChar = fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=:@/?%");
const target = fc.string({ unit: pathChar, maxLength: 30 }).map((p) => "/" + p);
/** A value byte: visible ASCII or obs-text, with spaces and tabs inside. */
const valueChar = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }),
  fc.integer({ min: 0x80, max: 0xff }),
  fc.constantFrom(0x20, 0x09),
).map((c) => String.fromCharCode(c));
const value = fc.string({ unit: valueChar, maxLength: 20 });
const RESERVED = new Set(["host", "content-length", "transfer-encoding"]);
const field = fc.tuple(token.filter((n) => !RESERVED.has(n.toLowerCase())), value);
const ows = fc.constantFrom("", " ", "\t", "  ");

/** A valid request head as text, with the pieces it was made of. */
const validHead = fc.record({
  method: token,
  target,
  version: fc.constantFrom("HTTP/1.1", "HTTP/1.0"),
  host: fc.constantFrom("127.0.0.1", "localhost:8000", "[::1]:80", "a.example"),
  fields: fc.array(fc.tuple(field, ows, ows), { maxLength: 12 }),
  leading: fc.nat({ max: 2 }),
}).map((r) => {
  const lines = [`${r.method} ${r.target} ${r.version}`, `Host: ${r.host}`];
  for (const [[name, v], before, after] of r.fields) lines.push(`${name}:${before}${v}${after}`);
  return "\r\n".repeat(r.leading) + lines.join("\r\n") + "\r\n\r\n";
});

/** The reference: what a valid head means, parsed with string operations. */
function reference(text: string) {
  const start = text.search(/[^\r\n]/);
  const end = text.indexOf("\r\n\r\n", start) + 4;
  const [requestLine, ...lines] = text.slice(start, end - 4).split("\r\n");
  const [method, target, version] = requestLine.split(" ");
  const headers = lines.map((l) => {
    const colon = l.indexOf(":");
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "")];
  });
  return { method, target, version, headers, byteLength: end };
}

/** Cut points for feeding `n` bytes in pieces. */
const cuts = fc.array(fc.nat({ max: 1000 }), { maxLength: 8 });

/** Feed `b` in pieces ending at the given cuts; the head or null. */
function feed(b: Uint8Array, at: number[]): RequestHead | null {
  const parser = new RequestHeadParser();
  const ends = [...new Set([...at.map((c) => c % (b.length + 1)), b.length])].sort((x, y) => x - y);
  for (const end of ends) {
    const head = parser.parse(b.subarray(0, end));
    if (head !== null) return head;
  }
  return null;
}

Deno.test("parser property: valid heads, split anywhere, agree with the reference", () => {
  fc.assert(
    fc.property(validHead, cuts, (text, at) => {
      const head = feed(bytes(text), at);
      assert.ok(head, "a valid head must parse");
      const ref = reference(text);
      assert.equal(head.method, ref.method);
      assert.equal(head.target, ref.target);
      assert.equal(head.version, ref.version);
      assert.deepEqual(head.headers, ref.headers);
      assert.equal(head.byteLength, ref.byteLength);
    }),
    { numRuns: 500, seed: 20261202 },
  );
});

/** A valid head with some bytes replaced, inserted or removed. */
const mutatedHead = fc.tuple(
  validHead,
  fc.array(
    fc.tuple(
      fc.nat(),
      fc.constantFrom("set", "insert", "delete"),
      fc.integer({ min: 0, max: 255 }),
    ),
    { minLength: 1, maxLength: 4 },
  ),
).map(([text, edits]) => {
  const b = [...bytes(text)];
  for (const [pos, op, byte] of edits) {
    const i = pos % (b.length + 1);
    if (op === "set" && i < b.length) b[i] = byte;
    else if (op === "insert") b.splice(i, 0, byte);
    else b.splice(i, 1);
  }
  return Uint8Array.from(b);
});

Deno.test("parser property: any bytes give a head, null or an HttpHeadError, never another error", () => {
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    mutatedHead,
    fc.string({ unit: fc.constantFrom(..."GET /HTP1.\r\n: Hostax"), maxLength: 80 }).map((s) =>
      enc.encode(s)
    ),
  );
  fc.assert(
    fc.property(anyBytes, cuts, (b, at) => {
      const parser = new RequestHeadParser({ maxRequestLineBytes: 64, maxHeadBytes: 128 });
      const ends = [...new Set([...at.map((c) => c % (b.length + 1)), b.length])].sort((x, y) =>
        x - y
      );
      try {
        for (const end of ends) {
          const head = parser.parse(b.subarray(0, end));
          if (head !== null) {
            assert.ok(head.byteLength <= end && head.byteLength <= 128);
            assert.ok(["HTTP/1.1", "HTTP/1.0"].includes(head.version));
            break;
          }
        }
      } catch (err) {
        if (!(err instanceof HttpHeadError)) throw err;
        assert.ok([400, 414, 431, 501, 505].includes(err.status));
      }
    }),
    { numRuns: 2000, seed: 20261202 },
  );
});
