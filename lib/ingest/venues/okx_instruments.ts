/**
 * OKX contract values: OKX derivative books (`BTC-USDT-SWAP`, futures such as
 * `BTC-USD-250328`) count sizes in contracts, so before such a book is
 * compared with another venue's its sizes are converted to base units with
 * the instrument's contract value, learnt from OKX's public REST API
 * `GET /api/v5/public/instruments?instType=SWAP` (and `FUTURES`):
 *
 * ```json
 * {"code":"0","msg":"","data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP",
 *   "ctVal":"0.01","ctMult":"1","ctValCcy":"BTC","ctType":"linear",…}]}
 * ```
 *
 * - A linear contract is worth `ctVal × ctMult` units of `ctValCcy` (the base
 *   asset): that is the size multiplier ({@link okxSizeMultiplier}).
 * - An inverse contract (`"ctType":"inverse"`, `ctValCcy` the quote currency,
 *   e.g. BTC-USD-SWAP is 100 USD) is worth `ctVal / price` base units: a
 *   different multiplier at every level, which the venue runtime's one
 *   multiplier per symbol cannot express. Inverse instruments are refused with
 *   an error that says so, never shown with wrong sizes.
 * - Spot symbols (`BTC-USDT`) count base units: multiplier 1, no REST.
 *
 * {@link learnOkxContracts} fetches what a list of symbols needs, retrying
 * with backoff while OKX cannot be reached or answers something unreadable,
 * and settles each derivative symbol as learnt (its multiplier) or refused
 * (not listed, inverse, a contract value that is not a positive number). The
 * venue assembly (`venue_ingestors.ts`) connects a derivative symbol only once
 * its multiplier is known; until then it stays Connecting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { okxInstType, okxSizeMultiplier, parseOkxInstruments } from "./okx_instruments.ts";
 * const text = '{"code":"0","msg":"","data":[{"instType":"SWAP","instId":"BTC-USDT-SWAP",' +
 *   '"ctVal":"0.01","ctMult":"1","ctValCcy":"BTC","ctType":"linear","lotSz":"0.01"}]}';
 * const [swap] = parseOkxInstruments(text, "SWAP");
 * assert.equal(okxSizeMultiplier(swap), 0.01);
 * assert.equal(okxInstType("BTC-USDT"), "SPOT");
 * assert.equal(okxInstType("BTC-USD-250328"), "FUTURES");
 * ```
 * @module
 */

import { Backoff } from "../../pipeline/backoff.ts";

/** The OKX instrument types a book symbol can be. */
export type OkxInstType = "SPOT" | "SWAP" | "FUTURES";

/** The instrument types whose sizes are contracts (fetched from REST). */
export type OkxDerivativeType = Exclude<OkxInstType, "SPOT">;

/**
 * The contract facts of one OKX derivative, from the instruments endpoint.
 *
 * @example
 * ```ts
 * import type { OkxInstrument } from "./okx_instruments.ts";
 * const swap: OkxInstrument = {
 *   instId: "BTC-USDT-SWAP", instType: "SWAP", ctVal: 0.01, ctMult: 1,
 *   ctValCcy: "BTC", ctType: "linear", lotSz: "0.01",
 * };
 * ```
 */
export interface OkxInstrument {
  /** The instrument id (`BTC-USDT-SWAP`). */
  readonly instId: string;
  /** `SWAP` or `FUTURES`. */
  readonly instType: OkxDerivativeType;
  /** Contract value, in `ctValCcy`. */
  readonly ctVal: number;
  /** Contract multiplier. */
  readonly ctMult: number;
  /** Currency of the contract value: the base asset (linear) or the quote (inverse). */
  readonly ctValCcy: string;
  /** `linear` or `inverse`. */
  readonly ctType: "linear" | "inverse";
  /** Lot size in contracts, as sent (e.g. "0.01"); "" when absent. */
  readonly lotSz: string;
}

/**
 * Thrown for an instruments response that cannot be read, and for an
 * instrument whose sizes cannot be converted.
 *
 * @example
 * ```ts
 * import { OkxInstrumentsError, parseOkxInstruments } from "./okx_instruments.ts";
 * try {
 *   parseOkxInstruments('{"code":"51001","msg":"Instrument ID does not exist","data":[]}', "SWAP");
 * } catch (e) {
 *   if (e instanceof OkxInstrumentsError) e.message; // says OKX's code and message
 * }
 * ```
 */
