/**
 * Finding an app's route and island files: every module under `routes/` and
 * `islands/` (`.ts`, `.tsx`, `.js`, `.jsx`, `.mts`, `.mjs`), skipping test
 * files (`*_test.*`, `*.test.*`), declaration files and dot-files.
 *
 * @module
 */

/**
 * Files found in an app, as keys relative to it (`./routes/...`, `./islands/...`), sorted.
 *
 * @example
 * ```ts
 * import type { AppFiles } from "./fs_crawl.ts";
 * const files: AppFiles = { routes: ["./routes/index.tsx"], islands: ["./islands/Counter.tsx"] };
 * ```
 */
export interface AppFiles {
  /** Route modules, e.g. `./routes/index.tsx`. */
  routes: string[];
  /** Island modules, e.g. `./islands/Counter.tsx`. */
  islands: string[];
}

const MODULE = /\.(tsx|ts|jsx|js|mts|mjs)$/;
const SKIP = /(_test|\.test)\.(tsx|ts|jsx|js|mts|mjs)$|\.d\.(ts|mts)$/;

/**
 * `dir` as a folder URL (ending in `/`); a string is resolved against the
 * working directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toDirUrl } from "./fs_crawl.ts";
 * assert.equal(toDirUrl(new URL("file:///app")).href, "file:///app/");
 * ```
 */
export function toDirUrl(dir: URL | string): URL {
  const url = typeof dir === "string" ? new URL(dir, `file://${Deno.cwd()}/`) : new URL(dir);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/**
 * The entries of folder `dir` except dot-files; a folder that does not exist
 * has none. The one folder reader of the file-system routes and static files.
 *
 * @example
 * ```ts
 * import { listFolder } from "./fs_crawl.ts";
 * const names = (await listFolder(new URL("file:///no/such/folder/"))).map((e) => e.name); // []
 * ```
 */
export async function listFolder(dir: URL): Promise<Deno.DirEntry[]> {
  try {
    const entries = await Array.fromAsync(Deno.readDir(dir));
    return entries.filter((e) => !e.name.startsWith("."));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

async function walk(root: URL, prefix: string, out: string[]): Promise<void> {
  for (const e of await listFolder(root)) {
    if (e.isDirectory) {
      await walk(new URL(`${encodeURIComponent(e.name)}/`, root), `${prefix}${e.name}/`, out);
    } else if (e.isFile && MODULE.test(e.name) && !SKIP.test(e.name)) {
      out.push(`${prefix}${e.name}`);
    }
  }
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * List the route and island modules of an app folder. Missing folders give
 * empty lists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scanApp } from "./fs_crawl.ts";
 * const files = await scanApp(new URL("../../", import.meta.url));
 * assert.ok(files.routes.includes("./routes/index.tsx"));
 * ```
 *
 * @param appDir The folder holding `routes/` and `islands/`.
 */
export async function scanApp(appDir: URL | string): Promise<AppFiles> {
  const dir = toDirUrl(appDir);
  const routes: string[] = [];
  const islands: string[] = [];
  await walk(new URL("routes/", dir), "./routes/", routes);
  await walk(new URL("islands/", dir), "./islands/", islands);
  return { routes: routes.sort(byCodeUnit), islands: islands.sort(byCodeUnit) };
}
