import assert from "node:assert/strict";
import { VenueIngest, type VenueIngestOptions } from "../lib/ingest/venue_ingest.ts";
import { createVenueIngestors, symbolsByVenue } from "../lib/ingest/venue_ingestors.ts";
import { VenueNotBuiltError, venueProtocol } from "../lib/ingest/venue_registry.ts";
import {
  BOOK_EVENT_TIME,
  BOOK_FLAG_FROM_DIFF,
  BOOK_FLAG_RESYNCED,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import {
  INGEST_ACCEPTED,
  INGEST_COALESCED,
  INGEST_CONNECTS,
  INGEST_CONTROL_MESSAGES,
  INGEST_FEED_STATE,
  INGEST_IGNORED_MESSAGES,
  INGEST_PENDING,
  INGEST_RECEIVED,
  INGEST_RECONNECTS,
  INGEST_STALE_EVENTS,
  INGEST_VENUE_ERRORS,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import { REJECT_REASON_COUNT, RejectReason } from "../lib/pipeline/reject_reason.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import {
  fakeProtocol,
  type FakeProtocolOptions,
  FakeVenueServer,
  waitFor,
} from "../testing/fake_venue.ts";

const LAYOUT = new BookSlotLayout(20);

/** The pipeline memory of a worker with `symbols` (global list). */
function memory(symbols: readonly string[]) {
  return {
    rawRing: SpscRing.create({ capacity: 4096, slotBytes: LAYOUT.slotBytes }),
    counters: PipelineCounters.create(symbols.length + 1),
  };
}

interface Frame {
  id: number;
  seq: number;
  flags: number;
  eventTime: number;
  receiveTime: number;
  bid: number;
  ask: number;
}

/** Takes every frame committed to the ring so far. */
function drain(ring: SpscRing, into: Frame[]): Frame[] {
  for (;;) {
    const at = ring.peek();
    if (at < 0) return into;
    const f = ring.f64;
    into.push({
      id: f[at + BOOK_SYMBOL_ID],
      seq: f[at + BOOK_LAST_UPDATE_ID],
      flags: f[at + BOOK_FLAGS],
      eventTime: f[at + BOOK_EVENT_TIME],
      receiveTime: f[at + BOOK_RECEIVE_TIME],
      bid: f[at + LAYOUT.bidPrice(0)],
      ask: f[at + LAYOUT.askPrice(0)],
    });
    ring.commitRead();
  }
}

function rejectedTotal(c: PipelineCounters, row: number): number {
  let sum = 0;
  for (let r = 1; r < REJECT_REASON_COUNT; r++) sum += c.load(c.rejected(row, r));
  return sum;
}

function word(c: PipelineCounters, row: number, w: number): number {
  return c.load(c.ingestSymbol(row, w));
}

/** received = accepted + coalesced + pending + rejected, for a row. */
function balanced(c: PipelineCounters, row: number): boolean {
  return word(c, row, INGEST_RECEIVED) ===
    word(c, row, INGEST_ACCEPTED) + word(c, row, INGEST_COALESCED) +
      word(c, row, INGEST_PENDING) + rejectedTotal(c, row);
}

function ingestFor(
  server: FakeVenueServer,
  mem: ReturnType<typeof memory>,
  symbols: VenueIngestOptions["symbols"],
  extra: Partial<Omit<VenueIngestOptions, "protocol">> = {},
  protocol: FakeProtocolOptions = {},
): VenueIngest {
  return new VenueIngest({
    protocol: fakeProtocol("okx", protocol),
    symbols,
    wsUrl: server.url,
    ...mem,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    staggerMs: 0,
    log: { warn() {}, error() {} },
    ...extra,
  });
}

Deno.test("venue ingest: frames reach the ring with the global ids, flagged, with exact accounting", async () => {
  const symbols = ["btcusdt", "okx:btc-usdt", "okx:eth-usdt"];
  const mem = memory(symbols);
  const c = mem.counters;
  let sent = false;
  const server = new FakeVenueServer({
    onMessage(conn, text) {
      if (text !== "sub ETH-USDT" || sent) return;
      sent = true;
      // After both snapshots: two deltas at once (one coalesced), a crossed
      // frame, a malformed one, a frame of no subscribed symbol, a venue error.
      conn.send("ack");
      conn.send("snap ETH-USDT 1 10 11");
      conn.send("delta BTC-USDT 2 100.5 101");
      conn.send("delta BTC-USDT 3 100.6 101");
      conn.send("crossed BTC-USDT");
      conn.send("bad");
      conn.send("snap SOL-USDT 1 1 2");
      conn.send("err subscription limit");
      return true;
    },
  });
  const warnings: string[] = [];
  const ingest = ingestFor(server, mem, [{ id: 1, native: "BTC-USDT" }, {
    id: 2,
    native: "ETH-USDT",
  }], {
    log: { warn: (m: string) => warnings.push(m), error() {} },
  });
  const frames: Frame[] = [];
  try {
    ingest.start();
    await waitFor("every message counted and every event emitted", () => {
      drain(mem.rawRing, frames);
      return word(c, 1, INGEST_RECEIVED) === 4 && word(c, 1, INGEST_PENDING) === 0 &&
        word(c, 2, INGEST_ACCEPTED) === 1 && word(c, 3, INGEST_RECEIVED) === 2 &&
        c.load(c.ingest(INGEST_VENUE_ERRORS)) === 1 && frames.some((f) => f.seq === 3);
    });
    drain(mem.rawRing, frames);
    // Symbol rows: received = accepted + coalesced + pending + rejected.
    for (const row of [1, 2, 3]) assert.ok(balanced(c, row), `row ${row} balanced`);
    assert.equal(c.load(c.rejected(1, RejectReason.Crossed)), 1);
    assert.equal(c.load(c.rejected(3, RejectReason.Malformed)), 1);
    assert.equal(c.load(c.rejected(3, RejectReason.UnknownStream)), 1);
    assert.equal(word(c, 0, INGEST_RECEIVED), 0, "the Binance row is untouched");
    assert.ok(c.load(c.ingest(INGEST_CONTROL_MESSAGES)) >= 2, "the acks are control messages");
    // Frames carry the service's ids (1 and 2, never the local 0 and 1).
    assert.deepEqual([...new Set(frames.map((f) => f.id))].sort(), [1, 2]);
    assert.equal(frames.length, word(c, 1, INGEST_ACCEPTED) + word(c, 2, INGEST_ACCEPTED));
    for (const f of frames) assert.ok(f.flags & BOOK_FLAG_FROM_DIFF);
    const btc = frames.filter((f) => f.id === 1);
    assert.equal(btc[0].flags & BOOK_FLAG_RESYNCED, BOOK_FLAG_RESYNCED, "first frame: resynced");
    for (const f of btc.slice(1)) assert.equal(f.flags & BOOK_FLAG_RESYNCED, 0);
    const last = btc[btc.length - 1];
    assert.equal(last.seq, 3);
    assert.equal(last.bid, 100.6);
    assert.equal(last.eventTime, 1_700_000_000_003);
    assert.ok(last.receiveTime > 1_600_000_000_000);
    assert.equal(ingest.venueErrors, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^okx: the venue sent an error: subscription limit/);
    await waitFor("both feeds live", () =>
      word(c, 1, INGEST_FEED_STATE) === FeedState.Live &&
      word(c, 2, INGEST_FEED_STATE) === FeedState.Live);
  } finally {
    await ingest.stop();
    await server.close();
  }
});

Deno.test("venue ingest: a gap resyncs the symbol by resubscribing; the next snapshot recovers it", async () => {
  const mem = memory(["okx:btc-usdt", "okx:eth-usdt"]);
  const c = mem.counters;
  let release: (() => void) | undefined;
  let subs = 0;
  const server = new FakeVenueServer({
    onMessage(conn, text) {
      if (text !== "sub BTC-USDT") return;
      subs++;
      if (subs === 1) {
        conn.send("snap BTC-USDT 1 100 101");
        conn.send("delta BTC-USDT 2 100 101");
        conn.send("delta BTC-USDT 5 100 101"); // 3 and 4 are missing
      } else {
        // The resubscription: its snapshot waits until the test has seen Resyncing.
        release = () => conn.send("snap BTC-USDT 40 99 100");
      }
      return true;
    },
  });
  const ingest = ingestFor(server, mem, [{ id: 0, native: "BTC-USDT" }, {
    id: 1,
    native: "ETH-USDT",
  }]);
  const frames: Frame[] = [];
  try {
    ingest.start();
    await waitFor("the resubscription", () => release !== undefined);
    const received = server.conns[0].received;
    const at = received.indexOf("unsub BTC-USDT");
    assert.ok(at > 0, "unsub sent");
    assert.equal(received[at + 1], "sub BTC-USDT");
    assert.equal(server.conns.length, 1, "no reconnect: the venue resubscribes");
    assert.equal(c.load(c.rejected(0, RejectReason.SequenceGap)), 1);
    await waitFor("Resyncing", () => word(c, 0, INGEST_FEED_STATE) === FeedState.Resyncing);
    assert.equal(word(c, 1, INGEST_FEED_STATE), FeedState.Live, "the other symbol stays live");
    release!();
    await waitFor("the recovered frame", () => {
      drain(mem.rawRing, frames);
      return frames.some((f) => f.seq === 40);
    });
    const recovered = frames.find((f) => f.seq === 40)!;
    assert.equal(recovered.id, 0);
    assert.equal(recovered.flags & BOOK_FLAG_RESYNCED, BOOK_FLAG_RESYNCED);
    assert.equal(recovered.bid, 99);
    await waitFor("live again", () => word(c, 0, INGEST_FEED_STATE) === FeedState.Live);
    await waitFor("balanced", () => word(c, 0, INGEST_PENDING) === 0);
    // snap 1, delta 2, delta 5 (gap), snap 40: 4 received, 1 rejected.
    assert.equal(word(c, 0, INGEST_RECEIVED), 4);
    assert.ok(balanced(c, 0));
  } finally {
    await ingest.stop();
    await server.close();
  }
});

Deno.test("venue ingest: a venue that cannot resubscribe one symbol, or a broken connection sequence, reconnects", async () => {
  const mem = memory(["okx:btc-usdt"]);
  const c = mem.counters;
  let cut = false;
  const server = new FakeVenueServer({
    onMessage(conn, text) {
      if (text !== "sub BTC-USDT") return;
      const n = server.conns.length;
      conn.send(`snap BTC-USDT ${n * 100} 100 101`);
      if (n === 1) conn.send(`delta BTC-USDT ${n * 100 + 7} 100 101`); // a gap
      else if (n === 2 && !cut) {
        cut = true;
        // After the snapshot's frame (at most 100 ms later): the sequence breaks.
        setTimeout(() => conn.send("cut"), 150);
      }
      return true;
    },
  });
  const ingest = ingestFor(server, mem, [{ id: 0, native: "BTC-USDT" }], {}, {
    resubscribe: false,
  });
  const frames: Frame[] = [];
  try {
    ingest.start();
    await waitFor("a third connection", () => server.conns.length >= 3);
    await waitFor("its snapshot", () => {
      drain(mem.rawRing, frames);
      return frames.some((f) => f.seq === 300);
    });
    assert.equal(c.load(c.rejected(0, RejectReason.SequenceGap)), 1, "the gap");
    assert.equal(c.load(c.rejected(1, RejectReason.SequenceGap)), 1, "the cut: unknown row");
    assert.ok(!server.conns[0].received.includes("unsub BTC-USDT"));
    for (const seq of [100, 200, 300]) {
      const f = frames.find((x) => x.seq === seq);
      assert.ok(f, `frame ${seq}`);
      assert.equal(f.flags & BOOK_FLAG_RESYNCED, BOOK_FLAG_RESYNCED, `frame ${seq} resynced`);
    }
    await waitFor("reconnects published", () => c.load(c.ingest(INGEST_RECONNECTS)) >= 2);
    assert.ok(balanced(c, 0));
  } finally {
    await ingest.stop();
    await server.close();
  }
});

Deno.test("venue ingest: a closed connection reconnects, subscribes again and flags the new first frame", async () => {
  const mem = memory(["okx:btc-usdt"]);
  const c = mem.counters;
  const server = new FakeVenueServer();
  const ingest = ingestFor(server, mem, [{ id: 0, native: "BTC-USDT" }]);
  const frames: Frame[] = [];
  try {
    ingest.start();
    await waitFor("the first frame", () => drain(mem.rawRing, frames).length === 1);
    server.conns[0].socket.close();
    await waitFor("a second frame", () => drain(mem.rawRing, frames).length === 2);
    assert.equal(server.conns.length, 2);
    assert.deepEqual(server.conns[1].received.filter((m) => m.startsWith("sub")), [
      "sub BTC-USDT",
    ]);
    assert.equal(frames[1].flags & BOOK_FLAG_RESYNCED, BOOK_FLAG_RESYNCED);
    await waitFor(
      "counted",
      () => c.load(c.ingest(INGEST_CONNECTS)) === 2 && c.load(c.ingest(INGEST_RECONNECTS)) === 1,
    );
    await waitFor("live", () => word(c, 0, INGEST_FEED_STATE) === FeedState.Live);
  } finally {
    await ingest.stop();
    await server.close();
  }
});

Deno.test("venue ingest: the keep-alive is sent, and a stalled connection goes stale and is replaced", async () => {
  const mem = memory(["okx:btc-usdt"]);
  const c = mem.counters;
  let stalled = false;
  const server: FakeVenueServer = new FakeVenueServer({
    // The first connection stalls: it answers nothing more (the socket stays open).
    onMessage: (conn) => stalled && conn === server.conns[0],
  });
  const ingest = ingestFor(server, mem, [{ id: 0, native: "BTC-USDT" }], {
    staleMs: 400,
  }, { keepaliveMs: 40 });
  try {
    ingest.start();
    await waitFor(
      "three keep-alives",
      () => (server.conns[0]?.received.filter((m) => m === "ping").length ?? 0) >= 3,
    );
    // The pongs keep the connection alive, the symbol's frames do not come: stale.
    await waitFor(
      "the symbol stale on a live connection",
      () => word(c, 0, INGEST_FEED_STATE) === FeedState.Stale,
    );
    assert.equal(server.conns.length, 1, "a live connection is not replaced for one quiet symbol");
    stalled = true;
    await waitFor(
      "a stale event and a new connection",
      () => ingest.connections[0].staleEvents >= 1 && server.conns.length >= 2,
    );
    await waitFor("the stale event published", () => c.load(c.ingest(INGEST_STALE_EVENTS)) >= 1);
    await waitFor("a frame on the new connection", () => word(c, 0, INGEST_ACCEPTED) >= 2);
  } finally {
    await ingest.stop();
    await server.close();
  }
});

Deno.test("venue ingestors: two venues in one worker, one venue's server down, the other stays live", async () => {
  const symbols = ["okx:btc-usdt", "kraken:btc/usd", "x:btc-usd"];
  const mem = memory(symbols);
  const c = mem.counters;
  const okx = new FakeVenueServer();
  // A port nobody listens on: take one, then close it.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const ingest = createVenueIngestors({
    symbols,
    wsUrl: "ws://127.0.0.1:1",
    ...mem,
    backoffBaseMs: 20,
    backoffCapMs: 100,
    log: { warn() {}, error() {} },
    venueUrls: { okx: { wsUrl: okx.url }, kraken: { wsUrl: `ws://127.0.0.1:${deadPort}` } },
    protocols: { okx: fakeProtocol("okx"), kraken: fakeProtocol("kraken") },
  });
  try {
    assert.equal(ingest.ingestors.length, 0, "no Binance symbol: no Ingestor");
    assert.deepEqual(ingest.venues.map((v) => v.venue), ["okx", "kraken"]);
    ingest.start();
    await waitFor("okx live", () => word(c, 0, INGEST_FEED_STATE) === FeedState.Live);
    const kraken = ingest.venues[1].connections[0];
    await waitFor("kraken failing again and again", () => kraken.attempts >= 4);
    assert.equal(word(c, 0, INGEST_FEED_STATE), FeedState.Live);
    assert.equal(ingest.venues[0].feedState(0), FeedState.Live);
    assert.equal(word(c, 1, INGEST_FEED_STATE), FeedState.Connecting);
    assert.equal(ingest.venues[1].feedState(0), FeedState.Connecting);
    assert.equal(word(c, 2, INGEST_FEED_STATE), FeedState.Connecting, "x: is never connected");
    assert.equal(word(c, 0, INGEST_ACCEPTED), 1);
    assert.equal(word(c, 1, INGEST_RECEIVED), 0);
  } finally {
    await ingest.stop();
    await okx.close();
  }
});

