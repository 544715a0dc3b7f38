/**
 * Parsing of Binance depth stream names as the simulated exchange accepts them:
 * `<symbol>@depth5|depth10|depth20` with optional `@100ms` (partial book) and
 * `<symbol>@depth` with optional `@100ms` (diff events). Names are lower-case.
 *
 * @example
 * ```ts
 * import { parseStreamName } from "./stream_name.ts";
 * parseStreamName("btcusdt@depth20@100ms"); // { symbol: "btcusdt", levels: 20, speedMs: 100 }
 * parseStreamName("btcusdt@depth"); // { symbol: "btcusdt", levels: 0, speedMs: 1000 }
 * ```
 * @module
 */

/**
 * A parsed depth stream name.
 *
 * @example
 * ```ts
 * const parsed = parseStreamName("ethusdt@depth10");
 * if (!("error" in parsed)) {
 *   const name: StreamName = parsed; // { symbol: "ethusdt", levels: 10, speedMs: 1000 }
 * }
 * ```
 */
export interface StreamName {
  /** Lower-case symbol (`"btcusdt"`). */
  readonly symbol: string;
  /** Levels per side of a partial book stream (5, 10 or 20); 0 for the diff stream. */
  readonly levels: number;
  /** Update speed the name asks for: 100 with the `@100ms` suffix, else 1000. */
  readonly speedMs: number;
}

const STREAM_RE = /^([a-z0-9]{2,20})@depth(5|10|20)?(@100ms)?$/;

/**
 * Parses one stream name.
 *
 * @param name E.g. `"btcusdt@depth20@100ms"`.
 * @returns The parsed name, or an error message saying what was expected.
 * @example
 * ```ts
 * const r = parseStreamName("btcusdt@trade");
 * "error" in r; // true
 * ```
 */
export function parseStreamName(name: string): StreamName | { error: string } {
  const m = STREAM_RE.exec(name);
  if (m === null) {
    return {
      error: `invalid stream name ${JSON.stringify(name)}: expected ` +
        `"<symbol>@depth5|depth10|depth20[@100ms]" or "<symbol>@depth[@100ms]", lower-case`,
    };
  }
  return { symbol: m[1], levels: m[2] ? Number(m[2]) : 0, speedMs: m[3] ? 100 : 1000 };
}
