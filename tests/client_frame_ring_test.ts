import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameRing } from "../lib/client/frame_ring.ts";
import { emptyDashFrame } from "../lib/client/dash_frame.ts";

function contents(ring: FrameRing, column: Float64Array): number[] {
  const out: number[] = [];
  for (let k = 0; k < ring.size; k++) out.push(column[ring.slot(k)]);
  return out;
}

Deno.test("FrameRing keeps the last `capacity` frames, oldest first, in every column", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.array(fc.double({ noNaN: true }), { maxLength: 60 }),
      (capacity, values) => {
        const ring = new FrameRing({ capacity });
        const f = emptyDashFrame("BTCUSDT");
        values.forEach((v, i) => {
          f.time = i;
          f.seq = i + 1;
          f.mid = v;
          f.weightedMid = -v;
          f.ofi10s = v * 2;
          ring.push(f);
        });
        const kept = values.slice(Math.max(0, values.length - capacity));
        assert.equal(ring.size, kept.length);
        assert.equal(ring.pushed, values.length);
        assert.deepEqual(contents(ring, ring.mid), kept);
        assert.deepEqual(contents(ring, ring.weightedMid), kept.map((v) => -v));
        assert.deepEqual(contents(ring, ring.ofi10s), kept.map((v) => v * 2));
        assert.deepEqual(
          contents(ring, ring.seq),
          kept.map((_, i) => values.length - kept.length + i + 1),
        );
        if (values.length > 0) assert.equal(ring.mid[ring.newest], values[values.length - 1]);
        else assert.equal(ring.newest, -1);
      },
    ),
  );
});

Deno.test("FrameRing.clear empties it and the next push starts a fresh history", () => {
  const ring = new FrameRing({ capacity: 3 });
  const f = emptyDashFrame("ETHUSDT");
  for (let i = 0; i < 5; i++) {
    f.mid = i;
    ring.push(f);
  }
  ring.clear();
  assert.equal(ring.size, 0);
  assert.equal(ring.newest, -1);
  f.mid = 42;
  ring.push(f);
  assert.deepEqual(contents(ring, ring.mid), [42]);
});

Deno.test("FrameRing rejects capacities that are not positive integers", () => {
  assert.throws(() => new FrameRing({ capacity: 0 }), RangeError);
  assert.throws(() => new FrameRing({ capacity: 2.5 }), RangeError);
  assert.equal(new FrameRing().capacity, 100);
});
