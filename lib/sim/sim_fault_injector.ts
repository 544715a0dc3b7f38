/**
 * Applies validated faults (see `sim_fault.ts` for the kinds and their fields)
 * to the parts of a running simulated exchange: stream faults to the pending
 * {@link StreamFaults}, closes to the connections and the repeating-close
 * schedule, REST faults to the depth endpoint; `garbage` and `serverShutdown`
 * messages are sent at once.
 *
 * @example
 * ```ts
 * import { ConnectionSet } from "./sim_connection.ts";
 * import { FaultInjector } from "./sim_fault_injector.ts";
 * import { JsonReplies } from "./sim_http.ts";
 * import { RepeatingCloses } from "./sim_repeating_close.ts";
 * import { DepthEndpoint } from "./sim_rest.ts";
 * import { SimCounters } from "./sim_stats.ts";
 * import { StreamFaults } from "./sim_stream_faults.ts";
 * const counters = new SimCounters(["BTCUSDT"]);
 * const faults = new StreamFaults(1);
 * const injector = new FaultInjector({
 *   streams: ["btcusdt"],
 *   faults,
 *   closes: new RepeatingCloses(),
 *   connections: new ConnectionSet({ symbolCount: 1, counters }),
 *   rest: new DepthEndpoint({ encoders: new Map(), replies: new JsonReplies() }),
 *   counters,
 * });
 * injector.inject({ kind: "gap", symbol: "btcusdt", events: 2 });
 * faults.gapPending[0]; // 2
 * counters.faults.gap; // 1
 * ```
 * @module
 */

import type { ConnectionSet } from "./sim_connection.ts";
import { parseFault, type SimFault } from "./sim_fault.ts";
import type { RepeatingCloses } from "./sim_repeating_close.ts";
import type { DepthEndpoint } from "./sim_rest.ts";
import type { SimCounters } from "./sim_stats.ts";
import type { StreamFaults } from "./sim_stream_faults.ts";

/** The text of a `garbage` fault message: neither JSON nor a whole HTML page. */
const GARBAGE = "\u0000\u00ff<html>502 Bad Gateway</html> {{not json";

/**
 * The parts a {@link FaultInjector} acts on.
 *
 * @example
 * ```ts
 * function symbolsOf(targets: FaultTargets): readonly string[] {
 *   return targets.streams; // e.g. ["btcusdt", "ethusdt"]
 * }
 * ```
 */
export interface FaultTargets {
  /** Lower-case simulated symbols; a fault's `symbol` is looked up here. */
  streams: readonly string[];
  /** Pending stream faults (stall, gap, truncated, crossed). */
  faults: StreamFaults;
  /** Schedule of repeating closes. */
  closes: RepeatingCloses;
  /** The open connections. */
  connections: ConnectionSet;
  /** The REST endpoint (429, 418, slow answers). */
  rest: DepthEndpoint;
  /** Counts faults by kind and garbage messages. */
  counters: SimCounters;
  /**
   * Refuses a `checksum`, `reset` or `crossed` fault for a symbol whose venue
   * cannot express it (throws a TypeError saying why). Default: every symbol accepts.
   */
  venueCheck?: (kind: "checksum" | "reset" | "crossed", symbol: number) => void;
}

/**
 * Injects faults into a running simulated exchange. See the module documentation.
 *
 * @example
 * ```ts
 * function stallEverything(targets: FaultTargets): void {
 *   new FaultInjector(targets).inject({ kind: "stall", durationMs: 500 });
 * }
 * ```
 */
export class FaultInjector {
  readonly #t: FaultTargets;
  readonly #symbolIndex: Map<string, number>;

  /**
   * Makes an injector acting on the given parts.
   *
   * @param targets See {@link FaultTargets}.
   */
  constructor(targets: FaultTargets) {
    this.#t = targets;
    this.#symbolIndex = new Map(targets.streams.map((s, i) => [s, i]));
  }

