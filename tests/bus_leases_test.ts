/**
 * The partition lease manager (lib/bus/partition_leases.ts) against real
 * nats-servers: two nodes share P = 8 partitions with each held by exactly
 * one (sampled continuously: never two holders), a node that stops renewing
 * is fenced locally and the other takes its partitions after the TTL, a clean
 * release hands over at once, a NATS outage longer than the TTL fences both
 * and they hold everything again after the restart, and every new hold of a
 * partition has a larger epoch. No timing thresholds: waits are for
 * conditions, with hang guards.
 */
import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { startNatsServer } from "../testing/nats_server.ts";
import { PartitionLeases } from "../lib/bus/partition_leases.ts";
import {
  assertEpochsGrow,
  coveredOnce,
  describeNodes,
  type LeaseNode,
  OverlapSampler,
  startLeaseNode,
  until,
} from "./fixtures/lease_fixture.ts";

/** Start node-a and node-b into `nodes` and wait until they hold 4 of the 8 partitions each. */
async function startBalancedPair(
  url: string,
  log: [number, number][],
  nodes: LeaseNode[],
): Promise<void> {
  nodes.push(await startLeaseNode(url, "node-a", {}, log));
  nodes.push(await startLeaseNode(url, "node-b", {}, log));
  await until(
    "4 partitions each",
    () => coveredOnce(nodes) && nodes.every((n) => n.leases.heldPartitions().length === 4),
  );
}

Deno.test("leases: two nodes share 8 partitions, each held by exactly one, never by both", async () => {
  const server = await startNatsServer();
  const log: [number, number][] = [];
  const nodes: LeaseNode[] = [];
  try {
    // A 6 s TTL: "no churn" below must not depend on the machine never stalling for
    // TTL − margin (1.6 s at the fixture's 2 s; 4.8 s here), and the sampling spans 2.5 rounds.
    const slow = { ttlMs: 6000 };
    nodes.push(await startLeaseNode(server.url, "node-a", slow, log));
    // Alone, the first node takes everything (someone must).
    assert.deepEqual(nodes[0].leases.heldPartitions(), [0, 1, 2, 3, 4, 5, 6, 7]);
    nodes.push(await startLeaseNode(server.url, "node-b", slow, log));
    const sampler = new OverlapSampler(nodes);
    // Fair share: node-a hands back its excess, node-b takes it.
    await until(
      "4 partitions each",
      () => coveredOnce(nodes) && nodes.every((n) => n.leases.heldPartitions().length === 4),
    );
    // Keep sampling over several renewal rounds of both.
    const renewed = nodes.map((n) => n.leases.counters.holds);
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(coveredOnce(nodes), describeNodes(nodes));
    assert.deepEqual(nodes.map((n) => n.leases.counters.holds), renewed, "no churn once balanced");
    sampler.stop();
    assert.equal(nodes[0].leases.counters.releases, 4);
    assert.deepEqual(nodes[0].lost.map(([, r]) => r), [
      "rebalanced",
      "rebalanced",
      "rebalanced",
      "rebalanced",
    ]);
    assert.equal(nodes[1].leases.counters.takeovers, 4, "node-b saw them held by node-a first");
    assert.equal(nodes[0].leases.counters.losses + nodes[1].leases.counters.losses, 0);
    assertEpochsGrow(log);
  } finally {
    for (const n of nodes) await n.leases.release();
    for (const n of nodes) await n.bus.close();
    await server.stop();
  }
});

Deno.test("leases: a node that stops renewing fences itself, the other takes all 8 after the TTL", async () => {
  const server = await startNatsServer();
  const log: [number, number][] = [];
  const nodes: LeaseNode[] = [];
  try {
    await startBalancedPair(server.url, log, nodes);
    const [a, b] = nodes;
    const aHeld = a.leases.heldPartitions();
    const aLost = a.lost.length;
    const bTakeovers = b.leases.counters.takeovers;
    const sampler = new OverlapSampler(nodes);
    // node-a dies from the bus's view: its connection is gone, nothing is released.
    await a.bus.nc.close();
    // held() turns false at the local deadline itself; the onLose reports follow from a timer.
    await until(
      "node-a fenced and reported",
      () => a.leases.heldPartitions().length === 0 && a.lost.length === aLost + 4,
    );
    assert.deepEqual(a.lost.slice(aLost).map(([, r]) => r), Array(4).fill("expired"));
    assert.deepEqual(a.lost.slice(aLost).map(([p]) => p).sort(), aHeld);
    assert.equal(a.leases.counters.losses, 4);
    assert.ok(a.leases.counters.renewFailures >= 4);
    await until("node-b holds all 8", () => b.leases.heldPartitions().length === 8);
    sampler.stop();
    assert.equal(b.leases.counters.takeovers - bTakeovers, 4);
    assertEpochsGrow(log);
  } finally {
    await nodes[0]?.leases.abandon();
    await nodes[1]?.leases.release();
    for (const n of nodes) await n.bus.close();
    await server.stop();
  }
});

