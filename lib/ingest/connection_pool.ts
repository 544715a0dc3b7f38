/**
 * The set of exchange connections for a symbol list: symbols are split into
 * runs of at most 200 streams whose combined-stream URL stays within 8,000
 * characters (`stream_groups.ts` says why: the URL length is the limit that
 * sets the group size, not Binance's 1,024 streams), one
 * {@linkcode StreamConnection} each, sharing one attempt limiter, with
 * staggered first connects. Reports a feed state per
 * symbol (its index in the symbol list): Connecting while its connection is
 * down, Stale when its connection is stale or no frame for this symbol arrived
 * for `staleMs` (even if the connection carries other symbols), Resyncing while
 * the diff-book layer says so, Live otherwise.
 *
 * ## Owned partitions
 * With `partitionOf` and `owned` (docs/design.md §10, "Ingest of owned
 * partitions"), groups never mix partitions (the symbols of one partition in
 * id order, split further only where the stream and URL limits require it;
 * `groupsByPartition` in `stream_groups.ts`), and a group's connection is
 * open only while its partition is owned: the pool looks at the
 * {@linkcode OwnedPartitions} bytes every `ownershipCheckMs` (100 ms), opens
 * the connections of newly owned partitions at once (no stagger, the attempt
 * limiter still applies) and suspends those of released ones at once
 * ({@linkcode StreamConnection.suspend}: sockets closed, no message delivered
 * after that, no reconnect, nothing counted as stale or as a reconnect). The
 * symbols of a released group are reported Connecting (the state of every
 * symbol not owned) and {@linkcode ConnectionPool.isActive} says false for
 * them; the connects counter counts real connects only. Without the options
 * every group is open from {@linkcode ConnectionPool.start} on, as before.
 *

 * @example
 * ```ts
 * import { ConnectionPool } from "./connection_pool.ts";
 *
 * const pool = new ConnectionPool({
 *   baseUrl: "wss://stream.binance.com:9443",
 *   symbols: ["btcusdt", "ethusdt"],
 *   streamSuffix: "@depth20@100ms",
 *   onMessage(text, receivedAtMs) {
 *     // parse; on an accepted frame for symbol id `i`: pool.noteFrame(i, receivedAtMs)
 *   },
 *   onFeedState(symbolId, state) {
 *     // publish the state
 *   },
 * });
 * pool.start();
 * // ...
 * await pool.close();
 * ```
 * @module
 */

import { AttemptLimiter } from "./attempt_limiter.ts";
import { Backoff } from "../pipeline/backoff.ts";
import { FeedState } from "../pipeline/feed_state.ts";
import { type ConnectionCounter, StreamConnection } from "./stream_connection.ts";
import { DEFAULT_STREAMS_PER_CONNECTION, groupsByPartition } from "./stream_groups.ts";
import type { OwnedPartitions } from "../pipeline/owned_partitions.ts";

