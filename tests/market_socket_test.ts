import assert from "node:assert/strict";
import { serveHttp } from "../lib/net/http_server.ts";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  FRAME_ASK_COUNT,
  FRAME_BID_COUNT,
  FRAME_MID,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { HistoryStore } from "../lib/server/history_store.ts";
import { WsHub } from "../lib/server/ws_hub.ts";
import {
  type HelloContext,
  MarketSocket,
  type MarketSocketStatus,
} from "../lib/client/market_socket.ts";
import {
  type ClientMessage,
  ClientMessageSchema,
  type Frame,
  type Hello,
  ServerMessageSchema,
} from "../proto/gen/market_pb.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

/** A real hub behind a real server on 127.0.0.1 (on `port`, or an ephemeral one). */
function startHub(port = 0) {
  const layout = new FrameSlotLayout({ levels: 3 });
  const history = new HistoryStore({ symbols: SYMBOLS.length, layout, depth: 20 });
  const hub = new WsHub({ history, symbols: SYMBOLS });
  const server = serveHttp({ hostname: "127.0.0.1", port, onListen() {} }, (r) => hub.upgrade(r));
  const slot = new Float64Array(layout.slotWords);
  slot[FRAME_BID_COUNT] = 1;
  slot[FRAME_ASK_COUNT] = 1;
  return {
    hub,
    port: server.addr.port,
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    push(symbolId: number, mid: number) {
      slot[FRAME_SYMBOL_ID] = symbolId;
      slot[FRAME_MID] = mid;
      slot[layout.bidPrice(0)] = mid - 0.5;
      slot[layout.askPrice(0)] = mid + 0.5;
      history.push(slot);
    },
    async stop() {
      hub.close("restart");
      await server.shutdown();
    },
  };
}

/** Records what a MarketSocket reports and lets a test wait for a condition. */
class Recorder {
  hellos: [Hello, HelloContext][] = [];
  frames: Frame[] = [];
  states: MarketSocketStatus[] = [];
  #waiters: (() => void)[] = [];

  options() {
    return {
      onHello: (h: Hello, info: HelloContext) => this.#push(() => this.hellos.push([h, info])),
      onFrame: (f: Frame) => this.#push(() => this.frames.push(f)),
      onState: (s: MarketSocketStatus) => this.#push(() => this.states.push(s)),
    };
  }

