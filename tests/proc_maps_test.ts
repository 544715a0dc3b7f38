// testing/proc_maps.ts: the soak's attribution of resident memory to kinds
// of mappings. Linux only (it reads /proc).
import assert from "node:assert/strict";
import { residentByKind } from "../testing/proc_maps.ts";

const linux = Deno.build.os === "linux";
const MIB = 1024;

Deno.test({
  name: "proc maps: the kinds sum to the resident set, which is VmRSS",
  ignore: !linux,
  fn() {
    const r = residentByKind(Deno.pid);
    const { totalKiB, arenaCount, ...kinds } = r;
    assert.equal(Object.values(kinds).reduce((a, b) => a + b, 0), totalKiB);
    assert.ok(arenaCount >= 0);
    const status = Deno.readTextFileSync(`/proc/${Deno.pid}/status`);
    const vmRss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
    // Read a moment apart, and VmRSS lags (the kernel batches each thread's
    // counts): within 5 % of each other.
    assert.ok(Math.abs(vmRss - totalKiB) < 0.05 * vmRss, `smaps ${totalKiB} kB, VmRSS ${vmRss} kB`);
    assert.ok(r.file > 0, "the executable is file-backed");
    assert.ok(r.v8Pages > 0, "V8 heap pages");
  },
});

Deno.test({
  name: "proc maps: a large touched buffer shows as other anonymous memory, not V8 pages or arenas",
  ignore: !linux,
  async fn() {
    // In a fresh process: in this one, earlier tests may have left freed
    // memory that the allocator hands out again, already resident.
    const helper = JSON.stringify(new URL("../testing/proc_maps.ts", import.meta.url).href);
    const script = `
      import { residentByKind } from ${helper};
      const before = residentByKind(Deno.pid);
      const buffer = new Uint8Array(48 * 1024 * 1024).fill(1); // malloc maps it on its own
      const after = residentByKind(Deno.pid);
      console.log(JSON.stringify({ before, after, last: buffer[buffer.length - 1] }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const { before, after, last } = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(last, 1);
    const grew = after.otherAnon - before.otherAnon;
    assert.ok(grew >= 47 * MIB, `other anon grew ${grew} kB`);
    assert.ok(after.mallocArenas - before.mallocArenas < 8 * MIB);
  },
});
