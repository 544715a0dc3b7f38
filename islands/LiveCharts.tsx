/**
 * Island: the live charts (mid with weighted mid, spread in bps, imbalance
 * at 1/5/20 levels, order-flow imbalance, cumulative depth).
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
import { useEffect, useRef } from "preact/hooks";
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
  depthChartConfig,
  ringColumn,
  TIME_CHARTS,
  timeChartConfig,
  type TimeChartSpec,
} from "../lib/client/chart_config.ts";
import { formatBps, formatCompact, formatFixed } from "../lib/client/tick_format.ts";

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
  // Reading the version re-renders the headers and empty states once per render.
  store.version.value;
  return (
    <div class="charts" data-symbol={store.symbol.value}>
      {TIME_CHARTS.map((spec) => <TimeChart key={spec.id} store={store} spec={spec} />)}
      <DepthChart store={store} />
    </div>
  );
}
