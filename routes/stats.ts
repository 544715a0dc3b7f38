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

import type { Handlers } from "../lib/web/types.ts";
import type { ServiceState } from "../lib/server/service_state.ts";
import { checkAuth } from "../lib/server/auth.ts";
import { buildStats } from "../lib/server/stats.ts";

/** GET answers the `/stats` document. */
export const handler: Handlers<unknown, ServiceState> = {
  GET(req, ctx) {
    const denied = checkAuth(req, ctx.url, ctx.state.authToken);
    if (denied) return denied;
    return Response.json(buildStats(ctx.state), { headers: { "Cache-Control": "no-store" } });
  },
};
