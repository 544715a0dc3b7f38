/**
 * The venues of the simulated exchange besides Binance spot, on the same HTTP
 * server at their production paths:
 *
 * | venue          | path                                                  |
 * | -------------- | ----------------------------------------------------- |
 * | `binance-usdm` | `/public/stream?streams=…` (WS), `/fapi/v1/depth` (REST) |
 * | `bybit`        | `/v5/public/spot`, `/v5/public/linear`                |
 * | `okx`          | `/ws/v5/public`, `/api/v5/public/instruments` (REST)  |
 * | `kraken`       | `/v2`                                                 |
 * | `coinbase`     | `/` (WebSocket upgrade at the root)                   |
 *
 * {@link VenueFeeds} builds one feed per venue from the simulated symbols,
 * routes requests to them, gives the frame ticker the feed of each symbol,
 * sends heartbeats and says which faults a venue cannot express.
 *
 * @example
 * ```ts
 * import { venueUrls } from "./venue_router.ts";
 * venueUrls("ws://127.0.0.1:9443", "http://127.0.0.1:9443").okx.wsUrl;
 * // "ws://127.0.0.1:9443/ws/v5/public"
 * ```
 * @module
 */

import { VENUE_IDS, type VenueId, VENUES } from "../../pipeline/venue_id.ts";
import type { ConnectionSet } from "../sim_connection.ts";
import type { SymbolFeed } from "../sim_frame_ticker.ts";
import type { JsonReplies } from "../sim_http.ts";
import type { SimCounters } from "../sim_stats.ts";
import type { StreamFaults } from "../sim_stream_faults.ts";
import { BinanceUsdmFeed } from "./binance_usdm_feed.ts";
import { BybitFeed } from "./bybit_feed.ts";
import { CoinbaseFeed } from "./coinbase_feed.ts";
import { KrakenFeed } from "./kraken_feed.ts";
import { OkxFeed } from "./okx_feed.ts";
import type { VenueBook, VenueFeedParts, WindowedVenueFeed } from "./venue_feed.ts";

/**
 * The base URLs a client uses for a venue in place of the production ones of
 * `VENUES` (`lib/pipeline/venue_id.ts`): same shape, `restUrl` "" where the
 * venue has no REST endpoint.
 *
 * @example
 * ```ts
 * const urls: VenueUrls = { wsUrl: "ws://127.0.0.1:9443/v2", restUrl: "" };
 * ```
 */
export interface VenueUrls {
  /** WebSocket URL (for both Binance venues the host only: the client adds `/public/stream?streams=…`). */
  readonly wsUrl: string;
  /** REST base URL, or "" when the venue needs none. */
  readonly restUrl: string;
}

/** WebSocket paths by venue (Bybit linear is `/v5/public/linear`). */
const WS_PATHS: Record<VenueId, string> = {
  "binance": "",
  "binance-usdm": "",
  "bybit": "/v5/public/spot",
  "okx": "/ws/v5/public",
  "kraken": "/v2",
  "coinbase": "",
};

/**
 * Every venue's base URLs on a simulated exchange at `wsBase` / `httpBase`.
 *
 * @param wsBase E.g. `ws://127.0.0.1:40123`.
 * @param httpBase E.g. `http://127.0.0.1:40123`.
 * @example
 * ```ts
 * venueUrls("ws://h:1", "http://h:1")["binance-usdm"];
 * // { wsUrl: "ws://h:1", restUrl: "http://h:1" }
 * ```
 */
export function venueUrls(wsBase: string, httpBase: string): Record<VenueId, VenueUrls> {
  const out = {} as Record<VenueId, VenueUrls>;
  for (const v of VENUE_IDS) {
    out[v] = {
      wsUrl: wsBase + WS_PATHS[v],
      restUrl: VENUES[v].restUrl === "" ? "" : httpBase,
    };
  }
  return out;
}

/**
 * The parts {@link VenueFeeds} works with.
 *
 * @example
 * ```ts
 * function usdmBooks(parts: VenueFeedsParts): number {
 *   return parts.books.filter((b) => b.symbol.venue === "binance-usdm").length;
 * }
 * ```
 */
export interface VenueFeedsParts {
  /** The books of every venue other than Binance spot. */
  books: readonly VenueBook[];
  /** Number of simulated symbols (all venues). */
  symbolCount: number;
  /** The shared connection set. */
  connections: ConnectionSet;
  /** The simulator's counters. */
  counters: SimCounters;
  /** The pending stream faults. */
  faults: StreamFaults;
  /** REST answers (Binance USD-M, OKX instruments). */
  replies: JsonReplies;
  /** Answers forced by pending `rest429`/`rest418` faults (see `DepthEndpoint.forcedAnswer`); OKX instruments honour them too. */
  forcedAnswer?: (nowMs: number) => Response | null;
  /** Heartbeat period, ms. */
  heartbeatMs: number;
  /** Unchanged frames before an OKX keep-alive. */
  keepAliveFrames: number;
}

/**
 * The feeds of the venues other than Binance spot. See the module documentation.
 *
 * @example
 * ```ts
 * function handle(feeds: VenueFeeds, req: Request): Response {
 *   return feeds.route(req, new URL(req.url)) ?? new Response("not found", { status: 404 });
 * }
 * ```
 */
