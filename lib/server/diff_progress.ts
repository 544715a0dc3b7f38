/**
 * Diff mode bring-up progress, read from the ingest's shared gauges: how many
 * local books are synced out of how many, an ETA for the rest (at the REST
 * pace the ingest keeps, plus any 429/418 hold), how many symbols dashboards
 * watch (snapshotted first) and the snapshot depth. `/health` turns it into a
 * reason while not every book is synced, `/stats` shows it as `diffSync`.
 *
 * @example
 * ```ts
 * import { diffProgress, formatEta } from "./diff_progress.ts";
 * import type { ServiceState } from "./service_state.ts";
 * declare const state: ServiceState; // the running service's state
 * const p = diffProgress(state); // null in depth20 mode
 * if (p && p.synced < p.total) console.log(`${p.synced}/${p.total}, ETA ${formatEta(p.etaSeconds ?? 0)}`);
 * ```
 * @module
 */

import {
  INGEST_DIFF_ETA_MS,
  INGEST_DIFF_RANGE_RESYNCS,
  INGEST_DIFF_SNAPSHOTS_INVALID,
  INGEST_DIFF_SNAPSHOTS_TOO_OLD,
  INGEST_DIFF_SYNCED,
} from "../pipeline/pipeline_counters.ts";
import type { ServiceState } from "./service_state.ts";

/** Diff mode sync progress (see the module docs). */
export interface DiffProgress {
  /** Books currently synced (current, not resyncing). */
  synced: number;
  /** Symbols in diff mode. */
  total: number;
  /** Estimated seconds until every book is synced; 0 when all are; null before the ingest's first estimate. */
  etaSeconds: number | null;
  /** Symbols with at least one dashboard subscribed (their snapshots go first). */
  watched: number;
  /** Levels per side of each REST snapshot (`--snapshot-depth`). */
  snapshotDepth: number;
  /** Resyncs because a book's top left its seeded levels (since start; uint32). */
  rangeResyncs: number;
  /** Snapshots refused as older than the buffered events, each followed by another request (since start; uint32). */
  snapshotsTooOld: number;
  /** Snapshots refused as invalid, each followed by another request (since start; uint32). */
  snapshotsInvalid: number;
}

/**
 * The diff sync progress of the service, or `null` when it does not run in
 * diff mode.
 *
 * @example
 * ```ts
 * import { diffProgress } from "./diff_progress.ts";
 * import type { ServiceState } from "./service_state.ts";
 * declare const state: ServiceState;
 * diffProgress(state)?.synced; // e.g. 812
 * ```
 */
export function diffProgress(state: ServiceState): DiffProgress | null {
  if (state.stream !== "diff" || state.diff === undefined) return null;
  const c = state.counters;
  const total = state.symbols.length;
  const synced = Math.min(total, c.load(c.ingest(INGEST_DIFF_SYNCED)));
  const etaMs = c.load(c.ingest(INGEST_DIFF_ETA_MS));
  return {
    synced,
    total,
    etaSeconds: synced === total ? 0 : etaMs > 0 ? Math.ceil(etaMs / 1000) : null,
    watched: state.diff.watch.count(),
    snapshotDepth: state.diff.snapshotDepth,
    rangeResyncs: c.load(c.ingest(INGEST_DIFF_RANGE_RESYNCS)) >>> 0,
    snapshotsTooOld: c.load(c.ingest(INGEST_DIFF_SNAPSHOTS_TOO_OLD)) >>> 0,
    snapshotsInvalid: c.load(c.ingest(INGEST_DIFF_SNAPSHOTS_INVALID)) >>> 0,
  };
}

/**
 * Seconds as a short duration: `45s`, `2m10s`, `1h05m`.
 *
 * @example
 * ```ts
 * import { formatEta } from "./diff_progress.ts";
 * formatEta(130); // "2m10s"
 * ```
 */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}
