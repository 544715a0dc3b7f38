/**
 * Connecting a node to the NATS server of `--bus nats://HOST:PORT`
 * (docs/design.md §10): the URL is checked, credentials come only from the
 * environment (`DEPTHWATCH_NATS_TOKEN`, or `DEPTHWATCH_NATS_CREDS` = the path
 * of a `.creds` file — never from the command line, where `ps` shows them),
 * the client reconnects forever with a jittered wait, and
 * {@linkcode BusConnection} keeps connection counters and a `connected` flag
 * from the client's status stream for `/health` and `/metrics`.
 *
 * Under Deno the node transport resolves a host name itself (a DNS lookup
 * the `--allow-net=127.0.0.1:PORT` permission does not cover); for an IP
 * literal and for `localhost` resolution is switched off (`resolve: false`),
 * and `localhost` is dialled as `127.0.0.1`, so the permission needed is
 * exactly `--allow-net=127.0.0.1:PORT`.
 *
 * Known: when the server refuses the credentials, `@nats-io/transport-node`
 * 3.4 under Deno can raise an uncaught `read ECONNRESET` a moment after
 * {@linkcode connectBus} rejected with the server's reason (the transport
 * removes its socket listeners before the reset arrives), at start or on a
 * reconnect refused later (credentials revoked). Uncaught, it would end the
 * process. The first {@linkcode connectBus} therefore installs one global
 * `error` listener that takes exactly such errors (a node-style error with
 * `code` `ECONNRESET` and `syscall` `read`: only the node transport makes
 * those in this process; Deno's own sockets throw `Deno.errors`), counts them
 * in {@linkcode transportResets} and lets everything else through.
 *
 * @example
 * ```ts
 * import { connectBus } from "./nats_connect.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222", name: "ingest-1" });
 * bus.connected; // true
 * bus.counters.connects; // 1
 * await bus.close();
 * ```
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { credsAuthenticator, type NatsConnection } from "@nats-io/nats-core";

/** Environment variable holding a NATS token. */
export const NATS_TOKEN_ENV = "DEPTHWATCH_NATS_TOKEN";
/** Environment variable holding the path of a NATS `.creds` file. */
export const NATS_CREDS_ENV = "DEPTHWATCH_NATS_CREDS";

/** Host and port of a checked `nats://HOST:PORT` URL. */
export interface BusUrl {
  /** The host as written (`localhost` kept). */
  hostname: string;
  /** The TCP port. */
  port: number;
  /** What the client dials: `HOST:PORT`, with `localhost` as `127.0.0.1`. */
  server: string;
  /** Whether the host is a literal address or `localhost` (no DNS lookup needed). */
  literal: boolean;
}

/** The expectation named in every URL error. */
const EXPECTED = "expected nats://HOST:PORT (e.g. nats://127.0.0.1:4222)";

/**
 * Checks a `--bus` URL: scheme `nats:`, a host, an explicit port in
 * [1, 65535], no user/password (credentials come from the environment), no
 * path, query or fragment.
 *
 * @throws {TypeError} Saying what was wrong and what is expected.
 *
 * @example
 * ```ts
 * import { parseBusUrl } from "./nats_connect.ts";
 *
 * parseBusUrl("nats://localhost:4222").server; // "127.0.0.1:4222"
 * ```
 */
export function parseBusUrl(url: string): BusUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`bus: ${JSON.stringify(url)} is not a URL; ${EXPECTED}`);
  }
  if (parsed.protocol !== "nats:") {
    throw new TypeError(
      `bus: ${JSON.stringify(url)} has scheme ${JSON.stringify(parsed.protocol)}; ${EXPECTED}`,
    );
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new TypeError(
      `bus: ${JSON.stringify(parsed.host)} carries credentials in the URL (visible in ps); ` +
        `${EXPECTED} and set ${NATS_TOKEN_ENV} or ${NATS_CREDS_ENV} instead`,
    );
  }
  if (parsed.hostname === "") {
    throw new TypeError(`bus: ${JSON.stringify(url)} has no host; ${EXPECTED}`);
  }
  if (parsed.port === "") {
    throw new TypeError(`bus: ${JSON.stringify(url)} has no port; ${EXPECTED}`);
  }
  if (
    (parsed.pathname !== "" && parsed.pathname !== "/") || parsed.search !== "" ||
    parsed.hash !== ""
  ) {
    throw new TypeError(`bus: ${JSON.stringify(url)} has a path, query or fragment; ${EXPECTED}`);
  }
  const hostname = parsed.hostname;
  const port = Number(parsed.port);
  const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname);
  const ipv6 = hostname.startsWith("[");
  const local = hostname === "localhost";
  const host = local ? "127.0.0.1" : hostname;
  return { hostname, port, server: `${host}:${port}`, literal: ipv4 || ipv6 || local };
}

/** Options of {@linkcode connectBus}. */
export interface BusConnectOptions {
  /** `nats://HOST:PORT` (the `--bus` flag). Required. */
  url: string;
  /** Client name shown by the server's monitoring (e.g. the node id). Default `"depthwatch"`. */
  name?: string;
  /** Reads an environment variable. Default `Deno.env.get` (needs `--allow-env=DEPTHWATCH_*`). */
  env?: (name: string) => string | undefined;
  /** Reads the creds file. Default `Deno.readFileSync`. */
  readFile?: (path: string) => Uint8Array;
  /** Wait between reconnect attempts, ms (plus up to `reconnectJitterMs`). Default 500. */
  reconnectWaitMs?: number;
  /** Upper bound of the random delay added to each reconnect wait, ms. Default 500. */
  reconnectJitterMs?: number;
  /** Interval of client pings that detect a dead server without a TCP close, ms. Default 5000. */
  pingIntervalMs?: number;
  /** Handshake timeout of one connection attempt, ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Keep retrying the first connection instead of failing at once when the
   * server is not reachable; the returned promise then resolves only once
   * connected. Default false (a node refuses to start when NATS is down at start).
   */
  waitOnFirstConnect?: boolean;
}

