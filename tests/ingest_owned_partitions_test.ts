// The ingest of owned partitions (issue 16, docs/design.md §10): the real
// Ingestor against the simulated exchange over real sockets connects only the
// symbols of the partitions marked owned, follows the flags at run time
// (a takeover opens whole connections, a release closes them and forgets the
// books), and ends consistent after many quick toggles. No timing thresholds:
// every wait is for a condition, with a generous hang guard.
import assert from "node:assert/strict";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import {
  INGEST_ACCEPTED,
  INGEST_CONNECTS,
  INGEST_FEED_STATE,
  INGEST_RECONNECTS,
  INGEST_STALE_EVENTS,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import { BOOK_SYMBOL_ID, BookSlotLayout } from "../lib/pipeline/book_slot.ts";
import { Ingestor } from "../lib/ingest/ingestor.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { OwnedPartitions } from "../lib/pipeline/owned_partitions.ts";
import type { DepthStream } from "../lib/ingest/depth_stream.ts";
import type { IngestStartMessage } from "../lib/ingest/ingest_worker.ts";

// Interleaved partitions, so a group is not a run of consecutive ids.
const SYMBOLS = ["btcusdt", "ethusdt", "bnbusdt", "solusdt"];
const PARTITION_OF = Uint16Array.from([0, 1, 0, 1]);
const P0 = [0, 2];
const P1 = [1, 3];
const quiet = { warn() {}, error() {} };

/** Wait until `cond` holds; the timeout only guards against a hang. */
async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setup(stream: DepthStream, record = false) {
  const sim = await startSimExchange({ symbols: SYMBOLS, rate: 50, seed: 11 });
  const layout = new BookSlotLayout(20);
  const rawRing = SpscRing.create({ capacity: 4096, slotBytes: layout.slotBytes });
  const counters = PipelineCounters.create(SYMBOLS.length + 1);
  const owned = OwnedPartitions.create(2);
  owned.set(0, true);
  const records: string[] = [];
  const ingestor = new Ingestor({
    symbols: SYMBOLS,
    rawRing,
    counters,
    wsUrl: sim.wsUrl,
    restUrl: sim.restUrl,
    stream,
    snapshotDepth: 1000,
    // Long: a busy machine's pauses must not make a stale event or a reconnect.
    staleMs: 10_000,
    backoffBaseMs: 20,
    backoffCapMs: 200,
    log: quiet,
    partitionOf: PARTITION_OF,
    owned: owned.buffer,
    tap: record ? (text) => void records.push(text) : undefined,
  });
  ingestor.start();
  const slot = new Float64Array(rawRing.slotWords);
  /** Frames popped from the raw ring, per symbol id. */
  const popped = new Array(SYMBOLS.length).fill(0);
  const drain = () => {
    while (rawRing.pop(slot)) popped[slot[BOOK_SYMBOL_ID]]++;
  };
  const c = counters;
  const accepted = (s: number) => c.load(c.ingestSymbol(s, INGEST_ACCEPTED));
  const feed = (s: number) => c.load(c.ingestSymbol(s, INGEST_FEED_STATE));
  const ingest = (word: number) => c.load(c.ingest(word));
  const sent = (s: number) => sim.stats().framesSent[SYMBOLS[s].toUpperCase()] ?? 0;
  /** Wait until each of `ids` has popped `n` more frames than now. */
  const flowing = async (what: string, ids: number[], n = 10) => {
    drain();
    const before = ids.map((s) => popped[s]);
    await until(what, () => {
      drain();
      return ids.every((s, i) => popped[s] >= before[i] + n);
    });
  };
  const close = async () => {
    await ingestor.stop();
    await sim.close();
  };
  return { sim, owned, popped, drain, accepted, feed, ingest, sent, flowing, close, records };
}

async function ownershipFollowsTheFlags(stream: DepthStream) {
  const e = await setup(stream, true);
  try {
    // Partition 0 owned: only its symbols produce frames; the exchange sees one connection.
    await e.flowing("partition 0 frames", P0);
    assert.equal(e.sim.stats().connections, 1);
    for (const s of P1) {
      assert.equal(e.popped[s], 0, `no frame of ${SYMBOLS[s]}`);
      assert.equal(e.accepted(s), 0);
      assert.equal(e.sent(s), 0, `the exchange sent nothing of ${SYMBOLS[s]}`);
      assert.equal(e.feed(s), FeedState.Connecting);
    }
    assert.equal(e.ingest(INGEST_CONNECTS), 1);

    // Flip: partition 1 taken over, partition 0 released.
    e.owned.set(1, true);
    e.owned.set(0, false);
    await e.flowing("partition 1 frames", P1);
    await until("partition 0's connection closed", () => e.sim.stats().connections === 1);
    await until(
      "partition 0 Connecting",
      () => P0.every((s) => e.feed(s) === FeedState.Connecting),
    );
    // From here on nothing of partition 0: not even diff mode's stale repeats
    // (every second) while partition 1 delivers 3 s of frames (10/s at most).
    e.drain();
    const held = P0.map((s) => e.popped[s]);
    const acceptedHeld = P0.map((s) => e.accepted(s));
    await e.flowing("partition 1 keeps flowing", P1, 30);
    assert.deepEqual(P0.map((s) => e.popped[s]), held, "no frame of a released symbol");
    assert.deepEqual(P0.map((s) => e.accepted(s)), acceptedHeld);
    for (const s of P0) assert.equal(e.feed(s), FeedState.Connecting);
    assert.equal(e.sim.stats().connections, 1);
    // Real connects only; a release is neither a reconnect nor a stale event.
    assert.equal(e.ingest(INGEST_CONNECTS), 2);
    assert.equal(e.ingest(INGEST_RECONNECTS), 0);
    assert.equal(e.ingest(INGEST_STALE_EVENTS), 0);
    // The recording marks the released symbols disconnected (a replay resets their books).
    for (const s of P0) {
      assert.ok(
        e.records.includes(`{"stream":"${SYMBOLS[s]}@disconnect","generated":true,"data":{}}`),
        `disconnect record of ${SYMBOLS[s]}`,
      );
    }
    for (const s of P1) {
      assert.ok(!e.records.some((r) => r.startsWith(`{"stream":"${SYMBOLS[s]}@disconnect"`)));
    }

    // Taken back: partition 0's books start from scratch and flow again.
    e.owned.set(0, true);
    await e.flowing("partition 0 back", [...P0, ...P1]);
    await until("two connections", () => e.sim.stats().connections === 2);
    assert.equal(e.ingest(INGEST_CONNECTS), 3);
    assert.equal(e.ingest(INGEST_RECONNECTS), 0);
  } finally {
    await e.close();
  }
}

Deno.test("owned partitions, depth20: only owned symbols connect; a flip moves whole connections", async () => {
  await ownershipFollowsTheFlags("depth20");
});

Deno.test("owned partitions, diff: only owned symbols connect; a flip moves whole connections, books from scratch", async () => {
  await ownershipFollowsTheFlags("diff");
});

Deno.test("owned partitions: ownership toggled quickly many times ends consistent, no leaked connection", async () => {
  const e = await setup("diff");
  try {
    await e.flowing("start", P0, 3);
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 60; i++) {
      e.owned.set(random() < 0.5 ? 0 : 1, random() < 0.5);
      // 0 to 150 ms: some flips land before a connection opened, some after.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 150)));
      e.drain();
    }
    // End: partition 1 owned, partition 0 not.
    e.owned.set(0, false);
    e.owned.set(1, true);
    await e.flowing("partition 1 flows", P1);
    await until("one connection at the exchange", () => e.sim.stats().connections === 1);
    await until(
      "partition 0 Connecting",
      () => P0.every((s) => e.feed(s) === FeedState.Connecting),
    );
    e.drain();
    const held = P0.map((s) => e.popped[s]);
    const sentHeld = P0.map((s) => e.sent(s));
    await e.flowing("partition 1 keeps flowing", P1, 30);
    assert.deepEqual(P0.map((s) => e.popped[s]), held, "no frame of a released symbol");
    assert.deepEqual(
      P0.map((s) => e.sent(s)),
      sentHeld,
      "the exchange sends nothing of partition 0",
    );
    assert.equal(e.sim.stats().connections, 1, "no leaked connection");
    // Connects counted are sockets that opened as the delivering one; an
    // attempt closed while connecting may reach the exchange uncounted here.
    assert.ok(e.ingest(INGEST_CONNECTS) <= e.sim.stats().connectionsOpened);
    assert.equal(e.ingest(INGEST_RECONNECTS), 0);
    assert.equal(e.ingest(INGEST_STALE_EVENTS), 0);
  } finally {
    await e.close();
  }
});

