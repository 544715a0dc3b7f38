/**
 * The value columns of the market summary (`MarketSummary` in
 * `proto/market.proto`), in the order they are written and decoded: `mid`
 * as doubles, then the float columns. Defined once here because both ends
 * use it and may not import each other: the server writes them
 * (`lib/server/summary_writer.ts`), the browser decodes them
 * (`lib/client/summary_decode.ts`). Names are those of the generated schema.
 *
 * @example
 * ```ts
 * import { SUMMARY_COLUMNS, SUMMARY_FLOAT_COLUMNS } from "./summary_columns.ts";
 * SUMMARY_COLUMNS[0]; // "mid"
 * SUMMARY_FLOAT_COLUMNS.indexOf("ageMs"); // 8
 * ```
 * @module
 */

/** The float columns, in the field order of `MarketSummary`. */
export const SUMMARY_FLOAT_COLUMNS = [
  "change1m",
  "change15m",
  "spreadBps",
  "imbalanceL5",
  "ofi10s",
  "volatility1m",
  "depthBid10bps",
  "depthAsk10bps",
  "ageMs",
] as const;

/** The name of one float column. */
export type SummaryFloatColumn = typeof SUMMARY_FLOAT_COLUMNS[number];

/** Every value column in the order written: `mid` (doubles), then the floats. */
export const SUMMARY_COLUMNS = ["mid", ...SUMMARY_FLOAT_COLUMNS] as const;

/** The name of one value column. */
export type SummaryColumn = typeof SUMMARY_COLUMNS[number];
