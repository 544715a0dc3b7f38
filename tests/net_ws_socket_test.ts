/**
 * `ServerWebSocket` (lib/net) over real sockets on 127.0.0.1, handed over by
 * the seam fixture (`tests/fixtures/ws_seam_server.ts`): interop with Deno's
 * own `WebSocket` client (binary and text both ways, close codes and reasons
 * both ways), pings answered, one encoded frame queued to two sockets,
 * `bufferedAmount` growing while the client does not read and falling when it
 * does, the keep-alive ping and idle close, and every way a socket ends
 * (each calls `release()` exactly once and `onclose` once).
 */
import assert from "node:assert/strict";
import { encodeFrame, OPCODE } from "../lib/net/ws_frame.ts";
import { ServerWebSocket } from "../lib/net/ws_server_socket.ts";
import { clientFrame, closePayload, RawClient } from "./fixtures/ws_raw_client.ts";
import { serveWebSockets, type TrackedSocket } from "./fixtures/ws_seam_server.ts";

/** Wait until `cond` holds; the timeout only guards against a hang. */
async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Deno's WebSocket client with what it received. */
function denoClient(url: string) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const messages: (ArrayBuffer | string)[] = [];
  ws.onmessage = (e) => messages.push(e.data);
  const opened = new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = (e) => reject(new Error(`client error: ${(e as ErrorEvent).message}`));
  });
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  return { ws, messages, opened, closed };
}

/** The socket ended once, its connection released exactly once (checked again after a pause). */
async function assertEndedOnce(t: TrackedSocket): Promise<void> {
  await t.closed;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(t.closes.length, 1, "onclose fires once");
  assert.equal(t.connection.releases, 1, "release() is called exactly once");
  assert.equal(t.socket.readyState, ServerWebSocket.CLOSED);
  assert.equal(t.socket.bufferedAmount, 0);
}

const bytes = (data: ArrayBuffer | string | undefined) =>
  data instanceof ArrayBuffer ? [...new Uint8Array(data)] : data;

Deno.test("ws socket: binary and text both ways with Deno's WebSocket client; client closes with a code", async () => {
  const server = serveWebSockets({}, (t) => {
    t.socket.onopen = () => {
      t.opens++;
      t.socket.send(new Uint8Array([1, 2, 3]));
      t.socket.send("server ✓");
    };
  });
  const client = denoClient(`${server.url}/ws`);
  await client.opened;
  await waitFor("two messages at the client", () => client.messages.length === 2);
  assert.deepEqual(client.messages.map(bytes), [[1, 2, 3], "server ✓"]);

  client.ws.send(new Uint8Array([4, 5]));
  client.ws.send("client ✓");
  const [t] = server.sockets;
  await waitFor("two messages at the server", () => t.messages.length === 2);
  assert.deepEqual(t.messages.map(bytes), [[4, 5], "client ✓"]);
  assert.equal(t.opens, 1);

  client.ws.close(4000, "client bye");
  const event = await t.closed;
  assert.deepEqual({ ...event }, { code: 4000, reason: "client bye", wasClean: true });
  const clientEvent = await client.closed;
  assert.equal(clientEvent.code, 4000, "the server echoes the client's code");
  assert.ok(clientEvent.wasClean);
  await assertEndedOnce(t);
  assert.deepEqual(t.errors, []);
  await server.close();
});

Deno.test("ws socket: the server closes with a code and reason; Deno's client sees them", async () => {
  const server = serveWebSockets();
  const client = denoClient(`${server.url}/ws`);
  await client.opened;
  const [t] = server.sockets;
  await waitFor("open", () => t.opens === 1);
  t.socket.close(4001, "server bye");
  assert.equal(t.socket.readyState, ServerWebSocket.CLOSING);
  t.socket.send("dropped: the socket is closing");
  const clientEvent = await client.closed;
  assert.equal(clientEvent.code, 4001);
  assert.equal(clientEvent.reason, "server bye");
  assert.ok(clientEvent.wasClean);
  const event = await t.closed;
  assert.equal(event.code, 4001, "the client's echo");
  assert.ok(event.wasClean);
  assert.deepEqual(client.messages, [], "nothing is sent after close()");
  await assertEndedOnce(t);
  await server.close();
});

