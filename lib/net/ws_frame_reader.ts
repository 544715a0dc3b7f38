/**
 * Incremental parser of the frames a WebSocket client sends (RFC 6455 §5),
 * with every limit enforced from the frame header, before any payload byte is
 * buffered.
 *
 * The reader is fed the bytes of the connection in chunks of any size (one
 * byte at a time works) and calls its {@link FrameHandler} for each complete
 * message, ping and close frame. It refuses, with a
 * {@linkcode WebSocketProtocolError} carrying the close code to send:
 *
 * | what the client sent                                         | code |
 * | ------------------------------------------------------------ | ---- |
 * | an unmasked frame                                            | 1002 |
 * | RSV bits set (no extension is ever negotiated)               | 1002 |
 * | an unknown opcode                                            | 1002 |
 * | a fragmented control frame, or one over 125 bytes            | 1002 |
 * | a continuation with no message started                       | 1002 |
 * | a new text/binary frame inside a fragmented message          | 1002 |
 * | a 64-bit length with its top bit set                          | 1002 |
 * | a close frame with a 1-byte payload or an invalid code       | 1002 |
 * | a message (sum of its fragments) over `maxMessageBytes`      | 1009 |
 * | a message in more than `maxFragments` frames                 | 1008 |
 * | a text message or close reason that is not valid UTF-8       | 1007 |
 *
 * The size check happens as soon as a frame's length field is read: a frame
 * announcing 64 MiB is refused after its first 10 bytes, and a message sent
 * as many fragments is refused at the header of the fragment that would take
 * it over the cap. Too many fragments is 1008 (policy), not 1009: the
 * message may be small, it is the frame count that is refused (zero-length
 * fragments would otherwise be free to send forever).
 *
 * Memory: the payload of a data frame is unmasked while it is copied, once,
 * from the chunk into the message buffer; that buffer is allocated only for
 * a frame whose header was accepted, so it never exceeds `maxMessageBytes`.
 * An unfragmented message gets a buffer of exactly its size, which is the
 * `ArrayBuffer` delivered (no further copy). Parsing a frame allocates
 * nothing else; a control frame's payload (at most 125 bytes) gets its own
 * small buffer.
 *
 * @example
 * ```ts
 * import { WsFrameReader } from "./ws_frame_reader.ts";
 * const got: (ArrayBuffer | string)[] = [];
 * const reader = new WsFrameReader({
 *   message: (data) => got.push(data),
 *   ping: () => {},
 *   close: () => {},
 * }, { maxMessageBytes: 4096 });
 * // A masked binary frame [1, 2] with the mask 0,0,0,0, fed one byte at a time.
 * for (const b of [0x82, 0x82, 0, 0, 0, 0, 1, 2]) reader.push(new Uint8Array([b]));
 * got.length; // 1
 * ```
 * @module
 */

import { CLOSE, isSendableCloseCode, MAX_CONTROL_PAYLOAD, OPCODE } from "./ws_frame.ts";

/**
 * What the reader reports. Handlers run synchronously inside
 * {@linkcode WsFrameReader.push}.
 *
 * @example
 * ```ts
 * import type { FrameHandler } from "./ws_frame_reader.ts";
 * const handler: FrameHandler = {
 *   message: (data) => console.log(typeof data === "string" ? "text" : "binary"),
 *   ping: (payload) => console.log("ping", payload.length),
 *   close: (code, reason) => console.log("close", code, reason),
 * };
 * ```
 */
export interface FrameHandler {
  /** A complete message: a string for text (valid UTF-8), an `ArrayBuffer` of exactly its bytes for binary. */
  message(data: ArrayBuffer | string): void;
  /** A ping; `payload` (at most 125 bytes) is the handler's to keep (but not to modify). */
  ping(payload: Uint8Array<ArrayBuffer>): void;
  /** A close frame; `code` is 1005 when it carried none. The reader parses nothing after it. */
  close(code: number, reason: string): void;
}

/**
 * Limits of a {@linkcode WsFrameReader}.
 *
 * @example
 * ```ts
 * import type { FrameReaderOptions } from "./ws_frame_reader.ts";
 * const options: FrameReaderOptions = { maxMessageBytes: 4096, maxFragments: 16 };
 * ```
 */
