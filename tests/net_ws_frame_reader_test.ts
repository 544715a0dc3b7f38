/**
 * The client-frame parser of `lib/net/ws_frame_reader.ts`: valid frame
 * sequences (fragmented, interleaved with control frames, fed in any split)
 * give the same messages, and every protocol violation and limit is refused
 * with its close code from the header byte that decides it, before any of
 * the payload is pushed.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type FrameReaderOptions,
  WebSocketProtocolError,
  WsFrameReader,
} from "../lib/net/ws_frame_reader.ts";
import { clientFrame, clientHeader, closePayload } from "./fixtures/ws_raw_client.ts";

type Event =
  | { kind: "message"; data: string | Uint8Array }
  | { kind: "ping"; payload: Uint8Array }
  | { kind: "close"; code: number; reason: string };

function collector(options: FrameReaderOptions = {}): { reader: WsFrameReader; events: Event[] } {
  const events: Event[] = [];
  const reader = new WsFrameReader({
    message: (data) =>
      events.push({
        kind: "message",
        data: typeof data === "string" ? data : new Uint8Array(data),
      }),
    ping: (payload) => events.push({ kind: "ping", payload: payload.slice() }),
    close: (code, reason) => events.push({ kind: "close", code, reason }),
  }, options);
  return { reader, events };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Push `bytes` one at a time; returns the index of the byte that threw and the error. */
function pushBytewise(reader: WsFrameReader, bytes: Uint8Array): { at: number; error: unknown } {
  for (let i = 0; i < bytes.length; i++) {
    try {
      reader.push(bytes, i, i + 1);
    } catch (error) {
      return { at: i, error };
    }
  }
  return { at: -1, error: null };
}

/** `bytes` pushed one at a time are refused with `code` exactly at byte `at` (0-based). */
function assertRefusedAt(
  bytes: Uint8Array,
  at: number,
  code: number,
  options: FrameReaderOptions = {},
): Event[] {
  const { reader, events } = collector(options);
  const got = pushBytewise(reader, bytes);
  assert.ok(got.error instanceof WebSocketProtocolError, `expected a refusal, got ${got.error}`);
  assert.equal(got.error.code, code, got.error.message);
  assert.equal(got.at, at, `refused at byte ${got.at}, expected ${at} (${got.error.message})`);
  // Refused for good: nothing more is parsed.
  reader.push(clientFrame(0x2, "after"));
  return events;
}

const MIB = 1024 * 1024;

/** `n` bytes of a fixed pseudo-random pattern. */
function patterned(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761) >>> 24;
  return out;
}

Deno.test("frame reader: messages of every length form, one byte at a time and whole", () => {
  const big = patterned(70_000);
  const frames = [
    clientFrame(0x2, new Uint8Array([1, 2, 3])),
    clientFrame(0x1, "héllo ✓"),
    clientFrame(0x2, new Uint8Array(0)),
    clientFrame(0x1, ""),
    clientFrame(0x2, big.subarray(0, 126)),
    clientFrame(0x2, big.subarray(0, 65_535)),
    clientFrame(0x2, big),
    clientFrame(0x1, "\uFEFFbom kept"),
  ];
  const bytes = concat(...frames);
  for (const bytewise of [false, true]) {
    const { reader, events } = collector({ maxMessageBytes: 70_000 });
    if (bytewise) assert.equal(pushBytewise(reader, bytes).at, -1);
    else reader.push(bytes);
    assert.deepEqual(events.map((e) => e.kind === "message" && e.data), [
      new Uint8Array([1, 2, 3]),
      "héllo ✓",
      new Uint8Array(0),
      "",
      big.slice(0, 126),
      big.slice(0, 65_535),
      big,
      "\uFEFFbom kept",
    ]);
  }
});

Deno.test("frame reader: an unfragmented binary message is delivered in a buffer of exactly its size", () => {
  let got: ArrayBuffer | string | undefined;
  const reader = new WsFrameReader({ message: (d) => got = d, ping: () => {}, close: () => {} });
  reader.push(clientFrame(0x2, new Uint8Array(1000)));
  assert.ok(got instanceof ArrayBuffer);
  assert.equal(got.byteLength, 1000);
});

