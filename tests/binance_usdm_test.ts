/**
 * Binance USD-M futures as a venue of the Ingestor: the real recorded
 * SUSHIUSDT diff stream and its REST snapshot (tests/testdata/binance/,
 * SOURCES.md) through the USD-M parser and DiffSync, against a book rebuilt
 * here with JSON.parse and a Map; spot's chain rule on the same data and on
 * the spot recording; the per-venue REST request table; and the Ingestor of
 * each venue over real sockets to a minimal test-only exchange (spot's
 * `/stream` and `/api/v3/depth`, USD-M's `/public/stream` and
 * `/fapi/v1/depth`) sharing one symbol list, raw ring and counters.
 */
import assert from "node:assert/strict";
import { DiffParser } from "../lib/ingest/diff_parser.ts";
import { DiffEvent } from "../lib/ingest/diff_event.ts";
import { DiffSync, SnapshotOutcome, SyncState } from "../lib/ingest/diff_sync.ts";
import { SymbolTable } from "../lib/ingest/symbol_table.ts";
import { parseDepthSnapshot } from "../lib/ingest/snapshot_parser.ts";
import { RestClient } from "../lib/ingest/rest_client.ts";
import { Ingestor } from "../lib/ingest/ingestor.ts";
import {
  binanceStreamBase,
  binanceVenueSymbols,
  USDM_PUBLIC_PATH,
} from "../lib/ingest/binance_venue.ts";
import {
  DEPTH_REQUEST_RULES,
  depthRequestLimitFor,
  depthRequestWeight,
  depthRequestWeightFor,
} from "../lib/pipeline/depth_request_weight.ts";
import { combinedStreamUrl } from "../lib/ingest/stream_groups.ts";
import { VENUES } from "../lib/pipeline/venue_id.ts";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_LAST_UPDATE_ID,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import {
  INGEST_ACCEPTED,
  INGEST_CONNECTS,
  INGEST_DIFF_SYNCED,
  INGEST_RECEIVED,
  INGEST_REST_REQUESTS,
  INGEST_STARTED,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { recordedJson, recordedLines } from "../testing/recorded_data.ts";

// ------------------------------------------------------------ the recordings

interface RawEvent {
  E: number;
  U: number;
  u: number;
  pu?: number;
  b: [string, string][];
  a: [string, string][];
}
interface RawSnapshot {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

const FUTURES_LINES = recordedLines("futures_diff.jsonl");
const FUTURES_EVENTS: RawEvent[] = FUTURES_LINES.map((l) => JSON.parse(l).data);
const FUTURES_SNAPSHOT = recordedJson("rest_depth_futures.json") as RawSnapshot;
/** The snapshot as a REST body (the recorded document; key order and strings as recorded). */
const FUTURES_SNAPSHOT_BODY = JSON.stringify(FUTURES_SNAPSHOT);

/** An independent book: JSON levels into two Maps, price → size (a size of 0 deletes). */
class MapBook {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  constructor(snapshot: RawSnapshot) {
    for (const [p, q] of snapshot.bids) this.#set(this.bids, p, q);
    for (const [p, q] of snapshot.asks) this.#set(this.asks, p, q);
  }
  apply(e: RawEvent): void {
    for (const [p, q] of e.b) this.#set(this.bids, p, q);
    for (const [p, q] of e.a) this.#set(this.asks, p, q);
  }
  #set(side: Map<number, number>, p: string, q: string): void {
    if (Number(q) === 0) side.delete(Number(p));
    else side.set(Number(p), Number(q));
  }
  sortedBids(): [number, number][] {
    return [...this.bids].sort((x, y) => y[0] - x[0]);
  }
  sortedAsks(): [number, number][] {
    return [...this.asks].sort((x, y) => x[0] - y[0]);
  }
  /** As a REST snapshot body at `lastUpdateId`. */
  body(lastUpdateId: number): string {
    const text = (l: [number, number][]) => l.map(([p, q]) => [String(p), String(q)]);
    return JSON.stringify({
      lastUpdateId,
      bids: text(this.sortedBids()),
      asks: text(this.sortedAsks()),
    });
  }
}

/** Every level of DiffSync's book of `symbolId`, best first. */
function syncBook(sync: DiffSync, symbolId: number) {
  const book = sync.book(symbolId);
  const bids: [number, number][] = [];
  const asks: [number, number][] = [];
  for (let i = 0; i < book.bidCount; i++) bids.push([book.bidPrice(i), book.bidSize(i)]);
  for (let i = 0; i < book.askCount; i++) asks.push([book.askPrice(i), book.askSize(i)]);
  return { bids, asks };
}

function usdmParser(symbols = ["sushiusdt"]): DiffParser {
  return new DiffParser(new SymbolTable(symbols), "@depth@100ms", { chain: "usdm" });
}

Deno.test("USD-M recording: the rule picks events 0-2 to drop and event 3 to bridge", () => {
  // Binance futures: drop u < lastUpdateId; the first event processed has U <= L <= u.
  const L = FUTURES_SNAPSHOT.lastUpdateId;
  const dropped = FUTURES_EVENTS.flatMap((e, i) => e.u < L ? [i] : []);
  const bridge = FUTURES_EVENTS.findIndex((e) => e.u >= L);
  assert.deepEqual(dropped, [0, 1, 2]);
  assert.equal(bridge, 3);
  assert.ok(FUTURES_EVENTS[3].U <= L && L <= FUTURES_EVENTS[3].u);
  // Every later event names its predecessor's u in pu; U never continues u + 1.
  for (let i = 1; i < FUTURES_EVENTS.length; i++) {
    assert.equal(FUTURES_EVENTS[i].pu, FUTURES_EVENTS[i - 1].u, `event ${i}`);
    assert.notEqual(FUTURES_EVENTS[i].U, FUTURES_EVENTS[i - 1].u + 1, `event ${i}`);
  }
});

Deno.test("USD-M recording through the USD-M parser and DiffSync: drops 0-2, bridges with 3, chains to the end, equals the Map book", () => {
  const parser = usdmParser();
  const ev = new DiffEvent();
  const sync = new DiffSync({ symbolCount: 1 });
  // The stream is opened first: events 0-4 wait in the buffer for the snapshot.
  for (let i = 0; i < 5; i++) {
    assert.equal(parser.parse(FUTURES_LINES[i], ev), RejectReason.Ok);
    assert.equal(ev.prevFinalUpdateId, FUTURES_EVENTS[i].pu);
    assert.equal(sync.onEvent(ev), RejectReason.Ok);
  }
  const snapshot = parseDepthSnapshot(FUTURES_SNAPSHOT_BODY, "SUSHIUSDT");
  assert.equal(snapshot.eventTime, 1626992741264); // the futures snapshot's E
  assert.equal(sync.onSnapshot(0, snapshot), SnapshotOutcome.Applied);
  assert.equal(sync.rejected(0, RejectReason.BeforeSnapshot), 3);
  assert.equal(sync.counters(0).applied, 2); // events 3 and 4
  assert.equal(sync.lastUpdateId(0), FUTURES_EVENTS[4].u);
  for (let i = 5; i < FUTURES_LINES.length; i++) {
    assert.equal(parser.parse(FUTURES_LINES[i], ev), RejectReason.Ok);
    assert.equal(sync.onEvent(ev), RejectReason.Ok, `event ${i}`);
  }
  const c = sync.counters(0);
  assert.equal(c.applied, 197);
  assert.equal(c.rejectedTotal, 3);
  assert.equal(c.rejected[RejectReason.SequenceGap], 0);
  assert.equal(sync.state(0), SyncState.Synced);
  assert.equal(sync.lastUpdateId(0), FUTURES_EVENTS[199].u);

  const ref = new MapBook(FUTURES_SNAPSHOT);
  for (let i = 3; i < FUTURES_EVENTS.length; i++) ref.apply(FUTURES_EVENTS[i]);
  const got = syncBook(sync, 0);
  assert.deepEqual(got.bids, ref.sortedBids());
  assert.deepEqual(got.asks, ref.sortedAsks());
});

Deno.test("USD-M recording, snapshot first: each of events 0-2 is rejected before_snapshot, event 3 bridges", () => {
  const parser = usdmParser();
  const ev = new DiffEvent();
  const sync = new DiffSync({ symbolCount: 1 });
  sync.onSnapshot(0, parseDepthSnapshot(FUTURES_SNAPSHOT_BODY));
  const codes = FUTURES_LINES.map((line) => {
    assert.equal(parser.parse(line, ev), RejectReason.Ok);
    return sync.onEvent(ev);
  });
  assert.deepEqual(codes.slice(0, 4), [
    RejectReason.BeforeSnapshot,
    RejectReason.BeforeSnapshot,
    RejectReason.BeforeSnapshot,
    RejectReason.Ok,
  ]);
  assert.ok(codes.slice(4).every((code) => code === RejectReason.Ok));
});

Deno.test("USD-M recording with a line removed: pu != previous u is a sequence_gap, the symbol resyncs and recovers", () => {
  const parser = usdmParser();
  const ev = new DiffEvent();
  const sync = new DiffSync({ symbolCount: 1 });
  sync.onSnapshot(0, parseDepthSnapshot(FUTURES_SNAPSHOT_BODY));
  const removed = 100;
  const codes: number[] = [];
  for (let i = 0; i < FUTURES_LINES.length; i++) {
    if (i === removed) continue;
    parser.parse(FUTURES_LINES[i], ev);
    codes[i] = sync.onEvent(ev);
    if (i === removed + 1) {
      // Event 101 names event 100's u, not event 99's.
      assert.equal(codes[i], RejectReason.SequenceGap);
      assert.equal(sync.state(0), SyncState.Resyncing);
      assert.equal(sync.isStale(0), true);
      assert.equal(sync.wantsSnapshot(0), true);
      assert.equal(sync.lastUpdateId(0), FUTURES_EVENTS[99].u); // the last good book is kept
      // The ingest asks for the snapshot now; the events meanwhile wait in a lent ring.
      assert.equal(sync.takeSnapshotRequest(), 0);
    }
  }
  assert.equal(sync.rejected(0, RejectReason.SequenceGap), 1);
  // The resync: a new snapshot (taken at event 150) seeds the book again.
  const ref = new MapBook(FUTURES_SNAPSHOT);
  for (let i = 3; i <= 150; i++) ref.apply(FUTURES_EVENTS[i]);
  const outcome = sync.onSnapshot(0, parseDepthSnapshot(ref.body(FUTURES_EVENTS[150].u)));
  assert.equal(outcome, SnapshotOutcome.Applied);
  assert.equal(sync.state(0), SyncState.Synced);
  for (let i = 151; i < FUTURES_EVENTS.length; i++) ref.apply(FUTURES_EVENTS[i]);
  assert.equal(sync.lastUpdateId(0), FUTURES_EVENTS[199].u);
  const got = syncBook(sync, 0);
  assert.deepEqual(got.bids, ref.sortedBids());
  assert.deepEqual(got.asks, ref.sortedAsks());
});

Deno.test("the USD-M parser refuses an event without pu; the spot parser ignores pu, so spot's rule sees the futures gaps", () => {
  const ev = new DiffEvent();
  const noPu = FUTURES_LINES[5].replace(/,"pu":\d+/, "");
  assert.notEqual(noPu, FUTURES_LINES[5]);
  assert.equal(usdmParser().parse(noPu, ev), RejectReason.Malformed);
  const spotEvent = recordedLines("spot_diff.jsonl")[0];
  assert.equal(usdmParser(["nknusdt"]).parse(spotEvent, ev), RejectReason.Malformed);

  const spot = new DiffParser(new SymbolTable(["sushiusdt"]), "@depth@100ms", { chain: "spot" });
  assert.equal(spot.parse(FUTURES_LINES[5], ev), RejectReason.Ok);
  assert.ok(Number.isNaN(ev.prevFinalUpdateId));
  const sync = new DiffSync({ symbolCount: 1 });
  sync.onSnapshot(0, parseDepthSnapshot(FUTURES_SNAPSHOT_BODY));
  const codes = FUTURES_LINES.slice(0, 5).map((line) => {
    spot.parse(line, ev);
    return sync.onEvent(ev);
  });
  // Spot's bridge (U <= L + 1 <= u) still takes event 3; event 4 does not start at u + 1.
  assert.deepEqual(codes, [
    RejectReason.BeforeSnapshot,
    RejectReason.BeforeSnapshot,
    RejectReason.BeforeSnapshot,
    RejectReason.Ok,
    RejectReason.SequenceGap,
  ]);
});

Deno.test("spot recording through the spot-chain parser: as before, one stale event, a bridge, an unbroken chain; a removed line is a gap", () => {
  const lines = recordedLines("spot_diff.jsonl").filter((l) => l.includes('"nknusdt@depth@100ms"'));
  assert.equal(lines.length, 150);
  const snapshot = parseDepthSnapshot(JSON.stringify(recordedJson("rest_depth.json")));
  const run = (skip: number) => {
    const parser = new DiffParser(new SymbolTable(["nknusdt"]), "@depth@100ms", { chain: "spot" });
    const ev = new DiffEvent();
    const sync = new DiffSync({ symbolCount: 1 });
    sync.onSnapshot(0, snapshot);
    return lines.flatMap((line, i) => {
      if (i === skip) return [];
      assert.equal(parser.parse(line, ev), RejectReason.Ok);
      return [sync.onEvent(ev)];
    });
  };
  const whole = run(-1);
  assert.equal(whole[0], RejectReason.BeforeSnapshot);
  assert.ok(whole.slice(1).every((code) => code === RejectReason.Ok));
  const cut = run(60);
  assert.equal(cut[60], RejectReason.SequenceGap); // the event after the removed one
  assert.equal(cut.filter((code) => code === RejectReason.SequenceGap).length, 1);
});

// ------------------------------------------------------ the venue's tables

Deno.test("REST depth requests per venue: USD-M's limits, weights, path and budget", async () => {
  assert.deepEqual(
    [5, 10, 20, 50, 100, 500, 1000].map((l) => depthRequestWeightFor("binance-usdm", l)),
    [2, 2, 2, 2, 5, 10, 20],
  );
  for (const bad of [1, 99, 200, 5000]) {
    assert.throws(() => depthRequestWeightFor("binance-usdm", bad), /one of 5, 10, 20, 50, 100/);
  }
  assert.deepEqual([100, 500, 1000, 5000].map((l) => depthRequestWeight(l)), [5, 25, 50, 250]);
  assert.equal(DEPTH_REQUEST_RULES["binance-usdm"].path, "/fapi/v1/depth");
  assert.equal(DEPTH_REQUEST_RULES["binance-usdm"].weightLimit, 2400);
  assert.equal(DEPTH_REQUEST_RULES.binance.path, "/api/v3/depth");
  assert.deepEqual(
    [1, 6, 100, 101, 501, 5000].map((n) => depthRequestLimitFor("binance-usdm", n)),
    [
      5,
      10,
      100,
      500,
      1000,
      1000,
    ],
  );
  assert.deepEqual([1, 101, 5000, 6000].map((n) => depthRequestLimitFor("binance", n)), [
    1,
    101,
    5000,
    5000,
  ]);
  assert.throws(() => depthRequestWeightFor("okx" as never, 5), /"binance" or "binance-usdm"/);
  // The REST client of USD-M refuses a limit the venue does not serve, before any request.
  const rest = new RestClient({ restUrl: "http://127.0.0.1:9", venue: "binance-usdm" });
  assert.throws(() => rest.fetchDepth("BTCUSDT", 200), /one of 5, 10, 20, 50, 100, 500, 1000/);
  assert.equal(rest.requests, 0);
  await rest.close();
});

Deno.test("USD-M streams are on the routed /public path: the URL built is exactly wss://fstream.binance.com/public/stream?streams=…", () => {
  const base = binanceStreamBase("binance-usdm", VENUES["binance-usdm"].wsUrl);
  assert.equal(
    combinedStreamUrl(base, ["btcusdt@depth@100ms", "ethusdt@depth@100ms"]),
    "wss://fstream.binance.com/public/stream?streams=btcusdt@depth@100ms/ethusdt@depth@100ms",
  );
  assert.equal(USDM_PUBLIC_PATH, "/public");
  assert.equal(
    binanceStreamBase("binance-usdm", "ws://127.0.0.1:9000/"),
    "ws://127.0.0.1:9000/public",
  );
  for (
    const bad of [
      "wss://fstream.binance.com/public",
      "wss://fstream.binance.com/stream",
      "https://fapi.binance.com",
      "nope",
    ]
  ) {
    assert.throws(() => binanceStreamBase("binance-usdm", bad), /host\[:port\] only/, bad);
  }
  // Spot is as before: the base is used as given.
  assert.equal(
    binanceStreamBase("binance", "wss://stream.binance.com:9443"),
    "wss://stream.binance.com:9443",
  );
});

Deno.test("each Binance venue takes its own symbols of the service list, by native name and service-wide id", () => {
  const list = [
    "btcusdt",
    "binance-usdm:btcusdt",
    "x:btc-usdt",
    "okx:btc-usdt",
    "ethusdt",
    "binance-usdm:ethusdt",
  ];
  const spot = binanceVenueSymbols(list, "binance");
  assert.deepEqual(spot.natives, ["btcusdt", "ethusdt"]);
  assert.deepEqual([...spot.rows], [0, 4]);
  const usdm = binanceVenueSymbols(list, "binance-usdm");
  assert.deepEqual(usdm.natives, ["btcusdt", "ethusdt"]);
  assert.deepEqual([...usdm.rows], [1, 5]);
  assert.throws(
    () => binanceVenueSymbols(list, "bybit" as never),
    /"binance" \(spot\) or "binance-usdm"/,
  );
});

// ------------------------------------------------- the Ingestor over sockets

const SILENT = { warn() {}, error() {} };

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Spot SUSHIUSDT, synthetic (no spot recording of it): snapshot at 10, event 0 before it, 1..19 chained by U = prev u + 1. */
const SPOT_SNAPSHOT = { lastUpdateId: 10, bids: [["100.5", "1"]], asks: [["101.5", "2"]] };
const SPOT_LINES = Array.from({ length: 20 }, (_, i) => {
  const U = i === 0 ? 5 : 9 + 2 * i;
  const u = i === 0 ? 10 : U + 1;
  return JSON.stringify({
    stream: "sushiusdt@depth@100ms",
    data: {
      e: "depthUpdate",
      E: 1_700_000_000_000 + i,
      s: "SUSHIUSDT",
      U,
      u,
      b: [[(100 + i / 100).toFixed(2), "3"]],
      a: [],
    },
  });
});

/**
 * A minimal exchange for both venues on one port: WebSocket combined streams
 * at `/stream` (spot) and `/public/stream` (USD-M), REST `/api/v3/depth` and
 * `/fapi/v1/depth`. A diff connection gets its venue's first event (which
 * makes the ingest ask for a snapshot), then — once the test `release`s the
 * venue, having seen its synced book in the ring — the rest; a depth20
 * connection gets its venue's partial frames. Anything else is 404 (and recorded).
 */
function fakeExchange(mode: "diff" | "depth20") {
  const sockets: string[] = [];
  const rest: string[] = [];
  const released = { spot: Promise.withResolvers<void>(), usdm: Promise.withResolvers<void>() };
  const spotDepth20 = recordedLines("spot_depth20_reconstructed.jsonl");
  const usdmDepth20 = recordedLines("futures_partial_depth.jsonl").slice(0, 1); // btcusdt@depth20@100ms
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    const where = url.pathname + url.search;
    if (url.pathname === "/stream" || url.pathname === "/public/stream") {
      sockets.push(where);
      const usdm = url.pathname === "/public/stream";
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = async () => {
        if (mode === "depth20") {
          for (const line of usdm ? usdmDepth20 : spotDepth20) socket.send(line);
          return;
        }
        const lines = usdm ? FUTURES_LINES : SPOT_LINES;
        socket.send(lines[0]);
        await (usdm ? released.usdm : released.spot).promise;
        for (let i = 1; i < lines.length; i++) {
          if (socket.readyState !== WebSocket.OPEN) return;
          socket.send(lines[i]);
          if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
        }
      };
      socket.onerror = () => {};
      return response;
    }
    rest.push(where);
    if (url.pathname === "/fapi/v1/depth" && url.searchParams.get("symbol") === "SUSHIUSDT") {
      return new Response(FUTURES_SNAPSHOT_BODY);
    }
    if (url.pathname === "/api/v3/depth" && url.searchParams.get("symbol") === "SUSHIUSDT") {
      return new Response(JSON.stringify(SPOT_SNAPSHOT));
    }
    return new Response("not found", { status: 404 });
  });
  const base = `127.0.0.1:${server.addr.port}`;
  return {
    sockets,
    rest,
    wsUrl: `ws://${base}`,
    restUrl: `http://${base}`,
    release: (venue: "spot" | "usdm") => released[venue].resolve(),
    close: () => {
      released.spot.resolve();
      released.usdm.resolve();
      return server.shutdown();
    },
  };
}

