/**
 * Binary layout of a ring queue's SharedArrayBuffer.
 *
 * The buffer starts with a header of {@link RING_HEADER_LINES} 64-byte cache
 * lines. Each word that one thread writes often lives on its own line, so the
 * producer and the consumer never write the same line (false sharing costs
 * about 8x under contention). The slots follow the header, `capacity` slots of
 * `slotBytes` bytes each.
 *
 * Offsets below are indexes into an `Int32Array` over the whole buffer. This
 * module is the only place that knows them.
 *
 * @example
 * ```ts
 * import { RING_WRITE, ringBufferBytes } from "./ring_layout.ts";
 * const bytes = ringBufferBytes(2048, 704); // 576 + 2048 * 704
 * const i32 = new Int32Array(new SharedArrayBuffer(bytes));
 * Atomics.load(i32, RING_WRITE); // 0
 * ```
 * @module
 */

/** Bytes per cache line; one hot header word per line. */
export const RING_CACHE_LINE_BYTES = 64;
/** Int32 words per cache line. */
const WORDS_PER_LINE = RING_CACHE_LINE_BYTES / 4;

/** Write index (free-running uint32): slots committed by the producer so far. Producer-written. */
export const RING_WRITE = 0 * WORDS_PER_LINE;
/** Read index (free-running uint32). Advanced by the consumer's commits and by drop-oldest. */
export const RING_READ = 1 * WORDS_PER_LINE;
/** Frames dropped (uint32, wraps): overwritten oldest, or refused newest. Producer-written. */
export const RING_DROPPED = 2 * WORDS_PER_LINE;
/** Highest depth ever seen after a commit. Producer-written. */
export const RING_HIGH_WATER = 3 * WORDS_PER_LINE;
/** 1 while the consumer sleeps in `Atomics.wait`/`waitAsync` on {@link RING_WRITE}. */
export const RING_CONSUMER_PARKED = 4 * WORDS_PER_LINE;
/** 1 while the producer sleeps in `Atomics.wait` on {@link RING_READ} (block policy). */
export const RING_PRODUCER_PARKED = 5 * WORDS_PER_LINE;
/** Slots taken by the consumer (uint32, wraps). Consumer-written. */
export const RING_POPPED = 6 * WORDS_PER_LINE;
/** Consumer copies discarded because drop-oldest overtook them. Same line: consumer-written. */
export const RING_OVERTAKEN = 6 * WORDS_PER_LINE + 1;
/** Magic number marking an initialised ring buffer. Read-only after creation. */
export const RING_MAGIC = 7 * WORDS_PER_LINE;
/** Layout version. Read-only after creation. */
export const RING_VERSION = 7 * WORDS_PER_LINE + 1;
/** Number of slots (a power of two). Read-only after creation. */
export const RING_CAPACITY = 7 * WORDS_PER_LINE + 2;
/** Bytes per slot (a multiple of 8). Read-only after creation. */
export const RING_SLOT_BYTES = 7 * WORDS_PER_LINE + 3;
/** Overflow policy code ({@link RING_POLICY_CODES}). Read-only after creation. */
export const RING_POLICY = 7 * WORDS_PER_LINE + 4;
/** 1 once the producer has closed the ring (no more pushes). */
export const RING_CLOSED = 8 * WORDS_PER_LINE;

/** Number of 64-byte header lines. */
export const RING_HEADER_LINES = 9;
/** Header size in bytes; the first slot starts here (8-byte aligned). */
export const RING_HEADER_BYTES = RING_HEADER_LINES * RING_CACHE_LINE_BYTES;

/** Value of {@link RING_MAGIC} in an initialised ring ("RING"). */
export const RING_MAGIC_VALUE = 0x52494e47;
/** Current layout version. */
export const RING_LAYOUT_VERSION = 1;

/** What the producer does when the ring is full. */
export type RingPolicy = "drop-oldest" | "drop-newest" | "block";

/** Policy codes stored in {@link RING_POLICY}, indexed by code. */
export const RING_POLICY_CODES: readonly RingPolicy[] = ["drop-oldest", "drop-newest", "block"];

/** Largest capacity a ring accepts (2^24 slots). */
export const RING_MAX_CAPACITY = 1 << 24;

/**
 * Total buffer size in bytes for a ring of `capacity` slots of `slotBytes` each.
 *
 * @example
 * ```ts
 * import { ringBufferBytes } from "./ring_layout.ts";
 * ringBufferBytes(4, 8); // 608: a 576-byte header, then 4 slots of 8 bytes
 * ```
 */
export function ringBufferBytes(capacity: number, slotBytes: number): number {
  return RING_HEADER_BYTES + capacity * slotBytes;
}
