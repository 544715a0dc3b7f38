/**
 * The block sources behind the recording reader: each yields decompressed text
 * chunks made of whole lines, with where they came from, and counts (never
 * throws on) bad content. {@link DwrecSource} reads one `.dwrec.zst` a block
 * at a time (seeking with its index, scanning frames where the index is
 * missing or ends early); {@link TextSource} reads a tardis-format file
 * (`.json.gz`, `.zst` or plain text) whole.
 *
 * @example
 * ```ts
 * import { TextSource } from "./record_sources.ts";
 * import { ReadIssues } from "./read_issues.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".txt" });
 * Deno.writeTextFileSync(path, "2026-12-02T12:00:00.000001Z {}\n");
 * const chunk = new TextSource(path, new ReadIssues()).next();
 * chunk?.end; // 31
 * ```
 * @module
 */
import { constants, gunzipSync } from "node:zlib";
import { LF } from "./record_line.ts";
import type { ReadIssues } from "./read_issues.ts";
import { DEFAULT_BLOCK_BYTES } from "./record_writer.ts";
import { decodeIndex, type IndexEntry, seekEntry, validIndexPrefix } from "./record_index.ts";
import {
  concatBytes,
  decompressFrame,
  decompressFrames,
  findFrameMagic,
  FRAME_INVALID,
  FRAME_TRUNCATED,
  frameLength,
} from "./zstd_frames.ts";

/** Whole lines of text from one place of one file. */
export interface TextChunk {
  /** The text; lines end with a line feed (the last may not, in a text file). */
  bytes: Uint8Array;
  /** End of the text in `bytes`. */
  end: number;
  file: string;
  /** Byte offset of the block (recordings) or 0 (text files) in the file. */
  offset: number;
  /** True when line offsets are reported inside the block (recordings). */
  inBlock: boolean;
  /** Index entry's record count, or -1 when unknown. */
  records: number;
}

/** A source of text chunks. */
export interface ChunkSource {
  /** The next chunk, or undefined at the end. */
  next(): TextChunk | undefined;
  /** Releases the file. */
  close(): void;
}

const SCAN_WINDOW = 4 << 20;

/**
 * One `.dwrec.zst` file, a block at a time.
 *
 * @example
 * ```ts
 * import { DwrecSource } from "./record_sources.ts";
 * import { ReadIssues } from "./read_issues.ts";
 * import { compressFrame } from "./zstd_frames.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".dwrec.zst" });
 * Deno.writeFileSync(path, compressFrame(new TextEncoder().encode("2026-12-02T12:00:00Z {}\n")));
 * const issues = new ReadIssues();
 * new DwrecSource(path, undefined, issues).next()?.end; // 24
 * issues.counts["missing-index"]; // 1
 * ```
 */
export class DwrecSource implements ChunkSource {
  readonly #path: string;
  readonly #issues: ReadIssues;
  readonly #toUs: number;
  #file: Deno.FsFile | undefined;
  #size = 0;
  #entries: IndexEntry[] = [];
  #entry = 0;
  #pos = 0; // scanning position once past the indexed blocks
  #win: Uint8Array = new Uint8Array(0);
  #winStart = 0;
  #winEnd = 0;

  /** Opens `path` (throws when it cannot be opened); `indexPath` may not exist. */
  constructor(
    path: string,
    indexPath: string | undefined,
    issues: ReadIssues,
    fromUs = -Infinity,
    toUs = Infinity,
  ) {
    this.#path = path;
    this.#issues = issues;
    this.#toUs = toUs;
    this.#file = Deno.openSync(path, { read: true });
    this.#size = this.#file.statSync().size;
    this.#loadIndex(indexPath);
    if (fromUs > -Infinity && this.#entries.length > 0) {
      this.#entry = seekEntry(this.#entries, fromUs);
    }
    const last = this.#entries[this.#entries.length - 1];
    this.#pos = last ? last.offset + last.length : 0;
  }

