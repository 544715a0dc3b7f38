// The whole pipeline in-process: simulated exchange → ingest worker → raw ring
// → analytics worker → processed ring → main-thread history, with real
// workers and sockets. Worker restarts, overload accounting and shutdown.
// Every wait is for a condition; its timeout only guards against a hang.
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { type Service, startService } from "../main.ts";
import {
  ANALYTICS_ANALYSED,
  ANALYTICS_MODE,
  ANALYTICS_PROCESSED,
  ANALYTICS_SKIPPED,
  INGEST_ACCEPTED,
  INGEST_RECEIVED,
  MAIN_DELIVERED,
} from "../lib/pipeline/pipeline_counters.ts";
import { REJECT_REASON_COUNT } from "../lib/pipeline/reject_reason.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function start(args: string[]): Promise<Service> {
  const config = parseConfig([
    "--source=sim",
    "--port=0",
    "--symbols=btcusdt,ethusdt",
    "--stale-ms=1000",
    ...args,
  ]);
  // hungMs: a worker starved of CPU on a busy machine is not a hung one.
  return startService(config, { log: quiet, hungMs: 15_000, backoffBaseMs: 20, backoffCapMs: 200 });
}

/** Sum a per-symbol counter over every row (symbols plus the "unknown" row). */
function total(s: Service, index: (row: number) => number): number {
  const c = s.state.counters;
  let sum = 0;
  for (let row = 0; row < c.symbols; row++) sum += c.load(index(row));
  return sum;
}

function delivered(s: Service): number {
  const c = s.state.counters;
  return total(s, (r) => c.mainSymbol(r, MAIN_DELIVERED));
}

async function framesFlow(s: Service, what: string, n = 10): Promise<void> {
  const c = s.state.counters;
  const per = (id: number) => c.load(c.mainSymbol(id, MAIN_DELIVERED));
  const d0 = per(0), d1 = per(1);
  await until(`${what}: frames delivered`, () => per(0) >= d0 + n && per(1) >= d1 + n);
  for (const id of [0, 1]) assert.ok(s.state.history.size(id) > 0, `history of symbol ${id}`);
}

Deno.test("a killed analytics worker, then a killed ingest worker, are restarted and frames flow again", async () => {
  const s = await start(["--sim-rate=50"]);
  try {
    // Without --raw-capacity / --processed-capacity the rings are sized from
    // the symbols: 2 × 50 frames/s for 250 ms is 25 frames, the floor of 256.
    assert.deepEqual([s.state.rawRing.capacity, s.state.processedRing.capacity], [256, 256]);
    await framesFlow(s, "start");
    s.supervisor.kill("analytics");
    assert.equal(s.supervisor.state("analytics"), "restarting");
    await until("analytics running again", () => s.supervisor.state("analytics") === "running");
    await framesFlow(s, "after analytics restart");
    assert.equal(s.supervisor.restarts("analytics"), 1);
    assert.ok(s.supervisor.inFlightLost <= 1, "at most the in-flight frame is lost");

    s.supervisor.kill("ingest");
    await until("ingest running again", () => s.supervisor.state("ingest") === "running");
    await framesFlow(s, "after ingest restart");
    assert.equal(s.supervisor.restarts("ingest"), 1);
  } finally {
    await s.close();
  }
});

Deno.test("overload: raw-ring drops and adaptive skips, recovery, and exact accounting once paused", async () => {
  // 2 symbols × 1500 frames/s against 1 ms of analytics per frame: about 3x overload.
  const s = await start([
    "--sim-rate=1500",
    "--analytics-cost-ms=1",
    "--raw-capacity=256",
    "--processed-capacity=256",
  ]);
  const c = s.state.counters;
  try {
    // The flags override the sizing rule (which would give 2 × 1500 × 250 ms → 1024).
    assert.deepEqual([s.state.rawRing.capacity, s.state.processedRing.capacity], [256, 256]);
    await until("adaptive mode entered", () => c.load(c.analytics(ANALYTICS_MODE)) >= 1);
    await until("raw drops", () => s.state.rawRing.stats().dropped > 0);
    await until("skips", () => total(s, (r) => c.analyticsSymbol(r, ANALYTICS_SKIPPED)) > 0);
    // Pause the exchange: the rings drain and the adaptive mode recovers by itself.
    s.sim!.inject({ kind: "stall", durationMs: 60_000 });
    await until(
      "rings drained",
      () => s.state.rawRing.stats().depth === 0 && s.state.processedRing.stats().depth === 0,
    );
    await until("mode recovered", () => c.load(c.analytics(ANALYTICS_MODE)) === 0);

    /** Every total and identity of docs/design.md §1, read in one pass. */
    const read = () => {
      const received = total(s, (r) => c.ingestSymbol(r, INGEST_RECEIVED));
      let rejected = 0;
      for (let row = 0; row < c.symbols; row++) {
        for (let reason = 1; reason < REJECT_REASON_COUNT; reason++) {
          rejected += c.load(c.rejected(row, reason));
        }
      }
      const accepted = total(s, (r) => c.ingestSymbol(r, INGEST_ACCEPTED));
      const analysed = total(s, (r) => c.analyticsSymbol(r, ANALYTICS_ANALYSED));
      const processed = total(s, (r) => c.analyticsSymbol(r, ANALYTICS_PROCESSED));
      const skipped = total(s, (r) => c.analyticsSymbol(r, ANALYTICS_SKIPPED));
      const raw = s.state.rawRing.stats();
      const proc = s.state.processedRing.stats();
      const identities: [string, number, number][] = [
        ["received = rejected + accepted", received, rejected + accepted],
        ["accepted = dropped + analysed", accepted, raw.dropped + analysed + raw.depth],
        ["analysed = processed + skipped", analysed, processed + skipped],
        [
          "processed = dropped + delivered + depth",
          processed,
          proc.dropped + delivered(s) + proc.depth,
        ],
      ];
      return { raw, skipped, identities };
    };
    // A frame taken from a ring is counted by the next stage a moment later:
    // wait until nothing is between two counters, then check every identity.
    let totals = read();
    await until("no frame in flight between two counters", () => {
      totals = read();
      return totals.identities.every(([, left, right]) => left === right);
    });
    assert.ok(totals.raw.dropped > 0 && totals.skipped > 0);
    for (const [name, left, right] of totals.identities) assert.equal(left, right, name);
  } finally {
    await s.close();
  }
});

Deno.test("SIGTERM under load: the process exits 0", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--source=sim", "--sim-rate=2000", "--port=0"],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "null",
  }).spawn();
  // A hang guard: a process that does not exit is killed, and the test fails.
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 120_000);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = "";
    while (!out.includes("listening on")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
    assert.ok(m, `no "listening on" line:\n${out}`);
    // Under load: frames flow for both symbols (/health answers 200 only then).
    for (;;) {
      const res = await fetch(new URL("/health", m[1]));
      await res.body?.cancel();
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = performance.now();
    child.kill("SIGTERM");
    const status = await child.status;
    const elapsed = performance.now() - t0;
    assert.ok(!killed, "the process did not exit after SIGTERM");
    assert.equal(status.code, 0);
    // How long it took is a measurement (docs/operating.md: < 2 s on a quiet
    // machine), not a check: on a busy machine the workers stop more slowly.
    console.log(`SIGTERM under load: exited 0 after ${Math.round(elapsed)} ms`);
  } finally {
    clearTimeout(guard);
    await reader.cancel();
  }
});
