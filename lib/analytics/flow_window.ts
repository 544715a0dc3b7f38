/**
 * Rolling sums of OFI contributions over a short (default 1 s) and a long
 * (default 10 s) time window, for many symbols, in preallocated rings.
 *
 * Each symbol has a ring of `capacity` entries (time, level-1 e, multi-level e).
 * {@link FlowWindow.push} appends an entry and expires entries whose time is
 * ≤ t − window (a window covers (t − window, t]). Running sums make each push
 * O(1) amortised; to stop floating-point drift from add/subtract, the sums of
 * a symbol are recomputed exactly from its ring every `capacity` pushes.
 *
 * When the ring is full, the oldest entry is dropped early and `push` returns
 * true so the caller can flag the frame: at the default capacity of 1024 this
 * happens only above ~100 frames/s per symbol sustained for 10 s.
 *
 * Memory follows the entries actually in the window, not the capacity: a
 * symbol's ring is a logical ring of `capacity` positions whose storage comes
 * in chunks of 16 entries from one pool shared by every symbol. A chunk is
 * taken when the ring first writes into its 16 positions and given back when
 * the last of its entries leaves the long window; the pool grows (doubling,
 * copying) only when every chunk is in use, so after warm-up a push allocates
 * nothing. At 10 frames/s a symbol holds about 100 entries, i.e. at most 8
 * chunks (3 KB) instead of 1024 entries (24 KB). Positions, sums and their
 * order are those of a plain ring of `capacity` entries, so every result is
 * bit-for-bit the same.
 *
 * The same ring gives the symbol's frame rate ({@link FlowWindow.rate}).
 *
 * Exactly as implemented, every choice included (for reimplementing to
 * 1e-9): docs/analytics.md, "OFI window sums and frame rate".
 *
 * @example
 * ```ts
 * import { FlowWindow } from "./flow_window.ts";
 * const w = new FlowWindow({ symbols: 1 });
 * w.push(0, 0, 1, 2);
 * w.push(0, 500, 3, 4);
 * w.push(0, 1200, 5, 6); // t = 0 leaves the 1 s window (0 ≤ 1200 − 1000)
 * w.shortSumL1(0); // 3 + 5 = 8
 * w.longSumL1(0); // 9
 * w.rate(0); // 2 intervals over 1.2 s = 1.666… frames/s
 * ```
 * @module
 */

/** NaN for branches that rarely run, as a module constant V8 folds (see `analyser.ts`). */
const NOT_A_NUMBER = NaN;
/** log2 of the entries in one storage chunk. */
const CHUNK_SHIFT = 4;
/** Entries in one storage chunk. */
const CHUNK = 1 << CHUNK_SHIFT;
/** Chunks the pool starts with, per symbol (grown by doubling when all are in use). */
const INITIAL_CHUNKS_PER_SYMBOL = 4;

/** Options of {@link FlowWindow}. */
export interface FlowWindowOptions {
  /** Number of symbols (ids 0…symbols−1), a positive integer. */
  symbols: number;
  /** Entries per symbol ring, an integer ≥ 2. Default 1024. */
  capacity?: number;
  /** Short window in ms. Default 1000. */
  shortMs?: number;
  /** Long window in ms, ≥ shortMs. Default 10000. */
  longMs?: number;
}

/**
 * Per-symbol rings of (time, e level 1, e multi-level) with 1 s / 10 s running sums.
 *
 * @example
 * ```ts
 * import { FlowWindow } from "./flow_window.ts";
 * const w = new FlowWindow({ symbols: 2, shortMs: 1000, longMs: 10_000 });
 * w.push(1, 0, -2, -3);
 * w.push(1, 100, 5, 7);
 * w.shortSum(1); // 4: multi-level e over the last second
 * w.shortSumL1(0); // 0: symbol 0 has no entries
 * ```
 */
export class FlowWindow {
  /** Entries per symbol. */
  readonly capacity: number;
  /** Short window, ms. */
  readonly shortMs: number;
  /** Long window, ms. */
  readonly longMs: number;
  // The chunk pool: entry storage (CHUNK entries per chunk), the live
  // entries of each chunk, and a stack of free chunk ids (lowest on top, so
  // the chunks in use stay at the front of the arrays).
  #times: Float64Array;
  #e1: Float64Array;
  #em: Float64Array;
  #live: Uint8Array;
  #free: Int32Array;
  #freeCount: number;
  /** Segments per symbol ring: ⌈capacity / CHUNK⌉. */
  #segments: number;
  /** Chunk id of each symbol's ring segment (symbol s, segment g at `s * #segments + g`), −1 when none. */
  #chunkOf: Int32Array;
  // Free-running counters per symbol (exact in float64 up to 2^53).
  #written: Float64Array;
  #longStart: Float64Array;
  #shortStart: Float64Array;
  #sinceRecompute: Float64Array;
  // Sums per symbol: [short e1, short em, long e1, long em].
  #sums: Float64Array;
  /** (t, e1, em) of {@link FlowWindow.push}, handed to {@link FlowWindow.pushEntry}. */
  #entry = new Float64Array(3);

