/**
 * The symbol search's matcher: which served symbols a typed query shows, in
 * which order, and how many.
 *
 * Case-insensitive. Symbols that start with the query come first, then
 * those that contain it elsewhere; within each group shorter names first
 * (typing `BTC` shows `BTCUSDT` before `BTCDOMUSDT`), then alphabetical
 * (substring matches: earlier match first). At most `limit` results, so a
 * keystroke over 2,000 symbols is one pass and one small sort.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */

/** Options of {@linkcode matchSymbols}. */
export interface MatchOptions {
  /** Most results returned. Default 12. */
  limit?: number;
}

/** The default {@linkcode MatchOptions.limit}. */
export const DEFAULT_MATCH_LIMIT = 12;

interface Hit {
  symbol: string;
  at: number;
}

function byRank(a: Hit, b: Hit): number {
  return a.at - b.at || a.symbol.length - b.symbol.length ||
    (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);
}

/**
 * The symbols matching `query` (see the module docs). An empty (or blank)
 * query matches every symbol, in the list's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchSymbols } from "./symbol_match.ts";
 * const served = ["ETHBTC", "BTCDOMUSDT", "BTCUSDT", "WBTCUSDT", "ETHUSDT"];
 * assert.deepEqual(matchSymbols(served, "btc"), ["BTCUSDT", "BTCDOMUSDT", "WBTCUSDT", "ETHBTC"]);
 * assert.deepEqual(matchSymbols(served, "usdt", { limit: 2 }), ["BTCUSDT", "ETHUSDT"]);
 * ```
 *
 * @param symbols The served symbols, upper-case (as the service lists them).
 * @param query What was typed.
 * @param options See {@linkcode MatchOptions}.
 */
export function matchSymbols(
  symbols: readonly string[],
  query: string,
  options: MatchOptions = {},
): string[] {
  const limit = options.limit ?? DEFAULT_MATCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`matchSymbols: limit ${limit}: expected an integer ≥ 0`);
  }
  const q = query.trim().toUpperCase();
  if (q === "") return symbols.slice(0, limit);
  const hits: Hit[] = [];
  for (const symbol of symbols) {
    const at = symbol.indexOf(q);
    if (at >= 0) hits.push({ symbol, at });
  }
  // Prefix hits have at = 0; every other hit sorts after them.
  hits.sort(byRank);
  const out: string[] = [];
  for (let i = 0; i < hits.length && i < limit; i++) out.push(hits[i].symbol);
  return out;
}
