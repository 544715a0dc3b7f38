/**
 * The liquidity heatmap's colour scale: resting size → colour.
 *
 * **Colours.** A 256-entry lookup table sampled from the "inferno" colour
 * map (perceptually uniform, monotone in lightness, readable in grey and by
 * colour-blind viewers), from its 15 % point (dark purple, so the smallest
 * size still stands out from the empty background) to its end (pale yellow).
 * Empty cells get {@linkcode HEAT_BACKGROUND}. The best bid and best ask
 * lines ({@linkcode BID_LINE}, {@linkcode ASK_LINE}) use colours that are
 * not in the table.
 *
 * **Sizes.** Order-book sizes are heavy-tailed: one wall can be 100× the
 * typical level. A linear map would paint every level but the wall black, so
 * the map is logarithmic over {@linkcode SizeScale.decades} decades (default
 * 3) below a cap, and the cap is percentile-clipped: the 95th percentile of
 * every size in the ring ({@linkcode SizeScale.fit}), estimated from a
 * histogram with four bins per octave (so the cap is within 19 % of the exact
 * percentile). Sizes at or above the cap get the top colour; sizes at or
 * below cap / 10^decades the bottom one.
 *
 * Colours are packed for a little-endian `Uint32Array` view of `ImageData`
 * (every browser platform): `0xAABBGGRR`.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HEAT_PALETTE, SizeScale } from "./heatmap_scale.ts";
 * const scale = new SizeScale();
 * scale.cap = 100;
 * assert.equal(scale.index(100), 255);
 * assert.equal(scale.index(0.1), 0);
 * assert.equal(scale.index(0), -1); // nothing resting: background
 * assert.equal(HEAT_PALETTE.length, 256);
 * ```
 *
 * @module
 */
import type { HeatmapRing } from "./heatmap_ring.ts";

/** Inferno colour map, sampled at 0, 0.1, …, 1 (sRGB). */
const INFERNO: readonly (readonly [number, number, number])[] = [
  [0, 0, 4],
  [22, 11, 57],
  [66, 10, 104],
  [106, 23, 110],
  [147, 38, 103],
  [188, 55, 84],
  [221, 81, 58],
  [243, 120, 25],
  [252, 165, 10],
  [246, 215, 70],
  [252, 255, 164],
];
/** The part of the colour map the scale uses: from here to 1. */
const PALETTE_START = 0.15;

/**
 * Pack an sRGB colour for a little-endian `Uint32Array` view of `ImageData`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packRgb } from "./heatmap_scale.ts";
 * assert.equal(packRgb(1, 2, 3), 0xff030201);
 * ```
 */
export function packRgb(r: number, g: number, b: number): number {
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** The colour map at `x` in [0, 1] (linear between samples), as [r, g, b]. */
function inferno(x: number): [number, number, number] {
  const f = Math.min(1, Math.max(0, x)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(f));
  const w = f - i;
  const a = INFERNO[i];
  const b = INFERNO[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * w),
    Math.round(a[1] + (b[1] - a[1]) * w),
    Math.round(a[2] + (b[2] - a[2]) * w),
  ];
}

function paletteColour(i: number): [number, number, number] {
  return inferno(PALETTE_START + (1 - PALETTE_START) * (i / 255));
}

/** The 256 heat colours, packed (index 0 = smallest size, 255 = at or above the cap). */
export const HEAT_PALETTE: Uint32Array = (() => {
  const out = new Uint32Array(256);
  for (let i = 0; i < 256; i++) out[i] = packRgb(...paletteColour(i));
  return out;
})();

/** Empty cell (no resting size): the page background, `#0d1117`. */
export const HEAT_BACKGROUND: number = packRgb(13, 17, 23);
/** Best-bid line: green, `#3fb950` (the dashboard's bid colour). */
export const BID_LINE: number = packRgb(63, 185, 80);
/** Best-ask line: pink, `#ff5ac8` (the red of asks is inside the heat colours). */
export const ASK_LINE: number = packRgb(255, 90, 200);

/**
 * A CSS `linear-gradient` of the heat colours (left = small), for the legend.
 *
 * @example
 * ```ts
 * import { heatGradientCss } from "./heatmap_scale.ts";
 * const css = heatGradientCss(); // "linear-gradient(to right, rgb(…) 0%, …)"
 * ```
 */
