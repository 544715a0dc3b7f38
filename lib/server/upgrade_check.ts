/**
 * The route's answer to a malformed WebSocket upgrade: 400 with a one-line
 * reason, nothing logged. A malformed upgrade is the client's fault; handing
 * it to `upgradeWebSocket` would throw (a 500 and a stack trace per request).
 * The rules themselves (RFC 6455 §4.2.1) live with the WebSocket server, in
 * `lib/net/ws_upgrade.ts`.
 *
 * @example
 * ```ts
 * import { upgradeProblem } from "./upgrade_check.ts";
 * const req = new Request("http://x/ws", { headers: { upgrade: "websocket" } });
 * upgradeProblem(req); // "the 'Connection' header must list 'Upgrade'"
 * ```
 * @module
 */

import { upgradeProblem as problemOf } from "../net/ws_upgrade.ts";

/**
 * What is wrong with the WebSocket upgrade `req`, or null when it may be
 * upgraded. A request without `Upgrade: websocket` is not an upgrade at all
 * and returns null (the hub answers it 426).
 *
 * @example
 * ```ts
 * import { upgradeProblem } from "./upgrade_check.ts";
 * const ok = new Request("http://x/ws", {
 *   headers: {
 *     upgrade: "websocket",
 *     connection: "Upgrade",
 *     "sec-websocket-key": btoa("0123456789abcdef"),
 *     "sec-websocket-version": "13",
 *   },
 * });
 * upgradeProblem(ok); // null
 * upgradeProblem(new Request("http://x/ws")); // null: not an upgrade (426 later)
 * ```
 */
export function upgradeProblem(req: Request): string | null {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return null;
  return problemOf(req);
}

/**
 * The 400 answer to a malformed upgrade, naming the problem in one line.
 *
 * @example
 * ```ts
 * import { badUpgrade } from "./upgrade_check.ts";
 * const res = badUpgrade("'Sec-WebSocket-Version' must be 13");
 * res.status; // 400
 * ```
 */
export function badUpgrade(problem: string): Response {
  return new Response(`malformed WebSocket upgrade: ${problem}\n`, {
    status: 400,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "sec-websocket-version": "13",
    },
  });
}
