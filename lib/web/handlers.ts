/**
 * Route handlers, as Fresh 2 writes them: a handler takes the request's
 * {@linkcode Context} and returns either a `Response` or page data made with
 * {@linkcode page}, which the route's page component then renders.
 *
 * A route exports `handler`: one function for every method, or an object of
 * per-method functions (`GET`, `POST`, …). A method the object lacks answers
 * 405 with `Allow`; GET is implied when the route has a page component, and
 * HEAD answers as GET without the body.
 *
 * @module
 */
import type { Context } from "./context.ts";

/**
 * HTTP methods a handler object may implement.
 *
 * @example
 * ```ts
 * import type { Method } from "./handlers.ts";
 * const method = new Request("http://localhost/", { method: "POST" }).method as Method;
 * ```
 */
export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/**
 * The methods in {@linkcode Method}, in `Allow` header order.
 *
 * @example
 * ```ts
 * import { METHODS } from "./handlers.ts";
 * const allow = METHODS.filter((m) => m === "GET" || m === "HEAD").join(", "); // "GET, HEAD"
 * ```
 */
export const METHODS: readonly Method[] = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
];

/**
 * Page data and response options, returned by a handler to render the route's page.
 *
 * @example
 * ```ts
 * import { page, type PageResponse } from "./handlers.ts";
 * const created: PageResponse<{ id: number }> = page({ id: 7 }, { status: 201 });
 * ```
 */
export interface PageResponse<Data> {
  /** Handed to the page component as `props.data`. */
  data: Data;
  /** Extra response headers. Default none. */
  headers?: HeadersInit;
  /** Response status. Default 200. */
  status?: number;
}

/**
 * Options of {@linkcode page}.
 *
 * @example
 * ```ts
 * import { page, type PageOptions } from "./handlers.ts";
 * const noStore: PageOptions = { headers: { "Cache-Control": "no-store" } };
 * const res = page({ n: 1 }, noStore);
 * ```
 */
export interface PageOptions {
  /** Extra response headers. Default none. */
  headers?: HeadersInit;
  /** Response status. Default 200. */
  status?: number;
}

/**
 * Render the route's page component with no data (`props.data` is `undefined`).
 *
 * @example
 * ```ts
 * import { page } from "./handlers.ts";
 * const handler = { GET: () => page() };
 * ```
 */
export function page(): PageResponse<undefined>;
/**
 * Render the route's page component with `data` (as `props.data`).
 *
 * @example
 * ```ts
 * import { page } from "./handlers.ts";
 * import { createDefine } from "./define.ts";
 * const define = createDefine<{ greeting: string }>();
 * const handler = define.handlers({
 *   GET: (ctx) => page({ text: ctx.state.greeting }, { headers: { "Cache-Control": "no-store" } }),
 * });
 * ```
 *
 * @param data The page's data.
 * @param options Status and headers of the response.
 */
export function page<Data>(data: Data, options?: PageOptions): PageResponse<Data>;
export function page<Data>(data?: Data, options: PageOptions = {}): PageResponse<Data> {
  return { data: data as Data, headers: options.headers, status: options.status };
}

/**
 * A handler: a `Response`, or page data for the route's page component.
 *
 * @example
 * ```ts
 * import type { HandlerFn } from "./handlers.ts";
 * const echo: HandlerFn<never, unknown> = (ctx) => Response.json({ path: ctx.url.pathname });
 * ```
 */
export interface HandlerFn<Data, State> {
  (ctx: Context<State>):
    | Response
    | PageResponse<Data>
    | Promise<Response | PageResponse<Data>>;
}

/**
 * Handlers by HTTP method.
 *
 * @example
 * ```ts
 * import type { HandlerByMethod } from "./handlers.ts";
 * const handlers: HandlerByMethod<never, unknown> = { GET: () => new Response("ok") };
 * ```
 */
export type HandlerByMethod<Data, State> = { [M in Method]?: HandlerFn<Data, State> };

/**
 * What a route exports as `handler`: one function for every method, or one per method.
 *
 * @example
 * ```ts
 * import type { RouteHandler } from "./handlers.ts";
 * const handler: RouteHandler<never, unknown> = (ctx) => new Response(ctx.req.method);
 * ```
 */
export type RouteHandler<Data, State> = HandlerFn<Data, State> | HandlerByMethod<Data, State>;
