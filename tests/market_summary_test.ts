/**
 * The market summary (`lib/server/market_summary.ts`, `MarketSummary` of
 * proto/market.proto): its columns against known frames, its wire form
 * decoded by protobuf-es and by the browser's own decoder
 * (`lib/client/summary_decode.ts`), and its fan-out by the hub: `?summary=1`,
 * `WatchSummary`, the same bytes to every client, one message per publish
 * (counted, not timed) and conflation for a client that stops reading.
 */
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { serveHttp } from "../lib/net/http_server.ts";
import {
  FRAME_ASK_COUNT,
  FRAME_BID_COUNT,
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI_10S,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
  FRAME_SYMBOL_ID,
  FRAME_VOLATILITY_1M,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { HistoryStore } from "../lib/server/history_store.ts";
import { MarketSummaryBuilder, withConflated } from "../lib/server/market_summary.ts";
import { WsHub } from "../lib/server/ws_hub.ts";
import {
  ClientMessageSchema,
  type MarketSummary,
  type ServerMessage,
  ServerMessageSchema,
} from "../proto/gen/market_pb.ts";
import { decodeSummary, SummaryColumns } from "../lib/client/summary_decode.ts";

const f32 = Math.fround;

interface Known {
  mid: number;
  spreadBps: number;
  imbalance5: number;
  ofi10s: number;
  vol1m: number;
  bidQuote10: number;
  askQuote10: number;
  receive: number;
}

function frameOf(layout: FrameSlotLayout, id: number, k: Known): Float64Array {
  const slot = new Float64Array(layout.slotWords).fill(NaN);
  slot[FRAME_SYMBOL_ID] = id;
  slot[FRAME_BID_COUNT] = 0;
  slot[FRAME_ASK_COUNT] = 0;
  slot[FRAME_MID] = k.mid;
  slot[FRAME_SPREAD_BPS] = k.spreadBps;
  slot[FRAME_IMBALANCE_5] = k.imbalance5;
  slot[FRAME_OFI_10S] = k.ofi10s;
  slot[FRAME_VOLATILITY_1M] = k.vol1m;
  slot[layout.depthBidQuote(0)] = k.bidQuote10;
  slot[layout.depthAskQuote(0)] = k.askQuote10;
  slot[FRAME_RECEIVE_TIME] = k.receive;
  return slot;
}

const NOW = 1_800_000_000_000;
const KNOWN: Known[] = [
  {
    mid: 65432.125,
    spreadBps: 0.153,
    imbalance5: -0.25,
    ofi10s: 12.5,
    vol1m: 0.0003,
    bidQuote10: 1.5e6,
    askQuote10: 2.25e6,
    receive: NOW - 120,
  },
  {
    mid: 0.00001234,
    spreadBps: 81.2,
    imbalance5: 0.75,
    ofi10s: -4e9,
    vol1m: 0.02,
    bidQuote10: 1200,
    askQuote10: 0,
    receive: NOW - 4000,
  },
];

function storeWithFrames(symbols = 3): { history: HistoryStore; layout: FrameSlotLayout } {
  const layout = new FrameSlotLayout({ levels: 5 });
  const history = new HistoryStore({ symbols, layout });
  // An older frame first: the summary must read the newest one.
  history.push(frameOf(layout, 0, { ...KNOWN[0], mid: 1 }));
  KNOWN.forEach((k, id) => history.push(frameOf(layout, id, k)));
  return { history, layout };
}

function summaryOf(bytes: Uint8Array): { message: ServerMessage; summary: MarketSummary } {
  const message = fromBinary(ServerMessageSchema, bytes);
  assert.equal(message.kind.case, "summary");
  return { message, summary: message.kind.value as MarketSummary };
}

Deno.test("market summary: every column holds the newest frame's value of each symbol, in symbol order", () => {
  const { history } = storeWithFrames();
  const states = [1, 2, 0];
  const builder = new MarketSummaryBuilder({
    history,
    epoch: "epoch-1",
    feedState: (id) => states[id],
    // Symbol 0 was 1 % lower a minute ago and 10 % lower 15 minutes ago; symbol 1's past is unknown.
    lookback: {
      midAt: (id, t) =>
        id !== 0
          ? NaN
          : t === NOW - 60_000
          ? KNOWN[0].mid / 1.01
          : t === NOW - 900_000
          ? KNOWN[0].mid / 1.1
          : NaN,
    },
  });
  const { summary } = summaryOf(builder.build(NOW));
  assert.equal(summary.epoch, "epoch-1");
  assert.equal(summary.seq, 1);
  assert.equal(summary.serverTime, NOW);
  assert.deepEqual([...summary.feedState], states);
  assert.deepEqual(summary.mid.slice(0, 2), [KNOWN[0].mid, KNOWN[1].mid], "mid is a double: exact");
  assert.ok(Number.isNaN(summary.mid[2]), "a symbol without a frame has NaN");
  const floats: [keyof MarketSummary, (k: Known) => number][] = [
    ["spreadBps", (k) => k.spreadBps],
    ["imbalanceL5", (k) => k.imbalance5],
    ["ofi10s", (k) => k.ofi10s],
    ["volatility1m", (k) => k.vol1m],
    ["depthBid10bps", (k) => k.bidQuote10],
    ["depthAsk10bps", (k) => k.askQuote10],
    ["ageMs", (k) => NOW - k.receive],
  ];
  for (const [name, expected] of floats) {
    const column = summary[name] as number[];
    assert.equal(column.length, 3, `${name}: one value per symbol`);
    assert.deepEqual(column.slice(0, 2), KNOWN.map((k) => f32(expected(k))), name);
    assert.ok(Number.isNaN(column[2]), `${name}: NaN without a frame`);
  }
  assert.ok(Math.abs(summary.change1m[0] - 0.01) < 1e-6, `change 1m ${summary.change1m[0]}`);
  assert.ok(Math.abs(summary.change15m[0] - 0.1) < 1e-6, `change 15m ${summary.change15m[0]}`);
  assert.ok(Number.isNaN(summary.change1m[1]) && Number.isNaN(summary.change15m[1]));
  assert.ok(Number.isNaN(summary.change1m[2]));
  // Each build is the next seq; without a lookback the changes are NaN.
  builder.setLookback(undefined);
  const next = summaryOf(builder.build(NOW + 1000)).summary;
  assert.equal(next.seq, 2);
  assert.equal(builder.seq, 2);
  assert.ok(next.change1m.every(Number.isNaN) && next.change15m.every(Number.isNaN));
  assert.equal(builder.bytesBuilt, builder.latest!.length * 2);
});

Deno.test("market summary: the browser's decoder reads what protobuf-es writes, columns reused", () => {
  const n = 4;
  const init = {
    epoch: "e",
    seq: 7,
    serverTime: NOW,
    feedState: new Uint8Array([1, 0, 2, 3]),
    mid: [1.5, NaN, 3e-8, 65000.25],
    change1m: [0.01, NaN, -0.5, 0],
    change15m: [0.1, -0.2, NaN, 0],
    spreadBps: [1, 2, 3, 4],
    imbalanceL5: [-1, 0, 0.5, 1],
    ofi10s: [10, -20, 0, NaN],
    volatility1m: [0.1, 0.2, 0.3, 0.4],
    depthBid10bps: [1e6, 2, 3, 4],
    depthAsk10bps: [5, 6, 7e7, 8],
    ageMs: [100, 200, NaN, 1e6],
  };
  const bytes = toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, { kind: { case: "summary", value: init }, conflated: 2 }),
  );
  const columns = new SummaryColumns(n);
  const arrays = [columns.mid, columns.spreadBps, columns.feedState];
  const info = decodeSummary(bytes, columns);
  assert.ok(info !== null);
  assert.equal(info.seq, 7);
  assert.equal(info.serverTime, NOW);
  assert.equal(info.conflated, 2);
  assert.equal(info.epoch, "e");
  assert.deepEqual([...columns.feedState], [1, 0, 2, 3]);
  assert.deepEqual([...columns.mid], init.mid);
  const pairs: [Float32Array | Float64Array, number[]][] = [
    [columns.change1m, init.change1m],
    [columns.change15m, init.change15m],
    [columns.spreadBps, init.spreadBps],
    [columns.imbalanceL5, init.imbalanceL5],
    [columns.ofi10s, init.ofi10s],
    [columns.volatility1m, init.volatility1m],
    [columns.depthBid10bps, init.depthBid10bps],
    [columns.depthAsk10bps, init.depthAsk10bps],
    [columns.ageMs, init.ageMs],
  ];
  for (const [got, want] of pairs) assert.deepEqual([...got], want.map(f32));
  assert.deepEqual([columns.mid, columns.spreadBps, columns.feedState], arrays, "no new arrays");
  // Not a summary: null. A summary for another number of symbols: an error naming both.
  const hello = toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, { kind: { case: "heartbeat", value: { nonce: 1 } } }),
  );
  assert.equal(decodeSummary(hello, columns), null);
  assert.throws(() => decodeSummary(bytes, new SummaryColumns(3)), /4 values.*3 symbols/);
  // The server's own bytes, with a conflated count appended, decode the same way.
  const { history } = storeWithFrames();
  const built = new MarketSummaryBuilder({ history, epoch: "x", feedState: () => 1 }).build(NOW);
  const three = new SummaryColumns(3);
  const again = decodeSummary(withConflated(built, 5), three);
  assert.equal(again?.conflated, 5);
  assert.deepEqual([...three.mid.slice(0, 2)], [KNOWN[0].mid, KNOWN[1].mid]);
  assert.throws(() => withConflated(built, 0), /skipped must be an integer from 1/);
});

