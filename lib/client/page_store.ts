/**
 * The dashboard islands' way to their page's {@linkcode DashboardStore}:
 * the store keyed on the page's seed signal, whose live feed is the
 * server's `/ws` through {@linkcode connectMarketFeed}.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import type { DashboardSeed } from "./dashboard_seed.ts";
import { type DashboardStore, dashboardStore } from "./dashboard_store.ts";
import { connectMarketFeed } from "./market_feed.ts";

const OPTIONS = { connect: connectMarketFeed };

/**
 * The store of the page whose seed signal is `seed` (created on first use;
 * the feed opens when an island retains it).
 *
 * @example
 * ```ts
 * import type { Signal } from "@preact/signals";
 * import { useEffect } from "preact/hooks";
 * import { pageStore } from "./page_store.ts";
 * import type { DashboardSeed } from "./dashboard_seed.ts";
 * // In an island: the page's store, its feed open while the island is mounted.
 * function useDashboard(seed: Signal<DashboardSeed>) {
 *   const store = pageStore(seed);
 *   useEffect(() => store.retain(), [store]);
 *   return store;
 * }
 * ```
 */
export function pageStore(seed: Signal<DashboardSeed>): DashboardStore {
  return dashboardStore(seed, OPTIONS);
}
