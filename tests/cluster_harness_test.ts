/**
 * The cluster harness (testing/cluster.ts) without NATS: one simulated
 * exchange process serves two separate depthwatch services (`--bus memory`,
 * today's single process) that both go live on the same symbols — the
 * exchange a takeover must continue on is shared, not one per node.
 */
import assert from "node:assert/strict";
import {
  Cluster,
  eventually,
  readBusStats,
  readHealth,
  readStats,
  simSymbols,
} from "../testing/cluster.ts";
import type { SimStats } from "../lib/sim/sim_stats.ts";

Deno.test({
  name: "cluster harness: one simulated exchange process serves two services on the same symbols",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const symbols = simSymbols(6);
    const cluster = await Cluster.start({ symbols, rate: 5, nats: false });
    try {
      assert.equal(cluster.nats, undefined);
      const [a, b] = await Promise.all([
        cluster.addNode({ nodeId: "single-a" }),
        cluster.addNode({ nodeId: "single-b" }),
      ]);
      assert.notEqual(a.url, b.url);
      assert.deepEqual(cluster.nodeArgs({ nodeId: "x" }), ["--symbols", symbols.join(",")]);
      for (const node of [a, b]) {
        await eventually(`${node.nodeId}: all ${symbols.length} symbols live`, async () => {
          const feeds = (await readStats(node.url)).feeds as {
            total: number;
            counts: Record<string, number>;
          };
          return feeds.total === symbols.length && feeds.counts.live === symbols.length;
        });
      }
      // Both read the one exchange: it sends each symbol's frames on two
      // connections, so more frames go out than it generates (one service alone
      // would receive each frame once: sent ≤ generated).
      await eventually("the exchange sends every symbol to both services", async () => {
        const res = await fetch(`${cluster.exchange.restUrl}/sim/stats`);
        const sim = await res.json() as SimStats;
        return sim.connections >= 2 && symbols.every((s) => {
          const key = Object.keys(sim.framesSent).find((k) => k.toLowerCase() === s);
          const generated = Object.entries(sim.framesGenerated)
            .find(([k]) => k.toLowerCase() === s)?.[1] ?? 0;
          return key !== undefined && sim.framesSent[key] > generated;
        });
      });
      for (const node of [a, b]) {
        await eventually(
          `${node.nodeId} /health 200`,
          async () => (await readHealth(node.url)).status === 200,
        );
      }
      await assert.rejects(() => readBusStats(a.url), /has no bus object/);
      assert.deepEqual(cluster.unexpectedExits(), []);

      // kill -9 and restart under the same id: a new process that goes live again.
      const pid = a.process.pid;
      await cluster.kill("single-a");
      assert.equal(cluster.node("single-a").stopped, true);
      assert.notEqual(a.process.exitCode(), null);
      const again = await cluster.restartNode("single-a");
      assert.notEqual(again.process.pid, pid);
      await eventually("single-a live again after its restart", async () => {
        const feeds = (await readStats(again.url)).feeds as { counts: Record<string, number> };
        return feeds.counts.live === symbols.length;
      });
      await assert.rejects(() => cluster.restartNode("single-b"), /still runs/);
      assert.throws(
        () => cluster.node("nobody"),
        /no node nobody; expected one of single-., single-./,
      );
      assert.deepEqual(cluster.unexpectedExits(), []);

      // A node that dies on its own (not through the cluster) is reported.
      Deno.kill(b.process.pid, "SIGKILL");
      await eventually("single-b gone", () => b.process.exitCode() !== null);
      const exits = cluster.unexpectedExits();
      assert.equal(exits.length, 1, exits.join("\n"));
      assert.match(exits[0], /^single-b exited with code 137/);
    } finally {
      await cluster.stop();
    }
    assert.ok(cluster.nodes.every((n) => n.process.exitCode() !== null), "every node stopped");
  },
});
