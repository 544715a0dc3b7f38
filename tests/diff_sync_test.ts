import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_EVENT_TIME,
  BOOK_FLAG_FROM_DIFF,
  BOOK_FLAG_RESYNCED,
  BOOK_FLAG_STALE,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import type { DepthSnapshot } from "../lib/ingest/depth_snapshot.ts";
import {
  type DiffEventLike,
  DiffSync,
  type LevelPair,
  SnapshotOutcome,
  SyncState,
} from "../lib/ingest/diff_sync.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { recordedJson, recordedLines as lines } from "../testing/recorded_data.ts";

interface RawDiff {
  E: number;
  s: string;
  U: number;
  u: number;
  pu?: number;
  b: [string, string][];
  a: [string, string][];
}

interface RawSnapshot {
  lastUpdateId: number;
  E?: number;
  bids: [string, string][];
  asks: [string, string][];
}

function pairs(raw: [string, string][]): LevelPair[] {
  return raw.map(([p, q]) => [Number(p), Number(q)] as const);
}

function snapshotFrom(raw: RawSnapshot): DepthSnapshot {
  return {
    lastUpdateId: raw.lastUpdateId,
    bids: pairs(raw.bids),
    asks: pairs(raw.asks),
    eventTime: raw.E,
  };
}

function eventFrom(symbolId: number, d: RawDiff): DiffEventLike {
  return {
    symbolId,
    eventTime: d.E,
    firstUpdateId: d.U,
    finalUpdateId: d.u,
    prevFinalUpdateId: d.pu ?? NaN,
    bidCount: d.b.length,
    askCount: d.a.length,
    bidPrices: Float64Array.from(d.b, (l) => Number(l[0])),
    bidSizes: Float64Array.from(d.b, (l) => Number(l[1])),
    askPrices: Float64Array.from(d.a, (l) => Number(l[0])),
    askSizes: Float64Array.from(d.a, (l) => Number(l[1])),
  };
}

/** A scripted event. */
function ev(
  symbolId: number,
  U: number,
  u: number,
  bids: [number, number][] = [],
  asks: [number, number][] = [],
  extra: { pu?: number; E?: number } = {},
): DiffEventLike {
  return {
    symbolId,
    eventTime: extra.E ?? u * 10,
    firstUpdateId: U,
    finalUpdateId: u,
    prevFinalUpdateId: extra.pu ?? NaN,
    bidCount: bids.length,
    askCount: asks.length,
    bidPrices: Float64Array.from(bids, (l) => l[0]),
    bidSizes: Float64Array.from(bids, (l) => l[1]),
    askPrices: Float64Array.from(asks, (l) => l[0]),
    askSizes: Float64Array.from(asks, (l) => l[1]),
  };
}

/** A straightforward reference book: Map price → size. */
class RefBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  load(snap: DepthSnapshot): void {
    this.bids.clear();
    this.asks.clear();
    for (let i = 0; i < snap.bids.length; i++) this.set(this.bids, ...snap.bids[i]);
    for (let i = 0; i < snap.asks.length; i++) this.set(this.asks, ...snap.asks[i]);
  }
  apply(e: DiffEventLike): void {
    for (let i = 0; i < e.bidCount; i++) this.set(this.bids, e.bidPrices[i], e.bidSizes[i]);
    for (let i = 0; i < e.askCount; i++) this.set(this.asks, e.askPrices[i], e.askSizes[i]);
  }
  set(side: Map<number, number>, price: number, size: number): void {
    if (size === 0) side.delete(price);
    else side.set(price, size);
  }
  topBids(n: number): [number, number][] {
    return [...this.bids].sort((x, y) => y[0] - x[0]).slice(0, n);
  }
  topAsks(n: number): [number, number][] {
    return [...this.asks].sort((x, y) => x[0] - y[0]).slice(0, n);
  }
}

interface Frame {
  symbol: number;
  lastUpdateId: number;
  eventTime: number;
  flags: number;
  bids: [number, number][];
  asks: [number, number][];
}

function readFrame(f64: Float64Array, base: number, layout: BookSlotLayout): Frame {
  const bids: [number, number][] = [];
  const asks: [number, number][] = [];
  for (let i = 0; i < f64[base + BOOK_BID_COUNT]; i++) {
    bids.push([f64[base + layout.bidPrice(i)], f64[base + layout.bidSize(i)]]);
  }
  for (let i = 0; i < f64[base + BOOK_ASK_COUNT]; i++) {
    asks.push([f64[base + layout.askPrice(i)], f64[base + layout.askSize(i)]]);
  }
  return {
    symbol: f64[base + BOOK_SYMBOL_ID],
    lastUpdateId: f64[base + BOOK_LAST_UPDATE_ID],
    eventTime: f64[base + BOOK_EVENT_TIME],
    flags: f64[base + BOOK_FLAGS],
    bids,
    asks,
  };
}

function emit(sync: DiffSync, sym: number, now: number, layout = new BookSlotLayout(20)): Frame {
  const f64 = new Float64Array(layout.slotWords * 2).fill(NaN);
  const base = layout.slotWords;
  sync.writeFrame(sym, f64, base, layout, now);
  return readFrame(f64, base, layout);
}

/** The exact accounting identities documented in diff_sync.ts. */
function assertAccounting(sync: DiffSync, sym: number): void {
  const c = sync.counters(sym);
  assert.equal(c.received, c.applied + c.rejectedTotal + c.buffered, "received identity");
  assert.equal(c.applied, c.coalesced + c.framesFromEvents + c.pending, "applied identity");
  assert.equal(c.framesEmitted, c.framesFromEvents + c.framesWithoutEvents);
  assert.equal(c.rejectedTotal, c.rejected.reduce((s, x) => s + x, 0));
}

