/**
 * A real `nats-server` (Debian's 2.9.10 here) in a child process for tests and
 * benchmarks of the NATS bus: {@link startNatsServer} starts it on 127.0.0.1
 * and a port it picks itself (`-p -1`, read from its log, so no other process
 * can take the port in between) with JetStream in a temporary store, waits
 * until it says it is ready, and {@link NatsServerProcess.stop} ends it and removes
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
  /** The server process's pid (a new one after {@link restart}; 0 while it is not running). */
  readonly pid: number;
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

/** The line nats-server logs once it accepts clients, with the port it listens on. */
const LISTENING = /Listening for client connections on 127\.0\.0\.1:(\d+)/;
/** The line nats-server logs once JetStream (when enabled) and everything else are up. */
const READY = /Server is ready/;

/**
 * Start a nats-server on 127.0.0.1 and a port it picks itself, JetStream in a fresh
 * temporary store. Throws with the server's log when it does not come up
 * (e.g. `nats-server` is not installed: `.ci/run` installs Debian's).
 */
export async function startNatsServer(
  options: StartNatsServerOptions = {},
): Promise<NatsServerProcess> {
  const command = options.command ?? Deno.env.get("DEPTHWATCH_NATS_SERVER") ?? "nats-server";
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const storeDir = await Deno.makeTempDir({ prefix: "depthwatch_nats_" });
  // The server picks its own port (`-p -1`) and says which: no window in which
  // another process could take a port chosen for it. A restart asks for the same one.
  let port = 0;
  let tail = "";
  let child: Deno.ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let done = true;
  const decoder = new TextDecoder();

  const spawn = async () => {
    const args = ["-a", "127.0.0.1", "-p", port === 0 ? "-1" : String(port)];
    if (options.jetstream ?? true) args.push("-js", "-sd", storeDir);
    child = new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).spawn();
    done = false;
    let log = ""; // this process's log only: a ready line of an earlier run does not count
    let onLog = () => {};
    const pump = (async () => {
      for await (const chunk of child!.stderr) {
        const text = decoder.decode(chunk, { stream: true });
        tail = (tail + text).slice(-TAIL_BYTES);
        if (log.length < 64 * 1024) log += text;
        onLog();
      }
    })();
    exited = Promise.all([child.status.then(() => (done = true)), pump]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        onLog = () => {};
        reject(new Error(`nats-server was not ready within ${timeoutMs} ms:\n${tail}`));
      }, timeoutMs);
      const check = () => {
        const listening = LISTENING.exec(log);
        if (listening && READY.test(log)) {
          clearTimeout(timer);
          onLog = () => {};
          port = Number(listening[1]);
          resolve();
        } else if (done) {
          clearTimeout(timer);
          onLog = () => {};
          reject(new Error(`nats-server exited before it was ready:\n${tail}`));
        }
      };
      onLog = check;
      exited.then(check);
      check();
    });
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
    get pid() {
      return child === undefined || done ? 0 : child.pid;
    },
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