/** Every frame now in the ring: symbol id, last update id, levels. */
function drain(ring: SpscRing, layout: BookSlotLayout) {
  const slot = new Float64Array(layout.slotWords);
  const out: { id: number; lastUpdateId: number; bids: number[][]; asks: number[][] }[] = [];
  while (ring.pop(slot)) {
    const bids = [];
    const asks = [];
    for (let i = 0; i < slot[BOOK_BID_COUNT]; i++) {
      bids.push([slot[layout.bidPrice(i)], slot[layout.bidSize(i)]]);
    }
    for (let i = 0; i < slot[BOOK_ASK_COUNT]; i++) {
      asks.push([slot[layout.askPrice(i)], slot[layout.askSize(i)]]);
    }
    out.push({ id: slot[BOOK_SYMBOL_ID], lastUpdateId: slot[BOOK_LAST_UPDATE_ID], bids, asks });
  }
  return out;
}

/** One list for both venues: the same native SUSHIUSDT on each, plus names neither connects. */
const SERVICE_SYMBOLS = ["sushiusdt", "binance-usdm:sushiusdt", "x:sushi-usdt", "okx:sushi-usdt"];
const SPOT_ID = 0;
const USDM_ID = 1;
const UNKNOWN_ROW = SERVICE_SYMBOLS.length;

