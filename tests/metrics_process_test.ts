import assert from "node:assert/strict";
import { parsePromText, sampleValue } from "./fixtures/prom_text.ts";

async function probe(
  flags: string[],
): Promise<Map<string, ReturnType<typeof parsePromText> extends Map<string, infer F> ? F : never>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...flags,
      new URL("./fixtures/metrics_probe.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
    cwd: new URL("..", import.meta.url).pathname,
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `probe failed: ${err}`);
  assert.equal(err, "", "no permission prompts or warnings");
  return parsePromText(new TextDecoder().decode(out.stdout));
}

Deno.test("metrics: process metrics under the production permissions (--allow-read=.)", async () => {
  const f = await probe([
    "--allow-net=127.0.0.1",
    "--allow-read=.",
    "--allow-env=DEPTHWATCH_*",
    "--no-prompt",
  ]);
  const rss = sampleValue(f, "process_resident_memory_bytes");
  assert.ok(rss > 10 * 2 ** 20 && rss < 4 * 2 ** 30, `RSS ${rss} is a real resident size`);
  assert.ok(sampleValue(f, "process_cpu_seconds_total") > 0);
  for (const name of ["process_virtual_memory_bytes", "process_heap_bytes", "process_open_fds"]) {
    assert.ok(!f.has(name), `${name} is left out rather than reported as 0 without /proc access`);
  }
  assert.ok(f.has("depthwatch_frames_received_total"));
});

Deno.test("metrics: process metrics with full permissions include the /proc ones", async () => {
  const f = await probe(["-A"]);
  assert.ok(sampleValue(f, "process_resident_memory_bytes") > 10 * 2 ** 20);
  assert.ok(sampleValue(f, "process_open_fds") > 0);
  assert.ok(sampleValue(f, "process_virtual_memory_bytes") > 0);
});
