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

/** The part of the app state this route reads. */
export interface WsRouteState {
  /** The service's hub. */
  readonly hub: Pick<WsHub, "upgrade">;
  /** Optional bearer token guarding the feed. */
  readonly authToken?: string;
}

function sameToken(given: string, expected: string): boolean {
  // Compare every byte whatever the first difference, so timing reveals nothing.
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
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
    const token = ctx.state.authToken;
    if (token) {
      const header = req.headers.get("authorization") ?? "";
      const given = header.startsWith("Bearer ")
        ? header.slice(7)
        : ctx.url.searchParams.get("token") ?? "";
      if (!sameToken(given, token)) {
        return new Response(
          "missing or wrong token: send 'Authorization: Bearer <token>' or ?token=<token>\n",
          { status: 401, headers: { "www-authenticate": "Bearer" } },
        );
      }
    }
    return hub.upgrade(req);
  },
};
