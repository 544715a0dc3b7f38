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
 *   `304 Not Modified` for a matching `If-None-Match` (or `*`). In dev mode
 *   the index is rebuilt on every request and responses are `no-cache`.
 * - Compression: a compressible file (`isCompressible`: js, css, svg, json,
 *   html, …) is served in the encoding `Accept-Encoding` prefers among
 *   itself and its precompressed `.br` / `.gz` siblings (written by `deno
 *   task build`, see `precompress.ts`; negotiation rules in
 *   `accept_encoding.ts`), with `Content-Encoding`, the sibling's
 *   `Content-Length`, an ETag per encoding (`"<tag>-br"`, `"<tag>-gzip"`)
 *   and `Vary: Accept-Encoding` on every response for it, uncompressed ones
 *   included. A sibling is used only after checking, once per index, that
 *   it decompresses to the file's exact bytes. When the client accepts none
 *   of the encodings (e.g. `identity;q=0, deflate`): `406 Not Acceptable`.
 *   Siblings have no URL of their own. Other files ignore `Accept-Encoding`.
 * - Ranges: not supported; `Accept-Ranges: none`, and a `Range` header is
 *   ignored (a full `200`, as RFC 9110 allows).
 * - Memory: bodies are streamed from disk; nothing but the index (names,
 *   ETags, which siblings exist) stays resident.
 *
 * Only GET and HEAD are served; anything else falls through (`null`).
 *
 * Apps serve them with the {@linkcode staticFiles} middleware, as in Fresh 2;
 * the folders come from the app's snapshot (see `applySnapshot`).
 *
 * @module
 */
import zlib from "node:zlib";
import { negotiateEncoding } from "./accept_encoding.ts";
import { contentTypeOf, isCompressible } from "./content_type.ts";
import { listFolder, toDirUrl } from "./fs_crawl.ts";
import { HASHED_FILE } from "./bundle.ts";
import { PRECOMPRESSED, siblingSource } from "./precompress.ts";
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

/** One stored form of a file: the file itself (`identity`) or a precompressed sibling. */
interface Variant {
  coding: string;
  file: URL;
  /** Quoted; distinct per coding. Absent for unhashed build files. */
  etag: string | undefined;
}

interface Entry {
  type: string;
  /** Served by `Accept-Encoding`, with `Vary` (see `isCompressible`). */
  compressible: boolean;
  identity: Variant;
  /** Verified precompressed siblings, most preferred first. */
  encoded: Variant[];
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
  // Content-hashed build files never change: described once (bounded by the build folder).
  const hashedEntries = new Map<string, Promise<Entry | null>>();

  async function buildIndex(): Promise<Map<string, Entry>> {
    const map = new Map<string, Entry>();
    const walk = async (dir: URL, urlPrefix: string) => {
      const entries = await listFolder(dir);
      const names = new Set(entries.filter((e) => e.isFile).map((e) => e.name));
      for (const e of entries) {
        if (e.isDirectory) {
          const sub = new URL(`${encodeURIComponent(e.name)}/`, dir);
          if (sub.href !== buildDir.href) {
            await walk(sub, `${urlPrefix}${encodeURIComponent(e.name)}/`);
          }
        } else if (e.isFile && !isSibling(e.name, names)) {
          const file = new URL(encodeURIComponent(e.name), dir);
          const bytes = await Deno.readFile(file);
          const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
          const tag = Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0"))
            .join("");
          map.set(
            `${urlPrefix}${encodeURIComponent(e.name)}`,
            await describe(file, e.name, bytes, tag),
          );
        }
      }
    };
    await walk(staticDir, "/");
    return map;
  }

  function hashedEntry(name: string): Promise<Entry | null> {
    let entry = hashedEntries.get(name);
    if (entry === undefined) {
      const file = new URL(name, buildDir);
      entry = readIfFile(file).then((bytes) =>
        bytes === null ? null : describe(file, name, bytes, name)
      );
      hashedEntries.set(name, entry);
      // Only files that exist stay described: a request for a missing name costs nothing later.
      entry.then((e) => e ?? hashedEntries.delete(name), () => hashedEntries.delete(name));
    }
    return entry;
  }

