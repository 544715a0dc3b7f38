/**
 * A reader of tardis-format text recordings: one record a line,
 * `<ISO-8601 receive time with µs> <raw message>`, e.g.
 * `2026-12-02T12:00:00.123456Z {"stream":"btcusdt@depth20@100ms","data":{…}}`.
 * Plain text, gzip when the name ends in `.gz`, zstd when it ends in `.zst`
 * (one stream or concatenated frames: a recording's independent blocks). A
 * directory is read file by file in name order.
 *
 * This is the replay source's stand-in reader (the {@link RecordReader}
 * interface); lib/record's reader of recordings (zstd blocks with an index)
 * plugs in behind the same interface.
 *
 * A line that is not `<time> <message>` is reported to `onBad` with its file
 * and byte offset and skipped; reading goes on with the next line.
 *
 * @example
 * ```ts
 * import { readTardisLines } from "./tardis_lines.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, '2026-12-02T12:00:00.000001Z {"stream":"x"}\nnot a record\n');
 * for await (const record of readTardisLines(path, { onBad: (b) => console.log(b.offset) })) {
 *   record.receiveTimeUs; // 1796212800000001
 * }
 * ```
 * @module
 */

import { zstdDecompressSync } from "node:zlib";

/** One record of a recording. */
export interface ReplayRecord {
  /** Receive time, epoch microseconds (an integer). */
  receiveTimeUs: number;
  /** The raw message, exactly as received. */
  text: string;
  /** The file the record is in. */
  file: string;
  /** Byte offset of the line in the (decompressed) file. */
  offset: number;
}

/** A line that is not a record. */
export interface BadLine {
  /** The file. */
  file: string;
  /** Byte offset of the line in the (decompressed) file. */
  offset: number;
  /** What is wrong with it. */
  reason: string;
}

/** Options of a {@link RecordReader}. */
export interface RecordReaderOptions {
  /** Called for every line that is not a record. Default: ignore. */
  onBad?: (bad: BadLine) => void;
}

/** Reads the records of a recording at `path` in file order (lib/record provides another). */
export type RecordReader = (
  path: string,
  options?: RecordReaderOptions,
) => AsyncIterable<ReplayRecord>;

const TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Epoch microseconds of an ISO-8601 UTC time with up to 9 fraction digits
 * (`2026-12-02T12:00:00.123456Z`, or tardis' `…00.1234560Z`; digits past the
 * microsecond must be 0); NaN when it is not one.
 *
 * @example
 * ```ts
 * import { parseIsoMicros } from "./tardis_lines.ts";
 * parseIsoMicros("1970-01-01T00:00:01.000002Z"); // 1000002
 * parseIsoMicros("yesterday"); // NaN
 * ```
 */
export function parseIsoMicros(text: string): number {
  const m = TIME.exec(text);
  if (m === null) return NaN;
  const seconds = secondsOf(m[1]);
  if (seconds !== seconds) return NaN;
  // Up to 9 fraction digits (lib/record and tardis write 7, the last one 0);
  // digits past the microsecond must be 0 (a finer time is not one we keep).
  const digits = m[2] ?? "";
  if (/[1-9]/.test(digits.slice(6))) return NaN;
  const fraction = Number(digits.slice(0, 6).padEnd(6, "0"));
  return seconds * 1000 + fraction;
}

let lastSecond = "";
let lastSecondMs = NaN;

/** Epoch ms of `YYYY-MM-DDTHH:MM:SS` (UTC), NaN for a date that does not exist; the last one is cached (lines come in order). */
function secondsOf(text: string): number {
  if (text === lastSecond) return lastSecondMs;
  let ms = Date.parse(text + "Z");
  // Date.parse rolls 2026-02-30 over to March: only a date that round-trips exists.
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 19) !== text) ms = NaN;
  lastSecond = text;
  lastSecondMs = ms;
  return ms;
}

/**
 * Receive time `at` (epoch ms, as the connections stamp it) rounded to the
 * microsecond a recording keeps: the ingest uses this rounded time, so a
 * replay reproduces it exactly.
 *
 * @example
 * ```ts
 * import { quantiseReceiveTime } from "./tardis_lines.ts";
 * quantiseReceiveTime(1000.0004); // 1000
 * ```
 */
export function quantiseReceiveTime(at: number): number {
  return Math.round(at * 1000) / 1000;
}

/** The files of `path`: itself, or a directory's regular files in name order (not recursive). */
async function filesOf(path: string): Promise<string[]> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) return [path];
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    if (entry.isFile && !entry.name.startsWith(".")) names.push(entry.name);
  }
  return names.sort().map((n) => `${path.replace(/\/+$/, "")}/${n}`);
}

async function* bytesOf(file: string): AsyncGenerator<Uint8Array> {
  const handle = await Deno.open(file, { read: true });
  let stream: ReadableStream<Uint8Array> = handle.readable;
  if (file.endsWith(".gz")) {
    stream = stream.pipeThrough(new DecompressionStream("gzip") as TransformStream);
  } else if (file.endsWith(".zst")) {
    yield* zstdFrames(stream);
    return;
  }
  yield* stream;
}

