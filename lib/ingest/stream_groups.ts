/**
 * How a symbol list is split over combined-stream connections
 * (`${baseUrl}/stream?streams=a@depth20@100ms/b@depth20@100ms/…`), within
 * Binance's rules:
 *
 * | rule (Binance spot)                          | effect here                                          |
 * | -------------------------------------------- | ---------------------------------------------------- |
 * | ≤ 1,024 streams per connection               | never reached: the URL limit binds first             |
 * | URL ≤ about 8,000 characters (8,004 measured) | **sets the group size**: {@linkcode MAX_URL_LENGTH}  |
 * | 300 connection attempts per 5 minutes per IP  | `AttemptLimiter`; 2,000 symbols make 10 connections  |
 * | 5 incoming messages per second per connection | we send only pongs (the streams are named in the URL) |
 *
 * A stream name is the symbol plus `@depth20@100ms` (14 characters) or
 * `@depth@100ms` (12), joined by `/`; with the base
 * `wss://stream.binance.com:9443/stream?streams=` (45 characters), a group of
 * N streams of symbols averaging L characters makes a URL of
 * 45 + N × (L + 15) − 1 characters: 200 streams of 8-character symbols (a
 * typical Binance name) make 4,644; 200 of 20 characters (the longest Binance
 * lists) make 7,044; 1,024 of 8 characters would make 23,596, three times the
 * limit, so the 1,024-stream cap cannot be used with URL subscriptions. Groups
 * are therefore at most {@linkcode DEFAULT_STREAMS_PER_CONNECTION} (200)
 * streams, the round count whose URL fits under the limit for every name
 * Binance can list, and a group also closes early when the next name would
 * take its URL over {@linkcode MAX_URL_LENGTH} (names longer than Binance's
 * 20 characters, which `--symbols` allows up to 32). Symbols keep their order:
 * a group is a run of consecutive symbol ids. For up to 200 symbols of any
 * Binance name that is one connection, as before.
 *
 * @example
 * ```ts
 * import { groupStreams } from "./stream_groups.ts";
 * const names = Array.from({ length: 450 }, (_, i) => `sym${i}usdt`);
 * const starts = groupStreams(names, { suffix: "@depth20@100ms", baseUrl: "wss://stream.binance.com:9443" });
 * [...starts]; // [0, 200, 400, 450]: three connections of 200, 200 and 50 streams
 * ```
 * @module
 */

/** Binance's limit of streams on one connection. */
export const MAX_STREAMS_PER_CONNECTION = 1024;

/**
 * Longest combined-stream URL opened, in characters (the whole URL, scheme to
 * last stream). Binance refuses URLs beyond about 8,000 characters (8,004 was
 * measured against stream.binance.com by the unicorn-binance-websocket-api
 * project); we stay at 8,000.
 */
export const MAX_URL_LENGTH = 8000;

/** Streams per connection unless told otherwise; see the module documentation. */
export const DEFAULT_STREAMS_PER_CONNECTION = 200;

/** Options of {@linkcode groupStreams}. */
export interface GroupStreamsOptions {
  /** Appended to each symbol to name its stream, e.g. `@depth20@100ms`. */
  suffix: string;
  /** WebSocket base URL without path, e.g. `wss://stream.binance.com:9443`. */
  baseUrl: string;
  /** Most streams per connection, 1 to 1024. Default 200. */
  maxStreams?: number;
  /** Longest URL, in characters. Default {@linkcode MAX_URL_LENGTH}. */
  maxUrlLength?: number;
}

/**
 * The combined-stream URL of `streams` at `baseUrl` (as `StreamConnection` opens it).
 *
 * @example
 * ```ts
 * import { combinedStreamUrl } from "./stream_groups.ts";
 * combinedStreamUrl("wss://stream.binance.com:9443", ["btcusdt@depth20@100ms", "ethusdt@depth20@100ms"]);
 * // "wss://stream.binance.com:9443/stream?streams=btcusdt@depth20@100ms/ethusdt@depth20@100ms"
 * ```
 */
export function combinedStreamUrl(baseUrl: string, streams: readonly string[]): string {
  return `${baseUrl.replace(/\/+$/, "")}/stream?streams=${streams.join("/")}`;
}

/**
 * Splits `symbols` into runs, one connection each, as the module documentation
 * says.
 *
 * @param symbols Lower-case symbols, in id order.
 * @param options See {@linkcode GroupStreamsOptions}.
 * @returns Group boundaries: group g holds symbol ids `[starts[g], starts[g + 1])`;
 *   `starts.length` is the number of groups plus one.
 * @throws {RangeError} If `maxStreams` is not in [1, 1024], or one symbol alone makes a URL too long.
 * @example
 * ```ts
 * import { groupStreams } from "./stream_groups.ts";
 * [...groupStreams(["btcusdt", "ethusdt"], { suffix: "@depth@100ms", baseUrl: "ws://127.0.0.1:9443" })]; // [0, 2]
 * ```
 */
