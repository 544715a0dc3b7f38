import assert from "node:assert/strict";
import fc from "fast-check";
import { parseConfig } from "../lib/server/config.ts";
import {
  EXCHANGE_FRAMES_PER_SECOND,
  MAX_RING_CAPACITY,
  MIN_RING_CAPACITY,
  RING_SLACK_MS,
  ringCapacities,
  ringCapacityFor,
} from "../lib/server/ring_capacity.ts";

Deno.test("ring sizing: the smallest power of two holding 250 ms of frames, from 256 to 65536", () => {
  assert.deepEqual(
    [[2, 10], [200, 10], [1_024, 10], [2_000, 10], [10_000, 10], [100_000, 10], [1, 1e5]].map((
      [n, r],
    ) => ringCapacityFor(n, r)),
    [256, 512, 4_096, 8_192, 32_768, 65_536, 32_768],
  );
  // The edges: exactly 256 frames fit the floor, one more doubles it.
  assert.equal(ringCapacityFor(1_024, 1), 256);
  assert.equal(ringCapacityFor(1_025, 1), 512);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200_000 }),
      fc.double({ min: 0.01, max: 1_000, noNaN: true }),
      (symbols, rate) => {
        const slots = ringCapacityFor(symbols, rate);
        const frames = symbols * rate * RING_SLACK_MS / 1000;
        assert.ok(Number.isInteger(Math.log2(slots)), `${slots} is a power of two`);
        assert.ok(slots >= MIN_RING_CAPACITY && slots <= MAX_RING_CAPACITY);
        // Enough for 250 ms unless capped; never twice what that needs unless floored.
        assert.ok(slots >= frames || slots === MAX_RING_CAPACITY, `${slots} < ${frames}`);
        assert.ok(slots / 2 < frames || slots === MIN_RING_CAPACITY, `${slots} ≥ 2 × ${frames}`);
      },
    ),
  );
});

Deno.test("ring sizing: bad arguments are refused clearly", () => {
  assert.throws(() => ringCapacityFor(0, 10), /symbols must be a positive integer, got 0/);
  assert.throws(() => ringCapacityFor(1.5, 10), /symbols must be a positive integer, got 1.5/);
  assert.throws(() => ringCapacityFor(2, 0), /frames per second must be a positive finite/);
  assert.throws(() => ringCapacityFor(2, Infinity), /frames per second must be a positive finite/);
});

Deno.test("ring sizing from the config: symbols × the source's rate, flags override each ring", () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `sym${i}usdt`).join(",");
  // Binance: 10 frames/s per symbol.
  assert.equal(EXCHANGE_FRAMES_PER_SECOND, 10);
  assert.deepEqual(ringCapacities(parseConfig([])), { raw: 256, processed: 256 });
  assert.deepEqual(ringCapacities(parseConfig(["--symbols", names(2_000)])), {
    raw: 8_192,
    processed: 8_192,
  });
  // diff mode folds events into at most one frame per 100 ms: the same rate.
  assert.deepEqual(
    ringCapacities(parseConfig(["--symbols", names(1_024), "--stream=diff"])),
    { raw: 4_096, processed: 4_096 },
  );
  // The simulated exchange sends --sim-rate frames/s per symbol: 50 × 100 × 0.25 = 1250.
  assert.deepEqual(
    ringCapacities(parseConfig(["--source=sim", "--symbols", names(50), "--sim-rate=100"])),
    { raw: 2_048, processed: 2_048 },
  );
  // A replay (faster than recorded time: bursts) gets at least 4,096 slots.
  assert.deepEqual(
    ringCapacities(parseConfig(["--source=replay", "--replay-path=a", "--symbols=btcusdt"])),
    { raw: 4_096, processed: 4_096 },
  );
  assert.deepEqual(
    ringCapacities(parseConfig(["--source=replay", "--replay-path=a", "--symbols", names(2_000)])),
    { raw: 8_192, processed: 8_192 },
  );
  // Each flag (or its env var) overrides its ring only.
  assert.deepEqual(
    ringCapacities(parseConfig(["--symbols", names(2_000), "--raw-capacity=1024"])),
    { raw: 1_024, processed: 8_192 },
  );
  assert.deepEqual(
    ringCapacities(
      parseConfig([], (v) => v === "DEPTHWATCH_PROCESSED_CAPACITY" ? "131072" : undefined),
    ),
    { raw: 256, processed: 131_072 },
  );
  // A resolved symbol list (a pattern resolved at start) counts as given.
  const resolved = { ...parseConfig(["--symbols=*usdt"]), symbols: names(300).split(",") };
  assert.deepEqual(ringCapacities(resolved), { raw: 1_024, processed: 1_024 });
});