Deno.test("leases: a clean release deletes the keys, so the other node takes them without waiting for the TTL", async () => {
  const server = await startNatsServer();
  const log: [number, number][] = [];
  const nodes: LeaseNode[] = [];
  try {
    await startBalancedPair(server.url, log, nodes);
    const [a, b] = nodes;
    const aHeld = a.leases.heldPartitions();
    const aLost = a.lost.length;
    const sampler = new OverlapSampler(nodes);
    await a.leases.release();
    assert.deepEqual(a.leases.heldPartitions(), []);
    // The keys are gone at once (not merely left to expire).
    const kv = await new Kvm(a.bus.nc).open("dw_v1_leases");
    for (const p of aHeld) {
      const entry = await kv.get(`p${p}`);
      assert.ok(entry === null || entry.operation !== "PUT", `p${p} still ${entry?.string()}`);
    }
    assert.equal(
      (await new Kvm(a.bus.nc).open("dw_v1_nodes").then((n) => n.get("node-a")))?.operation,
      "DEL",
    );
    await until("node-b holds all 8", () => b.leases.heldPartitions().length === 8);
    sampler.stop();
    assert.equal(a.leases.counters.losses, 0);
    assert.deepEqual(a.lost.slice(aLost).map(([, r]) => r), Array(4).fill("released"));
    assertEpochsGrow(log);
  } finally {
    for (const n of nodes) await n.leases.release();
    for (const n of nodes) await n.bus.close();
    await server.stop();
  }
});

Deno.test("leases: NATS down longer than the TTL fences both nodes; after the restart all 8 are held again", async () => {
  const server = await startNatsServer();
  const log: [number, number][] = [];
  const nodes: LeaseNode[] = [];
  try {
    await startBalancedPair(server.url, log, nodes);
    const sampler = new OverlapSampler(nodes);
    const epochsBefore = log.length;
    const lostBefore = nodes.map((n) => n.lost.length);
    await server.kill();
    await until("both fenced", () => nodes.every((n) => n.leases.heldPartitions().length === 0));
    assert.ok(nodes.every((n) => !n.bus.connected));
    // Stay down past the TTL, so the server's keys expire too.
    await new Promise((r) => setTimeout(r, 3000));
    await server.restart();
    await until("all 8 held again", () => coveredOnce(nodes));
    sampler.stop();
    const losses = nodes.map((n) => n.leases.counters.losses);
    assert.deepEqual(losses, [4, 4]);
    for (const [i, n] of nodes.entries()) {
      // The outage lost each node its 4; a hand-back while both re-register is a release, not a loss.
      const expired = n.lost.slice(lostBefore[i]).filter(([, r]) => r === "expired");
      assert.equal(expired.length, 4);
      assert.ok(n.bus.connected);
      assert.ok(n.bus.counters.reconnects >= 1 && n.bus.counters.disconnects >= 1);
    }
    assert.ok(log.length >= epochsBefore + 8);
    assertEpochsGrow(log);
  } finally {
    for (const n of nodes) await n.leases.release();
    for (const n of nodes) await n.bus.close();
    await server.stop();
  }
});

Deno.test("leases: a node of small capacity takes what it can, the other covers the rest", async () => {
  const server = await startNatsServer();
  const log: [number, number][] = [];
  const nodes: LeaseNode[] = [];
  try {
    nodes.push(await startLeaseNode(server.url, "big", {}, log));
    nodes.push(await startLeaseNode(server.url, "small", { capacity: 1 }, log));
    const sampler = new OverlapSampler(nodes);
    await until(
      "7 + 1",
      () =>
        coveredOnce(nodes) && nodes[1].leases.heldPartitions().length === 1 &&
        nodes[0].leases.target === 7,
    );
    // Stable: big keeps 7 (it does not hand back down to ceil(8 / 2) = 4).
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok(coveredOnce(nodes), describeNodes(nodes));
    assert.deepEqual(nodes.map((n) => n.leases.heldPartitions().length), [7, 1]);
    sampler.stop();
    assertEpochsGrow(log);
  } finally {
    for (const n of nodes) await n.leases.release();
    for (const n of nodes) await n.bus.close();
    await server.stop();
  }
});

