// Parts of the simulated exchange on their own, driven with explicit clock
// times: options, the frame clock (catch-up and skipping), repeating closes and
// pending stream faults.
import assert from "node:assert/strict";
import { BookModel } from "../lib/sim/book_model.ts";
import { FrameEncoder } from "../lib/sim/frame_encoder.ts";
import { ConnectionSet } from "../lib/sim/sim_connection.ts";
import { FrameTicker } from "../lib/sim/sim_frame_ticker.ts";
import { resolveSimOptions } from "../lib/sim/sim_options.ts";
import { RepeatingCloses } from "../lib/sim/sim_repeating_close.ts";
import { SimCounters } from "../lib/sim/sim_stats.ts";
import { StreamFaults } from "../lib/sim/sim_stream_faults.ts";
import { symbolSpec } from "../lib/sim/symbol_spec.ts";

Deno.test("resolveSimOptions: defaults, and errors naming the option", () => {
  const c = resolveSimOptions();
  assert.deepEqual(c.streams, ["btcusdt", "ethusdt"]);
  assert.deepEqual(
    [c.rate, c.levels, c.hostname, c.port, c.seed, c.maxBufferedBytes, c.weightLimit],
    [10, 20, "127.0.0.1", 0, 1, 8 * 1024 * 1024, 6000],
  );
  assert.equal(c.depthTicks, undefined);
  assert.deepEqual(resolveSimOptions({ symbols: ["SOLUSDT"] }).specs.map((s) => s.symbol), [
    "SOLUSDT",
  ]);
  assert.throws(() => resolveSimOptions({ symbols: [] }), /non-empty array/);
  assert.throws(() => resolveSimOptions({ symbols: ["btcusdt", "BTCUSDT"] }), /must not repeat/);
  assert.throws(() => resolveSimOptions({ rate: -1 }), /rate must be 0\.\.100000/);
  assert.throws(() => resolveSimOptions({ rate: NaN }), /rate must be/);
  assert.throws(() => resolveSimOptions({ levels: 15 }), /levels must be 5, 10 or 20/);
});

function ticker(rate: number, seed = 1) {
  const specs = ["btcusdt", "ethusdt"].map((s) => symbolSpec(s));
  const counters = new SimCounters(specs.map((s) => s.symbol));
  const encoders = specs.map((spec) => new FrameEncoder(new BookModel(spec, { seed })));
  const t = new FrameTicker({
    encoders,
    connections: new ConnectionSet({ symbolCount: specs.length, counters }),
    faults: new StreamFaults(specs.length),
    counters,
    rate,
  }, 0);
  return { t, counters, encoders };
}

Deno.test("frame clock: frames due by elapsed time, at most a second's worth at once", () => {
  const { t, counters, encoders } = ticker(10);
  assert.equal(t.intervalMs, 20);
  t.catchUp(99);
  assert.deepEqual([...counters.framesGenerated], [0, 0], "frame 1 is due at 100 ms");
  t.catchUp(1000);
  assert.deepEqual([...counters.framesGenerated], [10, 10]);
  t.catchUp(5000); // 40 frames due, a burst is at most 10: 30 per symbol are skipped
  assert.deepEqual([...counters.framesGenerated], [20, 20]);
  assert.equal(counters.framesBehindSkipped, 60);
  t.catchUp(5100);
  assert.deepEqual([...counters.framesGenerated], [21, 21], "on time again after the skip");
  assert.deepEqual(encoders.map((e) => e.book.frames), [21, 21]);
  t.step(2, 5100);
  assert.deepEqual([...counters.framesGenerated], [23, 23], "step adds frames whatever the rate");
  t.stop();
  t.catchUp(10_000);
  t.step(5, 10_000);
  assert.deepEqual([...counters.framesGenerated], [23, 23], "a stopped ticker does nothing");
  assert.throws(() => t.step(-1, 0), /non-negative integer, got -1/);
});

Deno.test("frame clock: rate 0 generates frames only from step; the same seed gives the same books", () => {
  const a = ticker(0, 9), b = ticker(0, 9), c = ticker(0, 10);
  assert.equal(a.t.intervalMs, 20);
  a.t.catchUp(60_000);
  assert.deepEqual([...a.counters.framesGenerated], [0, 0]);
  for (const x of [a, b, c]) x.t.step(50, 0);
  const ids = (x: typeof a) => x.encoders.map((e) => e.book.updateId);
  assert.deepEqual(ids(a), ids(b));
  assert.notDeepEqual(ids(a), ids(c));
  assert.equal(a.encoders[0].snapshot(20), b.encoders[0].snapshot(20));
  assert.equal(ticker(100).t.intervalMs, 5, "about 2.5 frames per tick");
  assert.equal(ticker(100_000).t.intervalMs, 2);
});

Deno.test("repeating closes: due every everyMs, at most once per run, until durationMs", () => {
  const closes = new RepeatingCloses();
  const log: string[] = [];
  const target = { closeMatching: (symbol: number, code: number) => log.push(`${symbol}:${code}`) };
  closes.add({ symbol: 1, code: 4001, everyMs: 100, durationMs: 1000 }, 0);
  closes.add({ symbol: -1, code: 1000, everyMs: 300, durationMs: 250 }, 0);
  closes.run(99, target);
  assert.deepEqual(log, []);
  closes.run(100, target);
  closes.run(150, target);
  assert.deepEqual(log, ["1:4001"]);
  closes.run(700, target); // six periods passed: still one close per run
  assert.deepEqual(log, ["1:4001", "1:4001"]);
  assert.equal(closes.size, 1, "the 250 ms one ended before its first close");
  closes.run(1001, target);
  assert.equal(closes.size, 0);
  assert.deepEqual(log, ["1:4001", "1:4001"]);
  closes.add({ symbol: 0, code: 1000, everyMs: 10, durationMs: 100 }, 0);
  closes.clear();
  closes.run(50, target);
  assert.equal(log.length, 2, "clear ends them");
});

Deno.test("stream faults: one symbol or all (-1), counts add up, clear forgets them", () => {
  const f = new StreamFaults(3);
  f.gap(1, 2);
  f.gap(1, 1);
  f.truncate(-1, 2);
  f.truncate(2, 1);
  f.cross(0);
  f.stall(-1, 500);
  f.stall(2, Infinity);
  assert.deepEqual([...f.gapPending], [0, 3, 0]);
  assert.deepEqual([...f.truncatedPending], [2, 2, 3]);
  assert.deepEqual([...f.crossedPending], [1, 0, 0]);
  assert.deepEqual([...f.stallUntil], [500, 500, Infinity]);
  f.cross(-1);
  assert.deepEqual([...f.crossedPending], [1, 1, 1]);
  f.clear();
  for (const a of [f.gapPending, f.truncatedPending, f.crossedPending, f.stallUntil]) {
    assert.deepEqual([...a], [0, 0, 0]);
  }
});
