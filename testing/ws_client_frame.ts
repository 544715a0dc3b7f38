/**
 * Client → server WebSocket frames written by hand (RFC 6455 §5.2–5.3):
 * masked as clients must, or not, with any FIN/RSV bits and any announced
 * length, for the hostile clients of the tests and the attack harness.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * How to build one client frame.
 *
 * @example
 * ```ts
 * const unmasked: ClientFrameOptions = { masked: false };
 * ```
 */
export interface ClientFrameOptions {
  /** The FIN bit; default true. */
  fin?: boolean;
  /** Masked as RFC 6455 requires of clients; default true. */
  masked?: boolean;
  /** The RSV1–3 bits (0–7); default 0. */
  rsv?: number;
  /** The masking key; default random. */
  mask?: Uint8Array;
}

/**
 * A client frame header announcing `length` payload bytes (mask key included when masked).
 *
 * @example
 * ```ts
 * clientHeader(0x2, 70_000).length; // 14: 2 + 8 length bytes + 4 mask bytes
 * ```
 */
export function clientHeader(
  opcode: number,
  length: number,
  options: ClientFrameOptions = {},
): Uint8Array {
  const { fin = true, masked = true, rsv = 0 } = options;
  const mask = options.mask ?? crypto.getRandomValues(new Uint8Array(4));
  const ext = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const header = new Uint8Array(2 + ext + (masked ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  header[1] = (masked ? 0x80 : 0) | (ext === 0 ? length : ext === 2 ? 126 : 127);
  const view = new DataView(header.buffer);
  if (ext === 2) view.setUint16(2, length);
  if (ext === 8) {
    view.setUint32(2, Math.floor(length / 0x1_0000_0000));
    view.setUint32(6, length >>> 0);
  }
  if (masked) header.set(mask, 2 + ext);
  return header;
}

/**
 * One client frame: header and (masked) payload.
 *
 * @example
 * ```ts
 * clientFrame(0x2, new Uint8Array([1, 2, 3])).length; // 9
 * ```
 */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string = new Uint8Array(0),
  options: ClientFrameOptions = {},
): Uint8Array<ArrayBuffer> {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const mask = options.mask ?? crypto.getRandomValues(new Uint8Array(4));
  const masked = options.masked ?? true;
  const header = clientHeader(opcode, bytes.length, { ...options, mask });
  const frame = new Uint8Array(header.length + bytes.length);
  frame.set(header);
  for (let i = 0; i < bytes.length; i++) {
    frame[header.length + i] = masked ? bytes[i] ^ mask[i & 3] : bytes[i];
  }
  return frame;
}

/**
 * The payload of a close frame with `code` and `reason`.
 *
 * @example
 * ```ts
 * closePayload(1000, "bye").length; // 5
 * ```
 */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = encoder.encode(reason);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}
