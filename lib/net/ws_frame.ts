/**
 * WebSocket framing constants and the server's side of RFC 6455 §5: opcodes,
 * close codes, the encoder of server → client frames, and the
 * `Sec-WebSocket-Accept` value of a handshake.
 *
 * A server frame is never masked and this server never fragments, so every
 * frame it sends is one `FIN` frame: a 2-, 4- or 10-byte header followed by
 * the payload, in ONE buffer. A frame encoded once can therefore be queued,
 * unchanged and uncopied, to any number of clients
 * (`ServerWebSocket.sendFrame` in `ws_server_socket.ts`).
 *
 * @example
 * ```ts
 * import { encodeFrame, OPCODE, websocketAccept } from "./ws_frame.ts";
 * const frame = encodeFrame(OPCODE.binary, new Uint8Array([1, 2, 3]));
 * frame; // Uint8Array [0x82, 3, 1, 2, 3]
 * websocketAccept("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 * @module
 */

import { createHash } from "node:crypto";

/**
 * Frame opcodes (RFC 6455 §5.2). Opcodes 8 and above are control frames.
 *
 * @example
 * ```ts
 * import { OPCODE } from "./ws_frame.ts";
 * OPCODE.ping; // 9
 * ```
 */
export const OPCODE = {
  /** A later fragment of a fragmented message. */
  continuation: 0x0,
  /** A text message (UTF-8), or its first fragment. */
  text: 0x1,
  /** A binary message, or its first fragment. */
  binary: 0x2,
  /** The closing handshake: an optional 2-byte code and a UTF-8 reason. */
  close: 0x8,
  /** Liveness probe; answered with a pong carrying the same payload. */
  ping: 0x9,
  /** Answer to a ping (or an unsolicited heartbeat). */
  pong: 0xa,
} as const;

/**
 * Close codes (RFC 6455 §7.4.1 and the IANA registry) used by this server.
 *
 * @example
 * ```ts
 * import { CLOSE } from "./ws_frame.ts";
 * CLOSE.messageTooBig; // 1009
 * ```
 */
export const CLOSE = {
  /** Normal closure. */
  normal: 1000,
  /** The endpoint is going away (server shutdown, or the peer stopped answering). */
  goingAway: 1001,
  /** The peer broke the framing protocol (unmasked frame, bad opcode, …). */
  protocolError: 1002,
  /** A kind of data the endpoint does not accept (e.g. text where binary is expected). */
  unsupportedData: 1003,
  /** Reported when a close frame carried no code; never sent. */
  noStatus: 1005,
  /** Reported when the connection ended without a close frame; never sent. */
  abnormal: 1006,
  /** A text message that is not valid UTF-8. */
  invalidPayload: 1007,
  /** A policy was violated (no more specific code applies). */
  policyViolation: 1008,
  /** A message larger than the endpoint accepts. */
  messageTooBig: 1009,
  /** The server hit an unexpected condition. */
  internalError: 1011,
  /** Try again later (e.g. the client read too slowly). */
  tryAgainLater: 1013,
} as const;

/** Largest payload of a control frame (close, ping, pong), RFC 6455 §5.5. */
export const MAX_CONTROL_PAYLOAD = 125;

/** Longest close reason in UTF-8 bytes: a control payload minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;

/** The GUID that RFC 6455 §1.3 appends to the client's key. */
const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const utf8 = new TextEncoder();

/**
 * Whether `code` may appear in a close frame on the wire: 1000–1003,
 * 1007–1014 and the application range 3000–4999 (1005 and 1006 are only ever
 * reported locally; 1004 and 1015 are reserved).
 *
 * @example
 * ```ts
 * import { isSendableCloseCode } from "./ws_frame.ts";
 * isSendableCloseCode(1009); // true
 * isSendableCloseCode(1006); // false
 * ```
 */
export function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code <= 4999));
}

/** Header length of a server frame carrying `payloadLength` bytes: 2, 4 or 10. */
function headerLength(payloadLength: number): number {
  return payloadLength <= 125 ? 2 : payloadLength <= 0xffff ? 4 : 10;
}

