import assert from "node:assert/strict";
import { Builder, relativeSpecifier, serverSource, snapshotSource } from "../lib/web/builder.ts";
import { scanApp } from "../lib/web/fs_crawl.ts";
import { loadSnapshot } from "../lib/web/snapshot.ts";

const fixture = new URL("./fixtures/web_app/", import.meta.url);
const rootConfig = new URL("../deno.json", import.meta.url);

/** The repo's deno.json without its excludes (test_artifacts/ and _fresh/ are excluded there). */
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

/** A copy of the fixture app at the fixture's depth below the repo root (its imports resolve). */
async function withAppCopy(fn: (dir: URL, config: string) => Promise<void>): Promise<void> {
  const dir = new URL(`../test_artifacts/web_builder/${crypto.randomUUID()}/`, import.meta.url);
  try {
    await copyDir(fixture, dir);
    await fn(dir, await writeConfig(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(new URL("../", dir)).catch(() => {}); // only if empty
  }
}

/** A server entry for the copy: serves one request (the first argument) with the snapshot. */
const MAIN = `import { App, staticFiles } from "../../../lib/web/mod.ts";
import { applySnapshot } from "../../../lib/web/app.ts";
import type { Snapshot } from "../../../lib/web/snapshot.ts";
import type { State } from "./utils.ts";

export async function main(args: string[], options: { snapshot: Snapshot }) {
  const app = new App<State>()
    .use((ctx) => {
      ctx.state.history = new Map();
      return ctx.next();
    })
    .use(staticFiles())
    .fsRoutes();
  applySnapshot(app, options.snapshot);
  const res = await app.handler()(new Request("http://localhost" + args[0]));
  console.log(res.status, Object.keys(options.snapshot.routes).length, await res.text());
}
`;

Deno.test("snapshot: every route and island is found and imported; tests, declarations and dot-files are not", async () => {
  await withAppCopy(async (dir) => {
    await Deno.mkdir(new URL("routes/extra/", dir), { recursive: true });
    await Deno.writeTextFile(
      new URL("routes/extra/[id].tsx", dir),
      `import { define } from "../../utils.ts";\n\n` +
        "export default define.page(({ params }) => <p>{params.id}</p>);\n",
    );
    await Deno.writeTextFile(new URL("routes/extra/skip_test.ts", dir), "export {};\n");
    await Deno.writeTextFile(new URL("routes/extra/types.d.ts", dir), "export {};\n");
    await Deno.writeTextFile(new URL("routes/.hidden.ts", dir), "export {};\n");
    const snapshot = await loadSnapshot(dir);
    assert.equal(snapshot.root, dir.href);
    assert.deepEqual(Object.keys(snapshot.islands), [
      "./islands/counter.tsx",
      "./islands/props_view.tsx",
    ]);
    const routes = Object.keys(snapshot.routes);
    assert.ok(routes.includes("./routes/extra/[id].tsx"));
    assert.ok(routes.includes("./routes/book/[name].tsx"));
    assert.ok(!routes.some((f) => /skip_test|hidden|\.d\.ts/.test(f)), routes.join(", "));
    assert.equal(typeof snapshot.routes["./routes/extra/[id].tsx"].default, "function");
  });
});

Deno.test("build: _fresh/ gets a snapshot with static imports and a server entry; both type-check and run", async () => {
  await withAppCopy(async (dir, config) => {
    await Deno.writeTextFile(new URL("main.ts", dir), MAIN);
    await Deno.mkdir(new URL("routes/extra/", dir), { recursive: true });
    await Deno.writeTextFile(
      new URL("routes/extra/[id].tsx", dir),
      `import { define } from "../../utils.ts";\n\n` +
        "export default define.page(({ params }) => <p>{params.id}</p>);\n",
    );
    const built = await new Builder({ root: dir }).build();
    assert.equal(built.snapshotFile.href, new URL("_fresh/snapshot.ts", dir).href);
    assert.ok(built.files.routes.includes("./routes/extra/[id].tsx"));
    assert.deepEqual(built.client?.islands, ["counter:default", "props_view:PropsView"]);
    const source = await Deno.readTextFile(built.snapshotFile);
    assert.match(source, /import \* as \$\d+ from "\.\.\/routes\/extra\/\[id\]\.tsx";/);
    assert.match(source, /"\.\/routes\/extra\/\[id\]\.tsx": \$\d+,/);
    assert.ok(!/import\(/.test(source), "only static imports, which deno compile follows");
    const files = [built.snapshotFile.pathname, built.serverFile.pathname];
    const fmt = await deno("fmt", "--check", "--config", config, ...files);
    assert.ok(fmt.ok, fmt.out);
    const check = await deno("check", "--config", config, ...files);
    assert.ok(check.ok, check.out);
    // The production entry serves from the static snapshot: a dynamic route, and an island
    // page whose boot script is the bundle the build just made.
    let run = await deno("run", "-A", "--config", config, files[1], "/extra/42");
    assert.ok(run.ok, run.out);
    assert.match(run.out, new RegExp(`^200 ${built.files.routes.length} <!DOCTYPE html>`));
    assert.match(run.out, /<p>42<\/p>/);
    run = await deno("run", "-A", "--config", config, files[1], "/counter?start=2");
    assert.ok(run.ok, run.out);
    assert.ok(run.out.includes(`<script type="module" src="/build/${built.client?.boot}">`));
  });
});

Deno.test("build: source text for an empty app, the server entry and relative specifiers", async () => {
  const root = new URL("file:///r/tests/fixtures/app/");
  const src = snapshotSource({ routes: [], islands: [] }, {
    root,
    outFile: new URL("_fresh/snapshot.ts", root),
  });
  assert.match(src, /routes: \{\},\n {2}islands: \{\},/);
  assert.match(src, /root: new URL\("\.\.\/", import\.meta\.url\)\.href,/);
  const server = serverSource({
    serverEntry: new URL("main.ts", root),
    outFile: new URL("_fresh/server.ts", root),
  });
  assert.match(
    server,
    /import { main } from "\.\.\/main\.ts";\nimport snapshot from "\.\/snapshot\.ts";/,
  );
  assert.match(server, /await main\(Deno\.args, { snapshot }\);/);
  assert.equal(
    relativeSpecifier(
      new URL("file:///r/tests/fixtures/app/m.ts"),
      new URL("file:///r/lib/web/snapshot.ts"),
    ),
    "../../../lib/web/snapshot.ts",
  );
  assert.equal(
    relativeSpecifier(new URL("file:///r/m.ts"), new URL("file:///r/lib/web/snapshot.ts")),
    "./lib/web/snapshot.ts",
  );
  const none = await scanApp(new URL("file:///nonexistent-dir-for-test/"));
  assert.deepEqual(none, { routes: [], islands: [] });
});
