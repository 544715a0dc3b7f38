/**
 * What the dashboard shows of a consolidated instrument's venues: the tag of
 * each member (the venue's short tag, `BN`, `OK`, `BY`…, numbered when two
 * members share a venue: `BN1`, `BN2`), and the arbitrage of a crossed book
 * (best bid on one member above the best ask on another).
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memberTags } from "./venue_view.ts";
 * assert.deepEqual(memberTags(["BTCUSDT", "OKX:BTC-USDT", "BYBIT:BTCUSDT"]), ["BN", "OK", "BY"]);
 * assert.deepEqual(memberTags(["BTCUSDT", "BTCUSDC"]), ["BN1", "BN2"]);
 * ```
 * @module
 */
import { venueOf, VENUES } from "../pipeline/venue_id.ts";
import type { DashFrame } from "./dash_frame.ts";

/**
 * The tag of each member symbol (upper or lower case), in order: its venue's
 * tag, with the member's number among that venue's members when the venue
 * occurs more than once; "?" for an unnamed or unknown member.
 *
 * @example
 * ```ts
 * import { memberTags } from "./venue_view.ts";
 * memberTags(["KRAKEN:BTC/USD", ""]); // ["KR", "?"]
 * ```
 */
export function memberTags(symbols: readonly string[]): string[] {
  const tags = symbols.map((s) => {
    const v = s === "" ? undefined : venueOf(s.toLowerCase());
    return v === undefined ? "?" : VENUES[v].tag;
  });
  const seen = new Map<string, number>();
  return tags.map((t) => {
    if (t === "?" || tags.filter((u) => u === t).length < 2) return t;
    const n = (seen.get(t) ?? 0) + 1;
    seen.set(t, n);
    return `${t}${n}`;
  });
}

/** A crossed consolidated book: buy on one member, sell on another. */
export interface Arbitrage {
  /** best bid − best ask (> 0). */
  gap: number;
  /** Member index of the best bid (sell there). */
  bidMember: number;
  /** Member index of the best ask (buy there). */
  askMember: number;
}

/**
 * The arbitrage of a consolidated frame whose best bid is above its best ask
 * (the two on different members); null when the book is not crossed, a side
 * is empty or the frame is not a consolidated instrument's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * import { arbitrageOf } from "./venue_view.ts";
 * const f = emptyDashFrame("X:BTC");
 * f.bidPrices.push(101); f.bidVenues.push(1);
 * f.askPrices.push(100.5); f.askVenues.push(0);
 * f.venues.push({ symbol: "BTCUSDT", bestBid: 100, bestAsk: 100.5, ageMs: 0, stale: false },
 *   { symbol: "OKX:BTC-USDT", bestBid: 101, bestAsk: 102, ageMs: 0, stale: false });
 * assert.deepEqual(arbitrageOf(f), { gap: 0.5, bidMember: 1, askMember: 0 });
 * ```
 */
export function arbitrageOf(frame: DashFrame | null): Arbitrage | null {
  if (frame === null || frame.venues.length === 0) return null;
  if (frame.bidPrices.length === 0 || frame.askPrices.length === 0) return null;
  const gap = frame.bidPrices[0] - frame.askPrices[0];
  if (!(gap > 0)) return null;
  return { gap, bidMember: frame.bidVenues[0], askMember: frame.askVenues[0] };
}
