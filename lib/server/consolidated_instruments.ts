/**
 * `--consolidate`: the consolidated instruments of a run and where they sit in
 * its symbol list.
 *
 * Syntax: `NAME=MEMBER,MEMBER[,…]`, several instruments separated by `;` (the
 * flag may also be repeated; `DEPTHWATCH_CONSOLIDATE` takes the `;` form):
 * `--consolidate "BTC-USDT=binance:BTCUSDT,okx:BTC-USDT,bybit:BTCUSDT"`.
 * - `NAME`: 1 to 30 of `A-Z a-z 0-9 . _ -`; the instrument's service name is
 *   `x:` + the name in lower case (`x:btc-usdt`, shown `X:BTC-USDT`; see
 *   `CONSOLIDATED_PREFIX` in lib/pipeline/venue_id.ts). Names are unique.
 * - `MEMBER`: a symbol as `--symbols` spells it, `venue:SYMBOL` or a plain
 *   Binance spot name (parsed by `parseVenueSymbol`); 2 to 8 distinct members.
 *   A member that `--symbols` does not list is **added** to the run's symbols
 *   (after the ones given): an instrument always has its members' books.
 *
 * The run's symbol list ({@link withConsolidated}) is its real symbols, then
 * the members added, then the instruments in the order given: an instrument's
 * symbol id is above every real symbol's, and the ingest side is given the
 * real symbols only (it never connects an `x:` name).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConsolidate, withConsolidated } from "./consolidated_instruments.ts";
 * const x = parseConsolidate("BTC=btcusdt,okx:BTC-USDT; eth = ethusdt , bybit:ETHUSDT");
 * assert.deepEqual(x[0], { name: "x:btc", members: ["btcusdt", "okx:btc-usdt"] });
 * assert.deepEqual(withConsolidated(["btcusdt", "solusdt"], x), [
 *   "btcusdt", "solusdt", "okx:btc-usdt", "ethusdt", "bybit:ethusdt", "x:btc", "x:eth",
 * ]);
 * ```
 * @module
 */

import { MAX_VENUE_MEMBERS } from "../pipeline/frame_slot.ts";
import {
  CONSOLIDATED_PREFIX,
  isConsolidatedName,
  parseVenueSymbol,
  VenueSymbolError,
} from "../pipeline/venue_id.ts";

/** One consolidated instrument of `--consolidate`. */
export interface ConsolidatedInstrument {
  /** The instrument's service name: `x:` + its name in lower case. */
  readonly name: string;
  /** Its members' service names (`okx:btc-usdt`, `btcusdt`), 2 to 8, in the order given. */
  readonly members: readonly string[];
}

/** What a valid `--consolidate` looks like (ends error messages). */
export const CONSOLIDATE_EXPECTED = `NAME=MEMBER,MEMBER[,…] (2 to ${MAX_VENUE_MEMBERS} distinct ` +
  "members, each venue:SYMBOL or a Binance spot name; NAME 1 to 30 of A-Z a-z 0-9 . _ -), " +
  "several separated by ';', e.g. BTC-USDT=binance:BTCUSDT,okx:BTC-USDT,bybit:BTCUSDT";

/** Thrown by {@link parseConsolidate}; the message says what was wrong. */
export class ConsolidateError extends Error {
  /** @param message what was wrong and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "ConsolidateError";
  }
}

const NAME = /^[A-Za-z0-9._-]{1,30}$/;

/**
 * Parse `--consolidate` text (instruments separated by `;`; empty entries
 * between separators are ignored, an empty text is no instrument).
 *
 * @throws ConsolidateError for an entry without `=`, a bad or repeated name,
 *   a member no venue can spell, a repeated member, or fewer than 2 or more
 *   than 8 members.
 * @example
 * ```ts
 * import { parseConsolidate } from "./consolidated_instruments.ts";
 * parseConsolidate("BTC-USDT=binance:BTCUSDT,okx:BTC-USDT")[0].name; // "x:btc-usdt"
 * ```
 */
export function parseConsolidate(raw: string): ConsolidatedInstrument[] {
  const out: ConsolidatedInstrument[] = [];
  for (const entry of raw.split(";")) {
    if (entry.trim() === "") continue;
    const eq = entry.indexOf("=");
    if (eq < 0) throw new ConsolidateError(`"${entry.trim()}" has no "=" between name and members`);
    const name = entry.slice(0, eq).trim();
    if (!NAME.test(name)) {
      throw new ConsolidateError(
        `instrument name "${name}" is not 1 to 30 of A-Z a-z 0-9 . _ -`,
      );
    }
    const service = CONSOLIDATED_PREFIX + name.toLowerCase();
    if (out.some((x) => x.name === service)) {
      throw new ConsolidateError(`instrument "${name}" is given twice`);
    }
    const members: string[] = [];
    for (const part of entry.slice(eq + 1).split(",")) {
      const text = part.trim();
      if (text === "") throw new ConsolidateError(`instrument "${name}" has an empty member`);
      let member: string;
      try {
        member = parseVenueSymbol(text).name;
      } catch (e) {
        if (e instanceof VenueSymbolError) {
          throw new ConsolidateError(`instrument "${name}": ${e.message}`);
        }
        throw e;
      }
      if (members.includes(member)) {
        throw new ConsolidateError(`instrument "${name}" lists ${member} twice`);
      }
      members.push(member);
    }
    if (members.length < 2 || members.length > MAX_VENUE_MEMBERS) {
      throw new ConsolidateError(
        `instrument "${name}" has ${members.length} member(s), expected 2 to ${MAX_VENUE_MEMBERS}`,
      );
    }
    out.push(Object.freeze({ name: service, members: Object.freeze(members) }));
  }
  return out;
}

/**
 * The run's symbol list: `symbols` without any consolidated name, then every
 * instrument member not among them (in order), then the instruments' names.
 * Idempotent: applying it to its own result gives the same list.
 *
 * @example
 * ```ts
 * import { withConsolidated } from "./consolidated_instruments.ts";
 * withConsolidated(["btcusdt"], [{ name: "x:btc", members: ["btcusdt", "btcusdc"] }]);
 * // ["btcusdt", "btcusdc", "x:btc"]
 * ```
 */
export function withConsolidated(
  symbols: readonly string[],
  instruments: readonly ConsolidatedInstrument[],
): string[] {
  const out = symbols.filter((s) => !isConsolidatedName(s));
  const seen = new Set(out);
  for (const x of instruments) {
    for (const m of x.members) {
      if (!seen.has(m)) {
        seen.add(m);
        out.push(m);
      }
    }
  }
  for (const x of instruments) out.push(x.name);
  return out;
}

/**
 * The analytics worker's view of the instruments: each one's symbol id and its
 * members' ids in `symbols` (a list made by {@link withConsolidated}).
 *
 * @throws RangeError when a name is missing from `symbols`.
 * @example
 * ```ts
 * import { consolidatedIds } from "./consolidated_instruments.ts";
 * consolidatedIds(["btcusdt", "btcusdc", "x:btc"], [{ name: "x:btc", members: ["btcusdt", "btcusdc"] }]);
 * // [{ symbolId: 2, members: [0, 1] }]
 * ```
 */
export function consolidatedIds(
  symbols: readonly string[],
  instruments: readonly ConsolidatedInstrument[],
): { symbolId: number; members: number[] }[] {
  const id = (name: string) => {
    const i = symbols.indexOf(name);
    if (i < 0) throw new RangeError(`consolidated: ${name} is not in the run's symbols`);
    return i;
  };
  return instruments.map((x) => ({ symbolId: id(x.name), members: x.members.map(id) }));
}
