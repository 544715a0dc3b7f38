/**
 * Paints a {@linkcode HeatmapRing} onto a canvas incrementally: newest
 * column at the right edge, time flowing left.
 *
 * **Geometry.** The canvas's backing store is its CSS size × the device
 * pixel ratio ({@linkcode HeatmapPainter.resize}). Columns are
 * `ceil(width / capacity)` device pixels wide, so the newest
 * `floor(width / columnWidth)` columns (at most the ring's capacity) fill
 * the width; canvas rows are device pixel rows.
 *
 * **Incremental drawing.** {@linkcode HeatmapPainter.paint} compares the
 * ring's `pushed` count with the one it last drew. With k new columns it
 * scrolls the canvas left by k columns (one `drawImage` of the canvas onto
 * itself), draws the k columns into the right strip of a preallocated
 * `ImageData` and puts only that strip. With `scroll: "buffer"` it scrolls
 * the `ImageData` instead (one `copyWithin`) and puts all of it: measured in
 * headless Chromium without a GPU (software canvas) at 1,652 × 480 device
 * px, that costs 1.2 ms a paint against 4.1 ms for the canvas blit (median,
 * loaded machine); with a GPU canvas the blit avoids uploading the whole
 * image, so `"canvas"` is the default. It redraws everything only when it
 * must: after a resize, a reset ({@linkcode HeatmapPainter.invalidate}),
 * when k reaches the visible column count, when the price view must be
 * refitted (`refitReason` in `heatmap_view.ts`: the mid left the middle
 * 60 % of the range, or the ladder outgrew or shrank in it), or when the
 * size scale's cap, re-estimated every quarter screen of columns, moved by
 * more than 2×. Paints allocate nothing; `ImageData` and the row
 * accumulator are reallocated on resize only.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import type { HeatmapRing } from "./heatmap_ring.ts";
import { HEAT_BACKGROUND, SizeScale, type SizeScaleOptions } from "./heatmap_scale.ts";
import { fitView, PriceView, refitReason } from "./heatmap_view.ts";
import { type ColumnPlacement, drawColumn, type PixelBuffer } from "./heatmap_column.ts";

/** What a paint did. */
export type PaintKind = "none" | "columns" | "full";

/** Options of {@linkcode HeatmapPainter}. */
export interface HeatmapPainterOptions {
  /** Size → colour mapping. Default: `SizeScale` defaults (3 decades under the 95th percentile). */
  scale?: SizeScaleOptions;
  /** Best bid/ask line thickness in CSS px (scaled by the DPR, at least 1 device px). Default 1. */
  lineWidth?: number;
  /** How a paint scrolls: blit the canvas onto itself, or shift the `ImageData`. Default `"canvas"`. */
  scroll?: "canvas" | "buffer";
}

/** The 2D context calls the painter makes (a `CanvasRenderingContext2D` has them). */
export interface HeatmapContext {
  /** Blit. */
  drawImage(
    image: CanvasImageSource,
    sx: number,
    sy: number,
    sw: number,
    sh: number,
    dx: number,
    dy: number,
    dw: number,
    dh: number,
  ): void;
  /** Put pixels (whole or a dirty rectangle). */
  putImageData(
    data: ImageData,
    dx: number,
    dy: number,
    dirtyX?: number,
    dirtyY?: number,
    dirtyWidth?: number,
    dirtyHeight?: number,
  ): void;
}

/**
 * See the module docs.
 *
 * @example
 * ```ts ignore
 * import { HeatmapRing } from "./heatmap_ring.ts";
 * import { HeatmapPainter } from "./heatmap_painter.ts";
 * const canvas = document.querySelector("canvas")!;
 * const ring = new HeatmapRing();
 * const painter = new HeatmapPainter(canvas, ring);
 * painter.resize(canvas.clientWidth, canvas.clientHeight, devicePixelRatio);
 * ring.push(frame); // a DashFrame
 * painter.paint(); // "full" the first time, then "columns"
 * ```
 */
export class HeatmapPainter {
  /** The prices shown. */
  readonly view: PriceView = new PriceView();
  /** The size → colour scale. */
  readonly scale: SizeScale;
  readonly #canvas: HTMLCanvasElement;
  readonly #ctx: HeatmapContext;
  readonly #ring: HeatmapRing;
  readonly #lineCss: number;
  readonly #scrollBuffer: boolean;
  readonly #place: ColumnPlacement = { x: 0, width: 1, lineWidth: 1 };
  #image: ImageData | null = null;
  #buffer: PixelBuffer = { pixels: new Uint32Array(0), width: 0, height: 0 };
  #acc = new Float32Array(0);
  #drawn = 0;
  #full = true;
  #sinceFit = 0;
  #visible = 0;
  #paints = 0;
  #fullPaints = 0;

  /**
   * Creates a painter; nothing is drawn before {@linkcode HeatmapPainter.resize}.
   *
   * @param canvas The canvas (its 2D context is opened with `alpha: false`).
   * @param ring The columns to draw.
   * @param options See {@linkcode HeatmapPainterOptions}.
   * @throws Error when the canvas has no 2D context.
   */
  constructor(canvas: HTMLCanvasElement, ring: HeatmapRing, options: HeatmapPainterOptions = {}) {
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("heatmap: the canvas has no 2D context; expected a browser canvas");
    this.#canvas = canvas;
    this.#ctx = ctx;
    this.#ring = ring;
    this.scale = new SizeScale(options.scale);
    this.#lineCss = options.lineWidth ?? 1;
    this.#scrollBuffer = options.scroll === "buffer";
  }