/** Options of {@linkcode ConnectionPool}. */
export interface ConnectionPoolOptions {
  /** WebSocket base URL without path, e.g. `wss://stream.binance.com:9443`. */
  baseUrl: string;
  /** Lower-case symbols (`btcusdt`), unique. A symbol's id is its index here. */
  symbols: readonly string[];
  /** Appended to each symbol to name its stream, e.g. `@depth20@100ms` or `@depth@100ms`. */
  streamSuffix: string;
  /** Called for every text data message of every connection, with its receive time (epoch ms). */
  onMessage: (text: string, receivedAtMs: number) => void;
  /** Called when a symbol's feed state changes. Default none. */
  onFeedState?: (symbolId: number, state: FeedState) => void;
  /** Called when a callback throws (the error is counted). Default none. */
  onError?: (error: unknown) => void;
  /** Most streams per connection, 1 to 1024. Default 200 (see `stream_groups.ts`). */
  maxStreamsPerConnection?: number;
  /** Longest combined-stream URL, in characters. Default 8000 (`MAX_URL_LENGTH`). */
  maxUrlLength?: number;
  /** Connection and per-symbol stale timeout, in ms. Default 2000. */
  staleMs?: number;
  /** Delay between the first connects of consecutive connections, in ms. Default 250. */
  staggerMs?: number;
  /** Passed to each connection; see {@linkcode StreamConnection}. Default 10000. */
  connectTimeoutMs?: number;
  /** Passed to each connection; see {@linkcode StreamConnection}. Default 23.5 hours. */
  maxLifetimeMs?: number;
  /** Passed to each connection; see {@linkcode StreamConnection}. Default 1 MiB. */
  maxMessageBytes?: number;
  /** First backoff bound of each connection, in ms. Default 1000. */
  backoffBaseMs?: number;
  /** Backoff cap of each connection, in ms. Default 30000. */
  backoffCapMs?: number;
  /** Shared attempt limiter. Default `new AttemptLimiter()` (300 per 5 minutes). */
  limiter?: AttemptLimiter;
  /** Clock for per-symbol staleness, epoch ms. Default `performance.timeOrigin + performance.now()`. */
  now?: () => number;
  /**
   * Partition of each symbol id (module docs, "Owned partitions"); given
   * together with `owned`. Default none: every symbol is connected.
   */
  partitionOf?: ArrayLike<number>;
  /** The partitions this node owns (read only); given together with `partitionOf`. Default none. */
  owned?: OwnedPartitions;
  /** How often `owned` is looked at, ms (at most 250). Default 100. */
  ownershipCheckMs?: number;
  /**
   * Called for each symbol of a released group, after its connection was
   * suspended and its Connecting state reported (forget its book here).
   * Default none.
   */
  onRelease?: (symbolId: number) => void;
}

const SYMBOL_PATTERN = /^[a-z0-9_.-]+$/;

/**
 * Connections for a symbol list with per-symbol feed state.
 *
 * @example
 * ```ts
 * import { ConnectionPool } from "./connection_pool.ts";
 *
 * const pool = new ConnectionPool({
 *   baseUrl: "ws://127.0.0.1:9443",
 *   symbols: ["btcusdt"],
 *   streamSuffix: "@depth@100ms",
 *   onMessage: () => {},
 * });
 * pool.start();
 * pool.feedState(0); // FeedState.Connecting until frames arrive
 * await pool.close();
 * ```
 */
export class ConnectionPool {
  /** The connections, in symbol order. */
  readonly connections: readonly StreamConnection[];
  /** The symbols, in id order. */
  readonly symbols: readonly string[];
  /** Most streams per connection (a group closes earlier when its URL would be too long). */
  readonly groupSize: number;
  /** Per-symbol stale timeout in ms. */
  readonly staleMs: number;

  /** Symbol ids group after group (the identity without partitions). */
  #order: Uint32Array;
  /** Partition of each group. */
  #groupPartition: Uint32Array;
  /** The owned partitions, or undefined: every group open. */
  #owned: OwnedPartitions | undefined;
  #ownershipCheckMs: number;
  #ownershipTimer: ReturnType<typeof setInterval> | undefined;
  /** 1 while a group's connection is meant to run (its partition is owned). */
  #open: Uint8Array;
  #activeSymbols = 0;
  #onRelease: ((symbolId: number) => void) | undefined;
  #onFeedState: ((symbolId: number, state: FeedState) => void) | undefined;
  #onError: ((error: unknown) => void) | undefined;
  #now: () => number;
  /** Group g holds symbol ids `#order[#groupStart[g]..#groupStart[g + 1])`. */
  #groupStart: Uint32Array;
  /** Connection index of each symbol id (4 bytes a symbol). */
  #groupOf: Uint32Array;
  #lastFrame: Float64Array;
  /** Epoch ms at which each connection last became Live (0 when not live). */
  #liveSince: Float64Array;
  #reported: Uint8Array;
  /** 1 once a frame of the symbol was noted since its connection last changed state. */
  #framed: Uint8Array;
  #resyncing: Uint8Array;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #sweepMs: number;
  #started = false;
  #closed = false;
  /** Feed state callback errors. */
  callbackErrors = 0;

