import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { JsonCursor, MAX_JSON_DEPTH } from "../lib/ingest/venues/json_cursor.ts";
import { BookChecksum, crc32Of } from "../lib/ingest/venues/book_checksum.ts";
import { type BookSide, VenueBook } from "../lib/ingest/venues/venue_book.ts";
import { LevelBatch } from "../lib/ingest/venues/level_batch.ts";
import { BOOK_ASK_COUNT, BOOK_BID_COUNT, BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { exchangeLines } from "./venue_reference.ts";

/** A side's prices, best first. */
function levels(side: BookSide): number[] {
  return Array.from({ length: side.count }, (_, i) => side.price[side.slot(i)]);
}

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (v !== null && typeof v === "object") return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

Deno.test("json_cursor: begin accepts exactly what JSON.parse accepts (within the depth bound)", () => {
  const c = new JsonCursor();
  fc.assert(
    fc.property(fc.json({ maxDepth: 6 }), (s) => c.begin(s) === true),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => c.begin(s) === parses(s)),
    { numRuns: 5000 },
  );
  // JSON-ish alphabet: many near-valid strings
  const alphabet = fc.constantFrom(...'{}[]",:0123456789.-+eEtrufalsn \\u'.split(""));
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 30 }), (chars) => {
      const s = chars.join("");
      return c.begin(s) === (parses(s) && depthOf(JSON.parse(s)) <= MAX_JSON_DEPTH);
    }),
    { numRuns: 20000 },
  );
  for (
    const bad of [
      "",
      " ",
      "{",
      '{"a":1,}',
      "[1,]",
      "01",
      "1.",
      ".5",
      "-",
      '"\\x"',
      '"a\nb"',
      "nul",
      "{} {}",
    ]
  ) {
    assert.equal(c.begin(bad), false, bad);
  }
  assert.equal(c.begin("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH)), true);
  assert.equal(c.begin("[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1)), false);
  assert.equal(new JsonCursor({ maxChars: 10 }).begin('{"a":"12345678"}'), false);
  // every real recorded line is valid
  for (
    const f of [
      "okx_books_btcusdt.jsonl",
      "kraken_v2_book_algousd.jsonl",
      "bybit_linear_orderbook500_xrpusdt.jsonl",
    ]
  ) {
    for (const line of exchangeLines(f)) assert.equal(c.begin(line), true);
  }
});

Deno.test("json_cursor: walks keys in any order, compares without strings, reads nested values", () => {
  const c = new JsonCursor();
  const text = ' { "b" : [ 1 , "x" , { "k" : null } ] , "a" : { "n" : -12 } , "t" : true } ';
  assert.equal(c.begin(text), true);
  assert.equal(c.enterObject(), true);
  const seen: string[] = [];
  let aPos = -1;
  while (c.nextKey()) {
    if (c.keyIs("a")) aPos = c.pos;
    seen.push(["a", "b", "t"].find((k) => c.keyIs(k)) ?? "?");
    c.skipValue();
  }
  assert.deepEqual(seen, ["b", "a", "t"]);
  c.pos = aPos;
  assert.equal(c.enterObject(), true);
  assert.equal(c.nextKey(), true);
  assert.equal(c.keyIs("n"), true);
  assert.equal(c.readInteger(), true);
  assert.equal(c.value, -12);
  assert.equal(c.nextKey(), false);
  // arrays: items of any type
  assert.equal(c.begin('[1,"x",{"k":[2]},[],false]'), true);
  assert.equal(c.enterArray(), true);
  let n = 0;
  while (c.nextItem()) {
    c.skipValue();
    n++;
  }
  assert.equal(n, 5);
  assert.equal(c.begin('["BTC-USDT"]'), true);
  c.enterArray();
  c.nextItem();
  assert.equal(c.readString(), true);
  assert.equal(c.stringIndex(["ETH-USDT", "BTC-USDT"]), 1);
  assert.equal(c.stringStartsWith("BTC-"), true);
  // a key written with an escape never equals the literal
  assert.equal(c.begin('{"\\u0061":1}'), true);
  c.enterObject();
  c.nextKey();
  assert.equal(c.keyIs("a"), false);
});

Deno.test("json_cursor: readDecimal equals parseFloat and keeps the exact text (decimals and mantissa)", () => {
  const c = new JsonCursor();
  const rebuild = (hi: number, lo: number, decimals: number) => {
    let digits = hi > 0 ? String(hi) + String(lo).padStart(9, "0") : String(lo);
    digits = digits.padStart(decimals + 1, "0");
    return decimals === 0 ? digits : digits.slice(0, -decimals) + "." + digits.slice(-decimals);
  };
  const decimalText = fc.tuple(
    fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,11}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,12}$/), { nil: undefined }),
  ).map(([i, f]) => (f === undefined ? i : `${i}.${f}`));
  fc.assert(
    fc.property(decimalText, fc.boolean(), (text, quoted) => {
      assert.equal(c.begin(quoted ? `["${text}"]` : `[${text}]`), true);
      c.enterArray();
      c.nextItem();
      assert.equal(c.readDecimal(), true, text);
      const digits = text.replace(".", "").replace(/^0+/, "").length;
      if (digits <= 15) assert.equal(c.value, parseFloat(text), text);
      else assert.ok(Math.abs(c.value - parseFloat(text)) <= parseFloat(text) * 4.5e-16, text);
      assert.equal(rebuild(c.mantHi, c.mantLo, c.decimals), text);
    }),
    { numRuns: 5000 },
  );
  // more digits than 2^53: the mantissa stays exact
  assert.equal(c.begin('"123456789012345678.12345"'), true);
  assert.equal(c.readDecimal(), true);
  assert.equal(rebuild(c.mantHi, c.mantLo, c.decimals), "123456789012345678.12345");
  for (
    const bad of [
      '"-1"',
      "-1",
      "1e5",
      '"1e5"',
      '"abc"',
      '""',
      '"1."',
      '".5"',
      '"1.2.3"',
      '" 1"',
      "true",
    ]
  ) {
    assert.equal(c.begin(bad), true);
    assert.equal(c.readDecimal(), false, bad);
  }
  for (const [text, v] of [['"1652453225000"', 1652453225000], ["-1", -1], ["42", 42]] as const) {
    c.begin(text);
    assert.equal(c.readInteger(), true);
    assert.equal(c.value, v);
  }
  c.begin("1.5");
  assert.equal(c.readInteger(), false);
  c.begin('"2024-10-03T02:46:57.050170Z"');
  assert.equal(c.readTime(), true);
  assert.equal(c.value, Date.UTC(2024, 9, 3, 2, 46, 57) + 50.17);
  c.begin('"2026-09-07T23:37:22.278662782Z"');
  assert.equal(c.readTime(), true);
  assert.ok(Math.abs(c.value - (Date.UTC(2026, 8, 7, 23, 37, 22) + 278.662782)) < 1e-3);
  fc.assert(
    fc.property(
      fc.date({ min: new Date(0), max: new Date(Date.UTC(2200, 0)), noInvalidDate: true }),
      (d) => {
        c.begin(JSON.stringify(d.toISOString()));
        return c.readTime() && c.value === d.getTime();
      },
    ),
    { numRuns: 2000 },
  );
  c.begin('"2026-13-07T23:37:22Z"');
  assert.equal(c.readTime(), false);
});

