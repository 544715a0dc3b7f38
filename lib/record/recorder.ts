/**
 * The recorder's loop: takes records out of the record ring (in place) into a
 * {@link RecordWriter}, closes a block when it reaches the writer's block size
 * (1 MiB) or when `flushMs` of wall time (default 10 s) passed since the last
 * one, so a crash loses little (and closes the hour file once its hour has
 * ended on the wall clock, even when nothing came since); parks on the ring when it is empty; publishes
 * the writer's counters in a {@link RecorderStatus} (going on from what a
 * previous generation left there); and on stop (or once the
 * ring is closed and empty) writes what it holds and closes the hour file
 * (renamed from `.partial`). Runs in the recorder worker
 * (lib/record/record_worker.ts); every disk write happens there.
 *
 * A lease (lib/pipeline/worker_lease.ts) fences a replaced generation: once it
 * lost its lease it takes no more records, writes nothing more (its open block
 * is abandoned, the file left `.partial` for the next generation to continue)
 * and stops. A new generation counts what the previous one took from the ring
 * but neither wrote nor counted (its open block, when it died or was fenced)
 * as dropped: records taken = records written + dropped.
 *
 * @example
 * ```ts
 * import { Recorder } from "./recorder.ts";
 * import { RecordWriter } from "./record_writer.ts";
 * import { RecordRing } from "../pipeline/record_ring.ts";
 * import { RecorderStatus } from "../pipeline/recorder_status.ts";
 * const ring = RecordRing.create({ capacity: 1 << 16 });
 * const status = RecorderStatus.create();
 * const writer = new RecordWriter({ dir: Deno.makeTempDirSync(), venue: "binance" });
 * const recorder = new Recorder({ ring: RecordRing.attach(ring.buffer), writer, status });
 * ring.push('{"e":"depthUpdate"}', Date.UTC(2026, 11, 2, 12) * 1000);
 * ring.close();
 * await recorder.run(); // returns once the ring is closed and drained
 * status.get("records"); // 1
 * ```
 * @module
 */
import type { RecordRing } from "../pipeline/record_ring.ts";
import type { RecorderStatus, RecorderStatusField } from "../pipeline/recorder_status.ts";
import type { RecordWriter } from "./record_writer.ts";

/** Default wall time between two closed blocks while records arrive: 10 s. */
export const DEFAULT_FLUSH_MS = 10_000;

const HOUR_MS = 3_600_000;

/** Records taken between two looks at the lease, the clock and the status. */
const BATCH = 4096;

/**
 * Park on an empty ring, ms: the recorder polls at this pace (the ingest wakes
 * it only when a quarter of the ring is used); the heartbeat moves as often.
 * At 20,000 frames/s of 537 B, 50 ms is ≈ 0.5 MB, 7 % of the default 8 MiB ring.
 */
const PARK_MS = 50;

/** Options of {@link Recorder}. */
export interface RecorderOptions {
  /** The record ring, attached on the consumer's side. Required. */
  ring: RecordRing;
  /** Where the records go. Required. */
  writer: RecordWriter;
  /** Where the counters are published. Default none. */
  status?: RecorderStatus;
  /** Wall time after which an open block is closed, ms. Default {@link DEFAULT_FLUSH_MS}. */
  flushMs?: number;
  /** Wall clock, ms. Default `Date.now`. */
  nowMs?: () => number;
  /** This generation's lease; checked before each batch. Default none (always held). */
  lease?: { held(): boolean };
}

/**
 * Drains a record ring into a writer; see the module documentation.
 *
 * @example
 * ```ts
 * import { Recorder } from "./recorder.ts";
 * declare const recorder: Recorder;
 * const done = recorder.run();
 * recorder.stop(); // on shutdown: writes what is left, closes the file
 * await done;
 * ```
 */
export class Recorder {
  readonly #ring: RecordRing;
  readonly #writer: RecordWriter;
  readonly #status?: RecorderStatus;
  readonly #flushMs: number;
  readonly #nowMs: () => number;
  readonly #lease?: { held(): boolean };
  #lastFlush: number;
  #lastUs = Infinity;
  /** The latest time written (records earlier than it are written at it). */
  #maxUs = -Infinity;
  #stopping = false;
  /** The status as the previous generation left it: counters go on from there. */
  readonly #base?: Record<RecorderStatusField, number>;
  #wake?: () => void;

