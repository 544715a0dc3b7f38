/**
 * The simulated exchange speaks each venue's protocol: real WebSocket clients
 * written here (plain `WebSocket` + `JSON.parse`, independent of lib/ingest)
 * subscribe, rebuild the book, check the sequence rules and checksums against
 * reference computations written here, and check that each fault does exactly
 * what it says, counted against the simulator's stats. The clock is stopped
 * (`rate: 0`): frames come from `sim.step()`, so every count is exact.
 */
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { type SimExchange, startSimExchange } from "../lib/sim/sim_exchange.ts";
import { BookModel } from "../lib/sim/book_model.ts";
import { FairPath } from "../lib/sim/venues/fair_path.ts";
import { venueSimSymbol } from "../lib/sim/venues/venue_symbol.ts";
import { parseFault } from "../lib/sim/sim_fault.ts";
import { parseSimArgs } from "../lib/sim/sim_main.ts";
import { krakenChecksum, LevelTexts, okxChecksum } from "../lib/sim/venues/venue_checksum.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** A WebSocket client that queues what it receives. */
class Client {
  readonly ws: WebSocket;
  readonly messages: string[] = [];
  #read = 0;
  #wake: (() => void) | null = null;
  closeEvent: CloseEvent | undefined;
  readonly closed: Promise<CloseEvent>;
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error(`could not connect to ${url}`));
    });
    this.ws.onmessage = (e) => {
      this.messages.push(String(e.data));
      this.#wake?.();
    };
    this.closed = new Promise((resolve) => {
      this.ws.onclose = (e) => {
        this.closeEvent = e;
        this.#wake?.();
        resolve(e);
      };
    });
  }

  static async open(url: string): Promise<Client> {
    const c = new Client(url);
    await c.opened;
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** The next message (text), waiting up to 10 s. */
  async next(): Promise<string> {
    const deadline = Date.now() + 10_000;
    while (this.#read >= this.messages.length) {
      if (this.closeEvent !== undefined) throw new Error("socket closed, no message left");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within 10 s (read ${this.#read})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          this.#wake = null;
          resolve();
        };
      });
    }
    return this.messages[this.#read++];
  }

  /** The next message that `keep` accepts (others are skipped, e.g. heartbeats). */
  async nextWhere(keep: (text: string) => boolean): Promise<string> {
    for (;;) {
      const m = await this.next();
      if (keep(m)) return m;
    }
  }

  /** Unread messages right now. */
  get pending(): number {
    return this.messages.length - this.#read;
  }

  async close(): Promise<void> {
    if (this.closeEvent === undefined) this.ws.close();
    await this.closed;
  }
}

/** One side of a book kept as the text the venue sent: price text → size text. */
class TextSide {
  readonly levels = new Map<string, string>();
  constructor(readonly descending: boolean) {}
  set(price: string, size: string): void {
    if (Number(size) === 0) this.levels.delete(price);
    else this.levels.set(price, size);
  }
  sorted(): [string, string][] {
    const out = [...this.levels];
    out.sort((a, b) => this.descending ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0]));
    return out;
  }
  truncate(depth: number): void {
    for (const [p] of this.sorted().slice(depth)) this.levels.delete(p);
  }
}

/** OKX's checksum, written here from the documentation. */
function okxReference(bids: [string, string][], asks: [string, string][]): number {
  const parts: string[] = [];
  for (let i = 0; i < 25; i++) {
    if (i < bids.length) parts.push(bids[i][0], bids[i][1]);
    if (i < asks.length) parts.push(asks[i][0], asks[i][1]);
  }
  return crc32(parts.join(":")) | 0;
}

/** Kraken's checksum, written here from the documentation. */
function krakenReference(bids: [string, string][], asks: [string, string][]): number {
  const strip = (t: string) => t.replace(".", "").replace(/^0+(?=\d)/, "");
  let s = "";
  for (const [p, q] of asks.slice(0, 10)) s += strip(p) + strip(q);
  for (const [p, q] of bids.slice(0, 10)) s += strip(p) + strip(q);
  return crc32(s) >>> 0;
}

/** The number tokens of Kraken's levels, as written in the raw text. */
function krakenLevels(raw: string, side: "bids" | "asks"): [string, string][] {
  const start = raw.indexOf(`"${side}":[`);
  assert.ok(start >= 0, `no ${side} in ${raw.slice(0, 200)}`);
  const end = raw.indexOf("]", start);
  const out: [string, string][] = [];
  const re = /\{"price":([0-9.]+),"qty":([0-9.]+)\}/g;
  const body = raw.slice(start, end);
  for (const m of body.matchAll(re)) out.push([m[1], m[2]]);
  return out;
}

