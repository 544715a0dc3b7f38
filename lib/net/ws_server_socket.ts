/**
 * The server's end of one WebSocket connection, over a TCP connection handed
 * over by the HTTP server after `101 Switching Protocols`
 * (`connection_claim.ts`). It offers the part of the browser `WebSocket` API
 * that the hub uses (`send`, `bufferedAmount`, `readyState`, `close`,
 * `binaryType`, `onopen`/`onmessage`/`onerror`/`onclose`), with the same
 * numeric states, plus {@linkcode ServerWebSocket.sendFrame} to queue a frame
 * encoded once for many clients.
 *
 * Inbound, every frame goes through a {@linkcode WsFrameReader}: a message
 * over `maxMessageBytes` (summed over its fragments) or in more than
 * `maxFragments` frames is refused from the frame header, before its payload
 * is read (see `ws_frame_reader.ts` for every check and its close code).
 *
 * Outbound, frames wait in a user-space queue and are written one at a time;
 * {@linkcode ServerWebSocket.bufferedAmount} is the number of queued bytes
 * that `conn.write` has not accepted yet, so a client that does not read shows
 * up there as soon as the kernel's socket buffer is full.
 *
 * Memory: the one per-connection buffer is the read buffer
 * (`readBufferBytes`, default 512 bytes, allocated when the connection
 * opens), which the socket's one pending read holds for as long as the client
 * is connected. It is sized for what a dashboard sends after the handshake
 * (control frames and subscribe messages of a few dozen bytes), not for the
 * largest message: the frame reader assembles a message from any number of
 * reads into a buffer of the message's own size (at most `maxMessageBytes`),
 * so a larger message only takes a few more reads and nothing stays grown
 * afterwards. The read buffer's size costs more than its bytes: with 1,000
 * idle connections in one process each holding a pending read (Deno 2.9.6),
 * a bare `Deno.Conn` took about 21 KiB of resident memory with a 4 KiB
 * buffer and about 14 KiB with 64 to 1,024 bytes. Beyond the buffer an idle
 * socket holds about 1.3 KB of JavaScript objects (this socket, its frame
 * reader and their callbacks); the rest is Deno's TCP resource and its
 * pending read. Deno's own `WebSocket` costs about 22 KB.
 *
 * Liveness: every open socket is checked by one shared interval timer (one
 * per distinct `idleTimeoutMs`, ticking every eighth of it), not by a timer
 * per frame. After `idleTimeoutMs / 2` without an inbound byte the socket
 * sends a ping; after `idleTimeoutMs` without one it closes with 1001 (a
 * close frame, then the TCP connection without waiting for an answer). A
 * client thus has at least 3/8 of `idleTimeoutMs` to answer the ping.
 *
 * Closing:
 * - {@linkcode ServerWebSocket.close} queues a close frame after what is
 *   already queued, then waits up to `closeTimeoutMs` for the client's close
 *   frame before closing the TCP connection.
 * - A client's close frame is echoed (its code), and the TCP connection is
 *   closed once the echo is written.
 * - A client that breaks the protocol or a limit gets a close frame with the
 *   code of the {@linkcode WebSocketProtocolError} (unsent queued frames are
 *   dropped); nothing more is parsed. Once the close frame is written the
 *   server sends FIN and closes when the client does, while reading and
 *   dropping at most 256 KiB more from it (so that it sees the close frame,
 *   not a reset), or after `closeTimeoutMs`.
 * - End of stream, or a read or write error, ends the socket at once (1006).
 *
 * `onclose` fires exactly once for every socket, with the client's close code
 * and reason after a closing handshake (`wasClean: true`), the code the server
 * refused the client with (after a protocol error or the idle timeout,
 * `wasClean: false`), or 1006. `onerror` fires before it only for a read or
 * write error. The connection's `release()` is called exactly once, when the
 * TCP connection is closed.
 *
 * @example
 * ```ts
 * import { ServerWebSocket } from "./ws_server_socket.ts";
 * import type { SwitchedConnection } from "./connection_claim.ts";
 * declare const switched: Promise<SwitchedConnection | null>; // see ws_upgrade.ts
 * const socket = new ServerWebSocket(switched, { maxMessageBytes: 4096 });
 * socket.onmessage = (event) => {
 *   if (typeof event.data !== "string") socket.send(new Uint8Array(event.data)); // echo
 * };
 * socket.onclose = (event) => console.log("closed", event.code, event.reason);
 * ```
 * @module
 */

