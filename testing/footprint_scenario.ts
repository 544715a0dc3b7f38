/**
 * Scenarios of the footprint benchmark: how many symbols the exchange serves
 * and the service watches, and how many dashboard clients connect (one
 * symbol each, spread evenly over the symbols). Also the symbol names both
 * processes agree on, and how many symbols the service accepts today
 * ({@link acceptedSymbols}: asked of the service's own flag parser, so a
 * scenario runs in full as soon as a cap is lifted).
 *
 * @example
 * ```ts
 * const scenarios = parseScenarios("2x0,2x1,200x0");
 * scenarios[1]; // { symbols: 2, clients: 1 }
 * symbolNames(3); // ["btcusdt", "ethusdt", "s0002usdt"]
 * ```
 * @module
 */

import { ConfigError, parseConfig } from "../lib/server/config.ts";
import type { VenueId } from "../lib/pipeline/venue_id.ts";

/** One scenario: symbols served and watched, dashboard clients connected. */
export interface Scenario {
  /** Symbols the exchange serves and the service watches, at least 1. */
  symbols: number;
  /** WebSocket clients, one symbol each, at least 0. */
  clients: number;
}

/**
 * The scenarios of issue 13: (symbols, clients) = (2, 0), (2, 1), (200, 0),
 * (2000, 0), (2000, 1000).
 *
 * @example
 * ```ts
 * DEFAULT_SCENARIOS.length; // 5
 * ```
 */
export const DEFAULT_SCENARIOS: readonly Scenario[] = Object.freeze([
  { symbols: 2, clients: 0 },
  { symbols: 2, clients: 1 },
  { symbols: 200, clients: 0 },
  { symbols: 2000, clients: 0 },
  { symbols: 2000, clients: 1000 },
]);

/**
 * Parses a comma-separated list of `SYMBOLSxCLIENTS` (e.g. `2x1,2000x1000`).
 *
 * @throws TypeError naming the bad item and the expected form.
 * @example
 * ```ts
 * parseScenarios("200x0"); // [{ symbols: 200, clients: 0 }]
 * ```
 */
export function parseScenarios(text: string): Scenario[] {
  const out: Scenario[] = [];
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)x(\d+)$/.exec(item);
    const symbols = m ? Number(m[1]) : NaN, clients = m ? Number(m[2]) : NaN;
    if (!m || !(symbols >= 1) || !(clients >= 0)) {
      throw new TypeError(
        `--scenarios: expected SYMBOLSxCLIENTS with at least 1 symbol (e.g. 2x1,2000x1000), got "${item}"`,
      );
    }
    out.push({ symbols, clients });
  }
  if (out.length === 0) throw new TypeError("--scenarios: expected at least one SYMBOLSxCLIENTS");
  return out;
}

/**
 * `n` symbol names both the simulator and the service accept: `btcusdt`,
 * `ethusdt`, then `s0002usdt`, `s0003usdt`, … — with several `venues`, symbol
 * i is on venue `i mod venues.length` (`okx:s0002-usdt`, `kraken:s0003/usd`).
 *
 * @example
 * ```ts
 * symbolNames(2000).at(-1); // "s1999usdt"
 * symbolNames(4, ["binance", "okx"]); // ["btcusdt", "okx:eth-usdt", "s0002usdt", "okx:s0003-usdt"]
 * ```
 */
export function symbolNames(n: number, venues: readonly VenueId[] = ["binance"]): string[] {
  if (venues.length === 0) throw new TypeError("symbolNames: expected at least one venue");
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const base = i === 0 ? "btc" : i === 1 ? "eth" : `s${String(i).padStart(4, "0")}`;
    out.push(venueSymbolName(venues[i % venues.length], base));
  }
  return out;
}

/**
 * The service name of the `base`/USDT (Kraken and Coinbase: USD) pair on `venue`,
 * as the simulator and the service accept it.
 *
 * @example
 * ```ts
 * venueSymbolName("okx", "btc"); // "okx:btc-usdt"
 * venueSymbolName("binance", "btc"); // "btcusdt"
 * ```
 */
export function venueSymbolName(venue: VenueId, base: string): string {
  switch (venue) {
    case "binance":
      return `${base}usdt`;
    case "binance-usdm":
    case "bybit":
      return `${venue}:${base}usdt`;
    case "okx":
      return `okx:${base}-usdt`;
    case "kraken":
      return `kraken:${base}/usd`;
    case "coinbase":
      return `coinbase:${base}-usd`;
  }
}

/**
 * The symbol of each of `clients` clients, spread evenly over `symbols`
 * (client i watches symbol ⌊i × symbols / clients⌋), upper-case as the
 * WebSocket API takes them.
 *
 * @example
 * ```ts
 * clientSymbols(["btcusdt", "ethusdt", "s0002usdt", "s0003usdt"], 2); // ["BTCUSDT", "S0002USDT"]
 * ```
 */
export function clientSymbols(symbols: readonly string[], clients: number): string[] {
  return Array.from(
    { length: clients },
    (_, i) => symbols[Math.floor(i * symbols.length / clients)].toUpperCase(),
  );
}

/**
 * How many of `n` symbols the service's `--symbols` flag accepts: `n` when
 * it takes them all, otherwise the largest count it takes (found by asking
 * its parser, `parseConfig`).
 *
 * @example
 * ```ts
 * acceptedSymbols(2); // 2
 * ```
 */
export function acceptedSymbols(n: number): number {
  const names = symbolNames(n);
  const accepts = (k: number) => {
    try {
      parseConfig(["--symbols", names.slice(0, k).join(",")]);
      return true;
    } catch (e) {
      if (e instanceof ConfigError) return false;
      throw e;
    }
  };
  if (accepts(n)) return n;
  let lo = 0, hi = n; // accepts(lo) or lo = 0; !accepts(hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (accepts(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
