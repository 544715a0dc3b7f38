// Recorder costs (issue 15): the producer's cost per frame on the ingest
// thread (one push into the record ring: TextEncoder.encodeInto straight into
// the shared bytes), and the recorder's cost per record (take in place, copy
// into the writer's block with its time text; compression and disk writes of
// the full blocks included). Real Binance frames from tests/testdata.
// Indicative only on a shared, loaded machine.
import { RecordRing } from "../lib/pipeline/record_ring.ts";
import { RecordWriter } from "../lib/record/record_writer.ts";
import { Recorder } from "../lib/record/recorder.ts";
import { recordedMessages } from "../testing/record_fixture.ts";

const messages = recordedMessages(Date.UTC(2026, 11, 2, 12) * 1000, 50);
const texts = messages.map((m) => m.text);
const meanBytes = texts.reduce((n, t) => n + t.length, 0) / texts.length;
console.log(`${texts.length} real frames, ${meanBytes.toFixed(0)} B on average`);

// Producer alone: a consumer that only hands the bytes back.
const ring = RecordRing.create({ capacity: 8 << 20 });
let i = 0;
Deno.bench("record ring: push one real frame (ingest thread, per frame)", {
  group: "producer",
  baseline: true,
}, () => {
  if (!ring.push(texts[i++ % texts.length], 1_796_212_800_000_000 + i)) {
    while (ring.next()); // drained only when full: not part of the steady cost
    ring.push(texts[i % texts.length], 1_796_212_800_000_000 + i);
  }
});

const sink = new Uint8Array(1 << 16);
const encoder = new TextEncoder();
let j = 0;
Deno.bench("for scale: TextEncoder.encodeInto into a private array", { group: "producer" }, () => {
  encoder.encodeInto(texts[j++ % texts.length], sink);
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
  n: 200,
}, (b) => {
  for (let k = 0; k < BATCH; k++) full.push(texts[k % texts.length], t += 50);
  b.start();
  recorder.drain();
  b.end();
});

globalThis.addEventListener("unload", () => {
  writer.close();
  const c = writer.counters;
  console.log(
    `recorder wrote ${c.records} records in ${c.blocks} blocks: ` +
      `${(c.bytesWritten / c.records).toFixed(1)} compressed bytes per frame`,
  );
  Deno.removeSync(dir, { recursive: true });
});
