import assert from "node:assert/strict";
import { VolatilitySampler } from "../lib/analytics/volatility.ts";
import { realisedVolatility } from "./fixtures/analytics_values.ts";

function close(actual: number, expected: number, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);
}

Deno.test("realised volatility of a known mid series", () => {
  close(
    realisedVolatility([100, 101, 100]),
    Math.sqrt(Math.log(1.01) ** 2 + Math.log(100 / 101) ** 2),
  );
  close(realisedVolatility([100, 110]), Math.log(1.1));
  assert.equal(realisedVolatility([5, 5, 5, 5]), 0);
  assert.ok(Number.isNaN(realisedVolatility([100])));
  close(realisedVolatility([1, 2, 4, 8], 1, 3), Math.log(2));
});

Deno.test("sampler: NaN until two samples, one sample per second", () => {
  const v = new VolatilitySampler({ symbols: 2 });
  v.observe(1, 0, 100);
  assert.ok(Number.isNaN(v.short(1)));
  assert.ok(Number.isNaN(v.long(1)));
  v.observe(1, 500, 150); // same second: ignored
  v.observe(1, 1000, 101);
  close(v.short(1), Math.log(1.01));
  v.observe(1, 1999, 200); // still second 1: ignored
  v.observe(1, 2000, 100);
  close(v.short(1), realisedVolatility([100, 101, 100]));
  close(v.long(1), realisedVolatility([100, 101, 100]));
  assert.ok(Number.isNaN(v.short(0)));
});

Deno.test("sampler: quiet seconds count as zero returns and age the window", () => {
  const v = new VolatilitySampler({ symbols: 1, shortPeriods: 3, longPeriods: 5 });
  v.observe(0, 0, 100);
  v.observe(0, 1000, 110);
  v.observe(0, 5000, 121); // seconds 2, 3, 4 carry 110 forward
  // returns by second: 1: ln 1.1, 2..4: 0, 5: ln 1.1; short window (2, 5], long (0, 5]
  close(v.short(0), Math.log(1.1));
  close(v.long(0), Math.sqrt(2) * Math.log(1.1));
  v.observe(0, 9000, 121);
  // short (6, 9]: zeros; long (4, 9]: only the second-5 return
  assert.equal(v.short(0), 0);
  close(v.long(0), Math.log(1.1));
});

Deno.test("sampler: windows over a longer series match the formula", () => {
  const v = new VolatilitySampler({ symbols: 1, shortPeriods: 60, longPeriods: 300 });
  const mids: number[] = [];
  for (let i = 0; i < 400; i++) {
    mids.push(100 * Math.exp(0.001 * Math.sin(i * 0.7) + 0.0001 * i));
    v.observe(0, i * 1000 + 3, mids[i]);
  }
  close(v.short(0), realisedVolatility(mids, 400 - 61, 400), 1e-12);
  close(v.long(0), realisedVolatility(mids, 400 - 301, 400), 1e-12);
});

Deno.test("sampler: a broken chain adds no return across the gap", () => {
  const v = new VolatilitySampler({ symbols: 1 });
  v.observe(0, 0, 100);
  v.observe(0, 1000, 101);
  v.breakChain(0);
  v.observe(0, 2000, 150); // new chain: no ln(150/101)
  close(v.short(0), Math.log(1.01));
  v.observe(0, 3000, 150);
  close(v.short(0), Math.log(1.01));
  v.observe(0, 4000, NaN); // a missing mid breaks the chain too
  v.observe(0, 5000, 300);
  close(v.short(0), Math.log(1.01));
});

Deno.test("sampler rejects bad options", () => {
  assert.throws(() => new VolatilitySampler({ symbols: 0 }), RangeError);
  assert.throws(
    () => new VolatilitySampler({ symbols: 1, shortPeriods: 10, longPeriods: 5 }),
    RangeError,
  );
});
