/**
 * Live reload for development: an SSE endpoint (`/_dev/reload`) that answers
 * with the server's id and a `retry` hint, and a tiny client script
 * (`/_dev/reload.js`, external so the CSP holds) that reloads the page when
 * the id it hears differs from the first one.
 *
 * Each answer is one event and then the end of the stream, so the browser's
 * EventSource asks again every 500 ms and no request stays open: stopping the
 * server never waits for an open page. A restarted server (e.g. under
 * `deno run --watch`) has a new id, so restarts reload open pages.
 *
 * Only mounted when the app runs in development mode.
 *
 * @module
 */

/**
 * URL of the SSE endpoint.
 *
 * @example
 * ```ts
 * import { DEV_RELOAD_PATH } from "./dev_reload.ts";
 * const isReload = (url: URL) => url.pathname === DEV_RELOAD_PATH;
 * ```
 */
export const DEV_RELOAD_PATH = "/_dev/reload";
/**
 * URL of the client script.
 *
 * @example
 * ```ts
 * import { DEV_RELOAD_SCRIPT_PATH } from "./dev_reload.ts";
 * const tag = `<script type="module" src="${DEV_RELOAD_SCRIPT_PATH}"></script>`;
 * ```
 */
export const DEV_RELOAD_SCRIPT_PATH = "/_dev/reload.js";

/**
 * Client script served at {@linkcode DEV_RELOAD_SCRIPT_PATH}.
 *
 * @example
 * ```ts
 * import { DEV_RELOAD_SCRIPT } from "./dev_reload.ts";
 * const res = new Response(DEV_RELOAD_SCRIPT, {
 *   headers: { "Content-Type": "text/javascript; charset=utf-8" },
 * });
 * ```
 */
export const DEV_RELOAD_SCRIPT = `let first = null;
const es = new EventSource(${JSON.stringify(DEV_RELOAD_PATH)});
es.onmessage = (e) => {
  if (first === null) first = e.data;
  else if (e.data !== first) location.reload();
};
`;

/**
 * The answer of the SSE endpoint: one event carrying `id`, then the end of
 * the stream (the browser reconnects after `retry` ms).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { devReloadResponse } from "./dev_reload.ts";
 * const res = devReloadResponse("server-1");
 * assert.equal(res.headers.get("content-type"), "text/event-stream");
 * assert.equal(await res.text(), "retry: 500\ndata: server-1\n\n");
 * ```
 *
 * @param id The server's id (a random id per process).
 */
export function devReloadResponse(id: string): Response {
  return new Response(`retry: 500\ndata: ${id}\n\n`, {
    headers: {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
