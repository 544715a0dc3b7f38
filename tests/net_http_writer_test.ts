// The response writer of lib/net against an in-memory sink: framing for each
// kind of body (known length, declared length, chunked, close-delimited), no
// body for HEAD/204/304, the 101 head as given, the Connection field, header
// bytes, and partial writes.
import assert from "node:assert/strict";
import { writeResponse, type WriteResponseOptions } from "../lib/net/http_response_writer.ts";

/** A sink that takes at most `step` bytes per write and records them. */
function sink(step = Infinity) {
  const parts: Uint8Array[] = [];
  return {
    writes: 0,
    write(p: Uint8Array): Promise<number> {
      this.writes++;
      const n = Math.min(p.length, step);
      parts.push(p.slice(0, n));
      return Promise.resolve(n);
    },
    bytes(): Uint8Array {
      const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    },
    /** The output, one character per byte. */
    text(): string {
      return String.fromCharCode(...this.bytes());
    },
  };
}

/** Status line, fields (name → value) and body of written text. */
function split(text: string): { status: string; fields: Map<string, string>; body: string } {
  const end = text.indexOf("\r\n\r\n");
  assert.ok(end > 0, "no blank line after the head");
  const [status, ...lines] = text.slice(0, end).split("\r\n");
  const fields = new Map(
    lines.map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]),
  );
  return { status, fields, body: text.slice(end + 4) };
}

async function write(res: Response, options?: WriteResponseOptions, step?: number) {
  const s = sink(step);
  const reusable = await writeResponse(s, res, options);
  return { ...split(s.text()), reusable, writes: s.writes };
}

/** A stream of `chunks` that waits a macrotask before each (so its length is not known up front). */
function slowStream(chunks: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(ctl) {
      await new Promise((r) => setTimeout(r, 0));
      if (i === chunks.length) ctl.close();
      else ctl.enqueue(new TextEncoder().encode(chunks[i++]));
    },
  });
}

/** A stream that records whether it was cancelled. */
function watchedStream(): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull: () => new Promise(() => {}),
    cancel: () => {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

Deno.test("writer: a string body goes out whole with Content-Length, head and body in one write", async () => {
  const out = await write(new Response("hello", { headers: { "x-a": "1" } }));
  assert.equal(out.status, "HTTP/1.1 200 OK");
  assert.equal(out.fields.get("content-length"), "5");
  assert.equal(out.fields.get("x-a"), "1");
  assert.ok(out.fields.has("date"));
  assert.equal(out.fields.has("connection"), false);
  assert.equal(out.body, "hello");
  assert.equal(out.writes, 1);
  assert.equal(out.reusable, true);
  // JSON and bytes too; a large one in two writes.
  assert.equal((await write(Response.json({ a: 1 }))).fields.get("content-length"), "7");
  const big = await write(new Response(new Uint8Array(100_000).fill(0x61)));
  assert.equal(big.fields.get("content-length"), "100000");
  assert.equal(big.body.length, 100_000);
});

Deno.test("writer: a stream is chunked, with exact framing; empty chunks are skipped", async () => {
  const out = await write(new Response(slowStream(["ab", "", "cde"])));
  assert.equal(out.fields.get("transfer-encoding"), "chunked");
  assert.equal(out.fields.has("content-length"), false);
  assert.equal(out.body, "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
  assert.equal(out.reusable, true);
});

Deno.test("writer: to an HTTP/1.0 client a stream ends by closing, and keep-alive is echoed otherwise", async () => {
  const stream = await write(new Response(slowStream(["ab", "cd"])), { version: "HTTP/1.0" });
  assert.equal(stream.fields.has("transfer-encoding"), false);
  assert.equal(stream.fields.get("connection"), "close");
  assert.equal(stream.body, "abcd");
  assert.equal(stream.reusable, false);
  const fixed = await write(new Response("x"), { version: "HTTP/1.0" });
  assert.equal(fixed.fields.get("connection"), "keep-alive");
  assert.equal(fixed.reusable, true);
});

Deno.test("writer: a declared Content-Length is streamed, and a stream that disagrees fails", async () => {
  const ok = await write(
    new Response(slowStream(["abc", "de"]), { headers: { "content-length": "5" } }),
  );
  assert.equal(ok.fields.get("content-length"), "5");
  assert.equal(ok.fields.has("transfer-encoding"), false);
  assert.equal(ok.body, "abcde");
  for (const length of ["4", "6"]) {
    await assert.rejects(
      writeResponse(
        sink(),
        new Response(slowStream(["abc", "de"]), { headers: { "content-length": length } }),
      ),
      new RegExp(`Content-Length ${length}`),
    );
  }
});

Deno.test("writer: HEAD, 204 and 304 carry no body; an unsent body is cancelled", async () => {
  const head = await write(new Response("hello"), { head: true });
  assert.equal(head.fields.get("content-length"), "5");
  assert.equal(head.body, "");
  const watched = watchedStream();
  const headStream = await write(new Response(watched.stream), { head: true });
  assert.equal(headStream.fields.has("content-length"), false);
  assert.equal(headStream.body, "");
  assert.equal(watched.cancelled(), true);
  const declared = await write(new Response(null, { headers: { "content-length": "42" } }), {
    head: true,
  });
  assert.equal(declared.fields.get("content-length"), "42");
  const noContent = await write(new Response(null, { status: 204 }));
  assert.equal(noContent.status, "HTTP/1.1 204 No Content");
  assert.equal(noContent.fields.has("content-length"), false);
  assert.equal(noContent.body, "");
  const nm = await write(new Response(null, { status: 304, headers: { etag: '"x"' } }));
  assert.equal(nm.status, "HTTP/1.1 304 Not Modified");
  assert.equal(nm.fields.get("etag"), '"x"');
  assert.equal(nm.fields.has("content-length"), false);
  assert.equal(nm.body, "");
});

Deno.test("writer: the writer owns framing fields; close says so", async () => {
  const res = new Response("x", {
    headers: { connection: "keep-alive", "transfer-encoding": "gzip", "keep-alive": "timeout=5" },
  });
  const out = await write(res, { close: true });
  assert.equal(out.fields.get("connection"), "close");
  assert.equal(out.fields.has("transfer-encoding"), false);
  assert.equal(out.fields.has("keep-alive"), false);
  assert.equal(out.fields.get("content-length"), "1");
  assert.equal(out.reusable, false);
});

Deno.test("writer: a 101 head is written as given, with nothing after it", async () => {
  const out = await write(
    new Response(null, { status: 101, headers: { upgrade: "websocket", connection: "Upgrade" } }),
  );
  assert.equal(out.status, "HTTP/1.1 101 Switching Protocols");
  assert.deepEqual([...out.fields], [["connection", "Upgrade"], ["upgrade", "websocket"]]);
  assert.equal(out.body, "");
});

Deno.test("writer: header values are written byte for byte (ISO-8859-1), partial writes are completed", async () => {
  const out = await write(new Response("body", { headers: { "x-name": "caf\u00e9" } }), {}, 3);
  assert.equal(out.fields.get("x-name"), "caf\xe9");
  assert.equal(out.body, "body");
  assert.ok(out.writes > 10);
});

Deno.test("writer: a body stream that fails rejects the write", async () => {
  let i = 0;
  const failing = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      await new Promise((r) => setTimeout(r, 0));
      if (i++ === 0) ctl.enqueue(new Uint8Array([0x61]));
      else ctl.error(new Error("disk gone"));
    },
  });
  await assert.rejects(writeResponse(sink(), new Response(failing)), /disk gone/);
});
