/**
 * `upgradeWebSocket` of `lib/net/ws_upgrade.ts`: the 101 response of a valid
 * upgrade, a TypeError naming what is wrong with an invalid one or with a
 * request our HTTP server did not offer, option checks, and a socket that
 * opens only when the connection is switched (asynchronously) and ends
 * CLOSED with 1006 when the claim is refused.
 */
import assert from "node:assert/strict";
import { offerConnection } from "../lib/net/connection_claim.ts";
import { upgradeWebSocket } from "../lib/net/ws_upgrade.ts";
import { ServerWebSocket, type ServerWebSocketCloseEvent } from "../lib/net/ws_server_socket.ts";
import { clientFrame, closePayload } from "./fixtures/ws_raw_client.ts";
import { OPCODE } from "../lib/net/ws_frame.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function upgradeRequest(headers: Record<string, string> = {}, method = "GET"): Request {
  return new Request("http://127.0.0.1/ws", {
    method,
    headers: {
      upgrade: "websocket",
      connection: "keep-alive, Upgrade",
      "sec-websocket-key": KEY,
      "sec-websocket-version": "13",
      ...headers,
    },
  });
}

Deno.test("ws upgrade: a valid upgrade gets 101 with Sec-WebSocket-Accept and a CONNECTING socket", () => {
  const req = upgradeRequest({ upgrade: "WebSocket" });
  const offer = offerConnection(req);
  const { socket, response } = upgradeWebSocket(req);
  assert.equal(response.status, 101);
  assert.equal(response.headers.get("upgrade"), "websocket");
  assert.equal(response.headers.get("connection"), "Upgrade");
  assert.equal(response.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert.equal(socket.readyState, ServerWebSocket.CONNECTING);
  assert.equal(socket.binaryType, "arraybuffer");
  assert.throws(() => (socket.binaryType = "blob" as "arraybuffer"), /must be "arraybuffer"/);
  assert.ok(offer.claim !== null, "the connection was claimed");
  offer.claim.refused(); // end it: nothing else holds the socket
});

Deno.test("ws upgrade: an invalid upgrade is a TypeError saying what is wrong", () => {
  const cases: [Request, RegExp][] = [
    [upgradeRequest({}, "POST"), /method is POST, expected GET/],
    [upgradeRequest({ upgrade: "h2c" }), /'Upgrade' header must list 'websocket'/],
    [upgradeRequest({ connection: "close" }), /'Connection' header must list 'Upgrade'/],
    [upgradeRequest({ "sec-websocket-version": "8" }), /'Sec-WebSocket-Version' must be 13/],
    [upgradeRequest({ "sec-websocket-key": "short" }), /base64 of 16 bytes/],
    [upgradeRequest({ "sec-websocket-key": btoa("seventeen bytes!!") }), /base64 of 16 bytes/],
  ];
  for (const [req, message] of cases) {
    const offer = offerConnection(req);
    assert.throws(
      () => upgradeWebSocket(req),
      (e) => e instanceof TypeError && message.test(e.message),
    );
    assert.equal(offer.claim, null, "an invalid upgrade claims nothing");
  }
});

Deno.test("ws upgrade: a request our HTTP server did not offer (or already claimed) cannot be upgraded", () => {
  assert.throws(
    () => upgradeWebSocket(upgradeRequest()),
    (e) => e instanceof TypeError && /not received by the HTTP server of lib\/net/.test(e.message),
  );
  const req = upgradeRequest();
  const offer = offerConnection(req);
  upgradeWebSocket(req);
  assert.throws(() => upgradeWebSocket(req), /already claimed/);
  offer.claim?.refused();
});

Deno.test("ws upgrade: options must be positive integers", () => {
  for (
    const [name, value] of [
      ["maxMessageBytes", 0],
      ["maxFragments", -1],
      ["idleTimeoutMs", 1.5],
      ["closeTimeoutMs", NaN],
      ["readBufferBytes", 0],
    ] as const
  ) {
    const req = upgradeRequest();
    const offer = offerConnection(req);
    assert.throws(() => upgradeWebSocket(req, { [name]: value }), new RegExp(name));
    assert.equal(offer.claim, null, "bad options claim nothing");
  }
});

Deno.test("ws upgrade: a refused claim ends the socket CLOSED with 1006, without onopen", async () => {
  const req = upgradeRequest();
  const offer = offerConnection(req);
  const { socket } = upgradeWebSocket(req);
  let opened = false;
  socket.onopen = () => opened = true;
  const closed = new Promise<ServerWebSocketCloseEvent>((r) => socket.onclose = r);
  offer.claim?.refused();
  assert.deepEqual({ ...(await closed) }, { code: 1006, reason: "", wasClean: false });
  assert.equal(socket.readyState, ServerWebSocket.CLOSED);
  assert.equal(opened, false);
});

Deno.test("ws upgrade: the socket opens asynchronously after switched, reading the leftover bytes first", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const conn = await listener.accept();
  const raw = await client;
  const req = upgradeRequest();
  const offer = offerConnection(req);
  const { socket } = upgradeWebSocket(req);
  const events: string[] = [];
  socket.onopen = () => events.push(`open ${socket.readyState}`);
  socket.onmessage = (e) => events.push(`message ${e.data}`);
  const closed = new Promise<ServerWebSocketCloseEvent>((r) => socket.onclose = r);
  let releases = 0;
  // The HTTP server read a frame past the request head: it is the leftover.
  offer.claim?.switched({
    conn,
    leftover: clientFrame(OPCODE.text, "early"),
    release: () => void releases++,
  });
  assert.deepEqual(events, [], "onopen does not fire inside switched()");
  await raw.write(clientFrame(OPCODE.close, closePayload(1000)));
  assert.deepEqual({ ...(await closed) }, { code: 1000, reason: "", wasClean: true });
  assert.deepEqual(events, ["open 1", "message early"]);
  assert.equal(releases, 1);
  // The echo reached the client, then the end of the stream.
  const got = new Uint8Array(16);
  assert.equal(await raw.read(got), 4);
  assert.deepEqual([...got.subarray(0, 4)], [0x88, 2, 0x03, 0xe8]);
  assert.equal(await raw.read(got), null);
  raw.close();
  listener.close();
});
