/**
 * Order-book imbalance over the top N levels of each side:
 * (ΣQb − ΣQa) / (ΣQb + ΣQa), in [−1, 1], positive when bids are heavier.
 *
 * A side with fewer than N levels contributes the levels it has. The result
 * is NaN when either side is empty (a one-sided book is a data condition, not
 * a ±1 signal) or when both sums are 0.
 *
 * @example
 * ```ts
 * import { BookSlotLayout, BOOK_BID_COUNT, BOOK_ASK_COUNT } from "../ingest/book_slot.ts";
 * const layout = new BookSlotLayout(2);
 * const f64 = new Float64Array(layout.slotWords);
 * f64[layout.bidPrice(0)] = 99; f64[layout.bidSize(0)] = 3; f64[BOOK_BID_COUNT] = 1;
 * f64[layout.askPrice(0)] = 101; f64[layout.askSize(0)] = 1; f64[BOOK_ASK_COUNT] = 1;
 * imbalance(f64, 0, layout, 5); // (3 − 1) / (3 + 1) = 0.5
 * ```
 * @module
 */

import { BOOK_ASK_COUNT, BOOK_BID_COUNT, type BookSlotLayout } from "../ingest/book_slot.ts";

/**
 * Imbalance over the top `n` levels per side (n ≥ 1) of the book slot at `base`.
 *
 * @example
 * ```ts
 * imbalance(f64, 0, layout, 1); // 0.5 for bid size 3 and ask size 1
 * ```
 */
export function imbalance(
  f64: Float64Array,
  base: number,
  layout: BookSlotLayout,
  n: number,
): number {
  const nb = Math.min(n, f64[base + BOOK_BID_COUNT]);
  const na = Math.min(n, f64[base + BOOK_ASK_COUNT]);
  if (!(nb >= 1 && na >= 1)) return NaN;
  let qb = 0;
  for (let i = 0; i < nb; i++) qb += f64[base + layout.bidSize(i)];
  let qa = 0;
  for (let i = 0; i < na; i++) qa += f64[base + layout.askSize(i)];
  const total = qb + qa;
  if (!(total > 0)) return NaN;
  return (qb - qa) / total;
}
