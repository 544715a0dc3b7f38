/**
 * `GET /stats`: the service's state as JSON (see `lib/server/stats.ts`).
 * Guarded by the bearer token when `--auth-token` is set.
 *
 * Query (all optional): `symbols=none` leaves the per-symbol map out (it is
 * about 0.75 MB at 2,000 symbols); `feedsOffset` and `feedsLimit` (1 to 500,
 * default 20) page `feeds`, the symbols worst first. A bad value is a 400
 * naming what was expected.
 *
 * @example
 * ```sh
 * curl http://127.0.0.1:8000/stats?token=$TOKEN
 * curl "http://127.0.0.1:8000/stats?symbols=none&feedsOffset=20&feedsLimit=20"
 * ```
 * @module
 */

import { checkAuth } from "../lib/server/auth.ts";
import { buildStats, statsOptionsFromQuery } from "../lib/server/stats.ts";
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
    const options = statsOptionsFromQuery(ctx.url.searchParams);
    if (typeof options === "string") {
      return Response.json({ error: options }, {
        status: 400,
        headers: { "Cache-Control": "no-store" },
      });
    }
    return Response.json(buildStats(service, Date.now(), options), {
      headers: { "Cache-Control": "no-store" },
    });
  },
});