export class OkxInstrumentsError extends Error {
  /** @param message what was wrong and what was expected. */
  constructor(message: string) {
    super(message);
    this.name = "OkxInstrumentsError";
  }
}

/**
 * The instrument type of an OKX instId: `-SWAP` at the end is a perpetual
 * swap, three parts ending in six digits (`BTC-USD-250328`) a future,
 * anything else with two parts spot.
 *
 * @example
 * ```ts
 * import { okxInstType } from "./okx_instruments.ts";
 * okxInstType("ETH-USDT-SWAP"); // "SWAP"
 * ```
 * @throws OkxInstrumentsError for an instId that is none of these (an option, a typo).
 */
export function okxInstType(instId: string): OkxInstType {
  const parts = instId.split("-");
  if (parts.length === 2) return "SPOT";
  if (parts.length === 3 && parts[2] === "SWAP") return "SWAP";
  if (parts.length === 3 && /^\d{6}$/.test(parts[2])) return "FUTURES";
  throw new OkxInstrumentsError(
    `OKX instId "${instId}" is not a spot pair (BTC-USDT), a swap (BTC-USDT-SWAP) or a future ` +
      "(BTC-USD-250328): other instrument types (options) are not supported",
  );
}

/**
 * Read an instruments response (`{"code":"0","data":[…]}`) of `instType`.
 * Entries of another type are refused (the answer is not what was asked).
 *
 * @example
 * ```ts
 * import { parseOkxInstruments } from "./okx_instruments.ts";
 * parseOkxInstruments('{"code":"0","msg":"","data":[]}', "FUTURES"); // []
 * ```
 * @throws OkxInstrumentsError when the text is not JSON, `code` is not "0"
 *   (OKX's message is quoted), `data` is not an array, or an entry lacks an
 *   instId, a numeric ctVal / ctMult or a ctType of linear / inverse.
 */
export function parseOkxInstruments(text: string, instType: OkxDerivativeType): OkxInstrument[] {
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OkxInstrumentsError(
      `OKX instruments (${instType}): expected JSON {"code":"0","data":[…]}, got ${
        JSON.stringify(shown)
      }`,
    );
  }
  const b = body as { code?: unknown; msg?: unknown; data?: unknown } | null;
  if (typeof b !== "object" || b === null || Array.isArray(b)) {
    throw new OkxInstrumentsError(
      `OKX instruments (${instType}): expected an object {"code":"0","data":[…]}, got ${shown}`,
    );
  }
  if (b.code !== "0") {
    throw new OkxInstrumentsError(
      `OKX instruments (${instType}): OKX answered code ${JSON.stringify(b.code)} ` +
        `(${JSON.stringify(b.msg ?? "")}), expected "0"`,
    );
  }
  if (!Array.isArray(b.data)) {
    throw new OkxInstrumentsError(
      `OKX instruments (${instType}): expected "data" to be an array, got ${
        JSON.stringify(b.data)
      }`,
    );
  }
  return b.data.map((entry: unknown, i: number) => instrument(entry, i, instType));
}

function instrument(entry: unknown, i: number, instType: OkxDerivativeType): OkxInstrument {
  const e = entry as Record<string, unknown> | null;
  const where = `OKX instruments (${instType}) data[${i}]`;
  if (typeof e !== "object" || e === null || typeof e.instId !== "string" || e.instId === "") {
    throw new OkxInstrumentsError(
      `${where}: expected an object with an "instId", got ${JSON.stringify(entry)}`,
    );
  }
  const id = `${where} ${e.instId}`;
  if (e.instType !== instType) {
    throw new OkxInstrumentsError(
      `${id}: expected instType ${JSON.stringify(instType)}, got ${JSON.stringify(e.instType)}`,
    );
  }
  const num = (key: "ctVal" | "ctMult"): number => {
    const v = e[key];
    const n = typeof v === "string" && /^\d+(?:\.\d+)?$/.test(v) ? Number(v) : NaN;
    if (!(n > 0 && Number.isFinite(n))) {
      throw new OkxInstrumentsError(
        `${id}: expected ${key} to be a positive decimal string such as "0.01", got ${
          JSON.stringify(v)
        }`,
      );
    }
    return n;
  };
  if (e.ctType !== "linear" && e.ctType !== "inverse") {
    throw new OkxInstrumentsError(
      `${id}: expected ctType "linear" or "inverse", got ${JSON.stringify(e.ctType)}`,
    );
  }
  return {
    instId: e.instId,
    instType,
    ctVal: num("ctVal"),
    ctMult: num("ctMult"),
    ctValCcy: typeof e.ctValCcy === "string" ? e.ctValCcy : "",
    ctType: e.ctType,
    lotSz: typeof e.lotSz === "string" ? e.lotSz : "",
  };
}

