/**
 * Test and benchmark helper: a recording directory made from the real Binance
 * frames vendored in tests/testdata/binance/ — the 20-level depth20 message of
 * `spot_depth20.jsonl` as `symbols` symbols, cycled with rising update ids
 * (each message's bytes otherwise as the exchange sent them) — written by
 * lib/record's {@link RecordWriter} into `DIR/binance/YYYY-MM-DD/HH.dwrec.zst`
 * hour files, `stepUs` apart.
 *
 * @example
 * ```ts
 * import { writeRealRecording } from "./real_recording.ts";
 * const rec = writeRealRecording({ records: 1000, symbols: 4 });
 * rec.dir; // pass as --replay-path
 * rec.symbols; // ["sym0usdt", …]
 * Deno.removeSync(rec.dir, { recursive: true });
 * ```
 * @module
 */
import { RecordWriter } from "../lib/record/mod.ts";
import { recordedLines } from "./recorded_data.ts";

/** Options of {@link writeRealRecording}. */
export interface RealRecordingOptions {
  /** Records written. Required. */
  records: number;
  /** Symbols the frames are spread over (round robin). Default 4. */
  symbols?: number;
  /** Receive time of the first record, µs. Default 2026-12-02T12:00:00Z. */
  startUs?: number;
  /** Gap between records, µs. Default 1000 (1,000 records/s). */
  stepUs?: number;
  /** Where to write. Default: a new temporary directory. */
  dir?: string;
}

/** What {@link writeRealRecording} wrote. */
export interface RealRecording {
  /** The recording directory. */
  dir: string;
  /** Lower-case symbols, in the order of their first record. */
  symbols: string[];
  /** Records written. */
  records: number;
  /** Bytes of the recording (data and index files). */
  bytes: number;
  /** Receive time of the first and the last record, µs. */
  firstUs: number;
  lastUs: number;
}

/**
 * Write a recording of real frames (see the module docs).
 *
 * @example
 * ```ts
 * import { writeRealRecording } from "./real_recording.ts";
 * const { dir, bytes } = writeRealRecording({ records: 100 });
 * bytes > 0; // true
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function writeRealRecording(options: RealRecordingOptions): RealRecording {
  const count = options.symbols ?? 4;
  const startUs = options.startUs ?? Date.UTC(2026, 11, 2, 12) * 1000;
  const stepUs = options.stepUs ?? 1000;
  const dir = options.dir ?? Deno.makeTempDirSync();
  const real = recordedLines("spot_depth20.jsonl").find((f) => f.includes("@depth20@100ms"));
  if (real === undefined) throw new Error("spot_depth20.jsonl holds no depth20 message");
  const symbols = Array.from({ length: count }, (_, i) => `sym${i}usdt`);
  // The message around its update id and stream name, so a record costs two concatenations.
  const m = /^\{"stream":"[^@"]+(@depth20@100ms","data":\{"lastUpdateId":)\d+(.*)$/s.exec(real);
  if (m === null) throw new Error("unexpected shape of the recorded depth20 message");
  const writer = new RecordWriter({ dir, venue: "binance", maxBytes: Number.MAX_SAFE_INTEGER });
  for (let i = 0; i < options.records; i++) {
    const text = `{"stream":"${symbols[i % count]}${m[1]}${1_000_000 + i}${m[2]}`;
    writer.append(startUs + i * stepUs, text);
  }
  writer.close();
  return {
    dir,
    symbols,
    records: options.records,
    bytes: writer.counters.bytesWritten,
    firstUs: startUs,
    lastUs: startUs + (options.records - 1) * stepUs,
  };
}
