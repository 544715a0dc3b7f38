/**
 * The dashboard side of the analytics frame bus (docs/design.md §10): a
 * node subscribes to a symbol's frame subject only while at least one of
 * its browsers watches it. {@link FrameSubscriptions.watch} subscribes on a
 * symbol's first watcher, {@link FrameSubscriptions.unwatch} unsubscribes
 * after its last; frames go to the watchers' sinks as the bytes that came
 * (the wire `Frame` message), never decoded.
 *
 * With a history source (the `DW_V1_AN` stream), a symbol's first watch
 * also reads the symbol's newest frames: the live subscription is made
 * first (and confirmed by the server), live frames that arrive meanwhile
 * are held (copied, bounded), then the sinks get the history oldest first
 * and after it the held live frames that came after the newest history
 * frame (found by its bytes: one publisher per symbol, frames carry their
 * sequence number, so no two are equal) — no gap, no duplicate. A later
 * watcher of a symbol already watched gets live frames only (the node's
 * own history serves it).
 *
 * Live frames are handed over as views into the NATS client's read buffer,
 * valid during the call: a sink that keeps a frame copies it. Nothing is
 * allocated per frame here beyond what the client allocates (its message
 * object); with a history source each delivered frame is also copied into
 * one buffer per symbol (grown once to the largest frame), the place a
 * rejoin resumes after.
 *
 * A reconnect: the client resubscribes by itself; with a history source
 * every subscribed symbol then joins again the same way, delivering only the
 * history frames after the last frame it delivered (frames missed while
 * disconnected, up to the history depth; counted `recovered`). When that
 * frame is not in the history (more were missed than it keeps, or a
 * restarted server lost a memory stream) it delivers none of it: a gap,
 * never a frame twice or out of order.
 *
 * Counters: `received` frames and `bytes`, `refused` watches (over
 * `maxSymbols`), `joinDropped` live frames dropped while a join's buffer was
 * full (a gap), `historyFailed` history reads that failed (the watch goes
 * on live), `sinkErrors` sinks that threw (the others still get the frame),
 * `rejoins` and `recovered` (above);
 * per symbol the last receive time ({@link FrameSubscriptions.lastReceiveMs},
 * for "no owner" health).
 *
 * @example
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { FrameSubscriptions } from "./frame_subscriptions.ts";
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const subs = new FrameSubscriptions(nc, { maxSymbols: 500 });
 * const sink = (bytes: Uint8Array) => console.log(bytes.length);
 * await subs.watch("binance", "BTCUSDT", sink); // true: subscribed
 * subs.unwatch("binance", "BTCUSDT", sink); // true: unsubscribed (last watcher)
 * await nc.close();
 * ```
 * @module
 */

import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { frameSubject } from "./bus_subjects.ts";
import type { FrameHistorySource } from "./frame_history_stream.ts";

/** Receives a symbol's frames: a view valid during the call (copy to keep it). */
export type FrameSink = (bytes: Uint8Array) => void;

/** Options of {@link FrameSubscriptions}. */
export interface FrameSubscriptionsOptions {
  /** Symbols this node may subscribe to at once; a watch of one more is refused. Default 1024. */
  maxSymbols?: number;
  /** Where a symbol's first watch reads its newest frames. Default none (live only). */
  history?: FrameHistorySource;
  /** How many history frames a first watch reads. Default 100 (the server's history depth). */
  historyDepth?: number;
  /** Live frames held per symbol while its history is read; older ones are dropped (counted). Default 1000. */
  joinBuffer?: number;
  /**
   * How long a join waits for the history before it goes on live without it
   * (counted `historyFailed`), ms: it bounds how long live frames are held.
   * Default 2000 (a read takes ~10 ms; JetStream can take seconds to answer
   * right after a server restart).
   */
  joinTimeoutMs?: number;
}

/** Counts of {@link FrameSubscriptions} (monotonic). */
export interface FrameSubscriptionCounters {
  /** Live frames received. */
  received: number;
  /** Bytes of the live frames received. */
  bytes: number;
  /** Watches refused because `maxSymbols` symbols were subscribed. */
  refused: number;
  /** Live frames dropped while a join's buffer was full. */
  joinDropped: number;
  /** History reads that failed or came later than `joinTimeoutMs`. */
  historyFailed: number;
  /** Sink calls that threw. */
  sinkErrors: number;
  /** Joins again after a reconnect (one per subscribed symbol and reconnect). */
  rejoins: number;
  /** History frames delivered by those rejoins: frames missed while disconnected, recovered. */
  recovered: number;
}

/** One subscribed symbol. */
interface Entry {
  readonly venue: string;
  readonly symbol: string;
  readonly subject: string;
  readonly sinks: FrameSink[];
  sub: Subscription | undefined;
  /** Live frames held (copied) while the history is read; null once live. */
  held: Uint8Array[] | null;
  /** A copy of the last frame delivered (its first `lastLength` bytes), to resume after it on a reconnect. */
  last: Uint8Array;
  /** Length of the last frame delivered; -1 before the first. */
  lastLength: number;
  /** Settles when the join (subscription confirmed, history delivered) is done. */
  ready: Promise<void>;
  lastReceiveMs: number;
}

