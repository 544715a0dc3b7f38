/**
 * A WebSocket client written by hand on a raw TCP connection (RFC 6455), for
 * attacks no well-behaved client library can make: it sends masked frames of
 * any size and fragmentation (a frame's payload is streamed in chunks, so a
 * 1 GiB message costs the client 1 MiB), never reads unless asked to, and
 * reports the server's close frame when it does.
 *
 * The handshake response is read one byte at a time, so nothing after it is
 * consumed: a client that never calls {@link RawWsClient.read} leaves every
 * server message in the kernel's buffers (and the server's queue).
 *
 * @example
 * ```ts ignore
 * const ws = await RawWsClient.open("http://127.0.0.1:8000/", { query: { symbol: "BTCUSDT" } });
 * ws.read();
 * // One 64 MiB binary frame, streamed: stops early when the server closes.
 * const sent = await ws.sendFrame({ opcode: Opcode.Binary, fin: true, length: 64 << 20 });
 * await ws.untilEnded(10_000);
 * console.log(sent, ws.closeFrame?.code); // e.g. 131072 1009
 * ws.close();
 * ```
 * @module
 */

import { clientHeader } from "./ws_client_frame.ts";

/**
 * WebSocket frame opcodes (RFC 6455 §5.2).
 *
 * @example
 * ```ts
 * Opcode.Continuation; // 0
 * ```
 */
export const Opcode = {
  /** A continuation of a fragmented message. */
  Continuation: 0,
  /** A text message (or its first fragment). */
  Text: 1,
  /** A binary message (or its first fragment). */
  Binary: 2,
  /** Close. */
  Close: 8,
  /** Ping. */
  Ping: 9,
  /** Pong. */
  Pong: 10,
} as const;

/**
 * An upgrade request the server answered with something other than 101.
 *
 * @example
 * ```ts
 * const e = new UpgradeRefused(401, "HTTP/1.1 401 Unauthorized\r\n\r\n");
 * e.status; // 401
 * ```
 */
export class UpgradeRefused extends Error {
  /** The HTTP status, 0 when the connection ended before a status line. */
  readonly status: number;
  /** The response head as read (at most 16 KiB). */
  readonly head: string;

  /** An upgrade answered with `status` and `head`. */
  constructor(status: number, head: string) {
    super(
      status === 0
        ? `the connection ended during the WebSocket handshake: ${JSON.stringify(head)}`
        : `the WebSocket upgrade was answered ${status}, expected 101: ${head.split("\r\n")[0]}`,
    );
    this.name = "UpgradeRefused";
    this.status = status;
    this.head = head;
  }
}

/** Options of {@link RawWsClient.open}. */
export interface RawWsOptions {
  /** Path of the WebSocket endpoint. Default `/ws`. */
  path?: string;
  /** Query parameters, e.g. `{ symbol: "BTCUSDT" }`. Default none. */
  query?: Record<string, string>;
  /** Extra request headers. Default none. */
  headers?: Record<string, string>;
  /** Give up on the connect and the handshake after this long, ms. Default 10000. */
  timeoutMs?: number;
}

/** A close frame the server sent. */
export interface CloseFrame {
  /** The status code, 1005 when the frame had none. */
  code: number;
  /** The reason text. */
  reason: string;
}

/** Options of {@link RawWsClient.sendFrame}. */
export interface StreamedFrame {
  /** The frame's opcode (see {@link Opcode}). */
  opcode: number;
  /** The FIN bit: the last frame of its message. */
  fin: boolean;
  /** Payload length announced in the header and streamed (zero bytes, masked). */
  length: number;
  /** Bytes written per `write`. Default 1 MiB. */
  chunkBytes?: number;
  /** Checked before each chunk: stop streaming when it returns true. Default never. */
  stop?: () => boolean;
}

/** Bytes of a server frame's header once its first `have` bytes are `head` (server frames are unmasked, but allow a mask). */
function headSize(head: Uint8Array, have: number): number {
  if (have < 2) return 2;
  const code = head[1] & 0x7f;
  return 2 + (code === 126 ? 2 : code === 127 ? 8 : 0) + (head[1] & 0x80 ? 4 : 0);
}

const HEAD_LIMIT = 16 * 1024;

/** See the module doc. */
export class RawWsClient {
  /** Bytes written since the handshake (headers and payload). */
  bytesWritten = 0;
  /** Why a write failed (the server closed or reset the connection); undefined while writes succeed. */
  writeError: string | undefined;
  /** The server's close frame, once {@link read} has seen one. */
  closeFrame: CloseFrame | undefined;
  /** How the reader saw the connection end (`"eof"` or the error), undefined before. */
  ended: string | undefined;
  /** Complete messages the reader has seen (close frames excluded). */
  messagesRead = 0;