Deno.test("real NKNUSDT spot diffs: stale first event dropped, second bridges, 149 apply", () => {
  const symbols = ["NKNUSDT", "LRCBTC", "BLZETH", "RUNEEUR"];
  const snap = snapshotFrom(recordedJson("rest_depth.json") as RawSnapshot);
  assert.equal(snap.lastUpdateId, 499869752);
  const sync = new DiffSync({ symbolCount: symbols.length });
  const ref = new RefBook();
  ref.load(snap);
  let nkn = 0;
  let lastNkn: RawDiff | undefined;
  for (const line of lines("spot_diff.jsonl")) {
    const d = JSON.parse(line).data as RawDiff;
    const sym = symbols.indexOf(d.s);
    assert.ok(sym >= 0, d.s);
    const e = eventFrom(sym, d);
    assert.equal(sync.onEvent(e), RejectReason.Ok, `${d.s} U=${d.U}`);
    if (sym !== 0) continue;
    nkn++;
    lastNkn = d;
    if (nkn > 1) ref.apply(e);
    if (nkn === 1) {
      // The stream is open and buffering: the first snapshot request is for NKNUSDT.
      assert.equal(sync.state(0), SyncState.Buffering);
      assert.equal(sync.wantsSnapshot(0), true);
      assert.equal(sync.takeSnapshotRequest(), 0);
      assert.equal(sync.snapshotInFlight(0), true);
    }
    if (nkn === 2) {
      assert.equal(sync.onSnapshot(0, snap), SnapshotOutcome.Applied);
      assert.equal(sync.rejected(0, RejectReason.BeforeSnapshot), 1);
      assert.equal(sync.counters(0).applied, 1); // the bridge event
      assert.equal(sync.lastUpdateId(0), 499869754);
    }
  }
  assert.equal(nkn, 150);
  const c = sync.counters(0);
  assert.equal(c.received, 150);
  assert.equal(c.applied, 149);
  assert.equal(c.rejectedTotal, 1);
  assert.equal(sync.rejected(0, RejectReason.SequenceGap), 0);
  assert.equal(sync.state(0), SyncState.Synced);
  assert.equal(sync.isStale(0), false);
  assertAccounting(sync, 0);

  // Top of book against the Map reference, through the slot.
  const layout = new BookSlotLayout(20);
  assert.equal(sync.dueForEmit(0, 1000), true);
  const frame = emit(sync, 0, 1000, layout);
  assert.deepEqual(frame.bids, ref.topBids(20));
  assert.deepEqual(frame.asks, ref.topAsks(20));
  assert.equal(frame.symbol, 0);
  assert.equal(frame.lastUpdateId, lastNkn!.u);
  assert.equal(frame.eventTime, lastNkn!.E);
  assert.equal(frame.flags, BOOK_FLAG_FROM_DIFF | BOOK_FLAG_RESYNCED);
  // All 149 applied events went into this one frame.
  const after = sync.counters(0);
  assert.equal(after.framesEmitted, 1);
  assert.equal(after.coalesced, 148);
  assertAccounting(sync, 0);
  // And the full book too, not just the top.
  const book = sync.book(0);
  assert.equal(book.bidCount, ref.bids.size);
  assert.equal(book.askCount, ref.asks.size);

  // The other symbols never got a snapshot: still buffering, all events held.
  for (const [sym, count] of [[1, 15], [2, 10], [3, 2]]) {
    assert.equal(sync.state(sym), SyncState.Buffering);
    assert.equal(sync.counters(sym).buffered, count);
    assert.equal(sync.wantsSnapshot(sym), true);
    assert.equal(sync.dueForEmit(sym, 1000), false);
    assertAccounting(sync, sym);
  }
  // Requests come out in the order the symbols first buffered an event.
  const order = [sync.takeSnapshotRequest(), sync.takeSnapshotRequest()];
  assert.equal(sync.takeSnapshotRequest() >= 0, true);
  assert.equal(sync.takeSnapshotRequest(), -1);
  assert.equal(new Set(order).size, 2);
});

Deno.test("real SUSHIUSDT futures diffs: pu rule, events 0-2 dropped, event 3 bridges", () => {
  const raw = recordedJson("rest_depth_futures.json") as RawSnapshot;
  const snap = snapshotFrom(raw);
  const events = lines("futures_diff.jsonl").map((l) => eventFrom(0, JSON.parse(l).data));
  assert.equal(events.length, 200);
  // The futures ids are not contiguous: the spot rule (U == prev u + 1) would see gaps.
  let spotRuleBreaks = 0;
  for (let i = 1; i < events.length; i++) {
    if (events[i].firstUpdateId !== events[i - 1].finalUpdateId + 1) spotRuleBreaks++;
  }
  assert.ok(spotRuleBreaks > 100);

  const sync = new DiffSync({ symbolCount: 1 });
  const ref = new RefBook();
  ref.load(snap);
  for (let i = 0; i < 5; i++) assert.equal(sync.onEvent(events[i]), RejectReason.Ok);
  assert.equal(sync.onSnapshot(0, snap), SnapshotOutcome.Applied);
  assert.equal(sync.rejected(0, RejectReason.BeforeSnapshot), 3);
  assert.equal(sync.counters(0).applied, 2);
  ref.apply(events[3]);
  ref.apply(events[4]);
  for (let i = 5; i < events.length; i++) {
    assert.equal(sync.onEvent(events[i]), RejectReason.Ok, `event ${i}`);
    ref.apply(events[i]);
  }
  const c = sync.counters(0);
  assert.equal(c.applied, 197);
  assert.equal(c.rejectedTotal, 3);
  assert.equal(sync.state(0), SyncState.Synced);
  const frame = emit(sync, 0, 0);
  assert.deepEqual(frame.bids, ref.topBids(20));
  assert.deepEqual(frame.asks, ref.topAsks(20));
  assert.equal(frame.lastUpdateId, events[199].finalUpdateId);
  assertAccounting(sync, 0);

  // A broken pu chain is a gap even when U looks fine.
  const next = events[199].finalUpdateId;
  assert.equal(
    sync.onEvent(ev(0, next + 1, next + 5, [], [], { pu: next - 1 })),
    RejectReason.SequenceGap,
  );
  assert.equal(sync.isStale(0), true);
});

Deno.test("real futures diffs: snapshot before any event waits for the bridging event", () => {
  const snap = snapshotFrom(recordedJson("rest_depth_futures.json") as RawSnapshot);
  const events = lines("futures_diff.jsonl").map((l) => eventFrom(0, JSON.parse(l).data));
  const sync = new DiffSync({ symbolCount: 1 });
  // The connection layer may hand over a snapshot before the stream delivered anything.
  assert.equal(sync.onSnapshot(0, snap), SnapshotOutcome.Applied);
  assert.equal(sync.state(0), SyncState.Synced);
  const first = emit(sync, 0, 0);
  assert.equal(first.lastUpdateId, snap.lastUpdateId);
  assert.equal(first.eventTime, 1626992741264); // the futures snapshot's E
  assert.equal(first.flags, BOOK_FLAG_FROM_DIFF | BOOK_FLAG_RESYNCED);
  for (let i = 0; i < 3; i++) assert.equal(sync.onEvent(events[i]), RejectReason.BeforeSnapshot);
  for (let i = 3; i < 200; i++) assert.equal(sync.onEvent(events[i]), RejectReason.Ok);
  assert.equal(sync.counters(0).applied, 197);
  assertAccounting(sync, 0);
});

