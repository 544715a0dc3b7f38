/**
 * `GET /health`: `{ status, mode, reasons, uptimeSeconds }`, 200 when every feed
 * is live and both workers run, 503 with reasons otherwise (see
 * `lib/server/health.ts`).
 *
 * Deliberately open even when `--auth-token` is set: probes (load balancers,
 * systemd, Kubernetes) must reach it without the secret, and it reveals only
 * symbol names and worker states.
 *
 * @example
 * ```sh
 * curl -f http://127.0.0.1:8000/health
 * ```
 * @module
 */

import { evaluateHealth } from "../lib/server/health.ts";
import { define } from "../utils.ts";

/**
 * GET answers the health verdict.
 *
 * @example
 * ```ts ignore
 * const res = await handler.GET(ctx); // 200 or 503, JSON
 * ```
 */
export const handler = define.handlers({
  GET(ctx) {
    const health = evaluateHealth(ctx.state.service, Date.now());
    return Response.json(health, {
      status: health.status === "ok" ? 200 : 503,
      headers: { "Cache-Control": "no-store" },
    });
  },
});
