/**
 * The client bundle: one minified ES module that imports every island and
 * boots the islands present on the page. Built with `deno bundle` (esbuild,
 * fetched from npm on first use) for the browser platform, with the app's
 * `deno.json` import map, so the browser gets the same single copy of
 * preact that the server renders with.
 *
 * Output, in `buildDir`: `boot-<16 hex of SHA-256>.js` (content-hashed, served
 * as immutable), its precompressed siblings `.js.br` and `.js.gz` (see
 * `precompress.ts`; written before `build.json` names the new boot file) and
 * `build.json` ({@linkcode BuildInfo}), which the server reads to find the
 * boot file. Building needs the `deno` CLI, so a
 * `deno compile` binary cannot build: build first, then embed `static/`.
 *
 * @module
 */
import type { IslandInfo } from "./islands.ts";
import { precompressFile } from "./precompress.ts";

/**
 * What a build produced; stored as `build.json` next to the boot file.
 *
 * @example
 * ```ts
 * import type { BuildInfo } from "./bundle.ts";
 * const info: BuildInfo = {
 *   boot: "boot-0123456789abcdef.js",
 *   hash: "0123456789abcdef",
 *   islands: ["Counter:default"],
 *   bytes: 1234,
 *   brBytes: 400,
 *   gzipBytes: 450,
 * };
 * ```
 */
export interface BuildInfo {
  /** File name of the boot script inside the build folder. */
  boot: string;
  /** Content hash (first 16 hex digits of SHA-256). */
  hash: string;
  /** Island names the bundle can hydrate. */
  islands: string[];
  /** Size of the boot script in bytes. */
  bytes: number;
  /** Size of its brotli sibling (`.br`), or `null` when there is none. */
  brBytes?: number | null;
  /** Size of its gzip sibling (`.gz`), or `null` when there is none. */
  gzipBytes?: number | null;
}

/**
 * Options for {@linkcode buildClient}.
 *
 * @example
 * ```ts
 * import type { BuildClientOptions } from "./bundle.ts";
 * const options: BuildClientOptions = {
 *   islands: [],
 *   appDir: new URL("file:///app/"),
 *   buildDir: new URL("file:///app/static/build/"),
 *   minify: false,
 * };
 * ```
 */
export interface BuildClientOptions {
  /** The islands to include (from `collectIslands`). */
  islands: readonly IslandInfo[];
  /** The app folder (island keys are relative to it). */
  appDir: URL;
  /** Output folder; created if missing. */
  buildDir: URL;
  /** `deno.json` with the import map. Default: the nearest one at or above `appDir`. */
  config?: URL;
  /** Minify. Default `true`. */
  minify?: boolean;
  /** Write the `.br` and `.gz` siblings (brotli 11, gzip 9). Default `true`. */
  precompress?: boolean;
  /** The deno CLI. Default `Deno.execPath()`. */
  denoPath?: string;
}

/** Name of the build description file. */
const BUILD_INFO_FILE = "build.json";

/**
 * Matches content-hashed build file names (served as immutable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HASHED_FILE } from "./bundle.ts";
 * assert.ok(HASHED_FILE.test("boot-0123456789abcdef.js"));
 * assert.ok(!HASHED_FILE.test("dashboard.js"));
 * ```
 */
export const HASHED_FILE = /-[0-9a-f]{16}\.js$/;

/**
 * Bundle the islands and write the boot script, its precompressed siblings
 * and `build.json`. Older `boot-*.js` files (and their siblings) in
 * `buildDir` are removed.
 *
 * @example
 * ```ts ignore
 * import { buildClient } from "./bundle.ts";
 * import { collectIslands } from "./islands.ts";
 * import { loadSnapshot } from "./snapshot.ts";
 * const root = new URL("../../", import.meta.url);
 * const snapshot = await loadSnapshot(root);
 * const info = await buildClient({
 *   islands: collectIslands(snapshot.islands),
 *   appDir: root,
 *   buildDir: new URL("./static/build/", root),
 * });
 * console.log(info.boot); // boot-3f9c0a1b2c3d4e5f.js
 * ```
 */
