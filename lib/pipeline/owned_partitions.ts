/**
 * Which partitions of the symbol universe this node owns (docs/design.md §10),
 * in shared memory: one byte per partition, written by the main thread only
 * (1 while this node holds the partition's lease, else 0) and read by the
 * ingest worker, which keeps the exchange connections of owned partitions
 * open and closes those of released ones (it looks at the bytes every 100 ms;
 * nobody messages it). One writer per byte, like `watch_flags.ts`; a reader
 * sees a change a moment late, which only delays a takeover or a release by
 * that moment.
 *
 * @example
 * ```ts
 * import { OwnedPartitions } from "./owned_partitions.ts";
 *
 * const owned = OwnedPartitions.create(16); // main thread, none owned
 * owned.set(3, true);
 * const seen = OwnedPartitions.attach(owned.buffer); // e.g. in the ingest worker
 * seen.isOwned(3); // true
 * seen.count(); // 1
 * ```
 * @module
 */

/**
 * One byte per partition: 1 = owned by this node.
 *
 * @example
 * ```ts
 * import { OwnedPartitions } from "./owned_partitions.ts";
 * OwnedPartitions.create(4).partitions; // 4
 * ```
 */
export class OwnedPartitions {
  /** The shared buffer (post it to the ingest worker). */
  readonly buffer: SharedArrayBuffer;
  /** The flags, index = partition (read them; write through {@link set}). */
  readonly bytes: Uint8Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.bytes = new Uint8Array(buffer);
  }

  /**
   * Flags for `partitions` partitions, none owned.
   *
   * @throws {RangeError} If `partitions` is not an integer in [1, 65536].
   * @example
   * ```ts
   * import { OwnedPartitions } from "./owned_partitions.ts";
   * OwnedPartitions.create(2).isOwned(0); // false
   * ```
   */
  static create(partitions: number): OwnedPartitions {
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 65536) {
      throw new RangeError(
        `OwnedPartitions: partitions must be an integer in [1, 65536], got ${partitions}`,
      );
    }
    return new OwnedPartitions(new SharedArrayBuffer(partitions));
  }

  /**
   * Flags over a buffer made by {@link create} (in another thread).
   *
   * @throws {TypeError} If `buffer` is not a non-empty SharedArrayBuffer.
   * @example
   * ```ts
   * import { OwnedPartitions } from "./owned_partitions.ts";
   * const owned = OwnedPartitions.create(2);
   * OwnedPartitions.attach(owned.buffer).partitions; // 2
   * ```
   */
  static attach(buffer: SharedArrayBuffer): OwnedPartitions {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < 1) {
      throw new TypeError(
        "OwnedPartitions: expected the non-empty SharedArrayBuffer of OwnedPartitions.create",
      );
    }
    return new OwnedPartitions(buffer);
  }

  /** Number of partitions. */
  get partitions(): number {
    return this.bytes.length;
  }

  /**
   * Marks `partition` owned or not (main thread only).
   *
   * @throws {RangeError} If `partition` is not an index of a partition.
   * @example
   * ```ts
   * import { OwnedPartitions } from "./owned_partitions.ts";
   * const owned = OwnedPartitions.create(2);
   * owned.set(1, true);
   * owned.set(1, false);
   * owned.isOwned(1); // false
   * ```
   */
  set(partition: number, owned: boolean): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.bytes.length) {
      throw new RangeError(
        `OwnedPartitions: partition must be an integer in [0, ${this.bytes.length}), got ${partition}`,
      );
    }
    Atomics.store(this.bytes, partition, owned ? 1 : 0);
  }

  /**
   * Whether `partition` is owned (false for an index out of range).
   *
   * @example
   * ```ts
   * import { OwnedPartitions } from "./owned_partitions.ts";
   * OwnedPartitions.create(2).isOwned(5); // false
   * ```
   */
  isOwned(partition: number): boolean {
    return (partition >>> 0) === partition && partition < this.bytes.length &&
      Atomics.load(this.bytes, partition) === 1;
  }

  /**
   * Number of owned partitions.
   *
   * @example
   * ```ts
   * import { OwnedPartitions } from "./owned_partitions.ts";
   * const owned = OwnedPartitions.create(3);
   * owned.set(0, true);
   * owned.count(); // 1
   * ```
   */
  count(): number {
    let n = 0;
    for (let i = 0; i < this.bytes.length; i++) n += Atomics.load(this.bytes, i) !== 0 ? 1 : 0;
    return n;
  }
}
