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
 * import { depthRequestWeight } from "./depth_request_weight.ts";
 *
 * depthRequestWeight(100); // 5
 * depthRequestWeight(1000); // 50
 * depthRequestWeight(1000, "binance-usdm"); // 20
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
 * Weight of a depth snapshot request of `venue` (the module table).
 *
 * @param limit The `limit` parameter: an integer in [1, 5000] (spot), one of
 *   5, 10, 20, 50, 100, 500, 1000 (USD-M).
 * @param venue The venue. Default `"binance"` (spot).
 * @throws {RangeError} If the venue does not serve `limit`.
 *
 * @example
 * ```ts
 * import { depthRequestWeight } from "./depth_request_weight.ts";
 *
 * depthRequestWeight(101); // 25
 * depthRequestWeight(50, "binance-usdm"); // 2
 * ```
 */
export function depthRequestWeight(limit: number, venue: DepthRequestVenue = "binance"): number {
  const rules = rulesOf(venue);
  if (venue === "binance") {
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) {
      throw new RangeError(`depth limit must be an integer in [1, 5000], got ${limit}`);
    }
    if (limit <= 100) return 5;
    if (limit <= 500) return 25;
    if (limit <= 1000) return 50;
    return 250;
  }
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
 * @param levels Levels per side wanted, a positive integer.
 * @param venue The venue. Default `"binance"` (spot).
 * @throws {RangeError} If `levels` is not a positive integer.
 *
 * @example
 * ```ts
 * import { depthRequestLimit } from "./depth_request_weight.ts";
 *
 * depthRequestLimit(200); // 200
 * depthRequestLimit(200, "binance-usdm"); // 500
 * depthRequestLimit(5000, "binance-usdm"); // 1000
 * ```
 */
export function depthRequestLimit(levels: number, venue: DepthRequestVenue = "binance"): number {
  const rules = rulesOf(venue);
  if (!Number.isInteger(levels) || levels < 1) {
    throw new RangeError(`levels must be a positive integer, got ${levels}`);
  }
  if (rules.limits === undefined) return Math.min(levels, rules.maxLimit);
  for (const limit of rules.limits) if (limit >= levels) return limit;
  return rules.maxLimit;
}
