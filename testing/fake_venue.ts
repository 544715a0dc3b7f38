/**
 * A tiny venue for tests of the venue runtime (`lib/ingest/venue_ingest.ts`):
 * a {@link VenueProtocol} speaking a line protocol, and a WebSocket server on
 * 127.0.0.1 speaking it back. Test code only (it parses with `split`).
 *
 * Server → client, one message each:
 * - `snap SYM SEQ BID ASK` — a snapshot: the book is one level a side (size 1);
 * - `delta SYM SEQ BID ASK` — the next update; `SEQ` must be the last + 1,
 *   otherwise a sequence gap (Resync);
 * - `crossed SYM` — rejected as crossed; `bad` — malformed, no symbol;
 * - `cut` — the connection's sequence broke (Resync of symbol -1);
 * - `ack`, `pong` — control; `err TEXT` — a venue error.
 *
 * Client → server: `sub SYM` per symbol on open, `unsub SYM` + `sub SYM` to
 * resubscribe, `ping` as the keep-alive.
 *
 * @module
 */

import {
  type VenueProtocol,
  type VenueSync,
  type VenueSyncOptions,
  VenueSyncResult,
} from "../lib/ingest/venues/venue_protocol.ts";
import type { VenueId } from "../lib/pipeline/venue_id.ts";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_LAST_UPDATE_ID,
  type BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";

/** Options of {@link fakeProtocol}. */
export interface FakeProtocolOptions {
  /** Keep-alive period, ms; 0 for none. Default 50. */
  keepaliveMs?: number;
  /** Whether one symbol can be resubscribed (otherwise the runtime reconnects). Default true. */
  resubscribe?: boolean;
  /** Most symbols per connection. Default 10. */
  maxSymbolsPerConnection?: number;
}

/** A {@link VenueProtocol} of the line protocol in the module docs, as venue `venue`. */
export function fakeProtocol(venue: VenueId, options: FakeProtocolOptions = {}): VenueProtocol {
  const { keepaliveMs = 50, resubscribe = true, maxSymbolsPerConnection = 10 } = options;
  return {
    venue,
    maxSymbolsPerConnection,
    keepalive: keepaliveMs > 0 ? { text: "ping", everyMs: keepaliveMs } : undefined,
    connectUrl: (base, symbols) => `${base}/ws?n=${symbols.length}`,
    subscribe: (symbols) => symbols.map((s) => `sub ${s}`),
    resubscribe: (s) => resubscribe ? [`unsub ${s}`, `sub ${s}`] : [],
    createSync: (o) => new FakeSync(o),
  };
}

class FakeSync implements VenueSync {
  symbolId = -1;
  readonly changed = new Int32Array(1);
  changedCount = 0;
  reason = 0;
  errorText = "";
  eventTime = NaN;
  readonly #symbols: readonly string[];
  readonly #seq: Float64Array;
  readonly #bid: Float64Array;
  readonly #ask: Float64Array;

  constructor(o: VenueSyncOptions) {
    this.#symbols = o.symbols;
    this.#seq = new Float64Array(o.symbols.length).fill(NaN);
    this.#bid = new Float64Array(o.symbols.length);
    this.#ask = new Float64Array(o.symbols.length);
  }

