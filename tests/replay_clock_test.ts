// The replay badge's pure parts: the position read from the shared status and
// back from JSON, the browser's replay clock (run forward at the speed,
// capped, frozen at max and once ended), the badge's text, and the store's
// data clock the bar charts end their time axes on (the wall clock live).
import assert from "node:assert/strict";
import fc from "fast-check";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import {
  parseReplayPosition,
  type ReplayPosition,
  replayPosition,
  replayState,
} from "../lib/pipeline/replay_position.ts";
import {
  formatReplayTime,
  formatSpeed,
  MAX_EXTRAPOLATION_MS,
  ReplayClock,
} from "../lib/client/replay_clock.ts";
import { buildSeed } from "../lib/client/dashboard_seed.ts";
import { DashboardStore } from "../lib/client/dashboard_store.ts";
import { emptyDashFrame } from "../lib/client/dash_frame.ts";

const T = Date.parse("2024-03-14T09:00:00Z");

Deno.test("replayPosition reads the status: clock, speed (max for Infinity), state, loops", () => {
  const status = ReplayStatus.create();
  assert.deepEqual(replayPosition(status), {
    clockMs: null,
    speed: null,
    state: "waiting",
    loops: 0,
  });
  status.set("speed", Infinity);
  status.set("clockMs", T + 0.5);
  assert.deepEqual(replayPosition(status), {
    clockMs: T + 0.5,
    speed: "max",
    state: "playing",
    loops: 0,
  });
  status.set("speed", 10);
  status.add("loops", 2);
  assert.deepEqual(replayPosition(status), {
    clockMs: T + 0.5,
    speed: 10,
    state: "looping",
    loops: 2,
  });
  status.set("done", 1);
  assert.equal(replayPosition(status).state, "ended");
  // A replay that ends before its first record is ended, not waiting.
  assert.equal(replayState(NaN, 0, true), "ended");
});

Deno.test("parseReplayPosition accepts what replayPosition writes and nothing malformed", () => {
  const status = ReplayStatus.create();
  status.set("speed", 2.5);
  status.set("clockMs", T);
  const json = JSON.parse(JSON.stringify(replayPosition(status)));
  assert.deepEqual(parseReplayPosition(json), replayPosition(status));
  const good: ReplayPosition = { clockMs: T, speed: 1, state: "playing", loops: 0 };
  for (
    const bad of [
      null,
      42,
      [],
      { ...good, clockMs: "now" },
      { ...good, speed: 0 },
      { ...good, speed: "fast" },
      { ...good, state: "paused" },
      { ...good, loops: -1 },
      { ...good, loops: 1.5 },
      { clockMs: T, speed: 1, state: "playing" },
    ]
  ) assert.equal(parseReplayPosition(bad), null, JSON.stringify(bad));
});

Deno.test("ReplayClock: the wall clock before a report, then the replay clock at its speed", () => {
  const clock = new ReplayClock();
  assert.equal(clock.known, false);
  assert.equal(clock.now(1234), 1234, "nothing reported: live, the wall clock");
  // A report without a clock (the replay has not started) keeps the wall clock.
  clock.observe({ clockMs: null, speed: 10, state: "waiting", loops: 0 }, 0);
  assert.equal(clock.now(1234), 1234);
  assert.equal(clock.speed, 10);
  clock.observe({ clockMs: T, speed: 10, state: "playing", loops: 0 }, 50_000);
  assert.equal(clock.known, true);
  assert.equal(clock.now(50_000), T);
  assert.equal(clock.now(49_000), T, "a wall clock behind the report does not run backwards");
  assert.equal(clock.now(50_700), T + 7_000, "0.7 s of wall time at 10×");
  assert.equal(
    clock.now(50_000 + 60_000),
    T + MAX_EXTRAPOLATION_MS * 10,
    "no report for a minute: the clock stops after MAX_EXTRAPOLATION_MS",
  );
  clock.observe({ clockMs: T + 9_000, speed: 10, state: "ended", loops: 0 }, 51_000);
  assert.equal(clock.now(99_000), T + 9_000, "ended: frozen");
  assert.equal(clock.state, "ended");
  clock.observe({ clockMs: T + 20_000, speed: "max", state: "looping", loops: 3 }, 52_000);
  assert.equal(clock.now(52_900), T + 20_000, "max: the reported time (no pace to run at)");
  assert.equal(clock.speed, Infinity);
  assert.equal(clock.loops, 3);
});

