/**
 * The versioned NATS subject names of the bus (docs/design.md §10) and the
 * validation of the tokens they are built from.
 *
 * | subject                              | carries                                        |
 * | ------------------------------------ | ---------------------------------------------- |
 * | `dw.v1.an.<venue>.<symbol>.frame`    | analytics frames (the wire `Frame` bytes)       |
 * | `dw.v1.md.<venue>.<symbol>.raw`      | raw exchange messages with their receive time  |
 * | `dw.v1.sum.<venue>.<node>`           | per-second overview rows of a node's symbols   |
 * | `dw.v1.ctl.<name>…`                  | control                                        |
 *
 * A token (venue, symbol, node, control name) is used as written (a symbol as
 * the venue writes it, e.g. `BTCUSDT`); NATS gives `.` (the separator), `*`
 * and `>` (wildcards) and white space a meaning, so a token containing one of
 * them, a control character, or an empty token is refused with a
 * `TypeError` that says which token was wrong and what is expected.
 *
 * @example
 * ```ts
 * import { frameSubject, parseFrameSubject } from "./bus_subjects.ts";
 *
 * const subject = frameSubject("binance", "BTCUSDT"); // "dw.v1.an.binance.BTCUSDT.frame"
 * parseFrameSubject(subject); // { venue: "binance", symbol: "BTCUSDT" }
 * ```
 * @module
 */

/** The version prefix every subject of this format starts with. */
export const SUBJECT_PREFIX = "dw.v1";

/** Subscribes to the analytics frames of every venue and symbol. */
export const FRAME_WILDCARD = "dw.v1.an.>";

/** Subscribes to the raw market data of every venue and symbol. */
export const RAW_WILDCARD = "dw.v1.md.>";

/** Subscribes to the overview rows of every venue and node. */
export const SUMMARY_WILDCARD = "dw.v1.sum.>";

/** Subscribes to every control subject. */
export const CONTROL_WILDCARD = "dw.v1.ctl.>";

/** Characters a NATS subject token must not contain: separator, wildcards, white space, controls. */
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[.*>\s\u0000-\u001f\u007f]/;

/** Names what a forbidden character is, for the error message. */
function describe(ch: string): string {
  if (ch === ".") return `"." (the subject separator)`;
  if (ch === "*" || ch === ">") return `"${ch}" (a NATS wildcard)`;
  if (/\s/.test(ch)) return `white space (U+${ch.codePointAt(0)!.toString(16).padStart(4, "0")})`;
  return `a control character (U+${ch.codePointAt(0)!.toString(16).padStart(4, "0")})`;
}

/**
 * Checks that `token` can be one token of a NATS subject and returns it.
 *
 * @param kind What the token is (`"venue"`, `"symbol"`, `"node"`, …), named in the error.
 * @param token The token to check.
 * @returns `token` unchanged.
 * @throws {TypeError} If `token` is not a string, is empty, or contains `.`, `*`, `>`,
 *   white space or a control character.
 *
 * @example
 * ```ts
 * import { checkToken } from "./bus_subjects.ts";
 *
 * checkToken("symbol", "BTCUSDT"); // "BTCUSDT"
 * try {
 *   checkToken("symbol", "BTC.USDT");
 * } catch (e) {
 *   // TypeError: bus subject: symbol "BTC.USDT" contains "." (the subject separator); …
 * }
 * ```
 */
export function checkToken(kind: string, token: string): string {
  if (typeof token !== "string") {
    throw new TypeError(
      `bus subject: ${kind} must be a string, got ${token === null ? "null" : typeof token}`,
    );
  }
  if (token.length === 0) {
    throw new TypeError(
      `bus subject: ${kind} is empty; expected a non-empty token without ".", "*", ">" or white space`,
    );
  }
  const match = FORBIDDEN.exec(token);
  if (match !== null) {
    throw new TypeError(
      `bus subject: ${kind} ${JSON.stringify(token)} contains ${describe(match[0])}; ` +
        `expected a non-empty token without ".", "*", ">", white space or control characters`,
    );
  }
  return token;
}

