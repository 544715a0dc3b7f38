// Recorder costs (issue 15): the producer's cost per frame on the ingest
// thread (one push into the record ring: TextEncoder.encodeInto straight into
// the shared bytes), and the recorder's cost per record (take in place, copy
// into the writer's block with its time text; compression and disk writes of
// the full blocks included). Real Binance frames from tests/testdata, repeated:
// the compressed bytes per frame printed at the end are far below a real
// recording's (≈ 106 B, docs/operating.md) because zstd finds the repeats.
// Indicative only on a shared, loaded machine.
import { RecordRing } from "../lib/pipeline/record_ring.ts";
import { RecordWriter } from "../lib/record/record_writer.ts";
import { Recorder } from "../lib/record/recorder.ts";
import { recordedMessages } from "../testing/record_fixture.ts";

const messages = recordedMessages(Date.UTC(2026, 11, 2, 12) * 1000, 50);
const texts = messages.map((m) => m.text);
const meanBytes = texts.reduce((n, t) => n + t.length, 0) / texts.length;
console.log(`${texts.length} real frames, ${meanBytes.toFixed(0)} B on average`);

// Producer alone, 1,000 pushes per iteration (Deno.bench's own cost per iteration is
// of the order of a push); the ring is drained outside the timed part.
const PUSHES = 1000;
const ring = RecordRing.create({ capacity: 8 << 20 });
let i = 0;
Deno.bench(
  `record ring: push ${PUSHES} real frames (ingest thread; per frame = this / ${PUSHES})`,
  {
    group: "producer",
    baseline: true,
  },
  (b) => {
    while (ring.next()); // not timed: the recorder's side
    b.start();
    for (let k = 0; k < PUSHES; k++) {
      ring.push(texts[i++ % texts.length], 1_796_212_800_000_000 + i);
    }
    b.end();
  },
);

const sink = new Uint8Array(1 << 16);
const encoder = new TextEncoder();
let j = 0;
Deno.bench(`for scale: ${PUSHES} × TextEncoder.encodeInto into a private array`, {
  group: "producer",
}, () => {
  for (let k = 0; k < PUSHES; k++) encoder.encodeInto(texts[j++ % texts.length], sink);
});

// Recorder: records already in the ring, drained into a real writer on disk.
const dir = Deno.makeTempDirSync();
const writer = new RecordWriter({ dir, venue: "binance" });
const full = RecordRing.create({ capacity: 64 << 20 });
const recorder = new Recorder({ ring: full, writer, flushMs: 1e12 });
const BATCH = 10_000;
let t = Date.UTC(2026, 11, 2, 12) * 1000;
Deno.bench(`recorder: drain ${BATCH} frames into the writer (per record = this / ${BATCH})`, {
  group: "recorder",
  baseline: true,
  n: 200,
}, (b) => {
  for (let k = 0; k < BATCH; k++) full.push(texts[k % texts.length], t += 50);
  b.start();
  recorder.drain();
  b.end();
});

// For scale: the same drain making a JS string per record (decode, then append the string).
const dir2 = Deno.makeTempDirSync();
const writer2 = new RecordWriter({ dir: dir2, venue: "binance" });
const full2 = RecordRing.create({ capacity: 64 << 20 });
const decoder = new TextDecoder();
let t2 = Date.UTC(2026, 11, 2, 12) * 1000;
Deno.bench(`for scale: drain ${BATCH} frames making a string per record`, {
  group: "recorder",
  n: 200,
}, (b) => {
  for (let k = 0; k < BATCH; k++) full2.push(texts[k % texts.length], t2 += 50);
  b.start();
  while (full2.next()) {
    const text = decoder.decode(
      full2.bytes.subarray(full2.textStart, full2.textStart + full2.textLength),
    );
    writer2.append(full2.timeUs, text);
  }
  b.end();
});

globalThis.addEventListener("unload", () => {
  writer.close();
  const c = writer.counters;
  console.log(
    `recorder wrote ${c.records} records in ${c.blocks} blocks: ` +
      `${(c.bytesWritten / c.records).toFixed(1)} compressed bytes per frame`,
  );
  writer2.close();
  Deno.removeSync(dir, { recursive: true });
  Deno.removeSync(dir2, { recursive: true });
});
