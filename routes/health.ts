/**
 * `GET /health`: `{ status, reasons, uptimeSeconds }`, 200 when every feed
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

import type { Handlers } from "../lib/web/types.ts";
import type { ServiceState } from "../lib/server/service_state.ts";
import { evaluateHealth } from "../lib/server/health.ts";

/** GET answers the health verdict. */
export const handler: Handlers<unknown, ServiceState> = {
  GET(_req, ctx) {
    const health = evaluateHealth(ctx.state, Date.now());
    return Response.json(health, {
      status: health.status === "ok" ? 200 : 503,
      headers: { "Cache-Control": "no-store" },
    });
  },
};
