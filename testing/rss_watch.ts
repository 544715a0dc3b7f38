/**
 * What an episode costs another process in resident memory: {@link RssWatch}
 * records the peak while it runs (sampled, and the kernel's `VmHWM` after a
 * reset when allowed), and {@link settleRss} waits after it until the
 * resident set stops falling. A process that is gone reads NaN.
 *
 * @example
 * ```ts ignore
 * const before = readRssMiB(pid);
 * const watch = RssWatch.start(pid);
 * // … the episode …
 * const peak = watch.stop();
 * const after = await settleRss(pid, { targetMiB: before + 50 });
 * ```
 * @module
 */

import { processPeakRssMiB, processRssMiB, resetPeakRss } from "./proc_stats.ts";

/**
 * `VmRSS` of `pid`, MiB; NaN when the process is gone.
 *
 * @example
 * ```ts
 * readRssMiB(Deno.pid) > 0; // true
 * ```
 */
export function readRssMiB(pid: number): number {
  try {
    return processRssMiB(pid);
  } catch {
    return NaN;
  }
}

function readPeakMiB(pid: number): number {
  try {
    return processPeakRssMiB(pid);
  } catch {
    return NaN;
  }
}

/**
 * The peak resident set of a process over an episode: started with
 * {@link RssWatch.start}, read with {@link RssWatch.stop}.
 *
 * @example
 * ```ts
 * const watch = RssWatch.start(Deno.pid, 50);
 * const big = new Uint8Array(32 << 20).fill(1);
 * const peak = watch.stop(); // >= 32 MiB above the start
 * console.log(peak, big.length);
 * ```
 */
export class RssWatch {
  readonly #pid: number;
  readonly #kernelPeak: boolean;
  readonly #timer: ReturnType<typeof setInterval>;
  #max = NaN;

  private constructor(pid: number, intervalMs: number) {
    this.#pid = pid;
    this.#kernelPeak = resetPeakRss(pid);
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  /**
   * Start watching `pid`: reset its `VmHWM` when allowed and sample `VmRSS`
   * every `intervalMs` (default 100).
   */
  static start(pid: number, intervalMs = 100): RssWatch {
    return new RssWatch(pid, intervalMs);
  }

  /** Stop sampling; the peak since {@link start}, MiB (NaN when the process was never seen). */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    const kernel = this.#kernelPeak ? readPeakMiB(this.#pid) : NaN;
    const peaks = [this.#max, kernel].filter((v) => !Number.isNaN(v));
    return peaks.length ? Math.max(...peaks) : NaN;
  }

  #sample(): void {
    const rss = readRssMiB(this.#pid);
    if (!Number.isNaN(rss) && !(rss <= this.#max)) this.#max = rss;
  }
}

/** Options of {@link settleRss}. */
export interface SettleOptions {
  /** Stop as soon as the resident set is at or below this, MiB. Default none. */
  targetMiB?: number;
  /** Stop when no new low (by more than 1 MiB) was seen for this long, ms. Default 5000. */
  quietMs?: number;
  /** Stop after this long whatever happens (a hang guard), ms. Default 30000. */
  timeoutMs?: number;
  /** Sample interval, ms. Default 250. */
  intervalMs?: number;
}

/**
 * Wait until the resident set of `pid` stops falling (no new low for
 * `quietMs`) or reaches `targetMiB`, at most `timeoutMs`; resolves with the
 * last reading, MiB (NaN once the process is gone).
 *
 * @example
 * ```ts
 * const rss = await settleRss(Deno.pid, { quietMs: 200, timeoutMs: 1000 });
 * ```
 */
export async function settleRss(pid: number, options: SettleOptions = {}): Promise<number> {
  const target = options.targetMiB ?? -Infinity;
  const quietMs = options.quietMs ?? 5000;
  const interval = options.intervalMs ?? 250;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let rss = readRssMiB(pid);
  let low = rss;
  let lowAt = Date.now();
  while (!Number.isNaN(rss) && rss > target && Date.now() < deadline) {
    if (Date.now() - lowAt >= quietMs) break;
    await new Promise((r) => setTimeout(r, interval));
    rss = readRssMiB(pid);
    if (rss < low - 1) {
      low = rss;
      lowAt = Date.now();
    }
  }
  return rss;
}