/**
 * Base units per contract of a linear instrument: `ctVal × ctMult`.
 *
 * @example
 * ```ts
 * import { okxSizeMultiplier } from "./okx_instruments.ts";
 * okxSizeMultiplier({
 *   instId: "ETH-USDT-SWAP", instType: "SWAP", ctVal: 0.1, ctMult: 1,
 *   ctValCcy: "ETH", ctType: "linear", lotSz: "0.01",
 * }); // 0.1
 * ```
 * @throws OkxInstrumentsError for an inverse instrument (see the module docs).
 */
export function okxSizeMultiplier(instrument: OkxInstrument): number {
  if (instrument.ctType === "inverse") {
    throw new OkxInstrumentsError(
      `OKX ${instrument.instId} is an inverse contract (${instrument.ctVal} ${instrument.ctValCcy} each): ` +
        "its base size depends on each level's price and is not supported; use a linear " +
        "instrument (e.g. BTC-USDT-SWAP) or the spot pair",
    );
  }
  return instrument.ctVal * instrument.ctMult;
}

/**
 * Options of {@link fetchOkxInstruments}.
 *
 * @example
 * ```ts
 * import type { FetchOkxInstrumentsOptions } from "./okx_instruments.ts";
 * const options: FetchOkxInstrumentsOptions = { timeoutMs: 5000 };
 * ```
 */
export interface FetchOkxInstrumentsOptions {
  /** Abandon the request after this long, ms. Default 10 000. */
  timeoutMs?: number;
  /** Cancels the request. Default none. */
  signal?: AbortSignal;
}

/**
 * `GET {restUrl}/api/v5/public/instruments?instType=…`, read by
 * {@link parseOkxInstruments}.
 *
 * @example
 * ```ts
 * import { fetchOkxInstruments } from "./okx_instruments.ts";
 * const swaps = await fetchOkxInstruments("https://www.okx.com", "SWAP");
 * swaps.find((i) => i.instId === "BTC-USDT-SWAP")?.ctVal; // 0.01
 * ```
 * @throws OkxInstrumentsError for an HTTP status other than 200 and the
 *   errors of {@link parseOkxInstruments}; the fetch's own errors (network,
 *   timeout, abort) as they are.
 */
