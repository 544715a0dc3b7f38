import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import {
  checkLevels,
  type DiffEventLike,
  type LevelPair,
  LocalBook,
} from "../lib/ingest/local_book.ts";
import { recordedJson as readJson, recordedLines } from "../testing/recorded_data.ts";

function pairs(raw: [string, string][]): LevelPair[] {
  return raw.map(([p, q]) => [Number(p), Number(q)] as const);
}

function eventFrom(data: {
  E: number;
  U: number;
  u: number;
  pu?: number;
  b: [string, string][];
  a: [string, string][];
}): DiffEventLike {
  return {
    symbolId: 0,
    eventTime: data.E,
    firstUpdateId: data.U,
    finalUpdateId: data.u,
    prevFinalUpdateId: data.pu ?? NaN,
    bidCount: data.b.length,
    askCount: data.a.length,
    bidPrices: Float64Array.from(data.b, (l) => Number(l[0])),
    bidSizes: Float64Array.from(data.b, (l) => Number(l[1])),
    askPrices: Float64Array.from(data.a, (l) => Number(l[0])),
    askSizes: Float64Array.from(data.a, (l) => Number(l[1])),
  };
}

/** A straightforward reference book: Map price → size, sorted on read. */
class RefBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  set(side: "bids" | "asks", price: number, size: number): void {
    if (size === 0) this[side].delete(price);
    else this[side].set(price, size);
  }
  sortedBids(): [number, number][] {
    return [...this.bids].sort((x, y) => y[0] - x[0]);
  }
  sortedAsks(): [number, number][] {
    return [...this.asks].sort((x, y) => x[0] - y[0]);
  }
}

function bookBids(book: LocalBook): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < book.bidCount; i++) out.push([book.bidPrice(i), book.bidSize(i)]);
  return out;
}

function bookAsks(book: LocalBook): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < book.askCount; i++) out.push([book.askPrice(i), book.askSize(i)]);
  return out;
}

Deno.test("LocalBook loads the recorded NKNUSDT REST snapshot sorted best-first", () => {
  const snap = readJson("rest_depth.json") as {
    bids: [string, string][];
    asks: [string, string][];
  };
  const bids = pairs(snap.bids);
  const asks = pairs(snap.asks);
  // Load in reverse order: the book must sort regardless of input order.
  const book = new LocalBook();
  book.loadSnapshot([...bids].reverse(), [...asks].reverse());
  assert.equal(book.bidCount, 609);
  assert.equal(book.askCount, 1000);
  assert.equal(book.bestBid(), 0.3521);
  assert.equal(book.bestAsk(), Math.min(...asks.map((l) => l[0])));
  assert.deepEqual(bookBids(book), [...bids].sort((x, y) => y[0] - x[0]));
  assert.deepEqual(bookAsks(book), [...asks].sort((x, y) => x[0] - y[0]));
  assert.equal(book.droppedLevels, 0);
});

Deno.test("LocalBook applies recorded NKNUSDT diff events like a Map-based reference", () => {
  const snap = readJson("rest_depth.json") as {
    lastUpdateId: number;
    bids: [string, string][];
    asks: [string, string][];
  };
  const book = new LocalBook();
  const ref = new RefBook();
  book.loadSnapshot(pairs(snap.bids), pairs(snap.asks));
  for (const [p, q] of pairs(snap.bids)) ref.set("bids", p, q);
  for (const [p, q] of pairs(snap.asks)) ref.set("asks", p, q);
  const lines = recordedLines("spot_diff.jsonl");
  let applied = 0;
  let removals = 0;
  for (const line of lines) {
    const msg = JSON.parse(line);
    if (msg.data.s !== "NKNUSDT" || msg.data.u <= snap.lastUpdateId) continue;
    book.apply(eventFrom(msg.data));
    for (const [p, q] of msg.data.b as [string, string][]) {
      if (Number(q) === 0) removals++;
      ref.set("bids", Number(p), Number(q));
    }
    for (const [p, q] of msg.data.a as [string, string][]) {
      if (Number(q) === 0) removals++;
      ref.set("asks", Number(p), Number(q));
    }
    applied++;
  }
  assert.equal(applied, 149);
  assert.ok(removals > 0, "the recording removes levels with 8-decimal zero strings");
  assert.deepEqual(bookBids(book), ref.sortedBids());
  assert.deepEqual(bookAsks(book), ref.sortedAsks());
  assert.equal(book.invalidLevels, 0);
});

