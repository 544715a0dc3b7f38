// Diff mode replay: a recording of diff events plus the REST snapshots the
// ingest's tap wrote as tardis `@depthSnapshot` lines seeds every book from the
// recording (no REST request is made, the same snapshots are applied as live), and replays at `max` and at 50x give the same analytics
// frames, bit for bit (diff books are emitted on the recorded clock).
import assert from "node:assert/strict";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { firstDifference, runPipeline } from "../testing/replay_pipeline.ts";
import {
  INGEST_DIFF_SNAPSHOTS_APPLIED,
  INGEST_DIFF_SYNCED,
  INGEST_REST_REQUESTS,
} from "../lib/pipeline/pipeline_counters.ts";
import { BOOK_FLAG_STALE } from "../lib/pipeline/book_slot.ts";
import { FRAME_FLAGS } from "../lib/pipeline/frame_slot.ts";

const SYMBOLS = ["btcusdt", "ethusdt"];
const quiet = { warn() {}, error() {} };

/** Record diff events of the simulated exchange and the REST snapshots the ingest took (its tap records both). */
async function recordDiff(): Promise<{ path: string; applied: number }> {
  const sim = await startSimExchange({ symbols: SYMBOLS, rate: 40, seed: 5 });
  const run = runPipeline({
    symbols: SYMBOLS,
    ingest: { wsUrl: sim.wsUrl, restUrl: sim.restUrl, stream: "diff", staleMs: 60_000, log: quiet },
    record: true,
    policy: "drop-oldest",
    rawCapacity: 16384,
  });
  try {
    await run.until(() =>
      SYMBOLS.every((s) => run.lines.some((l) => l.includes(`{"stream":"${s}@depthSnapshot"`)))
    );
    const n = run.lines.length;
    await run.until(() => run.lines.length >= n + 200);
  } finally {
    await run.stop();
    await sim.close();
  }
  const path = await Deno.makeTempFile({ suffix: ".txt" });
  await Deno.writeTextFile(path, run.lines.join("\n") + "\n");
  const c = run.counters;
  return { path, applied: c.load(c.ingest(INGEST_DIFF_SNAPSHOTS_APPLIED)) };
}

async function replay(path: string, speed: number) {
  const status = ReplayStatus.create();
  const run = runPipeline({
    symbols: SYMBOLS,
    ingest: {
      wsUrl: "ws://127.0.0.1:9",
      restUrl: "http://127.0.0.1:9", // never asked: a request would fail and count as an error
      stream: "diff",
      staleMs: 60_000,
      log: quiet,
      replay: { path, speed, status: status.buffer },
    },
    rawCapacity: 64,
  });
  await run.ingestor.replayFinished;
  await run.stop();
  assert.equal(run.rawRing.stats().dropped, 0);
  const c = run.counters;
  return {
    frames: run.frames,
    status,
    restRequests: c.load(c.ingest(INGEST_REST_REQUESTS)),
    applied: c.load(c.ingest(INGEST_DIFF_SNAPSHOTS_APPLIED)),
    synced: c.load(c.ingest(INGEST_DIFF_SYNCED)),
    debug: [15, 17, 18].map((k) => c.load(c.ingest(k))).join(",") + " rejected " +
      SYMBOLS.map((_, s) =>
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((r) => c.load(c.rejected(s, r))).join("/")
      ).join(" "),
  };
}

Deno.test("diff replay seeds its books from the recorded snapshots and is the same at any speed", async () => {
  const { path, applied } = await recordDiff();
  try {
    const fast = await replay(path, Infinity);
    assert.equal(fast.restRequests, 0, "no REST request in a replay");
    assert.ok(applied >= SYMBOLS.length);
    assert.equal(
      fast.applied,
      applied,
      "every book seeded by the recorded snapshots the live run used",
    );
    assert.equal(fast.synced, SYMBOLS.length, fast.debug);
    assert.equal(fast.status.get("badLines"), 0);
    for (let s = 0; s < SYMBOLS.length; s++) {
      const synced = fast.frames[s].filter((f) => (f[FRAME_FLAGS] & BOOK_FLAG_STALE) === 0);
      assert.ok(synced.length >= 5, `${SYMBOLS[s]}: ${synced.length} synced frames`);
    }
    const paced = await replay(path, 50);
    for (let s = 0; s < SYMBOLS.length; s++) {
      assert.equal(paced.frames[s].length, fast.frames[s].length, `${SYMBOLS[s]} frame count`);
      for (let i = 0; i < fast.frames[s].length; i++) {
        assert.equal(
          firstDifference(fast.frames[s][i], paced.frames[s][i]),
          -1,
          `${SYMBOLS[s]} frame ${i}`,
        );
      }
    }
  } finally {
    await Deno.remove(path);
  }
});