export async function fetchOkxInstruments(
  restUrl: string,
  instType: OkxDerivativeType,
  options: FetchOkxInstrumentsOptions = {},
): Promise<OkxInstrument[]> {
  const { timeoutMs = 10_000, signal } = options;
  const url = `${restUrl.replace(/\/+$/, "")}/api/v5/public/instruments?instType=${instType}`;
  const timeout = AbortSignal.timeout(timeoutMs);
  const response = await fetch(url, {
    signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new OkxInstrumentsError(
      `OKX instruments (${instType}): ${url} answered HTTP ${response.status}, expected 200: ${
        text.slice(0, 200)
      }`,
    );
  }
  return parseOkxInstruments(text, instType);
}

/**
 * Options of {@link learnOkxContracts}.
 *
 * @example
 * ```ts
 * import type { LearnOkxContractsOptions } from "./okx_instruments.ts";
 * const options: LearnOkxContractsOptions = {
 *   restUrl: "https://www.okx.com",
 *   symbols: ["BTC-USDT-SWAP", "ETH-USDT"],
 * };
 * ```
 */
export interface LearnOkxContractsOptions {
  /** OKX's REST base URL (production `https://www.okx.com`, or simulated). Required. */
  restUrl: string;
  /** Native instIds (upper case); spot ones need nothing. Required. */
  symbols: readonly string[];
  /** Backoff base between failed fetches, ms. Default 1000. */
  backoffBaseMs?: number;
  /** Backoff cap, ms. Default 30 000. */
  backoffCapMs?: number;
  /** One request's timeout, ms. Default 10 000. */
  timeoutMs?: number;
  /** Stops the retries (the promise then settles with what is known). Default none. */
  signal?: AbortSignal;
  /** Where the progress lines go (the result line only when it has `info`). Default `console`. */
  log?: Pick<Console, "warn" | "error"> & Partial<Pick<Console, "info">>;
}

/**
 * What {@link learnOkxContracts} settled, by native symbol.
 *
 * @example
 * ```ts
 * import type { OkxContracts } from "./okx_instruments.ts";
 * declare const learnt: OkxContracts;
 * learnt.multipliers.get("BTC-USDT"); // 1: spot
 * learnt.refused.get("BTC-USD-SWAP"); // "… is an inverse contract …"
 * ```
 */
export interface OkxContracts {
  /** Base units per size unit: 1 for spot, `ctVal × ctMult` for a linear derivative. */
  readonly multipliers: Map<string, number>;
  /** Symbols that can never be converted, with why (never retried). */
  readonly refused: Map<string, string>;
}

/**
 * Learn the size multiplier of every symbol (see the module docs): one
 * request per derivative instrument type in use, retried with backoff until
 * it gives a readable list (or `signal` aborts: the symbols of the types not
 * fetched are then in neither map). Logs one line per failed attempt and one
 * with the result.
 *
 * @example
 * ```ts
 * import { learnOkxContracts } from "./okx_instruments.ts";
 * const { multipliers, refused } = await learnOkxContracts({
 *   restUrl: "https://www.okx.com",
 *   symbols: ["BTC-USDT-SWAP", "BTC-USDT"],
 * });
 * multipliers.get("BTC-USDT-SWAP"); // 0.01
 * refused.size; // 0
 * ```
 */
export async function learnOkxContracts(options: LearnOkxContractsOptions): Promise<OkxContracts> {
  const { restUrl, symbols, timeoutMs, signal, log = console } = options;
  const multipliers = new Map<string, number>();
  const refused = new Map<string, string>();
  const wanted = new Map<OkxDerivativeType, string[]>();
  for (const s of symbols) {
    let type: OkxInstType;
    try {
      type = okxInstType(s);
    } catch (e) {
      refused.set(s, (e as Error).message);
      continue;
    }
    if (type === "SPOT") multipliers.set(s, 1);
    else {
      const list = wanted.get(type) ?? [];
      list.push(s);
      wanted.set(type, list);
    }
  }
  for (const [instType, list] of wanted) {
    const backoff = new Backoff({
      baseMs: options.backoffBaseMs ?? 1000,
      capMs: options.backoffCapMs ?? 30_000,
    });
    const aborted = () => signal?.aborted === true;
    let instruments: OkxInstrument[] | undefined;
    while (instruments === undefined && !aborted()) {
      try {
        instruments = await fetchOkxInstruments(restUrl, instType, { timeoutMs, signal });
      } catch (e) {
        if (aborted()) break;
        const wait = backoff.next();
        log.warn(
          `okx: cannot learn the contract values of ${
            list.join(", ")
          } (attempt ${backoff.attempt}): ` +
            `${(e as Error).message}; these symbols stay connecting, retrying in ${
              Math.round(wait)
            } ms`,
        );
        await sleep(wait, signal);
      }
    }
    if (instruments === undefined) continue;
    const byId = new Map(instruments.map((i) => [i.instId, i]));
    for (const s of list) {
      const inst = byId.get(s);
      if (inst === undefined) {
        refused.set(
          s,
          `OKX lists no ${instType} instrument ${s} (${instruments.length} listed): check the symbol`,
        );
        continue;
      }
      try {
        multipliers.set(s, okxSizeMultiplier(inst));
      } catch (e) {
        refused.set(s, (e as Error).message);
      }
    }
  }
  const learnt = [...multipliers].filter(([s]) => okxInstType(s) !== "SPOT");
  if (learnt.length > 0) {
    log.info?.(
      `okx: contract values learnt: ${
        learnt.map(([s, m]) => `${s} ${m} base units per contract`).join(", ")
      }`,
    );
  }
  for (const [s, why] of refused) log.error(`okx: ${s} is not connected: ${why}`);
  return { multipliers, refused };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
