/**
 * `upgradeWebSocket`: the server's side of the WebSocket opening handshake
 * (RFC 6455 §4.2), like `Deno.upgradeWebSocket` but for requests served by
 * our own HTTP/1.1 server, with bounded inbound messages
 * (`ws_frame_reader.ts`) and a user-space send queue
 * (`ws_server_socket.ts`).
 *
 * It checks the request, claims its connection (`connection_claim.ts`) and
 * returns the socket with the `101 Switching Protocols` response the handler
 * must answer with. The socket opens once the server has written that
 * response and handed the connection over; if the server answers something
 * else instead (the handler returned another response, or the head could not
 * be written), the socket ends `CLOSED` with `onclose` 1006 and never opens.
 *
 * @example
 * ```ts
 * import { upgradeWebSocket } from "./ws_upgrade.ts";
 *
 * function handler(req: Request): Response {
 *   const { socket, response } = upgradeWebSocket(req, { maxMessageBytes: 4096 });
 *   socket.onmessage = (event) => {
 *     if (typeof event.data !== "string") socket.send(new Uint8Array(event.data));
 *   };
 *   return response;
 * }
 * void handler;
 * ```
 * @module
 */

import { claimConnection, type SwitchedConnection } from "./connection_claim.ts";
import { websocketAccept } from "./ws_frame.ts";
import { ServerWebSocket, type ServerWebSocketOptions } from "./ws_server_socket.ts";

/**
 * What {@linkcode upgradeWebSocket} returns.
 *
 * @example
 * ```ts
 * import type { WebSocketUpgrade } from "./ws_upgrade.ts";
 * declare const upgrade: WebSocketUpgrade;
 * upgrade.response.status; // 101
 * ```
 */
export interface WebSocketUpgrade {
  /** The socket; `CONNECTING` until the server hands the connection over. */
  socket: ServerWebSocket;
  /** The `101 Switching Protocols` response, with `Sec-WebSocket-Accept`; the handler must return it. */
  response: Response;
}

/** Whether the comma-separated header `value` lists `token` (case-insensitive). */
function listsToken(value: string | null, token: string): boolean {
  return value !== null && value.split(",").some((part) => part.trim().toLowerCase() === token);
}

/**
 * What keeps `req` from being a valid WebSocket upgrade (RFC 6455 §4.2.1), in
 * one line, or null when it is one: a GET listing `websocket` in `Upgrade`
 * and `Upgrade` in `Connection`, `Sec-WebSocket-Version: 13`, and a
 * `Sec-WebSocket-Key` that is the base64 of 16 bytes.
 *
 * @example
 * ```ts
 * import { upgradeProblem } from "./ws_upgrade.ts";
 * upgradeProblem(new Request("http://127.0.0.1/ws", { headers: { upgrade: "websocket" } }));
 * // "the 'Connection' header must list 'Upgrade'"
 * ```
 */
export function upgradeProblem(req: Request): string | null {
  if (req.method !== "GET") return `the method is ${req.method}, expected GET`;
  if (!listsToken(req.headers.get("upgrade"), "websocket")) {
    return "the 'Upgrade' header must list 'websocket'";
  }
  if (!listsToken(req.headers.get("connection"), "upgrade")) {
    return "the 'Connection' header must list 'Upgrade'";
  }
  if (req.headers.get("sec-websocket-version")?.trim() !== "13") {
    return "'Sec-WebSocket-Version' must be 13";
  }
  const key = req.headers.get("sec-websocket-key")?.trim() ?? "";
  let decoded = "";
  try {
    decoded = /^[A-Za-z0-9+/]{22}==$/.test(key) ? atob(key) : "";
  } catch {
    // not base64: reported below
  }
  if (decoded.length !== 16) return "'Sec-WebSocket-Key' must be the base64 of 16 bytes";
  return null;
}

/** The request's `Sec-WebSocket-Key`, or a TypeError saying what makes `req` no valid upgrade. */
function upgradeKey(req: Request): string {
  const problem = upgradeProblem(req);
  if (problem !== null) {
    throw new TypeError(`upgradeWebSocket: not a valid WebSocket upgrade request: ${problem}`);
  }
  return req.headers.get("sec-websocket-key")!.trim();
}

/**
 * Accept the WebSocket upgrade `req`: check it, claim its connection, and
 * return the socket and the 101 response to answer with.
 *
 * Options (all optional): `maxMessageBytes` (default 4096) and
 * `maxFragments` (default 16) bound each inbound message, `idleTimeoutMs`
 * (default 60000) the silence before a ping (half of it) and the close (all
 * of it), `closeTimeoutMs` (default 5000) the closing handshake, and
 * `readBufferBytes` (default 512) the connection's read buffer (a larger
 * message takes more reads, see `ws_server_socket.ts`).
 *
 * @example
 * ```ts
 * import { upgradeWebSocket } from "./ws_upgrade.ts";
 * const req = new Request("http://127.0.0.1/ws", {
 *   headers: {
 *     upgrade: "websocket",
 *     connection: "Upgrade",
 *     "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     "sec-websocket-version": "13",
 *   },
 * });
 * try {
 *   upgradeWebSocket(req);
 * } catch (e) {
 *   (e as TypeError).message; // "... was not received by the HTTP server of lib/net ..."
 * }
 * ```
 *
 * @param req A request received by the HTTP server of `lib/net` (which offers its connection).
 * @param options Limits and timeouts of the socket.
 * @throws {TypeError} When `req` is not a valid WebSocket upgrade (method,
 * `Upgrade`, `Connection`, `Sec-WebSocket-Version` 13, a `Sec-WebSocket-Key`
 * of 16 bytes), or its connection cannot be claimed (it did not come from
 * our HTTP server, or was already claimed).
 * @throws {RangeError} For an option that is not a positive integer.
 */
export function upgradeWebSocket(
  req: Request,
  options: ServerWebSocketOptions = {},
): WebSocketUpgrade {
  const key = upgradeKey(req);
  const { promise, resolve } = Promise.withResolvers<SwitchedConnection | null>();
  const socket = new ServerWebSocket(promise, options);
  const claimed = claimConnection(req, {
    switched: (connection) => resolve(connection),
    refused: () => resolve(null),
  });
  if (!claimed) {
    throw new TypeError(
      "upgradeWebSocket: the request was not received by the HTTP server of lib/net " +
        "(only its requests can be upgraded), or its connection was already claimed",
    );
  }
  const response = new Response(null, {
    status: 101,
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-accept": websocketAccept(key),
    },
  });
  return { socket, response };
}