Deno.test("frame reader: fragments with pings and pongs between them make one message", () => {
  const { reader, events } = collector();
  const euro = new TextEncoder().encode("€uro"); // a 3-byte character split across fragments
  reader.push(concat(
    clientFrame(0x1, euro.subarray(0, 1), { fin: false }),
    clientFrame(0x9, "p1"),
    clientFrame(0x0, euro.subarray(1, 2), { fin: false }),
    clientFrame(0xa, "pong"),
    clientFrame(0x0, new Uint8Array(0), { fin: false }),
    clientFrame(0x0, euro.subarray(2)),
    clientFrame(0x2, new Uint8Array([9]), { fin: false }),
    clientFrame(0x0, new Uint8Array([8])),
  ));
  assert.deepEqual(events, [
    { kind: "ping", payload: new TextEncoder().encode("p1") },
    { kind: "message", data: "€uro" },
    { kind: "message", data: new Uint8Array([9, 8]) },
  ]);
});

Deno.test("frame reader: close frames with and without a code; nothing is parsed after one", () => {
  let { reader, events } = collector();
  reader.push(concat(clientFrame(0x8, closePayload(4001, "bye ✓")), clientFrame(0x2, "later")));
  assert.deepEqual(events, [{ kind: "close", code: 4001, reason: "bye ✓" }]);
  ({ reader, events } = collector());
  reader.push(clientFrame(0x8));
  assert.deepEqual(events, [{ kind: "close", code: 1005, reason: "" }]);
});

Deno.test("frame reader: protocol violations are refused with 1002 at the byte that shows them", () => {
  // Byte 0: RSV bits, unknown opcodes, fragmented control frames, a stray continuation.
  assertRefusedAt(clientFrame(0x2, "x", { rsv: 4 }), 0, 1002);
  assertRefusedAt(clientFrame(0x2, "x", { rsv: 1 }), 0, 1002);
  for (const opcode of [3, 7, 0xb, 0xf]) assertRefusedAt(clientFrame(opcode, "x"), 0, 1002);
  assertRefusedAt(clientFrame(0x9, "x", { fin: false }), 0, 1002);
  assertRefusedAt(clientFrame(0x8, new Uint8Array(0), { fin: false }), 0, 1002);
  assertRefusedAt(clientFrame(0x0, "x"), 0, 1002);
  // A new data frame inside a fragmented message.
  const first = clientFrame(0x2, "ab", { fin: false });
  assertRefusedAt(concat(first, clientFrame(0x1, "c")), first.length, 1002);
  // Byte 1: an unmasked frame, a control frame over 125 bytes.
  assertRefusedAt(clientFrame(0x2, "x", { masked: false }), 1, 1002);
  assertRefusedAt(clientHeader(0x9, 126), 1, 1002);
  assertRefusedAt(clientHeader(0xa, 70_000), 1, 1002);
  // Byte 2: a 64-bit length with its top bit set.
  const huge = clientHeader(0x2, 1);
  const header = new Uint8Array(14);
  header.set([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1]);
  header.set(huge.subarray(2, 6), 10);
  assertRefusedAt(header, 2, 1002);
  // Close frames: a 1-byte payload, codes that may not be sent.
  const oneByte = clientFrame(0x8, new Uint8Array([3]));
  assertRefusedAt(oneByte, oneByte.length - 1, 1002);
  for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000]) {
    const frame = clientFrame(0x8, closePayload(code));
    assertRefusedAt(frame, frame.length - 1, 1002);
  }
});

