import assert from "node:assert/strict";
import fc from "fast-check";
import { AdaptiveProcessor } from "../lib/analytics/adaptive_processor.ts";
import {
  ADAPTIVE_LAST_CHANGE_AT,
  ADAPTIVE_MODE_CHANGES,
  ADAPTIVE_TOTAL_PROCESSED,
  ADAPTIVE_TOTAL_SKIPPED,
  CountedAdaptive,
} from "./fixtures/counted_adaptive.ts";

function times(p: { recordProcessingTime(ms: number): void }, ...ms: number[]): void {
  for (const t of ms) p.recordProcessingTime(t);
}

Deno.test("time driver: enters 1:2 when the average of the last 5 exceeds 100 ms", () => {
  const p = new AdaptiveProcessor({ symbols: 1, capacity: 1024 });
  times(p, 100, 100, 100, 100, 100);
  assert.equal(p.averageMs, 100);
  assert.equal(p.mode, 0, "exactly 100 ms is not above the threshold");
  p.recordProcessingTime(105); // window 100,100,100,100,105 → 101
  assert.equal(p.averageMs, 101);
  assert.equal(p.mode, 1);
  assert.equal(p.timeMode, 1);
  assert.equal(p.lagMode, 0);
});

Deno.test("time driver: only the last 5 times count", () => {
  const p = new AdaptiveProcessor({ symbols: 1, capacity: 1024 });
  times(p, 1000); // a single huge outlier
  assert.equal(p.mode, 2);
  times(p, 0, 0, 0, 0); // average 200 over 5
  assert.equal(p.averageMs, 200);
  assert.equal(p.mode, 2);
  times(p, 0); // the outlier leaves the window
  assert.equal(p.averageMs, 0);
  assert.equal(p.mode, 0);
});

Deno.test("time driver: deepens to 1:3 above 150 ms, steps down to 1:2 between 100 and 150", () => {
  const p = new AdaptiveProcessor({ symbols: 1, capacity: 1024 });
  times(p, 120, 120, 120, 120, 120);
  assert.equal(p.mode, 1);
  times(p, 160, 160, 160, 160, 160);
  assert.equal(p.averageMs, 160);
  assert.equal(p.mode, 2);
  times(p, 150, 150, 150, 150, 150);
  assert.equal(p.mode, 1, "150 is not above 150 but above 100");
});

Deno.test("time driver: hysteresis keeps the mode between 70 and 100 ms, recovers below 70", () => {
  const p = new AdaptiveProcessor({ symbols: 1, capacity: 1024 });
  times(p, 200, 200, 200, 200, 200);
  assert.equal(p.mode, 2);
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    p.recordProcessingTime(80); // averages 176, 152, 128, 104, 80
    seen.push(p.mode);
  }
  assert.equal(p.averageMs, 80);
  assert.deepEqual(seen, [2, 2, 1, 1, 1], "steps down through 1:2, then holds it below 100");
  times(p, 70, 70, 70, 70, 70);
  assert.equal(p.mode, 1, "exactly 70 ms is not below the recovery threshold");
  p.recordProcessingTime(65); // 70,70,70,70,65 → 69
  assert.equal(p.averageMs, 69);
  assert.equal(p.mode, 0);
  times(p, 90, 90, 90, 90, 90);
  assert.equal(p.mode, 0, "between 70 and 100 mode 0 is kept too");
});

Deno.test("time driver: mode 2 is held between 70 and 100 ms when the average lands there", () => {
  const p = new AdaptiveProcessor({ symbols: 1, capacity: 1024, window: 1 });
  times(p, 151);
  assert.equal(p.mode, 2);
  times(p, 99, 70, 85);
  assert.equal(p.mode, 2);
  times(p, 69.9);
  assert.equal(p.mode, 0);
});

Deno.test("time driver: configurable thresholds and window", () => {
  const p = new AdaptiveProcessor({
    symbols: 1,
    capacity: 16,
    slowMs: 1,
    slowerMs: 2,
    recoverMs: 0.5,
    window: 2,
  });
  times(p, 1.5);
  assert.equal(p.mode, 1);
  times(p, 3); // (1.5 + 3) / 2 = 2.25
  assert.equal(p.mode, 2);
  times(p, 0); // (3 + 0) / 2 = 1.5
  assert.equal(p.mode, 1);
  times(p, 0);
  assert.equal(p.mode, 0);
});

