/**
 * Types shared by the web layer: the generated manifest, route modules,
 * handlers and the context they receive. They follow Fresh's names
 * (`Handlers`, `PageProps`, `AppProps`) so routes read like a Fresh app.
 *
 * @module
 */
import type { ComponentType } from "preact";

/** HTTP methods a handler object may implement. */
export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/** The methods in {@linkcode Method}, in `Allow` header order. */
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
 * What a handler receives besides the request.
 *
 * @typeParam Data Data passed to the page component through `render`.
 * @typeParam State The app-wide state given to `createApp` (pipeline services).
 */
export interface RouteContext<Data = unknown, State = Record<string, unknown>> {
  /** Dynamic segments of the path, e.g. `{ name: "btcusdt" }` for `[name].tsx`. Decoded. */
  readonly params: Record<string, string>;
  /** The parsed request URL. */
  readonly url: URL;
  /** The route pattern that matched, e.g. `/api/history` or `/book/:name`. */
  readonly route: string;
  /** The app-provided state object (the same object for every request). */
  readonly state: State;
  /** Connection info from `Deno.serve`, when the app handler was given it. */
  readonly info?: Deno.ServeHandlerInfo;
  /**
   * Render this route's default page component inside `_app` as an HTML
   * response with the security headers. Rejects if the route has no page.
   */
  render(data?: Data, init?: ResponseInit): Promise<Response>;
  /** Render the `_404` page with status 404. */
  renderNotFound(): Promise<Response>;
}

/**
 * A request handler, as in Fresh: may return any `Response`, including the
 * one from `Deno.upgradeWebSocket` (it is passed through untouched).
 *
 * @example
 * ```ts
 * import type { Handler } from "./types.ts";
 * export const handler: Handler = (_req, ctx) => Response.json({ path: ctx.url.pathname });
 * ```
 */
export type Handler<Data = unknown, State = Record<string, unknown>> = (
  req: Request,
  ctx: RouteContext<Data, State>,
) => Response | Promise<Response>;

/**
 * Per-method handlers. A method that is missing answers 405 with `Allow`
 * (GET is implied when the route has a page component; HEAD follows GET).
 *
 * @example
 * ```ts
 * import type { Handlers } from "./types.ts";
 * export const handler: Handlers = { GET: (_req, ctx) => ctx.render({ n: 1 }) };
 * ```
 */
export type Handlers<Data = unknown, State = Record<string, unknown>> = Partial<
  Record<Method, Handler<Data, State>>
>;

/**
 * Props of a page component (a route module's default export).
 *
 * @example
 * ```tsx
 * import type { PageProps } from "./types.ts";
 * export default function Page({ data }: PageProps<{ n: number }>) {
 *   return <p>{data.n}</p>;
 * }
 * ```
 */
export interface PageProps<Data = unknown, State = Record<string, unknown>> {
  /** The value passed to `ctx.render(data)` (undefined for page-only routes). */
  data: Data;
  /** Dynamic path segments. */
  params: Record<string, string>;
  /** The request URL. */
  url: URL;
  /** The route pattern that matched. */
  route: string;
  /** The app state. */
  state: State;
}

/**
 * Props of the `_app.tsx` layout: render `<Component />` where the page goes.
 *
 * @example
 * ```tsx
 * import type { AppProps } from "./types.ts";
 * export default function App({ Component }: AppProps) {
 *   return <html><body><Component /></body></html>;
 * }
 * ```
 */
export interface AppProps<State = Record<string, unknown>> {
  /** The page, already bound to its props. */
  Component: ComponentType;
  /** The request URL. */
  url: URL;
  /** The route pattern that matched (`/_404` for the not-found page). */
  route: string;
  /** The app state. */
  state: State;
}

/** A module under `routes/`. Every export is optional. */
export interface RouteModule {
  // deno-lint-ignore no-explicit-any
  handler?: Handler<any, any> | Handlers<any, any>;
  // deno-lint-ignore no-explicit-any
  default?: ComponentType<any>;
}

/** A module under `islands/`: every exported function is an island component. */
export type IslandModule = Record<string, unknown>;

/**
 * The generated `manifest.gen.ts` default export (see `gen_manifest.ts`).
 * Keys are paths relative to the app directory, e.g. `./routes/index.tsx`.
 */
export interface Manifest {
  routes: Record<string, RouteModule>;
  islands: Record<string, IslandModule>;
  /** `import.meta.url` of the manifest file; the app directory is its folder. */
  baseUrl: string;
}
