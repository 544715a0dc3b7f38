/**
 * `GET /ws`: the live WebSocket feed (protocol: `proto/market.proto`).
 *
 * Expects the app state to carry the service's {@link WsHub} as `hub`
 * (`ServiceState.hub`), and optionally `authToken`: when set, the request
 * must carry it as `Authorization: Bearer <token>` or, since browsers cannot
 * set headers on a WebSocket, as the query parameter `token`. The query
 * parameter `symbol` picks the first subscription (e.g. `/ws?symbol=BTCUSDT`).
 *
 * A request that is not a WebSocket upgrade gets 426; a foreign `Origin` 403;
 * too many clients 503 (see {@link WsHub.upgrade}).
 *
 * @example
 * ```ts
 * // In the browser:
 * const ws = new WebSocket(`ws://${location.host}/ws?symbol=BTCUSDT`);
 * ws.binaryType = "arraybuffer";
 * ```
 * @module
 */

import type { Handlers } from "../lib/web/types.ts";
import type { WsHub } from "../lib/server/ws_hub.ts";
import { checkAuth } from "../lib/server/auth.ts";

/** The part of the app state this route reads. */
export interface WsRouteState {
  /** The service's hub. */
  readonly hub: Pick<WsHub, "upgrade">;
  /** Optional bearer token guarding the feed. */
  readonly authToken?: string;
}

/**
 * Route handlers: GET upgrades through the hub (other methods answer 405).
 *
 * @example
 * ```ts
 * const response = handler.GET!(request, ctx); // 101 / 401 / 403 / 426 / 503
 * ```
 */
export const handler: Handlers<unknown, WsRouteState> = {
  GET(req, ctx) {
    const hub = ctx.state.hub;
    if (!hub || typeof hub.upgrade !== "function") {
      return new Response("the WebSocket feed is not available: no hub in the app state\n", {
        status: 503,
      });
    }
    const denied = checkAuth(req, ctx.url, ctx.state.authToken);
    if (denied) return denied;
    return hub.upgrade(req);
  },
};
