/**
 * How `deno task start` runs the service, read from `deno.json`, so that the
 * benchmarks start the service the same way users do: the environment
 * variables the task sets to literal values (e.g. an allocator setting) and
 * the `--v8-flags` it passes to `deno run`. Assignments computed by the shell
 * (`DEPTHWATCH_FD_LIMIT=$(…)`) are not literal and are left out.
 *
 * @example
 * ```ts
 * import { parseStartTask } from "./start_task.ts";
 * const run = parseStartTask(
 *   "deno task build && A=1 B=$(x) deno run --v8-flags=--max-semi-space-size=2 --allow-read=. main.ts",
 * );
 * run.env; // { A: "1" }
 * run.v8Flags; // ["--max-semi-space-size=2"]
 * ```
 * @module
 */

/** The runtime settings of a task's `deno run` command. */
export interface StartTaskRuntime {
  /** Environment variables set to literal values in front of `deno run`. */
  env: Record<string, string>;
  /** The V8 flags of its `--v8-flags=…` (none when it has none). */
  v8Flags: string[];
}

/**
 * The runtime settings of the `deno run` command in `task` (a task's command
 * line: commands joined by `&&`).
 *
 * @throws Error when the task has no `deno run` command.
 * @example
 * ```ts
 * import { parseStartTask } from "./start_task.ts";
 * parseStartTask("deno run -A main.ts").v8Flags; // []
 * ```
 */
export function parseStartTask(task: string): StartTaskRuntime {
  const command = task.split("&&").map((c) => c.trim()).find((c) => /(^|\s)deno run\s/.test(c));
  if (command === undefined) throw new Error(`expected a "deno run" command in the task: ${task}`);
  const at = command.search(/(^|\s)deno run\s/);
  const env: Record<string, string> = {};
  for (const word of command.slice(0, at).trim().split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=([^$`'"]*)$/.exec(word);
    if (m !== null) env[m[1]] = m[2];
  }
  const words = command.slice(at).trim().split(/\s+/);
  const flag = words.find((w) => w.startsWith("--v8-flags="));
  const v8Flags = flag === undefined
    ? []
    : flag.slice("--v8-flags=".length).split(",").filter(Boolean);
  return { env, v8Flags };
}

/**
 * The runtime settings of `deno task start` in the repository's `deno.json`.
 *
 * @example
 * ```ts ignore
 * const { env, v8Flags } = await startTaskRuntime();
 * ```
 */
export async function startTaskRuntime(): Promise<StartTaskRuntime> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  return parseStartTask(config.tasks.start);
}
