/**
 * Island: the live charts (mid with weighted mid, spread in bps, imbalance
 * at 1/5/20 levels, order-flow imbalance, cumulative depth), with a time-range
 * switch: **10 s** charts the last 100 frames; **1 h** and **24 h** chart the
 * server's 10-second and 1-minute mid bars (`/api/history?resolution=10s|1m`:
 * close with high and low, mean spread, mean top-5 imbalance, OFI per bar),
 * kept streaming by folding each live frame into the open bar
 * ({@linkcode BarFeed}). Every time axis ends at the data's newest time:
 * the 10 s charts at the newest frame, the bar charts at
 * {@linkcode DashboardStore.dataNow} (the wall clock live, the replay clock
 * in a replay, so an old recording's bars stay on the axis). The depth
 * chart always shows the newest book.
 *
 * Each chart is created once when the island mounts, bound to reused
 * {@linkcode SeriesBuffer}s, refilled from the shown symbol's ring by the
 * store's render listener (at most once per animation frame) and updated
 * with `chart.update("none")`; `destroy()` runs on unmount. Before any data
 * the panel shows an empty state over the canvas.
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
} from "chart.js";
import type { DashboardSeed } from "../lib/client/dashboard_seed.ts";
import type { DashboardStore } from "../lib/client/dashboard_store.ts";
import { pageStore } from "../lib/client/page_store.ts";
import { fillDepthCurve, fillSeries, SeriesBuffer } from "../lib/client/chart_data.ts";
import {
  COLORS,
  depthChartConfig,
  ringColumn,
  TIME_CHARTS,
  timeChartConfig,
  type TimeChartSpec,
} from "../lib/client/chart_config.ts";
import { formatBps, formatCompact, formatFixed } from "../lib/client/tick_format.ts";
import { BarFeed } from "../lib/client/bar_feed.ts";
import type { BarColumn } from "../lib/client/live_bars.ts";

let registered = false;
function registerChartParts(): void {
  if (registered) return;
  Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Legend);
  registered = true;
}

/**
 * Props of {@linkcode LiveCharts}.
 *
 * @example
 * ```ts
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import type { LiveChartsProps } from "./LiveCharts.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const props: LiveChartsProps = { seed };
 * ```
 */
export interface LiveChartsProps {
  /** The page's seed signal (shared by every dashboard island). */
  seed: Signal<DashboardSeed>;
}

function latestValue(store: DashboardStore, spec: TimeChartSpec): string {
  const symbol = store.symbol.value;
  const f = store.latest(symbol);
  if (!f) return "";
  const col = spec.lines[0].column;
  const v = f[col];
  if (spec.price) return store.format(symbol).price(v);
  if (col === "spreadBps") return `${formatBps(v)} bps`;
  if (col === "imbalance1") {
    return `${formatFixed(f.imbalance1, 2)} / ${formatFixed(f.imbalance5, 2)} / ${
      formatFixed(f.imbalance20, 2)
    }`;
  }
  if (col === "ofi") return `Σ1s ${formatCompact(f.ofi1s)} · Σ10s ${formatCompact(f.ofi10s)}`;
  return formatCompact(v);
}

function TimeChart({ store, spec }: { store: DashboardStore; spec: TimeChartSpec }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    registerChartParts();
    const buffers = spec.lines.map(() => new SeriesBuffer());
    const formatY = spec.price
      ? (v: number) => store.format(store.symbol.peek()).price(v)
      : undefined;
    const chart = new Chart(canvas.current!, timeChartConfig(spec, buffers, formatY));
    const refresh = () => {
      const ring = store.ring(store.symbol.peek());
      for (let i = 0; i < spec.lines.length; i++) {
        fillSeries(ring, ringColumn(ring, spec.lines[i].column), buffers[i]);
      }
      chart.update("none");
    };
    refresh();
    const off = store.onRender(refresh);
    return () => {
      off();
      chart.destroy();
    };
  }, [store, spec]);
  // Signals skip re-rendering children whose props did not change: read the
  // version here so the header and empty state follow every render.
  store.version.value;
  const empty = store.ring(store.symbol.value).size === 0;
  return (
    <section class="panel chart-panel" data-chart={spec.id} data-empty={empty ? "1" : "0"}>
      <header class="panel-head">
        <h2>{spec.title}</h2>
        <span class="num head-value">{latestValue(store, spec)}</span>
      </header>
      <div class="chart-box">
        <canvas ref={canvas} aria-label={spec.title} role="img" />
        {empty && <div class="empty">waiting for frames…</div>}
      </div>
    </section>
  );
}