export function heatGradientCss(stops = 9): string {
  const parts: string[] = [];
  for (let k = 0; k < stops; k++) {
    const [r, g, b] = paletteColour(Math.round((255 * k) / (stops - 1)));
    parts.push(`rgb(${r},${g},${b}) ${Math.round((100 * k) / (stops - 1))}%`);
  }
  return `linear-gradient(to right, ${parts.join(", ")})`;
}

const BINS_PER_OCTAVE = 4;
const MIN_LOG2 = -64;
const BIN_COUNT = 128 * BINS_PER_OCTAVE;

/** Options of {@linkcode SizeScale}. */
export interface SizeScaleOptions {
  /** Decades of size below the cap that get distinct colours. Default 3. */
  decades?: number;
  /** Percentile of the ring's sizes that becomes the cap, in (0, 1]. Default 0.95. */
  percentile?: number;
}

/**
 * Size → palette index: logarithmic below a percentile-clipped cap. See the
 * module docs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * import { SizeScale } from "./heatmap_scale.ts";
 * const ring = new HeatmapRing({ capacity: 4, levels: 3 });
 * ring.push({ time: 0, bidPrices: [9, 8, 7], bidSizes: [1, 1, 500], askPrices: [], askSizes: [] });
 * const scale = new SizeScale({ percentile: 0.5 });
 * scale.fit(ring);
 * assert.ok(scale.cap >= 1 && scale.cap < 1.2); // the median, not the wall
 * assert.equal(scale.index(500), 255); // the wall saturates
 * ```
 */
export class SizeScale {
  /** Sizes at or above this get the top colour (NaN before a fit: every size does). */
  cap = NaN;
  /** Decades below the cap with distinct colours. */
  readonly decades: number;
  /** Percentile used by {@linkcode SizeScale.fit}. */
  readonly percentile: number;
  readonly #bins = new Uint32Array(BIN_COUNT);

  /**
   * Creates an unfitted scale.
   *
   * @param options See {@linkcode SizeScaleOptions}.
   * @throws RangeError when `decades` is not positive or `percentile` is outside (0, 1].
   */
  constructor(options: SizeScaleOptions = {}) {
    const decades = options.decades ?? 3;
    const percentile = options.percentile ?? 0.95;
    if (!(decades > 0 && decades <= 12)) {
      throw new RangeError(`size scale decades must be in (0, 12], got ${decades}`);
    }
    if (!(percentile > 0 && percentile <= 1)) {
      throw new RangeError(`size scale percentile must be in (0, 1], got ${percentile}`);
    }
    this.decades = decades;
    this.percentile = percentile;
  }

  /** Palette index 0..255 of `size`, or −1 for nothing (size ≤ 0 or NaN). */
  index(size: number): number {
    if (!(size > 0)) return -1;
    const cap = this.cap;
    if (!(cap > 0) || size >= cap) return 255;
    const t = 1 + Math.log10(size / cap) / this.decades;
    return t <= 0 ? 0 : Math.round(t * 255);
  }

  /**
   * Set the cap to the scale's percentile of every size stored in `ring`
   * (the upper edge of its histogram bin). Leaves the cap unchanged when the
   * ring holds no level. Allocates nothing.
   *
   * @returns The cap.
   */
  fit(ring: HeatmapRing): number {
    const bins = this.#bins;
    bins.fill(0);
    let n = 0;
    const L = ring.levels;
    for (let k = 0; k < ring.size; k++) {
      const s = ring.slot(k);
      const base = s * 2 * L;
      n += addSizes(bins, ring.sizes, base, ring.bidCount[s]);
      n += addSizes(bins, ring.sizes, base + L, ring.askCount[s]);
    }
    if (n === 0) return this.cap;
    const want = Math.ceil(this.percentile * n);
    let acc = 0;
    for (let i = 0; i < BIN_COUNT; i++) {
      acc += bins[i];
      if (acc >= want) {
        this.cap = 2 ** (MIN_LOG2 + (i + 1) / BINS_PER_OCTAVE);
        break;
      }
    }
    return this.cap;
  }
}

function addSizes(bins: Uint32Array, sizes: Float32Array, at: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const b = Math.floor((Math.log2(sizes[at + i]) - MIN_LOG2) * BINS_PER_OCTAVE);
    bins[b < 0 ? 0 : b >= BIN_COUNT ? BIN_COUNT - 1 : b]++;
  }
  return count;
}
