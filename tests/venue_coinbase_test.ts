import assert from "node:assert/strict";
import { COINBASE_PROTOCOL } from "../lib/ingest/venues/coinbase_protocol.ts";
import { VenueSyncResult } from "../lib/ingest/venues/venue_protocol.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import {
  assertMutationsAnswerACode,
  assertNoiseNeverAnswers,
  exchangeLines,
  ReferenceBook,
  referenceTop,
  slotTop,
} from "./venue_reference.ts";

interface CbUpdate {
  side: "bid" | "offer";
  event_time: string;
  price_level: string;
  new_quantity: string;
}
interface CbEvent {
  type: "snapshot" | "update";
  product_id: string;
  updates: CbUpdate[];
}
interface CbMessage {
  channel: string;
  sequence_num: number;
  timestamp: string;
  events: CbEvent[];
}

const PARTIAL = exchangeLines("coinbase_advanced_trade_level2_frames_partial.jsonl");
const TICKER = exchangeLines("coinbase_advanced_trade_ticker_btcusd.jsonl");
const T = "2026-09-07T01:57:58.894355Z";

/** A constructed l2_data message, in the documented shape. */
function l2(seq: number, events: [string, string, [string, string, string][]][]): string {
  return JSON.stringify({
    channel: "l2_data",
    client_id: "",
    timestamp: T,
    sequence_num: seq,
    events: events.map(([type, product_id, levels]) => ({
      type,
      product_id,
      updates: levels.map(([side, price_level, new_quantity]) => ({
        side,
        event_time: T,
        price_level,
        new_quantity,
      })),
    })),
  });
}

function applyRef(refs: Map<string, ReferenceBook>, line: string): void {
  const msg = JSON.parse(line) as CbMessage;
  for (const e of msg.events) {
    const ref = refs.get(e.product_id)!;
    if (e.type === "snapshot") ref.clear();
    for (const u of e.updates) {
      ref.set(u.side === "bid" ? "bid" : "ask", u.price_level, u.new_quantity);
    }
  }
}

Deno.test("coinbase level2: the real partial frames: snapshot, acks and heartbeat in sequence, the error frame", () => {
  const sync = COINBASE_PROTOCOL.createSync({ symbols: ["BTC-PERP-INTX", "ETH-PERP-INTX"] });
  const refs = new Map([["BTC-PERP-INTX", new ReferenceBook()], [
    "ETH-PERP-INTX",
    new ReferenceBook(),
  ]]);
  assert.equal(sync.handle(PARTIAL[0], 0), VenueSyncResult.Applied, `reason ${sync.reason}`);
  applyRef(refs, PARTIAL[0]);
  assert.equal(sync.symbolId, 0);
  assert.equal(sync.eventTime, Date.parse("2026-09-07T01:57:58.894Z") + 0.355);
  const top = slotTop(sync, 0, 10);
  assert.deepEqual(
    { bids: top.bids, asks: top.asks },
    referenceTop(refs.get("BTC-PERP-INTX")!, 10),
  );
  assert.deepEqual(top.asks, [[79944, 0.048], [79944.1, 1.2]], "unsorted offers are sorted");
  assert.equal(sync.lastSeq(0), 0);
  for (const line of PARTIAL.slice(1, 4)) {
    assert.equal(sync.handle(line, 0), VenueSyncResult.Control);
  }
  assert.equal(sync.handle(PARTIAL[4], 0), VenueSyncResult.VenueError);
  assert.equal(sync.errorText, PARTIAL[4]);
  // the count went 0, 1, 2, 3: the next must be 4
  assert.equal(sync.handle(l2(4, [["update", "BTC-PERP-INTX", [["bid", "79943.9", "0"]]]]), 0), 0);
  assert.deepEqual(slotTop(sync, 0, 10).bids, [[79943.8, 0.5]]);
  assert.equal(sync.lastSeq(0), 4);
});