Deno.test("real Binance.US BTCUSDT log: the three reconnect gaps are each detected", () => {
  const events = lines("spot_diff_btcusdt_binanceus_raw.jsonl").map((l) =>
    eventFrom(0, JSON.parse(l))
  );
  assert.equal(events.length, 71);
  const sync = new DiffSync({ symbolCount: 2 });
  const other = ev(1, 10, 10, [[1, 1]]);
  sync.onEvent(other);
  sync.onSnapshot(1, { lastUpdateId: 9, bids: [], asks: [[2, 1]] });
  // No snapshot was recorded: start from an empty one just before the first event.
  assert.equal(
    sync.onSnapshot(0, { lastUpdateId: events[0].firstUpdateId - 1, bids: [], asks: [] }),
    SnapshotOutcome.Applied,
  );
  const gaps: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const r = sync.onEvent(events[i]);
    if (r === RejectReason.SequenceGap) {
      gaps.push(i);
      assert.equal(sync.state(0), SyncState.Resyncing);
      assert.equal(sync.isStale(0), true);
      assert.equal(sync.wantsSnapshot(0), true);
      assert.equal(sync.state(1), SyncState.Synced, "the other symbol is untouched");
      assert.equal(sync.takeSnapshotRequest(), 0);
      // The REST answer comes back just after the gap event.
      const resync = sync.onSnapshot(0, {
        lastUpdateId: events[i].finalUpdateId,
        bids: [[118000, 1]],
        asks: [[119000, 1]],
      });
      assert.equal(resync, SnapshotOutcome.Applied);
    } else {
      assert.equal(r, RejectReason.Ok, `event ${i}`);
    }
  }
  assert.deepEqual(gaps, [22, 64, 68]);
  const c = sync.counters(0);
  assert.equal(c.rejected[RejectReason.SequenceGap], 3);
  assert.equal(c.resyncs, 3);
  assert.equal(c.applied, 68);
  assert.equal(sync.takeSnapshotRequest(), -1);
  assertAccounting(sync, 0);
});

Deno.test("a snapshot older than the first buffered event is refused and re-requested", () => {
  const sync = new DiffSync({ symbolCount: 1 });
  sync.onEvent(ev(0, 101, 103, [[10, 1]]));
  sync.onEvent(ev(0, 104, 104, [[10, 2]]));
  assert.equal(sync.takeSnapshotRequest(), 0);
  assert.equal(sync.wantsSnapshot(0), false);
  const old = { lastUpdateId: 99, bids: [[9, 1]] as LevelPair[], asks: [] };
  assert.equal(sync.onSnapshot(0, old), SnapshotOutcome.TooOld);
  assert.equal(sync.wantsSnapshot(0), true);
  assert.equal(sync.state(0), SyncState.Buffering);
  assert.equal(sync.counters(0).buffered, 2, "buffered events are kept for the next snapshot");
  assert.equal(sync.counters(0).snapshotsTooOld, 1);
  // lastUpdateId == U - 1 bridges exactly: U <= L + 1 <= u.
  assert.equal(sync.takeSnapshotRequest(), 0);
  assert.equal(
    sync.onSnapshot(0, { lastUpdateId: 100, bids: [[9, 1]], asks: [] }),
    SnapshotOutcome.Applied,
  );
  assert.equal(sync.book(0).bestBid(), 10);
  assert.equal(sync.book(0).bidSize(0), 2);
  assert.equal(sync.lastUpdateId(0), 104);
  assertAccounting(sync, 0);
});

Deno.test("events older than the snapshot are dropped and counted", () => {
  const sync = new DiffSync({ symbolCount: 1 });
  sync.onEvent(ev(0, 1, 5, [[10, 1]]));
  sync.onEvent(ev(0, 6, 9, [[11, 1]]));
  sync.onEvent(ev(0, 10, 12, [[12, 1]]));
  // L = 9: events ending at 5 and 9 are in the snapshot; 10..12 bridges.
  assert.equal(
    sync.onSnapshot(0, { lastUpdateId: 9, bids: [[8, 1]], asks: [[20, 1]] }),
    SnapshotOutcome.Applied,
  );
  assert.equal(sync.rejected(0, RejectReason.BeforeSnapshot), 2);
  assert.deepEqual([sync.book(0).bidPrice(0), sync.book(0).bidPrice(1)], [12, 8]);
  // A late duplicate of an applied event is refused without losing sync.
  assert.equal(sync.onEvent(ev(0, 10, 12, [[99, 1]])), RejectReason.StaleUpdateId);
  assert.equal(sync.state(0), SyncState.Synced);
  assert.equal(sync.book(0).bestBid(), 12);
  assert.equal(sync.onEvent(ev(0, 13, 13)), RejectReason.Ok);
  assertAccounting(sync, 0);

  // With an empty buffer the check happens as events arrive.
  const s2 = new DiffSync({ symbolCount: 1 });
  s2.onSnapshot(0, { lastUpdateId: 50, bids: [], asks: [] });
  assert.equal(s2.onEvent(ev(0, 40, 50)), RejectReason.BeforeSnapshot);
  assert.equal(s2.onEvent(ev(0, 45, 52, [[1, 1]])), RejectReason.Ok, "U <= L+1 <= u bridges");
  assert.equal(s2.onEvent(ev(0, 53, 53)), RejectReason.Ok);
  assertAccounting(s2, 0);
});

Deno.test("the first live event after a snapshot that skips ids means the snapshot was too old", () => {
  const sync = new DiffSync({ symbolCount: 1 });
  sync.onSnapshot(0, { lastUpdateId: 50, bids: [[5, 1]], asks: [] });
  assert.equal(sync.onEvent(ev(0, 60, 61, [[6, 1]])), RejectReason.Ok);
  assert.equal(sync.state(0), SyncState.Resyncing);
  assert.equal(sync.counters(0).buffered, 1, "the event is kept for the next snapshot");
  assert.equal(sync.counters(0).snapshotsTooOld, 1);
  assert.equal(sync.takeSnapshotRequest(), 0);
  assert.equal(sync.onSnapshot(0, { lastUpdateId: 59, bids: [], asks: [] }), 0);
  assert.equal(sync.book(0).bestBid(), 6);
  assertAccounting(sync, 0);
});

Deno.test("a gap marks the symbol stale, keeps its last good book and resyncs it", () => {
  const layout = new BookSlotLayout(5);
  const sync = new DiffSync({ symbolCount: 1, minEmitIntervalMs: 100, staleEmitIntervalMs: 1000 });
  sync.onEvent(ev(0, 11, 12));
  sync.onSnapshot(0, { lastUpdateId: 10, bids: [[100, 1]], asks: [[101, 1]] });
  sync.onEvent(ev(0, 13, 14, [[100.5, 2]], [], { E: 5000 }));
  let f = emit(sync, 0, 0, layout);
  assert.equal(f.flags, BOOK_FLAG_FROM_DIFF | BOOK_FLAG_RESYNCED);
  assert.equal(sync.onEvent(ev(0, 15, 15, [[100.7, 1]], [], { E: 5100 })), RejectReason.Ok);
  assert.equal(sync.dueForEmit(0, 50), false, "within the minimum interval");
  assert.equal(sync.dueForEmit(0, 100), true);
  f = emit(sync, 0, 100, layout);
  assert.equal(f.flags, BOOK_FLAG_FROM_DIFF);
  const good = f;

  // 16 never arrives.
  assert.equal(sync.onEvent(ev(0, 17, 18, [[200, 1]])), RejectReason.SequenceGap);
  assert.equal(sync.state(0), SyncState.Resyncing);
  assert.equal(sync.wantsSnapshot(0), true);
  // The stale frame goes out at once (after the min interval), then every staleEmitIntervalMs.
  assert.equal(sync.dueForEmit(0, 150), false);
  assert.equal(sync.dueForEmit(0, 200), true);
  f = emit(sync, 0, 200, layout);
  assert.equal(f.flags, BOOK_FLAG_FROM_DIFF | BOOK_FLAG_STALE);
  assert.deepEqual(f.bids, good.bids);
  assert.equal(f.lastUpdateId, 15);
  assert.equal(f.eventTime, 5100);
  // Events buffered during the resync do not change the served book.
  assert.equal(sync.onEvent(ev(0, 19, 20, [[300, 1]])), RejectReason.Ok);
  assert.equal(sync.dueForEmit(0, 1100), false);
  assert.equal(sync.dueForEmit(0, 1200), true);
  f = emit(sync, 0, 1200, layout);
  assert.equal(f.flags, BOOK_FLAG_FROM_DIFF | BOOK_FLAG_STALE);
  assert.deepEqual(f.bids, good.bids);

  assert.equal(sync.takeSnapshotRequest(), 0);
  assert.equal(
    sync.onSnapshot(0, { lastUpdateId: 19, bids: [[250, 1]], asks: [[400, 1]] }),
    SnapshotOutcome.Applied,
  );
  assert.equal(sync.isStale(0), false);
  f = emit(sync, 0, 1300, layout);
  assert.equal(f.flags, BOOK_FLAG_FROM_DIFF | BOOK_FLAG_RESYNCED);
  assert.deepEqual(f.bids, [[300, 1], [250, 1]]);
  assert.equal(f.lastUpdateId, 20);
  assert.equal(sync.onEvent(ev(0, 21, 21)), RejectReason.Ok);
  f = emit(sync, 0, 1400, layout);
  assert.equal(f.flags, BOOK_FLAG_FROM_DIFF, "RESYNCED only on the first frame");
  assertAccounting(sync, 0);
  const c = sync.counters(0);
  assert.equal(c.framesWithoutEvents, 2, "the two stale repeats");
  assert.equal(c.resyncs, 1);
});