export interface FrameReaderOptions {
  /** Largest message in bytes, summed over its fragments; more is refused with 1009. Default 4096. */
  maxMessageBytes?: number;
  /** Most frames one message may be sent in; more is refused with 1008. Default 16. */
  maxFragments?: number;
}

/**
 * A client broke the protocol or a limit: the connection must be closed with
 * {@linkcode WebSocketProtocolError.code} and the error's message as reason.
 *
 * @example
 * ```ts
 * import { WebSocketProtocolError } from "./ws_frame_reader.ts";
 * const e = new WebSocketProtocolError(1002, "unmasked client frame");
 * e.code; // 1002
 * ```
 */
export class WebSocketProtocolError extends Error {
  /** The close code to send (1002, 1007, 1008 or 1009). */
  readonly code: number;

  /**
   * Create the error for refusing a client with `code`.
   *
   * @param code The close code to send.
   * @param reason A short reason (sent in the close frame, so at most 123 bytes are kept).
   */
  constructor(code: number, reason: string) {
    super(reason);
    this.name = "WebSocketProtocolError";
    this.code = code;
  }
}

/** Parser states. */
const HEADER = 0;
const PAYLOAD = 1;
/** A close frame was read, or the input was refused: nothing more is parsed. */
const DONE = 2;

/** Rejects invalid UTF-8; keeps a leading BOM (it is part of the message). */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

/**
 * Incremental, bounded parser of client → server WebSocket frames.
 *
 * @example
 * ```ts
 * import { WebSocketProtocolError, WsFrameReader } from "./ws_frame_reader.ts";
 * const reader = new WsFrameReader(
 *   { message: () => {}, ping: () => {}, close: () => {} },
 *   { maxMessageBytes: 4096 },
 * );
 * try {
 *   // The header of a masked binary frame announcing 64 MiB: refused at once.
 *   reader.push(new Uint8Array([0x82, 0xff, 0, 0, 0, 0, 4, 0, 0, 0]));
 * } catch (e) {
 *   (e as WebSocketProtocolError).code; // 1009
 * }
 * ```
 */
export class WsFrameReader {
  readonly #handler: FrameHandler;
  readonly #maxMessageBytes: number;
  readonly #maxFragments: number;
  #state = HEADER;

  // The frame header being read.
  /** Header bytes read so far. */
  #headerRead = 0;
  /** Header length once the length field's size is known (2 + 0/2/8 + 4); 6 until then. */
  #headerLength = 6;
  #fin = false;
  #opcode = 0;
  #length = 0;
  /** The masking key, big-endian. */
  #mask = 0;

  // The frame payload being read.
  /** Payload bytes of the current frame read so far. */
  #payloadRead = 0;
  /** Where a control frame's payload goes (null for data frames). */
  #control: Uint8Array<ArrayBuffer> | null = null;

  // The message being assembled.
  /** Opcode of the message in progress (text or binary), 0 when none. */
  #messageOpcode = 0;
  #fragments = 0;
  /** Message buffer (capacity ≥ bytes accepted), null when no payload was accepted yet. */
  #message: Uint8Array<ArrayBuffer> | null = null;
  /** Bytes of the message written to #message (complete frames plus the current one's). */
  #messageLength = 0;

  /**
   * Create a reader expecting the first byte of a frame.
   *
   * @param handler Receives messages, pings and the close frame.
   * @param options Limits; see {@linkcode FrameReaderOptions} for defaults.
   * @throws {RangeError} For a limit that is not a positive integer.
   */
  constructor(handler: FrameHandler, options: FrameReaderOptions = {}) {
    this.#handler = handler;
    this.#maxMessageBytes = positiveInteger("maxMessageBytes", options.maxMessageBytes ?? 4096);
    this.#maxFragments = positiveInteger("maxFragments", options.maxFragments ?? 16);
  }

