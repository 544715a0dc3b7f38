/**
 * Parses REST depth snapshot bodies (`GET /api/v3/depth`, and USD-M futures'
 * `GET /fapi/v1/depth`, whose `E` becomes the snapshot's event time) into numbers, with
 * every field checked: an error names the symbol, the field and the value
 * that was wrong and what was expected.
 *
 * Unlike the stream parsers (`depth_parser.ts`, `diff_parser.ts`) this one
 * runs once per snapshot, not per message, so it uses `JSON.parse` and
 * allocates freely.
 *
 * @example
 * ```ts
 * import { parseDepthSnapshot } from "./snapshot_parser.ts";
 *
 * const snapshot = parseDepthSnapshot('{"lastUpdateId":5,"bids":[["1.5","2"]],"asks":[]}');
 * snapshot.bids[0]; // [1.5, 2]
 * ```
 * @module
 */

import type { DepthSnapshot } from "./depth_snapshot.ts";

/**
 * Parses and validates a depth snapshot body.
 *
 * @param text The response body.
 * @param symbol Used in error messages only.
 * @throws {SyntaxError} If the body is not JSON.
 * @throws {TypeError} If the shape or a value is wrong; the message names the field.
 *
 * @example
 * ```ts
 * import { parseDepthSnapshot } from "./snapshot_parser.ts";
 *
 * parseDepthSnapshot('{"lastUpdateId":5,"bids":[["1.5","2"]],"asks":[]}');
 * // { lastUpdateId: 5, bids: [[1.5, 2]], asks: [] }
 * ```
 */
export function parseDepthSnapshot(text: string, symbol = "?"): DepthSnapshot {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `invalid depth snapshot for ${symbol}: body is not JSON (${(error as Error).message}): ${
        JSON.stringify(text.slice(0, 80))
      }`,
    );
  }
  const fail = (what: string, got: unknown): never => {
    throw new TypeError(
      `invalid depth snapshot for ${symbol}: ${what}, got ${JSON.stringify(got)?.slice(0, 80)}`,
    );
  };
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    fail("expected a JSON object", body);
  }
  const { lastUpdateId, bids, asks, E } = body as Record<string, unknown>;
  if (typeof lastUpdateId !== "number" || !Number.isSafeInteger(lastUpdateId) || lastUpdateId < 0) {
    fail("lastUpdateId must be a non-negative integer", lastUpdateId);
  }
  const snapshot: DepthSnapshot = {
    lastUpdateId: lastUpdateId as number,
    bids: parseLevels(bids, "bids", fail),
    asks: parseLevels(asks, "asks", fail),
  };
  // USD-M futures snapshots carry the exchange time `E` (spot ones do not).
  if (E !== undefined) {
    if (typeof E !== "number" || !Number.isSafeInteger(E) || E < 0) {
      fail("E (futures event time) must be a non-negative integer of epoch ms", E);
    }
    snapshot.eventTime = E as number;
  }
  return snapshot;
}

function parseLevels(
  levels: unknown,
  side: string,
  fail: (what: string, got: unknown) => never,
): [number, number][] {
  if (!Array.isArray(levels)) fail(`${side} must be an array of [price, quantity]`, levels);
  const out: [number, number][] = new Array((levels as unknown[]).length);
  for (let i = 0; i < out.length; i++) {
    const level = (levels as unknown[])[i];
    if (!Array.isArray(level) || level.length < 2) {
      fail(`${side}[${i}] must be a [price, quantity] pair`, level);
    }
    const [p, q] = level as unknown[];
    const price = decimal(p);
    const qty = decimal(q);
    if (!(price > 0)) fail(`${side}[${i}][0] must be a positive decimal string`, p);
    if (!(qty >= 0)) fail(`${side}[${i}][1] must be a non-negative decimal string`, q);
    out[i] = [price, qty];
  }
  return out;
}

function decimal(value: unknown): number {
  if (typeof value === "string") {
    if (value.length === 0 || value.length > 64) return NaN;
    const n = Number(value);
    return Number.isFinite(n) ? n : NaN;
  }
  if (typeof value === "number" && Number.isFinite(value)) return value;
  return NaN;
}
