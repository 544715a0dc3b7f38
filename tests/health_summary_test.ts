// The health panel at exchange scale: feed states counted, symbols worst
// first and paged (lib/metrics/feed_summary.ts), as /stats serves them
// (feeds, ?symbols=none&feedsOffset=&feedsLimit=) and as the panel reads them
// (lib/client/health_view.ts).
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareWorst, type FeedRow, summariseFeeds } from "../lib/metrics/feed_summary.ts";
import { healthFromStats, statsQuery } from "../lib/client/health_view.ts";
import { buildStats, statsOptionsFromQuery } from "../lib/server/stats.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { TestPipeline, withRoutes } from "./fixtures/service_state.ts";

function row(symbol: string, feedState: string, rejected = 0, age: number | null = 5): FeedRow {
  return { symbol, feedState, received: 100, rejected, skipped: 1, lastFrameAgeMs: age };
}

Deno.test("summariseFeeds: counts per state, worst first, paged", () => {
  const rows = [
    row("AAA", "live"),
    row("BBB", "live", 7),
    row("CCC", "stale", 0, 9_000),
    row("DDD", "connecting", 0, null),
    row("EEE", "live", 2),
    row("FFF", "resyncing", 4, 300),
    row("GGG", "stale", 1, 20_000),
  ];
  const s = summariseFeeds(rows, { limit: 3 });
  assert.deepEqual(s.counts, { live: 3, stale: 2, connecting: 1, resyncing: 1 });
  assert.equal(s.total, 7);
  assert.deepEqual(s.frames, { received: 700, rejected: 14, skipped: 7 });
  // Not live first, longest silent first (never a frame = silent for ever);
  // then live by rejects, then by name.
  assert.deepEqual(s.rows.map((r) => r.symbol), ["DDD", "GGG", "CCC"]);
  assert.deepEqual(
    summariseFeeds(rows, { offset: 3, limit: 3 }).rows.map((r) => r.symbol),
    ["FFF", "BBB", "EEE"],
  );
  const last = summariseFeeds(rows, { offset: 6, limit: 3 });
  assert.deepEqual(last.rows.map((r) => r.symbol), ["AAA"]);
  const past = summariseFeeds(rows, { offset: 500, limit: 3 });
  assert.equal(past.offset, 6, "an offset past the end shows the last page");
  assert.deepEqual(summariseFeeds([], { offset: 40 }), {
    total: 0,
    counts: {},
    frames: { received: 0, rejected: 0, skipped: 0 },
    offset: 0,
    limit: 20,
    rows: [],
  });
  assert.throws(() => summariseFeeds(rows, { limit: 0 }), /expected an integer ≥ 1/);
});

const feedRow = fc.record({
  symbol: fc.stringMatching(/^[A-Z]{1,6}$/),
  feedState: fc.constantFrom("live", "stale", "connecting", "resyncing"),
  received: fc.nat(1000),
  rejected: fc.nat(50),
  skipped: fc.nat(50),
  lastFrameAgeMs: fc.option(fc.nat(100_000), { nil: null }),
});

Deno.test("summariseFeeds properties: pages tile the worst-first order, counts add up", () => {
  fc.assert(
    fc.property(
      fc.array(feedRow, { maxLength: 80 }),
      fc.integer({ min: 1, max: 25 }),
      (rows, limit) => {
        const sorted = [...rows].sort(compareWorst);
        const seen: FeedRow[] = [];
        for (let offset = 0; offset < rows.length; offset += limit) {
          const s = summariseFeeds([...rows], { offset, limit });
          assert.ok(s.rows.length <= limit);
          seen.push(...s.rows);
          const sum = Object.values(s.counts).reduce((a, b) => a + b, 0);
          assert.equal(sum, rows.length, "the counts add up to the symbols");
        }
        assert.deepEqual(seen, sorted, "the pages, in order, are every row worst first");
        const live = sorted.findIndex((r) => r.feedState === "live");
        if (live >= 0) {
          assert.ok(sorted.slice(live).every((r) => r.feedState === "live"), "not-live rows first");
        }
      },
    ),
  );
});

