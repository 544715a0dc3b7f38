import assert from "node:assert/strict";
import { AttemptLimiter } from "../lib/ingest/attempt_limiter.ts";
import { Backoff } from "../lib/pipeline/backoff.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { StreamConnection } from "../lib/ingest/stream_connection.ts";

/** One WebSocket accepted by the test server. */
interface ServerConn {
  index: number;
  url: URL;
  socket: WebSocket;
  openedAt: number;
  closedAt: number;
  /** True if the client closed first (the server saw a close it did not start). */
  closedByClient: boolean;
  serverClosing: boolean;
  /** Time the server sent its first data frame on this connection. */
  firstSentAt: number;
}

/** A scripted combined-stream server on 127.0.0.1. */
class WsServer {
  readonly conns: ServerConn[] = [];
  #server: Deno.HttpServer<Deno.NetAddr>;
  #closed: Promise<void>[] = [];

  constructor(onOpen: (conn: ServerConn) => void = () => {}) {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      const conn: ServerConn = {
        index: this.conns.length,
        url: new URL(req.url),
        socket,
        openedAt: 0,
        closedAt: 0,
        closedByClient: false,
        serverClosing: false,
        firstSentAt: 0,
      };
      this.conns.push(conn);
      this.#closed.push(
        new Promise((resolve) => {
          socket.onclose = () => {
            conn.closedAt = performance.now();
            conn.closedByClient = !conn.serverClosing;
            resolve();
          };
        }),
      );
      socket.onerror = (e) => e.preventDefault();
      socket.onopen = () => {
        conn.openedAt = performance.now();
        onOpen(conn);
      };
      return response;
    });
  }

  get baseUrl(): string {
    return `ws://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Sends a text frame if the socket is open. */
  send(conn: ServerConn, text: string | Uint8Array<ArrayBuffer>): void {
    if (conn.socket.readyState !== WebSocket.OPEN) return;
    if (conn.firstSentAt === 0) conn.firstSentAt = performance.now();
    conn.socket.send(text);
  }

  closeConn(conn: ServerConn): void {
    conn.serverClosing = true;
    if (conn.socket.readyState <= WebSocket.OPEN) conn.socket.close();
  }

  async close(): Promise<void> {
    for (const conn of this.conns) this.closeConn(conn);
    await Promise.all(this.#closed);
    await this.#server.shutdown();
  }
}

/**
 * Sends an increasing sequence number every `periodMs` to every open connection,
 * like an exchange that feeds every connection the same stream.
 */
class Broadcaster {
  seq = 0;
  #timer: ReturnType<typeof setInterval>;
  constructor(
    server: WsServer,
    periodMs: number,
    skip: (conn: ServerConn) => boolean = () => false,
  ) {
    this.#timer = setInterval(() => {
      this.seq++;
      const text = `{"stream":"btcusdt@depth20@100ms","data":{"lastUpdateId":${this.seq}}}`;
      for (const conn of server.conns) {
        if (!skip(conn)) server.send(conn, text);
      }
    }, periodMs);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Wait until `cond` holds; the timeout only guards against a hang. */
async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function seqOf(text: string): number {
  return JSON.parse(text).data.lastUpdateId;
}

/** Asserts every number from the first to the last delivered was delivered at least once. */
function assertNoGap(seqs: number[]): void {
  assert.ok(seqs.length > 0, "no message delivered");
  const seen = new Set(seqs);
  const max = Math.max(...seqs);
  for (let s = seqs[0]; s <= max; s++) assert.ok(seen.has(s), `message ${s} lost`);
}

const fastBackoff = () => new Backoff({ baseMs: 20, capMs: 40 });
/**
 * Tests about anything but staleness use this staleMs, so that a busy
 * machine's scheduling pauses never make a connection look stale.
 */
const NEVER_STALE = 600_000;

Deno.test("StreamConnection: builds the combined-stream URL and delivers stamped messages", async () => {
  const server = new WsServer((conn) => {
    server.send(conn, '{"stream":"a@depth20","data":{}}');
    server.send(conn, '{"stream":"b@depth20","data":{}}');
  });
  const received: [string, number][] = [];
  const states: FeedState[] = [];
  const before = performance.timeOrigin + performance.now();
  const conn = new StreamConnection({
    baseUrl: server.baseUrl + "/",
    streams: ["a@depth20", "b@depth20"],
    staleMs: NEVER_STALE,
    onMessage: (text, at) => received.push([text, at]),
    onStateChange: (s) => states.push(s),
  });
  assert.equal(conn.url, `${server.baseUrl}/stream?streams=a@depth20/b@depth20`);
  assert.equal(conn.state, FeedState.Connecting);
  conn.start();
  try {
    await waitFor("two messages", () => received.length === 2);
    assert.equal(server.conns[0].url.pathname, "/stream");
    assert.equal(server.conns[0].url.searchParams.get("streams"), "a@depth20/b@depth20");
    assert.equal(received[0][0], '{"stream":"a@depth20","data":{}}');
    assert.equal(received[1][0], '{"stream":"b@depth20","data":{}}');
    const after = performance.timeOrigin + performance.now();
    for (const [, at] of received) assert.ok(at >= before && at <= after, `stamp ${at}`);
    assert.ok(received[1][1] >= received[0][1]);
    assert.deepEqual(states, [FeedState.Live]);
    assert.equal(conn.state, FeedState.Live);
    assert.equal(conn.attempts, 1);
    assert.equal(conn.connects, 1);
    assert.equal(conn.messages, 2);
    assert.equal(conn.bytes, received[0][0].length + received[1][0].length);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: reconnects with backoff after the server closes", async () => {
  const server = new WsServer((c) => {
    server.send(c, `{"stream":"x","data":{"conn":${c.index}}}`);
    if (c.index === 0) setTimeout(() => server.closeConn(c), 20);
  });
  const texts: string[] = [];
  const states: FeedState[] = [];
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    staleMs: NEVER_STALE,
    backoff: fastBackoff(),
    onMessage: (t) => texts.push(t),
    onStateChange: (s) => states.push(s),
  });
  conn.start();
  try {
    await waitFor("second connection delivers", () => texts.length === 2);
    assert.deepEqual(texts, [
      '{"stream":"x","data":{"conn":0}}',
      '{"stream":"x","data":{"conn":1}}',
    ]);
    assert.deepEqual(states, [FeedState.Live, FeedState.Connecting, FeedState.Live]);
    assert.equal(server.conns.length, 2);
    assert.ok(server.conns[1].openedAt >= server.conns[0].closedAt);
    assert.equal(conn.attempts, 2);
    assert.equal(conn.connects, 2);
    assert.equal(conn.reconnects, 1);
    assert.equal(conn.staleEvents, 0);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: keeps retrying while the server refuses, then recovers", async () => {
  // The first three connections are closed immediately without data.
  const server = new WsServer((c) => {
    if (c.index < 3) server.closeConn(c);
    else server.send(c, '{"stream":"x","data":{}}');
  });
  const states: FeedState[] = [];
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    staleMs: NEVER_STALE,
    backoff: new Backoff({ baseMs: 5, capMs: 20 }),
    onMessage: () => {},
    onStateChange: (s) => states.push(s),
  });
  conn.start();
  try {
    await waitFor("live", () => conn.state === FeedState.Live);
    assert.equal(conn.attempts, 4);
    assert.equal(conn.reconnects, 3);
    assert.deepEqual(states, [FeedState.Live]);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: a silent but open connection goes stale and is replaced", async () => {
  let first = true;
  const server = new WsServer((c) => {
    if (c.index === 0) {
      // Two frames, then silence with the socket left open.
      server.send(c, '{"stream":"x","data":{"n":1}}');
      server.send(c, '{"stream":"x","data":{"n":2}}');
    } else {
      server.send(c, '{"stream":"x","data":{"n":3}}');
    }
  });
  const states: FeedState[] = [];
  let lastMessageAt = 0;
  let staleAt = 0;
  // What the connection reported when the replacement's frame arrived (the
  // replacement goes silent too afterwards, and goes stale in its turn).
  let atThird:
    | { states: FeedState[]; staleEvents: number; reconnects: number; conns: number }
    | undefined;
  const conn: StreamConnection = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    staleMs: 100,
    backoff: fastBackoff(),
    onMessage: (_t, at) => {
      if (first) lastMessageAt = at;
      else if (atThird === undefined) {
        atThird = {
          states: [...states],
          staleEvents: conn.staleEvents,
          reconnects: conn.reconnects,
          conns: server.conns.length,
        };
      }
    },
    onStateChange: (s) => {
      states.push(s);
      if (s === FeedState.Stale && first) {
        staleAt = performance.timeOrigin + performance.now();
        first = false;
      }
    },
  });
  conn.start();
  try {
    await waitFor("replacement delivers", () => atThird !== undefined);
    assert.deepEqual(atThird!.states, [FeedState.Live, FeedState.Stale, FeedState.Live]);
    assert.ok(staleAt - lastMessageAt >= 100, `stale after ${staleAt - lastMessageAt} ms`);
    assert.equal(atThird!.staleEvents, 1);
    assert.equal(atThird!.reconnects, 1);
    assert.equal(atThird!.conns, 2);
    await waitFor("client closes the stale socket", () => server.conns[0].closedAt > 0);
    assert.equal(server.conns[0].closedByClient, true);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: serverShutdown opens the replacement before closing the old one, no gap", async () => {
  let broadcaster: Broadcaster | undefined;
  const server = new WsServer((c) => {
    if (c.index === 0) {
      setTimeout(() => {
        server.send(c, '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}');
      }, 60);
    }
  });
  broadcaster = new Broadcaster(server, 4);
  const seqs: number[] = [];
  const states: FeedState[] = [];
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["btcusdt@depth20@100ms"],
    staleMs: NEVER_STALE,
    backoff: fastBackoff(),
    onMessage: (t) => seqs.push(seqOf(t)),
    onStateChange: (s) => states.push(s),
  });
  conn.start();
  try {
    await waitFor("rollover", () => conn.rollovers === 1);
    const afterSwitch = seqs.length;
    await waitFor("more frames on the new connection", () => seqs.length >= afterSwitch + 5);
    broadcaster.stop();
    broadcaster = undefined;
    assert.equal(conn.serverShutdowns, 1);
    assert.equal(conn.reconnects, 0);
    assert.deepEqual(states, [FeedState.Live]);
    assert.equal(server.conns.length, 2);
    const [old, replacement] = server.conns;
    await waitFor("old socket closed", () => old.closedAt > 0);
    assert.ok(replacement.openedAt > 0 && replacement.openedAt < old.closedAt);
    assert.ok(replacement.firstSentAt <= old.closedAt, "old closed before the new one sent data");
    assert.equal(old.closedByClient, true);
    assertNoGap(seqs);
    assert.ok(seqs.every((s) => Number.isInteger(s)), "the shutdown notice is not delivered");
  } finally {
    broadcaster?.stop();
    await conn.close();
    await server.close();
  }
});

Deno.test('StreamConnection: raw {"e":"serverShutdown"} is recognised too', async () => {
  const server = new WsServer((c) => {
    server.send(c, '{"stream":"x","data":{}}');
    if (c.index === 0) server.send(c, '{"e":"serverShutdown","E":1}');
  });
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    onMessage: () => {},
  });
  conn.start();
  try {
    await waitFor("rollover", () => conn.rollovers === 1);
    assert.equal(conn.serverShutdowns, 1);
    assert.equal(conn.messages, 2);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: lifetime rollover switches connections without a gap", async () => {
  const server = new WsServer();
  let broadcaster: Broadcaster | undefined = new Broadcaster(server, 4);
  const seqs: number[] = [];
  const states: FeedState[] = [];
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["btcusdt@depth20@100ms"],
    maxLifetimeMs: 120,
    staleMs: NEVER_STALE,
    backoff: fastBackoff(),
    onMessage: (t) => seqs.push(seqOf(t)),
    onStateChange: (s) => states.push(s),
  });
  const startedAt = performance.now();
  conn.start();
  try {
    await waitFor("two rollovers", () => conn.rollovers >= 2);
    broadcaster.stop();
    broadcaster = undefined;
    assert.ok(performance.now() - startedAt >= 240);
    assert.equal(conn.serverShutdowns, 0);
    assert.equal(conn.reconnects, 0);
    assert.deepEqual(states, [FeedState.Live]);
    assert.ok(server.conns.length >= 3);
    const [c0, c1] = server.conns;
    await waitFor("first socket closed", () => c0.closedAt > 0);
    assert.ok(c1.openedAt < c0.closedAt);
    assert.equal(c0.closedByClient, true);
    assertNoGap(seqs);
  } finally {
    broadcaster?.stop();
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: the attempt limiter blocks attempts past the limit", async () => {
  // Every connection is closed at once, so the client keeps retrying. The
  // limiter's clock is the test's: the window stays full until the test moves
  // the clock past it, however long the machine takes.
  const server = new WsServer((c) => server.closeConn(c));
  let clock = 0;
  const limiter = new AttemptLimiter({ maxAttempts: 2, windowMs: 300, now: () => clock });
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    backoff: new Backoff({ baseMs: 1, capMs: 1 }),
    limiter,
    onMessage: () => {},
  });
  conn.start();
  try {
    // Deferred twice: the retry after the limiter's wait found the window still full.
    await waitFor("limited twice", () => conn.limitedAttempts >= 2);
    assert.equal(conn.attempts, 2, "no attempt while the window is full");
    assert.equal(server.conns.length, 2);
    clock = 300; // both attempts leave the window: room for two more, then full again
    await waitFor("limited again", () => conn.limitedAttempts >= 3);
    assert.equal(conn.attempts, 4);
    assert.equal(server.conns.length, 4);
    assert.ok(limiter.refused >= 3);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: the backoff starts over after every connection that delivered", async () => {
  // Each connection delivers one frame and is then closed by the server, again
  // and again: the retry delay never grows (repeated closes of a working feed
  // do not add up to a long outage). A refused connection (no frame) would
  // make it grow: see "keeps retrying while the server refuses".
  const server = new WsServer((c) => {
    server.send(c, `{"stream":"x","data":{"conn":${c.index}}}`);
  });
  const backoff = new Backoff({ baseMs: 20, capMs: 10_000 });
  const attemptsAtFrame: number[] = [];
  let received = 0;
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    staleMs: NEVER_STALE,
    backoff,
    onMessage: () => {
      received++;
      attemptsAtFrame.push(backoff.attempt);
      const open = server.conns.at(-1)!;
      setTimeout(() => server.closeConn(open), 0);
    },
  });
  conn.start();
  try {
    await waitFor("six connections delivered", () => received >= 6);
    assert.deepEqual(attemptsAtFrame.slice(0, 6), [0, 0, 0, 0, 0, 0]);
    assert.ok(conn.reconnects >= 5);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: binary and oversized messages are counted and ignored", async () => {
  const server = new WsServer((c) => {
    server.send(c, new Uint8Array([1, 2, 3]));
    server.send(c, '{"stream":"x","data":"' + "y".repeat(200) + '"}');
    server.send(c, '{"stream":"x","data":{}}');
  });
  const texts: string[] = [];
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    maxMessageBytes: 100,
    onMessage: (t) => texts.push(t),
  });
  conn.start();
  try {
    await waitFor("data message", () => texts.length === 1);
    await waitFor("ignored", () => conn.ignoredMessages === 2);
    assert.deepEqual(texts, ['{"stream":"x","data":{}}']);
    assert.equal(conn.messages, 1);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: a throwing callback is counted and the connection keeps going", async () => {
  const server = new WsServer((c) => {
    server.send(c, '{"stream":"x","data":1}');
    server.send(c, '{"stream":"x","data":2}');
  });
  const errors: unknown[] = [];
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    staleMs: NEVER_STALE,
    onMessage: () => {
      throw new Error("parser bug");
    },
    onError: (e) => errors.push(e),
  });
  conn.start();
  try {
    await waitFor("both messages", () => conn.messages === 2);
    assert.equal(conn.callbackErrors, 2);
    assert.equal((errors[0] as Error).message, "parser bug");
    assert.equal(conn.state, FeedState.Live);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: an attempt that never opens times out and is retried", async () => {
  // A TCP listener that accepts and never answers the WebSocket handshake.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const c of listener) accepted.push(c);
    } catch {
      // listener closed
    }
  })();
  const conn = new StreamConnection({
    baseUrl: `ws://127.0.0.1:${listener.addr.port}`,
    streams: ["x"],
    connectTimeoutMs: 50,
    backoff: new Backoff({ baseMs: 1, capMs: 1 }),
    onMessage: () => {},
  });
  conn.start();
  try {
    await waitFor("second attempt", () => accepted.length >= 2);
    assert.ok(conn.attempts >= 2);
    assert.ok(conn.reconnects >= 1);
    assert.equal(conn.connects, 0);
    assert.equal(conn.state, FeedState.Connecting);
  } finally {
    await conn.close();
    listener.close();
    await accepting;
    for (const c of accepted) {
      try {
        c.close();
      } catch {
        // already closed by the client
      }
    }
  }
});

