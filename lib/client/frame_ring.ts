/**
 * The browser's per-symbol frame buffer: the last `capacity` frames (default
 * 100, the seed's browser buffer) as Float64Array columns, one per charted
 * quantity. Pushing writes one value per column at the ring index and
 * advances it: O(1), no `shift()`, no allocation.
 *
 * Read with {@linkcode FrameRing.slot}: `slot(k)` is the column index of the
 * k-th oldest stored frame.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameRing } from "./frame_ring.ts";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * const ring = new FrameRing({ capacity: 2 });
 * const f = emptyDashFrame("BTCUSDT");
 * for (const mid of [1, 2, 3]) {
 *   f.mid = mid;
 *   ring.push(f);
 * }
 * assert.equal(ring.size, 2);
 * assert.equal(ring.mid[ring.slot(0)], 2);
 * assert.equal(ring.mid[ring.slot(1)], 3);
 * ```
 *
 * @module
 */
import type { DashFrame } from "./dash_frame.ts";
import { RingIndex } from "./ring_index.ts";

/** Options of {@linkcode FrameRing}. */
export interface FrameRingOptions {
  /** Frames kept. Default 100. */
  capacity?: number;
}

/** Default frames kept per symbol in the browser. */
export const DEFAULT_RING_CAPACITY = 100;

/**
 * Fixed-capacity ring of frames in Float64Array columns. See the module docs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameRing } from "./frame_ring.ts";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * const ring = new FrameRing({ capacity: 100 });
 * const f = emptyDashFrame("BTCUSDT");
 * f.spreadBps = 1.5;
 * ring.push(f);
 * const newest = ring.slot(ring.size - 1);
 * assert.equal(ring.spreadBps[newest], 1.5);
 * ```
 */
export class FrameRing extends RingIndex {
  /** Receive time, epoch ms. */
  readonly time: Float64Array;
  /** Per-symbol sequence number. */
  readonly seq: Float64Array;
  /** Mid price. */
  readonly mid: Float64Array;
  /** Weighted mid. */
  readonly weightedMid: Float64Array;
  /** Spread in bps. */
  readonly spreadBps: Float64Array;
  /** Imbalance, top 1 level. */
  readonly imbalance1: Float64Array;
  /** Imbalance, top 5 levels. */
  readonly imbalance5: Float64Array;
  /** Imbalance, top 20 levels. */
  readonly imbalance20: Float64Array;
  /** OFI contribution e. */
  readonly ofi: Float64Array;
  /** OFI Σ over 1 s. */
  readonly ofi1s: Float64Array;
  /** OFI Σ over 10 s. */
  readonly ofi10s: Float64Array;
  /** Pipeline latency, ms. */
  readonly latencyMs: Float64Array;

  /**
   * Allocates the columns, empty.
   *
   * @param options see {@linkcode FrameRingOptions}.
   * @throws RangeError when `capacity` is not an integer from 1 to 1 000 000.
   */
  constructor(options: FrameRingOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_RING_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000) {
      throw new RangeError(`ring capacity must be an integer from 1 to 1000000, got ${capacity}`);
    }
    super(capacity);
    this.time = new Float64Array(capacity);
    this.seq = new Float64Array(capacity);
    this.mid = new Float64Array(capacity);
    this.weightedMid = new Float64Array(capacity);
    this.spreadBps = new Float64Array(capacity);
    this.imbalance1 = new Float64Array(capacity);
    this.imbalance5 = new Float64Array(capacity);
    this.imbalance20 = new Float64Array(capacity);
    this.ofi = new Float64Array(capacity);
    this.ofi1s = new Float64Array(capacity);
    this.ofi10s = new Float64Array(capacity);
    this.latencyMs = new Float64Array(capacity);
  }

  /** Append one frame, overwriting the oldest when full. Allocates nothing. */
  push(f: DashFrame): void {
    const i = this.next;
    this.time[i] = f.time;
    this.seq[i] = f.seq;
    this.mid[i] = f.mid;
    this.weightedMid[i] = f.weightedMid;
    this.spreadBps[i] = f.spreadBps;
    this.imbalance1[i] = f.imbalance1;
    this.imbalance5[i] = f.imbalance5;
    this.imbalance20[i] = f.imbalance20;
    this.ofi[i] = f.ofi;
    this.ofi1s[i] = f.ofi1s;
    this.ofi10s[i] = f.ofi10s;
    this.latencyMs[i] = f.latencyMs;
    this.advance();
  }
}
