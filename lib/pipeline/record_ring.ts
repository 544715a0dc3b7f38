/**
 * A single-producer single-consumer byte ring of variable-length text records
 * in a SharedArrayBuffer (layout: lib/pipeline/record_ring_layout.ts): the
 * ingest worker pushes every message it records with its receive time, the
 * recorder worker takes them out in place and writes them to disk.
 *
 * - **The producer never waits.** A record that does not fit in the free bytes
 *   is dropped and counted ({@link RecordRingStats.dropped}); the text goes
 *   into the shared bytes with `TextEncoder.encodeInto` (which writes into a
 *   SharedArrayBuffer-backed array in Deno 2.9.6), never through a JS copy.
 *   Per push it allocates only what `encodeInto` needs: a view of the free
 *   bytes and its `{ read, written }` result.
 * - **The producer wakes a parked consumer only when a quarter of the ring is
 *   used** ({@link RecordRing.push}); below that the consumer polls (its
 *   {@link RecordRing.wait} timeout). A wake per message (a futex syscall) cost
 *   the ingest thread several µs per frame, measured at 10,000 frames/s.
 * - **The consumer reads in place**: {@link RecordRing.next} positions on a
 *   record and exposes its time and where its text lies in
 *   {@link RecordRing.bytes}, without allocating; the record's bytes stay the
 *   consumer's until the next call of `next` (or {@link RecordRing.release}).
 * - A record that does not fit in the bytes left before the end of the data
 *   area goes to its start; a pad record fills the end.
 * - Counters (records, text bytes, dropped, high water, taken) are uint32 words
 *   with one writer each, readable from any thread ({@link RecordRing.stats}).
 *
 * @example
 * ```ts
 * import { RecordRing } from "./record_ring.ts";
 * const ring = RecordRing.create({ capacity: 1 << 16 });
 * ring.push('{"e":"depthUpdate"}', 1_796_212_800_000_000); // true (producer)
 * const reader = RecordRing.attach(ring.buffer); // consumer, e.g. in a worker
 * while (reader.next()) {
 *   const text = reader.bytes.subarray(reader.textStart, reader.textStart + reader.textLength);
 *   reader.timeUs; // 1796212800000000
 * }
 * ```
 * @module
 */
import {
  RECORD_HEADER_BYTES,
  RECORD_KIND_PAD,
  RECORD_KIND_TEXT,
  RECORD_KIND_WORD,
  RECORD_LENGTH_WORD,
  RECORD_RING_CAPACITY,
  RECORD_RING_CLOSED,
  RECORD_RING_DROPPED,
  RECORD_RING_HEADER_BYTES,
  RECORD_RING_HIGH_WATER,
  RECORD_RING_LAYOUT_VERSION,
  RECORD_RING_MAGIC,
  RECORD_RING_MAGIC_VALUE,
  RECORD_RING_MAX_CAPACITY,
  RECORD_RING_MIN_CAPACITY,
  RECORD_RING_PARKED,
  RECORD_RING_READ,
  RECORD_RING_RECORDS,
  RECORD_RING_TAKEN,
  RECORD_RING_TEXT_BYTES,
  RECORD_RING_VERSION,
  RECORD_RING_WRITE,
  RECORD_TIME_F64,
  recordBytes,
  recordRingBufferBytes,
} from "./record_ring_layout.ts";
import { waitAsyncAlive } from "./wait_async.ts";

/** Default data area: 8 MiB (≈ 15,000 frames of 537 B; ≈ 0.75 s at 20,000 frames/s). */
export const DEFAULT_RECORD_RING_BYTES = 8 << 20;

/** Options of {@link RecordRing.create}. */
export interface RecordRingOptions {
  /** Data area bytes, a power of two from 4 KiB to 1 GiB. Default {@link DEFAULT_RECORD_RING_BYTES}. */
  capacity?: number;
}

