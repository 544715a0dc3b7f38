/**
 * Hostile WebSocket clients against the real service (simulated exchange):
 * clients that never read their socket (a raw TCP client that does the upgrade
 * itself, so nothing drains the server's queue) and ask for replies that are
 * not frames. Each is disconnected with its reason counted in
 * `depthwatch_ws_disconnects_total`, the service's resident set (it runs in
 * this process) returns to within 50 MB of where it was, and an honest client
 * subscribed to one symbol receives every frame of it meanwhile (consecutive
 * seq, or jumps equal to the frames conflated). A bad request is answered
 * with one bounded error, and too many of them close the client.
 *
 * @module
 */
import assert from "node:assert/strict";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { ClientMessageSchema, ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { parseConfig } from "../lib/server/config.ts";
import { type Service, startService } from "../main.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import type { DisconnectReason } from "../lib/server/ws_session.ts";
import type { WsHub } from "../lib/server/ws_hub.ts";
import { HonestWsClient } from "../testing/honest_ws_client.ts";
import { RawWsClient } from "../testing/raw_ws_client.ts";

/** Allowed growth of the resident set over an attack (after it ends and a settle). */
const RSS_BOUND = 50 * 1024 * 1024;

function start(): Promise<Service> {
  // A long history makes Hellos large once it fills, so queues fill fast.
  const config = parseConfig(["--source=sim", "--port=0", "--sim-rate=50", "--history=500"]);
  const log = createLogger({ level: "warn", format: "text", write: () => {} });
  return startService(config, { log });
}

function hubOf(s: Service): WsHub {
  return s.state.hub as WsHub;
}

/** Wait until `cond` holds; the timeout only guards against a hang. */
async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function encode(kind: MessageInitShape<typeof ClientMessageSchema>["kind"]): Uint8Array {
  return toBinary(ClientMessageSchema, create(ClientMessageSchema, { kind }));
}

/** RSS after a settle: collect garbage when exposed, and wait (bounded) for it to come down to `target`. */
async function settledRss(target = 0): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let rss = Infinity;
  for (let i = 0; i < 50 && rss > target; i++) {
    gc?.();
    await sleep(200);
    rss = Deno.memoryUsage().rss;
  }
  return rss;
}

/**
 * Run `attack` with a deaf client against a fresh service while an honest
 * client watches BTCUSDT; check the deaf client ends with `reason`, memory
 * comes back and the honest client saw every frame. Returns the hub.
 */
async function underAttack(
  reason: DisconnectReason,
  attack: (deaf: RawWsClient, hub: WsHub) => Promise<void>,
): Promise<WsHub> {
  const s = await start();
  const hub = hubOf(s);
  const honest = new HonestWsClient(s.url, "BTCUSDT");
  // A client that never reads after the handshake: the server's queue for it only grows.
  let deaf: RawWsClient | undefined;
  try {
    // 200 frames of history per symbol: each Hello is then ~150 KB.
    await waitFor("200 frames of each symbol", () => hub.seq(0) >= 200 && hub.seq(1) >= 200);
    await waitFor("20 frames on the honest client", () => honest.frames >= 20);
    const before = await settledRss();
    deaf = await RawWsClient.open(s.url);
    await waitFor("the deaf client's session", () => hub.clients === 2);
    await attack(deaf, hub);
    await waitFor(`the deaf client closed as ${reason}`, () => hub.disconnects[reason] === 1);
    assert.equal(hub.clients, 1, "only the honest client is left");
    deaf.close();
    // The honest client keeps receiving after the attack.
    const seen = honest.frames;
    await waitFor("20 more frames on the honest client", () => honest.frames >= seen + 20);
    assert.equal(honest.closed, false, "the honest client stayed connected");
    assert.deepStrictEqual(honest.breaks, [], "every frame of the honest client's symbol");
    const after = await settledRss(before + RSS_BOUND);
    assert.ok(
      after <= before + RSS_BOUND,
      `RSS ${after >> 20} MiB after the attack, ${before >> 20} MiB before: over 50 MB more`,
    );
    const metrics = await (await fetch(new URL("/metrics", s.url))).text();
    assert.match(
      metrics,
      new RegExp(`depthwatch_ws_disconnects_total\\{reason="${reason}"\\} 1\\b`),
    );
    return hub;
  } finally {
    deaf?.close();
    await honest.close();
    await s.close();
  }
}

