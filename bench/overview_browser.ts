/**
 * Browser benchmark of the market overview (`GET /`), run by hand:
 *
 * ```sh
 * deno task build
 * deno run -A bench/overview_browser.ts                 # 2,000 symbols, 120 s
 * deno run -A bench/overview_browser.ts --seconds 600   # the 10 minutes
 * deno run -A bench/overview_browser.ts --symbols 200 --seconds 60
 * ```
 *
 * The service runs in this process with the simulated exchange (`--symbols`
 * names, 2 frames/s each); one headless Chromium page shows the overview
 * for `--seconds`. Measured:
 * - **update cost**: `performance.now()` around every animation-frame
 *   callback of the page (the overview decodes the newest summary, filters,
 *   sorts and renders inside one; Preact's commit runs in a microtask queued
 *   within it, so the timing ends in a microtask queued after it): per
 *   second of data, i.e. summed per summary; p50, p95 and max;
 * - **JS heap** after a forced GC (CDP) after a 20 s warm-up and at the end;
 * - **summary bytes per second per client**: the hub's
 *   `summaryBytesSent` over the window (one client).
 *
 * The machine is shared and loaded: the load average is printed with the
 * numbers, which are indicative only.
 *
 * @module
 */
import { chromium } from "playwright-core";
import { parseArgs } from "node:util";
import { startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { symbolNames } from "../testing/footprint_scenario.ts";
import { CHROMIUM_ARGS } from "../testing/chromium_session.ts";

/** Wraps requestAnimationFrame so each callback (and the microtasks it queued) is timed. */
const TIMING_SCRIPT = `(() => {
  const raf = window.requestAnimationFrame.bind(window);
  const samples = [];
  window.__overviewTimes = samples;
  window.requestAnimationFrame = (cb) => raf((t) => {
    const t0 = performance.now();
    try { cb(t); } finally {
      queueMicrotask(() => queueMicrotask(() => {
        if (samples.length < 100000) samples.push([performance.now() - t0, Number(document.querySelector(".ov")?.dataset.seq ?? 0)]);
      }));
    }
  });
})();`;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      symbols: { type: "string", default: "2000" },
      seconds: { type: "string", default: "120" },
      json: { type: "boolean", default: false },
    },
  });
  const n = Number(values.symbols), seconds = Number(values.seconds);
  if (!(n >= 2) || !(seconds >= 10)) {
    throw new TypeError("expected --symbols ≥ 2 and --seconds ≥ 10");
  }
  const service = await startService(
    parseConfig([
      "--source=sim",
      "--port=0",
      `--symbols=${symbolNames(n).join(",")}`,
      "--sim-rate=2",
    ]),
    { log: createLogger({ level: "error" }) },
  );
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.addInitScript(TIMING_SCRIPT);
    await page.goto(service.url);
    await page.locator('.ov[data-feed="live"]').waitFor({ timeout: 120_000 });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const heap = async () => {
      await cdp.send("HeapProfiler.collectGarbage");
      await cdp.send("HeapProfiler.collectGarbage");
      const { metrics } = await cdp.send("Performance.getMetrics");
      return metrics.find((m: { name: string }) => m.name === "JSHeapUsedSize")?.value ?? NaN;
    };
    await new Promise((r) => setTimeout(r, 20_000)); // warm-up: JIT, first layouts
    const hub = service.state.hub as { summaryBytesSent: number; summariesSent: number };
    const heap0 = await heap();
    await page.evaluate(() =>
      (globalThis as unknown as { __overviewTimes: unknown[] }).__overviewTimes.length = 0
    );
    const bytes0 = hub.summaryBytesSent, sent0 = hub.summariesSent, t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - t0) / 1000;
    const bytes = hub.summaryBytesSent - bytes0, sent = hub.summariesSent - sent0;
    const samples = await page.evaluate(() =>
      (globalThis as unknown as { __overviewTimes: [number, number][] }).__overviewTimes
    );
    const heap1 = await heap();
    // Per second of data: the callbacks' time summed per summary (seq).
    const perSummary = new Map<number, number>();
    for (const [ms, seq] of samples) perSummary.set(seq, (perSummary.get(seq) ?? 0) + ms);
    const per = [...perSummary.values()].sort((a, b) => a - b);
    const result = {
      symbols: n,
      seconds: Math.round(elapsed),
      loadavg: Deno.loadavg().map((x) => x.toFixed(2)).join(" "),
      summaries: sent,
      summaryBytes: Math.round(bytes / Math.max(1, sent)),
      bytesPerSecond: Math.round(bytes / elapsed),
      updateMsP50: +quantile(per, 0.5).toFixed(2),
      updateMsP95: +quantile(per, 0.95).toFixed(2),
      updateMsMax: +(per.at(-1) ?? NaN).toFixed(2),
      renders: samples.length,
      heapStartMB: +(heap0 / 1e6).toFixed(2),
      heapEndMB: +(heap1 / 1e6).toFixed(2),
      heapGrowthMB: +((heap1 - heap0) / 1e6).toFixed(2),
      pageErrors: errors.length,
    };
    console.log(values.json ? JSON.stringify(result) : result);
    await cdp.detach();
  } finally {
    await browser.close();
    await service.close();
  }
}

if (import.meta.main) await main();
