/**
 * The overview's live feed: a WebSocket to `/ws?summary=1` (protocol:
 * `proto/market.proto`) that follows no symbol and receives one
 * `MarketSummary` per second for every symbol.
 *
 * It keeps only the newest summary's bytes (a summary is a complete
 * snapshot, so one not yet drawn is simply replaced: the page conflates too)
 * and tells `onSummary`; the page decodes them when it draws
 * ({@linkcode SummaryFeed.take}), at most once per animation frame. The
 * Hello that opens each connection gives the server's symbol list
 * (`onSymbols`, which may differ after a server restart). It reconnects after
 * any loss with exponential backoff and full jitter (0.5 s doubling to 10 s),
 * and after `staleAfterMs` without a message (a summary comes every second).
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts ignore
 * import { SummaryFeed } from "./summary_feed.ts";
 * const feed = new SummaryFeed({
 *   url: new URL("/ws", location.href),
 *   onSymbols: (symbols) => console.log(symbols.length),
 *   onSummary: () => console.log(feed.take()?.byteLength),
 *   onState: (state) => console.log(state),
 * });
 * feed.close();
 * ```
 * @module
 */
import { fromBinary } from "@bufbuild/protobuf";
import { ServerMessageSchema } from "../../proto/gen/market_pb.ts";
import { Backoff } from "../pipeline/backoff.ts";

/** The first byte of a `ServerMessage { summary }`: its tag (the summary is written first). */
const SUMMARY_TAG = (ServerMessageSchema.field.summary.number << 3) | 2;

/** Connection state of a {@linkcode SummaryFeed}. */
export type SummaryFeedState = "connecting" | "live" | "reconnecting" | "closed";

/** Options of {@linkcode SummaryFeed}. */
export interface SummaryFeedOptions {
  /** The feed's URL (`ws:`/`wss:` or `http:`/`https:`, which is turned into ws); `summary=1` is added. Required. */
  url: string | URL;
  /** A summary arrived (read it with `take`). Required. */
  onSummary: () => void;
  /** A connection's Hello: the server's symbols, upper-case, in summary column order. Default none. */
  onSymbols?: (symbols: readonly string[], epoch: string) => void;
  /** Connection state changes. Default none. */
  onState?: (state: SummaryFeedState) => void;
  /** Reconnect when nothing arrived for this long, ms. Default 5000. */
  staleAfterMs?: number;
}

/**
 * See the module docs.
 *
 * @example
 * ```ts ignore
 * const feed = new SummaryFeed({ url: "ws://127.0.0.1:8000/ws", onSummary: () => {} });
 * ```
 */
export class SummaryFeed {
  readonly #url: URL;
  readonly #options: SummaryFeedOptions;
  readonly #backoff = new Backoff({ baseMs: 500, capMs: 10_000 });
  readonly #staleAfterMs: number;
  #ws: WebSocket | null = null;
  #latest: Uint8Array | null = null;
  #lastMessageAt = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #summaries = 0;

  /** Connects at once. */
  constructor(options: SummaryFeedOptions) {
    const url = new URL(options.url);
    if (url.protocol === "http:") url.protocol = "ws:";
    if (url.protocol === "https:") url.protocol = "wss:";
    url.searchParams.set("summary", "1");
    url.searchParams.delete("symbol");
    this.#url = url;
    this.#options = options;
    this.#staleAfterMs = options.staleAfterMs ?? 5000;
    this.#connect();
    this.#watchdog = setInterval(() => {
      const ws = this.#ws;
      if (
        ws && ws.readyState === WebSocket.OPEN &&
        Date.now() - this.#lastMessageAt > this.#staleAfterMs
      ) {
        ws.close(4000, "no summary for too long");
        this.#lost(ws);
      }
    }, 1000);
  }

  /** Summaries received so far. */
  get summaries(): number {
    return this.#summaries;
  }

  /** The newest summary's bytes not yet taken (a `ServerMessage`), or null; taking clears it. */
  take(): Uint8Array | null {
    const bytes = this.#latest;
    this.#latest = null;
    return bytes;
  }

  /** Close for good. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    clearInterval(this.#watchdog);
    this.#ws?.close(1000, "page closed");
    this.#ws = null;
    this.#options.onState?.("closed");
  }

  #connect(): void {
    if (this.#closed) return;
    this.#options.onState?.("connecting");
    const ws = new WebSocket(this.#url);
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#lastMessageAt = Date.now();
    ws.onmessage = (event) => this.#message(event.data);
    ws.onclose = () => this.#lost(ws);
  }

  #message(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    this.#lastMessageAt = Date.now();
    const bytes = new Uint8Array(data);
    if (bytes[0] === SUMMARY_TAG) {
      this.#latest = bytes;
      this.#summaries++;
      this.#options.onSummary();
      return;
    }
    let message;
    try {
      message = fromBinary(ServerMessageSchema, bytes);
    } catch {
      return; // not ours to judge: the next summary replaces it
    }
    if (message.kind.case === "hello") {
      this.#backoff.reset();
      this.#options.onState?.("live");
      this.#options.onSymbols?.(message.kind.value.symbols, message.kind.value.epoch);
    }
  }

  #lost(ws: WebSocket): void {
    if (this.#ws !== ws || this.#closed) return;
    this.#ws = null;
    ws.onmessage = null;
    ws.onclose = null;
    this.#options.onState?.("reconnecting");
    this.#retry = setTimeout(() => this.#connect(), this.#backoff.next());
  }
}
