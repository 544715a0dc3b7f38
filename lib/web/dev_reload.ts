/**
 * Live reload for development: an SSE endpoint (`/_dev/reload`) that sends the
 * current build id on connect and again whenever it changes, and a tiny client
 * script (`/_dev/reload.js`, external so the CSP holds) that reloads the page
 * when the id it hears differs from the first one. A restarted server (e.g.
 * under `deno run --watch`) has a new id, and the browser's EventSource
 * reconnects on its own, so restarts reload open pages too.
 *
 * Only mounted when the app runs with `dev: true`.
 *
 * @module
 */

/** URL of the SSE endpoint. */
export const DEV_RELOAD_PATH = "/_dev/reload";
/** URL of the client script. */
export const DEV_RELOAD_SCRIPT_PATH = "/_dev/reload.js";

/** Client script served at {@linkcode DEV_RELOAD_SCRIPT_PATH}. */
export const DEV_RELOAD_SCRIPT = `let first = null;
const es = new EventSource(${JSON.stringify(DEV_RELOAD_PATH)});
es.onmessage = (e) => {
  if (first === null) first = e.data;
  else if (e.data !== first) location.reload();
};
`;

/** The reload broadcaster. */
export interface DevReload {
  /**
   * Respond to a request for the SSE endpoint. The stream ends when the
   * browser goes away (the body is cancelled) or on {@linkcode DevReload.close}.
   */
  handle(req: Request): Response;
  /** Set a new build id and tell every open page. */
  notify(id: string): void;
  /** How many pages are listening. */
  readonly clients: number;
  /** End every open stream (call on shutdown). */
  close(): void;
}

/**
 * Create the reload broadcaster.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDevReload } from "./dev_reload.ts";
 * const reload = createDevReload("boot-1");
 * const res = reload.handle(new Request("http://localhost/_dev/reload"));
 * assert.equal(res.headers.get("content-type"), "text/event-stream");
 * await res.body?.cancel();
 * reload.close();
 * ```
 *
 * @param initialId The id sent to pages that connect (e.g. a random server id).
 */
export function createDevReload(initialId: string): DevReload {
  const encoder = new TextEncoder();
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let id = initialId;
  const message = () => encoder.encode(`retry: 500\ndata: ${id}\n\n`);

  return {
    handle(_req: Request): Response {
      let controller: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
          streams.add(c);
          c.enqueue(message());
        },
        cancel() {
          streams.delete(controller);
        },
      });
      return new Response(body, {
        headers: {
          "Content-Type": "text/event-stream",
          "Cache-Control": "no-cache",
          "X-Content-Type-Options": "nosniff",
        },
      });
    },
    notify(next: string) {
      id = next;
      const chunk = message();
      for (const c of streams) c.enqueue(chunk);
    },
    get clients() {
      return streams.size;
    },
    close() {
      for (const c of streams) c.close();
      streams.clear();
    },
  };
}