Deno.test("coinbase: sequence_num counts across channels; a jump is a Resync of the whole connection (-1)", () => {
  const sync = COINBASE_PROTOCOL.createSync({ symbols: ["BTC-USD", "ETH-USD"] });
  // the real ticker recording: ticker 0, subscriptions 1, ticker 2 (a channel not read here)
  assert.equal(sync.handle(TICKER[0], 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.UnknownStream);
  assert.equal(sync.handle(TICKER[1], 0), VenueSyncResult.Control);
  assert.equal(sync.handle(TICKER[2], 0), VenueSyncResult.Rejected, "2 follows 1: no gap");
  assert.equal(sync.reason, RejectReason.UnknownStream);
  const snap = l2(3, [
    ["snapshot", "BTC-USD", [["bid", "100.5", "1"], ["offer", "101", "2"]]],
    ["snapshot", "ETH-USD", [["bid", "10.25", "3"], ["offer", "10.5", "4"]]],
  ]);
  assert.equal(sync.handle(snap, 0), VenueSyncResult.Applied);
  assert.equal(sync.changedCount, 2);
  assert.deepEqual([...sync.changed.subarray(0, 2)], [0, 1]);
  const heartbeat = (n: number) =>
    `{"channel":"heartbeats","client_id":"","timestamp":"${T}","sequence_num":${n},` +
    `"events":[{"current_time":"x","heartbeat_counter":${n}}]}`;
  assert.equal(sync.handle(heartbeat(4), 0), VenueSyncResult.Control);
  // 5 lost: the heartbeat 6 shows it
  assert.equal(sync.handle(heartbeat(6), 0), VenueSyncResult.Resync);
  assert.equal(sync.reason, RejectReason.SequenceGap);
  assert.equal(sync.symbolId, -1);
  assert.equal(sync.synced(0), false);
  assert.equal(sync.synced(1), false);
  assert.equal(slotTop(sync, 0, 5).bids.length, 0);
  assert.equal(slotTop(sync, 1, 5).asks.length, 0);
  // updates wait for a snapshot; the count goes on from 6
  assert.equal(
    sync.handle(l2(7, [["update", "BTC-USD", [["bid", "100", "1"]]]]), 0),
    VenueSyncResult.Rejected,
  );
  assert.equal(sync.reason, RejectReason.BeforeSnapshot);
  assert.equal(
    sync.handle(l2(8, [["snapshot", "BTC-USD", [["bid", "99", "1"]]]]), 0),
    VenueSyncResult.Applied,
  );
  assert.equal(sync.synced(0), true);
  // a gap in an l2_data message itself: nothing of it is applied
  const before = slotTop(sync, 0, 5);
  assert.equal(
    sync.handle(l2(10, [["update", "BTC-USD", [["bid", "98", "1"]]]]), 0),
    VenueSyncResult.Resync,
  );
  assert.notDeepEqual(slotTop(sync, 0, 5), before);
  assert.equal(slotTop(sync, 0, 5).bids.length, 0);
});

Deno.test("coinbase: constructed level2 stream matches a reference after every message", () => {
  const products = ["BTC-USD", "ETH-USD"];
  const sync = COINBASE_PROTOCOL.createSync({ symbols: products, bookCapacity: 50 });
  const refs = new Map(products.map((p) => [p, new ReferenceBook()]));
  // deterministic pseudo-random stream: snapshots, then updates with inserts and deletes
  let seed = 17;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const lines: string[] = [];
  let seq = 0;
  for (const p of products) {
    const levels: [string, string, string][] = [];
    for (let i = 1; i <= 30; i++) {
      levels.push(["bid", (1000 - i).toFixed(2), `${rand(9) + 1}.5`]);
      levels.push(["offer", (1000 + i).toFixed(2), `${rand(9) + 1}.25`]);
    }
    lines.push(l2(seq++, [["snapshot", p, levels]]));
  }
  for (let m = 0; m < 300; m++) {
    const events: [string, string, [string, string, string][]][] = [];
    for (const p of products) {
      if (rand(3) === 0) continue;
      const levels: [string, string, string][] = [];
      for (let k = 0; k < 1 + rand(4); k++) {
        const bid = rand(2) === 0;
        const price = bid ? 1000 - 1 - rand(35) : 1000 + 1 + rand(35);
        levels.push([
          bid ? "bid" : "offer",
          `${price}.00`,
          rand(3) === 0 ? "0" : `0.${rand(1000) + 1}`,
        ]);
      }
      events.push(["update", p, levels]);
    }
    if (events.length > 0) lines.push(l2(seq++, events));
  }
  for (const [i, line] of lines.entries()) {
    applyRef(refs, line);
    assert.equal(sync.handle(line, 0), VenueSyncResult.Applied, `message ${i}: ${sync.reason}`);
    for (const [id, p] of products.entries()) {
      const top = slotTop(sync, id, 20);
      assert.deepEqual(
        { bids: top.bids, asks: top.asks },
        referenceTop(refs.get(p)!, 20),
        `message ${i}`,
      );
    }
  }
});

Deno.test("coinbase: a snapshot larger than the batch (every level, as Coinbase sends) is applied a batch at a time", () => {
  // book capacity 300: the batch holds 2048 levels, the snapshot has 6000
  const sync = COINBASE_PROTOCOL.createSync({ symbols: ["BTC-USD"], bookCapacity: 300 });
  const refs = new Map([["BTC-USD", new ReferenceBook()]]);
  const levels: [string, string, string][] = [];
  for (let k = 0; k < 6000; k++) {
    const j = (k * 4099) % 6000;
    levels.push(
      j % 2 === 0 ? ["bid", (60000 - j / 100).toFixed(2), `0.${j + 1}`] : [
        "offer",
        (60001 + j / 100).toFixed(2),
        `${j}.5`,
      ],
    );
  }
  const snap = l2(0, [["snapshot", "BTC-USD", levels]]);
  applyRef(refs, snap);
  assert.equal(sync.handle(snap, 0), VenueSyncResult.Applied);
  const top = slotTop(sync, 0, 200);
  assert.deepEqual({ bids: top.bids, asks: top.asks }, referenceTop(refs.get("BTC-USD")!, 200));
  assert.equal(top.bids.length, 200);
});

Deno.test("coinbase: malformed, truncated and arbitrary text is Rejected, never a throw", () => {
  const sync = COINBASE_PROTOCOL.createSync({ symbols: ["BTC-PERP-INTX"] });
  for (let cut = 0; cut < PARTIAL[0].length; cut++) {
    assert.equal(sync.handle(PARTIAL[0].slice(0, cut), 0), VenueSyncResult.Rejected, `cut ${cut}`);
    assert.equal(sync.reason, RejectReason.Malformed);
  }
  assert.equal(sync.handle(PARTIAL[0], 0), VenueSyncResult.Applied);
  const synced = slotTop(sync, 0, 5);
  // valid JSON whose content is bad: its sequence_num counted, so its updates
  // would be lost without a gap ever showing: the whole connection resyncs
  const badSide = l2(1, [["update", "BTC-PERP-INTX", [["buy", "79943.9", "1"]]]]);
  assert.equal(sync.handle(badSide, 0), VenueSyncResult.Resync);
  assert.equal(sync.reason, RejectReason.Malformed);
  assert.equal(sync.symbolId, 0, "one product on the connection: its own Resync (a resubscribe)");
  assert.equal(sync.synced(0), false);
  const badPrice = l2(2, [["snapshot", "BTC-PERP-INTX", [["bid", "-5", "1"]]]]);
  assert.equal(sync.handle(badPrice, 0), VenueSyncResult.Resync);
  assert.equal(sync.reason, RejectReason.BadPrice);
  assert.equal(sync.connectionSeq, 2);
  // an event of a product not subscribed here is skipped, the others apply
  const mixed = l2(3, [
    ["snapshot", "ETH-USD", [["bid", "1", "1"]]],
    ["snapshot", "BTC-PERP-INTX", [["bid", "2", "1"]]],
  ]);
  assert.equal(sync.handle(mixed, 0), VenueSyncResult.Applied);
  assert.deepEqual(slotTop(sync, 0, 5).bids, [[2, 1]]);
  const other = l2(4, [["update", "ETH-USD", [["bid", "1", "2"]]]]);
  assert.equal(sync.handle(other, 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.UnknownStream);
  assert.equal(sync.handle(PARTIAL[0], 0), VenueSyncResult.Resync, "0 after 4: a jump");
  sync.resetAll(); // a new connection
  assert.equal(sync.handle(PARTIAL[0], 0), VenueSyncResult.Applied);
  assert.deepEqual(slotTop(sync, 0, 5), synced);
  assertNoiseNeverAnswers(sync, [VenueSyncResult.Applied]);
  assert.deepEqual(COINBASE_PROTOCOL.subscribe(["BTC-USD"]).map((m) => JSON.parse(m)), [
    { type: "subscribe", product_ids: ["BTC-USD"], channel: "level2" },
    { type: "subscribe", channel: "heartbeats" },
  ]);
  assert.equal(COINBASE_PROTOCOL.keepalive, undefined);
});

Deno.test("coinbase: a real message with characters changed, cut or doubled never throws and answers a result code", () => {
  const sync = COINBASE_PROTOCOL.createSync({ symbols: ["BTC-PERP-INTX"] });
  const line = PARTIAL[0];
  assertMutationsAnswerACode(sync, line);
});

Deno.test("coinbase: a gap on a connection of one product is a Resync of that product, of several: -1", () => {
  const hb = (n: number) =>
    `{"channel":"heartbeats","client_id":"","timestamp":"${T}","sequence_num":${n},"events":[]}`;
  const one = COINBASE_PROTOCOL.createSync({ symbols: ["BTC-USD"] });
  assert.equal(one.handle(l2(0, [["snapshot", "BTC-USD", [["bid", "1", "1"]]]]), 0), 0);
  assert.equal(one.handle(hb(2), 0), VenueSyncResult.Resync);
  assert.equal(one.reason, RejectReason.SequenceGap);
  assert.equal(one.symbolId, 0);
  assert.equal(one.synced(0), false);
  // the resubscribe's snapshot comes on the same connection: the count goes on
  assert.equal(one.handle(hb(3), 0), VenueSyncResult.Control);
  assert.equal(one.handle(l2(4, [["snapshot", "BTC-USD", [["bid", "2", "1"]]]]), 0), 0);
  assert.equal(one.synced(0), true);
  const two = COINBASE_PROTOCOL.createSync({ symbols: ["BTC-USD", "ETH-USD"] });
  assert.equal(two.handle(hb(0), 0), VenueSyncResult.Control);
  assert.equal(two.handle(hb(2), 0), VenueSyncResult.Resync);
  assert.equal(two.symbolId, -1);
});
