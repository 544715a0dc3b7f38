/**
 * Venue protocol speed: one real recorded message after another through each
 * venue's `VenueSync` (parse with the zero-allocation cursor, sequence rule,
 * book update, checksum where the venue has one), against `JSON.parse` of the
 * same text alone (the baseline: it neither applies nor checks anything).
 * The recordings are those of `tests/testdata/exchanges/` (SOURCES.md):
 * OKX `books` BTC-USDT (a 400-level snapshot, then 49 updates, every one
 * checksummed), Bybit `orderbook.500` XRPUSDT (a 500-level snapshot, then 49
 * deltas), Kraken v2 `book` ALGO/USD (snapshot and update, checksummed). Each
 * iteration handles the whole recording, the snapshot included, so the
 * numbers are per recording; divide by the messages (logged once) for one.
 *
 * Run: `deno bench -A bench/venue_parse_bench.ts`
 * @module
 */

import { OKX_PROTOCOL } from "../lib/ingest/venues/okx_protocol.ts";
import { BYBIT_PROTOCOL } from "../lib/ingest/venues/bybit_protocol.ts";
import { KRAKEN_PROTOCOL } from "../lib/ingest/venues/kraken_protocol.ts";
import type { VenueProtocol } from "../lib/ingest/venues/venue_protocol.ts";
import { VenueSyncResult } from "../lib/ingest/venues/venue_protocol.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** The recording's lines as flat strings (as a WebSocket message is). */
function recording(file: string): string[] {
  const text = Deno.readTextFileSync(
    new URL(`../tests/testdata/exchanges/${file}`, import.meta.url),
  );
  return text.split("\n").filter((l) => l.trim() !== "").map((l) =>
    DECODER.decode(ENCODER.encode(l))
  );
}

interface Case {
  name: string;
  protocol: VenueProtocol;
  symbol: string;
  lines: string[];
}

const CASES: Case[] = [
  {
    name: "okx books BTC-USDT",
    protocol: OKX_PROTOCOL,
    symbol: "BTC-USDT",
    lines: recording("okx_books_btcusdt.jsonl"),
  },
  {
    name: "bybit orderbook.500 XRPUSDT",
    protocol: BYBIT_PROTOCOL,
    symbol: "XRPUSDT",
    lines: recording("bybit_linear_orderbook500_xrpusdt.jsonl"),
  },
  {
    name: "kraken book ALGO/USD",
    protocol: KRAKEN_PROTOCOL,
    symbol: "ALGO/USD",
    lines: recording("kraken_v2_book_algousd.jsonl"),
  },
];

for (const c of CASES) {
  const sync = c.protocol.createSync({ symbols: [c.symbol], bookCapacity: 1000 });
  // Every message of the recording must apply (or be a control message) on each pass.
  let chars = 0;
  for (const line of c.lines) {
    chars += line.length;
    const r = sync.handle(line, 0);
    if (r !== VenueSyncResult.Applied && r !== VenueSyncResult.Control) {
      throw new Error(
        `${c.name}: a recorded message was not applied (result ${r}, reason ${sync.reason})`,
      );
    }
  }
  console.log(`${c.name}: ${c.lines.length} messages, ${chars} characters per iteration`);
  Deno.bench({
    name: `${c.name}: VenueSync.handle (parse, sequence, book, checksum)`,
    group: c.name,
    baseline: true,
    fn() {
      for (let i = 0; i < c.lines.length; i++) sync.handle(c.lines[i], 0);
    },
  });
  Deno.bench({
    name: `${c.name}: JSON.parse only`,
    group: c.name,
    fn() {
      for (let i = 0; i < c.lines.length; i++) JSON.parse(c.lines[i]);
    },
  });
}