Deno.test("ReplayClock: a report a little behind what was shown is waited for, not stepped back to", () => {
  const clock = new ReplayClock();
  clock.observe({ clockMs: T, speed: 10, state: "playing", loops: 0 }, 0);
  assert.equal(clock.now(1000), T + 10_000);
  // The next report lags by the answer's latency: 0.5 s of replay time behind the shown clock.
  clock.observe({ clockMs: T + 9_500, speed: 10, state: "playing", loops: 0 }, 1000);
  assert.equal(clock.now(1000), T + 10_000, "held, not back to T + 9.5 s");
  assert.equal(clock.now(1030), T + 10_000, "still held: T + 9.8 s would be a step back");
  assert.equal(clock.now(1100), T + 10_500, "then on from the report");
  // A step back larger than HOLD_WALL_MS at the speed is real (a restarted service): shown.
  clock.observe({ clockMs: T, speed: 10, state: "playing", loops: 0 }, 2000);
  assert.equal(clock.now(2000), T);
  // Ended: the reported time even when the clock had run past it.
  clock.observe({ clockMs: T + 5, speed: 10, state: "playing", loops: 0 }, 3000);
  assert.equal(clock.now(3500), T + 5_005);
  clock.observe({ clockMs: T + 4_000, speed: 10, state: "ended", loops: 0 }, 3600);
  assert.equal(clock.now(3600), T + 4_000);
});

Deno.test("ReplayClock: between reports it never runs more than speed × the cap past the report", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.01, max: 1000, noNaN: true }),
      fc.integer({ min: -10_000, max: 100_000 }),
      (speed, waited) => {
        const clock = new ReplayClock();
        clock.observe({ clockMs: T, speed, state: "playing", loops: 0 }, 1_000_000);
        const now = clock.now(1_000_000 + waited);
        return now >= T && now <= T + MAX_EXTRAPOLATION_MS * speed + 1e-6;
      },
    ),
  );
});

Deno.test("formatReplayTime: the recorded UTC date and second; a dash when unknown", () => {
  assert.equal(formatReplayTime(T), "2024-03-14 09:00:00");
  assert.equal(formatReplayTime(T + 59_999), "2024-03-14 09:00:59", "truncated, not rounded");
  assert.equal(formatReplayTime(Date.parse("1999-12-31T23:59:59.999Z")), "1999-12-31 23:59:59");
  assert.equal(formatReplayTime(NaN), "—");
  assert.equal(formatReplayTime(Infinity), "—");
  assert.equal(formatReplayTime(1e17), "—", "beyond the Date range");
});

Deno.test("formatSpeed: 1×, 10×, max, a fraction without trailing zeros, nothing when unknown", () => {
  assert.equal(formatSpeed(1), "1×");
  assert.equal(formatSpeed(10), "10×");
  assert.equal(formatSpeed(Infinity), "max");
  assert.equal(formatSpeed(1.5), "1.5×");
  assert.equal(formatSpeed(2.3333333), "2.33×");
  assert.equal(formatSpeed(0.125), "0.125×");
  assert.equal(formatSpeed(0), "");
  assert.equal(formatSpeed(-1), "");
  assert.equal(formatSpeed(NaN), "");
});

Deno.test("DashboardStore.dataNow: the wall clock live, the replay clock (or a later frame) in a replay", () => {
  // Renders are not this test's subject: frames are asked for and never run.
  const scheduler = { requestFrame: () => 1, cancelFrame: () => {} };
  const store = new DashboardStore(
    buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }),
    { scheduler },
  );
  assert.equal(store.dataNow("BTCUSDT", 5_000), 5_000, "live: unchanged, Date.now()'s value");
  const f = emptyDashFrame("BTCUSDT");
  f.time = T - 60_000;
  store.ingest(f);
  assert.equal(
    store.dataNow("BTCUSDT", 5_000),
    5_000,
    "live: a frame's time does not move the axis",
  );
  store.replayClock.observe({ clockMs: T, speed: 1, state: "playing", loops: 0 }, 5_000);
  assert.equal(store.dataNow("BTCUSDT", 5_500), T + 500, "the replay clock, run on");
  f.time = T + 2_000;
  store.ingest(f); // at max speed frames run ahead of the once-a-second report
  assert.equal(store.dataNow("BTCUSDT", 5_500), T + 2_000, "the newest frame when it is later");
  assert.equal(store.dataNow("ETHUSDT", 5_500), T + 500, "a symbol without frames: the clock");
  // One clock per page store, none at module level.
  assert.notEqual(
    new DashboardStore(buildSeed({ symbols: ["X"], symbol: "X", frames: [] })).replayClock,
    store.replayClock,
  );
});
