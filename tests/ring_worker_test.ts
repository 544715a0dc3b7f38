import assert from "node:assert/strict";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";

interface ConsumerResult {
  consumed: number;
  torn: number;
  reordered: number;
  gaps: number;
  last: number;
  checksum: number;
}

function startWorker(name: string): Worker {
  return new Worker(new URL(`./fixtures/${name}.ts`, import.meta.url), { type: "module" });
}

function result<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data as T);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
}

async function runPair(
  ring: SpscRing,
  count: number,
  consumer: { batch: number; slowMs: number },
): Promise<{ produced: { produced: number; refused: number }; consumed: ConsumerResult }> {
  const producer = startWorker("ring_producer_worker");
  const consumerWorker = startWorker("ring_consumer_worker");
  try {
    const consumed = result<ConsumerResult>(consumerWorker);
    const produced = result<{ produced: number; refused: number }>(producer);
    consumerWorker.postMessage({ buffer: ring.buffer, ...consumer });
    producer.postMessage({ buffer: ring.buffer, count });
    return { produced: await produced, consumed: await consumed };
  } finally {
    producer.terminate();
    consumerWorker.terminate();
  }
}

Deno.test("1,000,000 checksummed records between two workers: none torn, lost or reordered", async () => {
  const count = 1_000_000;
  const ring = SpscRing.create({ capacity: 1024, slotBytes: 64, policy: "block" });
  const { produced, consumed } = await runPair(ring, count, { batch: 64, slowMs: 0 });
  assert.equal(produced.refused, 0);
  assert.deepEqual(
    { consumed: consumed.consumed, torn: consumed.torn, reordered: consumed.reordered },
    { consumed: count, torn: 0, reordered: 0 },
  );
  assert.equal(consumed.gaps, 0);
  assert.equal(consumed.last, count - 1);
  assert.equal(consumed.checksum, ((count - 1) * count / 2) % 2147483647);
  const s = ring.stats();
  assert.deepEqual([s.pushed, s.popped, s.dropped, s.depth], [count, count, 0, 0]);
});

Deno.test("drop-oldest with a slow consumer: produced = consumed + dropped, every record intact", async () => {
  const count = 200_000;
  const ring = SpscRing.create({ capacity: 256, slotBytes: 704, policy: "drop-oldest" });
  const { produced, consumed } = await runPair(ring, count, { batch: 32, slowMs: 1 });
  const s = ring.stats();
  assert.equal(produced.refused, 0);
  assert.equal(consumed.torn, 0, "a discarded overtaken copy never reaches the consumer");
  assert.equal(consumed.reordered, 0);
  assert.ok(s.dropped > 0, "the slow consumer forced drops");
  assert.ok(consumed.gaps > 0, "drops show up as gaps in the sequence");
  assert.equal(s.depth, 0);
  assert.equal(count, consumed.consumed + s.dropped);
  assert.equal(s.popped, consumed.consumed);
});