Deno.test("out-of-order events: gap, then the late one cannot bridge and is discarded", () => {
  const sync = new DiffSync({ symbolCount: 1 });
  sync.onSnapshot(0, { lastUpdateId: 0, bids: [], asks: [] });
  assert.equal(sync.onEvent(ev(0, 1, 1, [[1, 1]])), RejectReason.Ok);
  assert.equal(sync.onEvent(ev(0, 3, 3, [[3, 1]])), RejectReason.SequenceGap);
  assert.equal(sync.onEvent(ev(0, 2, 2, [[2, 1]])), RejectReason.Ok); // buffered
  assert.equal(sync.onEvent(ev(0, 4, 4, [[4, 1]])), RejectReason.Ok); // buffered; 2 discarded
  assert.equal(sync.rejected(0, RejectReason.SequenceGap), 2);
  assert.equal(sync.counters(0).buffered, 1);
  assert.equal(sync.onEvent(ev(0, 2, 2)), RejectReason.StaleUpdateId, "older than the buffer");
  assert.equal(sync.onSnapshot(0, { lastUpdateId: 3, bids: [[3, 1]], asks: [] }), 0);
  assert.deepEqual([sync.book(0).bidPrice(0), sync.book(0).bidPrice(1)], [4, 3]);
  assertAccounting(sync, 0);
});

Deno.test("a gap on one symbol leaves the others synced and emitting", () => {
  const sync = new DiffSync({ symbolCount: 3 });
  const u = [0, 0, 0];
  for (let s = 0; s < 3; s++) {
    sync.onEvent(ev(s, 1, 1));
    sync.onSnapshot(s, { lastUpdateId: 1, bids: [[s + 1, 1]], asks: [[s + 10, 1]] });
    emit(sync, s, 0);
    u[s] = 1;
  }
  assert.equal(sync.takeSnapshotRequest(), -1);
  for (let t = 1; t <= 5; t++) {
    for (let s = 0; s < 3; s++) {
      const gap = s === 1 && t === 3 ? 1 : 0;
      const r = sync.onEvent(ev(s, u[s] + 1 + gap, u[s] + 1 + gap, [[s + 1 + t / 10, t]]));
      u[s] += 1 + gap;
      if (s === 1 && t === 3) assert.equal(r, RejectReason.SequenceGap);
    }
    for (let s = 0; s < 3; s++) {
      const now = t * 100;
      if (s !== 1) {
        assert.equal(sync.dueForEmit(s, now), true);
        const f = emit(sync, s, now);
        assert.equal(f.flags, BOOK_FLAG_FROM_DIFF);
        assert.equal(f.lastUpdateId, u[s]);
      } else if (t >= 3) {
        assert.equal(sync.isStale(1), true);
      }
    }
  }
  assert.equal(sync.state(0), SyncState.Synced);
  assert.equal(sync.state(2), SyncState.Synced);
  assert.equal(sync.state(1), SyncState.Resyncing);
  assert.equal(sync.takeSnapshotRequest(), 1);
  assert.equal(sync.takeSnapshotRequest(), -1, "only the gapped symbol resyncs");
  for (let s = 0; s < 3; s++) {
    assert.equal(sync.rejected(s, RejectReason.SequenceGap), s === 1 ? 1 : 0);
    assertAccounting(sync, s);
  }
});

Deno.test("buffer overflow drops the oldest events and counts them", () => {
  const sync = new DiffSync({ symbolCount: 1, bufferEvents: 4, bufferLevels: 6 });
  for (let i = 1; i <= 10; i++) {
    assert.equal(sync.onEvent(ev(0, i, i, [[i, 1]])), RejectReason.Ok);
  }
  let c = sync.counters(0);
  assert.equal(c.rejected[RejectReason.BufferOverflow], 6);
  assert.equal(c.buffered, 4);
  // Levels are bounded too: a 3-level event pushes out enough old events to fit.
  sync.onEvent(ev(0, 11, 11, [[11, 1], [11.5, 1]], [[20, 1]]));
  c = sync.counters(0);
  assert.equal(c.buffered, 4); // 8, 9, 10 (1 level each) + 11 (3 levels) = 6 levels
  assert.equal(c.rejected[RejectReason.BufferOverflow], 7);
  // A snapshot older than the oldest kept event is now too old.
  assert.equal(sync.onSnapshot(0, { lastUpdateId: 5, bids: [], asks: [] }), SnapshotOutcome.TooOld);
  assert.equal(sync.onSnapshot(0, { lastUpdateId: 7, bids: [], asks: [] }), 0);
  assert.equal(sync.book(0).bidCount, 5);
  assert.equal(sync.book(0).bestBid(), 11.5);
  assertAccounting(sync, 0);
  // An event bigger than the whole level buffer cannot be held at all.
  sync.reset(0);
  sync.onEvent(ev(0, 12, 12, [[1, 1]]));
  const huge = ev(0, 13, 13, Array.from({ length: 7 }, (_, k) => [k + 1, 1] as [number, number]));
  assert.equal(sync.onEvent(huge), RejectReason.BufferOverflow);
  assert.equal(sync.counters(0).buffered, 0);
  assertAccounting(sync, 0);
});

