/**
 * The pipeline-health panel's view model, read from the `/stats` JSON
 * (`lib/server/stats.ts`). The document comes over the network, so every
 * field is read defensively: a missing or malformed field shows as unknown
 * (NaN or "?") instead of breaking the panel.
 *
 * At exchange scale the panel never lists every symbol: it shows the
 * {@linkcode FeedsView}, counts per feed state and one page of symbols,
 * worst first (the order of `lib/metrics/feed_summary.ts`), from `/stats`'
 * `feeds` (asked with `?symbols=none&feedsOffset=&feedsLimit=`, see
 * {@linkcode statsQuery}); a document without `feeds` is summarised here
 * from its `symbols` map.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import { DEFAULT_FEED_PAGE, type FeedRow, summariseFeeds } from "../metrics/feed_summary.ts";

/** One queue (ring) of the pipeline. */
export interface QueueHealth {
  /** "raw" or "processed". */
  name: string;
  /** Frames waiting. */
  depth: number;
  /** Slots. */
  capacity: number;
  /** Highest depth seen. */
  highWater: number;
  /** Frames dropped by the overflow policy. */
  dropped: number;
  /** depth / capacity, 0..1 (0 when unknown). */
  fill: number;
  /** highWater / capacity, 0..1 (0 when unknown). */
  highWaterFill: number;
}

/** One symbol's feed. */
export interface SymbolHealth {
  /** Upper-case symbol. */
  symbol: string;
  /** Feed state name ("live", "stale", …). */
  feedState: string;
  /** Frames received. */
  received: number;
  /** Frames rejected. */
  rejected: number;
  /** Frames skipped by the adaptive processor. */
  skipped: number;
  /** Age of the newest frame in ms (NaN before any). */
  lastFrameAgeMs: number;
}

/** Feed states and one page of symbols, worst first. */
export interface FeedsView {
  /** Symbols in all. */
  total: number;
  /** Symbols per feed state, live first, then the others by name. */
  counts: { state: string; count: number }[];
  /** Index of the page's first symbol. */
  offset: number;
  /** Page size. */
  limit: number;
  /** Zero-based page number. */
  page: number;
  /** Pages in all (at least 1). */
  pages: number;
  /** The page's symbols, worst first. */
  rows: SymbolHealth[];
}

/** Everything the health panel shows. */
export interface HealthView {
  /** Seconds since the service started. */
  uptimeSeconds: number;
  /** The rings. */
  queues: QueueHealth[];
  /** Adaptive mode number (0 normal, 1 every 2nd, 2 every 3rd). */
  adaptiveMode: number;
  /** Its name. */
  adaptiveName: string;
  /** Σ frames skipped over all symbols. */
  skipped: number;
  /** Receive → main-thread latency p50, ms (NaN before any). */
  latencyP50Ms: number;
  /** Same, p99. */
  latencyP99Ms: number;
  /** Exchange reconnects. */
  reconnects: number;
  /** WebSocket clients connected. */
  wsClients: number;
  /** Frames conflated for slow clients. */
  conflated: number;
  /** Worker restarts (all workers). */
  workerRestarts: number;
  /** Feed states counted and one page of symbols, worst first. */
  feeds: FeedsView;
  /** Diff mode: local books synced / total and the ETA of the rest (NaN when unknown); null in depth20 mode. */
  diffSync: { synced: number; total: number; etaSeconds: number } | null;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Obj : {};
}

function num(v: unknown): number {
  return typeof v === "number" ? v : NaN;
}

function str(v: unknown, fallback = "?"): string {
  return typeof v === "string" ? v : fallback;
}

function fraction(part: number, whole: number): number {
  return whole > 0 && part >= 0 ? Math.min(1, part / whole) : 0;
}

function queue(name: string, v: unknown): QueueHealth {
  const q = obj(v);
  const depth = num(q.depth);
  const capacity = num(q.capacity);
  const highWater = num(q.highWater);
  return {
    name,
    depth,
    capacity,
    highWater,
    dropped: num(q.dropped),
    fill: fraction(depth, capacity),
    highWaterFill: fraction(highWater, capacity),
  };
}

function row(v: unknown, fallbackSymbol?: string): SymbolHealth {
  const s = obj(v);
  return {
    symbol: fallbackSymbol ?? str(s.symbol),
    feedState: str(s.feedState),
    received: num(s.received),
    rejected: num(fallbackSymbol === undefined ? s.rejected : s.rejectedTotal),
    skipped: num(s.skipped),
    lastFrameAgeMs: num(s.lastFrameAgeMs),
  };
}

