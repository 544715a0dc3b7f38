import assert from "node:assert/strict";
import fc from "fast-check";
import { OKX_PROTOCOL, OkxProtocol, OkxSync } from "../lib/ingest/venues/okx_protocol.ts";
import { VenueSyncResult } from "../lib/ingest/venues/venue_protocol.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import {
  assertNoiseNeverAnswers,
  exchangeLines,
  ReferenceBook,
  referenceTop,
  slotTop,
} from "./venue_reference.ts";

type OkxLevel = [string, string, string, string];
interface OkxMessage {
  arg: { channel: string; instId: string };
  action?: string;
  data: {
    asks: OkxLevel[];
    bids: OkxLevel[];
    checksum?: number;
    seqId?: number;
    prevSeqId?: number;
    ts: string;
  }[];
}

const BOOKS = exchangeLines("okx_books_btcusdt.jsonl");

/** Apply a message to the reference the way OKX documents it. */
function applyRef(ref: ReferenceBook, msg: OkxMessage): void {
  if (msg.action !== "update") ref.clear();
  for (const d of msg.data) {
    for (const [p, s] of d.asks) ref.set("ask", p, s);
    for (const [p, s] of d.bids) ref.set("bid", p, s);
  }
}

/** Add seqId/prevSeqId to the recording (older than those fields): seq 100, 101, ... */
function withSequence(lines: string[], first = 100): string[] {
  return lines.map((line, i) => {
    const prev = i === 0 ? -1 : first + i - 1;
    return line.replace('"checksum":', `"prevSeqId":${prev},"seqId":${first + i},"checksum":`);
  });
}

Deno.test("okx books: the real recording replays, every checksum verifies, the book matches a reference after every message", () => {
  const sync = OKX_PROTOCOL.createSync({ symbols: ["ETH-USDT", "BTC-USDT"] });
  const ref = new ReferenceBook();
  let verified = 0;
  for (const [i, line] of BOOKS.entries()) {
    const msg = JSON.parse(line) as OkxMessage;
    applyRef(ref, msg);
    // the reference's own checksum (node:zlib over the texts) agrees with OKX's
    assert.equal(ref.okxChecksum(), msg.data[0].checksum, `reference checksum, line ${i + 1}`);
    const code = sync.handle(line, 0);
    assert.equal(code, VenueSyncResult.Applied, `line ${i + 1}: reason ${sync.reason}`);
    verified++;
    assert.equal(sync.symbolId, 1);
    assert.equal(sync.changedCount, 1);
    assert.equal(sync.changed[0], 1);
    const top = slotTop(sync, 1, 50);
    assert.deepEqual({ bids: top.bids, asks: top.asks }, referenceTop(ref, 50), `line ${i + 1}`);
    assert.equal(top.lastUpdateId, i + 1, "no seqId: the slot's update id counts messages");
  }
  assert.equal(verified, 50);
  assert.equal(sync.synced(1), true);
  assert.equal(sync.synced(0), false);
  assert.ok(Number.isNaN(sync.lastSeq(1)));
});

