/**
 * Counts, per symbol, the live frames flagged resynced
 * ({@linkcode DashFrame.resynced}: the first frame after the ingest
 * reconnected or re-seeded that symbol's book), so the health view can show
 * how often a feed started over. Feed it every live frame; it keeps one
 * number per symbol seen (no allocation per frame once a symbol is known).
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import { emptyDashFrame } from "./dash_frame.ts";
 * import { ResyncTally } from "./resync_tally.ts";
 * const tally = new ResyncTally();
 * const f = emptyDashFrame("BTCUSDT");
 * f.resynced = true;
 * tally.note(f);
 * tally.count("BTCUSDT"); // 1
 * tally.total; // 1
 * ```
 * @module
 */
import type { DashFrame } from "./dash_frame.ts";

/** Resynced-frame counts per symbol. */
export class ResyncTally {
  /** Resynced frames over every symbol. */
  total = 0;
  readonly #bySymbol = new Map<string, number>();

  /**
   * Count `frame` if it is flagged resynced.
   *
   * @example
   * ```ts
   * import { emptyDashFrame } from "./dash_frame.ts";
   * import { ResyncTally } from "./resync_tally.ts";
   * const tally = new ResyncTally();
   * tally.note(emptyDashFrame("ETHUSDT")); // not resynced: not counted
   * tally.count("ETHUSDT"); // 0
   * ```
   */
  note(frame: DashFrame): void {
    if (!frame.resynced) return;
    this.#bySymbol.set(frame.symbol, (this.#bySymbol.get(frame.symbol) ?? 0) + 1);
    this.total++;
  }

  /**
   * Resynced frames of `symbol` noted so far (0 for a symbol never seen).
   *
   * @example
   * ```ts
   * import { ResyncTally } from "./resync_tally.ts";
   * new ResyncTally().count("BTCUSDT"); // 0
   * ```
   */
  count(symbol: string): number {
    return this.#bySymbol.get(symbol) ?? 0;
  }
}