export class VenueFeeds {
  /** Per symbol index, the feed sending its frames (null: Binance spot). */
  readonly bySymbol: readonly (SymbolFeed | null)[];
  readonly #usdm: BinanceUsdmFeed;
  readonly #bybit: BybitFeed;
  readonly #okx: OkxFeed;
  readonly #kraken: KrakenFeed;
  readonly #coinbase: CoinbaseFeed;
  readonly #windowed: readonly WindowedVenueFeed[];
  readonly #venueOf: (VenueId | null)[];
  readonly #replies: JsonReplies;
  readonly #forcedAnswer: ((nowMs: number) => Response | null) | undefined;

  /** @param parts See {@link VenueFeedsParts}. */
  constructor(parts: VenueFeedsParts) {
    const of = (v: VenueId) => parts.books.filter((b) => b.symbol.venue === v);
    const common = (v: VenueId): VenueFeedParts => ({
      books: of(v),
      connections: parts.connections,
      counters: parts.counters,
      faults: parts.faults,
      heartbeatMs: parts.heartbeatMs,
      keepAliveFrames: parts.keepAliveFrames,
    });
    this.#usdm = new BinanceUsdmFeed({
      books: of("binance-usdm"),
      connections: parts.connections,
      counters: parts.counters,
      faults: parts.faults,
      replies: parts.replies,
      forcedAnswer: parts.forcedAnswer,
    });
    this.#bybit = new BybitFeed(common("bybit"));
    this.#okx = new OkxFeed(common("okx"));
    this.#replies = parts.replies;
    this.#forcedAnswer = parts.forcedAnswer;
    this.#kraken = new KrakenFeed(common("kraken"));
    this.#coinbase = new CoinbaseFeed(common("coinbase"));
    this.#windowed = [this.#bybit, this.#okx, this.#kraken, this.#coinbase];
    const bySymbol: (SymbolFeed | null)[] = new Array(parts.symbolCount).fill(null);
    this.#venueOf = new Array(parts.symbolCount).fill(null);
    for (const feed of [this.#usdm, ...this.#windowed]) {
      for (const b of feed.books) {
        bySymbol[b.index] = feed;
        this.#venueOf[b.index] = b.symbol.venue;
      }
    }
    this.bySymbol = bySymbol;
  }

  /**
   * The response to a request on a venue path, or null when the path is not a
   * venue's (the caller goes on routing). The Coinbase root path only takes
   * WebSocket upgrades.
   */
  route(req: Request, url: URL): Response | null {
    if (req.method !== "GET") return null;
    switch (url.pathname) {
      case "/public/stream":
        return this.#usdm.upgrade(req, url);
      case "/fapi/v1/depth":
        return this.#usdm.depth(url);
      case "/v5/public/spot":
      case "/v5/public/linear":
        return this.#bybit.upgrade(req);
      case "/ws/v5/public":
        return this.#okx.upgrade(req);
      case "/api/v5/public/instruments":
        return this.#okxInstruments(url);
      case "/v2":
        return this.#kraken.upgrade(req);
      case "/":
        return req.headers.get("upgrade")?.toLowerCase() === "websocket"
          ? this.#coinbase.upgrade(req)
          : null;
    }
    return null;
  }

  /**
   * OKX's instruments (contract values); a pending `rest429` / `rest418`
   * fault answers with its status and OKX's rate-limit error instead.
   */
  #okxInstruments(url: URL): Response {
    const forced = this.#forcedAnswer?.(performance.now()) ?? null;
    if (forced !== null) {
      // Counted by status already (forcedAnswer answers through the same JsonReplies).
      forced.body?.cancel();
      return new Response(
        '{"code":"50011","msg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly.","data":[]}',
        {
          status: forced.status,
          headers: {
            "content-type": "application/json",
            "retry-after": forced.headers.get("Retry-After") ?? "1",
          },
        },
      );
    }
    const { status, body } = this.#okx.instruments(url);
    return this.#replies.json(status, body);
  }

  /** Sends the heartbeats due at `nowMs` (`performance.now()` time). */
  heartbeat(nowMs: number): void {
    for (const feed of this.#windowed) feed.heartbeat(nowMs);
  }

  /**
   * Throws a TypeError when symbol `symbol`'s venue cannot express the fault:
   * `checksum` needs OKX or Kraken, `reset` Bybit, OKX, Kraken or Coinbase,
   * `crossed` Binance spot.
   */
  check(kind: "checksum" | "reset" | "crossed", symbol: number): void {
    const venue = this.#venueOf[symbol] ?? "binance";
    const ok = kind === "checksum"
      ? venue === "okx" || venue === "kraken"
      : kind === "crossed"
      ? venue === "binance"
      : venue === "bybit" || venue === "okx" || venue === "kraken" || venue === "coinbase";
    if (!ok) {
      throw new TypeError(
        `fault "${kind}" cannot apply to a ${VENUES[venue].label} symbol: ` +
          (kind === "checksum"
            ? "only OKX and Kraken send checksums"
            : kind === "crossed"
            ? "only Binance spot partial-book streams can be crossed"
            : "only Bybit, OKX, Kraken and Coinbase symbols can reset"),
      );
    }
  }
}