  readonly #conn: Deno.TcpConn;
  #reading: Promise<void> | undefined;
  #closed = false;
  // Reader state: the frame header being collected, then the payload left to skip.
  readonly #head = new Uint8Array(14);
  #headLen = 0;
  #left = 0;
  #opcode = 0;
  #fin = false;
  #closePayload: number[] = [];

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /**
   * Connect to the service at `baseUrl` and upgrade `options.path`; resolves
   * once the 101 head is read.
   *
   * @throws UpgradeRefused when the answer is not 101 (e.g. 401 without the token, 503 at capacity).
   */
  static async open(baseUrl: string, options: RawWsOptions = {}): Promise<RawWsClient> {
    const url = new URL(options.path ?? "/ws", baseUrl);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port), signal });
    const client = new RawWsClient(conn);
    const timer = setTimeout(() => client.close(), options.timeoutMs ?? 10_000);
    try {
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
      await client.#write(
        new TextEncoder().encode(
          `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
            `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
            `Sec-WebSocket-Version: 13\r\n${extra.join("")}\r\n`,
        ),
      );
      client.bytesWritten = 0;
      const head = await client.#readHead();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      if (status !== 101) throw new UpgradeRefused(status, head);
      return client;
    } catch (e) {
      client.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True once a write failed. */
  get broken(): boolean {
    return this.writeError !== undefined;
  }

  /** Send one masked frame holding `payload` (FIN set); false once the connection is gone. */
  async send(payload: Uint8Array, opcode: number = Opcode.Binary): Promise<boolean> {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const head = clientHeader(opcode, payload.length, { mask });
    const frame = new Uint8Array(head.length + payload.length);
    frame.set(head);
    for (let i = 0; i < payload.length; i++) frame[head.length + i] = payload[i] ^ mask[i & 3];
    return await this.#write(frame);
  }

  /**
   * Send one frame of `length` zero bytes, masked, its payload streamed
   * `chunkBytes` at a time. Stops at the first failed write; resolves with
   * the payload bytes written.
   */
  async sendFrame(frame: StreamedFrame): Promise<number> {
    const chunkBytes = frame.chunkBytes ?? 1 << 20;
    if (!(chunkBytes > 0 && chunkBytes % 4 === 0)) {
      throw new RangeError(`sendFrame: chunkBytes ${chunkBytes} must be a positive multiple of 4`);
    }
    const mask = crypto.getRandomValues(new Uint8Array(4));
    if (!await this.#write(clientHeader(frame.opcode, frame.length, { fin: frame.fin, mask }))) {
      return 0;
    }
    // Zeros masked are the key repeated; chunks start at multiples of 4, so one chunk serves all.
    const chunk = new Uint8Array(Math.min(chunkBytes, frame.length));
    for (let i = 0; i < chunk.length; i++) chunk[i] = mask[i & 3];
    let sent = 0;
    while (sent < frame.length && !frame.stop?.()) {
      const n = Math.min(chunk.length, frame.length - sent);
      if (!await this.#write(chunk.subarray(0, n))) break;
      sent += n;
    }
    return sent;
  }

  /** Start reading server frames in the background (idempotent): counts messages, keeps the close frame. */
  read(): void {
    this.#reading ??= this.#readLoop();
  }

  /** Read (see {@link read}) until the connection ends, at most `timeoutMs`; true when it ended. */
  async untilEnded(timeoutMs: number): Promise<boolean> {
    this.read();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#reading, new Promise((r) => timer = setTimeout(r, timeoutMs))]);
    clearTimeout(timer);
    return this.ended !== undefined;
  }

  /** Close the TCP connection (no close frame); pending writes fail. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  async #write(bytes: Uint8Array): Promise<boolean> {
    if (this.writeError !== undefined) return false;
    try {
      let written = 0;
      while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
      this.bytesWritten += written;
      return true;
    } catch (e) {
      this.writeError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return false;
    }
  }

  async #readHead(): Promise<string> {
    const byte = new Uint8Array(1);
    let head = "";
    while (!head.endsWith("\r\n\r\n") && head.length < HEAD_LIMIT) {
      const n = await this.#conn.read(byte).catch(() => null);
      if (n === null) return head;
      head += String.fromCharCode(byte[0]);
    }
    return head;
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.ended = "eof";
          return;
        }
        this.#parse(buf.subarray(0, n));
      }
    } catch (e) {
      this.ended = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }

  #parse(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.#left > 0) {
        const n = Math.min(this.#left, bytes.length - i);
        const keep = this.#opcode === Opcode.Close ? 125 - this.#closePayload.length : 0;
        if (keep > 0) this.#closePayload.push(...bytes.subarray(i, i + Math.min(n, keep)));
        this.#left -= n;
        i += n;
        if (this.#left === 0) this.#frameDone();
        continue;
      }
      this.#head[this.#headLen++] = bytes[i++];
      if (this.#headLen < headSize(this.#head, this.#headLen)) continue;
      this.#opcode = this.#head[0] & 0x0f;
      this.#fin = (this.#head[0] & 0x80) !== 0;
      const code = this.#head[1] & 0x7f;
      const view = new DataView(this.#head.buffer);
      this.#left = code === 126
        ? view.getUint16(2)
        : code === 127
        ? Number(view.getBigUint64(2))
        : code;
      this.#headLen = 0;
      this.#closePayload = [];
      if (this.#left === 0) this.#frameDone();
    }
  }

  #frameDone(): void {
    if (this.#opcode === Opcode.Close) {
      const p = this.#closePayload;
      this.closeFrame ??= p.length >= 2
        ? { code: (p[0] << 8) | p[1], reason: new TextDecoder().decode(new Uint8Array(p.slice(2))) }
        : { code: 1005, reason: "" };
    } else if (this.#fin && this.#opcode !== Opcode.Ping && this.#opcode !== Opcode.Pong) {
      this.messagesRead++;
    }
  }
}