Deno.test("diff mode: a spot and a USD-M Ingestor share one list, ring and counters; each connects only its venue, frames carry the service-wide ids", async () => {
  const exchange = fakeExchange("diff");
  const layout = new BookSlotLayout(20);
  const rawRing = SpscRing.create({ capacity: 4096, slotBytes: layout.slotBytes });
  const counters = PipelineCounters.create(SERVICE_SYMBOLS.length + 1);
  const common = {
    symbols: SERVICE_SYMBOLS,
    rawRing,
    counters,
    wsUrl: exchange.wsUrl,
    restUrl: exchange.restUrl,
    stream: "diff" as const,
    snapshotDepth: 1000,
    staleMs: 120_000,
    log: SILENT,
  };
  const spot = new Ingestor({ ...common, venue: "binance" });
  const usdm = new Ingestor({ ...common, venue: "binance-usdm" });
  const c = counters;
  const frames: ReturnType<typeof drain> = [];
  const lastOf = (id: number) => frames.findLast((f) => f.id === id);
  let syncedWhileRunning = -1;
  try {
    spot.start();
    usdm.start();
    await until("the last event of each venue in the ring", () => {
      frames.push(...drain(rawRing, layout));
      // A venue's first frame is its book from the snapshot: now the stream may go on.
      if (lastOf(USDM_ID)) exchange.release("usdm");
      if (lastOf(SPOT_ID)) exchange.release("spot");
      return lastOf(USDM_ID)?.lastUpdateId === FUTURES_EVENTS[199].u &&
        lastOf(SPOT_ID)?.lastUpdateId === 48 &&
        c.load(c.ingestSymbol(USDM_ID, INGEST_RECEIVED)) === 200 &&
        c.load(c.ingestSymbol(SPOT_ID, INGEST_RECEIVED)) === 20 &&
        c.load(c.ingest(INGEST_DIFF_SYNCED)) === 2;
    });
    syncedWhileRunning = c.load(c.ingest(INGEST_DIFF_SYNCED));
  } finally {
    await spot.stop();
    await usdm.stop();
    await exchange.close();
  }
  // Exactly one connection per venue, each naming its venue's one stream, on its path.
  assert.deepEqual(exchange.sockets.toSorted(), [
    "/public/stream?streams=sushiusdt@depth@100ms",
    "/stream?streams=sushiusdt@depth@100ms",
  ]);
  assert.deepEqual(exchange.rest.toSorted(), [
    "/api/v3/depth?symbol=SUSHIUSDT&limit=1000",
    "/fapi/v1/depth?symbol=SUSHIUSDT&limit=1000",
  ]);
  // Frames of the two venues' SUSHIUSDT under their own ids, nothing under any other.
  assert.deepEqual([...new Set(frames.map((f) => f.id))].sort(), [SPOT_ID, USDM_ID]);
  const ref = new MapBook(FUTURES_SNAPSHOT);
  for (let i = 3; i < 200; i++) ref.apply(FUTURES_EVENTS[i]);
  const usdmLast = lastOf(USDM_ID)!;
  assert.deepEqual(usdmLast.bids, ref.sortedBids().slice(0, 20));
  assert.deepEqual(usdmLast.asks, ref.sortedAsks().slice(0, 20));
  assert.deepEqual(lastOf(SPOT_ID)!.asks, [[101.5, 2]]);
  assert.equal(lastOf(SPOT_ID)!.bids[0][0], 100.5);
  // Counter rows: each venue its own; the others and the unknown row untouched.
  assert.equal(c.load(c.rejected(USDM_ID, RejectReason.BeforeSnapshot)), 3);
  assert.equal(c.load(c.rejected(USDM_ID, RejectReason.SequenceGap)), 0);
  assert.equal(c.load(c.rejected(SPOT_ID, RejectReason.BeforeSnapshot)), 1);
  assert.equal(
    c.load(c.ingestSymbol(USDM_ID, INGEST_ACCEPTED)),
    frames.filter((f) => f.id === USDM_ID).length,
  );
  assert.equal(
    c.load(c.ingestSymbol(SPOT_ID, INGEST_ACCEPTED)),
    frames.filter((f) => f.id === SPOT_ID).length,
  );
  for (const row of [2, 3, UNKNOWN_ROW]) {
    assert.equal(c.load(c.ingestSymbol(row, INGEST_RECEIVED)), 0, `row ${row}`);
    assert.equal(c.load(c.ingestSymbol(row, INGEST_ACCEPTED)), 0, `row ${row}`);
  }
  // The shared totals are the sums of both Ingestors' growth.
  assert.equal(c.load(c.ingest(INGEST_CONNECTS)), 2);
  assert.equal(c.load(c.ingest(INGEST_REST_REQUESTS)), 2);
  // Books synced: one per venue, summed over both Ingestors.
  assert.equal(syncedWhileRunning, 2);
});