Deno.test("venue_book: apply, delete, capacity drops the farthest, top-N into a slot", () => {
  const book = new VenueBook(3);
  const bid = (p: number, s: number) => book.bids.apply(p, 0, 0, p, s, 0, 0, s);
  const ask = (p: number, s: number) => book.asks.apply(p, 0, 0, p, s, 0, 0, s);
  bid(10, 1);
  bid(12, 1);
  bid(11, 1);
  bid(9, 1); // full: 9 is past the last, dropped
  assert.deepEqual(levels(book.bids), [12, 11, 10]);
  bid(13, 2); // better: 10 goes
  assert.deepEqual(levels(book.bids), [13, 12, 11]);
  bid(12, 0); // delete
  bid(99, 0); // delete of an absent level: nothing
  assert.deepEqual(levels(book.bids), [13, 11]);
  bid(11, 5); // update
  assert.equal(book.bids.size[book.bids.slot(1)], 5);
  ask(20, 1);
  ask(19, 2);
  const layout = new BookSlotLayout(5);
  const f64 = new Float64Array(layout.slotWords + 2);
  book.writeTop(f64, 2, layout, 0.5);
  assert.equal(f64[2 + BOOK_BID_COUNT], 2);
  assert.equal(f64[2 + BOOK_ASK_COUNT], 2);
  assert.deepEqual([f64[2 + layout.bidPrice(0)], f64[2 + layout.bidSize(0)]], [13, 1]);
  assert.deepEqual([f64[2 + layout.askPrice(0)], f64[2 + layout.askSize(0)]], [19, 1]);
  book.truncate(1);
  assert.equal(book.bids.count, 1);
  book.clear();
  assert.equal(book.asks.count, 0);
  assert.throws(() => new VenueBook(0), /book capacity must be an integer/);
  // a batch past its capacity counts the levels it could not keep
  const small = new LevelBatch(2);
  for (let k = 0; k < 3; k++) small.push(false, 10 + k, 0, 0, 10 + k, 1, 0, 0, 1);
  assert.equal(small.overflowed, true);
  assert.equal(small.count, 3);
  const two = new VenueBook(5);
  small.applyTo(two);
  assert.deepEqual(levels(two.bids), [11, 10]);
});

