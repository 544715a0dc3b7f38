/**
 * The simulated OKX v5 public `books` channel (`/ws/v5/public`): 400 levels
 * per side, sizes and prices written without trailing zeros, every level
 * `[px, sz, "0", orders]`. Also `books5`: the top 5 levels per side pushed
 * whole whenever they change (`seqId`, no action, no checksum, as recorded in
 * 2026).
 *
 * Sizes: spot instIds (`BTC-USDT`) in base units; derivatives (`BTC-USDT-SWAP`,
 * futures `BTC-USDT-250328`) in contracts, as OKX sends them: base size /
 * `ctVal`, written with the instrument's lot decimals (the base lot decimals
 * less those of `ctVal`), so a client that forgets the conversion shows sizes
 * 100 times too large for BTC. `ctVal` is deterministic
 * ({@link okxSimContractValue}: 0.01 for BTC, 0.1 for ETH, 1 for the others;
 * every simulated contract is linear, `ctValCcy` the base asset).
 * {@link OkxFeed.instruments} answers `GET /api/v5/public/instruments?instType=…`
 * with them (`venue_router.ts`).
 *
 * - Subscribe `{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}`
 *   → per arg `{"event":"subscribe","arg":{…},"connId":"…"}`, then
 *   `{"arg":{…},"action":"snapshot","data":[{"asks":…,"bids":…,"ts":"…",
 *   "checksum":…,"prevSeqId":-1,"seqId":…}]}` and `update`s whose `prevSeqId`
 *   is the previous `seqId`. An unknown channel or instId → `{"event":"error",
 *   "code":"60018",…}`. Unsubscribe the same way (`"op":"unsubscribe"`).
 * - `checksum`: CRC32 over the top 25 levels (`venue_checksum.ts`), signed.
 * - After `keepAliveFrames` frames without a change (see the `quiet` fault)
 *   an empty update with `seqId` == `prevSeqId` (= the last `seqId`).
 * - Plain-text `ping` → `pong`.
 * - The `serverShutdown` fault sends OKX's notice
 *   `{"event":"notice","code":"64008",…}` before the close.
 * - The `reset` fault sends a sequence reset: an update whose `seqId` is
 *   lower than its `prevSeqId` (the following updates chain from it).
 *
 * @example
 * ```ts
 * import { startSimExchange } from "../sim_exchange.ts";
 * const sim = await startSimExchange({ symbols: ["okx:btc-usdt"], rate: 0 });
 * const ws = new WebSocket(sim.venueUrls.okx.wsUrl);
 * ws.onopen = () =>
 *   ws.send('{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}');
 * ws.close();
 * await sim.close();
 * ```
 * @module
 */

import { LevelTexts, OKX_CHECKSUM_LEVELS, okxChecksum } from "./venue_checksum.ts";
import { formatTrimmed } from "./venue_decimal.ts";
import {
  parseClientJson,
  type VenueBook,
  type VenueChannel,
  type VenueFeedParts,
  type VenueSession,
  WindowedVenueFeed,
} from "./venue_feed.ts";

/**
 * Levels per side of OKX's `books` channel.
 *
 * @example
 * ```ts
 * OKX_BOOKS_DEPTH; // 400
 * ```
 */
export const OKX_BOOKS_DEPTH = 400;
/**
 * Levels per side of OKX's `books5` channel.
 *
 * @example
 * ```ts
 * OKX_BOOKS5_DEPTH; // 5
 * ```
 */
export const OKX_BOOKS5_DEPTH = 5;

/**
 * OKX's `books` feed. See the module documentation.
 *
 * @example
 * ```ts
 * import type { VenueFeedParts } from "./venue_feed.ts";
 * function okx(parts: VenueFeedParts): OkxFeed {
 *   return new OkxFeed(parts);
 * }
 * ```
 */
export class OkxFeed extends WindowedVenueFeed {
  /** Decimals of the size texts, by symbol index (lot decimals less the contract value's). */
  readonly #sizeDecimals: Int8Array;
  /** `books` updates carry a checksum; `books5` pushes do not. */
  protected override checksummed(ch: VenueChannel): boolean {
    return ch.depth === OKX_BOOKS_DEPTH;
  }
  readonly #top = new LevelTexts(OKX_CHECKSUM_LEVELS);

