// The HTTP/1.1 server of lib/net over real sockets on 127.0.0.1: keep-alive
// and pipelining, HEAD, streamed responses, request bodies and their limit,
// malformed requests (status, then closed), header and idle timeouts, the
// connection cap, the protocol switch after 101, handler failures, HTTP/1.0
// and shutdown. No timing thresholds: timeouts are asserted by what gets
// closed and counted, never by how fast.
import assert from "node:assert/strict";
import { claimConnection } from "../lib/net/connection_claim.ts";
import { type HttpServer, serveHttp, type ServeHttpOptions } from "../lib/net/http_server.ts";
import { RawHttpClient } from "./fixtures/raw_http_client.ts";

/** A logger that keeps its lines (the server logs handler failures). */
function captureLog(): {
  lines: string[];
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
} {
  const lines: string[] = [];
  const put = (...a: unknown[]) =>
    lines.push(a.map((x) => x instanceof Error ? x.message : String(x)).join(" "));
  return { lines, warn: put, error: put };
}

/** Run `fn` against a server on 127.0.0.1 with `handler`; shut it down after. */
async function withServer(
  options: ServeHttpOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  fn: (server: HttpServer, port: number) => Promise<void>,
): Promise<void> {
  const server = serveHttp(
    { hostname: "127.0.0.1", port: 0, log: captureLog(), ...options },
    handler,
  );
  try {
    await fn(server, server.addr.port);
  } finally {
    await server.shutdown();
  }
}

/** Wait until `cond` holds, polling; fails after 30 s (a hang guard, not a speed check). */
async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Echoes method, URL, body length and the client's address. */
const echo: Deno.ServeHandler<Deno.NetAddr> = async (req, info) => {
  const body = req.body ? new Uint8Array(await req.arrayBuffer()) : new Uint8Array(0);
  const sum = body.reduce((s, b) => (s + b) % 65536, 0);
  return Response.json({
    method: req.method,
    url: req.url,
    length: body.length,
    sum,
    remote: `${info.remoteAddr.hostname}:${info.remoteAddr.port}`,
  });
};

Deno.test("http server: keep-alive and pipelined requests on one connection, in order", async () => {
  await withServer({}, echo, async (server, port) => {
    const c = await RawHttpClient.connect(port);
    try {
      // Three requests in one write, a body among them, then one more after the answers.
      await c.send(
        "GET /a?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" +
          "HEAD /b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" +
          "POST /c HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nxyz",
      );
      const a = await c.response();
      assert.equal(a?.status, 200);
      assert.equal(JSON.parse(a.text).url, "http://127.0.0.1/a?x=1");
      const b = await c.response(true);
      assert.equal(b?.status, 200);
      assert.equal(b.body.length, 0);
      // HEAD announces the length GET would have sent.
      const getB = JSON.stringify({
        method: "HEAD",
        url: "http://127.0.0.1/b",
        length: 0,
        sum: 0,
        remote: `127.0.0.1:${c.conn.localAddr.port}`,
      });
      assert.equal(b.headers.find(([n]) => n === "content-length")?.[1], String(getB.length));
      const post = await c.response();
      assert.deepEqual(JSON.parse(post!.text), {
        method: "POST",
        url: "http://127.0.0.1/c",
        length: 3,
        sum: 0x78 + 0x79 + 0x7a,
        remote: `127.0.0.1:${c.conn.localAddr.port}`,
      });
      await c.send("GET /d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assert.equal(JSON.parse((await c.response())!.text).url, "http://127.0.0.1/d");
      assert.equal(server.counters.accepted, 1);
      assert.equal(server.counters.requests, 4);
      assert.equal(server.counters.open, 1);
    } finally {
      c.close();
    }
  });
});

Deno.test("http server: fetch keeps its connection alive across requests", async () => {
  await withServer({}, echo, async (server, port) => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/n${i}`, { method: "POST", body: "abc" });
      assert.equal((await res.json()).length, 3);
    }
    assert.equal(server.counters.accepted, 1);
  });
});

Deno.test("http server: string bodies get Content-Length; streams are chunked and not buffered", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const handler = (req: Request) => {
    if (new URL(req.url).pathname === "/text") return new Response("hello");
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        if (sent === 1) await gate; // the second chunk waits for the client to have the first
        if (sent === 3) return ctl.close();
        ctl.enqueue(new TextEncoder().encode(`data: ${sent++}\n\n`));
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  };
  await withServer({}, handler, async (_server, port) => {
    const text = await fetch(`http://127.0.0.1:${port}/text`);
    assert.equal(text.headers.get("content-length"), "5");
    assert.equal(await text.text(), "hello");

    const res = await fetch(`http://127.0.0.1:${port}/events`);
    assert.equal(res.headers.get("transfer-encoding"), "chunked");
    assert.equal(res.headers.get("content-length"), null);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "data: 0\n\n");
    release();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    assert.equal(rest, "data: 1\n\ndata: 2\n\n");
  });
});

