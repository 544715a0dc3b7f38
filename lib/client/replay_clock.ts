/**
 * The browser's data clock. Live, the data's newest time is the browser's
 * clock (`Date.now()`, give or take the latency). In a replay it is the
 * recorded time being played: {@linkcode ReplayClock} keeps the newest
 * {@linkcode ReplayPosition} the server reported (the page's first paint,
 * then `/api/replay` once a second) and runs it forward between reports at
 * the replay's speed, so the mode badge ticks and the charts' time axes end
 * at the recording's "now" instead of today's.
 *
 * Between reports the clock runs on for at most {@linkcode MAX_EXTRAPOLATION_MS}
 * of wall time (a stalled replay or a lost report does not run away); at
 * `max` speed, and once ended, it stays at the reported time. A report a
 * little behind what the clock already showed (the answer's latency, the
 * gap to the next record: at most {@linkcode HOLD_WALL_MS} of wall time at
 * the speed) makes the clock wait for it, not step back; a larger step back
 * is real and shown.
 *
 * Also the badge's text: {@linkcode formatReplayTime} and {@linkcode formatSpeed}.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplayClock } from "./replay_clock.ts";
 * const clock = new ReplayClock();
 * assert.equal(clock.now(5_000), 5_000); // nothing reported: the wall clock
 * clock.observe({ clockMs: 1_000_000, speed: 10, state: "playing", loops: 0 }, 5_000);
 * assert.equal(clock.now(5_500), 1_005_000); // 0.5 s of wall time at 10×
 * ```
 * @module
 */
import type { ReplayPosition, ReplayState } from "../pipeline/replay_position.ts";

/**
 * Wall time the clock runs on past the newest report, at most (ms): three
 * missed polls.
 *
 * @example
 * ```ts
 * import { MAX_EXTRAPOLATION_MS, ReplayClock } from "./replay_clock.ts";
 * const clock = new ReplayClock();
 * clock.observe({ clockMs: 0, speed: 1, state: "playing", loops: 0 }, 0);
 * clock.now(60_000) === MAX_EXTRAPOLATION_MS; // true: a stalled replay does not run away
 * ```
 */
export const MAX_EXTRAPOLATION_MS = 3000;

/**
 * Wall time's worth of replay time (at the speed) by which a report may lag
 * what the clock showed and be waited for rather than shown as a step back.
 *
 * @example
 * ```ts
 * import { HOLD_WALL_MS } from "./replay_clock.ts";
 * HOLD_WALL_MS * 10; // at 10×, reports up to 10 s of replay time behind are waited for
 * ```
 */
export const HOLD_WALL_MS = 1000;

/**
 * The replay clock (see the module docs). Allocates nothing per read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplayClock } from "./replay_clock.ts";
 * const clock = new ReplayClock();
 * clock.observe({ clockMs: 1_000_000, speed: "max", state: "ended", loops: 0 }, 0);
 * assert.equal(clock.now(60_000), 1_000_000); // ended: it stays at the last record
 * assert.equal(clock.speed, Infinity);
 * ```
 */
export class ReplayClock {
  #clockMs = NaN;
  #speed = NaN;
  #atMs = NaN;
  #state: ReplayState = "waiting";
  #loops = 0;
  #shown = -Infinity;

  /** Whether a report with a clock has been observed (a replay that has started). */
  get known(): boolean {
    return this.#clockMs === this.#clockMs;
  }

  /** The newest reported state (`waiting` before any report). */
  get state(): ReplayState {
    return this.#state;
  }

  /** The newest reported speed: a factor, Infinity for `max`, NaN when unknown. */
  get speed(): number {
    return this.#speed;
  }

  /** Passes finished, as last reported. */
  get loops(): number {
    return this.#loops;
  }

  /** Take a report made at wall time `wallMs` (epoch ms, the browser's clock). */
  observe(position: ReplayPosition, wallMs: number): void {
    this.#state = position.state;
    this.#loops = position.loops;
    this.#speed = position.speed === "max"
      ? Infinity
      : position.speed === null
      ? NaN
      : position.speed;
    if (position.clockMs !== null) {
      this.#clockMs = position.clockMs;
      this.#atMs = wallMs;
    }
  }

  /**
   * The data's "now" at wall time `wallMs`: the replay clock run forward
   * since the last report, or `wallMs` itself before any report (live).
   */
  now(wallMs: number): number {
    if (this.#clockMs !== this.#clockMs) return wallMs;
    const speed = this.#speed;
    let t = this.#clockMs;
    if (this.#state !== "ended" && speed > 0 && speed !== Infinity) {
      t += Math.min(Math.max(wallMs - this.#atMs, 0), MAX_EXTRAPOLATION_MS) * speed;
      // A report slightly behind what was shown: wait for it instead of stepping back.
      const behind = this.#shown - t;
      if (behind > 0 && behind <= HOLD_WALL_MS * speed) return this.#shown;
    }
    this.#shown = t;
    return t;
  }
}

/**
 * A replay clock reading as the badge shows it: `YYYY-MM-DD HH:MM:SS`, UTC
 * (the recorded date matters: a recording is often days old); `—` when
 * unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatReplayTime } from "./replay_clock.ts";
 * assert.equal(formatReplayTime(Date.parse("2024-03-14T09:26:53.987Z")), "2024-03-14 09:26:53");
 * assert.equal(formatReplayTime(NaN), "—");
 * ```
 */
export function formatReplayTime(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return "—";
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/**
 * A replay speed as the badge shows it: `1×`, `10×`, `0.5×`, `max`
 * (Infinity); "" when unknown (NaN, zero or negative).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatSpeed } from "./replay_clock.ts";
 * assert.equal(formatSpeed(1), "1×");
 * assert.equal(formatSpeed(10), "10×");
 * assert.equal(formatSpeed(0.25), "0.25×");
 * assert.equal(formatSpeed(Infinity), "max");
 * assert.equal(formatSpeed(NaN), "");
 * ```
 */
export function formatSpeed(speed: number): string {
  if (speed === Infinity) return "max";
  if (!(speed > 0) || !Number.isFinite(speed)) return "";
  // At most 3 significant decimals, no trailing zeros: 1.5×, 0.125×, 2.333×.
  return `${Number(speed.toFixed(speed >= 1 ? 2 : 3))}×`;
}
