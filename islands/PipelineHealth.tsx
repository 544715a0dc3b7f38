/**
 * Island: pipeline health from `/stats`, polled once a second: each queue's
 * depth against its capacity (with its high-water mark), drops, adaptive
 * mode and skips, latency p50/p99, reconnects, the frames of the shown
 * symbol this page received flagged resynced (the first frame after the
 * ingest reconnected or re-seeded its book; docs/analytics.md), clients,
 * and the feeds:
 * how many symbols are in each feed state and one page of symbols, worst
 * first (not-live first, then longest silent, then most rejects), with
 * previous/next buttons. The poll asks `/stats` for that page only
 * (`?symbols=none&feedsOffset=&feedsLimit=`), so it costs the same at 2 and
 * at 2,000 symbols.
 *
 * One request at a time: the next poll is scheduled when the previous one
 * finished, so a slow server is never piled up on. Polling stops on unmount.
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { DashboardSeed } from "../lib/client/dashboard_seed.ts";
import { pageStore } from "../lib/client/page_store.ts";
import {
  type FeedsView,
  formatDuration,
  healthFromStats,
  type HealthView,
  type QueueHealth,
  statsQuery,
} from "../lib/client/health_view.ts";
import { ResyncTally } from "../lib/client/resync_tally.ts";
import { formatCompact, formatFixed } from "../lib/client/tick_format.ts";

/**
 * Props of {@linkcode PipelineHealth}.
 *
 * @example
 * ```ts
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import type { PipelineHealthProps } from "./PipelineHealth.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const props: PipelineHealthProps = { seed, intervalMs: 2000, pageSize: 20 };
 * ```
 */
export interface PipelineHealthProps {
  /** The page's seed signal. */
  seed: Signal<DashboardSeed>;
  /** Poll interval in ms. Default 1000. */
  intervalMs?: number;
  /** Symbols per page of the feeds table. Default 20. */
  pageSize?: number;
}

function Queue({ q }: { q: QueueHealth }) {
  const level = q.fill > 0.8 ? "hot" : q.fill > 0.5 ? "warm" : "ok";
  return (
    <div class="queue" data-queue={q.name}>
      <div class="queue-line">
        <span class="q-name">{q.name}</span>
        <span class="num q-depth">{formatCompact(q.depth)} / {formatCompact(q.capacity)}</span>
        <span class={`num q-drop${q.dropped > 0 ? " bad" : ""}`}>
          dropped {formatCompact(q.dropped)}
        </span>
      </div>
      <div class={`meter ${level}`}>
        <span class="meter-fill" style={`transform:scaleX(${q.fill.toFixed(4)})`} />
        <span class="meter-hw" style={`left:${(q.highWaterFill * 100).toFixed(2)}%`} />
      </div>
    </div>
  );
}

function Kv({ k, v, bad }: { k: string; v: string; bad?: boolean }) {
  return (
    <div class="kv">
      <span class="k">{k}</span>
      <span class={`v num${bad ? " bad" : ""}`}>{v}</span>
    </div>
  );
}

