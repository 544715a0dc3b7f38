// The fault matrix per venue: the real service (simulated exchange speaking
// every venue's protocol, real workers, real sockets) with one symbol on each
// venue, under each fault of docs/operating.md's venue table: close, stall,
// gap, checksum mismatch, malformed and reset snapshot. Every case checks what
// the venue's rules say must happen to the faulted symbol — exactly how many
// rejections of which reason, a resync or a reconnect, the symbol back to
// live with frames flowing — and that the other venues' symbols never stopped
// (one venue down never affects another). At the end, with the exchange
// quiet, every symbol's accounting is exact: for the venue ingest
// received = accepted + coalesced + pending + rejected, and downstream
// accepted = analysed = processed + skipped, processed = delivered. (The
// Binance venues' diff books keep their event identity inside DiffSync, see
// docs/operating.md; tests/fault_matrix_test.ts checks those.)
//
// Every wait is for a condition, bounded by a hang guard (no timing
// thresholds): the machine may be busy.
import assert from "node:assert/strict";
import { type FaultService, startFaultService, until } from "./fixtures/fault_harness.ts";
import type { SimFault } from "../lib/sim/sim_fault.ts";
import { venueOf } from "../lib/pipeline/venue_id.ts";

/** One symbol per venue (service names), Binance spot first. */
const SYMBOLS = [
  "btcusdt",
  "binance-usdm:btcusdt",
  "bybit:btcusdt",
  "okx:btc-usdt",
  "kraken:btc/usd",
  "coinbase:btc-usd",
] as const;
type Name = typeof SYMBOLS[number];

/** A symbol's row of `/stats`. */
interface SymbolStats {
  feedState: string;
  received: number;
  accepted: number;
  coalesced: number;
  pending: number;
  rejectedTotal: number;
  rejected: Record<string, number>;
  analysed: number;
  processed: number;
  skipped: number;
  delivered: number;
}

async function symbolStats(h: FaultService): Promise<Record<string, SymbolStats>> {
  const res = await fetch(new URL("/stats", h.url));
  assert.equal(res.status, 200);
  return (await res.json()).symbols;
}

const key = (name: Name) => name.toUpperCase();

/** The ingest's reconnects so far (`/stats`). */
async function reconnects(h: FaultService): Promise<number> {
  const res = await fetch(new URL("/stats", h.url));
  assert.equal(res.status, 200);
  return (await res.json()).ingest.reconnects;
}

/** Wait until every symbol in `names` has `n` more frames delivered than now. */
async function flowing(h: FaultService, names: readonly Name[], what: string, n = 5) {
  const ids = names.map((s) => h.symbols.indexOf(key(s)));
  for (const id of ids) assert.ok(id >= 0, `${what}: symbol not in the service`);
  const start = ids.map((id) => h.delivered(id));
  await until(
    `${what}: ${n} more frames of ${names.join(", ")}`,
    () => ids.every((id, i) => h.delivered(id) >= start[i] + n),
    60_000,
  );
}

/** Run `fault` on `name`, and while it acts make sure every other symbol keeps flowing. */
async function faultCase(
  h: FaultService,
  name: Name,
  fault: SimFault,
  effect: (before: SymbolStats, now: SymbolStats) => boolean | Promise<boolean>,
  what: string,
): Promise<{ before: SymbolStats; after: SymbolStats }> {
  const others = SYMBOLS.filter((s) => s !== name);
  const before = (await symbolStats(h))[key(name)];
  h.sim.inject(fault);
  let after = before;
  await until(`${name} ${what}`, async () => {
    after = (await symbolStats(h))[key(name)];
    return await effect(before, after);
  }, 60_000);
  // The other venues never stopped: each delivered frames while this one was faulted.
  await flowing(h, others, `${name} ${what}: the other venues`);
  // And the faulted symbol recovers: live again, frames flowing.
  await until(`${name} live again after ${what}`, async () => {
    return (await symbolStats(h))[key(name)].feedState === "live";
  }, 60_000);
  await flowing(h, [name], `${name} after ${what}`);
  after = (await symbolStats(h))[key(name)];
  return { before, after };
}

const delta = (b: SymbolStats, a: SymbolStats, reason: string) =>
  a.rejected[reason] - b.rejected[reason];

