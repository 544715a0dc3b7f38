/**
 * `GET /stats`: the service's state as JSON (see `lib/server/stats.ts`).
 * Guarded by the bearer token when `--auth-token` is set.
 *
 * @example
 * ```sh
 * curl http://127.0.0.1:8000/stats?token=$TOKEN
 * ```
 * @module
 */

import { checkAuth } from "../lib/server/auth.ts";
import { buildStats } from "../lib/server/stats.ts";
import { define } from "../utils.ts";

/**
 * GET answers the `/stats` document.
 *
 * @example
 * ```ts ignore
 * const res = await handler.GET(ctx); // 200 JSON, or 401 without the token
 * ```
 */
export const handler = define.handlers({
  GET(ctx) {
    const service = ctx.state.service;
    const denied = checkAuth(ctx.req, ctx.url, service.authToken);
    if (denied) return denied;
    return Response.json(buildStats(service), { headers: { "Cache-Control": "no-store" } });
  },
});
