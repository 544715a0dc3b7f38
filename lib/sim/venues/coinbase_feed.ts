/**
 * The simulated Coinbase Advanced Trade market-data feed, `level2` and
 * `heartbeats` channels, WebSocket at the root path `/`. Built from Coinbase's
 * documentation and the partial frames in the repository's test data: no full
 * real `level2` recording exists.
 *
 * - Subscribe `{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}`
 *   → per product an `l2_data` message with a `snapshot` event, then a
 *   `subscriptions` message listing the connection's subscriptions
 *   (`{"level2":["BTC-USD"],"heartbeats":["heartbeats"]}`); afterwards an
 *   `l2_data` `update` event per changed frame: `{"channel":"l2_data",
 *   "client_id":"","timestamp":…,"sequence_num":…,"events":[{"type":"update",
 *   "product_id":"BTC-USD","updates":[{"side":"bid","event_time":…,
 *   "price_level":"60000.1","new_quantity":"0.5"}]}]}` (quantity "0" removes).
 *   `{"type":"subscribe","channel":"heartbeats"}` adds a `heartbeats` message
 *   every `heartbeatMs`. Unsubscribe the same way (`"type":"unsubscribe"`).
 * - `sequence_num` counts every message of the connection, whatever its
 *   channel, from 0.
 * - The simulated book publishes the top {@link COINBASE_DEPTH} levels per side
 *   (the real venue sends its whole book).
 * - The `reset` fault sends a new `snapshot` event. No checksum.
 *
 * @example
 * ```ts
 * import { startSimExchange } from "../sim_exchange.ts";
 * const sim = await startSimExchange({ symbols: ["coinbase:btc-usd"], rate: 0 });
 * const ws = new WebSocket(sim.venueUrls.coinbase.wsUrl);
 * ws.onopen = () =>
 *   ws.send('{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}');
 * ws.close();
 * await sim.close();
 * ```
 * @module
 */

import { formatTrimmed } from "./venue_decimal.ts";
import {
  isoMicros,
  parseClientJson,
  type VenueBook,
  type VenueChannel,
  type VenueFeedParts,
  type VenueSession,
  WindowedVenueFeed,
} from "./venue_feed.ts";

/**
 * Levels per side the simulated Coinbase book publishes.
 *
 * @example
 * ```ts
 * COINBASE_DEPTH; // 500
 * ```
 */
export const COINBASE_DEPTH = 500;

/** Placeholder of `sequence_num` in a message text, replaced per connection. */
const SEQ = '"sequence_num":#';

/**
 * Coinbase's `level2` feed. See the module documentation.
 *
 * @example
 * ```ts
 * import type { VenueFeedParts } from "./venue_feed.ts";
 * function coinbase(parts: VenueFeedParts): CoinbaseFeed {
 *   return new CoinbaseFeed(parts);
 * }
 * ```
 */
export class CoinbaseFeed extends WindowedVenueFeed {
  protected override checksummed(): boolean {
    return false;
  }

  /** @param parts See {@link VenueFeedParts}. */
  constructor(parts: VenueFeedParts) {
    super(parts);
  }

  protected override firstSeq(): number {
    return 0;
  }

  /** Stamps the connection's next `sequence_num` into the message. */
  protected override deliver(session: VenueSession, text: string, cut = false): void {
    const at = text.indexOf(SEQ);
    const stamped = at < 0
      ? text
      : text.slice(0, at) + '"sequence_num":' + session.sequence + text.slice(at + SEQ.length);
    if (session.conn.open) session.sequence++;
    super.deliver(session, stamped, cut);
  }

  /** A withheld message still takes its `sequence_num`: the client sees the gap. */
  protected override lost(session: VenueSession): void {
    if (session.conn.open) session.sequence++;
  }

  protected override heartbeatText(session: VenueSession, nowMs: number): string | null {
    if (!session.heartbeats) return null;
    const epoch = performance.timeOrigin + nowMs;
    const t = isoMicros(epoch);
    const current = t.slice(0, 10) + " " + t.slice(11, 26) + " +0000 UTC";
    return `{"channel":"heartbeats","client_id":"","timestamp":"${t}",${SEQ},"events":[` +
      `{"current_time":"${current}","heartbeat_counter":${session.heartbeatCount + 1}}]}`;
  }

