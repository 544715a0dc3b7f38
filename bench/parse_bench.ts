/**
 * Partial-book parsing speed: the fast scanner ({@link DepthParser}) against
 * `JSON.parse` + `parseFloat` filling the same slot (the baseline), on the
 * recorded depth20/depth5 frames and on realistic generated depth20 frames
 * (20 levels a side, 8-decimal strings), plus the diff-event parser on the
 * recorded diff frames.
 *
 * Run: `deno bench -A bench/parse_bench.ts`
 * @module
 */

import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_EVENT_TIME,
  BOOK_LAST_UPDATE_ID,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { DepthParser } from "../lib/ingest/depth_parser.ts";
import { DiffEvent } from "../lib/ingest/diff_event.ts";
import { DiffParser } from "../lib/ingest/diff_parser.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { SymbolTable } from "../lib/ingest/symbol_table.ts";
import { recordedLines, type RecordedStream } from "../testing/recorded_data.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/**
 * A flat copy of `text`, as a WebSocket message is (decoded from the frame's
 * bytes). `split` yields sliced strings and template literals cons-strings,
 * which V8 reads through an indirection; they would distort the comparison.
 */
function flat(text: string): string {
  return DECODER.decode(ENCODER.encode(text));
}

function lines(name: RecordedStream): string[] {
  return recordedLines(name).map(flat);
}

const recorded = [...lines("spot_depth20.jsonl"), ...lines("spot_depth20_reconstructed.jsonl")];