/**
 * Reference-counted per-symbol subscriptions to analytics frames; see the
 * module documentation.
 *
 * @example
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { FrameSubscriptions } from "./frame_subscriptions.ts";
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const subs = new FrameSubscriptions(nc);
 * const a = (_bytes: Uint8Array) => {};
 * const b = (_bytes: Uint8Array) => {};
 * await subs.watch("binance", "BTCUSDT", a);
 * await subs.watch("binance", "BTCUSDT", b);
 * subs.subscribedCount; // 1
 * subs.unwatch("binance", "BTCUSDT", a); // false: b still watches
 * subs.unwatch("binance", "BTCUSDT", b); // true: unsubscribed
 * await nc.close();
 * ```
 */
export class FrameSubscriptions {
  /** What happened (read them, never write them). */
  readonly counters: FrameSubscriptionCounters = {
    received: 0,
    bytes: 0,
    refused: 0,
    joinDropped: 0,
    historyFailed: 0,
    sinkErrors: 0,
    rejoins: 0,
    recovered: 0,
  };
  /** The bound on subscribed symbols. */
  readonly maxSymbols: number;
  readonly #nc: NatsConnection;
  readonly #history: FrameHistorySource | undefined;
  readonly #historyDepth: number;
  readonly #joinBuffer: number;
  readonly #joinTimeoutMs: number;
  /** Subscribed symbols by subject. */
  readonly #entries = new Map<string, Entry>();

  /**
   * @param nc A connected NATS connection (this module never closes it).
   * @param options See {@link FrameSubscriptionsOptions}.
   * @throws {RangeError} when an option is not a positive integer.
   */
  constructor(nc: NatsConnection, options: FrameSubscriptionsOptions = {}) {
    this.#nc = nc;
    this.maxSymbols = positive("maxSymbols", options.maxSymbols ?? 1024);
    this.#history = options.history;
    this.#historyDepth = positive("historyDepth", options.historyDepth ?? 100);
    this.#joinBuffer = positive("joinBuffer", options.joinBuffer ?? 1000);
    this.#joinTimeoutMs = positive("joinTimeoutMs", options.joinTimeoutMs ?? 2000);
    if (this.#history !== undefined) this.#rejoinOnReconnect();
  }

  /** After every reconnect, each symbol not joining already joins again (see {@link #join}). */
  #rejoinOnReconnect(): void {
    (async () => {
      for await (const s of this.#nc.status()) {
        if (s.type !== "reconnect") continue;
        for (const entry of this.#entries.values()) {
          if (entry.held !== null) continue;
          entry.held = [];
          this.counters.rejoins++;
          entry.ready = this.#join(entry);
        }
      }
    })().catch(() => {
      // The status iterator ends (or fails) only with the connection.
    });
  }

  /** Symbols subscribed right now (each one NATS subscription). */
  get subscribedCount(): number {
    return this.#entries.size;
  }

  /** Watchers of `venue`/`symbol` right now (0 when not subscribed). */
  watchers(venue: string, symbol: string): number {
    return this.#entries.get(frameSubject(venue, symbol))?.sinks.length ?? 0;
  }

  /** When the last live frame of `venue`/`symbol` came (epoch ms); NaN when none came or not subscribed. */
  lastReceiveMs(venue: string, symbol: string): number {
    return this.#entries.get(frameSubject(venue, symbol))?.lastReceiveMs ?? NaN;
  }

