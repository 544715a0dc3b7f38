/**
 * The WebSocket connections of the simulated exchange: a {@link Connection} is
 * one client socket with the streams named in its URL; the {@link ConnectionSet}
 * holds the open ones, indexes their subscriptions by symbol for the frame
 * ticker, sends (disconnecting slow consumers) and closes them.
 *
 * @example
 * ```ts
 * import { Connection, ConnectionSet } from "./sim_connection.ts";
 * import { SimCounters } from "./sim_stats.ts";
 * const connections = new ConnectionSet({ symbolCount: 1, counters: new SimCounters(["BTCUSDT"]) });
 * // In a Deno.serve handler, for a WebSocket upgrade request:
 * function upgrade(request: Request): Response {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   const conn = new Connection(socket, true);
 *   conn.subscribe("btcusdt@depth20", 0, 20);
 *   socket.onopen = () => connections.attach(conn);
 *   socket.onclose = () => connections.detach(conn);
 *   return response;
 * }
 * ```
 * @module
 */

import type { SimCounters } from "./sim_stats.ts";

/**
 * One stream of one connection.
 *
 * @example
 * ```ts
 * function firstStream(socket: WebSocket): Subscription {
 *   const conn = new Connection(socket, true);
 *   conn.subscribe("btcusdt@depth20", 0, 20);
 *   return conn.subs[0]; // prefix '{"stream":"btcusdt@depth20","data":' (combined)
 * }
 * ```
 */
export interface Subscription {
  /** The connection the stream belongs to. */
  readonly conn: Connection;
  /** The stream name as given in the URL. */
  readonly name: string;
  /** Index into the symbol list, or -1 for a symbol not simulated. */
  readonly symbol: number;
  /** Partial book levels, or 0 for the diff stream. */
  readonly levels: number;
  /** `{"stream":"<name>","data":` for combined connections, "" for raw ones. */
  readonly prefix: string;
}

/**
 * One client WebSocket and its subscriptions.
 *
 * @example
 * ```ts
 * function carriesBtc(socket: WebSocket): boolean {
 *   const conn = new Connection(socket, false);
 *   conn.subscribe("btcusdt@depth", 0, 0);
 *   return conn.matches(0) && conn.matches(-1); // true: -1 stands for every symbol
 * }
 * ```
 */
export class Connection {
  /** The server side of the socket. */
  readonly socket: WebSocket;
  /** Combined-stream connection (`/stream?streams=`): messages are wrapped. */
  readonly combined: boolean;
  /** The streams of the connection, in URL order. */
  readonly subs: Subscription[] = [];
  /** Indices of the simulated symbols the connection carries. */
  readonly symbols: Set<number> = new Set();
  /** Attached to a {@link ConnectionSet} and not yet closed. */
  open = false;
  /**
   * `performance.now()` at which the next pass of {@link ConnectionSet.closeDue}
   * closes it (serverShutdown), `-Infinity` once it is a slow consumer, else Infinity.
   */
  closeAt: number = Infinity;
  /** Close code used when {@link closeAt} is reached. */
  closeCode = 1001;
  /** Close reason used when {@link closeAt} is reached. */
  closeReason = "server shutdown";
  /**
   * What the `serverShutdown` fault sends before closing: `undefined` for
   * Binance's `serverShutdown` event, a venue's own notice text, or `null`
   * when the venue announces nothing (the connection just closes).
   */
  shutdownNotice: string | null | undefined = undefined;

  /**
   * Wraps a socket; it has no streams until {@link subscribe} and is not open until attached.
   *
   * @param socket The server side of an upgraded WebSocket.
   * @param combined Whether messages are wrapped as `{"stream":...,"data":...}`.
   */
  constructor(socket: WebSocket, combined: boolean) {
    this.socket = socket;
    this.combined = combined;
  }

  /**
   * Adds a stream.
   *
   * @param name Stream name as in the URL.
   * @param symbol Index of its simulated symbol, or -1 if the symbol is not simulated.
   * @param levels Partial book levels, or 0 for the diff stream.
   */
  subscribe(name: string, symbol: number, levels: number): void {
    if (symbol >= 0) this.symbols.add(symbol);
    this.subs.push({
      conn: this,
      name,
      symbol,
      levels,
      prefix: this.combined ? `{"stream":"${name}","data":` : "",
    });
  }

  /** Whether the connection carries `symbol`; -1 (every symbol) always matches. */
  matches(symbol: number): boolean {
    return symbol < 0 || this.symbols.has(symbol);
  }

  /** Closes the connection at `atMs` (`performance.now()` time) unless due earlier. */
  closeBy(atMs: number): void {
    this.closeAt = Math.min(this.closeAt, atMs);
  }
}

