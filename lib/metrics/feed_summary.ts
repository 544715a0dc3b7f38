/**
 * The feeds of many symbols summarised for people: how many are in each feed
 * state, and the symbols worst first, one page at a time. `/stats` serves it
 * (`feeds`, paged by `?feedsOffset=&feedsLimit=`) so the health panel never
 * has to fetch every symbol, and the panel's view model reads it.
 *
 * **Worst first** ({@linkcode compareWorst}):
 * 1. feeds that are not live (connecting, stale, resyncing, unknown) before
 *    live ones;
 * 2. among feeds that are not live, the longest silent first (no frame yet
 *    counts as silent for ever);
 * 3. then the most rejected frames (every reason, sequence gaps included);
 * 4. then by name, so equal rows keep a stable order.
 * Live feeds are not ordered by age: ages of live feeds change every poll,
 * and a list that reshuffles each second cannot be read.
 *
 * Pure and allocation-light (one sort of the rows); it runs in the server and
 * in the browser, so it must not touch the `Deno` global.
 *
 * @module
 */

/** One symbol's feed, as the summary ranks it. */
export interface FeedRow {
  /** Upper-case symbol. */
  symbol: string;
  /** Feed state name ("live", "stale", "connecting", "resyncing", or other). */
  feedState: string;
  /** Frames received. */
  received: number;
  /** Frames rejected, every reason. */
  rejected: number;
  /** Frames skipped by the adaptive processor. */
  skipped: number;
  /** Milliseconds since the newest frame; null before the first. */
  lastFrameAgeMs: number | null;
}

/** The summary: counts per state and one page of rows, worst first. */
export interface FeedSummary {
  /** Symbols in all. */
  total: number;
  /** Symbols per feed state name (only states that occur). */
  counts: Record<string, number>;
  /** Frames over all symbols: received, rejected and skipped. */
  frames: { received: number; rejected: number; skipped: number };
  /** Index of the page's first row in the worst-first order. */
  offset: number;
  /** Page size asked for. */
  limit: number;
  /** The page's rows, worst first (at most `limit`). */
  rows: FeedRow[];
}

/** Options of {@linkcode summariseFeeds}. */
export interface FeedSummaryOptions {
  /** First row of the page (clamped into the list). Default 0. */
  offset?: number;
  /** Rows per page. Default {@linkcode DEFAULT_FEED_PAGE}. */
  limit?: number;
}

/** Default page size: rows of the health panel's table. */
export const DEFAULT_FEED_PAGE = 20;

/** Largest page `/stats` serves. */
export const MAX_FEED_PAGE = 500;

function silence(row: FeedRow): number {
  const age = row.lastFrameAgeMs;
  return age === null || !Number.isFinite(age) ? Infinity : age;
}

function rejects(row: FeedRow): number {
  return Number.isFinite(row.rejected) ? row.rejected : 0;
}

/**
 * Order of {@linkcode FeedRow}s, worst first (see the module docs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareWorst, type FeedRow } from "./feed_summary.ts";
 * const row = (symbol: string, feedState: string, rejected = 0): FeedRow => ({
 *   symbol, feedState, received: 10, rejected, skipped: 0, lastFrameAgeMs: 5,
 * });
 * const rows = [row("A", "live"), row("B", "live", 3), row("C", "stale")];
 * assert.deepEqual(rows.sort(compareWorst).map((r) => r.symbol), ["C", "B", "A"]);
 * ```
 */
export function compareWorst(a: FeedRow, b: FeedRow): number {
  const aLive = a.feedState === "live";
  const bLive = b.feedState === "live";
  if (aLive !== bLive) return aLive ? 1 : -1;
  if (!aLive) {
    const sa = silence(a);
    const sb = silence(b);
    if (sa !== sb) return sa > sb ? -1 : 1;
  }
  const ra = rejects(a);
  const rb = rejects(b);
  if (ra !== rb) return rb - ra;
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
}

/**
 * Summarise `rows` (reordered in place, worst first): counts per state and
 * the page at `offset`. An offset past the end is moved to the last page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summariseFeeds, type FeedRow } from "./feed_summary.ts";
 * const rows: FeedRow[] = ["A", "B", "C"].map((symbol, i) => ({
 *   symbol, feedState: i === 1 ? "stale" : "live", received: 1, rejected: 0, skipped: 0,
 *   lastFrameAgeMs: 10,
 * }));
 * const s = summariseFeeds(rows, { limit: 2 });
 * assert.deepEqual(s.counts, { live: 2, stale: 1 });
 * assert.deepEqual(s.rows.map((r) => r.symbol), ["B", "A"]);
 * assert.equal(summariseFeeds(rows, { offset: 99, limit: 2 }).offset, 2);
 * ```
 *
 * @param rows Every symbol's row; sorted in place.
 * @param options See {@linkcode FeedSummaryOptions}.
 */
export function summariseFeeds(rows: FeedRow[], options: FeedSummaryOptions = {}): FeedSummary {
  const limit = options.limit ?? DEFAULT_FEED_PAGE;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`summariseFeeds: limit ${limit}: expected an integer ≥ 1`);
  }
  const counts: Record<string, number> = {};
  const frames = { received: 0, rejected: 0, skipped: 0 };
  for (const r of rows) {
    counts[r.feedState] = (counts[r.feedState] ?? 0) + 1;
    if (Number.isFinite(r.received)) frames.received += r.received;
    if (Number.isFinite(r.rejected)) frames.rejected += r.rejected;
    if (Number.isFinite(r.skipped)) frames.skipped += r.skipped;
  }
  rows.sort(compareWorst);
  const lastPage = rows.length === 0 ? 0 : Math.floor((rows.length - 1) / limit) * limit;
  const asked = Math.max(0, Math.floor(options.offset ?? 0) || 0);
  const offset = asked < rows.length ? asked : lastPage;
  return {
    total: rows.length,
    counts,
    frames,
    offset,
    limit,
    rows: rows.slice(offset, offset + limit),
  };
}
