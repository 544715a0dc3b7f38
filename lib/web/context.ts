/**
 * The per-request context every middleware, handler and page sees, as in
 * Fresh 2: the request and its URL, the matched route and its parameters, a
 * fresh `state` object for middlewares to fill, `next()` and `render()`.
 *
 * @module
 */
import type { FunctionComponent, VNode } from "preact";
import type { StaticFiles } from "./static_files.ts";

/**
 * What the app lends every request's context. Internal to `lib/web`: the
 * app builds it once per handler and {@linkcode appInternalsOf} reads it.
 *
 * @example
 * ```ts ignore
 * const internals: AppInternals<State> = { renderDocument, staticFiles: files };
 * const ctx = new Context<State>(req, url, info, null, {}, internals);
 * ```
 */
export interface AppInternals<State> {
  /** Render `vnode` inside the app wrapper as an HTML response. */
  renderDocument(ctx: Context<State>, vnode: VNode | null, init: ResponseInit): Promise<Response>;
  /** The app's static files (for the `staticFiles()` middleware). */
  staticFiles: StaticFiles;
}

/** Connection info used when the handler is called without one (e.g. in tests). */
const NO_CONN_INFO: Deno.ServeHandlerInfo = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 0 },
  completed: Promise.resolve(),
};

/**
 * The app internals behind a context (see {@linkcode AppInternals}).
 *
 * @example
 * ```ts ignore
 * const files = appInternalsOf(ctx).staticFiles;
 * ```
 */
export let appInternalsOf: <State>(ctx: Context<State>) => AppInternals<State>;

/**
 * The context of one request.
 *
 * @example
 * ```ts
 * import type { Context } from "./context.ts";
 * function greet(ctx: Context<{ name: string }>): Response {
 *   return new Response(`${ctx.req.method} ${ctx.url.pathname} by ${ctx.state.name}`);
 * }
 * ```
 */
export class Context<State> {
  /** The request. */
  readonly req: Request;
  /** The parsed request URL. */
  readonly url: URL;
  /** Connection info from `Deno.serve`. */
  readonly info: Deno.ServeHandlerInfo;
  /** The route pattern that matched, e.g. `/api/history` or `/book/:name`; `null` for none. */
  readonly route: string | null;
  /** Dynamic segments of the path, e.g. `{ name: "btcusdt" }` for `[name].tsx`. Decoded. */
  readonly params: Record<string, string>;
  /** Per-request state, empty at first; middlewares fill it for what comes after them. */
  readonly state: State = {} as State;
  /** What was thrown, when an error page renders; `null` otherwise. */
  error: unknown = null;
  /** Run what comes after the current middleware and return its response. */
  next: () => Promise<Response>;
  #app: AppInternals<State>;

  static {
    appInternalsOf = <S>(ctx: Context<S>) => ctx.#app;
  }

  /**
   * Made by the app for each request; handlers and middlewares receive it.
   *
   * @param req The request.
   * @param url Its parsed URL.
   * @param info Connection info (default: a placeholder for 127.0.0.1).
   * @param route The matched route pattern, or `null`.
   * @param params The matched route's parameters.
   * @param app What the app lends the request.
   */
  constructor(
    req: Request,
    url: URL,
    info: Deno.ServeHandlerInfo | undefined,
    route: string | null,
    params: Record<string, string>,
    app: AppInternals<State>,
  ) {
    this.req = req;
    this.url = url;
    this.info = info ?? NO_CONN_INFO;
    this.route = route;
    this.params = params;
    this.#app = app;
    this.next = () => Promise.reject(new Error("ctx.next() called outside a middleware chain"));
  }

  /**
   * Render `vnode` inside the app wrapper (`routes/_app.tsx`) as an HTML
   * response with the page security headers and `Cache-Control: no-cache`
   * (unless `init` sets one). Islands in it get their markers, props and the
   * boot script.
   *
   * @example
   * ```tsx ignore
   * return ctx.render(<h1>hello</h1>, { status: 418 });
   * ```
   *
   * @param vnode What goes where the app wrapper renders `<Component />`.
   * @param init Status and headers. Default 200, no extra headers.
   */
  render(vnode: VNode | null, init: ResponseInit = {}): Promise<Response> {
    return this.#app.renderDocument(this, vnode, init);
  }
}

/**
 * Props of a page component, the app wrapper and the error pages: the
 * context's request fields plus the page's `data`.
 *
 * @example
 * ```tsx
 * import type { PageProps } from "./context.ts";
 * export default function Book({ data, params }: PageProps<{ title: string }>) {
 *   return <h1 id={params.name}>{data.title}</h1>;
 * }
 * ```
 */
export interface PageProps<Data = unknown, State = unknown>
  extends Pick<Context<State>, "req" | "url" | "info" | "route" | "params" | "state" | "error"> {
  /** The handler's page data (`page(data)`); `undefined` for a page without a handler. */
  data: Data;
  /** In the app wrapper: the page. Elsewhere: renders nothing. */
  Component: FunctionComponent;
}

const NOTHING: FunctionComponent = () => null;

/**
 * The props for a page component rendered for `ctx`.
 *
 * @example
 * ```ts ignore
 * const vnode = h(Page, pagePropsOf(ctx, { title: "depthwatch" }));
 * ```
 *
 * @param ctx The request's context.
 * @param data The page data.
 * @param Component What `<Component />` renders. Default: nothing.
 */
export function pagePropsOf<Data, State>(
  ctx: Context<State>,
  data: Data,
  Component: FunctionComponent = NOTHING,
): PageProps<Data, State> {
  return {
    req: ctx.req,
    url: ctx.url,
    info: ctx.info,
    route: ctx.route,
    params: ctx.params,
    state: ctx.state,
    error: ctx.error,
    data,
    Component,
  };
}
