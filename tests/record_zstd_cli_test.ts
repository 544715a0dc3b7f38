/**
 * Interoperability with the reference zstd tool (`zstd` on PATH; skipped
 * without it): a recording decompresses with `zstd -dc` into the exact lines
 * written, and a tardis-style `.zst` made by `zstd` (its own frame options,
 * here with a content size and several frames) reads with our reader.
 */
import assert from "node:assert/strict";
import { openRecording, RecordWriter, usToIso } from "../lib/record/mod.ts";
import { recordedMessages } from "../testing/record_fixture.ts";

function hasZstd(): boolean {
  try {
    return new Deno.Command("zstd", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const START = Date.UTC(2026, 11, 2, 12) * 1000 + 1;

Deno.test({
  name: "record zstd CLI: `zstd -dc` reads a recording; our reader reads zstd's files",
  ignore: !hasZstd(),
  fn() {
    const dir = Deno.makeTempDirSync();
    const msgs = recordedMessages(START, 250_000);
    const w = new RecordWriter({ dir, venue: "binance", blockBytes: 16 << 10 });
    for (const m of msgs) w.append(m.us, m.text);
    w.close();
    assert.ok(w.counters.blocks > 3);
    const path = `${dir}/binance/2026-12-02/12.dwrec.zst`;
    const out = new Deno.Command("zstd", { args: ["-dc", path], stdout: "piped" }).outputSync();
    assert.ok(out.success);
    const lines = new TextDecoder().decode(out.stdout).split("\n").slice(0, -1);
    assert.deepEqual(lines.map((l) => l.slice(29)), msgs.map((m) => m.text));
    assert.deepEqual(
      lines.map((l) => l.slice(0, 28)),
      msgs.map((m) => usToIso(m.us).replace("Z", "0Z")),
    );

    // Two frames made by the zstd tool itself, concatenated, as a plain tardis .zst.
    const text = new TextDecoder().decode(out.stdout);
    const cut = text.indexOf("\n", text.length >> 1) + 1;
    Deno.writeTextFileSync(`${dir}/a.txt`, text.slice(0, cut));
    Deno.writeTextFileSync(`${dir}/b.txt`, text.slice(cut));
    for (const f of ["a", "b"]) {
      const z = new Deno.Command("zstd", { args: ["-q", "-19", "-f", `${dir}/${f}.txt`] })
        .outputSync();
      assert.ok(z.success);
    }
    Deno.writeFileSync(
      `${dir}/tardis.zst`,
      new Uint8Array([
        ...Deno.readFileSync(`${dir}/a.txt.zst`),
        ...Deno.readFileSync(`${dir}/b.txt.zst`),
      ]),
    );
    const r = openRecording(`${dir}/tardis.zst`);
    const got: string[] = [];
    while (r.next()) got.push(r.text());
    assert.deepEqual(got, msgs.map((m) => m.text));
    assert.equal(r.issues.total, 0);
  },
});
