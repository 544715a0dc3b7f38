/**
 * The simulated Binance USD-M futures depth streams and REST snapshot.
 *
 * - `GET /public/stream?streams=btcusdt@depth@100ms/btcusdt@depth20@100ms`
 *   (WebSocket, combined): diff events `{"stream":"btcusdt@depth@100ms","data":
 *   {"e":"depthUpdate","E":…,"T":…,"s":"BTCUSDT","U":…,"u":…,"pu":…,"b":[…],"a":[…]}}`
 *   where each event's `pu` is the previous event's `u` (a `gap` fault
 *   withholds events, so the next `pu` differs from the last `u` received);
 *   partial streams `<s>@depth5|10|20[@100ms]` carry the same envelope with
 *   the top levels. Full-depth diffs, fixed-decimal text (`"60000.10"`).
 * - `GET /fapi/v1/depth?symbol=BTCUSDT&limit=N` (5, 10, 20, 50, 100, 500,
 *   1000; default 500): `{"lastUpdateId":…,"E":…,"T":…,"bids":…,"asks":…}`.
 *   As in the real recording, `lastUpdateId` equals the `U` of the next diff
 *   event, so the bridging event satisfies `U <= lastUpdateId <= u`. Pending
 *   `rest429`/`rest418` faults answer here too (no weight is counted).
 *
 * A stream name of a symbol not simulated is accepted and delivers nothing;
 * a malformed one fails the upgrade with 400.
 *
 * @example
 * ```ts
 * import { startSimExchange } from "../sim_exchange.ts";
 * const sim = await startSimExchange({ symbols: ["binance-usdm:btcusdt"], rate: 0 });
 * const ws = new WebSocket(`${sim.venueUrls["binance-usdm"].wsUrl}/public/stream?streams=btcusdt@depth@100ms`);
 * const res = await fetch(`${sim.venueUrls["binance-usdm"].restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=5`);
 * await res.json(); // { lastUpdateId, E, T, bids, asks }
 * ws.close();
 * await sim.close();
 * ```
 * @module
 */

import { Connection, type ConnectionSet } from "../sim_connection.ts";
import type { JsonReplies } from "../sim_http.ts";
import type { SymbolFeed } from "../sim_frame_ticker.ts";
import type { SimCounters } from "../sim_stats.ts";
import type { StreamFaults } from "../sim_stream_faults.ts";
import { parseStreamName } from "../stream_name.ts";
import { formatFixed } from "./venue_decimal.ts";
import type { VenueBook } from "./venue_feed.ts";

/** Limits `/fapi/v1/depth` accepts. */
const LIMITS = [5, 10, 20, 50, 100, 500, 1000];

/**
 * The parts of {@link BinanceUsdmFeed}.
 *
 * @example
 * ```ts
 * import { ConnectionSet } from "../sim_connection.ts";
 * import { JsonReplies } from "../sim_http.ts";
 * import { SimCounters } from "../sim_stats.ts";
 * import { StreamFaults } from "../sim_stream_faults.ts";
 * const counters = new SimCounters([]);
 * const parts: BinanceUsdmParts = {
 *   books: [],
 *   connections: new ConnectionSet({ symbolCount: 0, counters }),
 *   counters,
 *   faults: new StreamFaults(0),
 *   replies: new JsonReplies(),
 * };
 * ```
 */
export interface BinanceUsdmParts {
  /** The USD-M books. */
  books: readonly VenueBook[];
  /** The shared connection set. */
  connections: ConnectionSet;
  /** The simulator's counters. */
  counters: SimCounters;
  /** The pending stream faults. */
  faults: StreamFaults;
  /** Builds and counts REST answers. */
  replies: JsonReplies;
  /** The 429/418 answers pending REST faults force (shared with Binance spot's depth endpoint). Default none. */
  forcedAnswer?: (nowMs: number) => Response | null;
}

/**
 * Binance USD-M's depth streams. See the module documentation.
 *
 * @example
 * ```ts
 * function serve(feed: BinanceUsdmFeed, req: Request): Response {
 *   const url = new URL(req.url);
 *   return url.pathname === "/fapi/v1/depth" ? feed.depth(url) : feed.upgrade(req, url);
 * }
 * ```
 */
