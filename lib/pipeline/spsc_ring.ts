/**
 * Single-producer single-consumer ring queue of fixed-size slots in a
 * SharedArrayBuffer, for moving frames between workers without copies through
 * the structured-clone path.
 *
 * - Capacity is a power of two; the read and write indexes are free-running
 *   uint32 counters, so `depth = (write - read) >>> 0` stays right across the
 *   2^32 wrap.
 * - The producer fills a slot in place (`reserve` → write into `f64`/`u8` →
 *   `commit`). The consumer copies slots out (`pop`, `popBatch`) or reads one in
 *   place (`peek` → read → `commitRead`).
 * - Overflow policy per ring:
 *   - `drop-oldest`: a full ring makes the producer advance the read index with
 *     `Atomics.compareExchange(read, r, r + 1)` and count a drop. The consumer
 *     commits with a compare-exchange too; if that fails the producer overtook
 *     it, and its copy (which may be torn) is discarded and counted as
 *     `overtaken`. This is the only correct drop-oldest for SPSC: a producer
 *     plainly storing the read index would race the consumer.
 *   - `drop-newest`: `reserve` returns -1 and the refused frame is counted as
 *     dropped.
 *   - `block`: `reserve` waits (spin, then `Atomics.wait`) until a slot frees
 *     or the timeout passes, then behaves like `drop-newest`.
 * - Waiting: a bounded spin, then the waiter sets its parked flag and sleeps in
 *   `Atomics.wait` (workers) or `Atomics.waitAsync` (main thread). The other
 *   side calls `Atomics.notify` only when the flag is set, because notify takes
 *   a process-wide lock in V8.
 * - Counters (`stats()`) are plain atomic loads, readable from any thread.
 *
 * A ring is shared by posting its {@link SpscRing.buffer} to another worker and
 * calling {@link SpscRing.attach} there. Exactly one thread may produce and one
 * may consume.
 *
 * @example
 * ```ts
 * import { SpscRing } from "./spsc_ring.ts";
 * const ring = SpscRing.create({ capacity: 1024, slotBytes: 16 });
 * const at = ring.reserve();
 * ring.f64[at] = 1.5;
 * ring.f64[at + 1] = 2.5;
 * ring.commit();
 * const out = new Float64Array(2);
 * ring.pop(out); // true; out is [1.5, 2.5]
 * ```
 * @module
 */

import {
  RING_CAPACITY,
  RING_CLOSED,
  RING_CONSUMER_PARKED,
  RING_DROPPED,
  RING_HEADER_BYTES,
  RING_HIGH_WATER,
  RING_LAYOUT_VERSION,
  RING_MAGIC,
  RING_MAGIC_VALUE,
  RING_MAX_CAPACITY,
  RING_OVERTAKEN,
  RING_POLICY,
  RING_POLICY_CODES,
  RING_POPPED,
  RING_PRODUCER_PARKED,
  RING_READ,
  RING_SLOT_BYTES,
  RING_VERSION,
  RING_WRITE,
  ringBufferBytes,
  type RingPolicy,
} from "./ring_layout.ts";
import { waitAsyncAlive } from "./wait_async.ts";

/** Options of {@link SpscRing.create}. */
export interface RingOptions {
  /** Number of slots, a power of two from 2 to 2^24. Default 2048. */
  capacity?: number;
  /** Bytes per slot, a positive multiple of 8. Required. */
  slotBytes: number;
  /** What a full ring does to a new frame. Default `"drop-oldest"`. */
  policy?: RingPolicy;
}

/** A snapshot of a ring's counters. The uint32 counters wrap at 2^32. */
export interface RingStats {
  /** Slots in the ring. */
  capacity: number;
  /** Slots committed and not yet taken or dropped. */
  depth: number;
  /** Highest depth seen after a commit. */
  highWater: number;
  /** Slots committed by the producer (uint32, wraps). */
  pushed: number;
  /** Slots taken by the consumer (uint32, wraps). */
  popped: number;
  /** Frames lost to the overflow policy (uint32, wraps). */
  dropped: number;
  /** Consumer copies discarded because the producer overtook them (already counted in `dropped`). */
  overtaken: number;
}

