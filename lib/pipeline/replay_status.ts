/**
 * The replay position, shared between the ingest worker (the replay source
 * writes it) and the main thread (`/stats`, `/metrics` read it): a few
 * Float64 words in a SharedArrayBuffer. Each word is written by one thread
 * only; a reader may see the words of two consecutive records mixed, which
 * is fine for a display.
 *
 * @example
 * ```ts
 * import { ReplayStatus } from "./replay_status.ts";
 * const status = ReplayStatus.create();
 * status.set("clockMs", Date.parse("2026-12-02T12:00:00Z"));
 * status.get("clockMs"); // 1796212800000
 * ```
 * @module
 */
import { SharedWords } from "./shared_words.ts";

/** The words of a {@link ReplayStatus}, in buffer order. */
export const REPLAY_STATUS_FIELDS = [
  /** Recorded receive time of the last record delivered, epoch ms (NaN before the first). */
  "clockMs",
  /** Replay speed factor; Infinity for `max`. */
  "speed",
  /** Records (lines) delivered to the ingest since the start, over every loop. */
  "records",
  /**
   * Bad input met, counted and skipped: lines that are not `<time> <message>`
   * or whose time went backwards, corrupt or truncated blocks, a missing or
   * wrong index, files that could not be read (lib/record's read issues).
   */
  "badLines",
  /** Where the last record delivered is: its block's byte offset in an hour file, its line's in a text file. */
  "offset",
  /** Passes over the file finished (`--replay-loop` starts the next one). */
  "loops",
  /** 1 once the replay reached the end (of the file or of `--replay-to`) and stopped. */
  "done",
  /** Times the source waited for space in the raw ring (back-pressure at high speed). */
  "waits",
] as const;

/** A field of {@link ReplayStatus}. */
export type ReplayStatusField = typeof REPLAY_STATUS_FIELDS[number];

/**
 * Shared replay position (see the module docs). 64 bytes.
 *
 * @example
 * ```ts
 * import { ReplayStatus } from "./replay_status.ts";
 * const status = ReplayStatus.create();
 * const seen = ReplayStatus.attach(status.buffer); // e.g. in the ingest worker
 * seen.add("records", 1);
 * status.get("records"); // 1
 * ```
 */
export class ReplayStatus extends SharedWords<ReplayStatusField> {
  /** A new status: clock NaN, everything else 0. */
  static create(): ReplayStatus {
    const status = new ReplayStatus(SharedWords.allocate(REPLAY_STATUS_FIELDS));
    status.set("clockMs", NaN);
    return status;
  }

  /**
   * Attach a buffer made by {@link ReplayStatus.create}.
   *
   * @throws RangeError when the buffer has the wrong size.
   */
  static attach(buffer: SharedArrayBuffer): ReplayStatus {
    return new ReplayStatus(buffer);
  }

  private constructor(buffer: SharedArrayBuffer) {
    super(REPLAY_STATUS_FIELDS, buffer, "replay status");
  }
}