Deno.test("LocalBook removes a level on numeric zero and ignores removal of absent levels", () => {
  const book = new LocalBook({ capacity: 8 });
  book.loadSnapshot([[7.604, 898], [7.603, 771]], [[7.611, 6], [7.612, 10]]);
  book.setBid(7.604, Number("0.00000000"));
  book.setAsk(7.611, Number("0"));
  book.setAsk(9.999, 0); // never existed
  assert.deepEqual(bookBids(book), [[7.603, 771]]);
  assert.deepEqual(bookAsks(book), [[7.612, 10]]);
  book.setBid(7.603, 5); // absolute quantity: replaces
  assert.equal(book.bidSize(0), 5);
  assert.equal(book.bidCount, 1);
});

Deno.test("LocalBook drops the level farthest from the touch when a side is full", () => {
  const book = new LocalBook({ capacity: 3 });
  book.loadSnapshot([[10, 1], [9, 1], [8, 1]], [[11, 1], [12, 1], [13, 1]]);
  book.setBid(9.5, 2); // better than 8: 8 goes
  assert.deepEqual(bookBids(book).map((l) => l[0]), [10, 9.5, 9]);
  book.setBid(7, 2); // farther than everything held: the new level itself goes
  assert.deepEqual(bookBids(book).map((l) => l[0]), [10, 9.5, 9]);
  book.setAsk(10.5, 2); // new best ask: 13 goes
  assert.deepEqual(bookAsks(book).map((l) => l[0]), [10.5, 11, 12]);
  assert.equal(book.droppedLevels, 3);
  // Updating an existing level of a full side drops nothing.
  book.setAsk(11, 9);
  assert.equal(book.droppedLevels, 3);
  assert.equal(book.askSize(1), 9);
});

Deno.test("LocalBook skips and counts invalid updates; loadSnapshot rejects bad levels", () => {
  const book = new LocalBook();
  book.loadSnapshot([[1, 1]], [[2, 1]]);
  book.setBid(NaN, 1);
  book.setBid(-1, 1);
  book.setAsk(3, -1);
  book.setAsk(3, Infinity);
  assert.equal(book.invalidLevels, 4);
  assert.deepEqual(bookBids(book), [[1, 1]]);
  assert.deepEqual(bookAsks(book), [[2, 1]]);
  assert.throws(
    () => book.loadSnapshot([[5, 1], [0, 1]], []),
    (e: unknown) => e instanceof RangeError && /bids\[1\]: price must be/.test(e.message),
  );
  // The failed load left the book as it was.
  assert.deepEqual(bookBids(book), [[1, 1]]);
  assert.equal(
    checkLevels([[1, NaN]], "asks"),
    "asks[0]: size must be a finite number >= 0, got NaN",
  );
  assert.throws(() => new LocalBook({ capacity: 0 }), RangeError);
});

Deno.test("LocalBook.writeTop writes counts, prices and sizes into a book slot", () => {
  const layout = new BookSlotLayout(2);
  const base = layout.slotWords; // second slot of a two-slot buffer
  const f64 = new Float64Array(layout.slotWords * 2).fill(-7);
  const book = new LocalBook();
  book.loadSnapshot([[100, 1], [99, 2], [98, 3]], [[101, 4]]);
  book.writeTop(f64, base, layout);
  assert.equal(f64[base + BOOK_BID_COUNT], 2);
  assert.equal(f64[base + BOOK_ASK_COUNT], 1);
  assert.equal(f64[base + layout.bidPrice(0)], 100);
  assert.equal(f64[base + layout.bidSize(0)], 1);
  assert.equal(f64[base + layout.bidPrice(1)], 99);
  assert.equal(f64[base + layout.bidSize(1)], 2);
  assert.equal(f64[base + layout.askPrice(0)], 101);
  assert.equal(f64[base + layout.askSize(0)], 4);
  // The first slot and unused ask pair are untouched; header words other than counts too.
  assert.ok(f64.subarray(0, layout.slotWords).every((x) => x === -7));
  assert.equal(f64[base + layout.askPrice(1)], -7);
  assert.equal(f64[base + BOOK_SYMBOL_ID], -7);
  book.clear();
  book.writeTop(f64, base, layout);
  assert.equal(f64[base + BOOK_BID_COUNT], 0);
  assert.ok(Number.isNaN(book.bestBid()) && Number.isNaN(book.bestAsk()));
});

