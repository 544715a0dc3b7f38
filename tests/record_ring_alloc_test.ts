/**
 * The record ring's per-record costs in heap, measured as heap growth in a
 * child process whose young generation holds everything (as
 * record_alloc_test.ts): the consumer reads records in place and allocates
 * nothing; a push allocates only what `TextEncoder.encodeInto` needs (a view
 * of the free bytes, its `{ read, written }` result), never a copy of the
 * ~700-byte message.
 */
import assert from "node:assert/strict";

const RING = new URL("../lib/pipeline/record_ring.ts", import.meta.url).href;

async function perRecord(mode: "push" | "consume", control: boolean): Promise<number> {
  const script = `
    import { RecordRing } from "${RING}";
    const texts = Array.from({ length: 64 }, (_, i) =>
      '{"stream":"btcusdt@depth20@100ms","data":{"lastUpdateId":' + (1000 + i) + ',"bids":[' +
      Array.from({ length: 40 }, (_, k) => '["' + (100 + k) + '.01","2.5"]').join(",") + ']}}');
    const ring = RecordRing.create({ capacity: 1 << 22 });
    const T = Date.UTC(2026, 11, 2, 12) * 1000;
    const keep = new Array(1024).fill(null);
    const sink = new Float64Array(1);
    const produce = (n) => {
      for (let r = 0; r < n; r++) {
        ${control ? "keep[r & 1023] = texts[r & 63].toUpperCase();" : ""}
        ring.push(texts[r & 63], T + r);
      }
    };
    const consume = (n) => {
      let bytes = 0;
      for (let r = 0; r < n && ring.next(); r++) {
        bytes += ring.bytes[ring.textStart] + ring.textLength;
        ${control ? "keep[r & 1023] = { r };" : ""}
      }
      sink[0] += bytes;
    };
    const N = 1000;
    for (let k = 0; k < 20; k++) { produce(N); consume(N); }
    let grown = 0;
    for (let k = 0; k < 20; k++) {
      if ("${mode}" === "push") {
        const before = Deno.memoryUsage().heapUsed;
        produce(N);
        grown += Deno.memoryUsage().heapUsed - before;
        consume(N);
      } else {
        produce(N);
        const before = Deno.memoryUsage().heapUsed;
        consume(N);
        grown += Deno.memoryUsage().heapUsed - before;
      }
    }
    console.log(JSON.stringify({ perRecord: grown / (20 * N), sink: sink[0] > 0 }));
  `;
  const file = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--v8-flags=--no-concurrent-recompilation,--no-concurrent-osr,--min-semi-space-size=64,--max-semi-space-size=64",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assert.equal(result.sink, true);
    return result.perRecord;
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("record ring: the consumer reads records in place, allocating nothing per record", async () => {
  const grown = await perRecord("consume", false);
  assert.ok(grown < 1, `${grown} B per record taken`);
  const control = await perRecord("consume", true);
  assert.ok(control > 8, `the control shows: ${control} B per record`);
});

Deno.test("record ring: a push allocates encodeInto's view and result, never a copy of the message", async () => {
  const grown = await perRecord("push", false);
  assert.ok(grown < 256, `${grown} B per ~700-byte record pushed`);
  const control = await perRecord("push", true);
  assert.ok(control > 700, `the control shows: ${control} B per record`);
});
