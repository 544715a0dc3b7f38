/**
 * The detail page's per-interaction costs at 2,000 symbols: one keystroke of
 * the symbol search (`matchSymbols`, a query that matches most symbols and
 * one that matches a few) and one `/stats` feeds summary (`summariseFeeds`:
 * count the states, sort worst first, cut a page of 20), which the service
 * computes once per poll of every open health panel.
 *
 * Indicative only on a shared, loaded machine (the team's runs: 2 cores,
 * load 5–15).
 *
 * Run: deno bench -A bench/dashboard_scale_bench.ts
 */
import { matchSymbols } from "../lib/client/symbol_match.ts";
import { type FeedRow, summariseFeeds } from "../lib/metrics/feed_summary.ts";

const N = 2000;
const QUOTES = ["USDT", "BTC", "ETH", "FDUSD"];
const symbols = Array.from(
  { length: N },
  (_, i) => `C${i.toString(36).toUpperCase()}${QUOTES[i % 4]}`,
);
const STATES = ["live", "live", "live", "live", "live", "live", "live", "stale", "connecting"];
const rows: FeedRow[] = symbols.map((symbol, i) => ({
  symbol,
  feedState: STATES[i % STATES.length],
  received: 1000 + i,
  rejected: i % 13 === 0 ? i % 7 : 0,
  skipped: i % 5,
  lastFrameAgeMs: i % 17 === 0 ? null : (i * 37) % 5000,
}));

Deno.bench("matchSymbols: 2,000 symbols, a query most match (usdt)", { group: "search" }, () => {
  matchSymbols(symbols, "usdt");
});

Deno.bench("matchSymbols: 2,000 symbols, a query few match (c1z)", { group: "search" }, () => {
  matchSymbols(symbols, "c1z");
});

Deno.bench("summariseFeeds: 2,000 feeds, page 3 of 20", { group: "health" }, () => {
  summariseFeeds(rows.slice(), { offset: 40, limit: 20 });
});
