/**
 * The simulated Bybit v5 public order book (`/v5/public/spot` and
 * `/v5/public/linear`; both serve every `bybit:` symbol).
 *
 * - Subscribe `{"op":"subscribe","args":["orderbook.50.BTCUSDT"],"req_id":"1"}`
 *   (depths 1, 50, 200, 500, 1000) → `{"success":true,"ret_msg":"","conn_id":"…",
 *   "req_id":"1","op":"subscribe"}`, then per topic a `snapshot` and `delta`s:
 *   `{"topic":…,"type":"delta","ts":…,"data":{"s":"BTCUSDT","b":[["71423.80","0.557"]],
 *   "a":[…],"u":…,"seq":…},"cts":…}` with `u` = previous `u` + 1 and `seq` increasing.
 *   An unknown topic or symbol, or a topic already subscribed, fails the whole
 *   request (`success:false`, `ret_msg` says why).
 * - Unsubscribe the same way (`"op":"unsubscribe"`).
 * - `{"op":"ping"}` → `{"success":true,"ret_msg":"pong","conn_id":…,"req_id":…,"op":"ping"}`.
 * - The `reset` fault sends a new `snapshot` with `u` = 1 (Bybit's service
 *   restart); deltas continue from 2. Bybit has no checksum.
 *
 * @example
 * ```ts
 * import { startSimExchange } from "../sim_exchange.ts";
 * const sim = await startSimExchange({ symbols: ["bybit:btcusdt"], rate: 0 });
 * const ws = new WebSocket(sim.venueUrls.bybit.wsUrl);
 * ws.onopen = () => ws.send('{"op":"subscribe","args":["orderbook.50.BTCUSDT"]}');
 * // … ack, snapshot, then a delta per sim.step()
 * ws.close();
 * await sim.close();
 * ```
 * @module
 */

import { formatFixed } from "./venue_decimal.ts";
import {
  parseClientJson,
  type VenueBook,
  type VenueChannel,
  type VenueSession,
  WindowedVenueFeed,
} from "./venue_feed.ts";

/** Depths of Bybit's `orderbook.<depth>.<symbol>` topics. */
const DEPTHS = [1, 50, 200, 500, 1000];
const TOPIC_RE = /^orderbook\.(\d+)\.([A-Z0-9]+)$/;

/**
 * Bybit's order-book feed. See the module documentation.
 *
 * @example
 * ```ts
 * import type { VenueFeedParts } from "./venue_feed.ts";
 * function bybit(parts: VenueFeedParts): BybitFeed {
 *   return new BybitFeed(parts);
 * }
 * ```
 */
export class BybitFeed extends WindowedVenueFeed {
  protected override checksummed(): boolean {
    return false;
  }

  protected override firstSeq(served: VenueBook, depth: number): number {
    return 10_000_000 + (served.book.updateId % 1_000_000) * 10 + depth;
  }

  protected override connectionId(n: number): string {
    return "sim" + n.toString(36).padStart(16, "0") + "-bybit";
  }

  protected override snapshotText(ch: VenueChannel, eventTimeMs: number): string {
    return this.#book(ch, "snapshot", eventTimeMs, false);
  }

  protected override updateText(ch: VenueChannel, eventTimeMs: number): string {
    ch.seq++;
    return this.#book(ch, "delta", eventTimeMs, true);
  }

  protected override resetText(ch: VenueChannel, eventTimeMs: number): [string, boolean] {
    ch.seq = 1;
    return [this.#book(ch, "snapshot", eventTimeMs, false), true];
  }

  protected override onMessage(session: VenueSession, text: string): void {
    const msg = parseClientJson(text);
    const op = typeof msg?.op === "string" ? msg.op : "";
    const reqId = typeof msg?.req_id === "string" ? msg.req_id : "";
    const answer = (success: boolean, retMsg: string) =>
      `{"success":${success},"ret_msg":${JSON.stringify(retMsg)},"conn_id":"${session.id}",` +
      `"req_id":${JSON.stringify(reqId)},"op":${JSON.stringify(op)}}`;
    if (op === "ping") return this.pong(session, answer(true, "pong"));
    if (op !== "subscribe" && op !== "unsubscribe") {
      return this.reject(
        session,
        answer(
          false,
          `error:unsupported op ${JSON.stringify(op)}: expected subscribe, unsubscribe or ping`,
        ),
      );
    }
    const args = msg?.args;
    if (!Array.isArray(args) || args.length === 0) {
      return this.reject(session, answer(false, "error:args must be a non-empty array of topics"));
    }
    const wanted: [VenueBook, number][] = [];
    for (const arg of args) {
      const m = typeof arg === "string" ? TOPIC_RE.exec(arg) : null;
      const depth = m === null ? 0 : Number(m[1]);
      const served = m === null ? undefined : this.byNative.get(m[2]);
      if (m === null || !DEPTHS.includes(depth) || served === undefined) {
        return this.reject(session, answer(false, `error:handler not found,topic:${arg}`));
      }
      const has = this.channelOf(session, served, depth) !== null;
      if (op === "subscribe" && has) {
        return this.reject(session, answer(false, `error:already subscribed,topic:${arg}`));
      }
      if (op === "unsubscribe" && !has) {
        return this.reject(session, answer(false, `error:not subscribed,topic:${arg}`));
      }
      wanted.push([served, depth]);
    }
    this.ack(session, answer(true, ""));
    for (const [served, depth] of wanted) {
      if (op === "subscribe") this.subscribe(session, served, depth);
      else this.unsubscribe(session, served, depth);
    }
  }

  #book(ch: VenueChannel, type: string, eventTimeMs: number, changes: boolean): string {
    const w = ch.window, spec = ch.served.book.spec, native = ch.served.symbol.native;
    const pd = spec.priceDecimals, ld = spec.lotDecimals;
    const ts = Math.floor(eventTimeMs);
    let s = `{"topic":"orderbook.${ch.depth}.${native}","type":"${type}","ts":${ts},` +
      `"data":{"s":"${native}","b":[`;
    const bt = changes ? w.changedBidTicks : w.bidTicks;
    const bl = changes ? w.changedBidLots : w.bidLots;
    const nb = changes ? w.changedBidCount : w.bidCount;
    for (let k = 0; k < nb; k++) {
      s += (k === 0 ? '["' : ',["') + formatFixed(bt[k], pd) + '","' + formatFixed(bl[k], ld) +
        '"]';
    }
    s += '],"a":[';
    const at = changes ? w.changedAskTicks : w.askTicks;
    const al = changes ? w.changedAskLots : w.askLots;
    const na = changes ? w.changedAskCount : w.askCount;
    for (let k = 0; k < na; k++) {
      s += (k === 0 ? '["' : ',["') + formatFixed(at[k], pd) + '","' + formatFixed(al[k], ld) +
        '"]';
    }
    return s + '],"u":' + ch.seq + ',"seq":' + ch.served.book.updateId + '},"cts":' + (ts - 2) +
      "}";
  }
}