Deno.test("StreamConnection: close() before and during connecting leaves nothing running", async () => {
  const server = new WsServer();
  const idle = new StreamConnection({ baseUrl: server.baseUrl, streams: ["x"], onMessage() {} });
  await idle.close();
  assert.throws(() => idle.start(), /after close/);
  const delayed = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    startDelayMs: 10_000,
    onMessage() {},
  });
  delayed.start();
  await delayed.close();
  const connecting = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    onMessage() {},
  });
  connecting.start();
  await connecting.close();
  assert.equal(connecting.closed, true);
  assert.equal(delayed.attempts, 0);
  await server.close();
});

Deno.test("StreamConnection: invalid options are rejected with a clear error", () => {
  const base = { baseUrl: "ws://127.0.0.1:1", streams: ["x"], onMessage() {} };
  assert.throws(() => new StreamConnection({ ...base, baseUrl: "http://x" }), /ws: or wss:/);
  assert.throws(() => new StreamConnection({ ...base, baseUrl: "nope" }), /ws:\/\/ or wss:\/\//);
  assert.throws(() => new StreamConnection({ ...base, streams: [] }), /expected 1 to 1024 streams/);
  assert.throws(
    () => new StreamConnection({ ...base, streams: new Array(1025).fill("x") }),
    /got 1025/,
  );
  assert.throws(() => new StreamConnection({ ...base, streams: ["BTCUSDT"] }), /lower-case/);
  assert.throws(() => new StreamConnection({ ...base, streams: ["a/b"] }), /lower-case/);
  assert.throws(
    () => new StreamConnection({ ...base, staleMs: 0 }),
    /staleMs must be a positive number/,
  );
});

Deno.test("StreamConnection: after a stale connection, a failed reconnect reports Connecting", async () => {
  const server = new WsServer((c) => {
    if (c.index === 0) server.send(c, '{"stream":"x","data":{}}'); // then silence
    else if (c.index === 1) server.closeConn(c); // refused
    else server.send(c, '{"stream":"x","data":{}}');
  });
  const states: FeedState[] = [];
  // What the connection reported when the third connection's frame arrived
  // (it goes silent afterwards, and goes stale in its turn).
  let atSecond: { states: FeedState[]; staleEvents: number; reconnects: number } | undefined;
  const conn: StreamConnection = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["x"],
    staleMs: 80,
    backoff: fastBackoff(),
    onMessage: () => {
      if (conn.messages === 2) {
        atSecond = {
          states: [...states],
          staleEvents: conn.staleEvents,
          reconnects: conn.reconnects,
        };
      }
    },
    onStateChange: (s) => states.push(s),
  });
  conn.start();
  try {
    await waitFor("third connection delivers", () => atSecond !== undefined);
    assert.deepEqual(atSecond!.states, [
      FeedState.Live,
      FeedState.Stale,
      FeedState.Connecting,
      FeedState.Live,
    ]);
    assert.equal(atSecond!.staleEvents, 1);
    assert.equal(atSecond!.reconnects, 2);
  } finally {
    await conn.close();
    await server.close();
  }
});

