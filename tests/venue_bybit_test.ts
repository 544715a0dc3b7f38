import assert from "node:assert/strict";
import { BYBIT_PROTOCOL, BybitProtocol } from "../lib/ingest/venues/bybit_protocol.ts";
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

interface BybitMessage {
  topic: string;
  type: "snapshot" | "delta";
  ts: number;
  data: { s: string; b: [string, string][]; a: [string, string][]; u: number; seq: number };
}

const XRP = exchangeLines("bybit_linear_orderbook500_xrpusdt.jsonl");
const BTC = exchangeLines("bybit_linear_orderbook50_btcusdt_pair.jsonl");

function applyRef(ref: ReferenceBook, msg: BybitMessage): void {
  if (msg.type === "snapshot" || msg.data.u === 1) ref.clear();
  for (const [p, s] of msg.data.b) ref.set("bid", p, s);
  for (const [p, s] of msg.data.a) ref.set("ask", p, s);
}

Deno.test("bybit: the XRPUSDT orderbook.500 recording replays, the u chain bridges, the book matches a reference after every message", () => {
  const sync = new BybitProtocol({ depth: 500 }).createSync({ symbols: ["XRPUSDT"] });
  const ref = new ReferenceBook();
  let prevU = NaN;
  for (const [i, line] of XRP.entries()) {
    const msg = JSON.parse(line) as BybitMessage;
    if (i > 0) assert.equal(msg.data.u, prevU + 1, "the recording's u chain");
    prevU = msg.data.u;
    applyRef(ref, msg);
    assert.equal(sync.handle(line, 0), VenueSyncResult.Applied, `line ${i + 1}: ${sync.reason}`);
    assert.equal(sync.symbolId, 0);
    assert.equal(sync.lastSeq(0), msg.data.u);
    assert.equal(sync.eventTime, msg.ts);
    const top = slotTop(sync, 0, 500);
    assert.deepEqual({ bids: top.bids, asks: top.asks }, referenceTop(ref, 500), `line ${i + 1}`);
    assert.equal(top.lastUpdateId, msg.data.u);
  }
  const end = slotTop(sync, 0, 1000);
  assert.equal(end.bids.length, 500);
  assert.equal(end.asks.length, 500);
});

