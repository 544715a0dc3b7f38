/**
 * Server frame encoding of `lib/net/ws_frame.ts`: the 2/4/10-byte header
 * forms, one buffer per frame, close frames (code, reason cut at a character
 * boundary), close codes that may be sent, and the handshake's accept value.
 */
import assert from "node:assert/strict";
import {
  CLOSE,
  encodeCloseFrame,
  encodeFrame,
  isSendableCloseCode,
  MAX_CLOSE_REASON_BYTES,
  OPCODE,
  websocketAccept,
} from "../lib/net/ws_frame.ts";

Deno.test("ws frame: header forms at the length boundaries, payload right after the header", () => {
  const cases: [length: number, header: number[]][] = [
    [0, [0x82, 0]],
    [125, [0x82, 125]],
    [126, [0x82, 126, 0, 126]],
    [65_535, [0x82, 126, 0xff, 0xff]],
    [65_536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
    [300_000, [0x82, 127, 0, 0, 0, 0, 0, 4, 0x93, 0xe0]],
  ];
  for (const [length, header] of cases) {
    const payload = new Uint8Array(length).map((_, i) => i & 0xff);
    const frame = encodeFrame(OPCODE.binary, payload);
    assert.equal(frame.length, header.length + length, `length ${length}`);
    assert.deepEqual([...frame.subarray(0, header.length)], header, `length ${length}`);
    assert.deepEqual(frame.subarray(header.length), payload);
    assert.equal(frame.byteOffset, 0);
    assert.equal(frame.buffer.byteLength, frame.length, "header and payload share one buffer");
  }
});

Deno.test("ws frame: text is sent as UTF-8; control frames are FIN and at most 125 bytes", () => {
  assert.deepEqual([...encodeFrame(OPCODE.text, "é")], [0x81, 2, 0xc3, 0xa9]);
  assert.deepEqual([...encodeFrame(OPCODE.ping, new Uint8Array([7]))], [0x89, 1, 7]);
  assert.deepEqual([...encodeFrame(OPCODE.pong, new Uint8Array(0))], [0x8a, 0]);
  assert.equal(encodeFrame(OPCODE.pong, new Uint8Array(125)).length, 127);
  assert.throws(() => encodeFrame(OPCODE.ping, new Uint8Array(126)), /at most 125 bytes/);
  assert.throws(() => encodeFrame(OPCODE.continuation, new Uint8Array(1)), /opcode 0/);
  assert.throws(() => encodeFrame(3, new Uint8Array(1)), /opcode 3/);
});

Deno.test("ws frame: close frames carry the code and a reason cut to 123 bytes at a character boundary", () => {
  assert.deepEqual([...encodeCloseFrame(CLOSE.messageTooBig, "big")], [
    0x88,
    5,
    0x03,
    0xf1,
    0x62,
    0x69,
    0x67,
  ]);
  assert.deepEqual([...encodeCloseFrame()], [0x88, 0]);
  const ascii = encodeCloseFrame(1000, "x".repeat(200));
  assert.equal(ascii.length, 2 + 2 + MAX_CLOSE_REASON_BYTES);
  // "é" is 2 bytes: 61 of them make 122 bytes; a 62nd would be split by the 123-byte cut.
  const accented = encodeCloseFrame(1000, "é".repeat(100));
  assert.equal(
    new TextDecoder("utf-8", { fatal: true }).decode(accented.subarray(4)),
    "é".repeat(61),
  );
  assert.throws(() => encodeCloseFrame(1006), /1006 may not be sent/);
});

Deno.test("ws frame: close codes that may be sent", () => {
  const sendable = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014];
  for (const code of sendable) assert.ok(isSendableCloseCode(code), `${code}`);
  for (const code of [3000, 4000, 4999]) assert.ok(isSendableCloseCode(code), `${code}`);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5]) {
    assert.ok(!isSendableCloseCode(code), `${code}`);
  }
});

Deno.test("ws frame: Sec-WebSocket-Accept of the RFC 6455 example key", () => {
  assert.equal(websocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});