  async function serve(req: Request, pathname: string): Promise<Response | null> {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    if (pathname.startsWith(prefix)) {
      const name = pathname.slice(prefix.length);
      if (!SAFE_NAME.test(name) || isSibling(name)) return null;
      if (HASHED_FILE.test(name)) {
        const entry = await hashedEntry(name);
        return entry && await respond(req, entry, "public, max-age=31536000, immutable");
      }
      const identity = { coding: "identity", file: new URL(name, buildDir), etag: undefined };
      const entry = { type: contentTypeOf(name), compressible: isCompressible(name), identity };
      return await respond(req, { ...entry, encoded: [] }, "no-cache");
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
    return await respond(req, entry, shortCache);
  }

  return {
    serve,
    invalidate() {
      index = null;
      hashedEntries.clear();
    },
  };
}

/**
 * Whether `name` is a precompressed sibling (of a compressible file, present
 * in `names` when given): such files are served only through their source.
 */
function isSibling(name: string, names?: ReadonlySet<string>): boolean {
  const source = siblingSource(name);
  return source !== null && isCompressible(source) && (names === undefined || names.has(source));
}

/**
 * Describe a file: its type and, when compressible, the precompressed
 * siblings that decompress to exactly `bytes` (a stale or corrupt sibling is
 * never served). ETags: `"<tag>"`, `"<tag>-br"`, `"<tag>-gzip"`.
 */
async function describe(file: URL, name: string, bytes: Uint8Array, tag: string): Promise<Entry> {
  const compressible = isCompressible(name);
  const encoded: Variant[] = [];
  if (compressible) {
    for (const { coding, suffix } of PRECOMPRESSED) {
      const sibling = new URL(`${file.href}${suffix}`);
      const packed = await readIfFile(sibling);
      if (packed !== null && decodesTo(packed, coding, bytes)) {
        encoded.push({ coding, file: sibling, etag: `"${tag}-${coding}"` });
      }
    }
  }
  return {
    type: contentTypeOf(name),
    compressible,
    identity: { coding: "identity", file, etag: `"${tag}"` },
    encoded,
  };
}

function decodesTo(packed: Uint8Array, coding: string, bytes: Uint8Array): boolean {
  let plain: Uint8Array;
  try {
    plain = coding === "br" ? zlib.brotliDecompressSync(packed) : zlib.gunzipSync(packed);
  } catch {
    return false;
  }
  if (plain.byteLength !== bytes.byteLength) return false;
  for (let i = 0; i < bytes.byteLength; i++) if (plain[i] !== bytes[i]) return false;
  return true;
}

async function readIfFile(file: URL): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.IsADirectory) {
      return null;
    }
    throw err;
  }
}

/** Whether an `If-None-Match` value matches `etag` (weak comparison, or `*`). */
function noneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((t) => {
    const v = t.trim();
    return v === "*" || v === etag || v === `W/${etag}`;
  });
}

async function respond(
  req: Request,
  entry: Entry,
  cacheControl: string,
): Promise<Response | null> {
  const headers = new Headers({
    "Content-Type": entry.type,
    "Cache-Control": cacheControl,
    "X-Content-Type-Options": "nosniff",
    // Range requests are ignored (a full 200): the bodies are small and immutable.
    "Accept-Ranges": "none",
  });
  let chosen = entry.identity;
  if (entry.compressible) {
    headers.set("Vary", "Accept-Encoding");
    const have = entry.encoded.map((v) => v.coding);
    const coding = negotiateEncoding(req.headers.get("Accept-Encoding"), have);
    if (coding === null) {
      headers.set("Content-Type", "text/plain; charset=utf-8");
      headers.set("Cache-Control", "no-cache");
      const offered = [...have, "identity"].join(", ");
      return new Response(
        `Not Acceptable: this file is available as ${offered}; Accept-Encoding excludes all of them\n`,
        { status: 406, headers },
      );
    }
    chosen = entry.encoded.find((v) => v.coding === coding) ?? entry.identity;
  }
  if (chosen.etag) {
    headers.set("ETag", chosen.etag);
    if (noneMatch(req.headers.get("If-None-Match"), chosen.etag)) {
      return new Response(null, { status: 304, headers });
    }
  }
  if (chosen.coding !== "identity") headers.set("Content-Encoding", chosen.coding);
  let f: Deno.FsFile;
  try {
    f = await Deno.open(chosen.file, { read: true });
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
