/**
 * The recording format's costs on the real recorded Binance frames
 * (tests/testdata via testing/record_fixture.ts): writing (line encoding into
 * the block + zstd level 3, with the disk left out by a discarding file
 * system, and with the real disk), compressed bytes per record, and reading
 * (decompress + time parse per record, pull API) in records/s.
 *
 * The compression ratio is measured on one pass over the frames (≈ 260 KB,
 * one block), since repeating them inside a 1 MiB block would compress the
 * repeats away; the speed benchmarks repeat the frames to 20,000 records.
 *
 * Run: `deno bench -A bench/record_bench.ts` (indicative on a loaded machine).
 * @module
 */
import { denoRecordFs, openRecording, type RecordFs, RecordWriter } from "../lib/record/mod.ts";
import { compressFrame } from "../lib/record/zstd_frames.ts";
import { encodeLine } from "../lib/record/record_line.ts";
import { recordedMessages } from "../testing/record_fixture.ts";

const ENC = new TextEncoder();
const T0 = Date.UTC(2026, 11, 2, 12) * 1000;
const once = recordedMessages(T0, 0).map((m) => ENC.encode(m.text));
const RECORDS = 20_000;

/** Compressed bytes per record and ratio on a single pass over the real frames. */
function ratio(): string {
  const buf = new Uint8Array(4 << 20);
  let len = 0;
  for (let i = 0; i < once.length; i++) len = encodeLine(buf, len, T0 + i * 100_123, once[i]);
  const sizes = [1, 3, 6].map((level) => {
    const z = compressFrame(buf.subarray(0, len), level);
    const perRecord = (z.length / once.length).toFixed(1);
    return `zstd-${level} ${z.length} B (${perRecord} B/record, ${(len / z.length).toFixed(2)}×)`;
  });
  const raw = (len / once.length).toFixed(0);
  return `${once.length} real frames: ${len} B as lines (${raw} B/record); ${sizes.join(", ")}`;
}
console.log(`record format: ${ratio()}`);

/** A file system whose files discard what is written (the disk's cost left out). */
const nullFs: RecordFs = {
  ...denoRecordFs,
  open: () => ({ write: (b) => b.length, truncate() {}, close() {} }),
  rename() {},
  remove() {},
  mkdir() {},
  size: () => -1,
};

function writeAll(fs: RecordFs, dir: string, level = 3): RecordWriter {
  const w = new RecordWriter({ dir, venue: "binance", fs, level });
  for (let i = 0; i < RECORDS; i++) w.append(T0 + i * 50_017, once[i % once.length]);
  w.close();
  return w;
}

const readDir = Deno.makeTempDirSync();
writeAll(denoRecordFs, readDir);

Deno.bench(`record write: ${RECORDS} real frames, encode + zstd-3, disk discarded`, {
  group: "record write",
  baseline: true,
}, () => {
  writeAll(nullFs, "/nonexistent");
});

Deno.bench(`record write: ${RECORDS} real frames, encode + zstd-1, disk discarded`, {
  group: "record write",
}, () => {
  writeAll(nullFs, "/nonexistent", 1);
});

Deno.bench(`record write: ${RECORDS} real frames to the real disk`, {
  group: "record write",
}, () => {
  const dir = Deno.makeTempDirSync();
  writeAll(denoRecordFs, dir);
  Deno.removeSync(dir, { recursive: true });
});

Deno.bench(`record read: ${RECORDS} records, pull API (decompress + time parse)`, {
  group: "record read",
  baseline: true,
}, () => {
  const r = openRecording(readDir);
  let n = 0;
  while (r.next()) n++;
  if (n !== RECORDS || r.issues.total !== 0) {
    throw new Error(`read ${n} records, ${r.issues.total} issues`);
  }
});

Deno.bench(`record read: ${RECORDS} records, async iterator with text`, {
  group: "record read",
}, async () => {
  let n = 0;
  for await (const _ of openRecording(readDir)) n++;
  if (n !== RECORDS) throw new Error(`read ${n} records`);
});
