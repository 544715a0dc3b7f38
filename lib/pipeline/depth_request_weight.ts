/**
 * The REST depth snapshot request of each Binance venue: its path, the
 * `limit` values it serves and their weights, and the venue's default weight
 * limit per minute (docs/design.md §3). The one table both the ingest's REST
 * client (to stay inside the per-minute budget) and the simulated exchange
 * (to enforce it) read.
 *
 * | venue          | request                 | limits                        | weight                                   | weight / minute |
 * | -------------- | ----------------------- | ----------------------------- | ---------------------------------------- | --------------- |
 * | `binance`      | `GET /api/v3/depth`     | 1 to 5000                     | ≤ 100: 5, ≤ 500: 25, ≤ 1000: 50, else 250 | 6000            |
 * | `binance-usdm` | `GET /fapi/v1/depth`    | 5, 10, 20, 50, 100, 500, 1000 | 5–50: 2, 100: 5, 500: 10, 1000: 20        | 2400            |
 *
 * @example
 * ```ts
 * import { depthRequestWeight, depthRequestWeightFor } from "./depth_request_weight.ts";
 *
 * depthRequestWeight(100); // 5
 * depthRequestWeight(1000); // 50
 * depthRequestWeightFor("binance-usdm", 1000); // 20
 * ```
 * @module
 */

/** The Binance venues whose books are seeded by REST depth snapshots. */
export type DepthRequestVenue = "binance" | "binance-usdm";

/** What a venue's depth snapshot request is (see the module table). */
export interface DepthRequestRules {
  /** Path of the request, without the query (`/api/v3/depth`). */
  readonly path: string;
  /** The `limit` values served, ascending; undefined when every integer from 1 to {@link DepthRequestRules.maxLimit} is. */
  readonly limits: readonly number[] | undefined;
  /** The deepest `limit`. */
  readonly maxLimit: number;
  /** The venue's default REST weight limit per minute and IP. */
  readonly weightLimit: number;
}

/** Each venue's {@link DepthRequestRules}. */
export const DEPTH_REQUEST_RULES: Readonly<Record<DepthRequestVenue, DepthRequestRules>> = Object
  .freeze({
    "binance": { path: "/api/v3/depth", limits: undefined, maxLimit: 5000, weightLimit: 6000 },
    "binance-usdm": {
      path: "/fapi/v1/depth",
      limits: Object.freeze([5, 10, 20, 50, 100, 500, 1000]),
      maxLimit: 1000,
      weightLimit: 2400,
    },
  });

/** The rules of `venue`, or a TypeError naming the venues there are. */
function rulesOf(venue: DepthRequestVenue): DepthRequestRules {
  const rules = Object.hasOwn(DEPTH_REQUEST_RULES, venue) ? DEPTH_REQUEST_RULES[venue] : undefined;
  if (rules === undefined) {
    throw new TypeError(
      `no REST depth request for venue ${
        JSON.stringify(venue)
      }: expected "binance" or "binance-usdm"`,
    );
  }
  return rules;
}

/**
 * Weight of a Binance spot depth snapshot request: limit ≤ 100 → 5,
 * ≤ 500 → 25, ≤ 1000 → 50, ≤ 5000 → 250 (other venues:
 * {@link depthRequestWeightFor}).
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

/**
 * Weight of a depth snapshot request of `venue` (the module table).
 *
 * @param venue The venue.
 * @param limit The `limit` parameter: an integer in [1, 5000] (spot), one of
 *   5, 10, 20, 50, 100, 500, 1000 (USD-M).
 * @throws {RangeError} If the venue does not serve `limit`.
 * @throws {TypeError} For a venue without REST depth snapshots.
 *
 * @example
 * ```ts
 * import { depthRequestWeightFor } from "./depth_request_weight.ts";
 *
 * depthRequestWeightFor("binance-usdm", 50); // 2
 * depthRequestWeightFor("binance", 50); // 5
 * ```
 */
export function depthRequestWeightFor(venue: DepthRequestVenue, limit: number): number {
  const rules = rulesOf(venue);
  if (venue === "binance") return depthRequestWeight(limit);
  if (!rules.limits!.includes(limit)) {
    throw new RangeError(
      `${venue} depth limit must be one of ${
        rules.limits!.join(", ")
      } (${rules.path}), got ${limit}`,
    );
  }
  if (limit <= 50) return 2;
  if (limit <= 100) return 5;
  if (limit <= 500) return 10;
  return 20;
}

/**
 * The smallest `limit` `venue` serves that is at least `levels`, or its
 * deepest when `levels` is deeper: what a snapshot of `levels` levels per
 * side is asked with.
 *
 * @param venue The venue.
 * @param levels Levels per side wanted, a positive integer.
 * @throws {RangeError} If `levels` is not a positive integer.
 * @throws {TypeError} For a venue without REST depth snapshots.
 *
 * @example
 * ```ts
 * import { depthRequestLimitFor } from "./depth_request_weight.ts";
 *
 * depthRequestLimitFor("binance", 200); // 200
 * depthRequestLimitFor("binance-usdm", 200); // 500
 * depthRequestLimitFor("binance-usdm", 5000); // 1000
 * ```
 */
export function depthRequestLimitFor(venue: DepthRequestVenue, levels: number): number {
  const rules = rulesOf(venue);
  if (!Number.isInteger(levels) || levels < 1) {
    throw new RangeError(`levels must be a positive integer, got ${levels}`);
  }
  if (rules.limits === undefined) return Math.min(levels, rules.maxLimit);
  for (const limit of rules.limits) if (limit >= levels) return limit;
  return rules.maxLimit;
}