Deno.test("ws socket: pings are answered with their payload; the connection ends when the client leaves", async () => {
  const server = serveWebSockets();
  const client = await RawClient.open(`${server.url}/ws`);
  await client.write(clientFrame(OPCODE.ping, "abc"));
  await client.write(clientFrame(OPCODE.binary, new Uint8Array([9])));
  await client.write(clientFrame(OPCODE.ping, new Uint8Array(125).fill(7)));
  const first = await client.readFrame();
  assert.deepEqual(first, {
    fin: true,
    opcode: OPCODE.pong,
    payload: new TextEncoder().encode("abc"),
  });
  const second = await client.readFrame();
  assert.deepEqual(second?.payload, new Uint8Array(125).fill(7));
  const [t] = server.sockets;
  await waitFor("the binary message", () => t.messages.length === 1);
  // The client goes away without a close frame: 1006, not clean, no error.
  client.close();
  const event = await t.closed;
  assert.deepEqual({ ...event }, { code: 1006, reason: "", wasClean: false });
  assert.deepEqual(t.errors, []);
  await assertEndedOnce(t);
  await server.close();
});

Deno.test("ws socket: one encoded frame queued to two sockets reaches both unchanged", async () => {
  const server = serveWebSockets();
  const a = denoClient(`${server.url}/ws`);
  const b = denoClient(`${server.url}/ws`);
  await Promise.all([a.opened, b.opened]);
  await waitFor(
    "both open",
    () => server.sockets.length === 2 && server.sockets.every((t) => t.opens === 1),
  );
  const payload = new Uint8Array(70_000).map((_, i) => i % 251);
  const frame = encodeFrame(OPCODE.binary, payload);
  const copy = frame.slice();
  for (const t of server.sockets) t.socket.sendFrame(frame);
  await waitFor("both received", () => a.messages.length === 1 && b.messages.length === 1);
  assert.deepEqual(new Uint8Array(a.messages[0] as ArrayBuffer), payload);
  assert.deepEqual(new Uint8Array(b.messages[0] as ArrayBuffer), payload);
  assert.deepEqual(frame, copy, "the shared frame is not modified");
  a.ws.close();
  b.ws.close();
  await Promise.all([a.closed, b.closed]);
  for (const t of server.sockets) await assertEndedOnce(t);
  await server.close();
});

Deno.test("ws socket: bufferedAmount grows while the client does not read and falls when it reads", async () => {
  const server = serveWebSockets();
  const client = await RawClient.open(`${server.url}/ws`);
  const [t] = await (async () => {
    await waitFor("open", () => server.sockets[0]?.opens === 1);
    return server.sockets;
  })();
  const frame = encodeFrame(OPCODE.binary, new Uint8Array(64 * 1024));
  let sent = 0;
  // Queue until the kernel's buffers are full and bytes stay in the socket's own queue.
  while (t.socket.bufferedAmount === 0) {
    assert.ok(sent < 4096, "the queue never filled (256 MiB sent)");
    for (let i = 0; i < 16; i++) t.socket.sendFrame(frame);
    sent += 16;
    await new Promise((r) => setTimeout(r, 1));
  }
  const stuck = t.socket.bufferedAmount;
  assert.ok(stuck > 0 && stuck <= sent * frame.length);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(t.socket.bufferedAmount > 0, "nothing drains while the client does not read");
  // The client reads: the queue drains to 0 and every frame arrives.
  let received = 0;
  while (received < sent) {
    const f = await client.readFrame();
    assert.equal(f?.payload.length, 64 * 1024);
    received++;
  }
  await waitFor("the queue to drain", () => t.socket.bufferedAmount === 0);
  await client.write(clientFrame(OPCODE.close, closePayload(1000)));
  const echo = await client.readUntilClose();
  assert.equal(echo?.code, 1000);
  await client.readToEnd();
  client.close();
  assert.equal((await t.closed).code, 1000);
  await assertEndedOnce(t);
  await server.close();
});

Deno.test("ws socket: a silent client is pinged after idleTimeoutMs/2 and closed (1001) after idleTimeoutMs", async () => {
  const server = serveWebSockets({ idleTimeoutMs: 200 });
  const client = await RawClient.open(`${server.url}/ws`);
  const ping = await client.readFrame();
  assert.equal(ping?.opcode, OPCODE.ping);
  const close = await client.readUntilClose();
  assert.equal(close?.code, 1001);
  assert.match(close?.reason ?? "", /no data from the client for 200 ms/);
  await client.readToEnd();
  client.close();
  const [t] = server.sockets;
  assert.deepEqual({ ...(await t.closed) }, {
    code: 1001,
    reason: "no data from the client for 200 ms",
    wasClean: false,
  });
  await assertEndedOnce(t);
  await server.close();
});

