/**
 * The venues depthwatch reads and how a symbol names its venue.
 *
 * A symbol is written `venue:SYMBOL` (`okx:BTC-USDT`, `kraken:BTC/USD`,
 * `bybit:BTCUSDT`, `binance-usdm:BTCUSDT`, `coinbase:BTC-USD`); a name without
 * a venue (`BTCUSDT`) is Binance spot, as before. Inside the service every
 * symbol name is lower case (`okx:btc-usdt`); the venue's own spelling of the
 * native symbol is the upper-case form (every venue here spells symbols in
 * upper case, Binance's stream names aside).
 *
 * This module is shared by the server, the ingest worker, the simulated
 * exchange and the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVenueSymbol } from "./venue_id.ts";
 * assert.deepEqual(parseVenueSymbol("okx:BTC-USDT"), { venue: "okx", native: "BTC-USDT", name: "okx:btc-usdt" });
 * assert.deepEqual(parseVenueSymbol("BTCUSDT"), { venue: "binance", native: "BTCUSDT", name: "btcusdt" });
 * ```
 * @module
 */

/** The venues, in the order docs, metrics and the dashboard list them. */
export const VENUE_IDS = ["binance", "binance-usdm", "bybit", "okx", "kraken", "coinbase"] as const;

/** One of {@link VENUE_IDS}. */
export type VenueId = typeof VENUE_IDS[number];

/** What the service needs to know of a venue before connecting to it. */
export interface VenueInfo {
  /** The venue's id, the prefix of its symbols. */
  readonly id: VenueId;
  /** Name shown on the dashboard. */
  readonly label: string;
  /** Short tag shown next to a price level of a consolidated book (2–3 letters). */
  readonly tag: string;
  /** Production WebSocket URL (without the per-connection stream list). */
  readonly wsUrl: string;
  /** Production REST base URL when the venue needs REST (snapshots, contract values), else "". */
  readonly restUrl: string;
  /** `host:port` entries `--allow-net` needs for this venue, production URLs. */
  readonly hosts: readonly string[];
  /** How a native symbol is spelt, for error messages (e.g. "BTC-USDT"). */
  readonly example: string;
  /** The pattern a native symbol (upper case) must match. */
  readonly pattern: RegExp;
}

/** Every venue's {@link VenueInfo}, by id. */
export const VENUES: Readonly<Record<VenueId, VenueInfo>> = Object.freeze({
  "binance": {
    id: "binance",
    label: "Binance",
    tag: "BN",
    wsUrl: "wss://stream.binance.com:9443",
    restUrl: "https://api.binance.com",
    hosts: ["stream.binance.com:9443", "api.binance.com:443"],
    example: "BTCUSDT",
    pattern: /^[A-Z0-9]{2,20}$/,
  },
  "binance-usdm": {
    id: "binance-usdm",
    label: "Binance USD-M",
    tag: "BF",
    // Host only: the Ingestor adds the routed path /public/stream (lib/ingest/binance_venue.ts).
    wsUrl: "wss://fstream.binance.com",
    restUrl: "https://fapi.binance.com",
    hosts: ["fstream.binance.com:443", "fapi.binance.com:443"],
    example: "BTCUSDT",
    pattern: /^[A-Z0-9]{2,20}$/,
  },
  "bybit": {
    id: "bybit",
    label: "Bybit",
    tag: "BY",
    wsUrl: "wss://stream.bybit.com/v5/public/spot",
    restUrl: "",
    hosts: ["stream.bybit.com:443"],
    example: "BTCUSDT",
    pattern: /^[A-Z0-9]{2,25}$/,
  },
  "okx": {
    id: "okx",
    label: "OKX",
    tag: "OK",
    wsUrl: "wss://ws.okx.com:8443/ws/v5/public",
    // Contract values of derivatives (GET /api/v5/public/instruments; lib/ingest/venues/okx_instruments.ts).
    restUrl: "https://www.okx.com",
    hosts: ["ws.okx.com:8443", "www.okx.com:443"],
    example: "BTC-USDT",
    pattern: /^[A-Z0-9]{1,15}-[A-Z0-9]{1,15}(?:-[A-Z0-9]{1,15}){0,2}$/,
  },
  "kraken": {
    id: "kraken",
    label: "Kraken",
    tag: "KR",
    wsUrl: "wss://ws.kraken.com/v2",
    restUrl: "",
    hosts: ["ws.kraken.com:443"],
    example: "BTC/USD",
    pattern: /^[A-Z0-9.]{1,15}\/[A-Z0-9.]{1,15}$/,
  },
  "coinbase": {
    id: "coinbase",
    label: "Coinbase",
    tag: "CB",
    wsUrl: "wss://advanced-trade-ws.coinbase.com",
    restUrl: "",
    hosts: ["advanced-trade-ws.coinbase.com:443"],
    example: "BTC-USD",
    pattern: /^[A-Z0-9]{1,15}-[A-Z0-9]{1,15}$/,
  },
});

