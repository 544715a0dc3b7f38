/**
 * N WebSocket clients of one depthwatch service (`GET /ws`), each subscribed
 * to one symbol (client i gets symbol i mod the number of symbols), counting
 * what they receive: hellos, frames per client, frames missed by `seq` jumps
 * (conflated away by the hub; a client does not resync, to keep its own load
 * constant), closes by code, and the lag from each frame stamp to the
 * client's receive time in {@link LagHistogram}s. Frames are counted only
 * while {@link FanoutClients.measuring} is set; the first frame of every
 * client is noted whatever the phase, so a caller can wait until all receive.
 *
 * @example
 * ```ts ignore
 * const clients = new FanoutClients(100, { url: "http://127.0.0.1:8000/", symbols: ["BTCUSDT"] });
 * await clients.connect(50, console.error);
 * await clients.untilFlowing(20_000);
 * clients.measuring = true;
 * await new Promise((r) => setTimeout(r, 3000));
 * clients.measuring = false;
 * console.log(clients.lag.sent.summary(), clients.framesPerClient());
 * clients.close();
 * ```
 * @module
 */

import { LagHistogram } from "./lag_histogram.ts";
import {
  decodeFrameStamps,
  type FrameStamps,
  MessageKind,
  newFrameStamps,
  scanFrameStamps,
} from "./frame_stamps.ts";

/** Options of {@link FanoutClients}. */
export interface FanoutClientsOptions {
  /** Base URL of the service, e.g. `http://127.0.0.1:8000/`. Required. */
  url: string;
  /** Symbols, round-robin over the clients. Required, not empty. */
  symbols: readonly string[];
  /** Auth token sent as `?token=` when the service needs one. Default none. */
  token?: string;
  /** Ms allowed for one handshake (open). Default 20000. */
  connectTimeoutMs?: number;
  /** `"scan"` reads the stamps with the wire scanner; `"full"` decodes with `@bufbuild/protobuf`. Default `"scan"`. */
  decode?: "scan" | "full";
}

/** Epoch ms with sub-ms resolution, the clock of the service's stamps on this machine. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The clients and their counts (see the module doc). Counters are public
 * fields, read by the load run when the window closes.
 *
 * @example
 * ```ts ignore
 * const clients = new FanoutClients(10, { url, symbols: ["BTCUSDT", "ETHUSDT"], decode: "full" });
 * const connected = await clients.connect(5, () => {});
 * ```
 */
export class FanoutClients {
  /** Lag from each stamp to the client's receive time, ms, frames in the window only. */
  readonly lag = {
    sent: new LagHistogram(),
    analysed: new LagHistogram(),
    receive: new LagHistogram(),
    event: new LagHistogram(),
  };
  /** Frames each client received in the window. */
  readonly frames: Float64Array;
  /** Frames each client missed by seq jumps in the window. */
  readonly gaps: Float64Array;
  /** 1 for each client whose socket opened. */
  readonly opened: Uint8Array;
  /** Client sockets closed by the server while measuring, by close code. */
  readonly closedInWindow: Record<string, number> = {};
  /** Count frames (and closes) only while set. */
  measuring = false;
  /** Hello messages received. */
  hellos = 0;
  /** Clients whose socket did not open (refused, timed out, closed first). */
  connectFailed = 0;
  /** The first connect error, for the report. */
  connectError: string | undefined;
  /** Clients that have received at least one frame. */
  flowingCount = 0;

  readonly #n: number;
  readonly #options: FanoutClientsOptions;
  readonly #wsBase: URL;
  readonly #sockets: (WebSocket | null)[];
  readonly #lastSeq: Float64Array;
  readonly #flowing: Uint8Array;
  readonly #stamps: FrameStamps = newFrameStamps();
  readonly #read: (bytes: Uint8Array, out: FrameStamps) => void;

