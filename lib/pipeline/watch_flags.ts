/**
 * Which symbols someone is watching, in shared memory: one byte per symbol,
 * written by the main thread only (1 while at least one dashboard is
 * subscribed to the symbol, else 0) and read by the ingest worker, whose diff
 * mode fetches the REST snapshots of watched symbols first. One writer per
 * byte, like `pipeline_counters.ts`; a reader may see a change a moment late,
 * which only delays a priority, never breaks a book.
 *
 * @example
 * ```ts
 * import { WatchFlags } from "./watch_flags.ts";
 *
 * const flags = WatchFlags.create(3); // main thread
 * flags.set(2, true);
 * const seen = WatchFlags.attach(flags.buffer); // e.g. in the ingest worker
 * seen.isWatched(2); // true
 * seen.count(); // 1
 * ```
 * @module
 */

/**
 * One byte per symbol: 1 = watched.
 *
 * @example
 * ```ts
 * import { WatchFlags } from "./watch_flags.ts";
 * WatchFlags.create(2).bytes.length; // 2
 * ```
 */
export class WatchFlags {
  /** The shared buffer (post it to the worker). */
  readonly buffer: SharedArrayBuffer;
  /** The flags, index = symbol id (read them; write through {@link set}). */
  readonly bytes: Uint8Array;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.bytes = new Uint8Array(buffer);
  }

  /**
   * Flags for `symbols` symbols, none watched.
   *
   * @throws {RangeError} If `symbols` is not an integer >= 1.
   */
  static create(symbols: number): WatchFlags {
    if (!Number.isInteger(symbols) || symbols < 1) {
      throw new RangeError(`WatchFlags: symbols must be an integer >= 1, got ${symbols}`);
    }
    return new WatchFlags(new SharedArrayBuffer(symbols));
  }

  /** Flags over a buffer made by {@link create} (in another thread). */
  static attach(buffer: SharedArrayBuffer): WatchFlags {
    return new WatchFlags(buffer);
  }

  /** Marks `symbolId` watched or not (main thread only). */
  set(symbolId: number, watched: boolean): void {
    Atomics.store(this.bytes, symbolId, watched ? 1 : 0);
  }

  /** Whether `symbolId` is watched. */
  isWatched(symbolId: number): boolean {
    return Atomics.load(this.bytes, symbolId) !== 0;
  }

  /** Number of watched symbols. */
  count(): number {
    let n = 0;
    for (let i = 0; i < this.bytes.length; i++) n += this.bytes[i] !== 0 ? 1 : 0;
    return n;
  }
}