import type { SwitchedConnection } from "./connection_claim.ts";
import { CLOSE, encodeCloseFrame, encodeFrame, isSendableCloseCode, OPCODE } from "./ws_frame.ts";
import {
  type FrameReaderOptions,
  WebSocketProtocolError,
  WsFrameReader,
} from "./ws_frame_reader.ts";

/**
 * After refusing a client, at most this many further bytes from it are read
 * and dropped (into the read buffer: no memory is taken) while it reads the
 * close frame, before the connection is closed. Closing with unread data
 * would make the kernel send a reset, and the client would see an abnormal
 * close (1006) instead of the code it was refused with.
 *
 * @example
 * ```ts
 * import { LINGER_BYTES } from "./ws_server_socket.ts";
 * LINGER_BYTES; // 262144
 * ```
 */
export const LINGER_BYTES = 256 * 1024;

/**
 * Options of a {@linkcode ServerWebSocket} (and of `upgradeWebSocket`); the
 * message limits are those of {@linkcode FrameReaderOptions}
 * (`maxMessageBytes` default 4096, `maxFragments` default 16).
 *
 * @example
 * ```ts
 * import type { ServerWebSocketOptions } from "./ws_server_socket.ts";
 * const options: ServerWebSocketOptions = { maxMessageBytes: 4096, idleTimeoutMs: 120_000 };
 * ```
 */
export interface ServerWebSocketOptions extends FrameReaderOptions {
  /**
   * Liveness: a ping is sent after half of this without an inbound byte, and
   * the socket is closed (1001) after all of it. Milliseconds; default 60000.
   */
  idleTimeoutMs?: number;
  /**
   * How long a closing socket waits for the client's close frame (or for its
   * own close frame to be written) before closing the TCP connection.
   * Milliseconds; default 5000.
   */
  closeTimeoutMs?: number;
  /**
   * Size of the connection's one read buffer in bytes; default 512. It
   * bounds how much one read takes, not the size of a message (see the
   * module doc).
   */
  readBufferBytes?: number;
}

/**
 * The event of `onmessage`.
 *
 * @example
 * ```ts
 * import type { ServerWebSocketMessageEvent } from "./ws_server_socket.ts";
 * const event: ServerWebSocketMessageEvent = { data: new ArrayBuffer(2) };
 * ```
 */
export interface ServerWebSocketMessageEvent {
  /** A text message as a string, a binary one as an `ArrayBuffer` of exactly its bytes. */
  readonly data: ArrayBuffer | string;
}

/**
 * The event of `onclose`.
 *
 * @example
 * ```ts
 * import type { ServerWebSocketCloseEvent } from "./ws_server_socket.ts";
 * const event: ServerWebSocketCloseEvent = { code: 1000, reason: "bye", wasClean: true };
 * ```
 */
export interface ServerWebSocketCloseEvent {
  /** The client's close code, the code it was refused with, 1005 (none given) or 1006 (no close frame). */
  readonly code: number;
  /** The reason that came with `code` ("" if none). */
  readonly reason: string;
  /** Whether both close frames were exchanged. */
  readonly wasClean: boolean;
}

/**
 * The event of `onerror`: a read or write on the connection failed.
 *
 * @example
 * ```ts
 * import type { ServerWebSocketErrorEvent } from "./ws_server_socket.ts";
 * const event: ServerWebSocketErrorEvent = { error: new Error("Connection reset by peer") };
 * ```
 */
