/**
 * depthwatch: live order-book analytics. The server entry, as in a Fresh 2
 * project: {@linkcode createApp} is the web app (middlewares, static files,
 * file routes), {@linkcode startService} runs the pipeline with that app in
 * front of it, and {@linkcode main} is the command line.
 *
 * `deno task start` runs `_fresh/server.ts`, which `deno task build` writes
 * to call `main` with the routes and islands imported statically (what
 * `deno compile` embeds). Run directly (`deno run main.ts`, the tests), the
 * entry finds and imports `routes/` and `islands/` when it starts.
 *
 * @example
 * ```sh
 * deno task start --source sim --symbols btcusdt,ethusdt
 * ```
 * @module
 */
import { ConfigError, denoEnv, helpText, parseConfig } from "./lib/server/config.ts";
import type { Config } from "./lib/server/config.ts";
import type { Logger } from "./lib/pipeline/logger.ts";
import { runService, type Service, type ServiceExtras } from "./lib/server/service.ts";
import { ExchangeInfoError } from "./lib/server/symbol_resolution.ts";
import { BusStartError } from "./lib/server/bus_start_error.ts";
import type { ServiceState } from "./lib/server/service_state.ts";
import { App, HttpError, staticFiles } from "./lib/web/mod.ts";
import { applySnapshot } from "./lib/web/app.ts";
import { Builder } from "./lib/web/builder.ts";
import { loadSnapshot, type Snapshot } from "./lib/web/snapshot.ts";
import { define, type State } from "./utils.ts";

export type { Service } from "./lib/server/service.ts";

/** The app folder: `routes/`, `islands/` and `static/` are here. */
const ROOT = new URL("./", import.meta.url);

/**
 * The web app serving `service`: request errors go to `log`, the service is
 * put into `ctx.state.service`, then static files, then the file routes.
 *
 * @example
 * ```ts ignore
 * const app = createApp(service.state, log);
 * applySnapshot(app, await loadSnapshot(new URL("./", import.meta.url)));
 * Deno.serve(app.handler());
 * ```
 *
 * @param service What the routes read.
 * @param log Where request errors go (status 500 and up).
 */
export function createApp(service: ServiceState, log: Logger): App<State> {
  return new App<State>()
    .use(define.middleware(async (ctx) => {
      try {
        return await ctx.next();
      } catch (err) {
        if (!(err instanceof HttpError) || err.status >= 500) log.error("request failed:", err);
        throw err;
      }
    }))
    .use(define.middleware((ctx) => {
      ctx.state.service = service;
      return ctx.next();
    }))
    .use(staticFiles())
    .fsRoutes();
}

/**
 * Options of {@linkcode startService} besides the flags.
 *
 * @example
 * ```ts
 * import type { StartOptions } from "./main.ts";
 * const quiet = { debug() {}, info() {}, warn() {}, error() {} };
 * const options: StartOptions = { build: true, log: quiet };
 * ```
 */
export interface StartOptions extends ServiceExtras {
  /** The routes and islands. Default: found in `routes/` and `islands/` and imported at start. */
  snapshot?: Snapshot;
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
 *
 * @param config The service's configuration (`parseConfig`).
 * @param options See {@linkcode StartOptions}.
 */
export async function startService(config: Config, options: StartOptions = {}): Promise<Service> {
  const snapshot = options.snapshot ?? await loadSnapshot(ROOT);
  if (options.build) await new Builder({ root: ROOT }).bundle(snapshot);
  return await runService(config, ({ state, log }) => {
    const app = createApp(state, log);
    applySnapshot(app, snapshot, { mode: options.dev ? "development" : "production" });
    return app.handler();
  }, options);
}

/**
 * Options of {@linkcode main}.
 *
 * @example
 * ```ts
 * import type { MainOptions } from "./main.ts";
 * import { loadSnapshot } from "./lib/web/snapshot.ts";
 * const options: MainOptions = { snapshot: await loadSnapshot(new URL("./", import.meta.url)) };
 * ```
 */
export interface MainOptions {
  /** The routes and islands (`_fresh/server.ts` passes the built ones). Default: loaded at start. */
  snapshot?: Snapshot;
}

/**
 * The command line: parse `args` (and `DEPTHWATCH_*` variables), start the
 * service, print its URL once on stdout, stop on SIGINT/SIGTERM with exit code
 * 0. Bad flags exit with code 2 and say what was expected (so does a `--symbols`
 * pattern or name the exchange's listing does not satisfy); an exchange that
 * stays unreachable or busy while `--symbols` is resolved exits with code 1.
 *
 * @example
 * ```ts ignore
 * await main(["--source=sim", "--port=8000"]);
 * ```
 *
 * @param args The command-line flags.
 * @param options See {@linkcode MainOptions}.
 */
export async function main(args: string[], options: MainOptions = {}): Promise<void> {
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
  if (
    !Deno.build.standalone && ROOT.protocol === "file:" &&
    Deno.permissions.querySync({ name: "read", path: ROOT }).state !== "granted"
  ) {
    const dir = decodeURIComponent(ROOT.pathname);
    console.error(
      `depthwatch: no read access to its own files in ${dir}; expected --allow-read=${dir} ` +
        `(--allow-read=. works only when the working directory is ${dir}, as in deno task start)`,
    );
    Deno.exit(2);
  }
  let service;
  try {
    service = await startService(config, {
      snapshot: options.snapshot,
      build: Deno.env.get("DEPTHWATCH_BUILD") === "1",
    });
  } catch (e) {
    // The exchange stayed unreachable or busy while --symbols was resolved: exit 1, retry later.
    // Or the NATS bus could not be joined (unreachable, or another universe): exit 1, retry later.
    if (e instanceof ExchangeInfoError || e instanceof BusStartError) {
      console.error(`depthwatch: ${e.message}`);
      Deno.exit(1);
    }
    // A setting that does not fit this machine (e.g. --max-connections above the fd limit),
    // or a --symbols list the exchange does not satisfy.
    if (!(e instanceof ConfigError)) throw e;
    console.error(`depthwatch: ${e.message}`);
    Deno.exit(2);
  }
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
