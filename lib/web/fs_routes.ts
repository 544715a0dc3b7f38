/**
 * Answering a request with a file route (a module under `routes/`), as Fresh
 * 2 does: pick the handler for the method (405 with `Allow` when there is
 * none; GET implied by a page component; HEAD answered by GET without the
 * body), run it, and render the page component when it returns page data.
 * Responses from handlers pass through untouched, so a WebSocket upgrade
 * response works.
 *
 * @module
 */
import { type ComponentType, h } from "preact";
import { type Context, pagePropsOf } from "./context.ts";
import { type HandlerFn, type Method, METHODS, page, type PageResponse } from "./handlers.ts";
import type { CompiledRoute } from "./router.ts";
import type { RouteModule } from "./snapshot.ts";

/**
 * Check that a route module exports what a route needs; throws naming the
 * file and what was expected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateRoute } from "./fs_routes.ts";
 * validateRoute("./routes/ok.ts", { handler: { GET: () => new Response("ok") } });
 * assert.throws(() => validateRoute("./routes/empty.ts", {}), /exports neither/);
 * ```
 *
 * @param file The route's key, for messages.
 * @param mod The route module.
 */
export function validateRoute(file: string, mod: RouteModule): void {
  const h = mod.handler;
  if (h === undefined) {
    if (typeof mod.default !== "function") {
      throw new Error(
        `Route ${file} exports neither "handler" nor a default page component: expected at least one`,
      );
    }
    return;
  }
  if (typeof h === "function") return;
  if (typeof h !== "object" || h === null) {
    throw new Error(
      `Route ${file}: "handler" must be a function or an object of per-method handlers`,
    );
  }
  for (const [key, fn] of Object.entries(h)) {
    if (!(METHODS as readonly string[]).includes(key) || typeof fn !== "function") {
      throw new Error(
        `Route ${file}: handler.${key} is not a valid method handler; ` +
          `expected functions under ${METHODS.join(", ")}`,
      );
    }
  }
}

const RENDER_PAGE: HandlerFn<undefined, unknown> = () => page();

/**
 * Render `Page` with `data` for `ctx` (inside the app wrapper).
 *
 * @example
 * ```ts ignore
 * return await renderComponent(ctx, NotFound, undefined, { status: 404 });
 * ```
 *
 * @param ctx The request's context.
 * @param Page The page component.
 * @param data Its `props.data`.
 * @param init Status and headers of the response.
 */
export function renderComponent<State>(
  ctx: Context<State>,
  // deno-lint-ignore no-explicit-any
  Page: ComponentType<any>,
  data: unknown,
  init: ResponseInit = {},
): Promise<Response> {
  return ctx.render(h(Page, pagePropsOf(ctx, data)), init);
}

/**
 * Answer `ctx` with `route` (see the module docs).
 *
 * @example
 * ```ts ignore
 * const match = router.match(ctx.url.pathname);
 * if (match) return await dispatchRoute(ctx, match.route);
 * ```
 *
 * @param ctx The request's context.
 * @param route The matched route.
 */
export async function dispatchRoute<State>(
  ctx: Context<State>,
  route: CompiledRoute,
): Promise<Response> {
  const mod = route.module;
  const handler = mod.handler;
  let fn: HandlerFn<unknown, State> | undefined;
  let stripBody = false;
  if (typeof handler === "function") {
    fn = handler;
  } else {
    const handlers = (handler ?? {}) as Partial<Record<Method, HandlerFn<unknown, State>>>;
    const method = ctx.req.method.toUpperCase() as Method;
    const get = handlers.GET ?? (mod.default ? RENDER_PAGE : undefined);
    fn = method === "GET" ? get : handlers[method];
    if (method === "HEAD" && !fn && get) {
      fn = get;
      stripBody = true;
    }
    if (!fn) return notAllowed(ctx.req.method, handlers, get !== undefined);
  }
  const result = await fn(ctx);
  const res = result instanceof Response ? result : await renderResult(ctx, route, result);
  if (!stripBody) return res;
  await res.body?.cancel();
  return new Response(null, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

function renderResult<State>(
  ctx: Context<State>,
  route: CompiledRoute,
  result: PageResponse<unknown>,
): Promise<Response> {
  const Page = route.module.default;
  if (!Page) {
    throw new Error(
      `The handler of ${route.file} returned page data, but the route has no default export: ` +
        `expected a page component (or a Response from the handler)`,
    );
  }
  return renderComponent(ctx, Page, result.data, {
    status: result.status,
    headers: result.headers,
  });
}

function notAllowed(
  method: string,
  handlers: Partial<Record<Method, unknown>>,
  hasGet: boolean,
): Response {
  const allow = METHODS.filter((m) => handlers[m] || ((m === "GET" || m === "HEAD") && hasGet));
  return new Response(`Method ${method} not allowed; expected one of ${allow.join(", ")}`, {
    status: 405,
    headers: { "Allow": allow.join(", "), "Content-Type": "text/plain; charset=utf-8" },
  });
}
