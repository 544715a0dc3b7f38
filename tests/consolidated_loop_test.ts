/**
 * The analytics loop with a consolidated instrument (no worker, no timing):
 * every member frame taken from the raw ring updates the instrument, which is
 * composed after the batch into the processed ring with its venues block; a
 * plain symbol's frame has a zero member count; counters and the
 * instrument's feed state are exact. The ingest, given the real symbols only,
 * counts unknown frames in the counters' last row, never an instrument's.
 */
import assert from "node:assert/strict";
import { AnalyticsLoop } from "../lib/analytics/analytics_loop.ts";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import {
  FRAME_BID_COUNT,
  FRAME_MID,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import {
  ANALYTICS_ANALYSED,
  ANALYTICS_PROCESSED,
  INGEST_FEED_STATE,
  INGEST_RECEIVED,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { writeBook } from "../testing/book_fixture.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import { DEPTH_INGEST_REJECTED, DepthIngest } from "../lib/ingest/depth_ingest.ts";

const LEVELS = 2;
const book = new BookSlotLayout(LEVELS);
const frame = new FrameSlotLayout({ levels: LEVELS, venueMembers: 2 });

function bookFrame(symbolId: number, bid: number, ask: number, at: number): Float64Array {
  const f = new Float64Array(book.slotWords);
  writeBook(f, 0, book, { symbolId, receiveTime: at, bids: [[bid, 1]], asks: [[ask, 1]] });
  return f;
}

Deno.test("consolidated loop: member frames compose the instrument after the batch, with its venues block", () => {
  // Symbols: 0 btcusdt, 1 btcusdc, 2 ethusdt (not a member), 3 x:btc.
  const raw = SpscRing.create({ capacity: 16, slotBytes: book.slotBytes });
  const processed = SpscRing.create({ capacity: 16, slotBytes: frame.slotBytes });
  const counters = PipelineCounters.create(5);
  for (const s of [0, 1, 2]) counters.store(counters.ingestSymbol(s, INGEST_FEED_STATE), 1);
  const loop = new AnalyticsLoop({
    raw,
    processed,
    counters,
    symbols: 4,
    levels: LEVELS,
    consolidated: [{ symbolId: 3, members: [0, 1] }],
    consolidateIntervalMs: 0,
    adaptive: false,
  });
  raw.push(bookFrame(0, 100, 101, 1000));
  raw.push(bookFrame(2, 10, 11, 1000));
  raw.push(bookFrame(1, 100.5, 102, 1005));
  raw.push(bookFrame(0, 100.2, 101, 1010)); // the newest of member 0 is the one kept
  assert.equal(loop.drain(), 4);
  const out = new Float64Array(processed.slotWords);
  const got: Float64Array[] = [];
  while (processed.pop(out)) got.push(out.slice(0, frame.slotWords));
  assert.deepEqual(got.map((f) => f[FRAME_SYMBOL_ID]), [0, 2, 1, 0, 3], "the instrument last");
  for (const f of got.slice(0, 4)) assert.equal(f[frame.venueCount()], 0, "plain: no members");
  const x = got[4];
  assert.equal(x[frame.venueCount()], 2);
  assert.equal(x[FRAME_BID_COUNT], 2);
  assert.deepEqual(
    [x[frame.bidPrice(0)], x[frame.bidVenue(0)], x[frame.bidPrice(1)], x[frame.bidVenue(1)]],
    [100.5, 1, 100.2, 0],
  );
  assert.deepEqual(
    [x[frame.askPrice(0)], x[frame.askVenue(0)], x[frame.askPrice(1)], x[frame.askVenue(1)]],
    [101, 0, 102, 1],
  );
  assert.equal(x[FRAME_MID], (100.5 + 101) / 2);
  assert.deepEqual(
    [0, 1].map((k) => [x[frame.memberSymbol(k)], x[frame.memberAge(k)], x[frame.memberStale(k)]]),
    [[0, 0, 0], [1, 5, 0]],
  );
  // Counters: the instrument's frame is processed, never taken from the raw ring.
  const row = (s: number, w: number) => counters.load(counters.analyticsSymbol(s, w));
  assert.deepEqual([0, 1, 2, 3].map((s) => row(s, ANALYTICS_ANALYSED)), [2, 1, 1, 0]);
  assert.deepEqual([0, 1, 2, 3].map((s) => row(s, ANALYTICS_PROCESSED)), [2, 1, 1, 1]);
  assert.equal(counters.load(counters.ingestSymbol(3, INGEST_FEED_STATE)), FeedState.Live);

  // Nothing changed: an idle drain composes nothing.
  assert.equal(loop.drain(), 0);
  assert.equal(processed.available(), 0);
  // Both members' feeds go stale: the next idle drain composes an empty, stale instrument.
  counters.store(counters.ingestSymbol(0, INGEST_FEED_STATE), FeedState.Stale);
  counters.store(counters.ingestSymbol(1, INGEST_FEED_STATE), FeedState.Connecting);
  assert.equal(loop.drain(), 0);
  assert.ok(processed.pop(out));
  assert.equal(out[FRAME_SYMBOL_ID], 3);
  assert.equal(out[FRAME_BID_COUNT], 0);
  assert.deepEqual([out[frame.memberStale(0)], out[frame.memberStale(1)]], [1, 1]);
  assert.equal(counters.load(counters.ingestSymbol(3, INGEST_FEED_STATE)), FeedState.Stale);
  assert.equal(row(3, ANALYTICS_PROCESSED), 2);
});

Deno.test("consolidated loop: instrument and member ids are checked", () => {
  const raw = SpscRing.create({ capacity: 2, slotBytes: book.slotBytes });
  const processed = SpscRing.create({ capacity: 2, slotBytes: frame.slotBytes });
  const counters = PipelineCounters.create(4);
  const make = (symbolId: number, members: number[]) =>
    new AnalyticsLoop({
      raw,
      processed,
      counters,
      symbols: 3,
      levels: LEVELS,
      consolidated: [{ symbolId, members }],
    });
  assert.throws(() => make(3, [0, 1]), /consolidated instrument id 3 is not a symbol id/);
  assert.throws(() => make(2, [0, 5]), /consolidated member id 5 is not a symbol id/);
  // Slots too small for the venues block are refused.
  const small = SpscRing.create({
    capacity: 2,
    slotBytes: new FrameSlotLayout({ levels: LEVELS }).slotBytes,
  });
  assert.throws(
    () =>
      new AnalyticsLoop({
        raw,
        processed: small,
        counters,
        symbols: 3,
        levels: LEVELS,
        consolidated: [{ symbolId: 2, members: [0, 1] }],
      }),
    /processed ring slots hold/,
  );
});

Deno.test("consolidated: the ingest (given the real symbols only) counts unknown frames in the counters' last row, not an instrument's", () => {
  // Symbols: 0 btcusdt, 1 btcusdc, 2 x:btc; the counters' row 3 is "unknown".
  const ring = SpscRing.create({ capacity: 4, slotBytes: new BookSlotLayout(20).slotBytes });
  const counters = PipelineCounters.create(4);
  const ingest = new DepthIngest({ symbols: ["btcusdt", "btcusdc"], ring, counters });
  assert.equal(ingest.handle("not json", 1), DEPTH_INGEST_REJECTED);
  const received = [0, 1, 2, 3].map((s) =>
    counters.load(counters.ingestSymbol(s, INGEST_RECEIVED))
  );
  assert.deepEqual(received, [0, 0, 0, 1]);
});
