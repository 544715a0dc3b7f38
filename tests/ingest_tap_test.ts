// The ingest's records for the recorder (docs/design.md §9, CONTRACT of issue
// 15): through `tap`, besides every exchange message, the REST snapshot bodies
// untouched, generated book snapshots at interval boundaries (diff mode),
// disconnect markers; times never decrease; a replay that starts at a
// generated snapshot in the middle rebuilds the live books; tapping changes
// nothing the ingest writes. Real components: the simulated exchange, the
// Ingestor, its ReplayFeed.
import assert from "node:assert/strict";
import fc from "fast-check";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { Ingestor, type IngestorOptions } from "../lib/ingest/ingestor.ts";
import { SpscRing } from "../lib/pipeline/spsc_ring.ts";
import {
  INGEST_DIFF_SNAPSHOTS_APPLIED,
  INGEST_DIFF_SNAPSHOTS_INVALID,
  INGEST_DIFF_SNAPSHOTS_TOO_OLD,
  INGEST_REST_REQUESTS,
  PipelineCounters,
} from "../lib/pipeline/pipeline_counters.ts";
import {
  BOOK_BID_COUNT,
  BOOK_FLAG_STALE,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_PARSED_TIME,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { usToIso } from "../lib/record/mod.ts";

const SYMBOLS = ["btcusdt", "ethusdt", "solusdt", "bnbusdt"];
const quiet = { warn() {}, error() {} };
/** Deep enough that the simulated books (depthTicks 256: ~190 levels a side) come whole. */
const SNAPSHOT_DEPTH = 1000;
const INTERVAL_MS = 250;

interface Tapped {
  text: string;
  at: number;
}

interface IngestRun {
  ingestor: Ingestor;
  counters: PipelineCounters;
  /** Raw book slots per symbol, in order (copies). */
  frames: Float64Array[][];
  lines: Tapped[];
  until(cond: () => boolean): Promise<void>;
  stop(): Promise<void>;
}

/** The Ingestor into a raw ring drained every 2 ms; with `record`, a tap collecting every record. */
function runIngest(
  options: Omit<IngestorOptions, "rawRing" | "counters" | "symbols" | "tap">,
  record: boolean | "throwing",
): IngestRun {
  const layout = new BookSlotLayout(20);
  const ring = SpscRing.create({ capacity: 4096, slotBytes: layout.slotBytes, policy: "block" });
  const counters = PipelineCounters.create(SYMBOLS.length + 1);
  const lines: Tapped[] = [];
  const ingestor = new Ingestor({
    ...options,
    symbols: SYMBOLS,
    rawRing: ring,
    counters,
    tap: record === "throwing"
      ? (text) => {
        if (text.length % 2 === 0) throw new Error("disk on fire");
      }
      : record
      ? (text, at) => lines.push({ text, at })
      : undefined,
  });
  const frames: Float64Array[][] = SYMBOLS.map(() => []);
  const slot = new Float64Array(ring.slotWords);
  const pump = () => {
    while (ring.pop(slot)) frames[slot[BOOK_SYMBOL_ID]].push(slot.slice(0, layout.slotWords));
  };
  const timer = setInterval(pump, 2);
  ingestor.start();
  return {
    ingestor,
    counters,
    frames,
    lines,
    async until(cond) {
      const t0 = performance.now();
      while (!cond()) {
        if (performance.now() - t0 > 60_000) throw new Error("timed out waiting");
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      await ingestor.stop();
      clearInterval(timer);
      pump();
    },
  };
}

/** A REST proxy in front of the simulator that keeps every 200 body it passed on. */
function restProxy(target: string) {
  const bodies: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const res = await fetch(target + url.pathname + url.search);
    const text = await res.text();
    if (res.status === 200) bodies.push(text);
    return new Response(text, { status: res.status });
  });
  return {
    bodies,
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

const STREAM = '{"stream":"';
/** `[symbol, kind]` of a generated record (`kind` "depthSnapshot" or "disconnect"), or undefined. */
function generated(text: string): [string, string] | undefined {
  if (!text.startsWith(STREAM) || !text.includes('","generated":true,"data":')) return undefined;
  const stream = text.slice(STREAM.length, text.indexOf('"', STREAM.length));
  const at = stream.indexOf("@");
  return [stream.slice(0, at), stream.slice(at + 1)];
}
const SNAPSHOT_DATA = (symbol: string) =>
  `{"stream":"${symbol}@depthSnapshot","generated":true,"data":`.length;
/** The `data` text of a snapshot record, exactly as tapped. */
const dataOf = (text: string, symbol: string) => text.slice(SNAPSHOT_DATA(symbol), -1);
/** Symbol of a diff message (`"s":"BTCUSDT"`), lower-case. */
const symbolOf = (text: string) => (JSON.parse(text).data.s as string).toLowerCase();

function assertNonDecreasing(lines: Tapped[], what: string): void {
  for (let i = 1; i < lines.length; i++) {
    assert.ok(
      lines[i].at >= lines[i - 1].at,
      `${what}: record ${i} at ${lines[i].at} before record ${i - 1} at ${lines[i - 1].at}`,
    );
  }
}

async function writeRecording(lines: Tapped[]): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".txt" });
  await Deno.writeTextFile(
    path,
    lines.map((l) => `${usToIso(Math.round(l.at * 1000))} ${l.text}\n`).join(""),
  );
  return path;
}