Deno.test("/stats: feeds paged worst first; symbols=none leaves the map out; bad values are 400", async () => {
  const symbols = Array.from({ length: 45 }, (_, i) => `S${String(i).padStart(2, "0")}USDT`);
  const p = new TestPipeline({ symbols });
  for (let i = 0; i < symbols.length; i++) {
    p.ingest(i, 2);
    p.setFeed(i, FeedState.Live);
  }
  p.setFeed(30, FeedState.Stale);
  p.setFeed(7, FeedState.Connecting);
  p.reject(12, RejectReason.Crossed, 3);
  await withRoutes(p.state, async (base) => {
    const full = await (await fetch(`${base}/stats`)).json();
    assert.equal(Object.keys(full.symbols).length, 45, "the default keeps the per-symbol map");
    assert.equal(full.feeds.rows.length, 20, "and a first page of 20");
    assert.equal(full.mode, "SIM");
    const res = await fetch(`${base}${statsQuery("/stats", 1, 20)}`);
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.deepEqual(doc.symbols, {});
    assert.equal(doc.feeds.offset, 20);
    assert.equal(doc.feeds.rows.length, 20);
    assert.deepEqual(doc.feeds.counts, { live: 43, stale: 1, connecting: 1 });
    const first = await (await fetch(`${base}/stats?symbols=none&feedsLimit=3`)).json();
    assert.deepEqual(
      first.feeds.rows.map((r: FeedRow) => r.symbol).slice(0, 2).sort(),
      ["S07USDT", "S30USDT"],
      "the feeds that are not live come first",
    );
    assert.equal(first.feeds.rows[2].symbol, "S12USDT", "then the most rejects");
    const h = healthFromStats(doc);
    assert.equal(h.feeds.page, 1);
    assert.equal(h.feeds.pages, 3);
    assert.deepEqual(h.feeds.counts.map((c) => c.state), ["live", "connecting", "stale"]);
    for (
      const [query, message] of [
        ["symbols=some", /expected all \(the default\) or none/],
        ["feedsLimit=501", /feedsLimit "501": expected an integer from 1 to 500/],
        ["feedsOffset=-1", /feedsOffset "-1"/],
        ["feedsLimit=2.5", /feedsLimit/],
      ] as const
    ) {
      const bad = await fetch(`${base}/stats?${query}`);
      assert.equal(bad.status, 400, query);
      assert.match((await bad.json()).error, message);
    }
  });
});

Deno.test("buildStats at 2,000 symbols: symbols=none keeps the document small", () => {
  const symbols = Array.from({ length: 2000 }, (_, i) => `SYM${i}USDT`);
  const p = new TestPipeline({ symbols });
  const full = JSON.stringify(buildStats(p.state)).length;
  const small = JSON.stringify(buildStats(p.state, Date.now(), { symbols: false })).length;
  assert.ok(full > 500_000, `the full document is ${full} bytes`);
  assert.ok(small < 8_000, `without the map it is ${small} bytes`);
  assert.deepEqual(statsOptionsFromQuery(new URLSearchParams("")), {
    symbols: true,
    feedsOffset: 0,
    feedsLimit: 20,
  });
});

Deno.test("healthFromStats: an old document without feeds is summarised from its symbols", () => {
  const h = healthFromStats({
    symbols: {
      BTCUSDT: { feedState: "live", received: 5, rejectedTotal: 0, skipped: 2, lastFrameAgeMs: 3 },
      ETHUSDT: {
        feedState: "stale",
        received: 4,
        rejectedTotal: 1,
        skipped: 1,
        lastFrameAgeMs: null,
      },
    },
  });
  assert.equal(h.feeds.total, 2);
  assert.deepEqual(h.feeds.rows.map((r) => r.symbol), ["ETHUSDT", "BTCUSDT"]);
  assert.equal(h.feeds.rows[0].rejected, 1);
  assert.ok(Number.isNaN(h.feeds.rows[0].lastFrameAgeMs));
  assert.equal(h.skipped, 3);
  const empty = healthFromStats(null);
  assert.equal(empty.feeds.total, 0);
  assert.equal(empty.feeds.pages, 1);
  assert.equal(
    statsQuery("/stats?token=x", 0, 20),
    "/stats?token=x&symbols=none&feedsOffset=0&feedsLimit=20",
  );
});