Deno.test("bad events are rejected with a reason; a synced symbol then resyncs", () => {
  const sync = new DiffSync({ symbolCount: 1 });
  sync.onSnapshot(0, { lastUpdateId: 1, bids: [[1, 1]], asks: [] });
  assert.equal(sync.onEvent(ev(0, 2, 2, [[NaN, 1]])), RejectReason.BadPrice);
  assert.equal(sync.state(0), SyncState.Resyncing);
  assert.equal(sync.onEvent(ev(0, 3, 3, [], [[5, -1]])), RejectReason.BadSize);
  assert.equal(sync.onEvent(ev(0, 5, 4)), RejectReason.Malformed);
  const truncated = ev(0, 6, 6, [[1, 1]]);
  truncated.bidCount = 2;
  assert.equal(sync.onEvent(truncated), RejectReason.Malformed);
  assert.equal(sync.onEvent(ev(7, 6, 6)), RejectReason.UnknownStream);
  assert.equal(sync.unknownSymbolEvents, 1);
  assert.equal(sync.book(0).bestBid(), 1, "the last good book is untouched");
  assertAccounting(sync, 0);
  assert.equal(
    sync.onSnapshot(0, { lastUpdateId: -1, bids: [], asks: [] }),
    SnapshotOutcome.Invalid,
  );
  assert.equal(
    sync.onSnapshot(0, { lastUpdateId: 9, bids: [[0, 1]], asks: [] }),
    SnapshotOutcome.Invalid,
  );
  assert.equal(sync.book(0).bestBid(), 1);
  assert.equal(sync.counters(0).snapshotsInvalid, 2);
  assert.equal(sync.wantsSnapshot(0), true);
});

Deno.test("snapshot requests: queue order, failure re-queues, synced symbols ignore snapshots", () => {
  const sync = new DiffSync({ symbolCount: 3 });
  assert.equal(sync.takeSnapshotRequest(), -1, "nothing is requested before the stream flows");
  sync.onEvent(ev(2, 1, 1));
  sync.onEvent(ev(0, 1, 1));
  assert.equal(sync.takeSnapshotRequest(), 2);
  sync.onSnapshotFailed(2);
  assert.equal(sync.takeSnapshotRequest(), 0);
  assert.equal(sync.takeSnapshotRequest(), 2);
  assert.equal(sync.onSnapshot(0, { lastUpdateId: 1, bids: [], asks: [] }), 0);
  assert.equal(
    sync.onSnapshot(0, { lastUpdateId: 5, bids: [], asks: [] }),
    SnapshotOutcome.Ignored,
  );
  assert.equal(sync.counters(0).snapshotsIgnored, 1);
  // reset() keeps the book stale; the request waits for the new connection's first event.
  sync.reset(0);
  assert.equal(sync.isStale(0), true);
  assert.equal(sync.wantsSnapshot(0), false);
  sync.onEvent(ev(0, 9, 9));
  assert.equal(sync.wantsSnapshot(0), true);
  assert.throws(() => sync.state(3), /symbolId must be an integer from 0 to 2, got 3/);
  assert.throws(() => sync.writeFrame(1, new Float64Array(100), 0, new BookSlotLayout(2), 0));
  assert.throws(() => new DiffSync({ symbolCount: 0 }), RangeError);
  assert.throws(() => new DiffSync({ symbolCount: 1, minEmitIntervalMs: -1 }), RangeError);
});

Deno.test("property: accounting identities hold under random events, snapshots and emits", () => {
  const step = fc.oneof(
    fc.record({
      kind: fc.constant("event" as const),
      jump: fc.oneof(
        fc.constant(0),
        fc.constant(0),
        fc.constant(0),
        fc.integer({ min: -3, max: 3 }),
      ),
      len: fc.integer({ min: 0, max: 3 }),
      levels: fc.integer({ min: 0, max: 4 }),
    }),
    fc.record({ kind: fc.constant("snapshot" as const), back: fc.integer({ min: -2, max: 6 }) }),
    fc.record({ kind: fc.constant("emit" as const), dt: fc.integer({ min: 0, max: 300 }) }),
    fc.record({ kind: fc.constant("reset" as const) }),
    fc.record({ kind: fc.constant("forget" as const) }),
  );
  fc.assert(
    fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
      const sync = new DiffSync({ symbolCount: 1, bufferEvents: 5, bufferLevels: 8 });
      const layout = new BookSlotLayout(3);
      const f64 = new Float64Array(layout.slotWords);
      let nextU = 100;
      let now = 0;
      let carried = 0;
      for (const s of steps) {
        if (s.kind === "event") {
          const U = Math.max(1, nextU + s.jump);
          const bids: [number, number][] = [];
          for (let k = 0; k < s.levels; k++) bids.push([1 + ((U + k) % 7), k % 2]);
          sync.onEvent(ev(0, U, U + s.len, bids));
          nextU = U + s.len + 1;
        } else if (s.kind === "snapshot") {
          sync.onSnapshot(0, { lastUpdateId: Math.max(0, nextU - 1 - s.back), bids: [], asks: [] });
        } else if (s.kind === "emit") {
          now += s.dt;
          if (sync.dueForEmit(0, now)) carried += sync.writeFrame(0, f64, 0, layout, now);
        } else if (s.kind === "reset") {
          sync.reset(0);
        } else {
          // Applied events not yet emitted are counted coalesced by forget().
          carried += sync.counters(0).pending;
          sync.forget(0);
          assert.equal(sync.counters(0).buffered, 0);
          assert.equal(sync.hasBook(0), false);
        }
        assertAccounting(sync, 0);
        const c = sync.counters(0);
        assert.equal(carried + c.pending, c.applied);
        if (sync.state(0) === SyncState.Synced) assert.equal(c.buffered, 0);
      }
    }),
  );
});

Deno.test("snapshot requests: watched symbols first, oldest first within each group", () => {
  const sync = new DiffSync({ symbolCount: 4 });
  for (const s of [0, 1, 2, 3]) sync.onEvent(ev(s, 10, 10));
  const watched = Uint8Array.of(0, 0, 1, 1);
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => sync.takeSnapshotRequest(watched)),
    [2, 3, 0, 1, -1],
  );
  // Without priorities: plain age order.
  for (const s of [3, 1]) sync.onSnapshotFailed(s);
  assert.deepEqual([sync.takeSnapshotRequest(), sync.takeSnapshotRequest()], [3, 1]);
  // A symbol watched late jumps ahead of older unwatched requests.
  for (const s of [3, 1]) sync.onSnapshotFailed(s);
  assert.equal(sync.takeSnapshotRequest(Uint8Array.of(0, 1, 0, 0)), 1);
});

/** Ten bid levels 100 … 91 and ten asks 101 … 110, sizes 1. */
function seeded(lastUpdateId: number, depth = 10): DepthSnapshot {
  const bids: LevelPair[] = [];
  const asks: LevelPair[] = [];
  for (let i = 0; i < depth; i++) {
    bids.push([100 - i, 1]);
    asks.push([101 + i, 1]);
  }
  return { lastUpdateId, bids, asks };
}

