/**
 * A clone of depthwatch has nothing beside it: no code, test, benchmark or
 * document may reach outside the repository. Every relative import and every
 * `new URL("…", import.meta.url)` must stay inside the repository (whether
 * the file exists is checked by `deno check` for imports and by the tests that
 * read data), and every relative link in the Markdown documents must point at
 * a file that exists in the repository.
 */
import assert from "node:assert/strict";
import { readRepoFiles, REPO_ROOT } from "./fixtures/repo_files.ts";

/** Relative paths a module names: imports, dynamic imports and `new URL(…, import.meta.url)`. */
const CODE_PATH =
  /(?:\bfrom|\bimport|\bimport\s*\(|\bnew URL\()\s*\(?\s*["'](\.\.?\/[^"'$`]*)["']/g;
/** Relative targets of Markdown links and images: `[text](path)`, without a scheme or anchor-only. */
const MD_LINK = /\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s]+)\)/gi;

/** The checkers' own tests, whose synthetic sources name paths on purpose. */
const CHECKER_TESTS = new Set(["tests/layering_test.ts", "tests/self_contained_test.ts"]);

/** Removes comments: JSDoc examples are written relative to their own module and checked by `deno check --doc-only`. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** Where `spec`, written in the file `from`, points, or an error text when it leaves the repository. */
function locate(from: string, spec: string): { path: string } | { outside: string } {
  const url = new URL(spec.split("#")[0], new URL(from, REPO_ROOT));
  if (!url.pathname.startsWith(REPO_ROOT.pathname)) {
    return { outside: `${from} names ${spec}, outside the repository` };
  }
  return { path: url.pathname.slice(REPO_ROOT.pathname.length) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(new URL(path, REPO_ROOT));
    return true;
  } catch {
    return false;
  }
}

/** Paths named by `files` that leave the repository or do not exist, as messages. */
async function brokenPaths(
  files: ReadonlyMap<string, string>,
  pattern: RegExp,
  mustExist: boolean,
): Promise<{ named: number; broken: string[] }> {
  let named = 0;
  const broken: string[] = [];
  for (const [from, text] of files) {
    for (const m of text.matchAll(pattern)) {
      named++;
      const where = locate(from, m[1]);
      if ("outside" in where) broken.push(where.outside);
      else if (mustExist && !await exists(where.path)) {
        broken.push(`${from} names ${m[1]}, which does not exist`);
      }
    }
  }
  return { named, broken };
}

Deno.test("self-contained: code reaches no file outside the repository", async () => {
  const files = new Map(
    [...await readRepoFiles(/\.tsx?$/)].filter(([path]) => !CHECKER_TESTS.has(path))
      .map(([path, text]) => [path, stripComments(text)]),
  );
  const { named, broken } = await brokenPaths(files, CODE_PATH, false);
  assert.ok(named > 300, `expected the repository's imports, found ${named}`);
  assert.deepEqual(broken, []);
});

Deno.test("self-contained: documents link only to files in the repository", async () => {
  const files = await readRepoFiles(/\.md$/);
  assert.ok(files.has("README.md"));
  const { broken } = await brokenPaths(files, MD_LINK, true);
  assert.deepEqual(broken, []);
  const mentions = [...files].filter(([path, text]) =>
    !path.endsWith("SOURCES.md") && /\.\.\/shared\b|shared\/DESIGN|shared\/data/.test(text)
  ).map(([path]) => path);
  assert.deepEqual(
    mentions,
    [],
    "documents that send the reader to a folder beside the repository",
  );
});

Deno.test("self-contained: the checker sees a path that leaves the repository", async () => {
  const files = new Map([[
    "tests/x_test.ts",
    'const d = new URL("../../shared/data/", import.meta.url);',
  ]]);
  const { broken } = await brokenPaths(files, CODE_PATH, false);
  assert.deepEqual(broken, ["tests/x_test.ts names ../../shared/data/, outside the repository"]);
});