/** A symbol split into its venue and its native spelling. */
export interface VenueSymbol {
  /** The venue. */
  venue: VenueId;
  /** The venue's spelling, upper case (`BTC-USDT`, `BTC/USD`). */
  native: string;
  /** The service's name of the symbol: lower case, prefixed unless Binance spot. */
  name: string;
}

/** Thrown by {@link parseVenueSymbol} for a name that is not `venue:SYMBOL` of a known venue. */
export class VenueSymbolError extends Error {
  /** @param message what was wrong and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "VenueSymbolError";
  }
}

/**
 * Split `venue:SYMBOL` (any case) into venue and native symbol; a name
 * without a colon is Binance spot.
 *
 * @example
 * ```ts
 * import { parseVenueSymbol } from "./venue_id.ts";
 * parseVenueSymbol("kraken:btc/usd").native; // "BTC/USD"
 * ```
 * @throws VenueSymbolError for an unknown venue or a symbol the venue cannot spell.
 */
export function parseVenueSymbol(raw: string): VenueSymbol {
  const text = raw.trim();
  const colon = text.indexOf(":");
  const venueText = colon < 0 ? "binance" : text.slice(0, colon).toLowerCase();
  const native = (colon < 0 ? text : text.slice(colon + 1)).toUpperCase();
  if (!(VENUE_IDS as readonly string[]).includes(venueText)) {
    throw new VenueSymbolError(
      `unknown venue "${venueText}" in "${raw}": expected one of ${VENUE_IDS.join(", ")}`,
    );
  }
  const venue = venueText as VenueId;
  const info = VENUES[venue];
  if (!info.pattern.test(native)) {
    throw new VenueSymbolError(
      `"${native}" is not a ${info.label} symbol: expected something like ${venue}:${info.example}`,
    );
  }
  const lower = native.toLowerCase();
  return { venue, native, name: venue === "binance" ? lower : `${venue}:${lower}` };
}

/**
 * Prefix of a consolidated instrument's service name (`x:btc-usdt`, shown
 * `X:BTC-USDT`): an instrument made of several venues' books
 * (`--consolidate`), analysed and shown like any symbol but never connected.
 */
export const CONSOLIDATED_PREFIX = "x:";

/**
 * Whether a service symbol name is a consolidated instrument ({@link CONSOLIDATED_PREFIX}).
 *
 * @example
 * ```ts
 * import { isConsolidatedName } from "./venue_id.ts";
 * isConsolidatedName("x:btc-usdt"); // true
 * isConsolidatedName("okx:btc-usdt"); // false
 * ```
 */
export function isConsolidatedName(name: string): boolean {
  return name.length > 2 && (name.charCodeAt(0) | 0x20) === 0x78 && name.charCodeAt(1) === 0x3a;
}

/**
 * The venue of a service symbol name (`okx:btc-usdt` → `okx`, `btcusdt` →
 * `binance`); undefined for a consolidated instrument (`x:…`) or an unknown
 * prefix: no venue connects those.
 *
 * @example
 * ```ts
 * import { venueOf } from "./venue_id.ts";
 * venueOf("bybit:btcusdt"); // "bybit"
 * venueOf("x:btc-usdt"); // undefined
 * ```
 */
export function venueOf(name: string): VenueId | undefined {
  const colon = name.indexOf(":");
  if (colon < 0) return "binance";
  const v = name.slice(0, colon).toLowerCase();
  return (VENUE_IDS as readonly string[]).includes(v) ? v as VenueId : undefined;
}
