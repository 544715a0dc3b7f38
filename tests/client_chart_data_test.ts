import assert from "node:assert/strict";
import fc from "fast-check";
import { fillDepthCurve, fillSeries, SeriesBuffer } from "../lib/client/chart_data.ts";
import { FrameRing } from "../lib/client/frame_ring.ts";
import { emptyDashFrame } from "../lib/client/dash_frame.ts";

const value = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.constantFrom(NaN, Infinity, -Infinity),
);

Deno.test("fillSeries: x is seconds before the newest frame, non-finite values become gaps", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), value), { maxLength: 50 }),
      (capacity, steps) => {
        const ring = new FrameRing({ capacity });
        const f = emptyDashFrame("BTCUSDT");
        let t = 1_700_000_000_000;
        for (const [dt, v] of steps) {
          t += dt;
          f.time = t;
          f.spreadBps = v;
          ring.push(f);
        }
        const kept = steps.slice(Math.max(0, steps.length - capacity));
        const times: number[] = [];
        let acc = t;
        for (let i = steps.length - 1; i >= steps.length - kept.length; i--) {
          times.unshift(acc);
          acc -= steps[i][0];
        }
        const s = new SeriesBuffer();
        const n = fillSeries(ring, ring.spreadBps, s, 2);
        assert.equal(n, kept.length);
        assert.equal(s.data.length, n);
        for (let i = 0; i < n; i++) {
          assert.equal(s.data[i].x, (times[i] - t) / 1000);
          const v = kept[i][1] * 2;
          if (Number.isFinite(v)) assert.equal(s.data[i].y, v);
          else assert.ok(Number.isNaN(s.data[i].y));
          if (i > 0) assert.ok(s.data[i].x >= s.data[i - 1].x, "x ascends (normalized data)");
        }
        if (n > 0) assert.equal(s.data[n - 1].x, 0);
      },
    ),
  );
});

Deno.test("fillSeries reuses its point objects and shrinks when the ring is cleared", () => {
  const ring = new FrameRing({ capacity: 4 });
  const f = emptyDashFrame("BTCUSDT");
  const s = new SeriesBuffer();
  for (let i = 0; i < 4; i++) {
    f.time = i * 100;
    f.mid = i;
    ring.push(f);
  }
  fillSeries(ring, ring.mid, s);
  const first = [...s.data];
  const array = s.data;
  for (let i = 4; i < 10; i++) {
    f.time = i * 100;
    f.mid = i;
    ring.push(f);
    fillSeries(ring, ring.mid, s);
  }
  assert.equal(s.data, array, "the dataset array is the same object");
  for (let i = 0; i < 4; i++) assert.equal(s.data[i], first[i], "points are reused");
  assert.deepEqual(s.data.map((p) => p.y), [6, 7, 8, 9]);
  ring.clear();
  assert.equal(fillSeries(ring, ring.mid, s), 0);
  assert.equal(s.data.length, 0);
});

Deno.test("fillDepthCurve: cumulative size per side, ascending price, monotone", () => {
  const level = fc.tuple(
    fc.double({ min: 0.01, max: 1e5, noNaN: true }),
    fc.double({ min: 0, max: 1e4, noNaN: true }),
  );
  fc.assert(
    fc.property(fc.array(level, { maxLength: 30 }), fc.constantFrom("bid", "ask"), (raw, side) => {
      // A side's prices are strictly ordered, best first.
      const prices = [...new Set(raw.map(([p]) => p))].sort((a, b) =>
        side === "bid" ? b - a : a - b
      );
      const sizes = prices.map((_, i) => raw[i][1]);
      const s = new SeriesBuffer();
      const n = fillDepthCurve(prices, sizes, side as "bid" | "ask", s);
      assert.equal(n, prices.length);
      const best = side === "bid" ? s.data[n - 1] : s.data[0];
      const deepest = side === "bid" ? s.data[0] : s.data[n - 1];
      if (n > 0) {
        assert.equal(best.x, prices[0]);
        assert.equal(best.y, sizes[0]);
        let total = 0;
        for (const q of sizes) total += q;
        assert.equal(deepest.y, total);
      }
      for (let i = 1; i < n; i++) {
        assert.ok(s.data[i].x > s.data[i - 1].x, "price ascends");
        if (side === "bid") assert.ok(s.data[i].y <= s.data[i - 1].y, "bid depth grows away");
        else assert.ok(s.data[i].y >= s.data[i - 1].y, "ask depth grows away");
      }
    }),
  );
});

Deno.test("fillDepthCurve skips unusable levels and a later shorter book truncates", () => {
  const s = new SeriesBuffer();
  assert.equal(fillDepthCurve([101, NaN, 103, 104], [1, 5, -1, 2], "ask", s), 2);
  assert.deepEqual(s.data, [{ x: 101, y: 1 }, { x: 104, y: 3 }]);
  assert.equal(fillDepthCurve([99], [4], "bid", s), 1);
  assert.deepEqual(s.data, [{ x: 99, y: 4 }]);
  assert.equal(fillDepthCurve([], [], "bid", s), 0);
  assert.equal(s.data.length, 0);
});
