/**
 * A snapshot of an app's files: every route and island module, imported.
 * It is what `App.fsRoutes()` serves (see `applySnapshot` in `app.ts`).
 *
 * Two ways to get one, as Fresh 2 has: {@linkcode loadSnapshot} finds the
 * files and imports them when the process starts (development, tests,
 * `deno run main.ts`); `deno task build` writes `_fresh/snapshot.ts`, a module
 * that imports every file statically (see `builder.ts`), which
 * `deno compile` can follow.
 *
 * @module
 */
import type { ComponentType } from "preact";
import { scanApp, toDirUrl } from "./fs_crawl.ts";
import type { RouteHandler } from "./handlers.ts";

/**
 * A module under `routes/`. Every export is optional; others are ignored.
 *
 * @example
 * ```ts
 * import type { RouteModule } from "./snapshot.ts";
 * const health: RouteModule = { handler: { GET: () => new Response("ok") } };
 * ```
 */
export interface RouteModule {
  /** The route's handler: one function, or one per method. */
  // deno-lint-ignore no-explicit-any
  handler?: RouteHandler<any, any>;
  /** The page component. */
  // deno-lint-ignore no-explicit-any
  default?: ComponentType<any>;
}

/**
 * A module under `islands/`: every exported function is an island component.
 *
 * @example
 * ```ts
 * import type { IslandModule } from "./snapshot.ts";
 * const counter: IslandModule = { default: () => null };
 * ```
 */
export type IslandModule = Record<string, unknown>;

/**
 * An app's route and island modules.
 *
 * @example
 * ```ts
 * import type { Snapshot } from "./snapshot.ts";
 * const snapshot: Snapshot = {
 *   root: "file:///app/",
 *   routes: { "./routes/index.tsx": { default: () => null } },
 *   islands: {},
 * };
 * ```
 */
export interface Snapshot {
  /** URL of the app folder (holding `routes/`, `islands/`, `static/`), ending in `/`. */
  root: string;
  /** Route modules by key, e.g. `./routes/api/history.ts`. */
  routes: Record<string, RouteModule>;
  /** Island modules by key, e.g. `./islands/Counter.tsx`. */
  islands: Record<string, IslandModule>;
}

/**
 * Find the route and island files of the app in `root` and import them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSnapshot } from "./snapshot.ts";
 * const snapshot = await loadSnapshot(new URL("../../", import.meta.url));
 * assert.ok("./routes/health.ts" in snapshot.routes);
 * ```
 *
 * @param root The app folder.
 */
export async function loadSnapshot(root: URL | string): Promise<Snapshot> {
  const dir = toDirUrl(root);
  const files = await scanApp(dir);
  const load = async (keys: string[]) =>
    Object.fromEntries(
      await Promise.all(keys.map(async (k) => [k, await import(new URL(k, dir).href)] as const)),
    );
  return { root: dir.href, routes: await load(files.routes), islands: await load(files.islands) };
}
