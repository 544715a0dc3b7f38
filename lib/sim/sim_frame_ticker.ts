/**
 * The frame clock of the simulated exchange: advances every book at `rate`
 * frames per second and sends each frame to the streams subscribed to its
 * symbol (partial books `depth5|10|20` and diff events), applying the pending
 * stream faults (stall, gap, truncated, crossed).
 *
 * Frames are generated in batches from elapsed time ({@link FrameTicker.catchUp},
 * called by one interval timer), not one timer per frame, so tens of thousands
 * of frames per second work; a ticker more than a second behind skips frames.
 * Per frame, each distinct payload is encoded once and shared by the
 * subscriptions that need it; nothing else is allocated.
 *
 * @example
 * ```ts
 * import { BookModel } from "./book_model.ts";
 * import { FrameEncoder } from "./frame_encoder.ts";
 * import { ConnectionSet } from "./sim_connection.ts";
 * import { FrameTicker } from "./sim_frame_ticker.ts";
 * import { SimCounters } from "./sim_stats.ts";
 * import { StreamFaults } from "./sim_stream_faults.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const book = new BookModel(symbolSpec("btcusdt"), { seed: 1 });
 * const counters = new SimCounters(["BTCUSDT"]);
 * const ticker = new FrameTicker({
 *   encoders: [new FrameEncoder(book)],
 *   connections: new ConnectionSet({ symbolCount: 1, counters }),
 *   faults: new StreamFaults(1),
 *   counters,
 *   rate: 0,
 * });
 * ticker.step(3, performance.now());
 * counters.framesGenerated[0]; // 3
 * book.frames; // 3
 * ```
 * @module
 */

import type { FrameEncoder } from "./frame_encoder.ts";
import type { ConnectionSet } from "./sim_connection.ts";
import type { SimCounters } from "./sim_stats.ts";
import type { StreamFaults } from "./sim_stream_faults.ts";

/**
 * The parts a {@link FrameTicker} works with.
 *
 * @example
 * ```ts
 * import type { FrameTickerParts } from "./sim_frame_ticker.ts";
 * import { SimCounters } from "./sim_stats.ts";
 * import { ConnectionSet } from "./sim_connection.ts";
 * import { StreamFaults } from "./sim_stream_faults.ts";
 * const counters = new SimCounters([]);
 * const parts: FrameTickerParts = {
 *   encoders: [],
 *   connections: new ConnectionSet({ symbolCount: 0, counters }),
 *   faults: new StreamFaults(0),
 *   counters,
 *   rate: 10,
 * };
 * ```
 */
export interface FrameTickerParts {
  /** One encoder per symbol; each wraps the symbol's book. */
  encoders: readonly FrameEncoder[];
  /** The open connections and their subscriptions by symbol. */
  connections: ConnectionSet;
  /** Pending stream faults, consumed as frames are sent. */
  faults: StreamFaults;
  /** Frame, stall and truncation counters. */
  counters: SimCounters;
  /** Frames per second per symbol; 0 means frames come only from {@link FrameTicker.step}. */
  rate: number;
  /**
   * Per symbol, the feed that sends its frames in another venue's protocol
   * (`null`: Binance spot streams, sent by the ticker). Default: all Binance spot.
   */
  feeds?: readonly (SymbolFeed | null)[];
}

/**
 * Sends the frames of symbols that speak another venue's protocol: the ticker
 * advances the book, then hands the frame to the feed.
 *
 * @example
 * ```ts
 * const silent: SymbolFeed = { emit(_symbol, _nowMs, _eventTimeMs) {} };
 * ```
 */
export interface SymbolFeed {
  /**
   * Sends the frame just generated for `symbol`.
   *
   * @param symbol Index of the symbol.
   * @param nowMs `performance.now()` time (stalls are compared with it).
   * @param eventTimeMs Epoch milliseconds of the frame.
   */
  emit(symbol: number, nowMs: number, eventTimeMs: number): void;
}

/**
 * Advances the books and sends their frames. See the module documentation.
 *
 * @example
 * ```ts
 * import { BookModel } from "./book_model.ts";
 * import { FrameEncoder } from "./frame_encoder.ts";
 * import { ConnectionSet } from "./sim_connection.ts";
 * import { FrameTicker } from "./sim_frame_ticker.ts";
 * import { SimCounters } from "./sim_stats.ts";
 * import { StreamFaults } from "./sim_stream_faults.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const counters = new SimCounters(["BTCUSDT"]);
 * const ticker = new FrameTicker({
 *   encoders: [new FrameEncoder(new BookModel(symbolSpec("btcusdt"), { seed: 1 }))],
 *   connections: new ConnectionSet({ symbolCount: 1, counters }),
 *   faults: new StreamFaults(1),
 *   counters,
 *   rate: 100,
 * });
 * ticker.intervalMs; // 5: 500 / rate, within 2..20
 * const timer = setInterval(() => ticker.catchUp(performance.now()), ticker.intervalMs);
 * // … at shutdown:
 * ticker.stop();
 * clearInterval(timer);
 * ```
 */
