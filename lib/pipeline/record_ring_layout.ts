/**
 * Binary layout of the record ring's SharedArrayBuffer (lib/pipeline/record_ring.ts):
 * a byte ring of variable-length records, one producer (the ingest worker) and
 * one consumer (the recorder worker).
 *
 * The buffer starts with a header of {@link RECORD_RING_HEADER_LINES} 64-byte
 * cache lines; words written by the producer and by the consumer live on
 * different lines. The data area of `capacity` bytes (a power of two) follows.
 * Positions are free-running uint32 byte counts; a position's place in the
 * data area is `position & (capacity - 1)`.
 *
 * A record is a {@link RECORD_HEADER_BYTES}-byte header, then its text (UTF-8),
 * padded to a multiple of 8 bytes:
 *
 * | byte | field |
 * | ---- | ----- |
 * | 0    | int32 text length in bytes |
 * | 4    | int32 kind ({@link RECORD_KIND_TEXT} or {@link RECORD_KIND_PAD}) |
 * | 8    | float64 receive time, µs since the epoch |
 *
 * A pad record (only its first 8 bytes are written) fills the end of the data
 * area when the next record does not fit there; the reader skips to the start.
 *
 * Offsets below are indexes into an `Int32Array` over the whole buffer. This
 * module is the only place that knows them.
 *
 * @example
 * ```ts
 * import { RECORD_RING_WRITE, recordRingBufferBytes } from "./record_ring_layout.ts";
 * const i32 = new Int32Array(new SharedArrayBuffer(recordRingBufferBytes(1 << 16)));
 * Atomics.load(i32, RECORD_RING_WRITE); // 0
 * ```
 * @module
 */

const WORDS_PER_LINE = 16;

/** Bytes written so far (free-running uint32 position). Producer-written. */
export const RECORD_RING_WRITE = 0 * WORDS_PER_LINE;
/** Records committed (uint32, wraps). Producer-written, same line as the write position. */
export const RECORD_RING_RECORDS = 0 * WORDS_PER_LINE + 1;
/** Text bytes committed (uint32, wraps). Producer-written. */
export const RECORD_RING_TEXT_BYTES = 0 * WORDS_PER_LINE + 2;
/** Records dropped because the ring was full (uint32, wraps). Producer-written. */
export const RECORD_RING_DROPPED = 0 * WORDS_PER_LINE + 3;
/** Most bytes ever in use after a commit. Producer-written. */
export const RECORD_RING_HIGH_WATER = 0 * WORDS_PER_LINE + 4;
/** Bytes consumed so far (free-running uint32 position). Consumer-written. */
export const RECORD_RING_READ = 1 * WORDS_PER_LINE;
/** Records taken (uint32, wraps). Consumer-written. */
export const RECORD_RING_TAKEN = 1 * WORDS_PER_LINE + 1;
/** 1 while the consumer waits on {@link RECORD_RING_WRITE}. Consumer-written. */
export const RECORD_RING_PARKED = 2 * WORDS_PER_LINE;
/** 1 once the ring is closed (no more records). */
export const RECORD_RING_CLOSED = 3 * WORDS_PER_LINE;
/** Magic number of an initialised ring. Read-only after creation. */
export const RECORD_RING_MAGIC = 4 * WORDS_PER_LINE;
/** Layout version. Read-only after creation. */
export const RECORD_RING_VERSION = 4 * WORDS_PER_LINE + 1;
/** Data area bytes (a power of two). Read-only after creation. */
export const RECORD_RING_CAPACITY = 4 * WORDS_PER_LINE + 2;

/** Number of 64-byte header lines. */
export const RECORD_RING_HEADER_LINES = 5;
/** Header bytes; the data area starts here (8-byte aligned). */
export const RECORD_RING_HEADER_BYTES = RECORD_RING_HEADER_LINES * 64;

/** Value of {@link RECORD_RING_MAGIC} ("RREC"). */
export const RECORD_RING_MAGIC_VALUE = 0x52524543;
/** Current layout version. */
export const RECORD_RING_LAYOUT_VERSION = 1;

/** Bytes of a record's header. */
export const RECORD_HEADER_BYTES = 16;
/** Int32 word of a record header: text length in bytes. */
export const RECORD_LENGTH_WORD = 0;
/** Int32 word of a record header: kind. */
export const RECORD_KIND_WORD = 1;
/** Float64 word of a record header: receive time in µs. */
export const RECORD_TIME_F64 = 1;
/** Kind of a record holding text. */
export const RECORD_KIND_TEXT = 1;
/** Kind of a pad record: skip to the start of the data area. */
export const RECORD_KIND_PAD = 2;

/** Smallest data area: 4 KiB. */
export const RECORD_RING_MIN_CAPACITY = 1 << 12;
/** Largest data area: 1 GiB (positions are uint32). */
export const RECORD_RING_MAX_CAPACITY = 1 << 30;

/**
 * Bytes a record of `textBytes` takes in the data area: header plus text, padded to 8.
 *
 * @example
 * ```ts
 * import { recordBytes } from "./record_ring_layout.ts";
 * recordBytes(5); // 24
 * ```
 */
export function recordBytes(textBytes: number): number {
  return RECORD_HEADER_BYTES + ((textBytes + 7) & ~7);
}

/**
 * Total buffer size for a data area of `capacity` bytes.
 *
 * @example
 * ```ts
 * import { recordRingBufferBytes } from "./record_ring_layout.ts";
 * recordRingBufferBytes(4096); // 4416: a 320-byte header, then 4096 bytes
 * ```
 */
export function recordRingBufferBytes(capacity: number): number {
  return RECORD_RING_HEADER_BYTES + capacity;
}
