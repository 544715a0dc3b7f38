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

/**
 * Removes comments (JSDoc examples are written relative to their own module
 * and checked by `deno check --doc-only`) and template literals (source text a
 * test generates for another folder).
 */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1")
    .replace(/`(?:\\.|[^`\\])*`/g, "``");
}

/** Where `spec`, written in the file `from`, points, or an error text when it leaves the repository. */
function locate(from: string, spec: string): { path: string } | { outside: string } {
  const url = new URL(spec.split("#")[0], new URL(from, REPO_ROOT));
  if (!url.pathname.startsWith(REPO_ROOT.pathname)) {
    return { outside: `${from} names ${spec}, outside the repository` };
  }
  return { path: url.pathname.slice(REPO_ROOT.pathname.length) };
}

/** `path:line` of every line of `files` that `pattern` matches. */
function lines(files: ReadonlyMap<string, string>, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const [path, text] of files) {
    text.split("\n").forEach((line, i) => {
      if (pattern.test(line)) out.push(`${path}:${i + 1}`);
    });
  }
  return out;
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
});

Deno.test("self-contained: nothing sends the reader to the old shared folder or design notes", async () => {
  const files = await readRepoFiles(/\.(tsx?|md|ya?ml|json|proto)$/);
  files.delete("tests/self_contained_test.ts"); // it spells the names it looks for
  assert.ok(files.size > 150, `expected the whole repository, read ${files.size} files`);
  // The recorded data's SOURCES.md names source paths in other public repositories.
  const own = new Map([...files].filter(([p]) => !/^tests\/testdata\/.*SOURCES\.md$/.test(p)));
  assert.deepEqual(
    lines(own, /\.\.\/shared\b|\bshared\/(data|DESIGN)/),
    [],
    "paths to the old shared folder beside the repository",
  );
  assert.deepEqual(lines(files, /DESIGN\.md|\bDESIGN §/), [], "the old design notes");
});

Deno.test("self-contained: every docs/design.md §N citation names an existing section", async () => {
  const files = await readRepoFiles(/\.(tsx?|md|ya?ml|json|proto)$/);
  const design = files.get("docs/design.md");
  assert.ok(design, "docs/design.md exists");
  const sections = new Set([...design.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]));
  // Numbered 1, 2, 3, … without a gap (at least the eight of the first edition).
  assert.ok(sections.size >= 8, `expected at least 8 sections, found ${sections.size}`);
  assert.deepEqual([...sections], [...sections].map((_, i) => String(i + 1)));
  const cited: string[] = [];
  for (const [path, text] of files) {
    for (const m of text.matchAll(/docs\/design\.md`? §(\d+)(?: and §(\d+))?/g)) {
      for (const n of [m[1], m[2]]) {
        if (n === undefined) continue;
        cited.push(n);
        assert.ok(sections.has(n), `${path} cites docs/design.md §${n}, which does not exist`);
      }
    }
  }
  assert.ok(cited.length >= 10, `expected the code's citations, found ${cited.length}`);
});

Deno.test("self-contained: the checker sees a path that leaves the repository", async () => {
  const files = new Map([[
    "tests/x_test.ts",
    'const d = new URL("../../elsewhere/data/", import.meta.url);',
  ]]);
  const { broken } = await brokenPaths(files, CODE_PATH, false);
  assert.deepEqual(broken, ["tests/x_test.ts names ../../elsewhere/data/, outside the repository"]);
});
