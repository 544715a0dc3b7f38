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
import type { Config } from "./lib/server/config.ts";
import { runService, type Service, type ServiceExtras } from "./lib/server/service.ts";
import { createApp } from "./lib/web/app.ts";
import manifest from "./manifest.gen.ts";

export type { Service } from "./lib/server/service.ts";

/** Options of {@linkcode startService} besides the flags. */
export interface StartOptions extends ServiceExtras {
  /** Development mode: live reload, `no-cache` static files. Default `false`. */
  dev?: boolean;
  /** Build the client bundle before serving (needs the deno CLI). Default `false`: `deno task build` did it. */
  build?: boolean;
}

/**
 * Start the whole service described by `config`: the pipeline, and the web
 * app (routes, islands, static files) serving its state.
 *
 * @example
 * ```ts ignore
 * import { parseConfig } from "./lib/server/config.ts";
 * const service = await startService(parseConfig(["--source=sim", "--port=0"]));
 * await (await fetch(new URL("/health", service.url))).body?.cancel();
 * await service.close();
 * ```
 */
export function startService(config: Config, options: StartOptions = {}): Promise<Service> {
  return runService(config, async ({ state, log }) => {
    const app = createApp({
      manifest,
      state,
      dev: options.dev ?? false,
      onError: (e) => log.error("request failed:", e),
    });
    if (options.build) await app.build();
    return app.handler;
  }, options);
}

/**
 * The command line: parse `args` (and `DEPTHWATCH_*` variables), start the
 * service, print its URL once on stdout, stop on SIGINT/SIGTERM with exit code
 * 0. Bad flags exit with code 2 and say what was expected.
 *
 * @example
 * ```ts ignore
 * await main(["--source=sim", "--port=8000"]);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  let config;
  try {
    config = parseConfig(args, denoEnv());
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
  const service = await startService(config, {
    build: Deno.env.get("DEPTHWATCH_BUILD") === "1",
  });
  // The one line on stdout (logs go to stderr): tools wait for it.
  console.log(`depthwatch listening on ${service.url}`);
  const stop = async () => {
    await service.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) await main(Deno.args);
