/**
 * The folders follow the data and imports run one way: what every stage shares
 * (`lib/pipeline/`, `proto/`) → the simulated exchange → ingest → analytics →
 * metrics and the web framework → server and browser client → islands and the
 * app's `utils.ts` (State, define) → routes → the app entry files → test
 * harness → tools → benchmarks → tests.
 *
 * This test reads every relative import (static, dynamic and worker URLs) of
 * every TypeScript file, maps each file to its folder's rank and fails on any
 * import that points at a folder of the same or a higher rank: a backwards
 * import or a folder cycle.
 */
import assert from "node:assert/strict";
import { readRepoFiles, REPO_ROOT as ROOT } from "./fixtures/repo_files.ts";

/** Folder → rank; an import may only point to a strictly lower rank. */
const RANKS: ReadonlyArray<readonly [prefix: string, rank: number]> = [
  ["proto/", 0],
  ["lib/pipeline/", 0],
  ["lib/sim/", 1],
  // The recording format (writer, reader): ingest records and replays through it.
  ["lib/record/", 1],
  ["lib/ingest/", 2],
  ["lib/analytics/", 3],
  ["lib/metrics/", 4],
  ["lib/web/", 4],
  ["lib/net/", 4],
  // Everything that speaks NATS (issue 16, docs/design.md §10): the server imports it.
  ["lib/bus/", 4],
  ["lib/server/", 5],
  ["lib/client/", 5],
  ["islands/", 6],
  // The app's State and define helpers (Fresh 2's root utils.ts): routes import it.
  ["utils.ts", 6],
  ["routes/", 7],
  ["testing/", 9],
  ["tools/", 10],
  ["bench/", 11],
  ["tests/", 12],
];
/** Files at the repository's top level (main.ts, dev.ts, …): the app entry. */
const TOP_LEVEL_RANK = 8;

/** Folder name and rank of a repository-relative path; undefined for unranked folders. */
function folderOf(path: string): { folder: string; rank: number } | undefined {
  for (const [prefix, rank] of RANKS) {
    if (path.startsWith(prefix)) return { folder: prefix, rank };
  }
  if (!path.includes("/")) return { folder: "./", rank: TOP_LEVEL_RANK };
  return undefined;
}

/** Removes comments (JSDoc examples are checked by `deno check --doc-only`, not here). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

const IMPORT = /(?:\bfrom|\bimport|\bimport\s*\(|\bnew URL\()\s*\(?\s*["'](\.\.?\/[^"']+)["']/g;

/** The relative specifiers a module imports (static, dynamic, `new URL(…, import.meta.url)`). */
function relativeImports(source: string): string[] {
  return [...stripComments(source).matchAll(IMPORT)].map((m) => m[1]);
}

/** Repository-relative path of `spec` imported from `from`. */
function resolve(from: string, spec: string): string {
  return new URL(spec, new URL(from, ROOT)).pathname.slice(ROOT.pathname.length);
}

/** One import that breaks the rule. */
interface Violation {
  from: string;
  to: string;
}

/** Imports among `files` (path → source) that point to the same or a higher folder rank. */
function violations(files: ReadonlyMap<string, string>): { edges: number; bad: Violation[] } {
  let edges = 0;
  const bad: Violation[] = [];
  for (const [from, source] of files) {
    const a = folderOf(from);
    if (!a) continue;
    for (const spec of relativeImports(source)) {
      const to = resolve(from, spec);
      if (!/\.(tsx?|js)$/.test(to)) continue; // a folder URL (e.g. the app root), not a module
      const b = folderOf(to);
      if (!b || a.folder === b.folder) continue;
      edges++;
      if (b.rank >= a.rank) bad.push({ from, to });
    }
  }
  return { edges, bad };
}

Deno.test("layering: the checker flags a backwards import and a folder cycle", () => {
  const files = new Map([
    ["lib/ingest/a.ts", 'import { x } from "../server/b.ts";'],
    [
      "lib/server/b.ts",
      'import { y } from "../ingest/a.ts";\n// import { z } from "../../routes/c.ts";',
    ],
    ["lib/pipeline/c.ts", 'const w = new URL("../analytics/w.ts", import.meta.url);'],
  ]);
  const { edges, bad } = violations(files);
  assert.equal(edges, 3, "the commented-out import is not an import");
  assert.deepEqual(bad, [
    { from: "lib/ingest/a.ts", to: "lib/server/b.ts" },
    { from: "lib/pipeline/c.ts", to: "lib/analytics/w.ts" },
  ]);
});

Deno.test("layering: imports run one way (shared → ingest → analytics → server → routes/islands)", async () => {
  const files = await readRepoFiles(/\.tsx?$/);
  assert.ok(files.size > 150, `expected the whole repository, read ${files.size} files`);
  const unranked = [...files.keys()].filter((p) => !folderOf(p));
  assert.deepEqual(unranked, [], "every folder with code has a rank in tests/layering_test.ts");
  const { edges, bad } = violations(files);
  assert.ok(edges > 200, `expected the repository's cross-folder imports, found ${edges}`);
  assert.deepEqual(
    bad.map((v) => `${v.from} → ${v.to}`),
    [],
    "backwards imports (a folder may import only folders listed before it in RANKS)",
  );
});
