/**
 * `createDefine<State>()`, as in Fresh 2: helpers that return what they are
 * given, so handlers, pages and middlewares get their context and props types
 * from one app-wide `State` (made once, in the app's `utils.ts`) and a page
 * gets its `data` type from its route's handler.
 *
 * @module
 */
import type { AnyComponent } from "preact";
import type { PageProps } from "./context.ts";
import type { HandlerByMethod, HandlerFn, RouteHandler } from "./handlers.ts";
import type { Middleware } from "./middleware.ts";

/**
 * The page data type of a route handler: what its `page(data)` calls return.
 *
 * @example
 * ```ts
 * import type { DataOf } from "./define.ts";
 * import type { HandlerFn } from "./handlers.ts";
 * type Data = DataOf<HandlerFn<{ n: number }, unknown>, unknown>; // { n: number }
 * const data: Data = { n: 1 };
 * ```
 */
export type DataOf<Handler, State> = Handler extends HandlerFn<infer Data, State> ? Data
  : Handler extends HandlerByMethod<infer Data, State> ? Data
  : never;

/**
 * The define helpers for one app `State` (see {@linkcode createDefine}).
 *
 * @example
 * ```ts
 * import { createDefine, type Define } from "./define.ts";
 * const define: Define<{ user: string }> = createDefine<{ user: string }>();
 * ```
 */
export interface Define<State> {
  /**
   * A route's `handler` (one function, or one per method), typed for the app state.
   *
   * @example
   * ```ts
   * import { createDefine } from "./define.ts";
   * import { page } from "./handlers.ts";
   * const define = createDefine<{ user: string }>();
   * const handler = define.handlers({ GET: (ctx) => page({ user: ctx.state.user }) });
   * ```
   */
  handlers<Data, Handlers extends RouteHandler<Data, State> = RouteHandler<Data, State>>(
    handlers: Handlers,
  ): Handlers;

  /**
   * A page component; pass `typeof handler` to type `props.data` from the route's handler.
   *
   * @example
   * ```tsx
   * import { createDefine } from "./define.ts";
   * import { page } from "./handlers.ts";
   * const define = createDefine<{ user: string }>();
   * const handler = define.handlers({ GET: (ctx) => page({ user: ctx.state.user }) });
   * const Page = define.page<typeof handler>(({ data }) => <p>{data.user}</p>);
   * ```
   */
  page<
    // deno-lint-ignore no-explicit-any
    Handler extends RouteHandler<any, State> = never,
    Data = DataOf<Handler, State>,
  >(render: AnyComponent<PageProps<Data, State>>): AnyComponent<PageProps<Data, State>>;

  /**
   * A middleware (or a list of them), typed for the app state.
   *
   * @example
   * ```ts
   * import { createDefine } from "./define.ts";
   * const define = createDefine<{ user: string }>();
   * const who = define.middleware((ctx) => {
   *   ctx.state.user = ctx.req.headers.get("x-user") ?? "anonymous";
   *   return ctx.next();
   * });
   * ```
   */
  middleware<M extends Middleware<State> | Middleware<State>[]>(middleware: M): M;
}

/**
 * Make the define helpers for an app whose middlewares fill `State`.
 *
 * @example
 * ```ts
 * import { createDefine } from "./define.ts";
 * export interface State {
 *   requestId: string;
 * }
 * export const define = createDefine<State>();
 * ```
 */
export function createDefine<State>(): Define<State> {
  return {
    handlers: (handlers) => handlers,
    page: (render) => render,
    middleware: (middleware) => middleware,
  };
}