  /**
   * Validates the options and creates the connections; does not connect until
   * {@linkcode ConnectionPool.start}.
   *
   * @throws {TypeError} If a symbol is empty, not lower case, duplicated, or the suffix is malformed.
   * @throws {RangeError} If the symbol list is empty or a number is out of range.
   */
  constructor(options: ConnectionPoolOptions) {
    const {
      baseUrl,
      symbols,
      streamSuffix,
      onMessage,
      onFeedState,
      onError,
      maxStreamsPerConnection = DEFAULT_STREAMS_PER_CONNECTION,
      maxUrlLength,
      staleMs = 2000,
      staggerMs = 250,
      connectTimeoutMs,
      maxLifetimeMs,
      maxMessageBytes,
      backoffBaseMs = 1000,
      backoffCapMs = 30000,
      limiter = new AttemptLimiter(),
      now = () => performance.timeOrigin + performance.now(),
      partitionOf,
      owned,
      ownershipCheckMs = 100,
      onRelease,
    } = options;
    if ((partitionOf === undefined) !== (owned === undefined)) {
      throw new TypeError(
        "ConnectionPool: partitionOf and owned go together (both or neither), got only " +
          (partitionOf === undefined ? "owned" : "partitionOf"),
      );
    }
    if (!Number.isFinite(ownershipCheckMs) || ownershipCheckMs <= 0 || ownershipCheckMs > 250) {
      throw new RangeError(
        `ConnectionPool: ownershipCheckMs must be in (0, 250], got ${ownershipCheckMs}`,
      );
    }
    checkSymbols(symbols, streamSuffix);
    if (partitionOf !== undefined && owned !== undefined) {
      for (let id = 0; id < partitionOf.length; id++) {
        if (!(partitionOf[id] < owned.partitions)) {
          throw new RangeError(
            `ConnectionPool: partitionOf[${id}] is ${partitionOf[id]}, expected a partition ` +
              `below the ${owned.partitions} of owned`,
          );
        }
      }
    }
    let groups;
    try {
      groups = groupsByPartition(symbols, partitionOf, {
        suffix: streamSuffix,
        baseUrl,
        maxStreams: maxStreamsPerConnection,
        maxUrlLength,
      });
    } catch (e) {
      if (e instanceof RangeError) throw new RangeError(`ConnectionPool: ${e.message}`);
      throw e;
    }
    if (!Number.isFinite(staleMs) || staleMs <= 0) {
      throw new RangeError(`ConnectionPool: staleMs must be a positive number, got ${staleMs}`);
    }
    if (!Number.isFinite(staggerMs) || staggerMs < 0) {
      throw new RangeError(`ConnectionPool: staggerMs must be >= 0, got ${staggerMs}`);
    }
    this.symbols = [...symbols];
    this.groupSize = maxStreamsPerConnection;
    this.staleMs = staleMs;
    this.#onFeedState = onFeedState;
    this.#onError = onError;
    this.#now = now;
    const n = symbols.length;
    this.#lastFrame = new Float64Array(n);
    this.#reported = new Uint8Array(n).fill(FeedState.Connecting);
    this.#framed = new Uint8Array(n);
    this.#resyncing = new Uint8Array(n);
    // Sweep often enough that a symbol is reported stale within ~1.25 × staleMs.
    this.#sweepMs = Math.max(10, staleMs / 4);
    const groupStart = groups.starts;
    const order = groups.order;
    const groupCount = groupStart.length - 1;
    this.#groupStart = groupStart;
    this.#order = order;
    this.#groupPartition = groups.partition;
    this.#owned = owned;
    this.#ownershipCheckMs = ownershipCheckMs;
    this.#onRelease = onRelease;
    this.#open = new Uint8Array(groupCount);
    this.#groupOf = new Uint32Array(n);
    for (let g = 0; g < groupCount; g++) {
      for (let k = groupStart[g]; k < groupStart[g + 1]; k++) this.#groupOf[order[k]] = g;
    }
    this.#liveSince = new Float64Array(groupCount);
    const connections: StreamConnection[] = [];
    for (let g = 0; g < groupCount; g++) {
      const streams = Array.from(
        order.subarray(groupStart[g], groupStart[g + 1]),
        (id) => this.symbols[id] + streamSuffix,
      );
      connections.push(
        new StreamConnection({
          baseUrl,
          streams,
          onMessage,
          onStateChange: (state) => this.#connectionState(g, state),
          onError,
          staleMs,
          connectTimeoutMs,
          maxLifetimeMs,
          maxMessageBytes,
          startDelayMs: g * staggerMs,
          backoff: new Backoff({ baseMs: backoffBaseMs, capMs: backoffCapMs }),
          limiter,
        }),
      );
    }
    this.connections = connections;
  }

