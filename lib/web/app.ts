/**
 * The app, shaped like Fresh 2's `App`: middlewares added with `use()` run
 * in order for every request, `fsRoutes()` answers with the file routes of
 * the app's snapshot (see `snapshot.ts`), and `handler()` makes the
 * `(req, info?) => Promise<Response>` for `Deno.serve`.
 *
 * ```ts ignore
 * const app = new App<State>()
 *   .use(define.middleware((ctx) => { ctx.state.service = service; return ctx.next(); }))
 *   .use(staticFiles())
 *   .fsRoutes();
 * applySnapshot(app, snapshot);
 * Deno.serve(app.handler());
 * ```
 *
 * Which modules the app serves is not known to the app itself: as in Fresh 2,
 * the build (or, in development and tests, a snapshot loaded at start) is
 * applied to it with {@linkcode applySnapshot}.
 *
 * Errors: anything thrown (including the `HttpError(404)` the app throws when
 * nothing answers) goes back through the middlewares, then renders the error
 * page: `routes/_404.tsx` for 404s if present, else `routes/_error.tsx` (or
 * `_500.tsx`) with `props.error` and the error's status, else a built-in
 * page. Without an error page of its own, the app also logs errors of status
 * 500 and up with `console.error`. A path with malformed percent-encoding is
 * a 400.
 *
 * In development mode the app also serves live reload (`dev_reload.ts`).
 *
 * @module
 */
import { type ComponentType, h, type VNode } from "preact";
import { type AppInternals, Context, type PageProps } from "./context.ts";
import {
  DEV_RELOAD_PATH,
  DEV_RELOAD_SCRIPT,
  DEV_RELOAD_SCRIPT_PATH,
  devReloadResponse,
} from "./dev_reload.ts";
import { createDocumentRenderer } from "./document.ts";
import { HttpError } from "./error.ts";
import { dispatchRoute, renderComponent, validateRoute } from "./fs_routes.ts";
import { collectIslands, registerIslands } from "./islands.ts";
import { type Middleware, runMiddlewares } from "./middleware.ts";
import { createRouter, type Router } from "./router.ts";
import type { Snapshot } from "./snapshot.ts";
import { createStaticFiles } from "./static_files.ts";

/**
 * Options of {@linkcode applySnapshot}.
 *
 * @example
 * ```ts
 * import type { ApplySnapshotOptions } from "./app.ts";
 * const dev: ApplySnapshotOptions = { mode: "development" };
 * ```
 */
export interface ApplySnapshotOptions {
  /**
   * `"development"`: live reload, static files re-read per request and sent
   * `no-cache`, the client build re-read per page. Default `"production"`.
   */
  mode?: "development" | "production";
  /** Folder served at `/`. Default `static/` in the snapshot's root. */
  staticDir?: URL;
  /** Client build folder, served at `/build/`. Default `static/build/` in the snapshot's root. */
  buildDir?: URL;
}

interface Applied {
  snapshot: Snapshot;
  options: ApplySnapshotOptions;
}

/** The place of `fsRoutes()` among the middlewares. */
const FS_ROUTES = Symbol("fsRoutes");

/**
 * Give `app` the modules its `fsRoutes()` serve, and the folders of its
 * static files. Call before `app.handler()`.
 *
 * @example
 * ```ts
 * import { App, applySnapshot } from "./app.ts";
 * const app = new App().fsRoutes();
 * applySnapshot(app, {
 *   root: "file:///app/",
 *   routes: { "./routes/index.ts": { handler: () => new Response("hi") } },
 *   islands: {},
 * });
 * const res = await app.handler()(new Request("http://localhost/"));
 * console.log(await res.text()); // "hi"
 * ```
 *
 * @param app The app.
 * @param snapshot Its route and island modules.
 * @param options See {@linkcode ApplySnapshotOptions}.
 */
export let applySnapshot: <State>(
  app: App<State>,
  snapshot: Snapshot,
  options?: ApplySnapshotOptions,
) => void;

/**
 * An app: middlewares and file routes behind one request handler.
 *
 * @example
 * ```ts
 * import { App, applySnapshot } from "./app.ts";
 * const app = new App<{ user: string }>()
 *   .use((ctx) => {
 *     ctx.state.user = "ada";
 *     return ctx.next();
 *   })
 *   .fsRoutes();
 * applySnapshot(app, {
 *   root: "file:///app/",
 *   routes: { "./routes/me.ts": { handler: (ctx) => new Response(ctx.state.user) } },
 *   islands: {},
 * });
 * const res = await app.handler()(new Request("http://localhost/me"));
 * console.log(await res.text()); // "ada"
 * ```
 */
export class App<State> {
  #steps: (Middleware<State> | typeof FS_ROUTES)[] = [];
  #applied: Applied | null = null;

  static {
    applySnapshot = (app, snapshot, options = {}) => {
      app.#applied = { snapshot, options };
    };
  }

  /**
   * Add middlewares; they run in the order added, for every request.
   *
   * @example
   * ```ts
   * import { App } from "./app.ts";
   * const app = new App().use(async (ctx) => {
   *   const res = await ctx.next();
   *   res.headers.set("X-Served-By", "depthwatch");
   *   return res;
   * });
   * ```
   */
  use(...middleware: Middleware<State>[]): this {
    this.#steps.push(...middleware);
    return this;
  }

