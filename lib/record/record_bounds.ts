/**
 * Keeps a recording directory within its bounds: hours older than `maxAgeMs`
 * are deleted, then the oldest hours until the total is at most `maxBytes`.
 * The file being written (`keep`) is never deleted, nor any `.partial` file of
 * the last two hours (another venue's writer may have it open). Errors are
 * counted, never thrown.
 *
 * @example
 * ```ts
 * import { pruneRecordings } from "./record_bounds.ts";
 * import { denoRecordFs } from "./record_fs.ts";
 * const r = pruneRecordings(denoRecordFs, Deno.makeTempDirSync(), { maxBytes: 1e9, nowMs: Date.now() });
 * r.totalBytes; // 0
 * ```
 * @module
 */
import type { RecordFs } from "./record_fs.ts";
import { HOUR_US, listHourFiles } from "./record_paths.ts";

/** Options of {@link pruneRecordings}. */
export interface PruneOptions {
  /** Largest total of data and index files, bytes. Default Infinity (no bound). */
  maxBytes?: number;
  /** Hours that ended more than this long before `nowMs` are deleted. Default Infinity. */
  maxAgeMs?: number;
  /** The current time, ms since the epoch. */
  nowMs: number;
  /** Data file (either name: with or without `.partial`) that is open and kept. */
  keep?: string;
}

/** What {@link pruneRecordings} did. */
export interface PruneResult {
  /** Data and index files deleted. */
  filesDeleted: number;
  bytesDeleted: number;
  /** Bytes left (data and index files). */
  totalBytes: number;
  /** Failed deletions or listings. */
  errors: number;
  /** The last error's message. */
  lastError?: string;
}

/**
 * Deletes hours past the bounds, oldest first (by hour, then venue).
 *
 * @example
 * ```ts
 * import { pruneRecordings } from "./record_bounds.ts";
 * import { denoRecordFs } from "./record_fs.ts";
 * const dir = Deno.makeTempDirSync();
 * pruneRecordings(denoRecordFs, dir, { maxAgeMs: 86_400_000, nowMs: Date.now() }).filesDeleted; // 0
 * ```
 */
export function pruneRecordings(fs: RecordFs, dir: string, opts: PruneOptions): PruneResult {
  const maxBytes = opts.maxBytes ?? Infinity;
  const maxAgeMs = opts.maxAgeMs ?? Infinity;
  const result: PruneResult = { filesDeleted: 0, bytesDeleted: 0, totalBytes: 0, errors: 0 };
  let files;
  try {
    files = listHourFiles(fs, dir);
  } catch (e) {
    result.errors++;
    result.lastError = `listing ${dir}: ${(e as Error).message}`;
    return result;
  }
  const keep = opts.keep?.replace(/\.partial$/, "");
  // Another venue's writer may have its file open: a .partial of the last two hours is left alone.
  const recentUs = opts.nowMs * 1000 - 2 * HOUR_US;
  const sized = files.map((f) => {
    const data = Math.max(0, fs.size(f.path));
    const index = Math.max(0, fs.size(f.indexPath));
    const open = f.partial && f.startUs >= recentUs;
    return { f, bytes: data + index, kept: open || f.path.replace(/\.partial$/, "") === keep };
  });
  result.totalBytes = sized.reduce((s, x) => s + x.bytes, 0);
  const cutoffUs = (opts.nowMs - maxAgeMs) * 1000;
  for (const x of sized) {
    if (x.kept) continue;
    const tooOld = x.f.startUs + HOUR_US <= cutoffUs;
    if (!tooOld && result.totalBytes <= maxBytes) continue;
    let deleted = 0;
    for (const path of [x.f.path, x.f.indexPath]) {
      try {
        const size = fs.size(path);
        if (size < 0) continue;
        fs.remove(path);
        result.filesDeleted++;
        result.bytesDeleted += size;
        deleted += size;
      } catch (e) {
        result.errors++;
        result.lastError = `deleting ${path}: ${(e as Error).message}`;
      }
    }
    result.totalBytes -= deleted;
    removeIfEmpty(fs, `${dir}/${x.f.venue}/${x.f.day}`);
  }
  return result;
}

function removeIfEmpty(fs: RecordFs, path: string): void {
  try {
    if (fs.readDir(path).length === 0) fs.remove(path);
  } catch {
    // a directory left behind is harmless; the next prune tries again
  }
}
