/**
 * File routes → URL patterns, and matching a path against them.
 *
 * Conventions (Fresh's): `routes/index.tsx` → `/`, `routes/about.tsx` →
 * `/about`, `routes/api/history.ts` → `/api/history`, `routes/book/[name].tsx`
 * → `/book/:name`, `routes/docs/[...path].tsx` → `/docs/:path*` (rest of the
 * path, possibly empty), `(group)` folders are left out of the URL. Files and
 * folders starting with `_` are not routes: `_app.tsx` is the app wrapper,
 * `_error.tsx` (or `_500.tsx`) the error page, `_404.tsx` a not-found page
 * (without one, not-found requests get the error page).
 *
 * Static routes win over dynamic ones, and dynamic ones over rest routes,
 * segment by segment. A trailing slash is ignored (`/about/` is `/about`).
 *
 * @module
 */
import type { RouteModule } from "./snapshot.ts";

/**
 * One segment of a route pattern.
 *
 * @example
 * ```ts
 * import type { Segment } from "./router.ts";
 * const book: Segment[] = [{ kind: "static", value: "book" }, { kind: "param", name: "name" }];
 * ```
 */
export type Segment =
  | { kind: "static"; value: string }
  | { kind: "param"; name: string }
  | { kind: "rest"; name: string };

/**
 * A route ready for matching.
 *
 * @example
 * ```ts
 * import { createRouter, type CompiledRoute } from "./router.ts";
 * const routes: readonly CompiledRoute[] = createRouter({ "./routes/about.tsx": {} }).routes;
 * const patterns = routes.map((r) => r.pattern); // ["/about"]
 * ```
 */
export interface CompiledRoute {
  /** Snapshot key, e.g. `./routes/book/[name].tsx`. */
  file: string;
  /** Pattern text, e.g. `/book/:name`. */
  pattern: string;
  /** The pattern's segments. */
  segments: Segment[];
  /** The route module. */
  module: RouteModule;
}

/**
 * The special (non-route) modules found in `routes/`.
 *
 * @example
 * ```ts
 * import { createRouter } from "./router.ts";
 * const { special } = createRouter({ "./routes/_app.tsx": { default: () => null } });
 * const hasWrapper = special.app !== undefined; // true
 * ```
 */
export interface SpecialRoutes {
  /** `_app`: the app wrapper. */
  app?: RouteModule;
  /** `_404`: the not-found page. */
  notFound?: RouteModule;
  /** `_error` or `_500`: the error page. */
  error?: RouteModule;
}

/**
 * Result of {@linkcode Router.match}.
 *
 * @example
 * ```ts
 * import { createRouter, type RouteMatch } from "./router.ts";
 * const match: RouteMatch | null = createRouter({ "./routes/[id].ts": {} }).match("/7");
 * const id = match?.params.id; // "7"
 * ```
 */
export interface RouteMatch {
  /** The route that matched. */
  route: CompiledRoute;
  /** Its dynamic segments, decoded. */
  params: Record<string, string>;
}

/**
 * Matches URL paths against compiled routes.
 *
 * @example
 * ```ts
 * import { createRouter, type Router } from "./router.ts";
 * const router: Router = createRouter({ "./routes/index.tsx": {} });
 * const home = router.match("/")?.route.file; // "./routes/index.tsx"
 * ```
 */
export interface Router {
  /** Routes in priority order. */
  readonly routes: readonly CompiledRoute[];
  /** `_app`, `_404`, `_error`/`_500` modules, if present. */
  readonly special: SpecialRoutes;
  /**
   * Find the route for a URL path (as in `URL.pathname`, percent-encoded).
   * Returns `null` when nothing matches. Throws `URIError` when a dynamic
   * segment has malformed percent-encoding.
   */
  match(pathname: string): RouteMatch | null;
}

const EXT = /\.(tsx|ts|jsx|js|mts|mjs)$/;
const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * Turn a route file key into its segments, or `null` for non-route files
 * (`_`-prefixed). Throws on names that are neither static nor `[name]` /
 * `[...name]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRouteFile } from "./router.ts";
 * assert.deepEqual(parseRouteFile("./routes/book/[name].tsx"), [
 *   { kind: "static", value: "book" },
 *   { kind: "param", name: "name" },
 * ]);
 * ```
 *
 * @param file Snapshot key, `./routes/...` with a module extension.
 */
