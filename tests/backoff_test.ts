import assert from "node:assert/strict";
import fc from "fast-check";
import { Backoff } from "../lib/pipeline/backoff.ts";
import { AttemptLimiter } from "../lib/ingest/attempt_limiter.ts";

Deno.test("Backoff: bounds double from base up to the cap", () => {
  const backoff = new Backoff({ baseMs: 10, capMs: 100, random: () => 0.5 });
  const delays = [];
  for (let i = 0; i < 7; i++) delays.push(backoff.next());
  assert.deepEqual(delays, [5, 10, 20, 40, 50, 50, 50]);
  assert.equal(backoff.attempt, 7);
});

Deno.test("Backoff: reset returns to the base bound", () => {
  const backoff = new Backoff({ baseMs: 10, capMs: 1000, random: () => 0.999 });
  backoff.next();
  backoff.next();
  backoff.next();
  assert.equal(backoff.bound(), 80);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.bound(), 10);
  assert.ok(backoff.next() < 10);
});

Deno.test("Backoff: defaults are 1 s base and 30 s cap", () => {
  const backoff = new Backoff({ random: () => 0 });
  assert.equal(backoff.baseMs, 1000);
  assert.equal(backoff.capMs, 30000);
  for (let i = 0; i < 100; i++) backoff.next();
  assert.equal(backoff.bound(), 30000);
});

Deno.test("Backoff: every delay is within [0, min(cap, base * 2^n))", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 0, max: 100_000 }),
      fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
        minLength: 1,
        maxLength: 80,
      }),
      (baseMs, extra, randoms) => {
        const capMs = baseMs + extra;
        let i = 0;
        const backoff = new Backoff({ baseMs, capMs, random: () => randoms[i] });
        for (i = 0; i < randoms.length; i++) {
          const bound = Math.min(capMs, baseMs * 2 ** i);
          const delay = backoff.next();
          assert.ok(delay >= 0 && delay < bound, `delay ${delay} outside [0, ${bound})`);
        }
      },
    ),
  );
});

Deno.test("Backoff: a broken random source cannot produce out-of-range delays", () => {
  for (const value of [NaN, -1, 1, 7, Infinity]) {
    const delay = new Backoff({ baseMs: 100, capMs: 100, random: () => value }).next();
    assert.ok(delay >= 0 && delay < 100, `random ${value} gave ${delay}`);
  }
});

Deno.test("Backoff: invalid options are rejected with a clear error", () => {
  assert.throws(() => new Backoff({ baseMs: 0 }), /baseMs must be a positive/);
  assert.throws(() => new Backoff({ baseMs: NaN }), /baseMs must be a positive/);
  assert.throws(() => new Backoff({ baseMs: 100, capMs: 50 }), /capMs must be .* >= baseMs/);
});

Deno.test("Backoff: each delay is r·min(cap, base·2^n) for the drawn r; reset starts over (the dashboard's 0.5 s / 10 s)", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1, max: 1e4, noNaN: true }),
      fc.double({ min: 1, max: 100, noNaN: true }),
      fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
        minLength: 1,
        maxLength: 40,
      }),
      (base, factor, draws) => {
        const cap = base * factor;
        let i = 0;
        const b = new Backoff({ baseMs: base, capMs: cap, random: () => draws[i] });
        for (; i < draws.length; i++) {
          const bound = Math.min(cap, base * 2 ** i);
          assert.equal(b.next(), draws[i] * bound);
        }
        b.reset();
        i = 0;
        assert.equal(b.next(), draws[0] * base);
      },
    ),
  );
  const half = new Backoff({ baseMs: 500, capMs: 10_000, random: () => 0.5 });
  assert.deepStrictEqual(
    Array.from({ length: 7 }, () => half.next()),
    [250, 500, 1000, 2000, 4000, 5000, 5000],
  );
  assert.throws(() => new Backoff({ baseMs: 0 }), /baseMs must be a positive/);
  assert.throws(
    () => new Backoff({ baseMs: 10, capMs: 5 }),
    /capMs must be a finite number >= baseMs/,
  );
});

Deno.test("AttemptLimiter: allows maxAttempts per window and says how long to wait", () => {
  const limiter = new AttemptLimiter({ maxAttempts: 3, windowMs: 1000 });
  assert.equal(limiter.tryAcquire(0), true);
  assert.equal(limiter.tryAcquire(100), true);
  assert.equal(limiter.tryAcquire(200), true);
  assert.equal(limiter.tryAcquire(300), false);
  assert.equal(limiter.refused, 1);
  assert.equal(limiter.waitMs(300), 700);
  assert.equal(limiter.used(300), 3);
  // The first attempt leaves the window at t = 1000.
  assert.equal(limiter.tryAcquire(999), false);
  assert.equal(limiter.tryAcquire(1000), true);
  assert.equal(limiter.waitMs(1000), 100);
  assert.equal(limiter.tryAcquire(1100), true);
  assert.equal(limiter.used(2300), 0);
  assert.equal(limiter.waitMs(2300), 0);
});

Deno.test("AttemptLimiter: matches a naive sliding window on random schedules", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }),
      (maxAttempts, windowMs, gaps) => {
        const limiter = new AttemptLimiter({ maxAttempts, windowMs });
        const accepted: number[] = [];
        let t = 0;
        for (const gap of gaps) {
          t += gap;
          const inWindow = accepted.filter((a) => a > t - windowMs);
          const expected = inWindow.length < maxAttempts;
          const expectedWait = expected ? 0 : inWindow[0] + windowMs - t;
          assert.equal(limiter.waitMs(t), expectedWait);
          assert.equal(limiter.tryAcquire(t), expected);
          if (expected) accepted.push(t);
        }
      },
    ),
  );
});

Deno.test("AttemptLimiter: defaults are 300 attempts per 5 minutes", () => {
  const limiter = new AttemptLimiter();
  assert.equal(limiter.maxAttempts, 300);
  assert.equal(limiter.windowMs, 300_000);
  for (let i = 0; i < 300; i++) assert.equal(limiter.tryAcquire(i), true);
  assert.equal(limiter.tryAcquire(300), false);
  assert.equal(limiter.waitMs(300), 300_000 - 300);
});

Deno.test("AttemptLimiter: invalid options are rejected with a clear error", () => {
  assert.throws(() => new AttemptLimiter({ maxAttempts: 0 }), /maxAttempts must be an integer/);
  assert.throws(() => new AttemptLimiter({ maxAttempts: 1.5 }), /maxAttempts must be an integer/);
  assert.throws(() => new AttemptLimiter({ windowMs: -1 }), /windowMs must be a positive/);
});