Deno.test("venue ingestors: symbols by venue; a venue without a protocol is named", () => {
  const by = symbolsByVenue(["btcusdt", "okx:btc-usdt", "kraken:btc/usd", "x:btc-usd", "ethusdt"]);
  assert.deepEqual(by.get("binance"), [{ id: 0, native: "BTCUSDT" }, { id: 4, native: "ETHUSDT" }]);
  assert.deepEqual(by.get("okx"), [{ id: 1, native: "BTC-USDT" }]);
  assert.deepEqual(by.get("kraken"), [{ id: 2, native: "BTC/USD" }]);
  assert.equal(by.size, 3);
  assert.throws(() => venueProtocol("bybit", {}), (e: unknown) => {
    assert.ok(e instanceof VenueNotBuiltError);
    assert.match(e.message, /venue bybit is not built/);
    return true;
  });
  const mem = memory(["btcusdt", "okx:btc-usdt"]);
  assert.throws(
    () =>
      createVenueIngestors({
        symbols: ["okx:btc-usdt"],
        wsUrl: "ws://127.0.0.1:1",
        ...mem,
        protocols: {},
      }),
    /venue okx is not built/,
  );
  const binanceOnly = createVenueIngestors({
    symbols: ["btcusdt"],
    wsUrl: "ws://127.0.0.1:1",
    ...mem,
  });
  assert.equal(binanceOnly.ingestors.length, 1);
  assert.equal(binanceOnly.venues.length, 0);
});