Deno.test("owned partitions: partitionOf without owned is refused with a clear error", () => {
  const counters = PipelineCounters.create(SYMBOLS.length + 1);
  const rawRing = SpscRing.create({ capacity: 256, slotBytes: new BookSlotLayout(20).slotBytes });
  assert.throws(
    () =>
      new Ingestor({
        symbols: SYMBOLS,
        rawRing,
        counters,
        wsUrl: "ws://127.0.0.1:9",
        partitionOf: PARTITION_OF, // without `owned`
      }),
    /partitionOf and owned go together/,
  );
});

Deno.test("owned partitions through the real ingest worker: the start message carries partitionOf and the owned buffer", async () => {
  const sim = await startSimExchange({ symbols: SYMBOLS, rate: 50, seed: 3 });
  const rawRing = SpscRing.create({ capacity: 4096, slotBytes: new BookSlotLayout(20).slotBytes });
  const counters = PipelineCounters.create(SYMBOLS.length + 1);
  const owned = OwnedPartitions.create(2);
  owned.set(1, true);
  const worker = new Worker(new URL("../lib/ingest/ingest_worker.ts", import.meta.url), {
    type: "module",
  });
  const replies: string[] = [];
  worker.onmessage = (e) => void replies.push(e.data.type);
  const start: IngestStartMessage = {
    type: "start",
    rawRing: rawRing.buffer,
    counters: counters.buffer,
    options: {
      symbols: SYMBOLS,
      wsUrl: sim.wsUrl,
      stream: "depth20",
      staleMs: 10_000,
      partitionOf: PARTITION_OF,
      owned: owned.buffer,
    },
    log: { level: "error" },
  };
  const slot = new Float64Array(rawRing.slotWords);
  const popped = new Array(SYMBOLS.length).fill(0);
  const drain = () => {
    while (rawRing.pop(slot)) popped[slot[BOOK_SYMBOL_ID]]++;
  };
  try {
    worker.postMessage(start);
    await until("partition 1 frames", () => {
      drain();
      return P1.every((s) => popped[s] >= 10);
    });
    assert.deepEqual(P0.map((s) => popped[s]), [0, 0]);
    assert.equal(sim.stats().connections, 1);
    owned.set(0, true);
    owned.set(1, false);
    await until("partition 0 frames", () => {
      drain();
      return P0.every((s) => popped[s] >= 10);
    });
    await until("partition 1's connection closed", () => sim.stats().connections === 1);
    assert.equal(counters.load(counters.ingest(INGEST_CONNECTS)), 2);
    worker.postMessage({ type: "stop" });
    await until("stopped", () => replies.includes("stopped"));
  } finally {
    worker.terminate();
    await sim.close();
  }
});
