/**
 * The `--symbols` language: a comma-separated list of symbol names and
 * patterns, case-insensitive, resolved in order and de-duplicated.
 *
 * - a **name** (`btcusdt`): 1 to 32 of `a-z 0-9 _ . -`;
 * - a **pattern** holds `*`, which stands for any run of characters, empty
 *   included (`*usdt`, `btc*`, `*btc*`); every other character is literal;
 * - **`all`** is every symbol the exchange lists as `TRADING` (the same as `*`);
 * - a **venue name** `venue:SYMBOL` (`okx:BTC-USDT`, `kraken:BTC/USD`,
 *   `bybit:BTCUSDT`, `binance-usdm:BTCUSDT`; see `lib/pipeline/venue_id.ts`)
 *   is checked against the venue's spelling and kept as its service name
 *   (`okx:btc-usdt`; `binance:BTCUSDT` is plain `btcusdt`). Patterns and
 *   `all` stand for Binance spot symbols only (the listing they are resolved
 *   against), and a venue name is never looked up in that listing.
 *
 * {@linkcode parseSymbolSelector} checks the text (no exchange needed). A list
 * of names only is used as given; a list with a pattern or `all` is resolved
 * by {@linkcode resolveSymbolSelector} against the exchange's listing
 * (`GET /api/v3/exchangeInfo`, see `exchange_info.ts`): each pattern becomes
 * the `TRADING` symbols it matches, in the exchange's order, and each name
 * must be listed and `TRADING`.
 *
 * @example
 * ```ts
 * import { parseSymbolSelector, resolveSymbolSelector } from "./symbol_selector.ts";
 *
 * const selector = parseSymbolSelector("ETHBTC, *usdt");
 * selector.needsExchange; // true
 * const listed = [
 *   { symbol: "btcusdt", status: "TRADING" },
 *   { symbol: "ethbtc", status: "TRADING" },
 *   { symbol: "ethusdt", status: "TRADING" },
 *   { symbol: "lunausdt", status: "BREAK" },
 * ];
 * resolveSymbolSelector(selector, listed); // ["ethbtc", "btcusdt", "ethusdt"]
 * ```
 * @module
 */

import { MAX_SYMBOL_BYTES } from "../pipeline/wire_slot.ts";
import { parseVenueSymbol, venueOf, VenueSymbolError } from "../pipeline/venue_id.ts";

/**
 * A symbol name: 1 to {@link MAX_SYMBOL_BYTES} (32) lower-case letters,
 * digits, `_`, `.` or `-` (the wire slots reserve that many bytes for it).
 */
const NAME = new RegExp(`^[a-z0-9_.-]{1,${MAX_SYMBOL_BYTES}}$`);
/** A pattern: like a name, with at least one `*`. */
const PATTERN = new RegExp(`^[a-z0-9_.*-]{1,${MAX_SYMBOL_BYTES}}$`);

/** The status a symbol must have to be watched. */
export const TRADING = "TRADING";

/**
 * One entry of a `--symbols` list.
 *
 * @example
 * ```ts
 * const entry: SymbolEntry = { kind: "pattern", text: "*usdt" };
 * ```
 */
export type SymbolEntry =
  | { readonly kind: "name"; readonly text: string }
  | { readonly kind: "pattern"; readonly text: string };

/**
 * A parsed `--symbols` list.
 *
 * @example
 * ```ts
 * import { parseSymbolSelector } from "./symbol_selector.ts";
 * const s: SymbolSelector = parseSymbolSelector("btcusdt,ethusdt");
 * s.names; // ["btcusdt", "ethusdt"]
 * s.needsExchange; // false
 * ```
 */
export interface SymbolSelector {
  /** The entries, lower case, in the order given, duplicates dropped (`all` is the pattern `*`). */
  readonly entries: readonly SymbolEntry[];
  /** The names among the entries, in order. */
  readonly names: readonly string[];
  /** True when an entry is a pattern: the list is resolved against the exchange's listing. */
  readonly needsExchange: boolean;
  /** The list as given, for messages. */
  readonly text: string;
}

