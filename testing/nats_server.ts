/**
 * A real `nats-server` (Debian's 2.9.10 here) in a child process for tests and
 * benchmarks of the NATS bus: {@link startNatsServer} starts it on 127.0.0.1
 * and a free port with JetStream in a temporary store, waits until it
 * accepts connections, and {@link NatsServerProcess.stop} ends it and removes
 * the store. {@link NatsServerProcess.restart} stops it and starts it again on
 * the same port and store, for "NATS went away and came back" tests.
 *
 * @example
 * ```ts ignore
 * import { startNatsServer } from "./nats_server.ts";
 * import { connect } from "@nats-io/transport-node";
 * const server = await startNatsServer();
 * const nc = await connect({ servers: server.url });
 * await nc.close();
 * await server.stop();
 * ```
 * @module
 */

/** A nats-server child process (see {@link startNatsServer}). */
export interface NatsServerProcess {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** The client port. */
  readonly port: number;
  /** The JetStream store directory (removed by {@link stop}). */
  readonly storeDir: string;
  /** The last few KiB the server wrote (its log). */
  logTail(): string;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, keep the store. */
  kill(): Promise<void>;
  /** Start it again on the same port and store after {@link kill}. */
  restart(): Promise<void>;
  /** Kill it and remove the store. */
  stop(): Promise<void>;
}

/** Options of {@link startNatsServer}. */
export interface StartNatsServerOptions {
  /** The executable. Default `DEPTHWATCH_NATS_SERVER` or `nats-server` on the PATH. */
  command?: string;
  /** Enable JetStream (`-js`). Default true. */
  jetstream?: boolean;
  /** Give up when it does not accept connections within this many ms. Default 20000. */
  startTimeoutMs?: number;
}

/** Bytes of the server's log kept for {@link NatsServerProcess.logTail}. */
const TAIL_BYTES = 4096;

/** A port nothing listens on right now (a race with other processes is possible, and retried by the caller). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Resolves once a TCP connection to `port` succeeds; rejects after `timeoutMs`. */
async function waitForPort(
  port: number,
  timeoutMs: number,
  exited: () => boolean,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error(`nats-server exited before it listened on ${port}:\n${log()}`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      if (Date.now() > deadline) {
        throw new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms:\n${log()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Start a nats-server on 127.0.0.1 and a free port, JetStream in a fresh
 * temporary store. Throws with the server's log when it does not come up
 * (e.g. `nats-server` is not installed: `.ci/run` installs Debian's).
 */
export async function startNatsServer(
  options: StartNatsServerOptions = {},
): Promise<NatsServerProcess> {
  const command = options.command ?? Deno.env.get("DEPTHWATCH_NATS_SERVER") ?? "nats-server";
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const storeDir = await Deno.makeTempDir({ prefix: "depthwatch_nats_" });
  const port = freePort();
  let tail = "";
  let child: Deno.ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let done = true;
  const decoder = new TextDecoder();

  const spawn = async () => {
    const args = ["-a", "127.0.0.1", "-p", String(port)];
    if (options.jetstream ?? true) args.push("-js", "-sd", storeDir);
    child = new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).spawn();
    done = false;
    const pump = (async () => {
      for await (const chunk of child!.stderr) {
        tail = (tail + decoder.decode(chunk, { stream: true })).slice(-TAIL_BYTES);
      }
    })();
    exited = Promise.all([child.status.then(() => (done = true)), pump]);
    await waitForPort(port, timeoutMs, () => done, () => tail);
  };

  const kill = async () => {
    if (child === undefined || done) return;
    const c = child;
    try {
      c.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        c.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await spawn();
  } catch (e) {
    await kill();
    await Deno.remove(storeDir, { recursive: true }).catch(() => {});
    throw e;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    logTail: () => tail,
    kill,
    restart: async () => {
      await kill();
      await spawn();
    },
    stop: async () => {
      await kill();
      await Deno.remove(storeDir, { recursive: true }).catch(() => {});
    },
  };
}
