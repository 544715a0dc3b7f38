import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { KRAKEN_PROTOCOL, KrakenProtocol } from "../lib/ingest/venues/kraken_protocol.ts";
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

const ALGO = exchangeLines("kraken_v2_book_algousd.jsonl");
const BTC = exchangeLines("kraken_v2_book_btcusdt_snapshot_reconstructed.jsonl");

interface KrakenEntry {
  symbol: string;
  bids: { price: number; qty: number }[];
  asks: { price: number; qty: number }[];
  checksum: number;
  timestamp?: string;
}

/**
 * The number tokens of a message's levels, as text, in order: JSON.parse
 * cannot give them (0.12290 becomes 0.1229), so they are cut from the text.
 */
function levelTexts(line: string, side: "bids" | "asks"): [string, string][] {
  const start = line.indexOf(`"${side}":[`);
  const end = line.indexOf("]", start);
  const body = line.slice(start, end);
  return [...body.matchAll(/"price":([0-9.]+),"qty":([0-9.]+)/g)].map((m) => [m[1], m[2]]);
}

/** Apply a Kraken book message to the reference, with the texts cut from the line. */
function applyRef(ref: ReferenceBook, line: string, depth: number): KrakenEntry {
  const msg = JSON.parse(line) as { type: string; data: KrakenEntry[] };
  if (msg.type === "snapshot") ref.clear();
  const asks = levelTexts(line, "asks"), bids = levelTexts(line, "bids");
  assert.equal(asks.length, msg.data[0].asks.length);
  assert.equal(bids.length, msg.data[0].bids.length);
  for (const [p, q] of asks) ref.set("ask", p, q);
  for (const [p, q] of bids) ref.set("bid", p, q);
  ref.truncate(depth);
  return msg.data[0];
}

Deno.test("kraken v2: the ALGO/USD recording replays, both checksums verify (JSON.parse's numbers break both), the book matches a reference", () => {
  const sync = KRAKEN_PROTOCOL.createSync({ symbols: ["BTC/USD", "ALGO/USD"] });
  assert.equal(sync.handle(ALGO[0], 0), VenueSyncResult.Control); // status
  const ref = new ReferenceBook();
  let verified = 0;
  for (const line of ALGO.slice(1)) {
    const entry = applyRef(ref, line, 10);
    assert.equal(ref.krakenChecksum(), entry.checksum, "the reference's checksum from the texts");
    // the same from the numbers (what JSON.parse gives: String(0.1229) === "0.1229") fails
    const strip = (v: number) => String(v).replace(".", "").replace(/^0+/, "");
    let lossy = "";
    for (const l of ref.top("ask", 10)) lossy += strip(l.price) + strip(l.size);
    for (const l of ref.top("bid", 10)) lossy += strip(l.price) + strip(l.size);
    assert.notEqual(crc32(lossy) >>> 0, entry.checksum, "JSON.parse loses the trailing zeros");
    assert.equal(sync.handle(line, 0), VenueSyncResult.Applied, `reason ${sync.reason}`);
    verified++;
    assert.equal(sync.symbolId, 1);
    const top = slotTop(sync, 1, 10);
    assert.deepEqual({ bids: top.bids, asks: top.asks }, referenceTop(ref, 10));
  }
  assert.equal(verified, 2);
  assert.equal(sync.eventTime, Date.parse("2024-10-03T02:46:57.050Z") + 0.17);
  assert.ok(Number.isNaN(sync.lastSeq(1)));
  assert.equal(slotTop(sync, 1, 10).lastUpdateId, 2, "no sequence: the update count");
});

Deno.test("kraken v2: the BTC/USDT depth-25 snapshot verifies and keeps 25 levels", () => {
  const sync = new KrakenProtocol({ depth: 25 }).createSync({ symbols: ["BTC/USDT"] });
  assert.equal(sync.handle(BTC[0], 0), VenueSyncResult.Applied, `reason ${sync.reason}`);
  const ref = new ReferenceBook();
  const entry = applyRef(ref, BTC[0], 25);
  assert.equal(entry.checksum, 4162058887);
  assert.equal(ref.krakenChecksum(), 4162058887);
  const top = slotTop(sync, 0, 25);
  assert.deepEqual({ bids: top.bids, asks: top.asks }, referenceTop(ref, 25));
  assert.equal(top.bids.length, 25);
  assert.equal(top.asks.length, 25);
});

