/**
 * `GET /ws`: the live WebSocket feed (protocol: `proto/market.proto`).
 *
 * Upgrades through the service's {@link WsHub} (`ctx.state.service.hub`).
 * When the service has an `authToken`, the request must carry it as
 * `Authorization: Bearer <token>` or, since browsers cannot set headers on a
 * WebSocket, in the `depthwatch_token` cookie the dashboard sets (the query
 * parameter `token` still works for other clients). The query parameter `symbol`
 * picks the first subscription (e.g. `/ws?symbol=BTCUSDT`).
 *
 * A request that is not a WebSocket upgrade gets 426; a malformed upgrade
 * (no `Connection: Upgrade`, a bad `Sec-WebSocket-Key` or version) 400 with
 * a one-line reason and nothing logged; a foreign `Origin` 403;
 * too many clients 503 (see {@link WsHub.upgrade}); a state without a hub 503.
 *
 * @example
 * ```ts
 * // In the browser:
 * const ws = new WebSocket(`ws://${location.host}/ws?symbol=BTCUSDT`);
 * ws.binaryType = "arraybuffer";
 * ```
 * @module
 */

import type { WsHub } from "../lib/server/ws_hub.ts";
import { checkAuth } from "../lib/server/auth.ts";
import { badUpgrade, upgradeProblem } from "../lib/server/upgrade_check.ts";
import { define } from "../utils.ts";

/** The part of the hub this route uses. */
type Upgrader = Pick<WsHub, "upgrade">;

/**
 * Route handlers: GET upgrades through the hub (other methods answer 405).
 *
 * @example
 * ```ts ignore
 * const response = handler.GET(ctx); // 101 / 400 / 401 / 403 / 426 / 503
 * ```
 */
export const handler = define.handlers({
  GET(ctx) {
    const service = ctx.state.service;
    // Typed loosely in the state (the metrics layer reads it too): check before use.
    const hub = service?.hub as Partial<Upgrader> | undefined;
    if (typeof hub?.upgrade !== "function") {
      return new Response("the WebSocket feed is not available: no hub in the app state\n", {
        status: 503,
      });
    }
    const denied = checkAuth(ctx.req, ctx.url, service.authToken);
    if (denied) return denied;
    const problem = upgradeProblem(ctx.req);
    if (problem !== null) return badUpgrade(problem);
    return hub.upgrade(ctx.req);
  },
});