/** A snapshot of a ring's counters ({@link RecordRing.stats}); uint32 counters wrap. */
export interface RecordRingStats {
  /** Data area bytes. */
  capacity: number;
  /** Bytes in use now (headers and padding included). */
  used: number;
  /** Most bytes ever in use after a push. */
  highWater: number;
  /** Records pushed. */
  records: number;
  /** Text bytes pushed. */
  textBytes: number;
  /** Records dropped because they did not fit. */
  dropped: number;
  /** Records taken by the consumer. */
  taken: number;
  /** Whether the ring is closed. */
  closed: boolean;
}

const encoder = new TextEncoder();

/**
 * The ingest's `tap` over a record ring: pushes each record with its receive
 * time (epoch ms holding whole µs, as the ingest keeps them) in µs. A full
 * ring drops and counts the record; the tap never waits.
 *
 * @example
 * ```ts
 * import { RecordRing, recordTap } from "./record_ring.ts";
 * const ring = RecordRing.create();
 * const tap = recordTap(ring);
 * tap('{"e":"depthUpdate"}', 1_796_212_800_123.456);
 * ring.next(); // true
 * ring.timeUs; // 1796212800123456
 * ```
 */
export function recordTap(ring: RecordRing): (text: string, receivedAtMs: number) => void {
  return (text, receivedAtMs) => void ring.push(text, Math.round(receivedAtMs * 1000));
}

/**
 * The ring: one producer and one consumer, each through its own
 * {@link RecordRing} object (see the module documentation).
 *
 * @example
 * ```ts
 * import { RecordRing } from "./record_ring.ts";
 * const ring = RecordRing.create({ capacity: 4096 });
 * ring.push("x".repeat(5000), 0); // false: larger than the ring, dropped
 * ring.stats().dropped; // 1
 * ```
 */