Deno.test("seeded range: a top that walks past the seeded levels resyncs with the last book flagged stale", () => {
  const layout = new BookSlotLayout(3);
  const f64 = new Float64Array(layout.slotWords);
  const sync = new DiffSync({
    symbolCount: 1,
    snapshotDepth: 10,
    trustedLevels: 3,
    minEmitIntervalMs: 0,
  });
  sync.onEvent(ev(0, 100, 100));
  assert.equal(sync.takeSnapshotRequest(), 0);
  assert.equal(sync.onSnapshot(0, seeded(100)), SnapshotOutcome.Applied);
  assert.equal(sync.syncedCount, 1);
  // A level below the seeded range (90) changes: it is inserted, but the levels
  // around it that did not change are unknown, so it does not count as seeded.
  let u = 100;
  sync.onEvent(ev(0, u + 1, ++u, [[90, 5]]));
  // The price walks down: the best bids are cancelled one by one (100, 99, …).
  for (let p = 100; p >= 94; p--) sync.onEvent(ev(0, u + 1, ++u, [[p, 0]]));
  // 93, 92, 91 are left inside the seeded range: still exactly 3 trusted levels.
  assert.equal(sync.state(0), SyncState.Synced);
  assert.equal(sync.counters(0).rangeResyncs, 0);
  sync.writeFrame(0, f64, 0, layout, 1);
  assert.deepEqual([f64[layout.bidPrice(0)], f64[layout.bidPrice(2)]], [93, 91]);
  assert.equal(f64[BOOK_FLAGS] & BOOK_FLAG_STALE, 0);
  // 93 goes: the top 3 would be 92, 91, 90 and 90 lies outside what was seeded.
  sync.onEvent(ev(0, u + 1, ++u, [[93, 0]]));
  assert.equal(sync.state(0), SyncState.Resyncing);
  assert.equal(sync.syncedCount, 0);
  const k = sync.counters(0);
  assert.equal(k.rangeResyncs, 1);
  assert.equal(k.resyncs, 1);
  assert.equal(k.received, k.applied + k.rejectedTotal + k.buffered);
  assert.ok(sync.wantsSnapshot(0));
  // The book keeps flowing, flagged stale, with the event that left the range applied.
  assert.ok(sync.dueForEmit(0, 2));
  sync.writeFrame(0, f64, 0, layout, 2);
  assert.ok((f64[BOOK_FLAGS] & BOOK_FLAG_STALE) !== 0);
  assert.deepEqual([f64[layout.bidPrice(0)], f64[layout.bidPrice(2)]], [92, 90]);
  // Events buffer until the new snapshot, which seeds a fresh range.
  sync.onEvent(ev(0, u + 1, ++u, [[92, 3]]));
  assert.equal(sync.takeSnapshotRequest(), 0);
  const fresh = seeded(u - 1);
  fresh.bids = Array.from({ length: 10 }, (_, i): LevelPair => [92 - i, 2]);
  assert.equal(sync.onSnapshot(0, fresh), SnapshotOutcome.Applied);
  assert.equal(sync.state(0), SyncState.Synced);
  assert.equal(sync.counters(0).rangeResyncs, 1);
  sync.writeFrame(0, f64, 0, layout, 3);
  assert.equal(f64[BOOK_FLAGS] & BOOK_FLAG_STALE, 0);
  assert.deepEqual([f64[layout.bidPrice(0)], f64[layout.bidSize(0)]], [92, 3]);
});

Deno.test("seeded range: asks walking up resync too; a side shorter than the depth is complete", () => {
  const sync = new DiffSync({ symbolCount: 2, snapshotDepth: 10, trustedLevels: 3 });
  // Symbol 0: full asks 101 … 110; cancelling 101 … 108 leaves 2 seeded asks.
  sync.onEvent(ev(0, 100, 100));
  sync.onEvent(ev(1, 100, 100));
  sync.takeSnapshotRequest();
  sync.takeSnapshotRequest();
  sync.onSnapshot(0, seeded(100));
  let u = 100;
  for (let p = 101; p <= 107; p++) sync.onEvent(ev(0, u + 1, ++u, [], [[p, 0]]));
  assert.equal(sync.state(0), SyncState.Synced);
  sync.onEvent(ev(0, u + 1, ++u, [], [[108, 0]]));
  assert.equal(sync.state(0), SyncState.Resyncing);
  assert.equal(sync.counters(0).rangeResyncs, 1);
  // Symbol 1: the exchange returned only 4 levels per side (fewer than asked):
  // the whole book was seeded, so thinning it out never resyncs.
  sync.onSnapshot(1, seeded(100, 4));
  u = 100;
  for (let p = 100; p >= 98; p--) sync.onEvent(ev(1, u + 1, ++u, [[p, 0]], [[p + 1, 0]]));
  assert.equal(sync.state(1), SyncState.Synced);
  assert.equal(sync.counters(1).rangeResyncs, 0);
  // A snapshot that would already be out of range is loaded, then resynced at once.
  const shallow = new DiffSync({ symbolCount: 1, snapshotDepth: 3, trustedLevels: 3 });
  shallow.onEvent(ev(0, 101, 101, [[100, 0]]));
  shallow.takeSnapshotRequest();
  assert.equal(shallow.onSnapshot(0, seeded(100, 3)), SnapshotOutcome.Applied);
  assert.equal(shallow.state(0), SyncState.Resyncing);
  assert.equal(shallow.counters(0).rangeResyncs, 1);
  assert.ok(shallow.wantsSnapshot(0));
  assert.throws(
    () => new DiffSync({ symbolCount: 1, snapshotDepth: 5, trustedLevels: 20 }),
    /snapshotDepth \(5\) must be at least trustedLevels \(20\)/,
  );
});

/** Every level of a local book, best first. */
function bookLevels(sync: DiffSync, sym: number): { bids: number[][]; asks: number[][] } {
  const b = sync.book(sym);
  const bids: number[][] = [];
  const asks: number[][] = [];
  for (let i = 0; i < b.bidCount; i++) bids.push([b.bidPrice(i), b.bidSize(i)]);
  for (let i = 0; i < b.askCount; i++) asks.push([b.askPrice(i), b.askSize(i)]);
  return { bids, asks };
}

/** A simulated exchange book: every event id's state is kept, so a snapshot can be taken at any past id. */
class ExchangeBook {
  readonly ref = new RefBook();
  readonly history = new Map<number, DepthSnapshot>();
  lastU = 1000;
  constructor() {
    this.history.set(this.lastU, this.snapshot());
  }
  /** The next event with `levels` bid updates (sizes 0 delete) and one ask update. */
  next(sym: number, levels: number, len = 0): DiffEventLike {
    const U = this.lastU + 1;
    const u = U + len;
    const bids: [number, number][] = [];
    for (let k = 0; k < levels; k++) bids.push([1 + ((u * 7 + k * 3) % 11), (u + k) % 3]);
    const e = ev(sym, U, u, bids, [[20 + (u % 5), u % 2]]);
    this.ref.apply(e);
    this.lastU = u;
    this.history.set(u, this.snapshot());
    return e;
  }
  snapshot(): DepthSnapshot {
    return {
      lastUpdateId: this.lastU,
      bids: this.ref.topBids(1000),
      asks: this.ref.topAsks(1000),
    };
  }
  /** Levels as {@link bookLevels} shows them, at update id `u`. */
  levelsAt(u: number): { bids: number[][]; asks: number[][] } {
    const s = this.history.get(u)!;
    return {
      bids: Array.from(s.bids, (l) => [...l]),
      asks: Array.from(s.asks, (l) => [...l]),
    };
  }
}

