/**
 * Content-coding negotiation: which of a resource's encodings to send for a
 * request's `Accept-Encoding` (RFC 9110 §12.5.3).
 *
 * Rules, as {@linkcode negotiateEncoding} applies them:
 *
 * - Each listed coding has a weight `q` (default 1; `q=0` means "not
 *   acceptable"). Codings are case-insensitive; `x-gzip` is `gzip`. A
 *   malformed element (a bad token or a `q` outside 0–1 with at most three
 *   decimals) is ignored, as if absent. Codings the server does not have
 *   (`deflate`, `zstd`, …) are ignored. A coding listed twice: the first
 *   entry counts.
 * - `*` gives its weight to every coding not listed by name, `identity`
 *   included.
 * - `identity` (no encoding) is acceptable unless excluded by `identity;q=0`,
 *   or by `*;q=0` with no `identity` entry. When acceptable only by default
 *   (not listed, no `*`), it ranks below every coding the client listed.
 * - The acceptable coding with the highest weight wins; equal weights go to
 *   the server's order (brotli before gzip before identity).
 * - No header at all: `identity` (RFC 9110 would allow any coding; clients
 *   that decode send the header). An empty header: `identity` only.
 * - Nothing acceptable (identity excluded and no listed coding available):
 *   `null`; the static file server answers `406 Not Acceptable`.
 *
 * @module
 */

/**
 * One element of an `Accept-Encoding` header.
 *
 * @example
 * ```ts
 * import type { AcceptedCoding } from "./accept_encoding.ts";
 * const gzip: AcceptedCoding = { coding: "gzip", q: 0.8 };
 * ```
 */
export interface AcceptedCoding {
  /** The coding, lower case (`x-gzip` given as `gzip`), or `*`. */
  coding: string;
  /** The weight, 0 to 1. */
  q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * Parse an `Accept-Encoding` value into its elements, in order; malformed
 * elements are left out (see the module docs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAcceptEncoding } from "./accept_encoding.ts";
 * assert.deepEqual(parseAcceptEncoding("gzip;q=0.5, BR, identity;q=0"), [
 *   { coding: "gzip", q: 0.5 },
 *   { coding: "br", q: 1 },
 *   { coding: "identity", q: 0 },
 * ]);
 * ```
 *
 * @param value The header's value.
 */
export function parseAcceptEncoding(value: string): AcceptedCoding[] {
  const out: AcceptedCoding[] = [];
  for (const element of value.split(",")) {
    const parts = element.split(";");
    const name = parts[0].trim().toLowerCase();
    if (name === "" || !TOKEN.test(name)) continue;
    let q = 1;
    let ok = true;
    for (let i = 1; i < parts.length; i++) {
      const param = parts[i].trim();
      const eq = param.indexOf("=");
      const key = (eq === -1 ? param : param.slice(0, eq)).trim().toLowerCase();
      if (key !== "q") continue; // other parameters carry no meaning here
      const v = eq === -1 ? "" : param.slice(eq + 1).trim();
      if (!QVALUE.test(v)) ok = false;
      else q = Number(v);
    }
    if (ok) out.push({ coding: name === "x-gzip" ? "gzip" : name, q });
  }
  return out;
}

/** The weight the client gives `coding`, or -1 for identity acceptable only by default. */
function weightOf(accepted: readonly AcceptedCoding[], coding: string): number {
  const named = accepted.find((a) => a.coding === coding);
  if (named) return named.q;
  const star = accepted.find((a) => a.coding === "*");
  if (star) return star.q;
  return coding === "identity" ? -1 : 0;
}

/**
 * Choose the encoding to send: one of `available` (in the server's order of
 * preference) or `"identity"`, or `null` when the client accepts none of
 * them (see the module docs for every rule).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { negotiateEncoding } from "./accept_encoding.ts";
 * const have = ["br", "gzip"];
 * assert.equal(negotiateEncoding("gzip, deflate, br, zstd", have), "br");
 * assert.equal(negotiateEncoding("gzip;q=1, br;q=0.5", have), "gzip");
 * assert.equal(negotiateEncoding(null, have), "identity");
 * assert.equal(negotiateEncoding("deflate", have), "identity");
 * assert.equal(negotiateEncoding("identity;q=0, deflate", have), null);
 * ```
 *
 * @param header The request's `Accept-Encoding`, or `null` when absent.
 * @param available The encodings the resource has besides identity, most preferred first.
 */
export function negotiateEncoding(
  header: string | null,
  available: readonly string[],
): string | null {
  if (header === null) return "identity";
  const accepted = parseAcceptEncoding(header);
  let best: string | null = null;
  let bestQ = 0;
  for (const coding of available) {
    const q = weightOf(accepted, coding);
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  const identity = weightOf(accepted, "identity");
  if (identity === -1) return best ?? "identity";
  return identity > bestQ ? "identity" : best;
}
