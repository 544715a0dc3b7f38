/**
 * The main thread's end of the pipeline: waits on the processed ring with
 * `Atomics.waitAsync`, copies frames out in batches, stamps the delivered
 * time, records receive → main latency, counts deliveries and stores each
 * frame in the {@link HistoryStore} (whose subscribers — the WebSocket hub —
 * fan it out), after folding it into the {@link BarStore} when one is given
 * (each frame taken from the ring is folded exactly once). When the analytics worker encoded a frame's wire bytes into
 * its slot, they are staged in a {@link WorkerWire} while the frame is
 * stored, so the hub sends them instead of encoding the frame. It yields to the event loop between batches so HTTP and
 * WebSocket work never starve.
 *
 * @example
 * ```ts
 * import { FrameConsumer } from "./frame_consumer.ts";
 * import { HistoryStore } from "./history_store.ts";
 * import { LatencyTracker } from "./latency_tracker.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const processed = SpscRing.create({ slotBytes: layout.slotBytes });
 * const history = new HistoryStore({ symbols: 1, layout });
 * const consumer = new FrameConsumer({
 *   processed,
 *   history,
 *   counters: PipelineCounters.create(2),
 *   latency: new LatencyTracker(),
 * });
 * processed.push(new Float64Array(layout.slotWords)); // an analytics frame of symbol 0
 * processed.close(); // the analytics side is done
 * await consumer.run(); // drains, then returns: the ring is closed and empty
 * history.size(0); // 1
 * ```
 * @module
 */

import type { SpscRing } from "../pipeline/spsc_ring.ts";
import { MAIN_DELIVERED, type PipelineCounters } from "../pipeline/pipeline_counters.ts";
import {
  FRAME_DELIVERED_TIME,
  FRAME_RECEIVE_TIME,
  FRAME_SYMBOL_ID,
} from "../pipeline/frame_slot.ts";
import type { BarStore } from "./bar_store.ts";
import type { HistoryStore } from "./history_store.ts";
import type { LatencyTracker } from "./latency_tracker.ts";
import type { WorkerWire } from "./worker_wire.ts";

/** Options of {@link FrameConsumer}. */
export interface FrameConsumerOptions {
  /** The processed ring (this side is its only consumer). Required. */
  processed: SpscRing;
  /** Where frames go. Required. */
  history: HistoryStore;
  /** Shared counters. Required. */
  counters: PipelineCounters;
  /** Receive → main latency. Required. */
  latency: LatencyTracker;
  /**
   * Where each frame's worker-encoded wire bytes are staged for the hub
   * while the frame is stored (the processed ring's slots must be of its
   * layout). Default none: the ring carries analytics frames only.
   */
  wire?: WorkerWire;
  /**
   * Where each frame is folded into 10 s and 1 m bars, before it is stored
   * in the history. Default none.
   */
  bars?: BarStore;
  /** Frames per batch. Default 256. */
  batch?: number;
  /** Longest single wait before re-checking for stop, ms. Default 100. */
  waitMs?: number;
}

/**
 * Drains the processed ring into the history.
 *
 * @example
 * ```ts
 * import { FrameConsumer } from "./frame_consumer.ts";
 * import { HistoryStore } from "./history_store.ts";
 * import { LatencyTracker } from "./latency_tracker.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const layout = new FrameSlotLayout({ levels: 20 });
 * const processed = SpscRing.create({ slotBytes: layout.slotBytes });
 * const history = new HistoryStore({ symbols: 1, layout });
 * const consumer = new FrameConsumer({
 *   processed,
 *   history,
 *   counters: PipelineCounters.create(2),
 *   latency: new LatencyTracker(),
 * });
 * processed.push(new Float64Array(layout.slotWords)); // an analytics frame of symbol 0
 * consumer.drainOnce(); // 1: the frames taken now, stored in the history
 * history.size(0); // 1
 * ```
 */
export class FrameConsumer {
  readonly #o: FrameConsumerOptions;
  readonly #batch: Float64Array;
  readonly #bytes: Uint8Array;
  readonly #views: Float64Array[];
  readonly #maxBatch: number;
  #running = false;

  /**
   * Preallocates the batch buffer and its per-frame views.
   *
   * @param options see {@link FrameConsumerOptions}.
   * @throws RangeError when the processed ring's slots are smaller than the
   *   history's frames, or than the `wire` layout's slots.
   */
  constructor(options: FrameConsumerOptions) {
    this.#o = options;
    this.#maxBatch = options.batch ?? 256;
    const words = options.processed.slotWords;
    if (options.history.layout.slotWords > words) {
      throw new RangeError(
        `processed ring slots hold ${words} words, history frames need ${options.history.layout.slotWords}`,
      );
    }
    const wire = options.wire?.layout;
    if (
      wire && (wire.frame.slotWords !== options.history.layout.slotWords || wire.slotWords > words)
    ) {
      throw new RangeError(
        `processed ring slots hold ${words} words, wire slots of the history's frames need ${wire.slotWords}`,
      );
    }
    this.#batch = new Float64Array(this.#maxBatch * words);
    this.#bytes = new Uint8Array(this.#batch.buffer);
    this.#views = [];
    const frameWords = options.history.layout.slotWords;
    for (let k = 0; k < this.#maxBatch; k++) {
      this.#views.push(this.#batch.subarray(k * words, k * words + frameWords));
    }
  }

  /** Take every frame available now (one batch at most); returns how many. */
  drainOnce(): number {
    const { processed, history, counters, latency, wire, bars } = this.#o;
    const n = processed.popBatch(this.#batch, this.#maxBatch);
    if (n === 0) return 0;
    const words = processed.slotWords;
    const now = performance.timeOrigin + performance.now();
    for (let k = 0; k < n; k++) {
      const base = k * words;
      const f = this.#batch;
      f[base + FRAME_DELIVERED_TIME] = now;
      latency.observe((now - f[base + FRAME_RECEIVE_TIME]) / 1000);
      const symbolId = f[base + FRAME_SYMBOL_ID];
      // Count first: a listener that throws must not make a stored frame go uncounted.
      if (symbolId >= 0 && symbolId < counters.symbols) {
        counters.add(counters.mainSymbol(symbolId, MAIN_DELIVERED), 1);
      }
      // Fold before storing, for the same reason: a throwing listener must not skip it.
      bars?.fold(f, base);
      wire?.stage(this.#bytes, f, base);
      history.push(this.#views[k]);
      wire?.clear();
    }
    return n;
  }

  /**
   * Drain until {@link FrameConsumer.stop} is called, or the processed ring is
   * closed and empty.
   */
  async run(): Promise<void> {
    const { processed } = this.#o;
    const waitMs = this.#o.waitMs ?? 100;
    this.#running = true;
    let busySince = -1;
    while (this.#running) {
      if (this.drainOnce() > 0) {
        // Drain in bursts of at most ~5 ms, then let timers, HTTP and sockets run.
        const now = performance.now();
        if (busySince < 0) busySince = now;
        if (now - busySince > 5) {
          await new Promise((r) => setTimeout(r, 0));
          busySince = -1;
        }
        continue;
      }
      busySince = -1;
      if (processed.closed && processed.available() === 0) break;
      await processed.waitForDataAsync(waitMs);
    }
    this.#running = false;
  }

  /** Make {@link FrameConsumer.run} return after its current wait. */
  stop(): void {
    this.#running = false;
  }
}
