import assert from "node:assert/strict";
import { AttemptLimiter } from "../lib/ingest/attempt_limiter.ts";
import { ConnectionPool } from "../lib/ingest/connection_pool.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { OwnedPartitions } from "../lib/pipeline/owned_partitions.ts";

interface ServerConn {
  index: number;
  streams: string[];
  socket: WebSocket;
  openedAt: number;
  serverClosing: boolean;
}

/**
 * A combined-stream server on 127.0.0.1 that, every `periodMs`, sends one frame
 * for every stream of every open connection unless `muted` holds the stream.
 */
class FeedServer {
  readonly conns: ServerConn[] = [];
  readonly muted = new Set<string>();
  #server: Deno.HttpServer<Deno.NetAddr>;
  #closed: Promise<void>[] = [];
  #timer: ReturnType<typeof setInterval>;
  #seq = 0;

  constructor(periodMs: number, onOpen: (conn: ServerConn) => void = () => {}) {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      const streams = new URL(req.url).searchParams.get("streams")?.split("/") ?? [];
      const conn: ServerConn = {
        index: this.conns.length,
        streams,
        socket,
        openedAt: 0,
        serverClosing: false,
      };
      this.conns.push(conn);
      this.#closed.push(new Promise((resolve) => socket.onclose = () => resolve()));
      socket.onerror = (e) => e.preventDefault();
      socket.onopen = () => {
        conn.openedAt = performance.now();
        onOpen(conn);
      };
      return response;
    });
    this.#timer = setInterval(() => {
      this.#seq++;
      for (const conn of this.conns) {
        if (conn.socket.readyState !== WebSocket.OPEN) continue;
        for (const s of conn.streams) {
          if (!this.muted.has(s)) {
            conn.socket.send(`{"stream":"${s}","data":{"lastUpdateId":${this.#seq}}}`);
          }
        }
      }
    }, periodMs);
  }

  get baseUrl(): string {
    return `ws://127.0.0.1:${this.#server.addr.port}`;
  }

  closeConn(conn: ServerConn): void {
    conn.serverClosing = true;
    if (conn.socket.readyState <= WebSocket.OPEN) conn.socket.close();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const conn of this.conns) this.closeConn(conn);
    await Promise.all(this.#closed);
    await this.#server.shutdown();
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

/**
 * Tests about anything but staleness use this staleMs, so that a busy
 * machine's scheduling pauses never make a symbol look stale.
 */
const NEVER_STALE = 600_000;

/** The glue an ingest worker would run: stream name → symbol id → noteFrame. */
function glue(symbols: string[], suffix: string, getPool: () => ConnectionPool) {
  const ids = new Map(symbols.map((s, i) => [s + suffix, i]));
  return (text: string, at: number) => {
    const id = ids.get(JSON.parse(text).stream);
    assert.ok(id !== undefined, `unknown stream in ${text}`);
    getPool().noteFrame(id, at);
  };
}

Deno.test("ConnectionPool: 450 symbols make 3 staggered connections of at most 200 streams", async () => {
  const symbols = Array.from({ length: 450 }, (_, i) => `sym${i}usdt`);
  const server = new FeedServer(1000);
  const pool: ConnectionPool = new ConnectionPool({
    baseUrl: server.baseUrl,
    symbols,
    streamSuffix: "@depth20@100ms",
    staggerMs: 40,
    onMessage: () => {},
  });
  assert.equal(pool.connections.length, 3);
  const startedAt = performance.now();
  pool.start();
  try {
    await waitFor(
      "three connections",
      () => server.conns.filter((c) => c.openedAt > 0).length === 3,
    );
    const seen = server.conns.map((c) => c.streams).sort((a, b) => a.length - b.length);
    assert.deepEqual(seen.map((s) => s.length), [50, 200, 200]);
    const all = seen.flat().sort();
    assert.deepEqual(all, symbols.map((s) => s + "@depth20@100ms").sort());
    // The connection of symbols 200..399 starts no earlier than one stagger step.
    const second = server.conns.find((c) => c.streams[0] === "sym200usdt@depth20@100ms");
    const third = server.conns.find((c) => c.streams[0] === "sym400usdt@depth20@100ms");
    assert.ok(second && third);
    assert.ok(
      second.openedAt - startedAt >= 40,
      `second opened after ${second.openedAt - startedAt}`,
    );
    assert.ok(third.openedAt - startedAt >= 80, `third opened after ${third.openedAt - startedAt}`);
    assert.equal(pool.connectionOf(199), 0);
    assert.equal(pool.connectionOf(200), 1);
    assert.equal(pool.connectionOf(449), 2);
    assert.equal(pool.total("attempts"), 3);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("ConnectionPool: a silent symbol goes stale while its connection stays live, then recovers", async () => {
  const STALE_MS = 4000;
  const symbols = ["aaausdt", "bbbusdt", "cccusdt"];
  const suffix = "@depth@100ms";
  // A frame every 10 ms; stale after 4 s of silence, far longer than a busy
  // machine's scheduling pauses (1-2 s seen under a CPU hog), so only the muted
  // symbol goes stale.
  const server = new FeedServer(10);
  const events: [number, FeedState][] = [];
  const toPool = glue(symbols, suffix, () => pool);
  // The receive time of the last cccusdt frame, as the pool was told it.
  let lastCccAt = 0;
  const pool: ConnectionPool = new ConnectionPool({
    baseUrl: server.baseUrl,
    symbols,
    streamSuffix: suffix,
    staleMs: STALE_MS,
    onMessage: (text, at) => {
      if (text.includes('"cccusdt@depth@100ms"')) lastCccAt = at;
      toPool(text, at);
    },
    onFeedState: (id, s) => events.push([id, s]),
  });
  pool.start();
  try {
    await waitFor("all live", () => [0, 1, 2].every((i) => pool.feedState(i) === FeedState.Live));
    server.muted.add("cccusdt@depth@100ms");
    await waitFor("ccc stale", () => pool.feedState(2) === FeedState.Stale);
    assert.ok(lastCccAt > 0, "cccusdt frames were seen before the mute");
    // Staleness counts from the symbol's last frame (which may have come well
    // before the mute on a busy machine), never less than staleMs.
    assert.ok(
      performance.timeOrigin + performance.now() - lastCccAt >= STALE_MS,
      "stale reported before staleMs elapsed since the last frame",
    );
    assert.equal(pool.feedState(0), FeedState.Live);
    assert.equal(pool.feedState(1), FeedState.Live);
    assert.equal(pool.connections[0].state, FeedState.Live);
    assert.equal(pool.total("staleEvents"), 0, "the connection itself did not go stale");
    server.muted.clear();
    await waitFor("ccc live again", () => pool.feedState(2) === FeedState.Live);
    assert.deepEqual(events.filter(([id]) => id === 2).map(([, s]) => s), [
      FeedState.Live,
      FeedState.Stale,
      FeedState.Live,
    ]);
    assert.deepEqual(events.filter(([id]) => id === 0).map(([, s]) => s), [FeedState.Live]);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("ConnectionPool: setResyncing reports Resyncing and back", async () => {
  const symbols = ["aaausdt", "bbbusdt"];
  const suffix = "@depth@100ms";
  const server = new FeedServer(10);
  const events: [number, FeedState][] = [];
  const toPool = glue(symbols, suffix, () => pool);
  let bbbFrames = 0;
  const pool: ConnectionPool = new ConnectionPool({
    baseUrl: server.baseUrl,
    symbols,
    streamSuffix: suffix,
    staleMs: NEVER_STALE,
    onMessage: (text, at) => {
      if (text.includes(`"bbbusdt${suffix}"`)) bbbFrames++;
      toPool(text, at);
    },
    onFeedState: (id, s) => events.push([id, s]),
  });
  pool.start();
  try {
    await waitFor("live", () => pool.feedState(1) === FeedState.Live);
    pool.setResyncing(1, true);
    assert.equal(pool.feedState(1), FeedState.Resyncing);
    assert.equal(pool.feedState(0), FeedState.Live);
    const seen = bbbFrames;
    await waitFor("3 more bbbusdt frames", () => bbbFrames >= seen + 3);
    assert.equal(pool.feedState(1), FeedState.Resyncing, "frames do not end the resync");
    pool.setResyncing(1, false);
    assert.equal(pool.feedState(1), FeedState.Live);
    assert.deepEqual(events.filter(([id]) => id === 1).map(([, s]) => s), [
      FeedState.Live,
      FeedState.Resyncing,
      FeedState.Live,
    ]);
    assert.throws(() => pool.setResyncing(2, true), /symbolId must be an integer in \[0, 2\)/);
    assert.throws(() => pool.noteFrame(-1, 0), /symbolId must be/);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("ConnectionPool: a dropped connection marks only its own symbols Connecting", async () => {
  const symbols = ["aaausdt", "bbbusdt", "cccusdt", "dddusdt"];
  const suffix = "@depth20@100ms";
  const server = new FeedServer(10);
  const events: [number, FeedState][] = [];
  const pool: ConnectionPool = new ConnectionPool({
    baseUrl: server.baseUrl,
    symbols,
    streamSuffix: suffix,
    maxStreamsPerConnection: 2,
    staggerMs: 0,
    staleMs: NEVER_STALE,
    backoffBaseMs: 20,
    backoffCapMs: 40,
    onMessage: glue(symbols, suffix, () => pool),
    onFeedState: (id, s) => events.push([id, s]),
  });
  pool.start();
  try {
    await waitFor(
      "all live",
      () => [0, 1, 2, 3].every((i) => pool.feedState(i) === FeedState.Live),
    );
    const first = server.conns.find((c) => c.streams[0] === "aaausdt" + suffix);
    assert.ok(first);
    server.closeConn(first);
    await waitFor(
      "reconnected",
      () => pool.total("reconnects") === 1 && pool.feedState(0) === FeedState.Live,
    );
    for (const id of [0, 1]) {
      assert.deepEqual(events.filter(([i]) => i === id).map(([, s]) => s).slice(0, 2), [
        FeedState.Live,
        FeedState.Connecting,
      ]);
    }
    for (const id of [2, 3]) {
      assert.deepEqual(events.filter(([i]) => i === id).map(([, s]) => s), [FeedState.Live]);
    }
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("ConnectionPool: connections share one attempt limiter", async () => {
  const symbols = ["aaausdt", "bbbusdt", "cccusdt"];
  const server = new FeedServer(1000);
  const limiter = new AttemptLimiter({ maxAttempts: 2, windowMs: 60_000 });
  const pool = new ConnectionPool({
    baseUrl: server.baseUrl,
    symbols,
    streamSuffix: "@depth20@100ms",
    maxStreamsPerConnection: 1,
    staggerMs: 5,
    limiter,
    onMessage: () => {},
  });
  pool.start();
  try {
    await waitFor("limited", () => pool.total("limitedAttempts") >= 1);
    await waitFor("two connections", () => server.conns.length === 2);
    assert.equal(pool.total("attempts"), 2);
    assert.equal(limiter.used(), 2);
    assert.equal(pool.feedState(2), FeedState.Connecting);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("ConnectionPool: invalid options are rejected with a clear error", () => {
  const base = {
    baseUrl: "ws://127.0.0.1:1",
    symbols: ["btcusdt"],
    streamSuffix: "@depth20@100ms",
    onMessage() {},
  };
  assert.throws(() => new ConnectionPool({ ...base, symbols: [] }), /at least one symbol/);
  assert.throws(() => new ConnectionPool({ ...base, symbols: ["BTCUSDT"] }), /lower-case/);
  assert.throws(() => new ConnectionPool({ ...base, symbols: ["a", "a"] }), /listed twice/);
  assert.throws(() => new ConnectionPool({ ...base, streamSuffix: "depth" }), /streamSuffix/);
  assert.throws(
    () => new ConnectionPool({ ...base, maxStreamsPerConnection: 2000 }),
    /maxStreamsPerConnection must be an integer in \[1, 1024\]/,
  );
  assert.throws(() => new ConnectionPool({ ...base, staleMs: -5 }), /staleMs must be a positive/);
});

Deno.test("ConnectionPool: owned partitions: groups per partition, opened and suspended as the flags say", async () => {
  // Partitions interleaved over the ids; at most 2 streams a connection, so
  // partition 1's three symbols take two connections.
  const symbols = ["aaausdt", "bbbusdt", "cccusdt", "dddusdt", "eeeusdt"];
  const partitionOf = [1, 0, 1, 0, 1];
  const suffix = "@depth20@100ms";
  const server = new FeedServer(10);
  const owned = OwnedPartitions.create(2);
  owned.set(0, true);
  const released: number[] = [];
  // A short staleMs: a released symbol must stay Connecting, never go Stale.
  const staleMs = 100;
  const pool: ConnectionPool = new ConnectionPool({
    baseUrl: server.baseUrl,
    symbols,
    streamSuffix: suffix,
    maxStreamsPerConnection: 2,
    staleMs,
    backoffBaseMs: 20,
    backoffCapMs: 40,
    partitionOf,
    owned,
    onRelease: (id) => void released.push(id),
    onMessage: glue(symbols, suffix, () => pool),
  });
  const streamsOf = (c: ServerConn) => c.streams.map((s) => s.replace(suffix, ""));
  const open = () => server.conns.filter((c) => c.socket.readyState === WebSocket.OPEN);
  assert.equal(pool.connections.length, 3);
  assert.deepEqual([0, 1, 2, 3, 4].map((id) => pool.connectionOf(id)), [1, 0, 1, 0, 2]);
  pool.start();
  try {
    await waitFor(
      "partition 0 live",
      () => [1, 3].every((i) => pool.feedState(i) === FeedState.Live),
    );
    assert.deepEqual(server.conns.map(streamsOf), [["bbbusdt", "dddusdt"]]);
    assert.deepEqual([0, 1, 2, 3, 4].map((id) => pool.isActive(id)), [
      false,
      true,
      false,
      true,
      false,
    ]);
    assert.equal(pool.activeSymbols, 2);
    for (const id of [0, 2, 4]) assert.equal(pool.feedState(id), FeedState.Connecting);

    owned.set(1, true);
    owned.set(0, false);
    await waitFor(
      "partition 1 live",
      () => [0, 2, 4].every((i) => pool.feedState(i) === FeedState.Live),
    );
    await waitFor("partition 0's socket closed", () => open().length === 2);
    assert.deepEqual(open().map(streamsOf).sort(), [["aaausdt", "cccusdt"], ["eeeusdt"]]);
    assert.deepEqual(released.sort(), [1, 3]);
    assert.equal(pool.activeSymbols, 3);
    assert.equal(pool.activeConnections, 2);
    // Ten stale timeouts later the released symbols are still Connecting, and
    // their connection counted no stale event and no reconnect.
    const t0 = performance.now();
    await waitFor("ten stale timeouts", () => performance.now() - t0 > 10 * staleMs);
    for (const id of [1, 3]) assert.equal(pool.feedState(id), FeedState.Connecting);
    assert.equal(pool.connections[0].staleEvents, 0);
    assert.equal(pool.connections[0].reconnects, 0);
    assert.equal(pool.connections[0].connects, 1);
  } finally {
    await pool.close();
    await server.close();
  }
  assert.throws(
    () =>
      new ConnectionPool({
        baseUrl: "ws://127.0.0.1:9",
        symbols,
        streamSuffix: suffix,
        onMessage: () => {},
        owned: OwnedPartitions.create(1),
      }),
    /partitionOf and owned go together \(both or neither\), got only owned/,
  );
  assert.throws(
    () =>
      new ConnectionPool({
        baseUrl: "ws://127.0.0.1:9",
        symbols,
        streamSuffix: suffix,
        onMessage: () => {},
        partitionOf: [0, 1, 2, 0, 1],
        owned: OwnedPartitions.create(2),
      }),
    /partitionOf\[2\] is 2, expected a partition below the 2 of owned/,
  );
});
