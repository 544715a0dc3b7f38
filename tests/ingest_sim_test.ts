// The real ingest path (connections → parser → validation → raw ring →
// counters) against the simulated exchange over real sockets, with each fault
// injected in turn: frames must flow again and the counters must say what happened.
import assert from "node:assert/strict";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import {
  INGEST_ACCEPTED,
  INGEST_CONTROL_MESSAGES,
  INGEST_FEED_STATE,
  INGEST_RECEIVED,
  INGEST_RECONNECTS,
  INGEST_REST_429,
  INGEST_REST_REQUESTS,
  INGEST_SERVER_SHUTDOWNS,
  INGEST_STALE_EVENTS,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import { BOOK_FLAG_FROM_DIFF, BOOK_FLAGS, BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { Ingestor } from "../lib/ingest/ingestor.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";

const SYMBOLS = ["btcusdt", "ethusdt"];
const quiet = { warn() {}, error() {} };

/** Wait until `cond` holds; the timeout only guards against a hang. */
async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setup(stream: "depth20" | "diff", rate = 50) {
  const sim = await startSimExchange({ symbols: SYMBOLS, rate, seed: 7 });
  const layout = new BookSlotLayout(20);
  const rawRing = SpscRing.create({ capacity: 1024, slotBytes: layout.slotBytes });
  const counters = PipelineCounters.create(SYMBOLS.length + 1);
  const ingestor = new Ingestor({
    symbols: SYMBOLS,
    rawRing,
    counters,
    wsUrl: sim.wsUrl,
    restUrl: sim.restUrl,
    stream,
    staleMs: 2000, // only a silence this long is stale: longer than a busy machine's pauses
    backoffBaseMs: 20,
    backoffCapMs: 200,
    log: quiet,
  });
  ingestor.start();
  const frame = new Float64Array(rawRing.slotWords);
  const drain = () => {
    let n = 0;
    while (rawRing.pop(frame)) n++;
    return n;
  };
  const c = counters;
  const accepted = (s: number) => c.load(c.ingestSymbol(s, INGEST_ACCEPTED));
  const received = (s: number) => c.load(c.ingestSymbol(s, INGEST_RECEIVED));
  const rejected = (s: number, r: number) => c.load(c.rejected(s, r));
  const feed = (s: number) => c.load(c.ingestSymbol(s, INGEST_FEED_STATE));
  /** Wait until both symbols have `n` more accepted frames than now. */
  const flowing = async (what: string, n = 5) => {
    const a0 = accepted(0), a1 = accepted(1);
    await until(`${what}: frames flowing again`, () => {
      drain();
      return accepted(0) >= a0 + n && accepted(1) >= a1 + n;
    });
  };
  const close = async () => {
    await ingestor.stop();
    await sim.close();
  };
  return {
    sim,
    rawRing,
    counters,
    frame,
    drain,
    accepted,
    received,
    rejected,
    feed,
    flowing,
    close,
  };
}

Deno.test("depth20 ingest over real sockets: frames flow, faults are survived and counted", async (t) => {
  const e = await setup("depth20");
  const c = e.counters;
  try {
    await e.flowing("start");
    assert.equal(e.feed(0), FeedState.Live);

    await t.step("exchange closes the connection", async () => {
      const before = c.load(c.ingest(INGEST_RECONNECTS));
      e.sim.inject({ kind: "close" });
      await until("a reconnect", () => c.load(c.ingest(INGEST_RECONNECTS)) > before);
      await e.flowing("after close");
    });

    await t.step("connection stalls silently: stale watchdog reconnects", async () => {
      const before = c.load(c.ingest(INGEST_STALE_EVENTS));
      e.sim.inject({ kind: "stall", durationMs: 4000 });
      await until("stale detected", () => c.load(c.ingest(INGEST_STALE_EVENTS)) > before);
      await e.flowing("after stall");
    });

    await t.step("garbage and truncated frames are rejected as malformed", async () => {
      const unknown = SYMBOLS.length;
      const before = e.rejected(unknown, RejectReason.Malformed);
      e.sim.inject({ kind: "garbage", count: 3 });
      e.sim.inject({ kind: "truncated", symbol: "btcusdt", count: 2 });
      await until("5 malformed", () => e.rejected(unknown, RejectReason.Malformed) >= before + 5);
      await e.flowing("after garbage");
    });

    await t.step("a crossed book is rejected for its symbol", async () => {
      const before = e.rejected(0, RejectReason.Crossed);
      e.sim.inject({ kind: "crossed", symbol: "btcusdt" });
      await until("crossed counted", () => e.rejected(0, RejectReason.Crossed) > before);
      await e.flowing("after crossed");
    });

    await t.step("serverShutdown: counted, connection replaced, frames keep flowing", async () => {
      const before = c.load(c.ingest(INGEST_SERVER_SHUTDOWNS));
      e.sim.inject({ kind: "serverShutdown", delayMs: 300 });
      await until("shutdown seen", () => c.load(c.ingest(INGEST_SERVER_SHUTDOWNS)) > before);
      await e.flowing("after serverShutdown");
    });

    await t.step("every received frame is rejected or accepted", () => {
      for (let s = 0; s <= SYMBOLS.length; s++) {
        let rej = 0;
        for (let r = 1; r < 13; r++) rej += e.rejected(s, r);
        assert.equal(e.received(s), rej + e.accepted(s), `symbol row ${s}`);
      }
      // serverShutdown is a control message, not a frame: the connection layer
      // consumes it (counted above), so it never reaches the frame counters.
      assert.equal(c.load(c.ingest(INGEST_CONTROL_MESSAGES)), 0);
    });
  } finally {
    await e.close();
  }
});

Deno.test("diff ingest: local books from snapshots and events; a gap resyncs only its symbol", async (t) => {
  const e = await setup("diff");
  const c = e.counters;
  try {
    await e.flowing("start");
    e.drain();
    // Frames from the diff path carry the FROM_DIFF flag.
    await until("a frame", () => e.rawRing.pop(e.frame));
    assert.ok((e.frame[BOOK_FLAGS] & BOOK_FLAG_FROM_DIFF) !== 0);
    assert.ok(c.load(c.ingest(INGEST_REST_REQUESTS)) >= 2, "one snapshot per symbol");

    await t.step("sequence gap on one symbol: counted, resynced, frames flow again", async () => {
      const gaps = e.rejected(1, RejectReason.SequenceGap);
      const requests = c.load(c.ingest(INGEST_REST_REQUESTS));
      e.sim.inject({ kind: "gap", symbol: "ethusdt", events: 3 });
      await until("gap counted", () => e.rejected(1, RejectReason.SequenceGap) > gaps);
      await until("resync snapshot", () => c.load(c.ingest(INGEST_REST_REQUESTS)) > requests);
      assert.equal(e.rejected(0, RejectReason.SequenceGap), 0, "the other symbol is untouched");
      await e.flowing("after gap");
    });

    await t.step("REST 429 during a resync is honoured and the symbol recovers", async () => {
      const before = c.load(c.ingest(INGEST_REST_429));
      e.sim.inject({ kind: "rest429", count: 1, retryAfterSec: 1 });
      e.sim.inject({ kind: "gap", symbol: "btcusdt", events: 2 });
      await until("429 seen", () => c.load(c.ingest(INGEST_REST_429)) > before);
      await e.flowing("after 429");
    });
  } finally {
    await e.close();
  }
});