const SPIN_LIMIT = 64;
const pause: (n?: number) => void = (Atomics as unknown as { pause?: (n?: number) => void })
  .pause ?? (() => {});

/** Wraparound-safe "a comes after b" for free-running uint32 indexes. */
function uint32Diff(a: number, b: number): number {
  return (a - b) >>> 0;
}

/**
 * A single-producer single-consumer ring over a SharedArrayBuffer.
 *
 * @example
 * ```ts
 * import { SpscRing } from "./spsc_ring.ts";
 * const ring = SpscRing.create({ capacity: 8, slotBytes: 8, policy: "drop-newest" });
 * const other = SpscRing.attach(ring.buffer); // e.g. inside a worker
 * other.capacity; // 8
 * ```
 */
export class SpscRing {
  /** The shared buffer; post it to another thread and {@link SpscRing.attach} it there. */
  readonly buffer: SharedArrayBuffer;
  /** Number of slots. */
  readonly capacity: number;
  /** Bytes per slot. */
  readonly slotBytes: number;
  /** Float64 words per slot. */
  readonly slotWords: number;
  /** Overflow policy. */
  readonly policy: RingPolicy;
  /** Float64 view over the slot region; slot `i` starts at word `i * slotWords`. */
  readonly f64: Float64Array;
  /** Byte view over the slot region; slot `i` starts at byte `i * slotBytes`. */
  readonly u8: Uint8Array;
  readonly #header: Int32Array;
  readonly #mask: number;
  readonly #policyCode: number;
  readonly #slotViews: Float64Array[];
  /** Producer side: write index of the reserved slot, or -1 when none is reserved. */
  #reserved = -1;

