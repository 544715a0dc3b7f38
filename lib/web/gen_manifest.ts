/**
 * CLI: regenerate `manifest.gen.ts` from `routes/` and `islands/`.
 *
 * ```sh
 * deno run --allow-read --allow-write lib/web/gen_manifest.ts [appDir]
 * ```
 *
 * `appDir` defaults to the repository root (two folders above this file).
 *
 * @example
 * ```sh
 * deno run -A lib/web/gen_manifest.ts tests/fixtures/web_app
 * ```
 *
 * @module
 */
import { writeManifest } from "./manifest.ts";

if (import.meta.main) {
  const arg = Deno.args[0];
  if (Deno.args.length > 1 || arg === "--help" || arg === "-h") {
    console.error("usage: gen_manifest.ts [appDir]  (default: the repository root)");
    Deno.exit(arg === "--help" || arg === "-h" ? 0 : 2);
  }
  const appDir = arg ?? new URL("../../", import.meta.url);
  const { path, changed, files } = await writeManifest(appDir);
  console.log(
    `${changed ? "wrote" : "unchanged"} ${path.pathname} ` +
      `(${files.routes.length} routes, ${files.islands.length} islands)`,
  );
}