/**
 * The decompressed content of a file of concatenated zstd frames (a
 * recording's independent blocks), one frame at a time: `node:zlib`'s zstd
 * decoders stop after the first frame, so the frames are delimited here from
 * their headers (RFC 8878 §3.1). A truncated last frame is an error.
 */
async function* zstdFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    buf = buf.length === 0 ? chunk : concat(buf, chunk);
    let start = 0;
    for (let end = zstdFrameEnd(buf, start); end > 0; end = zstdFrameEnd(buf, start)) {
      yield new Uint8Array(zstdDecompressSync(buf.subarray(start, end)));
      start = end;
    }
    buf = buf.slice(start);
  }
  if (buf.length > 0) throw new RangeError(`truncated zstd frame (${buf.length} bytes at the end)`);
}

/** End offset of the zstd frame starting at `at` in `b`, or -1 when it is not complete yet. */
function zstdFrameEnd(b: Uint8Array, at: number): number {
  if (b.length - at < 8) return -1;
  const magic = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  if (magic >>> 4 === 0x184d2a5) { // a skippable frame
    const size = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
    return at + 8 + size <= b.length ? at + 8 + size : -1;
  }
  if (magic !== 0xfd2fb528) {
    throw new RangeError(`not a zstd frame at byte ${at} (magic 0x${magic.toString(16)})`);
  }
  const descriptor = b[at + 4];
  const single = (descriptor >> 5) & 1;
  const checksum = (descriptor >> 2) & 1;
  const dictionaryId = [0, 1, 2, 4][descriptor & 3];
  const contentSize = [single, 2, 4, 8][descriptor >> 6];
  let p = at + 5 + (single ? 0 : 1) + dictionaryId + contentSize;
  for (;;) {
    if (p + 3 > b.length) return -1;
    const header = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
    const type = (header >> 1) & 3;
    p += 3 + (type === 1 ? 1 : header >>> 3); // an RLE block holds one byte
    if (header & 1) break; // the last block
  }
  p += checksum * 4;
  return p <= b.length ? p : -1;
}

/**
 * Reads the records of a tardis-format text file (or `.gz`, or a directory
 * of them); see the module docs. Conforms to {@link RecordReader}.
 *
 * @example
 * ```ts
 * import { readTardisLines } from "./tardis_lines.ts";
 * declare const path: string;
 * let records = 0;
 * for await (const _ of readTardisLines(path)) records++;
 * ```
 */
export async function* readTardisLines(
  path: string,
  options: RecordReaderOptions = {},
): AsyncGenerator<ReplayRecord> {
  const decoder = new TextDecoder();
  for (const file of await filesOf(path)) {
    const at = { offset: 0 };
    try {
      yield* recordsOf(file, decoder, options, at);
    } catch (e) {
      // A corrupt or truncated compressed file: what came before it was
      // played; the rest of the file is reported and skipped.
      if (!(e instanceof Error) || e instanceof Deno.errors.PermissionDenied) throw e;
      options.onBad?.({
        file,
        offset: at.offset,
        reason: `unreadable from here on (${e.message}); went on with the next file`,
      });
    }
  }
}

/** The records of one file; `at.offset` follows the first byte not yet handled. */
async function* recordsOf(
  file: string,
  decoder: TextDecoder,
  options: RecordReaderOptions,
  at: { offset: number },
): AsyncGenerator<ReplayRecord> {
  let carry = new Uint8Array(0);
  let carryOffset = 0;
  for await (const chunk of bytesOf(file)) {
    const data = carry.length === 0 ? chunk : concat(carry, chunk);
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
      const record = lineRecord(decoder, data.subarray(start, nl), file, carryOffset + start);
      if (typeof record === "string") {
        if (record !== "") options.onBad?.({ file, offset: carryOffset + start, reason: record });
      } else yield record;
      start = nl + 1;
    }
    carry = data.slice(start);
    carryOffset += start;
    at.offset = carryOffset;
  }
  if (carry.length > 0) {
    const record = lineRecord(decoder, carry, file, carryOffset);
    if (typeof record === "string") {
      if (record !== "") options.onBad?.({ file, offset: carryOffset, reason: record });
    } else yield record;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The record of one line, or why it is not one ("" for an empty line, which is skipped silently). */
function lineRecord(
  decoder: TextDecoder,
  bytes: Uint8Array,
  file: string,
  offset: number,
): ReplayRecord | string {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 13) end--; // CRLF
  if (end === 0) return "";
  const space = bytes.indexOf(32);
  if (space < 0 || space >= end) return "expected `<ISO-8601 time> <message>`, found no space";
  const stamp = decoder.decode(bytes.subarray(0, space));
  const receiveTimeUs = parseIsoMicros(stamp);
  if (receiveTimeUs !== receiveTimeUs) {
    return `expected an ISO-8601 UTC time like 2026-12-02T12:00:00.123456Z, found ${
      JSON.stringify(stamp.slice(0, 40))
    }`;
  }
  if (space + 1 >= end) return "expected a message after the time, found nothing";
  return { receiveTimeUs, text: decoder.decode(bytes.subarray(space + 1, end)), file, offset };
}
