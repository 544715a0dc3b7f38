/**
 * `/metrics` at exchange scale: at 2,000 symbols (the target; the
 * state fixture has no 1,024 cap) one scrape stays within the byte budget of
 * docs/design.md §7, only the per-symbol families named there grow with the
 * symbol count, the text passes `promtool check metrics`, and every
 * accounting identity of docs/design.md §1 still checks from it.
 *
 * The counters hold values of a long run (10-digit counts, rejections of
 * several reasons, some feeds not live), so the bound is one of the output
 * format at realistic value widths, not of timing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createMetrics } from "../lib/metrics/metrics_registry.ts";
import {
  ANALYTICS_ANALYSED,
  ANALYTICS_PROCESSED,
  ANALYTICS_SKIPPED,
  INGEST_ACCEPTED,
  INGEST_RECEIVED,
  MAIN_DELIVERED,
} from "../lib/pipeline/pipeline_counters.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { REJECT_REASON_COUNT, RejectReason } from "../lib/pipeline/reject_reason.ts";
import { TestPipeline } from "./fixtures/service_state.ts";
import { parsePromText, type PromFamily, sampleValue } from "./fixtures/prom_text.ts";
import { assertIdentities } from "./fixtures/metrics_identities.ts";
import { promtoolCheckMetrics } from "./fixtures/promtool.ts";

/** The per-symbol families of docs/design.md §7: the only ones with a `symbol` label. */
const PER_SYMBOL = [
  "depthwatch_frames_received_total",
  "depthwatch_frames_rejected_by_symbol_total",
  "depthwatch_frames_accepted_total",
  "depthwatch_frames_analysed_total",
  "depthwatch_frames_processed_total",
  "depthwatch_frames_skipped_total",
  "depthwatch_frames_delivered_total",
  "depthwatch_feed_up",
];
/** Families that also carry the `symbol="UNKNOWN"` row. */
const WITH_UNKNOWN = [
  "depthwatch_frames_received_total",
  "depthwatch_frames_rejected_by_symbol_total",
];

/**
 * The budget of docs/design.md §7: 40 KiB that do not depend on the symbol
 * count (process metrics, histograms, queue and worker families), plus
 * 600 bytes per symbol (8 series of ≈ 60–75 bytes with a 9-character symbol
 * and 10-digit values). The symbol × reason family this replaced cost
 * ≈ 900 bytes per symbol on its own.
 */
const FIXED_BUDGET = 40 * 1024;
const PER_SYMBOL_BUDGET = 600;

/** `S0000USDT`, `S0001USDT`, …: 9 characters, like most Binance spot symbols. */
function symbolNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `S${String(i).padStart(4, "0")}USDT`);
}

/** A pipeline of `n` symbols whose counters hold a long run's values (identities kept). */
function longRun(n: number): TestPipeline {
  const p = new TestPipeline({ symbols: symbolNames(n), rawCapacity: 8, processedCapacity: 8 });
  const c = p.counters;
  for (let s = 0; s < n; s++) {
    const rejected = s % 5 === 0 ? 0 : 1 + (s % 17);
    const accepted = 1_000_000_000 + 7919 * s;
    const skipped = s % 3 === 0 ? 0 : 100_000 + s;
    c.add(c.rejected(s, 1 + (s % (REJECT_REASON_COUNT - 1))), rejected);
    c.add(c.ingestSymbol(s, INGEST_RECEIVED), accepted + rejected);
    c.add(c.ingestSymbol(s, INGEST_ACCEPTED), accepted);
    c.add(c.analyticsSymbol(s, ANALYTICS_ANALYSED), accepted);
    c.add(c.analyticsSymbol(s, ANALYTICS_SKIPPED), skipped);
    c.add(c.analyticsSymbol(s, ANALYTICS_PROCESSED), accepted - skipped);
    c.add(c.mainSymbol(s, MAIN_DELIVERED), accepted - skipped);
    if (s % 50 === 49) p.setFeed(s, FeedState.Stale);
  }
  p.reject(n, RejectReason.Malformed, 5); // frames that name no subscribed symbol
  // Some real traffic through the rings, so queue depths and latencies are not all zero.
  p.ingest(0, 6);
  p.analyse(4, (_s, k) => k === 1);
  p.deliver(2);
  return p;
}

/** Samples of `f` by whether they carry a `symbol` label. */
function countSamples(f: Map<string, PromFamily>): { perSymbol: number; other: number } {
  let perSymbol = 0, other = 0;
  for (const fam of f.values()) {
    for (const s of fam.samples) "symbol" in s.labels ? perSymbol++ : other++;
  }
  return { perSymbol, other };
}

Deno.test("metrics at 2,000 symbols: within the byte budget, promtool-clean, identities check", async () => {
  const n = 2000;
  const p = longRun(n);
  const text = await createMetrics(p.state).render();
  const bytes = new TextEncoder().encode(text).length;
  const budget = FIXED_BUDGET + n * PER_SYMBOL_BUDGET;
  assert.ok(bytes <= budget, `/metrics is ${bytes} bytes at ${n} symbols, budget ${budget}`);

  const f = parsePromText(text);
  for (const name of PER_SYMBOL) {
    const rows = n + (WITH_UNKNOWN.includes(name) ? 1 : 0);
    assert.equal(f.get(name)?.samples.length, rows, `${name}: one series per symbol`);
  }
  const counts = countSamples(f);
  assert.equal(
    counts.perSymbol,
    PER_SYMBOL.length * n + WITH_UNKNOWN.length,
    "no other family has a symbol label",
  );
  // Nothing else grows with the symbol count: the same series as at 2 symbols.
  const small = countSamples(parsePromText(await createMetrics(longRun(2).state).render()));
  assert.equal(counts.other, small.other, "series without a symbol label at 2 vs 2,000 symbols");

  assert.equal(sampleValue(f, "depthwatch_feeds", { state: "stale" }), 40);
  assert.equal(sampleValue(f, "depthwatch_feeds", { state: "live" }), n - 40);
  assert.equal(sampleValue(f, "depthwatch_feed_up", { symbol: "S0049USDT" }), 0);
  assert.equal(
    sampleValue(f, "depthwatch_frames_rejected_by_reason_total", { reason: "malformed" }),
    5 + [...Array(n).keys()].filter((s) => s % 5 !== 0 && s % (REJECT_REASON_COUNT - 1) === 0)
      .reduce((sum, s) => sum + 1 + (s % 17), 0),
  );
  assertIdentities(f, p.state.symbols);

  const { code, output } = await promtoolCheckMetrics(text);
  assert.equal(output, "", "promtool check metrics prints no error and no lint warning");
  assert.equal(code, 0, output);
});