  protected override snapshotText(ch: VenueChannel, eventTimeMs: number): string {
    return this.#message(ch, "snapshot", eventTimeMs, false);
  }

  protected override updateText(ch: VenueChannel, eventTimeMs: number): string {
    return this.#message(ch, "update", eventTimeMs, true);
  }

  protected override resetText(ch: VenueChannel, eventTimeMs: number): [string, boolean] {
    return [this.#message(ch, "snapshot", eventTimeMs, false), true];
  }

  protected override onMessage(session: VenueSession, text: string): void {
    const msg = parseClientJson(text);
    const type = msg?.type;
    const channel = msg?.channel;
    const products = msg?.product_ids ?? [];
    if (
      (type !== "subscribe" && type !== "unsubscribe") ||
      (channel !== "level2" && channel !== "heartbeats") || !Array.isArray(products) ||
      (channel === "level2" && products.length === 0)
    ) {
      return this.reject(
        session,
        `{"type":"error","message":${
          JSON.stringify(
            `Failure to subscribe: expected {"type":"subscribe","product_ids":[...],"channel":"level2"} or channel "heartbeats"`,
          )
        }}`,
      );
    }
    if (channel === "heartbeats") {
      session.heartbeats = type === "subscribe";
    } else {
      const served: VenueBook[] = [];
      for (const p of products) {
        const b = typeof p === "string" ? this.byNative.get(p) : undefined;
        if (b === undefined) {
          return this.reject(
            session,
            `{"type":"error","message":${
              JSON.stringify(`Failure to subscribe: unknown product ${p}`)
            }}`,
          );
        }
        served.push(b);
      }
      for (const b of served) {
        if (type === "subscribe") this.subscribe(session, b, COINBASE_DEPTH);
        else this.unsubscribe(session, b, COINBASE_DEPTH);
      }
    }
    this.ack(session, this.#subscriptions(session));
  }

  /** The `subscriptions` message listing what the session is subscribed to. */
  #subscriptions(session: VenueSession): string {
    const level2: string[] = [];
    for (const ch of session.channels) level2.push(ch.served.symbol.native);
    const subs: Record<string, string[]> = {};
    if (session.heartbeats) subs.heartbeats = ["heartbeats"];
    if (level2.length > 0) subs.level2 = level2;
    const t = isoMicros(performance.timeOrigin + performance.now());
    return `{"channel":"subscriptions","timestamp":"${t}",${SEQ},"events":[{"subscriptions":${
      JSON.stringify(subs)
    }}]}`;
  }

  #message(ch: VenueChannel, type: string, eventTimeMs: number, changes: boolean): string {
    const w = ch.window, spec = ch.served.book.spec;
    const pd = spec.priceDecimals, ld = spec.lotDecimals;
    const t = isoMicros(eventTimeMs);
    let s =
      `{"channel":"l2_data","client_id":"","timestamp":"${t}",${SEQ},"events":[{"type":"${type}",` +
      `"product_id":"${ch.served.symbol.native}","updates":[`;
    const head = `{"side":"bid","event_time":"${t}","price_level":"`;
    const bt = changes ? w.changedBidTicks : w.bidTicks;
    const bl = changes ? w.changedBidLots : w.bidLots;
    const nb = changes ? w.changedBidCount : w.bidCount;
    let first = true;
    for (let k = 0; k < nb; k++) {
      s += (first ? "" : ",") + head + formatTrimmed(bt[k], pd) + '","new_quantity":"' +
        formatTrimmed(bl[k], ld) + '"}';
      first = false;
    }
    const askHead = `{"side":"offer","event_time":"${t}","price_level":"`;
    const at = changes ? w.changedAskTicks : w.askTicks;
    const al = changes ? w.changedAskLots : w.askLots;
    const na = changes ? w.changedAskCount : w.askCount;
    for (let k = 0; k < na; k++) {
      s += (first ? "" : ",") + askHead + formatTrimmed(at[k], pd) + '","new_quantity":"' +
        formatTrimmed(al[k], ld) + '"}';
      first = false;
    }
    return s + "]}]}";
  }
}
