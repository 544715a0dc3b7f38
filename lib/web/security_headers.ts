/**
 * Security headers for HTML pages and static files.
 *
 * Scripts may only come from our origin (`script-src 'self'`, no
 * `unsafe-inline`): island props travel in JSON data blocks, which are not
 * scripts, and the boot script is an external file. Styles allow inline
 * `style` attributes (server-rendered `style={…}` props and the island
 * wrappers' `display:contents`); CSS cannot run script. `connect-src 'self'`
 * covers same-origin `fetch`, `EventSource` and WebSocket (`/ws`).
 *
 * @module
 */

/**
 * The Content-Security-Policy sent with every page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONTENT_SECURITY_POLICY } from "./security_headers.ts";
 * assert.ok(CONTENT_SECURITY_POLICY.includes("script-src 'self'"));
 * ```
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Set the page security headers on `headers` (and return it): CSP,
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * `X-Frame-Options: DENY` (for old browsers) and
 * `Cross-Origin-Opener-Policy: same-origin`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setPageSecurityHeaders } from "./security_headers.ts";
 * const h = setPageSecurityHeaders(new Headers());
 * assert.equal(h.get("x-content-type-options"), "nosniff");
 * ```
 */
export function setPageSecurityHeaders(headers: Headers): Headers {
  headers.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  headers.set("X-Content-Type-Options", "nosniff");
  headers.set("Referrer-Policy", "no-referrer");
  headers.set("X-Frame-Options", "DENY");
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  return headers;
}