Deno.test("leases: capacity bounds the holds, another universe or TTL is refused", async () => {
  const server = await startNatsServer();
  const nodes: LeaseNode[] = [];
  try {
    nodes.push(await startLeaseNode(server.url, "node-a", { capacity: 3 }));
    assert.equal(nodes[0].leases.heldPartitions().length, 3);
    await assert.rejects(
      () => startLeaseNode(server.url, "node-b", { fingerprint: "other" }),
      /live node node-a runs with cluster "test", this node with "other"/,
    );
    await assert.rejects(
      () => startLeaseNode(server.url, "node-c", { ttlMs: 4000 }),
      /has a TTL of 2000 ms, this node expects 4000 ms/,
    );
    await assert.rejects(
      () => startLeaseNode(server.url, "node-d", { marginMs: 1500 }),
      /marginMs must be in \(0, ttlMs\/2 = 1000\], got 1500/,
    );
    await assert.rejects(
      () => startLeaseNode(server.url, "bad.id"),
      /node id "bad.id" is not valid/,
    );
    // The refused nodes left no registration behind: node-a is alone and may take more.
    assert.equal(nodes[0].leases.liveNodes, 1);
  } finally {
    for (const n of nodes) await n.leases.release();
    for (const n of nodes) await n.bus.close();
    await server.stop();
  }
});

Deno.test("leases: options are checked before NATS is touched", async () => {
  const nc = undefined as unknown as Parameters<typeof PartitionLeases.start>[0];
  await assert.rejects(
    () => PartitionLeases.start(nc, { nodeId: "n", partitions: 0, fingerprint: "f" }),
    /partitions must be an integer in \[1, 65536\], got 0/,
  );
  await assert.rejects(
    () => PartitionLeases.start(nc, { nodeId: "n", partitions: 4, capacity: 5, fingerprint: "f" }),
    /capacity must be an integer in \[0, 4\], got 5/,
  );
});

Deno.test("leases: held() turns false at the local deadline by itself, before any timer or NATS answer", async () => {
  const server = await startNatsServer();
  let skew = 0;
  const now = () => performance.now() + skew;
  const nodes: LeaseNode[] = [];
  try {
    const log: [number, number][] = [];
    nodes.push(await startLeaseNode(server.url, "node-a", { now }, log));
    const a = nodes[0];
    assert.equal(a.leases.heldPartitions().length, 8);
    // The clock jumps past TTL − margin (as after a long stall of the event loop):
    // the gate closes synchronously, in the same turn, with no timer having run.
    skew = a.leases.ttlMs;
    assert.deepEqual(a.leases.heldPartitions(), []);
    assert.equal(a.leases.epoch(0), undefined);
    await until("the expiries reported", () => a.lost.length === 8);
    assert.ok(a.lost.every(([, r]) => r === "expired"));
    // The late renewals did not reopen the old holds; the partitions are taken anew.
    await until("all 8 held again", () => a.leases.heldPartitions().length === 8);
    assert.equal(log.length, 16);
    assertEpochsGrow(log);
  } finally {
    for (const n of nodes) await n.leases.release();
    for (const n of nodes) await n.bus.close();
    await server.stop();
  }
});

Deno.test("leases: a renewal refused because another writer changed the key loses the partition at once", async () => {
  const server = await startNatsServer();
  const nodes: LeaseNode[] = [];
  try {
    nodes.push(await startLeaseNode(server.url, "node-a"));
    const a = nodes[0];
    assert.ok(a.leases.held(3));
    const kv = await new Kvm(a.bus.nc).open("dw_v1_leases");
    await kv.put("p3", "intruder");
    await until("p3 lost", () => a.lost.length === 1);
    assert.deepEqual(a.lost, [[3, "refused"]]);
    assert.equal(a.leases.held(3), false);
    assert.equal(a.leases.counters.losses, 1);
    assert.ok(a.leases.counters.renewFailures >= 1);
    assert.equal(a.leases.heldPartitions().length, 7);
    assert.equal(
      (await kv.get("p3"))?.string(),
      "intruder",
      "the other writer's key is left alone",
    );
  } finally {
    for (const n of nodes) await n.leases.release();
    for (const n of nodes) await n.bus.close();
    await server.stop();
  }
});