Deno.test("depth20 mode: USD-M partial frames (the diff-event envelope, as recorded) reach the ring under the USD-M id", async () => {
  const exchange = fakeExchange("depth20");
  const layout = new BookSlotLayout(20);
  const rawRing = SpscRing.create({ capacity: 64, slotBytes: layout.slotBytes });
  const symbols = ["btcusdt", "binance-usdm:btcusdt"];
  const counters = PipelineCounters.create(symbols.length + 1);
  const common = {
    symbols,
    rawRing,
    counters,
    wsUrl: exchange.wsUrl,
    staleMs: 120_000,
    log: SILENT,
  };
  const spot = new Ingestor({ ...common, venue: "binance" });
  const usdm = new Ingestor({ ...common, venue: "binance-usdm" });
  const frames: ReturnType<typeof drain> = [];
  try {
    spot.start();
    usdm.start();
    await until("one frame of each venue", () => {
      frames.push(...drain(rawRing, layout));
      return frames.length >= 2;
    });
  } finally {
    await spot.stop();
    await usdm.stop();
    await exchange.close();
  }
  assert.deepEqual(exchange.sockets.toSorted(), [
    "/public/stream?streams=btcusdt@depth20@100ms",
    "/stream?streams=btcusdt@depth20@100ms",
  ]);
  const recorded = JSON.parse(recordedLines("futures_partial_depth.jsonl")[0]).data;
  const usdmFrame = frames.find((f) => f.id === 1)!;
  assert.equal(usdmFrame.lastUpdateId, recorded.u);
  assert.deepEqual(usdmFrame.bids, recorded.b.map(([p, q]: string[]) => [Number(p), Number(q)]));
  const spotRecorded = JSON.parse(recordedLines("spot_depth20_reconstructed.jsonl")[0]).data;
  assert.equal(frames.find((f) => f.id === 0)!.lastUpdateId, spotRecorded.lastUpdateId);
  assert.equal(counters.load(counters.ingestSymbol(1, INGEST_ACCEPTED)), 1);
  assert.equal(counters.load(counters.ingestSymbol(0, INGEST_ACCEPTED)), 1);
  assert.equal(counters.load(counters.ingest(INGEST_CONNECTS)), 2);
});

