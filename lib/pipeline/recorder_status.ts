/**
 * The recorder's counters, shared between the recorder worker (the only
 * writer of every word) and the main thread (`/stats`, `/metrics`): Float64
 * words in a SharedArrayBuffer, exact up to 2^53, so no wrapping to extend.
 * A reader may see the words of two moments mixed, which is fine for counters
 * sampled once a second.
 *
 * @example
 * ```ts
 * import { RecorderStatus } from "./recorder_status.ts";
 * const status = RecorderStatus.create();
 * RecorderStatus.attach(status.buffer).set("blocks", 3); // in the recorder worker
 * status.get("blocks"); // 3
 * ```
 * @module
 */
import { SharedWords } from "./shared_words.ts";

/** The words of a {@link RecorderStatus}, in buffer order. */
export const RECORDER_STATUS_FIELDS = [
  /** Compressed bytes appended to data and index files. */
  "bytesWritten",
  /** Hour files opened (a file continued after a restart counts again). */
  "files",
  /** Blocks written. */
  "blocks",
  /** Records written (in blocks on disk). */
  "records",
  /** Records lost by the writer: in blocks a disk error lost, or not recordable. */
  "dropped",
  /** Disk errors (open, write, rename, delete). */
  "errors",
  /** Hour files deleted by --record-max-bytes / --record-max-age. */
  "filesDeleted",
  /** Bytes deleted by the bounds. */
  "bytesDeleted",
  /** Incremented by the recorder's loop; a stuck value means a hung recorder. */
  "heartbeat",
  /** 1 once the recorder has started. */
  "started",
] as const;

/** A field of {@link RecorderStatus}. */
export type RecorderStatusField = typeof RECORDER_STATUS_FIELDS[number];

/** Bytes of the status buffer. */
export const RECORDER_STATUS_BYTES = RECORDER_STATUS_FIELDS.length * 8;

/**
 * Shared recorder counters (see the module documentation).
 *
 * @example
 * ```ts
 * import { RecorderStatus } from "./recorder_status.ts";
 * const status = RecorderStatus.create();
 * status.add("heartbeat", 1);
 * status.toJSON().heartbeat; // 1
 * ```
 */
export class RecorderStatus extends SharedWords<RecorderStatusField> {
  /** A new status, every word 0. */
  static create(): RecorderStatus {
    return new RecorderStatus(new SharedArrayBuffer(RECORDER_STATUS_BYTES));
  }

  /**
   * Attach a buffer made by {@link RecorderStatus.create}.
   *
   * @throws RangeError when the buffer has the wrong size.
   */
  static attach(buffer: SharedArrayBuffer): RecorderStatus {
    return new RecorderStatus(buffer);
  }

  private constructor(buffer: SharedArrayBuffer) {
    super(RECORDER_STATUS_FIELDS, buffer, "recorder status");
  }
}
