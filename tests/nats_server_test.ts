/**
 * The NATS facts the bus (issue 16) is built on, checked against a real
 * nats-server (testing/nats_server.ts) through the npm clients under Deno:
 * publish/subscribe of binary payloads, JetStream KV `create` refusing a
 * key that exists and `update` refusing a stale revision (the lease's
 * compare-and-set fencing), and a KV value kept over a server restart.
 */
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { startNatsServer } from "../testing/nats_server.ts";

Deno.test("nats: binary publish/subscribe round trip through a real nats-server", async () => {
  const server = await startNatsServer({ jetstream: false });
  const nc = await connect({ servers: server.url });
  try {
    const sub = nc.subscribe("dw.v1.test.bytes", { max: 1 });
    const payload = Uint8Array.from({ length: 700 }, (_, i) => i & 0xff);
    nc.publish("dw.v1.test.bytes", payload);
    let got: Uint8Array | undefined;
    for await (const m of sub) got = m.data;
    assert.deepEqual(Array.from(got ?? []), Array.from(payload));
  } finally {
    await nc.close();
    await server.stop();
  }
});

Deno.test("nats: KV create/update give compare-and-set fencing, and values survive a restart", async () => {
  const server = await startNatsServer();
  try {
    const nc = await connect({ servers: server.url });
    const kv = await new Kvm(nc).create("dw_leases_test", { ttl: 60_000 });
    const first = await kv.create("btcusdt", "node-a");
    await assert.rejects(() => kv.create("btcusdt", "node-b"), /wrong last sequence/);
    const renewed = await kv.update("btcusdt", "node-a", first);
    assert.ok(renewed > first);
    // A node holding the old revision lost the lease: its renewal is refused.
    await assert.rejects(() => kv.update("btcusdt", "node-b", first), /wrong last sequence/);
    await nc.close();

    const pid = server.pid;
    assert.ok(pid > 0 && Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("nats-server"));
    await server.kill();
    assert.equal(server.pid, 0, "no pid while stopped");
    await server.restart();
    assert.ok(server.pid > 0 && server.pid !== pid, "a new process after the restart");
    const nc2 = await connect({ servers: server.url });
    const kv2 = await new Kvm(nc2).open("dw_leases_test");
    const entry = await kv2.get("btcusdt");
    assert.equal(entry?.string(), "node-a");
    assert.equal(entry?.revision, renewed);
    await nc2.close();
  } finally {
    await server.stop();
  }
});
