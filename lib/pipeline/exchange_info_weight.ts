/**
 * Request weight of Binance spot `GET /api/v3/exchangeInfo` without
 * parameters: 20 of the 6,000 per minute. The service spends it once at start
 * when `--symbols` holds a pattern or `all`; the simulated exchange charges it.
 *
 * @example
 * ```ts
 * import { EXCHANGE_INFO_WEIGHT } from "./exchange_info_weight.ts";
 * 6000 / EXCHANGE_INFO_WEIGHT; // 300 listings a minute at most
 * ```
 * @module
 */

/** Request weight of `GET /api/v3/exchangeInfo` (Binance spot, no parameters). */
export const EXCHANGE_INFO_WEIGHT = 20;
