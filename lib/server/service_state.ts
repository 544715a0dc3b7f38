/**
 * What the running service hands to its routes (`ctx.state`): the pipeline's
 * shared memory, the main-thread stores and the supervisor's view of the
 * workers. Routes read it; only the service writes it.
 *
 * @example
 * ```ts
 * import { type ServiceState } from "./service_state.ts";
 * export const handler = (_req: Request, ctx: { state: ServiceState }) =>
 *   Response.json({ symbols: ctx.state.symbols });
 * ```
 * @module
 */

import type { MetricsSources } from "../metrics/metrics_sources.ts";
import type { BarStore } from "./bar_store.ts";
import type { HistoryStore } from "./history_store.ts";
import type { FrameSlotLayout } from "../pipeline/frame_slot.ts";
import type { DepthStream } from "../ingest/depth_stream.ts";
import type { WatchFlags } from "../pipeline/watch_flags.ts";
import type { BusNode } from "./bus_node.ts";

/** Everything the routes may read. */
export interface ServiceState extends MetricsSources {
  /** The ingest source ("binance" or "sim") and stream kind. */
  readonly source: string;
  /** The depth stream consumed. */
  readonly stream: DepthStream;
  /** Epoch ms when the service started. */
  readonly startedAt: number;
  /** Last frames per symbol. */
  readonly history: HistoryStore;
  /** 10 s and 1 m mid bars per symbol (the longer history). */
  readonly bars: BarStore;
  /** Analytics frame layout. */
  readonly layout: FrameSlotLayout;
  /**
   * The once-a-second market summary of every symbol (the overview's data;
   * `latest` is the first paint of `GET /`). Absent in tests without one.
   */
  readonly summary?: { readonly latest: Uint8Array | null; readonly seq: number };
  /** The node on a NATS bus (`--bus nats://…`); absent with `--bus memory`. */
  readonly bus?: BusNode;
  /** Optional bearer token guarding /ws, /metrics, /stats and /api/*. */
  readonly authToken?: string;
  /** Diff mode: symbols someone watches (written by the service, read by the ingest) and the snapshot depth. */
  readonly diff?: { readonly watch: WatchFlags; readonly snapshotDepth: number };
  /** `--source replay`: the recording played (`--replay-path`). */
  readonly replayPath?: string;
}
