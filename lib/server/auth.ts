/**
 * Bearer-token check for the guarded endpoints (`/metrics`, `/stats`,
 * `/api/*`, `/ws`). `/health` stays open so load balancers and supervisors
 * can probe without the secret.
 *
 * When a token is configured, a request must carry it as
 * `Authorization: Bearer <token>`, as the cookie {@linkcode TOKEN_COOKIE}
 * (what browsers use: the dashboard sets it on the first visit with
 * `?token=` and redirects to the URL without it, so the token leaves URLs,
 * history and proxy logs), or as the query parameter `?token=<token>` (kept
 * for non-browser clients; the header or the cookie is preferred). Tokens are compared
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

/**
 * The cookie that carries the token for browsers (`HttpOnly`,
 * `SameSite=Strict`, `Path=/`).
 *
 * @example
 * ```ts
 * import { TOKEN_COOKIE } from "./auth.ts";
 * TOKEN_COOKIE; // "depthwatch_token"
 * ```
 */
export const TOKEN_COOKIE = "depthwatch_token";

/**
 * The `Set-Cookie` value that stores `token` in {@linkcode TOKEN_COOKIE}:
 * `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
 * sends it), `Path=/`, for the browser session. The token is
 * percent-encoded.
 *
 * @example
 * ```ts
 * import { tokenCookie } from "./auth.ts";
 * tokenCookie("s3cret"); // "depthwatch_token=s3cret; Path=/; HttpOnly; SameSite=Strict"
 * ```
 *
 * @param token The configured token.
 */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The token cookie's (decoded) value in `req`, or null when absent. */
function cookieToken(req: Request): string | null {
  const header = req.headers.get("cookie");
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== TOKEN_COOKIE) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return part.slice(eq + 1).trim();
    }
  }
  return null;
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
 * may proceed (no token configured, or a matching token in the header, the
 * cookie or the query), or a 401 response with `WWW-Authenticate: Bearer`
 * otherwise.
 *
 * @param req the request (its `Authorization` and `Cookie` headers are read).
 * @param url the parsed request URL (its `token` query parameter is read).
 * @param token the configured token; undefined or empty disables the check.
 * @example
 * ```ts
 * import { checkAuth } from "./auth.ts";
 * checkAuth(new Request("http://x/stats"), new URL("http://x/stats"), undefined); // null
 * checkAuth(new Request("http://x/stats"), new URL("http://x/stats"), "s3cret")?.status; // 401
 * const url = new URL("http://x/ws?token=s3cret");
 * checkAuth(new Request(url), url, "s3cret"); // null
 * const page = new URL("http://x/stats");
 * checkAuth(new Request(page, { headers: { cookie: "depthwatch_token=s3cret" } }), page, "s3cret"); // null
 * ```
 */
export function checkAuth(req: Request, url: URL, token: string | undefined): Response | null {
  if (token === undefined || token === "") return null;
  const header = req.headers.get("authorization");
  const query = url.searchParams.get("token");
  const cookie = cookieToken(req);
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
  if (cookie !== null) {
    presented = true;
    if (tokenMatches(cookie, token)) ok = true;
  }
  if (ok) return null;
  return presented
    ? unauthorized(
      "unauthorized: the token presented is not valid; expected Authorization: Bearer <token>, the depthwatch_token cookie or ?token=<token>",
      true,
    )
    : unauthorized(
      "unauthorized: a token is required; send Authorization: Bearer <token>, the depthwatch_token cookie or ?token=<token>",
      false,
    );
}
