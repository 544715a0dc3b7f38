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
import { WsHub, type WsHubOptions } from "../lib/server/ws_hub.ts";
import { handler } from "../routes/ws.ts";
import {
  ClientMessageSchema,
  ErrorCode,
  type Frame,
  type Hello,
  type ServerMessage,
  ServerMessageSchema,
} from "../proto/gen/market_pb.ts";
import type { Context } from "../lib/web/mod.ts";
import { clientFrame } from "../testing/ws_client_frame.ts";
import type { State } from "../utils.ts";

const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

interface Setup {
  hub: WsHub;
  history: HistoryStore;
  layout: FrameSlotLayout;
  port: number;
  url: string;
  /** Store one frame of `symbolId` with the given mid (the hub publishes it). */
  push(symbolId: number, mid: number): void;
  stop(): Promise<void>;
}

function setup(
  options: Partial<WsHubOptions> = {},
  levels = 5,
  depth = 100,
): Setup {
  const layout = new FrameSlotLayout({ levels });
  const history = new HistoryStore({ symbols: SYMBOLS.length, layout, depth });
  const hub = new WsHub({ history, symbols: SYMBOLS, ...options });
  const server = serveHttp(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => hub.upgrade(req),
  );
  const slot = new Float64Array(layout.slotWords);
  slot[FRAME_BID_COUNT] = levels;
  slot[FRAME_ASK_COUNT] = levels;
  for (let i = 0; i < levels; i++) {
    slot[layout.bidPrice(i)] = 100 - i;
    slot[layout.bidSize(i)] = 1 + i;
    slot[layout.askPrice(i)] = 101 + i;
    slot[layout.askSize(i)] = 2 + i;
  }
  return {
    hub,
    history,
    layout,
    port: server.addr.port,
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    push(symbolId, mid) {
      slot[FRAME_SYMBOL_ID] = symbolId;
      slot[FRAME_MID] = mid;
      history.push(slot);
    },
    async stop() {
      hub.close("test over");
      await server.shutdown();
    },
  };
}

