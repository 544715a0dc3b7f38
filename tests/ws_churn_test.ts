// 1,000 WebSocket clients connect to the real service and leave again, in
// waves of bounded concurrency, all on 127.0.0.1: every one gets its Hello,
// the hub forgets every one (depthwatch_ws_clients back to 0, one counted
// disconnect each), no socket or file descriptor leaks, memory stays bounded;
// and --max-clients is enforced with 503 beyond it.
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { ServerMessageSchema } from "../proto/gen/market_pb.ts";
import type { WsHub } from "../lib/server/ws_hub.ts";
import {
  type FaultService,
  mib,
  RawWsClient,
  startFaultService,
  until,
} from "./fixtures/fault_harness.ts";

const TOTAL = 1000;
const WAVE = 50;
const MAX_CLIENTS = 100;
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

/** Open file descriptors of this process (Linux), or -1 where /proc is missing. */
function openFds(): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return -1;
  }
}

/**
 * Connect a browser-like client, wait for its Hello, return it open.
 * Rejects when the connection fails or no Hello arrives within 30 s (a hang guard).
 */
async function connect(port: number, symbol: string): Promise<{ ws: WebSocket; symbol: string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?symbol=${symbol}`);
  ws.binaryType = "arraybuffer";
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  const timer = setTimeout(() => reject(new Error(`no Hello for ${symbol} within 30 s`)), 30_000);
  ws.onmessage = (e) => {
    const m = fromBinary(ServerMessageSchema, new Uint8Array(e.data));
    if (m.kind.case === "hello") resolve(m.kind.value.symbol);
    else if (m.kind.case === "error") reject(new Error(`server error: ${m.kind.value.message}`));
  };
  ws.onerror = () => reject(new Error(`WebSocket to /ws?symbol=${symbol} failed`));
  ws.onclose = (e) => reject(new Error(`closed (${e.code}) before the Hello`));
  try {
    return { ws, symbol: await promise };
  } catch (e) {
    ws.close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Close a client and wait for the close handshake to finish. */
async function leave(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
  ws.onerror = null;
  ws.onclose = null;
  ws.close(1000, "bye");
  await closed;
}

async function disconnectsTotal(h: FaultService): Promise<number> {
  return await h.metricSum("depthwatch_ws_disconnects_total");
}

Deno.test("ws churn: 1,000 clients connect and leave in waves; --max-clients answers 503 beyond it", async (t) => {
  const h = await startFaultService({
    args: ["--sim-rate=20", "--history=20", `--max-clients=${MAX_CLIENTS}`],
  });
  const port = Number(new URL(h.url).port);
  // The service state types the hub loosely; it is the service's WsHub.
  const hub = h.service.state.hub as WsHub;
  const held: WebSocket[] = [];
  try {
    await h.flowing("start", 3);

    await t.step(
      `${TOTAL} clients in waves of ${WAVE}: every one served, none left behind`,
      async () => {
        /** One round of TOTAL clients in waves; returns how many vanished and the peak. */
        const round = async () => {
          let served = 0, abrupt = 0, peak = 0;
          for (let wave = 0; wave < TOTAL / WAVE; wave++) {
            await Promise.all(Array.from({ length: WAVE }, async (_, i) => {
              const n = wave * WAVE + i;
              const symbol = SYMBOLS[n % 2];
              if (n % 10 === 9) {
                // A vanished client: handshake, Hello, then the TCP connection just ends.
                const { client, status } = await RawWsClient.open(port, `/ws?symbol=${symbol}`);
                assert.equal(status, 101);
                peak = Math.max(peak, hub.clients);
                const first = await client.frame();
                client.close();
                assert.ok(first && first.opcode === 2, "the raw client got a binary Hello");
                const m = fromBinary(ServerMessageSchema, first.payload);
                assert.equal(m.kind.case, "hello");
                abrupt++;
              } else {
                const c = await connect(port, symbol);
                peak = Math.max(peak, hub.clients);
                assert.equal(c.symbol, symbol, "the Hello is about the requested symbol");
                await leave(c.ws);
              }
              served++;
            }));
          }
          assert.equal(served, TOTAL);
          return { abrupt, peak };
        };
        // Two warm-up rounds: the heap the first rounds grow (V8 sizes its heap
        // to the garbage rate; measured: ~45 MB) is not growth of the steady state.
        await round();
        await round();
        await until(
          "warm-up clients gone",
          async () => await h.metric("depthwatch_ws_clients") === 0,
        );
        const fds0 = openFds();
        const rss0 = await h.rss();
        const disconnects0 = await disconnectsTotal(h);
        const t0 = performance.now();
        const { abrupt, peak } = await round();
        const elapsed = performance.now() - t0;
        await until(
          "depthwatch_ws_clients back to 0",
          async () => await h.metric("depthwatch_ws_clients") === 0,
        );
        await until(
          `${TOTAL} more disconnects counted`,
          async () => await disconnectsTotal(h) - disconnects0 === TOTAL,
        );
        const reasons = (await h.metrics()).get("depthwatch_ws_disconnects_total")!.samples
          .filter((s) => s.value > 0).map((s) => `${s.labels.reason}=${s.value}`);
        const rss1 = await h.rss();
        let fds1 = openFds();
        if (fds0 >= 0) {
          await until(
            "file descriptors back to the baseline",
            () => (fds1 = openFds()) <= fds0 + 5,
          );
        }
        console.log(
          `[churn] ${TOTAL} clients (${abrupt} vanished without a close) in ${
            Math.round(elapsed)
          } ms, peak ${peak} connected; disconnects ${reasons.join(" ")}; ` +
            `rss ${mib(rss0)} -> ${mib(rss1)}; fds ${fds0} -> ${fds1}`,
        );
        assert.ok(rss1 - rss0 < 50 * 1024 * 1024, `rss grew from ${mib(rss0)} to ${mib(rss1)}`);
        assert.ok(peak <= MAX_CLIENTS, `${peak} connected at once, over --max-clients`);
      },
    );

    await t.step(
      `--max-clients=${MAX_CLIENTS}: the next client gets 503 until one leaves`,
      async () => {
        for (let wave = 0; wave < MAX_CLIENTS / WAVE; wave++) {
          const opened = await Promise.all(
            Array.from({ length: WAVE }, (_, i) => connect(port, SYMBOLS[i % 2])),
          );
          held.push(...opened.map((c) => c.ws));
        }
        assert.equal(await h.metric("depthwatch_ws_clients"), MAX_CLIENTS);
        const rejected0 = hub.upgradesRejected.capacity;
        const over = await RawWsClient.open(port, "/ws");
        over.client.close();
        assert.equal(over.status, 503, "one client over the limit is refused with 503");
        assert.equal(hub.upgradesRejected.capacity, rejected0 + 1);
        assert.equal(await h.metric("depthwatch_ws_clients"), MAX_CLIENTS);
        // One leaves: there is room for exactly one more.
        await leave(held.pop()!);
        await until(
          "one slot free",
          async () => await h.metric("depthwatch_ws_clients") === MAX_CLIENTS - 1,
        );
        held.push((await connect(port, "BTCUSDT")).ws);
        const again = await RawWsClient.open(port, "/ws");
        again.client.close();
        assert.equal(again.status, 503);
        await Promise.all(held.splice(0).map(leave));
        await until(
          "depthwatch_ws_clients back to 0",
          async () => await h.metric("depthwatch_ws_clients") === 0,
        );
      },
    );
  } finally {
    await Promise.all(held.splice(0).map(leave));
    await h.close();
  }
});
