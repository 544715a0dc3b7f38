/**
 * The dashboard's first-paint data: what the index route hands to the
 * islands so the server-rendered page already shows the current state, and
 * the browser can fill its rings before the socket says hello.
 *
 * History travels as columns (one number array per charted quantity), not as
 * frame objects, to keep the page's data block small; only the newest frame
 * carries its ladder.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import { copyDashFrame, type DashFrame, emptyDashFrame } from "./dash_frame.ts";
import type { FrameRing } from "./frame_ring.ts";

/** Columns of the history, oldest first; all the same length. */
export interface SeedColumns {
  /** Receive times, epoch ms. */
  time: number[];
  /** Sequence numbers. */
  seq: number[];
  /** Mid prices. */
  mid: number[];
  /** Weighted mids. */
  weightedMid: number[];
  /** Spreads in bps. */
  spreadBps: number[];
  /** Imbalance, top 1. */
  imbalance1: number[];
  /** Imbalance, top 5. */
  imbalance5: number[];
  /** Imbalance, top 20. */
  imbalance20: number[];
  /** OFI e. */
  ofi: number[];
  /** OFI Σ 1 s. */
  ofi1s: number[];
  /** OFI Σ 10 s. */
  ofi10s: number[];
  /** Latency, ms. */
  latencyMs: number[];
}

/** Names of the {@linkcode SeedColumns}, in a fixed order. */
export const SEED_COLUMNS: readonly (keyof SeedColumns)[] = [
  "time",
  "seq",
  "mid",
  "weightedMid",
  "spreadBps",
  "imbalance1",
  "imbalance5",
  "imbalance20",
  "ofi",
  "ofi1s",
  "ofi10s",
  "latencyMs",
];

/** Everything the dashboard islands start from. */
export interface DashboardSeed {
  /** Every symbol the service serves, upper-case. */
  symbols: string[];
  /** The symbol shown first. */
  symbol: string;
  /** History of `symbol`, oldest first. */
  history: SeedColumns;
  /** Newest frame of `symbol` (with its ladder), or null before any. */
  latest: DashFrame | null;
  /** WebSocket path. Default `/ws`. */
  wsPath: string;
  /** Stats JSON path. Default `/stats`. */
  statsPath: string;
}

function emptyColumns(): SeedColumns {
  const c = {} as SeedColumns;
  for (const k of SEED_COLUMNS) c[k] = [];
  return c;
}

/**
 * Build a seed from frames of one symbol, oldest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildSeed } from "./dashboard_seed.ts";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * const f = emptyDashFrame("BTCUSDT");
 * f.mid = 5;
 * const seed = buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [f] });
 * assert.deepEqual(seed.history.mid, [5]);
 * assert.equal(seed.latest?.mid, 5);
 * ```
 */
export function buildSeed(options: {
  symbols: readonly string[];
  symbol: string;
  frames: readonly DashFrame[];
  wsPath?: string;
  statsPath?: string;
}): DashboardSeed {
  const history = emptyColumns();
  for (const f of options.frames) {
    for (const k of SEED_COLUMNS) history[k].push(f[k]);
  }
  const last = options.frames[options.frames.length - 1];
  return {
    symbols: [...options.symbols],
    symbol: options.symbol,
    history,
    latest: last ? copyDashFrame(last, emptyDashFrame()) : null,
    wsPath: options.wsPath ?? "/ws",
    statsPath: options.statsPath ?? "/stats",
  };
}

/**
 * Replace the contents of `ring` with the seed's history.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildSeed, fillRingFromSeed } from "./dashboard_seed.ts";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * import { FrameRing } from "./frame_ring.ts";
 * const f = emptyDashFrame("BTCUSDT");
 * f.mid = 5;
 * const ring = new FrameRing();
 * fillRingFromSeed(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [f, f] }), ring);
 * assert.equal(ring.size, 2);
 * ```
 */
export function fillRingFromSeed(seed: DashboardSeed, ring: FrameRing): void {
  ring.clear();
  const h = seed.history;
  const n = h.time.length;
  const f = emptyDashFrame(seed.symbol);
  for (let i = 0; i < n; i++) {
    for (const k of SEED_COLUMNS) f[k] = h[k][i];
    ring.push(f);
  }
}
