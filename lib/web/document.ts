/**
 * Turning a page's vnode into the HTML response `ctx.render()` returns: the
 * app wrapper (`routes/_app.tsx`) around it, island markers and the boot
 * script (see `render.ts`), and the page headers: `Content-Type`,
 * `Cache-Control: no-cache` unless the handler set one, and the security
 * headers (`security_headers.ts`).
 *
 * @module
 */
import { type ComponentType, h, type VNode } from "preact";
import { type BuildInfo, readBuildInfo } from "./bundle.ts";
import { type AppInternals, type PageProps, pagePropsOf } from "./context.ts";
import { DEV_RELOAD_SCRIPT_PATH } from "./dev_reload.ts";
import { renderPage } from "./render.ts";
import { setPageSecurityHeaders } from "./security_headers.ts";

/**
 * Options of {@linkcode createDocumentRenderer}.
 *
 * @example
 * ```ts
 * import type { DocumentOptions } from "./document.ts";
 * const options: DocumentOptions<unknown> = {
 *   buildDir: new URL("file:///app/static/build/"),
 *   hasIslands: false,
 *   dev: false,
 * };
 * ```
 */
export interface DocumentOptions<State> {
  /** The app wrapper; without one the page goes into a bare `<html><body>`. */
  appWrapper?: ComponentType<PageProps<unknown, State>>;
  /** The client build folder (holding `build.json`). */
  buildDir: URL;
  /** Whether the app has islands: only then is `build.json` read. */
  hasIslands: boolean;
  /** Development: re-read `build.json` per page and add the live-reload script. */
  dev: boolean;
}

const HTML_TYPE = "text/html; charset=utf-8";

/**
 * Make the app's `ctx.render()`.
 *
 * @example
 * ```ts ignore
 * const renderDocument = createDocumentRenderer({ buildDir, hasIslands: true, dev: false });
 * const res = await renderDocument(ctx, <h1>hi</h1>, { status: 200 });
 * ```
 *
 * @param options See {@linkcode DocumentOptions}.
 */
export function createDocumentRenderer<State>(
  options: DocumentOptions<State>,
): AppInternals<State>["renderDocument"] {
  const { appWrapper: AppWrapper, buildDir, hasIslands, dev } = options;
  const extraScripts = dev ? [DEV_RELOAD_SCRIPT_PATH] : [];
  let buildInfo: Promise<BuildInfo | null> | null = null;

  function bootInfo(): Promise<BuildInfo | null> {
    if (!hasIslands) return Promise.resolve(null);
    if (buildInfo === null || dev) buildInfo = readBuildInfo(buildDir);
    return buildInfo;
  }

  return async (ctx, vnode, init) => {
    const info = await bootInfo();
    const child = vnode;
    const doc = AppWrapper
      ? h(AppWrapper, pagePropsOf(ctx, undefined, () => child))
      : h("html", null, h("head", null, h("meta", { charset: "utf-8" })), h("body", null, child));
    const page = renderPage({
      vnode: doc as VNode,
      bootScript: info ? () => `/build/${info.boot}` : undefined,
      extraScripts,
    });
    const headers = new Headers(init.headers);
    headers.set("Content-Type", HTML_TYPE);
    if (!headers.has("Cache-Control")) headers.set("Cache-Control", "no-cache");
    setPageSecurityHeaders(headers);
    return new Response(page.html, {
      status: init.status ?? 200,
      statusText: init.statusText,
      headers,
    });
  };
}
