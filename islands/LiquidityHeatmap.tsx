/**
 * Island: the liquidity heatmap of the shown symbol. Time runs left to
 * right (newest column at the right edge), price top to bottom, and each
 * cell's colour is the size resting at that price in that frame, the way
 * Bookmap and flowsurface show it; the best bid (green) and best ask (pink)
 * are drawn over it as step lines. A price axis sits on the right and a
 * legend under the canvas.
 *
 * **History lives in the browser.** The island keeps a fixed, preallocated
 * {@linkcode HeatmapRing} (default 600 columns: 60 s at 10 frames/s), one
 * column per live frame of the shown symbol (each frame's ladder, recorded
 * through {@linkcode DashboardStore.onFrame} by a {@linkcode HeatmapFeed}). Since issue 13 the server
 * keeps ladders only for the newest frame of each symbol
 * (`lib/server/history_store.ts`), so the seed (the page's first paint, and
 * every Hello) gives exactly one column, and the heatmap fills up from live
 * frames. The server holds no state per symbol for the heatmap.
 *
 * **Rendering** ({@linkcode HeatmapPainter}): at most one paint per
 * animation frame (a {@linkcode RenderScheduler}), each drawing only the new
 * columns and scrolling the rest by blitting the canvas onto itself; a full
 * redraw happens only after a resize or DPR change, a symbol switch, a
 * resync (both clear the ring), or when the price range must change (the
 * mid leaves the middle 60 % of the range: re-centre). No allocation per
 * frame. Paused, frames are still recorded and painted on resume.
 *
 * Colours: inferno over three decades of size below the ring's 95th
 * percentile (`lib/client/heatmap_scale.ts`).
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import type { DashboardSeed } from "../lib/client/dashboard_seed.ts";
import type { DashboardStore } from "../lib/client/dashboard_store.ts";
import { pageStore } from "../lib/client/page_store.ts";
import {
  DEFAULT_HEATMAP_COLUMNS,
  DEFAULT_HEATMAP_LEVELS,
  HeatmapRing,
} from "../lib/client/heatmap_ring.ts";
import { HeatmapPainter } from "../lib/client/heatmap_painter.ts";
import { HeatmapFeed } from "../lib/client/heatmap_feed.ts";
import { heatGradientCss } from "../lib/client/heatmap_scale.ts";
import { axisTicks } from "../lib/client/heatmap_view.ts";
import { RenderScheduler } from "../lib/client/render_scheduler.ts";
import { formatCompact } from "../lib/client/tick_format.ts";

/**
 * Props of {@linkcode LiquidityHeatmap}.
 *
 * @example
 * ```ts
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import type { LiquidityHeatmapProps } from "./LiquidityHeatmap.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const props: LiquidityHeatmapProps = { seed, columns: 600 };
 * ```
 */
export interface LiquidityHeatmapProps {
  /** The page's seed signal (shared by every dashboard island). */
  seed: Signal<DashboardSeed>;
  /** Columns (frames) kept and shown at most. Default 600: 60 s at 10 frames/s. */
  columns?: number;
}

/** Price labels on the axis, at most. */
const AXIS_LABELS = 8;
/** Most levels per side a column keeps (the service's `--levels` maximum). */
const MAX_LEVELS = 100;
const GRADIENT = heatGradientCss();

/** Levels per side for the ring: the seed ladder's depth, at least the default. */
function ringLevels(store: DashboardStore): number {
  const f = store.latest(store.symbol.peek());
  const seen = f ? Math.max(f.bidPrices.length, f.askPrices.length) : 0;
  return Math.min(MAX_LEVELS, Math.max(DEFAULT_HEATMAP_LEVELS, seen));
}

interface Parts {
  box: HTMLDivElement;
  canvas: HTMLCanvasElement;
  axis: HTMLDivElement;
  cap: HTMLSpanElement;
  section: HTMLElement;
}

