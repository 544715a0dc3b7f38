// Worker leases fence a replaced pipeline worker off the rings. Deno's
// Worker.terminate() does not stop a worker blocked in a synchronous loop (the
// analytics loop): before leases, a killed analytics worker went on producing
// next to its replacement, two producers on the processed ring, and delivered
// frames were torn (a BTCUSDT frame with ETHUSDT's mid, frames of zeros) or
// out of order. The service test runs the real pipeline against the simulated
// exchange and kills the analytics worker, then the ingest worker, again and
// again; every delivered frame must be whole and in order per symbol, and each
// replaced generation must have released its lease (no "did not release" log).
import assert from "node:assert/strict";
import { WorkerLease } from "../lib/pipeline/worker_lease.ts";
import { parseConfig } from "../lib/server/config.ts";
import { startService } from "../main.ts";
import { FRAME_LAST_UPDATE_ID, FRAME_MID, FRAME_RECEIVE_TIME } from "../lib/pipeline/frame_slot.ts";

Deno.test("WorkerLease: grant, revoke, held, release", () => {
  const lease = WorkerLease.create();
  assert.equal(lease.lastGranted("analytics"), 0);
  const g1 = lease.grant("analytics");
  assert.equal(g1, 1);
  const w1 = WorkerLease.attach(lease.buffer, "analytics", g1);
  const ingest = WorkerLease.attach(lease.buffer, "ingest", lease.grant("ingest"));
  assert.ok(w1.held());
  assert.ok(ingest.held());
  lease.revoke("analytics");
  assert.equal(w1.held(), false, "revoked");
  assert.ok(ingest.held(), "the other worker's lease is its own");
  assert.equal(lease.released("analytics", g1), false);
  w1.release();
  assert.ok(lease.released("analytics", g1));
  const g2 = lease.grant("analytics");
  assert.equal(g2, 2, "a new generation, never a revoked one again");
  assert.equal(w1.held(), false);
  assert.ok(WorkerLease.attach(lease.buffer, "analytics", g2).held());
  // A grant without a revoke also takes the lease from the older generation.
  const g3 = lease.grant("analytics");
  assert.equal(WorkerLease.attach(lease.buffer, "analytics", g2).held(), false);
  assert.ok(WorkerLease.attach(lease.buffer, "analytics", g3).held());
  assert.throws(() => WorkerLease.attach(new SharedArrayBuffer(8), "ingest", 1), TypeError);
  assert.throws(() => WorkerLease.attach(lease.buffer, "ingest", 0), /generation/);
});

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "killed workers stop touching the rings: delivered frames stay whole and in order",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const errors: string[] = [];
    const log = {
      debug() {},
      info() {},
      warn() {},
      error(...a: unknown[]) {
        errors.push(a.map(String).join(" "));
      },
    };
    const s = await startService(
      parseConfig(["--source=sim", "--port=0", "--symbols=btcusdt,ethusdt", "--sim-rate=20"]),
      { log, hungMs: 15_000, backoffBaseMs: 20, backoffCapMs: 200 },
    );
    try {
      const frames: { mid: number; id: number; time: number }[][] = [[], []];
      s.state.history.subscribe((id, f64, base) => {
        frames[id].push({
          mid: f64[base + FRAME_MID],
          id: f64[base + FRAME_LAST_UPDATE_ID],
          time: f64[base + FRAME_RECEIVE_TIME],
        });
      });
      await until("frames of both symbols", () => frames.every((f) => f.length >= 10));
      const kills: ["analytics" | "ingest", number][] = [
        ["analytics", 1],
        ["analytics", 2],
        ["ingest", 1],
        ["analytics", 3],
      ];
      for (const [worker, restarts] of kills) {
        const seen = frames.map((f) => f.length);
        s.supervisor.kill(worker);
        await until(
          `${worker} restart ${restarts}`,
          () => s.supervisor.restarts(worker) === restarts,
        );
        await until(`${worker} running again`, () => s.supervisor.state(worker) === "running");
        await until(
          "frames after the restart",
          () => frames.every((f, k) => f.length >= seen[k] + 20),
        );
      }
      for (let k = 0; k < 2; k++) {
        const f = frames[k];
        const first = f[0].mid;
        for (let i = 1; i < f.length; i++) {
          const where = `${s.state.symbols[k]} frame ${i} of ${f.length}`;
          assert.ok(
            f[i].mid > first / 2 && f[i].mid < first * 2,
            `${where}: mid ${f[i].mid} whole`,
          );
          assert.ok(f[i].id > f[i - 1].id, `${where}: update id ${f[i].id} after ${f[i - 1].id}`);
          assert.ok(f[i].time >= f[i - 1].time, `${where}: receive time in order`);
        }
      }
      assert.deepEqual(errors.filter((e) => e.includes("did not release")), []);
    } finally {
      await s.close();
    }
  },
});
