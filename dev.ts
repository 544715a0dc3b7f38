/**
 * Development server: `deno task dev` (`deno run -A --watch dev.ts [flags]`).
 *
 * - Regenerates `manifest.gen.ts` at start and whenever a file is added to or
 *   removed from `routes/` or `islands/`; the new manifest is part of the
 *   module graph, so `--watch` restarts the process.
 * - Edits to any imported module (routes, islands, lib/) restart it too.
 * - Runs the whole service (same flags as `deno task start`; defaults to the
 *   simulated exchange here, since development rarely wants the live feed),
 *   builds the client bundle at start and serves with live reload: open pages
 *   listen on `/_dev/reload` and reload when the server comes back with a new
 *   build id.
 *
 * @example
 * ```sh
 * deno task dev --symbols btcusdt,ethusdt,solusdt
 * ```
 *
 * @module
 */
import { writeManifest } from "./lib/web/manifest.ts";
import { ConfigError, denoEnv, helpText, parseConfig } from "./lib/server/config.ts";

const appDir = new URL("./", import.meta.url);
await writeManifest(appDir);
// Imported after the manifest is (re)written: the service imports it statically.
const { startService } = await import("./main.ts");

let config;
try {
  const args = Deno.args.some((a) => a.startsWith("--source")) ? Deno.args : [
    "--source=sim",
    ...Deno.args,
  ];
  config = parseConfig(args, denoEnv());
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(`dev: ${e.message}\n\n${helpText()}`);
  Deno.exit(2);
}
const service = await startService(config, { dev: true, build: true });
console.log(`dev: depthwatch on ${service.url} (live reload on)`);

const watcher = Deno.watchFs([
  new URL("./routes/", appDir).pathname,
  new URL("./islands/", appDir).pathname,
]);
for await (const event of watcher) {
  if (event.kind === "create" || event.kind === "remove" || event.kind === "rename") {
    const { changed } = await writeManifest(appDir);
    if (changed) console.log("dev: routes/islands changed; manifest regenerated, restarting");
  }
}