/** Messages per second the attacks send: under the service's limit of 20. */
const RATE = 15;

Deno.test("ws abuse: unknown-symbol flood from a client that never reads gets one error per request, then is closed (protocol)", async () => {
  // ~1,360 one-letter unknown symbols: 4,083 bytes, under the message limit.
  const names = Array.from({ length: 1360 }, (_, i) => String.fromCharCode(97 + i % 26));
  const flood = encode({ case: "subscribe", value: { symbols: names } });
  assert.ok(flood.length <= 4096, `${flood.length} bytes`);
  let sent = 0;
  const hub = await underAttack("protocol", async (deaf, hub) => {
    assert.ok(await deaf.send(encode({ case: "unsubscribe", value: { symbols: ["BTCUSDT"] } })));
    while (hub.disconnects.protocol === 0 && !deaf.broken) {
      assert.ok(sent < 200, "200 bad requests and the client is still served");
      if (await deaf.send(flood)) sent++;
      await sleep(1000 / RATE);
    }
  });
  // One error per bad request (the last one closed instead), never one per symbol.
  assert.ok(
    hub.errorsSent >= 1 && hub.errorsSent < sent,
    `${hub.errorsSent} errors, ${sent} requests`,
  );
  assert.equal(hub.disconnects.rate_limit, 0);
});

Deno.test("ws abuse: Hellos to a client with no subscription that never reads count against its budget; it is closed (slow)", async () => {
  const subscribe = encode({ case: "subscribe", value: { symbols: ["BTCUSDT", "ETHUSDT"] } });
  const unsubscribe = encode({ case: "unsubscribe", value: { symbols: ["BTCUSDT", "ETHUSDT"] } });
  await underAttack("slow", async (deaf, hub) => {
    // Each Subscribe is answered with two Hellos of 200+ frames; the Unsubscribe
    // right after leaves the client subscribed to nothing.
    for (let i = 0; hub.disconnects.slow === 0 && !deaf.broken; i++) {
      assert.ok(i < 1000, "1000 requests and the client is still served");
      await deaf.send(i % 2 === 0 ? unsubscribe : subscribe);
      await sleep(1000 / RATE);
    }
  });
});

Deno.test("ws abuse: a bad request gets ONE bounded error naming what was wrong; the eleventh in a minute closes with 1008 (protocol)", async () => {
  const s = await start();
  const hub = hubOf(s);
  const ws = new WebSocket(`${s.url.replace(/^http/, "ws")}ws`);
  ws.binaryType = "arraybuffer";
  const errors: { message: string; symbol: string }[] = [];
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  ws.onmessage = (e) => {
    const m = fromBinary(ServerMessageSchema, new Uint8Array(e.data));
    if (m.kind.case === "error") errors.push(m.kind.value);
  };
  try {
    await new Promise((resolve) => ws.onopen = resolve);
    const names = Array.from({ length: 1360 }, (_, i) => `x${i}`);
    ws.send(encode({ case: "subscribe", value: { symbols: names.slice(0, 600) } }));
    await waitFor("the error reply", () => errors.length === 1);
    const [first] = errors;
    assert.match(
      first.message,
      /^unknown symbols "x0", "x1", .* … \(600 in all\): expected one of/,
    );
    assert.ok(first.message.length <= 400, `${first.message.length} characters`);
    assert.equal(first.symbol, "x0");
    // Nine more bad requests are answered (a burst of ten), the next one closes.
    for (let i = 0; i < 9; i++) {
      ws.send(encode({ case: "resync", value: { symbol: "nope" } }));
    }
    await waitFor("ten error replies", () => errors.length === 10);
    ws.send(encode({ case: "unsubscribe", value: { symbols: ["nope"] } }));
    const event = await closed;
    assert.equal(event.code, 1008);
    assert.match(event.reason, /bad requests per minute/);
    assert.equal(errors.length, 10);
    await waitFor("the disconnect counted", () => hub.disconnects.protocol === 1);
    assert.equal(hub.errorsSent, 10);
  } finally {
    ws.close();
    await s.close();
  }
});