function DepthChart({ store }: { store: DashboardStore }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    registerChartParts();
    const bids = new SeriesBuffer();
    const asks = new SeriesBuffer();
    const chart = new Chart(
      canvas.current!,
      depthChartConfig(bids, asks, (v) => store.format(store.symbol.peek()).price(v)),
    );
    const refresh = () => {
      const f = store.latest(store.symbol.peek());
      if (f) {
        fillDepthCurve(f.bidPrices, f.bidSizes, "bid", bids);
        fillDepthCurve(f.askPrices, f.askSizes, "ask", asks);
      } else {
        bids.truncate(0);
        asks.truncate(0);
      }
      chart.update("none");
    };
    refresh();
    const off = store.onRender(refresh);
    return () => {
      off();
      chart.destroy();
    };
  }, [store]);
  store.version.value;
  const symbol = store.symbol.value;
  const f = store.latest(symbol);
  const empty = !f || (f.bidPrices.length === 0 && f.askPrices.length === 0);
  const band = f && f.depthBps.length > 0
    ? `±${f.depthBps[0]}bps ${formatCompact(f.depthBidQuote[0])} / ${
      formatCompact(f.depthAskQuote[0])
    }`
    : "";
  return (
    <section class="panel chart-panel" data-chart="depth" data-empty={empty ? "1" : "0"}>
      <header class="panel-head">
        <h2>Cumulative depth</h2>
        <span class="num head-value">{band}</span>
      </header>
      <div class="chart-box">
        <canvas ref={canvas} aria-label="Cumulative depth" role="img" />
        {empty && <div class="empty">waiting for a book…</div>}
      </div>
    </section>
  );
}

/** The time ranges of the switch. */
type Range = "10s" | "1h" | "24h";
const RANGES: readonly { id: Range; label: string; resolution?: "10s" | "1m" }[] = [
  { id: "10s", label: "10 s" },
  { id: "1h", label: "1 h", resolution: "10s" },
  { id: "24h", label: "24 h", resolution: "1m" },
];

/** A chart of bars: like a {@linkcode TimeChartSpec}, its lines plotting bar columns. */
interface BarChartSpec {
  id: string;
  title: string;
  price?: boolean;
  yMin?: number;
  yMax?: number;
  lines: { label: string; column: BarColumn; color: string; width?: number }[];
}

const BAR_CHARTS: readonly BarChartSpec[] = [
  {
    id: "mid",
    title: "Mid: bar close, high, low",
    price: true,
    lines: [
      { label: "close", column: "close", color: COLORS.mid },
      { label: "high", column: "high", color: COLORS.bid, width: 1 },
      { label: "low", column: "low", color: COLORS.ask, width: 1 },
    ],
  },
  {
    id: "spread",
    title: "Spread (bps, bar mean)",
    yMin: 0,
    lines: [{ label: "spread bps", column: "spreadBps", color: COLORS.accent }],
  },
  {
    id: "imbalance",
    title: "Imbalance (top 5, bar mean)",
    yMin: -1,
    yMax: 1,
    lines: [{ label: "L5", column: "imbalance", color: COLORS.violet }],
  },
  {
    id: "ofi",
    title: "Order-flow imbalance (Σ e per bar)",
    lines: [{ label: "Σ e", column: "ofi", color: COLORS.amber }],
  },
];

/** "−35m", "−2h": x is seconds before the data's now (the replay clock in a replay). */
function formatAgo(v: number | string): string {
  const s = -Number(v);
  if (s <= 0) return "now";
  if (s >= 7200) return `-${(s / 3600).toFixed(s % 3600 === 0 ? 0 : 1)}h`;
  return `-${Math.round(s / 60)}m`;
}

/** The open bar's value of the chart's first line, formatted. */
function barValue(store: DashboardStore, spec: BarChartSpec, feed: BarFeed): string {
  if (feed.bars.size === 0) return "";
  const column = spec.lines[0].column;
  const v = feed.bars.openValue(column);
  if (column === "close") return store.format(store.symbol.peek()).price(v);
  if (column === "spreadBps") return `${formatBps(v)} bps`;
  if (column === "imbalance") return formatFixed(v, 2);
  return formatCompact(v);
}