  /**
   * Validates and applies one fault.
   *
   * @param input The fault (see `SimFault`).
   * @param nowMs `performance.now()` time the fault's durations count from.
   * @throws {TypeError} if the fault is invalid or names a symbol not simulated.
   */
  inject(input: SimFault, nowMs: number = performance.now()): void {
    const fault = parseFault(input);
    const symbol = "symbol" in fault ? this.#symbolOf(fault.symbol) : -1;
    const { faults, connections, rest } = this.#t;
    switch (fault.kind) {
      case "close": {
        const code = fault.code ?? 1000;
        connections.closeMatching(symbol, code);
        if (fault.everyMs !== undefined && fault.everyMs > 0) {
          const durationMs = fault.durationMs ?? 10_000;
          this.#t.closes.add({ symbol, code, everyMs: fault.everyMs, durationMs }, nowMs);
        }
        break;
      }
      case "stall":
        faults.stall(symbol, fault.durationMs === undefined ? Infinity : nowMs + fault.durationMs);
        break;
      case "gap":
        faults.gap(symbol, fault.events ?? 1);
        break;
      case "garbage":
        this.#sendGarbage(symbol, fault.count ?? 1);
        break;
      case "truncated":
        faults.truncate(symbol, fault.count ?? 1);
        break;
      case "crossed":
        if (symbol >= 0) this.#t.venueCheck?.(fault.kind, symbol);
        faults.cross(symbol);
        break;
      case "checksum":
        this.#t.venueCheck?.(fault.kind, symbol);
        faults.badChecksum(symbol, fault.count ?? 1);
        break;
      case "reset":
        this.#t.venueCheck?.(fault.kind, symbol);
        faults.reset(symbol);
        break;
      case "quiet":
        faults.quiet(symbol, fault.frames ?? 1);
        break;
      case "serverShutdown":
        this.#announceShutdown(symbol, nowMs, nowMs + (fault.delayMs ?? 1000));
        break;
      case "rest429":
        rest.answer429(fault.count ?? 1, fault.retryAfterSec ?? 1);
        break;
      case "rest418":
        rest.answer418(fault.count ?? 1, fault.retryAfterSec ?? 120);
        break;
      case "restSlow":
        rest.slowDown(fault.delayMs, fault.count ?? Infinity);
        break;
      case "clear":
        faults.clear();
        this.#t.closes.clear();
        rest.clearFaults();
        break;
    }
    this.#t.counters.faults[fault.kind]++;
  }

  #symbolOf(name: string | undefined): number {
    if (name === undefined) return -1;
    const i = this.#symbolIndex.get(name);
    if (i === undefined) {
      throw new TypeError(
        `fault names symbol "${name}", which is not simulated (symbols: ${
          this.#t.streams.join(", ")
        })`,
      );
    }
    return i;
  }

  /** Sends `count` non-JSON messages on each connection carrying `symbol` (-1: all). */
  #sendGarbage(symbol: number, count: number): void {
    const { connections, counters } = this.#t;
    for (const conn of connections.matching(symbol)) {
      for (let c = 0; c < count; c++) {
        connections.send(conn, GARBAGE);
        counters.garbageSent++;
      }
    }
  }

  /**
   * Sends Binance's `serverShutdown` message (or the venue's own notice, see
   * `Connection.shutdownNotice`) on each connection carrying `symbol` (-1:
   * all) and closes them at `closeAtMs`.
   */
  #announceShutdown(symbol: number, nowMs: number, closeAtMs: number): void {
    const connections = this.#t.connections;
    const payload = `{"e":"serverShutdown","E":${Math.floor(performance.timeOrigin + nowMs)}}`;
    for (const conn of connections.matching(symbol)) {
      const notice = conn.shutdownNotice;
      if (notice === undefined) {
        connections.send(
          conn,
          conn.combined ? `{"stream":"!serverShutdown","data":${payload}}` : payload,
        );
      } else if (notice !== null) connections.send(conn, notice);
      conn.closeBy(closeAtMs);
    }
  }
}
