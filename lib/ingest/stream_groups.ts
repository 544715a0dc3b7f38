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
