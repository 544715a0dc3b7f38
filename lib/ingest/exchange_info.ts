/**
 * The exchange's symbol listing, `GET /api/v3/exchangeInfo` (request weight
 * {@linkcode EXCHANGE_INFO_WEIGHT}): the body is
 * `{ symbols: [{ symbol, status, baseAsset, quoteAsset, … }, …], … }`, every
 * other field ignored. {@linkcode fetchExchangeInfo} asks once at start and
 * retries a bounded number of times after a network error, a timeout, a 5xx or
 * a 429 (waiting the `Retry-After` it names when longer than the backoff); a 418
 * (IP banned), another status or a body of another shape fails at once.
 *
 * @example
 * ```ts ignore
 * import { fetchExchangeInfo } from "./exchange_info.ts";
 * const info = await fetchExchangeInfo("https://api.binance.com");
 * info.symbols.length; // e.g. 3000
 * info.symbols[0]; // { symbol: "ethbtc", status: "TRADING", baseAsset: "ETH", quoteAsset: "BTC" }
 * ```
 * @module
 */

import { Backoff } from "../pipeline/backoff.ts";
import { EXCHANGE_INFO_WEIGHT } from "../pipeline/exchange_info_weight.ts";

export { EXCHANGE_INFO_WEIGHT };

/** The path asked. */
export const EXCHANGE_INFO_PATH = "/api/v3/exchangeInfo";

/**
 * One symbol of the listing.
 *
 * @example
 * ```ts
 * const s: ListedSymbol = { symbol: "btcusdt", status: "TRADING", baseAsset: "BTC", quoteAsset: "USDT" };
 * ```
 */
export interface ListedSymbol {
  /** Lower-case symbol, as in stream names (`btcusdt`). */
  readonly symbol: string;
  /** Trading status: `TRADING`, `BREAK`, `HALT`, … */
  readonly status: string;
  /** Base asset (`BTC`). */
  readonly baseAsset: string;
  /** Quote asset (`USDT`). */
  readonly quoteAsset: string;
}

/**
 * What {@linkcode fetchExchangeInfo} got.
 *
 * @example
 * ```ts
 * const info: ExchangeInfo = { symbols: [], attempts: 1, usedWeight1m: 20 };
 * ```
 */
export interface ExchangeInfo {
  /** The symbols, in the exchange's order. */
  readonly symbols: readonly ListedSymbol[];
  /** Requests sent, the answered one included. */
  readonly attempts: number;
  /** The `X-MBX-USED-WEIGHT-1M` header of the answer, `undefined` when absent. */
  readonly usedWeight1m: number | undefined;
}

/** Options of {@linkcode fetchExchangeInfo}. */
export interface FetchExchangeInfoOptions {
  /** Requests before giving up after transient failures (5xx, 429, network, timeout). Default 4. */
  maxAttempts?: number;
  /** Waits between attempts. Default `new Backoff()` (1 s base, 30 s cap). */
  backoff?: Backoff;
  /** A request (body included) is abandoned after this long, in ms. Default 10000. */
  timeoutMs?: number;
  /** Longest wait a `Retry-After` may impose, in ms (longer fails at once). Default 60000. */
  maxRetryAfterMs?: number;
  /** Called before each wait with the reason and the delay. Default none. */
  onRetry?: (reason: string, delayMs: number) => void;
}

/**
 * The listing could not be had. `transient` is true when the exchange was
 * unreachable or busy (5xx, 429, network, timeout) on every attempt, false
 * when it answered something wrong (another status, garbage, a ban).
 *
 * @example
 * ```ts
 * import { ExchangeInfoError } from "./exchange_info.ts";
 * const e = new ExchangeInfoError("HTTP 500 after 4 attempts", true, 500);
 * e.transient; // true
 * ```
 */
export class ExchangeInfoError extends Error {
  /** True when every attempt failed for a reason that may pass. */
  readonly transient: boolean;
  /** The last HTTP status, `undefined` when none arrived. */
  readonly status: number | undefined;

  /**
   * @param message What went wrong.
   * @param transient See {@linkcode ExchangeInfoError.transient}.
   * @param status The last HTTP status.
   */
  constructor(message: string, transient: boolean, status?: number) {
    super(message);
    this.name = "ExchangeInfoError";
    this.transient = transient;
    this.status = status;
  }
}

/**
 * Parses an exchangeInfo body.
 *
 * @param text The response body.
 * @returns The symbols, lower case, in order.
 * @throws {TypeError} Saying what was expected, for anything but an object whose
 *   `symbols` is an array of objects with string `symbol` and `status`.
 * @example
 * ```ts
 * import { parseExchangeInfo } from "./exchange_info.ts";
 * parseExchangeInfo('{"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT"}]}');
 * // [{ symbol: "btcusdt", status: "TRADING", baseAsset: "BTC", quoteAsset: "USDT" }]
 * ```
 */