  /**
   * Starts all connections (the i-th after `i × staggerMs`) and the staleness sweep.
   *
   * @throws {Error} If the pool was closed.
   */
  start(): void {
    if (this.#closed) throw new Error("ConnectionPool: start() called after close()");
    if (this.#started) return;
    this.#started = true;
    if (this.#owned === undefined) {
      this.#open.fill(1);
      this.#activeSymbols = this.symbols.length;
      for (const c of this.connections) c.start();
    } else {
      this.#checkOwnership();
      this.#ownershipTimer = setInterval(this.#checkOwnership, this.#ownershipCheckMs);
    }
    this.#sweepTimer = setInterval(this.#sweep, this.#sweepMs);
  }

  /**
   * Whether `symbolId`'s connection is meant to run: always once started
   * without owned partitions; with them, while its partition is owned (as last
   * looked at).
   *
   * @throws {RangeError} If `symbolId` is not a valid symbol index.
   */
  isActive(symbolId: number): boolean {
    if (!(symbolId >= 0 && symbolId < this.#groupOf.length)) this.#badId(symbolId);
    return this.#open[this.#groupOf[symbolId]] === 1;
  }

  /** Symbols whose connection is meant to run ({@linkcode ConnectionPool.isActive}). */
  get activeSymbols(): number {
    return this.#activeSymbols;
  }

  /** Groups whose connection is meant to run. */
  get activeConnections(): number {
    let n = 0;
    for (let g = 0; g < this.#open.length; g++) n += this.#open[g];
    return n;
  }

  /** Opens the groups of newly owned partitions, suspends those of released ones (module docs). */
  #checkOwnership = (): void => {
    const owned = this.#owned!;
    if (this.#closed) return;
    for (let g = 0; g < this.#open.length; g++) {
      const want = owned.isOwned(this.#groupPartition[g]) ? 1 : 0;
      if (want === this.#open[g]) continue;
      this.#open[g] = want;
      const size = this.#groupStart[g + 1] - this.#groupStart[g];
      if (want === 1) {
        this.#activeSymbols += size;
        this.connections[g].resume();
      } else {
        this.#activeSymbols -= size;
        for (let k = this.#groupStart[g]; k < this.#groupStart[g + 1]; k++) {
          this.#resyncing[this.#order[k]] = 0;
        }
        // Reports Connecting for the group's symbols (through #connectionState)
        // if the connection was in another state; the call below makes sure.
        this.connections[g].suspend();
        this.#connectionState(g, FeedState.Connecting);
        for (let k = this.#groupStart[g]; k < this.#groupStart[g + 1]; k++) {
          this.#released(this.#order[k]);
        }
      }
    }
  };

  /**
   * Records that a frame of `symbolId` was accepted at `nowMs` (epoch ms). Cheap:
   * call it for every accepted frame.
   *
   * @throws {RangeError} If `symbolId` is not a valid symbol index.
   */
  noteFrame(symbolId: number, nowMs: number = this.#now()): void {
    if (!(symbolId >= 0 && symbolId < this.#lastFrame.length)) this.#badId(symbolId);
    this.#lastFrame[symbolId] = nowMs;
    this.#framed[symbolId] = 1;
    if (this.#reported[symbolId] !== FeedState.Live) this.#refresh(symbolId, nowMs);
  }

  /**
   * Marks `symbolId` as resyncing (diff book out of sync) or back in sync.
   *
   * @throws {RangeError} If `symbolId` is not a valid symbol index.
   */
  setResyncing(symbolId: number, resyncing: boolean): void {
    if (!(symbolId >= 0 && symbolId < this.#resyncing.length)) this.#badId(symbolId);
    this.#resyncing[symbolId] = resyncing ? 1 : 0;
    this.#refresh(symbolId, this.#now());
  }

  /** The last reported feed state of `symbolId`. */
  feedState(symbolId: number): FeedState {
    if (!(symbolId >= 0 && symbolId < this.#reported.length)) this.#badId(symbolId);
    return this.#reported[symbolId] as FeedState;
  }

  /** Connection index carrying `symbolId`. */
  connectionOf(symbolId: number): number {
    if (!(symbolId >= 0 && symbolId < this.#groupOf.length)) this.#badId(symbolId);
    return this.#groupOf[symbolId];
  }

  /**
   * Sum of one {@linkcode StreamConnection} counter over all connections.
   *
   * @example
   * ```ts
   * import type { ConnectionPool } from "./connection_pool.ts";
   * declare const pool: ConnectionPool; // a pool with open connections
   * pool.total("reconnects"); // reconnects of every connection of the pool
   * ```
   */
  total(counter: ConnectionCounter): number {
    let total = 0;
    for (const c of this.connections) total += c[counter];
    return total;
  }

  /** Stops every connection and timer; resolves when all sockets have closed. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    if (this.#ownershipTimer !== undefined) clearInterval(this.#ownershipTimer);
    this.#ownershipTimer = undefined;
    this.#sweepTimer = undefined;
    await Promise.all(this.connections.map((c) => c.close()));
  }

  #badId(symbolId: number): never {
    throw new RangeError(
      `ConnectionPool: symbolId must be an integer in [0, ${this.#reported.length}), got ${symbolId}`,
    );
  }

  #connectionState(group: number, state: FeedState): void {
    const now = this.#now();
    this.#liveSince[group] = state === FeedState.Live ? now : 0;
    const end = this.#groupStart[group + 1];
    for (let k = this.#groupStart[group]; k < end; k++) {
      const id = this.#order[k];
      this.#framed[id] = 0;
      this.#refresh(id, now);
    }
  }

  #released(id: number): void {
    if (this.#onRelease === undefined) return;
    try {
      this.#onRelease(id);
    } catch (error) {
      this.callbackErrors++;
      try {
        this.#onError?.(error);
      } catch {
        // counted above
      }
    }
  }

  /** Computes the state of one symbol and reports it if it changed. */
  #refresh(id: number, now: number): void {
    const conn = this.connections[this.#groupOf[id]];
    let state: FeedState;
    const connState = conn.state;
    if (connState !== FeedState.Live) {
      state = connState;
    } else if (this.#resyncing[id] === 1) {
      state = FeedState.Resyncing;
    } else {
      if (this.#framed[id] === 1) {
        state = now - this.#lastFrame[id] > this.staleMs ? FeedState.Stale : FeedState.Live;
      } else {
        // No frame of this symbol since its connection came up.
        const since = this.#liveSince[this.#groupOf[id]];
        state = now - since > this.staleMs ? FeedState.Stale : FeedState.Connecting;
      }
    }
    if (state === this.#reported[id]) return;
    this.#reported[id] = state;
    if (this.#closed || this.#onFeedState === undefined) return;
    try {
      this.#onFeedState(id, state);
    } catch (error) {
      this.callbackErrors++;
      try {
        this.#onError?.(error);
      } catch {
        // counted above
      }
    }
  }

  #sweep = (): void => {
    const now = this.#now();
    for (let id = 0; id < this.#reported.length; id++) this.#refresh(id, now);
  };
}

/** The symbol list and stream suffix of a {@linkcode ConnectionPool}, checked. */
function checkSymbols(symbols: readonly string[], streamSuffix: string): void {
  if (symbols.length === 0) {
    throw new RangeError("ConnectionPool: expected at least one symbol, got none");
  }
  const seen = new Set<string>();
  for (const s of symbols) {
    if (typeof s !== "string" || !SYMBOL_PATTERN.test(s)) {
      throw new TypeError(
        `ConnectionPool: symbols must be lower-case like "btcusdt", got ${JSON.stringify(s)}`,
      );
    }
    if (seen.has(s)) {
      throw new TypeError(`ConnectionPool: symbol ${JSON.stringify(s)} is listed twice`);
    }
    seen.add(s);
  }
  if (typeof streamSuffix !== "string" || !/^@[a-z0-9@]+$/.test(streamSuffix)) {
    throw new TypeError(
      `ConnectionPool: streamSuffix must look like "@depth20@100ms", got ${
        JSON.stringify(streamSuffix)
      }`,
    );
  }
}
