/**
 * The recording writer: appends `<time> <message>` lines into an in-memory
 * block, closes a block at `blockBytes` of text (default 1 MiB), on `flush()`
 * or when the hour changes, compresses it as one independent zstd frame and
 * appends it to `DIR/<venue>/YYYY-MM-DD/HH.dwrec.zst.partial` with a 40-byte
 * entry in `HH.dwrec.idx` (see record_index.ts). A file is renamed to
 * `HH.dwrec.zst` when its hour closes (a record of a later UTC hour arrives) or
 * on `close()`. A record whose hour is earlier than the open file's (the clock
 * stepped back) goes into the open file.
 *
 * Disk errors (ENOSPC, EACCES, …) never throw: the block's records are dropped
 * and counted, the file is cut back to its last whole block, and the next block
 * tries again, so writing resumes when space returns. With `maxBytes` /
 * `maxAgeMs`, the oldest hours of the whole directory are deleted first.
 *
 * Memory: one block buffer of `blockBytes` plus the compressed copy of one
 * block while it is written.
 *
 * @example
 * ```ts
 * import { RecordWriter } from "./record_writer.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = new RecordWriter({ dir, venue: "binance" });
 * w.append(Date.UTC(2026, 11, 2, 12) * 1000, '{"e":"depthUpdate"}'); // true
 * w.close();
 * w.counters.records; // 1
 * Deno.statSync(`${dir}/binance/2026-12-02/12.dwrec.zst`).isFile; // true
 * ```
 * @module
 */
import { encodeLine, isRecordableTime, LF, TIME_LENGTH, writeTime } from "./record_line.ts";
import { compressFrame, DEFAULT_ZSTD_LEVEL } from "./zstd_frames.ts";
import {
  decodeIndex,
  encodeIndexEntry,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER,
  validIndexPrefix,
} from "./record_index.ts";
import { denoRecordFs, type RecordFile, type RecordFs, writeAll } from "./record_fs.ts";
import {
  DATA_SUFFIX,
  HOUR_US,
  hourFileName,
  INDEX_SUFFIX,
  PARTIAL_SUFFIX,
} from "./record_paths.ts";
import { pruneRecordings } from "./record_bounds.ts";

const SPACE = 32;

/** Default block size: 1 MiB of uncompressed text. */
export const DEFAULT_BLOCK_BYTES = 1 << 20;

/** Options of {@link RecordWriter}. */
export interface RecordWriterOptions {
  /** Recording directory (created when missing). */
  dir: string;
  /** Venue folder name, e.g. "binance". */
  venue: string;
  /** Uncompressed bytes per block. Default {@link DEFAULT_BLOCK_BYTES} (1 MiB). */
  blockBytes?: number;
  /** zstd level. Default 3. */
  level?: number;
  /** Bound on the directory's data + index bytes (all venues). Default Infinity. */
  maxBytes?: number;
  /** Hours that ended longer ago than this are deleted. Default Infinity. */
  maxAgeMs?: number;
  /** Wall clock for `maxAgeMs`, ms. Default `Date.now`. */
  nowMs?: () => number;
  /** File operations. Default the real disk ({@link denoRecordFs}). */
  fs?: RecordFs;
  /** Called with each error's message (for the log). Default none. */
  onError?: (message: string) => void;
}

/** What a {@link RecordWriter} did, for the caller to publish as metrics. */
export interface RecordWriterCounters {
  /** Bytes appended to data and index files. */
  bytesWritten: number;
  /** Hour files opened. */
  files: number;
  /** Blocks written. */
  blocks: number;
  /** Records written (in written blocks). */
  records: number;
  /** Records dropped: in blocks a disk error lost, or not recordable (see `invalid`). */
  dropped: number;
  /** Records refused: a time out of range or a message with a line feed. */
  invalid: number;
  /** Disk errors (open, write, rename, delete). */
  errors: number;
  /** Files deleted by the bounds. */
  filesDeleted: number;
  /** Bytes deleted by the bounds. */
  bytesDeleted: number;
}

interface OpenFile {
  dataPath: string; // the .partial path
  indexPath: string;
  data: RecordFile;
  index: RecordFile;
  size: number; // bytes of whole blocks in the data file
  indexSize: number;
  dirty: boolean; // a failed write may have left bytes past `size`
}

