/**
 * In-place selection of the k-th smallest value (quickselect with a
 * median-of-three pivot), for medians without sorting or allocating.
 *
 * @example
 * ```ts
 * import { selectKth } from "./select.ts";
 * const a = Float64Array.of(5, 1, 4, 2, 3);
 * selectKth(a, 5, 2); // 3 (the median); `a` is reordered
 * ```
 * @module
 */

/**
 * Reorders `a[0…n)` so that `a[k]` holds the k-th smallest value (0-based),
 * everything before it is ≤ and everything after it ≥, and returns `a[k]`.
 * Values must not be NaN.
 *
 * @throws RangeError when k is not in [0, n) or n exceeds a.length.
 * @example
 * ```ts
 * import { selectKth } from "./select.ts";
 * selectKth(Float64Array.of(9, 7, 8), 3, 0); // 7
 * ```
 */
export function selectKth(a: Float64Array, n: number, k: number): number {
  if (!(n <= a.length) || !(k >= 0 && k < n)) {
    throw new RangeError(
      `selectKth needs 0 ≤ k < n ≤ a.length, got k ${k}, n ${n}, length ${a.length}`,
    );
  }
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    // Median of three as pivot, moved to a[hi].
    const mid = (lo + hi) >>> 1;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[mid] < a[hi]) swap(a, mid, hi);
    const pivot = a[hi];
    // Lomuto partition.
    let store = lo;
    for (let i = lo; i < hi; i++) {
      if (a[i] < pivot) {
        swap(a, i, store);
        store++;
      }
    }
    swap(a, store, hi);
    if (store === k) return a[k];
    if (store < k) lo = store + 1;
    else hi = store - 1;
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
