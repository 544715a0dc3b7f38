/**
 * The few file operations the recording writer uses, behind an interface so a
 * test can inject a failing disk (ENOSPC) and the writer stays testable
 * without one. {@link denoRecordFs} is the real one (synchronous: the writer
 * runs in its own worker, where blocking on the disk slows only itself).
 *
 * @example
 * ```ts
 * import { denoRecordFs } from "./record_fs.ts";
 * const dir = Deno.makeTempDirSync();
 * const f = denoRecordFs.open(`${dir}/a.bin`);
 * f.write(new Uint8Array([1, 2, 3])); // 3
 * f.close();
 * denoRecordFs.size(`${dir}/a.bin`); // 3
 * ```
 * @module
 */

/** An open file, written at its end. */
export interface RecordFile {
  /** Writes some of `bytes` at the end; returns how many (may be fewer: call again). Throws on a disk error. */
  write(bytes: Uint8Array): number;
  /** Cuts the file to `length` bytes (the writer drops a half-written block this way). */
  truncate(length: number): void;
  /** Closes the file. */
  close(): void;
}

/** A directory entry. */
export interface RecordDirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

/** File operations of the writer; every method may throw (the writer counts it). */
export interface RecordFs {
  /** Creates a directory and its parents (no error when it exists). */
  mkdir(path: string): void;
  /** Opens (creating when missing) a file for appending. */
  open(path: string): RecordFile;
  /** Size in bytes, or -1 when the file does not exist. */
  size(path: string): number;
  /** The whole file. */
  read(path: string): Uint8Array;
  rename(from: string, to: string): void;
  /** Removes a file or an empty directory. */
  remove(path: string): void;
  /** The entries of a directory ([] when it does not exist). */
  readDir(path: string): RecordDirEntry[];
}

/**
 * Writes all of `bytes` to `file` (looping over short writes).
 *
 * @example
 * ```ts
 * import { denoRecordFs, writeAll } from "./record_fs.ts";
 * const f = denoRecordFs.open(Deno.makeTempFileSync());
 * writeAll(f, new Uint8Array(5));
 * f.close();
 * ```
 */
export function writeAll(file: RecordFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const n = file.write(done === 0 ? bytes : bytes.subarray(done));
    if (n <= 0) throw new Error(`write returned ${n} with ${bytes.length - done} bytes left`);
    done += n;
  }
}

/** The real file system (Deno's synchronous API). */
export const denoRecordFs: RecordFs = {
  mkdir(path) {
    Deno.mkdirSync(path, { recursive: true });
  },
  open(path) {
    const f = Deno.openSync(path, { create: true, append: true });
    return {
      write: (bytes) => f.writeSync(bytes),
      truncate: (length) => f.truncateSync(length),
      close: () => f.close(),
    };
  },
  size(path) {
    try {
      return Deno.statSync(path).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return -1;
      throw e;
    }
  },
  read: (path) => Deno.readFileSync(path),
  rename: (from, to) => Deno.renameSync(from, to),
  remove: (path) => Deno.removeSync(path),
  readDir(path) {
    try {
      return [...Deno.readDirSync(path)].map((e) => ({
        name: e.name,
        isFile: e.isFile,
        isDirectory: e.isDirectory,
      }));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
  },
};
