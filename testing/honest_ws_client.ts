/**
 * An honest dashboard on one symbol (a real `WebSocket` on `GET /ws`) that
 * checks every message as it arrives: after its Hello, each frame must have
 * the next seq, or jump by exactly the frames the server says it conflated
 * away (`ServerMessage.conflated`). It counts frames, conflated frames and
 * any break of that rule, so a caller can tell whether it received every
 * frame of its symbol over a window ({@link HonestWsClient.mark}).
 *
 * @example
 * ```ts ignore
 * const honest = new HonestWsClient("http://127.0.0.1:8000/", "BTCUSDT");
 * await honest.untilFrames(5, 20_000);
 * const mark = honest.mark();
 * // … an attack …
 * await honest.untilFrames(mark.frames + 10, 20_000);
 * const { received, expected } = honest.since(mark);
 * console.log(received === expected, honest.conflated, honest.breaks);
 * await honest.close();
 * ```
 * @module
 */

import { fromBinary } from "@bufbuild/protobuf";
import { ServerMessageSchema } from "../proto/gen/market_pb.ts";

/** A point in the client's stream (see {@link HonestWsClient.mark}). */
export interface StreamMark {
  /** Frames received so far. */
  frames: number;
  /** The seq of the newest frame (or of the Hello) so far. */
  seq: number;
}

/** See the module doc. Counters are public fields. */
export class HonestWsClient {
  /** The socket. */
  readonly ws: WebSocket;
  /** Frames received. */
  frames = 0;
  /** Frames the server conflated away for this client (sum of `conflated`). */
  conflated = 0;
  /** Hellos received. */
  hellos = 0;
  /** The seq of the newest frame (or of the Hello), -1 before the Hello. */
  seq = -1;
  /** Seq jumps the server did not account for, e.g. `expected seq 12, got 14`. */
  readonly breaks: string[] = [];
  /** The close event's code once the socket closed, else undefined. */
  closeCode: number | undefined;
  /** Resolves when the socket is open; rejects when it closes first. */
  readonly opened: Promise<void>;

  /**
   * Connect to `${baseUrl}ws?symbol=<symbol>`, with `?token=` when `token`
   * is given.
   */
  constructor(baseUrl: string, symbol: string, token?: string) {
    const url = new URL("ws", baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("symbol", symbol);
    if (token !== undefined) url.searchParams.set("token", token);
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onclose = (e) => {
        this.closeCode = e.code;
        reject(new Error(`the honest client's socket closed before opening (${e.code})`));
      };
    });
    this.opened.catch(() => {});
    this.ws.onmessage = (e) => this.#receive(new Uint8Array(e.data as ArrayBuffer));
  }

  /** True once the socket closed. */
  get closed(): boolean {
    return this.closeCode !== undefined;
  }

  /** Where the stream is now. */
  mark(): StreamMark {
    return { frames: this.frames, seq: this.seq };
  }

  /** Frames received since `mark`, and how many the symbol published since (by seq). */
  since(mark: StreamMark): { received: number; expected: number } {
    return { received: this.frames - mark.frames, expected: this.seq - mark.seq };
  }

  /** Wait until `frames` frames in all were received, the socket closed, or `timeoutMs` passed; true when received. */
  async untilFrames(frames: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames < frames && !this.closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.frames >= frames;
  }

  /** Close the socket (1000) and wait until it is closed, at most 5 s. */
  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise((r) => this.ws.addEventListener("close", r));
    this.ws.close(1000, "done");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([done, new Promise((r) => timer = setTimeout(r, 5000))]);
    clearTimeout(timer);
  }

  #receive(bytes: Uint8Array): void {
    const m = fromBinary(ServerMessageSchema, bytes);
    if (m.kind.case === "hello") {
      this.hellos++;
      this.seq = m.kind.value.seq;
      return;
    }
    if (m.kind.case !== "frame") return;
    const seq = m.kind.value.seq;
    const expected = this.seq + 1 + m.conflated;
    if (this.seq >= 0 && seq !== expected) this.breaks.push(`expected seq ${expected}, got ${seq}`);
    this.seq = seq;
    this.frames++;
    this.conflated += m.conflated;
  }
}
