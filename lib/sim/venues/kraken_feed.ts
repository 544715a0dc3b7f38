/**
 * The simulated Kraken WebSocket v2 `book` channel (`/v2`).
 *
 * - On connect: `{"channel":"status","data":[{"api_version":"v2","connection_id":…,
 *   "system":"online","version":"2.0.8"}],"type":"update"}`.
 * - Subscribe `{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],
 *   "depth":10,"snapshot":true},"req_id":1}` (depth 10, 25, 100, 500 or 1000;
 *   default 10) → per symbol `{"method":"subscribe","result":{"channel":"book",
 *   "depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":…,
 *   "time_out":…,"req_id":1}`, then (unless `snapshot` is false) a `snapshot`
 *   and `update`s: `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD",
 *   "bids":[{"price":60000.10,"qty":0.12340000}],"asks":[],"checksum":…,
 *   "timestamp":"…"}]}`. Prices and quantities are JSON numbers written with
 *   fixed decimals, trailing zeros kept (quantities 8 decimals); a level that
 *   leaves the subscribed depth is sent with quantity 0.
 * - `checksum`: CRC32 of the top 10 asks then bids (`venue_checksum.ts`),
 *   unsigned. There are no sequence numbers: a `gap` fault (a dropped update)
 *   shows only as the next checksum not matching the client's book.
 * - `{"channel":"heartbeat"}` every `heartbeatMs` while subscribed.
 * - `{"method":"ping","req_id":n}` → `{"method":"pong","req_id":n,"time_in":…,"time_out":…}`.
 * - The `reset` fault sends a new `snapshot`; `serverShutdown` a `status`
 *   message with `"system":"maintenance"` before the close.
 *
 * @example
 * ```ts
 * import { startSimExchange } from "../sim_exchange.ts";
 * const sim = await startSimExchange({ symbols: ["kraken:btc/usd"], rate: 0 });
 * const ws = new WebSocket(sim.venueUrls.kraken.wsUrl);
 * ws.onopen = () =>
 *   ws.send('{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"]}}');
 * ws.close();
 * await sim.close();
 * ```
 * @module
 */

import { KRAKEN_CHECKSUM_LEVELS, krakenChecksum, LevelTexts } from "./venue_checksum.ts";
import { formatFixed } from "./venue_decimal.ts";
import {
  isoMicros,
  parseClientJson,
  type VenueBook,
  type VenueChannel,
  type VenueFeedParts,
  type VenueSession,
  WindowedVenueFeed,
} from "./venue_feed.ts";

/** Depths Kraken's `book` channel accepts. */
const DEPTHS = [10, 25, 100, 500, 1000];
/** Decimals of Kraken's quantities. */
const QTY_DECIMALS = 8;

/**
 * Decimals of a quantity's text: 8 as Kraken writes most pairs (trailing
 * zeros kept), fewer for an asset of whole lots (at most 4 past its lot
 * decimals), so that lots × 10^(decimals − lot decimals) stays a safe integer
 * for cheap assets traded in the hundreds of millions.
 */
function qtyDecimals(lotDecimals: number): number {
  return Math.min(QTY_DECIMALS, lotDecimals + 4);
}

/**
 * Kraken's `book` feed. See the module documentation.
 *
 * @example
 * ```ts
 * import type { VenueFeedParts } from "./venue_feed.ts";
 * function kraken(parts: VenueFeedParts): KrakenFeed {
 *   return new KrakenFeed(parts);
 * }
 * ```
 */
export class KrakenFeed extends WindowedVenueFeed {
  protected override checksummed(): boolean {
    return true;
  }
  readonly #top = new LevelTexts(KRAKEN_CHECKSUM_LEVELS);

  /** @param parts See {@link VenueFeedParts}. */
  constructor(parts: VenueFeedParts) {
    super(parts);
  }

  protected override firstSeq(): number {
    return 0;
  }

  protected override connectionId(n: number): string {
    return String(14949390454975000000n + BigInt(n));
  }

  protected override onOpen(session: VenueSession): void {
    this.deliver(
      session,
      `{"channel":"status","data":[{"api_version":"v2","connection_id":${session.id},` +
        `"system":"online","version":"2.0.8"}],"type":"update"}`,
    );
  }

  protected override shutdownNotice(session: VenueSession): string {
    return `{"channel":"status","data":[{"api_version":"v2","connection_id":${session.id},` +
      `"system":"maintenance","version":"2.0.8"}],"type":"update"}`;
  }

  protected override heartbeatText(session: VenueSession): string | null {
    return session.channels.size === 0 ? null : '{"channel":"heartbeat"}';
  }

  protected override snapshotText(ch: VenueChannel): string {
    return this.#message(ch, "snapshot", 0, false, false);
  }

  protected override updateText(ch: VenueChannel, eventTimeMs: number, bad: boolean): string {
    return this.#message(ch, "update", eventTimeMs, true, bad);
  }