/**
 * A symbol of the exchange's listing, as {@linkcode resolveSymbolSelector} needs it.
 *
 * @example
 * ```ts
 * const s: Listed = { symbol: "btcusdt", status: "TRADING" };
 * ```
 */
export interface Listed {
  /** Lower-case symbol (`btcusdt`). */
  readonly symbol: string;
  /** Trading status (`TRADING`, `BREAK`, `HALT`, …). */
  readonly status: string;
}

/**
 * A `--symbols` list could not be parsed or resolved; `message` says which
 * entries and what was expected (without the flag name, which the caller adds).
 *
 * @example
 * ```ts
 * import { parseSymbolSelector, SymbolSelectorError } from "./symbol_selector.ts";
 * try {
 *   parseSymbolSelector("btc/usdt");
 * } catch (e) {
 *   if (e instanceof SymbolSelectorError) e.message; // names the bad entry
 * }
 * ```
 */
export class SymbolSelectorError extends Error {
  /**
   * @param message What was wrong and what was expected.
   */
  constructor(message: string) {
    super(message);
    this.name = "SymbolSelectorError";
  }
}

/** What a valid `--symbols` value looks like (ends error messages and the help text). */
export const SYMBOLS_EXPECTED =
  "a comma-separated list of symbol names (1 to 32 letters, digits, '_', '.' or '-'), " +
  "venue:SYMBOL names of other venues (e.g. okx:BTC-USDT, kraken:BTC/USD, bybit:BTCUSDT, " +
  "binance-usdm:BTCUSDT), patterns where '*' matches any characters (e.g. *usdt), or all " +
  "(every TRADING symbol; patterns and all are Binance spot only); " +
  "case-insensitive, e.g. btcusdt,ethusdt or all or btcusdt,*fdusd,okx:BTC-USDT";

/**
 * Parses a `--symbols` value (see the module documentation).
 *
 * @param text The flag's value.
 * @throws {SymbolSelectorError} For an empty list or entry, or an entry with other characters.
 * @example
 * ```ts
 * import { parseSymbolSelector } from "./symbol_selector.ts";
 * parseSymbolSelector("ALL").entries; // [{ kind: "pattern", text: "*" }]
 * ```
 */
export function parseSymbolSelector(text: string): SymbolSelector {
  if (text.trim() === "") throw new SymbolSelectorError("the list is empty");
  const entries: SymbolEntry[] = [];
  const seen = new Set<string>();
  for (const part of text.split(",")) {
    const raw = part.trim();
    if (raw === "") throw new SymbolSelectorError("the list has an empty entry");
    let entry = raw.toLowerCase();
    if (entry === "all") entry = "*";
    const venue = entry.includes(":");
    if (venue) entry = venueName(raw);
    if (seen.has(entry)) continue;
    seen.add(entry);
    if (venue || NAME.test(entry)) entries.push(Object.freeze({ kind: "name", text: entry }));
    else if (PATTERN.test(entry)) entries.push(Object.freeze({ kind: "pattern", text: entry }));
    else {
      throw new SymbolSelectorError(
        `${JSON.stringify(raw)} is neither a symbol name of 1 to 32 letters, digits, '_', '.' ` +
          `or '-' nor a pattern of those and '*'`,
      );
    }
  }
  const names = entries.filter((e) => e.kind === "name").map((e) => e.text);
  return Object.freeze({
    entries: Object.freeze(entries),
    names: Object.freeze(names),
    needsExchange: names.length < entries.length,
    text,
  });
}

/** The service name of a `venue:SYMBOL` entry, checked (module docs). */
function venueName(raw: string): string {
  const rest = raw.slice(raw.indexOf(":") + 1).trim().toLowerCase();
  if (rest.includes("*") || rest === "all") {
    throw new SymbolSelectorError(
      `${JSON.stringify(raw)}: patterns and all are Binance spot only (resolved against ` +
        "its listing); list the symbols of other venues by name, e.g. okx:BTC-USDT",
    );
  }
  let name: string;
  try {
    name = parseVenueSymbol(raw).name;
  } catch (e) {
    if (e instanceof VenueSymbolError) throw new SymbolSelectorError(e.message);
    throw e;
  }
  if (name.length > MAX_SYMBOL_BYTES) {
    throw new SymbolSelectorError(
      `${
        JSON.stringify(raw)
      } is ${name.length} characters as ${name}; expected at most ${MAX_SYMBOL_BYTES}`,
    );
  }
  return name;
}

