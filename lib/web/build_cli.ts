/**
 * CLI: build the client bundle of an app into its `static/build/`.
 *
 * ```sh
 * deno run -A lib/web/build_cli.ts [appDir]
 * ```
 *
 * `appDir` (default: the repository root) must hold an up-to-date
 * `manifest.gen.ts` (see `gen_manifest.ts`). This is a build-time tool, so it
 * imports that manifest by computed path; the server itself never does.
 *
 * @example
 * ```sh
 * deno run -A lib/web/gen_manifest.ts && deno run -A lib/web/build_cli.ts
 * ```
 *
 * @module
 */
import { createApp } from "./app.ts";
import type { Manifest } from "./types.ts";

if (import.meta.main) {
  const arg = Deno.args[0];
  const appDir = arg
    ? new URL(arg.endsWith("/") ? arg : `${arg}/`, `file://${Deno.cwd()}/`)
    : new URL("../../", import.meta.url);
  const manifest = (await import(new URL("manifest.gen.ts", appDir).href)).default as Manifest;
  const app = createApp({ manifest, state: {} });
  if (app.islands.length === 0) {
    console.log("no islands: nothing to bundle (pages ship no JS)");
  } else {
    const info = await app.build();
    console.log(`built ${info.boot} (${info.bytes} bytes, ${info.islands.length} islands)`);
  }
}
