import assert from "node:assert/strict";
import fc from "fast-check";
import { openRecording, RecordWriter } from "../lib/record/mod.ts";
import { recordedMessages } from "../testing/record_fixture.ts";

const START = Date.UTC(2026, 11, 2, 12) * 1000 + 11;
const msgs = recordedMessages(START, 2_000_000).slice(0, 300);
const original = new Set(msgs.map((m) => `${m.us} ${m.text}`));

function recording(): { path: string; bytes: Uint8Array; index: Uint8Array } {
  const dir = Deno.makeTempDirSync();
  const w = new RecordWriter({ dir, venue: "binance", blockBytes: 4096 });
  for (const m of msgs) w.append(m.us, m.text);
  w.close();
  const path = `${dir}/binance/2026-12-02/12.dwrec.zst`;
  return {
    path,
    bytes: Deno.readFileSync(path),
    index: Deno.readFileSync(`${dir}/binance/2026-12-02/12.dwrec.idx`),
  };
}

Deno.test("record fuzz: damaged files and indexes never throw, and every record read is one that was written", () => {
  const rec = recording();
  const indexPath = rec.path.replace(".dwrec.zst", ".dwrec.idx");
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }),
      fc.option(fc.nat(), { nil: undefined }),
      fc.constantFrom("keep", "drop", "damage"),
      (flips, cut, indexFate) => {
        const bytes = rec.bytes.slice();
        for (const [at, x] of flips) bytes[at % bytes.length] ^= x;
        const data = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
        Deno.writeFileSync(rec.path, data);
        const index = rec.index.slice();
        if (indexFate === "damage") { for (const [at, x] of flips) index[at % index.length] ^= x; }
        Deno.writeFileSync(indexPath, index);
        if (indexFate === "drop") Deno.removeSync(indexPath);
        const r = openRecording(rec.path);
        let n = 0;
        while (r.next()) {
          assert.ok(original.has(`${r.receiveTimeUs} ${r.text()}`), `record ${n} was written`);
          n++;
        }
        const untouched = flips.length === 0 && cut === undefined && indexFate === "keep";
        if (untouched) assert.equal(n, msgs.length);
        if (n < msgs.length) assert.ok(r.issues.total > 0, "lost records are accounted for");
      },
    ),
    { numRuns: 150 },
  );
});
