/**
 * Ring benchmark: move 704-byte order-book records (20 levels a side of
 * float64 price and size, plus header) from one worker to another through
 * (a) the SharedArrayBuffer ring, (b) postMessage of an equivalent plain
 * object (baseline), (c) postMessage of a Float64Array.
 *
 * Each iteration moves RECORDS records; records/s = RECORDS × iter/s. A table
 * with records/s is printed when the run ends.
 *
 * Run: `deno task bench` (or `deno bench -A bench/ring_bench.ts`).
 * @module
 */
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import { BookSlotLayout } from "../lib/pipeline/book_slot.ts";

const RECORDS = 50_000;
const layout = new BookSlotLayout(20);
const ring = SpscRing.create({ capacity: 2048, slotBytes: layout.slotBytes, policy: "block" });
const channel = new MessageChannel();
const producer = new Worker(new URL("./workers/ring_bench_producer.ts", import.meta.url), {
  type: "module",
});
const consumer = new Worker(new URL("./workers/ring_bench_consumer.ts", import.meta.url), {
  type: "module",
});
producer.postMessage({ ring: ring.buffer, port: channel.port1 }, [channel.port1]);
consumer.postMessage({ ring: ring.buffer, port: channel.port2 }, [channel.port2]);

let seq = 0;
const totals = new Map<string, { records: number; ms: number }>();

function move(mode: string): Promise<void> {
  const start = seq;
  seq += RECORDS;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    consumer.onmessage = (e) => {
      if (e.data.ready) {
        // The consumer knows what to expect: now start the producer.
        producer.postMessage({ mode, count: RECORDS, start });
        return;
      }
      if (e.data.errors) reject(new Error(`${e.data.errors} records out of order`));
      const t = totals.get(mode) ?? { records: 0, ms: 0 };
      t.records += RECORDS;
      t.ms += performance.now() - t0;
      totals.set(mode, t);
      resolve();
    };
    consumer.postMessage({ mode, count: RECORDS, start });
  });
}

const group = "704-byte records, worker to worker";
Deno.bench({
  name: "postMessage plain object",
  group,
  baseline: true,
  n: 10,
  warmup: 2,
  fn: async () => await move("object"),
});
Deno.bench({
  name: "postMessage Float64Array",
  group,
  n: 10,
  warmup: 2,
  fn: async () => await move("f64"),
});
Deno.bench({ name: "SAB ring", group, n: 30, warmup: 5, fn: async () => await move("ring") });

globalThis.addEventListener("unload", () => {
  console.log(`\nrecords/s (${RECORDS} records per iteration, incl. warmup):`);
  const base = totals.get("object");
  for (const [mode, t] of totals) {
    const rate = (t.records / t.ms) * 1000;
    const ratio = base ? rate / ((base.records / base.ms) * 1000) : NaN;
    console.log(
      `  ${mode.padEnd(8)} ${Math.round(rate).toLocaleString("en-US").padStart(12)}  ${
        ratio.toFixed(1)
      }x`,
    );
  }
  producer.terminate();
  consumer.terminate();
});
