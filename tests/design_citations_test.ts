/**
 * The repository stands alone: no file sends the reader to a path outside it
 * (the former `../shared/` folder), and every "docs/design.md §N" citation
 * names a section that exists there.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const SKIP_DIRS = new Set([".git", "node_modules", "dist", "gen", "build", "test_artifacts"]);
const TEXT = /\.(tsx?|md|ya?ml|json|proto)$/;

async function textFiles(dir: string, out: Map<string, string>): Promise<void> {
  for await (const entry of Deno.readDir(new URL(dir || "./", ROOT))) {
    const path = dir + entry.name;
    if (entry.isDirectory) {
      if (!SKIP_DIRS.has(entry.name)) await textFiles(path + "/", out);
    } else if (TEXT.test(entry.name)) {
      out.set(path, await Deno.readTextFile(new URL(path, ROOT)));
    }
  }
}

/** `path:line` of every line of `files` that `pattern` matches. */
function hits(files: ReadonlyMap<string, string>, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const [path, text] of files) {
    text.split("\n").forEach((line, i) => {
      if (pattern.test(line)) out.push(`${path}:${i + 1}`);
    });
  }
  return out;
}

const files = new Map<string, string>();
await textFiles("", files);
const self = "tests/design_citations_test.ts";
files.delete(self); // it spells the forbidden names to look for them

Deno.test("design citations: nothing points outside the repository", () => {
  assert.ok(files.size > 150, `expected the whole repository, read ${files.size} files`);
  // The recorded data's SOURCES.md names source paths in other public repositories.
  const own = new Map([...files].filter(([p]) => !/^tests\/testdata\/.*SOURCES\.md$/.test(p)));
  assert.deepEqual(hits(own, /\.\.\/shared\b|\bshared\/(data|DESIGN)/), [], "../shared paths");
  assert.deepEqual(hits(files, /DESIGN\.md|\bDESIGN §/), [], "the old design notes");
});

Deno.test("design citations: every docs/design.md §N names an existing section", () => {
  const design = files.get("docs/design.md");
  assert.ok(design, "docs/design.md exists");
  const sections = new Set([...design.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]));
  assert.deepEqual([...sections], ["1", "2", "3", "4", "5", "6", "7", "8"]);
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