Deno.test("StreamConnection: suspend closes the socket for good until resume; nothing counted as a loss", async () => {
  const server = new WsServer();
  // A short staleMs: a suspended connection must never go stale or retry.
  const staleMs = 100;
  const feed = new Broadcaster(server, 5);
  const states: FeedState[] = [];
  let messages = 0;
  const conn = new StreamConnection({
    baseUrl: server.baseUrl,
    streams: ["btcusdt@depth20@100ms"],
    onMessage: () => void messages++,
    onStateChange: (s) => void states.push(s),
    staleMs,
    backoff: fastBackoff(),
  });
  try {
    conn.start();
    await waitFor("live", () => conn.state === FeedState.Live && messages > 3);
    conn.suspend();
    assert.equal(conn.suspended, true);
    assert.equal(conn.state, FeedState.Connecting);
    assert.deepEqual(states, [FeedState.Live, FeedState.Connecting]);
    const held = messages;
    await waitFor("the server saw the close", () => server.conns[0].closedAt > 0);
    // Ten stale timeouts pass: no attempt, no message, no stale event, no reconnect.
    const t0 = performance.now();
    await waitFor("ten stale timeouts", () => performance.now() - t0 > 10 * staleMs);
    assert.equal(messages, held);
    assert.equal(server.conns.length, 1);
    assert.equal(conn.attempts, 1);
    assert.equal(conn.reconnects, 0);
    assert.equal(conn.staleEvents, 0);
    assert.equal(conn.connects, 1);

    conn.resume();
    assert.equal(conn.suspended, false);
    await waitFor("live again", () => conn.state === FeedState.Live && messages > held + 3);
    assert.equal(server.conns.length, 2);
    assert.equal(conn.connects, 2);
    assert.equal(conn.reconnects, 0);

    // Suspended while connecting, then resumed: one socket ends up open.
    conn.suspend();
    conn.resume();
    conn.suspend();
    conn.resume();
    await waitFor("live after toggling", () => conn.state === FeedState.Live);
    await waitFor(
      "every other socket closed",
      () => server.conns.filter((c) => c.closedAt === 0).length === 1,
    );
    assert.equal(conn.reconnects, 0);
  } finally {
    feed.stop();
    await conn.close();
    await server.close();
  }
  // Resume after close is a mistake, said so.
  assert.throws(() => conn.resume(), /resume\(\) called after close\(\)/);
});
