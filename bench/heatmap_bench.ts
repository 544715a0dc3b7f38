/**
 * Liquidity heatmap benchmark: the per-frame cost of the browser's heatmap
 * column in Deno's V8 (the same engine as Chromium, without the canvas
 * calls): record one frame's ladder into the ring (`HeatmapRing.push`) and
 * draw its column into the pixel buffer (`drawColumn`), at the island's
 * geometry on a 2× screen: a 1,652 × 480 device-pixel canvas, 3-pixel
 * columns, 20 levels a side. Also a full redraw of 550 such columns (what a
 * re-centre, resize or symbol switch costs) and a size-cap estimate over the
 * full ring. The target is one column well under a millisecond, so 10
 * frames/s (and 50) cost a negligible share of a frame budget of 16 ms.
 *
 * Run: `deno bench -A bench/heatmap_bench.ts` (part of `deno task bench`).
 * Numbers on a loaded machine are indicative only.
 * @module
 */
import { HeatmapRing } from "../lib/client/heatmap_ring.ts";
import { drawColumn } from "../lib/client/heatmap_column.ts";
import { SizeScale } from "../lib/client/heatmap_scale.ts";
import { fitView, PriceView } from "../lib/client/heatmap_view.ts";
import { emptyDashFrame } from "../lib/client/dash_frame.ts";

const WIDTH = 1652;
const HEIGHT = 480;
const COLUMN = 3;
const LEVELS = 20;

const ring = new HeatmapRing({ capacity: 600, levels: LEVELS });
const frame = emptyDashFrame("BTCUSDT");
let mid = 60_000;
function nextFrame(): void {
  mid += Math.random() < 0.5 ? -0.01 : 0.01;
  for (let i = 0; i < LEVELS; i++) {
    frame.bidPrices[i] = Math.round((mid - 0.005 - i * 0.01) * 100) / 100;
    frame.askPrices[i] = Math.round((mid + 0.005 + i * 0.01) * 100) / 100;
    frame.bidSizes[i] = 0.001 + Math.random() * (i === 7 ? 40 : 2);
    frame.askSizes[i] = 0.001 + Math.random() * 2;
  }
  frame.time += 100;
}
for (let i = 0; i < 600; i++) {
  nextFrame();
  ring.push(frame);
}
const view = new PriceView();
view.rows = HEIGHT;
fitView(ring, view, 550);
const scale = new SizeScale();
scale.fit(ring);
const acc = new Float32Array(HEIGHT);
const out = { pixels: new Uint32Array(WIDTH * HEIGHT), width: WIDTH, height: HEIGHT };
const place = { x: WIDTH - COLUMN, width: COLUMN, lineWidth: 2 };

Deno.bench("heatmap: one frame (ring push + draw its column, 480 rows × 3 px)", () => {
  nextFrame();
  ring.push(frame);
  const k = ring.size - 1;
  drawColumn(ring, ring.slot(k), ring.slot(k - 1), view, scale, acc, out, place);
});

Deno.bench("heatmap: full redraw (550 columns of 480 rows × 3 px)", () => {
  for (let j = 0; j < 550; j++) {
    const k = ring.size - 1 - j;
    place.x = WIDTH - (j + 1) * COLUMN;
    drawColumn(ring, ring.slot(k), ring.slot(k - 1), view, scale, acc, out, place);
  }
  place.x = WIDTH - COLUMN;
});

Deno.bench("heatmap: size cap (p95 over 600 columns × 40 levels)", () => {
  scale.fit(ring);
});
