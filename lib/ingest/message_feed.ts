/**
 * What the {@link Ingestor} needs of the thing that delivers exchange
 * messages: the live {@link ConnectionPool} and the {@link ReplayFeed} both
 * are one. Messages go to the `onMessage(text, receivedAtMs)` callback each
 * was built with.
 *
 * @example
 * ```ts
 * import type { MessageFeed } from "./message_feed.ts";
 * declare const feed: MessageFeed;
 * feed.start();
 * feed.feedState(0); // FeedState.Connecting until frames arrive
 * await feed.close();
 * ```
 * @module
 */
import type { FeedState } from "../pipeline/feed_state.ts";
import type { ConnectionCounter } from "./stream_connection.ts";

/** A source of exchange messages with per-symbol feed state (see the module docs). */
export interface MessageFeed {
  /** Start delivering. */
  start(): void;
  /** Stop delivering; resolves when stopped. */
  close(): Promise<void>;
  /** A frame of `symbolId` was accepted at `nowMs` (epoch ms). */
  noteFrame(symbolId: number, nowMs: number): void;
  /** Diff mode: the symbol's book is out of sync (or back in sync). */
  setResyncing(symbolId: number, resyncing: boolean): void;
  /** The symbol's feed state. */
  feedState(symbolId: number): FeedState;
  /** A connection counter summed over the feed's connections (0 where it means nothing). */
  total(counter: ConnectionCounter): number;
}
