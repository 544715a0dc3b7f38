/**
 * What differs between the two Binance venues the {@link Ingestor} runs,
 * Binance spot (`binance`) and Binance USD-M futures (`binance-usdm`), on the
 * connection side: which symbols of the service's list are the venue's, how
 * its streams are named, and where its combined streams are served. (The REST
 * side — request path, limits, weights — is `depth_request_weight.ts`; the
 * update-id chain is `DiffParserOptions.chain`.)
 *
 * | venue          | symbols (service names) | combined streams at                 | diff chain        |
 * | -------------- | ----------------------- | ----------------------------------- | ----------------- |
 * | `binance`      | `btcusdt`               | `{wsUrl}/stream?streams=…`          | `U == prev u + 1` |
 * | `binance-usdm` | `binance-usdm:btcusdt`  | `{wsUrl}/public/stream?streams=…`   | `pu == prev u`    |
 *
 * USD-M serves its public market streams on the routed `/public` path
 * (`wss://fstream.binance.com/public/stream?streams=btcusdt@depth@100ms`); a
 * stream asked for on another path is not refused but never sent, so the path
 * is a fixed rule here, not part of the configured URL: `wsUrl` is the host
 * only (`wss://fstream.binance.com`, or a simulated exchange's
 * `ws://127.0.0.1:PORT`).
 *
 * Stream names use the venue's native symbol in lower case (`btcusdt`), so
 * both venues may carry `btcusdt`: each Ingestor resolves stream names
 * against its own venue's symbols only, and maps them to the service-wide ids
 * (`rows`).
 *
 * @example
 * ```ts
 * import { binanceStreamBase, binanceVenueSymbols } from "./binance_venue.ts";
 * const { natives, rows } = binanceVenueSymbols(
 *   ["btcusdt", "binance-usdm:btcusdt", "okx:btc-usdt"],
 *   "binance-usdm",
 * );
 * natives; // ["btcusdt"]
 * rows; // Int32Array [1]
 * binanceStreamBase("binance-usdm", "wss://fstream.binance.com"); // "wss://fstream.binance.com/public"
 * ```
 * @module
 */

import { venueOf } from "../pipeline/venue_id.ts";
import type { DepthRequestVenue } from "../pipeline/depth_request_weight.ts";

/** A Binance venue the Ingestor runs: spot or USD-M futures. */
export type BinanceVenue = DepthRequestVenue;

/** The path USD-M's public combined streams are served on (the pool appends `/stream`). */
export const USDM_PUBLIC_PATH = "/public";

/** The symbols of one venue in a service-wide symbol list. */
export interface BinanceVenueSymbols {
  /** The venue's symbols, native lower-case spelling (`btcusdt`), in list order. */
  natives: string[];
  /** The service-wide id (index in the list) of each of `natives`. */
  rows: Int32Array;
}

/** Throws a TypeError unless `venue` is a {@link BinanceVenue}. */
export function checkBinanceVenue(venue: unknown): BinanceVenue {
  if (venue !== "binance" && venue !== "binance-usdm") {
    throw new TypeError(
      `Binance venue must be "binance" (spot) or "binance-usdm" (USD-M futures), got ${
        JSON.stringify(venue)
      }`,
    );
  }
  return venue;
}

/**
 * The symbols of `symbols` (service names, lower case) whose venue
 * (`venueOf`) is `venue`, with their native names and service-wide ids.
 * Consolidated instruments (`x:…`) and other venues' symbols are left out.
 *
 * @example
 * ```ts
 * import { binanceVenueSymbols } from "./binance_venue.ts";
 * binanceVenueSymbols(["btcusdt", "x:btc-usdt", "ethusdt"], "binance").rows; // Int32Array [0, 2]
 * ```
 * @throws TypeError for a venue other than `binance` or `binance-usdm`.
 */
export function binanceVenueSymbols(
  symbols: readonly string[],
  venue: BinanceVenue,
): BinanceVenueSymbols {
  checkBinanceVenue(venue);
  const natives: string[] = [];
  const rows: number[] = [];
  for (let i = 0; i < symbols.length; i++) {
    const name = symbols[i];
    if (venueOf(name) !== venue) continue;
    natives.push(venue === "binance" ? name : name.slice(name.indexOf(":") + 1));
    rows.push(i);
  }
  return { natives, rows: Int32Array.from(rows) };
}

/**
 * The base URL the combined-stream path `/stream?streams=…` is appended to,
 * for `venue` at `wsUrl`: `wsUrl` itself for spot, `wsUrl` + `/public` for
 * USD-M (module docs).
 *
 * @param venue The venue.
 * @param wsUrl For USD-M: `ws:` or `wss:`, host and port only (no path, query or fragment).
 * @throws TypeError for a USD-M `wsUrl` that is not a host-only WebSocket URL.
 * @example
 * ```ts
 * import { binanceStreamBase } from "./binance_venue.ts";
 * binanceStreamBase("binance", "wss://stream.binance.com:9443"); // unchanged
 * binanceStreamBase("binance-usdm", "ws://127.0.0.1:9000"); // "ws://127.0.0.1:9000/public"
 * ```
 */
export function binanceStreamBase(venue: BinanceVenue, wsUrl: string): string {
  if (checkBinanceVenue(venue) === "binance") return wsUrl;
  let url: URL | undefined;
  try {
    url = new URL(wsUrl);
  } catch {
    url = undefined;
  }
  if (
    url === undefined || (url.protocol !== "ws:" && url.protocol !== "wss:") ||
    url.pathname !== "/" || url.search !== "" || url.hash !== ""
  ) {
    throw new TypeError(
      `binance-usdm wsUrl must be ws(s)://host[:port] only (the ingest adds ${USDM_PUBLIC_PATH}/stream), ` +
        `e.g. "wss://fstream.binance.com"; got ${JSON.stringify(wsUrl)}`,
    );
  }
  return `${url.protocol}//${url.host}${USDM_PUBLIC_PATH}`;
}