  /**
   * Parse `bytes[start, end)`, calling the handler for what completes.
   * Nothing is parsed after a close frame or an error.
   *
   * @example
   * ```ts
   * import { WsFrameReader } from "./ws_frame_reader.ts";
   * const reader = new WsFrameReader({
   *   message: (data) => console.log(data), // "hi"
   *   ping: () => {},
   *   close: () => {},
   * });
   * // A masked text frame "hi" (mask 1,2,3,4), split across two reads.
   * const frame = new Uint8Array([0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]);
   * reader.push(frame, 0, 5);
   * reader.push(frame, 5);
   * ```
   *
   * @throws {WebSocketProtocolError} When the client broke the protocol or a limit.
   */
  push(bytes: Uint8Array, start = 0, end = bytes.length): void {
    let i = start;
    while (i < end && this.#state !== DONE) {
      if (this.#state === HEADER) {
        this.#headerByte(bytes[i++]);
      } else {
        i = this.#payload(bytes, i, end);
      }
    }
  }

  /** Take one header byte; checks run as soon as the byte that decides them is read. */
  #headerByte(b: number): void {
    const at = this.#headerRead++;
    if (at === 0) {
      this.#first(b);
    } else if (at === 1) {
      this.#second(b);
    } else if (at < this.#headerLength - 4) {
      // Extended length, big-endian. The top bit of a 64-bit length must be 0.
      if (at === 2 && this.#headerLength === 14 && b & 0x80) {
        this.#fail(CLOSE.protocolError, "64-bit frame length with its top bit set");
      }
      this.#length = this.#length * 256 + b;
      if (at === this.#headerLength - 5) this.#checkSize();
    } else {
      this.#mask = ((this.#mask << 8) | b) >>> 0;
      if (at === this.#headerLength - 1) this.#startPayload();
    }
  }

  /** FIN, RSV and opcode. */
  #first(b: number): void {
    if (b & 0x70) this.#fail(CLOSE.protocolError, "RSV bits set but no extension was negotiated");
    const opcode = b & 0x0f;
    const fin = (b & 0x80) !== 0;
    this.#fin = fin;
    this.#opcode = opcode;
    if (opcode === OPCODE.close || opcode === OPCODE.ping || opcode === OPCODE.pong) {
      if (!fin) this.#fail(CLOSE.protocolError, "fragmented control frame");
      return;
    }
    if (opcode === OPCODE.continuation) {
      if (this.#messageOpcode === 0) {
        this.#fail(CLOSE.protocolError, "continuation frame without a message to continue");
      }
    } else if (opcode === OPCODE.text || opcode === OPCODE.binary) {
      if (this.#messageOpcode !== 0) {
        this.#fail(CLOSE.protocolError, "new data frame inside a fragmented message");
      }
      this.#messageOpcode = opcode;
    } else {
      this.#fail(CLOSE.protocolError, `unknown opcode ${opcode}`);
    }
    if (++this.#fragments > this.#maxFragments) {
      this.#fail(
        CLOSE.policyViolation,
        `message in more than ${this.#maxFragments} fragments`,
      );
    }
  }

  /** MASK and the 7-bit length. */
  #second(b: number): void {
    if ((b & 0x80) === 0) this.#fail(CLOSE.protocolError, "unmasked client frame");
    const len = b & 0x7f;
    if (this.#opcode >= OPCODE.close && len > MAX_CONTROL_PAYLOAD) {
      this.#fail(CLOSE.protocolError, "control frame over 125 bytes");
    }
    this.#length = len < 126 ? len : 0;
    this.#headerLength = len < 126 ? 6 : len === 126 ? 8 : 14;
    if (len < 126) this.#checkSize();
  }

  /** The whole length is known: refuse a data frame that takes its message over the cap. */
  #checkSize(): void {
    if (this.#opcode >= OPCODE.close) return;
    const total = this.#messageLength + this.#length;
    if (total > this.#maxMessageBytes) {
      this.#fail(
        CLOSE.messageTooBig,
        `message of at least ${total} bytes; at most ${this.#maxMessageBytes} accepted`,
      );
    }
  }

  /** The header is complete: make room for the payload (already known to be within bounds). */
  #startPayload(): void {
    const n = this.#length;
    this.#payloadRead = 0;
    if (this.#opcode >= OPCODE.close) {
      this.#control = n === 0 ? EMPTY : new Uint8Array(n);
    } else {
      this.#control = null;
      this.#reserve(this.#messageLength + n);
    }
    this.#state = PAYLOAD;
    if (n === 0) this.#endFrame();
  }

  /** Make the message buffer hold at least `size` bytes (size ≤ maxMessageBytes). */
  #reserve(size: number): void {
    const old = this.#message;
    if (old === null) {
      // The first frame: exactly its size (the common, unfragmented case needs no more).
      if (size > 0) this.#message = new Uint8Array(size);
      return;
    }
    if (old.length >= size) return;
    const grown = new Uint8Array(Math.min(this.#maxMessageBytes, Math.max(size, old.length * 2)));
    grown.set(old.subarray(0, this.#messageLength));
    this.#message = grown;
  }

  /** Copy and unmask payload bytes from `bytes[i, end)`; returns where it stopped. */
  #payload(bytes: Uint8Array, i: number, end: number): number {
    const n = Math.min(this.#length - this.#payloadRead, end - i);
    const control = this.#control;
    const target = control ?? this.#message!;
    let at = control === null ? this.#messageLength : this.#payloadRead;
    const mask = this.#mask;
    let k = this.#payloadRead;
    const stop = i + n;
    while (i < stop) {
      target[at++] = bytes[i++] ^ ((mask >>> ((3 - (k++ & 3)) << 3)) & 0xff);
    }
    this.#payloadRead = k;
    if (control === null) this.#messageLength = at;
    if (k === this.#length) this.#endFrame();
    return i;
  }

  /** A frame is complete: deliver what it completes and get ready for the next header. */
  #endFrame(): void {
    this.#state = HEADER;
    this.#headerRead = 0;
    this.#headerLength = 6;
    this.#mask = 0;
    const opcode = this.#opcode;
    if (opcode === OPCODE.ping) {
      const payload = this.#control!;
      this.#control = null;
      this.#handler.ping(payload);
    } else if (opcode === OPCODE.close) {
      this.#closeFrame(this.#control!);
    } else if (opcode === OPCODE.pong) {
      this.#control = null; // liveness only: the bytes having arrived is what counts
    } else if (this.#fin) {
      this.#endMessage();
    }
  }

  /** The last fragment arrived: deliver the message and forget it. */
  #endMessage(): void {
    const buffer = this.#message;
    const length = this.#messageLength;
    const text = this.#messageOpcode === OPCODE.text;
    this.#message = null;
    this.#messageLength = 0;
    this.#messageOpcode = 0;
    this.#fragments = 0;
    let data: ArrayBuffer | string;
    if (buffer === null) {
      data = text ? "" : new ArrayBuffer(0);
    } else if (text) {
      data = this.#utf8(buffer.subarray(0, length), "text message");
    } else {
      data = buffer.length === length ? buffer.buffer : buffer.buffer.slice(0, length);
    }
    this.#handler.message(data);
  }

  #closeFrame(payload: Uint8Array): void {
    this.#control = null;
    this.#state = DONE;
    if (payload.length === 0) return this.#handler.close(CLOSE.noStatus, "");
    if (payload.length === 1) this.#fail(CLOSE.protocolError, "close frame with a 1-byte payload");
    const code = (payload[0] << 8) | payload[1];
    if (!isSendableCloseCode(code)) this.#fail(CLOSE.protocolError, `invalid close code ${code}`);
    this.#handler.close(code, this.#utf8(payload.subarray(2), "close reason"));
  }

  /** `bytes` decoded as UTF-8, or a 1007 error naming `what`. */
  #utf8(bytes: Uint8Array, what: string): string {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      this.#fail(CLOSE.invalidPayload, `${what} is not valid UTF-8`);
    }
  }

  /** Stop parsing for good and throw the error to close the connection with. */
  #fail(code: number, reason: string): never {
    this.#state = DONE;
    this.#message = null;
    this.#control = null;
    throw new WebSocketProtocolError(code, reason);
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`WsFrameReader: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
