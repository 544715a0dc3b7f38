/**
 * The node registry (lib/bus/node_registry.ts) against a real nats-server:
 * nodes see each other with their capacities, a second live node with the
 * same id is refused, a node restarted under its id after a crash gets in
 * once the old key expired, and a clean leave removes the node at once.
 */
import assert from "node:assert/strict";
import { connectBus } from "../lib/bus/nats_connect.ts";
import { checkNodeId, NodeRegistry } from "../lib/bus/node_registry.ts";
import { startNatsServer } from "../testing/nats_server.ts";

const base = { fingerprint: "p=8 n=2 sha256=0000000000000000", ttlMs: 2000 };

Deno.test("node registry: live nodes with capacities; same id refused while live; back after a crash", async () => {
  const server = await startNatsServer();
  const bus = await connectBus({ url: server.url, env: () => undefined });
  try {
    const a = await NodeRegistry.join(bus.nc, { ...base, nodeId: "a", capacity: 8 });
    const b = await NodeRegistry.join(bus.nc, { ...base, nodeId: "b", capacity: 2 });
    const live = (await a.liveNodes()).sort((x, y) => x.nodeId.localeCompare(y.nodeId));
    assert.deepEqual(live, [
      { nodeId: "a", fingerprint: base.fingerprint, capacity: 8 },
      { nodeId: "b", fingerprint: base.fingerprint, capacity: 2 },
    ]);
    // "a" stays alive by heartbeats: another "a" waits, then is refused.
    const beating = setInterval(() => a.heartbeat().catch(() => {}), 400);
    try {
      await assert.rejects(
        () => NodeRegistry.join(bus.nc, { ...base, nodeId: "a", capacity: 8, retryMs: 200 }),
        /node id a is registered in dw_v1_nodes by a live node; expected a node id unique/,
      );
    } finally {
      clearInterval(beating);
    }
    // "b" crashes right after a heartbeat (no leave): a new "b" waits until the key expired.
    await b.heartbeat();
    const b2 = await NodeRegistry.join(bus.nc, { ...base, nodeId: "b", capacity: 3, retryMs: 200 });
    assert.equal((await b2.liveNodes()).find((n) => n.nodeId === "b")?.capacity, 3);
    // A clean leave removes a node at once.
    await b2.leave();
    await a.heartbeat();
    assert.deepEqual((await a.liveNodes()).map((n) => n.nodeId), ["a"]);
  } finally {
    await bus.close();
    await server.stop();
  }
});

Deno.test("node registry: node ids are KV keys and subject tokens", () => {
  assert.equal(checkNodeId("ingest-1_a"), "ingest-1_a");
  for (const bad of ["", "a.b", "a b", "a*", "x".repeat(65), "ä"]) {
    assert.throws(() => checkNodeId(bad), /is not valid; expected 1 to 64 characters of A-Z/);
  }
});
