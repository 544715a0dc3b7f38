/**
 * Reads recordings back in order as `{ receiveTimeUs, text }` records: a
 * recording directory (`DIR/<venue>/YYYY-MM-DD/HH.dwrec.zst`, `.partial` files
 * included), one `.dwrec.zst` file (with or without its index), or a
 * tardis-format file (`.json.gz`, `.zst` or plain text, `<time> <message>`
 * lines). `fromUs` / `toUs` bound the receive times; with an index the reader
 * starts at the first block whose latest time is ≥ `fromUs`, so starting
 * anywhere in an hour decodes one block.
 *
 * Bad content never throws: corrupt or truncated blocks, a missing or wrong
 * index, bad lines and times out of order are counted in `issues` with file
 * and offset, and reading goes on with the next good block or line. Records
 * out of order (earlier than the latest time read so far) are delivered and
 * counted; the replay skips them. Opening a path that does not exist
 * or a directory with several venues and no `venue` throws.
 *
 * Two ways to read: the pull API (`next()`, then `receiveTimeUs` and the
 * message bytes `bytes[start, end)`; `text()` decodes them) allocates nothing
 * per record beyond a block at a time; the async iterator yields objects.
 *
 * Memory: one decompressed block (≤ 1 MiB) and its compressed bytes; a
 * tardis text file is held whole.
 *
 * @example
 * ```ts
 * import { openRecording, RecordWriter } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const w = new RecordWriter({ dir, venue: "binance" });
 * w.append(1_796_212_800_000_001, '{"a":1}');
 * w.close();
 * const r = openRecording(dir);
 * r.next(); // true
 * [r.receiveTimeUs, r.text()]; // [1796212800000001, '{"a":1}']
 * r.next(); // false
 * for await (const rec of openRecording(dir)) rec.text; // '{"a":1}'
 * ```
 * @module
 */
import { type ParsedTime, parseTime } from "./record_line.ts";
import { type ReadIssue, ReadIssues } from "./read_issues.ts";
import { type ChunkSource, DwrecSource, type TextChunk, TextSource } from "./record_sources.ts";
import { HOUR_US, type HourFile, INDEX_SUFFIX, listHourFiles } from "./record_paths.ts";
import { denoRecordFs } from "./record_fs.ts";

/** Options of {@link openRecording}. */
export interface RecordReaderOptions {
  /** Earliest receive time delivered, µs. Default: from the start. */
  fromUs?: number;
  /** Latest receive time delivered, µs. Default: to the end. */
  toUs?: number;
  /** The venue folder to read in a directory with several. Default: the only one. */
  venue?: string;
  /** Problems kept in full in `issues.list`. Default 100. */
  keepIssues?: number;
  /** Called for every problem (e.g. to log it). Default none. */
  onIssue?: (issue: ReadIssue) => void;
}

/** One record, as the async iterator yields it. */
export interface RecordedMessage {
  /** Receive time, µs since the epoch. */
  receiveTimeUs: number;
  /** The message exactly as received. */
  text: string;
}

const decoder = new TextDecoder();

/** A file to read and how to open it (lazily, when the reader reaches it). */
export interface SourceOpener {
  path: string;
  open: () => ChunkSource;
}

/**
 * Reader of a recording; see the module documentation.
 *
 * @example
 * ```ts
 * import { openRecording } from "./record_reader.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".txt" });
 * Deno.writeTextFileSync(path, "2026-12-02T12:00:00.000001Z {}\nbad\n");
 * const r = openRecording(path);
 * while (r.next()) r.end - r.start; // 2
 * r.issues.counts["bad-line"]; // 1
 * ```
 */
export class RecordReader implements AsyncIterable<RecordedMessage> {
  /** Receive time of the current record, µs. */
  receiveTimeUs = NaN;
  /** Bytes holding the current message (the decompressed block; reused). */
  bytes: Uint8Array = new Uint8Array(0);
  /** Start of the current message in `bytes`. */
  start = 0;
  /** End (exclusive) of the current message in `bytes`. */
  end = 0;
  /** File of the current record. */
  file = "";
  /**
   * Where the current record is in `file`: the byte offset of its block in a
   * recording (blocks are the unit of seeking), of its line in a text file.
   */
  offset = 0;
  /** Records delivered. */
  records = 0;
  /** Blocks (text chunks) decoded: what a seek cost. */
  chunks = 0;
  /** Problems met so far. */
  readonly issues: ReadIssues;

