import assert from "node:assert/strict";
import fc from "fast-check";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import { RING_HEADER_BYTES } from "../lib/pipeline/ring_layout.ts";

function pushValue(ring: SpscRing, v: number): boolean {
  const at = ring.reserve(0);
  if (at < 0) return false;
  ring.f64[at] = v;
  ring.f64[at + 1] = -v;
  ring.commit();
  return true;
}

function popValue(ring: SpscRing): number | undefined {
  const out = new Float64Array(2);
  if (!ring.pop(out)) return undefined;
  assert.equal(out[1], -out[0], "slot words belong together");
  return out[0];
}

Deno.test("create rejects bad capacity, slot size and policy with clear errors", () => {
  assert.throws(() => SpscRing.create({ capacity: 1000, slotBytes: 8 }), /power of two/);
  assert.throws(() => SpscRing.create({ capacity: 1, slotBytes: 8 }), /power of two/);
  assert.throws(() => SpscRing.create({ capacity: 8, slotBytes: 12 }), /multiple of 8/);
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => SpscRing.create({ capacity: 8, slotBytes: 8, policy: "lifo" as any }),
    /policy must be one of/,
  );
  assert.throws(() => SpscRing.attach(new SharedArrayBuffer(RING_HEADER_BYTES + 64)), /magic/);
});

Deno.test("attach sees the same layout and data", () => {
  const ring = SpscRing.create({ capacity: 8, slotBytes: 16, policy: "drop-newest" });
  const other = SpscRing.attach(ring.buffer);
  assert.equal(other.capacity, 8);
  assert.equal(other.slotBytes, 16);
  assert.equal(other.policy, "drop-newest");
  pushValue(ring, 7);
  assert.equal(popValue(other), 7);
  assert.equal(ring.stats().popped, 1);
});

Deno.test("drop-newest refuses when full and counts the refusals", () => {
  const ring = SpscRing.create({ capacity: 4, slotBytes: 16, policy: "drop-newest" });
  for (let i = 0; i < 4; i++) assert.ok(pushValue(ring, i));
  assert.equal(pushValue(ring, 99), false);
  assert.equal(pushValue(ring, 100), false);
  const s = ring.stats();
  assert.deepEqual([s.depth, s.dropped, s.highWater, s.pushed], [4, 2, 4, 4]);
  assert.deepEqual([0, 1, 2, 3].map(() => popValue(ring)), [0, 1, 2, 3]);
  assert.equal(popValue(ring), undefined);
});

Deno.test("drop-oldest overwrites the oldest and counts every drop", () => {
  const ring = SpscRing.create({ capacity: 4, slotBytes: 16 });
  for (let i = 0; i < 10; i++) assert.ok(pushValue(ring, i));
  const s = ring.stats();
  assert.deepEqual([s.depth, s.dropped, s.pushed], [4, 6, 10]);
  assert.deepEqual([6, 7, 8, 9].map(() => popValue(ring)), [6, 7, 8, 9]);
  assert.equal(s.pushed, ring.stats().popped + s.dropped);
});

Deno.test("drop-oldest: an in-place read overtaken by the producer is discarded", () => {
  const ring = SpscRing.create({ capacity: 2, slotBytes: 16 });
  pushValue(ring, 1);
  pushValue(ring, 2);
  const at = ring.peek();
  assert.equal(ring.f64[at], 1);
  pushValue(ring, 3); // full: drops 1 and overwrites its slot
  assert.equal(ring.commitRead(), false);
  assert.equal(ring.stats().overtaken, 1);
  assert.equal(popValue(ring), 2);
  assert.equal(popValue(ring), 3);
});

Deno.test("block waits for space and gives up after the timeout", () => {
  const ring = SpscRing.create({ capacity: 2, slotBytes: 16, policy: "block" });
  assert.ok(pushValue(ring, 1));
  assert.ok(pushValue(ring, 2));
  const t0 = performance.now();
  assert.equal(ring.reserve(30), -1);
  assert.ok(performance.now() - t0 >= 25, "waited about the timeout before refusing");
  assert.equal(ring.stats().dropped, 1);
  assert.equal(popValue(ring), 1);
  assert.ok(ring.reserve(30) >= 0, "space after a pop");
  ring.commit();
});

