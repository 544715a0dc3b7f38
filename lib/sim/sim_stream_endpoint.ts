/**
 * The WebSocket endpoints of the simulated exchange: `GET /stream?streams=a/b/c`
 * (combined streams: every message is `{"stream":"<name>","data":{...}}`) and
 * `GET /ws/<stream>[/<stream>...]` (raw: bare payloads; `/ws` alone opens a
 * socket with no streams).
 *
 * A name that is not a depth stream makes the upgrade fail with HTTP 400 and
 * `{"code":-1100,"msg":"..."}`, as do more than 1024 streams; a well-formed name
 * of a symbol not simulated is accepted and never delivers data (counted in
 * `unknownStreams`). Messages from the client (e.g. `SUBSCRIBE`) are answered
 * with `{"error":{"code":2,"msg":"..."},"id":...}`: only streams in the URL are
 * supported.
 *
 * @example
 * ```ts
 * import { ConnectionSet } from "./sim_connection.ts";
 * import { JsonReplies } from "./sim_http.ts";
 * import { SimCounters } from "./sim_stats.ts";
 * import { StreamEndpoint } from "./sim_stream_endpoint.ts";
 * const counters = new SimCounters(["BTCUSDT"]);
 * const streams = new StreamEndpoint({
 *   symbolIndex: new Map([["btcusdt", 0]]),
 *   connections: new ConnectionSet({ symbolCount: 1, counters }),
 *   replies: new JsonReplies(),
 *   counters,
 * });
 * const res = streams.combined(new Request("http://sim/stream"), null);
 * res.status; // 400: no streams named
 * ```
 * @module
 */

import { Connection, type ConnectionSet } from "./sim_connection.ts";
import type { JsonReplies } from "./sim_http.ts";
import type { SimCounters } from "./sim_stats.ts";
import { parseStreamName, type StreamName } from "./stream_name.ts";

/** Most streams one connection may name (Binance's limit). */
const MAX_STREAMS = 1024;

/**
 * The parts a {@link StreamEndpoint} works with.
 *
 * @example
 * ```ts
 * import { ConnectionSet } from "./sim_connection.ts";
 * import { JsonReplies } from "./sim_http.ts";
 * import { SimCounters } from "./sim_stats.ts";
 * const counters = new SimCounters([]);
 * const parts: StreamEndpointParts = {
 *   symbolIndex: new Map(),
 *   connections: new ConnectionSet({ symbolCount: 0, counters }),
 *   replies: new JsonReplies(),
 *   counters,
 * };
 * ```
 */
export interface StreamEndpointParts {
  /** Index of each simulated symbol, by lower-case name. */
  symbolIndex: ReadonlyMap<string, number>;
  /** Where opened connections go. */
  connections: ConnectionSet;
  /** Builds and counts the 400 answers to refused upgrades. */
  replies: JsonReplies;
  /** Counts refused upgrades and subscriptions to unknown symbols. */
  counters: SimCounters;
}

/**
 * Upgrades stream requests to WebSocket connections. See the module documentation.
 *
 * @example
 * ```ts
 * function route(streams: StreamEndpoint, req: Request): Response {
 *   const url = new URL(req.url);
 *   return url.pathname === "/stream"
 *     ? streams.combined(req, url.searchParams.get("streams"))
 *     : streams.raw(req, url.pathname.slice("/ws".length));
 * }
 * ```
 */
export class StreamEndpoint {
  readonly #symbolIndex: ReadonlyMap<string, number>;
  readonly #connections: ConnectionSet;
  readonly #replies: JsonReplies;
  readonly #counters: SimCounters;

  /**
   * Makes an endpoint that adds its connections to `parts.connections`.
   *
   * @param parts See {@link StreamEndpointParts}.
   */
  constructor(parts: StreamEndpointParts) {
    this.#symbolIndex = parts.symbolIndex;
    this.#connections = parts.connections;
    this.#replies = parts.replies;
    this.#counters = parts.counters;
  }

  /**
   * Answers `GET /stream?streams=...`.
   *
   * @param streams The `streams` parameter (`a/b/c`), or null when absent.
   */
  combined(req: Request, streams: string | null): Response {
    if (streams === null || streams === "") {
      this.#counters.upgradesRejected++;
      return this.#replies.json(
        400,
        `{"code":-1100,"msg":"Missing streams: use /stream?streams=a/b/c"}`,
      );
    }
    return this.#upgrade(req, streams.split("/"), true);
  }

  /**
   * Answers `GET /ws` and `GET /ws/<stream>[/<stream>...]`.
   *
   * @param path The path after `/ws`: `""` or `/<stream>[/<stream>...]`.
   */
  raw(req: Request, path: string): Response {
    const rest = path.slice(1);
    return this.#upgrade(req, rest === "" ? [] : rest.split("/"), false);
  }

  #upgrade(req: Request, names: string[], combined: boolean): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade request\n", { status: 426 });
    }
    const parsed = this.#parseNames(names);
    if (parsed instanceof Response) return parsed;
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
    const conn = new Connection(socket, combined);
    for (const p of parsed) {
      const symbol = this.#symbolIndex.get(p.symbol) ?? -1;
      if (symbol < 0) this.#counters.unknownStreams++;
      conn.subscribe(p.name, symbol, p.levels);
    }
    const connections = this.#connections;
    socket.onopen = () => connections.attach(conn);
    socket.onmessage = (e) => connections.send(conn, unsupportedRequest(e.data));
    socket.onclose = () => connections.detach(conn);
    socket.onerror = () => connections.detach(conn);
    return response;
  }

  /** The parsed stream names, or the 400 answer refusing the upgrade. */
  #parseNames(names: string[]): (StreamName & { name: string })[] | Response {
    if (names.length > MAX_STREAMS) {
      this.#counters.upgradesRejected++;
      return this.#replies.json(
        400,
        `{"code":-1100,"msg":"Too many streams: ${names.length}, at most ${MAX_STREAMS} per connection."}`,
      );
    }
    const parsed = [];
    for (const name of names) {
      const p = parseStreamName(name);
      if ("error" in p) {
        this.#counters.upgradesRejected++;
        return this.#replies.json(400, JSON.stringify({ code: -1100, msg: p.error }));
      }
      parsed.push({ name, ...p });
    }
    return parsed;
  }
}

/** The error answer to a client message, echoing its `id` when it is JSON with one. */
function unsupportedRequest(data: unknown): string {
  let id: unknown = null;
  try {
    id = typeof data === "string" ? JSON.parse(data)?.id ?? null : null;
  } catch {
    // Not JSON; answer with id null.
  }
  return JSON.stringify({
    error: { code: 2, msg: "Invalid request: the simulator only supports streams in the URL" },
    id,
  });
}
