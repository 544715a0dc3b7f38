/**
 * The outermost HTTP handler: what holds for every request and response,
 * whatever route, static file, WebSocket refusal or error produced it.
 *
 * - A foreign `Host` is answered 421 before anything else runs
 *   (see {@linkcode HostCheck}).
 * - Every response carries `X-Content-Type-Options: nosniff` (a 101
 *   WebSocket switch has no body and is left as it is).
 * - A handler that throws is logged once and answered 500 with a one-line
 *   body, so an error never ends the connection without an answer.
 *
 * @example
 * ```ts ignore
 * import { HostCheck } from "./host_check.ts";
 * const check = new HostCheck({ bound: "127.0.0.1" });
 * Deno.serve(guardHandler(() => new Response("hi"), { hostCheck: check, log: console }));
 * ```
 * @module
 */
import type { Logger } from "../pipeline/logger.ts";
import type { HostCheck } from "./host_check.ts";

/** Options of {@linkcode guardHandler}. */
export interface GuardOptions {
  /** Which `Host` headers are served. */
  hostCheck: Pick<HostCheck, "allows" | "refusal">;
  /** Where a handler's thrown error goes. */
  log: Pick<Logger, "error">;
}

/**
 * Return `res` with `X-Content-Type-Options: nosniff`, copying it when its
 * headers are immutable (e.g. `Response.redirect`).
 *
 * @example
 * ```ts
 * import { withNosniff } from "./http_guard.ts";
 * withNosniff(Response.redirect("http://x/", 303)).headers.get("x-content-type-options"); // "nosniff"
 * ```
 */
export function withNosniff(res: Response): Response {
  if (res.status === 101 || res.headers.get("x-content-type-options") === "nosniff") return res;
  try {
    res.headers.set("X-Content-Type-Options", "nosniff");
    return res;
  } catch {
    const headers = new Headers(res.headers);
    headers.set("X-Content-Type-Options", "nosniff");
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}

/**
 * Wrap `handler` with the Host check, `nosniff` and a last-resort 500.
 *
 * @example
 * ```ts
 * import { guardHandler } from "./http_guard.ts";
 * import { HostCheck } from "./host_check.ts";
 * const handler = guardHandler(() => new Response("hi"), {
 *   hostCheck: new HostCheck({ bound: "127.0.0.1" }),
 *   log: console,
 * });
 * ```
 *
 * @param handler The app's handler.
 * @param options See {@linkcode GuardOptions}.
 */
export function guardHandler(handler: Deno.ServeHandler, options: GuardOptions): Deno.ServeHandler {
  const { hostCheck, log } = options;
  return async (req, info) => {
    if (!hostCheck.allows(req.headers.get("host"))) return withNosniff(hostCheck.refusal());
    try {
      return withNosniff(await handler(req, info));
    } catch (err) {
      log.error("request failed:", err);
      return withNosniff(
        new Response("internal server error\n", {
          status: 500,
          headers: { "content-type": "text/plain; charset=utf-8" },
        }),
      );
    }
  };
}
