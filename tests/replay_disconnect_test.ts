// Disconnect markers in a replay (issue 15, contract item 4): a recorded
// `<symbol>@disconnect` line is not handed to the parsers; it puts the symbol
// through Connecting, so the ingest resets its book exactly as it did live
// (a restarted exchange's lower update ids are accepted, the next frame is
// flagged resynced), and the symbol is Live again at its next frame. The
// recording is hand-written with lib/record's RecordWriter.
import assert from "node:assert/strict";
import { RecordWriter } from "../lib/record/mod.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { ReplayFeed } from "../lib/ingest/replay_feed.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { runPipeline } from "../testing/replay_pipeline.ts";
import { INGEST_ACCEPTED } from "../lib/pipeline/pipeline_counters.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { FRAME_FLAGS } from "../lib/pipeline/frame_slot.ts";
import { BOOK_FLAG_RESYNCED } from "../lib/pipeline/book_slot.ts";

const T0 = Date.UTC(2026, 11, 2, 12) * 1000;
const quiet = { warn() {}, error() {} };

function depth(symbol: string, id: number): string {
  const bid = (100 + (id % 7)).toFixed(2);
  const ask = (101 + (id % 7)).toFixed(2);
  return `{"stream":"${symbol}@depth20@100ms","data":{"lastUpdateId":${id},"bids":[["${bid}","1.5"]],"asks":[["${ask}","2"]]}}`;
}

const marker = (symbol: string) => `{"stream":"${symbol}@disconnect","generated":true,"data":{}}`;

/**
 * btcusdt: ids 100–102, (marker), then 5–6 of an exchange that restarted;
 * ethusdt runs on without a break (ids 200–204).
 */
function writeRecording(withMarker: boolean): string {
  const dir = Deno.makeTempDirSync();
  const w = new RecordWriter({ dir, venue: "binance", maxBytes: 1 << 30 });
  let t = T0;
  const put = (text: string) => w.append(t += 100_000, text);
  for (let i = 0; i < 3; i++) {
    put(depth("btcusdt", 100 + i));
    put(depth("ethusdt", 200 + i));
  }
  if (withMarker) put(marker("btcusdt"));
  for (let i = 0; i < 2; i++) {
    put(depth("btcusdt", 5 + i));
    put(depth("ethusdt", 203 + i));
  }
  w.close();
  return dir;
}

async function replay(dir: string) {
  const status = ReplayStatus.create();
  const run = runPipeline({
    symbols: ["btcusdt", "ethusdt"],
    ingest: {
      wsUrl: "ws://127.0.0.1:9",
      staleMs: 60_000,
      log: quiet,
      replay: { path: dir, speed: Infinity, status: status.buffer },
    },
  });
  await run.ingestor.replayFinished;
  await run.stop();
  const c = run.counters;
  return {
    frames: run.frames,
    accepted: [0, 1].map((s) => c.load(c.ingestSymbol(s, INGEST_ACCEPTED))),
    stale: c.load(c.rejected(0, RejectReason.StaleUpdateId)),
    unknown: c.load(c.rejected(0, RejectReason.UnknownStream)) +
      c.load(c.rejected(0, RejectReason.Malformed)),
    records: status.get("records"),
  };
}

Deno.test("a disconnect marker resets the symbol's book as live did: the restarted exchange's frames are accepted", async () => {
  const dir = writeRecording(true);
  try {
    const r = await replay(dir);
    assert.equal(r.records, 11, "10 frames and the marker read");
    assert.deepEqual(r.accepted, [5, 5], "every frame of both symbols accepted");
    assert.equal(r.stale, 0);
    assert.equal(r.unknown, 0, "the marker never reached the parser");
    const resynced = r.frames[0].map((f) => (f[FRAME_FLAGS] & BOOK_FLAG_RESYNCED) !== 0);
    assert.deepEqual(resynced, [true, false, false, true, false], "first frame after the reset");
    assert.deepEqual(
      r.frames[1].map((f) => (f[FRAME_FLAGS] & BOOK_FLAG_RESYNCED) !== 0),
      [true, false, false, false, false],
      "the other symbol is not touched",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("control: without the marker the same frames are rejected as stale (the test can fail)", async () => {
  const dir = writeRecording(false);
  try {
    const r = await replay(dir);
    assert.deepEqual(r.accepted, [3, 5]);
    assert.equal(r.stale, 2);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the feed: a marker is not a message; Live → Connecting → Live on the next accepted frame", async () => {
  const dir = writeRecording(true);
  try {
    const states: [number, FeedState][] = [];
    const texts: string[] = [];
    let feed: ReplayFeed | undefined = undefined;
    feed = new ReplayFeed({
      path: dir,
      symbols: ["btcusdt", "ethusdt"],
      speed: Infinity,
      status: ReplayStatus.create(),
      log: quiet,
      onMessage: (text, at) => {
        texts.push(text);
        feed!.noteFrame(text.includes("btcusdt") ? 0 : 1, at);
      },
      onFeedState: (id, state) => states.push([id, state]),
    });
    feed.start();
    await feed.finished;
    assert.equal(texts.length, 10);
    assert.ok(texts.every((t) => !t.includes("@disconnect")));
    assert.deepEqual(states.filter(([id]) => id === 0).map(([, s]) => s), [
      FeedState.Live,
      FeedState.Connecting,
      FeedState.Live,
    ]);
    assert.deepEqual(states.filter(([id]) => id === 1).map(([, s]) => s), [FeedState.Live]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