async function withSim(
  symbols: string[],
  fn: (sim: SimExchange) => Promise<void>,
  extra: { heartbeatMs?: number } = {},
): Promise<void> {
  const sim = await startSimExchange({
    symbols,
    rate: 0,
    seed: 7,
    heartbeatMs: 3_600_000,
    ...extra,
  });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

/** Steps until the symbol sent at least one more data message than before; returns how many it sent. */
function stepUntilSent(sim: SimExchange, key: string, frames = 1): number {
  const before = sim.stats().framesSent[key];
  for (let i = 0; i < 1000; i++) {
    sim.step(frames);
    const sent = sim.stats().framesSent[key] - before;
    if (sent > 0) return sent;
  }
  throw new Error(`${key} sent nothing in 1000 frames`);
}

// ---------------------------------------------------------------- Bybit

Deno.test("bybit: ack, snapshot, deltas with u = prev + 1 and rising seq, book equals a fresh snapshot, ping", async () => {
  await withSim(["bybit:btcusdt"], async (sim) => {
    const key = "bybit:BTCUSDT";
    const c = await Client.open(sim.venueUrls.bybit.wsUrl);
    c.send({ op: "subscribe", args: ["orderbook.50.BTCUSDT"], req_id: "a1" });
    const ack = JSON.parse(await c.next());
    assert.deepEqual(Object.keys(ack).sort(), ["conn_id", "op", "req_id", "ret_msg", "success"]);
    assert.equal(ack.success, true);
    assert.equal(ack.op, "subscribe");
    assert.equal(ack.req_id, "a1");
    assert.equal(ack.ret_msg, "");
    const snap = JSON.parse(await c.next());
    assert.equal(snap.type, "snapshot");
    assert.equal(snap.topic, "orderbook.50.BTCUSDT");
    assert.equal(snap.data.s, "BTCUSDT");
    assert.equal(snap.data.b.length, 50);
    assert.equal(snap.data.a.length, 50);
    assert.match(snap.data.b[0][0], /^\d+\.\d{2}$/);
    const bids = new TextSide(true), asks = new TextSide(false);
    for (const [p, q] of snap.data.b) bids.set(p, q);
    for (const [p, q] of snap.data.a) asks.set(p, q);
    let u = snap.data.u, seq = snap.data.seq;
    const before = sim.stats().updatesSent[key];
    sim.step(40);
    const sent = sim.stats().updatesSent[key] - before;
    assert.ok(sent > 30, `expected most of 40 frames to change the top 50, got ${sent}`);
    for (let k = 0; k < sent; k++) {
      const d = JSON.parse(await c.next());
      assert.equal(d.type, "delta");
      assert.equal(d.data.u, u + 1, "u must be previous u + 1");
      assert.ok(d.data.seq > seq, "seq must increase");
      u = d.data.u;
      seq = d.data.seq;
      for (const [p, q] of d.data.b) bids.set(p, q);
      for (const [p, q] of d.data.a) asks.set(p, q);
    }
    c.send({ op: "ping", req_id: "p" });
    const pong = JSON.parse(await c.next());
    assert.equal(pong.op, "ping");
    assert.equal(pong.ret_msg, "pong");
    assert.equal(sim.stats().pongsSent, 1);
    // A second client's snapshot now equals the first client's rebuilt book.
    const c2 = await Client.open(sim.venueUrls.bybit.wsUrl.replace("/spot", "/linear"));
    c2.send({ op: "subscribe", args: ["orderbook.50.BTCUSDT"] });
    assert.equal(JSON.parse(await c2.next()).success, true);
    const fresh = JSON.parse(await c2.next());
    assert.equal(fresh.data.u, u);
    assert.deepEqual(bids.sorted(), fresh.data.b);
    assert.deepEqual(asks.sorted(), fresh.data.a);
    // Unknown topic: the request fails and says which topic.
    c2.send({ op: "subscribe", args: ["orderbook.50.NOPEUSDT"] });
    const fail = JSON.parse(await c2.next());
    assert.equal(fail.success, false);
    assert.match(fail.ret_msg, /NOPEUSDT/);
    assert.equal(sim.stats().clientErrors, 1);
    await c.close();
    await c2.close();
  });
});

Deno.test("bybit faults: gap skips exactly one u, reset sends a snapshot with u = 1, stall withholds then jumps, truncated and garbage are malformed", async () => {
  await withSim(["bybit:btcusdt", "okx:btc-usdt"], async (sim) => {
    const key = "bybit:BTCUSDT";
    const c = await Client.open(sim.venueUrls.bybit.wsUrl);
    c.send({ op: "subscribe", args: ["orderbook.50.BTCUSDT"] });
    await c.next();
    let u = JSON.parse(await c.next()).data.u;
    // gap: one delta withheld, the next has u = last + 2.
    sim.inject({ kind: "gap", symbol: "bybit:btcusdt" });
    let n = stepUntilSent(sim, key);
    assert.equal(n, 1);
    assert.equal(sim.stats().gapEventsDropped[key], 1);
    let d = JSON.parse(await c.next());
    assert.equal(d.data.u, u + 2);
    u = d.data.u;
    // reset: a snapshot with u = 1, then deltas from 2.
    sim.inject({ kind: "reset", symbol: "bybit:btcusdt" });
    sim.step(1);
    const r = JSON.parse(await c.next());
    assert.equal(r.type, "snapshot");
    assert.equal(r.data.u, 1);
    assert.equal(sim.stats().resetsSent[key], 1);
    n = stepUntilSent(sim, key);
    d = JSON.parse(await c.next());
    assert.equal(d.type, "delta");
    assert.equal(d.data.u, 2);
    u = 2;
    // stall: nothing for 5 frames; the next delta's u jumps by the withheld count + 1.
    const stalledBefore = sim.stats().framesStalled;
    sim.inject({ kind: "stall", symbol: "bybit:btcusdt" });
    sim.step(5);
    const stalled = sim.stats().framesStalled - stalledBefore;
    assert.ok(stalled >= 1);
    assert.equal(c.pending, 0);
    sim.inject({ kind: "clear" });
    stepUntilSent(sim, key);
    d = JSON.parse(await c.next());
    assert.equal(d.data.u, u + stalled + 1);
    // truncated: the next message is cut (not JSON); garbage: a non-JSON message.
    sim.inject({ kind: "truncated", symbol: "bybit:btcusdt" });
    assert.equal(stepUntilSent(sim, key), 1);
    const cut = await c.next();
    assert.throws(() => JSON.parse(cut));
    assert.ok(cut.startsWith('{"topic":"orderbook.50.BTCUSDT","type":"delta"'));
    assert.equal(sim.stats().framesTruncated, 1);
    sim.inject({ kind: "garbage", symbol: "bybit:btcusdt" });
    const garbage = await c.next();
    assert.throws(() => JSON.parse(garbage));
    assert.equal(sim.stats().garbageSent, 1);
    assert.equal(c.pending, 0);
    // checksum faults are refused for Bybit (no checksum), accepted for OKX.
    assert.throws(
      () => sim.inject({ kind: "checksum", symbol: "bybit:btcusdt" }),
      /only OKX and Kraken send checksums/,
    );
    sim.inject({ kind: "checksum", symbol: "okx:btc-usdt" });
    await c.close();
  });
});

// ---------------------------------------------------------------- OKX

/** Subscribes an OKX client to books BTC-USDT and returns its book and sequence after the snapshot. */
async function okxSubscribe(sim: SimExchange) {
  const c = await Client.open(sim.venueUrls.okx.wsUrl);
  c.send({ op: "subscribe", args: [{ channel: "books", instId: "BTC-USDT" }] });
  const ack = JSON.parse(await c.next());
  assert.equal(ack.event, "subscribe");
  assert.deepEqual(ack.arg, { channel: "books", instId: "BTC-USDT" });
  assert.equal(typeof ack.connId, "string");
  const snap = JSON.parse(await c.next());
  assert.equal(snap.action, "snapshot");
  const data = snap.data[0];
  assert.equal(data.prevSeqId, -1);
  assert.equal(data.bids.length, 400);
  const bids = new TextSide(true), asks = new TextSide(false);
  for (const l of data.bids) bids.set(l[0], l[1]);
  for (const l of data.asks) asks.set(l[0], l[1]);
  assert.equal(okxReference(bids.sorted(), asks.sorted()), data.checksum);
  return { c, bids, asks, seqId: data.seqId as number };
}

Deno.test("okx: ack, snapshot, seqId chain, every checksum verifies, keep-alives when quiet, ping, unsubscribe", async () => {
  await withSim(["okx:btc-usdt"], async (sim) => {
    const key = "okx:BTC-USDT";
    const { c, bids, asks, seqId: first } = await okxSubscribe(sim);
    let seqId = first;
    const before = sim.stats().updatesSent[key];
    sim.step(30);
    const sent = sim.stats().updatesSent[key] - before;
    assert.ok(sent > 20);
    for (let k = 0; k < sent; k++) {
      const m = JSON.parse(await c.next());
      assert.equal(m.action, "update");
      const d = m.data[0];
      assert.equal(d.prevSeqId, seqId);
      assert.ok(d.seqId > seqId);
      seqId = d.seqId;
      for (const l of d.bids) bids.set(l[0], l[1]);
      for (const l of d.asks) asks.set(l[0], l[1]);
      assert.equal(okxReference(bids.sorted(), asks.sorted()), d.checksum, `update ${k}`);
      assert.ok(d.bids.every((l: string[]) => l.length === 4 && !/\.\d*0$/.test(l[0])));
    }
    // quiet: 25 unchanged frames → exactly 2 empty keep-alives (every 10 frames).
    sim.inject({ kind: "quiet", symbol: "okx:btc-usdt", frames: 25 });
    sim.step(25);
    assert.equal(sim.stats().keepAlivesSent[key], 2);
    for (let k = 0; k < 2; k++) {
      const d = JSON.parse(await c.next()).data[0];
      assert.deepEqual([d.bids, d.asks], [[], []]);
      assert.equal(d.seqId, seqId);
      assert.equal(d.prevSeqId, seqId);
      assert.equal(okxReference(bids.sorted(), asks.sorted()), d.checksum);
    }
    assert.equal(c.pending, 0);
    c.send("ping");
    assert.equal(await c.next(), "pong");
    c.send({ op: "unsubscribe", args: [{ channel: "books", instId: "BTC-USDT" }] });
    assert.equal(JSON.parse(await c.next()).event, "unsubscribe");
    const after = sim.stats().framesSent[key];
    sim.step(5);
    assert.equal(sim.stats().framesSent[key], after, "nothing is sent after unsubscribe");
    c.send({ op: "subscribe", args: [{ channel: "books", instId: "DOGE-USDT" }] });
    const err = JSON.parse(await c.next());
    assert.equal(err.event, "error");
    assert.equal(err.code, "60018");
    await c.close();
  });
});

Deno.test("okx faults: reset is one seqId below its prevSeqId and the book stays right; gap breaks the prevSeqId chain once", async () => {
  await withSim(["okx:btc-usdt"], async (sim) => {
    const key = "okx:BTC-USDT";
    const { c, bids, asks, seqId: first } = await okxSubscribe(sim);
    let seqId = first;
    const read = async (n: number) => {
      const out = { resets: 0, breaks: 0, mismatches: 0 };
      for (let k = 0; k < n; k++) {
        const d = JSON.parse(await c.next()).data[0];
        if (d.seqId < d.prevSeqId) out.resets++;
        if (d.prevSeqId !== seqId) out.breaks++;
        seqId = d.seqId;
        for (const l of d.bids) bids.set(l[0], l[1]);
        for (const l of d.asks) asks.set(l[0], l[1]);
        if (okxReference(bids.sorted(), asks.sorted()) !== d.checksum) out.mismatches++;
      }
      return out;
    };
    sim.step(3);
    sim.inject({ kind: "reset", symbol: "okx:btc-usdt" });
    sim.step(10);
    assert.equal(sim.stats().resetsSent[key], 1);
    assert.deepEqual(await read(sim.stats().updatesSent[key]), {
      resets: 1,
      breaks: 0,
      mismatches: 0,
    });
    const before = sim.stats().updatesSent[key];
    sim.inject({ kind: "gap", symbol: "okx:btc-usdt" });
    sim.step(10);
    assert.equal(sim.stats().gapEventsDropped[key], 1);
    const after = await read(sim.stats().updatesSent[key] - before);
    assert.equal(after.resets, 0);
    assert.equal(after.breaks, 1);
    assert.ok(after.mismatches >= 1, "the lost update leaves the client's book wrong");
    await c.close();
  });
});

Deno.test("okx checksum fault alone: exactly one update fails the client's checksum, the book stays right", async () => {
  await withSim(["okx:btc-usdt"], async (sim) => {
    const { c, bids, asks } = await okxSubscribe(sim);
    sim.step(3);
    sim.inject({ kind: "checksum", symbol: "okx:btc-usdt", count: 1 });
    sim.step(10);
    const total = sim.stats().updatesSent["okx:BTC-USDT"];
    let mismatches = 0;
    for (let k = 0; k < total; k++) {
      const d = JSON.parse(await c.next()).data[0];
      for (const l of d.bids) bids.set(l[0], l[1]);
      for (const l of d.asks) asks.set(l[0], l[1]);
      if (okxReference(bids.sorted(), asks.sorted()) !== d.checksum) mismatches++;
    }
    assert.equal(mismatches, 1);
    assert.equal(sim.stats().badChecksumsSent["okx:BTC-USDT"], 1);
    await c.close();
  });
});

// ---------------------------------------------------------------- Kraken

async function krakenSubscribe(sim: SimExchange) {
  const c = await Client.open(sim.venueUrls.kraken.wsUrl);
  const status = JSON.parse(await c.next());
  assert.equal(status.channel, "status");
  assert.equal(status.data[0].system, "online");
  assert.equal(status.data[0].api_version, "v2");
  c.send({
    method: "subscribe",
    params: { channel: "book", symbol: ["BTC/USD"], depth: 10, snapshot: true },
    req_id: 42,
  });
  const notBeat = (t: string) => t !== '{"channel":"heartbeat"}';
  const ack = JSON.parse(await c.nextWhere(notBeat));
  assert.equal(ack.method, "subscribe");
  assert.equal(ack.success, true);
  assert.equal(ack.req_id, 42);
  assert.deepEqual(ack.result, { channel: "book", depth: 10, snapshot: true, symbol: "BTC/USD" });
  assert.equal(typeof ack.time_in, "string");
  const raw = await c.nextWhere(notBeat);
  const snap = JSON.parse(raw);
  assert.equal(snap.channel, "book");
  assert.equal(snap.type, "snapshot");
  const bids = new TextSide(true), asks = new TextSide(false);
  for (const [p, q] of krakenLevels(raw, "bids")) bids.set(p, q);
  for (const [p, q] of krakenLevels(raw, "asks")) asks.set(p, q);
  assert.equal(bids.levels.size, 10);
  assert.equal(krakenReference(bids.sorted(), asks.sorted()), snap.data[0].checksum);
  return { c, bids, asks, raw, notBeat };
}

/** Applies a Kraken update (raw text) and says whether its checksum matches the client's book. */
function krakenApply(raw: string, bids: TextSide, asks: TextSide): boolean {
  const msg = JSON.parse(raw);
  if (msg.type === "snapshot") {
    bids.levels.clear();
    asks.levels.clear();
  }
  for (const [p, q] of krakenLevels(raw, "bids")) bids.set(p, q);
  for (const [p, q] of krakenLevels(raw, "asks")) asks.set(p, q);
  bids.truncate(10);
  asks.truncate(10);
  return krakenReference(bids.sorted(), asks.sorted()) === msg.data[0].checksum;
}

Deno.test("kraken: status, ack, snapshot, number text keeps trailing zeros, every checksum verifies, ping, heartbeat", async () => {
  await withSim(["kraken:btc/usd"], async (sim) => {
    const key = "kraken:BTC/USD";
    const { c, bids, asks, raw, notBeat } = await krakenSubscribe(sim);
    // Number tokens: fixed decimals, trailing zeros kept; JSON.parse loses them.
    const tokens = krakenLevels(raw, "bids");
    assert.ok(tokens.every(([p, q]) => /^\d+\.\d{2}$/.test(p) && /^\d+\.\d{8}$/.test(q)));
    assert.ok(
      tokens.some(([, q]) => String(Number(q)) !== q),
      "some quantity must lose zeros in JSON.parse",
    );
    sim.step(30);
    const sent = sim.stats().updatesSent[key];
    assert.ok(sent > 10);
    for (let k = 0; k < sent; k++) {
      const text = await c.nextWhere(notBeat);
      assert.equal(JSON.parse(text).type, "update");
      assert.match(JSON.parse(text).data[0].timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.ok(krakenApply(text, bids, asks), `update ${k}: checksum must verify`);
    }
    c.send({ method: "ping", req_id: 9 });
    const pong = JSON.parse(await c.nextWhere(notBeat));
    assert.equal(pong.method, "pong");
    assert.equal(pong.req_id, 9);
    c.send({ method: "subscribe", params: { channel: "book", symbol: ["BTC/XYZ"] } });
    const err = JSON.parse(await c.nextWhere(notBeat));
    assert.equal(err.success, false);
    assert.match(err.error, /BTC\/XYZ/);
    await c.close();
  });
  await withSim(["kraken:btc/usd"], async (sim) => {
    const { c } = await krakenSubscribe(sim);
    assert.equal(await c.next(), '{"channel":"heartbeat"}');
    assert.ok(sim.stats().heartbeatsSent >= 1);
    await c.close();
  }, { heartbeatMs: 20 });
});

Deno.test("kraken faults: checksum → exactly one mismatch; gap → the next update mismatches; reset → new snapshot that verifies", async () => {
  await withSim(["kraken:btc/usd"], async (sim) => {
    const key = "kraken:BTC/USD";
    const { c, bids, asks, notBeat } = await krakenSubscribe(sim);
    sim.step(3);
    sim.inject({ kind: "checksum", symbol: "kraken:btc/usd" });
    sim.step(5);
    let total = sim.stats().updatesSent[key];
    let bad = 0;
    for (let k = 0; k < total; k++) if (!krakenApply(await c.nextWhere(notBeat), bids, asks)) bad++;
    assert.equal(bad, 1);
    assert.equal(sim.stats().badChecksumsSent[key], 1);
    // gap: a dropped update; the next one no longer matches the client's book.
    sim.inject({ kind: "gap", symbol: "kraken:btc/usd" });
    const sentBefore = sim.stats().updatesSent[key];
    stepUntilSent(sim, key);
    assert.equal(sim.stats().gapEventsDropped[key], 1);
    assert.equal(sim.stats().updatesSent[key] - sentBefore, 1);
    assert.equal(krakenApply(await c.nextWhere(notBeat), bids, asks), false);
    // reset: a new snapshot; the client rebuilds and verifies again.
    sim.inject({ kind: "reset", symbol: "kraken:btc/usd" });
    sim.step(1);
    const r = await c.nextWhere(notBeat);
    assert.equal(JSON.parse(r).type, "snapshot");
    assert.ok(krakenApply(r, bids, asks));
    assert.equal(sim.stats().resetsSent[key], 1);
    const base = sim.stats().updatesSent[key];
    sim.step(5);
    total = sim.stats().updatesSent[key] - base;
    for (let k = 0; k < total; k++) assert.ok(krakenApply(await c.nextWhere(notBeat), bids, asks));
    await c.close();
  });
});

// ---------------------------------------------------------------- Coinbase

Deno.test("coinbase: snapshot then subscriptions, updates rebuild the book, sequence_num +1 across all channels, heartbeats, reset", async () => {
  await withSim(["coinbase:btc-usd"], async (sim) => {
    const key = "coinbase:BTC-USD";
    const c = await Client.open(sim.venueUrls.coinbase.wsUrl);
    c.send({ type: "subscribe", product_ids: ["BTC-USD"], channel: "level2" });
    const snap = JSON.parse(await c.next());
    assert.equal(snap.channel, "l2_data");
    assert.equal(snap.sequence_num, 0);
    assert.equal(snap.events[0].type, "snapshot");
    assert.equal(snap.events[0].product_id, "BTC-USD");
    const subs = JSON.parse(await c.next());
    assert.equal(subs.channel, "subscriptions");
    assert.equal(subs.sequence_num, 1);
    assert.deepEqual(subs.events[0].subscriptions, { level2: ["BTC-USD"] });
    const bids = new TextSide(true), asks = new TextSide(false);
    const apply = (ev: Json) => {
      if (ev.type === "snapshot") {
        bids.levels.clear();
        asks.levels.clear();
      }
      for (const u of ev.updates) {
        (u.side === "bid" ? bids : asks).set(u.price_level, u.new_quantity);
      }
    };
    apply(snap.events[0]);
    c.send({ type: "subscribe", channel: "heartbeats" });
    const subs2 = JSON.parse(await c.next());
    assert.deepEqual(subs2.events[0].subscriptions, {
      heartbeats: ["heartbeats"],
      level2: ["BTC-USD"],
    });
    assert.equal(subs2.sequence_num, 2);
    let seq = 3;
    sim.inject({ kind: "reset", symbol: "coinbase:btc-usd" });
    sim.step(20);
    const data = sim.stats().framesSent[key] - 1;
    let got = 0, snapshots = 0;
    while (got < data) {
      const m = JSON.parse(await c.next());
      assert.equal(m.sequence_num, seq++);
      if (m.channel !== "l2_data") continue;
      got++;
      if (m.events[0].type === "snapshot") snapshots++;
      apply(m.events[0]);
    }
    assert.equal(snapshots, 1, "the reset sends exactly one snapshot");
    assert.equal(sim.stats().resetsSent[key], 1);
    // A second connection's snapshot equals the rebuilt book; its sequence starts at 0.
    const c2 = await Client.open(sim.venueUrls.coinbase.wsUrl);
    c2.send({ type: "subscribe", product_ids: ["BTC-USD"], channel: "level2" });
    const fresh = JSON.parse(await c2.next());
    assert.equal(fresh.sequence_num, 0);
    const freshBids = fresh.events[0].updates.filter((u: Json) => u.side === "bid").map((
      u: Json,
    ) => [u.price_level, u.new_quantity]);
    assert.deepEqual(bids.sorted(), freshBids);
    assert.equal(
      asks.sorted().length,
      fresh.events[0].updates.filter((u: Json) => u.side === "offer").length,
    );
    await c.close();
    await c2.close();
  });
  await withSim(["coinbase:btc-usd"], async (sim) => {
    const c = await Client.open(sim.venueUrls.coinbase.wsUrl);
    c.send({ type: "subscribe", channel: "heartbeats" });
    const subs = JSON.parse(await c.next());
    assert.equal(subs.sequence_num, 0);
    const beat = JSON.parse(await c.next());
    assert.equal(beat.channel, "heartbeats");
    assert.equal(beat.sequence_num, 1);
    assert.equal(beat.events[0].heartbeat_counter, 1);
    await c.close();
  }, { heartbeatMs: 20 });
});

// ---------------------------------------------------------------- Binance USD-M

Deno.test("binance-usdm: pu chain, REST snapshot bridges U <= lastUpdateId <= u, gap breaks the chain once, depth20 partial", async () => {
  await withSim(["binance-usdm:btcusdt"], async (sim) => {
    const key = "binance-usdm:BTCUSDT";
    const { wsUrl, restUrl } = sim.venueUrls["binance-usdm"];
    const c = await Client.open(
      `${wsUrl}/public/stream?streams=btcusdt@depth@100ms/btcusdt@depth20@100ms`,
    );
    sim.step(3);
    const res = await fetch(`${restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`);
    const snap = await res.json();
    assert.deepEqual(Object.keys(snap), ["lastUpdateId", "E", "T", "bids", "asks"]);
    const L = snap.lastUpdateId;
    sim.step(5);
    sim.inject({ kind: "gap", symbol: "binance-usdm:btcusdt" });
    sim.step(15);
    const total = sim.stats().framesSent[key];
    const diffs: Json[] = [];
    let partials = 0;
    for (let k = 0; k < total; k++) {
      const m = JSON.parse(await c.next());
      if (m.stream === "btcusdt@depth20@100ms") {
        partials++;
        assert.equal(m.data.b.length, 20);
        continue;
      }
      assert.equal(m.stream, "btcusdt@depth@100ms");
      assert.deepEqual(Object.keys(m.data), ["e", "E", "T", "s", "U", "u", "pu", "b", "a"]);
      diffs.push(m.data);
    }
    assert.equal(partials, 23);
    let breaks = 0;
    for (let k = 1; k < diffs.length; k++) if (diffs[k].pu !== diffs[k - 1].u) breaks++;
    assert.equal(breaks, 1);
    assert.equal(sim.stats().gapEventsDropped[key], 1);
    // Bridge: drop u < L; the first kept event has U <= L <= u.
    const kept = diffs.filter((d) => d.u >= L);
    assert.ok(kept[0].U <= L && L <= kept[0].u, `bridge ${kept[0].U} <= ${L} <= ${kept[0].u}`);
    await c.close();
  });
});

Deno.test("binance-usdm: snapshot plus diffs equals a later snapshot (top 100)", async () => {
  await withSim(["binance-usdm:btcusdt"], async (sim) => {
    const { wsUrl, restUrl } = sim.venueUrls["binance-usdm"];
    const c = await Client.open(`${wsUrl}/public/stream?streams=btcusdt@depth@100ms`);
    const snap = await (await fetch(`${restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`)).json();
    const bids = new TextSide(true), asks = new TextSide(false);
    for (const [p, q] of snap.bids) bids.set(p, q);
    for (const [p, q] of snap.asks) asks.set(p, q);
    sim.step(30);
    const total = sim.stats().framesSent["binance-usdm:BTCUSDT"];
    let prevU = -1;
    for (let k = 0; k < total; k++) {
      const d = JSON.parse(await c.next()).data;
      if (d.u < snap.lastUpdateId) continue;
      if (prevU >= 0) assert.equal(d.pu, prevU);
      prevU = d.u;
      for (const [p, q] of d.b) bids.set(p, q);
      for (const [p, q] of d.a) asks.set(p, q);
    }
    const later = await (await fetch(`${restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=100`)).json();
    assert.deepEqual(bids.sorted().slice(0, 100), later.bids);
    assert.deepEqual(asks.sorted().slice(0, 100), later.asks);
    const bad = await fetch(`${restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=7`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    sim.inject({ kind: "rest429", count: 1, retryAfterSec: 2 });
    const limited = await fetch(`${restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=5`);
    assert.deepEqual([limited.status, limited.headers.get("retry-after")], [429, "2"]);
    await limited.body?.cancel();
    const ok = await fetch(`${restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=5`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    await c.close();
  });
});

// ---------------------------------------------------------------- all venues

Deno.test("close with a symbol closes only that venue's connections; the other venue keeps streaming", async () => {
  await withSim(["okx:btc-usdt", "kraken:btc/usd"], async (sim) => {
    const { c: okx } = await okxSubscribe(sim);
    const { c: kraken } = await krakenSubscribe(sim);
    sim.inject({ kind: "close", symbol: "okx:btc-usdt", code: 4000 });
    const ev = await okx.closed;
    assert.equal(ev.code, 4000);
    const before = sim.stats().updatesSent["kraken:BTC/USD"];
    sim.step(5);
    assert.ok(sim.stats().updatesSent["kraken:BTC/USD"] > before);
    assert.equal(sim.stats().serverCloses, 1);
    await kraken.close();
  });
});

Deno.test("venue symbols: names, stats keys, fault validation, urls", async () => {
  assert.equal(parseFault({ kind: "reset", symbol: "OKX:BTC-USDT" }).kind, "reset");
  assert.deepEqual(parseFault({ kind: "gap", symbol: "kraken:BTC/USD" }), {
    kind: "gap",
    symbol: "kraken:btc/usd",
  });
  assert.throws(() => parseFault({ kind: "gap", symbol: "nowhere:btc" }), /unknown venue/);
  assert.throws(() => parseFault({ kind: "checksum" }), /needs the field "symbol"/);
  await withSim(["btcusdt", "okx:btc-usdt", "binance-usdm:btcusdt"], async (sim) => {
    assert.deepEqual(sim.symbols, ["btcusdt", "okx:btc-usdt", "binance-usdm:btcusdt"]);
    assert.deepEqual(Object.keys(sim.stats().framesSent), [
      "BTCUSDT",
      "okx:BTC-USDT",
      "binance-usdm:BTCUSDT",
    ]);
    assert.throws(
      () => sim.inject({ kind: "reset", symbol: "btcusdt" }),
      /cannot apply to a Binance symbol/,
    );
    assert.throws(() => sim.inject({ kind: "reset", symbol: "bybit:btcusdt" }), /not simulated/);
    assert.throws(
      () => sim.inject({ kind: "crossed", symbol: "okx:btc-usdt" }),
      /only Binance spot partial-book streams/,
    );
    assert.equal(sim.venueUrls.okx.wsUrl, `${sim.wsUrl}/ws/v5/public`);
    assert.equal(sim.venueUrls.kraken.restUrl, "");
    assert.equal(sim.venueUrls.binance.wsUrl, sim.wsUrl);
    assert.equal(sim.venueUrls.coinbase.wsUrl, sim.wsUrl);
    // Binance spot streams still work beside the venues.
    const c = await Client.open(`${sim.wsUrl}/stream?streams=btcusdt@depth5`);
    sim.step(1);
    assert.equal(JSON.parse(await c.next()).stream, "btcusdt@depth5");
    await c.close();
    const info = await (await fetch(`${sim.restUrl}/api/v3/exchangeInfo`)).json();
    assert.deepEqual(info.symbols.map((s: Json) => s.symbol), ["BTCUSDT"]);
  });
});

Deno.test("one asset on several venues follows one price path with small offsets: close mids, occasionally crossed", () => {
  const names = ["btcusdt", "okx:btc-usdt", "bybit:btcusdt", "kraken:btc/usd"];
  const symbols = names.map(venueSimSymbol);
  const spec = symbols[0].spec;
  const path = new FairPath({
    startTicks: spec.startTicks,
    volTicksPerFrame: spec.volTicksPerFrame,
    seed: 3,
  });
  const books = symbols.map((s) => new BookModel(s.spec, { seed: 3, fairPath: path }));
  const frames = 3000;
  let crossed = 0, maxGap = 0;
  for (let f = 0; f < frames; f++) {
    for (const b of books) b.advanceFrame();
    const bestBid = Math.max(...books.map((b) => b.bestBidTicks()));
    const bestAsk = Math.min(...books.map((b) => b.bestAskTicks()));
    if (bestBid > bestAsk) crossed++;
    const mids = books.map((b) => (b.bestBidTicks() + b.bestAskTicks()) / 2);
    maxGap = Math.max(maxGap, Math.max(...mids) - Math.min(...mids));
  }
  // The walk moves hundreds of ticks over 3000 frames; the venues stay within a few.
  const drift = Math.abs(path.fairAt(frames) - spec.startTicks);
  assert.ok(maxGap < 40, `venues drifted apart by ${maxGap} ticks`);
  assert.ok(crossed > 0 && crossed < frames / 2, `crossed in ${crossed} of ${frames} frames`);
  assert.ok(drift > maxGap || drift >= 0);
});

Deno.test("sim_main: venue symbols and venue faults on the command line", () => {
  const args = parseSimArgs([
    "--symbols",
    "btcusdt,OKX:BTC-USDT,kraken:btc/usd",
    "--fault",
    "reset:2s,symbol=okx:btc-usdt",
    "--fault",
    "quiet:1s,symbol=kraken:btc/usd,frames=30",
  ]);
  assert.deepEqual(args.symbols, ["btcusdt", "okx:btc-usdt", "kraken:btc/usd"]);
  assert.deepEqual(args.faults, [
    { atMs: 2000, fault: { kind: "reset", symbol: "okx:btc-usdt" } },
    { atMs: 1000, fault: { kind: "quiet", symbol: "kraken:btc/usd", frames: 30 } },
  ]);
});

Deno.test("okx books5: the top 5 pushed whole with a rising seqId, shaped like the 2026 recording, no checksum", async () => {
  await withSim(["okx:btc-usdt"], async (sim) => {
    const key = "okx:BTC-USDT";
    const c = await Client.open(sim.venueUrls.okx.wsUrl);
    c.send({ op: "subscribe", args: [{ channel: "books5", instId: "BTC-USDT" }] });
    assert.deepEqual(JSON.parse(await c.next()).arg, { channel: "books5", instId: "BTC-USDT" });
    const first = JSON.parse(await c.next());
    // Key order of the recorded books5 frames (okx_books5_2026.jsonl).
    assert.deepEqual(Object.keys(first), ["arg", "data"]);
    assert.deepEqual(Object.keys(first.data[0]), ["asks", "bids", "instId", "ts", "seqId"]);
    assert.equal(first.data[0].asks.length, 5);
    let seqId = first.data[0].seqId;
    sim.inject({ kind: "checksum", symbol: "okx:btc-usdt" });
    sim.step(10);
    const n = sim.stats().updatesSent[key];
    assert.ok(n > 0);
    for (let k = 0; k < n; k++) {
      const d = JSON.parse(await c.next()).data[0];
      assert.equal(d.bids.length, 5);
      assert.ok(d.seqId > seqId);
      seqId = d.seqId;
    }
    assert.equal(sim.stats().badChecksumsSent[key], 0, "books5 has no checksum to spoil");
    await c.close();
  });
});

Deno.test("message shapes follow the key order of the real recordings (the recordings of tests/testdata/exchanges, cited by file name)", async () => {
  await withSim(
    ["bybit:btcusdt", "okx:btc-usdt", "kraken:btc/usd", "coinbase:btc-usd"],
    async (sim) => {
      const keys = (text: string) => Object.keys(JSON.parse(text));
      // bybit_linear_orderbook50_btcusdt_pair.jsonl
      const by = await Client.open(sim.venueUrls.bybit.wsUrl);
      by.send({ op: "subscribe", args: ["orderbook.50.BTCUSDT"] });
      assert.deepEqual(keys(await by.next()), ["success", "ret_msg", "conn_id", "req_id", "op"]);
      const bySnap = JSON.parse(await by.next());
      assert.deepEqual(Object.keys(bySnap), ["topic", "type", "ts", "data", "cts"]);
      assert.deepEqual(Object.keys(bySnap.data), ["s", "b", "a", "u", "seq"]);
      // okx_books_btcusdt.jsonl (+ seqId/prevSeqId of the current documentation)
      const { c: okx } = await okxSubscribe(sim);
      // kraken_v2_book_algousd.jsonl
      const kr = await Client.open(sim.venueUrls.kraken.wsUrl);
      assert.deepEqual(keys(await kr.next()), ["channel", "data", "type"]);
      kr.send({ method: "subscribe", params: { channel: "book", symbol: ["BTC/USD"] } });
      assert.deepEqual(keys(await kr.next()), [
        "method",
        "result",
        "success",
        "time_in",
        "time_out",
      ]);
      const krSnap = JSON.parse(await kr.next());
      assert.deepEqual(Object.keys(krSnap), ["channel", "type", "data"]);
      assert.deepEqual(Object.keys(krSnap.data[0]), ["symbol", "bids", "asks", "checksum"]);
      // coinbase_advanced_trade_level2_frames_partial.jsonl
      const cb = await Client.open(sim.venueUrls.coinbase.wsUrl);
      cb.send({ type: "subscribe", product_ids: ["BTC-USD"], channel: "level2" });
      const cbSnap = JSON.parse(await cb.next());
      assert.deepEqual(Object.keys(cbSnap), [
        "channel",
        "client_id",
        "timestamp",
        "sequence_num",
        "events",
      ]);
      assert.deepEqual(Object.keys(cbSnap.events[0]), ["type", "product_id", "updates"]);
      assert.deepEqual(Object.keys(cbSnap.events[0].updates[0]), [
        "side",
        "event_time",
        "price_level",
        "new_quantity",
      ]);
      assert.deepEqual(keys(await cb.next()), ["channel", "timestamp", "sequence_num", "events"]);
      sim.step(3);
      const okxUpdate = JSON.parse(await okx.next());
      assert.deepEqual(Object.keys(okxUpdate), ["arg", "action", "data"]);
      assert.deepEqual(Object.keys(okxUpdate.data[0]), [
        "asks",
        "bids",
        "ts",
        "checksum",
        "prevSeqId",
        "seqId",
      ]);
      const krUpdate = JSON.parse(await kr.nextWhere((t) => t !== '{"channel":"heartbeat"}'));
      assert.deepEqual(Object.keys(krUpdate.data[0]), [
        "symbol",
        "bids",
        "asks",
        "checksum",
        "timestamp",
      ]);
      for (const c of [by, okx, kr, cb]) await c.close();
    },
  );
});

Deno.test("serverShutdown: OKX sends its 64008 notice, Kraken a maintenance status, Bybit nothing; then each closes", async () => {
  await withSim(["okx:btc-usdt", "kraken:btc/usd", "bybit:btcusdt"], async (sim) => {
    const { c: okx } = await okxSubscribe(sim);
    const { c: kraken } = await krakenSubscribe(sim);
    const bybit = await Client.open(sim.venueUrls.bybit.wsUrl);
    sim.inject({ kind: "serverShutdown", delayMs: 0 });
    const notice = JSON.parse(await okx.next());
    assert.deepEqual([notice.event, notice.code], ["notice", "64008"]);
    const status = JSON.parse(await kraken.nextWhere((t) => t !== '{"channel":"heartbeat"}'));
    assert.deepEqual([status.channel, status.data[0].system], ["status", "maintenance"]);
    for (const c of [okx, kraken, bybit]) await c.closed;
    assert.equal(bybit.messages.length, 0);
    assert.equal(sim.stats().serverCloses, 3);
  });
});

Deno.test("the simulator's checksum functions compute what the real venues sent (recorded Kraken and OKX frames)", async () => {
  // The recordings of tests/testdata/exchanges (SOURCES.md there).
  const dir = new URL("./testdata/exchanges/", import.meta.url);
  const kraken = (await Deno.readTextFile(new URL("kraken_v2_book_algousd.jsonl", dir))).trim()
    .split("\n");
  const bids = new TextSide(true), asks = new TextSide(false);
  for (const raw of kraken.slice(1)) {
    for (const [p, q] of krakenLevels(raw, "bids")) bids.set(p, q);
    for (const [p, q] of krakenLevels(raw, "asks")) asks.set(p, q);
    bids.truncate(10);
    asks.truncate(10);
    const b = bids.sorted(), a = asks.sorted();
    const expected = JSON.parse(raw).data[0].checksum;
    assert.equal(krakenReference(b, a), expected);
    assert.equal(
      krakenChecksum(LevelTexts.of(b, a)),
      expected,
    );
  }
  const okxLines = (await Deno.readTextFile(new URL("okx_books_btcusdt.jsonl", dir))).split("\n");
  const okx = JSON.parse(okxLines[0]).data[0]; // the snapshot
  assert.equal(okxChecksum(LevelTexts.of(okx.bids, okx.asks)), okx.checksum);
  assert.equal(
    okxReference(
      okx.bids.map((l: string[]) => [l[0], l[1]]),
      okx.asks.map((l: string[]) => [l[0], l[1]]),
    ),
    okx.checksum,
  );
});

Deno.test("a client that subscribes during a stall gets its snapshot at the first frame after the stall, then updates", async () => {
  await withSim(["okx:btc-usdt"], async (sim) => {
    const key = "okx:BTC-USDT";
    sim.inject({ kind: "stall", symbol: "okx:btc-usdt" });
    const c = await Client.open(sim.venueUrls.okx.wsUrl);
    c.send({ op: "subscribe", args: [{ channel: "books", instId: "BTC-USDT" }] });
    assert.equal(JSON.parse(await c.next()).event, "subscribe");
    sim.step(3);
    assert.equal(c.pending, 0);
    assert.equal(sim.stats().snapshotsSent[key], 0);
    sim.inject({ kind: "clear" });
    sim.step(1);
    const snap = JSON.parse(await c.next());
    assert.equal(snap.action, "snapshot");
    const bids = new TextSide(true), asks = new TextSide(false);
    for (const l of snap.data[0].bids) bids.set(l[0], l[1]);
    for (const l of snap.data[0].asks) asks.set(l[0], l[1]);
    let seqId = snap.data[0].seqId;
    assert.equal(sim.stats().snapshotsSent[key], 1);
    assert.equal(sim.stats().updatesSent[key], 0);
    sim.step(5);
    const n = sim.stats().updatesSent[key];
    assert.ok(n > 0);
    for (let k = 0; k < n; k++) {
      const d = JSON.parse(await c.next()).data[0];
      assert.equal(d.prevSeqId, seqId);
      seqId = d.seqId;
      for (const l of d.bids) bids.set(l[0], l[1]);
      for (const l of d.asks) asks.set(l[0], l[1]);
      assert.equal(okxReference(bids.sorted(), asks.sorted()), d.checksum);
    }
    await c.close();
  });
});
