/**
 * Development and build, as a Fresh 2 project's `dev.ts`:
 *
 * - `deno task build` (`deno run -A dev.ts build`): the production build, see
 *   `lib/web/builder.ts`: `_fresh/snapshot.ts` and `_fresh/server.ts` (the
 *   entry of `deno task start` and `deno task compile`) and the client bundle.
 * - `deno task dev` (`deno run -A --watch=routes/,islands/ dev.ts [flags]`):
 *   the whole service (same flags as `deno task start`; defaults to the
 *   simulated exchange here, since development rarely wants the live feed),
 *   with the routes and islands imported at start, the client bundle built at
 *   start, and live reload: open pages reload when the server comes back.
 *   `--watch` restarts the process when an imported module changes or a file
 *   is added to or removed from `routes/` or `islands/`.
 *
 * @example
 * ```sh
 * deno task dev --symbols btcusdt,ethusdt,solusdt
 * ```
 *
 * @module
 */
import { Builder } from "./lib/web/builder.ts";
import { ConfigError, denoEnv, helpText, parseConfig } from "./lib/server/config.ts";

const builder = new Builder({ root: new URL("./", import.meta.url) });

if (Deno.args[0] === "build") {
  const { files, client, precompressed } = await builder.build();
  console.log(
    `wrote ${decodeURIComponent(builder.outDir.pathname)} (${files.routes.length} routes, ` +
      `${files.islands.length} islands); ` +
      (client
        ? `built ${client.boot} (${client.bytes} bytes, br ${client.brBytes ?? "-"}, ` +
          `gzip ${client.gzipBytes ?? "-"}; ${client.islands.length} islands)`
        : "no islands: nothing to bundle (pages ship no JS)") +
      `; precompressed ${precompressed.length} static files`,
  );
} else {
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
  // Imported here, not above: `deno task build` needs none of the service.
  const { startService } = await import("./main.ts");
  const service = await startService(config, { dev: true, build: true });
  console.log(`dev: depthwatch on ${service.url} (live reload on)`);
  const stop = async () => {
    await service.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