Deno.test("the ring keeps the newest events: the dropped oldest are counted, a snapshot older than the first kept is re-requested, the next one gives the exchange's book", () => {
  const sync = new DiffSync({
    symbolCount: 1,
    bufferEvents: 4,
    bufferLevels: 64,
    snapshotBuffers: 0,
  });
  const x = new ExchangeBook();
  for (let i = 0; i < 10; i++) assert.equal(sync.onEvent(x.next(0, 2)), RejectReason.Ok);
  let c = sync.counters(0);
  assert.equal(c.buffered, 4, "the newest 4 are kept");
  assert.equal(c.rejected[RejectReason.BufferOverflow], 6, "the oldest 6 were dropped");
  assertAccounting(sync, 0);
  assert.equal(sync.takeSnapshotRequest(), 0);
  // Taken when the 3rd event was current: events 4..6 are gone, so it cannot be bridged.
  assert.equal(sync.onSnapshot(0, x.history.get(1003)!), SnapshotOutcome.TooOld);
  assert.equal(sync.counters(0).snapshotsTooOld, 1);
  assert.equal(sync.wantsSnapshot(0), true, "another snapshot is requested");
  assert.equal(sync.state(0), SyncState.Buffering);
  assertAccounting(sync, 0);
  for (let i = 0; i < 2; i++) sync.onEvent(x.next(0, 3));
  assert.equal(sync.takeSnapshotRequest(), 0);
  // Taken when the 9th event was current: events 10..12 replay on it.
  assert.equal(sync.onSnapshot(0, x.history.get(1009)!), SnapshotOutcome.Applied);
  c = sync.counters(0);
  assert.equal(c.rejected[RejectReason.BufferOverflow], 8);
  assert.equal(c.rejected[RejectReason.BeforeSnapshot], 1, "event 9 was in the snapshot");
  assert.equal(c.applied, 3);
  assert.equal(sync.lastUpdateId(0), 1012);
  assert.deepEqual(bookLevels(sync, 0), x.levelsAt(1012));
  assertAccounting(sync, 0);
  // Live events keep it equal to the exchange's book.
  for (let i = 0; i < 5; i++) assert.equal(sync.onEvent(x.next(0, 4)), RejectReason.Ok);
  assert.deepEqual(bookLevels(sync, 0), x.levelsAt(1017));
});

Deno.test("a taken request borrows a larger ring until it settles; with none free the symbol keeps its own", () => {
  const sync = new DiffSync({
    symbolCount: 2,
    bufferEvents: 2,
    bufferLevels: 8,
    snapshotBuffers: 1,
    snapshotBufferEvents: 32,
    snapshotBufferLevels: 256,
  });
  const x = [new ExchangeBook(), new ExchangeBook()];
  for (const s of [0, 1]) for (let i = 0; i < 3; i++) sync.onEvent(x[s].next(s, 3));
  assert.equal(sync.counters(0).buffered, 2);
  assert.equal(sync.takeSnapshotRequest(), 0); // borrows the pool's only ring
  assert.equal(sync.takeSnapshotRequest(), 1); // none left: its own 2-event ring
  // A busy stretch while both snapshots are on their way.
  for (let i = 0; i < 20; i++) for (const s of [0, 1]) sync.onEvent(x[s].next(s, 5));
  assert.equal(sync.counters(0).buffered, 22, "the borrowed ring holds them all");
  assert.equal(sync.counters(0).rejected[RejectReason.BufferOverflow], 1);
  assert.equal(sync.counters(1).buffered, 1, "its own ring: 8 levels hold one 6-level event");
  // Both snapshots were taken right after the request (id 1003).
  assert.equal(sync.onSnapshot(0, x[0].history.get(1003)!), SnapshotOutcome.Applied);
  assert.deepEqual(bookLevels(sync, 0), x[0].levelsAt(1023));
  assert.equal(sync.onSnapshot(1, x[1].history.get(1003)!), SnapshotOutcome.TooOld);
  // The ring went back to the pool: symbol 1's next request borrows it and syncs.
  assert.equal(sync.takeSnapshotRequest(), 1);
  for (let i = 0; i < 6; i++) sync.onEvent(x[1].next(1, 5));
  assert.equal(sync.counters(1).buffered, 7);
  assert.equal(sync.onSnapshot(1, x[1].history.get(1024)!), SnapshotOutcome.Applied);
  assert.deepEqual(bookLevels(sync, 1), x[1].levelsAt(1029));
  // A failed request gives the ring back too; the newest events that fit its own ring stay.
  sync.onEvent(x[0].next(0, 1, 0));
  sync.onEvent(x[0].next(0, 1, 0)); // fine: synced
  sync.reset(0);
  for (let i = 0; i < 5; i++) sync.onEvent(x[0].next(0, 1));
  assert.equal(sync.takeSnapshotRequest(), 0);
  for (let i = 0; i < 5; i++) sync.onEvent(x[0].next(0, 1));
  const before = sync.counters(0).rejected[RejectReason.BufferOverflow];
  assert.equal(sync.counters(0).buffered, 7);
  sync.onSnapshotFailed(0);
  assert.equal(sync.counters(0).buffered, 2);
  assert.equal(sync.counters(0).rejected[RejectReason.BufferOverflow], before + 5);
  assert.equal(sync.takeSnapshotRequest(), 0);
  assert.equal(sync.onSnapshot(0, x[0].history.get(x[0].lastU - 2)!), SnapshotOutcome.Applied);
  assert.deepEqual(bookLevels(sync, 0), x[0].levelsAt(x[0].lastU));
  for (const s of [0, 1]) assertAccounting(sync, s);
  assert.throws(
    () => new DiffSync({ symbolCount: 1, bufferEvents: 64, snapshotBufferEvents: 32 }),
    /snapshotBufferEvents\/snapshotBufferLevels \(32\/8192\) must be at least bufferEvents\/bufferLevels \(64\/256\)/,
  );
});