Deno.test("book_checksum: the table CRC32 equals node:zlib; the rebuilt texts are the texts received", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      (bytes) => crc32Of(bytes, bytes.length) === crc32(bytes),
    ),
    { numRuns: 1000 },
  );
  const book = new VenueBook(30);
  const c = new JsonCursor();
  const batch = new LevelBatch(1);
  const put = (side: "bids" | "asks", px: string, sz: string) => {
    c.begin(`["${px}","${sz}"]`);
    c.enterArray();
    c.nextItem();
    c.readDecimal();
    batch.clear();
    batch.setPrice(0, c);
    c.nextItem();
    c.readDecimal();
    batch.setSize(0, c);
    batch.count = 1;
    book[side].applyFrom(batch, 0);
  };
  put("bids", "0.00012300", "1234567890123456.78");
  put("asks", "0.00012400", "5");
  put("asks", "0.000125", "0.10");
  const sum = new BookChecksum();
  sum.okx(book);
  const okx = sum.value;
  const okxText = new TextDecoder().decode(sum.bytes.subarray(0, sum.length));
  assert.equal(okxText, "0.00012300:1234567890123456.78:0.00012400:5:0.000125:0.10");
  assert.equal(okx, crc32(okxText) | 0);
  sum.kraken(book);
  const kraken = sum.value;
  const krakenText = new TextDecoder().decode(sum.bytes.subarray(0, sum.length));
  assert.equal(krakenText, "124005" + "12510" + "12300" + "123456789012345678");
  assert.equal(kraken, crc32(krakenText));
});

Deno.test("venue_book: snapshots in any order and random updates keep the sides sorted (model: a Map)", () => {
  const level = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 3 }));
  fc.assert(
    fc.property(
      // a snapshot has no zero sizes (with deletes after drops the model would differ)
      fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 3 })), {
        maxLength: 40,
      }),
      fc.array(fc.tuple(fc.boolean(), level), { maxLength: 60 }),
      fc.integer({ min: 1, max: 70 }),
      (snapshot, updates, capacity) => {
        const book = new VenueBook(capacity);
        const bids = new Map<number, number>(), asks = new Map<number, number>();
        const set = (m: Map<number, number>, p: number, q: number) =>
          q === 0 ? m.delete(p) : m.set(p, q);
        book.beginSnapshot();
        for (const [p, q] of snapshot) {
          book.bids.apply(p, 0, 0, p, q, 0, 0, q);
          book.asks.apply(p + 100, 0, 0, p + 100, q, 0, 0, q);
          set(bids, p, q);
          set(asks, p + 100, q);
        }
        book.endSnapshot();
        const best = (m: Map<number, number>, desc: boolean, n: number) =>
          [...m.keys()].sort((a, b) => desc ? b - a : a - b).slice(0, n);
        // the snapshot keeps the best `capacity` levels of each side
        assert.deepEqual(levels(book.bids), best(bids, true, capacity));
        assert.deepEqual(levels(book.asks), best(asks, false, capacity));
        if (bids.size > capacity || asks.size > capacity) return; // levels were dropped: the model differs
        for (const [isBid, [p, q]] of updates) {
          if (isBid) {
            book.bids.apply(p, 0, 0, p, q, 0, 0, q);
            set(bids, p, q);
          } else {
            book.asks.apply(p + 100, 0, 0, p + 100, q, 0, 0, q);
            set(asks, p + 100, q);
          }
          if (bids.size > capacity || asks.size > capacity) return;
        }
        assert.deepEqual(levels(book.bids), best(bids, true, capacity));
        assert.deepEqual(levels(book.asks), best(asks, false, capacity));
        const sizes = levels(book.bids).map((_, i) => book.bids.size[book.bids.slot(i)]);
        assert.deepEqual(sizes, best(bids, true, capacity).map((p) => bids.get(p)));
      },
    ),
    { numRuns: 2000 },
  );
});