interface DiffRecording {
  lines: Tapped[];
  bodies: string[];
  frames: Float64Array[][];
  counters: PipelineCounters;
}

let diffRecording: Promise<DiffRecording> | undefined;
/** One live diff-mode run against the simulator, tapped, with a 250 ms snapshot interval (shared by the tests). */
function recordDiff(): Promise<DiffRecording> {
  return diffRecording ??= (async () => {
    const sim = await startSimExchange({ symbols: SYMBOLS, rate: 40, seed: 5, depthTicks: 256 });
    const proxy = restProxy(sim.restUrl);
    const run = runIngest({
      wsUrl: sim.wsUrl,
      restUrl: proxy.url,
      stream: "diff",
      staleMs: 60_000,
      log: quiet,
      snapshotDepth: SNAPSHOT_DEPTH,
      snapshotIntervalMs: INTERVAL_MS,
    }, true);
    const generatedOf = (s: string) =>
      run.lines.filter((l) => {
        const g = generated(l.text);
        return g?.[0] === s && g[1] === "depthSnapshot" &&
          !proxy.bodies.includes(dataOf(l.text, s));
      }).length;
    try {
      await run.until(() => SYMBOLS.every((s) => generatedOf(s) >= 24));
    } finally {
      await run.stop();
      await proxy.close();
      await sim.close();
    }
    return { lines: run.lines, bodies: proxy.bodies, frames: run.frames, counters: run.counters };
  })();
}

/** Classifies the snapshot records of a recording by whether their data is a body the REST server sent. */
function snapshots(rec: DiffRecording) {
  const rest: { i: number; symbol: string }[] = [];
  const made: { i: number; symbol: string }[] = [];
  rec.lines.forEach((l, i) => {
    const g = generated(l.text);
    if (g === undefined || g[1] !== "depthSnapshot") return;
    (rec.bodies.includes(dataOf(l.text, g[0])) ? rest : made).push({ i, symbol: g[0] });
  });
  return { rest, made };
}