  /** Device pixels per column. */
  get columnWidth(): number {
    return this.#place.width;
  }

  /** Columns that fit the canvas. */
  get visibleColumns(): number {
    return this.#visible;
  }

  /** Paints that drew something, and how many of them were full redraws. */
  get counts(): { paints: number; full: number } {
    return { paints: this.#paints, full: this.#fullPaints };
  }

  /**
   * Size the canvas to `cssWidth` × `cssHeight` CSS px at `dpr` device px
   * per CSS px; the next paint is a full redraw. No-op when nothing changed.
   */
  resize(cssWidth: number, cssHeight: number, dpr: number): void {
    const ratio = dpr > 0 ? dpr : 1;
    const width = Math.max(0, Math.round(cssWidth * ratio));
    const height = Math.max(0, Math.round(cssHeight * ratio));
    const lineWidth = Math.max(1, Math.round(this.#lineCss * ratio));
    if (width === this.#buffer.width && height === this.#buffer.height) {
      if (lineWidth !== this.#place.lineWidth) this.invalidate();
      this.#place.lineWidth = lineWidth;
      return;
    }
    this.#canvas.width = width;
    this.#canvas.height = height;
    this.#place.lineWidth = lineWidth;
    const capacity = this.#ring.capacity;
    this.#place.width = Math.max(1, Math.ceil(width / capacity));
    this.#visible = Math.min(capacity, Math.floor(width / this.#place.width));
    if (width > 0 && height > 0) {
      this.#image = new ImageData(width, height);
      this.#buffer = { pixels: new Uint32Array(this.#image.data.buffer), width, height };
    } else {
      this.#image = null;
      this.#buffer = { pixels: new Uint32Array(0), width, height };
    }
    this.#acc = new Float32Array(height);
    this.view.rows = height;
    if (this.view.valid) this.view.set(this.view.centre, this.view.span, height);
    this.#full = true;
  }

  /**
   * Make the next paint a full redraw. `refit` also forgets the price view
   * and the size cap (a symbol switch, a resync: the ring was cleared).
   */
  invalidate(refit = false): void {
    this.#full = true;
    if (refit) {
      this.view.reset();
      this.scale.cap = NaN;
    }
  }

  /** Draw what changed since the last paint. See the module docs. */
  paint(): PaintKind {
    const image = this.#image;
    if (!image) return "none";
    const ring = this.#ring;
    const fresh = ring.pushed - this.#drawn;
    if (!this.#full && fresh <= 0) return "none";
    let full = this.#full || fresh >= this.#visible || fresh < 0;
    if (refitReason(ring, this.view) !== "none" && fitView(ring, this.view, this.#visible)) {
      full = true;
    }
    if (full || !(this.scale.cap > 0)) {
      this.scale.fit(ring);
      this.#sinceFit = 0;
    } else {
      this.#sinceFit += fresh;
      if (this.#sinceFit * 4 >= this.#visible) full = this.#rescale() || full;
    }
    if (full) this.#drawAll(image);
    else this.#drawNew(image, fresh);
    this.#drawn = ring.pushed;
    this.#full = false;
    this.#paints++;
    if (full) this.#fullPaints++;
    return full ? "full" : "columns";
  }

  /** Re-estimate the cap; keep the old one (and the canvas) unless it moved by more than 2×. */
  #rescale(): boolean {
    this.#sinceFit = 0;
    const old = this.scale.cap;
    const cap = this.scale.fit(this.#ring);
    if (cap > 2 * old || cap < old / 2) return true;
    this.scale.cap = old;
    return false;
  }

  #drawAll(image: ImageData): void {
    const ring = this.#ring;
    const buf = this.#buffer;
    buf.pixels.fill(HEAT_BACKGROUND);
    if (this.view.valid) {
      const n = Math.min(this.#visible, ring.size);
      for (let j = 0; j < n; j++) this.#column(ring.size - 1 - j, j);
    }
    this.#ctx.putImageData(image, 0, 0);
  }

  #drawNew(image: ImageData, fresh: number): void {
    const buf = this.#buffer;
    const shift = fresh * this.#place.width;
    const keep = buf.width - shift;
    // Shifting the whole buffer by `shift` pixels moves each row left; the
    // last `shift` pixels of each row get the next row's first ones, which
    // the new columns overwrite.
    if (this.#scrollBuffer) buf.pixels.copyWithin(0, shift);
    else this.#ctx.drawImage(this.#canvas, shift, 0, keep, buf.height, 0, 0, keep, buf.height);
    const ring = this.#ring;
    const n = Math.min(fresh, ring.size);
    for (let j = 0; j < n; j++) this.#column(ring.size - 1 - j, j);
    if (this.#scrollBuffer) this.#ctx.putImageData(image, 0, 0);
    else this.#ctx.putImageData(image, 0, 0, keep, 0, shift, buf.height);
  }

  /** Draw the k-th oldest column as the j-th from the right edge. */
  #column(k: number, j: number): void {
    const ring = this.#ring;
    const place = this.#place;
    place.x = this.#buffer.width - (j + 1) * place.width;
    const prev = k > 0 ? ring.slot(k - 1) : -1;
    drawColumn(ring, ring.slot(k), prev, this.view, this.scale, this.#acc, this.#buffer, place);
  }
}