export interface ServerWebSocketErrorEvent {
  /** What the read or write threw. */
  readonly error: unknown;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Default `readBufferBytes`: a dashboard's messages in one read (see the module doc). */
const DEFAULT_READ_BUFFER_BYTES = 512;

/** The keep-alive ping: empty, shared by every socket. */
const PING_FRAME = encodeFrame(OPCODE.ping, new Uint8Array(0));

/** The sockets checked by one interval timer (those sharing one `idleTimeoutMs`). */
interface KeepAliveGroup {
  readonly sockets: Set<ServerWebSocket>;
  readonly timer: ReturnType<typeof setInterval>;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`ServerWebSocket: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Call a user handler; an exception is reported like one in an event listener, never thrown into I/O. */
function dispatch<E>(handler: ((event: E) => void) | null, event: E): void {
  if (handler === null) return;
  try {
    handler(event);
  } catch (error) {
    reportError(error);
  }
}

/**
 * The server's end of a WebSocket connection (RFC 6455), with the browser's
 * `WebSocket` API subset the hub uses. Created by `upgradeWebSocket`
 * (`ws_upgrade.ts`); it is `CONNECTING` until the HTTP server has written the
 * 101 response and handed the connection over, then opens (`onopen`, always
 * asynchronously after construction).
 *
 * @example
 * ```ts
 * import { ServerWebSocket } from "./ws_server_socket.ts";
 * import { encodeFrame, OPCODE } from "./ws_frame.ts";
 * declare const sockets: ServerWebSocket[];
 * // Fan-out: encode once, queue the same bytes to every client.
 * const frame = encodeFrame(OPCODE.binary, new Uint8Array([1, 2, 3]));
 * for (const s of sockets) {
 *   if (s.readyState === ServerWebSocket.OPEN && s.bufferedAmount < 256 << 10) s.sendFrame(frame);
 * }
 * ```
 */
export class ServerWebSocket {
  /** `readyState` before the connection is handed over. */
  static readonly CONNECTING: 0 = 0;
  /** `readyState` while messages flow. */
  static readonly OPEN: 1 = 1;
  /** `readyState` after a close frame was sent or received. */
  static readonly CLOSING: 2 = 2;
  /** `readyState` once the TCP connection is closed (or was never handed over). */
  static readonly CLOSED: 3 = 3;

  /** Keep-alive groups by `idleTimeoutMs`. */
  static #groups = new Map<number, KeepAliveGroup>();

  /** Called once the socket is open. */
  onopen: (() => void) | null = null;
  /** Called for every complete message while the socket is open. */
  onmessage: ((event: ServerWebSocketMessageEvent) => void) | null = null;
  /** Called when a read or write failed, just before `onclose`. */
  onerror: ((event: ServerWebSocketErrorEvent) => void) | null = null;
  /** Called once when the socket is closed. */
  onclose: ((event: ServerWebSocketCloseEvent) => void) | null = null;

  readonly #reader: WsFrameReader;
  readonly #idleTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #readBufferBytes: number;
  #state = CONNECTING;
  #conn: Deno.Conn | null = null;
  #release: (() => void) | null = null;
  /** False once nothing more is parsed (after a refusal, the end of stream, or the end). */
  #reading = false;

  // Writing.
  /** Frames waiting to be written, oldest first. */
  #queue: Uint8Array[] = [];
  /** Bytes queued (including #pong and the unwritten rest of #writing). */
  #queued = 0;
  /** The frame being written (its unwritten rest), null between frames. */
  #writing: Uint8Array | null = null;
  /** The pong answering the newest ping, written before the next queued frame. */
  #pong: Uint8Array | null = null;
  /** Whether the write loop runs. */
  #pumping = false;

  // Closing.
  /** A close frame is queued: nothing is sent after it. */
  #closeQueued = false;
  /** Everything queued, the close frame last, has been written. */
  #closeFlushed = false;
  #closeReceived = false;
  #peerCode: number = CLOSE.abnormal;
  #peerReason = "";
  /** The code the client was refused with (0 when it was not). */
  #failCode = 0;
  #failReason = "";
  /** Bytes read and thrown away since the client was refused (see {@link LINGER_BYTES}). */
  #discarded = 0;
  #closeTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  // Liveness (performance.now() times).
  #lastInbound = 0;
  #pingedAt = -1;

  /**
   * Create a socket that opens when `connection` resolves with a connection.
   *
   * @param connection Resolves with the connection once the 101 response is
   * written, or with null when the upgrade was refused (the socket then ends
   * `CLOSED` with 1006, without opening).
   * @param options Limits and timeouts; see {@linkcode ServerWebSocketOptions}.
   * @throws {RangeError} For an option that is not a positive integer.
   */
  constructor(
    connection: Promise<SwitchedConnection | null>,
    options: ServerWebSocketOptions = {},
  ) {
    this.#idleTimeoutMs = positiveInteger("idleTimeoutMs", options.idleTimeoutMs ?? 60_000);
    this.#closeTimeoutMs = positiveInteger("closeTimeoutMs", options.closeTimeoutMs ?? 5000);
    this.#readBufferBytes = positiveInteger(
      "readBufferBytes",
      options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES,
    );
    this.#reader = new WsFrameReader({
      message: (data) => {
        if (this.#state === OPEN) dispatch(this.onmessage, { data });
      },
      ping: (payload) => this.#answerPing(payload),
      close: (code, reason) => this.#peerClosed(code, reason),
    }, options);
    void connection.then((c) => this.#open(c));
  }

  /** `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3), as in the browser. */
  get readyState(): number {
    return this.#state;
  }