function Feeds(
  { feeds, shown, onPage }: { feeds: FeedsView; shown: string; onPage: (page: number) => void },
) {
  const { page, pages } = feeds;
  const first = feeds.rows.length > 0 ? feeds.offset + 1 : 0;
  return (
    <div class="feeds-box">
      <div class="feed-counts" aria-label="symbols by feed state">
        <span>
          <span class="n num">{formatCompact(feeds.total)}</span> symbols
        </span>
        {feeds.counts.map((c) => (
          <span key={c.state} class={`feed-${c.state}`} data-feed-count={c.state}>
            <span class="n num">{formatCompact(c.count)}</span> {c.state}
          </span>
        ))}
      </div>
      <table class="feeds" aria-label="feeds, worst first">
        <thead>
          <tr>
            <th>symbol</th>
            <th>feed</th>
            <th>received</th>
            <th>rejected</th>
            <th>skipped</th>
            <th>age</th>
          </tr>
        </thead>
        <tbody>
          {feeds.rows.map((s) => (
            <tr key={s.symbol} class={s.symbol === shown ? "shown" : ""} data-symbol={s.symbol}>
              <td>{s.symbol}</td>
              <td class={`feed-${s.feedState}`}>{s.feedState}</td>
              <td class="num">{formatCompact(s.received)}</td>
              <td class="num">{formatCompact(s.rejected)}</td>
              <td class="num">{formatCompact(s.skipped)}</td>
              <td class="num">
                {Number.isFinite(s.lastFrameAgeMs) ? `${formatFixed(s.lastFrameAgeMs, 0)} ms` : "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <nav class="feeds-pager" aria-label="feeds pages">
          <button
            type="button"
            class="feeds-prev"
            disabled={page <= 0}
            onClick={() => onPage(page - 1)}
          >
            ‹ prev
          </button>
          <span class="num feeds-page" data-page={page} aria-live="polite">
            {first}–{feeds.offset + feeds.rows.length} of {feeds.total} (page {page + 1}/{pages})
          </span>
          <button
            type="button"
            class="feeds-next"
            disabled={page >= pages - 1}
            onClick={() => onPage(page + 1)}
          >
            next ›
          </button>
        </nav>
      )}
    </div>
  );
}

/**
 * The health panel.
 *
 * @example
 * ```tsx
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import PipelineHealth from "./PipelineHealth.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const island = <PipelineHealth seed={seed} intervalMs={2000} />;
 * ```
 */
export default function PipelineHealth(
  { seed, intervalMs = 1000, pageSize = 20 }: PipelineHealthProps,
) {
  const store = pageStore(seed);
  const [health, setHealth] = useState<HealthView | null>(null);
  const [error, setError] = useState("");
  const [page, setPage] = useState(0);
  // Frames flagged resynced (the first after the ingest reconnected or
  // re-seeded a book) that this page received, per symbol.
  const [resyncs, setResyncs] = useState(0);
  useEffect(() => {
    const tally = new ResyncTally();
    return store.onFrame((frame) => {
      tally.note(frame);
      if (frame.resynced && frame.symbol === store.symbol.value) {
        setResyncs(tally.count(frame.symbol));
      }
    });
  }, [store]);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | null = null;
    const poll = async () => {
      controller = new AbortController();
      try {
        const res = await fetch(statsQuery(store.paths.stats, page, pageSize), {
          signal: controller.signal,
          cache: "no-store",
        });
        if (!res.ok) {
          await res.body?.cancel();
          throw new Error(`HTTP ${res.status}`);
        }
        const doc = await res.json();
        if (stopped) return;
        setHealth(healthFromStats(doc));
        setError("");
      } catch (err) {
        if (stopped) return;
        setError(err instanceof Error ? err.message : String(err));
      }
      if (!stopped) timer = setTimeout(poll, intervalMs);
    };
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
    };
  }, [store, intervalMs, page, pageSize]);
  const shown = store.symbol.value;
  return (
    <section class="panel health" data-state={health ? "ok" : "empty"}>
      <header class="panel-head">
        <h2>Pipeline health</h2>
        <span class="num head-value">
          {error
            ? `stats unavailable (${error})`
            : health
            ? `up ${formatDuration(health.uptimeSeconds)}`
            : ""}
        </span>
      </header>
      {!health ? <div class="empty static">waiting for /stats…</div> : (
        <div class="health-grid">
          <div class="queues">
            {health.queues.map((q) => <Queue key={q.name} q={q} />)}
          </div>
          <div class="kvs">
            <Kv
              k="adaptive"
              v={`${health.adaptiveName} (${health.adaptiveMode})`}
              bad={health.adaptiveMode > 0}
            />
            <Kv k="skipped" v={formatCompact(health.skipped)} />
            <Kv k="latency p50" v={`${formatFixed(health.latencyP50Ms, 2)} ms`} />
            <Kv k="latency p99" v={`${formatFixed(health.latencyP99Ms, 2)} ms`} />
            {health.diffSync && (
              <Kv
                k="books synced"
                v={`${health.diffSync.synced}/${health.diffSync.total}` +
                  (health.diffSync.synced < health.diffSync.total
                    ? `, ETA ${formatDuration(health.diffSync.etaSeconds)}`
                    : "")}
                bad={health.diffSync.synced < health.diffSync.total}
              />
            )}
            <Kv k="reconnects" v={formatCompact(health.reconnects)} />
            <Kv k={`resynced ${shown}`} v={formatCompact(resyncs)} bad={resyncs > 0} />
            <Kv k="worker restarts" v={formatCompact(health.workerRestarts)} />
            <Kv k="ws clients" v={formatCompact(health.wsClients)} />
            <Kv k="conflated" v={formatCompact(health.conflated)} />
          </div>
          <Feeds feeds={health.feeds} shown={shown} onPage={setPage} />
        </div>
      )}
    </section>
  );
}
