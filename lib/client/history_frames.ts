/**
 * The dashboard seed's frames on the server: one symbol's stored history
 * (the main thread's `HistoryStore`) read as {@linkcode DashFrame}s, oldest
 * first. Shared by the pages that seed a detail view (`/s/{SYMBOL}`).
 *
 * The history is taken structurally ({@linkcode FrameHistorySource}), so
 * this module depends on no server module (lib/client and lib/server never
 * import each other); the service's `ServiceState` fits it.
 *
 * @module
 */
import { readFrame } from "../pipeline/analytics_frame.ts";
import type { FrameSlotLayout } from "../pipeline/frame_slot.ts";
import { type DashFrame, dashFrameFromAnalytics } from "./dash_frame.ts";

/** What {@linkcode historyFrames} reads: the service's symbols, history store and frame layout. */
export interface FrameHistorySource {
  /** Upper-case symbols, indexed by id. */
  readonly symbols: readonly string[];
  /** The stored frames: `forEach(id, fn)` visits symbol `id`'s frames oldest first. */
  readonly history: {
    forEach(symbolId: number, fn: (f64: Float64Array, base: number) => void): void;
  };
  /** The analytics frame layout the history is stored in. */
  readonly layout: FrameSlotLayout;
}

/**
 * Collect the history of symbol `id` as dashboard frames, oldest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { historyFrames } from "./history_frames.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * const empty = {
 *   symbols: ["BTCUSDT"],
 *   history: { forEach() {} },
 *   layout: new FrameSlotLayout(),
 * };
 * assert.deepEqual(historyFrames(empty, 0), []);
 * ```
 *
 * @param service The symbols, history store and layout.
 * @param id The symbol's id (its index in `service.symbols`).
 */
export function historyFrames(service: FrameHistorySource, id: number): DashFrame[] {
  const out: DashFrame[] = [];
  const symbol = service.symbols[id];
  service.history.forEach(id, (f64, base) => {
    out.push(dashFrameFromAnalytics(readFrame(f64, base, service.layout), symbol));
  });
  return out;
}
