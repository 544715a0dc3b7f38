/**
 * chart.js configurations for streaming charts, and the dashboard's chart
 * specs (what each chart plots, in which colours and bounds).
 *
 * Every chart is set up for live data: `animation: false`, `parsing: false`
 * (datasets are `{x, y}` arrays from `chart_data.ts`), `normalized: true`
 * (x sorted ascending), `pointRadius: 0`, no hover events, fixed bounds where
 * they are known (imbalance −1..1, spread ≥ 0, time axis ending at 0).
 * Datasets are bound to {@linkcode SeriesBuffer} arrays once; later updates
 * only refill those arrays and call `chart.update("none")`.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { ChartConfiguration } from "chart.js";
import type { SeriesBuffer } from "./chart_data.ts";
import type { FrameRing } from "./frame_ring.ts";

/** Colours shared by every panel (the CSS uses the same values). */
export const COLORS = {
  bid: "#3fb950",
  ask: "#f85149",
  mid: "#e6edf3",
  accent: "#58a6ff",
  violet: "#bc8cff",
  amber: "#d29922",
  muted: "#8b949e",
  grid: "rgba(139, 148, 158, 0.15)",
  text: "#8b949e",
} as const;

/** Ring columns a time chart can plot. */
export type RingColumn =
  | "mid"
  | "weightedMid"
  | "spreadBps"
  | "imbalance1"
  | "imbalance5"
  | "imbalance20"
  | "ofi"
  | "ofi1s"
  | "ofi10s"
  | "latencyMs";

/** One line of a time chart. */
export interface LineSpec {
  /** Legend label. */
  label: string;
  /** Ring column plotted. */
  column: RingColumn;
  /** Line colour. */
  color: string;
  /** Line width in px. Default 1.5. */
  width?: number;
  /** Plot on the right-hand axis. Default false. */
  right?: boolean;
}

/** One time chart. */
export interface TimeChartSpec {
  /** Stable id (DOM `data-chart`). */
  id: string;
  /** Panel title. */
  title: string;
  /** Lines. */
  lines: LineSpec[];
  /** Fixed y minimum, if known. */
  yMin?: number;
  /** Fixed y maximum, if known. */
  yMax?: number;
  /** Axis is prices: format ticks with the symbol's decimals. Default false. */
  price?: boolean;
}

/** The dashboard's time charts. */
export const TIME_CHARTS: readonly TimeChartSpec[] = [
  {
    id: "mid",
    title: "Mid / weighted mid",
    price: true,
    lines: [
      { label: "mid", column: "mid", color: COLORS.mid },
      { label: "weighted mid", column: "weightedMid", color: COLORS.amber, width: 1 },
    ],
  },
  {
    id: "spread",
    title: "Spread (bps)",
    yMin: 0,
    lines: [{ label: "spread bps", column: "spreadBps", color: COLORS.accent }],
  },
  {
    id: "imbalance",
    title: "Imbalance (top 1 / 5 / 20)",
    yMin: -1,
    yMax: 1,
    lines: [
      { label: "L1", column: "imbalance1", color: COLORS.accent, width: 1 },
      { label: "L5", column: "imbalance5", color: COLORS.violet },
      { label: "L20", column: "imbalance20", color: COLORS.amber },
    ],
  },
  {
    id: "ofi",
    title: "Order-flow imbalance",
    lines: [
      { label: "e", column: "ofi", color: COLORS.muted, width: 1 },
      { label: "Σ1s", column: "ofi1s", color: COLORS.accent },
      { label: "Σ10s (right)", column: "ofi10s", color: COLORS.amber, right: true },
    ],
  },
];

const AXIS_FONT = { family: "ui-monospace, SFMono-Regular, Menlo, monospace", size: 10 };

function baseOptions() {
  return {
    animation: false as const,
    parsing: false as const,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    events: [] as never[],
    spanGaps: false,
    elements: { point: { radius: 0, hoverRadius: 0, hitRadius: 0 }, line: { tension: 0 } },
    layout: { padding: { top: 2, right: 4, bottom: 0, left: 0 } },
    plugins: {
      legend: {
        display: true,
        position: "top" as const,
        align: "end" as const,
        labels: { color: COLORS.text, boxWidth: 10, boxHeight: 2, font: AXIS_FONT, padding: 6 },
      },
      tooltip: { enabled: false },
    },
  };
}

