/**
 * Run by `venue_allocation_test.ts` in a child process with `--expose-gc`:
 * replays each venue's recording through its sync many times and prints, as
 * JSON, the heap growth per message after warm-up (0 when `handle`
 * allocates nothing).
 *
 * @module
 */

import { OKX_PROTOCOL } from "../lib/ingest/venues/okx_protocol.ts";
import { KRAKEN_PROTOCOL } from "../lib/ingest/venues/kraken_protocol.ts";
import { BybitProtocol } from "../lib/ingest/venues/bybit_protocol.ts";
import { COINBASE_PROTOCOL } from "../lib/ingest/venues/coinbase_protocol.ts";
import type { VenueSync } from "../lib/ingest/venues/venue_protocol.ts";
import { exchangeLines } from "./venue_reference.ts";

const gc = (globalThis as unknown as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

/** Fresh flat copies of the lines (as a WebSocket delivers them). */
function lines(name: string): string[] {
  return exchangeLines(name).map((l) => JSON.parse(JSON.stringify(l)) as string);
}

function bytesPerMessage(sync: VenueSync, msgs: string[], rounds: number): number {
  const m = msgs.length;
  for (let i = 0; i < rounds; i++) {
    sync.resetAll();
    for (let k = 0; k < m; k++) sync.handle(msgs[k], 0);
  }
  gc!();
  gc!();
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < rounds; i++) {
    sync.resetAll();
    for (let k = 0; k < m; k++) sync.handle(msgs[k], 0);
  }
  const after = Deno.memoryUsage().heapUsed;
  return (after - before) / (rounds * m);
}

const venue = Deno.args[0];
let perMessage: number;
if (venue === "okx") {
  perMessage = bytesPerMessage(
    OKX_PROTOCOL.createSync({ symbols: ["BTC-USDT"] }),
    lines("okx_books_btcusdt.jsonl"),
    400,
  );
} else if (venue === "kraken") {
  perMessage = bytesPerMessage(
    KRAKEN_PROTOCOL.createSync({ symbols: ["ALGO/USD"] }),
    lines("kraken_v2_book_algousd.jsonl"),
    20000,
  );
} else if (venue === "bybit") {
  perMessage = bytesPerMessage(
    new BybitProtocol({ depth: 500 }).createSync({ symbols: ["XRPUSDT"] }),
    lines("bybit_linear_orderbook500_xrpusdt.jsonl"),
    400,
  );
} else if (venue === "coinbase") {
  perMessage = bytesPerMessage(
    COINBASE_PROTOCOL.createSync({ symbols: ["BTC-PERP-INTX"] }),
    lines("coinbase_advanced_trade_level2_frames_partial.jsonl"),
    20000,
  );
} else throw new Error(`unknown venue "${venue}": expected okx, kraken, bybit or coinbase`);
console.log(JSON.stringify({ venue, perMessage }));