Deno.test("okx books: a single altered size is a checksum_mismatch Resync, the book is cleared, the next snapshot recovers", () => {
  const sync = OKX_PROTOCOL.createSync({ symbols: ["BTC-USDT"] });
  assert.equal(sync.handle(BOOKS[0], 0), VenueSyncResult.Applied);
  // line 2 sets the best ask 30243.5 to 1.2112: alter that one size
  assert.ok(BOOKS[1].includes('["30243.5","1.2112","0","4"]'));
  const altered = BOOKS[1].replace('["30243.5","1.2112","0","4"]', '["30243.5","1.2113","0","4"]');
  assert.equal(sync.handle(altered, 0), VenueSyncResult.Resync);
  assert.equal(sync.reason, RejectReason.ChecksumMismatch);
  assert.equal(sync.symbolId, 0);
  assert.equal(sync.synced(0), false);
  const cleared = slotTop(sync, 0, 25);
  assert.deepEqual([cleared.bids.length, cleared.asks.length], [0, 0]);
  // updates while waiting for the snapshot are refused, book untouched
  assert.equal(sync.handle(BOOKS[2], 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.BeforeSnapshot);
  // the next snapshot (what a resubscribe brings) recovers, and the chain goes on
  assert.equal(sync.handle(BOOKS[0], 0), VenueSyncResult.Applied);
  for (let i = 1; i < BOOKS.length; i++) {
    assert.equal(sync.handle(BOOKS[i], 0), VenueSyncResult.Applied, `line ${i + 1}`);
  }
  // altering a size outside the top 25 is not covered by the checksum: still Applied
  const deep = JSON.parse(BOOKS[0]) as OkxMessage;
  const far = deep.data[0].asks[300];
  const farText = JSON.stringify(far);
  assert.ok(BOOKS[0].includes(farText));
  const farAltered = BOOKS[0].replace(
    farText,
    JSON.stringify([far[0], far[1] + "1", far[2], far[3]]),
  );
  assert.equal(sync.handle(farAltered, 0), VenueSyncResult.Applied);
});

Deno.test("okx books: seqId chain, gap, empty keep-alive and the documented sequence reset", () => {
  const lines = withSequence(BOOKS.slice(0, 10));
  const sync = OKX_PROTOCOL.createSync({ symbols: ["BTC-USDT"] });
  for (let i = 0; i < 5; i++) assert.equal(sync.handle(lines[i], 0), VenueSyncResult.Applied);
  assert.equal(sync.lastSeq(0), 104);
  assert.equal(slotTop(sync, 0, 5).lastUpdateId, 104);
  // keep-alive: no levels, seqId == prevSeqId == last
  const keepAlive =
    '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[],' +
    '"ts":"1652453225000","checksum":0,"prevSeqId":104,"seqId":104}]}';
  const before = slotTop(sync, 0, 50);
  assert.equal(sync.handle(keepAlive, 0), VenueSyncResult.Control);
  assert.deepEqual(slotTop(sync, 0, 50), before);
  assert.equal(sync.lastSeq(0), 104);
  assert.equal(sync.handle(lines[5], 0), VenueSyncResult.Applied);
  // a gap: line 7 skipped, line 8's prevSeqId (106) is not the last seqId (105)
  assert.equal(sync.handle(lines[7], 0), VenueSyncResult.Resync);
  assert.equal(sync.reason, RejectReason.SequenceGap);
  assert.equal(sync.synced(0), false);
  assert.equal(slotTop(sync, 0, 5).bids.length, 0);
  // documented reset: seqId smaller than prevSeqId, prevSeqId still the last one
  const sync2 = OKX_PROTOCOL.createSync({ symbols: ["BTC-USDT"] });
  for (let i = 0; i < 3; i++) assert.equal(sync2.handle(lines[i], 0), VenueSyncResult.Applied);
  const reset = BOOKS[3].replace('"checksum":', '"prevSeqId":102,"seqId":7,"checksum":');
  assert.equal(sync2.handle(reset, 0), VenueSyncResult.Applied);
  assert.equal(sync2.lastSeq(0), 7);
  const after = BOOKS[4].replace('"checksum":', '"prevSeqId":7,"seqId":8,"checksum":');
  assert.equal(sync2.handle(after, 0), VenueSyncResult.Applied);
  // "checksum":0 means no checksum: an altered size then passes
  const noSum = BOOKS[5].replace(/"checksum":-?\d+/, '"checksum":0')
    .replace('"checksum":', '"prevSeqId":8,"seqId":9,"checksum":');
  assert.equal(sync2.handle(noSum, 0), VenueSyncResult.Applied);
});

Deno.test("okx books5: each push is a snapshot; contract sizes are converted by sizeMultiplier", () => {
  const lines = exchangeLines("okx_books5_2026.jsonl");
  const protocol = new OkxProtocol({ channel: "books5" });
  // BTC-USDT-SWAP: ctVal 0.01 BTC per contract
  const sync = protocol.createSync({
    symbols: ["BTC-USDT-SWAP", "BTC-USDT"],
    sizeMultiplier: [0.01, 1],
  });
  const refs = [new ReferenceBook(), new ReferenceBook()];
  const expected = [
    VenueSyncResult.Control,
    VenueSyncResult.Applied,
    VenueSyncResult.Applied,
    VenueSyncResult.Control,
    VenueSyncResult.Applied,
    VenueSyncResult.Applied,
  ];
  for (const [i, line] of lines.entries()) {
    assert.equal(sync.handle(line, 0), expected[i], `line ${i + 1}`);
    const msg = JSON.parse(line) as OkxMessage & { event?: string };
    if (msg.event !== undefined) continue;
    const id = msg.arg.instId === "BTC-USDT-SWAP" ? 0 : 1;
    applyRef(refs[id], msg);
    assert.equal(sync.symbolId, id);
    assert.equal(sync.lastSeq(id), msg.data[0].seqId);
    assert.equal(sync.eventTime, Number(msg.data[0].ts));
    const top = slotTop(sync, id, 5);
    assert.deepEqual(
      { bids: top.bids, asks: top.asks },
      referenceTop(refs[id], 5, id === 0 ? 0.01 : 1),
    );
  }
});

Deno.test("okx: control, errors, unknown symbols and the subscribe messages", () => {
  const sync = OKX_PROTOCOL.createSync({ symbols: ["BTC-USDT"] });
  assert.equal(sync.handle("pong", 0), VenueSyncResult.Control);
  assert.equal(
    sync.handle(
      '{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"1"}',
      0,
    ),
    VenueSyncResult.Control,
  );
  const error = '{"event":"error","code":"60012","msg":"Invalid request","connId":"1"}';
  assert.equal(sync.handle(error, 0), VenueSyncResult.VenueError);
  assert.equal(sync.errorText, error);
  const other = BOOKS[0].replace('"instId":"BTC-USDT"', '"instId":"ETH-USDT"');
  assert.equal(sync.handle(other, 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.UnknownStream);
  // key order does not matter: data before arg and action
  const msg = JSON.parse(BOOKS[0]);
  const reordered = JSON.stringify({ data: msg.data, action: msg.action, arg: msg.arg });
  assert.equal(sync.handle(reordered, 0), VenueSyncResult.Applied);
  assert.deepEqual(JSON.parse(OKX_PROTOCOL.subscribe(["BTC-USDT", "ETH-USDT"])[0]), {
    op: "subscribe",
    args: [{ channel: "books", instId: "BTC-USDT" }, { channel: "books", instId: "ETH-USDT" }],
  });
  assert.deepEqual(OKX_PROTOCOL.resubscribe("BTC-USDT").map((m) => JSON.parse(m).op), [
    "unsubscribe",
    "subscribe",
  ]);
  assert.deepEqual(OKX_PROTOCOL.keepalive, { text: "ping", everyMs: 20_000 });
  assert.throws(
    () => new OkxSync({ symbols: ["BTC-USDT"], bookCapacity: 10 }, "books"),
    /at least 25/,
  );
});

Deno.test("okx: truncated and garbled messages are Rejected malformed, the book untouched, never a throw", () => {
  const sync = OKX_PROTOCOL.createSync({ symbols: ["BTC-USDT"] });
  assert.equal(sync.handle(BOOKS[0], 0), VenueSyncResult.Applied);
  const before = slotTop(sync, 0, 50);
  const line = BOOKS[1];
  for (let cut = 0; cut < line.length; cut += 7) {
    assert.equal(sync.handle(line.slice(0, cut), 0), VenueSyncResult.Rejected, `cut ${cut}`);
    assert.equal(sync.reason, RejectReason.Malformed);
  }
  // a bad number deep inside: rejected before anything changed
  const badPrice = line.replace('"30243.6"', '"30243.6x"');
  assert.equal(sync.handle(badPrice, 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.BadPrice);
  const badSize = line.replace('"0.059"', '"-0.059"');
  assert.equal(sync.handle(badSize, 0), VenueSyncResult.Rejected);
  assert.equal(sync.reason, RejectReason.BadSize);
  assert.deepEqual(slotTop(sync, 0, 50), before);
  assert.equal(sync.handle(line, 0), VenueSyncResult.Applied);
  assertNoiseNeverAnswers(sync, [VenueSyncResult.Applied, VenueSyncResult.Resync]);
  // a real message with one character changed never throws
  fc.assert(
    fc.property(fc.nat(line.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (at, ch) => {
      const mutated = line.slice(0, at) + ch + line.slice(at + 1);
      sync.handle(mutated, 0);
      return true;
    }),
    { numRuns: 500 },
  );
});
