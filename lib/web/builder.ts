/**
 * The production build (`deno task build`, i.e. `deno run -A dev.ts build`),
 * shaped like Fresh 2's `Builder`: it writes into `_fresh/` (git-ignored)
 *
 * - `snapshot.ts`: imports every route and island statically and exports
 *   the {@linkcode Snapshot}, so `deno compile` embeds them all;
 * - `server.ts`: the production entry (`deno task start`, `deno task
 *   compile`): `await main(Deno.args, { snapshot })` of the app's server
 *   entry (`main.ts`), which must export that `main`;
 *
 * bundles the islands into the client build folder (`static/build/`), and
 * precompresses the static folder's compressible files (`.br` and `.gz`
 * siblings, see `precompress.ts`; the boot script's are written by the
 * bundle step).
 *
 * Development and tests need no build of routes: `loadSnapshot()` finds and
 * imports them at start; {@linkcode Builder.bundle} builds only the client.
 *
 * @module
 */
import { buildClient, type BuildInfo } from "./bundle.ts";
import { type AppFiles, scanApp, toDirUrl } from "./fs_crawl.ts";
import { collectIslands } from "./islands.ts";
import { loadSnapshot, type Snapshot } from "./snapshot.ts";
import { precompressFolder, type PrecompressResult } from "./precompress.ts";

/**
 * Options of {@linkcode Builder}.
 *
 * @example
 * ```ts
 * import { Builder, type BuilderOptions } from "./builder.ts";
 * const options: BuilderOptions = { root: new URL("file:///app/"), serverEntry: "server_main.ts" };
 * const builder = new Builder(options);
 * ```
 */
export interface BuilderOptions {
  /** The app folder (holding `routes/`, `islands/`, `static/`). Default: the working directory. */
  root?: URL | string;
  /** Where the generated modules go. Default `_fresh/` in the app folder. */
  outDir?: URL;
  /** The client build folder. Default `static/build/` in the app folder. */
  buildDir?: URL;
  /** The static folder, precompressed by {@linkcode Builder.build}. Default `static/` in the app folder. */
  staticDir?: URL;
  /** The server entry, relative to the app folder. Default `main.ts`. */
  serverEntry?: string;
}

/**
 * What {@linkcode Builder.build} made.
 *
 * @example
 * ```ts
 * import type { BuildResult } from "./builder.ts";
 * const summary = (r: BuildResult) =>
 *   `${r.files.routes.length} routes, ${r.client?.boot ?? "no JS"}, ${r.precompressed.length} compressed`;
 * ```
 */
export interface BuildResult {
  /** The route and island files found. */
  files: AppFiles;
  /** The generated `snapshot.ts`. */
  snapshotFile: URL;
  /** The generated `server.ts`. */
  serverFile: URL;
  /** The client bundle, or `null` when the app has no islands (its pages ship no JS). */
  client: BuildInfo | null;
  /** The static folder's compressible files and their compressed sizes. */
  precompressed: PrecompressResult[];
}

/**
 * Builds an app for production.
 *
 * @example
 * ```ts ignore
 * import { Builder } from "./builder.ts";
 * const builder = new Builder({ root: new URL("../../", import.meta.url) });
 * const { files, client } = await builder.build();
 * console.log(files.routes.length, client?.boot);
 * ```
 */
export class Builder {
  /** The app folder, ending in `/`. */
  readonly root: URL;
  /** Where `snapshot.ts` and `server.ts` go, ending in `/`. */
  readonly outDir: URL;
  /** The client build folder, ending in `/`. */
  readonly buildDir: URL;
  /** The static folder, ending in `/`. */
  readonly staticDir: URL;
  /** The server entry module. */
  readonly serverEntry: URL;

  /** @param options See {@linkcode BuilderOptions}. */
  constructor(options: BuilderOptions = {}) {
    this.root = toDirUrl(options.root ?? Deno.cwd());
    this.outDir = toDirUrl(options.outDir ?? new URL("_fresh/", this.root));
    this.buildDir = toDirUrl(options.buildDir ?? new URL("static/build/", this.root));
    this.staticDir = toDirUrl(options.staticDir ?? new URL("static/", this.root));
    this.serverEntry = new URL(options.serverEntry ?? "main.ts", this.root);
  }

  /**
   * Bundle the islands of `snapshot` into the build folder (needs the deno
   * CLI). Resolves to `null`, building nothing, when there are no islands.
   *
   * @example
   * ```ts ignore
   * const builder = new Builder({ root });
   * await builder.bundle(await loadSnapshot(root));
   * ```
   *
   * @param snapshot The app's modules (from `loadSnapshot`).
   */
  async bundle(snapshot: Snapshot): Promise<BuildInfo | null> {
    const islands = collectIslands(snapshot.islands);
    if (islands.length === 0) return null;
    return await buildClient({ islands, appDir: this.root, buildDir: this.buildDir });
  }

  /**
   * The production build: write `snapshot.ts` and `server.ts` into the out
   * folder, bundle the client and precompress the static folder (the build
   * folder inside it excluded: the bundle step did it).
   *
   * @example
   * ```ts ignore
   * const { client } = await new Builder().build();
   * ```
   */
  async build(): Promise<BuildResult> {
    const files = await scanApp(this.root);
    await Deno.mkdir(this.outDir, { recursive: true });
    const snapshotFile = new URL("snapshot.ts", this.outDir);
    const serverFile = new URL("server.ts", this.outDir);
    await writeAtomically(
      snapshotFile,
      snapshotSource(files, { root: this.root, outFile: snapshotFile }),
    );
    await writeAtomically(
      serverFile,
      serverSource({ serverEntry: this.serverEntry, outFile: serverFile }),
    );
    const client = await this.bundle(await loadSnapshot(this.root));
    const precompressed = await precompressFolder(this.staticDir, { exclude: [this.buildDir] });
    return { files, snapshotFile, serverFile, client, precompressed };
  }
}

