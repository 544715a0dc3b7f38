/**
 * Where a process's resident memory lives, from Linux's `/proc/<pid>/smaps`:
 * the resident kilobytes of every mapping, summed by kind, so that a step in
 * RSS can be attributed (the soak prints these per sample). Linux only.
 *
 * The kinds are told apart by how each allocator maps memory:
 *
 * - `mallocBrk`: `[heap]`, glibc malloc's main arena (the main thread's
 *   allocations and any made before other threads existed).
 * - `mallocArenas`: glibc's other arenas. Each is an anonymous mapping
 *   reserved as 64 MiB aligned to 64 MiB, of which the used part is
 *   read-write and the rest `---p`; a thread that calls malloc is given one
 *   (up to 8 per core), and it keeps the pages it touched until trimmed.
 * - `v8Pages`: V8 heap pages: anonymous read-write mappings aligned to, and a
 *   multiple of, 256 KiB (V8's page size; large-object pages included).
 * - `v8Code`: anonymous read-write-execute mappings, V8's code ranges (one
 *   reserved range per isolate).
 * - `stacks`: `[stack]` and the other threads' stacks (anonymous read-write
 *   mappings directly above a `---p` guard page that are not arenas).
 * - `otherAnon`: the rest of the anonymous memory (large malloc blocks that
 *   glibc maps on their own, Rust and tokio buffers, …).
 * - `file`: file-backed pages (the executable, libraries, the code cache).
 *
 * The rules are heuristics about allocators, not facts the kernel states: a
 * 256 KiB-aligned large malloc block counts as `v8Pages`. They agree with the
 * totals: the kinds sum to the process's `Rss` (smaps' sum over mappings).
 *
 * @example
 * ```ts
 * const kinds = residentByKind(Deno.pid);
 * kinds.totalKiB > 0; // true
 * ```
 * @module
 */

/** Resident memory of one process by kind, KiB; see the module doc for the kinds. */
export interface ResidentByKind {
  /** `[heap]`: glibc's main arena (brk). */
  mallocBrk: number;
  /** glibc's other arenas (64 MiB-aligned anonymous heaps). */
  mallocArenas: number;
  /** Number of glibc arenas besides the main one. */
  arenaCount: number;
  /** V8 heap pages (256 KiB-aligned anonymous read-write mappings). */
  v8Pages: number;
  /** V8 code ranges (anonymous read-write-execute). */
  v8Code: number;
  /** Thread stacks. */
  stacks: number;
  /** Other anonymous memory. */
  otherAnon: number;
  /** File-backed pages. */
  file: number;
  /** The sum of the above: the process's resident set as smaps counts it. */
  totalKiB: number;
}

/** One mapping of smaps: its range, permissions, name and resident KiB. */
interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  name: string;
  rss: number;
}

const KIB = 1024n;
const ARENA = 64n * 1024n * KIB; // glibc HEAP_MAX_SIZE on 64-bit
const V8_PAGE = 256n * KIB;

/** Parse `/proc/<pid>/smaps` into mappings. */
function readMappings(pid: number): Mapping[] {
  const text = Deno.readTextFileSync(`/proc/${pid}/smaps`);
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = {
        start: BigInt("0x" + head[1]),
        end: BigInt("0x" + head[2]),
        perms: head[3],
        name: head[4],
        rss: 0,
      };
      out.push(cur);
    } else if (cur && line.startsWith("Rss:")) {
      cur.rss = Number(/(\d+)/.exec(line)![1]);
    }
  }
  return out;
}

/**
 * Resident memory of `pid` by kind (see the module doc), KiB.
 *
 * @throws Deno.errors.NotFound when the process does not exist.
 * @example
 * ```ts
 * const { mallocArenas, v8Pages, totalKiB } = residentByKind(Deno.pid);
 * mallocArenas + v8Pages <= totalKiB; // true
 * ```
 */
export function residentByKind(pid: number): ResidentByKind {
  const maps = readMappings(pid);
  const r: ResidentByKind = {
    mallocBrk: 0,
    mallocArenas: 0,
    arenaCount: 0,
    v8Pages: 0,
    v8Code: 0,
    stacks: 0,
    otherAnon: 0,
    file: 0,
    totalKiB: 0,
  };
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    r.totalKiB += m.rss;
    if (m.name === "[heap]") r.mallocBrk += m.rss;
    else if (m.name.startsWith("[stack")) r.stacks += m.rss;
    else if (m.name !== "" && !m.name.startsWith("[")) r.file += m.rss;
    else if (m.name !== "") r.otherAnon += m.rss; // [vvar], [vdso], …
    else if (m.perms.includes("x")) r.v8Code += m.rss;
    else if (isArena(m, maps[i + 1])) {
      r.mallocArenas += m.rss;
      r.arenaCount++;
    } else if (m.start % V8_PAGE === 0n && (m.end - m.start) % V8_PAGE === 0n) {
      r.v8Pages += m.rss;
    } else if (i > 0 && maps[i - 1].perms.startsWith("---") && maps[i - 1].end === m.start) {
      r.stacks += m.rss;
    } else r.otherAnon += m.rss;
  }
  return r;
}

/**
 * A glibc arena heap: read-write, starting on a 64 MiB boundary, either the
 * whole 64 MiB or followed by its `---p` remainder up to the next boundary.
 */
function isArena(m: Mapping, next: Mapping | undefined): boolean {
  if (!m.perms.startsWith("rw") || m.start % ARENA !== 0n) return false;
  if (m.end - m.start === ARENA) return true;
  return next !== undefined && next.start === m.end && next.perms.startsWith("---") &&
    next.end === m.start + ARENA;
}