/**
 * Writes one venue's recording; see the module documentation.
 *
 * @example
 * ```ts
 * import { RecordWriter } from "./record_writer.ts";
 * const w = new RecordWriter({
 *   dir: Deno.makeTempDirSync(),
 *   venue: "binance",
 *   maxBytes: 10 * 2 ** 30,
 *   maxAgeMs: 7 * 86_400_000,
 *   onError: (message) => console.error(message),
 * });
 * w.append(Date.now() * 1000, new TextEncoder().encode('{"e":"depthUpdate"}'));
 * w.flush(); // true: the block is on disk
 * w.close();
 * ```
 */
export class RecordWriter {
  /** Counters (a plain object the caller reads; never reset). */
  readonly counters: RecordWriterCounters = {
    bytesWritten: 0,
    files: 0,
    blocks: 0,
    records: 0,
    dropped: 0,
    invalid: 0,
    errors: 0,
    filesDeleted: 0,
    bytesDeleted: 0,
  };
  /** The last error's message, or undefined. */
  lastError: string | undefined;

  readonly #dir: string;
  readonly #venue: string;
  readonly #level: number;
  readonly #fs: RecordFs;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #nowMs: () => number;
  readonly #onError?: (message: string) => void;
  readonly #block: Uint8Array;
  readonly #entry = new Uint8Array(INDEX_ENTRY_SIZE);
  #len = 0;
  #records = 0;
  #first = Infinity;
  #last = -Infinity;
  #hourUs = NaN;
  #file: OpenFile | undefined;
  #diskBytes = NaN; // directory total as of the last prune plus what was written since