/** Deterministic generator (xorshift32) so runs are comparable. */
let seed = 0x9e3779b9;
function rand(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

function generated(symbol: string, mid: number, id: number): string {
  const tick = 0.01;
  const bids: string[] = [];
  const asks: string[] = [];
  let p = Math.round(mid / tick) * tick;
  for (let i = 0; i < 20; i++) {
    p -= tick * (1 + Math.floor(rand() * 3));
    bids.push(`["${p.toFixed(8)}","${(rand() ** 3 * 5).toFixed(8)}"]`);
  }
  p = Math.round(mid / tick) * tick;
  for (let i = 0; i < 20; i++) {
    p += tick * (1 + Math.floor(rand() * 3));
    asks.push(`["${p.toFixed(8)}","${(rand() ** 3 * 5).toFixed(8)}"]`);
  }
  return `{"stream":"${symbol}@depth20@100ms","data":{"lastUpdateId":${id},"bids":[${
    bids.join(",")
  }],"asks":[${asks.join(",")}]}}`;
}

const symbols = new SymbolTable([
  "btcusdt",
  "ethusdt",
  "flmusdt",
  "trxusdt",
  "eosusdt",
  "bnbusdt",
]);
const synthetic: string[] = [];
for (let i = 0; i < 64; i++) {
  synthetic.push(
    flat(generated(i % 2 ? "btcusdt" : "ethusdt", i % 2 ? 60650.12 : 3012.5, 1e10 + i)),
  );
}
const frames = [...recorded, ...synthetic];
const depth20Only = [recorded[0], recorded[recorded.length - 1], ...synthetic];

const layout = new BookSlotLayout(20);
const f64 = new Float64Array(layout.slotWords * 16);
const parser = new DepthParser(symbols, { layout });

interface Payload {
  lastUpdateId?: number;
  u?: number;
  E?: number;
  bids?: [string, string][];
  asks?: [string, string][];
  b?: [string, string][];
  a?: [string, string][];
}

/** The straightforward way: JSON.parse the frame, parseFloat every string. */
function baselineParse(text: string, out: Float64Array, base: number): number {
  const msg = JSON.parse(text) as { stream?: string; data?: Payload };
  const data = msg.data;
  if (typeof msg.stream !== "string" || data === undefined) return RejectReason.Malformed;
  const id = symbols.idOf(msg.stream);
  if (id < 0) return RejectReason.UnknownStream;
  const bids = data.bids ?? data.b ?? [];
  const asks = data.asks ?? data.a ?? [];
  if (bids.length > layout.levels || asks.length > layout.levels) {
    return RejectReason.TooManyLevels;
  }
  out[base + BOOK_SYMBOL_ID] = id;
  out[base + BOOK_LAST_UPDATE_ID] = data.lastUpdateId ?? data.u ?? NaN;
  out[base + BOOK_EVENT_TIME] = data.E ?? NaN;
  out[base + BOOK_BID_COUNT] = bids.length;
  out[base + BOOK_ASK_COUNT] = asks.length;
  for (let i = 0; i < bids.length; i++) {
    out[base + layout.bidPrice(i)] = parseFloat(bids[i][0]);
    out[base + layout.bidSize(i)] = parseFloat(bids[i][1]);
  }
  for (let i = 0; i < asks.length; i++) {
    out[base + layout.askPrice(i)] = parseFloat(asks[i][0]);
    out[base + layout.askSize(i)] = parseFloat(asks[i][1]);
  }
  return RejectReason.Ok;
}

function check(code: number): void {
  if (code !== RejectReason.Ok) throw new Error(`frame rejected with code ${code}`);
}

Deno.bench({
  name: "JSON.parse + parseFloat, all frames",
  group: "all",
  baseline: true,
  fn() {
    for (let i = 0; i < frames.length; i++) check(baselineParse(frames[i], f64, (i & 15) * 88));
  },
});

Deno.bench({
  name: "DepthParser, all frames",
  group: "all",
  fn() {
    for (let i = 0; i < frames.length; i++) {
      check(parser.parse(frames[i], f64, (i & 15) * layout.slotWords));
    }
  },
});

Deno.bench({
  name: "JSON.parse + parseFloat, depth20 (20 levels a side)",
  group: "depth20",
  baseline: true,
  fn() {
    for (let i = 0; i < depth20Only.length; i++) {
      check(baselineParse(depth20Only[i], f64, (i & 15) * layout.slotWords));
    }
  },
});

Deno.bench({
  name: "DepthParser, depth20 (20 levels a side)",
  group: "depth20",
  fn() {
    for (let i = 0; i < depth20Only.length; i++) {
      check(parser.parse(depth20Only[i], f64, (i & 15) * layout.slotWords));
    }
  },
});

// Floors: what merely reading every char of the depth20 frames costs, by
// charCodeAt on the string or by copying to bytes (encodeInto) and reading
// those. The parser cannot beat the cheaper of the two.
const scanBytes = new Uint8Array(64 * 1024);
let scanSink = 0;

Deno.bench({
  name: "floor: charCodeAt over every char, depth20",
  group: "depth20",
  fn() {
    for (let f = 0; f < depth20Only.length; f++) {
      const text = depth20Only[f];
      let h = 0;
      for (let i = 0; i < text.length; i++) h = (h + text.charCodeAt(i)) | 0;
      scanSink ^= h;
    }
  },
});

Deno.bench({
  name: "floor: encodeInto + read every byte, depth20",
  group: "depth20",
  fn() {
    for (let f = 0; f < depth20Only.length; f++) {
      const n = ENCODER.encodeInto(depth20Only[f], scanBytes).written;
      let h = 0;
      for (let i = 0; i < n; i++) h = (h + scanBytes[i]) | 0;
      scanSink ^= h;
    }
  },
});

addEventListener("unload", () => {
  if (scanSink === 42) console.log(scanSink); // keeps the floor loops' results alive
});

const diffFrames = [...lines("spot_diff.jsonl"), ...lines("futures_diff.jsonl")];
const diffSymbols = new SymbolTable(["nknusdt", "blzeth", "lrcbtc", "runeeur", "sushiusdt"]);
const diffParser = new DiffParser(diffSymbols);
const event = new DiffEvent();

Deno.bench({
  name: "JSON.parse + parseFloat, diff events",
  group: "diff",
  baseline: true,
  fn() {
    for (let i = 0; i < diffFrames.length; i++) {
      const msg = JSON.parse(diffFrames[i]) as { data: Payload & { U: number } };
      const b = msg.data.b ?? [];
      for (let k = 0; k < b.length; k++) {
        event.bidPrices[k] = parseFloat(b[k][0]);
        event.bidSizes[k] = parseFloat(b[k][1]);
      }
      const a = msg.data.a ?? [];
      for (let k = 0; k < a.length; k++) {
        event.askPrices[k] = parseFloat(a[k][0]);
        event.askSizes[k] = parseFloat(a[k][1]);
      }
      event.firstUpdateId = msg.data.U;
    }
  },
});

Deno.bench({
  name: "DiffParser, diff events",
  group: "diff",
  fn() {
    for (let i = 0; i < diffFrames.length; i++) check(diffParser.parse(diffFrames[i], event));
  },
});

console.log(
  `frames per iteration: all=${frames.length}, depth20=${depth20Only.length}, diff=${diffFrames.length}; ` +
    `mean depth20 frame ${
      Math.round(depth20Only.reduce((n, f) => n + f.length, 0) / depth20Only.length)
    } chars`,
);
