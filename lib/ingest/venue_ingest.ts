/**
 * The ingest of one venue other than Binance (Bybit, OKX, Kraken, Coinbase):
 * its symbols, split into connections of at most the protocol's
 * `maxSymbolsPerConnection`, each a self-healing {@link StreamConnection}
 * (subscribe messages on open, the venue's keep-alive, backoff through the
 * worker's shared {@link AttemptLimiter}, stale after `staleMs` without a
 * message, messages over `maxMessageBytes` ignored and counted) with a
 * {@link VenueSync} of the venue's protocol (`venues/venue_protocol.ts`).
 *
 * Each message goes to the connection's `VenueSync.handle`:
 * - `Applied`: each changed symbol counts one message received and one event
 *   pending; a symbol's top levels are written into the raw ring at most every
 *   `emitIntervalMs` (100 ms, as the diff mode of `ingestor.ts`): on the
 *   message when its interval has passed, otherwise by a 10 ms tick. The frame
 *   carries the service's (global) symbol id, the venue's event time, the
 *   last receive time, the parse time, {@link BOOK_FLAG_FROM_DIFF}, and
 *   {@link BOOK_FLAG_RESYNCED} on the first frame after a (re)connect or
 *   resync. Pending events folded into the frame count as coalesced.
 * - `Control` (acks, pongs, heartbeats): counted in `INGEST_CONTROL_MESSAGES`.
 * - `Rejected`: received and rejected by reason on the symbol's row (the
 *   unknown row when the message names no symbol).
 * - `Resync` (a gap or a checksum mismatch): counted like `Rejected`; the
 *   symbol is Resyncing and the protocol's resubscribe messages are sent; a
 *   venue that cannot resend one symbol (no messages), or a broken
 *   per-connection sequence (symbol -1), reconnects the connection.
 * - `VenueError`: counted in `INGEST_VENUE_ERRORS` and logged, at most one
 *   line per 10 s per venue.
 *
 * ## Accounting (exact, per symbol row)
 * `received = accepted + coalesced + pending + rejected`: every message of a
 * symbol is rejected (one reason) or applied; an applied one is the newest of
 * an emitted frame (accepted), folded into one (coalesced), or waiting
 * (pending). Events pending when the symbol's book is dropped (a resync, a
 * lost connection) count as coalesced, as `DiffSync.forget` does.
 *
 * ## Feed states (per symbol, as `ConnectionPool` reports them)
 * Connecting while its connection is down, Stale while its connection is
 * stale or when no frame of it came for `staleMs`, Resyncing from a `Resync`
 * until its next applied message, Live otherwise. When a connection stops
 * delivering (closed, stale, reconnecting) every book of it is forgotten: the
 * venue sends fresh snapshots on the new connection.
 *
 * Several ingest objects share one worker (`venue_ingestors.ts`): they write
 * the same raw ring instance and counters; every per-symbol word has one
 * writer (the object owning the symbol), global counters only ever grow by
 * `Atomics.add`. Nothing is allocated per message.
 *
 * @example
 * ```ts
 * import { VenueIngest } from "./venue_ingest.ts";
 * import type { VenueProtocol } from "./venues/venue_protocol.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * declare const okx: VenueProtocol;
 * const ingest = new VenueIngest({
 *   protocol: okx,
 *   wsUrl: "wss://ws.okx.com:8443/ws/v5/public",
 *   symbols: [{ id: 1, native: "BTC-USDT" }], // id 1 in the service's list
 *   rawRing: SpscRing.create({ capacity: 1024, slotBytes: new BookSlotLayout(20).slotBytes }),
 *   counters: PipelineCounters.create(3), // 2 symbols + the unknown row
 * });
 * ingest.start();
 * await ingest.stop();
 * ```
 * @module
 */

