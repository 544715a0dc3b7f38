/**
 * Island discovery: which components are islands, and under which name.
 *
 * Every function exported from a file in `islands/` is an island. The server
 * recognises islands by component identity (the function object), so an
 * island imported by a page under any local name is still found. The name is
 * the file path under `islands/` without extension plus the export name,
 * e.g. `counter:default` or `charts/depth:DepthChart`; the browser bundle
 * uses the same names to look the component up again.
 *
 * @module
 */
import type { ComponentType } from "preact";
import type { IslandModule } from "./snapshot.ts";

/**
 * One island component.
 *
 * @example
 * ```ts
 * import type { IslandInfo } from "./islands.ts";
 * function Counter() {
 *   return null;
 * }
 * const island: IslandInfo = {
 *   name: "counter:default",
 *   file: "./islands/counter.tsx",
 *   exportName: "default",
 *   component: Counter,
 * };
 * ```
 */
export interface IslandInfo {
  /** Stable name, `<path under islands/ without extension>:<export>`. */
  name: string;
  /** Key of the file in the snapshot, e.g. `./islands/counter.tsx`. */
  file: string;
  /** The export name (`default` for the default export). */
  exportName: string;
  /** The component itself (the server recognises islands by identity). */
  // deno-lint-ignore no-explicit-any
  component: ComponentType<any>;
}

/**
 * List the islands of a snapshot's island modules, in key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { collectIslands } from "./islands.ts";
 * function Counter() { return null; }
 * const islands = collectIslands({ "./islands/counter.tsx": { default: Counter, VERSION: 1 } });
 * assert.deepEqual(islands.map((i) => i.name), ["counter:default"]);
 * ```
 *
 * @param modules Island modules by key (`./islands/...`), as in a snapshot.
 */
export function collectIslands(modules: Record<string, IslandModule>): IslandInfo[] {
  const out: IslandInfo[] = [];
  for (const [file, module] of Object.entries(modules)) {
    const m = /^\.\/islands\/(.+)\.(tsx|ts|jsx|js|mts|mjs)$/.exec(file);
    if (!m) {
      throw new Error(
        `Invalid island file "${file}": expected "./islands/<path>.(ts|tsx|js|jsx)"`,
      );
    }
    for (const [exportName, value] of Object.entries(module)) {
      if (typeof value !== "function") continue;
      out.push({
        name: `${m[1]}:${exportName}`,
        file,
        exportName,
        // deno-lint-ignore no-explicit-any
        component: value as ComponentType<any>,
      });
    }
  }
  return out;
}

// deno-lint-ignore no-explicit-any
const registry = new Map<ComponentType<any>, IslandInfo>();

/**
 * Make the server renderer treat these components as islands. Registering the
 * same component again under the same name is a no-op; under another name it
 * is an error (the browser could not find it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { islandOf, registerIslands } from "./islands.ts";
 * function Clock() { return null; }
 * registerIslands([{ name: "clock:default", file: "./islands/clock.tsx", exportName: "default", component: Clock }]);
 * assert.equal(islandOf(Clock)?.name, "clock:default");
 * ```
 *
 * @param islands Islands from {@linkcode collectIslands}.
 */
export function registerIslands(islands: readonly IslandInfo[]): void {
  for (const island of islands) {
    const known = registry.get(island.component);
    if (known && known.name !== island.name) {
      throw new Error(
        `Component registered as island "${known.name}" and again as "${island.name}": ` +
          `expected each island component to be exported from one islands/ file`,
      );
    }
    registry.set(island.component, island);
  }
}

/**
 * The island a component is registered as, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { islandOf } from "./islands.ts";
 * assert.equal(islandOf(() => null), undefined);
 * ```
 */
export function islandOf(component: unknown): IslandInfo | undefined {
  // deno-lint-ignore no-explicit-any
  return registry.get(component as ComponentType<any>);
}
