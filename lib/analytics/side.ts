/**
 * Book sides as small integers, used by the analytics functions that work on
 * one side of a book at a time.
 *
 * @example
 * ```ts
 * import { Side } from "./side.ts";
 * const s: Side = Side.Ask; // 1
 * ```
 * @module
 */

/** The two sides of an order book. */
export const Side = {
  /** Buy orders; prices descending from the best bid. */
  Bid: 0,
  /** Sell orders; prices ascending from the best ask. */
  Ask: 1,
} as const;

/** One of the {@link Side} values. */
export type Side = typeof Side[keyof typeof Side];