  /** A writer; nothing touches the disk until the first block is written. */
  constructor(options: RecordWriterOptions) {
    this.#dir = options.dir;
    this.#venue = options.venue;
    if (!/^[A-Za-z0-9_-]+$/.test(this.#venue)) {
      throw new Error(`venue must be letters, digits, "-" or "_", got "${this.#venue}"`);
    }
    const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
    if (!(blockBytes >= 256)) throw new Error(`blockBytes must be ≥ 256, got ${blockBytes}`);
    this.#block = new Uint8Array(blockBytes);
    this.#level = options.level ?? DEFAULT_ZSTD_LEVEL;
    this.#fs = options.fs ?? denoRecordFs;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#maxAgeMs = options.maxAgeMs ?? Infinity;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#onError = options.onError;
  }

  /**
   * Appends one record: `receiveTimeUs` (integer µs since the epoch) and the
   * message exactly as received (no line feed inside). Returns false when the
   * record is refused (counted in `invalid` and `dropped`); a disk error shows
   * later, in the counters, when its block is written.
   */
  append(receiveTimeUs: number, message: string | Uint8Array): boolean {
    const lf = typeof message === "string" ? message.indexOf("\n") : message.indexOf(LF);
    if (!isRecordableTime(receiveTimeUs) || lf >= 0) {
      this.counters.invalid++;
      this.counters.dropped++;
      return false;
    }
    this.#enterHour(receiveTimeUs);
    let end = encodeLine(this.#block, this.#len, receiveTimeUs, message);
    if (end < 0 && this.#len > 0) {
      this.flush();
      end = encodeLine(this.#block, 0, receiveTimeUs, message);
    }
    if (end < 0) return this.#appendOversize(receiveTimeUs, message);
    this.#len = end;
    this.#records++;
    if (receiveTimeUs < this.#first) this.#first = receiveTimeUs;
    if (receiveTimeUs > this.#last) this.#last = receiveTimeUs;
    return true;
  }

  /**
   * Appends one record whose message is `length` bytes of `source` from
   * `start` (e.g. a record ring's bytes, read in place): copied once into the
   * block, no string made. Same rules and result as {@link RecordWriter.append}.
   *
   * @example
   * ```ts
   * import { RecordWriter } from "./record_writer.ts";
   * const w = new RecordWriter({ dir: Deno.makeTempDirSync(), venue: "binance" });
   * const bytes = new TextEncoder().encode('xx{"e":"depthUpdate"}');
   * w.appendFrom(Date.UTC(2026, 11, 2, 12) * 1000, bytes, 2, bytes.length - 2); // true
   * w.close();
   * ```
   */
  appendFrom(receiveTimeUs: number, source: Uint8Array, start: number, length: number): boolean {
    if (!isRecordableTime(receiveTimeUs)) {
      this.counters.invalid++;
      this.counters.dropped++;
      return false;
    }
    const block = this.#block;
    const need = TIME_LENGTH + 1 + length + 1;
    this.#enterHour(receiveTimeUs);
    if (this.#len + need > block.length) {
      this.flush();
      if (need > block.length) {
        const message = source.subarray(start, start + length);
        if (message.indexOf(LF) >= 0) return this.append(receiveTimeUs, message);
        return this.#appendOversize(receiveTimeUs, message);
      }
    }
    const pos = this.#len;
    const at = pos + TIME_LENGTH + 1;
    const end = at + length;
    block[end] = LF;
    block.set(source.subarray(start, start + length), at);
    if (block.indexOf(LF, at) !== end) {
      this.counters.invalid++;
      this.counters.dropped++;
      return false;
    }
    writeTime(block, pos, receiveTimeUs);
    block[pos + TIME_LENGTH] = SPACE;
    this.#len = end + 1;
    this.#records++;
    if (receiveTimeUs < this.#first) this.#first = receiveTimeUs;
    if (receiveTimeUs > this.#last) this.#last = receiveTimeUs;
    return true;
  }

  /** A record of a later hour closes the open block and file first. */
  #enterHour(receiveTimeUs: number): void {
    const hourUs = Math.floor(receiveTimeUs / HOUR_US) * HOUR_US;
    if (hourUs > this.#hourUs) {
      this.flush();
      this.#closeFile();
      this.#hourUs = hourUs;
    } else if (Number.isNaN(this.#hourUs)) this.#hourUs = hourUs;
  }

  /** A record larger than a block: written as a block of its own. */
  #appendOversize(us: number, message: string | Uint8Array): boolean {
    const max = typeof message === "string" ? message.length * 3 : message.length;
    const buf = new Uint8Array(TIME_LENGTH + 2 + max);
    const end = encodeLine(buf, 0, us, message);
    this.#writeBlock(buf.subarray(0, end), 1, us, us);
    return true;
  }

  /**
   * Closes the current block: compresses it and appends it and its index
   * entry. Returns false when a disk error dropped it (counted).
   */
  flush(): boolean {
    if (this.#len === 0) return true;
    const ok = this.#writeBlock(
      this.#block.subarray(0, this.#len),
      this.#records,
      this.#first,
      this.#last,
    );
    this.#len = 0;
    this.#records = 0;
    this.#first = Infinity;
    this.#last = -Infinity;
    return ok;
  }

  /**
   * Gives up without another write: the open block's records are counted as
   * dropped and the files are closed as they are (the data file stays
   * `.partial`; a writer started later continues it after its last indexed
   * block). For a recorder that lost its lease: another may own the file now.
   */
  abandon(): void {
    this.counters.dropped += this.#records;
    this.#len = 0;
    this.#records = 0;
    this.#first = Infinity;
    this.#last = -Infinity;
    const file = this.#file;
    this.#file = undefined;
    this.#hourUs = NaN;
    for (const f of file ? [file.data, file.index] : []) {
      try {
        f.close();
      } catch (e) {
        this.#error(`closing ${file!.dataPath}`, e);
      }
    }
  }

  /** Flushes and closes the hour file (renamed from `.partial`). The writer may be used again. */
  close(): void {
    this.flush();
    this.#closeFile();
    this.#hourUs = NaN;
  }

  #error(what: string, e: unknown): void {
    this.counters.errors++;
    const code = (e as { code?: string }).code;
    this.lastError = `${what}: ${(e as Error).message ?? e}${code ? ` (${code})` : ""}`;
    this.#onError?.(this.lastError);
  }

  #writeBlock(text: Uint8Array, records: number, first: number, last: number): boolean {
    const file = this.#file ?? this.#openFile();
    if (!file || !this.#clean(file)) {
      this.counters.dropped += records;
      return false;
    }
    const frame = compressFrame(text, this.#level);
    const entry = encodeIndexEntry({
      firstUs: first,
      lastUs: last,
      offset: file.size,
      length: frame.length,
      rawLength: text.length,
      records,
    }, this.#entry);
    try {
      writeAll(file.data, frame);
      writeAll(file.index, entry);
    } catch (e) {
      this.#error(`writing ${file.dataPath}`, e);
      file.dirty = true;
      this.#clean(file);
      this.counters.dropped += records;
      return false;
    }
    file.size += frame.length;
    file.indexSize += INDEX_ENTRY_SIZE;
    const c = this.counters;
    c.blocks++;
    c.records += records;
    c.bytesWritten += frame.length + INDEX_ENTRY_SIZE;
    this.#diskBytes += frame.length + INDEX_ENTRY_SIZE;
    if (this.#diskBytes > this.#maxBytes) this.#prune();
    return true;
  }

  /** Cuts the files back to their whole blocks after a failed write; false while that fails. */
  #clean(file: OpenFile): boolean {
    if (!file.dirty) return true;
    try {
      file.data.truncate(file.size);
      file.index.truncate(file.indexSize);
      file.dirty = false;
      return true;
    } catch (e) {
      this.#error(`truncating ${file.dataPath}`, e);
      return false;
    }
  }

  #openFile(): OpenFile | undefined {
    if (Number.isNaN(this.#hourUs)) return undefined;
    const base = `${this.#dir}/${this.#venue}/${hourFileName(this.#hourUs)}`;
    const dataPath = `${base}${DATA_SUFFIX}${PARTIAL_SUFFIX}`;
    const indexPath = `${base}${INDEX_SUFFIX}`;
    const fs = this.#fs;
    try {
      fs.mkdir(base.slice(0, base.lastIndexOf("/")));
      const keep = this.#resume(base, dataPath, indexPath);
      const data = fs.open(dataPath);
      let index: RecordFile;
      try {
        index = fs.open(indexPath);
      } catch (e) {
        data.close();
        throw e;
      }
      const file: OpenFile = {
        dataPath,
        indexPath,
        data,
        index,
        size: keep.size,
        indexSize: keep.indexSize,
        dirty: true,
      };
      this.#file = file;
      if (keep.indexSize === 0) {
        file.index.truncate(0);
        writeAll(file.index, INDEX_HEADER);
        file.indexSize = INDEX_HEADER.length;
      }
      this.counters.files++;
      this.#prune();
      return file;
    } catch (e) {
      this.#error(`opening ${dataPath}`, e);
      if (this.#file) this.#closeFile();
      return undefined;
    }
  }

  /**
   * An hour file already on disk (a restart within the hour): continues it
   * after its last indexed block; without a usable index its data is kept
   * aside as `HH-<n>.dwrec.zst` and a new file starts.
   */
  #resume(base: string, dataPath: string, indexPath: string): { size: number; indexSize: number } {
    const fs = this.#fs;
    const closed = `${base}${DATA_SUFFIX}`;
    if (fs.size(closed) >= 0) fs.rename(closed, dataPath);
    const size = fs.size(dataPath);
    if (size <= 0) return { size: 0, indexSize: 0 };
    const indexBytes = fs.size(indexPath) >= 0 ? fs.read(indexPath) : undefined;
    const entries = indexBytes && decodeIndex(indexBytes);
    const valid = entries ? validIndexPrefix(entries, size) : [];
    if (valid.length > 0) {
      const last = valid[valid.length - 1];
      return {
        size: last.offset + last.length,
        indexSize: INDEX_HEADER.length + valid.length * INDEX_ENTRY_SIZE,
      };
    }
    let n = 1;
    while (fs.size(`${base}-${n}${DATA_SUFFIX}`) >= 0) n++;
    fs.rename(dataPath, `${base}-${n}${DATA_SUFFIX}`);
    if (indexBytes) fs.remove(indexPath);
    return { size: 0, indexSize: 0 };
  }

  #closeFile(): void {
    const file = this.#file;
    if (!file) return;
    this.#file = undefined;
    this.#clean(file);
    for (const f of [file.data, file.index]) {
      try {
        f.close();
      } catch (e) {
        this.#error(`closing ${file.dataPath}`, e);
      }
    }
    try {
      if (file.size === 0) {
        this.#fs.remove(file.dataPath);
        this.#fs.remove(file.indexPath);
      } else this.#fs.rename(file.dataPath, file.dataPath.slice(0, -PARTIAL_SUFFIX.length));
    } catch (e) {
      this.#error(`closing ${file.dataPath}`, e);
    }
  }

  #prune(): void {
    if (this.#maxBytes === Infinity && this.#maxAgeMs === Infinity) return;
    const r = pruneRecordings(this.#fs, this.#dir, {
      maxBytes: this.#maxBytes,
      maxAgeMs: this.#maxAgeMs,
      nowMs: this.#nowMs(),
      keep: this.#file?.dataPath,
    });
    this.counters.filesDeleted += r.filesDeleted;
    this.counters.bytesDeleted += r.bytesDeleted;
    // Over the bound with nothing left to delete (the open files): look again at the next file.
    this.#diskBytes = r.totalBytes > this.#maxBytes ? -Infinity : r.totalBytes;
    if (r.errors > 0) {
      this.counters.errors += r.errors;
      this.lastError = r.lastError;
      if (r.lastError) this.#onError?.(r.lastError);
    }
  }
}
