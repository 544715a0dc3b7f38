// The bars live on the main thread: a restart of the analytics worker in the
// middle of a bar loses nothing of them, and every frame the main thread
// delivers is folded exactly once. The whole service runs for real (sim
// exchange → ingest worker → analytics worker → main); the bars are checked
// against the plain reference (tests/fixtures/bar_reference.ts) computed from
// the frames actually delivered, through the route as a client gets them.
// Every wait is for a condition; its timeout only guards against a hang.
//
// (Writing it found that a killed analytics worker went on producing next to
// its replacement; worker leases fixed that: tests/worker_lease_test.ts.)
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { type Service, startService } from "../main.ts";
import { MAIN_DELIVERED } from "../lib/pipeline/pipeline_counters.ts";
import {
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
} from "../lib/pipeline/frame_slot.ts";
import { ACC_FRAMES, ACC_INDEX } from "../lib/analytics/mid_bars.ts";
import { BAR_RESOLUTIONS, type BarResolution } from "../lib/server/bar_store.ts";
import { assertMatches, referenceBars, type RefFrame } from "./fixtures/bar_reference.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function refFrame(f64: Float64Array, base: number): RefFrame {
  return {
    time: f64[base + FRAME_RECEIVE_TIME],
    mid: f64[base + FRAME_MID],
    spreadBps: f64[base + FRAME_SPREAD_BPS],
    imbalance: f64[base + FRAME_IMBALANCE_5],
    ofi: f64[base + FRAME_OFI],
  };
}

/** Every frame delivered per symbol: those in the history already, then each one stored. */
function record(s: Service): RefFrame[][] {
  const frames: RefFrame[][] = s.state.symbols.map(() => []);
  s.state.symbols.forEach((_, id) => {
    // The history still holds every frame delivered so far (fewer than its depth).
    assert.equal(
      s.state.bars.folded(id),
      s.state.history.size(id),
      "no frame left the history yet",
    );
    assert.ok(s.state.history.size(id) < s.state.history.depth);
    s.state.history.forEach(id, (f64, base) => frames[id].push(refFrame(f64, base)));
  });
  s.state.history.subscribe((id, f64, base) => frames[id].push(refFrame(f64, base)));
  return frames;
}

Deno.test("bars survive an analytics worker restart mid-bar; each delivered frame folded once", async () => {
  const config = parseConfig([
    "--source=sim",
    "--port=0",
    "--symbols=btcusdt,ethusdt",
    "--sim-rate=20",
  ]);
  const s = await startService(config, {
    log: quiet,
    hungMs: 15_000,
    backoffBaseMs: 20,
    backoffCapMs: 200,
  });
  try {
    const frames = record(s);
    const bars = s.state.bars;
    const openBar = (id: number) => bars.read(id, "10s", 1).accumulator;
    const nowIndex = () => Math.floor(Date.now() / 10_000);
    // Mid-bar: the open 10 s bar of symbol 0 is the current one and holds frames.
    await until("a bar with frames open now", () => {
      const acc = openBar(0);
      return acc[ACC_FRAMES] >= 3 && acc[ACC_INDEX] === nowIndex();
    });
    const killedIn = openBar(0)[ACC_INDEX];
    const before = bars.folded(0);
    s.supervisor.kill("analytics");
    await until("analytics running again", () => s.supervisor.state("analytics") === "running");
    await until("frames after the restart", () => bars.folded(0) >= before + 10);
    // The bar of the restart is closed by a frame of a later bar (stored, quantised).
    await until("a frame in a bar after the restart's", () => {
      const b = bars.read(0, "10s", 360);
      return b.time.some((t, k) => t > killedIn * 10_000 && b.frames[k] === 1);
    });
    assert.equal(s.supervisor.restarts("analytics"), 1);

    // Read the route and the frames in the same turn: no frame arrives in between.
    const reads = await Promise.all(
      (["10s", "1m"] as BarResolution[]).flatMap((resolution) =>
        s.state.symbols.map((symbol) =>
          fetch(new URL(`/api/history?symbol=${symbol}&resolution=${resolution}`, s.url))
            .then((r) => r.json())
        )
      ),
    );
    // The route read "now" when it answered; re-read synchronously for the reference.
    for (const resolution of ["10s", "1m"] as BarResolution[]) {
      const { intervalMs, capacity } = BAR_RESOLUTIONS[resolution];
      for (let id = 0; id < s.state.symbols.length; id++) {
        const now = Date.now();
        const series = bars.read(id, resolution, capacity, now);
        const ref = referenceBars(frames[id], intervalMs, now);
        assertMatches(series, ref, capacity, `${s.state.symbols[id]} ${resolution}`);
        assert.equal(bars.folded(id), frames[id].length, "every delivered frame folded, once");
        const c = s.state.counters;
        assert.equal(bars.folded(id), c.load(c.mainSymbol(id, MAIN_DELIVERED)));
      }
    }
    for (const body of reads) {
      const least = body.resolution === "10s" ? 2 : 1;
      assert.ok(body.time.length >= least, `${body.symbol} ${body.resolution}: bars`);
      assert.ok(body.close.every((v: number | null) => v !== null && v > 0), "closes known");
      assert.equal(body.partial, true);
      assert.ok(body.seq > 0);
    }
    const restartBar = bars.read(0, "10s", 360).time.indexOf(killedIn * 10_000);
    assert.ok(restartBar >= 0, "the bar of the restart is kept");
  } finally {
    await s.close();
  }
});