export class FrameTicker {
  /** Frames per second per symbol. */
  readonly rate: number;
  /** Period of the timer that should call {@link catchUp}, ms (2..20). */
  readonly intervalMs: number;
  readonly #encoders: readonly FrameEncoder[];
  readonly #connections: ConnectionSet;
  readonly #faults: StreamFaults;
  readonly #counters: SimCounters;
  readonly #feeds: readonly (SymbolFeed | null)[] | undefined;
  /** `performance.now()` of frame 0; frame k of a symbol is due at start + k / rate. */
  readonly #clockStart: number;
  readonly #epochAtStart: number;
  /** Frames produced per symbol by {@link catchUp}. */
  readonly #done: Float64Array;
  #stopped = false;

  /**
   * Makes a ticker whose frame 0 is at `startMs`; no timer is started.
   *
   * @param parts See {@link FrameTickerParts}.
   * @param startMs `performance.now()` time of frame 0. Default: now.
   */
  constructor(parts: FrameTickerParts, startMs: number = performance.now()) {
    this.rate = parts.rate;
    this.intervalMs = parts.rate === 0
      ? 20
      : Math.max(2, Math.min(20, Math.floor(500 / parts.rate)));
    this.#encoders = parts.encoders;
    this.#connections = parts.connections;
    this.#faults = parts.faults;
    this.#counters = parts.counters;
    this.#feeds = parts.feeds;
    this.#clockStart = startMs;
    this.#epochAtStart = performance.timeOrigin + startMs;
    this.#done = new Float64Array(parts.encoders.length);
  }

  /** Makes {@link catchUp} and {@link step} do nothing from now on. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Generates and sends every frame due by `nowMs` (`performance.now()` time),
   * at most `rate` (one second's worth) per symbol; older ones are skipped and
   * counted in `framesBehindSkipped`. Nothing happens when `rate` is 0.
   */
  catchUp(nowMs: number): void {
    const rate = this.rate;
    if (this.#stopped || rate === 0) return;
    const target = Math.floor(((nowMs - this.#clockStart) * rate) / 1000);
    const maxBurst = Math.max(1, Math.ceil(rate));
    const done = this.#done;
    for (let i = 0; i < done.length; i++) {
      if (target - done[i] > maxBurst) {
        this.#counters.framesBehindSkipped += target - done[i] - maxBurst;
        done[i] = target - maxBurst;
      }
      while (done[i] < target) {
        done[i]++;
        this.#emit(i, nowMs, this.#epochAtStart + (done[i] * 1000) / rate);
      }
    }
  }

  /**
   * Generates and sends `frames` frames of every symbol now, whatever the rate,
   * with event time `nowMs`.
   *
   * @throws {RangeError} if `frames` is not a non-negative integer.
   */
  step(frames: number, nowMs: number): void {
    if (!Number.isInteger(frames) || frames < 0) {
      throw new RangeError(`step(frames) needs a non-negative integer, got ${frames}`);
    }
    if (this.#stopped) return;
    const n = this.#encoders.length;
    for (let f = 0; f < frames; f++) {
      for (let i = 0; i < n; i++) this.#emit(i, nowMs, performance.timeOrigin + nowMs);
    }
  }

  /** Advances book `i` one frame and sends it to its subscriptions. */
  #emit(i: number, nowMs: number, eventTime: number): void {
    const enc = this.#encoders[i], book = enc.book;
    const counters = this.#counters, faults = this.#faults;
    if (faults.quietPending[i] > 0) {
      faults.quietPending[i]--;
      book.idleFrame();
    } else book.advanceFrame();
    counters.framesGenerated[i]++;
    const feed = this.#feeds === undefined ? null : this.#feeds[i];
    if (feed !== null) {
      feed.emit(i, nowMs, eventTime);
      return;
    }
    const subs = this.#connections.bySymbol[i];
    if (subs.length === 0) return;
    const stalled = faults.stallUntil[i] > nowMs;
    let diff: string | null | undefined;
    let diffWithheld = false;
    let p5: string | undefined, p10: string | undefined, p20: string | undefined;
    const crossed = faults.crossedPending[i] === 1;
    let partialSent = false, anySent = false;
    const cut = faults.truncatedPending[i] > 0;
    for (let k = 0; k < subs.length; k++) {
      const sub = subs[k];
      let text: string | null;
      if (sub.levels === 0) {
        if (diff === undefined) {
          diff = book.changedBidCount + book.changedAskCount === 0 ? null : enc.diff(eventTime);
          if (diff !== null && !stalled && faults.gapPending[i] > 0) diffWithheld = true;
        }
        if (diff === null || diffWithheld) continue;
        text = diff;
      } else {
        text = sub.levels === 5
          ? (p5 ??= enc.partial(5, crossed))
          : sub.levels === 10
          ? (p10 ??= enc.partial(10, crossed))
          : sub.levels === 20
          ? (p20 ??= enc.partial(20, crossed))
          : enc.partial(sub.levels, crossed);
        partialSent = true;
      }
      if (stalled) {
        counters.framesStalled++;
        continue;
      }
      let message = sub.prefix === "" ? text : sub.prefix + text + "}";
      if (cut) message = message.slice(0, message.length >> 1);
      this.#connections.send(sub.conn, message);
      counters.framesSent[i]++;
      anySent = true;
    }
    if (diffWithheld) {
      faults.gapPending[i]--;
      counters.gapEventsDropped[i]++;
    }
    if (crossed && partialSent && !stalled) faults.crossedPending[i] = 0;
    if (cut && anySent) {
      faults.truncatedPending[i]--;
      counters.framesTruncated++;
    }
  }
}