Deno.test("venue ingest: bad options are refused with what was expected", () => {
  const mem = memory(["okx:btc-usdt"]);
  const base = { protocol: fakeProtocol("okx"), wsUrl: "ws://127.0.0.1:1", ...mem };
  assert.throws(() => new VenueIngest({ ...base, symbols: [] }), /at least one symbol/);
  assert.throws(
    () => new VenueIngest({ ...base, symbols: [{ id: 1, native: "BTC-USDT" }] }),
    /below the unknown row 1, got 1/,
  );
  assert.throws(
    () => new VenueIngest({ ...base, symbols: [{ id: 0, native: "A" }, { id: 0, native: "B" }] }),
    /unique/,
  );
});

Deno.test("venue ingest: once the lease is lost nothing more is written and the connections close", async () => {
  const mem = memory(["okx:btc-usdt"]);
  const c = mem.counters;
  let held = true;
  let fenced = 0;
  const server = new FakeVenueServer();
  const ingest = ingestFor(server, mem, [{ id: 0, native: "BTC-USDT" }], {
    lease: { held: () => held },
    onFenced: () => fenced++,
  });
  try {
    ingest.start();
    await waitFor("the first frame", () => word(c, 0, INGEST_ACCEPTED) === 1);
    held = false;
    await waitFor("fenced by a timer", () => fenced === 1);
    const received = word(c, 0, INGEST_RECEIVED);
    const state = word(c, 0, INGEST_FEED_STATE);
    server.conns[0].send("delta BTC-USDT 2 100 101");
    await waitFor("the connection closed", () => ingest.connections[0].closed);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(word(c, 0, INGEST_RECEIVED), received, "no message handled");
    assert.equal(word(c, 0, INGEST_FEED_STATE), state, "no state written");
    assert.equal(ingest.checkLease(), false);
    assert.equal(fenced, 1, "onFenced once");
  } finally {
    await ingest.stop();
    await server.close();
  }
});

