/**
 * The cost of the ingest's generated book snapshot record
 * (`lib/ingest/tap_records.ts`), made once per symbol every 5 minutes in diff
 * mode when recording: building the text of a book of 1,000 and of 100 levels
 * a side, and building plus encoding it to UTF-8 (what writing it into the
 * recorder's byte ring costs on top). Prices on a 0.01 grid near 60,000 and
 * sizes with 8 decimals, like a Binance BTCUSDT book.
 *
 * Run: `deno bench -A bench/tap_records_bench.ts` (indicative on a loaded machine).
 * @module
 */
import { LocalBook } from "../lib/ingest/local_book.ts";
import { bookSnapshotRecord } from "../lib/ingest/tap_records.ts";

/** A book of `levels` levels a side from a fixed seed. */
function book(levels: number): LocalBook {
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const size = () => Math.round(rand() * 5e8) / 1e8;
  const bids: [number, number][] = [];
  const asks: [number, number][] = [];
  for (let i = 0; i < levels; i++) {
    bids.push([Math.round((60_000 - i * 0.01) * 100) / 100, size()]);
    asks.push([Math.round((60_000.01 + i * 0.01) * 100) / 100, size()]);
  }
  const b = new LocalBook({ capacity: 2 * levels });
  b.loadSnapshot(bids, asks);
  return b;
}

const deep = book(1000);
const shallow = book(100);
const out = new Uint8Array(1 << 20);
const encoder = new TextEncoder();
let sink = 0;
console.log(
  `tap records: a book snapshot of 1,000 levels a side is ${
    encoder.encode(bookSnapshotRecord("btcusdt", 1, deep)).length
  } B, of 100 levels ${encoder.encode(bookSnapshotRecord("btcusdt", 1, shallow)).length} B`,
);

Deno.bench("book snapshot record: 1,000 levels a side, text", { group: "deep" }, () => {
  const s = bookSnapshotRecord("btcusdt", 123_456_789, deep);
  sink += s.charCodeAt(s.length - 1); // flattens the concatenated string
});

Deno.bench(
  "book snapshot record: 1,000 levels a side, text + UTF-8 encode",
  { group: "deep" },
  () => {
    sink += encoder.encodeInto(bookSnapshotRecord("btcusdt", 123_456_789, deep), out).written;
  },
);

Deno.bench("book snapshot record: 100 levels a side, text", () => {
  const s = bookSnapshotRecord("btcusdt", 123_456_789, shallow);
  sink += s.charCodeAt(s.length - 1);
});

addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
