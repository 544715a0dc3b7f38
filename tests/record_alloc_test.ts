/**
 * The recording's per-record paths allocate (almost) nothing, measured as heap
 * growth in a child process whose young generation holds everything the
 * control allocates (as the slippage probe in analytics_slippage_exact_test.ts):
 * reading (time parse + the pull API) allocates nothing; encoding a line
 * allocates only the one 16-byte HeapNumber V8 makes for a µs time (above
 * 2^31) passed to a function it does not inline — never a copy of the message.
 * (A consumer that keeps `receiveTimeUs` in a loop-carried variable may box it
 * too: that is the consumer's code shape, not the reader's.)
 */
import assert from "node:assert/strict";

const LINE = new URL("../lib/record/record_line.ts", import.meta.url).href;
const READER = new URL("../lib/record/record_reader.ts", import.meta.url).href;

type Mode = "read" | "encode";

async function heapGrowth(mode: Mode, control: boolean, records: number): Promise<number> {
  const textFile = await Deno.makeTempFile({ suffix: ".txt" });
  // The control allocates what a careless implementation would: an object per
  // record read, a copy of each message encoded (≥ 100 B).
  const script = `
    import { encodeLine } from "${LINE}";
    import { openRecording } from "${READER}";
    const T = Date.UTC(2026, 11, 2, 12) * 1000;
    const strs = Array.from({ length: 64 }, (_, i) =>
      '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","U":' + (1000 + i) + ',"b":[["1.0","2"]]}}');
    const bytes = strs.map((s) => new TextEncoder().encode(s));
    const block = new Uint8Array(1 << 20);
    const keep = new Array(1024).fill(null);
    const sink = new Float64Array(2);
    const encode = (n) => {
      let pos = 0;
      for (let r = 0; r < n; r++) {
        const m = (r & 1) ? bytes[r & 63] : strs[r & 63];
        ${control ? "keep[r & 1023] = Array.from(bytes[r & 63]);" : ""}
        let e = encodeLine(block, pos, T + r * 997, m);
        if (e < 0) e = encodeLine(block, 0, T + r * 997, m);
        pos = e;
      }
      sink[0] += pos;
    };
    const lines = [];
    for (let r = 0; r < ${records} + 20000; r++) {
      const e = encodeLine(block, 0, T + r * 997, bytes[r & 63]);
      lines.push(new TextDecoder().decode(block.subarray(0, e)));
    }
    Deno.writeTextFileSync("${textFile}", lines.join(""));
    const reader = openRecording("${textFile}");
    const read = (n) => {
      let bytesRead = 0;
      for (let r = 0; r < n && reader.next(); r++) {
        bytesRead += reader.end - reader.start;
        ${control ? "keep[r & 1023] = { r };" : ""}
      }
      sink[0] += bytesRead;
      sink[1] = reader.receiveTimeUs;
    };
    const run = ${mode};
    run(20000);
    const before = Deno.memoryUsage().heapUsed;
    run(${records});
    const after = Deno.memoryUsage().heapUsed;
    console.log(JSON.stringify({ grown: after - before, sink: sink[0] > 0 }));
  `;
  const file = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--v8-flags=--no-concurrent-recompilation,--no-concurrent-osr,--min-semi-space-size=64,--max-semi-space-size=64",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const text = new TextDecoder().decode(out.stdout);
    const result = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.equal(result.sink, true);
    return result.grown;
  } finally {
    await Deno.remove(file);
    await Deno.remove(textFile);
  }
}

const RECORDS = 200_000;

Deno.test("record read (time parse + pull API) allocates nothing per record", async () => {
  const grown = await heapGrowth("read", false, RECORDS);
  assert.ok(grown < 64 * 1024, `heap grew ${grown} B over ${RECORDS} records read`);
  assert.ok(await heapGrowth("read", true, RECORDS) > RECORDS * 8, "the control shows");
});

Deno.test("record encode allocates at most the µs time's HeapNumber per record, no message copy", async () => {
  const grown = await heapGrowth("encode", false, RECORDS);
  assert.ok(grown <= RECORDS * 16 + 64 * 1024, `heap grew ${grown} B over ${RECORDS} lines`);
  assert.ok(await heapGrowth("encode", true, RECORDS) > RECORDS * 64, "the control shows");
});