/**
 * Options of {@link ConnectionSet}.
 *
 * @example
 * ```ts
 * import { SimCounters } from "./sim_stats.ts";
 * const options: ConnectionSetOptions = {
 *   symbolCount: 1,
 *   counters: new SimCounters(["BTCUSDT"]),
 *   maxBufferedBytes: 1 << 20,
 * };
 * ```
 */
export interface ConnectionSetOptions {
  /** Number of simulated symbols. */
  symbolCount: number;
  /** Counts opens, closes and bytes sent. */
  counters: SimCounters;
  /** Disconnect a client whose socket has more than this many bytes queued. Default 8 MiB. */
  maxBufferedBytes?: number;
}

/**
 * The open connections of the simulated exchange.
 *
 * @example
 * ```ts
 * import { SimCounters } from "./sim_stats.ts";
 * const connections = new ConnectionSet({ symbolCount: 2, counters: new SimCounters(["A1", "B2"]) });
 * connections.size; // 0
 * connections.bySymbol[1].length; // 0 subscriptions to the second symbol
 * connections.shutdown();
 * ```
 */
export class ConnectionSet {
  /** Subscriptions of the open connections by symbol index (read by the frame ticker). */
  readonly bySymbol: Subscription[][];
  readonly #open = new Set<Connection>();
  readonly #counters: SimCounters;
  readonly #maxBuffered: number;
  #shutDown = false;

  /**
   * Makes an empty set.
   *
   * @param options See {@link ConnectionSetOptions}.
   */
  constructor(options: ConnectionSetOptions) {
    this.bySymbol = Array.from({ length: options.symbolCount }, () => []);
    this.#counters = options.counters;
    this.#maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  }

  /** Open connections. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Adds a connection whose socket just opened; after {@link shutdown} the
   * socket is closed instead (code 1001).
   */
  attach(conn: Connection): void {
    if (this.#shutDown) {
      conn.socket.close(1001, "sim exchange closing");
      return;
    }
    conn.open = true;
    this.#open.add(conn);
    this.#counters.connectionsOpened++;
    for (const sub of conn.subs) if (sub.symbol >= 0) this.bySymbol[sub.symbol].push(sub);
  }

  /** Removes a connection (its socket closed or failed); no-op if it is not open. */
  detach(conn: Connection): void {
    if (!conn.open) return;
    conn.open = false;
    this.#open.delete(conn);
    for (const sub of conn.subs) {
      if (sub.symbol < 0) continue;
      const list = this.bySymbol[sub.symbol];
      const at = list.indexOf(sub);
      if (at >= 0) list.splice(at, 1);
    }
  }

  /** Closes a connection from the server side (counted in `serverCloses`). */
  close(conn: Connection, code: number, reason: string): void {
    if (!conn.open) return;
    this.detach(conn);
    this.#counters.serverCloses++;
    try {
      conn.socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  /**
   * Sends a text message, unless the connection is closed or marked slow. A
   * connection with more than `maxBufferedBytes` queued is marked slow instead
   * and closed (1008) by the next {@link closeDue}: closing here would change
   * the subscription lists the frame ticker is iterating.
   */
  send(conn: Connection, text: string): void {
    if (!conn.open) return;
    if (conn.closeAt === -Infinity) return;
    if (conn.socket.bufferedAmount > this.#maxBuffered) {
      this.#counters.slowConsumerCloses++;
      conn.closeAt = -Infinity;
      conn.closeCode = 1008;
      conn.closeReason = "slow consumer";
      return;
    }
    conn.socket.send(text);
    this.#counters.bytesSent += text.length;
  }

  /** Closes the connections whose {@link Connection.closeAt} is at or before `nowMs`. */
  closeDue(nowMs: number): void {
    for (const conn of this.#open) {
      if (conn.closeAt <= nowMs) this.close(conn, conn.closeCode, conn.closeReason);
    }
  }

  /** Closes the connections carrying `symbol` (-1: all) with `code` (the `close` fault). */
  closeMatching(symbol: number, code: number): void {
    for (const conn of this.matching(symbol)) this.close(conn, code, "sim fault: close");
  }

  /** The open connections carrying `symbol` (-1: all), as a new array. */
  matching(symbol: number): Connection[] {
    const out: Connection[] = [];
    for (const conn of this.#open) if (conn.matches(symbol)) out.push(conn);
    return out;
  }

  /** Closes every connection (1001) and refuses those that open later. */
  shutdown(): void {
    this.#shutDown = true;
    for (const conn of [...this.#open]) this.close(conn, 1001, "sim exchange closing");
  }
}
