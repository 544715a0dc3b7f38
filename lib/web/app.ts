/**
 * The app handler: routes, pages with islands, static files and the client
 * bundle, behind one `(req, info?) => Promise<Response>` for `Deno.serve`.
 *
 * Request order: dev reload endpoints (dev only) → build files under
 * `/build/` → static files → routes → the `_404` page.
 *
 * Route handlers' responses are returned untouched (so a WebSocket upgrade
 * response from `Deno.upgradeWebSocket` works); pages rendered with
 * `ctx.render` get HTML, `Cache-Control: no-cache` and the security headers.
 * A handler that throws gives a 500 (the `_500` page if present) and the
 * error is reported through `onError`; the server keeps running.
 *
 * @module
 */
import { type ComponentType, h, type VNode } from "preact";
import { buildClient, type BuildInfo, readBuildInfo } from "./bundle.ts";
import {
  DEV_RELOAD_PATH,
  DEV_RELOAD_SCRIPT,
  DEV_RELOAD_SCRIPT_PATH,
  devReloadResponse,
} from "./dev_reload.ts";
import { collectIslands, type IslandInfo, registerIslands } from "./islands.ts";
import { renderPage } from "./render.ts";
import { createRouter, type RouteMatch } from "./router.ts";
import { setPageSecurityHeaders } from "./security_headers.ts";
import { createStaticFiles } from "./static_files.ts";
import {
  type AppProps,
  type Handler,
  type Manifest,
  type Method,
  METHODS,
  type PageProps,
  type RouteContext,
  type RouteModule,
} from "./types.ts";

/** Options for {@linkcode createApp}. */
export interface AppOptions<State> {
  /** The generated manifest (`manifest.gen.ts` default export). */
  manifest: Manifest;
  /** App-wide state handed to every handler and page as `ctx.state`. */
  state: State;
  /** Folder served at `/`. Default `static/` next to the manifest. */
  staticDir?: URL;
  /** Client build folder, served at `/build/`. Default `static/build/` next to the manifest. */
  buildDir?: URL;
  /**
   * Development mode: live reload (`/_dev/reload`), `no-cache` static files,
   * re-read static files per request. Default `false`.
   */
  dev?: boolean;
  /** Called with errors thrown by handlers and pages. Default: `console.error`. */
  onError?: (error: unknown, req: Request) => void;
}

/** What {@linkcode createApp} returns. */
export interface App {
  /** The request handler for `Deno.serve`. */
  handler(req: Request, info?: Deno.ServeHandlerInfo): Promise<Response>;
  /** Build the client bundle into `buildDir` (needs the deno CLI). */
  build(): Promise<BuildInfo>;
  /** The islands the app knows. */
  readonly islands: readonly IslandInfo[];
}

const HTML_TYPE = "text/html; charset=utf-8";

function DefaultNotFound(): VNode {
  return h("main", null, h("h1", null, "404"), h("p", null, "Page not found."));
}

function DefaultError(): VNode {
  return h("main", null, h("h1", null, "500"), h("p", null, "Internal server error."));
}

/**
 * Create the app handler.
 *
 * @example
 * ```ts ignore
 * import { createApp } from "./app.ts";
 * import manifest from "../../manifest.gen.ts";
 * const app = createApp({ manifest, state: { started: Date.now() } });
 * await app.build();
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, app.handler);
 * ```
 */
