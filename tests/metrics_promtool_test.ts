/**
 * `/metrics` passes `promtool check metrics` with no finding at all: no
 * format error and no lint warning (a gauge named `_total`, a counter
 * without `_total`, a missing HELP, …). Checked on the real service running
 * on the simulated exchange after frames have flowed (so histograms, label
 * sets and prom-client's default metrics are filled in), and on a rendering
 * under the production permissions (`--allow-read=.`), where the process
 * metrics come from a different collector.
 *
 * promtool comes with Debian's `prometheus` package:
 * `apt-get install -y --no-install-recommends prometheus`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { startService } from "../main.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { parsePromText } from "./fixtures/prom_text.ts";
import { promtoolCheckMetrics } from "./fixtures/promtool.ts";

const LATENCY = "depthwatch_pipeline_latency_seconds";

/** Every `process_*` family prom-client gives on Linux with read access to /proc. */
const PROCESS_METRICS = [
  "process_cpu_user_seconds_total",
  "process_cpu_system_seconds_total",
  "process_cpu_seconds_total",
  "process_start_time_seconds",
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
];

Deno.test("metrics: promtool check metrics finds nothing in a live /metrics after frames flowed", async () => {
  const service = await startService(
    parseConfig(["--source", "sim", "--port", "0", "--symbols", "btcusdt,ethusdt"]),
    { log: createLogger({ level: "error" }) },
  );
  let exposition = "";
  try {
    // Frames flowed: both feeds live, frames delivered and their latencies observed.
    const flowed = (text: string) => {
      const f = parsePromText(text);
      const value = (name: string, labels: Record<string, string> = {}, sample = name) =>
        f.get(name)?.samples.find((s) =>
          s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
        )?.value ?? 0;
      return ["BTCUSDT", "ETHUSDT"].every((symbol) =>
        value("depthwatch_feed_up", { symbol }) === 1 &&
        value("depthwatch_frames_delivered_total", { symbol }) >= 20
      ) && value(LATENCY, {}, `${LATENCY}_count`) > 0;
    };
    const until = Date.now() + 20_000;
    do {
      await new Promise((r) => setTimeout(r, 200));
      exposition = await (await fetch(new URL("/metrics", service.url))).text();
    } while (!flowed(exposition) && Date.now() < until);
    assert.ok(flowed(exposition), `frames did not flow within 20 s:\n${exposition}`);
  } finally {
    await service.close();
  }

  const { code, output } = await promtoolCheckMetrics(exposition);
  assert.equal(output, "", "promtool check metrics prints no error and no lint warning");
  assert.equal(code, 0, output);

  const families = parsePromText(exposition);
  const missing = PROCESS_METRICS.filter((name) => !families.has(name));
  assert.deepEqual(missing, [], "every process_* metric is kept");
  assert.ok(families.has("nodejs_eventloop_lag_p99_seconds"), "docs/operating.md lists it");
});

Deno.test("metrics: promtool check metrics finds nothing under the production permissions", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      "--allow-read=.",
      "--allow-env=DEPTHWATCH_*",
      "--no-prompt",
      new URL("./fixtures/metrics_probe.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
    cwd: new URL("..", import.meta.url).pathname,
  }).output();
  const d = new TextDecoder();
  assert.equal(out.code, 0, `probe failed: ${d.decode(out.stderr)}`);
  const exposition = d.decode(out.stdout);
  assert.ok(parsePromText(exposition).has("process_resident_memory_bytes"));

  const { code, output } = await promtoolCheckMetrics(exposition);
  assert.equal(output, "", "promtool check metrics prints no error and no lint warning");
  assert.equal(code, 0, output);
});
