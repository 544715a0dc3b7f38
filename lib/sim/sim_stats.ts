/**
 * The counters of a running simulated exchange: {@link SimCounters} is the
 * mutable state the parts of the simulator increment, {@link SimStats} the
 * plain snapshot `SimExchange.stats()` and `GET /sim/stats` return.
 *
 * @example
 * ```ts
 * import { SimCounters } from "./sim_stats.ts";
 * const counters = new SimCounters(["BTCUSDT"]);
 * counters.framesSent[0] += 3;
 * counters.faults.gap++;
 * const stats = counters.snapshot({
 *   connections: 0,
 *   updateIds: [1000],
 *   rest: { "200": 1 },
 *   usedWeight1m: 5,
 * });
 * stats.framesSent; // { BTCUSDT: 3 }
 * stats.faultsTotal; // 1
 * ```
 * @module
 */

import { FAULT_KINDS, type FaultKind } from "./sim_fault.ts";

/**
 * Counters of a running simulated exchange. Symbol keys are upper-case: the
 * native symbol for Binance spot (`BTCUSDT`), `venue:NATIVE` for the other
 * venues (`okx:BTC-USDT`, `kraken:BTC/USD`).
 *
 * @example
 * ```ts
 * import { startSimExchange } from "./sim_exchange.ts";
 * const sim = await startSimExchange({ symbols: ["btcusdt"], rate: 0 });
 * sim.step(2);
 * const stats: SimStats = sim.stats();
 * stats.framesGenerated.BTCUSDT; // 2
 * await sim.close();
 * ```
 */
export interface SimStats {
  /** Open WebSocket connections. */
  connections: number;
  /** WebSocket connections opened since start. */
  connectionsOpened: number;
  /** WebSocket upgrades refused (bad stream names or too many streams). */
  upgradesRejected: number;
  /** Subscriptions to well-formed streams of symbols not simulated. */
  unknownStreams: number;
  /** Simulated frames (book updates) per symbol. */
  framesGenerated: Record<string, number>;
  /** Messages carrying a frame of the symbol that were sent, over all connections. */
  framesSent: Record<string, number>;
  /** Diff events withheld by `gap` faults, per symbol. */
  gapEventsDropped: Record<string, number>;
  /** Last update id per symbol. */
  updateIds: Record<string, number>;
  /** Snapshot messages sent per symbol (venue symbols: on subscribe and on `reset`). */
  snapshotsSent: Record<string, number>;
  /** Update (delta) messages sent per symbol, keep-alives and resets included (venue symbols). */
  updatesSent: Record<string, number>;
  /** OKX empty keep-alive updates sent per symbol. */
  keepAlivesSent: Record<string, number>;
  /** Updates sent with a deliberately wrong checksum (`checksum` faults) per symbol. */
  badChecksumsSent: Record<string, number>;
  /** Reset messages sent per symbol (`reset` faults), counted once per subscription. */
  resetsSent: Record<string, number>;
  /** Subscribe/unsubscribe acknowledgements sent (venue protocols). */
  acksSent: number;
  /** Heartbeat messages sent (Kraken `heartbeat`, Coinbase `heartbeats`). */
  heartbeatsSent: number;
  /** Answers to client pings (Bybit, OKX, Kraken). */
  pongsSent: number;
  /** Client messages answered with an error (malformed, unknown symbol or channel). */
  clientErrors: number;
  /** Messages not sent because the symbol was stalled. */
  framesStalled: number;
  /** Frames cut by `truncated` faults. */
  framesTruncated: number;
  /** Non-JSON messages sent by `garbage` faults. */
  garbageSent: number;
  /** Bytes (UTF-16 code units, i.e. ASCII bytes here) of all messages sent. */
  bytesSent: number;
  /** Connections closed by the server (faults, shutdown, slow consumers). */
  serverCloses: number;
  /** Connections closed because they fell behind (`maxBufferedBytes`). */
  slowConsumerCloses: number;
  /** Frames skipped because the timer fell more than a second behind. */
  framesBehindSkipped: number;
  /** REST answers by HTTP status (e.g. `{ "200": 3, "429": 1 }`). */
  rest: Record<string, number>;
  /** REST weight used in the last minute. */
  usedWeight1m: number;
  /** Faults injected, by kind. */
  faults: Record<FaultKind, number>;
  /** Faults injected in total. */
  faultsTotal: number;
}

/**
 * The values of a {@link SimStats} that are read from the live parts of the
 * simulator rather than counted.
 *
 * @example
 * ```ts
 * const live: LiveStats = { connections: 2, updateIds: [7, 9], rest: {}, usedWeight1m: 0 };
 * ```
 */
export interface LiveStats {
  /** Open WebSocket connections. */
  connections: number;
  /** Last update id of each book, in symbol order. */
  updateIds: ArrayLike<number>;
  /** REST answers by HTTP status; copied into the snapshot. */
  rest: Readonly<Record<string, number>>;
  /** REST weight used in the last minute. */
  usedWeight1m: number;
}