export function parseRouteFile(file: string): Segment[] | null {
  if (!file.startsWith("./routes/") || !EXT.test(file)) {
    throw new Error(
      `Invalid route file "${file}": expected "./routes/<path>.(ts|tsx|js|jsx)"`,
    );
  }
  const parts = file.slice("./routes/".length).replace(EXT, "").split("/");
  if (parts.some((p) => p.startsWith("_"))) return null;
  if (parts[parts.length - 1] === "index") parts.pop();
  const segments: Segment[] = [];
  const names = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.startsWith("(") && part.endsWith(")")) continue;
    if (part.startsWith("[")) {
      const rest = part.startsWith("[...");
      const name = part.slice(rest ? 4 : 1, -1);
      if (!part.endsWith("]") || !IDENT.test(name)) {
        throw new Error(
          `Invalid route segment "${part}" in "${file}": expected [name] or [...name] ` +
            `with an identifier name`,
        );
      }
      if (names.has(name)) {
        throw new Error(`Duplicate route parameter "${name}" in "${file}"`);
      }
      if (rest && i !== parts.length - 1) {
        throw new Error(`Rest segment "${part}" in "${file}" must be the last segment`);
      }
      names.add(name);
      segments.push(rest ? { kind: "rest", name } : { kind: "param", name });
    } else if (part.includes("[") || part.includes("]")) {
      throw new Error(
        `Invalid route segment "${part}" in "${file}": brackets must enclose the whole segment`,
      );
    } else {
      segments.push({ kind: "static", value: part });
    }
  }
  return segments;
}

/** Pattern text for segments, e.g. `/book/:name`. */
function patternOf(segments: Segment[]): string {
  if (segments.length === 0) return "/";
  return segments.map((s) =>
    s.kind === "static" ? `/${s.value}` : s.kind === "param" ? `/:${s.name}` : `/:${s.name}*`
  ).join("");
}

const RANK = { static: 0, param: 1, rest: 2 } as const;

function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = RANK[a.segments[i].kind] - RANK[b.segments[i].kind];
    if (d !== 0) return d;
  }
  // Longer before shorter, so `/a/:x*` (which also matches `/a`) comes after `/a`.
  const lenDiff = b.segments.length - a.segments.length;
  if (lenDiff !== 0) {
    const longer = a.segments.length > b.segments.length ? a : b;
    const isRest = longer.segments[longer.segments.length - 1].kind === "rest";
    return isRest ? -lenDiff : lenDiff;
  }
  return a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0;
}

/**
 * Compile the snapshot's route modules into a {@linkcode Router}. Throws when
 * two files produce the same pattern.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRouter } from "./router.ts";
 * const router = createRouter({
 *   "./routes/index.tsx": {},
 *   "./routes/book/[name].tsx": {},
 * });
 * assert.deepEqual(router.match("/book/btcusdt")?.params, { name: "btcusdt" });
 * assert.equal(router.match("/nope"), null);
 * ```
 *
 * @param routes The snapshot's `routes` (file key → module).
 */
export function createRouter(routes: Record<string, RouteModule>): Router {
  const compiled: CompiledRoute[] = [];
  const special: SpecialRoutes = {};
  const byPattern = new Map<string, string>();
  for (const [file, module] of Object.entries(routes)) {
    const segments = parseRouteFile(file);
    if (segments === null) {
      const base = file.replace(EXT, "");
      if (base === "./routes/_app") special.app = module;
      else if (base === "./routes/_404") special.notFound = module;
      else if (base === "./routes/_error" || base === "./routes/_500") {
        if (special.error) {
          throw new Error(`Both routes/_error and routes/_500 exist: expected one error page`);
        }
        special.error = module;
      }
      continue;
    }
    const pattern = patternOf(segments);
    // Parameter names do not matter for a conflict: `[a].tsx` and `[b].tsx` clash.
    const shape = segments.map((s) => s.kind === "static" ? `/${s.value}` : `/\0${s.kind}`)
      .join("");
    const other = byPattern.get(shape);
    if (other !== undefined) {
      throw new Error(`Route conflict: "${file}" and "${other}" both map to "${pattern}"`);
    }
    byPattern.set(shape, file);
    compiled.push({ file, pattern, segments, module });
  }
  compiled.sort(compareRoutes);
  const exact = new Map<string, CompiledRoute>();
  const dynamic: CompiledRoute[] = [];
  for (const r of compiled) {
    if (r.segments.every((s) => s.kind === "static")) exact.set(r.pattern, r);
    else dynamic.push(r);
  }
  const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

  function match(pathname: string): RouteMatch | null {
    const path = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
    const hit = exact.get(path);
    if (hit) return { route: hit, params: NO_PARAMS };
    if (dynamic.length === 0) return null;
    const parts = path === "/" ? [] : path.slice(1).split("/");
    for (const route of dynamic) {
      const params = matchSegments(route.segments, parts);
      if (params) return { route, params };
    }
    return null;
  }

  return { routes: compiled, special, match };
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg.kind === "rest") {
      params[seg.name] = parts.slice(i).map(decodeURIComponent).join("/");
      return params;
    }
    if (i >= parts.length) return null;
    if (seg.kind === "static") {
      if (parts[i] !== seg.value) return null;
    } else {
      if (parts[i] === "") return null;
      params[seg.name] = decodeURIComponent(parts[i]);
    }
  }
  return parts.length === segments.length ? params : null;
}