Deno.test("tap, diff mode: REST snapshot records hold the body the exchange sent, byte for byte", async () => {
  const rec = await recordDiff();
  const { rest } = snapshots(rec);
  const c = rec.counters;
  // Every snapshot handed to DiffSync was recorded with its body untouched (a
  // record whose data differed by one byte would not be counted here).
  assert.equal(
    rest.length,
    c.load(c.ingest(INGEST_DIFF_SNAPSHOTS_APPLIED)) +
      c.load(c.ingest(INGEST_DIFF_SNAPSHOTS_TOO_OLD)) +
      c.load(c.ingest(INGEST_DIFF_SNAPSHOTS_INVALID)),
  );
  for (const s of SYMBOLS) {
    const first = rec.lines.findIndex((l) => generated(l.text)?.[0] === s);
    assert.ok(rest.some((r) => r.i === first), `${s}: its first record is its REST snapshot`);
  }
  assertNonDecreasing(rec.lines, "live diff");
});

Deno.test("tap, diff mode: a book snapshot of each synced symbol goes just before its first message past each boundary", async () => {
  const rec = await recordDiff();
  const { rest, made } = snapshots(rec);
  for (const s of SYMBOLS) {
    const mine = made.filter((m) => m.symbol === s);
    assert.ok(mine.length >= 8, `${s}: ${mine.length} generated snapshots`);
    // None before the book was synced, i.e. before its first REST snapshot.
    assert.ok(mine[0].i > rest.find((r) => r.symbol === s)!.i);
  }
  const lastInterval = new Map<string, number>();
  const snapshotAt = new Map<string, number>();
  for (let i = 0; i < rec.lines.length; i++) {
    const { text, at } = rec.lines[i];
    const g = generated(text);
    if (g !== undefined) {
      if (made.some((m) => m.i === i)) snapshotAt.set(g[0], i);
      continue;
    }
    if (!text.includes('"e":"depthUpdate"')) continue;
    const s = symbolOf(text);
    const interval = Math.floor(at / INTERVAL_MS);
    const k = snapshotAt.get(s);
    if (k === i - 1) {
      // Right before this message, at its time, in a new interval; it holds
      // the book this message continues (spot ids: U = lastUpdateId + 1).
      assert.equal(rec.lines[k].at, at);
      assert.ok(interval > (lastInterval.get(s) ?? -Infinity), `${s}: one snapshot per interval`);
      const data = JSON.parse(dataOf(rec.lines[k].text, s));
      assert.equal(JSON.parse(text).data.U, data.lastUpdateId + 1);
      assert.ok(data.bids.length > 20 && data.asks.length > 20);
    } else {
      assert.ok(k === undefined || k < i - 1);
    }
    snapshotAt.delete(s);
    lastInterval.set(s, interval);
  }
  // Every generated snapshot was followed by its symbol's message.
  for (const m of made) assert.ok(symbolOf(rec.lines[m.i + 1].text) === m.symbol);
});

/** Per `symbol:u`, the level words (counts, prices, sizes) of the first non-stale frame. */
function booksByUpdateId(frames: Float64Array[][]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  frames.forEach((list, s) => {
    for (const f of list) {
      if ((f[BOOK_FLAGS] & BOOK_FLAG_STALE) !== 0) continue;
      const key = `${s}:${f[BOOK_LAST_UPDATE_ID]}`;
      if (!out.has(key)) out.set(key, f.subarray(BOOK_BID_COUNT));
    }
  });
  return out;
}

/** Replay `path` (diff mode, max speed) from `fromUs`; its frames and counters. */
async function replayDiff(path: string, fromUs?: number, tap = false, intervalMs = INTERVAL_MS) {
  const status = ReplayStatus.create();
  const run = runIngest({
    wsUrl: "ws://127.0.0.1:9",
    restUrl: "http://127.0.0.1:9",
    stream: "diff",
    staleMs: 60_000,
    log: quiet,
    snapshotDepth: SNAPSHOT_DEPTH,
    snapshotIntervalMs: intervalMs,
    replay: { path, speed: Infinity, fromUs, status: status.buffer },
  }, tap);
  await run.ingestor.replayFinished;
  await run.stop();
  return run;
}