/**
 * The subject of a symbol's analytics frames: `dw.v1.an.<venue>.<symbol>.frame`.
 *
 * @throws {TypeError} If `venue` or `symbol` is not a valid token (see {@linkcode checkToken}).
 *
 * @example
 * ```ts
 * import { frameSubject } from "./bus_subjects.ts";
 *
 * frameSubject("binance", "ETHUSDT"); // "dw.v1.an.binance.ETHUSDT.frame"
 * ```
 */
export function frameSubject(venue: string, symbol: string): string {
  return `${SUBJECT_PREFIX}.an.${checkToken("venue", venue)}.${checkToken("symbol", symbol)}.frame`;
}

/**
 * The subject of a symbol's raw market data: `dw.v1.md.<venue>.<symbol>.raw`.
 *
 * @throws {TypeError} If `venue` or `symbol` is not a valid token (see {@linkcode checkToken}).
 *
 * @example
 * ```ts
 * import { rawSubject } from "./bus_subjects.ts";
 *
 * rawSubject("binance", "ETHUSDT"); // "dw.v1.md.binance.ETHUSDT.raw"
 * ```
 */
export function rawSubject(venue: string, symbol: string): string {
  return `${SUBJECT_PREFIX}.md.${checkToken("venue", venue)}.${checkToken("symbol", symbol)}.raw`;
}

/**
 * The subject of a node's per-second overview rows: `dw.v1.sum.<venue>.<node>`.
 *
 * @throws {TypeError} If `venue` or `node` is not a valid token (see {@linkcode checkToken}).
 *
 * @example
 * ```ts
 * import { summarySubject } from "./bus_subjects.ts";
 *
 * summarySubject("binance", "ingest-1"); // "dw.v1.sum.binance.ingest-1"
 * ```
 */
export function summarySubject(venue: string, node: string): string {
  return `${SUBJECT_PREFIX}.sum.${checkToken("venue", venue)}.${checkToken("node", node)}`;
}

/**
 * A control subject: `dw.v1.ctl.<name>[.<more>…]`.
 *
 * @param name The control message's name (a token).
 * @param more Further tokens (e.g. a node id).
 * @throws {TypeError} If any token is invalid (see {@linkcode checkToken}).
 *
 * @example
 * ```ts
 * import { controlSubject } from "./bus_subjects.ts";
 *
 * controlSubject("hello", "ingest-1"); // "dw.v1.ctl.hello.ingest-1"
 * ```
 */
export function controlSubject(name: string, ...more: string[]): string {
  let subject = `${SUBJECT_PREFIX}.ctl.${checkToken("control name", name)}`;
  for (const token of more) subject += `.${checkToken("control token", token)}`;
  return subject;
}

/** `dw.v1.an.` — the start of every frame subject. */
const FRAME_HEAD = "dw.v1.an.";
/** `.frame` — the end of every frame subject. */
const FRAME_TAIL = ".frame";

/**
 * Venue and symbol of a frame subject (`dw.v1.an.<venue>.<symbol>.frame`),
 * or `undefined` when `subject` is not exactly one (other prefix or suffix,
 * a missing, empty or extra token). A subscriber with one subscription per
 * symbol already knows the symbol and need not call this per message.
 *
 * @example
 * ```ts
 * import { parseFrameSubject } from "./bus_subjects.ts";
 *
 * parseFrameSubject("dw.v1.an.binance.BTCUSDT.frame"); // { venue: "binance", symbol: "BTCUSDT" }
 * parseFrameSubject("dw.v1.md.binance.BTCUSDT.raw"); // undefined
 * parseFrameSubject("dw.v2.an.binance.BTCUSDT.frame"); // undefined
 * ```
 */
export function parseFrameSubject(
  subject: string,
): { venue: string; symbol: string } | undefined {
  if (!subject.startsWith(FRAME_HEAD) || !subject.endsWith(FRAME_TAIL)) return undefined;
  const start = FRAME_HEAD.length;
  const end = subject.length - FRAME_TAIL.length;
  const dot = subject.indexOf(".", start);
  if (dot <= start || dot >= end - 1) return undefined;
  if (subject.indexOf(".", dot + 1) < end) return undefined;
  const venue = subject.slice(start, dot);
  const symbol = subject.slice(dot + 1, end);
  return { venue, symbol };
}
