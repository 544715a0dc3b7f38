/**
 * The recording format (issue 15): tardis-layout lines `<ISO time µs> <raw
 * message>` in independent zstd blocks, one file per venue and UTC hour with
 * an index; the writer (bounded, disk errors counted) and the reader (seeking,
 * bad content counted). The contract is in docs/design.md, "Recording format".
 *
 * @example
 * ```ts
 * import { openRecording, RecordWriter } from "./mod.ts";
 * const dir = Deno.makeTempDirSync();
 * const writer = new RecordWriter({ dir, venue: "binance", maxBytes: 1 << 30 });
 * writer.append(Date.UTC(2026, 11, 2) * 1000, "{}");
 * writer.close();
 * const reader = openRecording(dir, { fromUs: Date.UTC(2026, 11, 2) * 1000 });
 * while (reader.next()) reader.text(); // "{}"
 * reader.issues.total; // 0
 * ```
 * @module
 */
export {
  openRecording,
  type RecordedMessage,
  RecordReader,
  type RecordReaderOptions,
} from "./record_reader.ts";
export {
  DEFAULT_BLOCK_BYTES,
  RecordWriter,
  type RecordWriterCounters,
  type RecordWriterOptions,
} from "./record_writer.ts";
export { READ_ISSUE_KINDS, type ReadIssue, type ReadIssueKind, ReadIssues } from "./read_issues.ts";
export {
  encodeLine,
  isoToUs,
  isRecordableTime,
  parseTime,
  quantiseReceiveTime,
  TIME_LENGTH,
  usToIso,
  writeTime,
} from "./record_line.ts";
export { denoRecordFs, type RecordFile, type RecordFs } from "./record_fs.ts";
export { pruneRecordings } from "./record_bounds.ts";