  /** `n` clients of the service at `options.url`; nothing opens before {@link connect}. */
  constructor(n: number, options: FanoutClientsOptions) {
    if (options.symbols.length === 0) {
      throw new RangeError("FanoutClients: symbols is empty; expected at least one symbol");
    }
    this.#n = n;
    this.#options = options;
    this.#wsBase = new URL("ws", options.url);
    this.#wsBase.protocol = this.#wsBase.protocol === "https:" ? "wss:" : "ws:";
    this.#read = options.decode === "full" ? decodeFrameStamps : scanFrameStamps;
    this.frames = new Float64Array(n);
    this.gaps = new Float64Array(n);
    this.opened = new Uint8Array(n);
    this.#sockets = new Array(n).fill(null);
    this.#lastSeq = new Float64Array(n);
    this.#flowing = new Uint8Array(n);
  }

  /**
   * Open every client, at most `concurrency` handshakes in flight; `log` gets
   * a progress line at most once a second. Resolves with the number opened.
   */
  async connect(concurrency: number, log: (line: string) => void): Promise<number> {
    let next = 0;
    let lastLog = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, this.#n) }, async () => {
        while (next < this.#n) {
          await this.#open(next++);
          if (performance.now() - lastLog > 1000) {
            lastLog = performance.now();
            log(`loadgen: ${next}/${this.#n} connecting, ${this.connectFailed} failed`);
          }
        }
      }),
    );
    return this.opened.reduce((a, b) => a + b, 0);
  }

  /** Wait until every opened client has received a frame, at most `timeoutMs`. */
  async untilFlowing(timeoutMs: number): Promise<void> {
    const connected = this.opened.reduce((a, b) => a + b, 0);
    const deadline = performance.now() + timeoutMs;
    while (this.flowingCount < connected && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Frames each opened client received in the window, ascending. */
  framesPerClient(): number[] {
    return [...this.frames.filter((_, i) => this.opened[i] === 1)].sort((a, b) => a - b);
  }

  /** Close every open client (code 1000). */
  close(): void {
    for (const ws of this.#sockets) {
      try {
        ws?.close(1000, "load generator done");
      } catch { /* already closed */ }
    }
  }

  #open(i: number): Promise<void> {
    const url = new URL(this.#wsBase);
    url.searchParams.set("symbol", this.#options.symbols[i % this.#options.symbols.length]);
    if (this.#options.token) url.searchParams.set("token", this.#options.token);
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.connectFailed++;
        this.connectError ??= e instanceof Error ? e.message : String(e);
        try {
          ws.close();
        } catch { /* not open */ }
        resolve();
      };
      const timer = setTimeout(
        () => fail(new Error("connect timeout")),
        this.#options.connectTimeoutMs ?? 20_000,
      );
      ws.onopen = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#sockets[i] = ws;
        this.opened[i] = 1;
        resolve();
      };
      ws.onerror = (e) => fail((e as ErrorEvent).message ?? "error");
      ws.onclose = (e) => {
        if (!settled) return fail(new Error(`closed ${e.code} before open`));
        this.#sockets[i] = null;
        if (this.measuring) this.closedInWindow[e.code] = (this.closedInWindow[e.code] ?? 0) + 1;
      };
      ws.onmessage = (e) => this.#receive(i, new Uint8Array(e.data as ArrayBuffer));
    });
  }

  #receive(i: number, bytes: Uint8Array): void {
    const t = now();
    const s = this.#stamps;
    this.#read(bytes, s);
    if (s.kind === MessageKind.Hello) {
      this.hellos++;
      this.#lastSeq[i] = 0; // the next frame sets the reference
      return;
    }
    if (s.kind !== MessageKind.Frame) return;
    if (this.#flowing[i] === 0) {
      this.#flowing[i] = 1;
      this.flowingCount++;
    }
    const expected = this.#lastSeq[i] + 1;
    this.#lastSeq[i] = s.seq;
    if (!this.measuring) return;
    this.frames[i]++;
    if (expected > 1 && s.seq > expected) this.gaps[i] += s.seq - expected;
    this.lag.sent.record(t - s.sent);
    this.lag.analysed.record(t - s.analysed);
    this.lag.receive.record(t - s.receive);
    this.lag.event.record(t - s.event);
  }
}
