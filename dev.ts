/**
 * Development server: `deno task dev` (`deno run -A --watch dev.ts`).
 *
 * - Regenerates `manifest.gen.ts` at start and whenever a file is added to or
 *   removed from `routes/` or `islands/`; the new manifest is part of the
 *   module graph, so `--watch` restarts the process.
 * - Edits to any imported module (routes, islands, lib/) restart it too.
 * - Builds the client bundle at start and serves with live reload: open pages
 *   listen on `/_dev/reload` and reload when the server comes back with a new
 *   build id.
 *
 * Until `main.ts` exists this serves the web app alone (empty state) on
 * `DEPTHWATCH_PORT` (default 8000) at 127.0.0.1.
 *
 * @example
 * ```sh
 * deno task dev
 * ```
 *
 * @module
 */
import { createApp } from "./lib/web/app.ts";
import { writeManifest } from "./lib/web/manifest.ts";

const appDir = new URL("./", import.meta.url);
await writeManifest(appDir);
// A literal specifier (not a computed path): the manifest was just (re)written.
const { default: manifest } = await import("./manifest.gen.ts");

const app = createApp({ manifest, state: {}, dev: true });
if (app.islands.length > 0) await app.build();
const port = Number(Deno.env.get("DEPTHWATCH_PORT") ?? "8000");
const server = Deno.serve({ hostname: "127.0.0.1", port }, app.handler);

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
await server.finished;
