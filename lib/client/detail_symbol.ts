/**
 * The `{SYMBOL}` of a detail page's path (`/s/{SYMBOL}`): checked against
 * the symbol-name rule and the served symbols, case-insensitively.
 *
 * A name is 1 to {@linkcode MAX_SYMBOL_BYTES} (32) letters, digits, `_`, `.`,
 * `-`, `:` or `/` (the rule of `--symbols`, in either case, plus the venue
 * prefix `venue:` and `/` of venue symbols and `X:` of consolidated
 * instruments; {@linkcode detailPath} percent-encodes them). The canonical spelling
 * is upper-case: a request in any other case is redirected to it.
 *
 * Used by the route on the server and by the search box in the browser: it
 * must not touch the `Deno` global.
 *
 * @module
 */
import { MAX_SYMBOL_BYTES } from "../pipeline/wire_slot.ts";

const NAME = new RegExp(`^[A-Za-z0-9_.:/-]{1,${MAX_SYMBOL_BYTES}}$`);

/** What a path's symbol resolves to. */
export type DetailSymbol =
  /** Served, spelled canonically: `id` is its index in the symbol list. */
  | { kind: "ok"; symbol: string; id: number }
  /** Served, but not spelled in upper case: redirect to `symbol`. */
  | { kind: "redirect"; symbol: string; id: number }
  /** A valid name the service does not serve. */
  | { kind: "unknown"; symbol: string }
  /** Not a symbol name at all. */
  | { kind: "malformed" };

/**
 * Resolve the path parameter `raw` (already percent-decoded) against the
 * served, upper-case `symbols`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveDetailSymbol } from "./detail_symbol.ts";
 * const served = ["BTCUSDT", "ETHUSDT"];
 * assert.deepEqual(resolveDetailSymbol("ETHUSDT", served), { kind: "ok", symbol: "ETHUSDT", id: 1 });
 * assert.equal(resolveDetailSymbol("ethusdt", served).kind, "redirect");
 * assert.equal(resolveDetailSymbol("DOGEUSDT", served).kind, "unknown");
 * assert.equal(resolveDetailSymbol("<script>", served).kind, "malformed");
 * ```
 *
 * @param raw The `{SYMBOL}` segment of the path.
 * @param symbols The served symbols, upper-case, indexed by id.
 */
export function resolveDetailSymbol(raw: string, symbols: readonly string[]): DetailSymbol {
  if (!NAME.test(raw)) return { kind: "malformed" };
  const symbol = raw.toUpperCase();
  const id = symbols.indexOf(symbol);
  if (id < 0) return { kind: "unknown", symbol };
  return symbol === raw ? { kind: "ok", symbol, id } : { kind: "redirect", symbol, id };
}

/**
 * The path of `symbol`'s detail page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detailPath } from "./detail_symbol.ts";
 * assert.equal(detailPath("BTCUSDT"), "/s/BTCUSDT");
 * assert.equal(detailPath("X:BTC-USDT"), "/s/X%3ABTC-USDT");
 * ```
 */
export function detailPath(symbol: string): string {
  return `/s/${encodeURIComponent(symbol)}`;
}