Deno.test("property: with rings that overflow and a pool that runs out, accounting stays exact and a synced book is the exchange's", () => {
  const step = fc.oneof(
    fc.record({
      kind: fc.constant("event" as const),
      sym: fc.integer({ min: 0, max: 2 }),
      levels: fc.integer({ min: 0, max: 6 }),
      len: fc.integer({ min: 0, max: 2 }),
      lost: fc.integer({ min: 0, max: 9 }).map((n) => n === 0), // one event in ten never arrives
    }),
    fc.record({ kind: fc.constant("take" as const) }),
    fc.record({
      kind: fc.constant("answer" as const),
      sym: fc.integer({ min: 0, max: 2 }),
      back: fc.integer({ min: 0, max: 12 }),
      fail: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("emit" as const), dt: fc.integer({ min: 0, max: 300 }) }),
  );
  fc.assert(
    fc.property(fc.array(step, { minLength: 100, maxLength: 300 }), (steps) => {
      const sync = new DiffSync({
        symbolCount: 3,
        bufferEvents: 3,
        bufferLevels: 10,
        snapshotBuffers: 1,
        snapshotBufferEvents: 6,
        snapshotBufferLevels: 24,
      });
      const layout = new BookSlotLayout(3);
      const f64 = new Float64Array(layout.slotWords);
      const x = [new ExchangeBook(), new ExchangeBook(), new ExchangeBook()];
      const ids: number[][] = [[1000], [1000], [1000]];
      let now = 0;
      for (const s of steps) {
        if (s.kind === "event") {
          const e = x[s.sym].next(s.sym, s.levels, s.len);
          ids[s.sym].push(e.finalUpdateId);
          if (!s.lost) sync.onEvent(e);
        } else if (s.kind === "take") {
          sync.takeSnapshotRequest();
        } else if (s.kind === "answer") {
          if (!sync.snapshotInFlight(s.sym)) continue;
          if (s.fail) {
            sync.onSnapshotFailed(s.sym);
          } else {
            const past = ids[s.sym];
            const u = past[Math.max(0, past.length - 1 - s.back)];
            sync.onSnapshot(s.sym, x[s.sym].history.get(u)!);
          }
        } else {
          now += s.dt;
          for (let k = 0; k < 3; k++) {
            if (sync.dueForEmit(k, now)) sync.writeFrame(k, f64, 0, layout, now);
          }
        }
        for (let k = 0; k < 3; k++) {
          assertAccounting(sync, k);
          const c = sync.counters(k);
          assert.ok(c.buffered <= 6);
          if (sync.state(k) === SyncState.Synced) {
            assert.equal(c.buffered, 0);
            assert.deepEqual(bookLevels(sync, k), x[k].levelsAt(sync.lastUpdateId(k)));
          }
        }
      }
    }),
  );
});

Deno.test("a snapshot deeper than half the book replaces it with one twice as deep; dropped levels stay counted", () => {
  const sync = new DiffSync({ symbolCount: 1, bookCapacity: 4 });
  const level = (k: number): [number, number] => [100 - k, k + 1];
  sync.onEvent(ev(0, 11, 11, [level(2)]));
  assert.equal(sync.takeSnapshotRequest(), 0);
  // 2 levels a side: the 4-level book holds them.
  const first = { lastUpdateId: 10, bids: [level(0), level(1)], asks: [[200, 1]] as LevelPair[] };
  assert.equal(sync.onSnapshot(0, first), SnapshotOutcome.Applied);
  assert.equal(sync.book(0).capacity, 4);
  // Two more levels: the side is full, the farthest goes.
  sync.onEvent(ev(0, 12, 12, [level(3), level(4)]));
  assert.equal(sync.book(0).bidCount, 4);
  assert.equal(sync.counters(0).droppedLevels, 1);
  // A gap, then a 5-level re-seed: the book becomes 10 deep and keeps every level.
  sync.onEvent(ev(0, 20, 20));
  assert.equal(sync.state(0), SyncState.Resyncing);
  assert.equal(sync.takeSnapshotRequest(), 0);
  const deep = {
    lastUpdateId: 20,
    bids: [0, 1, 2, 3, 4].map(level),
    asks: [[200, 1]] as LevelPair[],
  };
  assert.equal(sync.onSnapshot(0, deep), SnapshotOutcome.Applied);
  assert.equal(sync.book(0).capacity, 10);
  assert.deepEqual(bookLevels(sync, 0).bids, [0, 1, 2, 3, 4].map(level));
  assert.equal(sync.counters(0).droppedLevels, 1, "the old book's drops are still counted");
  sync.onEvent(ev(0, 21, 21, [level(5), level(6)]));
  assert.equal(sync.book(0).bidCount, 7);
  assert.equal(sync.counters(0).droppedLevels, 1);
  assertAccounting(sync, 0);
});

Deno.test("forget: no book, nothing emitted or wanted; an answer in flight is ignored; events start over", () => {
  const sync = new DiffSync({ symbolCount: 2 });
  // Symbol 1 synced and emitting, then forgotten: nothing is due any more, not even stale repeats.
  sync.onEvent(ev(1, 10, 10));
  assert.equal(sync.takeSnapshotRequest(), 1);
  assert.equal(sync.onSnapshot(1, { lastUpdateId: 9, bids: [[1, 1]], asks: [[2, 1]] }), 0);
  assert.equal(sync.syncedCount, 1);
  emit(sync, 1, 1000);
  sync.onEvent(ev(1, 11, 11));
  sync.forget(1);
  assert.equal(sync.syncedCount, 0);
  assert.equal(sync.state(1), SyncState.Buffering);
  assert.equal(sync.hasBook(1), false);
  assert.equal(sync.lastUpdateId(1), NaN);
  for (const t of [2000, 5000, 60_000]) assert.equal(sync.dueForEmit(1, t), false);
  assert.equal(sync.counters(1).pending, 0);
  assertAccounting(sync, 1);
  // Events of a new connection bring it up from scratch.
  sync.onEvent(ev(1, 50, 50));
  assert.equal(sync.wantsSnapshot(1), true);
  // A queued request is dropped.
  sync.forget(1);
  assert.equal(sync.wantsSnapshot(1), false);
  assertAccounting(sync, 1);

  // Symbol 0: buffered events are rejected as gaps; the request in flight is cancelled.
  sync.onEvent(ev(0, 5, 5));
  sync.onEvent(ev(0, 6, 6));
  assert.equal(sync.takeSnapshotRequest(), 0);
  sync.forget(0);
  assert.equal(sync.counters(0).rejected[RejectReason.SequenceGap], 2);
  assert.equal(sync.snapshotCancelled(0), true);
  assert.equal(sync.snapshotInFlight(0), false);
  assert.equal(
    sync.onSnapshot(0, { lastUpdateId: 5, bids: [[1, 1]], asks: [[2, 1]] }),
    SnapshotOutcome.Ignored,
  );
  assert.equal(sync.state(0), SyncState.Buffering, "the late answer seeds no book");
  assert.equal(sync.wantsSnapshot(0), false, "nothing buffered: nothing wanted");
  assertAccounting(sync, 0);
  // Forgotten while in flight, then back before the answer: the answer is
  // ignored (taken before the new stream) and a new request follows.
  sync.onEvent(ev(0, 20, 20));
  assert.equal(sync.takeSnapshotRequest(), 0);
  sync.forget(0);
  sync.onEvent(ev(0, 30, 30));
  assert.equal(sync.wantsSnapshot(0), false);
  sync.onSnapshotFailed(0);
  assert.equal(sync.wantsSnapshot(0), true);
  assert.equal(sync.takeSnapshotRequest(), 0);
  assert.equal(sync.onSnapshot(0, { lastUpdateId: 29, bids: [[1, 1]], asks: [[2, 1]] }), 0);
  assert.equal(sync.state(0), SyncState.Synced);
  assertAccounting(sync, 0);
});
