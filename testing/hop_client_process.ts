/**
 * The whole-system hop client (testing/hop_client.ts) as a process of its
 * own, both ends: {@link spawnHopClient} starts `deno run -A` on this file
 * and follows the JSON lines it prints on stdout (`{"event":"window",
 * "phase":"start"|"end"}` when the counting window starts and ends, then
 * `{"event":"result", …}` with the {@link HopClientResult}); run directly,
 * the file is that command:
 *
 * ```sh
 * deno run -A testing/hop_client_process.ts --url http://127.0.0.1:8000/ --warmup 5 --duration 20
 * ```
 *
 * @example
 * ```ts ignore
 * import { spawnHopClient } from "./hop_client_process.ts";
 * const client = spawnHopClient({ url: "http://127.0.0.1:8000/", duration: 10 });
 * client.onWindow = (phase) => console.log("window", phase);
 * const result = await client.result;
 * console.log(client.pid, result.latency.p99);
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { type HopClientOptions, type HopClientResult, runHopClient } from "./hop_client.ts";
import { drainLines } from "./service_process.ts";

/** Repository root: the child runs there, so it finds deno.json's import map. */
const ROOT = new URL("../", import.meta.url);

/** A running hop client process (see {@link spawnHopClient}). */
export interface HopClientProcess {
  /** Its process id. */
  readonly pid: number;
  /** Called when its window starts and ends (set it right after spawning). */
  onWindow: ((phase: "start" | "end") => void) | undefined;
  /** Its result; rejects with its log tail when it exits without one. */
  readonly result: Promise<HopClientResult>;
  /** Kill it (SIGKILL) if it still runs. */
  kill(): void;
}

/**
 * Start the client in a new `deno run -A` process against `options.url`.
 *
 * @example
 * ```ts ignore
 * const client = spawnHopClient({ url: node.url, warmup: 5, duration: 20 });
 * console.log((await client.result).framesPerSecond);
 * ```
 */
export function spawnHopClient(
  options: Omit<HopClientOptions, "onWindow" | "log">,
): HopClientProcess {
  const args = ["run", "-A", new URL(import.meta.url).pathname, "--url", options.url];
  if (options.warmup !== undefined) args.push("--warmup", String(options.warmup));
  if (options.duration !== undefined) args.push("--duration", String(options.duration));
  if (options.setupTimeout !== undefined) {
    args.push("--setup-timeout", String(options.setupTimeout));
  }
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  drainLines(child.stderr, (line) => {
    tail = (tail + line + "\n").slice(-4096);
    if (line.startsWith("hop client:")) console.error(`  ${line}`);
  }).catch(() => {});
  const proc: HopClientProcess = {
    pid: child.pid,
    onWindow: undefined,
    kill: () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    },
    result: new Promise<HopClientResult>((resolve, reject) => {
      let result: HopClientResult | undefined;
      drainLines(child.stdout, (line) => {
        if (!line.startsWith("{")) return;
        const m = JSON.parse(line);
        if (m.event === "window") proc.onWindow?.(m.phase);
        else if (m.event === "result") result = m.result;
      }).then(() => child.status).then(
        (s) =>
          result !== undefined
            ? resolve(result)
            : reject(new Error(`hop client exited with code ${s.code} and no result:\n${tail}`)),
        reject,
      );
    }),
  };
  return proc;
}

/** The command: flags → {@link runHopClient} → JSON lines on stdout. */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      warmup: { type: "string" },
      duration: { type: "string" },
      "setup-timeout": { type: "string" },
    },
  });
  if (values.url === undefined) {
    throw new Error("hop client: --url is required, e.g. --url http://127.0.0.1:8000/");
  }
  const num = (v: string | undefined) => v === undefined ? undefined : Number(v);
  const result = await runHopClient({
    url: values.url,
    warmup: num(values.warmup),
    duration: num(values.duration),
    setupTimeout: num(values["setup-timeout"]),
    onWindow: (phase) => console.log(JSON.stringify({ event: "window", phase })),
  });
  console.log(JSON.stringify({ event: "result", result }));
}

if (import.meta.main) {
  try {
    await main(Deno.args);
    Deno.exit(0); // the setup deadline's timer would keep the process alive
  } catch (e) {
    console.error(`hop client failed: ${(e as Error).stack ?? e}`);
    Deno.exit(1);
  }
}
