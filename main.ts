/**
 * depthwatch: live order-book analytics. Command-line entry of
 * `deno task start`: parses flags (see `--help`), starts the service and shuts
 * it down cleanly on SIGINT/SIGTERM (exit code 0).
 *
 * @example
 * ```sh
 * deno task start --source sim --symbols btcusdt,ethusdt
 * ```
 * @module
 */
import { ConfigError, denoEnv, helpText, parseConfig } from "./lib/server/config.ts";
import { startService } from "./lib/server/service.ts";

export { startService } from "./lib/server/service.ts";

if (import.meta.main) {
  let config;
  try {
    config = parseConfig(Deno.args, denoEnv());
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`depthwatch: ${e.message}\n\nRun with --help to see every flag.`);
    Deno.exit(2);
  }
  if (config.help) {
    console.log(helpText());
    Deno.exit(0);
  }
  // The workers and the static files are read from the app's own folder, which
  // is not the working directory when started from elsewhere (e.g. systemd):
  // fail at once with the flag to use instead of restarting workers forever.
  // A compiled binary is skipped: it reads the copies embedded in it.
  const appDir = new URL("./", import.meta.url);
  if (
    !Deno.build.standalone && appDir.protocol === "file:" &&
    Deno.permissions.querySync({ name: "read", path: appDir }).state !== "granted"
  ) {
    const dir = decodeURIComponent(appDir.pathname);
    console.error(
      `depthwatch: no read access to its own files in ${dir}; expected --allow-read=${dir} ` +
        `(--allow-read=. works only when the working directory is ${dir}, as in deno task start)`,
    );
    Deno.exit(2);
  }
  const service = await startService(config, { build: Deno.env.get("DEPTHWATCH_BUILD") === "1" });
  console.log(`depthwatch listening on ${service.url}`);
  const stop = async () => {
    await service.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
