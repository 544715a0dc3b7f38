/**
 * Serving `static/` and the client build folder.
 *
 * Files are found by URL, never relative to the working directory, so the
 * server works from any folder and inside a `deno compile` binary (embed the
 * folders with `--include static/`).
 *
 * - Build files (`/build/<name>`, from `buildDir`): content-hashed names
 *   (`boot-<16 hex>.js`) get `Cache-Control: public, max-age=31536000,
 *   immutable`; other names the short cache below.
 * - Static files (`/<path>`, from `staticDir`): indexed once (on first use),
 *   each with a SHA-256 ETag; `Cache-Control: public, max-age=<maxAge>` and
 *   `304 Not Modified` for a matching `If-None-Match`. In dev mode the index is
 *   rebuilt on every request and responses are `no-cache`.
 *
 * Only GET and HEAD are served; anything else falls through (`null`).
 *
 * Apps serve them with the {@linkcode staticFiles} middleware, as in Fresh 2;
 * the folders come from the app's snapshot (see `applySnapshot`).
 *
 * @module
 */
import { contentTypeOf } from "./content_type.ts";
import { listFolder, toDirUrl } from "./fs_crawl.ts";
import { HASHED_FILE } from "./bundle.ts";
import { appInternalsOf } from "./context.ts";
import type { Middleware } from "./middleware.ts";

/**
 * The middleware serving the app's `static/` folder at `/` and its client
 * build at `/build/`; other requests go on to `ctx.next()`.
 *
 * @example
 * ```ts
 * import { App } from "./app.ts";
 * import { staticFiles } from "./static_files.ts";
 * const app = new App().use(staticFiles()).fsRoutes();
 * ```
 */
export function staticFiles<State>(): Middleware<State> {
  return async (ctx) =>
    await appInternalsOf(ctx).staticFiles.serve(ctx.req, ctx.url.pathname) ?? await ctx.next();
}

/**
 * Options for {@linkcode createStaticFiles}.
 *
 * @example
 * ```ts
 * import type { StaticFilesOptions } from "./static_files.ts";
 * const options: StaticFilesOptions = {
 *   staticDir: new URL("file:///app/static/"),
 *   buildDir: new URL("file:///app/static/build/"),
 *   maxAge: 300,
 * };
 * ```
 */
export interface StaticFilesOptions {
  /** Folder served at `/`. */
  staticDir: URL;
  /** Folder served at `buildPrefix`; excluded from `staticDir` if inside it. */
  buildDir: URL;
  /** URL prefix of build files. Default `"/build/"`. */
  buildPrefix?: string;
  /** `max-age` in seconds for files whose name has no content hash. Default `60`. */
  maxAge?: number;
  /** Re-index on every request and send `no-cache`. Default `false`. */
  dev?: boolean;
}

/**
 * A static file server; see the module docs.
 *
 * @example
 * ```ts
 * import type { StaticFiles } from "./static_files.ts";
 * async function serveOr404(files: StaticFiles, req: Request): Promise<Response> {
 *   return await files.serve(req, new URL(req.url).pathname) ?? new Response(null, { status: 404 });
 * }
 * ```
 */
export interface StaticFiles {
  /**
   * Respond with the file for `pathname`, or `null` when there is none
   * (or the method is not GET/HEAD).
   */
  serve(req: Request, pathname: string): Promise<Response | null>;
  /** Forget the static index (call after files changed). */
  invalidate(): void;
}

interface Entry {
  file: URL;
  etag: string;
  type: string;
}

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * Create a static file server.
 *
 * @example
 * ```ts ignore
 * import { createStaticFiles } from "./static_files.ts";
 * const files = createStaticFiles({
 *   staticDir: new URL("../../static/", import.meta.url),
 *   buildDir: new URL("../../static/build/", import.meta.url),
 * });
 * Deno.serve(async (req) =>
 *   await files.serve(req, new URL(req.url).pathname) ?? new Response("not found", { status: 404 })
 * );
 * ```
 */
export function createStaticFiles(options: StaticFilesOptions): StaticFiles {
  const staticDir = toDirUrl(options.staticDir);
  const buildDir = toDirUrl(options.buildDir);
  const prefix = options.buildPrefix ?? "/build/";
  const maxAge = options.maxAge ?? 60;
  const dev = options.dev ?? false;
  const shortCache = dev ? "no-cache" : `public, max-age=${maxAge}`;
  let index: Promise<Map<string, Entry>> | null = null;

  async function buildIndex(): Promise<Map<string, Entry>> {
    const map = new Map<string, Entry>();
    const walk = async (dir: URL, urlPrefix: string) => {
      for (const e of await listFolder(dir)) {
        if (e.isDirectory) {
          const sub = new URL(`${encodeURIComponent(e.name)}/`, dir);
          if (sub.href !== buildDir.href) {
            await walk(sub, `${urlPrefix}${encodeURIComponent(e.name)}/`);
          }
        } else if (e.isFile) {
          const file = new URL(encodeURIComponent(e.name), dir);
          const bytes = await Deno.readFile(file);
          const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
          const etag = `"${
            Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")
          }"`;
          map.set(`${urlPrefix}${encodeURIComponent(e.name)}`, {
            file,
            etag,
            type: contentTypeOf(e.name),
          });
        }
      }
    };
    await walk(staticDir, "/");
    return map;
  }

  async function serve(req: Request, pathname: string): Promise<Response | null> {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    if (pathname.startsWith(prefix)) {
      const name = pathname.slice(prefix.length);
      if (!SAFE_NAME.test(name)) return null;
      const file = new URL(name, buildDir);
      const hashed = HASHED_FILE.test(name);
      const etag = hashed ? `"${name}"` : undefined;
      return await respond(
        req,
        file,
        contentTypeOf(name),
        etag,
        hashed ? "public, max-age=31536000, immutable" : "no-cache",
      );
    }
    if (dev || index === null) index = buildIndex();
    let map: Map<string, Entry>;
    try {
      map = await index;
    } catch (err) {
      index = null;
      throw err;
    }
    const entry = map.get(pathname);
    if (!entry) return null;
    return await respond(req, entry.file, entry.type, entry.etag, shortCache);
  }

  return {
    serve,
    invalidate() {
      index = null;
    },
  };
}

async function respond(
  req: Request,
  file: URL,
  type: string,
  etag: string | undefined,
  cacheControl: string,
): Promise<Response | null> {
  const headers = new Headers({
    "Content-Type": type,
    "Cache-Control": cacheControl,
    "X-Content-Type-Options": "nosniff",
  });
  if (etag) {
    headers.set("ETag", etag);
    const inm = req.headers.get("If-None-Match");
    if (inm && inm.split(",").some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
      return new Response(null, { status: 304, headers });
    }
  }
  let f: Deno.FsFile;
  try {
    f = await Deno.open(file, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.IsADirectory) {
      return null;
    }
    throw err;
  }
  try {
    const stat = await f.stat();
    if (!stat.isFile) {
      f.close();
      return null;
    }
    headers.set("Content-Length", String(stat.size));
  } catch (err) {
    f.close();
    throw err;
  }
  if (req.method === "HEAD") {
    f.close();
    return new Response(null, { status: 200, headers });
  }
  return new Response(f.readable, { status: 200, headers });
}
