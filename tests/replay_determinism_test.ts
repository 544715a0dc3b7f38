// Record and replay: the live pipeline against the simulated exchange with
// every received message recorded through the service's recorder (the record
// ring, the Recorder and the RecordWriter: an hour file of zstd blocks), then
// that file replayed through the same ingest and analytics at `max` and at a high
// factor: every analytics frame (all words but the latency stamps) equals the
// live run's, bit for bit, per symbol in order.
import assert from "node:assert/strict";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { firstDifference, runPipeline } from "../testing/replay_pipeline.ts";
import { FRAME_RECEIVE_TIME } from "../lib/pipeline/frame_slot.ts";
import { openRecording, usToIso } from "../lib/record/mod.ts";

const SYMBOLS = ["btcusdt", "ethusdt", "solusdt"];
const quiet = { warn() {}, error() {} };

/** Live run: frames per symbol and the recording's hour file. */
async function recordLive(
  frames: number,
): Promise<{ live: Float64Array[][]; path: string; dir: string }> {
  // One hour file: a run that would cross the hour waits for the next one first.
  const toHour = 3_600_000 - Date.now() % 3_600_000;
  if (toHour < 60_000) await new Promise((r) => setTimeout(r, toHour + 100));
  const dir = await Deno.makeTempDir();
  const sim = await startSimExchange({ symbols: SYMBOLS, rate: 40, seed: 11 });
  const run = runPipeline({
    symbols: SYMBOLS,
    ingest: { wsUrl: sim.wsUrl, restUrl: sim.restUrl, staleMs: 60_000, log: quiet },
    recordDir: dir,
    policy: "drop-oldest",
    rawCapacity: 16384,
  });
  try {
    await run.until(() => run.frames.every((f) => f.length >= frames));
  } finally {
    await run.stop();
    await sim.close();
  }
  assert.equal(run.rawRing.stats().dropped, 0, "the live run dropped no frame");
  const recorded = run.recordRing!.stats();
  assert.equal(recorded.dropped, 0, "the record ring dropped no message");
  assert.equal(recorded.taken, recorded.records, "the recorder took every message");
  const files: string[] = [];
  for await (const e of Deno.readDir(`${dir}/binance`)) {
    for await (const f of Deno.readDir(`${dir}/binance/${e.name}`)) {
      files.push(`${dir}/binance/${e.name}/${f.name}`);
    }
  }
  const data = files.filter((f) => f.endsWith(".dwrec.zst"));
  assert.equal(data.length, 1, `one closed hour file: ${files}`);
  return { live: run.frames, path: data[0], dir };
}

async function replay(
  path: string,
  speed: number,
): Promise<{ frames: Float64Array[][]; status: ReplayStatus }> {
  const status = ReplayStatus.create();
  const run = runPipeline({
    symbols: SYMBOLS,
    ingest: {
      wsUrl: "ws://127.0.0.1:9",
      staleMs: 60_000,
      log: quiet,
      replay: { path, speed, status: status.buffer },
    },
    rawCapacity: 64, // small: at `max` the replay must wait for room instead of dropping
  });
  await run.ingestor.replayFinished;
  await run.stop();
  assert.equal(run.rawRing.stats().dropped, 0, "the replay dropped no frame");
  return { frames: run.frames, status };
}

function assertSameFrames(live: Float64Array[][], replayed: Float64Array[][], what: string): void {
  for (let s = 0; s < SYMBOLS.length; s++) {
    assert.equal(replayed[s].length, live[s].length, `${what}: ${SYMBOLS[s]} frame count`);
    for (let i = 0; i < live[s].length; i++) {
      const at = firstDifference(live[s][i], replayed[s][i]);
      assert.equal(
        at,
        -1,
        `${what}: ${SYMBOLS[s]} frame ${i} differs at word ${at}: live ${live[s][i][at]}, replay ${
          replayed[s][i][at]
        }`,
      );
    }
  }
}

Deno.test("replay at max and at 50x reproduces every live analytics frame bit for bit", async () => {
  const { live, path, dir } = await recordLive(60);
  try {
    for (const f of live) assert.ok(f.length >= 60);
    const fast = await replay(path, Infinity);
    assertSameFrames(live, fast.frames, "max");
    assert.equal(fast.status.get("badLines"), 0);
    assert.equal(fast.status.get("done"), 1);
    const paced = await replay(path, 50);
    assertSameFrames(live, paced.frames, "50x");
    // The clock is the last recorded receive time.
    const last = Math.max(...live.map((f) => f[f.length - 1][FRAME_RECEIVE_TIME]));
    assert.ok(paced.status.get("clockMs") >= last);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a replay whose frames differ is caught (the comparison can fail)", async () => {
  const { live, path, dir } = await recordLive(20);
  try {
    const records: { us: number; text: string }[] = [];
    for await (const r of openRecording(path)) records.push({ us: r.receiveTimeUs, text: r.text });
    // Shift one receive time by a microsecond (staying in order): that frame's receive
    // time and windows change.
    const k = records.findIndex((r) => r.text.includes("ethusdt@depth20"));
    const earlier = k > 0 && records[k - 1].us < records[k].us - 1;
    records[k].us += earlier ? -1 : 1;
    const moved = `${dir}/moved.txt`;
    await Deno.writeTextFile(moved, records.map((r) => `${usToIso(r.us)} ${r.text}\n`).join(""));
    const fast = await replay(moved, Infinity);
    assert.throws(() => assertSameFrames(live, fast.frames, "max"), /differs at word/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
