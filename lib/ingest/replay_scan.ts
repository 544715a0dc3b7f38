/**
 * What a recording holds, read from its first records: the symbols (in the
 * order they first appear) and the stream kind, so `--source replay` needs no
 * `--symbols` / `--stream`.
 *
 * @example
 * ```ts
 * import { scanRecording } from "./replay_scan.ts";
 * declare const path: string;
 * const { symbols, stream, levels } = await scanRecording(path);
 * ```
 * @module
 */
import type { DepthStream } from "./depth_stream.ts";
import { openRecording } from "../record/mod.ts";
import { streamOf } from "./replay_feed.ts";

/** What {@link scanRecording} found. */
export interface RecordingScan {
  /** Lower-case symbols in the order they first appear. */
  symbols: string[];
  /** `diff` when the recording holds diff events (`@depth@100ms`) or REST snapshots, `depth20` for partial books; undefined when neither was seen. */
  stream: DepthStream | undefined;
  /** Partial books: their depth (5, 10 or 20); undefined otherwise. */
  levels: number | undefined;
  /** Records read. */
  records: number;
  /** Receive time of the first record, epoch µs (NaN when none). */
  firstUs: number;
}

/** Options of {@link scanRecording}. */
export interface ScanOptions {
  /** Records read at most. Default 100,000 (a minute of 100 symbols at 10 frames/s and more). */
  maxRecords?: number;
}

const decoder = new TextDecoder();
/** Bytes of a message's start decoded to find its stream name. */
const HEAD_BYTES = 240;

const PARTIAL = /^([a-z0-9_.-]+)@depth(5|10|20)@100ms$/;
const DIFF = /^([a-z0-9_.-]+)@depth@100ms$/;
const SNAPSHOT = /^([a-z0-9_.-]+)@depthSnapshot$/;

/**
 * Scan the first records of a recording (see the module docs).
 *
 * @example
 * ```ts
 * import { scanRecording } from "./replay_scan.ts";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(
 *   path,
 *   '2026-12-02T12:00:00.000001Z {"stream":"ethusdt@depth20@100ms","data":{}}\n',
 * );
 * const scan = await scanRecording(path);
 * scan.symbols; // ["ethusdt"]
 * scan.stream; // "depth20"
 * ```
 */
export function scanRecording(path: string, options: ScanOptions = {}): Promise<RecordingScan> {
  try {
    return Promise.resolve(scan(path, options));
  } catch (e) {
    return Promise.reject(e);
  }
}

function scan(path: string, options: ScanOptions): RecordingScan {
  const max = options.maxRecords ?? 100_000;
  const seen = new Set<string>();
  let stream: DepthStream | undefined;
  let levels: number | undefined;
  let records = 0;
  let firstUs = NaN;
  const r = openRecording(path, { keepIssues: 0 });
  while (r.next()) {
    if (records === 0) firstUs = r.receiveTimeUs;
    if (++records > max) break;
    const name = streamOf(
      decoder.decode(r.bytes.subarray(r.start, Math.min(r.end, r.start + HEAD_BYTES))),
    );
    if (name === undefined) continue;
    let m = PARTIAL.exec(name);
    if (m !== null) {
      stream ??= "depth20";
      levels ??= Number(m[2]);
    } else if ((m = DIFF.exec(name) ?? SNAPSHOT.exec(name)) !== null) {
      stream = "diff";
    }
    if (m !== null) seen.add(m[1]);
  }
  r.close();
  return {
    symbols: [...seen],
    stream,
    levels: stream === "depth20" ? levels : undefined,
    records: Math.min(records, max),
    firstUs,
  };
}
