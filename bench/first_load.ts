/**
 * First-load benchmark (`deno task first-load`; `deno task bench` runs it
 * with `--quick`): the service (simulated exchange, `--symbols`, default 2)
 * with a fresh client build, and headless Chromium loading the page with
 * the charts (`--path`, default `/s/{first symbol}` when the service has that
 * route, else `/`) once the history is full (the page carries it), in a
 * fresh context (empty cache) for each encoding the browser accepts — `br`
 * (Chromium's default: br, gzip, deflate, zstd), `gzip` only, and
 * `identity` (nothing compressed, the service as it was before
 * precompression) — `--runs` times each, in turns,
 * over each `--network` (default all: `loopback`; `10mbit` and `2mbit`,
 * Chromium's emulation of a 10 Mbit/s link with 40 ms latency and of a
 * 2 Mbit/s one with 100 ms, where bytes cost time).
 *
 * Per encoding it prints the bytes on the wire (Resource Timing
 * `transferSize`, headers included, WebSocket excluded) of the document, the
 * boot script and the stylesheet, their total, and the median and minimum
 * time from navigation start to the first painted canvas (see
 * `testing/first_load.ts`). On a shared, loaded machine the times are
 * indicative only; the bytes are exact.
 *
 * ```sh
 * deno task first-load                  # 5 runs per encoding
 * deno task first-load --quick          # 2 runs per encoding
 * deno task first-load --symbols 200 --path /s/BTCUSDT
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import {
  chartPagePath,
  type FirstLoad,
  type FirstLoadOptions,
  launchChromium,
  measureFirstLoad,
} from "../testing/first_load.ts";

/** Emulated networks: loopback (none), 10 Mbit/s down with 40 ms latency, 2 Mbit/s with 100 ms. */
const NETWORKS: Record<string, FirstLoadOptions["network"]> = {
  loopback: undefined,
  "10mbit": { latencyMs: 40, downKbps: 10_000, upKbps: 5_000 },
  "2mbit": { latencyMs: 100, downKbps: 2_000, upKbps: 1_000 },
};

const ENCODINGS: { name: string; accept: string[] | undefined }[] = [
  { name: "br", accept: undefined },
  { name: "gzip", accept: ["gzip", "deflate"] },
  { name: "identity", accept: [] },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function bytesOf(load: FirstLoad, test: (path: string) => boolean): number {
  return load.resources.filter((r) => test(r.path)).reduce((s, r) => s + r.transferSize, 0);
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      runs: { type: "string" },
      symbols: { type: "string", default: "2" },
      path: { type: "string" },
      network: { type: "string", default: "loopback,10mbit,2mbit" },
    },
  });
  const networks = values.network.split(",").map((name) => {
    if (!(name in NETWORKS)) {
      throw new Error(`--network ${name}: expected a list of ${Object.keys(NETWORKS).join(", ")}`);
    }
    return name;
  });
  const runs = Number(values.runs ?? (values.quick ? 2 : 5));
  const n = Number(values.symbols);
  const symbols = n <= 2 ? ["btcusdt", "ethusdt"].slice(0, Math.max(1, n)) : Array.from(
    { length: n },
    (_, i) => `sym${i}usdt`,
  );
  const config = parseConfig([
    "--source",
    "sim",
    "--port",
    "0",
    "--symbols",
    symbols.join(","),
    "--sim-rate",
    "10",
  ]);
  const service = await startService(config, {
    build: true,
    log: createLogger({ level: "error" }),
  });
  const browser = await launchChromium();
  const loads = new Map<string, FirstLoad[]>();
  let path = "/";
  try {
    path = values.path ?? await chartPagePath(service.url, symbols[0].toUpperCase());
    const url = new URL(path, service.url).href;
    // The page carries the history: measure it full (steady state), not while it fills.
    const history = service.state.history;
    while (history.size(0) < history.depth) await new Promise((r) => setTimeout(r, 200));
    await measureFirstLoad(browser, url); // warm the service and the browser
    for (let i = 0; i < runs; i++) {
      for (const network of networks) {
        for (const e of ENCODINGS) {
          const load = await measureFirstLoad(browser, url, {
            encodings: e.accept,
            network: NETWORKS[network],
          });
          if (load.pageErrors.length > 0) throw new Error(`page errors: ${load.pageErrors}`);
          const key = `${network} ${e.name}`;
          loads.set(key, [...loads.get(key) ?? [], load]);
        }
      }
    }
  } finally {
    await browser.close();
    await service.close();
  }
  const model = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?";
  console.log(
    `first load of ${path} (${symbols.length} symbols), ${runs} runs per encoding; ` +
      `${navigator.hardwareConcurrency} × ${model}; load average ${
        Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
      }`,
  );
  console.log(
    "| network | accepted | document B | boot script B | stylesheet B | total on the wire B | first chart ms (median / min) |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|");
  for (const [key, ls] of loads) {
    const last = ls[ls.length - 1];
    const doc = bytesOf(last, (p) => !p.startsWith("/build/") && !/\.\w+$/.test(p.split("?")[0]));
    const boot = bytesOf(last, (p) => p.startsWith("/build/boot-"));
    const css = bytesOf(last, (p) => p.endsWith(".css"));
    const times = ls.map((l) => l.firstChartMs);
    console.log(
      `| ${key.replace(" ", " | ")} | ${doc} | ${boot} | ${css} | ${last.transferred} | ${
        median(times).toFixed(0)
      } / ${Math.min(...times).toFixed(0)} |`,
    );
  }
}

if (import.meta.main) await main(Deno.args);
