import assert from "node:assert/strict";
import { manifestSource, relativeSpecifier, scanApp, writeManifest } from "../lib/web/manifest.ts";

const fixture = new URL("./fixtures/web_app/", import.meta.url);
const rootConfig = new URL("../deno.json", import.meta.url);

/** The repo's deno.json without its excludes (test_artifacts/ is excluded there). */
async function writeConfig(dir: URL): Promise<string> {
  const cfg = JSON.parse(await Deno.readTextFile(rootConfig));
  const out = {
    imports: cfg.imports,
    compilerOptions: cfg.compilerOptions,
    fmt: { lineWidth: cfg.fmt?.lineWidth },
    lock: false,
  };
  const path = new URL("deno.json", dir);
  await Deno.writeTextFile(path, JSON.stringify(out));
  return path.pathname;
}

async function copyDir(from: URL, to: URL): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(new URL(`${e.name}/`, from), new URL(`${e.name}/`, to));
    else await Deno.copyFile(new URL(e.name, from), new URL(e.name, to));
  }
}

async function deno(...args: string[]): Promise<{ ok: boolean; out: string }> {
  const res = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { ok: res.success, out: dec.decode(res.stdout) + dec.decode(res.stderr) };
}

Deno.test("manifest: the committed fixture manifest is up to date", async () => {
  const { changed, files } = await writeManifest(fixture);
  assert.equal(changed, false, "run: deno run -A lib/web/gen_manifest.ts tests/fixtures/web_app");
  assert.deepEqual(files.islands, ["./islands/counter.tsx", "./islands/props_view.tsx"]);
  assert.ok(files.routes.includes("./routes/book/[name].tsx"));
});

Deno.test("manifest: generated from a changed app, it type-checks, is formatted and resolves", async () => {
  // Same depth below the repo root as the fixture, so its relative imports resolve.
  const dir = new URL(`../test_artifacts/web_manifest/${crypto.randomUUID()}/`, import.meta.url);
  try {
    await copyDir(fixture, dir);
    const config = await writeConfig(dir);
    await Deno.remove(new URL("manifest.gen.ts", dir));
    await Deno.mkdir(new URL("routes/extra/", dir), { recursive: true });
    await Deno.writeTextFile(
      new URL("routes/extra/[id].tsx", dir),
      `import type { PageProps } from ${
        JSON.stringify(new URL("../lib/web/types.ts", import.meta.url).href)
      };\n` +
        "export default function Extra({ params }: PageProps) {\n  return <p>{params.id}</p>;\n}\n",
    );
    await Deno.writeTextFile(new URL("routes/extra/skip_test.ts", dir), "export {};\n");
    await Deno.writeTextFile(new URL("routes/.hidden.ts", dir), "export {};\n");
    const first = await writeManifest(dir);
    assert.equal(first.changed, true);
    assert.ok(first.files.routes.includes("./routes/extra/[id].tsx"));
    assert.ok(!first.files.routes.some((f) => f.includes("skip_test") || f.includes("hidden")));
    assert.equal((await writeManifest(dir)).changed, false, "same content is not rewritten");
    const path = new URL("manifest.gen.ts", dir).pathname;
    const source = await Deno.readTextFile(path);
    assert.match(source, /import \* as \$\d+ from "\.\/routes\/extra\/\[id\]\.tsx";/);
    assert.match(source, /"\.\/routes\/extra\/\[id\]\.tsx": \$\d+,/);
    assert.ok(!/import\(/.test(source), "only static imports");
    const fmt = await deno("fmt", "--check", "--config", config, path);
    assert.ok(fmt.ok, fmt.out);
    const check = await deno("check", "--config", config, path);
    assert.ok(check.ok, check.out);
    // Imports resolve at run time too, and the module has the routes.
    const run = await deno(
      "eval",
      "--config",
      config,
      `const m = (await import(${JSON.stringify(new URL("manifest.gen.ts", dir).href)})).default;` +
        `console.log(Object.keys(m.routes).length, Object.keys(m.islands).length)`,
    );
    assert.ok(run.ok, run.out);
    assert.equal(run.out.trim(), `${first.files.routes.length} 2`);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(new URL("../", dir)).catch(() => {}); // only if empty
  }
});

Deno.test("manifest: source text for an empty app and relative specifiers", async () => {
  const src = manifestSource({ routes: [], islands: [] });
  assert.match(src, /routes: \{\},\n {2}islands: \{\},/);
  assert.equal(
    relativeSpecifier(
      new URL("file:///r/tests/fixtures/app/m.ts"),
      new URL("file:///r/lib/web/types.ts"),
    ),
    "../../../lib/web/types.ts",
  );
  assert.equal(
    relativeSpecifier(new URL("file:///r/m.ts"), new URL("file:///r/lib/web/types.ts")),
    "./lib/web/types.ts",
  );
  const none = await scanApp(new URL("file:///nonexistent-dir-for-test/"));
  assert.deepEqual(none, { routes: [], islands: [] });
});
