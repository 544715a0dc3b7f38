/**
 * Bearer-token check for the guarded endpoints (`/metrics`, `/stats`,
 * `/api/*`, `/ws`). `/health` stays open so load balancers and supervisors
 * can probe without the secret.
 *
 * When a token is configured, a request must carry it either as
 * `Authorization: Bearer <token>` or as the query parameter `?token=<token>`
 * (for browsers' WebSocket, which cannot set headers). Tokens are compared
 * in constant time with respect to the secret: every byte of the configured
 * token is visited whatever the candidate is. The token is never logged or
 * echoed.
 *
 * @example
 * ```ts
 * import { checkAuth } from "./auth.ts";
 * import type { Config } from "./config.ts";
 * declare const config: Config;
 * function handler(req: Request): Response {
 *   const url = new URL(req.url);
 *   if (url.pathname !== "/health") {
 *     const denied = checkAuth(req, url, config.authToken);
 *     if (denied) return denied;
 *   }
 *   return new Response("ok");
 * }
 * ```
 * @module
 */

const encoder = new TextEncoder();

/**
 * Compare a candidate with the secret without exiting early: the time taken
 * depends only on the secret's length.
 *
 * @example
 * ```ts
 * import { tokenMatches } from "./auth.ts";
 * tokenMatches("abc", "abc"); // true
 * tokenMatches("abd", "abc"); // false
 * ```
 */
export function tokenMatches(candidate: string, secret: string): boolean {
  const a = encoder.encode(candidate);
  const b = encoder.encode(secret);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

function unauthorized(message: string, invalid: boolean): Response {
  return new Response(JSON.stringify({ error: message }), {
    status: 401,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "WWW-Authenticate": invalid
        ? 'Bearer realm="depthwatch", error="invalid_token"'
        : 'Bearer realm="depthwatch"',
      "Cache-Control": "no-store",
    },
  });
}

/**
 * Check `req` against the configured `token`. Returns null when the request
 * may proceed (no token configured, or a matching token in the header or the
 * query), or a 401 response with `WWW-Authenticate: Bearer` otherwise.
 *
 * @param req the request (its `Authorization` header is read).
 * @param url the parsed request URL (its `token` query parameter is read).
 * @param token the configured token; undefined or empty disables the check.
 * @example
 * ```ts
 * import { checkAuth } from "./auth.ts";
 * checkAuth(new Request("http://x/stats"), new URL("http://x/stats"), undefined); // null
 * checkAuth(new Request("http://x/stats"), new URL("http://x/stats"), "s3cret")?.status; // 401
 * const url = new URL("http://x/ws?token=s3cret");
 * checkAuth(new Request(url), url, "s3cret"); // null
 * ```
 */
export function checkAuth(req: Request, url: URL, token: string | undefined): Response | null {
  if (token === undefined || token === "") return null;
  const header = req.headers.get("authorization");
  const query = url.searchParams.get("token");
  let presented = false;
  let ok = false;
  if (header !== null) {
    presented = true;
    const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
    if (m && tokenMatches(m[1], token)) ok = true;
  }
  if (query !== null) {
    presented = true;
    if (tokenMatches(query, token)) ok = true;
  }
  if (ok) return null;
  return presented
    ? unauthorized(
      "unauthorized: the token presented is not valid; expected Authorization: Bearer <token> or ?token=<token>",
      true,
    )
    : unauthorized(
      "unauthorized: a token is required; send Authorization: Bearer <token> or ?token=<token>",
      false,
    );
}
