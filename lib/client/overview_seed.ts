/**
 * The overview page's first-paint data: the server's symbol list and its
 * newest market summary, as the base64 of the summary's bytes (the same
 * bytes the socket sends, decoded by the same reader, smaller than JSON
 * numbers: about 120 KB of text at 2,000 symbols).
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import { bytesOfBase64, base64OfBytes } from "./overview_seed.ts";
 * bytesOfBase64(base64OfBytes(new Uint8Array([1, 2, 255]))); // Uint8Array [1, 2, 255]
 * ```
 * @module
 */

/** What the overview route hands to the `MarketOverview` island. */
export interface OverviewSeed {
  /** Upper-case symbols in the server's order (the summary's column order). */
  symbols: string[];
  /** Base64 of the newest `ServerMessage { summary }`, or "" when there is none (or no token). */
  summary: string;
  /** Path of the WebSocket feed, e.g. "/ws". */
  wsPath: string;
  /** Path prefix of a symbol's detail page, e.g. "/s/" (the symbol follows). */
  detailPath: string;
}

/**
 * Base64 of `bytes` (chunked, so a 100 KB summary does not overflow the stack).
 *
 * @example
 * ```ts
 * import { base64OfBytes } from "./overview_seed.ts";
 * base64OfBytes(new TextEncoder().encode("hi")); // "aGk="
 * ```
 */
export function base64OfBytes(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/**
 * The bytes of base64 `text`.
 *
 * @throws DOMException when `text` is not base64.
 * @example
 * ```ts
 * import { bytesOfBase64 } from "./overview_seed.ts";
 * bytesOfBase64("aGk="); // Uint8Array [104, 105]
 * ```
 */
export function bytesOfBase64(text: string): Uint8Array {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