Deno.test("frame reader: invalid UTF-8 in a text message or a close reason is refused with 1007", () => {
  for (const bad of [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
    const frame = clientFrame(0x1, new Uint8Array(bad));
    assertRefusedAt(frame, frame.length - 1, 1007);
    const close = clientFrame(0x8, concat(closePayload(1000), new Uint8Array(bad)));
    assertRefusedAt(close, close.length - 1, 1007);
  }
  // Split across fragments, an incomplete character at the end is still invalid.
  const frames = concat(
    clientFrame(0x1, "ok", { fin: false }),
    clientFrame(0x0, new Uint8Array([0xe2])),
  );
  assertRefusedAt(frames, frames.length - 1, 1007);
});

Deno.test("frame reader: a frame announcing 64 MiB is refused (1009) at its length field, before any payload", () => {
  const header = clientHeader(0x2, 64 * MIB);
  assert.equal(header.length, 14);
  // Byte 9 completes the 64-bit length: refused there, before the mask key or a payload byte.
  const events = assertRefusedAt(header, 9, 1009);
  assert.deepEqual(events, []);
  // At the default cap (4096) the same holds for a 16-bit length.
  assertRefusedAt(clientHeader(0x2, 4097), 3, 1009);
  // Exactly at the cap is accepted.
  const { reader, events: ok } = collector({ maxMessageBytes: 4096 });
  reader.push(clientFrame(0x2, new Uint8Array(4096)));
  assert.equal(ok.length, 1);
});

Deno.test("frame reader: 1 GiB sent as 1 MiB fragments is refused (1009) at the fragment past the cap", () => {
  const cap = 3 * MIB + 100;
  const { reader, events } = collector({ maxMessageBytes: cap, maxFragments: 1024 });
  const payload = patterned(MIB);
  let accepted = 0;
  let error: unknown = null;
  for (let i = 0; i < 1024 && error === null; i++) {
    const frame = clientFrame(i === 0 ? 0x2 : 0x0, payload, { fin: i === 1023 });
    const headerLength = frame.length - MIB;
    try {
      reader.push(frame, 0, headerLength); // the header alone decides
    } catch (e) {
      error = e;
      break;
    }
    reader.push(frame, headerLength);
    accepted += MIB;
  }
  assert.ok(error instanceof WebSocketProtocolError);
  assert.equal(error.code, 1009);
  assert.equal(
    accepted,
    3 * MIB,
    "three fragments fit under the cap; the fourth header is refused",
  );
  assert.deepEqual(events, []);
});

Deno.test("frame reader: a message in more fragments than maxFragments is refused with 1008", () => {
  const parts = [clientFrame(0x2, new Uint8Array(0), { fin: false })];
  for (let i = 0; i < 4; i++) parts.push(clientFrame(0x0, new Uint8Array(0), { fin: i === 3 }));
  const bytes = concat(...parts);
  // Fragment 5 of at most 4: refused at its first byte.
  assertRefusedAt(bytes, 4 * 6, 1008, { maxFragments: 4 });
  // Five are fine when five are allowed, and the count starts again with each message.
  const { reader, events } = collector({ maxFragments: 5 });
  reader.push(bytes);
  reader.push(bytes);
  assert.equal(events.length, 2);
});

Deno.test("frame reader: limits must be positive integers", () => {
  const handler = { message: () => {}, ping: () => {}, close: () => {} };
  assert.throws(() => new WsFrameReader(handler, { maxMessageBytes: 0 }), /maxMessageBytes/);
  assert.throws(() => new WsFrameReader(handler, { maxFragments: 1.5 }), /maxFragments/);
});

/** One message of the property test: its kind, its fragments' bytes, and pings after fragments. */
interface GeneratedMessage {
  text: boolean;
  fragments: Uint8Array[];
  pingAfter: boolean[];
}

const textMessage = fc.tuple(
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.array(fc.nat(), { maxLength: 4 }),
)
  .map(([s, cuts]) => {
    const bytes = new TextEncoder().encode(s);
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const fragments: Uint8Array[] = [];
    let from = 0;
    for (const p of points) {
      fragments.push(bytes.slice(from, p));
      from = p;
    }
    fragments.push(bytes.slice(from));
    return { text: true, fragments };
  });
const binaryMessage = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 })
  .map((fragments) => ({ text: false, fragments }));
const message = fc.oneof(textMessage, binaryMessage).chain((m) =>
  fc.array(fc.boolean(), { minLength: m.fragments.length, maxLength: m.fragments.length })
    .map((pingAfter): GeneratedMessage => ({ ...m, pingAfter }))
);

Deno.test("frame reader (property): any split of a valid frame sequence parses to the same messages", () => {
  fc.assert(
    fc.property(
      fc.array(message, { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (messages, cuts) => {
        const frames: Uint8Array[] = [];
        const expected: Event[] = [];
        for (const m of messages) {
          m.fragments.forEach((f, i) => {
            const opcode = i === 0 ? (m.text ? 0x1 : 0x2) : 0x0;
            frames.push(clientFrame(opcode, f, { fin: i === m.fragments.length - 1 }));
            if (m.pingAfter[i] && i < m.fragments.length - 1) {
              frames.push(clientFrame(0x9, new Uint8Array([i])));
              expected.push({ kind: "ping", payload: new Uint8Array([i]) });
            }
          });
          const all = concat(...m.fragments);
          expected.push({
            kind: "message",
            data: m.text ? new TextDecoder().decode(all) : all,
          });
        }
        frames.push(clientFrame(0x8, closePayload(1000, "done")));
        expected.push({ kind: "close", code: 1000, reason: "done" });
        const bytes = concat(...frames);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const { reader, events } = collector({ maxMessageBytes: 1 << 16, maxFragments: 8 });
        let from = 0;
        for (const p of [...points, bytes.length]) {
          reader.push(bytes, from, p);
          from = p;
        }
        assert.deepEqual(events, expected);
      },
    ),
    { numRuns: 300 },
  );
});