/** A real WebSocket client that records every decoded server message. */
class TestClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<CloseEvent>;
  readonly opened: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    const opened = Promise.withResolvers<void>();
    const closed = Promise.withResolvers<CloseEvent>();
    this.opened = opened.promise;
    this.closed = closed.promise;
    this.ws.onopen = () => opened.resolve();
    this.ws.onerror = () => opened.resolve();
    this.ws.onclose = (e) => {
      closed.resolve(e);
      this.#wake();
    };
    this.ws.onmessage = (e) => {
      this.messages.push(fromBinary(ServerMessageSchema, new Uint8Array(e.data)));
      this.#wake();
    };
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Wait until `pred` holds for the messages received (fails after 30 s: a hang guard). */
  async until(pred: (messages: ServerMessage[]) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!pred(this.messages)) {
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed while waiting for ${what}`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}`);
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiters.push(resolve);
      const t = setTimeout(resolve, remaining);
      await promise;
      clearTimeout(t);
    }
  }

  send(message: MessageInitShape<typeof ClientMessageSchema>["kind"]): void {
    this.ws.send(toBinary(ClientMessageSchema, create(ClientMessageSchema, { kind: message })));
  }

  hellos(): Hello[] {
    return this.messages.flatMap((m) => m.kind.case === "hello" ? [m.kind.value] : []);
  }

  frames(symbol?: string): Frame[] {
    return this.messages.flatMap((m) =>
      m.kind.case === "frame" && (symbol === undefined || m.kind.value.symbol === symbol)
        ? [m.kind.value]
        : []
    );
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

/**
 * A client speaking raw TCP: it does the WebSocket handshake itself and reads
 * only when told to, so the server's `bufferedAmount` for it grows.
 */
class RawClient {
  readonly conn: Deno.TcpConn;
  #buf = new Uint8Array(0);

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connect and send an upgrade request; returns the client and the response head. */
  static async open(
    port: number,
    path = "/ws",
    headers: Record<string, string> = {},
  ): Promise<{ client: RawClient; status: number }> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const client = new RawClient(conn);
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
      ),
    );
    let head = -1;
    while ((head = indexOfHeadEnd(client.#buf)) < 0) {
      if (!(await client.#fill())) throw new Error("connection closed during the handshake");
    }
    const text = new TextDecoder().decode(client.#buf.subarray(0, head));
    client.#buf = client.#buf.subarray(head + 4);
    return { client, status: Number(text.split(" ")[1]) };
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(256 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    const joined = new Uint8Array(this.#buf.length + n);
    joined.set(this.#buf);
    joined.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = joined;
    return true;
  }

  /** Next WebSocket frame from the server: opcode and payload; null at EOF. */
  async frame(): Promise<{ opcode: number; payload: Uint8Array } | null> {
    for (;;) {
      const parsed = parseFrame(this.#buf);
      if (parsed) {
        this.#buf = this.#buf.subarray(parsed.end);
        return parsed;
      }
      if (!(await this.#fill())) return null;
    }
  }

  /** Send one client message (masked binary frame). */
  async send(message: MessageInitShape<typeof ClientMessageSchema>["kind"]): Promise<void> {
    const payload = toBinary(ClientMessageSchema, create(ClientMessageSchema, { kind: message }));
    const bytes = clientFrame(0x2, payload);
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

function indexOfHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** Parse one unmasked server frame (RFC 6455 §5.2) from the front of `b`. */
function parseFrame(b: Uint8Array): { opcode: number; payload: Uint8Array; end: number } | null {
  if (b.length < 2) return null;
  const opcode = b[0] & 0x0f;
  let len = b[1] & 0x7f;
  let at = 2;
  if (len === 126) {
    if (b.length < 4) return null;
    len = (b[2] << 8) | b[3];
    at = 4;
  } else if (len === 127) {
    if (b.length < 10) return null;
    len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
    at = 10;
  }
  if (b.length < at + len) return null;
  return { opcode, payload: b.subarray(at, at + len), end: at + len };
}

/** Poll `cond` every 5 ms; the 30 s timeout only guards against a hang. */
async function waitUntil(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("ws hub: Hello carries the requested symbol's history; live frames follow with consecutive seq", async () => {
  const s = setup();
  try {
    for (let i = 1; i <= 3; i++) s.push(1, 2000 + i);
    s.push(0, 50_000);
    const c = new TestClient(`${s.url}?symbol=ethusdt`);
    await c.until((m) => m.length >= 1, "the Hello");
    const hello = c.hellos()[0];
    assert.equal(hello.epoch, s.hub.epoch);
    assert.deepStrictEqual(hello.symbols, SYMBOLS);
    assert.equal(hello.symbol, "ETHUSDT");
    assert.deepStrictEqual(hello.subscribed, ["ETHUSDT"]);
    assert.equal(hello.seq, 3);
    assert.equal(hello.levels, 5);
    assert.deepStrictEqual(hello.history.map((f) => [f.seq, f.mid]), [
      [1, 2001],
      [2, 2002],
      [3, 2003],
    ]);
    // Every field only in the newest frame (the order book shows only it); older
    // frames keep what the charts draw (mid above), the rest is NaN.
    assert.deepStrictEqual(hello.history[2].bidPrices, [100, 99, 98, 97, 96]);
    assert.deepStrictEqual(hello.history[2].askSizes, [2, 3, 4, 5, 6]);
    assert.equal(hello.history[2].depth[0].bidQuote, 0);
    for (const old of hello.history.slice(0, 2)) {
      assert.deepStrictEqual([old.bidPrices, old.askPrices], [[], []]);
      assert.ok(Number.isNaN(old.depth[0].bidQuote) && Number.isNaN(old.lastUpdateId));
    }
    for (let i = 4; i <= 30; i++) s.push(1, 2000 + i);
    s.push(0, 50_001); // not subscribed: not sent
    await c.until((m) => m.length >= 28, "27 frames");
    const frames = c.frames();
    assert.deepStrictEqual(frames.map((f) => f.seq), Array.from({ length: 27 }, (_, i) => i + 4));
    assert.ok(frames.every((f) => f.symbol === "ETHUSDT"));
    assert.equal(frames.at(-1)?.mid, 2030);
    assert.equal(s.hub.framesSent, 27);
    assert.equal(s.hub.clients, 1);
    await c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("ws hub: the history in a Hello is bounded by the history depth, oldest first", async () => {
  const s = setup({}, 2, 10);
  try {
    for (let i = 1; i <= 25; i++) s.push(0, i);
    const c = new TestClient(s.url);
    await c.until((m) => m.length >= 1, "the Hello");
    const hello = c.hellos()[0];
    assert.equal(hello.symbol, "BTCUSDT");
    assert.equal(hello.seq, 25);
    assert.deepStrictEqual(hello.history.map((f) => f.seq), [
      16,
      17,
      18,
      19,
      20,
      21,
      22,
      23,
      24,
      25,
    ]);
    await c.close();
  } finally {
    await s.stop();
  }
});

Deno.test("ws hub: subscribe, unsubscribe, resync and ping; unknown symbols get an Error", async () => {
  const s = setup();
  try {
    s.push(0, 1);
    const c = new TestClient(`${s.url}?symbol=NOPE`);
    await c.until((m) => m.length >= 2, "Hello and Error");
    assert.equal(c.hellos()[0].symbol, "BTCUSDT");
    const err = c.messages[1];
    assert.equal(err.kind.case, "error");
    assert.equal(err.kind.case === "error" && err.kind.value.code, ErrorCode.UNKNOWN_SYMBOL);

    c.send({ case: "subscribe", value: { symbols: ["ethusdt", "DOGEUSDT"] } });
    await c.until((m) => m.length >= 4, "Hello of ETHUSDT and an Error for DOGEUSDT");
    const ethHello = c.hellos()[1];
    assert.equal(ethHello.symbol, "ETHUSDT");
    assert.deepStrictEqual(ethHello.subscribed, ["BTCUSDT", "ETHUSDT"]);
    assert.equal(ethHello.seq, 0);
    const unknown = c.messages[3];
    assert.ok(unknown.kind.case === "error" && unknown.kind.value.symbol === "DOGEUSDT");

    s.push(1, 7);
    s.push(0, 2);
    await c.until((m) => m.length >= 6, "one frame of each");
    assert.deepStrictEqual(c.frames().map((f) => [f.symbol, f.seq]), [["ETHUSDT", 1], [
      "BTCUSDT",
      2,
    ]]);

    c.send({ case: "unsubscribe", value: { symbols: ["BTCUSDT"] } });
    c.send({ case: "ping", value: { nonce: 41 } });
    await c.until((m) => m.some((x) => x.kind.case === "heartbeat"), "the heartbeat");
    s.push(0, 3); // BTCUSDT seq 3: no longer subscribed
    s.push(1, 8);
    await c.until(() => c.frames("ETHUSDT").length >= 2, "the second ETHUSDT frame");
    assert.equal(c.frames("BTCUSDT").length, 1);
    const hb = c.messages.find((x) => x.kind.case === "heartbeat");
    assert.equal(hb?.kind.case === "heartbeat" && hb.kind.value.nonce, 41);

    c.send({ case: "resync", value: { symbol: "btcusdt" } });
    await c.until(
      (m) => m.at(-1)?.kind.case === "error",
      "an Error for resync without subscription",
    );
    const bad = c.messages.at(-1)!;
    assert.equal(bad.kind.case === "error" && bad.kind.value.code, ErrorCode.INVALID_REQUEST);

    c.send({ case: "resync", value: { symbol: "ETHUSDT" } });
    await c.until(() => c.hellos().length >= 3, "the resync Hello");
    const again = c.hellos()[2];
    assert.equal(again.symbol, "ETHUSDT");
    assert.equal(again.seq, 2);
    assert.deepStrictEqual(again.history.map((f) => f.mid), [7, 8]);
    assert.equal(s.hub.errorsSent, 3);
    await c.close();
  } finally {
    await s.stop();
  }
});

/**
 * BTCUSDT frames pushed one at a time: the next goes out once the fast client
 * has read the previous one. It reads everything it is sent, however busy the
 * machine, so it is never behind itself, while a client that does not read
 * falls behind.
 */
class PacedPush {
  /** Frames pushed so far (the newest has mid = seq = count). */
  count = 0;
  constructor(readonly s: Setup, readonly fast: TestClient) {}

  async push(): Promise<void> {
    const n = ++this.count;
    this.s.push(0, n);
    await this.fast.until(() => this.fast.frames().length === n, `frame ${n} on the fast client`);
  }

  /** Push until a client is behind (3 frames conflated). */
  async untilBehind(): Promise<void> {
    while (this.s.hub.framesConflated < 3) {
      assert.ok(this.count < 3000, "the slow client never fell behind");
      await this.push();
    }
    assert.equal(this.s.hub.clientsBehind, 1);
  }
}

Deno.test("ws hub: a client that stops reading is conflated, then closed as slow; a fast one gets every frame", async () => {
  // 1000 levels make a frame ~32 KB, so the kernel's socket buffers fill quickly.
  // maxBehindMs only bounds how long the test may take to read the slow
  // client's backlog once it is behind: generous, so a busy machine has time.
  const s = setup({ maxBufferedBytes: 256 * 1024, maxBehindMs: 3000, drainCheckMs: 20 }, 1000);
  const fast = new TestClient(s.url);
  let slow: RawClient | undefined;
  try {
    await fast.until((m) => m.length >= 1, "the fast client's Hello");
    const opened = await RawClient.open(s.port);
    slow = opened.client;
    assert.equal(opened.status, 101);
    // Push until the slow one is behind.
    const paced = new PacedPush(s, fast);
    await paced.untilBehind();
    // Now the slow client reads everything: it drains, gets the newest frame with a seq jump.
    const seqs: number[] = [];
    let hello: Hello | undefined;
    let jump: { seq: number; conflated: number } | undefined;
    while (!jump) {
      const f: { opcode: number; payload: Uint8Array } | null = await slow.frame();
      assert.ok(f, "slow client's connection ended early");
      const m: ServerMessage = fromBinary(ServerMessageSchema, f.payload);
      if (m.kind.case === "hello") hello = m.kind.value;
      if (m.kind.case !== "frame") continue;
      const expected = (seqs.at(-1) ?? hello!.seq) + 1;
      if (m.kind.value.seq !== expected) {
        jump = { seq: m.kind.value.seq, conflated: m.conflated };
      } else {
        assert.equal(m.conflated, 0);
        seqs.push(m.kind.value.seq);
      }
    }
    assert.ok(hello, "the slow client got its Hello first");
    const last = seqs.at(-1) ?? hello.seq;
    assert.equal(jump.seq, last + jump.conflated + 1, "the seq jump equals the conflated count");
    assert.ok(jump.conflated >= 3);
    // The slow client stops reading again; once behind, it is closed as slow
    // after maxBehindMs (the hub's drain timer checks it; no more frames needed).
    // The kernel's socket buffers may still grow and take some of its queue, so
    // that it is no longer behind: then push again, until it is closed.
    const deadline = Date.now() + 60_000;
    while (s.hub.disconnects.slow === 0) {
      assert.ok(paced.count < 20_000, "the slow client never fell behind again");
      assert.ok(Date.now() < deadline, "timed out waiting for the slow client closed as slow");
      if (s.hub.clientsBehind < 1) await paced.push();
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(s.hub.disconnects.slow, 1);
    assert.equal(s.hub.clients, 1);
    // The fast client saw every frame, in order.
    await fast.until((m) => m.length >= paced.count + 1, "every frame on the fast client");
    assert.deepStrictEqual(
      fast.frames().map((f) => f.seq),
      Array.from({ length: paced.count }, (_, i) => i + 1),
    );
    assert.deepStrictEqual(fast.frames().map((f) => f.mid).slice(-2), [
      paced.count - 1,
      paced.count,
    ]);
    assert.ok(fast.messages.every((m) => m.conflated === 0));
  } finally {
    slow?.close();
    await fast.close();
    await s.stop();
  }
});

Deno.test("ws hub: a Hello owed to a client that is behind is sent once it drains, before that symbol's frames", async () => {
  // 1000 levels make a frame ~32 KB, so the slow client falls behind quickly;
  // maxBehindMs is long so it is never closed as slow while the test pushes.
  const s = setup({ maxBufferedBytes: 256 * 1024, maxBehindMs: 600_000, drainCheckMs: 20 }, 1000);
  const fast = new TestClient(s.url);
  let slow: RawClient | undefined;
  try {
    await fast.until((m) => m.length >= 1, "the fast client's Hello");
    for (let mid = 1; mid <= 3; mid++) s.push(1, 1000 + mid); // ETHUSDT history: 3 frames
    const opened = await RawClient.open(s.port);
    slow = opened.client;
    assert.equal(opened.status, 101);
    const paced = new PacedPush(s, fast);
    await paced.untilBehind();
    // Behind: the Hello for ETHUSDT cannot be sent now, it is owed.
    const conflatedBefore = s.hub.framesConflated;
    await slow.send({ case: "subscribe", value: { symbols: ["ETHUSDT"] } });
    await waitUntil("the subscription", () => s.hub.subscribers(1) === 1);
    s.push(1, 1004); // ETHUSDT seq 4, while the slow client is behind: held, not sent
    await paced.push();
    assert.ok(s.hub.framesConflated > conflatedBefore, "frames were held while behind");
    // The slow client reads: it drains, and the owed Hello comes with the
    // ETHUSDT history, before any ETHUSDT frame.
    let hello: Hello | undefined;
    const eth: Frame[] = [];
    while (hello === undefined || eth.length === 0) {
      if (hello !== undefined && eth.length === 0) s.push(1, 1005 + eth.length);
      // A hang guard: without the owed Hello nothing more would ever arrive.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const f = await Promise.race([
        slow.frame(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("no owed Hello within 30 s")), 30_000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.ok(f, "slow client's connection ended early");
      const m: ServerMessage = fromBinary(ServerMessageSchema, f.payload);
      if (m.kind.case === "hello" && m.kind.value.symbol === "ETHUSDT") hello = m.kind.value;
      if (m.kind.case === "frame" && m.kind.value.symbol === "ETHUSDT") {
        assert.ok(hello, "an ETHUSDT frame came before its Hello");
        eth.push(m.kind.value);
      }
    }
    assert.deepStrictEqual(hello.subscribed, ["BTCUSDT", "ETHUSDT"]);
    assert.ok(hello.seq >= 3, `the Hello is at seq ${hello.seq}, after the history before it`);
    assert.deepStrictEqual(
      hello.history.map((f) => f.mid),
      [1001, 1002, 1003, 1004].slice(0, hello.seq),
      "the Hello carries the ETHUSDT history up to its seq",
    );
    assert.ok(eth[0].seq > hello.seq, "frames after the Hello continue after its seq");
    assert.equal(s.hub.disconnects.slow, 0);
  } finally {
    slow?.close();
    await fast.close();
    await s.stop();
  }
});

Deno.test("ws hub: foreign Origin gets 403, same origin and allowed origins are accepted", async () => {
  const s = setup({ allowedOrigins: ["https://dash.example.com"] });
  try {
    const foreign = await RawClient.open(s.port, "/ws", { Origin: "https://evil.example.com" });
    assert.equal(foreign.status, 403);
    foreign.client.close();
    const opaque = await RawClient.open(s.port, "/ws", { Origin: "null" });
    assert.equal(opaque.status, 403);
    opaque.client.close();
    const same = await RawClient.open(s.port, "/ws", { Origin: `http://127.0.0.1:${s.port}` });
    assert.equal(same.status, 101);
    same.client.close();
    const allowed = await RawClient.open(s.port, "/ws", { Origin: "https://dash.example.com" });
    assert.equal(allowed.status, 101);
    allowed.client.close();
    assert.equal(s.hub.upgradesRejected.origin, 2);
  } finally {
    await s.stop();
  }
});

Deno.test("ws hub: over maxClients is refused with 503; a closed hub refuses with 503", async () => {
  const s = setup({ maxClients: 2 });
  const a = new TestClient(s.url);
  const b = new TestClient(s.url);
  try {
    await a.until((m) => m.length >= 1, "a's Hello");
    await b.until((m) => m.length >= 1, "b's Hello");
    const third = await RawClient.open(s.port);
    assert.equal(third.status, 503);
    third.client.close();
    assert.equal(s.hub.upgradesRejected.capacity, 1);
    await a.close();
    // A slot is free again once the hub saw the close.
    await waitUntil("the hub to see a's close", () => s.hub.clients === 1);
    const fourth = new TestClient(s.url);
    await fourth.until((m) => m.length >= 1, "fourth's Hello");
    s.hub.close("maintenance");
    const [eb, ef] = await Promise.all([b.closed, fourth.closed]);
    assert.equal(eb.code, 1001);
    assert.equal(ef.code, 1001);
    assert.equal(eb.reason, "maintenance");
    assert.equal(s.hub.disconnects.shutdown, 2);
    assert.equal(s.hub.disconnects.client_close, 1);
    const late = await RawClient.open(s.port);
    assert.equal(late.status, 503);
    late.client.close();
  } finally {
    await a.close();
    await b.close();
    await s.stop();
  }
});

Deno.test("ws hub: text, malformed, empty, oversized and too frequent client messages close with their codes", async () => {
  const s = setup({ maxMessageBytes: 64, maxMessagesPerSecond: 5 });
  try {
    const cases: [string, (c: TestClient) => void | Promise<void>, number, string][] = [
      ["text", (c) => c.ws.send("hello"), 1003, "protocol"],
      ["malformed", (c) => c.ws.send(new Uint8Array([0x0a, 0x05, 0x01])), 1008, "protocol"],
      ["empty", (c) => c.ws.send(new Uint8Array(0)), 1008, "protocol"],
      ["too large", (c) => c.ws.send(new Uint8Array(65)), 1009, "too_large"],
      [
        "too frequent",
        // 6 pings into a full bucket of 5 (refilled at 5/s): only the 6th can be
        // refused, and is when the hub reads them within 200 ms. A busy hub may
        // read them more slowly and answer all 6; an idle second refills the
        // bucket and the next 6 go out.
        async (c) => {
          const heartbeats = () => c.messages.filter((m) => m.kind.case === "heartbeat").length;
          for (let burst = 0;; burst++) {
            assert.ok(burst < 20, "20 bursts of 6 pings, none refused by the rate limit");
            if (burst > 0) await new Promise((r) => setTimeout(r, 1100));
            const answered = heartbeats();
            for (let i = 0; i < 6; i++) c.send({ case: "ping", value: { nonce: i } });
            try {
              await c.until(() => heartbeats() === answered + 6, "6 heartbeats or a close");
            } catch (e) {
              if (c.ws.readyState === WebSocket.CLOSED) return;
              throw e;
            }
          }
        },
        1008,
        "rate_limit",
      ],
    ];
    for (const [name, act, code, reason] of cases) {
      const before = s.hub.disconnects;
      const c = new TestClient(s.url);
      await c.until((m) => m.length >= 1, `the Hello (${name})`);
      await act(c);
      const event = await c.closed;
      assert.equal(event.code, code, name);
      // A refusal by the WebSocket layer (e.g. the size, checked from the frame
      // header) is counted when the server's side ends, after the client's.
      const key = reason as keyof typeof before;
      await waitUntil(
        `the ${reason} disconnect counted`,
        () => s.hub.disconnects[key] > before[key],
      );
      assert.equal(s.hub.disconnects[key], before[key] + 1);
    }
    // Within the rate, pings are answered.
    const ok = new TestClient(s.url);
    await ok.until((m) => m.length >= 1, "the Hello");
    for (let i = 0; i < 4; i++) ok.send({ case: "ping", value: { nonce: i } });
    await ok.until((m) => m.length >= 5, "four heartbeats");
    assert.equal(ok.ws.readyState, WebSocket.OPEN);
    await ok.close();
    assert.equal(s.hub.clients, 0);
  } finally {
    await s.stop();
  }
});

Deno.test("ws route: 426 without an upgrade, 401 with a wrong token, upgrade through the hub", async () => {
  const s = setup();
  const server = serveHttp({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const ctx = {
      req,
      url: new URL(req.url),
      state: { service: { hub: s.hub, authToken: "s3cret" } },
    } as unknown as Context<State>;
    return handler.GET(ctx);
  });
  try {
    const base = `127.0.0.1:${server.addr.port}/ws`;
    const plain = await fetch(`http://${base}?token=s3cret`);
    assert.equal(plain.status, 426);
    assert.match(await plain.text(), /WebSocket only/);
    const wrong = await fetch(`http://${base}?token=nope`);
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const c = new TestClient(`ws://${base}?token=s3cret&symbol=ETHUSDT`);
    await c.until((m) => m.length >= 1, "the Hello");
    assert.equal(c.hellos()[0].symbol, "ETHUSDT");
    await c.close();
  } finally {
    await server.shutdown();
    await s.stop();
  }
});

Deno.test("ws hub: options are validated with clear errors", () => {
  const layout = new FrameSlotLayout({ levels: 2 });
  const history = new HistoryStore({ symbols: 2, layout });
  assert.throws(() => new WsHub({ history, symbols: ["A"] }), /expected 2 symbols/);
  assert.throws(() => new WsHub({ history, symbols: ["A", "a"] }), /unique/);
  assert.throws(
    () => new WsHub({ history, symbols: ["A", "B"], maxClients: 0 }),
    /maxClients must be a positive integer/,
  );
  assert.throws(
    () => new WsHub({ history, symbols: ["A", "B"], layout: new FrameSlotLayout({ levels: 2 }) }),
    /layout must be the history store's layout/,
  );
  assert.throws(
    () =>
      new WsHub({
        history,
        symbols: ["A", "B"],
        maxBufferedBytes: 1000,
        hardMaxBufferedBytes: 999,
      }),
    /hardMaxBufferedBytes must be at least maxBufferedBytes \(1000\), got 999/,
  );
  assert.throws(
    () => new WsHub({ history, symbols: ["A", "B"], maxBadRequestsPerMinute: 0 }),
    /maxBadRequestsPerMinute must be a positive number/,
  );
});
