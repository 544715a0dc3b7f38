/**
 * Worker leases: which generation of each pipeline worker may touch the rings.
 *
 * Deno's `Worker.terminate()` does not stop a worker that is running
 * JavaScript: a worker in a synchronous loop (the analytics loop waits with
 * `Atomics.wait` and never returns to its event loop) keeps running after
 * `terminate()` (measured with Deno 2.9.6: still producing seconds later).
 * A restarted worker would then share its rings with its predecessor: two
 * producers or two consumers on a single-producer single-consumer ring, and
 * torn or lost frames. So every worker is fenced: the main thread grants each
 * worker it spawns a generation, and revokes it before a restart; the worker
 * checks its lease before every frame it takes or publishes and, once it has
 * lost it, touches no ring again, says so ({@link WorkerLease.release}) and
 * ends itself. The supervisor starts the replacement only after the old
 * generation released (or, for a worker that is stuck and so touches nothing,
 * after a bounded wait).
 *
 * Layout: one 64-byte line per worker (ingest, analytics, recorder), word 0 the granted
 * generation (written only by the main thread; 0 = nobody), word 1 the last
 * generation that released (written only by the worker). Generations start
 * at 1 and are uint32.
 *
 * @example
 * ```ts
 * import { WorkerLease } from "./worker_lease.ts";
 * const lease = WorkerLease.create();
 * const gen = lease.grant("analytics"); // main, before spawning: 1
 * const held = WorkerLease.attach(lease.buffer, "analytics", gen); // in the worker
 * held.held(); // true
 * lease.revoke("analytics"); // main, before a restart
 * held.held(); // false: the worker stops and calls held.release()
 * held.release();
 * lease.released("analytics", gen); // true
 * ```
 * @module
 */

/** The pipeline workers that hold leases. */
export type LeasedWorker = "ingest" | "analytics" | "recorder";

const LINE_WORDS = 16;
const WORKER_LINE: Readonly<Record<LeasedWorker, number>> = {
  ingest: 0,
  analytics: 1,
  recorder: 2,
};
/** Word of a worker's line: the generation the main thread granted (0 = none). */
export const LEASE_GRANTED = 0;
/** Word of a worker's line: the last generation that released its lease. */
export const LEASE_RELEASED = 1;
/** Bytes of the lease buffer: one line per worker. */
export const LEASE_BYTES = 3 * LINE_WORDS * 4;

/**
 * A view of the lease buffer: the main thread's (grant, revoke, released) or
 * one worker generation's (held, release).
 *
 * @example
 * ```ts
 * import { WorkerLease } from "./worker_lease.ts";
 * const lease = WorkerLease.create();
 * lease.grant("ingest"); // 1
 * lease.grant("ingest"); // 2: generation 1 lost its lease
 * ```
 */
export class WorkerLease {
  /** The shared buffer; post it to each worker with its generation. */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #line: number;
  readonly #generation: number;

  private constructor(buffer: SharedArrayBuffer, worker: LeasedWorker | null, generation: number) {
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer);
    this.#line = worker === null ? -1 : WORKER_LINE[worker] * LINE_WORDS;
    this.#generation = generation | 0;
  }

  /** A new lease buffer (main thread): nobody holds a lease yet. */
  static create(): WorkerLease {
    return new WorkerLease(new SharedArrayBuffer(LEASE_BYTES), null, 0);
  }

  /**
   * The view of worker generation `generation` (in the worker).
   *
   * @throws TypeError when `buffer` is not a lease buffer or `generation` is not 1 to 2^32-1.
   */
  static attach(buffer: SharedArrayBuffer, worker: LeasedWorker, generation: number): WorkerLease {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== LEASE_BYTES) {
      throw new TypeError(`WorkerLease.attach expects the ${LEASE_BYTES}-byte lease buffer`);
    }
    if (!Number.isInteger(generation) || generation < 1 || generation > 0xffff_ffff) {
      throw new TypeError(`lease generation must be an integer 1 to 2^32-1, got ${generation}`);
    }
    return new WorkerLease(buffer, worker, generation);
  }

  /**
   * Main thread: grant `worker`'s lease to a new generation (the previous one,
   * if any, loses it); returns that generation, to post to the new worker.
   */
  grant(worker: LeasedWorker): number {
    const k = WORKER_LINE[worker];
    const next = this.#granted[k] === 0xffff_ffff ? 1 : this.#granted[k] + 1;
    this.#granted[k] = next;
    Atomics.store(this.#i32, k * LINE_WORDS + LEASE_GRANTED, next | 0);
    return next;
  }

  /** Main thread: nobody holds `worker`'s lease until the next {@link WorkerLease.grant}. */
  revoke(worker: LeasedWorker): void {
    Atomics.store(this.#i32, WORKER_LINE[worker] * LINE_WORDS + LEASE_GRANTED, 0);
  }

  /** Main thread: the generation last granted to `worker` (0 before the first grant). */
  lastGranted(worker: LeasedWorker): number {
    return this.#granted[WORKER_LINE[worker]];
  }

  /** Main thread's count of generations granted, per worker line (the only writer of word 0). */
  readonly #granted = [0, 0, 0];

  /** Main thread: whether generation `generation` of `worker` has released its lease. */
  released(worker: LeasedWorker, generation: number): boolean {
    const at = WORKER_LINE[worker] * LINE_WORDS;
    return (Atomics.load(this.#i32, at + LEASE_RELEASED) >>> 0) === (generation >>> 0);
  }

  /** Worker: whether this generation still holds its lease (check before each ring access). */
  held(): boolean {
    return Atomics.load(this.#i32, this.#line + LEASE_GRANTED) === this.#generation;
  }

  /** Worker: say this generation will not touch a ring again. */
  release(): void {
    Atomics.store(this.#i32, this.#line + LEASE_RELEASED, this.#generation);
  }
}