  /**
   * Allocates every symbol's ring, empty.
   *
   * @param options see {@link FlowWindowOptions}.
   * @throws RangeError when an option is out of range.
   */
  constructor(options: FlowWindowOptions) {
    const { symbols, capacity = 1024, shortMs = 1000, longMs = 10_000 } = options;
    if (!Number.isInteger(symbols) || symbols < 1) {
      throw new RangeError(`symbols must be a positive integer, got ${symbols}`);
    }
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(`capacity must be an integer ≥ 2, got ${capacity}`);
    }
    if (!(shortMs > 0) || !(longMs >= shortMs) || !Number.isFinite(longMs)) {
      throw new RangeError(
        `windows must satisfy 0 < shortMs ≤ longMs < ∞, got shortMs ${shortMs}, longMs ${longMs}`,
      );
    }
    this.capacity = capacity;
    this.shortMs = shortMs;
    this.longMs = longMs;
    this.#segments = Math.ceil(capacity / CHUNK);
    this.#chunkOf = new Int32Array(symbols * this.#segments).fill(-1);
    const chunks = symbols * Math.min(INITIAL_CHUNKS_PER_SYMBOL, this.#segments);
    this.#times = new Float64Array(chunks * CHUNK);
    this.#e1 = new Float64Array(chunks * CHUNK);
    this.#em = new Float64Array(chunks * CHUNK);
    this.#live = new Uint8Array(chunks);
    this.#free = new Int32Array(chunks);
    for (let c = 0; c < chunks; c++) this.#free[c] = chunks - 1 - c;
    this.#freeCount = chunks;
    this.#written = new Float64Array(symbols);
    this.#longStart = new Float64Array(symbols);
    this.#shortStart = new Float64Array(symbols);
    this.#sinceRecompute = new Float64Array(symbols);
    this.#sums = new Float64Array(symbols * 4);
  }

  /**
   * Appends (t, e1, em) for symbol `s` and expires old entries.
   * Returns true when the ring was full and an entry younger than the long
   * window was dropped.
   *
   * @example
   * ```ts
   * import { FlowWindow } from "./flow_window.ts";
   * const w = new FlowWindow({ symbols: 1, capacity: 2 });
   * w.push(0, 0, 1, 1); w.push(0, 1, 1, 1);
   * w.push(0, 2, 1, 1); // true: the t = 0 entry was dropped early
   * ```
   */
  push(s: number, t: number, e1: number, em: number): boolean {
    const entry = this.#entry;
    entry[0] = t;
    entry[1] = e1;
    entry[2] = em;
    return this.pushEntry(s, entry);
  }

  /**
   * {@link FlowWindow.push} with (t, e1, em) read from `entry[0]`, `entry[1]`,
   * `entry[2]`. The analyser uses this form: V8 boxes each double passed to
   * a call it does not inline into a new HeapNumber; a typed-array read
   * allocates nothing.
   *
   * @example
   * ```ts
   * import { FlowWindow } from "./flow_window.ts";
   * const w = new FlowWindow({ symbols: 1 });
   * const entry = new Float64Array(3); // reused: t, e1, em
   * entry[0] = 1000.5;
   * entry[1] = 2;
   * entry[2] = 3;
   * w.pushEntry(0, entry); // false: nothing was dropped
   * w.shortSumL1(0); // 2
   * ```
   */
  pushEntry(s: number, entry: Float64Array): boolean {
    const t = entry[0];
    const e1 = entry[1];
    const em = entry[2];
    const cap = this.capacity;
    const sums = this.#sums;
    const so = s * 4;
    let written = this.#written[s];
    let longStart = this.#longStart[s];
    const expiredFrom = longStart;
    let shortStart = this.#shortStart[s];
    let overflow = false;
    if (written - longStart >= cap) {
      const a1 = this.#e1, am = this.#em;
      const j = this.#at(s, longStart);
      sums[so + 2] -= a1[j];
      sums[so + 3] -= am[j];
      if (shortStart === longStart) {
        sums[so] -= a1[j];
        sums[so + 1] -= am[j];
        shortStart++;
      }
      longStart++;
      overflow = true;
    }
    // Taking a chunk may grow the pool (new arrays): read them only after.
    const w = this.#slotFor(s, written);
    const times = this.#times, a1 = this.#e1, am = this.#em;
    times[w] = t;
    a1[w] = e1;
    am[w] = em;
    written++;
    sums[so] += e1;
    sums[so + 1] += em;
    sums[so + 2] += e1;
    sums[so + 3] += em;
    const longEdge = t - this.longMs;
    while (longStart < written && times[this.#at(s, longStart)] <= longEdge) {
      const j = this.#at(s, longStart);
      sums[so + 2] -= a1[j];
      sums[so + 3] -= am[j];
      longStart++;
    }
    if (shortStart < longStart) {
      // Entries the long window expired are older than the short edge too;
      // take them out of the short sums as well.
      while (shortStart < longStart) {
        const j = this.#at(s, shortStart);
        sums[so] -= a1[j];
        sums[so + 1] -= am[j];
        shortStart++;
      }
    }
    const shortEdge = t - this.shortMs;
    while (shortStart < written && times[this.#at(s, shortStart)] <= shortEdge) {
      const j = this.#at(s, shortStart);
      sums[so] -= a1[j];
      sums[so + 1] -= am[j];
      shortStart++;
    }
    // Give back the chunks the expired entries leave empty, now that nothing
    // reads them any more (the short sums above still did).
    for (let k = expiredFrom; k < longStart; k++) this.#expire(s, k);
    this.#written[s] = written;
    this.#longStart[s] = longStart;
    this.#shortStart[s] = shortStart;
    if (++this.#sinceRecompute[s] >= cap) {
      this.#sinceRecompute[s] = 0;
      this.#recompute(s);
    }
    return overflow;
  }

  /** Storage index of entry number `k` (free-running) of symbol `s`; the entry must be held. */
  #at(s: number, k: number): number {
    const pos = k % this.capacity;
    return this.#chunkOf[s * this.#segments + (pos >> CHUNK_SHIFT)] * CHUNK + (pos & (CHUNK - 1));
  }

  /** Storage index for writing entry number `k` of symbol `s`, taking a chunk when its segment has none. */
  #slotFor(s: number, k: number): number {
    const pos = k % this.capacity;
    const g = s * this.#segments + (pos >> CHUNK_SHIFT);
    let chunk = this.#chunkOf[g];
    if (chunk < 0) {
      if (this.#freeCount === 0) this.#grow();
      chunk = this.#free[--this.#freeCount];
      this.#chunkOf[g] = chunk;
    }
    this.#live[chunk]++;
    return chunk * CHUNK + (pos & (CHUNK - 1));
  }

  /** Entry number `k` of symbol `s` left the window: give its chunk back when it was the last. */
  #expire(s: number, k: number): void {
    const g = s * this.#segments + ((k % this.capacity) >> CHUNK_SHIFT);
    const chunk = this.#chunkOf[g];
    if (--this.#live[chunk] === 0) {
      this.#chunkOf[g] = -1;
      this.#free[this.#freeCount++] = chunk;
    }
  }

