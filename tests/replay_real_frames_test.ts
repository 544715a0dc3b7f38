// Issue 15, done when: "a recording made from the real frames in the
// repository's test data replays into the same books as the parsers' own tests
// expect". The vendored Binance frames (testing/recorded_data.ts) are written
// with lib/record's RecordWriter into an hour file, replayed through the real
// ingest and analytics, and every book that comes out is compared with the
// frames' own text (parsed the slow way, JSON.parse + Number) and with the
// values depth_parser_test.ts and diff_sync_test.ts assert.
import assert from "node:assert/strict";
import { RecordWriter } from "../lib/record/mod.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { runPipeline } from "../testing/replay_pipeline.ts";
import { recordedJson, recordedLines } from "../testing/recorded_data.ts";
import {
  FRAME_ASK_COUNT,
  FRAME_BID_COUNT,
  FRAME_LAST_UPDATE_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { INGEST_ACCEPTED } from "../lib/pipeline/pipeline_counters.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";

const T0 = Date.UTC(2026, 11, 2, 12) * 1000;
const quiet = { warn() {}, error() {} };
type Level = [number, number];

/** Write `texts` 100 ms apart into one hour file of a new recording directory. */
function record(texts: string[]): string {
  const dir = Deno.makeTempDirSync();
  const w = new RecordWriter({ dir, venue: "binance", maxBytes: 1 << 30 });
  texts.forEach((t, i) => w.append(T0 + i * 100_000, t));
  w.close();
  return `${dir}/binance/2026-12-02/12.dwrec.zst`;
}

async function replay(
  path: string,
  symbols: string[],
  ingest: { stream?: "diff" | "depth20"; levels?: number },
) {
  const run = runPipeline({
    symbols,
    ingest: {
      wsUrl: "ws://127.0.0.1:9",
      restUrl: "http://127.0.0.1:9", // never asked in a replay
      staleMs: 60_000,
      log: quiet,
      ...ingest,
      replay: { path, speed: Infinity, status: ReplayStatus.create().buffer },
    },
  });
  await run.ingestor.replayFinished;
  await run.stop();
  return run;
}

/** The ladder of an analytics frame. */
function ladder(frame: Float64Array, layout: FrameSlotLayout) {
  const bids: Level[] = [], asks: Level[] = [];
  for (let i = 0; i < frame[FRAME_BID_COUNT]; i++) {
    bids.push([frame[layout.bidPrice(i)], frame[layout.bidSize(i)]]);
  }
  for (let i = 0; i < frame[FRAME_ASK_COUNT]; i++) {
    asks.push([frame[layout.askPrice(i)], frame[layout.askSize(i)]]);
  }
  return { lastUpdateId: frame[FRAME_LAST_UPDATE_ID], bids, asks };
}

const levels = (side: [string, string][]): Level[] => side.map(([p, q]) => [Number(p), Number(q)]);

Deno.test("real frames: spot depth20 and depth5 recorded, replayed, every book equals its frame", async () => {
  const frames = [
    ...recordedLines("spot_depth20.jsonl"),
    ...recordedLines("spot_depth20_reconstructed.jsonl"),
  ];
  assert.equal(frames.length, 19); // as depth_parser_test.ts
  const path = record(frames);
  const dir = path.slice(0, path.indexOf("/binance/"));
  try {
    const parsed = frames.map((f) => JSON.parse(f) as { stream: string; data: RawBook });
    const symbols = [...new Set(parsed.map((p) => p.stream.split("@")[0]))];
    for (const depth of [20, 5]) {
      const run = await replay(dir, symbols, { stream: "depth20", levels: depth });
      const layout = new FrameSlotLayout({ levels: depth });
      const expected = parsed.filter((p) => p.stream.includes(`@depth${depth}@`));
      const c = run.counters;
      const accepted = symbols.reduce(
        (n, _, s) => n + c.load(c.ingestSymbol(s, INGEST_ACCEPTED)),
        0,
      );
      assert.equal(accepted, expected.length, `depth${depth}: every frame of that depth accepted`);
      const got = run.frames.flat().map((f) => ladder(f, layout));
      // The analytics frames come per symbol: compare as sets keyed by update id.
      got.sort((a, b) => a.lastUpdateId - b.lastUpdateId);
      const want = expected.map((p) => ({
        lastUpdateId: p.data.lastUpdateId,
        bids: levels(p.data.bids),
        asks: levels(p.data.asks),
      })).sort((a, b) => a.lastUpdateId - b.lastUpdateId);
      assert.deepEqual(got, want, `depth${depth}`);
      if (depth === 20) {
        // depth_parser_test.ts' spot checks.
        const flm = run.frames[symbols.indexOf("flmusdt")].map((f) => ladder(f, layout));
        assert.equal(flm[0].lastUpdateId, 165284515);
        assert.deepEqual(flm[0].bids[0], [0.4856, 2036.02]);
        assert.equal(flm[0].bids.length, 20);
        assert.ok(got.some((b) => b.lastUpdateId === 11655824136));
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

interface RawBook {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

interface RawDiff {
  s: string;
  U: number;
  u: number;
  b: [string, string][];
  a: [string, string][];
}

Deno.test("real frames: spot diffs + the REST snapshot recorded, replayed into the book diff_sync_test.ts expects", async () => {
  const diffs = recordedLines("spot_diff.jsonl");
  const rest = recordedJson("rest_depth.json") as RawBook;
  const symbols = ["nknusdt", "lrcbtc", "blzeth", "runeeur"];
  // As diff_sync_test.ts: the snapshot arrives after NKNUSDT's first event.
  const firstNkn = diffs.findIndex((l) => l.includes('"nknusdt@depth'));
  const snapshot = `{"stream":"nknusdt@depthSnapshot","generated":true,"data":${
    JSON.stringify(rest)
  }}`;
  const texts = [...diffs.slice(0, firstNkn + 1), snapshot, ...diffs.slice(firstNkn + 1)];
  // A last record 1 s later (an unwatched symbol's snapshot) lets the last book be emitted.
  texts.push('{"stream":"xyzusdt@depthSnapshot","generated":true,"data":{}}');
  const path = record(texts);
  try {
    const run = await replay(path, symbols, { stream: "diff", levels: 20 });
    const layout = new FrameSlotLayout({ levels: 20 });
    const c = run.counters;
    assert.equal(
      c.load(c.rejected(0, RejectReason.BeforeSnapshot)),
      1,
      "stale first event dropped",
    );
    assert.equal(c.load(c.ingestSymbol(0, INGEST_ACCEPTED)) > 0, true);
    // A reference book: the snapshot, then every later NKNUSDT event (Map-based).
    const bids = new Map<number, number>(), asks = new Map<number, number>();
    for (const [p, q] of levels(rest.bids)) bids.set(p, q);
    for (const [p, q] of levels(rest.asks)) asks.set(p, q);
    const events = diffs.map((l) => JSON.parse(l).data as RawDiff).filter((d) => d.s === "NKNUSDT");
    assert.equal(events.length, 150);
    const top = (m: Map<number, number>, desc: boolean): Level[] =>
      [...m].sort((a, b) => desc ? b[0] - a[0] : a[0] - b[0]).slice(0, 20);
    // The book right after the snapshot may be emitted too (before the bridging event).
    const books = new Map([[rest.lastUpdateId, { bids: top(bids, true), asks: top(asks, false) }]]);
    for (const e of events.slice(1)) {
      for (const [p, q] of levels(e.b)) q === 0 ? bids.delete(p) : bids.set(p, q);
      for (const [p, q] of levels(e.a)) q === 0 ? asks.delete(p) : asks.set(p, q);
      books.set(e.u, { bids: top(bids, true), asks: top(asks, false) });
    }
    const frames = run.frames[0].map((f) => ladder(f, layout));
    assert.ok(frames.length > 1, `several books emitted (${frames.length})`);
    for (const f of frames) {
      const want = books.get(f.lastUpdateId);
      assert.ok(want, `a book at update id ${f.lastUpdateId} of an applied event`);
      assert.deepEqual({ bids: f.bids, asks: f.asks }, want, `book at ${f.lastUpdateId}`);
    }
    assert.equal(frames.at(-1)!.lastUpdateId, events.at(-1)!.u, "the last book has every event");
    // The other symbols never got a snapshot: no book (as diff_sync_test.ts).
    assert.deepEqual(run.frames.slice(1).map((f) => f.length), [0, 0, 0]);
  } finally {
    Deno.removeSync(path.slice(0, path.indexOf("/binance/")), { recursive: true });
  }
});