Deno.test("http server: request bodies by Content-Length, 100-continue, and 413 over the limit", async () => {
  await withServer({ maxBodyBytes: 1000 }, echo, async (server, port) => {
    // A body in pieces.
    const c = await RawHttpClient.connect(port);
    try {
      await c.send("PUT /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n");
      for (let i = 0; i < 4; i++) {
        await sleep(5);
        await c.send(new Uint8Array(250).fill(1));
      }
      assert.equal(JSON.parse((await c.response())!.text).length, 1000);
      // Expect: 100-continue gets its interim answer before the body is sent.
      await c.send(
        "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
      );
      assert.equal((await c.response())?.status, 100);
      await c.send("hi");
      assert.equal(JSON.parse((await c.response())!.text).length, 2);
    } finally {
      c.close();
    }
    // Over the limit: 413 and closed, without reading the body.
    const big = await RawHttpClient.connect(port);
    try {
      await big.send("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n");
      const res = await big.response();
      assert.equal(res?.status, 413);
      assert.match(res.text, /1001 bytes is over the limit of 1000/);
      assert.equal(res.headers.find(([n]) => n === "connection")?.[1], "close");
      assert.equal(await big.closed(), true);
    } finally {
      big.close();
    }
    assert.equal(server.counters.badRequests[413], 1);
    assert.equal(server.counters.requests, 2);
  });
});