Deno.test("venue ingest: a message over maxMessageBytes is ignored and counted, never parsed", async () => {
  const mem = memory(["okx:btc-usdt"]);
  const c = mem.counters;
  const server = new FakeVenueServer({
    onMessage(conn, text) {
      if (text !== "sub BTC-USDT") return;
      conn.send("snap BTC-USDT 1 100 101");
      conn.send(`delta BTC-USDT 2 100 101 ${"x".repeat(100)}`);
      conn.send("delta BTC-USDT 2 100.5 101");
      return true;
    },
  });
  const ingest = ingestFor(server, mem, [{ id: 0, native: "BTC-USDT" }], {
    maxMessageBytes: 64,
  });
  try {
    ingest.start();
    await waitFor(
      "the ignored message published",
      () => c.load(c.ingest(INGEST_IGNORED_MESSAGES)) === 1,
    );
    await waitFor("the next delta applied", () => word(c, 0, INGEST_RECEIVED) === 2);
    assert.equal(rejectedTotal(c, 0), 0, "the long one never reached the protocol");
    assert.equal(ingest.connections[0].ignoredMessages, 1);
  } finally {
    await ingest.stop();
    await server.close();
  }
});

Deno.test("venue ingest: symbols are split into connections of at most maxSymbolsPerConnection", async () => {
  const symbols = ["okx:a-usdt", "btcusdt", "okx:b-usdt", "okx:c-usdt"];
  const mem = memory(symbols);
  const c = mem.counters;
  const server = new FakeVenueServer();
  const ingest = ingestFor(
    server,
    mem,
    [
      { id: 0, native: "A-USDT" },
      { id: 2, native: "B-USDT" },
      { id: 3, native: "C-USDT" },
    ],
    {},
    { maxSymbolsPerConnection: 2 },
  );
  const frames: Frame[] = [];
  try {
    assert.equal(ingest.connections.length, 2);
    ingest.start();
    await waitFor("a frame of each", () => drain(mem.rawRing, frames).length === 3);
    const subs = server.conns.map((conn) =>
      conn.received.filter((m) => m.startsWith("sub")).sort()
    );
    subs.sort((a, b) => a.length - b.length);
    assert.deepEqual(subs, [["sub C-USDT"], ["sub A-USDT", "sub B-USDT"]]);
    assert.deepEqual(frames.map((f) => f.id).sort(), [0, 2, 3]);
    assert.equal(word(c, 1, INGEST_RECEIVED), 0);
  } finally {
    await ingest.stop();
    await server.close();
  }
});
