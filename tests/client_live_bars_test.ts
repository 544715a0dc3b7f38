// The browser's bars (lib/client/live_bars.ts, lib/client/bar_feed.ts): loaded
// from a server answer and kept current by folding live frames with the
// server's definition, they match the plain reference computed from all the
// frames; a missed frame is a gap that refetches.
import assert from "node:assert/strict";
import { BarStore } from "../lib/server/bar_store.ts";
import { type BarsAnswer, LiveBars } from "../lib/client/live_bars.ts";
import { BarFeed } from "../lib/client/bar_feed.ts";
import { SeriesBuffer } from "../lib/client/chart_data.ts";
import { DashboardStore } from "../lib/client/dashboard_store.ts";
import { buildSeed } from "../lib/client/dashboard_seed.ts";
import { emptyDashFrame } from "../lib/client/dash_frame.ts";
import {
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import {
  BOUNDS,
  generateFrames,
  near,
  referenceBars,
  type RefFrame,
} from "./fixtures/bar_reference.ts";

function serverFold(store: BarStore, frames: RefFrame[]): void {
  const f = new Float64Array(new FrameSlotLayout({ levels: 5 }).slotWords).fill(NaN);
  f[0] = 0;
  for (const x of frames) {
    f[FRAME_RECEIVE_TIME] = x.time;
    f[FRAME_MID] = x.mid;
    f[FRAME_SPREAD_BPS] = x.spreadBps;
    f[FRAME_IMBALANCE_5] = x.imbalance;
    f[FRAME_OFI] = x.ofi;
    store.fold(f, 0);
  }
}

/** What the route answers, through JSON (NaN → null). */
function answerOf(store: BarStore, resolution: "10s" | "1m", now: number): BarsAnswer {
  const s = store.read(0, resolution, undefined, now);
  return JSON.parse(JSON.stringify({ ...s, seq: store.folded(0) }));
}

/** The bars `fill` drew: each bar is a pair of points, its start first. */
function drawn(bars: LiveBars, column: "close" | "spreadBps" | "ofi", now: number) {
  const out = new SeriesBuffer();
  const n = bars.fill(column, out, now);
  const byTime = new Map<number, number>();
  for (let k = 0; k + 1 < n; k += 2) {
    const start = Math.round(now + out.data[k].x * 1000);
    assert.ok(Object.is(out.data[k].y, out.data[k + 1].y), "a bar is flat over its interval");
    byTime.set(start, out.data[k].y);
  }
  return byTime;
}

Deno.test("live bars: a server answer, then live frames folded in the browser, match the reference", () => {
  for (
    const [resolution, intervalMs, capacity] of [["10s", 10_000, 360], [
      "1m",
      60_000,
      1440,
    ]] as const
  ) {
    const frames = generateFrames(21, 40_000, 100, 10 * 60_000);
    const split = 25_000;
    const store = new BarStore({ symbols: 1 });
    serverFold(store, frames.slice(0, split));
    const bars = new LiveBars(intervalMs, capacity);
    bars.load(answerOf(store, resolution, frames[split - 1].time));
    assert.equal(bars.seq, split);
    for (let k = split; k < frames.length; k++) {
      const x = frames[k];
      assert.equal(bars.fold(k + 1, x.time, x.mid, x.spreadBps, x.imbalance, x.ofi), "folded");
    }
    const now = frames[frames.length - 1].time + 5_000;
    const ref = referenceBars(frames, intervalMs, now);
    const from = now - capacity * intervalMs;
    for (const column of ["close", "spreadBps", "ofi"] as const) {
      const got = drawn(bars, column, now);
      let checked = 0;
      for (const b of ref) {
        if (b.time + intervalMs <= from) continue;
        const start = Math.max(b.time, from);
        assert.ok(got.has(start), `${resolution} ${column}: a bar at ${start}`);
        const want = b[column];
        // Bars of the answer are quantised; bars closed in the browser are exact.
        const tol = column === "close"
          ? Math.abs(want) * BOUNDS.close
          : Math.abs(want) * BOUNDS.bf16 + 1e-6;
        near(got.get(start)!, want, tol, `${resolution} ${column} of the bar at ${start}`);
        checked++;
      }
      assert.ok(checked > 5, `${checked} bars checked`);
    }
  }
});

Deno.test("live bars: frames the server folded are skipped, a missing one is a gap", () => {
  const bars = new LiveBars(10_000, 360);
  const store = new BarStore({ symbols: 1 });
  const frames = generateFrames(3, 10, 100, 1000);
  serverFold(store, frames);
  bars.load(answerOf(store, "10s", frames[9].time));
  assert.equal(bars.fold(10, frames[9].time, 1, 1, 0, 0), "old");
  assert.equal(bars.fold(12, frames[9].time, 1, 1, 0, 0), "gap");
  assert.equal(bars.fold(11, frames[9].time, 1, 1, 0, 0), "folded");
  assert.equal(bars.openFrames, store.read(0, "10s", 1, frames[9].time).accumulator[11] + 1);
});

Deno.test("bar feed: fetches the bars, follows the store's frames, refetches on a gap", async () => {
  let queue: (() => void)[] = [];
  const tick = () => {
    const q = queue;
    queue = [];
    for (const cb of q) cb();
  };
  const dash = new DashboardStore(
    buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }),
    { scheduler: { requestFrame: (cb) => queue.push(() => cb(0)), cancelFrame: () => {} } },
  );
  const server = new BarStore({ symbols: 1 });
  const frames = generateFrames(8, 60, 100, 1000);
  serverFold(server, frames.slice(0, 20));
  const urls: string[] = [];
  const fakeFetch = (url: string | URL | Request) => {
    urls.push(String(url));
    return Promise.resolve(Response.json(answerOf(server, "10s", frames[30].time)));
  };
  const feed = new BarFeed({
    store: dash,
    symbol: "BTCUSDT",
    resolution: "10s",
    fetch: fakeFetch as typeof fetch,
    retryMs: 1,
  });
  let changes = 0;
  feed.onChange(() => changes++);
  const live = (k: number) => {
    const f = emptyDashFrame("BTCUSDT");
    Object.assign(f, frames[k], { seq: k + 1, imbalance5: frames[k].imbalance });
    dash.ingest(f);
  };
  for (let k = 15; k < 22; k++) live(k); // the ring overlaps the answer (seq 20)
  feed.start();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(urls, ["/api/history?symbol=BTCUSDT&resolution=10s"]);
  assert.equal(feed.state, "ready");
  assert.equal(feed.bars.seq, 22, "frames 21 and 22 folded from the ring, 16–20 skipped");
  live(22);
  tick();
  assert.equal(feed.bars.seq, 23);
  assert.ok(changes >= 2);
  // Frames 24..30 never reach the page: frame 31 is a gap, the bars are fetched again
  // (the server has folded them all by then).
  serverFold(server, frames.slice(20, 31));
  live(30);
  tick();
  assert.equal(feed.state, "loading");
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(urls.length, 2, "fetched again after the gap, once");
  assert.equal(feed.state, "ready");
  assert.equal(feed.bars.seq, 31);
  feed.close();
  dash.close();
});