export class BinanceUsdmFeed implements SymbolFeed {
  readonly #books: readonly VenueBook[];
  readonly #byStream: ReadonlyMap<string, VenueBook>;
  readonly #byNative: ReadonlyMap<string, VenueBook>;
  readonly #p: BinanceUsdmParts;
  /** Books by symbol index (sparse). */
  readonly #byIndex: VenueBook[] = [];
  /** `u` of the last event generated, per symbol index (sparse). */
  readonly #lastU: number[] = [];
  readonly #ticks = new Float64Array(1000);
  readonly #lots = new Float64Array(1000);
  readonly #order: Int32Array;

  /** @param parts See {@link BinanceUsdmParts}. */
  constructor(parts: BinanceUsdmParts) {
    this.#p = parts;
    this.#books = parts.books;
    this.#byStream = new Map(parts.books.map((b) => [b.symbol.native.toLowerCase(), b]));
    this.#byNative = new Map(parts.books.map((b) => [b.symbol.native, b]));
    let window = 0;
    for (const b of parts.books) {
      this.#lastU[b.index] = b.book.updateId;
      this.#byIndex[b.index] = b;
      window = Math.max(window, b.book.windowTicks);
    }
    this.#order = new Int32Array(window);
  }

  /** The USD-M books. */
  get books(): readonly VenueBook[] {
    return this.#books;
  }

