/**
 * The consolidated book's composition (lib/analytics/consolidated_book.ts):
 * merge order and tags, equal prices, stale exclusion (feed state, age, a
 * book flagged stale), a crossed book kept, bounds, pace and the frame flags.
 */
import assert from "node:assert/strict";
import { ConsolidatedBook, type FeedStates } from "../lib/analytics/consolidated_book.ts";
import { Analyser } from "../lib/analytics/analyser.ts";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_FLAG_RESYNCED,
  BOOK_FLAG_STALE,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_PARSED_TIME,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { writeBook } from "../testing/book_fixture.ts";
import {
  FRAME_FLAG_CROSSED,
  FRAME_FLAGS,
  FRAME_SPREAD,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";

const LEVELS = 3;
const bookLayout = new BookSlotLayout(LEVELS);
const frameLayout = new FrameSlotLayout({ levels: LEVELS, venueMembers: 3 });

/** A book slot with these (price, size) levels, received at `at`. */
function book(
  bids: [number, number][],
  asks: [number, number][],
  at: number,
  flags = 0,
): Float64Array {
  const f = new Float64Array(bookLayout.slotWords).fill(NaN);
  writeBook(f, 0, bookLayout, { bids, asks, receiveTime: at, parsedTime: at + 0.5, flags });
  return f;
}

/** Feed states by symbol id; Live unless set. */
class States implements FeedStates {
  readonly byId = new Map<number, number>();
  feedState(id: number): number {
    return this.byId.get(id) ?? FeedState.Live;
  }
}

interface Composed {
  mask: number;
  bids: [number, number, number][];
  asks: [number, number, number][];
  book: Float64Array;
  frame: Float64Array;
}

function compose(x: ConsolidatedBook, states: FeedStates, wallMs = 0): Composed {
  const merged = new Float64Array(bookLayout.slotWords).fill(NaN);
  const frame = new Float64Array(frameLayout.slotWords).fill(NaN);
  const mask = x.compose(states, merged, 0, bookLayout, frame, 0, frameLayout, wallMs);
  const side = (n: number, price: (i: number) => number, venue: (i: number) => number) =>
    Array.from(
      { length: n },
      (_, i) =>
        [merged[price(i)], merged[price(i) + 1], frame[venue(i)]] as [number, number, number],
    );
  return {
    mask,
    bids: side(
      merged[BOOK_BID_COUNT],
      (i) => bookLayout.bidPrice(i),
      (i) => frameLayout.bidVenue(i),
    ),
    asks: side(
      merged[BOOK_ASK_COUNT],
      (i) => bookLayout.askPrice(i),
      (i) => frameLayout.askVenue(i),
    ),
    book: merged,
    frame,
  };
}

function three(): ConsolidatedBook {
  // Symbols 4, 7, 5 are members 0, 1, 2 of instrument 9.
  return new ConsolidatedBook({ symbolId: 9, members: [4, 7, 5], levels: LEVELS, staleMs: 1000 });
}

Deno.test("consolidated: levels merge best first, tagged with their member, ties keep member order", () => {
  const x = three();
  x.update(0, book([[100, 1], [99, 2], [98, 3]], [[101, 1], [102, 2]], 1000), 0, bookLayout);
  x.update(1, book([[100.5, 4], [99, 5]], [[101, 6], [101.5, 7], [103, 8]], 1010), 0, bookLayout);
  x.update(2, book([[97, 9]], [[100.8, 1.5]], 1020), 0, bookLayout);
  const c = compose(x, new States());
  assert.equal(c.mask, 0b111);
  // Bids: 100.5 (m1), 100 (m0), then 99 from m0 before 99 from m1; cut at 3 levels.
  assert.deepEqual(c.bids, [[100.5, 4, 1], [100, 1, 0], [99, 2, 0]]);
  // Asks: 100.8 (m2), then 101 from m0 before 101 from m1 (equal prices stay two levels).
  assert.deepEqual(c.asks, [[100.8, 1.5, 2], [101, 1, 0], [101, 6, 1]]);
  assert.equal(c.book[BOOK_SYMBOL_ID], 9);
  assert.equal(c.book[BOOK_LAST_UPDATE_ID], 1);
  assert.equal(c.book[BOOK_RECEIVE_TIME], 1020, "the newest member's receive time");
  assert.equal(c.book[BOOK_PARSED_TIME], 1020.5);
  assert.equal(c.book[BOOK_FLAGS], 0);
  // The venues block: every member's id, own best quotes, age behind the clock, fresh.
  const f = c.frame;
  assert.equal(f[frameLayout.venueCount()], 3);
  const members = [0, 1, 2].map((k) => [
    f[frameLayout.memberSymbol(k)],
    f[frameLayout.memberBestBid(k)],
    f[frameLayout.memberBestAsk(k)],
    f[frameLayout.memberAge(k)],
    f[frameLayout.memberStale(k)],
  ]);
  assert.deepEqual(members, [[4, 100, 101, 20, 0], [7, 100.5, 101, 10, 0], [5, 97, 100.8, 0, 0]]);
});

Deno.test("consolidated: a member whose feed is not live contributes no level and is reported stale", () => {
  const x = three();
  x.update(0, book([[100, 1]], [[101, 1]], 1000), 0, bookLayout);
  x.update(1, book([[100.5, 4]], [[100.9, 6]], 1000), 0, bookLayout);
  x.update(2, book([[99, 9]], [[102, 1]], 1000), 0, bookLayout);
  const states = new States();
  assert.equal(compose(x, states).mask, 0b111);
  for (const state of [FeedState.Connecting, FeedState.Stale, FeedState.Resyncing]) {
    states.byId.set(7, state); // member 1
    const c = compose(x, states);
    assert.equal(c.mask, 0b101, `feed state ${state}`);
    assert.deepEqual(c.bids, [[100, 1, 0], [99, 9, 2]]);
    assert.deepEqual(c.asks, [[101, 1, 0], [102, 1, 2]]);
    assert.equal(c.frame[frameLayout.memberStale(1)], 1);
    assert.equal(c.frame[frameLayout.memberBestBid(1)], 100.5, "its last quotes are still shown");
    assert.equal(c.frame[frameLayout.memberStale(0)], 0);
  }
});

Deno.test("consolidated: a member older than staleMs behind the clock, or with a stale book, is left out", () => {
  const x = three(); // staleMs 1000
  x.update(0, book([[100, 1]], [[101, 1]], 1000), 0, bookLayout);
  x.update(1, book([[100.5, 4]], [[100.9, 6]], 2000), 0, bookLayout);
  x.update(2, book([[99, 9]], [[102, 1]], 2000, BOOK_FLAG_STALE), 0, bookLayout);
  let c = compose(x, new States());
  assert.equal(c.mask, 0b011, "1000 ms old is still fresh; a stale-flagged book is not");
  assert.deepEqual(c.bids, [[100.5, 4, 1], [100, 1, 0]]);
  x.update(1, book([[100.5, 4]], [[100.9, 6]], 2000.5), 0, bookLayout);
  c = compose(x, new States());
  assert.equal(c.mask, 0b010, "member 0 is now 1000.5 ms behind");
  assert.deepEqual(c.bids, [[100.5, 4, 1]]);
  assert.deepEqual(c.asks, [[100.9, 6, 1]]);
  assert.equal(c.frame[frameLayout.memberAge(0)], 1000.5);
  assert.equal(c.frame[frameLayout.memberStale(0)], 1);
  assert.equal(c.book[BOOK_FLAGS], BOOK_FLAG_RESYNCED, "the contributing set changed");
});

Deno.test("consolidated: no fresh member gives an empty book flagged stale", () => {
  const x = three();
  x.update(0, book([[100, 1]], [[101, 1]], 1000), 0, bookLayout);
  const states = new States();
  states.byId.set(4, FeedState.Stale);
  const c = compose(x, states);
  assert.equal(c.mask, 0);
  assert.deepEqual([c.bids, c.asks], [[], []]);
  assert.equal(c.book[BOOK_FLAGS], BOOK_FLAG_STALE);
  // Members never heard from: no quotes, no age.
  assert.ok(Number.isNaN(c.frame[frameLayout.memberBestBid(1)]));
  assert.ok(Number.isNaN(c.frame[frameLayout.memberAge(1)]));
  assert.equal(c.frame[frameLayout.memberStale(1)], 1);
});

Deno.test("consolidated: a member's resynced book flags the next composition resynced, once", () => {
  const x = three();
  const all = [0, 1, 2];
  for (const k of all) x.update(k, book([[100 - k, 1]], [[101 + k, 1]], 1000), 0, bookLayout);
  assert.equal(compose(x, new States()).book[BOOK_FLAGS], 0, "first composition: nothing jumped");
  // Member 1 started over (a new snapshot): the instrument's ladder jumps with it.
  x.update(1, book([[99.5, 3]], [[102.5, 3]], 1010, BOOK_FLAG_RESYNCED), 0, bookLayout);
  assert.equal(compose(x, new States()).book[BOOK_FLAGS], BOOK_FLAG_RESYNCED);
  x.update(1, book([[99.5, 4]], [[102.5, 3]], 1020), 0, bookLayout);
  assert.equal(compose(x, new States()).book[BOOK_FLAGS], 0, "the flag is for one composition");
});

Deno.test("consolidated: a crossed book is kept and analysed as crossed (arbitrage gap = bid − ask)", () => {
  const x = new ConsolidatedBook({ symbolId: 2, members: [0, 1], levels: LEVELS });
  x.update(0, book([[101.5, 1]], [[102, 1]], 1000), 0, bookLayout);
  x.update(1, book([[100, 1]], [[101, 2]], 1000), 0, bookLayout);
  const c = compose(x, new States());
  assert.deepEqual(c.bids, [[101.5, 1, 0], [100, 1, 1]]);
  assert.deepEqual(c.asks, [[101, 2, 1], [102, 1, 0]]);
  const analyser = new Analyser({ symbols: 3, bookLayout, frameLayout });
  const out = new Float64Array(frameLayout.slotWords);
  analyser.analyse(c.book, 0, out, 0, 1001);
  assert.ok((out[FRAME_FLAGS] & FRAME_FLAG_CROSSED) !== 0);
  assert.equal(out[FRAME_SPREAD], -0.5, "spread = ask − bid: the gap 0.5, negative");
});

Deno.test("consolidated: pace: due after a member changed and intervalMs of wall time", () => {
  const x = new ConsolidatedBook({ symbolId: 2, members: [0, 1], levels: LEVELS, intervalMs: 100 });
  const states = new States();
  assert.equal(x.due(0, states), false, "nothing yet");
  x.update(0, book([[100, 1]], [[101, 1]], 1000), 0, bookLayout);
  assert.equal(x.due(0, states), true);
  compose(x, states, 0);
  x.update(0, book([[100, 2]], [[101, 1]], 1050), 0, bookLayout);
  assert.equal(x.due(99, states), false, "99 ms after the last");
  assert.equal(x.due(100, states), true);
  compose(x, states, 100);
  assert.equal(x.due(500, states), false, "nothing changed");
  states.byId.set(0, FeedState.Stale);
  assert.equal(x.due(500, states), true, "the fresh set changed");
  assert.equal(x.composed, 2);
});

Deno.test("consolidated: bounds: 2 to 8 distinct members, levels kept at most the book's", () => {
  assert.throws(() => new ConsolidatedBook({ symbolId: 1, members: [0], levels: 3 }), RangeError);
  assert.throws(
    () => new ConsolidatedBook({ symbolId: 9, members: [0, 1, 2, 3, 4, 5, 6, 7, 8], levels: 3 }),
    /2 to 8 members, got 9/,
  );
  assert.throws(
    () => new ConsolidatedBook({ symbolId: 2, members: [0, 0], levels: 3 }),
    RangeError,
  );
  assert.throws(
    () => new ConsolidatedBook({ symbolId: 1, members: [0, 1], levels: 3 }),
    RangeError,
  );
  // Deeper member books than the instrument's levels: only the top `levels` are kept.
  const x = new ConsolidatedBook({ symbolId: 2, members: [0, 1], levels: 2 });
  const deep = new BookSlotLayout(4);
  const f = new Float64Array(deep.slotWords);
  f[BOOK_BID_COUNT] = 4;
  f[BOOK_ASK_COUNT] = 0;
  f[BOOK_RECEIVE_TIME] = 1;
  for (let i = 0; i < 4; i++) {
    f[deep.bidPrice(i)] = 10 - i;
    f[deep.bidSize(i)] = 1;
  }
  x.update(0, f, 0, deep);
  x.update(1, f, 0, deep);
  const small = new BookSlotLayout(2);
  const fl = new FrameSlotLayout({ levels: 2, venueMembers: 2 });
  const merged = new Float64Array(small.slotWords);
  const frame = new Float64Array(fl.slotWords);
  x.compose(new States(), merged, 0, small, frame, 0, fl);
  assert.deepEqual([merged[BOOK_BID_COUNT], merged[BOOK_ASK_COUNT]], [2, 0]);
  assert.deepEqual([merged[small.bidPrice(0)], merged[small.bidPrice(1)]], [10, 10]);
  assert.deepEqual([frame[fl.bidVenue(0)], frame[fl.bidVenue(1)]], [0, 1]);
  // A frame layout without room for the members is refused.
  assert.throws(
    () => x.compose(new States(), merged, 0, small, frame, 0, new FrameSlotLayout({ levels: 2 })),
    /room for 0 members/,
  );
});