  #push(f: () => void): void {
    f();
    const w = this.#waiters;
    this.#waiters = [];
    for (const r of w) r();
  }

  /** Wait until `pred` holds; the timeout only guards against a hang. */
  async until(pred: () => boolean, what: string, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}`);
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiters.push(resolve);
      const t = setTimeout(resolve, Math.min(remaining, 50));
      await promise;
      clearTimeout(t);
    }
  }
}

Deno.test("market socket: Hello with history, then consecutive frames; switching symbol brings its Hello", async () => {
  const s = startHub();
  const rec = new Recorder();
  for (let i = 1; i <= 4; i++) s.push(0, 100 + i);
  const socket = new MarketSocket({ url: s.url, symbol: "btcusdt", ...rec.options() });
  try {
    assert.equal(socket.state, "connecting");
    await rec.until(() => rec.hellos.length === 1, "the Hello");
    const [hello, info] = rec.hellos[0];
    assert.equal(info.reason, "connect");
    assert.equal(info.epochChanged, false);
    assert.deepStrictEqual(hello.history.map((f) => f.mid), [101, 102, 103, 104]);
    assert.equal(socket.state, "live");
    assert.equal(socket.epoch, s.hub.epoch);
    for (let i = 5; i <= 10; i++) s.push(0, 100 + i);
    s.push(1, 7); // another symbol: not followed
    await rec.until(() => rec.frames.length === 6, "six frames");
    assert.deepStrictEqual(rec.frames.map((f) => f.seq), [5, 6, 7, 8, 9, 10]);
    socket.subscribe("ETHUSDT");
    await rec.until(() => rec.hellos.length === 2, "the ETHUSDT Hello");
    assert.equal(rec.hellos[1][0].symbol, "ETHUSDT");
    assert.equal(rec.hellos[1][1].reason, "switch");
    assert.deepStrictEqual(rec.hellos[1][0].history.map((f) => f.mid), [7]);
    s.push(0, 111); // BTCUSDT: no longer followed
    s.push(1, 8);
    await rec.until(() => rec.frames.length === 7, "the ETHUSDT frame");
    assert.deepStrictEqual([rec.frames[6].symbol, rec.frames[6].seq], ["ETHUSDT", 2]);
    assert.equal(socket.gaps, 0);
    assert.deepStrictEqual(rec.states.map((x) => x.state), ["connecting", "live"]);
  } finally {
    await socket.close();
    await s.stop();
  }
  assert.equal(socket.state, "closed");
});

/**
 * A scripted server: it answers each connection with a Hello (seq 5) and then
 * sends what the test tells it, recording what the client sends.
 */
function scriptedServer() {
  const received: ClientMessage[] = [];
  let current: WebSocket | undefined;
  let connections = 0;
  const onReceive: (() => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    current = socket;
    connections++;
    socket.onmessage = (e) => {
      received.push(fromBinary(ClientMessageSchema, new Uint8Array(e.data)));
      onReceive.splice(0).forEach((r) => r());
    };
    return response;
  });
  const send = (kind: MessageInitShape<typeof ServerMessageSchema>["kind"], conflated = 0) =>
    current!.send(toBinary(ServerMessageSchema, create(ServerMessageSchema, { kind, conflated })));
  return {
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    received,
    get connections() {
      return connections;
    },
    hello(seq: number, epoch = "e1", mids: number[] = []) {
      send({
        case: "hello",
        value: {
          epoch,
          symbol: "BTCUSDT",
          symbols: SYMBOLS,
          seq,
          history: mids.map((mid, i) => ({
            symbol: "BTCUSDT",
            seq: seq - mids.length + i + 1,
            mid,
          })),
        },
      });
    },
    frame(seq: number, conflated = 0) {
      send({ case: "frame", value: { symbol: "BTCUSDT", seq, mid: seq } }, conflated);
    },
    async nextReceived(): Promise<void> {
      const { promise, resolve } = Promise.withResolvers<void>();
      onReceive.push(resolve);
      const t = setTimeout(resolve, 30_000); // a hang guard
      await promise;
      clearTimeout(t);
    },
    async stop() {
      await server.shutdown();
    },
  };
}

Deno.test("market socket: a seq gap drops frames and sends Resync; the answering Hello replaces the history", async () => {
  const srv = scriptedServer();
  const rec = new Recorder();
  const socket = new MarketSocket({ url: srv.url, symbol: "BTCUSDT", ...rec.options() });
  try {
    // Wait for the connection (the server sends the first Hello once it has a socket).
    await rec.until(() => socket.state === "connecting" && rec.states.length >= 1, "connecting");
    await rec.until(() => srv.connections === 1, "the server's socket");
    for (const deadline = Date.now() + 30_000;;) {
      try {
        srv.hello(5, "e1", [4, 5]); // throws until the server's socket is open
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await rec.until(() => rec.hellos.length === 1, "the first Hello");
    srv.frame(5); // older than the Hello: ignored
    srv.frame(6);
    srv.frame(7);
    srv.frame(10, 2); // conflated: 8 and 9 dropped by the server
    const resync = srv.nextReceived();
    await resync;
    srv.frame(11); // still before the new Hello: ignored
    await rec.until(() => srv.received.length >= 1, "the Resync");
    assert.equal(srv.received[0].kind.case, "resync");
    assert.equal(
      srv.received[0].kind.case === "resync" && srv.received[0].kind.value.symbol,
      "BTCUSDT",
    );
    srv.hello(11, "e1", [9, 10, 11]);
    srv.frame(12);
    await rec.until(() => rec.frames.length === 3, "frame 12");
    assert.deepStrictEqual(rec.frames.map((f) => f.seq), [6, 7, 12]);
    assert.equal(rec.hellos[1][1].reason, "resync");
    assert.equal(rec.hellos[1][1].epochChanged, false);
    assert.deepStrictEqual(rec.hellos[1][0].history.map((f) => f.mid), [9, 10, 11]);
    assert.equal(socket.gaps, 1);
    assert.equal(socket.resyncs, 1);
    assert.equal(srv.received.length, 1, "exactly one Resync for one gap");
  } finally {
    await socket.close();
    await srv.stop();
  }
});

Deno.test("market socket: reconnects with backoff after the server restarts and takes the new epoch's Hello", async () => {
  let s = startHub();
  const port = s.port;
  const rec = new Recorder();
  const socket = new MarketSocket({
    url: s.url,
    symbol: "ETHUSDT",
    backoffBaseMs: 40,
    backoffCapMs: 80,
    random: () => 0.99,
    ...rec.options(),
  });
  try {
    s.push(1, 1);
    await rec.until(() => rec.hellos.length === 1, "the first Hello");
    const firstEpoch = socket.epoch;
    const stoppedAt = Date.now();
    await s.stop();
    await rec.until(() => socket.state === "reconnecting" || socket.state === "connecting", "loss");
    const reconnecting = rec.states.find((x) => x.state === "reconnecting");
    // The retry time is on the Date.now() clock: the loss came after stoppedAt,
    // and the delay is below the 80 ms cap.
    assert.ok(reconnecting?.retryAt !== undefined, "a retry time for the countdown");
    assert.ok(
      reconnecting.retryAt >= stoppedAt && reconnecting.retryAt <= Date.now() + 80,
      `retryAt ${reconnecting.retryAt} outside [${stoppedAt}, now + 80]`,
    );
    // Let a few attempts fail, then start a new server (new hub, new epoch) on the same port.
    await rec.until(
      () => rec.states.filter((x) => x.state === "reconnecting").length >= 3,
      "retries",
    );
    assert.ok(rec.states.some((x) => x.failures >= 1), "failed attempts are counted");
    s = startHub(port);
    s.push(1, 2);
    s.push(1, 3);
    await rec.until(() => rec.hellos.length === 2, "the Hello after the restart");
    const [hello, info] = rec.hellos[1];
    assert.equal(info.reason, "connect");
    assert.equal(info.epochChanged, true);
    assert.notEqual(socket.epoch, firstEpoch);
    assert.deepStrictEqual(hello.history.map((f) => f.mid), [2, 3]);
    assert.equal(socket.state, "live");
    assert.equal(rec.states.at(-1)?.failures, 0);
    s.push(1, 4);
    await rec.until(() => rec.frames.length === 1, "a live frame after the restart");
    assert.equal(rec.frames[0].seq, 3);
    assert.ok(socket.reconnects >= 3);
  } finally {
    await socket.close();
    await s.stop();
  }
});

Deno.test("market socket: a connection that goes silent is dropped and reconnected", async () => {
  const srv = scriptedServer();
  const rec = new Recorder();
  const socket = new MarketSocket({
    url: srv.url,
    symbol: "BTCUSDT",
    pingIntervalMs: 20,
    staleAfterMs: 60,
    backoffBaseMs: 1,
    backoffCapMs: 1,
    ...rec.options(),
  });
  try {
    // The scripted server never answers the pings and sends nothing: after ~60 ms
    // the socket gives up on the connection and opens another one.
    await srv.nextReceived();
    assert.equal(srv.received[0]?.kind.case, "ping");
    await rec.until(() => srv.connections >= 2, "a second connection");
    assert.ok(rec.states.some((x) => x.state === "reconnecting"));
    assert.ok(socket.reconnects >= 1);
  } finally {
    await socket.close();
    await srv.stop();
  }
});

Deno.test("market socket: close() while waiting to retry stops reconnecting", async () => {
  const s = startHub();
  const url = s.url;
  await s.stop(); // nothing listens there now
  const rec = new Recorder();
  const socket = new MarketSocket({
    url,
    symbol: "BTCUSDT",
    backoffBaseMs: 5000,
    ...rec.options(),
  });
  await rec.until(() => socket.state === "reconnecting", "the first failure");
  await socket.close();
  assert.equal(socket.state, "closed");
  assert.deepStrictEqual(rec.states.map((x) => x.state), ["connecting", "reconnecting", "closed"]);
  assert.throws(() => new MarketSocket({ url: "ftp://x", symbol: "A" }), /must be ws: or wss:/);
});
