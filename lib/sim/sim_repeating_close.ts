/**
 * The schedule of the repeating `close` fault (`{"kind":"close","everyMs":N}`):
 * connections carrying a symbol (or all) are closed again every `everyMs` until
 * the fault's `durationMs` has passed or `clear` is injected.
 *
 * @example
 * ```ts
 * import { RepeatingCloses } from "./sim_repeating_close.ts";
 * const closes = new RepeatingCloses();
 * closes.add({ symbol: -1, code: 1000, everyMs: 100, durationMs: 1000 }, 0);
 * const closed: number[] = [];
 * const target = { closeMatching: (_symbol: number, code: number) => closed.push(code) };
 * closes.run(50, target); // not due yet
 * closes.run(100, target); // closes
 * closed; // [1000]
 * ```
 * @module
 */

/**
 * One repeating close, as the `close` fault gives it.
 *
 * @example
 * ```ts
 * const close: RepeatingClose = { symbol: 0, code: 4001, everyMs: 500, durationMs: 10_000 };
 * ```
 */
export interface RepeatingClose {
  /** Symbol index whose connections are closed, or -1 for all connections. */
  symbol: number;
  /** WebSocket close code. */
  code: number;
  /** Interval between closes, ms (> 0). */
  everyMs: number;
  /** How long the closes repeat, ms. */
  durationMs: number;
}

/**
 * What {@link RepeatingCloses.run} closes connections through (a `ConnectionSet`).
 *
 * @example
 * ```ts
 * const target: CloseTarget = { closeMatching: (symbol, code) => console.log(symbol, code) };
 * ```
 */
export interface CloseTarget {
  /** Closes the connections carrying `symbol` (-1: all) with `code`. */
  closeMatching(symbol: number, code: number): void;
}

interface Scheduled {
  readonly symbol: number;
  readonly code: number;
  readonly everyMs: number;
  nextAt: number;
  readonly until: number;
}

/**
 * The active repeating closes.
 *
 * @example
 * ```ts
 * const closes = new RepeatingCloses();
 * closes.add({ symbol: 0, code: 4000, everyMs: 10, durationMs: 50 }, performance.now());
 * closes.size; // 1
 * closes.clear();
 * closes.size; // 0
 * ```
 */
export class RepeatingCloses {
  readonly #list: Scheduled[] = [];

  /** Number of active repeating closes. */
  get size(): number {
    return this.#list.length;
  }

  /**
   * Schedules closes every `close.everyMs` from `nowMs` (the first one is due
   * at `nowMs + everyMs`) until `nowMs + close.durationMs`.
   */
  add(close: RepeatingClose, nowMs: number): void {
    this.#list.push({
      symbol: close.symbol,
      code: close.code,
      everyMs: close.everyMs,
      nextAt: nowMs + close.everyMs,
      until: nowMs + close.durationMs,
    });
  }

  /**
   * Drops the closes whose duration is over, then closes through `target` for
   * each one that is due at `nowMs` (at most once per call).
   */
  run(nowMs: number, target: CloseTarget): void {
    const list = this.#list;
    for (let r = list.length - 1; r >= 0; r--) {
      const rc = list[r];
      if (nowMs > rc.until) {
        list.splice(r, 1);
        continue;
      }
      if (nowMs >= rc.nextAt) {
        rc.nextAt += rc.everyMs;
        target.closeMatching(rc.symbol, rc.code);
      }
    }
  }

  /** Ends every repeating close (the `clear` fault). */
  clear(): void {
    this.#list.length = 0;
  }
}
