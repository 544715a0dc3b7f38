/**
 * Instrument parameters of a simulated symbol: tick and lot size, starting price,
 * typical spread, volatility and level sizes. BTCUSDT and ETHUSDT use values close
 * to the real market; any other name gets plausible values derived from a hash of
 * the name, so the same name always gets the same instrument.
 *
 * @example
 * ```ts
 * import { symbolSpec } from "./symbol_spec.ts";
 * const spec = symbolSpec("btcusdt");
 * spec.symbol; // "BTCUSDT"
 * spec.priceDecimals; // 2 (tick 0.01)
 * ```
 * @module
 */

import { hashString } from "./prng.ts";

/**
 * Parameters of one simulated instrument. Prices are in ticks, sizes in lots.
 *
 * @example
 * ```ts
 * const spec: SymbolSpec = symbolSpec("ethusdt");
 * spec.startTicks / 10 ** spec.priceDecimals; // about 3000 (USDT)
 * ```
 */
export interface SymbolSpec {
  /** Upper-case symbol as in REST and in diff events (`"BTCUSDT"`). */
  readonly symbol: string;
  /** Lower-case name as in stream names (`"btcusdt"`). */
  readonly stream: string;
  /** Decimals of one tick: tick size = 10^-priceDecimals (0..8). */
  readonly priceDecimals: number;
  /** Decimals of one lot: lot size = 10^-lotDecimals (0..8). */
  readonly lotDecimals: number;
  /** Starting mid price in ticks. */
  readonly startTicks: number;
  /** Typical (resting) spread in ticks, at least 1. */
  readonly spreadTicks: number;
  /** Standard deviation of the fair-price random walk per frame, in ticks. */
  readonly volTicksPerFrame: number;
  /** Log-normal location of a level's size, in ln(lots). */
  readonly sizeMu: number;
  /** Log-normal shape of a level's size (heavier tail when larger). */
  readonly sizeSigma: number;
}

interface KnownInstrument {
  price: number;
  priceDecimals: number;
  lotDecimals: number;
  spreadTicks: number;
}

const KNOWN: Record<string, KnownInstrument> = {
  btcusdt: { price: 60000, priceDecimals: 2, lotDecimals: 5, spreadTicks: 1 },
  ethusdt: { price: 3000, priceDecimals: 2, lotDecimals: 4, spreadTicks: 1 },
  bnbusdt: { price: 550, priceDecimals: 2, lotDecimals: 3, spreadTicks: 1 },
  solusdt: { price: 150, priceDecimals: 2, lotDecimals: 3, spreadTicks: 1 },
};

/**
 * Symbol names the simulator accepts: 2..20 ASCII letters or digits.
 *
 * @example
 * ```ts
 * SYMBOL_PATTERN.test("btcusdt"); // true
 * SYMBOL_PATTERN.test("btc/usdt"); // false
 * ```
 */
export const SYMBOL_PATTERN: RegExp = /^[a-z0-9]{2,20}$/;

/**
 * Returns the instrument parameters for a symbol name (case-insensitive).
 *
 * @param name Symbol such as `"btcusdt"` or `"BTCUSDT"`.
 * @returns Deterministic parameters for that name.
 * @throws {TypeError} if the name is not 2..20 letters or digits.
 * @example
 * ```ts
 * symbolSpec("ETHUSDT").stream; // "ethusdt"
 * ```
 */
export function symbolSpec(name: string): SymbolSpec {
  const stream = String(name).toLowerCase();
  if (!SYMBOL_PATTERN.test(stream)) {
    throw new TypeError(
      `symbol must be 2..20 ASCII letters or digits (e.g. "btcusdt"), got ${JSON.stringify(name)}`,
    );
  }
  const h = hashString(stream);
  let price: number, priceDecimals: number, lotDecimals: number, spreadTicks: number;
  const known = Object.hasOwn(KNOWN, stream) ? KNOWN[stream] : undefined;
  if (known) {
    ({ price, priceDecimals, lotDecimals, spreadTicks } = known);
  } else {
    // Price between 0.001 and 9999, log-uniform from the hash.
    const exponent = (h % 7) - 3; // -3..3
    const mantissa = 1 + ((h >>> 8) % 900) / 100; // 1.00..9.99
    price = mantissa * 10 ** exponent;
    const mag = Math.floor(Math.log10(price));
    priceDecimals = Math.min(8, Math.max(0, 4 - mag));
    lotDecimals = Math.min(8, Math.max(0, mag + 1));
    spreadTicks = 1 + ((h >>> 20) % 3);
  }
  const tick = 10 ** -priceDecimals;
  const lot = 10 ** -lotDecimals;
  const startTicks = Math.round(price / tick);
  // About 0.05 bp of price per frame: lively but plausible (a few % a day at 10/s).
  const volTicksPerFrame = Math.max(0.4, (price * 5e-6) / tick);
  // Typical level notional around 10k quote units.
  const sizeMu = Math.log(Math.max(1, 10000 / (price * lot)));
  return {
    symbol: stream.toUpperCase(),
    stream,
    priceDecimals,
    lotDecimals,
    startTicks,
    spreadTicks,
    volTicksPerFrame,
    sizeMu,
    sizeSigma: 1.1,
  };
}