export function createApp<State extends object>(options: AppOptions<State>): App {
  const { manifest, state } = options;
  const dev = options.dev ?? false;
  const onError = options.onError ?? ((err: unknown, req: Request) => {
    console.error(`depthwatch web: error handling ${req.method} ${req.url}`, err);
  });
  const base = new URL("./", manifest.baseUrl);
  const staticDir = options.staticDir ?? new URL("./static/", base);
  const buildDir = options.buildDir ?? new URL("./static/build/", base);
  const router = createRouter(manifest.routes);
  for (const route of router.routes) validateRoute(route.file, route.module);
  const islands = collectIslands(manifest);
  registerIslands(islands);
  const files = createStaticFiles({ staticDir, buildDir, dev });
  const reloadId = dev ? crypto.randomUUID() : null;
  const AppLayout = router.special.app?.default as ComponentType<AppProps<State>> | undefined;
  let buildInfo: Promise<BuildInfo | null> | null = null;

  function bootInfo(): Promise<BuildInfo | null> {
    if (islands.length === 0) return Promise.resolve(null);
    if (buildInfo === null || dev) buildInfo = readBuildInfo(buildDir);
    return buildInfo;
  }

  async function renderHtml(
    Page: ComponentType<PageProps<unknown, State>>,
    props: PageProps<unknown, State>,
    init: ResponseInit | undefined,
  ): Promise<Response> {
    const info = await bootInfo();
    const Component = () => h(Page, props);
    const vnode = AppLayout
      ? h(AppLayout, { Component, url: props.url, route: props.route, state })
      : h(
        "html",
        null,
        h("head", null, h("meta", { charset: "utf-8" })),
        h("body", null, h(Component, null)),
      );
    const page = renderPage({
      vnode,
      bootScript: info ? () => `/build/${info.boot}` : undefined,
      extraScripts: reloadId ? [DEV_RELOAD_SCRIPT_PATH] : [],
    });
    const headers = new Headers(init?.headers);
    headers.set("Content-Type", HTML_TYPE);
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-cache");
    setPageSecurityHeaders(headers);
    return new Response(page.html, {
      status: init?.status ?? 200,
      statusText: init?.statusText,
      headers,
    });
  }

  function pageProps(url: URL, route: string, params: Record<string, string>, data: unknown) {
    return { data, params, url, route, state } as PageProps<unknown, State>;
  }

  function notFound(url: URL): Promise<Response> {
    const Page = (router.special.notFound?.default ?? DefaultNotFound) as ComponentType<
      PageProps<unknown, State>
    >;
    return renderHtml(Page, pageProps(url, "/_404", {}, undefined), { status: 404 });
  }

  async function serverError(url: URL, error: unknown): Promise<Response> {
    const Page = (router.special.error?.default ?? DefaultError) as ComponentType<
      PageProps<unknown, State>
    >;
    try {
      return await renderHtml(Page, pageProps(url, "/_500", {}, error), { status: 500 });
    } catch {
      return new Response("Internal Server Error", {
        status: 500,
        headers: { "Content-Type": "text/plain; charset=utf-8" },
      });
    }
  }

  function context(
    match: RouteMatch,
    url: URL,
    info: Deno.ServeHandlerInfo | undefined,
  ): RouteContext<unknown, State> {
    const { route, params } = match;
    return {
      params,
      url,
      route: route.pattern,
      state,
      info,
      render(data?: unknown, init?: ResponseInit) {
        const Page = route.module.default;
        if (!Page) {
          return Promise.reject(
            new Error(
              `ctx.render() called in ${route.file}, which has no default export: ` +
                `expected a page component`,
            ),
          );
        }
        return renderHtml(Page, pageProps(url, route.pattern, params, data), init);
      },
      renderNotFound: () => notFound(url),
    };
  }

  async function handleRoute(
    req: Request,
    match: RouteMatch,
    url: URL,
    info: Deno.ServeHandlerInfo | undefined,
  ): Promise<Response> {
    const mod = match.route.module;
    const ctx = context(match, url, info);
    const h = mod.handler;
    if (typeof h === "function") return await h(req, ctx);
    const method = req.method.toUpperCase() as Method;
    const handlers = (h ?? {}) as Partial<Record<Method, Handler<unknown, State>>>;
    const renderDefault: Handler<unknown, State> = (_req, c) => c.render();
    const get = handlers.GET ?? (mod.default ? renderDefault : undefined);
    let fn = method === "GET" ? get : handlers[method];
    let stripBody = false;
    if (method === "HEAD" && !fn && get) {
      fn = get;
      stripBody = true;
    }
    if (!fn) {
      const allow = METHODS.filter((m) => handlers[m] || ((m === "GET" || m === "HEAD") && get));
      return new Response(`Method ${req.method} not allowed; expected one of ${allow.join(", ")}`, {
        status: 405,
        headers: { "Allow": allow.join(", "), "Content-Type": "text/plain; charset=utf-8" },
      });
    }
    const res = await fn(req, ctx);
    if (stripBody) {
      await res.body?.cancel();
      return new Response(null, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    }
    return res;
  }

  async function handler(req: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    try {
      if (reloadId) {
        if (path === DEV_RELOAD_PATH) return devReloadResponse(reloadId);
        if (path === DEV_RELOAD_SCRIPT_PATH) {
          return new Response(DEV_RELOAD_SCRIPT, {
            headers: {
              "Content-Type": "text/javascript; charset=utf-8",
              "Cache-Control": "no-cache",
            },
          });
        }
      }
      const file = await files.serve(req, path);
      if (file) return file;
      let match: RouteMatch | null;
      try {
        match = router.match(path);
      } catch (err) {
        if (!(err instanceof URIError)) throw err;
        return new Response("Bad Request: malformed percent-encoding in the URL path", {
          status: 400,
          headers: { "Content-Type": "text/plain; charset=utf-8" },
        });
      }
      if (!match) return await notFound(url);
      return await handleRoute(req, match, url, info);
    } catch (err) {
      onError(err, req);
      return await serverError(url, err);
    }
  }

  async function build(): Promise<BuildInfo> {
    const info = await buildClient({ islands, appDir: base, buildDir });
    buildInfo = Promise.resolve(info);
    files.invalidate();
    return info;
  }

  return { handler, build, islands };
}

function validateRoute(file: string, mod: RouteModule): void {
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