Deno.test("bybit: a removed line is a sequence_gap Resync; deltas wait; a later snapshot (or u = 1) resets", () => {
  const sync = new BybitProtocol({ depth: 500 }).createSync({ symbols: ["XRPUSDT"] });
  for (let i = 0; i < 10; i++) assert.equal(sync.handle(XRP[i], 0), VenueSyncResult.Applied);
  // line 11 removed: line 12's u is two past the last
  assert.equal(sync.handle(XRP[11], 0), VenueSyncResult.Resync);
  assert.equal(sync.reason, RejectReason.SequenceGap);
  assert.equal(sync.symbolId, 0);
  assert.equal(sync.synced(0), false);
  assert.equal(slotTop(sync, 0, 5).bids.length, 0);
  assert.equal(sync.handle(XRP[12], 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.BeforeSnapshot);
  // a later snapshot resets the book, and its deltas follow
  assert.equal(sync.handle(XRP[0], 0), VenueSyncResult.Applied);
  for (let i = 1; i < XRP.length; i++) {
    assert.equal(sync.handle(XRP[i], 0), VenueSyncResult.Applied);
  }
  // a snapshot in the middle of a synced stream replaces the book
  const ref = new ReferenceBook();
  applyRef(ref, JSON.parse(XRP[0]));
  assert.equal(sync.handle(XRP[0], 0), VenueSyncResult.Applied);
  let top = slotTop(sync, 0, 500);
  assert.deepEqual({ bids: top.bids, asks: top.asks }, referenceTop(ref, 500));
  // u = 1 (a service restart) is a snapshot whatever its type says
  const restart = '{"topic":"orderbook.500.XRPUSDT","type":"delta","ts":1,"data":{"s":"XRPUSDT",' +
    '"b":[["1.9","10"]],"a":[["2.0","20"]],"u":1,"seq":1},"cts":1}';
  assert.equal(sync.handle(restart, 0), VenueSyncResult.Applied);
  top = slotTop(sync, 0, 500);
  assert.deepEqual({ bids: top.bids, asks: top.asks }, { bids: [[1.9, 10]], asks: [[2, 20]] });
  assert.equal(sync.lastSeq(0), 1);
});

Deno.test("bybit: the BTCUSDT orderbook.50 pair, in any key order, and the control messages", () => {
  const sync = BYBIT_PROTOCOL.createSync({ symbols: ["ETHUSDT", "BTCUSDT"] });
  assert.equal(sync.handle(BTC[0], 0), VenueSyncResult.Control); // the subscribe ack
  const ref = new ReferenceBook();
  for (const line of BTC.slice(1)) {
    const msg = JSON.parse(line) as BybitMessage;
    applyRef(ref, msg);
    // keys in another order (the values are strings and integers: nothing lost)
    const reordered = JSON.stringify({
      data: { u: msg.data.u, a: msg.data.a, seq: msg.data.seq, b: msg.data.b, s: msg.data.s },
      ts: msg.ts,
      type: msg.type,
      topic: msg.topic,
    });
    assert.equal(sync.handle(reordered, 0), VenueSyncResult.Applied, `reason ${sync.reason}`);
    assert.equal(sync.symbolId, 1);
    const top = slotTop(sync, 1, 50);
    assert.deepEqual({ bids: top.bids, asks: top.asks }, referenceTop(ref, 50));
  }
  assert.equal(sync.lastSeq(1), 10132541);
  const pong = '{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}';
  assert.equal(sync.handle(pong, 0), VenueSyncResult.Control);
  assert.equal(
    sync.handle('{"req_id":"","op":"pong","args":["1733011200691"],"conn_id":"x"}', 0),
    VenueSyncResult.Control,
  );
  const error =
    '{"success":false,"ret_msg":"error:handler not found","conn_id":"x","req_id":"","op":"subscribe"}';
  assert.equal(sync.handle(error, 0), VenueSyncResult.VenueError);
  assert.equal(sync.errorText, error);
  assert.equal(
    sync.handle('{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[]}', 0),
    VenueSyncResult.Rejected,
  );
  assert.equal(sync.reason, RejectReason.UnknownStream);
  assert.deepEqual(
    BYBIT_PROTOCOL.subscribe(["BTCUSDT"]).map((m) => JSON.parse(m)),
    [{ op: "subscribe", args: ["orderbook.50.BTCUSDT"] }],
  );
  assert.equal(
    BYBIT_PROTOCOL.subscribe(Array.from({ length: 25 }, (_, i) => `A${i}USDT`)).length,
    3,
  );
  assert.deepEqual(BYBIT_PROTOCOL.keepalive, { text: '{"op":"ping"}', everyMs: 20_000 });
});

Deno.test("bybit: truncated or arbitrary text is Rejected, never a throw, the book untouched", () => {
  const sync = BYBIT_PROTOCOL.createSync({ symbols: ["BTCUSDT"] });
  assert.equal(sync.handle(BTC[1], 0), VenueSyncResult.Applied);
  const before = slotTop(sync, 0, 50);
  for (let cut = 0; cut < BTC[2].length; cut++) {
    assert.equal(sync.handle(BTC[2].slice(0, cut), 0), VenueSyncResult.Rejected, `cut ${cut}`);
    assert.equal(sync.reason, RejectReason.Malformed);
  }
  assert.equal(
    sync.handle(BTC[2].replace('"71418.20"', '"7141x8.20"'), 0),
    VenueSyncResult.Rejected,
  );
  assert.equal(sync.reason, RejectReason.BadPrice);
  assert.deepEqual(slotTop(sync, 0, 50), before);
  assertNoiseNeverAnswers(sync, [VenueSyncResult.Applied, VenueSyncResult.Resync]);
  assert.deepEqual(slotTop(sync, 0, 50), before);
  assert.equal(sync.handle(BTC[2], 0), VenueSyncResult.Applied);
});

Deno.test("bybit: a message with more levels than the batch holds is read twice and applies the same", () => {
  const sync = BYBIT_PROTOCOL.createSync({ symbols: ["BTCUSDT"] });
  const ref = new ReferenceBook();
  const b: [string, string][] = [], a: [string, string][] = [];
  // 1500 levels per side (3000 > the batch's 2048), unsorted, some sizes 0
  for (let k = 0; k < 1500; k++) {
    const j = (k * 7919) % 1500;
    b.push([(50000 - j / 10).toFixed(1), j % 13 === 0 ? "0" : `${j}.001`]);
    a.push([(50001 + j / 10).toFixed(1), `${j + 1}.50`]);
  }
  const msg: BybitMessage = {
    topic: "orderbook.50.BTCUSDT",
    type: "snapshot",
    ts: 1,
    data: { s: "BTCUSDT", b, a, u: 9, seq: 1 },
  };
  applyRef(ref, msg);
  assert.equal(sync.handle(JSON.stringify(msg), 0), VenueSyncResult.Applied);
  const top = slotTop(sync, 0, 100);
  assert.deepEqual({ bids: top.bids, asks: top.asks }, referenceTop(ref, 100));
  // a bad level past the batch's capacity is still found before anything changes
  const bad = structuredClone(msg);
  bad.data.u = 10;
  bad.type = "delta";
  bad.data.a[1400] = ["-1", "1"];
  assert.equal(sync.handle(JSON.stringify(bad), 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.BadPrice);
  assert.deepEqual(slotTop(sync, 0, 100), top);
});

Deno.test("bybit: a real message with characters changed, cut or doubled never throws and answers a result code", () => {
  const sync = BYBIT_PROTOCOL.createSync({ symbols: ["BTCUSDT"] });
  const line = BTC[2];
  assertMutationsAnswerACode(sync, line);
});
