/**
 * Binance spot's REST weight of a depth snapshot request
 * (`GET /api/v3/depth?limit=N`, docs/design.md §3): the one table both the
 * ingest's REST client (to stay inside the per-minute budget) and the
 * simulated exchange (to enforce it) read.
 *
 * @example
 * ```ts
 * import { depthRequestWeight } from "./depth_request_weight.ts";
 *
 * depthRequestWeight(100); // 5
 * depthRequestWeight(1000); // 50
 * ```
 * @module
 */

/**
 * Weight of a depth snapshot request: limit ≤ 100 → 5, ≤ 500 → 25,
 * ≤ 1000 → 50, ≤ 5000 → 250.
 *
 * @param limit The `limit` parameter, an integer in [1, 5000].
 * @throws {RangeError} If `limit` is not an integer in [1, 5000].
 *
 * @example
 * ```ts
 * import { depthRequestWeight } from "./depth_request_weight.ts";
 *
 * depthRequestWeight(101); // 25
 * ```
 */
export function depthRequestWeight(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 5000) {
    throw new RangeError(`depth limit must be an integer in [1, 5000], got ${limit}`);
  }
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}
