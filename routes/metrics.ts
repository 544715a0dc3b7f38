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

import { checkAuth } from "../lib/server/auth.ts";
import { METRICS_CONTENT_TYPE, metricsFor } from "../lib/metrics/metrics_registry.ts";
import { define } from "../utils.ts";

/**
 * GET renders every metric of the service's registry.
 *
 * @example
 * ```ts ignore
 * const res = await handler.GET(ctx); // text/plain; version=0.0.4
 * ```
 */
export const handler = define.handlers({
  async GET(ctx) {
    const service = ctx.state.service;
    const denied = checkAuth(ctx.req, ctx.url, service.authToken);
    if (denied) return denied;
    const body = await metricsFor(service).render();
    return new Response(body, {
      headers: { "Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store" },
    });
  },
});
