/**
 * What the recording did, for `/stats` and `/metrics` (`--record-dir` only):
 * the recorder worker's counters (lib/pipeline/recorder_status.ts) and the
 * record ring's (lib/pipeline/record_ring.ts; its uint32 counters extended
 * into exact totals here, so {@link RecordTotals.read} must run at least once
 * per 2^32 records — the service reads it every second).
 *
 * Disk free space is not reported: Deno has no statfs, and running `df` would
 * need `--allow-run`.
 *
 * @example
 * ```ts
 * import { RecordTotals } from "./record_totals.ts";
 * import { RecordRing } from "../pipeline/record_ring.ts";
 * import { RecorderStatus } from "../pipeline/recorder_status.ts";
 * const totals = new RecordTotals("/var/lib/depthwatch", RecordRing.create(), RecorderStatus.create());
 * totals.read().dropped; // 0
 * ```
 * @module
 */
import { CounterExtender } from "../pipeline/pipeline_counters.ts";
import type { RecordRing } from "../pipeline/record_ring.ts";
import type { RecorderStatus } from "../pipeline/recorder_status.ts";

/** The recording's totals ({@link RecordTotals.read}); `/stats` shows them as `record`. */
export interface RecordStats {
  /** The recording directory (`--record-dir`). */
  dir: string;
  /** Compressed bytes appended to data and index files. */
  bytesWritten: number;
  /** Hour files opened. */
  files: number;
  /** Blocks written. */
  blocks: number;
  /** Records written to disk. */
  records: number;
  /** Records lost before the disk: `ringDropped + writerDropped`. */
  dropped: number;
  /** Records the ingest could not put into the full record ring. */
  ringDropped: number;
  /** Records the writer lost (blocks a disk error lost, or not recordable). */
  writerDropped: number;
  /** Disk errors. */
  errors: number;
  /** Hour files deleted by the bounds. */
  filesDeleted: number;
  /** Bytes deleted by the bounds. */
  bytesDeleted: number;
  /** Records the ingest put into the ring. */
  ringRecords: number;
  /** The ring's data bytes. */
  ringBytes: number;
  /** Bytes in the ring now (waiting for the recorder). */
  ringUsedBytes: number;
  /** Most bytes ever in the ring. */
  ringHighWaterBytes: number;
}

/**
 * Reads the recording's counters; see the module documentation.
 *
 * @example
 * ```ts
 * import { RecordTotals } from "./record_totals.ts";
 * declare const totals: RecordTotals;
 * const { records, dropped } = totals.read();
 * ```
 */
export class RecordTotals {
  /** The recording directory. */
  readonly dir: string;
  readonly #ring: RecordRing;
  readonly #status: RecorderStatus;
  readonly #dropped = new CounterExtender();
  readonly #records = new CounterExtender();

  /** Totals of the recording in `dir`, fed by `ring` and written by the recorder into `status`. */
  constructor(dir: string, ring: RecordRing, status: RecorderStatus) {
    this.dir = dir;
    this.#ring = ring;
    this.#status = status;
  }

  /** Every total now. */
  read(): RecordStats {
    const r = this.#ring.stats();
    const s = this.#status;
    const ringDropped = this.#dropped.update(r.dropped);
    const writerDropped = s.get("dropped");
    return {
      dir: this.dir,
      bytesWritten: s.get("bytesWritten"),
      files: s.get("files"),
      blocks: s.get("blocks"),
      records: s.get("records"),
      dropped: ringDropped + writerDropped,
      ringDropped,
      writerDropped,
      errors: s.get("errors"),
      filesDeleted: s.get("filesDeleted"),
      bytesDeleted: s.get("bytesDeleted"),
      ringRecords: this.#records.update(r.records),
      ringBytes: r.capacity,
      ringUsedBytes: r.used,
      ringHighWaterBytes: r.highWater,
    };
  }
}
