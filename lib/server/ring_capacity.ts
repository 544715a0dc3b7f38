/**
 * The default number of slots of the raw and processed rings, from the run's
 * frame rate: the smallest power of two that holds {@link RING_SLACK_MS} of
 * every symbol's frames, at least {@link MIN_RING_CAPACITY} and at most
 * {@link MAX_RING_CAPACITY} slots.
 *
 * A ring absorbs the frames that arrive while its reader is paused (a garbage
 * collection, a burst of HTTP or socket work on the main thread, the
 * analytics worker catching up); a ring that fills drops the oldest frame.
 * 250 ms is several times the pauses measured at 20,000 frames/s; rounding up
 * to a power of two makes it 250 to 500 ms. The floor keeps a few symbols with
 * seconds of slack for little memory (256 slots are 180 KB raw + 300 KB
 * processed at 20 levels); the cap bounds the rings at 65,536 slots (46 MB +
 * 77 MB). A replay gets at least {@link REPLAY_MIN_RING_CAPACITY} slots: faster
 * than recorded time it delivers thousands of frames between two turns of the
 * ingest worker's event loop, and a ring that its reader empties while the
 * replay waits for room (a timer, 1–3 ms on a loaded machine) leaves the
 * analytics idle (measured: 256 slots ≈ 30–35k frames/s through the service,
 * 4,096 slots 45–72k, at load 5–9). `--raw-capacity` and
 * `--processed-capacity` override the rule.
 *
 * | symbols × frames/s | frames in 250 ms | slots |
 * | ------------------ | ---------------- | ----- |
 * | 2 × 10             | 5                | 256   |
 * | 200 × 10           | 500              | 512   |
 * | 1,024 × 10         | 2,560            | 4,096 |
 * | 2,000 × 10         | 5,000            | 8,192 |
 *
 * @example
 * ```ts
 * import { ringCapacityFor } from "./ring_capacity.ts";
 * ringCapacityFor(2_000, 10); // 8192: 5,000 frames in 250 ms, rounded up
 * ringCapacityFor(2, 10); // 256: the floor
 * ```
 * @module
 */

import type { Config } from "./config.ts";

/** Time of frames a default-sized ring holds at the expected rate (before rounding up). */
export const RING_SLACK_MS = 250;
/** The fewest slots a default-sized ring has. */
export const MIN_RING_CAPACITY = 256;
/** The fewest slots a default-sized ring has in a replay (see the module docs). */
export const REPLAY_MIN_RING_CAPACITY = 4096;
/** The most slots a default-sized ring has. */
export const MAX_RING_CAPACITY = 65_536;
/**
 * Frames per second per symbol from Binance: both streams depthwatch reads
 * (`@depth20@100ms`, `@depth@100ms` folded into one book frame per 100 ms)
 * deliver at most one frame per 100 ms.
 */
export const EXCHANGE_FRAMES_PER_SECOND = 10;

/**
 * Default slots of a ring for `symbols` symbols at `framesPerSecond` frames/s
 * each: the smallest power of two ≥ `symbols × framesPerSecond × 250 ms`,
 * clamped to [{@link MIN_RING_CAPACITY}, {@link MAX_RING_CAPACITY}].
 *
 * @param symbols symbols watched, a positive integer.
 * @param framesPerSecond expected frames per second per symbol, positive and finite.
 * @throws RangeError when an argument is out of range.
 * @example
 * ```ts
 * import { ringCapacityFor } from "./ring_capacity.ts";
 * ringCapacityFor(1_024, 10); // 4096
 * ```
 */
export function ringCapacityFor(symbols: number, framesPerSecond: number): number {
  if (!Number.isInteger(symbols) || symbols < 1) {
    throw new RangeError(`ring sizing: symbols must be a positive integer, got ${symbols}`);
  }
  if (!(framesPerSecond > 0) || !Number.isFinite(framesPerSecond)) {
    throw new RangeError(
      `ring sizing: frames per second must be a positive finite number, got ${framesPerSecond}`,
    );
  }
  const frames = Math.ceil(symbols * framesPerSecond * RING_SLACK_MS / 1000);
  let slots = MIN_RING_CAPACITY;
  while (slots < frames && slots < MAX_RING_CAPACITY) slots *= 2;
  return slots;
}

/** What {@link ringCapacities} reads of the configuration (after the symbols are resolved). */
export type RingSizingConfig = Pick<
  Config,
  "symbols" | "source" | "simRate" | "rawCapacity" | "processedCapacity"
>;

/**
 * The slots of the raw and processed rings of a run: `--raw-capacity` and
 * `--processed-capacity` when given, otherwise {@link ringCapacityFor} the
 * resolved symbols at their expected rate (`--sim-rate` with `--source sim`,
 * else {@link EXCHANGE_FRAMES_PER_SECOND}), and at least
 * {@link REPLAY_MIN_RING_CAPACITY} with `--source replay`.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { ringCapacities } from "./ring_capacity.ts";
 * ringCapacities(parseConfig([])); // { raw: 256, processed: 256 }: 2 symbols × 10/s
 * ringCapacities(parseConfig(["--raw-capacity=4096"])); // { raw: 4096, processed: 256 }
 * ```
 */
export function ringCapacities(config: RingSizingConfig): { raw: number; processed: number } {
  const rate = config.source === "sim" ? config.simRate : EXCHANGE_FRAMES_PER_SECOND;
  let sized = ringCapacityFor(config.symbols.length, rate);
  if (config.source === "replay") sized = Math.max(sized, REPLAY_MIN_RING_CAPACITY);
  return { raw: config.rawCapacity ?? sized, processed: config.processedCapacity ?? sized };
}
