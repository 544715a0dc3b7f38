/**
 * Start-time resolution of `--symbols`: a list of names only is used as given;
 * a list with a pattern or `all` is resolved against the exchange's listing
 * (`GET /api/v3/exchangeInfo` at `--binance-rest-url`, or at the in-process
 * simulated exchange) into the concrete symbol list the service runs with.
 *
 * Failures say what was wrong and what was expected: a pattern that matches
 * nothing, a name the exchange does not list (or lists but not `TRADING`), an
 * answer that is not a listing, a 418 ban → {@linkcode ConfigError} (the
 * command line exits 2); the exchange unreachable or busy (5xx, 429, network)
 * on every one of a bounded number of attempts with backoff →
 * {@linkcode ExchangeInfoError} with `transient` set (exit 1).
 *
 * The 20 weight of the request is spent before the ingest's REST client
 * exists (it lives in the ingest worker, started afterwards); that client
 * keeps a 20 % margin under the exchange's limit and reads the exchange's own
 * `X-MBX-USED-WEIGHT-1M` count from its first answer, so it sees this weight.
 *
 * @example
 * ```ts ignore
 * import { parseConfig } from "./config.ts";
 * import { resolveSymbols } from "./symbol_resolution.ts";
 * const config = parseConfig(["--symbols", "*usdt"]);
 * const resolved = await resolveSymbols(config, config.binanceRestUrl);
 * resolved.symbols; // every TRADING symbol ending in usdt
 * ```
 * @module
 */

import { Backoff } from "../pipeline/backoff.ts";
import { ExchangeInfoError, fetchExchangeInfo } from "../ingest/exchange_info.ts";
import { resolveSymbolSelector, SymbolSelectorError } from "../ingest/symbol_selector.ts";
import type { Logger } from "../pipeline/logger.ts";
import { type Config, ConfigError } from "./config.ts";

export { ExchangeInfoError };

/**
 * What the in-process simulated exchange lists besides the names given when
 * `--symbols` holds a pattern or `all`: the four instruments it models closely.
 */
export const SIM_LISTED: readonly string[] = Object.freeze([
  "btcusdt",
  "ethusdt",
  "bnbusdt",
  "solusdt",
]);

/**
 * The symbols the in-process simulated exchange (`--source sim`) simulates for
 * `config`: the names given, plus {@linkcode SIM_LISTED} when the list holds a
 * pattern or `all`.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { simSymbols } from "./symbol_resolution.ts";
 * simSymbols(parseConfig(["--symbols", "xrpusdt,*btc*"])); // ["xrpusdt", "btcusdt", "ethusdt", "bnbusdt", "solusdt"]
 * ```
 */
export function simSymbols(config: Config): string[] {
  if (!config.symbolSelector.needsExchange) return [...config.symbols];
  return [...new Set([...config.symbols, ...SIM_LISTED])];
}

/** Options of {@linkcode resolveSymbols}. */
export interface ResolveSymbolsOptions {
  /** Where progress and retries are logged. Default none. */
  log?: Logger;
  /** Waits between attempts. Default `new Backoff()` (1 s base, 30 s cap). */
  backoff?: Backoff;
  /** Requests before giving up on a busy or unreachable exchange. Default 4. */
  maxAttempts?: number;
}

/**
 * `config` with `symbols` resolved against the listing at `restUrl` when
 * `--symbols` holds a pattern or `all`; `config` itself otherwise (no request).
 *
 * @param config The parsed configuration.
 * @param restUrl REST base URL of the exchange (`--binance-rest-url`, or the simulated exchange's).
 * @param options See {@linkcode ResolveSymbolsOptions}.
 * @throws {ConfigError} For `--symbols` entries the listing does not satisfy, or an
 *   answer that is not a listing (see the module documentation).
 * @throws {ExchangeInfoError} When the exchange stayed unreachable or busy.
 * @example
 * ```ts ignore
 * const resolved = await resolveSymbols(parseConfig(["--symbols", "all"]), "http://127.0.0.1:9443");
 * ```
 */
export async function resolveSymbols(
  config: Config,
  restUrl: string,
  options: ResolveSymbolsOptions = {},
): Promise<Config> {
  const selector = config.symbolSelector;
  if (!selector.needsExchange) return config;
  const { log, backoff, maxAttempts } = options;
  const flag = `--symbols ${JSON.stringify(selector.text)}`;
  let info;
  try {
    info = await fetchExchangeInfo(restUrl, {
      backoff,
      maxAttempts,
      onRetry: (reason, delayMs) =>
        log?.warn(
          `${flag}: the exchange's symbol listing failed (${reason}); retrying in ${
            Math.round(delayMs)
          } ms`,
        ),
    });
  } catch (e) {
    if (!(e instanceof ExchangeInfoError)) throw e;
    const message = `${flag} needs the exchange's symbol listing, which could not be had: ` +
      `${e.message} (check --binance-rest-url, or list the symbols by name)`;
    if (e.transient) throw new ExchangeInfoError(message, true, e.status);
    throw new ConfigError(message, "--symbols", selector.text);
  }
  let symbols: string[];
  try {
    const unusable: string[] = [];
    symbols = resolveSymbolSelector(selector, info.symbols, (s) => unusable.push(s));
    if (unusable.length > 0) {
      log?.warn(
        `${flag}: left out ${unusable.length} listed symbol(s) whose names depthwatch cannot ` +
          `stream (expected 1 to 32 of a-z 0-9 _ . -): ${unusable.slice(0, 10).join(", ")}` +
          (unusable.length > 10 ? ", …" : ""),
      );
    }
  } catch (e) {
    if (!(e instanceof SymbolSelectorError)) throw e;
    throw new ConfigError(`${flag}: ${e.message}`, "--symbols", selector.text);
  }
  log?.info(
    `${flag} resolved to ${symbols.length} symbols of the ${info.symbols.length} the exchange ` +
      `lists (exchangeInfo weight 20; weight used this minute: ${
        info.usedWeight1m ?? "not reported"
      })`,
  );
  return Object.freeze({ ...config, symbols: Object.freeze(symbols) });
}