export async function buildClient(options: BuildClientOptions): Promise<BuildInfo> {
  const config = options.config ?? await findConfig(options.appDir);
  const tmp = await Deno.makeTempDir({ prefix: "depthwatch_bundle_" });
  try {
    const entry = `${tmp}/entry.ts`;
    const out = `${tmp}/boot.js`;
    await Deno.writeTextFile(entry, entrySource(options.islands, options.appDir));
    const args = ["bundle", "--config", config.pathname, "--platform", "browser"];
    if (options.minify ?? true) args.push("--minify");
    args.push("--output", out, entry);
    const res = await new Deno.Command(options.denoPath ?? Deno.execPath(), {
      args,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!res.success) {
      const msg = new TextDecoder().decode(res.stderr).trim();
      throw new Error(`Client bundle failed (deno ${args.join(" ")}):\n${msg}`);
    }
    const code = await Deno.readFile(out);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", code));
    const hash = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    const boot = `boot-${hash}.js`;
    await Deno.mkdir(options.buildDir, { recursive: true });
    const bootFile = new URL(boot, options.buildDir);
    await Deno.writeFile(bootFile, code);
    const packed = options.precompress ?? true ? await precompressFile(bootFile) : null;
    const info: BuildInfo = {
      boot,
      hash,
      islands: options.islands.map((i) => i.name),
      bytes: code.byteLength,
      brBytes: packed?.br ?? null,
      gzipBytes: packed?.gzip ?? null,
    };
    const infoTmp = new URL(`${BUILD_INFO_FILE}.${crypto.randomUUID()}.tmp`, options.buildDir);
    await Deno.writeTextFile(infoTmp, JSON.stringify(info, null, 2) + "\n");
    await Deno.rename(infoTmp, new URL(BUILD_INFO_FILE, options.buildDir));
    for await (const e of Deno.readDir(options.buildDir)) {
      const old = /^(boot-[0-9a-f]{16}\.js)(?:\.br|\.gz)?$/.exec(e.name);
      if (e.isFile && old !== null && old[1] !== boot) {
        await Deno.remove(new URL(e.name, options.buildDir)).catch(() => {});
      }
    }
    return info;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/**
 * Read `build.json` from a build folder, or `null` if there is none. Throws
 * if it exists but is malformed.
 *
 * @example
 * ```ts ignore
 * import { readBuildInfo } from "./bundle.ts";
 * const info = await readBuildInfo(new URL("../../static/build/", import.meta.url));
 * ```
 */
export async function readBuildInfo(buildDir: URL): Promise<BuildInfo | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(new URL(BUILD_INFO_FILE, buildDir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  const info = JSON.parse(text) as BuildInfo;
  if (typeof info?.boot !== "string" || !/^boot-[0-9a-f]{16}\.js$/.test(info.boot)) {
    throw new Error(
      `Malformed ${
        new URL(BUILD_INFO_FILE, buildDir).pathname
      }: expected {"boot": "boot-<hash>.js", ...}`,
    );
  }
  return info;
}

/** The generated bundle entry: imports the boot runtime and every island. */
function entrySource(islands: readonly IslandInfo[], appDir: URL): string {
  const bootUrl = new URL("./client_boot.ts", import.meta.url).href;
  const files = [...new Set(islands.map((i) => i.file))];
  const lines = [`import { boot } from ${JSON.stringify(bootUrl)};`];
  files.forEach((f, i) => {
    lines.push(`import * as $${i} from ${JSON.stringify(new URL(f, appDir).href)};`);
  });
  const entries = islands.map((i) =>
    `  ${JSON.stringify(i.name)}: $${files.indexOf(i.file)}[${JSON.stringify(i.exportName)}],`
  );
  lines.push("boot({", ...entries, "});", "");
  return lines.join("\n");
}

async function findConfig(appDir: URL): Promise<URL> {
  let dir = new URL("./", appDir);
  while (true) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const url = new URL(name, dir);
      try {
        if ((await Deno.stat(url)).isFile) return url;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    const parent = new URL("../", dir);
    if (parent.href === dir.href) {
      throw new Error(
        `No deno.json found at or above ${appDir.pathname}: expected one with the import map`,
      );
    }
    dir = parent;
  }
}