export function groupStreams(
  symbols: readonly string[],
  options: GroupStreamsOptions,
): Uint32Array {
  const {
    suffix,
    baseUrl,
    maxStreams = DEFAULT_STREAMS_PER_CONNECTION,
    maxUrlLength = MAX_URL_LENGTH,
  } = options;
  if (!Number.isInteger(maxStreams) || maxStreams < 1 || maxStreams > MAX_STREAMS_PER_CONNECTION) {
    throw new RangeError(
      `maxStreamsPerConnection must be an integer in [1, ${MAX_STREAMS_PER_CONNECTION}], got ${maxStreams}`,
    );
  }
  const head = combinedStreamUrl(baseUrl, []).length;
  const starts = [0];
  let count = 0;
  let length = head;
  for (let id = 0; id < symbols.length; id++) {
    const name = symbols[id].length + suffix.length;
    if (head + name > maxUrlLength) {
      throw new RangeError(
        `the stream of ${JSON.stringify(symbols[id])} alone makes a URL of ${head + name} ` +
          `characters; expected at most ${maxUrlLength}`,
      );
    }
    // A stream after the first one adds a '/' too.
    const added = count === 0 ? name : name + 1;
    if (count === maxStreams || length + added > maxUrlLength) {
      starts.push(id);
      count = 0;
      length = head;
    }
    length += count === 0 ? name : name + 1;
    count++;
  }
  if (symbols.length > 0) starts.push(symbols.length);
  return Uint32Array.from(starts);
}

/**
 * Connection groups formed per partition (the ingest of owned partitions,
 * docs/design.md §10): {@linkcode groupsByPartition}'s result. Group g holds
 * the symbol ids `order[starts[g]]` … `order[starts[g + 1] - 1]` (ascending)
 * and belongs to partition `partition[g]`.
 */
export interface PartitionGroups {
  /** Symbol ids, group after group; each group's ids ascending. */
  order: Uint32Array;
  /** Group g spans `order[starts[g]..starts[g + 1])`; length = groups + 1. */
  starts: Uint32Array;
  /** Partition of each group. */
  partition: Uint32Array;
}

/**
 * Splits `symbols` into connection groups that never mix partitions: the
 * symbols of one partition, in id order, split further only where
 * {@linkcode groupStreams} must (streams per connection, URL length).
 * Partitions come in ascending order; a partition without symbols has no group.
 * Without `partitionOf` it is {@linkcode groupStreams} over the whole list (one
 * partition 0, `order` the identity).
 *
 * @param symbols Lower-case symbols, in id order.
 * @param partitionOf Partition of each symbol id (same length as `symbols`), or undefined.
 * @param options See {@linkcode GroupStreamsOptions}.
 * @throws {RangeError} As {@linkcode groupStreams}, or if `partitionOf` has another
 *   length than `symbols` or an entry that is not an integer in [0, 65536).
 * @example
 * ```ts
 * import { groupsByPartition } from "./stream_groups.ts";
 * const g = groupsByPartition(["a", "b", "c"], [1, 0, 1], { suffix: "@depth@100ms", baseUrl: "ws://127.0.0.1:1" });
 * [...g.order]; // [1, 0, 2]: partition 0's b, then partition 1's a and c
 * [...g.starts]; // [0, 1, 3]
 * [...g.partition]; // [0, 1]
 * ```
 */
export function groupsByPartition(
  symbols: readonly string[],
  partitionOf: ArrayLike<number> | undefined,
  options: GroupStreamsOptions,
): PartitionGroups {
  const n = symbols.length;
  if (partitionOf === undefined) {
    const starts = groupStreams(symbols, options);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return { order, starts, partition: new Uint32Array(Math.max(0, starts.length - 1)) };
  }
  if (partitionOf.length !== n) {
    throw new RangeError(
      `partitionOf must give the partition of each of the ${n} symbols, got ${partitionOf.length} entries`,
    );
  }
  const byPartition = new Map<number, number[]>();
  for (let id = 0; id < n; id++) {
    const p = partitionOf[id];
    if (!Number.isInteger(p) || p < 0 || p >= 65536) {
      throw new RangeError(
        `partitionOf[${id}] must be an integer in [0, 65536), got ${p}`,
      );
    }
    let ids = byPartition.get(p);
    if (ids === undefined) byPartition.set(p, ids = []);
    ids.push(id);
  }
  const order: number[] = [];
  const starts: number[] = [0];
  const partition: number[] = [];
  for (const p of [...byPartition.keys()].sort((a, b) => a - b)) {
    const ids = byPartition.get(p)!;
    const local = groupStreams(ids.map((id) => symbols[id]), options);
    for (let g = 0; g + 1 < local.length; g++) {
      starts.push(order.length + local[g + 1]);
      partition.push(p);
    }
    for (const id of ids) order.push(id);
  }
  return {
    order: Uint32Array.from(order),
    starts: Uint32Array.from(starts),
    partition: Uint32Array.from(partition),
  };
}