const update = fc.record({
  bid: fc.boolean(),
  tick: fc.integer({ min: 1, max: 60 }),
  size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
});

Deno.test("property: random level updates match a Map-based reference (top N equal)", () => {
  fc.assert(
    fc.property(fc.array(update, { maxLength: 300 }), fc.integer({ min: 1, max: 25 }), (ups, n) => {
      const book = new LocalBook({ capacity: 64 }); // more than the 60 distinct prices
      const ref = new RefBook();
      const layout = new BookSlotLayout(n);
      const f64 = new Float64Array(layout.slotWords);
      for (const u of ups) {
        const price = u.tick * 0.01;
        if (u.bid) {
          book.setBid(price, u.size);
          ref.set("bids", price, u.size);
        } else {
          book.setAsk(price, u.size);
          ref.set("asks", price, u.size);
        }
      }
      const rb = ref.sortedBids().slice(0, n);
      const ra = ref.sortedAsks().slice(0, n);
      book.writeTop(f64, 0, layout);
      assert.equal(f64[BOOK_BID_COUNT], rb.length);
      assert.equal(f64[BOOK_ASK_COUNT], ra.length);
      for (let i = 0; i < rb.length; i++) {
        assert.equal(f64[layout.bidPrice(i)], rb[i][0]);
        assert.equal(f64[layout.bidSize(i)], rb[i][1]);
      }
      for (let i = 0; i < ra.length; i++) {
        assert.equal(f64[layout.askPrice(i)], ra[i][0]);
        assert.equal(f64[layout.askSize(i)], ra[i][1]);
      }
      assert.equal(book.bidCount, ref.bids.size);
      assert.equal(book.askCount, ref.asks.size);
      assert.equal(book.droppedLevels, 0);
    }),
  );
});

Deno.test("property: a capacity-limited side holds sorted levels that exist in the reference", () => {
  fc.assert(
    fc.property(
      fc.array(update, { maxLength: 300 }),
      fc.integer({ min: 1, max: 8 }),
      (ups, cap) => {
        const book = new LocalBook({ capacity: cap });
        const ref = new RefBook();
        for (const u of ups) {
          const price = u.tick * 0.01;
          if (u.bid) {
            book.setBid(price, u.size);
            ref.set("bids", price, u.size);
          } else {
            book.setAsk(price, u.size);
            ref.set("asks", price, u.size);
          }
        }
        const bids = bookBids(book);
        const asks = bookAsks(book);
        assert.ok(bids.length <= cap && asks.length <= cap);
        for (let i = 0; i < bids.length; i++) {
          assert.equal(ref.bids.get(bids[i][0]), bids[i][1]);
          if (i > 0) assert.ok(bids[i][0] < bids[i - 1][0]);
        }
        for (let i = 0; i < asks.length; i++) {
          assert.equal(ref.asks.get(asks[i][0]), asks[i][1]);
          if (i > 0) assert.ok(asks[i][0] > asks[i - 1][0]);
        }
        // Without any deletion nothing near the touch is lost: the book is the reference's top.
        if (ups.every((u) => u.size !== 0)) {
          assert.deepEqual(bids, ref.sortedBids().slice(0, cap));
          assert.deepEqual(asks, ref.sortedAsks().slice(0, cap));
        }
      },
    ),
  );
});
