/**
 * Hostile raw clients (`Deno.connect`, frames written by hand) against
 * `ServerWebSocket` (lib/net) over real sockets on 127.0.0.1: each is refused
 * with its close code, the server reads nothing past the refusing header (the
 * fixture counts every byte the socket reads), no bad message is delivered,
 * and the connection is released exactly once. A client that floods pings
 * without reading cannot grow the server's queue.
 */
import assert from "node:assert/strict";
import { OPCODE } from "../lib/net/ws_frame.ts";
import { LINGER_BYTES, type ServerWebSocketOptions } from "../lib/net/ws_server_socket.ts";
import { clientFrame, clientHeader, RawClient } from "./fixtures/ws_raw_client.ts";
import { serveWebSockets, type TrackedSocket } from "./fixtures/ws_seam_server.ts";

const MIB = 1024 * 1024;
const READ_BUFFER = 4096;

/** Wait until `cond` holds; the timeout only guards against a hang. */
async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Open a raw client, let `write` attack (it may poll `refused()`, true once
 * the server's close frame arrived), and read the server's close frame.
 * Returns the close frame and the server's socket once it has ended.
 */
async function attack(
  options: ServerWebSocketOptions,
  write: (client: RawClient, refused: () => boolean) => Promise<void>,
): Promise<{ code: number; reason: string; t: TrackedSocket; client: RawClient }> {
  const server = serveWebSockets(options);
  const client = await RawClient.open(`${server.url}/ws`);
  let refused = false;
  const closing = client.readUntilClose().finally(() => refused = true);
  try {
    await write(client, () => refused);
  } catch (e) {
    // The server closes the connection while the attacker still writes.
    if (!(e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset)) throw e;
  }
  const close = await closing;
  assert.ok(close !== null, "the server sent a close frame");
  await client.readToEnd();
  client.close();
  const [t] = server.sockets;
  await t.closed;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(t.closes.length, 1, "onclose fires once");
  assert.equal(t.connection.releases, 1, "release() is called exactly once");
  assert.deepEqual(t.errors, []);
  assert.deepEqual({ ...t.closes[0] }, { code: close.code, reason: close.reason, wasClean: false });
  await server.close();
  return { code: close.code, reason: close.reason, t, client };
}

Deno.test("ws hostile: a frame announcing 64 MiB is closed 1009 after its header; the payload is never read", async () => {
  const { code, reason, t, client } = await attack({}, async (client) => {
    const header = clientHeader(OPCODE.binary, 64 * MIB);
    const first = new Uint8Array(header.length + 16 * 1024);
    first.set(header);
    await client.write(first);
  });
  assert.equal(code, 1009);
  assert.match(reason, /at least 67108864 bytes; at most 4096 accepted/);
  assert.deepEqual(t.messages, []);
  // Parsed: the header and at most one buffer. Read after refusing, and dropped
  // unparsed so that the client sees the close frame: at most LINGER_BYTES.
  assert.ok(
    t.connection.bytesRead < 14 + 2 * READ_BUFFER + LINGER_BYTES,
    `the server read ${t.connection.bytesRead} bytes: more than one buffer past the header and the linger`,
  );
  assert.equal(client.written, 14 + 16 * 1024);
});

Deno.test("ws hostile: 1 GiB sent as 1 MiB fragments is closed 1009 at the fragment past the cap", async () => {
  const cap = 2 * MIB;
  const payload = new Uint8Array(MIB).fill(0x61);
  const mask = new Uint8Array([1, 2, 3, 4]);
  const first = clientFrame(OPCODE.binary, payload, { fin: false, mask });
  const middle = clientFrame(OPCODE.continuation, payload, { fin: false, mask });
  const headerLength = first.length - MIB;
  const { code, t, client } = await attack(
    { maxMessageBytes: cap, maxFragments: 1024 },
    async (client, refused) => {
      // The attacker writes until it sees the close frame (or the server hangs up).
      for (let i = 0; i < 1024 && !refused(); i++) await client.write(i === 0 ? first : middle);
    },
  );
  assert.equal(code, 1009);
  assert.deepEqual(t.messages, []);
  // Two fragments (2 MiB) fit; the third's header is refused in the read that brought it.
  assert.ok(
    t.connection.bytesRead <= cap + 2 * headerLength + 2 * READ_BUFFER + LINGER_BYTES,
    `the server read ${t.connection.bytesRead} bytes, more than the cap, one buffer and the linger`,
  );
  assert.ok(client.written < 1024 * MIB);
});

Deno.test("ws hostile: a message in too many fragments is closed 1008", async () => {
  const { code, reason, t } = await attack({ maxFragments: 4 }, async (client) => {
    await client.write(clientFrame(OPCODE.binary, "a", { fin: false }));
    for (let i = 0; i < 10; i++) {
      await client.write(clientFrame(OPCODE.continuation, "b", { fin: false }));
    }
  });
  assert.equal(code, 1008);
  assert.equal(reason, "message in more than 4 fragments");
  assert.deepEqual(t.messages, []);
});

Deno.test("ws hostile: an unmasked frame is closed 1002; messages before it were delivered", async () => {
  const { code, reason, t } = await attack({}, async (client) => {
    await client.write(clientFrame(OPCODE.binary, new Uint8Array([1])));
    await client.write(clientFrame(OPCODE.binary, new Uint8Array([2]), { masked: false }));
  });
  assert.equal(code, 1002);
  assert.equal(reason, "unmasked client frame");
  assert.deepEqual(t.messages.map((m) => [...new Uint8Array(m as ArrayBuffer)]), [[1]]);
});

Deno.test("ws hostile: a text message that is not UTF-8 is closed 1007", async () => {
  const { code, t } = await attack({}, async (client) => {
    await client.write(clientFrame(OPCODE.text, new Uint8Array([0x68, 0xc3, 0x28])));
  });
  assert.equal(code, 1007);
  assert.deepEqual(t.messages, []);
});

Deno.test("ws hostile: an oversized or fragmented ping is closed 1002", async () => {
  const oversized = await attack({}, async (client) => {
    await client.write(clientFrame(OPCODE.ping, new Uint8Array(126)));
  });
  assert.equal(oversized.code, 1002);
  assert.equal(oversized.reason, "control frame over 125 bytes");
  const fragmented = await attack({}, async (client) => {
    await client.write(clientFrame(OPCODE.ping, "a", { fin: false }));
  });
  assert.equal(fragmented.code, 1002);
  assert.equal(fragmented.reason, "fragmented control frame");
});

Deno.test("ws hostile: garbage instead of frames is closed 1002", async () => {
  for (const garbage of ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\xff\xff\xff\xff"]) {
    const { code, t } = await attack({}, async (client) => {
      await client.write(Uint8Array.from(garbage, (c) => c.charCodeAt(0)));
    });
    assert.equal(code, 1002);
    assert.deepEqual(t.messages, []);
  }
});

Deno.test("ws hostile: a client that floods pings and never reads holds at most one pong in the queue", async () => {
  const server = serveWebSockets();
  const client = await RawClient.open(`${server.url}/ws`);
  await waitFor("open", () => server.sockets[0]?.opens === 1);
  const [t] = server.sockets;
  const ping = clientFrame(OPCODE.ping, new Uint8Array(125));
  const batch = new Uint8Array(ping.length * 1000);
  for (let i = 0; i < 1000; i++) batch.set(ping, i * ping.length);
  let most = 0;
  // 50,000 pings: 6.5 MB of pongs if each were queued, more than the kernel's buffers take.
  for (let i = 0; i < 50; i++) {
    await client.write(batch);
    most = Math.max(most, t.socket.bufferedAmount);
  }
  await waitFor("the server to read every ping", () => t.connection.bytesRead === client.written);
  most = Math.max(most, t.socket.bufferedAmount);
  assert.ok(most <= 2 * 127, `${most} bytes queued: more than the pong being written and one more`);
  // The socket still works.
  await client.write(clientFrame(OPCODE.binary, new Uint8Array([42])));
  await waitFor("the message after the flood", () => t.messages.length === 1);
  client.close();
  assert.equal((await t.closed).code, 1006);
  assert.equal(t.connection.releases, 1);
  await server.close();
});