  protected override resetText(ch: VenueChannel): [string, boolean] {
    return [this.#message(ch, "snapshot", 0, false, false), true];
  }

  protected override onMessage(session: VenueSession, text: string): void {
    const timeIn = isoMicros(performance.timeOrigin + performance.now());
    const msg = parseClientJson(text);
    const method = msg?.method;
    const reqId = typeof msg?.req_id === "number" ? `,"req_id":${msg.req_id}` : "";
    const times = () =>
      `"time_in":"${timeIn}","time_out":"${isoMicros(performance.timeOrigin + performance.now())}"`;
    if (method === "ping") {
      return this.pong(session, `{"method":"pong"${reqId},${times()}}`);
    }
    const params = msg?.params as Record<string, unknown> | undefined;
    if ((method !== "subscribe" && method !== "unsubscribe") || typeof params !== "object") {
      return this.reject(
        session,
        `{"error":${
          JSON.stringify(`Invalid request: expected method subscribe, unsubscribe or ping`)
        },"method":${
          JSON.stringify(typeof method === "string" ? method : "")
        },"success":false${reqId},${times()}}`,
      );
    }
    const depth = params.depth === undefined ? 10 : params.depth;
    const symbols = params.symbol;
    if (params.channel !== "book" || typeof depth !== "number" || !DEPTHS.includes(depth)) {
      return this.reject(
        session,
        `{"error":${
          JSON.stringify(
            `Unsupported channel or depth: expected channel "book" with depth ${DEPTHS.join(", ")}`,
          )
        },"method":"${method}","success":false${reqId},${times()}}`,
      );
    }
    if (!Array.isArray(symbols) || symbols.length === 0) {
      return this.reject(
        session,
        `{"error":"symbol must be a non-empty array like [\\"BTC/USD\\"]","method":"${method}","success":false${reqId},${times()}}`,
      );
    }
    const snapshot = params.snapshot !== false;
    for (const symbol of symbols) {
      const served: VenueBook | undefined = typeof symbol === "string"
        ? this.byNative.get(symbol)
        : undefined;
      if (served === undefined) {
        this.reject(
          session,
          `{"error":${
            JSON.stringify(`Currency pair not supported ${symbol}`)
          },"method":"${method}",` +
            `"success":false,"symbol":${JSON.stringify(symbol)}${reqId},${times()}}`,
        );
        continue;
      }
      const result = method === "subscribe"
        ? `{"channel":"book","depth":${depth},"snapshot":${snapshot},"symbol":"${served.symbol.native}"}`
        : `{"channel":"book","depth":${depth},"symbol":"${served.symbol.native}"}`;
      this.ack(
        session,
        `{"method":"${method}","result":${result},"success":true${reqId},${times()}}`,
      );
      if (method === "subscribe") this.subscribe(session, served, depth, snapshot);
      else this.unsubscribe(session, served, depth);
    }
  }

  #message(
    ch: VenueChannel,
    type: string,
    eventTimeMs: number,
    changes: boolean,
    bad: boolean,
  ): string {
    const w = ch.window, spec = ch.served.book.spec;
    const pd = spec.priceDecimals, qn = qtyDecimals(spec.lotDecimals), qd = qn - spec.lotDecimals;
    let s =
      `{"channel":"book","type":"${type}","data":[{"symbol":"${ch.served.symbol.native}","bids":[`;
    const bt = changes ? w.changedBidTicks : w.bidTicks;
    const bl = changes ? w.changedBidLots : w.bidLots;
    const nb = changes ? w.changedBidCount : w.bidCount;
    for (let k = 0; k < nb; k++) s += (k === 0 ? "" : ",") + level(bt[k], bl[k], pd, qn, qd);
    s += '],"asks":[';
    const at = changes ? w.changedAskTicks : w.askTicks;
    const al = changes ? w.changedAskLots : w.askLots;
    const na = changes ? w.changedAskCount : w.askCount;
    for (let k = 0; k < na; k++) s += (k === 0 ? "" : ",") + level(at[k], al[k], pd, qn, qd);
    s += '],"checksum":' + this.#checksum(ch, bad);
    return s + (type === "update" ? `,"timestamp":"${isoMicros(eventTimeMs)}"}]}` : "}]}");
  }

  /** The checksum of the view; `bad`: with the best ask's (else bid's) quantity altered. */
  #checksum(ch: VenueChannel, bad: boolean): number {
    const w = ch.window, spec = ch.served.book.spec;
    const pd = spec.priceDecimals, qn = qtyDecimals(spec.lotDecimals), qd = qn - spec.lotDecimals;
    const t = this.#top;
    const nb = t.bidCount = Math.min(KRAKEN_CHECKSUM_LEVELS, w.bidCount);
    const na = t.askCount = Math.min(KRAKEN_CHECKSUM_LEVELS, w.askCount);
    for (let k = 0; k < nb; k++) {
      t.bidPx[k] = formatFixed(w.bidTicks[k], pd);
      t.bidSz[k] = formatFixed(w.bidLots[k] * 10 ** qd, qn);
    }
    for (let k = 0; k < na; k++) {
      t.askPx[k] = formatFixed(w.askTicks[k], pd);
      t.askSz[k] = formatFixed(w.askLots[k] * 10 ** qd, qn);
    }
    if (bad && na > 0) t.askSz[0] = formatFixed((w.askLots[0] + 1) * 10 ** qd, qn);
    else if (bad && nb > 0) t.bidSz[0] = formatFixed((w.bidLots[0] + 1) * 10 ** qd, qn);
    return krakenChecksum(t);
  }
}

/** One Kraken level with number tokens: `{"price":60000.10,"qty":0.12340000}`. */
function level(ticks: number, lots: number, pd: number, qn: number, qd: number): string {
  return '{"price":' + formatFixed(ticks, pd) + ',"qty":' + formatFixed(lots * 10 ** qd, qn) + "}";
}