Deno.test("market summary: 2,000 symbols fit in under 100 KB per message (one message per second)", () => {
  const layout = new FrameSlotLayout({ levels: 20 });
  const n = 2000;
  const history = new HistoryStore({ symbols: n, layout, depth: 1 });
  for (let id = 0; id < n; id++) history.push(frameOf(layout, id, KNOWN[id % 2]));
  const builder = new MarketSummaryBuilder({
    history,
    epoch: crypto.randomUUID(),
    feedState: () => 1,
    lookback: { midAt: () => 1 },
  });
  const bytes = builder.build(NOW);
  assert.ok(bytes.length < 100_000, `${bytes.length} bytes`);
  assert.ok(bytes.length >= 45 * n, `${bytes.length} bytes: 45 a symbol`);
});

/** A WebSocket client recording every decoded message. */
class Client {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly raw: Uint8Array[] = [];
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => {
      const bytes = new Uint8Array(e.data);
      this.raw.push(bytes);
      this.messages.push(fromBinary(ServerMessageSchema, bytes));
    };
  }
  summaries(): MarketSummary[] {
    return this.messages.flatMap((m) => m.kind.case === "summary" ? [m.kind.value] : []);
  }
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.addEventListener("close", r));
    this.ws.close();
    await closed;
  }
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000; // a hang guard only
  while (!cond()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function hubOn(symbols: string[], maxBufferedBytes?: number) {
  const layout = new FrameSlotLayout({ levels: 5 });
  const history = new HistoryStore({ symbols: symbols.length, layout, depth: 2 });
  symbols.forEach((_, id) => history.push(frameOf(layout, id, KNOWN[id % 2])));
  const hub = new WsHub({
    history,
    symbols,
    maxBufferedBytes,
    maxBehindMs: 600_000,
    drainCheckMs: 10,
  });
  const builder = new MarketSummaryBuilder({ history, epoch: hub.epoch, feedState: () => 1 });
  const server = serveHttp(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (r) => hub.upgrade(r),
  );
  return {
    hub,
    builder,
    history,
    layout,
    port: server.addr.port,
    url: `ws://127.0.0.1:${server.addr.port}/ws`,
    async stop() {
      hub.close("test over");
      await server.shutdown();
    },
  };
}

Deno.test("ws hub: ?summary=1 gets a symbol-less Hello and one summary per publish, the same bytes as every other client", async () => {
  const s = hubOn(["BTCUSDT", "ETHUSDT"]);
  const a = new Client(`${s.url}?summary=1`);
  const b = new Client(`${s.url}?summary=true&symbol=ethusdt`);
  const plain = new Client(s.url);
  try {
    await until("three clients", () => s.hub.clients === 3 && s.hub.summaryClients === 2);
    await until("the Hellos", () => [a, b, plain].every((c) => c.messages.length >= 1));
    const hello = a.messages[0].kind;
    assert.equal(hello.case, "hello");
    assert.equal(hello.value.symbol, "");
    assert.deepEqual(hello.value.symbols, ["BTCUSDT", "ETHUSDT"]);
    assert.deepEqual(hello.value.subscribed, []);
    assert.equal(hello.value.history.length, 0);
    assert.equal(hello.value.epoch, s.hub.epoch);
    assert.equal(s.hub.subscribers(0), 1, "only the plain client follows BTCUSDT");
    assert.equal(s.hub.subscribers(1), 1, "symbol= with summary=1 still subscribes");
    // k publishes: k summaries, seq 1..k, to each summary client; none to the plain one.
    const k = 5;
    for (let i = 0; i < k; i++) s.hub.publishSummary(s.builder.build(NOW + i * 1000));
    await until("every summary", () => a.summaries().length === k && b.summaries().length === k);
    assert.deepEqual(a.summaries().map((x) => x.seq), [1, 2, 3, 4, 5]);
    assert.deepEqual(b.summaries().map((x) => x.seq), [1, 2, 3, 4, 5]);
    assert.equal(plain.summaries().length, 0);
    assert.deepEqual(a.raw.at(-1), s.builder.latest, "the builder's bytes, unchanged");
    assert.equal(s.hub.summariesSent, 2 * k);
    assert.equal(s.hub.summaryBytesSent, 2 * k * (s.builder.latest!.length + 4));
    assert.equal(s.hub.summariesConflated, 0);
    // WatchSummary toggles it on any connection.
    const toggle = (c: Client, enabled: boolean) =>
      c.ws.send(toBinary(
        ClientMessageSchema,
        create(ClientMessageSchema, { kind: { case: "watchSummary", value: { enabled } } }),
      ));
    toggle(plain, true);
    toggle(a, false);
    // A ping after each toggle: its Heartbeat means the toggle before it was handled.
    for (const c of [plain, a]) {
      c.ws.send(toBinary(
        ClientMessageSchema,
        create(ClientMessageSchema, { kind: { case: "ping", value: { nonce: 9 } } }),
      ));
    }
    await until(
      "the toggles",
      () => [plain, a].every((c) => c.messages.some((m) => m.kind.case === "heartbeat")),
    );
    assert.equal(s.hub.summaryClients, 2);
    s.hub.publishSummary(s.builder.build(NOW + k * 1000));
    await until("the summary after the toggles", () => plain.summaries().length === 1);
    assert.equal(plain.summaries()[0].seq, k + 1);
    assert.equal(b.summaries().length, k + 1);
    assert.equal(a.summaries().length, k, "a stopped receiving");
  } finally {
    await Promise.all([a.close(), b.close(), plain.close()]);
    await s.stop();
  }
});

/** Parse one unmasked server frame from the front of `b`. */
function parseFrame(b: Uint8Array): { payload: Uint8Array; end: number } | null {
  if (b.length < 2) return null;
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
  return { payload: b.subarray(at, at + len), end: at + len };
}

Deno.test("ws hub: a summary client that stops reading gets only the newest summary when it drains, conflated counted", async () => {
  // 2,000 symbols: a summary is ~90 KB, so a client that does not read falls behind quickly.
  const names = Array.from({ length: 2000 }, (_, i) => `S${String(i).padStart(4, "0")}USDT`);
  const s = hubOn(names, 256 * 1024);
  const fast = new Client(`${s.url}?summary=1`);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  try {
    await conn.write(new TextEncoder().encode(
      `GET /ws?summary=1 HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    ));
    await until("two summary clients", () => s.hub.summaryClients === 2);
    // Publish (each one waits for the fast client) until the silent one has missed 3.
    let published = 0;
    while (s.hub.summariesConflated < 3) {
      assert.ok(published < 2000, "the silent client never fell behind");
      s.hub.publishSummary(s.builder.build(NOW + published * 1000));
      published++;
      await until(
        `summary ${published} on the fast client`,
        () => fast.summaries().length === published,
      );
    }
    assert.equal(s.hub.clientsBehind, 1);
    assert.deepEqual(
      fast.summaries().map((x) => x.seq),
      Array.from({ length: published }, (_, i) => i + 1),
    );
    // The silent client now reads everything: its summaries are consecutive up to a
    // jump to the newest, whose `conflated` is the number skipped.
    let buf = new Uint8Array(0);
    const chunk = new Uint8Array(1 << 20);
    const seqs: number[] = [];
    let last: { seq: number; conflated: number } | undefined;
    let headDone = false;
    while (last === undefined) {
      const n = await conn.read(chunk);
      assert.ok(n !== null, "the silent client's connection ended");
      const joined = new Uint8Array(buf.length + n);
      joined.set(buf);
      joined.set(chunk.subarray(0, n), buf.length);
      buf = joined;
      if (!headDone) {
        const end = new TextDecoder().decode(buf).indexOf("\r\n\r\n");
        if (end < 0) continue;
        buf = buf.subarray(end + 4);
        headDone = true;
      }
      for (let f = parseFrame(buf); f !== null; f = parseFrame(buf)) {
        buf = buf.subarray(f.end);
        const m = fromBinary(ServerMessageSchema, f.payload);
        if (m.kind.case !== "summary") continue;
        if (m.conflated > 0) last = { seq: m.kind.value.seq, conflated: m.conflated };
        else seqs.push(m.kind.value.seq);
      }
    }
    assert.deepEqual(
      seqs,
      Array.from({ length: seqs.length }, (_, i) => i + 1),
      "in order before the jump",
    );
    assert.equal(last.seq, published, "the newest summary");
    assert.equal(last.seq, seqs.length + last.conflated + 1, "seq jumps by conflated + 1");
    assert.equal(last.conflated, s.hub.summariesConflated);
    assert.equal(s.hub.disconnects.slow, 0);
  } finally {
    conn.close();
    await fast.close();
    await s.stop();
  }
});
