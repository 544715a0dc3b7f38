import assert from "node:assert/strict";
import fc from "fast-check";
import { WeightWindow } from "../lib/ingest/weight_window.ts";
import { RestClient } from "../lib/ingest/rest_client.ts";
import { PACE_CATCH_UP, REST_WEIGHT_MARGIN, snapshotPaceMs } from "../lib/ingest/ingestor.ts";
import { depthRequestWeight } from "../lib/pipeline/depth_request_weight.ts";

/** Largest weight in any half-open window `(t - windowMs, t]` of the sends (checked at each send, where maxima sit). */
function maxWindowWeight(sends: readonly { at: number; weight: number }[], windowMs: number) {
  let max = 0;
  for (const s of sends) {
    let sum = 0;
    for (const o of sends) if (o.at > s.at - windowMs && o.at <= s.at) sum += o.weight;
    max = Math.max(max, sum);
  }
  return max;
}

Deno.test("property: WeightWindow admits a request only when it fits, and waitFor is exact", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 10, max: 6000 }),
      fc.integer({ min: 1, max: 60_000 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 250 })), {
        maxLength: 200,
      }),
      (budget, windowMs, attempts) => {
        const w = new WeightWindow({ budget, windowMs });
        const sends: { at: number; weight: number }[] = [];
        let now = 0;
        for (const [dt, weight] of attempts) {
          now += dt;
          const wait = w.waitFor(weight, now);
          if (weight > budget) {
            assert.equal(wait, Infinity);
            continue;
          }
          if (wait > 0) {
            // Exact: it does not fit a moment earlier, and it fits at now + wait.
            assert.ok(w.used(now + wait - 0.5) + weight > budget);
            now += wait;
            assert.equal(w.waitFor(weight, now), 0);
          }
          w.add(weight, now);
          sends.push({ at: now, weight });
          assert.equal(
            w.used(now),
            sends.filter((s) => s.at > now - windowMs).reduce((a, s) => a + s.weight, 0),
          );
        }
        assert.ok(maxWindowWeight(sends, windowMs) <= budget);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: the ingest's snapshot schedule stays inside the weight budget for any symbol count and depth", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 1, max: 5000 }),
      fc.constantFrom(6000, 1200, 20_000),
      // Extra delays of the timer / event loop before a start, ms.
      fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 50 }),
      (symbols, depth, limit, lateness) => {
        const weight = depthRequestWeight(depth);
        const budget = Math.floor(limit * (1 - REST_WEIGHT_MARGIN));
        fc.pre(weight <= budget);
        const gap = snapshotPaceMs(depth, limit);
        // The RestClient pump as the ingest sets it up: start when the (catch-up)
        // minimum gap has passed and the window has room.
        const minGap = gap * (1 - PACE_CATCH_UP);
        const w = new WeightWindow({ budget });
        const sends: { at: number; weight: number }[] = [];
        let now = 0;
        let last = -Infinity;
        let lateSum = 0;
        for (let i = 0; i < symbols; i++) {
          const late = lateness[i % lateness.length];
          // The client's clock is Date.now(): whole milliseconds. (With fractional
          // times, a + (b - a) can land a float's width before b, inside a window
          // the product never sees.) Rounding up costs at most 1 ms per start.
          now = Math.ceil(now + Math.max(last + minGap - now, w.waitFor(weight, now), 0) + late);
          lateSum += late + 1;
          assert.equal(w.waitFor(weight, now), 0);
          w.add(weight, now);
          sends.push({ at: now, weight });
          last = now;
        }
        assert.ok(maxWindowWeight(sends, 60_000) <= budget);
        // N snapshots take at most (N - 1) × pace plus the timers' lateness (and the
        // clock's millisecond rounding), as the ETA says.
        assert.ok(now <= (symbols - 1) * gap + lateSum + 1e-6, `${now} > ${(symbols - 1) * gap}`);
      },
    ),
    { numRuns: 60 },
  );
});

/** Records the client's own clock at each request start (read right before `fetch`). */
function recordStarts(weightOf: (limit: number) => number) {
  let last = NaN;
  const starts: { at: number; weight: number }[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    starts.push({ at: last, weight: weightOf(Number(url.searchParams.get("limit"))) });
    return realFetch(input, init);
  }) as typeof fetch;
  return {
    now: () => (last = Date.now()),
    starts,
    restore: () => {
      globalThis.fetch = realFetch;
    },
  };
}

Deno.test("property: RestClient's request starts never exceed the budget in any sliding window", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const delay = Number(new URL(req.url).searchParams.get("symbol")!.slice(1, 3)) % 7;
    await new Promise((r) => setTimeout(r, delay));
    return Response.json({ lastUpdateId: 1, bids: [["1.0", "1.0"]], asks: [["2.0", "1.0"]] });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 14 }),
        fc.array(fc.constantFrom(5, 100, 101, 500, 1000), { minLength: 1, maxLength: 14 }),
        fc.integer({ min: 250, max: 600 }),
        fc.integer({ min: 1, max: 4 }),
        async (symbols, limits, budget, maxInFlight) => {
          const windowMs = 150;
          const log = recordStarts(depthRequestWeight);
          const client = new RestClient({
            restUrl: url,
            minGapMs: 0,
            maxInFlight,
            weightLimit: budget,
            weightMargin: 0,
            weightWindowMs: windowMs,
            now: log.now,
          });
          try {
            await Promise.all(
              Array.from(
                { length: symbols },
                (_, i) =>
                  client.fetchDepth(`S${String(i).padStart(2, "0")}X`, limits[i % limits.length]),
              ),
            );
            assert.equal(log.starts.length, symbols);
            const max = maxWindowWeight(log.starts, windowMs);
            assert.ok(max <= budget, `${max} > ${budget}`);
          } finally {
            log.restore();
            await client.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  } finally {
    await server.shutdown();
  }
});