  /**
   * Answer with the file routes (of the applied snapshot) at this point of
   * the middleware order; requests no route matches go on to what follows.
   *
   * @example
   * ```ts
   * import { App } from "./app.ts";
   * const app = new App().fsRoutes();
   * ```
   */
  fsRoutes(): this {
    this.#steps.push(FS_ROUTES);
    return this;
  }

  /**
   * The request handler for `Deno.serve`. Validates the routes and registers
   * the islands of the applied snapshot; throws without one.
   *
   * @example
   * ```ts ignore
   * Deno.serve({ port: 8000 }, app.handler());
   * ```
   */
  handler(): (req: Request, info?: Deno.ServeHandlerInfo) => Promise<Response> {
    if (this.#applied === null) {
      throw new Error(
        "App.handler(): no snapshot applied; expected applySnapshot(app, snapshot) first " +
          "(deno task build writes _fresh/snapshot.ts; loadSnapshot() reads routes/ and islands/)",
      );
    }
    return createHandler(this.#steps, this.#applied);
  }
}

function DefaultNotFound(): VNode {
  return h("main", null, h("h1", null, "404"), h("p", null, "Page not found."));
}

function DefaultError({ error }: { error: unknown }): VNode {
  // A client error's message is meant for the client; a server error's is not.
  const status = error instanceof HttpError ? error.status : 500;
  const text = status < 500 && error instanceof HttpError
    ? error.message
    : "Internal server error.";
  return h("main", null, h("h1", null, String(status)), h("p", null, text));
}

function createHandler<State>(
  steps: readonly (Middleware<State> | typeof FS_ROUTES)[],
  { snapshot, options }: Applied,
): (req: Request, info?: Deno.ServeHandlerInfo) => Promise<Response> {
  const root = new URL(snapshot.root);
  const dev = options.mode === "development";
  const buildDir = options.buildDir ?? new URL("static/build/", root);
  const router = createRouter(snapshot.routes);
  for (const route of router.routes) validateRoute(route.file, route.module);
  const byPattern = new Map(router.routes.map((r) => [r.pattern, r]));
  const islands = collectIslands(snapshot.islands);
  registerIslands(islands);
  const internals: AppInternals<State> = {
    renderDocument: createDocumentRenderer<State>({
      appWrapper: router.special.app?.default as ComponentType<PageProps<unknown, State>>,
      buildDir,
      hasIslands: islands.length > 0,
      dev,
    }),
    staticFiles: createStaticFiles({
      staticDir: options.staticDir ?? new URL("static/", root),
      buildDir,
      dev,
    }),
  };
  const fsRoutes: Middleware<State> = (ctx) => {
    const route = ctx.route === null ? undefined : byPattern.get(ctx.route);
    return route ? dispatchRoute(ctx, route) : ctx.next();
  };
  const middlewares = steps.map((s) => s === FS_ROUTES ? fsRoutes : s);
  const notFound = () => Promise.reject(new HttpError(404));
  const handleError = errorHandler<State>(router);
  const reloadId = dev ? crypto.randomUUID() : null;

  return async (req, info) => {
    const url = new URL(req.url);
    if (reloadId !== null) {
      const res = devReload(url.pathname, reloadId);
      if (res) return res;
    }
    let match;
    try {
      match = router.match(url.pathname);
    } catch (err) {
      if (!(err instanceof URIError)) throw err;
      return new Response("Bad Request: malformed percent-encoding in the URL path", {
        status: 400,
        headers: { "Content-Type": "text/plain; charset=utf-8" },
      });
    }
    const ctx = new Context<State>(
      req,
      url,
      info,
      match?.route.pattern ?? null,
      match?.params ?? {},
      internals,
    );
    try {
      return await runMiddlewares(middlewares, ctx, notFound);
    } catch (err) {
      return await handleError(ctx, err);
    }
  };
}

function devReload(path: string, id: string): Response | null {
  if (path === DEV_RELOAD_PATH) return devReloadResponse(id);
  if (path !== DEV_RELOAD_SCRIPT_PATH) return null;
  return new Response(DEV_RELOAD_SCRIPT, {
    headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache" },
  });
}

/** Renders the error page for what a request threw (see the module docs). */
function errorHandler<State>(
  router: Router,
): (ctx: Context<State>, err: unknown) => Promise<Response> {
  const notFoundPage = router.special.notFound?.default;
  const errorPage = router.special.error?.default;
  return async (ctx, err) => {
    ctx.error = err;
    const status = err instanceof HttpError ? err.status : 500;
    const Page = status === 404
      ? notFoundPage ?? errorPage ?? DefaultNotFound
      : errorPage ?? DefaultError;
    if (Page === DefaultError && status >= 500) {
      console.error(`error handling ${ctx.req.method} ${ctx.url.href}:`, err);
    }
    try {
      return await renderComponent(ctx, Page, undefined, { status });
    } catch (renderErr) {
      console.error(`the error page failed for ${ctx.req.method} ${ctx.url.href}:`, renderErr);
      return new Response("Internal Server Error", {
        status: 500,
        headers: { "Content-Type": "text/plain; charset=utf-8" },
      });
    }
  };
}