Deno.test("lag driver: watermarks at 50%, 80% and 10% of capacity with hysteresis", () => {
  const p = new AdaptiveProcessor({ symbols: 1, capacity: 1000 });
  p.beginBatch(500);
  assert.equal(p.mode, 0, "exactly 50% is not above the high watermark");
  p.beginBatch(501);
  assert.equal(p.mode, 1);
  assert.equal(p.lagMode, 1);
  p.beginBatch(800);
  assert.equal(p.mode, 1);
  p.beginBatch(801);
  assert.equal(p.mode, 2);
  p.beginBatch(600);
  assert.equal(p.mode, 2, "mode 2 is kept above the high watermark");
  p.beginBatch(300);
  assert.equal(p.mode, 2, "and between the watermarks");
  p.beginBatch(100);
  assert.equal(p.mode, 2, "exactly 10% is not below the low watermark");
  p.beginBatch(99);
  assert.equal(p.mode, 0);
  p.beginBatch(400);
  assert.equal(p.mode, 0, "recovering needs the high watermark again");
  p.beginBatch(600);
  assert.equal(p.mode, 1);
  p.beginBatch(200);
  assert.equal(p.mode, 1);
  p.beginBatch(0);
  assert.equal(p.mode, 0);
});

Deno.test("lag driver: configurable watermarks", () => {
  const p = new AdaptiveProcessor({
    symbols: 1,
    capacity: 100,
    lagLow: 0.3,
    lagHigh: 0.6,
    lagHigher: 0.9,
  });
  p.beginBatch(61);
  assert.equal(p.mode, 1);
  p.beginBatch(91);
  assert.equal(p.mode, 2);
  p.beginBatch(30);
  assert.equal(p.mode, 2);
  p.beginBatch(29);
  assert.equal(p.mode, 0);
});

Deno.test("effective mode is the max of the time and lag drivers", () => {
  const p = new AdaptiveProcessor({ symbols: 1, capacity: 100 });
  times(p, 120, 120, 120, 120, 120);
  assert.equal(p.mode, 1);
  p.beginBatch(90);
  assert.equal(p.lagMode, 2);
  assert.equal(p.mode, 2);
  p.beginBatch(0);
  assert.equal(p.lagMode, 0);
  assert.equal(p.mode, 1, "time driver still asks for mode 1");
  times(p, 200, 200, 200, 200, 200);
  p.beginBatch(60);
  assert.equal(p.lagMode, 1);
  assert.equal(p.mode, 2);
  times(p, 1, 1, 1, 1, 1);
  assert.equal(p.timeMode, 0);
  assert.equal(p.mode, 1);
});

Deno.test("mode changes are counted with the time of the last change", () => {
  let clock = 1000;
  const p = new CountedAdaptive({ symbols: 1, capacity: 100, now: () => clock });
  assert.equal(p.modeChanges, 0);
  assert.equal(p.lastModeChangeAt, 0);
  clock = 2000;
  p.beginBatch(60); // 0 → 1
  clock = 3000;
  p.beginBatch(70); // stays 1
  assert.equal(p.modeChanges, 1);
  assert.equal(p.lastModeChangeAt, 2000);
  clock = 4000;
  p.beginBatch(85); // 1 → 2
  clock = 5000;
  times(p, 200); // time driver 2, effective stays 2
  assert.equal(p.modeChanges, 2);
  assert.equal(p.lastModeChangeAt, 4000);
  clock = 6000;
  p.beginBatch(0); // lag 0, time still 2
  assert.equal(p.modeChanges, 2);
  times(p, 0, 0, 0, 0, 0); // 2 → 0
  assert.equal(p.mode, 0);
  assert.equal(p.modeChanges, 3);
  assert.equal(p.lastModeChangeAt, 6000);
  assert.equal(p.counters[ADAPTIVE_MODE_CHANGES], 3);
  assert.equal(p.counters[ADAPTIVE_LAST_CHANGE_AT], 6000);
});

Deno.test("exact skip pattern for a scripted sequence", () => {
  const p = new CountedAdaptive({ symbols: 2, capacity: 100 });
  const decide = (sym: number, newest: boolean) => p.shouldProcess(sym, newest) ? "P" : "S";
  const run = (sym: number, n: number) => {
    let out = "";
    for (let i = 0; i < n; i++) out += decide(sym, false);
    return out;
  };
  // Mode 0: everything is processed.
  assert.equal(run(0, 4), "PPPP");
  // Mode 1: skip, process, skip, process…
  p.beginBatch(60);
  assert.equal(p.mode, 1);
  assert.equal(run(0, 6), "SPSPSP");
  // Mode 2: skip, skip, process…
  p.beginBatch(90);
  assert.equal(p.mode, 2);
  assert.equal(run(0, 7), "SSPSSPS");
  // A newest frame is processed and restarts the run.
  assert.equal(decide(0, true), "P");
  assert.equal(run(0, 3), "SSP");
  // Runs are per symbol: symbol 1 has its own.
  assert.equal(decide(0, false), "S");
  assert.equal(run(1, 3), "SSP");
  assert.equal(decide(0, false), "S");
  assert.equal(decide(0, false), "P");
  // Mode 1 again: a run of one skip after the last processed frame.
  p.beginBatch(0);
  p.beginBatch(60);
  assert.equal(p.mode, 1);
  assert.equal(run(1, 4), "SPSP");

  assert.equal(p.processed(0), 4 + 3 + 2 + 1 + 1 + 1);
  assert.equal(p.skipped(0), 3 + 5 + 2 + 1 + 1);
  assert.equal(p.processed(1), 1 + 2);
  assert.equal(p.skipped(1), 2 + 2);
  assert.equal(p.totalProcessed, 15);
  assert.equal(p.totalSkipped, 16);
  assert.equal(p.counters[ADAPTIVE_TOTAL_PROCESSED], 15);
  assert.equal(p.counters[ADAPTIVE_TOTAL_SKIPPED], 16);
  assert.equal(p.counters[p.processedWord(1)], 3);
  assert.equal(p.counters[p.skippedWord(1)], 4);
});