function axis(extra: Record<string, unknown> = {}) {
  return {
    type: "linear" as const,
    grid: { color: COLORS.grid, drawTicks: false },
    border: { display: false },
    ticks: { color: COLORS.text, font: AXIS_FONT, maxTicksLimit: 5, padding: 4 },
    ...extra,
  };
}

/**
 * A chart.js config for a time chart whose datasets are `buffers` (one per
 * line, same order). `formatY` formats y tick labels (e.g. to the tick size).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TIME_CHARTS, timeChartConfig } from "./chart_config.ts";
 * import { SeriesBuffer } from "./chart_data.ts";
 * const spec = TIME_CHARTS[0];
 * const buffers = spec.lines.map(() => new SeriesBuffer());
 * const cfg = timeChartConfig(spec, buffers);
 * assert.equal(cfg.data.datasets[0].data, buffers[0].data);
 * assert.equal(cfg.options?.animation, false);
 * ```
 */
export function timeChartConfig(
  spec: TimeChartSpec,
  buffers: readonly SeriesBuffer[],
  formatY?: (v: number) => string,
): ChartConfiguration<"line"> {
  const right = spec.lines.some((l) => l.right);
  const yTicks = formatY ? { callback: (v: number | string) => formatY(Number(v)) } : {};
  const scales: Record<string, unknown> = {
    x: axis({
      max: 0,
      ticks: {
        color: COLORS.text,
        font: AXIS_FONT,
        maxTicksLimit: 6,
        padding: 4,
        callback: (v: number | string) => `${Number(v).toFixed(1)}s`,
      },
    }),
    y: axis({
      min: spec.yMin,
      max: spec.yMax,
      ticks: { color: COLORS.text, font: AXIS_FONT, maxTicksLimit: 5, padding: 4, ...yTicks },
    }),
  };
  if (right) scales.y1 = axis({ position: "right", grid: { display: false } });
  return {
    type: "line",
    data: {
      datasets: spec.lines.map((l, i) => ({
        label: l.label,
        data: buffers[i].data,
        borderColor: l.color,
        backgroundColor: l.color,
        borderWidth: l.width ?? 1.5,
        pointRadius: 0,
        yAxisID: l.right ? "y1" : "y",
      })),
    },
    options: { ...baseOptions(), scales } as ChartConfiguration<"line">["options"],
  };
}

/**
 * A chart.js config for the cumulative depth chart: bids and asks as filled
 * stepped lines over price (`bids` and `asks` from `fillDepthCurve`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { depthChartConfig } from "./chart_config.ts";
 * import { SeriesBuffer } from "./chart_data.ts";
 * const cfg = depthChartConfig(new SeriesBuffer(), new SeriesBuffer());
 * assert.equal(cfg.data.datasets.length, 2);
 * ```
 */
export function depthChartConfig(
  bids: SeriesBuffer,
  asks: SeriesBuffer,
  formatX?: (v: number) => string,
): ChartConfiguration<"line"> {
  const xTicks = formatX ? { callback: (v: number | string) => formatX(Number(v)) } : {};
  return {
    type: "line",
    data: {
      datasets: [
        {
          label: "bids",
          data: bids.data,
          borderColor: COLORS.bid,
          backgroundColor: "rgba(63, 185, 80, 0.18)",
          borderWidth: 1.5,
          pointRadius: 0,
          stepped: "before",
          fill: "origin",
        },
        {
          label: "asks",
          data: asks.data,
          borderColor: COLORS.ask,
          backgroundColor: "rgba(248, 81, 73, 0.18)",
          borderWidth: 1.5,
          pointRadius: 0,
          stepped: "after",
          fill: "origin",
        },
      ],
    },
    options: {
      ...baseOptions(),
      scales: {
        x: axis({
          ticks: { color: COLORS.text, font: AXIS_FONT, maxTicksLimit: 5, padding: 4, ...xTicks },
        }),
        y: axis({ min: 0 }),
      },
    } as ChartConfiguration<"line">["options"],
  };
}

/**
 * The ring column array named by `column`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ringColumn } from "./chart_config.ts";
 * import { FrameRing } from "./frame_ring.ts";
 * const ring = new FrameRing();
 * assert.equal(ringColumn(ring, "mid"), ring.mid);
 * ```
 */
export function ringColumn(ring: FrameRing, column: RingColumn): Float64Array {
  return ring[column];
}