export function parseExchangeInfo(text: string): ListedSymbol[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new TypeError(`the body is not JSON (starts ${JSON.stringify(text.slice(0, 40))})`);
  }
  const symbols = (body as { symbols?: unknown } | null)?.symbols;
  if (typeof body !== "object" || body === null || !Array.isArray(symbols)) {
    throw new TypeError("the body has no symbols array");
  }
  const out: ListedSymbol[] = [];
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i] as Record<string, unknown> | null;
    if (
      typeof s !== "object" || s === null || typeof s.symbol !== "string" || s.symbol === "" ||
      typeof s.status !== "string"
    ) {
      throw new TypeError(`symbols[${i}] has no string symbol and status`);
    }
    out.push({
      symbol: s.symbol.toLowerCase(),
      status: s.status,
      baseAsset: typeof s.baseAsset === "string" ? s.baseAsset : "",
      quoteAsset: typeof s.quoteAsset === "string" ? s.quoteAsset : "",
    });
  }
  return out;
}

/** `Retry-After` in ms (seconds or an HTTP date); `undefined` when absent or unusable. */
function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Fetches and parses the exchange's listing from `restUrl` (see the module
 * documentation for the retries).
 *
 * @param restUrl REST base URL without trailing slash, e.g. `https://api.binance.com`.
 * @param options See {@linkcode FetchExchangeInfoOptions}.
 * @throws {ExchangeInfoError} Saying what was received and after how many attempts.
 * @example
 * ```ts ignore
 * import { fetchExchangeInfo } from "./exchange_info.ts";
 * const { symbols } = await fetchExchangeInfo("http://127.0.0.1:9443", { maxAttempts: 2 });
 * ```
 */
export async function fetchExchangeInfo(
  restUrl: string,
  options: FetchExchangeInfoOptions = {},
): Promise<ExchangeInfo> {
  const {
    maxAttempts = 4,
    backoff = new Backoff(),
    timeoutMs = 10_000,
    maxRetryAfterMs = 60_000,
    onRetry,
  } = options;
  const url = restUrl + EXCHANGE_INFO_PATH;
  let reason = "";
  let status: number | undefined;
  for (let attempt = 1;; attempt++) {
    let waitAtLeast = 0;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      status = res.status;
      const text = await res.text();
      if (res.status === 200) {
        let symbols;
        try {
          symbols = parseExchangeInfo(text);
        } catch (e) {
          throw new ExchangeInfoError(
            `${url} answered 200 but ${
              (e as Error).message
            }; expected {"symbols":[{"symbol":…,"status":…},…]}`,
            false,
            200,
          );
        }
        const used = Number(res.headers.get("x-mbx-used-weight-1m") ?? NaN);
        return {
          symbols,
          attempts: attempt,
          usedWeight1m: Number.isFinite(used) ? used : undefined,
        };
      }
      const after = retryAfterMs(res.headers);
      if (res.status === 418) {
        throw new ExchangeInfoError(
          `${url} answered 418: this IP is banned by the exchange` +
            (after === undefined ? "" : ` for ${Math.ceil(after / 1000)} s more`) +
            `; expected 200 (wait for the ban to end)`,
          false,
          418,
        );
      }
      if (res.status !== 429 && res.status < 500) {
        throw new ExchangeInfoError(
          `${url} answered ${res.status} (${JSON.stringify(text.slice(0, 80))}); expected 200`,
          false,
          res.status,
        );
      }
      reason = `HTTP ${res.status}`;
      if (res.status === 429 && after !== undefined) {
        if (after > maxRetryAfterMs) {
          throw new ExchangeInfoError(
            `${url} answered 429 with Retry-After ${Math.ceil(after / 1000)} s, longer than the ` +
              `${maxRetryAfterMs / 1000} s start can wait; expected 200`,
            true,
            429,
          );
        }
        waitAtLeast = after;
      }
    } catch (e) {
      if (e instanceof ExchangeInfoError) throw e;
      status = undefined;
      reason = e instanceof DOMException && e.name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : `${(e as Error).message}`;
    }
    if (attempt >= maxAttempts) {
      throw new ExchangeInfoError(
        `${url} failed ${attempt} times (last: ${reason}); expected 200 with the symbol listing`,
        true,
        status,
      );
    }
    const delay = Math.max(backoff.next(), waitAtLeast);
    onRetry?.(reason, delay);
    await new Promise((r) => setTimeout(r, delay));
  }
}
