/**
 * Per-thread CPU time of a process from `/proc/<pid>/task/<tid>/stat`, the
 * `top -H` view: which thread of a Deno process (main isolate, workers,
 * tokio runtime, V8 GC helpers) spent the CPU. Linux only.
 *
 * @example
 * ```ts
 * import { threadBusy, threadCpuMs } from "./thread_stats.ts";
 * const before = threadCpuMs(Deno.pid);
 * // … the work to measure …
 * console.log(threadBusy(before, threadCpuMs(Deno.pid), 1000).slice(0, 3));
 * ```
 * @module
 */

/** Kernel clock ticks per second (`USER_HZ`). */
const USER_HZ = 100;

/** One thread's name and CPU time (utime + stime), ms. */
export interface ThreadCpu {
  /** Thread id. */
  tid: number;
  /** Its name (`comm`, at most 15 characters), e.g. `main`, `tokio-runtime-w`. */
  name: string;
  /** CPU time used since it started, ms (10 ms resolution). */
  ms: number;
}

/**
 * Every thread of `pid` with its CPU time; an empty list when the process is gone.
 *
 * @example
 * ```ts
 * import { threadCpuMs } from "./thread_stats.ts";
 * threadCpuMs(Deno.pid).length > 0; // true
 * ```
 */
export function threadCpuMs(pid: number): ThreadCpu[] {
  const out: ThreadCpu[] = [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const e of entries) {
    try {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/stat`);
      const name = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      out.push({
        tid: Number(e.name),
        name,
        ms: (Number(f[11]) + Number(f[12])) * (1000 / USER_HZ),
      });
    } catch { /* the thread ended */ }
  }
  return out;
}

/**
 * CPU of each thread between two {@link threadCpuMs} readings over
 * `elapsedMs`, in cores (1 = one core busy), busiest first, threads below
 * 0.01 core left out.
 *
 * @example
 * ```ts
 * import { threadBusy } from "./thread_stats.ts";
 * threadBusy([{ tid: 1, name: "main", ms: 0 }], [{ tid: 1, name: "main", ms: 500 }], 1000);
 * // [{ tid: 1, name: "main", cores: 0.5 }]
 * ```
 */
export function threadBusy(
  before: readonly ThreadCpu[],
  after: readonly ThreadCpu[],
  elapsedMs: number,
): { tid: number; name: string; cores: number }[] {
  const was = new Map(before.map((t) => [t.tid, t.ms]));
  return after
    .map((t) => ({
      tid: t.tid,
      name: t.name,
      cores: Math.round(((t.ms - (was.get(t.tid) ?? 0)) / elapsedMs) * 100) / 100,
    }))
    .filter((t) => t.cores >= 0.01)
    .sort((a, b) => b.cores - a.cores);
}