/** The round of generated snapshots in the middle of the recording where every symbol has one. */
function middleRound(rec: DiffRecording) {
  const { made } = snapshots(rec);
  const rounds = new Map<number, typeof made>();
  for (const m of made) {
    const r = Math.floor(rec.lines[m.i].at / INTERVAL_MS);
    rounds.set(r, [...rounds.get(r) ?? [], m]);
  }
  const full = [...rounds.values()].filter((ms) => ms.length === SYMBOLS.length);
  assert.ok(full.length >= 6, `${full.length} rounds with a snapshot of every symbol`);
  const round = full[Math.floor(full.length / 2)];
  const last = Math.max(...round.map((m) => m.i));
  return {
    round,
    /** The replay window's start: the last snapshot of the round. */
    fromUs: Math.round(rec.lines[last].at * 1000),
    /** The recording without the generated snapshots after the round (the replay makes them again). */
    input: rec.lines.filter((_, i) => i <= last || !made.some((m) => m.i === i)),
  };
}

/** Compares replayed books with the live ones of the same update id; the number compared per symbol. */
function compareBooks(live: Float64Array[][], replayed: Float64Array[][]): number[] {
  const liveBooks = booksByUpdateId(live);
  const compared = SYMBOLS.map(() => 0);
  for (const [key, words] of booksByUpdateId(replayed)) {
    const want = liveBooks.get(key);
    if (want === undefined) continue;
    assert.deepEqual(words, want, `book ${key} differs`);
    compared[Number(key.split(":")[0])]++;
  }
  return compared;
}

/**
 * Replays `input` from the middle round with a tap and checks that it taps
 * exactly what the live run tapped from that round on: every message at its
 * time, and every generated snapshot (whole books, all levels) — those after
 * the round were removed from `input`, so the replay made them itself. The
 * round's snapshots appear twice in the replay's records: as read (recorded
 * again) and as made before the message that follows. Returns the run.
 */
