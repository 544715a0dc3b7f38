/**
 * Stable partitioning of the symbol universe among P partitions (the unit of
 * ownership of docs/design.md §10) and the cluster fingerprint nodes compare
 * to detect that they were started with different universes or P.
 *
 * A symbol's key is `venue:SYMBOL` (the venue's id, a colon, the symbol as the
 * venue writes it); its partition is the 32-bit FNV-1a hash of the key's UTF-8
 * bytes modulo P. The hash is specified here (offset basis 2166136261, prime
 * 16777619, both as in the FNV reference), so every node, version and run
 * computes the same partition for the same key and P.
 *
 * @example
 * ```ts
 * import { PartitionMap } from "./partition_map.ts";
 *
 * const map = new PartitionMap(["binance:BTCUSDT", "binance:ETHUSDT"], 8);
 * const p = map.partitionOf("binance:BTCUSDT"); // in [0, 8), the same on every node
 * map.symbolsOf(p); // includes "binance:BTCUSDT"
 * map.fingerprint; // "p=8 n=2 sha256=…": equal on nodes with the same universe and P
 * ```
 * @module
 */
import { createHash } from "node:crypto";

/** FNV-1a 32-bit offset basis. */
const FNV_OFFSET = 0x811c9dc5;
/** FNV-1a 32-bit prime. */
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/**
 * The 32-bit FNV-1a hash of `bytes`, as an unsigned integer.
 *
 * @example
 * ```ts
 * import { fnv1a32 } from "./partition_map.ts";
 *
 * fnv1a32(new TextEncoder().encode("a")); // 0xe40c292c
 * ```
 */
export function fnv1a32(bytes: Uint8Array): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * The partition key of a symbol: `venue:SYMBOL`.
 *
 * @example
 * ```ts
 * import { symbolKey } from "./partition_map.ts";
 *
 * symbolKey("binance", "BTCUSDT"); // "binance:BTCUSDT"
 * ```
 */
export function symbolKey(venue: string, symbol: string): string {
  return `${venue}:${symbol}`;
}

/** Throws unless `partitions` is an integer in [1, 65536]. */
function checkPartitions(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 65536) {
    throw new RangeError(
      `partition map: the partition count must be an integer in [1, 65536], got ${partitions}`,
    );
  }
}

/**
 * The partition of a symbol key (`venue:SYMBOL`) among `partitions`:
 * `fnv1a32(utf8(key)) mod partitions`.
 *
 * @throws {RangeError} If `partitions` is not an integer in [1, 65536].
 *
 * @example
 * ```ts
 * import { partitionOf } from "./partition_map.ts";
 *
 * partitionOf("binance:BTCUSDT", 8); // an integer in [0, 8)
 * ```
 */
export function partitionOf(key: string, partitions: number): number {
  checkPartitions(partitions);
  return fnv1a32(encoder.encode(key)) % partitions;
}

/**
 * The cluster fingerprint of a universe and P: `p=<P> n=<count> sha256=<16 hex>`,
 * the SHA-256 of P and the sorted keys (one per line). Equal exactly when two
 * nodes have the same set of keys and the same P (order of the universe does
 * not matter), so a node started with another universe or P can refuse to join.
 *
 * @throws {RangeError} If `partitions` is invalid or a key occurs twice.
 *
 * @example
 * ```ts
 * import { clusterFingerprint } from "./partition_map.ts";
 *
 * clusterFingerprint(["binance:B", "binance:A"], 4) === clusterFingerprint(["binance:A", "binance:B"], 4); // true
 * ```
 */
export function clusterFingerprint(universe: readonly string[], partitions: number): string {
  checkPartitions(partitions);
  const sorted = [...universe].sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) {
      throw new RangeError(
        `partition map: symbol ${JSON.stringify(sorted[i])} occurs twice in the universe; ` +
          `expected each venue:SYMBOL once`,
      );
    }
  }
  const digest = createHash("sha256").update(`${partitions}\n${sorted.join("\n")}`).digest("hex");
  return `p=${partitions} n=${sorted.length} sha256=${digest.slice(0, 16)}`;
}

/**
 * A universe of symbol keys split among P partitions.
 *
 * @example
 * ```ts
 * import { PartitionMap } from "./partition_map.ts";
 *
 * const map = new PartitionMap(["binance:BTCUSDT", "binance:ETHUSDT", "binance:SOLUSDT"], 2);
 * map.symbolsOf(0).length + map.symbolsOf(1).length; // 3
 * ```
 */
export class PartitionMap {
  /** The partition count P. */
  readonly partitions: number;
  /** See {@linkcode clusterFingerprint}. */
  readonly fingerprint: string;
  #byKey = new Map<string, number>();
  #members: string[][];

  /**
   * @param universe The symbol keys (`venue:SYMBOL`), each once.
   * @param partitions P, an integer in [1, 65536].
   * @throws {RangeError} If `partitions` is invalid or a key occurs twice.
   */
  constructor(universe: readonly string[], partitions: number) {
    this.fingerprint = clusterFingerprint(universe, partitions);
    this.partitions = partitions;
    this.#members = Array.from({ length: partitions }, () => []);
    for (const key of universe) {
      const p = partitionOf(key, partitions);
      this.#byKey.set(key, p);
      this.#members[p].push(key);
    }
  }

  /**
   * The partition of `key` (it need not be in the universe).
   *
   * @example
   * ```ts
   * import { PartitionMap } from "./partition_map.ts";
   *
   * new PartitionMap(["binance:BTCUSDT"], 4).partitionOf("binance:BTCUSDT"); // in [0, 4)
   * ```
   */
  partitionOf(key: string): number {
    return this.#byKey.get(key) ?? partitionOf(key, this.partitions);
  }

  /**
   * The universe's keys in partition `p`, in universe order (empty for a `p` out of range).
   *
   * @example
   * ```ts
   * import { PartitionMap } from "./partition_map.ts";
   *
   * new PartitionMap(["binance:BTCUSDT"], 1).symbolsOf(0); // ["binance:BTCUSDT"]
   * ```
   */
  symbolsOf(p: number): readonly string[] {
    return this.#members[p] ?? [];
  }
}