export class RecordRing {
  /** The shared buffer; post it to the other thread and {@link RecordRing.attach} it there. */
  readonly buffer: SharedArrayBuffer;
  /** Data area bytes. */
  readonly capacity: number;
  /** The whole buffer as bytes; a record's text is at `textStart`, `textLength` bytes. */
  readonly bytes: Uint8Array;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #mask: number;
  readonly #wakeAt: number;
  // Producer state.
  #write: number;
  // Consumer state: the read position and the end of the record handed out.
  #read: number;
  #next: number;
  #timeUs = NaN;
  #textStart = 0;
  #textLength = 0;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer);
    this.#f64 = new Float64Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.capacity = Atomics.load(this.#i32, RECORD_RING_CAPACITY);
    this.#mask = this.capacity - 1;
    this.#wakeAt = this.capacity >>> 2;
    this.#write = Atomics.load(this.#i32, RECORD_RING_WRITE) >>> 0;
    this.#read = Atomics.load(this.#i32, RECORD_RING_READ) >>> 0;
    this.#next = this.#read;
  }

  /**
   * A new, empty ring.
   *
   * @throws RangeError when the capacity is not a power of two from 4 KiB to 1 GiB.
   */
  static create(options: RecordRingOptions = {}): RecordRing {
    const capacity = options.capacity ?? DEFAULT_RECORD_RING_BYTES;
    if (
      !Number.isInteger(capacity) || capacity < RECORD_RING_MIN_CAPACITY ||
      capacity > RECORD_RING_MAX_CAPACITY || (capacity & (capacity - 1)) !== 0
    ) {
      throw new RangeError(
        `record ring capacity must be a power of two from ${RECORD_RING_MIN_CAPACITY} to ` +
          `${RECORD_RING_MAX_CAPACITY} bytes, got ${capacity}`,
      );
    }
    const buffer = new SharedArrayBuffer(recordRingBufferBytes(capacity));
    const i32 = new Int32Array(buffer);
    Atomics.store(i32, RECORD_RING_CAPACITY, capacity);
    Atomics.store(i32, RECORD_RING_VERSION, RECORD_RING_LAYOUT_VERSION);
    Atomics.store(i32, RECORD_RING_MAGIC, RECORD_RING_MAGIC_VALUE);
    return new RecordRing(buffer);
  }

  /**
   * Attach to a ring created elsewhere (the producer's or consumer's side).
   *
   * @throws TypeError when `buffer` is not an initialised record ring.
   */
  static attach(buffer: SharedArrayBuffer): RecordRing {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < RECORD_RING_HEADER_BYTES) {
      throw new TypeError("RecordRing.attach expects a record ring's SharedArrayBuffer");
    }
    const i32 = new Int32Array(buffer, 0, RECORD_RING_HEADER_BYTES / 4);
    if (
      Atomics.load(i32, RECORD_RING_MAGIC) !== RECORD_RING_MAGIC_VALUE ||
      Atomics.load(i32, RECORD_RING_VERSION) !== RECORD_RING_LAYOUT_VERSION ||
      recordRingBufferBytes(Atomics.load(i32, RECORD_RING_CAPACITY)) !== buffer.byteLength
    ) {
      throw new TypeError(
        `RecordRing.attach: not a record ring of layout version ${RECORD_RING_LAYOUT_VERSION}`,
      );
    }
    return new RecordRing(buffer);
  }

  // ---------------------------------------------------------------- producer

  /**
   * Producer: append `text` with its receive time (µs since the epoch). Never
   * waits; returns false (and counts a drop) when the record does not fit.
   */
  push(text: string, timeUs: number): boolean {
    const i32 = this.#i32;
    const cap = this.capacity;
    const w = this.#write;
    const free = cap - ((w - (Atomics.load(i32, RECORD_RING_READ) >>> 0)) >>> 0);
    const off = w & this.#mask;
    const tail = cap - off;
    const min = RECORD_HEADER_BYTES + text.length; // UTF-8 takes at least a byte per unit
    let at = -1;
    let written = 0;
    if (tail >= min && free >= min) {
      written = this.#encode(text, off, Math.min(tail, free));
      if (written >= 0) at = off;
    }
    if (at < 0 && free - tail >= min) {
      written = this.#encode(text, 0, free - tail);
      if (written >= 0) {
        // Pad the end; the record goes to the start.
        i32[(RECORD_RING_HEADER_BYTES + off) / 4 + RECORD_KIND_WORD] = RECORD_KIND_PAD;
        at = 0;
      }
    }
    if (at < 0) {
      Atomics.add(i32, RECORD_RING_DROPPED, 1);
      return false;
    }
    const word = (RECORD_RING_HEADER_BYTES + at) / 4;
    i32[word + RECORD_LENGTH_WORD] = written;
    i32[word + RECORD_KIND_WORD] = RECORD_KIND_TEXT;
    this.#f64[word / 2 + RECORD_TIME_F64] = timeUs;
    const end = (w + (at === 0 && off !== 0 ? tail : 0) + recordBytes(written)) >>> 0;
    this.#write = end;
    // The producer's own counters: plain writes, published by the store of the write
    // position below (a locked add each cost more than the rest of the bookkeeping).
    i32[RECORD_RING_RECORDS] = i32[RECORD_RING_RECORDS] + 1;
    i32[RECORD_RING_TEXT_BYTES] = i32[RECORD_RING_TEXT_BYTES] + written;
    const used = cap - free + ((end - w) >>> 0);
    if (used > i32[RECORD_RING_HIGH_WATER]) i32[RECORD_RING_HIGH_WATER] = used;
    Atomics.store(i32, RECORD_RING_WRITE, end | 0);
    // Wake a parked consumer only once a quarter of the ring is used: a wake (a futex
    // syscall) per message cost the ingest thread more than the push itself.
    if (used >= this.#wakeAt && Atomics.load(i32, RECORD_RING_PARKED) !== 0) {
      Atomics.notify(i32, RECORD_RING_WRITE);
    }
    return true;
  }

  /** Encodes `text` after a header at data offset `at` within `room` bytes; -1 when it does not fit. */
  #encode(text: string, at: number, room: number): number {
    const start = RECORD_RING_HEADER_BYTES + at + RECORD_HEADER_BYTES;
    const r = encoder.encodeInto(
      text,
      this.bytes.subarray(start, start + room - RECORD_HEADER_BYTES),
    );
    return r.read === text.length ? r.written : -1;
  }

  /** Close the ring: the consumer takes what is left and then sees {@link RecordRing.closed}. */
  close(): void {
    Atomics.store(this.#i32, RECORD_RING_CLOSED, 1);
    Atomics.notify(this.#i32, RECORD_RING_WRITE);
  }

  /** Whether the ring was closed. */
  get closed(): boolean {
    return Atomics.load(this.#i32, RECORD_RING_CLOSED) !== 0;
  }

  // ---------------------------------------------------------------- consumer

  /**
   * Consumer: hand the previous record's bytes back to the producer and
   * position on the next record; false when there is none (yet).
   */
  next(): boolean {
    const i32 = this.#i32;
    if (this.#next !== this.#read) this.release();
    const w = Atomics.load(i32, RECORD_RING_WRITE) >>> 0;
    let r = this.#read;
    while (r !== w) {
      const off = r & this.#mask;
      const word = (RECORD_RING_HEADER_BYTES + off) / 4;
      if (i32[word + RECORD_KIND_WORD] === RECORD_KIND_PAD) {
        r = (r + this.capacity - off) >>> 0;
        continue;
      }
      const length = i32[word + RECORD_LENGTH_WORD];
      this.#timeUs = this.#f64[word / 2 + RECORD_TIME_F64];
      this.#textStart = RECORD_RING_HEADER_BYTES + off + RECORD_HEADER_BYTES;
      this.#textLength = length;
      this.#read = r;
      this.#next = (r + recordBytes(length)) >>> 0;
      return true;
    }
    if (r !== this.#read) {
      this.#read = this.#next = r;
      Atomics.store(i32, RECORD_RING_READ, r | 0);
    }
    return false;
  }

  /** Consumer: hand the current record's bytes back (done by the next {@link RecordRing.next} too). */
  release(): void {
    if (this.#next === this.#read) return;
    this.#read = this.#next;
    Atomics.store(this.#i32, RECORD_RING_READ, this.#read | 0);
    Atomics.add(this.#i32, RECORD_RING_TAKEN, 1);
  }

  /** Receive time (µs) of the current record. */
  get timeUs(): number {
    return this.#timeUs;
  }
  /** Index in {@link RecordRing.bytes} of the current record's text. */
  get textStart(): number {
    return this.#textStart;
  }
  /** Bytes of the current record's text. */
  get textLength(): number {
    return this.#textLength;
  }

  /**
   * Consumer: wait without blocking the event loop until a quarter of the ring
   * is used, the ring is closed, or `timeoutMs` passes (`Atomics.waitAsync`);
   * records may be there before that (the producer does not wake the consumer
   * for each one): poll with a timeout that suits the ring's size.
   */
  async wait(timeoutMs: number): Promise<void> {
    const i32 = this.#i32;
    const w = Atomics.load(i32, RECORD_RING_WRITE);
    if ((w >>> 0) !== this.#read || this.closed) return;
    Atomics.store(i32, RECORD_RING_PARKED, 1);
    // Re-checked by waitAsync itself: it returns at once when the write position moved.
    await waitAsyncAlive(i32, RECORD_RING_WRITE, w, timeoutMs);
    Atomics.store(i32, RECORD_RING_PARKED, 0);
  }

  // ---------------------------------------------------------------- counters

  /**
   * Every counter, read with atomic loads; safe from any thread.
   *
   * @example
   * ```ts
   * import { RecordRing } from "./record_ring.ts";
   * const ring = RecordRing.create({ capacity: 4096 });
   * ring.push("abc", 1);
   * ring.stats().used; // 24: a 16-byte header and 3 bytes padded to 8
   * ```
   */
  stats(): RecordRingStats {
    const i32 = this.#i32;
    const w = Atomics.load(i32, RECORD_RING_WRITE) >>> 0;
    const r = Atomics.load(i32, RECORD_RING_READ) >>> 0;
    return {
      capacity: this.capacity,
      used: (w - r) >>> 0,
      highWater: Atomics.load(i32, RECORD_RING_HIGH_WATER) >>> 0,
      records: Atomics.load(i32, RECORD_RING_RECORDS) >>> 0,
      textBytes: Atomics.load(i32, RECORD_RING_TEXT_BYTES) >>> 0,
      dropped: Atomics.load(i32, RECORD_RING_DROPPED) >>> 0,
      taken: Atomics.load(i32, RECORD_RING_TAKEN) >>> 0,
      closed: this.closed,
    };
  }
}
