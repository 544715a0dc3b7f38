/**
 * Number formatting for the dashboard: prices to the symbol's tick size,
 * sizes and notionals compactly.
 *
 * Binance sends prices as decimal strings on a tick grid, but the dashboard
 * sees float64s, so the number of decimals is derived from the values seen:
 * the smallest count that represents every price exactly (within float
 * noise). A {@linkcode TickFormatter} only ever raises its decimals, so the
 * digits of a column never jump back and forth between frames.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */

/** Largest number of decimals considered. */
export const MAX_DECIMALS = 8;

/**
 * Smallest number of decimals (0..`max`) that writes `value` exactly, up to
 * float noise; `max` when none does. Non-finite values need 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decimalsOf } from "./tick_format.ts";
 * assert.equal(decimalsOf(65000.01), 2);
 * assert.equal(decimalsOf(0.1 + 0.2), 1);
 * assert.equal(decimalsOf(42), 0);
 * ```
 *
 * @param value The number.
 * @param max Upper bound. Default {@linkcode MAX_DECIMALS}.
 */
export function decimalsOf(value: number, max = MAX_DECIMALS): number {
  if (!Number.isFinite(value)) return 0;
  const v = Math.abs(value);
  let scale = 1;
  for (let d = 0; d < max; d++) {
    const scaled = v * scale;
    // Relative tolerance: float64 carries ~15.9 significant digits.
    if (Math.abs(scaled - Math.round(scaled)) <= Math.max(1e-9, scaled * 1e-12)) return d;
    scale *= 10;
  }
  return max;
}

/**
 * Largest {@linkcode decimalsOf} over the first `count` values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decimalsOfAll } from "./tick_format.ts";
 * assert.equal(decimalsOfAll([100.5, 100.25, 100]), 2);
 * ```
 */
export function decimalsOfAll(
  values: ArrayLike<number>,
  count = values.length,
  max = MAX_DECIMALS,
): number {
  let d = 0;
  for (let i = 0; i < count && d < max; i++) {
    const di = decimalsOf(values[i], max);
    if (di > d) d = di;
  }
  return d;
}

const fixedFormats: Intl.NumberFormat[] = [];

/** A cached `Intl.NumberFormat` with exactly `d` decimals and group separators. */
function fixedFormat(d: number): Intl.NumberFormat {
  let f = fixedFormats[d];
  if (!f) {
    f = new Intl.NumberFormat("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
    fixedFormats[d] = f;
  }
  return f;
}

/**
 * `value` with exactly `decimals` decimals and thousands separators; "—" for
 * a non-finite value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatFixed } from "./tick_format.ts";
 * assert.equal(formatFixed(65000.1, 2), "65,000.10");
 * assert.equal(formatFixed(NaN, 2), "—");
 * ```
 */
export function formatFixed(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return "—";
  return fixedFormat(Math.max(0, Math.min(20, decimals | 0))).format(value);
}

const UNITS = ["", "k", "M", "B", "T"];

/**
 * Compact form for sizes and notionals: 3 significant digits with k/M/B/T
 * suffixes (`1.23k`, `45.6M`), plain below 1000 (up to 4 decimals). "—" for
 * a non-finite value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCompact } from "./tick_format.ts";
 * assert.equal(formatCompact(1234), "1.23k");
 * assert.equal(formatCompact(2_500_000), "2.50M");
 * assert.equal(formatCompact(0.5), "0.5");
 * ```
 */
export function formatCompact(value: number): string {
  if (!Number.isFinite(value)) return "—";
  const a = Math.abs(value);
  if (a < 1000) {
    const d = a >= 100 ? 1 : a >= 1 ? 3 : 4;
    return String(Number(value.toFixed(d)));
  }
  let u = 0;
  let v = value;
  while (Math.abs(v) >= 999.5 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return v.toPrecision(3) + UNITS[u];
}

/**
 * Formats prices of one symbol to its tick size, learnt from the prices it
 * is shown. Decimals only grow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TickFormatter } from "./tick_format.ts";
 * const f = new TickFormatter();
 * f.observe([65000.1, 65000.25]);
 * assert.equal(f.decimals, 2);
 * assert.equal(f.price(65001), "65,001.00");
 * ```
 */
export class TickFormatter {
  #decimals: number;
  readonly #max: number;

  /**
   * Creates a formatter that has seen no price yet.
   *
   * @param decimals Starting decimals. Default 0.
   * @param max Most decimals ever used (e.g. 4 for sizes). Default {@linkcode MAX_DECIMALS}.
   */
  constructor(decimals = 0, max = MAX_DECIMALS) {
    this.#decimals = decimals;
    this.#max = max;
  }

  /** Decimals used for prices. */
  get decimals(): number {
    return this.#decimals;
  }

  /** Learn from the first `count` prices (raises the decimals if needed). */
  observe(prices: ArrayLike<number>, count = prices.length): void {
    const d = decimalsOfAll(prices, count, this.#max);
    if (d > this.#decimals) this.#decimals = d;
  }

  /** A price with the learnt decimals. */
  price(value: number): string {
    return formatFixed(value, this.#decimals);
  }
}

/**
 * Basis points with enough decimals to show small spreads: 4 below 0.01,
 * 3 below 1, else 2; "—" for a non-finite value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBps } from "./tick_format.ts";
 * assert.equal(formatBps(0.0017), "0.0017");
 * assert.equal(formatBps(0.25), "0.250");
 * assert.equal(formatBps(12.345), "12.35");
 * ```
 */
export function formatBps(value: number): string {
  const a = Math.abs(value);
  return formatFixed(value, a < 0.01 ? 4 : a < 1 ? 3 : 2);
}
