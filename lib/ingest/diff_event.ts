/**
 * A preallocated scratch struct holding one parsed diff-depth event
 * (`depthUpdate`). The diff parser overwrites it for every event; copy out
 * what must outlive the next parse.
 *
 * @example
 * ```ts
 * import { DiffEvent } from "./diff_event.ts";
 * const ev = new DiffEvent({ capacity: 1000 });
 * ev.bidPrices.length; // 1000
 * ev.prevFinalUpdateId; // NaN (spot events have no `pu`)
 * ```
 * @module
 */

/** Default number of levels per side a {@link DiffEvent} holds. */
export const DEFAULT_DIFF_CAPACITY = 5000;
/** Largest capacity accepted by {@link DiffEvent}. */
export const MAX_DIFF_CAPACITY = 1_000_000;

/** Options of {@link DiffEvent}. */
export interface DiffEventOptions {
  /** Levels per side the event can hold; default {@link DEFAULT_DIFF_CAPACITY} (5000). */
  capacity?: number;
}

/**
 * One diff-depth event. Quantities are absolute; a quantity of 0 removes the
 * level. Only the first `bidCount` / `askCount` entries of the level arrays
 * are valid.
 *
 * @example
 * ```ts
 * import { DiffEvent } from "./diff_event.ts";
 * const ev = new DiffEvent();
 * for (let i = 0; i < ev.bidCount; i++) {
 *   const price = ev.bidPrices[i], size = ev.bidSizes[i];
 * }
 * ```
 */
export class DiffEvent {
  /** Symbol id (index into the run's symbol table). */
  symbolId = -1;
  /** Exchange event time `E`, epoch ms; NaN when absent. */
  eventTime = NaN;
  /** First update id in the event, `U`. */
  firstUpdateId = NaN;
  /** Final update id in the event, `u`. */
  finalUpdateId = NaN;
  /** Previous event's final update id, `pu` (USD-M futures); NaN when absent (spot). */
  prevFinalUpdateId = NaN;
  /** Number of valid bid levels. */
  bidCount = 0;
  /** Number of valid ask levels. */
  askCount = 0;
  /** Bid prices, in message order. */
  bidPrices: Float64Array;
  /** Bid quantities (absolute), parallel to {@link DiffEvent.bidPrices}. */
  bidSizes: Float64Array;
  /** Ask prices, in message order. */
  askPrices: Float64Array;
  /** Ask quantities (absolute), parallel to {@link DiffEvent.askPrices}. */
  askSizes: Float64Array;

  /**
   * Allocates the level arrays, `capacity` levels per side.
   *
   * @param options see {@link DiffEventOptions}.
   * @throws RangeError when `capacity` is not an integer from 1 to {@link MAX_DIFF_CAPACITY}.
   */
  constructor(options: DiffEventOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_DIFF_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_DIFF_CAPACITY) {
      throw new RangeError(
        `diff event capacity must be an integer from 1 to ${MAX_DIFF_CAPACITY}, got ${capacity}`,
      );
    }
    this.bidPrices = new Float64Array(capacity);
    this.bidSizes = new Float64Array(capacity);
    this.askPrices = new Float64Array(capacity);
    this.askSizes = new Float64Array(capacity);
  }
}