/**
 * Where {@linkcode snapshotSource} writes to and what it points at.
 *
 * @example
 * ```ts
 * import type { SnapshotSourceOptions } from "./builder.ts";
 * const options: SnapshotSourceOptions = {
 *   root: new URL("file:///app/"),
 *   outFile: new URL("file:///app/_fresh/snapshot.ts"),
 * };
 * ```
 */
export interface SnapshotSourceOptions {
  /** The app folder (the snapshot's `root`). */
  root: URL;
  /** The file the source will be written to (imports are relative to it). */
  outFile: URL;
}

const HEADER = [
  "// Generated by `deno task build` (lib/web/builder.ts). Do not edit and do not",
  "// commit: every build rewrites it (_fresh/ is git-ignored).",
];

/**
 * The text of `snapshot.ts`: static imports of every route and island, and
 * the snapshot object. Formatted as `deno fmt` would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { snapshotSource } from "./builder.ts";
 * const src = snapshotSource(
 *   { routes: ["./routes/index.tsx"], islands: [] },
 *   { root: new URL("file:///app/"), outFile: new URL("file:///app/_fresh/snapshot.ts") },
 * );
 * assert.ok(src.includes('import * as $0 from "../routes/index.tsx";'));
 * ```
 *
 * @param files The app's files (from `scanApp`).
 * @param options See {@linkcode SnapshotSourceOptions}.
 */
export function snapshotSource(files: AppFiles, options: SnapshotSourceOptions): string {
  const q = (s: string) => JSON.stringify(s);
  const spec = (key: string) => relativeSpecifier(options.outFile, new URL(key, options.root));
  const types = relativeSpecifier(options.outFile, new URL("./snapshot.ts", import.meta.url));
  const lines = [...HEADER, "", `import type { Snapshot } from ${q(types)};`];
  files.routes.forEach((f, i) => lines.push(`import * as $${i} from ${q(spec(f))};`));
  files.islands.forEach((f, i) => lines.push(`import * as $$${i} from ${q(spec(f))};`));
  const root = relativeSpecifier(options.outFile, options.root);
  lines.push(
    "",
    "const snapshot: Snapshot = {",
    `  root: new URL(${q(root)}, import.meta.url).href,`,
  );
  const object = (name: string, keys: string[], prefix: string) => {
    if (keys.length === 0) return void lines.push(`  ${name}: {},`);
    lines.push(`  ${name}: {`);
    keys.forEach((f, i) => lines.push(`    ${q(f)}: ${prefix}${i},`));
    lines.push("  },");
  };
  object("routes", files.routes, "$");
  object("islands", files.islands, "$$");
  lines.push("};", "", "export default snapshot;", "");
  return lines.join("\n");
}

/**
 * What {@linkcode serverSource} points at.
 *
 * @example
 * ```ts
 * import type { ServerSourceOptions } from "./builder.ts";
 * const options: ServerSourceOptions = {
 *   serverEntry: new URL("file:///app/main.ts"),
 *   outFile: new URL("file:///app/_fresh/server.ts"),
 * };
 * ```
 */
export interface ServerSourceOptions {
  /** The server entry module (exports `main(args, { snapshot })`). */
  serverEntry: URL;
  /** The file the source will be written to, next to `snapshot.ts`. */
  outFile: URL;
}

/**
 * The text of `server.ts`: run the server entry's `main` with the static snapshot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverSource } from "./builder.ts";
 * const src = serverSource({
 *   serverEntry: new URL("file:///app/main.ts"),
 *   outFile: new URL("file:///app/_fresh/server.ts"),
 * });
 * assert.ok(src.includes('import { main } from "../main.ts";'));
 * ```
 *
 * @param options See {@linkcode ServerSourceOptions}.
 */
export function serverSource(options: ServerSourceOptions): string {
  const entry = JSON.stringify(relativeSpecifier(options.outFile, options.serverEntry));
  return [
    ...HEADER,
    "// The production entry: `deno task start`, `deno task compile`.",
    "",
    `import { main } from ${entry};`,
    `import snapshot from "./snapshot.ts";`,
    "",
    "await main(Deno.args, { snapshot });",
    "",
  ].join("\n");
}

/**
 * Relative import specifier from the module at `from` to `to` (a file, or a
 * folder when it ends in `/`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relativeSpecifier } from "./builder.ts";
 * assert.equal(
 *   relativeSpecifier(new URL("file:///a/b/m.ts"), new URL("file:///a/lib/t.ts")),
 *   "../lib/t.ts",
 * );
 * ```
 */
export function relativeSpecifier(from: URL, to: URL): string {
  const a = from.pathname.split("/").slice(0, -1);
  const b = to.pathname.split("/");
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.length - i;
  const rest = b.slice(i).join("/");
  return up === 0 ? `./${rest}` : `${"../".repeat(up)}${rest}`;
}

async function writeAtomically(path: URL, text: string): Promise<void> {
  const tmp = new URL(`${path.pathname.split("/").pop()}.${crypto.randomUUID()}.tmp`, path);
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
}
