import assert from "node:assert/strict";
import fc from "fast-check";
import { RecordRing } from "../lib/pipeline/record_ring.ts";
import { recordBytes } from "../lib/pipeline/record_ring_layout.ts";
import { recordText } from "./fixtures/record_ring_text.ts";

const decoder = new TextDecoder();

function textOf(ring: RecordRing): string {
  return decoder.decode(ring.bytes.slice(ring.textStart, ring.textStart + ring.textLength));
}

const encoder = new TextEncoder();

Deno.test("records come out whole and in order across many wraps; a full ring drops, never overwrites", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 12, max: 14 }),
      fc.array(
        fc.oneof(
          fc.record({
            push: fc.oneof(
              fc.string({ unit: "binary", maxLength: 60 }),
              fc.tuple(fc.constantFrom("a", "é", "€", "😀"), fc.integer({ min: 0, max: 1500 }))
                .map(([c, n]) => c.repeat(n)),
            ),
          }),
          fc.record({ take: fc.integer({ min: 0, max: 8 }) }),
        ),
        { maxLength: 400 },
      ),
      (log2, ops) => {
        const ring = RecordRing.create({ capacity: 1 << log2 });
        const reader = RecordRing.attach(ring.buffer);
        const queue: { text: string; time: number }[] = [];
        let time = 0;
        let dropped = 0;
        const take = (n: number) => {
          for (let k = 0; k < n; k++) {
            if (!reader.next()) {
              assert.equal(queue.length, 0, "a pushed record is missing");
              return;
            }
            const want = queue.shift()!;
            assert.equal(textOf(reader), want.text);
            assert.equal(reader.timeUs, want.time);
          }
        };
        for (const op of ops) {
          if ("push" in op) {
            // Lone surrogates encode as U+FFFD (3 bytes): compare with what TextEncoder makes.
            const text = op.push;
            const size = recordBytes(encoder.encode(text).length);
            const empty = ring.stats().used === 0;
            time += 1.5;
            if (ring.push(text, time)) {
              queue.push({ text: decoder.decode(encoder.encode(text)), time });
            } else {
              dropped++;
              // Into an empty ring, any record up to half its size fits (end or start).
              assert.ok(!(empty && size <= ring.capacity / 2), "refused into an empty ring");
            }
          } else take(op.take);
          const s = ring.stats();
          assert.ok(s.used <= s.capacity && s.highWater <= s.capacity);
        }
        take(queue.length + 1);
        assert.equal(reader.next(), false);
        const s = ring.stats();
        assert.equal(s.dropped, dropped);
        assert.equal(s.used, 0);
        assert.equal(s.records, s.taken);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("the producer counts text bytes and the high water; the reader's release hands bytes back", () => {
  const ring = RecordRing.create({ capacity: 4096 });
  assert.equal(ring.push("abc", 1), true);
  assert.equal(ring.push("é", 2), true);
  let s = ring.stats();
  assert.deepEqual([s.records, s.textBytes, s.used, s.highWater], [2, 5, 48, 48]);
  assert.equal(ring.next(), true);
  assert.equal(ring.stats().used, 48, "the current record stays the reader's");
  ring.release();
  s = ring.stats();
  assert.deepEqual([s.used, s.taken], [24, 1]);
  assert.equal(ring.next(), true);
  assert.equal(textOf(ring), "é");
  assert.equal(ring.next(), false);
  s = ring.stats();
  assert.deepEqual([s.used, s.taken, s.highWater], [0, 2, 48]);
});

Deno.test("a record wider than the free bytes is dropped, the next one that fits is kept", () => {
  const ring = RecordRing.create({ capacity: 4096 });
  assert.equal(ring.push("x".repeat(3000), 1), true);
  assert.equal(ring.push("y".repeat(2000), 2), false);
  assert.equal(ring.push("z".repeat(1000), 3), true);
  assert.equal(ring.stats().dropped, 1);
  ring.next();
  ring.next();
  assert.equal(textOf(ring), "z".repeat(1000));
});

Deno.test("attach refuses a buffer that is not a record ring", () => {
  assert.throws(() => RecordRing.attach(new SharedArrayBuffer(8192)), /not a record ring/);
  assert.throws(() => RecordRing.create({ capacity: 5000 }), /power of two/);
});

async function runWorker(ring: RecordRing, count: number, retry: boolean, slowEvery: number) {
  const worker = new Worker(
    new URL("./fixtures/record_ring_producer_worker.ts", import.meta.url),
    { type: "module" },
  );
  const done = new Promise<{ refused: number }>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
  worker.postMessage({ buffer: ring.buffer, count, retry });
  let last = -1;
  let taken = 0;
  let n = 0;
  try {
    while (true) {
      const closed = ring.closed; // before next(): the producer closes after its last push
      if (ring.next()) {
        const i = ring.timeUs;
        assert.ok(i > last, `record ${i} after ${last}`);
        assert.equal(textOf(ring), recordText(i));
        last = i;
        taken++;
        if (slowEvery > 0 && ++n % slowEvery === 0) await new Promise((r) => setTimeout(r, 1));
      } else if (closed) break;
      else await ring.wait(100);
    }
    return { taken, last, produced: await done };
  } finally {
    worker.terminate();
  }
}

Deno.test("a producer worker and this thread: 200,000 records, none torn, lost or reordered", async () => {
  const ring = RecordRing.create({ capacity: 1 << 16 });
  const count = 200_000;
  const { taken, last } = await runWorker(ring, count, true, 0);
  assert.equal(taken, count);
  assert.equal(last, count - 1);
  assert.equal(ring.stats().records, count);
});

Deno.test("a slow consumer: the producer drops and counts, what arrives is whole and in order", async () => {
  const ring = RecordRing.create({ capacity: 1 << 12 });
  const count = 50_000;
  const { taken } = await runWorker(ring, count, false, 50);
  const s = ring.stats();
  assert.ok(s.dropped > 0, "a 4 KiB ring behind a slow reader must drop");
  assert.equal(taken + s.dropped, count);
  assert.equal(s.records, taken);
});