  /** Answers `GET /public/stream?streams=…` (WebSocket upgrade). */
  upgrade(req: Request, url: URL): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade request\n", { status: 426 });
    }
    const { counters, replies, connections } = this.#p;
    const names = (url.searchParams.get("streams") ?? "").split("/").filter((s) => s !== "");
    if (names.length === 0 || names.length > 200) {
      counters.upgradesRejected++;
      return replies.json(
        400,
        `{"code":-1100,"msg":"streams must name 1..200 streams: /public/stream?streams=a/b/c"}`,
      );
    }
    const parsed = [];
    for (const name of names) {
      const p = parseStreamName(name);
      if ("error" in p) {
        counters.upgradesRejected++;
        return replies.json(400, JSON.stringify({ code: -1100, msg: p.error }));
      }
      parsed.push({ name, ...p });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
    const conn = new Connection(socket, true);
    for (const p of parsed) {
      const b = this.#byStream.get(p.symbol);
      if (b === undefined) counters.unknownStreams++;
      conn.subscribe(p.name, b === undefined ? -1 : b.index, p.levels);
    }
    socket.onopen = () => connections.attach(conn);
    socket.onmessage = () => {
      counters.clientErrors++;
      connections.send(
        conn,
        `{"error":{"code":2,"msg":"Invalid request: the simulator only supports streams in the URL"},"id":null}`,
      );
    };
    socket.onclose = () => connections.detach(conn);
    socket.onerror = () => connections.detach(conn);
    return response;
  }

  /** Answers `GET /fapi/v1/depth?symbol=…&limit=…`. */
  depth(url: URL): Response {
    const replies = this.#p.replies;
    const forced = this.#p.forcedAnswer?.(performance.now()) ?? null;
    if (forced !== null) return forced;
    const symbol = url.searchParams.get("symbol") ?? "";
    const b = this.#byNative.get(symbol);
    if (b === undefined) return replies.json(400, `{"code":-1121,"msg":"Invalid symbol."}`);
    const limitText = url.searchParams.get("limit");
    const limit = limitText === null ? 500 : Number(limitText);
    if (!LIMITS.includes(limit)) {
      return replies.json(
        400,
        JSON.stringify({
          code: -1102,
          msg: `limit must be one of ${LIMITS.join(", ")}, got ${limitText}`,
        }),
      );
    }
    const now = Math.floor(performance.timeOrigin + performance.now());
    const book = b.book, spec = book.spec;
    let s = `{"lastUpdateId":${book.updateId + 1},"E":${now},"T":${now - 2},"bids":`;
    s += this.#levels(
      book.topBids(limit, this.#ticks, this.#lots),
      spec.priceDecimals,
      spec.lotDecimals,
    );
    s += ',"asks":';
    s += this.#levels(
      book.topAsks(limit, this.#ticks, this.#lots),
      spec.priceDecimals,
      spec.lotDecimals,
    );
    return replies.json(200, s + "}");
  }

  /** Sends the frame just generated for symbol `i` (the frame ticker calls it). */
  emit(i: number, nowMs: number, eventTimeMs: number): void {
    const b = this.#byIndex[i];
    if (b === undefined) return;
    const book = b.book;
    const changed = book.changedBidCount + book.changedAskCount > 0;
    const pu = this.#lastU[i];
    if (changed) this.#lastU[i] = book.updateId;
    const { connections, counters, faults } = this.#p;
    const subs = connections.bySymbol[i];
    if (subs.length === 0) return;
    const stalled = faults.stallUntil[i] > nowMs;
    const withhold = changed && !stalled && faults.gapPending[i] > 0;
    const cut = faults.truncatedPending[i] > 0;
    const E = Math.floor(eventTimeMs);
    const head = `{"e":"depthUpdate","E":${E},"T":${E - 3},"s":"${b.symbol.native}",`;
    let diff: string | undefined;
    let anySent = false;
    for (let k = 0; k < subs.length; k++) {
      const sub = subs[k];
      let data: string;
      if (sub.levels === 0) {
        if (!changed || withhold) continue;
        diff ??= head + `"U":${book.frameFirstUpdateId},"u":${book.updateId},"pu":${pu},` +
          this.#changes(b);
        data = diff;
      } else {
        const spec = book.spec;
        data = head + `"U":${book.frameFirstUpdateId},"u":${book.updateId},"pu":${pu},"b":` +
          this.#levels(
            book.topBids(sub.levels, this.#ticks, this.#lots),
            spec.priceDecimals,
            spec.lotDecimals,
          ) +
          ',"a":' +
          this.#levels(
            book.topAsks(sub.levels, this.#ticks, this.#lots),
            spec.priceDecimals,
            spec.lotDecimals,
          ) +
          "}";
      }
      if (stalled) {
        counters.framesStalled++;
        continue;
      }
      let message = sub.prefix + data + "}";
      if (cut) message = message.slice(0, message.length >> 1);
      connections.send(sub.conn, message);
      counters.framesSent[i]++;
      counters.updatesSent[i]++;
      anySent = true;
    }
    if (withhold) {
      faults.gapPending[i]--;
      counters.gapEventsDropped[i]++;
    }
    if (cut && anySent) {
      faults.truncatedPending[i]--;
      counters.framesTruncated++;
    }
  }

  /** `[["p","q"],…]` of the first `n` scratch levels. */
  #levels(n: number, pd: number, ld: number): string {
    let s = "[";
    for (let k = 0; k < n; k++) {
      s += (k === 0 ? '["' : ',["') + formatFixed(this.#ticks[k], pd) + '","' +
        formatFixed(this.#lots[k], ld) + '"]';
    }
    return s + "]";
  }

  /** `"b":[…],"a":[…]}` of the book's last frame, best first. */
  #changes(b: VenueBook): string {
    const book = b.book, spec = book.spec, order = this.#order;
    const pd = spec.priceDecimals, ld = spec.lotDecimals;
    const nb = book.changedBidCount, na = book.changedAskCount;
    let s = '"b":[';
    order.set(book.changedBids.subarray(0, nb));
    order.subarray(0, nb).sort();
    for (let k = nb - 1; k >= 0; k--) {
      const i = order[k];
      s += (k === nb - 1 ? '["' : ',["') + formatFixed(book.origin + i, pd) + '","' +
        formatFixed(book.bids[i], ld) + '"]';
    }
    s += '],"a":[';
    order.set(book.changedAsks.subarray(0, na));
    order.subarray(0, na).sort();
    for (let k = 0; k < na; k++) {
      const i = order[k];
      s += (k === 0 ? '["' : ',["') + formatFixed(book.origin + i, pd) + '","' +
        formatFixed(book.asks[i], ld) + '"]';
    }
    return s + "]}";
  }
}
