/**
 * What Linux's `/proc` says about one process's memory and threads, for the
 * footprint benchmark: resident memory now and at its peak
 * (`/proc/<pid>/status`), and the CPU time and name of every thread
 * (`/proc/<pid>/task/<tid>/stat` and `comm`). Process-wide CPU time and the
 * machine's cores are in `testing/proc_stats.ts`. Linux only; the readers
 * throw `Deno.errors.NotFound` once the process is gone.
 *
 * Deno names its threads: the main thread is the process itself (TID ==
 * PID, named after the executable, `deno`), each Web Worker runs on a thread
 * named `worker-<id>` (ids count from 1 in creation order; the same id names
 * the worker in the V8 inspector, see `testing/footprint_inspector.ts`), V8's
 * platform threads (GC, compiler) are `V8 DefaultWorke` (15 characters kept)
 * and tokio's are `tokio-runtime-w`.
 *
 * @example
 * ```ts
 * const mem = processMemory(Deno.pid);
 * const t0 = threadTimes(Deno.pid);
 * // … the work to measure …
 * const main = threadCpuDelta(t0, threadTimes(Deno.pid)).find((t) => t.tid === Deno.pid);
 * console.log(mem.rssMiB, mem.hwmMiB, main?.cpuMs);
 * ```
 * @module
 */

/** Kernel clock ticks per second (`USER_HZ`), 100 on every Linux Deno runs on. */
const USER_HZ = 100;
const KIB_PER_MIB = 1024;

/** Resident memory of a process, MiB (2^20 bytes), from `/proc/<pid>/status`. */
export interface ProcessMemory {
  /** `VmRSS`: resident now. */
  rssMiB: number;
  /** `VmHWM`: the largest resident size since the process started. */
  hwmMiB: number;
  /** `RssAnon`: resident anonymous memory (heaps, stacks, malloc arenas). */
  anonMiB: number;
  /** `RssFile`: resident file-backed pages (the executable, mapped files). */
  fileMiB: number;
}

/**
 * Resident memory of `pid` (NaN for a field the kernel does not report, as
 * for a zombie).
 *
 * @example
 * ```ts
 * const { rssMiB, hwmMiB } = processMemory(Deno.pid);
 * hwmMiB >= rssMiB; // true
 * ```
 */
export function processMemory(pid: number): ProcessMemory {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return m ? Number(m[1]) / KIB_PER_MIB : NaN;
  };
  return {
    rssMiB: kib("VmRSS"),
    hwmMiB: kib("VmHWM"),
    anonMiB: kib("RssAnon"),
    fileMiB: kib("RssFile"),
  };
}

/** CPU time one thread has used so far. */
export interface ThreadTime {
  /** Thread id (the main thread's is the process id). */
  tid: number;
  /** Thread name (`/proc/<pid>/task/<tid>/comm`, at most 15 characters). */
  name: string;
  /** utime + stime, ms (10 ms resolution). */
  cpuMs: number;
}

/** utime + stime of a `/proc/…/stat` line, ms. */
function statCpuMs(stat: string): number {
  // The command name (field 2) may hold spaces: count fields after its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) * (1000 / USER_HZ);
}

/**
 * Every live thread of `pid` with its name and CPU time. A thread that
 * exits while the list is read is left out.
 *
 * @throws Deno.errors.NotFound when the process does not exist.
 * @example
 * ```ts
 * const main = threadTimes(Deno.pid).find((t) => t.tid === Deno.pid);
 * main?.name; // "deno"
 * ```
 */
export function threadTimes(pid: number): ThreadTime[] {
  const out: ThreadTime[] = [];
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    const tid = Number(entry.name);
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/stat`);
      const name = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/comm`).trimEnd();
      out.push({ tid, name, cpuMs: statCpuMs(stat) });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return out;
}

/**
 * CPU each thread used between two {@link threadTimes} readings: the
 * threads of `after`, with `cpuMs` less their time in `before` (a thread
 * born in between counts from 0). Threads that ended in between are not in
 * the result; their time is in the process total (`processCpuMs`).
 *
 * @example
 * ```ts
 * const t0 = threadTimes(Deno.pid);
 * const used = threadCpuDelta(t0, threadTimes(Deno.pid));
 * used.every((t) => t.cpuMs >= 0); // true
 * ```
 */
export function threadCpuDelta(
  before: readonly ThreadTime[],
  after: readonly ThreadTime[],
): ThreadTime[] {
  const was = new Map(before.map((t) => [t.tid, t.cpuMs]));
  return after.map((t) => ({ ...t, cpuMs: t.cpuMs - (was.get(t.tid) ?? 0) }));
}