/** Malformed requests over a socket: each gets its status, then the connection is closed. */
const MALFORMED: Array<[name: string, text: string, status: 400 | 414 | 431 | 501 | 505]> = [
  ["bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400],
  ["no Host", "GET / HTTP/1.1\r\n\r\n", 400],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400],
  ["NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: \0\r\n\r\n", 400],
  [
    "conflicting Content-Length",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    400,
  ],
  [
    "smuggling: CL and TE",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    501,
  ],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
  ["request line too long", `GET /${"a".repeat(300)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
  ["head too large", `GET / HTTP/1.1\r\nHost: a\r\nX: ${"v".repeat(1000)}\r\n\r\n`, 431],
  ["too many fields", `GET / HTTP/1.1\r\nHost: a\r\n${"X: 1\r\n".repeat(10)}\r\n`, 431],
  ["TRACE", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", 501],
];

Deno.test("http server: malformed requests get their status and the connection is closed", async () => {
  const limits = { maxRequestLineBytes: 256, maxHeadBytes: 512, maxHeaders: 8 };
  let calls = 0;
  await withServer(limits, () => (calls++, new Response("no")), async (server, port) => {
    const expected = { 400: 0, 413: 0, 414: 0, 431: 0, 501: 0, 505: 0 };
    for (const [name, text, status] of MALFORMED) {
      const c = await RawHttpClient.connect(port);
      try {
        await c.send(text);
        const res = await c.response();
        assert.equal(res?.status, status, name);
        assert.ok(
          res.text.length > 1 && res.text.endsWith("\n") && !res.text.includes(" at "),
          name,
        );
        assert.equal(await c.closed(), true, name);
      } finally {
        c.close();
      }
      expected[status]++;
    }
    assert.deepEqual(server.counters.badRequests, expected);
    assert.equal(calls, 0);
  });
});

Deno.test("http server: a slowloris head never gets past headersTimeoutMs; a silent connection neither", async () => {
  let calls = 0;
  await withServer(
    { headersTimeoutMs: 1000 },
    () => (calls++, new Response("ok")),
    async (server, port) => {
      const silent = await RawHttpClient.connect(port);
      const slow = await RawHttpClient.connect(port);
      try {
        await slow.send("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");
        let closed = false;
        const watching = slow.closed().then(() => closed = true);
        // One byte every 200 ms; the head would need a blank line it never gets.
        // (At most 150 bytes: 30 s, a hang guard.)
        let sent = 0;
        while (!closed && sent < 150) {
          try {
            await slow.send("z");
            sent++;
          } catch {
            break; // the server closed (a reset may come before the end of stream)
          }
          await sleep(200);
        }
        await watching;
        assert.ok(sent > 0 && sent < 150, `the server closed after ${sent} bytes`);
        assert.equal(await silent.closed(), true);
        await until("no open connections", () => server.counters.open === 0);
        assert.equal(server.counters.closedHeadersTimeout, 2);
        assert.equal(calls, 0);
      } finally {
        silent.close();
        slow.close();
      }
    },
  );
});

Deno.test("http server: an idle keep-alive connection is closed after idleTimeoutMs", async () => {
  await withServer({ idleTimeoutMs: 300 }, () => new Response("ok"), async (server, port) => {
    const c = await RawHttpClient.connect(port);
    try {
      await c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal((await c.response())?.text, "ok");
      assert.equal(await c.closed(), true);
      await until("no open connections", () => server.counters.open === 0);
      assert.equal(server.counters.closedIdleTimeout, 1);
      assert.equal(server.counters.closedHeadersTimeout, 0);
    } finally {
      c.close();
    }
  });
});

Deno.test("http server: a client that stops reading is closed after writeTimeoutMs; its stream is cancelled", async () => {
  let cancelled = false;
  const chunk = new Uint8Array(65536).fill(0x61);
  const endless = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async pull(ctl) {
          await sleep(0);
          ctl.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      }),
    );
  await withServer({ writeTimeoutMs: 500 }, endless, async (server, port) => {
    const c = await RawHttpClient.connect(port);
    try {
      await c.send("GET /endless HTTP/1.1\r\nHost: a\r\n\r\n");
      // Never read: the socket buffers fill, the write stalls, the sweeper closes.
      await until("the stalled connection to close", () => server.counters.open === 0);
      assert.equal(server.counters.closedWriteTimeout, 1);
      await until("the body stream to be cancelled", () => cancelled);
    } finally {
      c.close();
    }
  });
});

Deno.test("http server: over maxConnections a connection gets 503; once one closes, new ones are served", async () => {
  await withServer({ maxConnections: 2 }, () => new Response("ok"), async (server, port) => {
    const a = await RawHttpClient.connect(port);
    const b = await RawHttpClient.connect(port);
    try {
      for (const c of [a, b]) {
        await c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert.equal((await c.response())?.text, "ok");
      }
      const over = await RawHttpClient.connect(port);
      try {
        const res = await over.response();
        assert.equal(res?.status, 503);
        const header = (n: string) => res.headers.find(([k]) => k === n)?.[1];
        assert.equal(header("retry-after"), "1");
        assert.equal(header("connection"), "close");
        assert.equal(await over.closed(), true);
      } finally {
        over.close();
      }
      assert.equal(server.counters.refusedOverCap, 1);
      assert.equal(server.counters.open, 2);
      a.close();
      await until("one open connection", () => server.counters.open === 1);
      const again = await RawHttpClient.connect(port);
      try {
        await again.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert.equal((await again.response())?.text, "ok");
      } finally {
        again.close();
      }
    } finally {
      a.close();
      b.close();
    }
  });
});

Deno.test("http server: a claim answered 101 hands over the raw connection with the bytes read past the head", async () => {
  let ownerDone = false;
  const leftovers: string[] = [];
  let refused = 0;
  const handler = (req: Request) => {
    const claimed = claimConnection(req, {
      switched: ({ conn, leftover, release }) => {
        leftovers.push(new TextDecoder().decode(leftover));
        // A toy protocol: answer what was left over, echo until the client
        // closes, then close and release.
        void (async () => {
          await conn.write(new TextEncoder().encode(`ECHO:${new TextDecoder().decode(leftover)};`));
          const buf = new Uint8Array(64);
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
            await conn.write(buf.subarray(0, n));
          }
          conn.close();
          release();
          release(); // idempotent
          ownerDone = true;
        })();
      },
      refused: () => refused++,
    });
    assert.equal(claimed, true);
    if (new URL(req.url).pathname === "/no") return new Response("not switching", { status: 400 });
    return new Response(null, { status: 101, headers: { upgrade: "toy", connection: "Upgrade" } });
  };
  const options = { idleTimeoutMs: 200, headersTimeoutMs: 200, maxConnections: 1 };
  await withServer(options, handler, async (server, port) => {
    const c = await RawHttpClient.connect(port);
    try {
      await c.send(
        "GET /toy HTTP/1.1\r\nHost: a\r\nUpgrade: toy\r\nConnection: Upgrade\r\n\r\nhello",
      );
      const res = await c.response();
      assert.equal(res?.status, 101);
      assert.deepEqual(res.headers, [["connection", "Upgrade"], ["upgrade", "toy"]]);
      assert.equal(await c.readUntil(";"), "ECHO:hello;");
      assert.equal(leftovers[0], "hello");
      // Past the HTTP timeouts, the connection is the owner's and still open.
      await sleep(600);
      await c.send("ping");
      assert.equal(await c.readUntil("ping"), "ECHO:hello;ping");
      assert.equal(server.counters.open, 1);
      assert.equal(server.counters.switched, 1);
      assert.equal(server.counters.closedIdleTimeout + server.counters.closedHeadersTimeout, 0);
      // The handed-over connection fills the cap of 1.
      const over = await RawHttpClient.connect(port);
      try {
        assert.equal((await over.response())?.status, 503);
      } finally {
        over.close();
      }
      // It counts against the cap until its owner releases it.
      c.close();
      await until("the owner to release the connection", () => ownerDone);
      assert.equal(server.counters.open, 0);
      assert.equal(server.counters.switched, 0);
    } finally {
      c.close();
    }
    // A claim answered otherwise is refused and the response goes out as usual.
    const no = await fetch(`http://127.0.0.1:${port}/no`);
    assert.equal(no.status, 400);
    assert.equal(await no.text(), "not switching");
    assert.equal(refused, 1);
  });
});