/**
 * Encode one unmasked `FIN` frame with `opcode` and `payload` (a string is
 * sent as its UTF-8 bytes): header and payload in one new buffer. Control
 * frames (close, ping, pong) must carry at most 125 bytes.
 *
 * @example
 * ```ts
 * import { encodeFrame, OPCODE } from "./ws_frame.ts";
 * encodeFrame(OPCODE.binary, new Uint8Array(200)).length; // 204: a 4-byte header
 * encodeFrame(OPCODE.text, "hi"); // Uint8Array [0x81, 2, 0x68, 0x69]
 * ```
 *
 * @param opcode One of {@linkcode OPCODE}'s values other than `continuation`.
 * @param payload The message bytes (copied into the frame), or text.
 * @throws {RangeError} For a control frame over 125 bytes, or an unknown opcode.
 */
export function encodeFrame(opcode: number, payload: Uint8Array | string): Uint8Array<ArrayBuffer> {
  const bytes = typeof payload === "string" ? utf8.encode(payload) : payload;
  const n = bytes.length;
  const known = opcode === OPCODE.text || opcode === OPCODE.binary || opcode === OPCODE.close ||
    opcode === OPCODE.ping || opcode === OPCODE.pong;
  if (!known) {
    throw new RangeError(`encodeFrame: opcode ${opcode} is not text, binary, close, ping or pong`);
  }
  if (opcode >= OPCODE.close && n > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(
      `encodeFrame: a control frame carries at most ${MAX_CONTROL_PAYLOAD} bytes, got ${n}`,
    );
  }
  const h = headerLength(n);
  const frame = new Uint8Array(h + n);
  frame[0] = 0x80 | opcode;
  if (h === 2) {
    frame[1] = n;
  } else if (h === 4) {
    frame[1] = 126;
    frame[2] = n >>> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 127;
    const view = new DataView(frame.buffer);
    view.setUint32(2, Math.floor(n / 0x1_0000_0000));
    view.setUint32(6, n >>> 0);
  }
  frame.set(bytes, h);
  return frame;
}

/**
 * Encode a close frame carrying `code` and `reason`. The reason is cut to
 * {@linkcode MAX_CLOSE_REASON_BYTES} UTF-8 bytes (at a character boundary);
 * without a code the frame is empty (the peer reports 1005).
 *
 * @example
 * ```ts
 * import { encodeCloseFrame } from "./ws_frame.ts";
 * encodeCloseFrame(1000, "bye"); // Uint8Array [0x88, 5, 0x03, 0xe8, 0x62, 0x79, 0x65]
 * encodeCloseFrame(); // Uint8Array [0x88, 0]
 * ```
 *
 * @param code A code for which {@linkcode isSendableCloseCode} holds, or undefined.
 * @param reason Why the connection closes.
 * @throws {RangeError} For a code that may not be sent.
 */
export function encodeCloseFrame(code?: number, reason = ""): Uint8Array<ArrayBuffer> {
  if (code === undefined) return encodeFrame(OPCODE.close, new Uint8Array(0));
  if (!isSendableCloseCode(code)) {
    throw new RangeError(
      `encodeCloseFrame: close code ${code} may not be sent (expected 1000-1003, 1007-1014 or 3000-4999)`,
    );
  }
  const text = utf8.encode(reason);
  let cut = Math.min(text.length, MAX_CLOSE_REASON_BYTES);
  // Never split a character: back up over UTF-8 continuation bytes.
  while (cut < text.length && cut > 0 && (text[cut] & 0xc0) === 0x80) cut--;
  const payload = new Uint8Array(2 + cut);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text.subarray(0, cut), 2);
  return encodeFrame(OPCODE.close, payload);
}

/**
 * The `Sec-WebSocket-Accept` header value answering the client's
 * `Sec-WebSocket-Key` (RFC 6455 §4.2.2): base64 of the SHA-1 of the key and
 * the protocol's GUID.
 *
 * @example
 * ```ts
 * import { websocketAccept } from "./ws_frame.ts";
 * websocketAccept("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
 * ```
 *
 * @param key The request's `Sec-WebSocket-Key`, trimmed.
 */
export function websocketAccept(key: string): string {
  return createHash("sha1").update(key + HANDSHAKE_GUID).digest("base64");
}