  readonly #sources: SourceOpener[];
  readonly #fromUs: number;
  readonly #toUs: number;
  readonly #parsed: ParsedTime = { us: NaN, messageStart: 0 };
  #source: ChunkSource | undefined;
  #chunk: TextChunk | undefined;
  #pos = 0;
  #lines = 0;
  #prevUs = -Infinity;

  /** Use {@link openRecording}. */
  constructor(sources: SourceOpener[], options: RecordReaderOptions = {}) {
    this.#sources = sources.reverse();
    this.#fromUs = options.fromUs ?? -Infinity;
    this.#toUs = options.toUs ?? Infinity;
    this.issues = new ReadIssues(options.keepIssues ?? 100, options.onIssue);
  }

  /** Advances to the next record in range; false at the end. */
  next(): boolean {
    for (;;) {
      const chunk = this.#chunk;
      if (!chunk || this.#pos >= chunk.end) {
        if (!this.#nextChunk()) return false;
        continue;
      }
      const bytes = chunk.bytes;
      const lineStart = this.#pos;
      let lineEnd = bytes.indexOf(10, lineStart);
      if (lineEnd < 0 || lineEnd >= chunk.end) lineEnd = chunk.end;
      this.#pos = lineEnd + 1;
      this.#lines++;
      const t = parseTime(bytes, lineStart, lineEnd, this.#parsed);
      if (Number.isNaN(t.us)) {
        this.#badLine(chunk, lineStart, lineEnd);
        continue;
      }
      // Compared with the latest time so far: after a time from the future
      // every record before it in time is out of order (and each is counted).
      if (t.us < this.#prevUs) this.#outOfOrder(chunk, lineStart, t.us);
      else this.#prevUs = t.us;
      if (t.us < this.#fromUs || t.us > this.#toUs) continue;
      this.receiveTimeUs = t.us;
      this.bytes = bytes;
      this.start = t.messageStart;
      this.end = lineEnd;
      this.file = chunk.file;
      this.offset = chunk.inBlock ? chunk.offset : chunk.offset + lineStart;
      this.records++;
      return true;
    }
  }

  /** The current message as a string (allocates). */
  text(): string {
    return decoder.decode(this.bytes.subarray(this.start, this.end));
  }

  #nextChunk(): boolean {
    const done = this.#chunk;
    if (done && done.records >= 0 && this.#lines !== done.records) {
      this.issues.add(
        "corrupt-block",
        done.file,
        done.offset,
        `block holds ${this.#lines} lines, its index says ${done.records}`,
      );
    }
    this.#chunk = undefined;
    for (;;) {
      let chunk: TextChunk | undefined;
      const source = this.#sources[this.#sources.length - 1];
      try {
        if (!this.#source) {
          if (!source) return false;
          this.#source = source.open();
        }
        chunk = this.#source.next();
      } catch (e) {
        // The file went away (a .partial renamed as its hour closed) or the disk failed.
        this.issues.add("unreadable-file", source?.path ?? "", 0, `${(e as Error).message}`);
        chunk = undefined;
      }
      if (chunk) {
        this.#chunk = chunk;
        this.chunks++;
        this.#pos = 0;
        this.#lines = 0;
        return true;
      }
      this.#source?.close();
      this.#source = undefined;
      this.#sources.pop();
    }
  }

  #locate(chunk: TextChunk, lineStart: number): [number, number | undefined] {
    return chunk.inBlock ? [chunk.offset, lineStart] : [chunk.offset + lineStart, undefined];
  }

  #badLine(chunk: TextChunk, lineStart: number, lineEnd: number): void {
    if (lineEnd === lineStart && !chunk.inBlock) return; // a blank line in a text file
    const [offset, lineOffset] = this.#locate(chunk, lineStart);
    const head = decoder.decode(chunk.bytes.subarray(lineStart, Math.min(lineEnd, lineStart + 40)));
    this.issues.add(
      "bad-line",
      chunk.file,
      offset,
      `expected "<YYYY-MM-DDTHH:MM:SS.fffffffZ> <message>", got ${JSON.stringify(head)}`,
      lineOffset,
    );
  }

  #outOfOrder(chunk: TextChunk, lineStart: number, us: number): void {
    const [offset, lineOffset] = this.#locate(chunk, lineStart);
    this.issues.add(
      "out-of-order",
      chunk.file,
      offset,
      `receive time ${us} µs is before an earlier record's ${this.#prevUs} µs`,
      lineOffset,
    );
  }

