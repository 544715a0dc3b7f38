/**
 * The pending faults of the simulated streams, per symbol: `stall` (send
 * nothing until a time), `gap` (withhold the next diff events), `truncated`
 * (cut the next frames) and `crossed` (cross the next partial frame). The fault
 * injector sets them; the frame ticker reads and consumes them as it sends
 * frames. State is one typed array per fault kind, indexed like the symbol
 * list, so reading it per frame allocates nothing.
 *
 * @example
 * ```ts
 * import { StreamFaults } from "./sim_stream_faults.ts";
 * const faults = new StreamFaults(2);
 * faults.gap(1, 3);
 * faults.truncate(-1, 1); // every symbol
 * faults.gapPending[1]; // 3
 * faults.truncatedPending[0]; // 1
 * faults.clear();
 * ```
 * @module
 */

/**
 * Per-symbol pending stream faults. A symbol argument of -1 means every symbol.
 *
 * @example
 * ```ts
 * const faults = new StreamFaults(1);
 * faults.stall(0, performance.now() + 500);
 * faults.stallUntil[0] > performance.now(); // true: symbol 0 is silent for 500 ms
 * ```
 */
export class StreamFaults {
  /** `performance.now()` until which the symbol sends nothing; Infinity = until `clear`. */
  readonly stallUntil: Float64Array;
  /** Diff events still to withhold (`gap`). */
  readonly gapPending: Float64Array;
  /** Frames still to cut (`truncated`). */
  readonly truncatedPending: Float64Array;
  /** 1 while the next partial frame is to be crossed (`crossed`). */
  readonly crossedPending: Uint8Array;
  /** Updates still to send with a wrong checksum (`checksum`). */
  readonly checksumPending: Float64Array;
  /** 1 while the symbol is to reset at its next frame (`reset`). */
  readonly resetPending: Uint8Array;
  /** Frames still to leave the book unchanged (`quiet`). */
  readonly quietPending: Float64Array;

  /**
   * Makes the state with no fault pending.
   *
   * @param symbolCount Number of simulated symbols.
   */
  constructor(symbolCount: number) {
    this.stallUntil = new Float64Array(symbolCount);
    this.gapPending = new Float64Array(symbolCount);
    this.truncatedPending = new Float64Array(symbolCount);
    this.crossedPending = new Uint8Array(symbolCount);
    this.checksumPending = new Float64Array(symbolCount);
    this.resetPending = new Uint8Array(symbolCount);
    this.quietPending = new Float64Array(symbolCount);
  }

  /** Silences `symbol` (-1: all) until `untilMs` (`performance.now()` time; Infinity = until clear). */
  stall(symbol: number, untilMs: number): void {
    if (symbol >= 0) this.stallUntil[symbol] = untilMs;
    else this.stallUntil.fill(untilMs);
  }

  /** Withholds the next `events` diff events of `symbol` (-1: of each symbol). */
  gap(symbol: number, events: number): void {
    this.#add(this.gapPending, symbol, events);
  }

  /** Cuts the next `count` frames of `symbol` (-1: of each symbol) in half. */
  truncate(symbol: number, count: number): void {
    this.#add(this.truncatedPending, symbol, count);
  }

  /** Crosses the next partial frame of `symbol` (-1: of each symbol). */
  cross(symbol: number): void {
    if (symbol >= 0) this.crossedPending[symbol] = 1;
    else this.crossedPending.fill(1);
  }

  /** Sends the next `count` checksummed updates of `symbol` with a wrong checksum. */
  badChecksum(symbol: number, count: number): void {
    this.#add(this.checksumPending, symbol, count);
  }

  /** Resets `symbol`'s stream at its next frame. */
  reset(symbol: number): void {
    this.resetPending[symbol] = 1;
  }

  /** Leaves the book of `symbol` (-1: every book) unchanged for the next `frames` frames. */
  quiet(symbol: number, frames: number): void {
    this.#add(this.quietPending, symbol, frames);
  }

  /** Ends every stall and forgets pending gaps, cuts, crossings, bad checksums, resets and quiet frames. */
  clear(): void {
    this.checksumPending.fill(0);
    this.resetPending.fill(0);
    this.quietPending.fill(0);
    this.stallUntil.fill(0);
    this.gapPending.fill(0);
    this.truncatedPending.fill(0);
    this.crossedPending.fill(0);
  }

  #add(pending: Float64Array, symbol: number, n: number): void {
    if (symbol >= 0) pending[symbol] += n;
    else for (let i = 0; i < pending.length; i++) pending[i] += n;
  }
}
