/**
 * `GET /api/v3/exchangeInfo` of the simulated exchange: the listing of its
 * symbols in the shape Binance spot answers (`timezone`, `serverTime`,
 * `rateLimits`, `exchangeFilters`, `symbols: [{ symbol, status, baseAsset,
 * quoteAsset, precisions, orderTypes, filters, … }]`), each symbol `TRADING`
 * unless its status was set otherwise. The request costs weight 20 on the
 * same per-minute meter as the depth snapshots (429 with `Retry-After` when
 * spent), and answers the `X-MBX-USED-WEIGHT-1M` header. The body is built
 * once: the listing does not change while the exchange runs.
 *
 * @example
 * ```ts
 * import { JsonReplies } from "./sim_http.ts";
 * import { WeightMeter } from "./rest_weight.ts";
 * import { ExchangeInfoEndpoint } from "./sim_exchange_info.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const info = new ExchangeInfoEndpoint({
 *   specs: [symbolSpec("btcusdt"), symbolSpec("ethbtc")],
 *   statuses: { ethbtc: "BREAK" },
 *   replies: new JsonReplies(),
 *   weights: new WeightMeter(),
 * });
 * const body = await info.handle().json();
 * body.symbols[1].status; // "BREAK"
 * ```
 * @module
 */

import { EXCHANGE_INFO_WEIGHT } from "../pipeline/exchange_info_weight.ts";
import type { WeightMeter } from "./rest_weight.ts";
import type { JsonReplies } from "./sim_http.ts";
import type { SymbolSpec } from "./symbol_spec.ts";

/** Quote assets recognised at the end of a symbol name, longest first. */
const QUOTES = [
  "FDUSD",
  "USDT",
  "USDC",
  "TUSD",
  "BUSD",
  "BTC",
  "ETH",
  "BNB",
  "EUR",
  "TRY",
  "BRL",
  "JPY",
  "DAI",
];

/**
 * The base and quote assets of a symbol name: a known quote asset at its end
 * (`USDT`, `BTC`, …), else its last three characters.
 *
 * @example
 * ```ts
 * import { splitAssets } from "./sim_exchange_info.ts";
 * splitAssets("BTCFDUSD"); // ["BTC", "FDUSD"]
 * splitAssets("S0002USDT"); // ["S0002", "USDT"]
 * ```
 */
export function splitAssets(symbol: string): [string, string] {
  const upper = symbol.toUpperCase();
  for (const q of QUOTES) {
    if (upper.length > q.length && upper.endsWith(q)) return [upper.slice(0, -q.length), q];
  }
  const cut = Math.max(1, upper.length - 3);
  return [upper.slice(0, cut), upper.slice(cut)];
}

/**
 * Options of {@link ExchangeInfoEndpoint}.
 *
 * @example
 * ```ts
 * import { JsonReplies } from "./sim_http.ts";
 * import { WeightMeter } from "./rest_weight.ts";
 * const o: ExchangeInfoOptions = { specs: [], replies: new JsonReplies(), weights: new WeightMeter() };
 * ```
 */
export interface ExchangeInfoOptions {
  /** The simulated instruments, in listing order. */
  specs: readonly SymbolSpec[];
  /** Status of a symbol (lower-case name) other than `TRADING`, e.g. `{ lunausdt: "BREAK" }`. Default none. */
  statuses?: Readonly<Record<string, string>>;
  /** Builds and counts the responses. */
  replies: JsonReplies;
  /** The REST weight meter shared with the depth endpoint. */
  weights: WeightMeter;
  /** REST weight allowed per minute before 429. Default 6000. */
  weightLimit?: number;
}

function decimals(d: number): string {
  return (10 ** -d).toFixed(8);
}

/**
 * `GET /api/v3/exchangeInfo` of the simulated exchange. See the module documentation.
 *
 * @example
 * ```ts
 * import { JsonReplies } from "./sim_http.ts";
 * import { WeightMeter } from "./rest_weight.ts";
 * const e = new ExchangeInfoEndpoint({ specs: [], replies: new JsonReplies(), weights: new WeightMeter() });
 * e.handle().headers.get("X-MBX-USED-WEIGHT-1M"); // "20"
 * ```
 */
export class ExchangeInfoEndpoint {
  readonly #replies: JsonReplies;
  readonly #weights: WeightMeter;
  readonly #weightLimit: number;
  /** The symbols part of the body, built once. */
  readonly #symbolsJson: string;

  /**
   * @param options See {@link ExchangeInfoOptions}.
   * @throws {TypeError} If a status names a symbol not simulated or is not upper-case letters and `_`.
   */
  constructor(options: ExchangeInfoOptions) {
    this.#replies = options.replies;
    this.#weights = options.weights;
    this.#weightLimit = options.weightLimit ?? 6000;
    const statuses = options.statuses ?? {};
    const known = new Set(options.specs.map((s) => s.stream));
    for (const [name, status] of Object.entries(statuses)) {
      if (!known.has(name.toLowerCase())) {
        throw new TypeError(`statuses names ${JSON.stringify(name)}, which is not simulated`);
      }
      if (!/^[A-Z_]{1,20}$/.test(status)) {
        throw new TypeError(
          `status of ${name} must be like "BREAK", got ${JSON.stringify(status)}`,
        );
      }
    }
    const lower = new Map(Object.entries(statuses).map(([k, v]) => [k.toLowerCase(), v]));
    this.#symbolsJson = JSON.stringify(options.specs.map((spec) => {
      const [baseAsset, quoteAsset] = splitAssets(spec.symbol);
      return {
        symbol: spec.symbol,
        status: lower.get(spec.stream) ?? "TRADING",
        baseAsset,
        baseAssetPrecision: 8,
        quoteAsset,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        icebergAllowed: true,
        ocoAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        filters: [
          {
            filterType: "PRICE_FILTER",
            minPrice: decimals(spec.priceDecimals),
            maxPrice: "1000000.00000000",
            tickSize: decimals(spec.priceDecimals),
          },
          {
            filterType: "LOT_SIZE",
            minQty: decimals(spec.lotDecimals),
            maxQty: "9000000.00000000",
            stepSize: decimals(spec.lotDecimals),
          },
        ],
        permissions: [],
        permissionSets: [["SPOT"]],
      };
    }));
  }

  /**
   * Answers one request.
   *
   * @param nowMs `performance.now()` time of the request (the weight meter's clock).
   */
  handle(nowMs: number = performance.now()): Response {
    const limit = this.#weightLimit;
    if (this.#weights.used(nowMs) + EXCHANGE_INFO_WEIGHT > limit) {
      return this.#replies.json(
        429,
        `{"code":-1003,"msg":"Too much request weight used; current limit is ${limit} request weight per 1 MINUTE."}`,
        {
          "Retry-After": String(
            this.#weights.retryAfterSeconds(EXCHANGE_INFO_WEIGHT, limit, nowMs),
          ),
          "X-MBX-USED-WEIGHT-1M": String(this.#weights.used(nowMs)),
        },
      );
    }
    this.#weights.add(EXCHANGE_INFO_WEIGHT, nowMs);
    const body = `{"timezone":"UTC","serverTime":${Date.now()},"rateLimits":[` +
      `{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":${limit}},` +
      `{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100},` +
      `{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":200000},` +
      `{"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000}],` +
      `"exchangeFilters":[],"symbols":${this.#symbolsJson}}`;
    return this.#replies.json(200, body, {
      "X-MBX-USED-WEIGHT-1M": String(this.#weights.used(nowMs)),
    });
  }
}