  #loadIndex(indexPath: string | undefined): void {
    let bytes: Uint8Array | undefined;
    try {
      if (indexPath) bytes = Deno.readFileSync(indexPath);
    } catch {
      bytes = undefined;
    }
    if (!bytes) {
      this.#issues.add("missing-index", this.#path, 0, "no index beside it: scanning its frames");
      return;
    }
    const entries = decodeIndex(bytes);
    if (!entries) {
      this.#issues.add("bad-index", this.#path, 0, "index header is not DWRECIX1: scanning");
      return;
    }
    this.#entries = validIndexPrefix(entries, this.#size);
    if (this.#entries.length < entries.length) {
      const at = this.#entries.length;
      this.#issues.add(
        "bad-index",
        this.#path,
        entries[at].offset,
        `index entry ${at} of ${entries.length} does not match the data file: scanning from there`,
      );
    }
  }

  #readAt(offset: number, length: number): Uint8Array {
    const buf = new Uint8Array(length);
    const f = this.#file!;
    f.seekSync(offset, Deno.SeekMode.Start);
    let n = 0;
    while (n < length) {
      const r = f.readSync(buf.subarray(n));
      if (r === null || r === 0) break;
      n += r;
    }
    return n === length ? buf : buf.subarray(0, n);
  }

  /** Decompresses one block's frames; a chunk, or undefined (counted) when it is not whole lines. */
  #decode(frame: Uint8Array, offset: number, records: number, rawLength: number) {
    let text: Uint8Array | undefined;
    try {
      // The index's length, or a full block while scanning.
      text = decompressFrames(frame, rawLength >= 0 ? rawLength : DEFAULT_BLOCK_BYTES);
    } catch (e) {
      this.#issues.add("corrupt-block", this.#path, offset, `zstd: ${(e as Error).message}`);
      return undefined;
    }
    if (!text) {
      this.#issues.add(
        "corrupt-block",
        this.#path,
        offset,
        `no whole zstd frames in the ${frame.length} bytes where the index says`,
      );
      return undefined;
    }
    if (text.length === 0 && rawLength < 0) return undefined; // an empty frame while scanning
    if (
      text.length === 0 || text[text.length - 1] !== LF ||
      (rawLength >= 0 && text.length !== rawLength)
    ) {
      this.#issues.add(
        "corrupt-block",
        this.#path,
        offset,
        `block decompressed to ${text.length} bytes, expected ` +
          (rawLength >= 0 ? `${rawLength} bytes ending` : "whole lines ending") +
          " with a line feed",
      );
      return undefined;
    }
    return { bytes: text, end: text.length, file: this.#path, offset, inBlock: true, records };
  }

  next(): TextChunk | undefined {
    while (this.#file) {
      if (this.#entry < this.#entries.length) {
        const e = this.#entries[this.#entry++];
        if (e.firstUs > this.#toUs) break;
        const chunk = this.#decode(
          this.#readAt(e.offset, e.length),
          e.offset,
          e.records,
          e.rawLength,
        );
        if (chunk) return chunk;
        continue;
      }
      const chunk = this.#scan();
      if (chunk !== null) return chunk;
    }
    this.close();
    return undefined;
  }

  /** Makes `[pos, pos + need)` available in the window; false at the end of the file. */
  #fill(need: number): boolean {
    if (this.#pos >= this.#winStart && this.#pos + need <= this.#winEnd) return true;
    if (this.#pos >= this.#size) return false;
    const length = Math.min(Math.max(SCAN_WINDOW, need), this.#size - this.#pos);
    this.#win = this.#readAt(this.#pos, length);
    this.#winStart = this.#pos;
    this.#winEnd = this.#pos + this.#win.length;
    return this.#pos + need <= this.#winEnd;
  }

  /** The next frame past the index: a chunk, undefined at the end, null to try again. */
  #scan(): TextChunk | undefined | null {
    if (!this.#fill(4)) {
      if (this.#pos < this.#size) this.#truncated();
      return undefined;
    }
    let rel = this.#pos - this.#winStart;
    let len = frameLength(this.#win, rel, this.#win.length);
    while (len === FRAME_TRUNCATED && this.#winEnd < this.#size) {
      this.#fill((this.#winEnd - this.#pos) * 2 + 1); // grow the window and try again
      rel = this.#pos - this.#winStart;
      len = frameLength(this.#win, rel, this.#win.length);
    }
    if (len === FRAME_TRUNCATED) {
      this.#truncated();
      return undefined;
    }
    const at = this.#pos;
    if (len === FRAME_INVALID) {
      const next = this.#nextMagic(at + 1);
      this.#issues.add(
        "corrupt-block",
        this.#path,
        at,
        `not a zstd frame (${next - at} bytes skipped to the next frame magic)`,
      );
      this.#pos = next;
      return null;
    }
    this.#pos = at + len;
    if (this.#win[rel] !== 0x28) return null; // a skippable frame
    return this.#decode(this.#win.slice(rel, rel + len), at, -1, -1) ?? null;
  }

  #truncated(): void {
    this.#issues.add(
      "truncated-block",
      this.#path,
      this.#pos,
      `the last ${this.#size - this.#pos} bytes are not a whole zstd frame (file cut short)`,
    );
    this.#pos = this.#size;
  }

  /** Offset of the next frame magic at or after `from`, or the file size. */
  #nextMagic(from: number): number {
    for (let p = from; p < this.#size;) {
      const buf = this.#readAt(p, Math.min(SCAN_WINDOW, this.#size - p));
      const i = findFrameMagic(buf, 0, buf.length);
      if (i >= 0) return p + i;
      if (buf.length < 4) break;
      p += buf.length - 3;
    }
    return this.#size;
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/**
 * A tardis-format text file, read whole: `.gz` (gzip), `.zst` (any number of frames) or plain.
 *
 * @example
 * ```ts
 * import { TextSource } from "./record_sources.ts";
 * import { ReadIssues } from "./read_issues.ts";
 * import { gzipSync } from "node:zlib";
 * const path = Deno.makeTempFileSync({ suffix: ".json.gz" });
 * Deno.writeFileSync(path, gzipSync(new TextEncoder().encode("2019-07-01T00:00:00.0529306Z {}\n")));
 * new TextSource(path, new ReadIssues()).next()?.end; // 32
 * ```
 */
export class TextSource implements ChunkSource {
  readonly #path: string;
  readonly #issues: ReadIssues;
  #done = false;

  /** Reads nothing until {@link TextSource.next}. */
  constructor(path: string, issues: ReadIssues) {
    this.#path = path;
    this.#issues = issues;
  }

  next(): TextChunk | undefined {
    if (this.#done) return undefined;
    this.#done = true;
    const raw = Deno.readFileSync(this.#path);
    let text: Uint8Array = raw;
    if (this.#path.endsWith(".gz")) text = this.#gunzip(raw);
    else if (this.#path.endsWith(".zst")) text = this.#unzstd(raw);
    return {
      bytes: text,
      end: text.length,
      file: this.#path,
      offset: 0,
      inBlock: false,
      records: -1,
    };
  }

  #gunzip(raw: Uint8Array): Uint8Array {
    try {
      const out = gunzipSync(raw);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      // What decodes before the damage is kept: a cut-off download still replays.
      let partial: Uint8Array = new Uint8Array(0);
      try {
        partial = gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH });
      } catch { /* nothing usable */ }
      this.#issues.add(
        "truncated-block",
        this.#path,
        partial.length,
        `gzip: ${(e as Error).message}; reading the ${partial.length} bytes before it`,
      );
      const lf = partial.lastIndexOf(LF);
      return new Uint8Array(partial.buffer, partial.byteOffset, lf + 1);
    }
  }

  #unzstd(raw: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let p = 0; p < raw.length;) {
      const len = frameLength(raw, p, raw.length);
      if (len === FRAME_TRUNCATED) {
        this.#issues.add("truncated-block", this.#path, p, "the file ends inside a zstd frame");
        break;
      }
      if (len === FRAME_INVALID) {
        const next = findFrameMagic(raw, p + 1, raw.length);
        this.#issues.add("corrupt-block", this.#path, p, "not a zstd frame: skipped to the next");
        if (next < 0) break;
        p = next;
        continue;
      }
      if (raw[p] === 0x28) {
        try {
          const part = decompressFrame(raw.subarray(p, p + len));
          parts.push(part);
          total += part.length;
        } catch (e) {
          this.#issues.add("corrupt-block", this.#path, p, `zstd: ${(e as Error).message}`);
        }
      }
      p += len;
    }
    return concatBytes(parts, total);
  }

  close(): void {
    this.#done = true;
  }
}