function stateOrder(a: string, b: string): number {
  if (a === b) return 0;
  if (a === "live") return -1;
  if (b === "live") return 1;
  return a < b ? -1 : 1;
}

/** The feeds part of a `/stats` document: its `feeds` summary, or one made from `symbols`. */
function feedsFromStats(d: Obj): { view: FeedsView; skipped: number } {
  let f = obj(d.feeds);
  if (!Array.isArray(f.rows)) {
    const rows: FeedRow[] = Object.entries(obj(d.symbols)).map(([symbol, v]) => {
      const r = row(v, symbol);
      return { ...r, lastFrameAgeMs: Number.isFinite(r.lastFrameAgeMs) ? r.lastFrameAgeMs : null };
    });
    f = summariseFeeds(rows) as unknown as Obj;
  }
  const total = num(f.total);
  const limit = num(f.limit) >= 1 ? num(f.limit) : DEFAULT_FEED_PAGE;
  const offset = num(f.offset) >= 0 ? num(f.offset) : 0;
  const counts = Object.entries(obj(f.counts))
    .map(([state, n]) => ({ state, count: num(n) }))
    .sort((a, b) => stateOrder(a.state, b.state));
  return {
    view: {
      total,
      counts,
      offset,
      limit,
      page: Math.floor(offset / limit),
      pages: Math.max(1, Math.ceil((Number.isFinite(total) ? total : 0) / limit)),
      rows: (f.rows as unknown[]).map((v) => row(v)),
    },
    skipped: num(obj(f.frames).skipped),
  };
}

/**
 * The `/stats` URL the panel polls: no per-symbol map, one page of `limit`
 * feeds from `page` (zero-based).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statsQuery } from "./health_view.ts";
 * assert.equal(statsQuery("/stats", 2, 20), "/stats?symbols=none&feedsOffset=40&feedsLimit=20");
 * ```
 *
 * @param path The stats path (the seed's `statsPath`).
 * @param page Zero-based page.
 * @param limit Page size. Default 20.
 */
export function statsQuery(path: string, page: number, limit: number = DEFAULT_FEED_PAGE): string {
  const offset = Math.max(0, Math.floor(page)) * limit;
  const sep = path.includes("?") ? "&" : "?";
  return `${path}${sep}symbols=none&feedsOffset=${offset}&feedsLimit=${limit}`;
}

/**
 * Read a `/stats` document into a {@linkcode HealthView}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { healthFromStats } from "./health_view.ts";
 * const h = healthFromStats({
 *   queues: { raw: { depth: 512, capacity: 2048, highWater: 1024, dropped: 3 } },
 *   latency: { p50Ms: 0.8, p99Ms: null },
 * });
 * assert.equal(h.queues[0].fill, 0.25);
 * assert.equal(h.latencyP50Ms, 0.8);
 * assert.ok(Number.isNaN(h.latencyP99Ms));
 * ```
 */
export function healthFromStats(doc: unknown): HealthView {
  const d = obj(doc);
  const queues = obj(d.queues);
  const adaptive = obj(d.adaptive);
  const latency = obj(d.latency);
  const ingest = obj(d.ingest);
  const ws = obj(d.ws);
  const workers = obj(d.workers);
  const diff = d.diffSync === null || d.diffSync === undefined ? null : obj(d.diffSync);
  let workerRestarts = 0;
  for (const [name, w] of Object.entries(workers)) {
    if (name !== "inFlightLost") workerRestarts += num(obj(w).restarts) || 0;
  }
  const feeds = feedsFromStats(d);
  return {
    uptimeSeconds: num(d.uptimeSeconds),
    queues: Object.keys(queues).map((name) => queue(name, queues[name])),
    adaptiveMode: num(adaptive.mode),
    adaptiveName: str(adaptive.name),
    skipped: feeds.skipped,
    latencyP50Ms: num(latency.p50Ms),
    latencyP99Ms: num(latency.p99Ms),
    reconnects: num(ingest.reconnects),
    wsClients: num(ws.clients),
    conflated: num(ws.framesConflated),
    workerRestarts,
    feeds: feeds.view,
    diffSync: diff === null
      ? null
      : { synced: num(diff.synced), total: num(diff.total), etaSeconds: num(diff.etaSeconds) },
  };
}

/**
 * Seconds as a short duration: `45s`, `12m 05s`, `3h 07m`, `2d 04h`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./health_view.ts";
 * assert.equal(formatDuration(725), "12m 05s");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}
