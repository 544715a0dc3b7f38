import assert from "node:assert/strict";
import { StreamConnection } from "../lib/ingest/stream_connection.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { Backoff } from "../lib/pipeline/backoff.ts";
import { FakeVenueServer, waitFor } from "../testing/fake_venue.ts";

const noop = () => {};

Deno.test("stream connection (url): either baseUrl with streams or url, checked", () => {
  assert.throws(
    () => new StreamConnection({ onMessage: noop }),
    /expected either baseUrl with streams \(a Binance combined stream\) or url, got neither/,
  );
  assert.throws(
    () =>
      new StreamConnection({
        baseUrl: "ws://127.0.0.1:1",
        streams: ["btcusdt@depth"],
        url: "ws://127.0.0.1:1/ws",
        onMessage: noop,
      }),
    /got both/,
  );
  assert.throws(
    () => new StreamConnection({ url: "http://127.0.0.1:1/ws", onMessage: noop }),
    /url must use ws: or wss:/,
  );
  assert.throws(
    () => new StreamConnection({ url: "ws://127.0.0.1:1/ws", streams: ["a"], onMessage: noop }),
    /streams go with baseUrl/,
  );
  assert.throws(
    () =>
      new StreamConnection({
        url: "ws://127.0.0.1:1/ws",
        keepalive: { text: "ping", everyMs: 0 },
        onMessage: noop,
      }),
    /keepalive.everyMs must be a positive number/,
  );
  assert.throws(
    () => new StreamConnection({ url: "ws://127.0.0.1:1/ws", shutdownNotice: "", onMessage: noop }),
    /shutdownNotice must be a non-empty text or null/,
  );
  const c = new StreamConnection({
    url: "ws://127.0.0.1:1/ws/v5/public?x=1",
    maxLifetimeMs: Infinity,
    onMessage: noop,
  });
  assert.equal(c.url, "ws://127.0.0.1:1/ws/v5/public?x=1", "the URL is used as given");
  assert.equal(c.send("x"), false, "nothing to send on before a connection");
  c.reconnect(); // nothing to drop
  assert.equal(c.reconnects, 0);
});

Deno.test("stream connection (url): open messages on every socket, send(), reconnect(), no shutdown notice", async () => {
  const server = new FakeVenueServer({
    onMessage: (conn, text) => {
      if (text === "hello") conn.send("serverShutdown"); // not a notice for this venue
      return text === "hello";
    },
  });
  const messages: string[] = [];
  const states: FeedState[] = [];
  const conn = new StreamConnection({
    url: `${server.url}/ws`,
    openMessages: ["sub A", "sub B"],
    shutdownNotice: null,
    maxLifetimeMs: Infinity,
    backoff: new Backoff({ baseMs: 10, capMs: 20 }),
    onMessage: (text) => messages.push(text),
    onStateChange: (s) => states.push(s),
  });
  try {
    conn.start();
    await waitFor(
      "both snapshots",
      () => messages.filter((m) => m.startsWith("snap")).length === 2,
    );
    assert.deepEqual(server.conns[0].received, ["sub A", "sub B"]);
    assert.equal(conn.state, FeedState.Live);
    assert.equal(conn.send("hello"), true);
    await waitFor("the reply", () => messages.includes("serverShutdown"));
    assert.equal(conn.serverShutdowns, 0, "no shutdown notice configured");
    assert.equal(conn.rollovers, 0);
    conn.reconnect();
    assert.equal(conn.state, FeedState.Connecting, "at once");
    await waitFor(
      "a second socket, subscribed again",
      () => server.conns.length === 2 && server.conns[1].received.length === 2,
    );
    await waitFor("live again", () => conn.state === FeedState.Live);
    assert.equal(conn.reconnects, 1);
    assert.equal(conn.connects, 2);
    assert.equal(conn.sent, 5, "4 open messages and one send");
    assert.deepEqual(states, [FeedState.Live, FeedState.Connecting, FeedState.Live]);
  } finally {
    await conn.close();
    await server.close();
  }
});