import { AttemptLimiter } from "./attempt_limiter.ts";
import { StreamConnection } from "./stream_connection.ts";
import { type VenueProtocol, type VenueSync, VenueSyncResult } from "./venues/venue_protocol.ts";
import { Backoff } from "../pipeline/backoff.ts";
import {
  BOOK_EVENT_TIME,
  BOOK_FLAG_FROM_DIFF,
  BOOK_FLAG_RESYNCED,
  BOOK_FLAGS,
  BOOK_PARSED_TIME,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../pipeline/book_slot.ts";
import { FeedState } from "../pipeline/feed_state.ts";
import {
  INGEST_ACCEPTED,
  INGEST_COALESCED,
  INGEST_CONNECTS,
  INGEST_CONTROL_MESSAGES,
  INGEST_FEED_STATE,
  INGEST_HEARTBEAT,
  INGEST_IGNORED_MESSAGES,
  INGEST_PENDING,
  INGEST_RECEIVED,
  INGEST_RECONNECTS,
  INGEST_STALE_EVENTS,
  INGEST_STARTED,
  INGEST_VENUE_ERRORS,
  type PipelineCounters,
} from "../pipeline/pipeline_counters.ts";
import { REJECT_REASON_COUNT, RejectReason } from "../pipeline/reject_reason.ts";
import type { SpscRing } from "../pipeline/spsc_ring.ts";
import { quantiseReceiveTime } from "../record/mod.ts";

/**
 * One symbol of a {@link VenueIngest}.
 *
 * @example
 * ```ts
 * import type { VenueIngestSymbol } from "./venue_ingest.ts";
 * const okxBtc: VenueIngestSymbol = { id: 3, native: "BTC-USDT" }; // okx:btc-usdt is symbol 3
 * ```
 */
export interface VenueIngestSymbol {
  /** The service's symbol id (index in the worker's global symbol list). */
  readonly id: number;
  /** The venue's spelling (`BTC-USDT`, `BTC/USD`). */
  readonly native: string;
}

/**
 * Options of {@link VenueIngest}.
 *
 * @example
 * ```ts
 * import type { VenueIngestOptions } from "./venue_ingest.ts";
 * const tuning: Partial<VenueIngestOptions> = { staleMs: 5000, backoffBaseMs: 500 };
 * ```
 */
export interface VenueIngestOptions {
  /** The venue's protocol. Required. */
  protocol: VenueProtocol;
  /** The venue's symbols, at least one; ids unique and below the unknown row. Required. */
  symbols: readonly VenueIngestSymbol[];
  /** The venue's WebSocket base URL (production or simulated), given to `protocol.connectUrl`. Required. */
  wsUrl: string;
  /** The raw ring; the same instance for every ingest object of the worker. Required. */
  rawRing: SpscRing;
  /** The shared counters. Required. */
  counters: PipelineCounters;
  /** The counters row of messages that name no known symbol. Default `counters.unknownRow` (the last). */
  unknownRow?: number;
  /** Book levels per side in a slot. Default 20. */
  levels?: number;
  /** Levels per side each symbol's local book holds. Default the venue's depth (the protocol's default). */
  bookCapacity?: number;
  /**
   * Base units per size unit of each symbol, in the order of `symbols`
   * (OKX derivatives count contracts: `ctVal`, see `venues/okx_instruments.ts`);
   * given to the protocol's `createSync`. Default 1 for every symbol.
   */
  sizeMultiplier?: readonly number[];
  /** A connection or symbol without a message for this long is stale, ms. Default 2000. */
  staleMs?: number;
  /** An attempt that has not opened after this long is abandoned, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Longer messages are ignored and counted (`INGEST_IGNORED_MESSAGES`), characters. Default the protocol's `maxMessageBytes`, else 1 MiB (1048576). */
  maxMessageBytes?: number;
  /** Backoff base between attempts, ms. Default 1000. */
  backoffBaseMs?: number;
  /** Backoff cap, ms. Default 30000. */
  backoffCapMs?: number;
  /** Delay between the first connects of consecutive connections, ms. Default 250. */
  staggerMs?: number;
  /** The attempt limiter shared by every connection of the worker. Default a private `new AttemptLimiter()`. */
  limiter?: AttemptLimiter;
  /** Least time between two frames of one symbol, ms. Default 100. */
  emitIntervalMs?: number;
  /** Where warnings go. Default `console`. */
  log?: Pick<Console, "warn" | "error">;
  /**
   * This worker generation's lease (lib/pipeline/worker_lease.ts), checked
   * before every message and on every timer: once lost, nothing more is
   * written, the connections close and `onFenced` is called. Default none.
   */
  lease?: { held(): boolean };
  /** Called once when the lease is lost. */
  onFenced?: () => void;
}

/** Most characters of a venue error message that go into the log. */
const ERROR_TEXT_MAX = 300;
/** At most one venue error line per venue in this many ms. */
const ERROR_LOG_EVERY_MS = 10_000;
const HOUSEKEEPING_MS = 100;
const EMIT_TICK_MS = 10;

/**
 * The ingest of one venue behind a {@link VenueProtocol} (see the module docs).
 *
 * @example
 * ```ts
 * import { VenueIngest, type VenueIngestOptions } from "./venue_ingest.ts";
 * declare const options: VenueIngestOptions;
 * const ingest = new VenueIngest(options);
 * ingest.start();
 * ingest.feedState(0); // FeedState.Connecting until its first frame
 * ```
 */
export class VenueIngest {
  /** The venue. */
  readonly venue: string;
  /** The connections, group by group. */
  readonly connections: readonly StreamConnection[];
  /** Venue error messages received. */
  venueErrors = 0;

  readonly #protocol: VenueProtocol;
  readonly #ring: SpscRing;
  readonly #counters: PipelineCounters;
  readonly #layout: BookSlotLayout;
  readonly #unknownRow: number;
  readonly #staleMs: number;
  readonly #emitMs: number;
  readonly #log: Pick<Console, "warn" | "error">;
  readonly #lease: { held(): boolean } | undefined;
  readonly #onFenced: (() => void) | undefined;
  readonly #syncs: VenueSync[];
  /** Group g holds local symbols `#groupStart[g] .. #groupStart[g + 1]`. */
  readonly #groupStart: Uint32Array;
  readonly #groupOf: Uint32Array;
  readonly #globalId: Int32Array;
  /** Per local symbol: the messages that get a fresh snapshot of it (empty: reconnect). */
  readonly #resubscribe: readonly (readonly string[])[];
  readonly #liveSince: Float64Array;
  readonly #lastFrame: Float64Array;
  readonly #framed: Uint8Array;
  readonly #resyncing: Uint8Array;
  readonly #reported: Uint8Array;
  readonly #pending: Float64Array;
  readonly #lastEmit: Float64Array;
  readonly #lastReceive: Float64Array;
  readonly #lastEvent: Float64Array;
  /** 1 until the first frame after a (re)connect or resync. */
  readonly #resynced: Uint8Array;
  /** Last published value of each counter word this object publishes growth of. */
  readonly #published = new Float64Array(4);
  #housekeepingTimer: ReturnType<typeof setInterval> | undefined;
  #emitTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #stopping = false;
  #fenced = false;
  #lastErrorLog = -Infinity;
  #errorsSinceLog = 0;

  /**
   * Validates the options and builds the connections; connects on {@link VenueIngest.start}.
   *
   * @throws TypeError / RangeError on bad options (no symbols, a duplicate or out-of-range id).
   */
  constructor(options: VenueIngestOptions) {
    const {
      protocol,
      symbols,
      wsUrl,
      rawRing,
      counters,
      unknownRow = counters.unknownRow,
      levels = 20,
      bookCapacity,
      sizeMultiplier,
      staleMs = 2000,
      connectTimeoutMs,
      maxMessageBytes = options.protocol.maxMessageBytes,
      backoffBaseMs = 1000,
      backoffCapMs = 30_000,
      staggerMs = 250,
      limiter = new AttemptLimiter(),
      emitIntervalMs = 100,
      log = console,
    } = options;
    const venue = protocol.venue;
    if (symbols.length === 0) {
      throw new RangeError(`VenueIngest(${venue}): expected at least one symbol, got none`);
    }
    if (!Number.isInteger(unknownRow) || unknownRow < 0 || unknownRow >= counters.symbols) {
      throw new RangeError(
        `VenueIngest(${venue}): unknownRow must be a counters row below ${counters.symbols}, got ${unknownRow}`,
      );
    }
    const seen = new Set<number>();
    for (const s of symbols) {
      if (!Number.isInteger(s.id) || s.id < 0 || s.id >= unknownRow || seen.has(s.id)) {
        throw new RangeError(
          `VenueIngest(${venue}): symbol ids must be unique integers below the unknown row ${unknownRow}, got ${s.id} for ${
            JSON.stringify(s.native)
          }`,
        );
      }
      seen.add(s.id);
    }
    for (const [name, v] of [["staleMs", staleMs], ["emitIntervalMs", emitIntervalMs]] as const) {
      if (!Number.isFinite(v) || v <= 0) {
        throw new RangeError(`VenueIngest(${venue}): ${name} must be a positive number, got ${v}`);
      }
    }
    if (sizeMultiplier !== undefined && sizeMultiplier.length !== symbols.length) {
      throw new RangeError(
        `VenueIngest(${venue}): sizeMultiplier must have one entry per symbol (${symbols.length}), got ${sizeMultiplier.length}`,
      );
    }
    const perConnection = protocol.maxSymbolsPerConnection;
    if (!Number.isInteger(perConnection) || perConnection < 1) {
      throw new RangeError(
        `VenueIngest(${venue}): the protocol's maxSymbolsPerConnection must be a positive integer, got ${perConnection}`,
      );
    }
    this.venue = venue;
    this.#protocol = protocol;
    this.#ring = rawRing;
    this.#counters = counters;
    this.#layout = new BookSlotLayout(levels);
    this.#unknownRow = unknownRow;
    this.#staleMs = staleMs;
    this.#emitMs = emitIntervalMs;
    this.#log = log;
    this.#lease = options.lease;
    this.#onFenced = options.onFenced;

    const n = symbols.length;
    const groups = Math.ceil(n / perConnection);
    this.#groupStart = new Uint32Array(groups + 1);
    for (let g = 0; g <= groups; g++) this.#groupStart[g] = Math.min(n, g * perConnection);
    this.#groupOf = new Uint32Array(n);
    this.#globalId = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.#groupOf[i] = Math.floor(i / perConnection);
      this.#globalId[i] = symbols[i].id;
    }
    const natives = symbols.map((s) => s.native);
    this.#resubscribe = natives.map((s) => Object.freeze([...protocol.resubscribe(s)]));
    this.#liveSince = new Float64Array(groups);
    this.#lastFrame = new Float64Array(n);
    this.#framed = new Uint8Array(n);
    this.#resyncing = new Uint8Array(n);
    this.#reported = new Uint8Array(n).fill(FeedState.Connecting);
    this.#pending = new Float64Array(n);
    this.#lastEmit = new Float64Array(n).fill(-Infinity);
    this.#lastReceive = new Float64Array(n);
    this.#lastEvent = new Float64Array(n).fill(NaN);
    this.#resynced = new Uint8Array(n).fill(1);

    this.#syncs = [];
    const connections: StreamConnection[] = [];
    for (let g = 0; g < groups; g++) {
      const group = natives.slice(this.#groupStart[g], this.#groupStart[g + 1]);
      this.#syncs.push(protocol.createSync({
        symbols: group,
        bookCapacity,
        sizeMultiplier: sizeMultiplier?.slice(this.#groupStart[g], this.#groupStart[g + 1]),
      }));
      connections.push(
        new StreamConnection({
          url: protocol.connectUrl(wsUrl, group),
          openMessages: protocol.subscribe(group),
          keepalive: protocol.keepalive,
          shutdownNotice: null,
          maxLifetimeMs: Infinity,
          onMessage: (text, at) => this.#onMessage(g, text, at),
          onStateChange: (state) => this.#connectionState(g, state),
          onError: (e) => log.error(`${venue}: ingest callback failed:`, e),
          staleMs,
          connectTimeoutMs,
          maxMessageBytes,
          startDelayMs: g * staggerMs,
          backoff: new Backoff({ baseMs: backoffBaseMs, capMs: backoffCapMs }),
          limiter,
        }),
      );
    }
    this.connections = connections;
  }

  /** The feed state last reported for the symbol at local index `i` (the order given). */
  feedState(i: number): FeedState {
    return this.#reported[i] as FeedState;
  }

  /** Open the connections and start the timers. Calling it again has no effect. */
  start(): void {
    if (this.#started || this.#stopping) return;
    this.#started = true;
    const c = this.#counters;
    c.store(c.ingest(INGEST_STARTED), 1);
    for (let i = 0; i < this.#reported.length; i++) {
      c.store(c.ingestSymbol(this.#globalId[i], INGEST_FEED_STATE), FeedState.Connecting);
    }
    for (const conn of this.connections) conn.start();
    this.#housekeepingTimer = setInterval(this.#housekeeping, HOUSEKEEPING_MS);
    this.#emitTimer = setInterval(this.#emitDue, EMIT_TICK_MS);
  }

  /** Close every connection and timer; frames already committed stay in the ring. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#housekeepingTimer);
    clearInterval(this.#emitTimer);
    await Promise.all(this.connections.map((conn) => conn.close()));
    if (!this.#fenced && this.#started) this.#housekeeping();
  }

  /** Check the lease now; returns whether it is still held. */
  checkLease(): boolean {
    return !this.#lost();
  }

  #lost(): boolean {
    if (this.#fenced) return true;
    if (this.#lease === undefined || this.#lease.held()) return false;
    this.#fenced = true;
    this.#stopping = true;
    clearInterval(this.#housekeepingTimer);
    clearInterval(this.#emitTimer);
    for (const conn of this.connections) conn.close().catch(() => {});
    this.#onFenced?.();
    return true;
  }

  // ------------------------------------------------------------ messages

  #onMessage(group: number, text: string, receivedAt: number): void {
    const at = quantiseReceiveTime(receivedAt);
    if (this.#lost()) return;
    const sync = this.#syncs[group];
    const code = sync.handle(text, at);
    const c = this.#counters;
    switch (code) {
      case VenueSyncResult.Applied:
        this.#applied(group, sync, at);
        return;
      case VenueSyncResult.Control:
        c.add(c.ingest(INGEST_CONTROL_MESSAGES), 1);
        return;
      case VenueSyncResult.Rejected:
        this.#reject(this.#rowOf(group, sync.symbolId), sync.reason);
        return;
      case VenueSyncResult.Resync:
        this.#resync(group, sync);
        return;
      case VenueSyncResult.VenueError:
        this.#venueError(sync.errorText);
        return;
      default:
        // A protocol that answers something else is a defect: counted, never lost.
        this.#reject(this.#unknownRow, RejectReason.Malformed);
    }
  }

  #applied(group: number, sync: VenueSync, at: number): void {
    const c = this.#counters;
    const base = this.#groupStart[group];
    const size = this.#groupStart[group + 1] - base;
    const count = sync.changedCount;
    if (count === 0) {
      c.add(c.ingest(INGEST_CONTROL_MESSAGES), 1);
      return;
    }
    const changed = sync.changed;
    const eventTime = sync.eventTime;
    for (let k = 0; k < count; k++) {
      const local = changed[k];
      if (!(local >= 0 && local < size)) {
        this.#reject(this.#unknownRow, RejectReason.UnknownStream);
        continue;
      }
      const i = base + local;
      const id = this.#globalId[i];
      c.add(c.ingestSymbol(id, INGEST_RECEIVED), 1);
      // The gauge moves with the counters, so the accounting holds between any two messages.
      c.store(c.ingestSymbol(id, INGEST_PENDING), ++this.#pending[i]);
      this.#lastReceive[i] = at;
      this.#lastEvent[i] = eventTime;
      this.#lastFrame[i] = at;
      this.#framed[i] = 1;
      this.#resyncing[i] = 0;
      if (this.#reported[i] !== FeedState.Live) this.#refresh(i, at);
      if (at - this.#lastEmit[i] >= this.#emitMs) this.#emit(i, at);
    }
  }

  #rowOf(group: number, symbolId: number): number {
    const base = this.#groupStart[group];
    return symbolId >= 0 && symbolId < this.#groupStart[group + 1] - base
      ? this.#globalId[base + symbolId]
      : this.#unknownRow;
  }

  #reject(row: number, reason: number): void {
    const c = this.#counters;
    c.add(c.ingestSymbol(row, INGEST_RECEIVED), 1);
    // A reason out of range would count in another word: a protocol defect, counted as malformed.
    const r = reason > 0 && reason < REJECT_REASON_COUNT ? reason : RejectReason.Malformed;
    c.add(c.rejected(row, r), 1);
  }

  #resync(group: number, sync: VenueSync): void {
    const symbolId = sync.symbolId;
    const row = this.#rowOf(group, symbolId);
    this.#reject(row, sync.reason);
    const conn = this.connections[group];
    if (row === this.#unknownRow) {
      // The connection's sequence broke: every book of it goes, the venue resends all.
      conn.reconnect();
      return;
    }
    const i = this.#groupStart[group] + symbolId;
    this.#drop(i);
    this.#resyncing[i] = 1;
    this.#refresh(i, this.#now());
    const messages = this.#resubscribe[i];
    if (messages.length === 0) {
      conn.reconnect();
      return;
    }
    for (let m = 0; m < messages.length; m++) {
      if (!conn.send(messages[m])) {
        conn.reconnect();
        return;
      }
    }
  }

  /** Forget what is pending of local symbol `i` (its book is gone): pending events count as coalesced. */
  #drop(i: number): void {
    const pending = this.#pending[i];
    if (pending > 0) {
      const c = this.#counters;
      c.add(c.ingestSymbol(this.#globalId[i], INGEST_COALESCED), pending);
      c.store(c.ingestSymbol(this.#globalId[i], INGEST_PENDING), 0);
      this.#pending[i] = 0;
    }
    this.#resynced[i] = 1;
  }

  #venueError(text: string): void {
    this.venueErrors++;
    const c = this.#counters;
    c.add(c.ingest(INGEST_VENUE_ERRORS), 1);
    const now = this.#now();
    if (now - this.#lastErrorLog < ERROR_LOG_EVERY_MS) {
      this.#errorsSinceLog++;
      return;
    }
    const more = this.#errorsSinceLog > 0
      ? ` (and ${this.#errorsSinceLog} more since the last line)`
      : "";
    this.#lastErrorLog = now;
    this.#errorsSinceLog = 0;
    const shown = text.length > ERROR_TEXT_MAX ? `${text.slice(0, ERROR_TEXT_MAX)}…` : text;
    this.#log.warn(`${this.venue}: the venue sent an error: ${shown}${more}`);
  }

  // --------------------------------------------------------------- frames

  #emit(i: number, now: number): void {
    const ring = this.#ring;
    const at = ring.reserve();
    // A ring that refuses (not drop-oldest) counts the drop itself.
    if (at < 0) return;
    const group = this.#groupOf[i];
    const f64 = ring.f64;
    this.#syncs[group].writeTop(i - this.#groupStart[group], f64, at, this.#layout);
    f64[at + BOOK_SYMBOL_ID] = this.#globalId[i];
    f64[at + BOOK_EVENT_TIME] = this.#lastEvent[i];
    f64[at + BOOK_RECEIVE_TIME] = this.#lastReceive[i];
    f64[at + BOOK_PARSED_TIME] = this.#now();
    f64[at + BOOK_FLAGS] = BOOK_FLAG_FROM_DIFF | (this.#resynced[i] === 1 ? BOOK_FLAG_RESYNCED : 0);
    ring.commit();
    this.#resynced[i] = 0;
    const c = this.#counters;
    const id = this.#globalId[i];
    c.add(c.ingestSymbol(id, INGEST_ACCEPTED), 1);
    const folded = this.#pending[i] - 1;
    if (folded > 0) c.add(c.ingestSymbol(id, INGEST_COALESCED), folded);
    c.store(c.ingestSymbol(id, INGEST_PENDING), 0);
    this.#pending[i] = 0;
    this.#lastEmit[i] = now;
  }

  #emitDue = (): void => {
    if (this.#lost()) return;
    const now = this.#now();
    for (let i = 0; i < this.#pending.length; i++) {
      if (this.#pending[i] > 0 && now - this.#lastEmit[i] >= this.#emitMs) this.#emit(i, now);
    }
  };

  // ------------------------------------------------------------ feed state

  #connectionState(group: number, state: FeedState): void {
    if (this.#lost()) return;
    const now = this.#now();
    this.#liveSince[group] = state === FeedState.Live ? now : 0;
    const end = this.#groupStart[group + 1];
    if (state !== FeedState.Live) {
      // The socket is gone: its books are no longer maintained; the next connection
      // starts from the venue's snapshots.
      this.#syncs[group].resetAll();
      for (let i = this.#groupStart[group]; i < end; i++) {
        this.#drop(i);
        this.#resyncing[i] = 0;
      }
    }
    for (let i = this.#groupStart[group]; i < end; i++) {
      this.#framed[i] = 0;
      this.#refresh(i, now);
    }
  }

  #refresh(i: number, now: number): void {
    const group = this.#groupOf[i];
    const connState = this.connections[group].state;
    let state: FeedState;
    if (connState !== FeedState.Live) state = connState;
    else if (this.#resyncing[i] === 1) state = FeedState.Resyncing;
    else if (this.#framed[i] === 1) {
      state = now - this.#lastFrame[i] > this.#staleMs ? FeedState.Stale : FeedState.Live;
    } else {
      state = now - this.#liveSince[group] > this.#staleMs ? FeedState.Stale : FeedState.Connecting;
    }
    if (state === this.#reported[i]) return;
    this.#reported[i] = state;
    const c = this.#counters;
    c.store(c.ingestSymbol(this.#globalId[i], INGEST_FEED_STATE), state);
  }

  #housekeeping = (): void => {
    if (this.#lost()) return;
    const c = this.#counters;
    const now = this.#now();
    c.add(c.ingest(INGEST_HEARTBEAT), 1);
    // #refresh stores a symbol's feed state when it changes (start() stored the first).
    for (let i = 0; i < this.#reported.length; i++) this.#refresh(i, now);
    let reconnects = 0;
    let connects = 0;
    let stale = 0;
    let ignored = 0;
    for (const conn of this.connections) {
      reconnects += conn.reconnects;
      connects += conn.connects;
      stale += conn.staleEvents;
      ignored += conn.ignoredMessages;
    }
    this.#publish(0, INGEST_RECONNECTS, reconnects);
    this.#publish(1, INGEST_CONNECTS, connects);
    this.#publish(2, INGEST_STALE_EVENTS, stale);
    this.#publish(3, INGEST_IGNORED_MESSAGES, ignored);
  };

  /** Add the growth of a local total since its last publication to ingest global `word`. */
  #publish(slot: number, word: number, value: number): void {
    const last = this.#published[slot];
    if (value === last) return;
    this.#counters.add(this.#counters.ingest(word), (value - last) | 0);
    this.#published[slot] = value;
  }

  #now(): number {
    return performance.timeOrigin + performance.now();
  }
}