/**
 * The counters of a simulated exchange, incremented in place by its parts
 * (connections, frame ticker, stream endpoint, fault injector). Per-symbol
 * counters are typed arrays indexed like the symbol list, so counting a frame
 * allocates nothing.
 *
 * @example
 * ```ts
 * const counters = new SimCounters(["BTCUSDT", "ETHUSDT"]);
 * counters.framesGenerated[1]++;
 * counters.bytesSent += 120;
 * ```
 */
export class SimCounters {
  /** WebSocket connections opened since start. */
  connectionsOpened = 0;
  /** WebSocket upgrades refused. */
  upgradesRejected = 0;
  /** Subscriptions to well-formed streams of symbols not simulated. */
  unknownStreams = 0;
  /** Messages not sent because their symbol was stalled. */
  framesStalled = 0;
  /** Frames cut by `truncated` faults. */
  framesTruncated = 0;
  /** Non-JSON messages sent by `garbage` faults. */
  garbageSent = 0;
  /** Characters of all messages sent. */
  bytesSent = 0;
  /** Connections closed by the server. */
  serverCloses = 0;
  /** Connections closed because they fell behind. */
  slowConsumerCloses = 0;
  /** Frames skipped because the timer fell more than a second behind. */
  framesBehindSkipped = 0;
  /** Subscribe/unsubscribe acknowledgements sent. */
  acksSent = 0;
  /** Heartbeat messages sent. */
  heartbeatsSent = 0;
  /** Answers to client pings. */
  pongsSent = 0;
  /** Client messages answered with an error. */
  clientErrors = 0;
  /** Snapshot messages sent per symbol. */
  readonly snapshotsSent: Float64Array;
  /** Update messages sent per symbol. */
  readonly updatesSent: Float64Array;
  /** OKX keep-alive updates sent per symbol. */
  readonly keepAlivesSent: Float64Array;
  /** Updates with a deliberately wrong checksum per symbol. */
  readonly badChecksumsSent: Float64Array;
  /** Reset messages sent per symbol. */
  readonly resetsSent: Float64Array;
  /** Simulated frames per symbol. */
  readonly framesGenerated: Float64Array;
  /** Messages carrying a frame of the symbol that were sent. */
  readonly framesSent: Float64Array;
  /** Diff events withheld by `gap` faults, per symbol. */
  readonly gapEventsDropped: Float64Array;
  /** Faults injected, by kind. */
  readonly faults: Record<FaultKind, number>;
  readonly #symbols: readonly string[];

  /**
   * Makes counters at zero.
   *
   * @param symbols Upper-case symbols, in the order of the per-symbol arrays.
   */
  constructor(symbols: readonly string[]) {
    this.#symbols = symbols;
    this.framesGenerated = new Float64Array(symbols.length);
    this.framesSent = new Float64Array(symbols.length);
    this.gapEventsDropped = new Float64Array(symbols.length);
    this.snapshotsSent = new Float64Array(symbols.length);
    this.updatesSent = new Float64Array(symbols.length);
    this.keepAlivesSent = new Float64Array(symbols.length);
    this.badChecksumsSent = new Float64Array(symbols.length);
    this.resetsSent = new Float64Array(symbols.length);
    this.faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  }

  /**
   * A plain snapshot of the counters together with the live values.
   *
   * @param live Values read from the running parts; see {@link LiveStats}.
   */
  snapshot(live: LiveStats): SimStats {
    return {
      connections: live.connections,
      connectionsOpened: this.connectionsOpened,
      upgradesRejected: this.upgradesRejected,
      unknownStreams: this.unknownStreams,
      framesStalled: this.framesStalled,
      framesTruncated: this.framesTruncated,
      garbageSent: this.garbageSent,
      bytesSent: this.bytesSent,
      serverCloses: this.serverCloses,
      slowConsumerCloses: this.slowConsumerCloses,
      framesBehindSkipped: this.framesBehindSkipped,
      framesGenerated: this.#record(this.framesGenerated),
      framesSent: this.#record(this.framesSent),
      gapEventsDropped: this.#record(this.gapEventsDropped),
      updateIds: this.#record(live.updateIds),
      snapshotsSent: this.#record(this.snapshotsSent),
      updatesSent: this.#record(this.updatesSent),
      keepAlivesSent: this.#record(this.keepAlivesSent),
      badChecksumsSent: this.#record(this.badChecksumsSent),
      resetsSent: this.#record(this.resetsSent),
      acksSent: this.acksSent,
      heartbeatsSent: this.heartbeatsSent,
      pongsSent: this.pongsSent,
      clientErrors: this.clientErrors,
      rest: { ...live.rest },
      usedWeight1m: live.usedWeight1m,
      faults: { ...this.faults },
      faultsTotal: Object.values(this.faults).reduce((a, b) => a + b, 0),
    };
  }

  #record(values: ArrayLike<number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.#symbols.length; i++) out[this.#symbols[i]] = values[i];
    return out;
  }
}