async function assertReplayFromMiddle(
  rec: DiffRecording,
  { round, fromUs, input }: ReturnType<typeof middleRound>,
) {
  const path = await writeRecording(input);
  try {
    const run = await replayDiff(path, fromUs, true);
    const start = Math.min(...round.map((m) => m.i));
    const text = (l: Tapped) => `${l.at} ${l.text}`;
    const got = run.lines.map(text);
    for (const m of round) got.splice(got.indexOf(text(input[m.i])), 1);
    assert.deepEqual(got, rec.lines.slice(start).map(text), "records from the round on");
    return run;
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("replay from a generated snapshot in the middle rebuilds the live books from then on", async () => {
  const rec = await recordDiff();
  const middle = middleRound(rec);
  const run = await assertReplayFromMiddle(rec, middle);
  const c = run.counters;
  assert.equal(c.load(c.ingest(INGEST_REST_REQUESTS)), 0);
  assert.equal(c.load(c.ingest(INGEST_DIFF_SNAPSHOTS_APPLIED)), SYMBOLS.length);
  for (const m of middle.round) {
    const s = SYMBOLS.indexOf(m.symbol);
    const seeded = JSON.parse(dataOf(rec.lines[m.i].text, m.symbol)).lastUpdateId;
    // The replay started at this snapshot, not at the REST one before it.
    assert.ok(run.frames[s].length >= 5, `${m.symbol}: ${run.frames[s].length} frames`);
    assert.equal(run.frames[s].every((f) => f[BOOK_LAST_UPDATE_ID] >= seeded), true);
  }
  // The frames written (top levels) equal the live ones wherever both wrote
  // the same update id (live emits on a wall-clock timer, a replay on the
  // recorded clock, so not every id is written by both).
  // How many ids both wrote depends on the live timer's pace (the machine's
  // load), so only "at least one" is asked: the comparison is never empty.
  const compared = compareBooks(rec.frames, run.frames);
  for (let s = 0; s < SYMBOLS.length; s++) {
    assert.ok(compared[s] >= 1, `${SYMBOLS[s]}: ${compared[s]} books compared`);
  }
});

Deno.test("replay from a generated snapshot: a wrong size in it is caught (the comparison can fail)", async () => {
  const rec = await recordDiff();
  const middle = middleRound(rec);
  const k = middle.round[0].i;
  // The 60th bid's size, doubled: deep, so later diffs hardly touch it.
  const line = middle.input[k];
  const bids = JSON.parse(dataOf(line.text, middle.round[0].symbol)).bids as string[][];
  const [p, q] = bids[59];
  const wrong = line.text.replace(`["${p}","${q}"]`, `["${p}","${Number(q) * 2}"]`);
  assert.notEqual(wrong, line.text);
  middle.input[k] = { at: line.at, text: wrong };
  await assert.rejects(() => assertReplayFromMiddle(rec, middle), /records from the round on/);
});

/** Every word but the parse stamp (wall clock), bit for bit. */
function assertSameFrames(a: Float64Array[][], b: Float64Array[][], what: string): void {
  for (let s = 0; s < SYMBOLS.length; s++) {
    assert.equal(b[s].length, a[s].length, `${what}: ${SYMBOLS[s]} frame count`);
    for (let i = 0; i < a[s].length; i++) {
      const x = a[s][i].slice();
      const y = b[s][i].slice();
      x[BOOK_PARSED_TIME] = y[BOOK_PARSED_TIME] = 0;
      assert.deepEqual(
        new BigUint64Array(x.buffer),
        new BigUint64Array(y.buffer),
        `${what}: ${SYMBOLS[s]} frame ${i}`,
      );
    }
  }
}

Deno.test("tapping changes nothing the ingest writes (diff replay with and without a tap)", async () => {
  const rec = await recordDiff();
  const path = await writeRecording(rec.lines);
  try {
    const plain = await replayDiff(path);
    const tapped = await replayDiff(path, undefined, true, 100);
    assert.ok(plain.frames.every((f) => f.length >= 20));
    assertSameFrames(plain.frames, tapped.frames, "diff");
    // The tap did run: it made snapshots of its own on its 100 ms boundaries.
    assert.ok(tapped.lines.length > rec.lines.length);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("property: a tapped replay's records never go back in time and hold every replayed message", async () => {
  const rec = await recordDiff();
  const path = await writeRecording(rec.lines);
  const first = rec.lines[0].at;
  const span = rec.lines[rec.lines.length - 1].at - first;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (intervalMs, where) => {
          const fromUs = Math.round((first + where * span) * 1000);
          const run = await replayDiff(path, fromUs, true, intervalMs);
          assertNonDecreasing(run.lines, `interval ${intervalMs}`);
          const messages = (ls: Tapped[]) =>
            ls.filter((l) => generated(l.text) === undefined).map((l) => `${l.at} ${l.text}`);
          const replayed = messages(run.lines);
          const recorded = messages(rec.lines);
          const start = recorded.indexOf(replayed[0]);
          assert.ok(start >= 0);
          assert.deepEqual(replayed, recorded.slice(start));
        },
      ),
      { numRuns: 12 },
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("tap: a lost connection records a disconnect for exactly its symbols, the first connect none", async () => {
  const sim = await startSimExchange({ symbols: SYMBOLS, rate: 40, seed: 9 });
  const run = runIngest({
    wsUrl: sim.wsUrl,
    staleMs: 60_000,
    backoffBaseMs: 20,
    backoffCapMs: 100,
    log: quiet,
    maxStreamsPerConnection: 2, // [btcusdt, ethusdt] and [solusdt, bnbusdt]
  }, true);
  const count = (s: string) =>
    run.lines.filter((l) => l.text.startsWith(`{"stream":"${s}@depth20`)).length;
  const markers = () =>
    run.lines.filter((l) => generated(l.text)?.[1] === "disconnect").map((l) =>
      generated(l.text)![0]
    );
  try {
    await run.until(() => SYMBOLS.every((s) => count(s) >= 5));
    assert.deepEqual(markers(), [], "the first connect is not a disconnect");
    sim.inject({ kind: "close", symbol: "btcusdt" });
    await run.until(() => markers().length >= 2);
    const after = run.lines.length;
    // Both reconnect, and the other connection's symbols go on.
    await run.until(() =>
      SYMBOLS.every((s) =>
        run.lines.slice(after).filter((l) => l.text.startsWith(`{"stream":"${s}@depth20`))
          .length >= 5
      )
    );
  } finally {
    await run.stop();
    await sim.close();
  }
  assert.deepEqual(markers().sort(), ["btcusdt", "ethusdt"]);
  assertNonDecreasing(run.lines, "disconnect");
});

Deno.test("tapping changes nothing the ingest writes (depth20 replay with and without a tap)", async () => {
  const sim = await startSimExchange({ symbols: SYMBOLS, rate: 40, seed: 3 });
  const live = runIngest({ wsUrl: sim.wsUrl, staleMs: 60_000, log: quiet }, true);
  assert.equal(live.ingestor.tapErrors, 0);
  try {
    await live.until(() => live.frames.every((f) => f.length >= 30));
  } finally {
    await live.stop();
    await sim.close();
  }
  assertNonDecreasing(live.lines, "depth20");
  const path = await writeRecording(live.lines);
  const replay = async (tap: boolean | "throwing") => {
    const status = ReplayStatus.create();
    const run = runIngest({
      wsUrl: "ws://127.0.0.1:9",
      staleMs: 60_000,
      log: quiet,
      replay: { path, speed: Infinity, status: status.buffer },
    }, tap);
    await run.ingestor.replayFinished;
    await run.stop();
    return run;
  };
  try {
    const plain = await replay(false);
    const tapped = await replay(true);
    assertSameFrames(plain.frames, tapped.frames, "depth20");
    // A tap that throws loses its records, never the ingest's frames.
    const throwing = await replay("throwing");
    assert.ok(throwing.ingestor.tapErrors > 0);
    assertSameFrames(plain.frames, throwing.frames, "throwing tap");
    assertSameFrames(live.frames, plain.frames, "live");
    // Depth20 makes no snapshots: the tap saw exactly the recorded messages.
    assert.deepEqual(tapped.lines, live.lines);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("tap, diff mode: after a disconnect marker its symbols' next REST snapshots are recorded", async () => {
  const sim = await startSimExchange({ symbols: SYMBOLS, rate: 40, seed: 21, depthTicks: 256 });
  const run = runIngest({
    wsUrl: sim.wsUrl,
    restUrl: sim.restUrl,
    stream: "diff",
    staleMs: 60_000,
    backoffBaseMs: 20,
    backoffCapMs: 100,
    log: quiet,
    snapshotDepth: SNAPSHOT_DEPTH,
    snapshotIntervalMs: 2 ** 40, // no boundary during the test: only REST snapshots and markers
    maxStreamsPerConnection: 2,
  }, true);
  const kinds = (s: string) =>
    run.lines.map((l) => generated(l.text)).filter((g) => g?.[0] === s).map((g) => g![1]);
  try {
    await run.until(() =>
      SYMBOLS.every((s) => kinds(s).length === 1 && run.frames[SYMBOLS.indexOf(s)].length >= 3)
    );
    sim.inject({ kind: "close", symbol: "ethusdt" });
    // Marker, then the snapshot of the new connection.
    await run.until(() => ["btcusdt", "ethusdt"].every((s) => kinds(s).length >= 3));
  } finally {
    await run.stop();
    await sim.close();
  }
  for (const s of ["btcusdt", "ethusdt"]) {
    assert.deepEqual(kinds(s).slice(0, 3), ["depthSnapshot", "disconnect", "depthSnapshot"], s);
  }
  for (const s of ["solusdt", "bnbusdt"]) assert.ok(!kinds(s).includes("disconnect"), s);
  assertNonDecreasing(run.lines, "diff disconnect");
});
