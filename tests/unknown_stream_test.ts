/**
 * A frame of a stream the connection did not subscribe to is rejected as
 * `unknown_stream` (RejectReason.UnknownStream, the `reason` label of
 * `depthwatch_frames_rejected_by_reason_total`): `flmusdt@depth5@100ms` or
 * `flmusdt@depth20` (the 1000 ms stream) on a `@depth20@100ms` subscription,
 * `nknusdt@depth` on a `@depth@100ms` one. The real parsers on recorded
 * Binance frames, then the real Ingestor over a real socket to a test-only
 * WebSocket server (the simulated exchange only sends what was subscribed).
 */
import assert from "node:assert/strict";
import { DepthParser } from "../lib/ingest/depth_parser.ts";
import { DiffParser } from "../lib/ingest/diff_parser.ts";
import { DiffEvent } from "../lib/ingest/diff_event.ts";
import { SymbolTable } from "../lib/ingest/symbol_table.ts";
import { Ingestor } from "../lib/ingest/ingestor.ts";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import {
  INGEST_ACCEPTED,
  INGEST_RECEIVED,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import { REJECT_REASON_NAMES, RejectReason } from "../lib/pipeline/reject_reason.ts";
import { recordedLines } from "../testing/recorded_data.ts";

const partial = recordedLines("spot_depth20.jsonl");
/** flmusdt@depth20@100ms and flmusdt@depth5@100ms, as recorded. */
const FLM_DEPTH20 = partial[0];
const FLM_DEPTH5 = partial.find((l) => l.startsWith('{"stream":"flmusdt@depth5@100ms"'))!;
/** The same depth20 book renamed to the 1000 ms stream, and one update later. */
const FLM_DEPTH20_1000MS = FLM_DEPTH20.replace("flmusdt@depth20@100ms", "flmusdt@depth20");
const FLM_DEPTH20_NEXT = FLM_DEPTH20.replace(
  /"lastUpdateId":(\d+)/,
  (_, id) => `"lastUpdateId":${Number(id) + 1}`,
);
const diffs = recordedLines("spot_diff.jsonl");
/** nknusdt@depth@100ms as recorded, and renamed to the 1000 ms stream. */
const NKN_DIFF = diffs[0];
const NKN_DIFF_1000MS = NKN_DIFF.replace("nknusdt@depth@100ms", "nknusdt@depth");

Deno.test("the partial-book parser rejects streams other than the subscribed one", () => {
  assert.ok(FLM_DEPTH5 !== undefined);
  const layout = new BookSlotLayout(20);
  const f64 = new Float64Array(layout.slotWords);
  const table = new SymbolTable(["flmusdt", "btcusdt"]);
  const strict = new DepthParser(table, { layout, subscribedSuffix: "@depth20@100ms" });
  assert.equal(strict.parse(FLM_DEPTH20, f64, 0), RejectReason.Ok);
  assert.equal(strict.parse(FLM_DEPTH5, f64, 0), RejectReason.UnknownStream);
  assert.equal(strict.parse(FLM_DEPTH20_1000MS, f64, 0), RejectReason.UnknownStream);
  const depth10 = FLM_DEPTH20.replace("@depth20@100ms", "@depth10@100ms");
  assert.equal(strict.parse(depth10, f64, 0), RejectReason.UnknownStream);
  // an escaped stream name is compared after decoding
  const escaped = FLM_DEPTH20.replace("flmusdt@depth20@100ms", "flmusdt\\u0040depth20@100ms");
  assert.equal(strict.parse(escaped, f64, 0), RejectReason.Ok);
  // a raw /ws/ message names no stream: nothing to compare
  const raw = JSON.stringify(JSON.parse(FLM_DEPTH20).data);
  assert.equal(strict.parse(raw, f64, 0, 0), RejectReason.Ok);
  // without a subscribed suffix any partial stream is accepted (replays of recorded frames)
  const lenient = new DepthParser(table, { layout });
  assert.equal(lenient.parse(FLM_DEPTH5, f64, 0), RejectReason.Ok);
});

Deno.test("the diff parser rejects streams other than the subscribed one", () => {
  const ev = new DiffEvent();
  const table = new SymbolTable(["nknusdt"]);
  const strict = new DiffParser(table, "@depth@100ms");
  assert.equal(strict.parse(NKN_DIFF, ev), RejectReason.Ok);
  assert.equal(strict.parse(NKN_DIFF_1000MS, ev), RejectReason.UnknownStream);
  assert.equal(new DiffParser(table).parse(NKN_DIFF_1000MS, ev), RejectReason.Ok);
});

/** A test-only exchange: the first connection gets `messages`, in order; later ones nothing. */
function foreignStreamServer(messages: string[]) {
  const urls: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    urls.push(req.url);
    const first = urls.length === 1;
    socket.onopen = () => {
      if (first) { for (const m of messages) socket.send(m); }
    };
    return response;
  });
  return { urls, url: `ws://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function ingestFrom(
  stream: "depth20" | "diff",
  symbol: string,
  messages: string[],
): Promise<{ url: string; received: number; accepted: number; rejected: number[] }> {
  const server = foreignStreamServer(messages);
  const layout = new BookSlotLayout(20);
  const rawRing = SpscRing.create({ capacity: 64, slotBytes: layout.slotBytes });
  const counters = PipelineCounters.create(2);
  const ingestor = new Ingestor({
    symbols: [symbol],
    rawRing,
    counters,
    wsUrl: server.url,
    restUrl: "http://127.0.0.1:9", // diff mode: snapshots fail; events still parse
    stream,
    staleMs: 60_000,
    log: { warn() {}, error() {} },
  });
  const c = counters;
  const rows = [0, 1]; // the symbol, and the row of frames naming no trusted symbol
  const received = () => rows.reduce((n, r) => n + c.load(c.ingestSymbol(r, INGEST_RECEIVED)), 0);
  try {
    ingestor.start();
    await until(`${messages.length} frames received`, () => received() >= messages.length);
  } finally {
    await ingestor.stop();
    await server.close();
  }
  const rejected = REJECT_REASON_NAMES.map((_, r) =>
    r === 0 ? 0 : rows.reduce((n, row) => n + c.load(c.rejected(row, r)), 0)
  );
  return {
    url: server.urls[0],
    received: received(),
    accepted: c.load(c.ingestSymbol(0, INGEST_ACCEPTED)),
    rejected,
  };
}

Deno.test("depth20 ingest: a foreign stream on the connection is counted as unknown_stream", async () => {
  const r = await ingestFrom("depth20", "flmusdt", [
    FLM_DEPTH20,
    FLM_DEPTH5,
    FLM_DEPTH20_1000MS,
    FLM_DEPTH20_NEXT,
  ]);
  assert.ok(r.url.endsWith("streams=flmusdt@depth20@100ms"), r.url);
  assert.equal(r.received, 4);
  assert.equal(r.accepted, 2);
  const expected = REJECT_REASON_NAMES.map((_, i) => i === RejectReason.UnknownStream ? 2 : 0);
  assert.deepEqual(r.rejected, expected);
});

Deno.test("diff ingest: the 1000 ms diff stream on a 100 ms subscription is unknown_stream", async () => {
  const r = await ingestFrom("diff", "nknusdt", [NKN_DIFF_1000MS]);
  assert.ok(r.url.endsWith("streams=nknusdt@depth@100ms"), r.url);
  assert.equal(r.rejected[RejectReason.UnknownStream], 1);
});
