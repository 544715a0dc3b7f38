/**
 * A REST depth snapshot with prices and sizes parsed to numbers: what the
 * REST client returns and what `DiffSync.onSnapshot` seeds a local book
 * from.
 *
 * @example
 * ```ts
 * import type { DepthSnapshot } from "./depth_snapshot.ts";
 * const snapshot: DepthSnapshot = { lastUpdateId: 5, bids: [[1.5, 2]], asks: [] };
 * ```
 * @module
 */

import type { LevelPair } from "./local_book.ts";

/** A parsed depth snapshot. */
export interface DepthSnapshot {
  /** `lastUpdateId` of the snapshot; a non-negative integer. */
  lastUpdateId: number;
  /** `[price, size]` bid levels; the exchange sends them best (highest) first. */
  bids: ArrayLike<LevelPair>;
  /** `[price, size]` ask levels; the exchange sends them best (lowest) first. */
  asks: ArrayLike<LevelPair>;
  /** Exchange time of the snapshot (futures `E`), epoch ms; omitted on spot. */
  eventTime?: number;
  /**
   * The REST response body this snapshot was parsed from, byte for byte: set
   * only by a `RestClient` asked to keep bodies (`keepBody`, for the
   * recorder); otherwise absent.
   */
  body?: string;
}
