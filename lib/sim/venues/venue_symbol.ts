/**
 * A simulated symbol of any venue: its venue, native spelling, service name,
 * the key its counters use in `SimStats`, its base asset (which decides the
 * price path it shares with other venues) and its {@link SymbolSpec}.
 *
 * Instrument parameters come from the Binance spot spec of `<base>usdt`
 * (`symbolSpec` in symbol_spec.ts), so `okx:btc-usdt`, `bybit:btcusdt`,
 * `kraken:btc/usd` and `btcusdt` are the same instrument at the same price and
 * tick; only the random seed differs (it is drawn from the service name).
 *
 * @example
 * ```ts
 * import { venueSimSymbol } from "./venue_symbol.ts";
 * const s = venueSimSymbol("kraken:btc/usd");
 * s.venue; // "kraken"
 * s.native; // "BTC/USD"
 * s.key; // "kraken:BTC/USD"
 * s.base; // "btc"
 * s.spec.priceDecimals; // 2, like btcusdt
 * ```
 * @module
 */

import { parseVenueSymbol, type VenueId } from "../../pipeline/venue_id.ts";
import { type SymbolSpec, symbolSpec } from "../symbol_spec.ts";

/**
 * One simulated symbol. See the module documentation.
 *
 * @example
 * ```ts
 * const s: VenueSimSymbol = venueSimSymbol("btcusdt");
 * s.key; // "BTCUSDT" (Binance spot keeps its old stats key)
 * ```
 */
export interface VenueSimSymbol {
  /** The venue. */
  readonly venue: VenueId;
  /** The venue's spelling (`BTC-USDT`, `BTC/USD`, `BTCUSDT`). */
  readonly native: string;
  /** The service's name (`okx:btc-usdt`; `btcusdt` for Binance spot). */
  readonly name: string;
  /** Key in the per-symbol `SimStats` records: `venue:NATIVE`, or `NATIVE` for Binance spot. */
  readonly key: string;
  /** Lower-case base asset (`btc`); symbols with the same base share a price path. */
  readonly base: string;
  /** Instrument parameters; `stream` is the service name (it seeds the book). */
  readonly spec: SymbolSpec;
}

/** Quote assets stripped from an unseparated symbol (`BTCUSDT` → `BTC`), longest first. */
const QUOTES = ["FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "BTC", "ETH", "BNB"];

/**
 * Parses a service symbol name (any case, `venue:SYMBOL` or plain Binance spot).
 *
 * @param raw E.g. `"okx:BTC-USDT"`, `"bybit:btcusdt"`, `"ethusdt"`.
 * @throws {TypeError} if the venue is unknown or the venue cannot spell the symbol.
 * @example
 * ```ts
 * venueSimSymbol("okx:btc-usdt-swap").base; // "btc"
 * venueSimSymbol("binance-usdm:ethusdt").spec.symbol; // "ETHUSDT"
 * ```
 */
export function venueSimSymbol(raw: string): VenueSimSymbol {
  let parsed;
  try {
    parsed = parseVenueSymbol(String(raw));
  } catch (err) {
    throw new TypeError(`symbol ${JSON.stringify(raw)}: ${(err as Error).message}`);
  }
  const { venue, native, name } = parsed;
  if (venue === "binance") {
    const spec = symbolSpec(native);
    return { venue, native, name, key: spec.symbol, base: baseOf(native), spec };
  }
  const base = baseOf(native);
  const like = symbolSpec((base.replace(/[^a-z0-9]/g, "") || "x").slice(0, 16) + "usdt");
  const spec: SymbolSpec = {
    ...like,
    symbol: venue === "binance-usdm" || venue === "bybit" ? native : like.symbol,
    stream: name,
  };
  return { venue, native, name, key: `${venue}:${native}`, base, spec };
}

/** Lower-case base asset of a native symbol. */
function baseOf(native: string): string {
  const sep = /[-/]/.exec(native);
  if (sep !== null) return native.slice(0, sep.index).toLowerCase();
  for (const q of QUOTES) {
    if (native.length > q.length + 1 && native.endsWith(q)) {
      return native.slice(0, -q.length).toLowerCase();
    }
  }
  return native.toLowerCase();
}