Deno.test("a batch whose frames are all newest is processed in full even in mode 2", () => {
  const p = new CountedAdaptive({ symbols: 3, capacity: 10 });
  p.beginBatch(9);
  assert.equal(p.mode, 2);
  const ids = [2, 0, 1];
  const newest = new Uint8Array(3);
  p.processor.markNewest(ids, 3, newest);
  assert.deepEqual([...newest], [1, 1, 1]);
  for (let i = 0; i < 3; i++) assert.equal(p.shouldProcess(ids[i], newest[i] === 1), true);
  assert.equal(p.totalSkipped, 0);
});

Deno.test("markNewest marks exactly the last frame of each symbol in the batch", () => {
  const p = new AdaptiveProcessor({ symbols: 4, capacity: 64 });
  const out = new Uint8Array(10).fill(7);
  p.markNewest(new Int32Array([1, 0, 1, 3, 0, 1]), 6, out);
  assert.deepEqual([...out], [0, 0, 0, 1, 1, 1, 7, 7, 7, 7], "beyond count is untouched");
  // A second, shorter batch reuses the scratch correctly.
  p.markNewest([3, 3], 2, out);
  assert.deepEqual([...out.subarray(0, 2)], [0, 1]);
  p.markNewest([], 0, out);
  assert.throws(() => p.markNewest([0, 1], 3, out), /count must be an integer from 0 to min/);
  assert.throws(
    () => p.markNewest([0, 4], 2, out),
    /symbol id must be an integer from 0 to 3, got 4/,
  );
});

Deno.test("property: the newest frame of a symbol is never skipped; counts add up", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(
        fc.record({
          depth: fc.integer({ min: 0, max: 128 }),
          ids: fc.array(fc.nat(), { maxLength: 40 }),
          ms: fc.array(fc.double({ min: 0, max: 300, noNaN: true }), { maxLength: 4 }),
        }),
        { maxLength: 25 },
      ),
      (symbols, batches) => {
        const p = new CountedAdaptive({ symbols, capacity: 128 });
        const newest = new Uint8Array(40);
        const ids = new Int32Array(40);
        const offered = new Array<number>(symbols).fill(0);
        let total = 0;
        const modesSeen = new Set<number>();
        for (const batch of batches) {
          p.beginBatch(batch.depth);
          for (const t of batch.ms) p.recordProcessingTime(t);
          const n = batch.ids.length;
          for (let i = 0; i < n; i++) ids[i] = batch.ids[i] % symbols;
          p.processor.markNewest(ids, n, newest);
          const lastIndex = new Map<number, number>();
          for (let i = 0; i < n; i++) lastIndex.set(ids[i], i);
          modesSeen.add(p.mode);
          for (let i = 0; i < n; i++) {
            const isNewest = lastIndex.get(ids[i]) === i;
            assert.equal(newest[i] === 1, isNewest);
            const processed = p.shouldProcess(ids[i], isNewest);
            if (isNewest) assert.equal(processed, true);
            if (p.mode === 0) assert.equal(processed, true);
            offered[ids[i]]++;
            total++;
          }
        }
        let sumP = 0;
        let sumS = 0;
        for (let s = 0; s < symbols; s++) {
          assert.equal(p.processed(s) + p.skipped(s), offered[s]);
          sumP += p.processed(s);
          sumS += p.skipped(s);
        }
        assert.equal(p.totalProcessed, sumP);
        assert.equal(p.totalSkipped, sumS);
        assert.equal(p.totalProcessed + p.totalSkipped, total);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: in mode m a symbol's non-newest frames are processed 1 in m+1", () => {
  fc.assert(
    fc.property(fc.constantFrom(1, 2), fc.integer({ min: 0, max: 60 }), (mode, n) => {
      const p = new CountedAdaptive({ symbols: 1, capacity: 100 });
      p.beginBatch(mode === 1 ? 60 : 90);
      assert.equal(p.mode, mode);
      let processed = 0;
      for (let i = 0; i < n; i++) if (p.shouldProcess(0, false)) processed++;
      assert.equal(processed, Math.floor(n / (mode + 1)));
      assert.equal(p.skipped(0), n - processed);
    }),
  );
});