Deno.test("an Ingestor whose venue has no symbol in the list does nothing: no connection, timer or counter", async () => {
  // Not stopped: a timer or socket left behind would fail this test (Deno's sanitizers).
  const layout = new BookSlotLayout(20);
  const rawRing = SpscRing.create({ capacity: 16, slotBytes: layout.slotBytes });
  const symbols = ["btcusdt", "x:btc-usdt", "okx:btc-usdt"];
  const counters = PipelineCounters.create(symbols.length + 1);
  const before = new Uint32Array(counters.buffer).slice();
  for (const stream of ["diff", "depth20"] as const) {
    const idle = new Ingestor({
      symbols,
      venue: "binance-usdm",
      rawRing,
      counters,
      wsUrl: "ws://127.0.0.1:9",
      restUrl: "http://127.0.0.1:9",
      stream,
    });
    idle.start();
    assert.equal(idle.checkLease(), true);
    await idle.replayFinished;
  }
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(counters.load(counters.ingest(INGEST_STARTED)), 0);
  assert.deepEqual(new Uint32Array(counters.buffer), before, "no counter word written");
  assert.equal(rawRing.available(), 0);
  const stopped = new Ingestor({
    symbols,
    venue: "binance-usdm",
    rawRing,
    counters,
    wsUrl: "ws://127.0.0.1:9",
  });
  stopped.start();
  await stopped.stop();
});

Deno.test("Ingestor options of USD-M: a wsUrl with a path, a recording tap or a replay is refused with a clear error", () => {
  const layout = new BookSlotLayout(20);
  const rawRing = SpscRing.create({ capacity: 16, slotBytes: layout.slotBytes });
  const symbols = ["binance-usdm:btcusdt"];
  const counters = PipelineCounters.create(2);
  const base = { symbols, venue: "binance-usdm" as const, rawRing, counters };
  assert.throws(
    () => new Ingestor({ ...base, wsUrl: "wss://fstream.binance.com/public/stream" }),
    /binance-usdm wsUrl must be ws\(s\):\/\/host\[:port\] only/,
  );
  assert.throws(
    () => new Ingestor({ ...base, wsUrl: "ws://127.0.0.1:9", tap: () => {} }),
    /recording \(tap\) and replay are for Binance spot only/,
  );
  assert.throws(
    () => new Ingestor({ ...base, wsUrl: "ws://127.0.0.1:9", venue: "kraken" as never }),
    /"binance" \(spot\) or "binance-usdm"/,
  );
});