  /** @param parts See {@link VenueFeedParts}. */
  constructor(parts: VenueFeedParts) {
    super(parts);
    let last = 0;
    for (const b of parts.books) last = Math.max(last, b.index);
    this.#sizeDecimals = new Int8Array(last + 1);
    for (const b of parts.books) {
      const ld = b.book.spec.lotDecimals;
      const ct = okxSimContractValue(b.symbol.native);
      if (ct !== null && ct.decimals > ld) {
        throw new RangeError(
          `OKX ${b.symbol.native}: the contract value ${ct.text} is finer than a lot (${ld} decimals)`,
        );
      }
      this.#sizeDecimals[b.index] = ld - (ct?.decimals ?? 0);
    }
  }

  /**
   * The answer to `GET /api/v5/public/instruments?instType=T[&instId=I]`:
   * the simulated instruments of type `T` (`SPOT`, `SWAP`, `FUTURES`), as
   * OKX's v5 API writes them; a missing or unknown `instType` is OKX's
   * error `50014` / `51000` with HTTP 400.
   */
  instruments(url: URL): { status: number; body: string } {
    const instType = url.searchParams.get("instType") ?? "";
    const instId = url.searchParams.get("instId");
    if (instType === "") {
      return {
        status: 400,
        body: '{"code":"50014","msg":"Parameter instType can not be empty.","data":[]}',
      };
    }
    if (instType !== "SPOT" && instType !== "SWAP" && instType !== "FUTURES") {
      return {
        status: 400,
        body: `{"code":"51000","msg":${JSON.stringify(`Parameter instType error`)},"data":[]}`,
      };
    }
    const data: string[] = [];
    for (const b of this.books) {
      const native = b.symbol.native;
      if (okxSimInstType(native) !== instType || (instId !== null && instId !== native)) continue;
      const [base, quote] = native.split("-");
      const ct = okxSimContractValue(native);
      const spec = b.book.spec;
      const lot = formatTrimmed(1, this.#sizeDecimals[b.index]);
      const expiry = instType === "FUTURES" ? native.split("-")[2] : "";
      data.push(JSON.stringify({
        instType,
        instId: native,
        uly: ct === null ? "" : `${base}-${quote}`,
        instFamily: ct === null ? "" : `${base}-${quote}`,
        baseCcy: ct === null ? base : "",
        quoteCcy: ct === null ? quote : "",
        settleCcy: ct === null ? "" : quote,
        ctVal: ct?.text ?? "",
        ctMult: ct === null ? "" : "1",
        ctValCcy: ct === null ? "" : base,
        ctType: ct === null ? "" : "linear",
        alias: expiry === "" ? "" : "quarter",
        expTime: expiry === "" ? "" : String(Date.UTC(
          2000 + Number(expiry.slice(0, 2)),
          Number(expiry.slice(2, 4)) - 1,
          Number(expiry.slice(4, 6)),
          8,
        )),
        lever: ct === null ? "10" : "100",
        listTime: "1573557408000",
        lotSz: lot,
        minSz: lot,
        tickSz: formatTrimmed(1, spec.priceDecimals),
        state: "live",
      }));
    }
    return { status: 200, body: `{"code":"0","msg":"","data":[${data.join(",")}]}` };
  }

  protected override firstSeq(served: VenueBook): number {
    return 70_000_000_000 + served.book.updateId;
  }

  protected override connectionId(n: number): string {
    return (0xa0000000 + n).toString(16);
  }

  protected override shutdownNotice(session: VenueSession): string {
    return `{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"${session.id}"}`;
  }

  protected override snapshotText(ch: VenueChannel, eventTimeMs: number): string {
    if (ch.depth === OKX_BOOKS5_DEPTH) return this.#books5(ch, eventTimeMs);
    return this.#message(ch, "snapshot", eventTimeMs, false, false, -1);
  }

  protected override updateText(ch: VenueChannel, eventTimeMs: number, bad: boolean): string {
    if (ch.depth === OKX_BOOKS5_DEPTH) {
      ch.seq += ch.window.changedBidCount + ch.window.changedAskCount;
      return this.#books5(ch, eventTimeMs);
    }
    const prev = ch.seq;
    ch.seq += ch.window.changedBidCount + ch.window.changedAskCount;
    return this.#message(ch, "update", eventTimeMs, true, bad, prev);
  }

  protected override keepAliveText(ch: VenueChannel, eventTimeMs: number): string | null {
    if (ch.depth === OKX_BOOKS5_DEPTH) return null;
    const w = ch.window;
    w.changedBidCount = w.changedAskCount = 0;
    return this.#message(ch, "update", eventTimeMs, true, false, ch.seq);
  }

  protected override resetText(ch: VenueChannel, eventTimeMs: number): [string, boolean] {
    if (ch.depth === OKX_BOOKS5_DEPTH) return [this.#books5(ch, eventTimeMs), true];
    const prev = ch.seq;
    ch.seq = Math.floor(prev / 2);
    return [this.#message(ch, "update", eventTimeMs, true, false, prev), false];
  }

  protected override onMessage(session: VenueSession, text: string): void {
    if (text === "ping") return this.pong(session, "pong");
    const msg = parseClientJson(text);
    const op = msg?.op;
    const args = msg?.args;
    if ((op !== "subscribe" && op !== "unsubscribe") || !Array.isArray(args) || args.length === 0) {
      return this.reject(
        session,
        `{"event":"error","code":"60012","msg":${
          JSON.stringify(`Invalid request: ${text.slice(0, 200)}`)
        },"connId":"${session.id}"}`,
      );
    }
    for (const arg of args) {
      const channel = typeof arg?.channel === "string" ? arg.channel : "";
      const instId = typeof arg?.instId === "string" ? arg.instId : "";
      const served = this.byNative.get(instId);
      const argText = `{"channel":${JSON.stringify(channel)},"instId":${JSON.stringify(instId)}}`;
      const depth = channel === "books" ? OKX_BOOKS_DEPTH : OKX_BOOKS5_DEPTH;
      if ((channel !== "books" && channel !== "books5") || served === undefined) {
        this.reject(
          session,
          `{"event":"error","code":"60018","msg":${
            JSON.stringify(
              `Wrong URL or channel:${channel},instId:${instId} doesn't exist. Please use the correct URL, channel and parameters referring to API document.`,
            )
          },"connId":"${session.id}"}`,
        );
        continue;
      }
      this.ack(session, `{"event":"${op}","arg":${argText},"connId":"${session.id}"}`);
      if (op === "subscribe") this.subscribe(session, served, depth);
      else this.unsubscribe(session, served, depth);
    }
  }

  #message(
    ch: VenueChannel,
    action: string,
    eventTimeMs: number,
    changes: boolean,
    bad: boolean,
    prevSeqId: number,
  ): string {
    const w = ch.window, spec = ch.served.book.spec, native = ch.served.symbol.native;
    const pd = spec.priceDecimals, ld = this.#sizeDecimals[ch.served.index];
    let s =
      `{"arg":{"channel":"books","instId":"${native}"},"action":"${action}","data":[{"asks":[`;
    const at = changes ? w.changedAskTicks : w.askTicks;
    const al = changes ? w.changedAskLots : w.askLots;
    const na = changes ? w.changedAskCount : w.askCount;
    for (let k = 0; k < na; k++) s += (k === 0 ? "" : ",") + level(at[k], al[k], pd, ld);
    s += '],"bids":[';
    const bt = changes ? w.changedBidTicks : w.bidTicks;
    const bl = changes ? w.changedBidLots : w.bidLots;
    const nb = changes ? w.changedBidCount : w.bidCount;
    for (let k = 0; k < nb; k++) s += (k === 0 ? "" : ",") + level(bt[k], bl[k], pd, ld);
    return s + `],"ts":"${Math.floor(eventTimeMs)}","checksum":${this.#checksum(ch, bad)},` +
      `"prevSeqId":${prevSeqId},"seqId":${ch.seq}}]}`;
  }

  /** A `books5` push: the top 5 levels per side, `seqId`, no action, no checksum. */
  #books5(ch: VenueChannel, eventTimeMs: number): string {
    const w = ch.window, spec = ch.served.book.spec, native = ch.served.symbol.native;
    const pd = spec.priceDecimals, ld = this.#sizeDecimals[ch.served.index];
    let s = `{"arg":{"channel":"books5","instId":"${native}"},"data":[{"asks":[`;
    for (let k = 0; k < w.askCount; k++) {
      s += (k === 0 ? "" : ",") + level(w.askTicks[k], w.askLots[k], pd, ld);
    }
    s += '],"bids":[';
    for (let k = 0; k < w.bidCount; k++) {
      s += (k === 0 ? "" : ",") + level(w.bidTicks[k], w.bidLots[k], pd, ld);
    }
    return s + `],"instId":"${native}","ts":"${Math.floor(eventTimeMs)}","seqId":${ch.seq}}]}`;
  }

  /** The checksum of the channel's view; `bad`: with the best bid's (else ask's) size one lot larger. */
  #checksum(ch: VenueChannel, bad: boolean): number {
    const w = ch.window, spec = ch.served.book.spec;
    const pd = spec.priceDecimals, ld = this.#sizeDecimals[ch.served.index];
    const t = this.#top;
    const nb = t.bidCount = Math.min(OKX_CHECKSUM_LEVELS, w.bidCount);
    const na = t.askCount = Math.min(OKX_CHECKSUM_LEVELS, w.askCount);
    for (let k = 0; k < nb; k++) {
      t.bidPx[k] = formatTrimmed(w.bidTicks[k], pd);
      t.bidSz[k] = formatTrimmed(w.bidLots[k], ld);
    }
    for (let k = 0; k < na; k++) {
      t.askPx[k] = formatTrimmed(w.askTicks[k], pd);
      t.askSz[k] = formatTrimmed(w.askLots[k], ld);
    }
    if (bad && nb > 0) t.bidSz[0] = formatTrimmed(w.bidLots[0] + 1, ld);
    else if (bad && na > 0) t.askSz[0] = formatTrimmed(w.askLots[0] + 1, ld);
    return okxChecksum(t);
  }
}

/** One OKX level: `["px","sz","0","orders"]`; a removed level has size and orders "0". */
function level(ticks: number, lots: number, pd: number, ld: number): string {
  const orders = lots === 0 ? 0 : 1 + (lots % 23);
  return '["' + formatTrimmed(ticks, pd) + '","' + formatTrimmed(lots, ld) + '","0","' + orders +
    '"]';
}

/**
 * The OKX instrument type of a simulated instId: `SWAP` (`…-SWAP`), `FUTURES`
 * (`…-yymmdd`) or `SPOT`.
 *
 * @example
 * ```ts
 * okxSimInstType("BTC-USDT-SWAP"); // "SWAP"
 * okxSimInstType("BTC-USDT"); // "SPOT"
 * ```
 */
export function okxSimInstType(native: string): "SPOT" | "SWAP" | "FUTURES" {
  if (native.endsWith("-SWAP")) return "SWAP";
  if (/-\d{6}$/.test(native)) return "FUTURES";
  return "SPOT";
}

/**
 * The simulated contract value of an OKX derivative, in base units (null for
 * spot): 0.01 BTC, 0.1 ETH, 1 of any other base asset; `decimals` is the
 * number of its decimals (a size in contracts has that many fewer than in
 * base units).
 *
 * @example
 * ```ts
 * okxSimContractValue("BTC-USDT-SWAP"); // { text: "0.01", decimals: 2 }
 * okxSimContractValue("BTC-USDT"); // null
 * ```
 */
export function okxSimContractValue(native: string): { text: string; decimals: number } | null {
  if (okxSimInstType(native) === "SPOT") return null;
  const base = native.slice(0, native.indexOf("-"));
  if (base === "BTC") return { text: "0.01", decimals: 2 };
  if (base === "ETH") return { text: "0.1", decimals: 1 };
  return { text: "1", decimals: 0 };
}