/**
 * A matcher of one pattern: `*` is any run of characters, the rest literal.
 *
 * @example
 * ```ts
 * import { patternMatcher } from "./symbol_selector.ts";
 * patternMatcher("*usdt")("btcusdt"); // true
 * patternMatcher("*usdt")("usdtbtc"); // false
 * ```
 */
export function patternMatcher(pattern: string): (symbol: string) => boolean {
  const source = pattern.split("*").map((s) => s.replace(/[.\-]/g, "\\$&")).join(".*");
  const re = new RegExp(`^${source}$`);
  return (symbol) => re.test(symbol);
}

/**
 * The symbols `selector` stands for on an exchange listing `listed`: entries
 * in order, a pattern expanded to the `TRADING` symbols it matches in the
 * listing's order, duplicates dropped. A pattern never selects a listed
 * symbol that is not a valid name (longer than 32 characters, or characters
 * other than `a-z0-9_.-`): depthwatch could not stream or serve it; each is
 * passed to `onUnusable` instead, so the caller can say so.
 *
 * @param selector The parsed list.
 * @param listed The exchange's symbols (lower case), in its order.
 * @param onUnusable Called once per `TRADING` symbol a pattern matched but that is not a valid name.
 * @returns The symbols, lower case, at least one.
 * @throws {SymbolSelectorError} Naming every name not listed or not `TRADING`
 *   and every pattern that matches no `TRADING` symbol.
 * @example
 * ```ts
 * import { parseSymbolSelector, resolveSymbolSelector } from "./symbol_selector.ts";
 * const listed = [{ symbol: "btcusdt", status: "TRADING" }, { symbol: "ethusdt", status: "HALT" }];
 * resolveSymbolSelector(parseSymbolSelector("all"), listed); // ["btcusdt"]
 * ```
 */
export function resolveSymbolSelector(
  selector: SymbolSelector,
  listed: readonly Listed[],
  onUnusable?: (symbol: string) => void,
): string[] {
  const status = new Map<string, string>();
  for (const l of listed) if (!status.has(l.symbol)) status.set(l.symbol, l.status);
  const out: string[] = [];
  const taken = new Set<string>();
  const take = (s: string) => {
    if (taken.has(s)) return;
    taken.add(s);
    out.push(s);
  };
  const problems: string[] = [];
  for (const entry of selector.entries) {
    if (entry.kind === "name" && venueOf(entry.text) !== "binance") {
      take(entry.text); // another venue's symbol: not in Binance's listing
      continue;
    }
    if (entry.kind === "name") {
      const s = status.get(entry.text);
      if (s === undefined) problems.push(`${entry.text} is not listed by the exchange`);
      else if (s !== TRADING) problems.push(`${entry.text} is listed as ${s}, not ${TRADING}`);
      else take(entry.text);
      continue;
    }
    const matches = patternMatcher(entry.text);
    let found = 0;
    for (const l of listed) {
      if (l.status !== TRADING || !matches(l.symbol)) continue;
      if (!NAME.test(l.symbol)) {
        if (!taken.has(l.symbol)) onUnusable?.(l.symbol);
        taken.add(l.symbol);
        continue;
      }
      found++;
      take(l.symbol);
    }
    if (found === 0) {
      problems.push(
        entry.text === "*"
          ? `all matches nothing: the exchange lists no ${TRADING} symbol (${listed.length} listed)`
          : `the pattern ${entry.text} matches no ${TRADING} symbol of the ${listed.length} listed`,
      );
    }
  }
  if (problems.length > 0) {
    throw new SymbolSelectorError(
      problems.join("; ") +
        `; expected names and patterns that match ${TRADING} symbols of the exchange`,
    );
  }
  return out;
}
