import assert from "node:assert/strict";
import fc from "fast-check";
import { BOOK_ASK_COUNT, BOOK_BID_COUNT, BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { DepthParser } from "../lib/ingest/depth_parser.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { SymbolTable } from "../lib/ingest/symbol_table.ts";
import { UpdateIdTracker, validateBook } from "../lib/ingest/validate_book.ts";
import { recordedLines } from "../testing/recorded_data.ts";

const layout = new BookSlotLayout(5);

/** Writes a book into a slot at `base` of a fresh array; returns the array. */
function slot(bids: number[][], asks: number[][], base = 0): Float64Array {
  const f64 = new Float64Array(base + layout.slotWords).fill(NaN);
  f64[base + BOOK_BID_COUNT] = bids.length;
  f64[base + BOOK_ASK_COUNT] = asks.length;
  bids.forEach(([p, q], i) => {
    f64[base + layout.bidPrice(i)] = p;
    f64[base + layout.bidSize(i)] = q;
  });
  asks.forEach(([p, q], i) => {
    f64[base + layout.askPrice(i)] = p;
    f64[base + layout.askSize(i)] = q;
  });
  return f64;
}

Deno.test("validateBook: one hand-made book per reason", () => {
  const cases: [number[][], number[][], number][] = [
    [[[100, 1], [99, 2]], [[101, 1], [102, 0]], RejectReason.Ok],
    [[], [], RejectReason.Ok],
    [[[100, 1]], [], RejectReason.Ok],
    [[], [[1e-8, 1]], RejectReason.Ok],
    [[[101, 1]], [[100, 1]], RejectReason.Crossed],
    [[[100, 1]], [[100, 1]], RejectReason.Crossed],
    [[[0, 1]], [], RejectReason.BadPrice],
    [[[-1, 1]], [], RejectReason.BadPrice],
    [[[NaN, 1]], [], RejectReason.BadPrice],
    [[], [[Infinity, 1]], RejectReason.BadPrice],
    [[[100, -1]], [], RejectReason.BadSize],
    [[[100, NaN]], [], RejectReason.BadSize],
    [[], [[100, Infinity]], RejectReason.BadSize],
    [[[99, 1], [100, 1]], [], RejectReason.Unsorted],
    [[[100, 1], [100, 1]], [], RejectReason.Unsorted],
    [[], [[101, 1], [101, 1]], RejectReason.Unsorted],
    [[], [[102, 1], [101, 1]], RejectReason.Unsorted],
  ];
  for (const [bids, asks, expected] of cases) {
    assert.equal(
      validateBook(slot(bids, asks, 3), 3, layout),
      expected,
      JSON.stringify([bids, asks]),
    );
  }
});

Deno.test("validateBook: corrupt counts are Malformed", () => {
  for (const [b, a] of [[6, 0], [-1, 0], [0, 1.5], [NaN, 0]]) {
    const f64 = slot([], []);
    f64[BOOK_BID_COUNT] = b;
    f64[BOOK_ASK_COUNT] = a;
    assert.equal(validateBook(f64, 0, layout), RejectReason.Malformed, `${b}/${a}`);
  }
});

Deno.test("validateBook: agrees with a plain definition on random books", () => {
  const num = fc.oneof(
    fc.double({ min: -10, max: 200 }),
    fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 100, 101),
  );
  const side = fc.array(fc.tuple(num, num), { maxLength: 5 });
  const reference = (bids: number[][], asks: number[][]): number => {
    const sides: [number[][], (p: number, prev: number) => boolean][] = [
      [bids, (p, prev) => p < prev],
      [asks, (p, prev) => p > prev],
    ];
    for (const [levels, ordered] of sides) {
      for (let i = 0; i < levels.length; i++) {
        const [p, q] = levels[i];
        if (!Number.isFinite(p) || p <= 0) return RejectReason.BadPrice;
        if (!Number.isFinite(q) || q < 0) return RejectReason.BadSize;
        if (i > 0 && !ordered(p, levels[i - 1][0])) return RejectReason.Unsorted;
      }
    }
    if (bids.length && asks.length && bids[0][0] >= asks[0][0]) return RejectReason.Crossed;
    return RejectReason.Ok;
  };
  fc.assert(
    fc.property(side, side, (bids, asks) => {
      assert.equal(validateBook(slot(bids, asks), 0, layout), reference(bids, asks));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("validateBook: every recorded spot partial book is valid", () => {
  const frames = recordedLines("spot_depth20.jsonl");
  const l20 = new BookSlotLayout(20);
  const parser = new DepthParser(
    new SymbolTable(["btcusdt", "ethusdt", "flmusdt", "trxusdt", "eosusdt"]),
    { layout: l20 },
  );
  const f64 = new Float64Array(l20.slotWords);
  for (const frame of frames) {
    assert.equal(parser.parse(frame, f64, 0), RejectReason.Ok);
    assert.equal(validateBook(f64, 0, l20), RejectReason.Ok);
  }
  // Swap the best bid and ask of the first one: both sides stay sorted, the book crosses.
  const crossed = JSON.parse(frames[0]);
  [crossed.data.bids[0], crossed.data.asks[0]] = [crossed.data.asks[0], crossed.data.bids[0]];
  assert.equal(parser.parse(JSON.stringify(crossed), f64, 0), RejectReason.Ok);
  assert.equal(validateBook(f64, 0, l20), RejectReason.Crossed);
});

Deno.test("UpdateIdTracker: Ok / Duplicate / StaleUpdateId per symbol, reset after reconnect", () => {
  const t = new UpdateIdTracker(2);
  assert.equal(t.check(0, 160), RejectReason.Ok);
  t.accept(0, 160);
  assert.equal(t.last(0), 160);
  assert.equal(t.check(0, 160), RejectReason.Duplicate);
  assert.equal(t.check(0, 159), RejectReason.StaleUpdateId);
  assert.equal(t.check(0, 161), RejectReason.Ok);
  assert.equal(t.check(1, 5), RejectReason.Ok, "symbols are independent");
  assert.equal(t.check(0, NaN), RejectReason.Malformed);
  t.reset(0);
  assert.ok(Number.isNaN(t.last(0)));
  assert.equal(t.check(0, 1), RejectReason.Ok);
  assert.throws(() => t.check(2, 1), /from 0 to 1/);
  assert.throws(() => t.accept(-1, 1), RangeError);
  assert.throws(() => new UpdateIdTracker(0), /positive integer/);
});

Deno.test("UpdateIdTracker: matches a Map-based model on random operation sequences", () => {
  const op = fc.tuple(fc.constantFrom("check", "accept", "reset"), fc.nat(2), fc.nat(20));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const t = new UpdateIdTracker(3);
      const model = new Map<number, number>();
      for (const [kind, sym, id] of ops) {
        if (kind === "accept") {
          t.accept(sym, id);
          model.set(sym, id);
        } else if (kind === "reset") {
          t.reset(sym);
          model.delete(sym);
        } else {
          const last = model.get(sym);
          const expected = last === undefined || id > last
            ? RejectReason.Ok
            : id === last
            ? RejectReason.Duplicate
            : RejectReason.StaleUpdateId;
          assert.equal(t.check(sym, id), expected);
        }
      }
    }),
    { numRuns: 500 },
  );
});