Deno.test({
  name: "venue fault matrix: close, stall, gap, checksum, malformed, reset on every venue",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const h = await startFaultService({
      args: [
        `--symbols=${SYMBOLS.join(",")}`,
        "--stream=diff",
        "--sim-rate=20",
        "--stale-ms=3000",
      ],
    });
    try {
      await flowing(h, SYMBOLS, "start", 3);
      const simKey = (name: Name) => {
        const colon = name.indexOf(":");
        return colon < 0 ? name.toUpperCase() : name.slice(0, colon) + ":" +
          name.slice(colon + 1).toUpperCase();
      };

      for (const name of SYMBOLS) {
        // close: the connection is lost, the ingest reconnects, the book starts over.
        {
          const reconnects0 = await reconnects(h);
          await faultCase(
            h,
            name,
            { kind: "close", symbol: name },
            async () => await reconnects(h) > reconnects0,
            "close",
          );
        }

        // stall longer than --stale-ms: stale, replaced, live again.
        await faultCase(
          h,
          name,
          { kind: "stall", symbol: name, durationMs: 5000 },
          (_b, a) => a.feedState === "stale" || a.feedState === "connecting",
          "stall",
        );

        // malformed: three garbage messages, each counted once as malformed, nothing else.
        {
          const m0 = await h.metricSum("depthwatch_frames_rejected_by_reason_total", {
            reason: "malformed",
          });
          h.sim.inject({ kind: "garbage", symbol: name, count: 3 });
          await until(
            `${name} garbage counted`,
            async () =>
              await h.metricSum("depthwatch_frames_rejected_by_reason_total", {
                    reason: "malformed",
                  }) - m0 >= 3,
            60_000,
          );
          await flowing(h, SYMBOLS, `${name} after garbage`);
          const m1 = await h.metricSum("depthwatch_frames_rejected_by_reason_total", {
            reason: "malformed",
          });
          assert.equal(m1 - m0, 3, `${name}: exactly the 3 garbage messages are malformed`);
        }

        // gap: one missing sequence number (Kraken: one missing update, seen by its checksum).
        if (venueOf(name) === "coinbase") {
          // Coinbase numbers the connection's messages (sequence_num, every channel): the
          // break is the connection's, shown as one sequence_gap (on the symbol's row when it
          // is the connection's only product, resynced by a resubscribe; else of no symbol,
          // and the connection reconnects).
          const gaps0 = await h.metricSum("depthwatch_frames_rejected_by_reason_total", {
            reason: "sequence_gap",
          });
          h.sim.inject({ kind: "gap", symbol: name });
          await until(
            `${name} gap seen`,
            async () =>
              await h.metricSum("depthwatch_frames_rejected_by_reason_total", {
                reason: "sequence_gap",
              }) > gaps0,
            60_000,
          );
          await flowing(h, SYMBOLS, `${name} after the gap`);
          const gaps = await h.metricSum("depthwatch_frames_rejected_by_reason_total", {
            reason: "sequence_gap",
          }) - gaps0;
          assert.equal(gaps, 1, `${name}: one gap, one sequence_gap`);
        } else {
          const reason = name.startsWith("kraken:") ? "checksum_mismatch" : "sequence_gap";
          const { before, after } = await faultCase(
            h,
            name,
            { kind: "gap", symbol: name },
            (b, a) => delta(b, a, reason) >= 1,
            "gap",
          );
          assert.equal(delta(before, after, reason), 1, `${name}: one gap, one ${reason}`);
        }

        // checksum: one update whose checksum does not match the book (OKX, Kraken).
        if (name.startsWith("okx:") || name.startsWith("kraken:")) {
          const sent0 = h.sim.stats().badChecksumsSent?.[simKey(name)] ?? 0;
          const { before, after } = await faultCase(
            h,
            name,
            { kind: "checksum", symbol: name },
            (b, a) => delta(b, a, "checksum_mismatch") >= 1,
            "checksum",
          );
          const sent = (h.sim.stats().badChecksumsSent?.[simKey(name)] ?? 0) - sent0;
          assert.equal(sent, 1);
          assert.equal(delta(before, after, "checksum_mismatch"), 1, `${name}: one mismatch`);
          assert.equal(after.rejectedTotal - before.rejectedTotal, 1, `${name}: nothing else`);
        }

        // reset: a new snapshot (or sequence reset) is taken as it comes, never rejected.
        if (venueOf(name) !== "binance" && venueOf(name) !== "binance-usdm") {
          const resets0 = h.sim.stats().resetsSent?.[simKey(name)] ?? 0;
          const before = (await symbolStats(h))[key(name)];
          h.sim.inject({ kind: "reset", symbol: name });
          await until(
            `${name} reset sent`,
            () => (h.sim.stats().resetsSent?.[simKey(name)] ?? 0) > resets0,
            60_000,
          );
          await flowing(h, SYMBOLS, `${name} after reset`);
          const after = (await symbolStats(h))[key(name)];
          assert.equal(after.rejectedTotal, before.rejectedTotal, `${name}: a reset is no error`);
          assert.equal(after.feedState, "live");
        }
      }

      // Quiet exchange: every symbol's accounting is exact.
      h.sim.inject({ kind: "stall", durationMs: 120_000 });
      let last = "";
      await until(
        "counters settled",
        async () => {
          const now = await symbolStats(h);
          const s = JSON.stringify(
            SYMBOLS.map((n) => {
              const { received, accepted, coalesced, pending, rejectedTotal } = now[key(n)];
              return [received, accepted, coalesced, pending, rejectedTotal];
            }),
          );
          const same = s === last;
          last = s;
          return same;
        },
        60_000,
        500,
      );
      const final = await symbolStats(h);
      for (const name of SYMBOLS) {
        const s = final[key(name)];
        const shown = JSON.stringify(s);
        if (venueOf(name) !== "binance" && venueOf(name) !== "binance-usdm") {
          // Venue ingest: every message is rejected, or applied and then carried in a frame
          // (accepted), folded into one (coalesced) or still waiting (pending).
          assert.equal(
            s.received,
            s.accepted + s.coalesced + s.pending + s.rejectedTotal,
            `${name}: received = accepted + coalesced + pending + rejected (${shown})`,
          );
        }
        // Downstream of the ingest, for every venue alike (docs/operating.md, accounting).
        assert.equal(
          s.accepted,
          s.analysed,
          `${name}: accepted = analysed, nothing dropped (${shown})`,
        );
        assert.equal(
          s.analysed,
          s.processed + s.skipped,
          `${name}: analysed = processed + skipped`,
        );
        assert.equal(s.processed, s.delivered, `${name}: processed = delivered`);
      }
    } finally {
      await h.close();
    }
  },
});