  /** Calls `fn` for every subscribed symbol with its last receive time (NaN: none yet). */
  forEachWatched(fn: (venue: string, symbol: string, lastReceiveMs: number) => void): void {
    for (const e of this.#entries.values()) fn(e.venue, e.symbol, e.lastReceiveMs);
  }

  /**
   * Add `sink` as a watcher of `venue`/`symbol`; the first watcher
   * subscribes (and reads the history, see the module documentation).
   * Resolves once the subscription is confirmed by the server and the
   * history delivered. When NATS is away it resolves once the history read
   * has failed (after the history source's timeout; counted
   * `historyFailed`): the client subscribes when it reconnects, and the
   * symbol goes on live without history. Adding the same sink twice counts
   * twice.
   *
   * @returns false when `maxSymbols` symbols are subscribed already (the sink is not added).
   * @throws {TypeError} when `venue` or `symbol` cannot be a subject token.
   * @throws {Error} when the connection is closed (the client refuses to subscribe).
   */
  async watch(venue: string, symbol: string, sink: FrameSink): Promise<boolean> {
    const subject = frameSubject(venue, symbol);
    let entry = this.#entries.get(subject);
    if (entry === undefined) {
      if (this.#entries.size >= this.maxSymbols) {
        this.counters.refused++;
        return false;
      }
      entry = this.#subscribe(venue, symbol, subject);
    }
    entry.sinks.push(sink);
    await entry.ready;
    return true;
  }

  /**
   * Remove one registration of `sink` from `venue`/`symbol`; after the last
   * watcher the symbol is unsubscribed.
   *
   * @returns true when this call unsubscribed the symbol.
   */
  unwatch(venue: string, symbol: string, sink: FrameSink): boolean {
    const subject = frameSubject(venue, symbol);
    const entry = this.#entries.get(subject);
    if (entry === undefined) return false;
    const i = entry.sinks.indexOf(sink);
    if (i >= 0) entry.sinks.splice(i, 1);
    if (entry.sinks.length > 0) return false;
    this.#entries.delete(subject);
    this.#unsubscribe(entry);
    return true;
  }

  /** Unsubscribe every symbol (the connection stays open). */
  close(): void {
    for (const entry of this.#entries.values()) this.#unsubscribe(entry);
    this.#entries.clear();
  }

  #subscribe(venue: string, symbol: string, subject: string): Entry {
    const entry: Entry = {
      venue,
      symbol,
      subject,
      sinks: [],
      sub: undefined,
      held: this.#history === undefined ? null : [],
      ready: Promise.resolve(),
      lastReceiveMs: NaN,
      last: new Uint8Array(0),
      lastLength: -1,
    };
    const counters = this.counters;
    entry.sub = this.#nc.subscribe(subject, {
      callback: (err: Error | null, msg: Msg) => {
        if (err !== null) return;
        const data = msg.data;
        entry.lastReceiveMs = Date.now();
        counters.received++;
        counters.bytes += data.length;
        if (entry.held !== null) this.#hold(entry, data);
        else this.#deliver(entry, data);
      },
    });
    this.#entries.set(subject, entry); // after subscribe: a closed connection throws, adds nothing
    entry.ready = this.#join(entry);
    return entry;
  }

  #unsubscribe(entry: Entry): void {
    try {
      entry.sub?.unsubscribe();
    } catch {
      // A closed connection has no subscriptions left to end.
    }
    entry.sub = undefined;
    entry.held = null;
  }

  #hold(entry: Entry, data: Uint8Array): void {
    const held = entry.held!;
    if (held.length >= this.#joinBuffer) {
      held.shift();
      this.counters.joinDropped++;
    }
    held.push(data.slice());
  }

  #deliver(entry: Entry, data: Uint8Array): void {
    if (this.#history !== undefined) {
      if (data.length > entry.last.length) {
        entry.last = new Uint8Array(Math.max(data.length, 2 * entry.last.length, 1024));
      }
      entry.last.set(data);
      entry.lastLength = data.length;
    }
    const sinks = entry.sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i](data);
      } catch {
        this.counters.sinkErrors++;
      }
    }
  }

  /**
   * Confirm the subscription, then (with a history source) deliver the
   * history and the held live frames. On a first join the whole history;
   * on a rejoin after a reconnect only the history frames after the last
   * frame delivered, none when that frame is not in the history (a gap
   * rather than a frame twice or out of order).
   */
  async #join(entry: Entry): Promise<void> {
    try {
      await this.#nc.flush();
    } catch {
      // NATS away: the client sends the subscription when it reconnects.
    }
    if (this.#history === undefined) return;
    const history = await this.#readHistory(this.#history, entry);
    if (this.#entries.get(entry.subject) !== entry || entry.held === null) return; // unwatched meanwhile
    const held = entry.held;
    entry.held = null;
    let start = 0;
    if (entry.lastLength >= 0) {
      const last = entry.last.subarray(0, entry.lastLength);
      start = history.length;
      for (let i = history.length - 1; i >= 0; i--) {
        if (sameBytes(history[i], last)) {
          start = i + 1;
          break;
        }
      }
      this.counters.recovered += history.length - start;
    }
    for (let i = start; i < history.length; i++) this.#deliver(entry, history[i]);
    // Held frames are newer than anything delivered before; when no history
    // frame was delivered now, none of them was delivered either.
    const from = start < history.length ? afterOverlap(history, held) : 0;
    for (let i = from; i < held.length; i++) this.#deliver(entry, held[i]);
  }

  /** The history of `entry`, or none when the read fails or takes longer than `joinTimeoutMs` (counted). */
  async #readHistory(source: FrameHistorySource, entry: Entry): Promise<Uint8Array[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.#joinTimeoutMs);
    });
    const read = source.lastFrames(entry.venue, entry.symbol, this.#historyDepth).catch(() => null);
    const history = await Promise.race([read, late]);
    clearTimeout(timer);
    if (history === null) this.counters.historyFailed++;
    return history ?? [];
  }
}

/** Index in `held` of the first live frame newer than the newest history frame (0: no overlap). */
function afterOverlap(history: readonly Uint8Array[], held: readonly Uint8Array[]): number {
  if (history.length === 0) return 0;
  const newest = history[history.length - 1];
  for (let i = held.length - 1; i >= 0; i--) {
    if (sameBytes(held[i], newest)) return i + 1;
  }
  return 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`FrameSubscriptions: ${name} ${v} is not an integer >= 1`);
  }
  return v;
}
