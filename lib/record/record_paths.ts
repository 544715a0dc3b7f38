/**
 * Where recordings live: `DIR/<venue>/YYYY-MM-DD/HH.dwrec.zst` (UTC hour of
 * the receive time), written as `HH.dwrec.zst.partial` until the hour is
 * closed, with its index `HH.dwrec.idx` beside it. A file recovered without a
 * usable index after a restart keeps its data as `HH-<n>.dwrec.zst` (no index;
 * read by scanning frames).
 *
 * @example
 * ```ts
 * import { hourFileName, parseHourFile } from "./record_paths.ts";
 * hourFileName(Date.UTC(2026, 11, 2, 13) * 1000); // "2026-12-02/13"
 * parseHourFile("binance", "2026-12-02", "13.dwrec.zst.partial")?.partial; // true
 * ```
 * @module
 */
import type { RecordFs } from "./record_fs.ts";

/** Data file suffix. */
export const DATA_SUFFIX = ".dwrec.zst";
/** Suffix added while a data file is being written. */
export const PARTIAL_SUFFIX = ".partial";
/** Index file suffix (replaces {@link DATA_SUFFIX}). */
export const INDEX_SUFFIX = ".dwrec.idx";

/** µs in an hour. */
export const HOUR_US = 3_600_000_000;

/**
 * `YYYY-MM-DD/HH` of the UTC hour holding `us` (µs since the epoch).
 *
 * @example
 * ```ts
 * import { hourFileName } from "./record_paths.ts";
 * hourFileName(0); // "1970-01-01/00"
 * ```
 */
export function hourFileName(us: number): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, 10)}/${iso.slice(11, 13)}`;
}

/** One hourly data file found on disk. */
export interface HourFile {
  venue: string;
  /** `YYYY-MM-DD`. */
  day: string;
  /** Start of the UTC hour, µs. */
  startUs: number;
  /** Path of the data file (with `.partial` when still open or left by a crash). */
  path: string;
  /** Path of its index (which may not exist). */
  indexPath: string;
  partial: boolean;
  /** Name without suffixes (`13`, or `13-2` for a recovered file): the sort key within an hour. */
  stem: string;
}

const HOUR_NAME = /^(\d{2})(-\d+)?\.dwrec\.zst(\.partial)?$/;
const DAY_NAME = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The {@link HourFile} of `name` in `DIR/venue/day/`, or undefined when the
 * name is not a data file's.
 *
 * @example
 * ```ts
 * import { parseHourFile } from "./record_paths.ts";
 * parseHourFile("binance", "2026-12-02", "07-1.dwrec.zst", "/rec")?.path; // "/rec/binance/2026-12-02/07-1.dwrec.zst"
 * parseHourFile("binance", "2026-12-02", "notes.txt"); // undefined
 * ```
 */
export function parseHourFile(
  venue: string,
  day: string,
  name: string,
  dir = ".",
): HourFile | undefined {
  const m = HOUR_NAME.exec(name);
  if (!m || !DAY_NAME.test(day)) return undefined;
  const hour = Number(m[1]);
  const startMs = Date.parse(`${day}T00:00:00Z`) + hour * 3_600_000;
  if (!Number.isFinite(startMs) || hour > 23) return undefined;
  const base = `${dir}/${venue}/${day}/${m[1]}${m[2] ?? ""}`;
  return {
    venue,
    day,
    startUs: startMs * 1000,
    path: `${base}${DATA_SUFFIX}${m[3] ?? ""}`,
    indexPath: `${base}${INDEX_SUFFIX}`,
    partial: m[3] !== undefined,
    stem: `${m[1]}${m[2] ?? ""}`,
  };
}

/**
 * Orders files by hour, then venue, then recovered files before the main one.
 *
 * @example
 * ```ts
 * import { compareHourFiles, parseHourFile } from "./record_paths.ts";
 * const a = parseHourFile("binance", "2026-12-02", "07.dwrec.zst")!;
 * const b = parseHourFile("binance", "2026-12-02", "07-1.dwrec.zst")!;
 * [a, b].sort(compareHourFiles)[0].stem; // "07-1"
 * ```
 */
export function compareHourFiles(a: HourFile, b: HourFile): number {
  if (a.startUs !== b.startUs) return a.startUs - b.startUs;
  if (a.venue !== b.venue) return a.venue < b.venue ? -1 : 1;
  const ra = a.stem.length > 2, rb = b.stem.length > 2;
  if (ra !== rb) return ra ? -1 : 1;
  return a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0;
}

/**
 * Every hourly data file under `dir` (`dir/<venue>/<day>/<file>`), oldest first.
 *
 * @example
 * ```ts
 * import { listHourFiles } from "./record_paths.ts";
 * import { denoRecordFs } from "./record_fs.ts";
 * listHourFiles(denoRecordFs, Deno.makeTempDirSync()).length; // 0
 * ```
 */
export function listHourFiles(fs: RecordFs, dir: string): HourFile[] {
  const out: HourFile[] = [];
  for (const v of fs.readDir(dir)) {
    if (!v.isDirectory) continue;
    for (const d of fs.readDir(`${dir}/${v.name}`)) {
      if (!d.isDirectory || !DAY_NAME.test(d.name)) continue;
      for (const f of fs.readDir(`${dir}/${v.name}/${d.name}`)) {
        const h = f.isFile ? parseHourFile(v.name, d.name, f.name, dir) : undefined;
        if (h) out.push(h);
      }
    }
  }
  return out.sort(compareHourFiles);
}
