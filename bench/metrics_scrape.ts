/**
 * Scrape cost of `/metrics` by symbol count: the size of one rendering
 * (bytes, series) and the time to generate it, and the time of the
 * once-a-second `sample()` that keeps the totals exact.
 *
 * The state is real (shared pipeline counters, rings, latency tracker) but
 * holds no live feed: every symbol's counters are filled with values of a
 * week's run (7-digit frame counts, a few rejects, every 50th symbol not
 * live), so the text has the length a long-running service's has. Symbols
 * are named like the simulated exchange's (`BTCUSDT`, `ETHUSDT`, `S002USDT`…).
 *
 * Run: `deno run -A bench/metrics_scrape.ts [--symbols 2,200,1024,2000] [--runs 20] [--json]`
 *
 * @example
 * ```sh
 * deno run -A bench/metrics_scrape.ts --symbols 2,200,1024,2000
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { createMetrics } from "../lib/metrics/metrics_registry.ts";
import type { MetricsSources, WorkerName } from "../lib/metrics/metrics_sources.ts";
import {
  ANALYTICS_ANALYSED,
  ANALYTICS_PROCESSED,
  ANALYTICS_SKIPPED,
  INGEST_ACCEPTED,
  INGEST_FEED_STATE,
  INGEST_RECEIVED,
  MAIN_DELIVERED,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { LatencyTracker } from "../lib/server/latency_tracker.ts";

/** One measured symbol count. */
export interface ScrapeCost {
  /** Symbols in the state. */
  symbols: number;
  /** UTF-8 bytes of one rendering. */
  bytes: number;
  /** Sample lines of one rendering. */
  series: number;
  /** Median time of `render()` in ms. */
  renderMs: number;
  /** Median time of `sample()` in ms. */
  sampleMs: number;
}

/** Symbol names like the simulated exchange's: two real ones, then `S002USDT`, … */
function symbolNames(n: number): string[] {
  const out = ["BTCUSDT", "ETHUSDT"].slice(0, n);
  for (let i = out.length; i < n; i++) out.push(`S${String(i).padStart(3, "0")}USDT`);
  return out;
}

/** A service state of `n` symbols whose counters hold a week's worth of frames. */
function weekState(n: number): MetricsSources {
  const symbols = symbolNames(n);
  const counters = PipelineCounters.create(n + 1); // + the unknown-symbol row
  const c = counters;
  for (let s = 0; s < n; s++) {
    const received = 6_000_000 + s * 37;
    const rejected = s % 7;
    const skipped = s % 3;
    c.add(c.ingestSymbol(s, INGEST_RECEIVED), received);
    c.add(c.rejected(s, RejectReason.Duplicate), rejected);
    c.add(c.ingestSymbol(s, INGEST_ACCEPTED), received - rejected);
    c.add(c.analyticsSymbol(s, ANALYTICS_ANALYSED), received - rejected);
    c.add(c.analyticsSymbol(s, ANALYTICS_SKIPPED), skipped);
    c.add(c.analyticsSymbol(s, ANALYTICS_PROCESSED), received - rejected - skipped);
    c.add(c.mainSymbol(s, MAIN_DELIVERED), received - rejected - skipped);
    c.store(c.ingestSymbol(s, INGEST_FEED_STATE), s % 50 === 49 ? FeedState.Stale : FeedState.Live);
  }
  c.add(c.ingestSymbol(n, INGEST_RECEIVED), 5);
  c.add(c.rejected(n, RejectReason.Malformed), 5);
  const latency = new LatencyTracker();
  for (let i = 0; i < 1000; i++) latency.observe(0.0005 + (i % 40) * 0.0001);
  const workers: WorkerName[] = ["ingest", "analytics"];
  return {
    mode: "SIM",
    source: "sim",
    stream: "depth20",
    symbols,
    counters,
    rawRing: SpscRing.create({ capacity: 2048, slotBytes: 64 }),
    processedRing: SpscRing.create({ capacity: 2048, slotBytes: 64 }),
    supervisor: {
      state: () => "running",
      restarts: (w) => workers.indexOf(w),
      inFlightLost: 0,
    },
    latency,
    hub: { clients: 3, framesConflated: 12, disconnects: { slow: 1 } },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Measure one symbol count: `runs` renderings and samples after 5 warm-up rounds. */
export async function measureScrape(n: number, runs = 20): Promise<ScrapeCost> {
  const metrics = createMetrics(weekState(n));
  let text = "";
  const renders: number[] = [];
  const samples: number[] = [];
  for (let i = 0; i < runs + 5; i++) {
    const t0 = performance.now();
    text = await metrics.render();
    const t1 = performance.now();
    metrics.sample();
    const t2 = performance.now();
    if (i >= 5) {
      renders.push(t1 - t0);
      samples.push(t2 - t1);
    }
  }
  return {
    symbols: n,
    bytes: new TextEncoder().encode(text).length,
    series: text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length,
    renderMs: median(renders),
    sampleMs: median(samples),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      symbols: { type: "string", default: "2,200,1024" },
      runs: { type: "string", default: "20" },
      json: { type: "boolean", default: false },
    },
  });
  const counts = values.symbols.split(",").map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`--symbols takes positive integers separated by commas, got "${x}"`);
    }
    return n;
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`--runs takes a positive integer, got "${values.runs}"`);
  }
  const rows: ScrapeCost[] = [];
  for (const n of counts) rows.push(await measureScrape(n, runs));
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log(
      "| symbols | /metrics bytes | series | render ms (median) | sample() ms (median) |",
    );
    console.log("|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(
        `| ${r.symbols} | ${r.bytes.toLocaleString("en")} | ${r.series.toLocaleString("en")} | ` +
          `${r.renderMs.toFixed(2)} | ${r.sampleMs.toFixed(2)} |`,
      );
    }
  }
}
