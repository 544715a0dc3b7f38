/**
 * Measures a diff-mode bring-up: the simulated exchange in its own process
 * (which counts REST weight per minute and answers 429 over 6000), the
 * service in another with `--stream diff`, and `/stats` polled every second
 * until every local book is synced. Prints one progress line per poll (books
 * synced, the service's ETA, snapshots refused as too old or invalid, the
 * exchange's used weight in the last minute, REST answers by status, the
 * service's resident set) and the bring-up time with the service's RSS then
 * and at its peak (Linux: `VmRSS` / `VmHWM` of `/proc/<pid>/status`).
 *
 * ```sh
 * deno run -A tools/diff_bringup.ts [--symbols 1024] [--rate 10] [--snapshot-depth 100]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { spawnExchange, spawnServiceOn } from "../testing/footprint_processes.ts";
import { symbolNames } from "../testing/footprint_scenario.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    symbols: { type: "string", default: "1024" },
    rate: { type: "string", default: "10" },
    "snapshot-depth": { type: "string", default: "100" },
    "timeout-s": { type: "string", default: "600" },
  },
});
const n = Number(values.symbols);
const symbols = symbolNames(n);
const exchange = await spawnExchange({ symbols, rate: Number(values.rate) });
const service = await spawnServiceOn(exchange, {
  symbols,
  inspect: false,
  args: ["--stream", "diff", "--snapshot-depth", values["snapshot-depth"]!],
});
const started = performance.now();

/** The service's resident set and its peak, MiB (`/proc/<pid>/status`). */
function rssMiB(): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${service.pid}/status`);
  const kib = (field: string) =>
    Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1]);
  return { rss: kib("VmRSS") / 1024, peak: kib("VmHWM") / 1024 };
}

let maxWeight = 0;
try {
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const stats = await (await fetch(new URL("stats", service.url))).json();
    const sim = await (await fetch(`${exchange.restUrl}/sim/stats`)).json();
    maxWeight = Math.max(maxWeight, sim.usedWeight1m);
    const d = stats.diffSync;
    const t = ((performance.now() - started) / 1000).toFixed(1);
    const mem = rssMiB();
    console.log(
      `${t}s synced ${d.synced}/${d.total} eta ${d.etaSeconds}s rangeResyncs ${d.rangeResyncs} ` +
        `snapshots tooOld ${d.snapshotsTooOld} invalid ${d.snapshotsInvalid} ` +
        `weight1m ${sim.usedWeight1m} rest ${JSON.stringify(sim.rest)} ` +
        `reconnects ${stats.ingest.reconnects} staleEvents ${stats.ingest.staleEvents} ` +
        `rss ${mem.rss.toFixed(1)} MiB`,
    );
    if (d.synced === d.total) {
      const rejected: Record<string, number> = {};
      for (const one of Object.values(stats.symbols) as { rejected: Record<string, number> }[]) {
        for (const [reason, n] of Object.entries(one.rejected)) {
          if (n > 0) rejected[reason] = (rejected[reason] ?? 0) + n;
        }
      }
      console.log(`diff events rejected by reason (all symbols): ${JSON.stringify(rejected)}`);
      const metrics = await (await fetch(new URL("metrics", service.url))).text();
      const snapshotLines = metrics.split("\n").filter((l) =>
        /^depthwatch_(rest_requests|diff_snapshots)_total\{/.test(l)
      );
      console.log(`service: ${snapshotLines.join(", ")}`);
      console.log(
        `all ${n} books synced in ${t} s (from the service's first answer); ` +
          `most weight in a minute ${maxWeight}; REST answers ${JSON.stringify(sim.rest)}; ` +
          `service RSS ${mem.rss.toFixed(1)} MiB, peak ${mem.peak.toFixed(1)} MiB`,
      );
      break;
    }
    if (Number(t) > Number(values["timeout-s"])) {
      console.log(`gave up after ${t} s`);
      break;
    }
  }
} finally {
  await service.stop();
  await exchange.stop();
}
