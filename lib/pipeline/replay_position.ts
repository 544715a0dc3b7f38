/**
 * The replay position as the dashboard sees it: the replay clock, the speed
 * and the state, in a small JSON-safe shape (no NaN, no Infinity) that the
 * server builds from the shared {@linkcode ReplayStatus} (`GET /api/replay`,
 * the mode badge's first paint) and the browser reads back
 * ({@linkcode parseReplayPosition}).
 *
 * States:
 * - `waiting`: no record delivered yet (the ingest worker is starting);
 * - `playing`: records are being delivered;
 * - `looping`: playing again after at least one pass (`--replay-loop`);
 * - `ended`: the replay reached the end of the recording (or `--replay-to`)
 *   and stopped.
 *
 * This module is shared by the server and the browser: it must not touch the
 * `Deno` global.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplayStatus } from "./replay_status.ts";
 * import { replayPosition } from "./replay_position.ts";
 * const status = ReplayStatus.create();
 * status.set("speed", 10);
 * status.set("clockMs", Date.parse("2024-03-14T09:00:00Z"));
 * assert.deepEqual(replayPosition(status), {
 *   clockMs: 1710406800000,
 *   speed: 10,
 *   state: "playing",
 *   loops: 0,
 * });
 * ```
 * @module
 */
import type { ReplayStatus } from "./replay_status.ts";

/** What a replay is doing (see the module docs). */
export type ReplayState = "waiting" | "playing" | "looping" | "ended";

/** Every {@linkcode ReplayState}. */
export const REPLAY_STATES: readonly ReplayState[] = ["waiting", "playing", "looping", "ended"];

/**
 * The replay position, JSON-safe (see the module docs).
 *
 * @example
 * ```ts
 * import type { ReplayPosition } from "./replay_position.ts";
 * const p: ReplayPosition = { clockMs: 1710406800000, speed: 10, state: "playing", loops: 0 };
 * JSON.stringify(p); // what GET /api/replay answers
 * ```
 */
export interface ReplayPosition {
  /** Replay clock: recorded receive time of the last record delivered, epoch ms; null before the first. */
  clockMs: number | null;
  /** Speed factor (> 0), `"max"`, or null before the replay source has started. */
  speed: number | "max" | null;
  /** What the replay is doing. */
  state: ReplayState;
  /** Passes over the recording finished (`--replay-loop`). */
  loops: number;
}

/**
 * The state of a replay from its status words: `done` wins, then `loops`,
 * then whether a record was delivered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replayState } from "./replay_position.ts";
 * assert.equal(replayState(NaN, 0, false), "waiting");
 * assert.equal(replayState(1, 0, false), "playing");
 * assert.equal(replayState(1, 2, false), "looping");
 * assert.equal(replayState(1, 2, true), "ended");
 * ```
 */
export function replayState(clockMs: number, loops: number, done: boolean): ReplayState {
  if (done) return "ended";
  if (loops > 0) return "looping";
  return Number.isFinite(clockMs) ? "playing" : "waiting";
}

/**
 * The position held in `status` now (reads eight shared words; no per-symbol work).
 *
 * @example
 * ```ts
 * import { ReplayStatus } from "./replay_status.ts";
 * import { replayPosition } from "./replay_position.ts";
 * replayPosition(ReplayStatus.create()).state; // "waiting"
 * ```
 */
export function replayPosition(status: ReplayStatus): ReplayPosition {
  const clockMs = status.get("clockMs");
  const speed = status.get("speed");
  const loops = status.get("loops");
  return {
    clockMs: Number.isFinite(clockMs) ? clockMs : null,
    speed: speed === Infinity ? "max" : speed > 0 ? speed : null,
    state: replayState(clockMs, loops, status.get("done") === 1),
    loops,
  };
}

/**
 * Read a position that came over the network (the JSON of `/api/replay`);
 * null when `value` is not one (a wrong field is never guessed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReplayPosition } from "./replay_position.ts";
 * const p = { clockMs: 1710406800000, speed: "max", state: "ended", loops: 0 };
 * assert.deepEqual(parseReplayPosition(p), p);
 * assert.equal(parseReplayPosition({ ...p, speed: -1 }), null);
 * assert.equal(parseReplayPosition("REPLAY"), null);
 * ```
 */
export function parseReplayPosition(value: unknown): ReplayPosition | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  const clockMs = v.clockMs;
  const speed = v.speed;
  const state = v.state;
  const loops = v.loops;
  if (clockMs !== null && !(typeof clockMs === "number" && Number.isFinite(clockMs))) return null;
  if (
    speed !== null && speed !== "max" &&
    !(typeof speed === "number" && Number.isFinite(speed) && speed > 0)
  ) return null;
  if (!REPLAY_STATES.includes(state as ReplayState)) return null;
  if (!(typeof loops === "number" && Number.isInteger(loops) && loops >= 0)) return null;
  return { clockMs, speed, state: state as ReplayState, loops };
}