Deno.test("kraken v2: an altered quantity (or only its trailing zero) is a checksum_mismatch Resync; the next snapshot recovers", () => {
  const sync = KRAKEN_PROTOCOL.createSync({ symbols: ["ALGO/USD"] });
  // the update before any snapshot: refused
  assert.equal(sync.handle(ALGO[2], 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.BeforeSnapshot);
  const altered = ALGO[1].replace('"qty":8136.33288180', '"qty":8136.33288181');
  assert.notEqual(altered, ALGO[1]);
  assert.equal(sync.handle(altered, 0), VenueSyncResult.Resync);
  assert.equal(sync.reason, RejectReason.ChecksumMismatch);
  assert.equal(sync.synced(0), false);
  assert.equal(slotTop(sync, 0, 10).bids.length, 0);
  // same number, different text: 0.12290 → 0.1229 is caught too
  const sameNumber = ALGO[1].replace('"price":0.12290,', '"price":0.1229,');
  assert.notEqual(sameNumber, ALGO[1]);
  assert.equal(sync.handle(sameNumber, 0), VenueSyncResult.Resync);
  assert.equal(sync.reason, RejectReason.ChecksumMismatch);
  assert.equal(sync.handle(ALGO[1], 0), VenueSyncResult.Applied);
  const alteredUpdate = ALGO[2].replace('"qty":6597.51731160', '"qty":6597.51731161');
  assert.equal(sync.handle(alteredUpdate, 0), VenueSyncResult.Resync);
  assert.equal(sync.handle(ALGO[1], 0), VenueSyncResult.Applied);
  assert.equal(sync.handle(ALGO[2], 0), VenueSyncResult.Applied);
});

Deno.test("kraken v2: depth truncation, deletes, control messages and venue errors", () => {
  const sync = KRAKEN_PROTOCOL.createSync({ symbols: ["ALGO/USD"] });
  assert.equal(sync.handle(ALGO[1], 0), VenueSyncResult.Applied);
  // a better bid enters the 10-level window: the 10th leaves (no checksum sent here)
  const insert = '{"channel":"book","type":"update","data":[{"symbol":"ALGO/USD",' +
    '"bids":[{"price":0.12300,"qty":1.0}],"asks":[]}]}';
  assert.equal(sync.handle(insert, 0), VenueSyncResult.Applied);
  let top = slotTop(sync, 0, 20);
  assert.equal(top.bids.length, 10);
  assert.deepEqual(top.bids[0], [0.123, 1]);
  assert.equal(top.bids[9][0], 0.12268);
  // a delete (qty 0) of the new level
  const del = '{"channel":"book","type":"update","data":[{"bids":[{"qty":0.0,"price":0.12300}],' +
    '"asks":[],"symbol":"ALGO/USD"}]}';
  assert.equal(sync.handle(del, 0), VenueSyncResult.Applied);
  top = slotTop(sync, 0, 20);
  assert.equal(top.bids.length, 9);
  assert.equal(top.bids[0][0], 0.12291);
  assert.equal(sync.handle('{"channel":"heartbeat"}', 0), VenueSyncResult.Control);
  assert.equal(
    sync.handle('{"method":"pong","req_id":1,"time_in":"2024-10-03T02:46:57.050170Z"}', 0),
    VenueSyncResult.Control,
  );
  assert.equal(
    sync.handle(
      '{"method":"subscribe","result":{"channel":"book","symbol":"ALGO/USD"},"success":true}',
      0,
    ),
    VenueSyncResult.Control,
  );
  const err = '{"error":"Currency pair not supported XX/YY","method":"subscribe","success":false}';
  assert.equal(sync.handle(err, 0), VenueSyncResult.VenueError);
  assert.equal(sync.errorText, err);
  assert.equal(
    sync.handle('{"channel":"ticker","type":"update","data":[]}', 0),
    VenueSyncResult.Rejected,
  );
  assert.equal(sync.reason, RejectReason.UnknownStream);
  assert.deepEqual(JSON.parse(KRAKEN_PROTOCOL.subscribe(["ALGO/USD"])[0]), {
    method: "subscribe",
    params: { channel: "book", symbol: ["ALGO/USD"], depth: 10, snapshot: true },
  });
  assert.deepEqual(KRAKEN_PROTOCOL.resubscribe("ALGO/USD").map((m) => JSON.parse(m).method), [
    "unsubscribe",
    "subscribe",
  ]);
  assert.throws(() => new KrakenProtocol({ depth: 7 }), /one of 10, 25, 100, 500, 1000/);
});

Deno.test("kraken v2: truncated or arbitrary text is Rejected, never a throw, the book untouched", () => {
  const sync = KRAKEN_PROTOCOL.createSync({ symbols: ["ALGO/USD"] });
  assert.equal(sync.handle(ALGO[1], 0), VenueSyncResult.Applied);
  const before = slotTop(sync, 0, 10);
  for (let cut = 0; cut < ALGO[1].length; cut++) {
    assert.equal(sync.handle(ALGO[1].slice(0, cut), 0), VenueSyncResult.Rejected, `cut ${cut}`);
    assert.equal(sync.reason, RejectReason.Malformed);
  }
  assert.deepEqual(slotTop(sync, 0, 10), before);
  assertNoiseNeverAnswers(sync, [VenueSyncResult.Applied, VenueSyncResult.Resync]);
  assert.deepEqual(slotTop(sync, 0, 10), before);
});

Deno.test("kraken: a real message with characters changed, cut or doubled never throws and answers a result code", () => {
  const sync = KRAKEN_PROTOCOL.createSync({ symbols: ["ALGO/USD"] });
  const line = ALGO[1];
  assertMutationsAnswerACode(sync, line);
});