function BarChart({ store, spec, feed, spanS }: {
  store: DashboardStore;
  spec: BarChartSpec;
  feed: BarFeed;
  /** The range shown, seconds before now. */
  spanS: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const panel = useRef<HTMLElement>(null);
  const [empty, setEmpty] = useState(true);
  useEffect(() => {
    registerChartParts();
    const buffers = spec.lines.map(() => new SeriesBuffer());
    const formatY = spec.price
      ? (v: number) => store.format(store.symbol.peek()).price(v)
      : undefined;
    // timeChartConfig reads each line's label, colour, width and side; the column is ours.
    const lines = spec.lines.map((l) => ({ ...l, column: "mid" as const }));
    const config = timeChartConfig({ ...spec, lines }, buffers, formatY);
    const x = config.options?.scales?.x as {
      min: number;
      ticks: { callback: (v: number | string) => string; stepSize: number };
    };
    x.min = -spanS; // the whole range, now at the right edge
    x.ticks.stepSize = spanS / 6; // every 10 min (1 h) or 4 h (24 h)
    x.ticks.callback = formatAgo;
    const chart = new Chart(canvas.current!, config);
    let shownEndS = NaN;
    let shownPoints = -1;
    const refresh = () => {
      // The axis ends at the data's now: the wall clock live, the replay clock in a replay.
      const now = store.dataNow(store.symbol.peek(), Date.now());
      let points = 0;
      for (let i = 0; i < spec.lines.length; i++) {
        const n = feed.bars.fill(spec.lines[i].column, buffers[i], now);
        if (i === 0) points = n;
      }
      chart.update("none");
      setEmpty(feed.bars.size === 0);
      // Where the axis ends (to the second) and how many points of the first line are on
      // it, for tests; written only when they change (no string per frame).
      const el = panel.current;
      const endS = Math.floor(now / 1000);
      if (el && (endS !== shownEndS || points !== shownPoints)) {
        shownEndS = endS;
        shownPoints = points;
        el.dataset.axisEnd = String(endS * 1000);
        el.dataset.points = String(points);
      }
    };
    refresh();
    const off = feed.onChange(refresh);
    return () => {
      off();
      chart.destroy();
    };
  }, [store, spec, feed, spanS]);
  return (
    <section
      ref={panel}
      class="panel chart-panel"
      data-chart={spec.id}
      data-empty={empty ? "1" : "0"}
    >
      <header class="panel-head">
        <h2>{spec.title}</h2>
        <span class="num head-value">
          {feed.state === "error" ? "bars unavailable" : barValue(store, spec, feed)}
        </span>
      </header>
      <div class="chart-box">
        <canvas ref={canvas} aria-label={spec.title} role="img" />
        {empty && <div class="empty">{feed.state === "error" ? "no bars" : "loading bars…"}</div>}
      </div>
    </section>
  );
}

function BarCharts({ store, symbol, resolution }: {
  store: DashboardStore;
  symbol: string;
  resolution: "10s" | "1m";
}) {
  const feed = useMemo(
    () => new BarFeed({ store, symbol, resolution }),
    [store, symbol, resolution],
  );
  useEffect(() => {
    feed.start();
    // Time passes even when no frame comes: slide the charts once a second (not while paused).
    const timer = setInterval(() => {
      if (!store.paused.peek()) feed.redraw();
    }, 1000);
    return () => {
      clearInterval(timer);
      feed.close();
    };
  }, [feed, store]);
  return (
    <>
      {BAR_CHARTS.map((spec) => (
        <BarChart
          key={spec.id}
          store={store}
          spec={spec}
          feed={feed}
          spanS={feed.bars.capacity * feed.bars.intervalMs / 1000}
        />
      ))}
    </>
  );
}

/** The time-range switch: keyboard-accessible buttons, one pressed. */
function RangeSwitch({ range, onChange }: { range: Range; onChange: (r: Range) => void }) {
  return (
    <div class="controls ranges" role="group" aria-label="time range">
      {RANGES.map((r) => (
        <button
          key={r.id}
          type="button"
          class={r.id === range ? "on" : ""}
          aria-pressed={r.id === range}
          data-range={r.id}
          onClick={() => onChange(r.id)}
        >
          {r.label}
        </button>
      ))}
    </div>
  );
}

/**
 * The chart grid.
 *
 * @example
 * ```tsx
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import LiveCharts from "./LiveCharts.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const island = <LiveCharts seed={seed} />;
 * ```
 */
export default function LiveCharts({ seed }: LiveChartsProps) {
  const store = pageStore(seed);
  useEffect(() => store.retain(), [store]);
  const [range, setRange] = useState<Range>("10s");
  // Reading the version re-renders the headers and empty states once per render.
  store.version.value;
  const symbol = store.symbol.value;
  const resolution = RANGES.find((r) => r.id === range)?.resolution;
  return (
    <div class="charts" data-symbol={symbol} data-range={range}>
      <RangeSwitch range={range} onChange={setRange} />
      {resolution
        ? (
          <BarCharts
            key={`${symbol}/${resolution}`}
            store={store}
            symbol={symbol}
            resolution={resolution}
          />
        )
        : TIME_CHARTS.map((spec) => <TimeChart key={spec.id} store={store} spec={spec} />)}
      <DepthChart store={store} />
    </div>
  );
}