  /** Double the pool (every chunk is in use): new arrays holding the old ones. */
  #grow(): void {
    const old = this.#live.length;
    const chunks = old * 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(chunks * CHUNK);
      b.set(a);
      return b;
    };
    this.#times = grow(this.#times);
    this.#e1 = grow(this.#e1);
    this.#em = grow(this.#em);
    const live = new Uint8Array(chunks);
    live.set(this.#live);
    this.#live = live;
    // The free stack is empty: push the new chunks, lowest on top.
    this.#free = new Int32Array(chunks);
    for (let c = 0; c < old; c++) this.#free[c] = chunks - 1 - c;
    this.#freeCount = old;
  }

  #recompute(s: number): void {
    const written = this.#written[s];
    const shortStart = this.#shortStart[s];
    let s1 = 0, sm = 0, l1 = 0, lm = 0;
    for (let k = this.#longStart[s]; k < written; k++) {
      const j = this.#at(s, k);
      l1 += this.#e1[j];
      lm += this.#em[j];
      if (k >= shortStart) {
        s1 += this.#e1[j];
        sm += this.#em[j];
      }
    }
    const so = s * 4;
    this.#sums[so] = s1;
    this.#sums[so + 1] = sm;
    this.#sums[so + 2] = l1;
    this.#sums[so + 3] = lm;
  }

  /** Σ level-1 e of symbol `s` over the short window (as of its last push). */
  shortSumL1(s: number): number {
    return this.#sums[s * 4];
  }
  /** Σ multi-level e of symbol `s` over the short window. */
  shortSum(s: number): number {
    return this.#sums[s * 4 + 1];
  }
  /** Σ level-1 e of symbol `s` over the long window. */
  longSumL1(s: number): number {
    return this.#sums[s * 4 + 2];
  }
  /** Σ multi-level e of symbol `s` over the long window. */
  longSum(s: number): number {
    return this.#sums[s * 4 + 3];
  }
  /** Number of entries of symbol `s` in the long window. */
  longCount(s: number): number {
    return this.#written[s] - this.#longStart[s];
  }

  /**
   * Frame rate of symbol `s` in frames/s over the long window:
   * (n − 1) · 1000 / (t_newest − t_oldest) for its n entries; NaN when n < 2
   * or the span is not positive.
   *
   * @example
   * ```ts
   * import { FlowWindow } from "./flow_window.ts";
   * const w = new FlowWindow({ symbols: 1 });
   * for (let i = 0; i < 11; i++) w.push(0, i * 100, 0, 0);
   * w.rate(0); // 10
   * ```
   */
  rate(s: number): number {
    const n = this.#written[s] - this.#longStart[s];
    if (n < 2) return NOT_A_NUMBER;
    const span = this.#times[this.#at(s, this.#written[s] - 1)] -
      this.#times[this.#at(s, this.#longStart[s])];
    return span > 0 ? ((n - 1) * 1000) / span : NOT_A_NUMBER;
  }
}
