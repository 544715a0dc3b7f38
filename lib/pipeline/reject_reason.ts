/**
 * Why the ingest side refused a frame. Each value is a small integer used as an
 * index into per-symbol counters in shared memory; {@link REJECT_REASON_NAMES}
 * gives the `reason` label of `depthwatch_frames_rejected_by_reason_total`.
 *
 * @example
 * ```ts
 * import { REJECT_REASON_NAMES, RejectReason } from "./reject_reason.ts";
 * REJECT_REASON_NAMES[RejectReason.Crossed]; // "crossed"
 * ```
 * @module
 */

/** Reasons for rejecting a frame. `Ok` (0) means accepted. */
export const RejectReason = {
  /** Accepted. */
  Ok: 0,
  /** Not valid JSON or not the expected shape (garbage, truncated, missing fields). */
  Malformed: 1,
  /** A stream or symbol this run does not subscribe to. */
  UnknownStream: 2,
  /** Best bid >= best ask. */
  Crossed: 3,
  /** A price that is NaN, non-finite, zero or negative. */
  BadPrice: 4,
  /** A size that is negative, NaN or non-finite. */
  BadSize: 5,
  /** Bids not strictly descending or asks not strictly ascending. */
  Unsorted: 6,
  /** More levels than the slot holds (partial streams) or the scratch holds (diff events). */
  TooManyLevels: 7,
  /** lastUpdateId older than the last accepted one of the symbol. */
  StaleUpdateId: 8,
  /** lastUpdateId equal to the last accepted one: the book did not change. */
  Duplicate: 9,
  /** Diff mode: event's first id does not follow the previous last id (the symbol resyncs). */
  SequenceGap: 10,
  /** Diff mode: event already contained in the snapshot (u <= lastUpdateId), dropped by the sync rule. */
  BeforeSnapshot: 11,
  /**
   * Diff mode: a buffered event pushed out of its symbol's ring by newer ones
   * while waiting for a snapshot (the ring keeps the most recent), or one
   * larger than the whole ring.
   */
  BufferOverflow: 12,
  /**
   * Venues with a book checksum (OKX, Kraken): the book after applying the
   * message does not match the checksum the venue sent (the symbol resyncs).
   */
  ChecksumMismatch: 13,
} as const;

/** One of the {@link RejectReason} values. */
export type RejectReason = typeof RejectReason[keyof typeof RejectReason];

/** Label values by reason code (index 0, "ok", is never exported as a rejection). */
export const REJECT_REASON_NAMES: readonly string[] = [
  "ok",
  "malformed",
  "unknown_stream",
  "crossed",
  "bad_price",
  "bad_size",
  "unsorted",
  "too_many_levels",
  "stale_update_id",
  "duplicate",
  "sequence_gap",
  "before_snapshot",
  "buffer_overflow",
  "checksum_mismatch",
];

/** Number of reason codes, including `Ok`. */
export const REJECT_REASON_COUNT = REJECT_REASON_NAMES.length;