/** Runs the per-frame loop in a child with `--trace-gc`; returns the GCs during the measured part. */
async function gcsDuringHotLoop(allocatePerFrame: boolean): Promise<number> {
  const moduleUrl = new URL("../lib/analytics/adaptive_processor.ts", import.meta.url).href;
  const script = `
    import { AdaptiveProcessor } from ${JSON.stringify(moduleUrl)};
    const p = new AdaptiveProcessor({ symbols: 4, capacity: 1024 });
    const ids = new Int32Array(256);
    for (let i = 0; i < ids.length; i++) ids[i] = (i * 7) % 4;
    const newest = new Uint8Array(256);
    let sink = null;
    let decided = 0;
    const loop = (rounds) => {
      for (let r = 0; r < rounds; r++) {
        p.beginBatch((r * 37) % 1024);
        p.markNewest(ids, ids.length, newest);
        for (let i = 0; i < ids.length; i++) {
          if (p.shouldProcess(ids[i], newest[i] === 1)) p.recordProcessingTime(r % 200);
          decided++;
          ${allocatePerFrame ? "sink = { i };" : ""}
        }
      }
    };
    loop(2000);
    console.log("MEASURE");
    loop(20000);
    console.log("DONE", decided, sink === 1);
  `;
  const file = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--v8-flags=--trace-gc", file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, new RegExp(`DONE ${22000 * 256} false`));
    const measured = text.slice(text.indexOf("MEASURE"), text.indexOf("DONE"));
    return measured.split("\n").filter((l) => /Scavenge|Mark-Compact|Mark-Sweep/i.test(l)).length;
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("the hot path allocates nothing per frame (no GC over 5.1M frames)", async () => {
  assert.equal(await gcsDuringHotLoop(false), 0);
  // Control: the same loop with one small object per frame does trigger GCs,
  // so the probe would notice an allocation in the processor.
  assert.ok(await gcsDuringHotLoop(true) > 10);
});

Deno.test("invalid options and arguments are rejected with a clear message", () => {
  assert.throws(
    () => new AdaptiveProcessor({ symbols: 0, capacity: 10 }),
    /symbols must be an integer from 1 to 65536, got 0/,
  );
  assert.throws(
    () => new AdaptiveProcessor({ symbols: 1, capacity: 0 }),
    /capacity must be a positive integer \(raw ring slots\), got 0/,
  );
  assert.throws(
    () => new AdaptiveProcessor({ symbols: 1, capacity: 10, window: 0 }),
    /window must be an integer from 1 to 1024, got 0/,
  );
  assert.throws(
    () => new AdaptiveProcessor({ symbols: 1, capacity: 10, recoverMs: 120 }),
    /0 <= recoverMs < slowMs < slowerMs \(finite\), got recoverMs=120, slowMs=100, slowerMs=150/,
  );
  assert.throws(
    () => new AdaptiveProcessor({ symbols: 1, capacity: 10, slowerMs: 90 }),
    /recoverMs < slowMs < slowerMs/,
  );
  assert.throws(
    () => new AdaptiveProcessor({ symbols: 1, capacity: 10, lagLow: 0.6 }),
    /0 < lagLow < lagHigh < lagHigher < 1, got lagLow=0.6, lagHigh=0.5, lagHigher=0.8/,
  );
  assert.throws(
    () => new AdaptiveProcessor({ symbols: 1, capacity: 10, lagHigher: 1 }),
    /lagHigher < 1/,
  );
  const p = new CountedAdaptive({ symbols: 2, capacity: 10 });
  assert.throws(() => p.shouldProcess(2, true), /symbol id must be an integer from 0 to 1, got 2/);
  assert.throws(() => p.shouldProcess(-1, true), /got -1/);
  assert.throws(() => p.shouldProcess(0.5, true), /got 0.5/);
  assert.throws(() => p.skipped(5), /got 5/);
  assert.throws(() => p.processed(NaN), /got NaN/);
  assert.throws(() => p.beginBatch(-1), /raw depth must be a number >= 0, got -1/);
  assert.throws(() => p.beginBatch(NaN), /got NaN/);
  assert.throws(() => p.recordProcessingTime(-0.1), /finite number of ms >= 0, got -0.1/);
  assert.throws(() => p.recordProcessingTime(Infinity), /got Infinity/);
  assert.throws(() => p.recordProcessingTime(NaN), /got NaN/);
  assert.equal(p.totalProcessed + p.totalSkipped, 0, "rejected calls count nothing");
});