Deno.test("http server: a handler that throws gets a 500 without a stack trace; the server keeps serving", async () => {
  const log = captureLog();
  const handler = (req: Request): Response => {
    const path = new URL(req.url).pathname;
    if (path === "/throw") throw new Error("secret internals");
    if (path === "/wrong") return "not a response" as unknown as Response;
    return new Response("fine");
  };
  await withServer({ log }, handler, async (server, port) => {
    const res = await fetch(`http://127.0.0.1:${port}/throw`);
    assert.equal(res.status, 500);
    const body = await res.text();
    assert.equal(body, "Internal Server Error\n");
    assert.ok(log.lines.some((l) => l.includes("secret internals")));
    const wrong = await fetch(`http://127.0.0.1:${port}/wrong`);
    assert.equal(wrong.status, 500);
    await wrong.body?.cancel();
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "fine");
    assert.equal(server.counters.handlerErrors, 2);
  });
  // onError makes the response.
  await withServer(
    { onError: (err) => new Response(`sorry: ${(err as Error).name}`, { status: 502 }) },
    () => {
      throw new TypeError("x");
    },
    async (_server, port) => {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(res.status, 502);
      assert.equal(await res.text(), "sorry: TypeError");
    },
  );
});

Deno.test("http server: HTTP/1.0 closes unless keep-alive is asked; its streams end by closing", async () => {
  const handler = (req: Request) =>
    new URL(req.url).pathname === "/stream"
      ? new Response(
        new ReadableStream({
          async pull(ctl) {
            await sleep(1);
            ctl.enqueue(new TextEncoder().encode("part;"));
            ctl.close();
          },
        }),
      )
      : new Response("ten bytes!");
  await withServer({}, handler, async (_server, port) => {
    const plain = await RawHttpClient.connect(port);
    try {
      await plain.send("GET / HTTP/1.0\r\n\r\n");
      const res = await plain.response();
      assert.equal(res?.text, "ten bytes!");
      assert.equal(res.headers.find(([n]) => n === "connection")?.[1], "close");
      assert.equal(await plain.closed(), true);
    } finally {
      plain.close();
    }
    const keep = await RawHttpClient.connect(port);
    try {
      await keep.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const res = await keep.response();
      assert.equal(res?.headers.find(([n]) => n === "connection")?.[1], "keep-alive");
      await keep.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      const stream = await keep.response();
      assert.equal(stream?.headers.find(([n]) => n === "transfer-encoding"), undefined);
      assert.equal(stream?.text, "part;");
      assert.equal(await keep.closed(), true);
    } finally {
      keep.close();
    }
  });
});

Deno.test("http server: shutdown closes idle connections, lets a request in flight finish, then resolves", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let started!: () => void;
  const running = new Promise<void>((r) => started = r);
  const server = serveHttp({ hostname: "127.0.0.1", port: 0, log: captureLog() }, async () => {
    started();
    await gate;
    return new Response("done");
  });
  const idle = await RawHttpClient.connect(server.addr.port);
  const busy = await RawHttpClient.connect(server.addr.port);
  try {
    await busy.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    await running;
    let finished = false;
    const shut = server.shutdown().then(() => finished = true);
    assert.equal(await idle.closed(), true);
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }));
    assert.equal(finished, false);
    release();
    const res = await busy.response();
    assert.equal(res?.text, "done");
    assert.equal(res.headers.find(([n]) => n === "connection")?.[1], "close");
    assert.equal(await busy.closed(), true);
    await shut;
    await server.finished;
    assert.equal(server.counters.open, 0);
  } finally {
    idle.close();
    busy.close();
  }
});
