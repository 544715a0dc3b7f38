/**
 * Validation of a WebSocket upgrade request before `Deno.upgradeWebSocket`
 * sees it (RFC 6455 §4.2.1): that call throws on a malformed request, which
 * would be a 500 and a stack trace in the log for every such request. A
 * malformed upgrade is the client's fault: it gets 400 with a one-line
 * reason instead.
 *
 * @example
 * ```ts
 * import { upgradeProblem } from "./upgrade_check.ts";
 * const req = new Request("http://x/ws", { headers: { upgrade: "websocket" } });
 * upgradeProblem(req); // "'Connection: Upgrade' is missing"
 * ```
 * @module
 */

/** Whether the comma-separated header `value` lists `token` (case-insensitive). */
function listsToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  return value.split(",").some((part) => part.trim().toLowerCase() === token);
}

/** Whether `key` is base64 of exactly 16 bytes, as RFC 6455 requires. */
function validKey(key: string | null): boolean {
  if (key === null) return false;
  const k = key.trim();
  if (!/^[A-Za-z0-9+/]{22}==$/.test(k)) return false;
  try {
    return atob(k).length === 16;
  } catch {
    return false;
  }
}

/**
 * What is wrong with the WebSocket upgrade `req`, or null when it may be
 * handed to `Deno.upgradeWebSocket`. A request without `Upgrade: websocket`
 * is not an upgrade at all and returns null (the hub answers it 426).
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
 * ```
 *
 * @param req The request.
 */
export function upgradeProblem(req: Request): string | null {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return null;
  if (req.method !== "GET") return `a WebSocket upgrade must be a GET, not ${req.method}`;
  if (!listsToken(req.headers.get("connection"), "upgrade")) {
    return "'Connection: Upgrade' is missing";
  }
  if (req.headers.get("sec-websocket-version")?.trim() !== "13") {
    return "Sec-WebSocket-Version must be 13";
  }
  if (!validKey(req.headers.get("sec-websocket-key"))) {
    return "Sec-WebSocket-Key must be the base64 of 16 bytes";
  }
  return null;
}

/**
 * The 400 answer to a malformed upgrade: the reason on one line, and the
 * version this server speaks.
 *
 * @example
 * ```ts
 * import { badUpgrade } from "./upgrade_check.ts";
 * badUpgrade("Sec-WebSocket-Version must be 13").status; // 400
 * ```
 *
 * @param problem What {@linkcode upgradeProblem} found.
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