/** Wire the ring, painter and scheduler to the store; returns the teardown. */
function mountHeatmap(store: DashboardStore, parts: Parts, columns: number): () => void {
  const ring = new HeatmapRing({ capacity: columns, levels: ringLevels(store) });
  const painter = new HeatmapPainter(parts.canvas, ring);
  const ticks = new Float64Array(AXIS_LABELS);
  const labels = Array.from(parts.axis.children) as HTMLElement[];
  let symbol = store.symbol.peek();

  const updateAxis = () => {
    const v = painter.view;
    const n = v.valid ? axisTicks(v.low, v.high, 5, ticks) : 0;
    const fmt = store.format(symbol);
    const h = parts.box.clientHeight;
    for (let i = 0; i < labels.length; i++) {
      const el = labels[i];
      if (i >= n) {
        el.hidden = true;
        continue;
      }
      el.hidden = false;
      el.textContent = fmt.price(ticks[i]);
      el.style.transform = `translateY(${(((v.high - ticks[i]) / v.span) * h).toFixed(1)}px)`;
    }
    const cap = painter.scale.cap;
    parts.cap.textContent = cap > 0 ? `≥ ${formatCompact(cap)}` : "—";
    parts.section.dataset.low = v.valid ? String(v.low) : "";
    parts.section.dataset.high = v.valid ? String(v.high) : "";
  };
  const scheduler = new RenderScheduler(() => {
    if (painter.paint() === "full") updateAxis();
  });
  const measure = () => {
    painter.resize(parts.box.clientWidth, parts.box.clientHeight, globalThis.devicePixelRatio);
    scheduler.request();
  };
  measure();
  const feed = new HeatmapFeed(store, ring, {
    reset(s) {
      symbol = s;
      parts.section.dataset.symbol = s;
      painter.invalidate(true);
    },
    request: () => scheduler.request(),
  });
  const resize = new ResizeObserver(measure);
  resize.observe(parts.box);
  // A DPR change (zoom, another screen) need not change the CSS size.
  let dprQuery: MediaQueryList | null = null;
  const watchDpr = () => {
    dprQuery?.removeEventListener("change", onDpr);
    dprQuery = globalThis.matchMedia(`(resolution: ${globalThis.devicePixelRatio}dppx)`);
    dprQuery.addEventListener("change", onDpr);
  };
  const onDpr = () => {
    watchDpr();
    measure();
  };
  watchDpr();
  return () => {
    feed.dispose();
    resize.disconnect();
    dprQuery?.removeEventListener("change", onDpr);
    scheduler.dispose();
  };
}

/**
 * The heatmap panel.
 *
 * @example
 * ```tsx
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import LiquidityHeatmap from "./LiquidityHeatmap.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const island = <LiquidityHeatmap seed={seed} />;
 * ```
 */
export default function LiquidityHeatmap(
  { seed, columns = DEFAULT_HEATMAP_COLUMNS }: LiquidityHeatmapProps,
) {
  const store = pageStore(seed);
  useEffect(() => store.retain(), [store]);
  const section = useRef<HTMLElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const axis = useRef<HTMLDivElement>(null);
  const cap = useRef<HTMLSpanElement>(null);
  useEffect(
    () =>
      mountHeatmap(store, {
        section: section.current!,
        box: box.current!,
        canvas: canvas.current!,
        axis: axis.current!,
        cap: cap.current!,
      }, columns),
    [store, columns],
  );
  // The panel is drawn imperatively; only the first render's symbol is markup.
  const symbol = store.symbol.peek();
  return (
    <section class="panel heatmap" ref={section} data-symbol={symbol}>
      <header class="panel-head">
        <h2>Liquidity heatmap</h2>
        <span class="num head-value">
          last {columns} frames · colour = resting size
        </span>
      </header>
      <div class="hm-body">
        <div class="hm-box" ref={box}>
          <canvas
            ref={canvas}
            role="img"
            aria-label="Liquidity heatmap: resting size by price over time, best bid and ask lines"
          />
        </div>
        <div class="hm-axis num" ref={axis} aria-hidden="true">
          {Array.from({ length: AXIS_LABELS }, (_, i) => <span key={i} hidden />)}
        </div>
      </div>
      <div class="hm-legend">
        <span class="hm-key bid">best bid</span>
        <span class="hm-key ask">best ask</span>
        <span class="hm-scale">
          <span class="num">small</span>
          <span class="hm-gradient" style={`background:${GRADIENT}`} />
          <span class="num" ref={cap}>—</span>
        </span>
        <span class="hm-note">log size, clipped at p95</span>
      </div>
    </section>
  );
}
