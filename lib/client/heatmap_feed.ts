/**
 * What fills the liquidity heatmap's {@linkcode HeatmapRing}: the page
 * store's live frames of the shown symbol, one column each, and the resets.
 *
 * - Every live frame of the shown symbol is recorded (through
 *   {@linkcode DashboardStore.onFrame}, so none is missed when several
 *   arrive between two animation frames), and a paint is requested unless
 *   the dashboard is paused (it is requested on resume).
 * - Frames of other symbols are ignored.
 * - A symbol switch, and a Hello for the shown symbol (the first one, a
 *   resync after a reconnect, a seq gap or a restarted server), clear the
 *   ring and seed it with the store's newest frame of the symbol: the one
 *   ladder the server keeps (`lib/server/history_store.ts`).
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { DashboardStore } from "./dashboard_store.ts";
import type { HeatmapRing } from "./heatmap_ring.ts";

/** What the feed tells its painter. */
export interface HeatmapFeedHooks {
  /** The ring was cleared and seeded for `symbol`: forget the view, redraw all. */
  reset(symbol: string): void;
  /** Something new to paint (call at most once per animation frame: a scheduler's `request`). */
  request(): void;
}

/**
 * See the module docs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DashboardStore } from "./dashboard_store.ts";
 * import { buildSeed } from "./dashboard_seed.ts";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * import { HeatmapFeed } from "./heatmap_feed.ts";
 * const store = new DashboardStore(
 *   buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }),
 *   { scheduler: { requestFrame: () => 0, cancelFrame: () => {} } },
 * );
 * const ring = new HeatmapRing();
 * let requests = 0;
 * const feed = new HeatmapFeed(store, ring, { reset() {}, request: () => requests++ });
 * store.ingest(emptyDashFrame("BTCUSDT"));
 * assert.equal(ring.size, 1);
 * feed.dispose();
 * ```
 */
export class HeatmapFeed {
  readonly #store: DashboardStore;
  readonly #ring: HeatmapRing;
  readonly #hooks: HeatmapFeedHooks;
  readonly #offs: (() => void)[];
  #symbol: string;

  /**
   * Seeds the ring for the store's shown symbol and starts listening.
   *
   * @param store The page's store.
   * @param ring The heatmap's columns.
   * @param hooks See {@linkcode HeatmapFeedHooks}.
   */
  constructor(store: DashboardStore, ring: HeatmapRing, hooks: HeatmapFeedHooks) {
    this.#store = store;
    this.#ring = ring;
    this.#hooks = hooks;
    this.#symbol = store.symbol.peek();
    this.#seed();
    this.#offs = [
      store.onFrame((f) => {
        if (f.symbol !== this.#symbol) return;
        ring.push(f);
        if (!store.paused.peek()) hooks.request();
      }),
      store.onHistory((s) => {
        if (s === this.#symbol) this.#seed();
      }),
      store.symbol.subscribe((s) => {
        if (s === this.#symbol) return;
        this.#symbol = s;
        this.#seed();
      }),
      store.paused.subscribe((p) => {
        if (!p) hooks.request();
      }),
    ];
  }

  /** The symbol whose columns the ring holds. */
  get symbol(): string {
    return this.#symbol;
  }

  #seed(): void {
    this.#ring.clear();
    const f = this.#store.latest(this.#symbol);
    if (f) this.#ring.push(f);
    this.#hooks.reset(this.#symbol);
    this.#hooks.request();
  }

  /** Stop listening. */
  dispose(): void {
    for (const off of this.#offs) off();
    this.#offs.length = 0;
  }
}
