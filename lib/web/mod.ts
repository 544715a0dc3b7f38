/**
 * depthwatch's stand-in for Fresh 2 (`jsr:@fresh/core`, imported as `fresh`),
 * which our machines cannot fetch: the same names and shapes, on npm preact.
 * Routes, islands, `utils.ts` and `main.ts` import these from here; moving to
 * Fresh itself is a change of this import path.
 *
 * Not here, as in Fresh (where they live in `fresh/dev` and the generated
 * `_fresh/server.js`): the build (`builder.ts`), loading the routes at start
 * (`snapshot.ts`) and giving them to the app (`applySnapshot` in `app.ts`).
 *
 * @example
 * ```ts
 * import { App, createDefine, page, staticFiles } from "./mod.ts";
 * const define = createDefine<{ name: string }>();
 * const handler = define.handlers({ GET: (ctx) => page({ name: ctx.state.name }) });
 * const app = new App<{ name: string }>().use(staticFiles()).fsRoutes();
 * ```
 *
 * @module
 */
export { App } from "./app.ts";
export type { Context, PageProps } from "./context.ts";
export { createDefine, type Define } from "./define.ts";
export { HttpError } from "./error.ts";
export {
  type HandlerByMethod,
  type HandlerFn,
  type Method,
  page,
  type PageResponse,
  type RouteHandler,
} from "./handlers.ts";
export type { Middleware } from "./middleware.ts";
export { staticFiles } from "./static_files.ts";
