/**
 * What Linux's `/proc` says about a process and the machine, for benchmarks
 * and system runs: a process's CPU time (`/proc/<pid>/stat`) and resident
 * memory and its peak (`/proc/<pid>/status`), per-core busy time
 * (`/proc/stat`) and this process's open-file limit (`/proc/self/limits`).
 * Linux only; the readers throw where `/proc` is missing, except
 * {@link openFileLimit} and {@link resetPeakRss}.
 *
 * @example
 * ```ts
 * const before = coreTimes();
 * const cpu0 = processCpuMs("self");
 * // … the work to measure …
 * const busy = coreBusy(before, coreTimes()); // [0.41, 0.12] on two cores
 * console.log(processCpuMs("self") - cpu0, busy, processRssMiB(Deno.pid));
 * ```
 * @module
 */

/** Kernel clock ticks per second (`USER_HZ`), 100 on every Linux Deno runs on. */
const USER_HZ = 100;

/**
 * CPU time (utime + stime, all threads) a process has used, ms, with the
 * kernel's 10 ms resolution.
 *
 * @param pid a process id, or `"self"` for this process
 * @example
 * ```ts
 * const ms = processCpuMs("self");
 * ```
 */
export function processCpuMs(pid: number | "self"): number {
  const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces: count fields after its ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) * (1000 / USER_HZ);
}

/**
 * Resident memory (`VmRSS`) of a process, MiB; NaN when the kernel does not
 * report it (a zombie).
 *
 * @example
 * ```ts
 * const mib = processRssMiB(Deno.pid);
 * ```
 */
export function processRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Peak resident memory (`VmHWM`) of a process, MiB: the highest `VmRSS` since
 * it started or since {@link resetPeakRss}; NaN when the kernel does not
 * report it.
 *
 * @example
 * ```ts
 * processPeakRssMiB(Deno.pid) >= processRssMiB(Deno.pid); // true
 * ```
 */
export function processPeakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Reset a process's peak resident memory (`VmHWM`) to its current `VmRSS`
 * (writes `5` to `/proc/<pid>/clear_refs`, Linux 4.0+; needs write
 * permission and the same user). False when that was refused.
 *
 * @example
 * ```ts
 * if (resetPeakRss(Deno.pid)) {
 *   // … the work to measure …
 *   console.log(processPeakRssMiB(Deno.pid));
 * }
 * ```
 */
export function resetPeakRss(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Busy and total clock ticks of one core since boot (see {@link coreTimes}). */
export type CoreTicks = readonly [busy: number, total: number];

/**
 * Busy and total ticks of every core since boot, from `/proc/stat` (busy =
 * total − idle − iowait).
 *
 * @example
 * ```ts
 * coreTimes().length === navigator.hardwareConcurrency; // true
 * ```
 */
export function coreTimes(): CoreTicks[] {
  const out: CoreTicks[] = [];
  for (const line of Deno.readTextFileSync("/proc/stat").split("\n")) {
    if (!/^cpu\d+ /.test(line)) continue;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out.push([total - v[3] - v[4], total]);
  }
  return out;
}

/**
 * Busy fraction of each core between two {@link coreTimes} readings, rounded
 * to 0.001 (0 for a core whose clock did not advance); `undefined` when the
 * readings have different core counts (a CPU went on- or offline).
 *
 * @example
 * ```ts
 * const t0 = coreTimes();
 * await new Promise((r) => setTimeout(r, 100));
 * coreBusy(t0, coreTimes()); // e.g. [0.05, 0.3]
 * ```
 */
export function coreBusy(
  before: readonly CoreTicks[],
  after: readonly CoreTicks[],
): number[] | undefined {
  if (before.length !== after.length) return undefined;
  return after.map(([busy, total], i) => {
    const dt = total - before[i][1];
    return dt > 0 ? Math.round(((busy - before[i][0]) / dt) * 1000) / 1000 : 0;
  });
}

/**
 * The soft limit on open files of this process (`Max open files` in
 * `/proc/self/limits`); `Infinity` when unlimited, NaN when unknown.
 *
 * @example
 * ```ts
 * const clients = 1000;
 * if (openFileLimit() < 2 * clients + 200) console.warn("raise ulimit -n");
 * ```
 */
export function openFileLimit(): number {
  try {
    const m = /Max open files\s+(\S+)/.exec(Deno.readTextFileSync("/proc/self/limits"));
    if (!m) return NaN;
    return m[1] === "unlimited" ? Infinity : Number(m[1]);
  } catch {
    return NaN;
  }
}