Deno.test("ws socket: a client that answers the keep-alive pings stays open", async () => {
  const server = serveWebSockets({ idleTimeoutMs: 1000 });
  const client = await RawClient.open(`${server.url}/ws`);
  for (let i = 0; i < 3; i++) {
    const ping = await client.readFrame();
    assert.equal(ping?.opcode, OPCODE.ping, `ping ${i + 1}`);
    await client.write(clientFrame(OPCODE.pong, ping!.payload));
  }
  const [t] = server.sockets;
  assert.equal(t.socket.readyState, ServerWebSocket.OPEN);
  assert.deepEqual(t.closes, []);
  await client.write(clientFrame(OPCODE.close, closePayload(1000, "done")));
  assert.equal((await client.readUntilClose())?.code, 1000);
  await client.readToEnd();
  client.close();
  assert.deepEqual({ ...(await t.closed) }, { code: 1000, reason: "done", wasClean: true });
  await assertEndedOnce(t);
  await server.close();
});

Deno.test("ws socket: close() before the socket opened sends the close frame; onopen never fires", async () => {
  const server = serveWebSockets({}, (t) => {
    assert.equal(t.socket.readyState, ServerWebSocket.CONNECTING);
    assert.throws(() => t.socket.send("too early"), /before the socket opened/);
    t.socket.close(1001, "shutting down");
  });
  const client = await RawClient.open(`${server.url}/ws`);
  const close = await client.readUntilClose();
  assert.deepEqual(close, { code: 1001, reason: "shutting down", before: [] });
  await client.write(clientFrame(OPCODE.close, closePayload(1001)));
  await client.readToEnd();
  client.close();
  const [t] = server.sockets;
  assert.deepEqual({ ...(await t.closed) }, { code: 1001, reason: "", wasClean: true });
  assert.equal(t.opens, 0);
  await assertEndedOnce(t);
  await server.close();
});

Deno.test("ws socket: a client that never answers the close frame is cut after closeTimeoutMs", async () => {
  const server = serveWebSockets({ closeTimeoutMs: 100 });
  const client = await RawClient.open(`${server.url}/ws`);
  await waitFor("open", () => server.sockets[0]?.opens === 1);
  const [t] = server.sockets;
  t.socket.close(1000, "bye");
  assert.equal((await client.readUntilClose())?.code, 1000);
  // No answer: the server closes the TCP connection anyway.
  await client.readToEnd();
  client.close();
  assert.deepEqual({ ...(await t.closed) }, { code: 1006, reason: "", wasClean: false });
  await assertEndedOnce(t);
  await server.close();
});

Deno.test("ws socket: an upgrade the server refuses ends CLOSED with 1006 and never opens", async () => {
  const server = serveWebSockets({}, () => new Response("not today", { status: 403 }));
  await assert.rejects(RawClient.open(`${server.url}/ws`), /handshake refused: HTTP\/1.1 403/);
  await waitFor("the socket", () => server.sockets.length === 1);
  const [t] = server.sockets;
  assert.deepEqual({ ...(await t.closed) }, { code: 1006, reason: "", wasClean: false });
  assert.equal(t.opens, 0);
  assert.equal(t.socket.readyState, ServerWebSocket.CLOSED);
  assert.equal(t.connection.releases, 0, "no connection was handed over");
  await server.close();
});

Deno.test("ws socket: a connection reset while frames are queued ends it with onerror, then onclose 1006, once", async () => {
  const server = serveWebSockets();
  const client = await RawClient.open(`${server.url}/ws`);
  await waitFor("open", () => server.sockets[0]?.opens === 1);
  const [t] = server.sockets;
  const frame = encodeFrame(OPCODE.binary, new Uint8Array(64 * 1024));
  while (t.socket.bufferedAmount === 0) {
    for (let i = 0; i < 16; i++) t.socket.sendFrame(frame);
    await new Promise((r) => setTimeout(r, 1));
  }
  // Closing with unread bytes makes the client's kernel answer with a reset.
  client.close();
  const event = await t.closed;
  assert.deepEqual({ ...event }, { code: 1006, reason: "", wasClean: false });
  assert.equal(t.errors.length, 1, "onerror fires once");
  assert.ok(t.errors[0] instanceof Error);
  await assertEndedOnce(t);
  await server.close();
});