  /** Closes the open file (reading ends). */
  close(): void {
    this.#source?.close();
    this.#source = undefined;
    this.#chunk = undefined;
    this.#sources.length = 0;
  }

  /** Records as objects (reading is synchronous underneath: one block at a time). */
  async *[Symbol.asyncIterator](): AsyncGenerator<RecordedMessage> {
    try {
      while (this.next()) yield { receiveTimeUs: this.receiveTimeUs, text: this.text() };
    } finally {
      this.close();
    }
  }
}

/**
 * A reader of `path`: a recording directory (or one venue's folder in it), a `.dwrec.zst` (`.partial`
 * included), or a tardis-format `.gz` / `.zst` / text file. Throws when the
 * path does not exist or a directory holds several venues and `venue` is not given.
 *
 * @example
 * ```ts
 * import { openRecording } from "./record_reader.ts";
 * const dir = Deno.makeTempDirSync();
 * const r = openRecording(dir, { fromUs: 0, toUs: Date.now() * 1000 }); // an empty directory
 * r.next(); // false
 * ```
 */
export function openRecording(path: string, options: RecordReaderOptions = {}): RecordReader {
  const stat = Deno.statSync(path);
  const issues = () => reader.issues;
  const from = options.fromUs ?? -Infinity, to = options.toUs ?? Infinity;
  let sources: SourceOpener[];
  if (stat.isDirectory) {
    sources = dirFiles(path, options.venue, from, to).map((f) => ({
      path: f.path,
      open: () => openDwrec(f.path, f.indexPath, issues(), from, to),
    }));
  } else if (/\.dwrec\.zst(\.partial)?$/.test(path)) {
    const indexPath = path.replace(/\.dwrec\.zst(\.partial)?$/, INDEX_SUFFIX);
    sources = [{ path, open: () => openDwrec(path, indexPath, issues(), from, to) }];
  } else {
    sources = [{ path, open: () => new TextSource(path, issues()) }];
  }
  const reader = new RecordReader(sources, options);
  return reader;
}

/** A `.dwrec.zst`; a `.partial` renamed since the listing (its hour closed) opens by its new name. */
function openDwrec(
  path: string,
  indexPath: string,
  issues: ReadIssues,
  from: number,
  to: number,
): DwrecSource {
  try {
    return new DwrecSource(path, indexPath, issues, from, to);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) || !path.endsWith(".partial")) throw e;
    return new DwrecSource(path.slice(0, -".partial".length), indexPath, issues, from, to);
  }
}

function dirFiles(dir: string, venue: string | undefined, from: number, to: number): HourFile[] {
  let files = listHourFiles(denoRecordFs, dir);
  const name = dir.replace(/\/+$/, "").split("/").pop() ?? "";
  if (files.length === 0 && venue === undefined && /^[A-Za-z0-9_-]+$/.test(name)) {
    // `dir` may be one venue's folder (DIR/<venue>).
    files = listHourFiles(denoRecordFs, `${dir.replace(/\/+$/, "")}/..`).filter((f) =>
      f.venue === name
    );
  }
  const venues = [...new Set(files.map((f) => f.venue))];
  if (venue !== undefined) files = files.filter((f) => f.venue === venue);
  else if (venues.length > 1) {
    throw new Error(
      `${dir} holds recordings of ${venues.length} venues (${venues.join(", ")}): ` +
        "pass the one to read as `venue`",
    );
  }
  // An hour file holds receive times before the end of its hour (earlier ones only if the clock stepped back).
  return files.filter((f) => f.startUs + HOUR_US > from && f.startUs <= to);
}