Deno.test("commit without reserve is an error", () => {
  const ring = SpscRing.create({ capacity: 2, slotBytes: 8 });
  assert.throws(() => ring.commit(), /without a reserved slot/);
});

for (const policy of ["drop-oldest", "drop-newest", "block"] as const) {
  Deno.test(`${policy}: indexes wrap past 2^32 without losing order`, () => {
    const ring = SpscRing.createAt({ capacity: 8, slotBytes: 16, policy }, 0xffff_fff0);
    const batch = new Float64Array(8 * 2);
    let next = 0, expect = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 5; i++) assert.ok(pushValue(ring, next++));
      const n = ring.popBatch(batch, 8);
      assert.equal(n, 5);
      for (let k = 0; k < n; k++) assert.equal(batch[k * 2], expect++);
      assert.equal(ring.available(), 0);
    }
    assert.equal(ring.stats().depth, 0);
    assert.ok(ring.stats().pushed < 0xffff_fff0, "write index wrapped");
  });
}

Deno.test("commit(false) leaves a parked consumer parked; wake() wakes it once for the batch", async () => {
  const ring = SpscRing.create({ capacity: 8, slotBytes: 8 });
  // The consumer parks (the flag is set before the first await) with a wait
  // far longer than any test: only a notify can end it.
  const waiting = ring.waitForDataAsync(600_000);
  for (let i = 0; i < 3; i++) {
    ring.f64[ring.reserve()] = i;
    ring.commit(false);
  }
  const early = await Promise.race([
    waiting.then(() => "woken"),
    new Promise((r) => setTimeout(() => r("still parked"), 50)),
  ]);
  assert.equal(early, "still parked", "commit(false) must not notify");
  ring.wake();
  assert.equal(await waiting, true);
  const out = new Float64Array(1);
  const got: number[] = [];
  while (ring.pop(out)) got.push(out[0]);
  assert.deepEqual(got, [0, 1, 2]);
});

Deno.test("property: push/pop sequences match an array model (every policy)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("drop-oldest", "drop-newest", "block"),
      fc.constantFrom(2, 4, 8),
      fc.constantFrom(0, 0xffff_fffa),
      fc.array(fc.oneof(fc.constant("push"), fc.constant("pop"), fc.integer({ min: 1, max: 5 })), {
        maxLength: 200,
      }),
      (policy, capacity, start, ops) => {
        const ring = SpscRing.createAt({ capacity, slotBytes: 16, policy }, start);
        const model: number[] = [];
        let head = 0, next = 0, dropped = 0;
        const batch = new Float64Array(5 * 2);
        for (const op of ops) {
          if (op === "push") {
            const v = next++;
            const full = model.length - head === capacity;
            const ok = policy === "block"
              ? (full ? false : pushValue(ring, v))
              : pushValue(ring, v);
            if (policy === "block" && full) {
              assert.equal(ring.reserve(0), -1);
              dropped++;
              continue;
            }
            if (full) {
              dropped++;
              if (policy === "drop-oldest") head++;
              else {
                assert.equal(ok, false);
                continue;
              }
            }
            assert.ok(ok);
            model.push(v);
          } else if (op === "pop") {
            assert.equal(popValue(ring), head < model.length ? model[head++] : undefined);
          } else {
            const n = ring.popBatch(batch, op);
            const want = Math.min(op, model.length - head);
            assert.equal(n, want);
            for (let k = 0; k < n; k++) assert.equal(batch[k * 2], model[head++]);
          }
          const s = ring.stats();
          assert.equal(s.depth, model.length - head);
          assert.equal(s.dropped, dropped);
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("a reserved slot that is not committed is handed out again without a second drop", () => {
  const ring = SpscRing.create({ capacity: 2, slotBytes: 16 });
  pushValue(ring, 1);
  pushValue(ring, 2);
  const first = ring.reserve(); // full: drops 1
  assert.equal(ring.reserve(), first);
  assert.equal(ring.stats().dropped, 1);
  ring.f64[first] = 3;
  ring.f64[first + 1] = -3;
  ring.commit();
  assert.equal(popValue(ring), 2);
  assert.equal(popValue(ring), 3);
});
