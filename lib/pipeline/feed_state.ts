/**
 * Per-symbol feed states, shared by the ingest worker (writer) and the main
 * thread (reader) as small integers in shared memory.
 *
 * @example
 * ```ts
 * import { FEED_STATE_NAMES, FeedState } from "./feed_state.ts";
 * FEED_STATE_NAMES[FeedState.Live]; // "live"
 * ```
 * @module
 */

/** State of one symbol's feed. */
export const FeedState = {
  /** No connection yet, or waiting to reconnect. */
  Connecting: 0,
  /** Frames are flowing. */
  Live: 1,
  /** Connected but no frame for longer than `--stale-ms`. */
  Stale: 2,
  /** Diff mode: out of sync, fetching a snapshot; the last good book flows flagged stale. */
  Resyncing: 3,
} as const;

/** One of the {@link FeedState} values. */
export type FeedState = typeof FeedState[keyof typeof FeedState];

/** Lower-case names of the feed states, indexed by value. */
export const FEED_STATE_NAMES: readonly string[] = ["connecting", "live", "stale", "resyncing"];