  /** A recorder; {@link Recorder.run} starts it. */
  constructor(options: RecorderOptions) {
    this.#ring = options.ring;
    this.#writer = options.writer;
    this.#status = options.status;
    this.#flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    if (!(this.#flushMs > 0)) throw new RangeError(`flushMs must be > 0, got ${this.#flushMs}`);
    this.#nowMs = options.nowMs ?? Date.now;
    this.#lease = options.lease;
    this.#lastFlush = this.#nowMs();
    this.#base = this.#status?.toJSON();
    if (this.#base) {
      // Every record taken is on disk or dropped once a writer closed; what a previous
      // generation took beyond that was in its block when it died or was fenced: lost.
      const accounted = this.#base.records + this.#base.dropped;
      const lost = (this.#ring.stats().taken - accounted) >>> 0;
      if (lost > 0 && lost < 0x8000_0000) this.#base.dropped += lost;
    }
  }

  /**
   * Take up to `max` records into the writer (closing a block when it is due);
   * returns how many were taken. The loop's step, public for tests and benchmarks.
   */
  drain(max = Infinity): number {
    const ring = this.#ring;
    const writer = this.#writer;
    let n = 0;
    while (n < max && ring.next()) {
      // Times never go back in a recording (a reader skips such records): an
      // ingest worker restarted by the supervisor starts a new clock origin
      // that can read a little before its predecessor's last record.
      const timeUs = ring.timeUs < this.#maxUs ? this.#maxUs : ring.timeUs;
      writer.appendFrom(timeUs, ring.bytes, ring.textStart, ring.textLength);
      this.#lastUs = this.#maxUs = timeUs;
      n++;
    }
    ring.release();
    const now = this.#nowMs();
    if (now - this.#lastFlush >= this.#flushMs) {
      // An hour that has ended on the wall clock is closed (renamed) even when nothing came since.
      if (Math.floor(now / HOUR_MS) > Math.floor(this.#lastUs / 1000 / HOUR_MS)) writer.close();
      else writer.flush();
      this.#lastFlush = now;
    }
    this.#publish();
    return n;
  }

  /**
   * Runs until {@link Recorder.stop}, the ring closed and drained, or the lease
   * lost; then writes what it holds and closes the hour file.
   */
  async run(): Promise<void> {
    this.#status?.set("started", 1);
    while (!this.#stopping && (this.#lease?.held() ?? true)) {
      const closed = this.#ring.closed;
      const taken = this.drain(BATCH);
      if (taken === BATCH) {
        // Let the worker's messages (stop) in now and then under load.
        await new Promise((r) => setTimeout(r, 0));
        continue;
      }
      if (closed) break;
      const left = this.#flushMs - (this.#nowMs() - this.#lastFlush);
      await Promise.race([
        this.#ring.wait(Math.max(1, Math.min(PARK_MS, left))),
        new Promise<void>((r) => this.#wake = r),
      ]);
    }
    if (this.#lease?.held() ?? true) {
      this.drain();
      this.#writer.close();
      this.#publish();
    } else {
      // Fenced: no more writes (the next generation owns the file), nothing published;
      // the next generation counts this one's open block as dropped.
      this.#writer.abandon();
    }
  }

  /** Ask {@link Recorder.run} to take what is there, close the file and return. */
  stop(): void {
    this.#stopping = true;
    this.#wake?.();
  }

  #publish(): void {
    const s = this.#status;
    if (!s) return;
    const c = this.#writer.counters;
    const b = this.#base!;
    s.set("bytesWritten", b.bytesWritten + c.bytesWritten);
    s.set("files", b.files + c.files);
    s.set("blocks", b.blocks + c.blocks);
    s.set("records", b.records + c.records);
    s.set("dropped", b.dropped + c.dropped);
    s.set("errors", b.errors + c.errors);
    s.set("filesDeleted", b.filesDeleted + c.filesDeleted);
    s.set("bytesDeleted", b.bytesDeleted + c.bytesDeleted);
    s.add("heartbeat", 1);
  }
}
