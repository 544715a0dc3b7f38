// Record and replay: the live pipeline against the simulated exchange with
// every received message written to a tardis-format file, then that file
// replayed through the same ingest and analytics at `max` and at a high
// factor: every analytics frame (all words but the latency stamps) equals the
// live run's, bit for bit, per symbol in order.
import assert from "node:assert/strict";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { firstDifference, runPipeline } from "../testing/replay_pipeline.ts";
import { FRAME_RECEIVE_TIME } from "../lib/pipeline/frame_slot.ts";

const SYMBOLS = ["btcusdt", "ethusdt", "solusdt"];
const quiet = { warn() {}, error() {} };

/** Live run: frames per symbol and the recording's path. */
async function recordLive(frames: number): Promise<{ live: Float64Array[][]; path: string }> {
  const sim = await startSimExchange({ symbols: SYMBOLS, rate: 40, seed: 11 });
  const run = runPipeline({
    symbols: SYMBOLS,
    ingest: { wsUrl: sim.wsUrl, restUrl: sim.restUrl, staleMs: 60_000, log: quiet },
    record: true,
    policy: "drop-oldest",
    rawCapacity: 16384,
  });
  let lines: string[];
  try {
    await run.until(() => run.frames.every((f) => f.length >= frames));
  } finally {
    lines = (await run.stop()).lines;
    await sim.close();
  }
  assert.equal(run.rawRing.stats().dropped, 0, "the live run dropped no frame");
  const path = await Deno.makeTempFile({ suffix: ".txt" });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return { live: run.frames, path };
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
  const { live, path } = await recordLive(60);
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
    await Deno.remove(path);
  }
});

Deno.test("a replay whose frames differ is caught (the comparison can fail)", async () => {
  const { live, path } = await recordLive(20);
  try {
    const text = await Deno.readTextFile(path);
    // Shift one receive time by a microsecond: that frame's receive time and windows change.
    const lines = text.split("\n");
    const k = lines.findIndex((l) => l.includes("ethusdt@depth20"));
    const stamp = lines[k].slice(0, 27);
    const micros = Number(stamp.slice(20, 26));
    const moved = stamp.slice(0, 20) +
      String(micros === 999999 ? micros - 1 : micros + 1).padStart(6, "0") + "Z";
    lines[k] = moved + lines[k].slice(27);
    await Deno.writeTextFile(path, lines.join("\n"));
    const fast = await replay(path, Infinity);
    assert.throws(() => assertSameFrames(live, fast.frames, "max"), /differs at word/);
  } finally {
    await Deno.remove(path);
  }
});
