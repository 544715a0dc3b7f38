/**
 * `GET /metrics`: Prometheus text format (version 0.0.4). Guarded by the
 * bearer token when `--auth-token` is set.
 *
 * @example
 * ```sh
 * curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/metrics
 * ```
 * @module
 */

import type { Handlers } from "../lib/web/types.ts";
import type { ServiceState } from "../lib/server/service_state.ts";
import { checkAuth } from "../lib/server/auth.ts";
import { METRICS_CONTENT_TYPE, metricsFor } from "../lib/metrics/metrics_registry.ts";

/** GET renders every metric of the service's registry. */
export const handler: Handlers<unknown, ServiceState> = {
  async GET(req, ctx) {
    const denied = checkAuth(req, ctx.url, ctx.state.authToken);
    if (denied) return denied;
    const body = await metricsFor(ctx.state).render();
    return new Response(body, {
      headers: { "Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store" },
    });
  },
};