/** Connection counters of a {@linkcode BusConnection} (monotonic). */
export interface BusConnectionCounters {
  /** Successful connections, the first included. */
  connects: number;
  /** Connections lost. */
  disconnects: number;
  /** Successful reconnections after a loss. */
  reconnects: number;
}

/** Authentication options read from the environment (token or creds file, not both). */
function authFromEnv(
  env: (name: string) => string | undefined,
  readFile: (path: string) => Uint8Array,
): { token?: string; authenticator?: ReturnType<typeof credsAuthenticator> } {
  const token = env(NATS_TOKEN_ENV);
  const credsPath = env(NATS_CREDS_ENV);
  if (token && credsPath) {
    throw new TypeError(
      `bus: both ${NATS_TOKEN_ENV} and ${NATS_CREDS_ENV} are set; expected at most one of them`,
    );
  }
  if (token) return { token };
  if (credsPath) {
    let creds: Uint8Array;
    try {
      creds = readFile(credsPath);
    } catch (e) {
      throw new TypeError(
        `bus: cannot read the creds file ${NATS_CREDS_ENV}=${JSON.stringify(credsPath)}: ` +
          `${(e as Error).message}; expected the path of a readable NATS .creds file`,
      );
    }
    return { authenticator: credsAuthenticator(creds) };
  }
  return {};
}

/**
 * A NATS connection with counters and a connected flag (see {@linkcode connectBus}).
 *
 * @example
 * ```ts
 * import { connectBus } from "./nats_connect.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222", name: "dashboard-1" });
 * const healthy = bus.connected; // for /health
 * const { connects, disconnects, reconnects } = bus.counters; // for /metrics
 * await bus.close();
 * ```
 */
export class BusConnection {
  /** The client connection, for the KV, JetStream and subscriptions built on it. */
  readonly nc: NatsConnection;
  /** The server dialled, `HOST:PORT`. */
  readonly server: string;
  /** Connection counters, updated from the client's status stream. */
  readonly counters: BusConnectionCounters = { connects: 1, disconnects: 0, reconnects: 0 };
  #connected = true;
  #watch: Promise<void>;

  /** Wraps a connected client (use {@linkcode connectBus}). */
  constructor(nc: NatsConnection, server: string) {
    this.nc = nc;
    this.server = server;
    this.#watch = this.#follow();
  }

  /** Whether the client is connected to the server right now. */
  get connected(): boolean {
    return this.#connected;
  }

  async #follow(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect") {
        if (this.#connected) this.counters.disconnects++;
        this.#connected = false;
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.counters.connects++;
        this.counters.reconnects++;
      } else if (status.type === "close") {
        this.#connected = false;
      }
    }
  }

  /** Closes the connection (pending publications are flushed first). Idempotent. */
  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
    this.#connected = false;
    await this.#watch.catch(() => {});
  }
}

/**
 * Connects to `options.url` with credentials from the environment and
 * unlimited reconnects. See {@linkcode BusConnectOptions} for defaults.
 *
 * @throws {TypeError} For a bad URL or bad credential settings (what was wrong, what is expected).
 * @throws {Error} When the server cannot be reached (and `waitOnFirstConnect` is false),
 *   naming the server.
 *
 * @example
 * ```ts
 * import { connectBus } from "./nats_connect.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222" });
 * await bus.close();
 * ```
 */
export async function connectBus(options: BusConnectOptions): Promise<BusConnection> {
  const target = parseBusUrl(options.url);
  containTransportResets();
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const auth = authFromEnv(env, options.readFile ?? Deno.readFileSync);
  try {
    const nc = await connect({
      servers: target.server,
      name: options.name ?? "depthwatch",
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? 500,
      reconnectJitter: options.reconnectJitterMs ?? 500,
      pingInterval: options.pingIntervalMs ?? 5000,
      timeout: options.timeoutMs ?? 5000,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
      ...(target.literal ? { resolve: false } : {}),
      ...auth,
    });
    return new BusConnection(nc, target.server);
  } catch (e) {
    throw new Error(
      `bus: cannot connect to nats://${target.server}: ${(e as Error).message}; ` +
        `expected a reachable nats-server with JetStream (nats-server -js)`,
      { cause: e },
    );
  }
}

let resets = 0;
let containing = false;

/**
 * Uncaught `read ECONNRESET` errors of the NATS node transport taken by the
 * listener {@linkcode connectBus} installs (see the module documentation).
 *
 * @example
 * ```ts
 * import { transportResets } from "./nats_connect.ts";
 * transportResets(); // 0 unless a refused connection was reset
 * ```
 */
export function transportResets(): number {
  return resets;
}

/** Install (once per process) the listener that contains the transport's stray resets. */
function containTransportResets(): void {
  if (containing) return;
  containing = true;
  globalThis.addEventListener("error", (event) => {
    const err = (event as ErrorEvent).error as { code?: unknown; syscall?: unknown } | null;
    if (err && err.code === "ECONNRESET" && err.syscall === "read") {
      resets++;
      event.preventDefault();
    }
  });
}
