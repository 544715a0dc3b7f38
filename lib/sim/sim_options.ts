/**
 * Options of the simulated exchange and their validation: {@link resolveSimOptions}
 * turns the caller's {@link SimExchangeOptions} into a complete {@link SimConfig}
 * with every default filled in, or says which option was wrong.
 *
 * @example
 * ```ts
 * import { resolveSimOptions } from "./sim_options.ts";
 * const config = resolveSimOptions({ symbols: ["BTCUSDT"], rate: 50 });
 * config.streams; // ["btcusdt"]
 * config.levels; // 20
 * ```
 * @module
 */

import type { SymbolSpec } from "./symbol_spec.ts";
import { type VenueSimSymbol, venueSimSymbol } from "./venues/venue_symbol.ts";

/**
 * Options of `startSimExchange`.
 *
 * @example
 * ```ts
 * const options: SimExchangeOptions = { symbols: ["btcusdt"], rate: 100, seed: 7 };
 * ```
 */
export interface SimExchangeOptions {
  /**
   * Symbols to simulate (case-insensitive): Binance spot names (`btcusdt`) or
   * `venue:SYMBOL` service names (`okx:btc-usdt`, `bybit:btcusdt`,
   * `kraken:btc/usd`, `coinbase:btc-usd`, `binance-usdm:btcusdt`). Default
   * `["btcusdt", "ethusdt"]`.
   */
  symbols?: string[];
  /** Frames per second per symbol; 0 stops the clock (use `step()`). Default 10. */
  rate?: number;
  /** Address to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Levels per side of the partial streams in `partialUrl` (5, 10 or 20). Default 20. */
  levels?: number;
  /** Seed of the books; the same seed gives the same sequence of frames. Default 1. */
  seed?: number;
  /** Ticks a book side extends beyond its best price (see BookModel). Default 4096. */
  depthTicks?: number;
  /** Disconnect a client whose socket has more than this many bytes queued. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** REST weight allowed per minute before 429. Default 6000. */
  weightLimit?: number;
  /**
   * Status `GET /api/v3/exchangeInfo` lists for a symbol (lower-case name) other
   * than `TRADING`, e.g. `{ lunausdt: "BREAK" }`; the symbol still streams.
   * Default none.
   */
  statuses?: Record<string, string>;
  /** Period of Kraken's `heartbeat` and Coinbase's `heartbeats` messages, ms. Default 1000. */
  heartbeatMs?: number;
  /** Frames without a change after which OKX sends an empty keep-alive update. Default 10. */
  keepAliveFrames?: number;
}

/**
 * {@link SimExchangeOptions} validated, with every default applied.
 *
 * @example
 * ```ts
 * const config: SimConfig = resolveSimOptions({});
 * config.hostname; // "127.0.0.1"
 * ```
 */
export interface SimConfig {
  /** Instrument parameters, one per symbol, in the given order. */
  readonly specs: readonly SymbolSpec[];
  /** Service names (`btcusdt`, `okx:btc-usdt`), in the same order. */
  readonly streams: readonly string[];
  /** Venue, native spelling and stats key of each symbol, in the same order. */
  readonly symbols: readonly VenueSimSymbol[];
  /** Frames per second per symbol; 0 means frames come only from `step()`. */
  readonly rate: number;
  /** Levels per side of the partial streams in `partialUrl`. */
  readonly levels: number;
  /** Address to bind. */
  readonly hostname: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** Seed of the books. */
  readonly seed: number;
  /** Ticks a book side extends beyond its best price; `undefined` keeps BookModel's default. */
  readonly depthTicks: number | undefined;
  /** Queued bytes beyond which a client is disconnected. */
  readonly maxBufferedBytes: number;
  /** REST weight allowed per minute. */
  readonly weightLimit: number;
  /** exchangeInfo statuses other than `TRADING`, by lower-case symbol. */
  readonly statuses: Readonly<Record<string, string>>;
  /** Heartbeat period, ms. */
  readonly heartbeatMs: number;
  /** Unchanged frames before an OKX keep-alive. */
  readonly keepAliveFrames: number;
}

const PARTIAL_LEVELS = [5, 10, 20];

/**
 * Validates the options of `startSimExchange` and fills in the defaults.
 *
 * @param options See {@link SimExchangeOptions}.
 * @returns The complete configuration.
 * @throws {TypeError} if `symbols` is empty, repeats a symbol or holds a malformed one
 *   (an unknown venue, or a symbol the venue cannot spell).
 * @throws {RangeError} if `rate` or `levels` is out of range.
 * @example
 * ```ts
 * resolveSimOptions({ rate: 0 }).streams; // ["btcusdt", "ethusdt"]
 * ```
 */
export function resolveSimOptions(options: SimExchangeOptions = {}): SimConfig {
  const symbolNames = options.symbols ?? ["btcusdt", "ethusdt"];
  if (!Array.isArray(symbolNames) || symbolNames.length === 0) {
    throw new TypeError(`symbols must be a non-empty array like ["btcusdt"], got ${symbolNames}`);
  }
  const symbols = symbolNames.map((s) => venueSimSymbol(s));
  const specs: SymbolSpec[] = symbols.map((s) => s.spec);
  const streams = symbols.map((s) => s.name);
  if (new Set(streams).size !== streams.length) {
    throw new TypeError(`symbols must not repeat, got ${streams.join(",")}`);
  }
  const rate = options.rate ?? 10;
  if (!(rate >= 0 && rate <= 100_000)) {
    throw new RangeError(`rate must be 0..100000 frames/s per symbol, got ${rate}`);
  }
  const levels = options.levels ?? 20;
  if (!PARTIAL_LEVELS.includes(levels)) {
    throw new RangeError(`levels must be 5, 10 or 20 (Binance partial depths), got ${levels}`);
  }
  const heartbeatMs = options.heartbeatMs ?? 1000;
  if (!(heartbeatMs >= 10 && heartbeatMs <= 3_600_000)) {
    throw new RangeError(`heartbeatMs must be 10..3600000 ms, got ${heartbeatMs}`);
  }
  const keepAliveFrames = options.keepAliveFrames ?? 10;
  if (!Number.isInteger(keepAliveFrames) || keepAliveFrames < 1) {
    throw new RangeError(`keepAliveFrames must be an integer >= 1, got ${keepAliveFrames}`);
  }
  return {
    specs,
    streams,
    symbols,
    heartbeatMs,
    keepAliveFrames,
    rate,
    levels,
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    seed: options.seed ?? 1,
    depthTicks: options.depthTicks,
    maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
    weightLimit: options.weightLimit ?? 6000,
    statuses: Object.freeze({ ...options.statuses }),
  };
}
