/**
 * The read-only owner view (lib/bus/lease_owners.ts) against a real
 * nats-server: nothing is owned before any ingest node ran, then each
 * partition's owner is the node whose `held` says so, and a takeover shows.
 */
import assert from "node:assert/strict";
import { connectBus } from "../lib/bus/nats_connect.ts";
import { LeaseOwners } from "../lib/bus/lease_owners.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { coveredOnce, type LeaseNode, startLeaseNode, until } from "./fixtures/lease_fixture.ts";

Deno.test("lease owners: unowned before any ingest node, then the holders, then the taker-over", async () => {
  const server = await startNatsServer();
  const bus = await connectBus({ url: server.url, env: () => undefined });
  const nodes: LeaseNode[] = [];
  const owners = await LeaseOwners.open(bus.nc, { partitions: 8, pollMs: 100 });
  try {
    assert.deepEqual(owners.unowned(), [0, 1, 2, 3, 4, 5, 6, 7]);
    nodes.push(await startLeaseNode(server.url, "node-a"));
    nodes.push(await startLeaseNode(server.url, "node-b"));
    await until(
      "4 partitions each",
      () => coveredOnce(nodes) && nodes.every((n) => n.leases.heldPartitions().length === 4),
    );
    const holders = () =>
      Array.from({ length: 8 }, (_, p) => nodes.find((n) => n.leases.held(p))?.leases.nodeId);
    await until("the view shows the holders", () => {
      const h = holders();
      return h.every((id, p) => owners.owner(p) === id);
    });
    assert.deepEqual(owners.unowned(), []);
    await nodes[0].bus.nc.close();
    await until(
      "node-b owns all",
      () => Array.from({ length: 8 }, (_, p) => owners.owner(p)).every((o) => o === "node-b"),
    );
  } finally {
    await owners.close();
    await nodes[0]?.leases.abandon();
    await nodes[1]?.leases.release();
    for (const n of nodes) await n.bus.close();
    await bus.close();
    await server.stop();
  }
});