  handle(text: string, _receivedAt: number): VenueSyncResult {
    this.symbolId = -1;
    this.changedCount = 0;
    const [kind, sym, seqText, bid, ask] = text.split(" ");
    if (kind === "ack" || kind === "pong") return VenueSyncResult.Control;
    if (kind === "err") {
      this.errorText = text.slice(4);
      return VenueSyncResult.VenueError;
    }
    if (kind === "cut") {
      this.reason = RejectReason.SequenceGap;
      return VenueSyncResult.Resync;
    }
    const id = this.#symbols.indexOf(sym);
    if (kind === "bad" || (id < 0 && kind !== undefined)) {
      this.reason = id < 0 && kind !== "bad" ? RejectReason.UnknownStream : RejectReason.Malformed;
      return VenueSyncResult.Rejected;
    }
    this.symbolId = id;
    if (kind === "crossed") {
      this.reason = RejectReason.Crossed;
      return VenueSyncResult.Rejected;
    }
    const seq = Number(seqText);
    if (kind === "snap") {
      this.#seq[id] = seq;
    } else if (kind === "delta") {
      if (this.#seq[id] !== this.#seq[id]) {
        this.reason = RejectReason.BeforeSnapshot;
        return VenueSyncResult.Rejected;
      }
      if (seq !== this.#seq[id] + 1) {
        this.reason = RejectReason.SequenceGap;
        this.reset(id);
        return VenueSyncResult.Resync;
      }
      this.#seq[id] = seq;
    } else {
      this.reason = RejectReason.Malformed;
      return VenueSyncResult.Rejected;
    }
    this.#bid[id] = Number(bid);
    this.#ask[id] = Number(ask);
    this.eventTime = 1_700_000_000_000 + seq;
    this.changed[0] = id;
    this.changedCount = 1;
    return VenueSyncResult.Applied;
  }

  synced(symbolId: number): boolean {
    return this.#seq[symbolId] === this.#seq[symbolId];
  }

  lastSeq(symbolId: number): number {
    return this.#seq[symbolId];
  }

  writeTop(symbolId: number, f64: Float64Array, at: number, layout: BookSlotLayout): void {
    f64[at + BOOK_LAST_UPDATE_ID] = this.#seq[symbolId];
    f64[at + BOOK_BID_COUNT] = 1;
    f64[at + BOOK_ASK_COUNT] = 1;
    f64[at + layout.bidPrice(0)] = this.#bid[symbolId];
    f64[at + layout.bidSize(0)] = 1;
    f64[at + layout.askPrice(0)] = this.#ask[symbolId];
    f64[at + layout.askSize(0)] = 1;
  }

  reset(symbolId: number): void {
    this.#seq[symbolId] = NaN;
  }

  resetAll(): void {
    this.#seq.fill(NaN);
  }
}

/** One connection the {@link FakeVenueServer} accepted. */
export interface FakeVenueConn {
  /** Its socket. */
  socket: WebSocket;
  /** Every message the client sent, in order. */
  received: string[];
  /** Send a message (ignored once closed). */
  send(text: string): void;
}

/** Options of {@link FakeVenueServer}. */
export interface FakeVenueServerOptions {
  /**
   * Answers a client message: the default answers `sub SYM` with `ack` and a
   * snapshot (`snap SYM 1 100 101`) and `ping` with `pong`. Return false to
   * let the default answer too.
   */
  onMessage?: (conn: FakeVenueConn, text: string) => boolean | void;
}

/** A WebSocket server on 127.0.0.1 speaking the fake venue's line protocol. */
export class FakeVenueServer {
  /** Every connection accepted, in order. */
  readonly conns: FakeVenueConn[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #onMessage: FakeVenueServerOptions["onMessage"];

  constructor(options: FakeVenueServerOptions = {}) {
    this.#onMessage = options.onMessage;
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      const conn: FakeVenueConn = {
        socket,
        received: [],
        send: (text) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(text);
        },
      };
      this.conns.push(conn);
      socket.onerror = (e) => e.preventDefault();
      socket.onmessage = (e) => {
        const text = String(e.data);
        conn.received.push(text);
        if (this.#onMessage?.(conn, text) === true) return;
        if (text.startsWith("sub ")) {
          conn.send("ack");
          conn.send(`snap ${text.slice(4)} 1 100 101`);
        } else if (text === "ping") conn.send("pong");
      };
      return response;
    });
  }

  /** The base URL to give the protocol (`ws://127.0.0.1:PORT`). */
  get url(): string {
    return `ws://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Stop serving and close every socket. */
  async close(): Promise<void> {
    for (const c of this.conns) {
      try {
        c.socket.close();
      } catch {
        // already closed
      }
    }
    await this.#server.shutdown();
  }
}

/**
 * Poll `check` until it holds (every 10 ms, up to `timeoutMs`), then return;
 * throws with `what` when it never does.
 */
export async function waitFor(
  what: string,
  check: () => boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
