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

const INDEX: Readonly<Record<RecorderStatusField, number>> = Object.fromEntries(
  RECORDER_STATUS_FIELDS.map((name, i) => [name, i]),
) as Record<RecorderStatusField, number>;

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
export class RecorderStatus {
  /** The shared buffer; post it to the recorder worker and attach it there. */
  readonly buffer: SharedArrayBuffer;
  readonly #words: Float64Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#words = new Float64Array(buffer);
  }

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
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== RECORDER_STATUS_BYTES) {
      throw new RangeError(
        `recorder status buffer must be a ${RECORDER_STATUS_BYTES}-byte SharedArrayBuffer`,
      );
    }
    return new RecorderStatus(buffer);
  }

  /** The value of `field`. */
  get(field: RecorderStatusField): number {
    return this.#words[INDEX[field]];
  }

  /** Set `field` (only the recorder worker writes). */
  set(field: RecorderStatusField, value: number): void {
    this.#words[INDEX[field]] = value;
  }

  /** Add `delta` to `field` (only the recorder worker writes). */
  add(field: RecorderStatusField, delta: number): void {
    this.#words[INDEX[field]] += delta;
  }

  /** Every field as a plain object (for `/stats`). */
  toJSON(): Record<RecorderStatusField, number> {
    const out = {} as Record<RecorderStatusField, number>;
    for (const f of RECORDER_STATUS_FIELDS) out[f] = this.get(f);
    return out;
  }
}