  /** Bytes queued that the connection has not accepted yet (0 once closed). */
  get bufferedAmount(): number {
    return this.#queued;
  }

  /** Always "arraybuffer": binary messages are delivered as `ArrayBuffer`s. */
  get binaryType(): "arraybuffer" {
    return "arraybuffer";
  }

  /** @throws {TypeError} For anything but "arraybuffer" (Blobs are not supported). */
  set binaryType(value: "arraybuffer") {
    if (value !== "arraybuffer") {
      throw new TypeError(`ServerWebSocket: binaryType must be "arraybuffer", got "${value}"`);
    }
  }

  /**
   * Queue one message: a string as a text frame, bytes as a binary frame
   * (copied into the frame). Ignored once the socket is closing or closed.
   *
   * @example
   * ```ts
   * import { ServerWebSocket } from "./ws_server_socket.ts";
   * declare const socket: ServerWebSocket;
   * socket.send(new Uint8Array([1, 2, 3])); // one binary frame
   * socket.send("hello"); // one text frame
   * ```
   *
   * @throws {DOMException} `InvalidStateError` while the socket is `CONNECTING`.
   */
  send(data: string | Uint8Array | ArrayBuffer): void {
    if (this.#state !== OPEN) return this.#notOpen("send");
    const payload = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    this.#enqueue(encodeFrame(typeof payload === "string" ? OPCODE.text : OPCODE.binary, payload));
  }

  /**
   * Queue a frame encoded by `encodeFrame` (`ws_frame.ts`) as it is: the
   * bytes are neither copied nor changed, so one frame can be queued to any
   * number of sockets (it must not be modified afterwards). Ignored once the
   * socket is closing or closed.
   *
   * @example
   * ```ts
   * import { ServerWebSocket } from "./ws_server_socket.ts";
   * import { encodeFrame, OPCODE } from "./ws_frame.ts";
   * declare const a: ServerWebSocket, b: ServerWebSocket;
   * const frame = encodeFrame(OPCODE.binary, new Uint8Array([7]));
   * a.sendFrame(frame);
   * b.sendFrame(frame); // the same bytes, not a copy
   * ```
   *
   * @throws {DOMException} `InvalidStateError` while the socket is `CONNECTING`.
   */
  sendFrame(frame: Uint8Array): void {
    if (this.#state !== OPEN) return this.#notOpen("sendFrame");
    this.#enqueue(frame);
  }

  /**
   * Start the closing handshake: queue a close frame with `code` and
   * `reason` (cut to 123 UTF-8 bytes) after what is already queued, then
   * wait up to `closeTimeoutMs` for the client's close frame. Without a code
   * the frame carries none. Does nothing once closing or closed. Called while
   * `CONNECTING`, the socket never opens and sends the close frame as soon as
   * it has a connection.
   *
   * @example
   * ```ts
   * import { ServerWebSocket } from "./ws_server_socket.ts";
   * declare const socket: ServerWebSocket;
   * socket.close(1009, "message of 5000 bytes; at most 4096 accepted");
   * socket.readyState === ServerWebSocket.CLOSING; // true until the client answers
   * ```
   *
   * @throws {RangeError} For a code that may not be sent (1000-1003, 1007-1014 and 3000-4999 may).
   */
  close(code?: number, reason = ""): void {
    if (code !== undefined && !isSendableCloseCode(code)) {
      throw new RangeError(
        `ServerWebSocket: close code ${code} may not be sent (expected 1000-1003, 1007-1014 or 3000-4999)`,
      );
    }
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    this.#state = CLOSING;
    this.#queueClose(encodeCloseFrame(code, reason));
  }

  /**
   * Refuse the client now: drop every queued frame not being written yet (a
   * client that is cut off is owed nothing, and its backlog is freed at once),
   * send a close frame with `code` and `reason`, parse nothing more, and
   * close the TCP connection once the client has read that frame and closed
   * (at most 256 KiB more of its bytes are read and dropped meanwhile), or
   * after `closeTimeoutMs`. `onclose` reports `code` with
   * `wasClean: false`. Use it for a slow or abusive client; {@linkcode close}
   * delivers what is queued first.
   *
   * @example
   * ```ts
   * import { ServerWebSocket } from "./ws_server_socket.ts";
   * declare const socket: ServerWebSocket;
   * socket.terminate(1013, "client read too slowly");
   * ```
   *
   * @throws {RangeError} For a code that may not be sent (as {@linkcode close}).
   */
  terminate(code: number, reason = ""): void {
    if (!isSendableCloseCode(code)) {
      throw new RangeError(
        `ServerWebSocket: close code ${code} may not be sent (expected 1000-1003, 1007-1014 or 3000-4999)`,
      );
    }
    if (this.#state === CONNECTING) {
      this.close(code, reason);
      return;
    }
    this.#refuse(code, reason);
  }

  #notOpen(what: string): void {
    if (this.#state === CONNECTING) {
      throw new DOMException(
        `ServerWebSocket: ${what}() before the socket opened`,
        "InvalidStateError",
      );
    }
  }

  /** The upgrade ended: speak WebSocket on the connection, or end if it was refused. */
  #open(connection: SwitchedConnection | null): void {
    if (connection === null) {
      this.#finish(false);
      return;
    }
    this.#conn = connection.conn;
    this.#release = connection.release;
    this.#reading = true;
    this.#lastInbound = performance.now();
    if (this.#state === CONNECTING) {
      this.#watch();
      this.#state = OPEN;
      dispatch(this.onopen, undefined);
    }
    if (this.#closeQueued) this.#armCloseTimer();
    if (this.#state !== CLOSED) this.#pump();
    const leftover = connection.leftover;
    if (leftover.length > 0 && !this.#parse(leftover, leftover.length)) return;
    void this.#read();
  }

  /**
   * Read and parse until the end of stream, a refusal, or the end of the
   * socket. (Its suspended frame lives as long as the connection: it holds
   * nothing but the connection and the read buffer.)
   */
  async #read(): Promise<void> {
    const conn = this.#conn;
    if (conn === null || !this.#reading) return;
    const buffer = new Uint8Array(this.#readBufferBytes);
    while (this.#reading) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (error) {
        if (this.#reading) this.#finish(false, error);
        return;
      }
      if (!this.#reading) return;
      if (n === null) return this.#endOfStream();
      this.#lastInbound = performance.now();
      if (this.#failCode !== 0) {
        // Refused: what the client still sends is read and dropped (bounded), so that
        // it reads our close frame instead of a reset from closing on unread data.
        this.#discarded += n;
        if (this.#discarded > LINGER_BYTES) return this.#finish(false);
        continue;
      }
      this.#parse(buffer, n);
    }
  }

  /** Feed `bytes[0, n)` to the reader; false when reading must stop. */
  #parse(bytes: Uint8Array, n: number): boolean {
    try {
      this.#reader.push(bytes, 0, n);
    } catch (error) {
      if (!(error instanceof WebSocketProtocolError)) throw error;
      this.#refuse(error.code, error.message);
    }
    return this.#reading;
  }

  /** The client closed its side of the TCP connection. */
  #endOfStream(): void {
    this.#reading = false;
    // After its close frame, let the echo finish (the close timer bounds it); otherwise it is gone.
    if (this.#closeReceived && !this.#closeFlushed && this.#conn !== null) return;
    this.#finish(this.#closeReceived);
  }

  #answerPing(payload: Uint8Array): void {
    if (this.#state !== OPEN) return;
    // Only the newest ping is answered if an earlier pong was not sent yet (RFC 6455 §5.5.3):
    // a client that pings without reading cannot grow the queue.
    if (this.#pong !== null) this.#queued -= this.#pong.length;
    this.#pong = encodeFrame(OPCODE.pong, payload);
    this.#queued += this.#pong.length;
    this.#pump();
  }

  #peerClosed(code: number, reason: string): void {
    this.#closeReceived = true;
    this.#peerCode = code;
    this.#peerReason = reason;
    if (!this.#closeQueued) {
      this.#state = CLOSING;
      this.#queueClose(encodeCloseFrame(code === CLOSE.noStatus ? undefined : code));
    } else if (this.#closeFlushed) {
      this.#finish(true);
    }
  }

  /** Refuse the client: close frame with `code`, parse nothing more, close once it is written and the client closed (bounded). */
  #refuse(code: number, reason: string): void {
    if (this.#state === CLOSED || this.#failCode !== 0) return;
    this.#failCode = code;
    this.#failReason = reason;
    this.#state = CLOSING;
    if (this.#closeQueued) {
      if (this.#closeFlushed) this.#finish(false);
      return;
    }
    // Nothing is owed to a client that is refused: drop what is not being written yet.
    for (const frame of this.#queue) this.#queued -= frame.length;
    this.#queue.length = 0;
    if (this.#pong !== null) this.#queued -= this.#pong.length;
    this.#pong = null;
    this.#queueClose(encodeCloseFrame(code, reason));
  }

  #queueClose(frame: Uint8Array): void {
    this.#closeQueued = true;
    this.#enqueue(frame);
    if (this.#conn !== null) this.#armCloseTimer();
  }

  #armCloseTimer(): void {
    if (this.#closeTimer !== undefined) return;
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = undefined;
      this.#finish(false);
    }, this.#closeTimeoutMs);
  }

  #enqueue(frame: Uint8Array): void {
    this.#queue.push(frame);
    this.#queued += frame.length;
    this.#pump();
  }

  /** Start the write loop unless it runs (or there is no connection yet). */
  #pump(): void {
    if (!this.#pumping && this.#conn !== null) void this.#writeAll(this.#conn);
  }

  /** Write queued frames one at a time (pong first), handling partial writes. */
  async #writeAll(conn: Deno.Conn): Promise<void> {
    this.#pumping = true;
    try {
      for (;;) {
        let frame = this.#writing;
        if (frame === null) {
          frame = this.#pong;
          if (frame !== null) this.#pong = null;
          else frame = this.#queue.shift() ?? null;
          if (frame === null) break;
        }
        this.#writing = frame;
        const n = await conn.write(frame);
        if (this.#state === CLOSED) return;
        this.#queued -= n;
        this.#writing = n < frame.length ? frame.subarray(n) : null;
      }
    } catch (error) {
      this.#pumping = false;
      this.#finish(false, error);
      return;
    }
    this.#pumping = false;
    if (this.#closeQueued) {
      this.#closeFlushed = true;
      if (this.#failCode !== 0 && !this.#closeReceived && this.#reading) {
        // Refused: send FIN and let the client close; the read loop (end of
        // stream, or LINGER_BYTES) or the close timer ends it.
        try {
          conn.closeWrite();
        } catch {
          this.#finish(false);
        }
      } else if (this.#closeReceived || this.#failCode !== 0 || !this.#reading) {
        this.#finish(this.#closeReceived && this.#failCode === 0);
      }
    }
  }

  /**
   * Close the TCP connection (if any), release it, and report the end once.
   * `error` (a failed read or write) makes it 1006 with `onerror` first.
   */
  #finish(wasClean: boolean, error?: unknown): void {
    if (this.#state === CLOSED) return;
    const failed = error !== undefined;
    const code = failed
      ? CLOSE.abnormal
      : this.#closeReceived
      ? this.#peerCode
      : this.#failCode !== 0
      ? this.#failCode
      : CLOSE.abnormal;
    const reason = failed || code === CLOSE.abnormal
      ? ""
      : this.#closeReceived
      ? this.#peerReason
      : this.#failReason;
    this.#state = CLOSED;
    this.#reading = false;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#unwatch();
    this.#queue.length = 0;
    this.#queued = 0;
    this.#writing = null;
    this.#pong = null;
    const conn = this.#conn;
    const release = this.#release;
    this.#conn = null;
    this.#release = null;
    if (conn !== null) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    release?.();
    if (failed) dispatch(this.onerror, { error });
    dispatch(this.onclose, { code, reason, wasClean: wasClean && !failed });
  }

  /** One keep-alive check (from the group's timer). */
  #tick(now: number): void {
    if (this.#state !== OPEN) return;
    const quiet = now - this.#lastInbound;
    if (quiet >= this.#idleTimeoutMs) {
      this.#refuse(CLOSE.goingAway, `no data from the client for ${this.#idleTimeoutMs} ms`);
    } else if (quiet >= this.#idleTimeoutMs / 2 && this.#pingedAt < this.#lastInbound) {
      this.#pingedAt = now;
      this.#enqueue(PING_FRAME);
    }
  }

  /** Join the keep-alive group of this socket's `idleTimeoutMs` (starting its timer if needed). */
  #watch(): void {
    const ms = this.#idleTimeoutMs;
    let group = ServerWebSocket.#groups.get(ms);
    if (group === undefined) {
      const sockets = new Set<ServerWebSocket>();
      const timer = setInterval(() => {
        const now = performance.now();
        for (const socket of sockets) socket.#tick(now);
      }, Math.max(1, Math.floor(ms / 8)));
      group = { sockets, timer };
      ServerWebSocket.#groups.set(ms, group);
    }
    group.sockets.add(this);
  }

  #unwatch(): void {
    const group = ServerWebSocket.#groups.get(this.#idleTimeoutMs);
    if (group === undefined || !group.sockets.delete(this)) return;
    if (group.sockets.size === 0) {
      clearInterval(group.timer);
      ServerWebSocket.#groups.delete(this.#idleTimeoutMs);
    }
  }
}