  private constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#header = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    if (Atomics.load(this.#header, RING_MAGIC) !== RING_MAGIC_VALUE) {
      throw new TypeError(
        "buffer is not an initialised ring (bad magic); expected a buffer from SpscRing.create",
      );
    }
    const version = Atomics.load(this.#header, RING_VERSION);
    if (version !== RING_LAYOUT_VERSION) {
      throw new TypeError(`ring layout version ${version}, expected ${RING_LAYOUT_VERSION}`);
    }
    this.capacity = Atomics.load(this.#header, RING_CAPACITY);
    this.slotBytes = Atomics.load(this.#header, RING_SLOT_BYTES);
    this.slotWords = this.slotBytes / 8;
    this.#policyCode = Atomics.load(this.#header, RING_POLICY);
    this.policy = RING_POLICY_CODES[this.#policyCode];
    this.#mask = this.capacity - 1;
    this.f64 = new Float64Array(buffer, RING_HEADER_BYTES, this.capacity * this.slotWords);
    this.u8 = new Uint8Array(buffer, RING_HEADER_BYTES, this.capacity * this.slotBytes);
    this.#slotViews = new Array(this.capacity);
    for (let i = 0; i < this.capacity; i++) {
      this.#slotViews[i] = this.f64.subarray(i * this.slotWords, (i + 1) * this.slotWords);
    }
  }

  /**
   * Allocate a new ring.
   *
   * @throws RangeError when the capacity is not a power of two in range, or
   *   `slotBytes` is not a positive multiple of 8, or the policy is unknown.
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const raw = SpscRing.create({ capacity: 2048, slotBytes: 704 });
   * ```
   */
  static create(options: RingOptions): SpscRing {
    const capacity = options.capacity ?? 2048;
    const { slotBytes } = options;
    const policy = options.policy ?? "drop-oldest";
    if (
      !Number.isInteger(capacity) || capacity < 2 || capacity > RING_MAX_CAPACITY ||
      (capacity & (capacity - 1)) !== 0
    ) {
      throw new RangeError(
        `ring capacity must be a power of two from 2 to ${RING_MAX_CAPACITY}, got ${capacity}`,
      );
    }
    if (!Number.isInteger(slotBytes) || slotBytes <= 0 || slotBytes % 8 !== 0) {
      throw new RangeError(`ring slotBytes must be a positive multiple of 8, got ${slotBytes}`);
    }
    const policyCode = RING_POLICY_CODES.indexOf(policy);
    if (policyCode < 0) {
      throw new RangeError(
        `ring policy must be one of ${RING_POLICY_CODES.join(", ")}, got ${String(policy)}`,
      );
    }
    const buffer = new SharedArrayBuffer(ringBufferBytes(capacity, slotBytes));
    const header = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    header[RING_CAPACITY] = capacity;
    header[RING_SLOT_BYTES] = slotBytes;
    header[RING_POLICY] = policyCode;
    header[RING_VERSION] = RING_LAYOUT_VERSION;
    Atomics.store(header, RING_MAGIC, RING_MAGIC_VALUE);
    return new SpscRing(buffer);
  }

  /**
   * Create a ring for testing with its indexes preset to `start` (to cross the
   * 2^32 wrap quickly). Otherwise identical to {@link SpscRing.create}.
   *
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const ring = SpscRing.createAt({ capacity: 4, slotBytes: 8 }, 0xffff_fffe);
   * ```
   */
  static createAt(options: RingOptions, start: number): SpscRing {
    const ring = SpscRing.create(options);
    Atomics.store(ring.#header, RING_WRITE, start | 0);
    Atomics.store(ring.#header, RING_READ, start | 0);
    return ring;
  }

  /**
   * Attach to a ring created elsewhere (typically in another worker).
   *
   * @throws TypeError when the buffer does not hold an initialised ring.
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * self.onmessage = (e) => { const ring = SpscRing.attach(e.data.raw); };
   * ```
   */
  static attach(buffer: SharedArrayBuffer): SpscRing {
    if (!(buffer instanceof SharedArrayBuffer)) {
      throw new TypeError("SpscRing.attach expects a SharedArrayBuffer");
    }
    return new SpscRing(buffer);
  }

  // ---------------------------------------------------------------- producer

  /**
   * Reserve the next slot for writing and return its first word in
   * {@link SpscRing.f64} (multiply by 8 for {@link SpscRing.u8}), or -1 when
   * the frame is refused (`drop-newest` when full, `block` after the timeout,
   * or a closed ring). Under `drop-oldest` it always succeeds, dropping the
   * oldest frame when full. Call {@link SpscRing.commit} after filling. A
   * reserved slot that was not committed (the frame turned out invalid) is
   * returned again by the next call, without dropping anything more.
   *
   * @param timeoutMs `block` policy only: how long to wait for space. Default 1000.
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const ring = SpscRing.create({ capacity: 8, slotBytes: 8, policy: "drop-newest" });
   * const at = ring.reserve();
   * if (at >= 0) {
   *   ring.f64[at] = 42;
   *   ring.commit();
   * }
   * ```
   */
  reserve(timeoutMs = 1000): number {
    // A slot still held (e.g. the last frame was rejected after parsing into
    // it) is handed out again: it already cost its drop, if any.
    if (this.#reserved >= 0) return (this.#reserved & this.#mask) * this.slotWords;
    const h = this.#header;
    const w = Atomics.load(h, RING_WRITE) >>> 0;
    for (;;) {
      const r = Atomics.load(h, RING_READ) >>> 0;
      if (uint32Diff(w, r) < this.capacity) break;
      if (this.#policyCode === 0) {
        // drop-oldest: take the oldest slot from the consumer, unless it just took it.
        if (Atomics.compareExchange(h, RING_READ, r | 0, (r + 1) | 0) === (r | 0)) {
          Atomics.add(h, RING_DROPPED, 1);
          break;
        }
      } else if (this.#policyCode === 1 || !this.#waitForSpace(r, timeoutMs)) {
        Atomics.add(h, RING_DROPPED, 1);
        return -1;
      }
    }
    this.#reserved = w;
    return (w & this.#mask) * this.slotWords;
  }

  /**
   * Publish the slot returned by the last {@link SpscRing.reserve}, waking a
   * parked consumer — unless `wake` is false: a producer that commits a batch
   * passes false and calls {@link SpscRing.wake} once after it, because
   * `Atomics.notify` takes a process-wide lock and a consumer woken by the
   * first commit is still parked (to the producer) for the next few.
   *
   * @throws Error when no slot is reserved.
   */
  commit(wake = true): void {
    const w = this.#reserved;
    if (w < 0) throw new Error("SpscRing.commit called without a reserved slot");
    this.#reserved = -1;
    const h = this.#header;
    const next = (w + 1) >>> 0;
    Atomics.store(h, RING_WRITE, next | 0);
    const depth = uint32Diff(next, Atomics.load(h, RING_READ) >>> 0);
    if (depth > Atomics.load(h, RING_HIGH_WATER)) Atomics.store(h, RING_HIGH_WATER, depth);
    if (wake && Atomics.load(h, RING_CONSUMER_PARKED) !== 0) Atomics.notify(h, RING_WRITE);
  }

  /**
   * Wake a parked consumer (after commits made with `commit(false)`).
   *
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const ring = SpscRing.create({ capacity: 8, slotBytes: 8 });
   * for (let i = 0; i < 3; i++) {
   *   ring.f64[ring.reserve()] = i;
   *   ring.commit(false);
   * }
   * ring.wake();
   * ```
   */
  wake(): void {
    const h = this.#header;
    if (Atomics.load(h, RING_CONSUMER_PARKED) !== 0) Atomics.notify(h, RING_WRITE);
  }

  /**
   * Copy `src` (exactly one slot of float64 words starting at `srcBase`) into
   * the ring. Returns false when the frame was refused (see `reserve`).
   *
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const ring = SpscRing.create({ capacity: 8, slotBytes: 16 });
   * ring.push(Float64Array.of(1, 2)); // true
   * ```
   */
  push(src: Float64Array, srcBase = 0, timeoutMs = 1000): boolean {
    const at = this.reserve(timeoutMs);
    if (at < 0) return false;
    this.f64.set(
      srcBase === 0 && src.length === this.slotWords
        ? src
        : src.subarray(srcBase, srcBase + this.slotWords),
      at,
    );
    this.commit();
    return true;
  }

  /**
   * Mark the ring closed: consumers waiting are woken and see
   * {@link SpscRing.closed}; further `reserve` calls are still allowed.
   */
  close(): void {
    Atomics.store(this.#header, RING_CLOSED, 1);
    Atomics.notify(this.#header, RING_WRITE);
  }

  /** True once {@link SpscRing.close} was called. */
  get closed(): boolean {
    return Atomics.load(this.#header, RING_CLOSED) !== 0;
  }

  #waitForSpace(r: number, timeoutMs: number): boolean {
    const h = this.#header;
    const deadline = performance.now() + timeoutMs;
    let spins = 0;
    for (;;) {
      const w = Atomics.load(h, RING_WRITE) >>> 0;
      const now = Atomics.load(h, RING_READ) >>> 0;
      if (uint32Diff(w, now) < this.capacity) return true;
      if (spins < SPIN_LIMIT) {
        spins++;
        pause(spins);
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.store(h, RING_PRODUCER_PARKED, 1);
      // Re-check after parking: the consumer notifies only when it sees the flag.
      if (uint32Diff(w, Atomics.load(h, RING_READ) >>> 0) < this.capacity) {
        Atomics.store(h, RING_PRODUCER_PARKED, 0);
        return true;
      }
      Atomics.wait(h, RING_READ, r | 0, left);
      Atomics.store(h, RING_PRODUCER_PARKED, 0);
      r = Atomics.load(h, RING_READ) >>> 0;
    }
  }

  // ---------------------------------------------------------------- consumer

  /** Number of committed slots waiting to be read. */
  available(): number {
    const h = this.#header;
    const w = Atomics.load(h, RING_WRITE) >>> 0;
    const r = Atomics.load(h, RING_READ) >>> 0;
    return Math.min(uint32Diff(w, r), this.capacity);
  }

  /**
   * First word (in {@link SpscRing.f64}) of the oldest committed slot, or -1
   * when the ring is empty. Read it in place, then call
   * {@link SpscRing.commitRead}; under `drop-oldest` what was read is valid
   * only if `commitRead` returns true.
   *
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const ring = SpscRing.create({ capacity: 8, slotBytes: 8 });
   * ring.push(Float64Array.of(7));
   * const at = ring.peek();
   * if (at >= 0) {
   *   const v = ring.f64[at];
   *   if (ring.commitRead()) console.log(v); // 7
   * }
   * ```
   */
  peek(): number {
    const h = this.#header;
    const r = Atomics.load(h, RING_READ) >>> 0;
    if (uint32Diff(Atomics.load(h, RING_WRITE) >>> 0, r) === 0) return -1;
    this.#peeked = r;
    return (r & this.#mask) * this.slotWords;
  }
  #peeked = 0;

  /**
   * First word of the `k`-th committed slot after the read index (0 = the
   * oldest), or -1 when fewer than `k + 1` slots are available. A look-ahead
   * for the consumer (e.g. to see which symbols follow); under `drop-oldest`
   * the producer may overwrite what it points at, so use it only for hints
   * and take frames with `pop`.
   */
  peekAt(k: number): number {
    const h = this.#header;
    const r = Atomics.load(h, RING_READ) >>> 0;
    if (k < 0 || uint32Diff(Atomics.load(h, RING_WRITE) >>> 0, r) <= k) return -1;
    return ((r + k) & this.#mask) * this.slotWords;
  }

  /**
   * Release the slot returned by the last {@link SpscRing.peek}. Returns false
   * when the producer dropped it meanwhile (drop-oldest): discard what was read.
   */
  commitRead(): boolean {
    return this.#commitRead(this.#peeked, 1);
  }

  /**
   * Copy the oldest slot into `dst` at word `dstBase` and release it. Returns
   * false when the ring is empty. Copies overtaken by drop-oldest are
   * discarded and the next slot is tried.
   *
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * declare function handle(frame: Float64Array): void;
   * const ring = SpscRing.create({ capacity: 8, slotBytes: 16 });
   * const frame = new Float64Array(ring.slotWords);
   * while (ring.pop(frame)) handle(frame);
   * ```
   */
  pop(dst: Float64Array, dstBase = 0): boolean {
    const h = this.#header;
    for (;;) {
      const r = Atomics.load(h, RING_READ) >>> 0;
      if (uint32Diff(Atomics.load(h, RING_WRITE) >>> 0, r) === 0) return false;
      dst.set(this.#slotViews[r & this.#mask], dstBase);
      if (this.#commitRead(r, 1)) return true;
    }
  }

  /**
   * Copy up to `maxSlots` of the oldest slots into `dst` (slot k at word
   * `k * slotWords`) and release them in one commit. Returns how many were
   * copied (0 when empty). If drop-oldest overtakes the batch, the copies are
   * discarded and a smaller batch is retried, so a batch never livelocks
   * against a fast producer.
   *
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const ring = SpscRing.create({ capacity: 128, slotBytes: 8 });
   * ring.push(Float64Array.of(1));
   * ring.push(Float64Array.of(2));
   * const batch = new Float64Array(64 * ring.slotWords);
   * const n = ring.popBatch(batch, 64); // 2; batch starts [1, 2]
   * ```
   */
  popBatch(dst: Float64Array, maxSlots: number): number {
    const h = this.#header;
    const words = this.slotWords;
    let limit = Math.min(maxSlots, Math.floor(dst.length / words));
    for (;;) {
      const r = Atomics.load(h, RING_READ) >>> 0;
      const n = Math.min(uint32Diff(Atomics.load(h, RING_WRITE) >>> 0, r), limit);
      if (n <= 0) return 0;
      for (let k = 0; k < n; k++) dst.set(this.#slotViews[(r + k) & this.#mask], k * words);
      if (this.#commitRead(r, n)) return n;
      limit = Math.max(1, n >> 1);
    }
  }

  #commitRead(r: number, n: number): boolean {
    const h = this.#header;
    if (this.#policyCode === 0) {
      if (Atomics.compareExchange(h, RING_READ, r | 0, (r + n) | 0) !== (r | 0)) {
        Atomics.add(h, RING_OVERTAKEN, 1);
        return false;
      }
    } else {
      // Only the consumer moves the read index under drop-newest and block.
      Atomics.store(h, RING_READ, (r + n) | 0);
      if (Atomics.load(h, RING_PRODUCER_PARKED) !== 0) Atomics.notify(h, RING_READ);
    }
    Atomics.add(h, RING_POPPED, n);
    return true;
  }

  /**
   * Block the calling worker until data is available, the ring is closed, or
   * `timeoutMs` passes: a bounded spin, then `Atomics.wait`. Returns true when
   * data is available. Not for the main thread (use `waitForDataAsync`).
   */
  waitForData(timeoutMs: number): boolean {
    const h = this.#header;
    for (let spins = 0; spins < SPIN_LIMIT; spins++) {
      if (this.available() > 0) return true;
      pause(spins);
    }
    const w = Atomics.load(h, RING_WRITE);
    Atomics.store(h, RING_CONSUMER_PARKED, 1);
    // Re-check after parking: the producer notifies only when it sees the flag.
    if (this.available() === 0 && !this.closed) Atomics.wait(h, RING_WRITE, w, timeoutMs);
    Atomics.store(h, RING_CONSUMER_PARKED, 0);
    return this.available() > 0;
  }

  /**
   * Wait without blocking the event loop (main thread) until data is
   * available, the ring is closed, or `timeoutMs` passes, using
   * `Atomics.waitAsync` (Deno >= 2.7.6). Resolves true when data is available.
   *
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const ring = SpscRing.create({ capacity: 8, slotBytes: 8 });
   * setTimeout(() => ring.push(Float64Array.of(1)), 10);
   * if (await ring.waitForDataAsync(1000)) {
   *   const frame = new Float64Array(ring.slotWords);
   *   ring.pop(frame); // true
   * }
   * ```
   */
  async waitForDataAsync(timeoutMs: number): Promise<boolean> {
    if (this.available() > 0) return true;
    const h = this.#header;
    const w = Atomics.load(h, RING_WRITE);
    Atomics.store(h, RING_CONSUMER_PARKED, 1);
    if (this.available() === 0 && !this.closed) {
      await waitAsyncAlive(h, RING_WRITE, w, timeoutMs);
    }
    Atomics.store(h, RING_CONSUMER_PARKED, 0);
    return this.available() > 0;
  }

  // ---------------------------------------------------------------- counters

  /**
   * Read every counter with atomic loads; safe from any thread.
   *
   * @example
   * ```ts
   * import { SpscRing } from "./spsc_ring.ts";
   * const ring = SpscRing.create({ capacity: 2, slotBytes: 8 });
   * for (let i = 0; i < 3; i++) ring.push(Float64Array.of(i));
   * const { depth, capacity, dropped } = ring.stats(); // 2, 2, 1 (drop-oldest)
   * ```
   */
  stats(): RingStats {
    const h = this.#header;
    const w = Atomics.load(h, RING_WRITE) >>> 0;
    const r = Atomics.load(h, RING_READ) >>> 0;
    return {
      capacity: this.capacity,
      depth: Math.min(uint32Diff(w, r), this.capacity),
      highWater: Atomics.load(h, RING_HIGH_WATER),
      pushed: w,
      popped: Atomics.load(h, RING_POPPED) >>> 0,
      dropped: Atomics.load(h, RING_DROPPED) >>> 0,
      overtaken: Atomics.load(h, RING_OVERTAKEN) >>> 0,
    };
  }
}
