// The replay source: every input lib/record's reader takes (recording
// directory, hour file, tardis .gz/.zst/text), bad input counted with file and
// offset, --replay-from/--replay-to windowing and seeking, disconnect markers,
// loop, the pacing clock, and the
// whole service with --source replay (mode REPLAY, /stats and /metrics carry
// the position, symbols and stream taken from the recording).
import assert from "node:assert/strict";
import { ReplayFeed } from "../lib/ingest/replay_feed.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { isoToUs, RecordWriter, usToIso } from "../lib/record/mod.ts";
import { scanRecording } from "../lib/ingest/replay_scan.ts";
import { replayConfig } from "../lib/server/replay_setup.ts";
import { parseConfig } from "../lib/server/config.ts";
import { startService } from "../main.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { gzipSync, zstdCompressSync } from "node:zlib";

const quiet = { warn() {}, error() {}, info() {}, debug() {} };
const T0 = Date.parse("2026-12-02T12:00:00Z") * 1000;

/** A depth20 message of `symbol` with update id `id` (valid: one bid below one ask). */
function depth(symbol: string, id: number): string {
  const bid = (100 + (id % 7)).toFixed(2);
  const ask = (101 + (id % 7)).toFixed(2);
  return `{"stream":"${symbol}@depth20@100ms","data":{"lastUpdateId":${id},"bids":[["${bid}","1.5"]],"asks":[["${ask}","2"]]}}`;
}

/** Lines of `n` records, `stepUs` apart, alternating two symbols. */
function recording(n: number, stepUs = 100_000): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      `${usToIso(T0 + i * stepUs)} ${depth(i % 2 ? "ethusdt" : "btcusdt", 1000 + i)}`,
    );
  }
  return lines;
}

async function tempFile(lines: string[], suffix = ".txt"): Promise<string> {
  const path = await Deno.makeTempFile({ suffix });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

async function play(
  path: string,
  options: Partial<ConstructorParameters<typeof ReplayFeed>[0]> = {},
): Promise<{ got: [string, number][]; status: ReplayStatus; warnings: string[] }> {
  const status = ReplayStatus.create();
  const got: [string, number][] = [];
  const warnings: string[] = [];
  const feed = new ReplayFeed({
    path,
    symbols: ["btcusdt", "ethusdt"],
    speed: Infinity,
    status,
    log: { warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) },
    onMessage: (text, at) => got.push([text, at]),
    ...options,
  });
  feed.start();
  await feed.finished;
  return { got, status, warnings };
}

Deno.test("ISO times keep the microsecond both ways; digits past it are cut (one rule)", () => {
  assert.equal(isoToUs("2026-12-02T12:00:00.123456Z"), T0 + 123456);
  assert.equal(isoToUs("2026-12-02T12:00:00.5Z"), T0 + 500000);
  // tardis writes 100 ns (a 7th digit, often not 0): kept to the whole µs, like lib/record's lines.
  assert.equal(isoToUs("2026-12-02T12:00:00.1234567Z"), T0 + 123456);
  assert.equal(usToIso(T0 + 7), "2026-12-02T12:00:00.000007Z");
  for (
    const bad of [
      "2026-12-02T12:00:00",
      "2026-12-02T12:00:00.1234567890Z",
      "2026-02-30T12:00:00Z",
      "",
    ]
  ) {
    assert.ok(Number.isNaN(isoToUs(bad)), bad);
  }
});

Deno.test("every record is delivered in order with its recorded time, bytes untouched", async () => {
  const lines = recording(50);
  const path = await tempFile(lines);
  try {
    const { got, status } = await play(path);
    assert.equal(got.length, 50);
    for (let i = 0; i < 50; i++) {
      assert.equal(got[i][0], lines[i].slice(lines[i].indexOf(" ") + 1));
      assert.equal(got[i][1], (T0 + i * 100_000) / 1000);
    }
    assert.equal(status.get("records"), 50);
    assert.equal(status.get("clockMs"), (T0 + 49 * 100_000) / 1000);
    assert.equal(status.get("done"), 1);
    assert.equal(status.get("badLines"), 0);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("tardis .json.gz, .zst (several frames) and text files, 7-digit times, play alike", async () => {
  const lines = recording(10);
  // tardis' 100 ns digit, not 0: the record keeps the whole µs.
  const tardis = lines.map((l) => l.replace(/Z /, "7Z "));
  const enc = new TextEncoder();
  const dir = await Deno.makeTempDir();
  try {
    const files = {
      gz: `${dir}/a.json.gz`,
      zst: `${dir}/b.json.zst`,
      txt: `${dir}/c.txt`,
    };
    await Deno.writeFile(files.gz, gzipSync(enc.encode(tardis.join("\n") + "\n")));
    // zstd in two independent frames (blocks), as a recording writes them.
    await Deno.writeFile(
      files.zst,
      new Uint8Array([
        ...zstdCompressSync(enc.encode(tardis.slice(0, 4).join("\n") + "\n")),
        ...zstdCompressSync(enc.encode(tardis.slice(4).join("\n") + "\n")),
      ]),
    );
    await Deno.writeTextFile(files.txt, tardis.join("\n")); // no final line feed
    for (const path of Object.values(files)) {
      const { got, status } = await play(path);
      assert.deepEqual(got.map(([, at]) => at), lines.map((_, i) => (T0 + i * 100_000) / 1000));
      assert.equal(got[3][0], lines[3].slice(lines[3].indexOf(" ") + 1), path);
      assert.equal(status.get("badLines"), 0, path);
    }
    // A truncated zstd file: its whole frames are played, the cut one counted.
    const whole = zstdCompressSync(enc.encode(lines[0] + "\n"));
    const cut = zstdCompressSync(enc.encode(lines[1] + "\n")).subarray(0, 9);
    await Deno.writeFile(files.zst, new Uint8Array([...whole, ...cut]));
    const { got, status, warnings } = await play(files.zst);
    assert.equal(got.length, 1);
    assert.equal(status.get("badLines"), 1);
    assert.match(
      warnings[0],
      new RegExp(`truncated-block\\) in ${files.zst} at byte ${whole.length}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad lines and times going backwards are counted with file and offset, and skipped", async () => {
  const lines = recording(6);
  lines.splice(2, 0, "garbage without a time");
  lines.splice(4, 0, "2026-12-02T12:00:00.000000Z"); // a time and no message, and out of order
  lines.splice(5, 0, `${usToIso(T0)} ${depth("btcusdt", 1)}`); // back in time
  lines.splice(6, 0, "not-a-time {}");
  const path = await tempFile(lines);
  try {
    const { got, status, warnings } = await play(path);
    assert.equal(got.length, 6, "the 6 good records");
    assert.equal(status.get("badLines"), 4);
    const offsetOfGarbage = new TextEncoder().encode(lines.slice(0, 2).join("\n") + "\n").length;
    assert.ok(warnings[0].includes(`${path} at byte ${offsetOfGarbage}`), warnings[0]);
    assert.equal(warnings.filter((w) => w.includes("(out-of-order)")).length, 1);
    assert.equal(warnings.filter((w) => w.includes("(bad-line)")).length, 3);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("--replay-from/--replay-to play only the window", async () => {
  const path = await tempFile(recording(100));
  try {
    const { got, status } = await play(path, { fromUs: T0 + 2_000_000, toUs: T0 + 4_000_000 });
    assert.equal(got.length, 21, "records 20 to 40 inclusive");
    assert.equal(got[0][1], (T0 + 2_000_000) / 1000);
    assert.equal(got.at(-1)![1], (T0 + 4_000_000) / 1000);
    assert.equal(status.get("done"), 1);
    assert.throws(
      () => new ReplayFeed({ path, symbols: ["x"], status, onMessage() {}, fromUs: 2, toUs: 1 }),
      /ends/,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loop starts over with the clock running forwards and every symbol reconnecting", async () => {
  const path = await tempFile(recording(10));
  const states: [number, FeedState][] = [];
  const status = ReplayStatus.create();
  const got: number[] = [];
  let feed: ReplayFeed | undefined = undefined;
  feed = new ReplayFeed({
    path,
    symbols: ["btcusdt", "ethusdt"],
    speed: Infinity,
    loop: true,
    status,
    onMessage: (text, at) => {
      got.push(at);
      feed!.noteFrame(text.includes("btcusdt") ? 0 : 1, at);
      if (got.length === 25) feed!.close();
    },
    onFeedState: (id, state) => states.push([id, state]),
  });
  feed.start();
  await feed.finished;
  try {
    assert.equal(got.length, 25);
    assert.equal(status.get("loops"), 2);
    for (let i = 1; i < got.length; i++) assert.ok(got[i] > got[i - 1], `time ${i} moves forwards`);
    // Pass 2 starts one pass length plus 1 s after pass 1.
    assert.equal(got[10] - got[0], 0.9 * 1000 + 1000);
    assert.equal(
      states.filter(([, s]) => s === FeedState.Connecting).length,
      4,
      "2 symbols × 2 restarts",
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("at speed s a record waits until (t − t0)/s has passed", async () => {
  // 11 records 100 ms apart at speed 4: the last is due 250 ms after the first.
  const path = await tempFile(recording(11));
  try {
    const t0 = performance.now();
    const { got } = await play(path, { speed: 4 });
    const took = performance.now() - t0;
    assert.equal(got.length, 11);
    assert.ok(took >= 250 - 2, `a paced replay cannot finish early (took ${took} ms)`);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("the recording's symbols and stream are found from its head", async () => {
  const path = await tempFile([
    "junk",
    ...recording(4),
    `${
      usToIso(T0 + 1)
    } {"stream":"solusdt@depthSnapshot","generated":true,"data":{"lastUpdateId":1,"bids":[],"asks":[]}}`,
  ]);
  try {
    const scan = await scanRecording(path);
    assert.deepEqual(scan.symbols, ["btcusdt", "ethusdt", "solusdt"]);
    assert.equal(scan.stream, "diff", "a snapshot line means diff mode");
    assert.equal((await scanRecording(path, { maxRecords: 2 })).stream, "depth20");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("the service with --source replay: REPLAY mode, position in /stats and /metrics", async () => {
  const lines = recording(200, 10_000);
  lines.splice(7, 0, "a bad line");
  const path = await tempFile(lines);
  const config = parseConfig([
    "--source=replay",
    `--replay-path=${path}`,
    "--replay-speed=max",
    "--port=0",
    "--log-level=error",
  ]);
  const service = await startService(config, { log: quiet as never });
  try {
    assert.deepEqual(service.state.symbols, ["BTCUSDT", "ETHUSDT"], "symbols from the recording");
    let stats;
    for (let i = 0; i < 600; i++) {
      const res = await fetch(new URL("/stats", service.url));
      stats = await res.json();
      if (stats.replay?.done && stats.queues.processed.popped >= 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(stats.mode, "REPLAY");
    assert.equal(stats.source, "replay");
    assert.equal(stats.stream, "depth20");
    assert.equal(stats.replay.records, 200);
    assert.equal(stats.replay.badLines, 1);
    assert.equal(stats.replay.speed, "max");
    assert.equal(stats.replay.clock, usToIso(T0 + 199 * 10_000));
    assert.equal(stats.replay.done, true);
    assert.equal(stats.queues.raw.dropped, 0);
    assert.equal(stats.symbols.BTCUSDT.accepted + stats.symbols.ETHUSDT.accepted, 200);
    const metrics = await (await fetch(new URL("/metrics", service.url))).text();
    assert.match(metrics, /^depthwatch_replay_records_total 200$/m);
    assert.match(metrics, /^depthwatch_replay_bad_lines_total 1$/m);
    assert.match(metrics, /^depthwatch_info\{mode="REPLAY",source="replay",stream="depth20"\} 1$/m);
  } finally {
    await service.close();
    await Deno.remove(path);
  }
});

Deno.test("a feed started on a status with a position resumes after it (a restarted ingest worker)", async () => {
  const path = await tempFile(recording(20));
  try {
    const first = await play(path, { toUs: T0 + 700_000 });
    assert.equal(first.got.length, 8);
    first.status.set("done", 0); // as a worker that died mid-way leaves it
    const got: number[] = [];
    const feed = new ReplayFeed({
      path,
      symbols: ["btcusdt", "ethusdt"],
      speed: Infinity,
      status: first.status,
      log: quiet,
      onMessage: (_, at) => got.push(at),
    });
    feed.start();
    await feed.finished;
    assert.equal(got.length, 12, "records 8 to 19");
    assert.equal(got[0], (T0 + 800_000) / 1000);
    assert.equal(first.status.get("records"), 20);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("close ends a paced replay at once, even in the middle of a long gap", async () => {
  // Two records an hour apart at speed 1: the second is due in an hour.
  const path = await tempFile([
    `${usToIso(T0)} ${depth("btcusdt", 1)}`,
    `${usToIso(T0 + 3600_000_000)} ${depth("btcusdt", 2)}`,
  ]);
  try {
    const got: number[] = [];
    const feed = new ReplayFeed({
      path,
      symbols: ["btcusdt"],
      speed: 1,
      status: ReplayStatus.create(),
      onMessage: (_, at) => got.push(at),
    });
    feed.start();
    while (got.length === 0) await new Promise((r) => setTimeout(r, 5));
    await feed.close(); // would hang for an hour (and fail the test by its leak check) if it waited
    assert.equal(got.length, 1);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("diff mode: --replay-from starts at the symbols' last snapshots before it", async () => {
  const snap = (s: string, us: number) =>
    `${
      usToIso(us)
    } {"stream":"${s}@depthSnapshot","generated":true,"data":{"lastUpdateId":5,"bids":[],"asks":[]}}`;
  const diff = (s: string, us: number) =>
    `${
      usToIso(us)
    } {"stream":"${s}@depth@100ms","data":{"e":"depthUpdate","s":"${s.toUpperCase()}"}}`;
  const path = await tempFile([
    snap("btcusdt", T0), // superseded by the later one
    diff("btcusdt", T0 + 1),
    snap("ethusdt", T0 + 2), // ethusdt's last before from: the start
    diff("btcusdt", T0 + 3),
    snap("btcusdt", T0 + 4),
    diff("ethusdt", T0 + 5),
    diff("btcusdt", T0 + 10), // from
    snap("btcusdt", T0 + 11), // after from: not a start candidate
  ]);
  try {
    const snapshots: [number, number][] = [];
    const { got } = await play(path, {
      diff: true,
      fromUs: T0 + 10,
      onSnapshot: (id, body, at) => {
        assert.equal(body, '{"lastUpdateId":5,"bids":[],"asks":[]}');
        snapshots.push([id, at]);
      },
    });
    assert.deepEqual(snapshots, [[1, (T0 + 2) / 1000], [0, (T0 + 4) / 1000], [
      0,
      (T0 + 11) / 1000,
    ]]);
    assert.deepEqual(got.map(([, at]) => at), [T0 + 3, T0 + 5, T0 + 10].map((us) => us / 1000));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("no record is delivered while the pipeline has no room: the replay waits, never drops", async () => {
  const path = await tempFile(recording(30));
  try {
    let room = 5; // the consumer frees 5 slots at a time, on its own schedule
    let taken = 0;
    const timer = setInterval(() => room = 5, 3);
    const { status } = await play(path, {
      hasRoom: () => room > 0,
      onMessage: (text, at) => {
        assert.ok(room > 0, "delivered only with room");
        room--;
        taken++;
        assert.equal(at, (T0 + (taken - 1) * 100_000) / 1000, text);
      },
    }).finally(() => clearInterval(timer));
    assert.equal(taken, 30, "every record delivered, in order");
    assert.ok(status.get("waits") >= 5, `waited while full (${status.get("waits")} waits)`);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("replay reads what the recorder (lib/record) writes: a directory, an hour file, a .partial", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = new RecordWriter({ dir, venue: "binance", maxBytes: 1 << 30 });
    const sent: [string, number][] = [];
    // 50 records over two hours: a closed hour file and the open one (.partial).
    for (let i = 0; i < 50; i++) {
      const us = T0 + i * 100_007 + (i >= 30 ? 3600_000_000 : 0);
      const text = depth(i % 2 ? "ethusdt" : "btcusdt", 1000 + i);
      sent.push([text, us / 1000]);
      w.append(us, text);
      if (i === 20 || i === 40) w.flush(); // several blocks
    }
    w.flush();
    const day = `${dir}/binance/2026-12-02`;
    assert.deepEqual(
      [...Deno.readDirSync(day)].map((e) => e.name).filter((n) => n.includes(".dwrec.zst")).sort(),
      ["12.dwrec.zst", "13.dwrec.zst.partial"],
    );
    for (const path of [dir, `${dir}/binance`]) {
      const { got, status } = await play(path);
      assert.deepEqual(got, sent, path);
      assert.equal(status.get("badLines"), 0);
    }
    assert.deepEqual((await play(`${day}/12.dwrec.zst`)).got, sent.slice(0, 30));
    assert.deepEqual((await play(`${day}/13.dwrec.zst.partial`)).got, sent.slice(30));
    // --replay-from seeks by the index: from record 45 in the second hour.
    const from = await play(dir, { fromUs: Math.round(sent[45][1] * 1000) });
    assert.deepEqual(from.got, sent.slice(45));
    w.close();
    // Without its index the hour is scanned: played whole, the missing index counted.
    await Deno.remove(`${day}/12.dwrec.idx`);
    const scanned = await play(`${day}/12.dwrec.zst`);
    assert.deepEqual(scanned.got, sent.slice(0, 30));
    assert.equal(scanned.status.get("badLines"), 1);
    assert.match(scanned.warnings[0], /\(missing-index\) in .*12\.dwrec\.zst at byte 0/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diff mode: seeking into a recording starts at the recorder's generated snapshots, read by the index", async () => {
  // Two hours of 2 symbols: a diff event every 10 s each, and a generated
  // snapshot of each just after every 5-minute boundary (as the recorder writes).
  const dir = await Deno.makeTempDir();
  const snap = (s: string, id: number) =>
    `{"stream":"${s}@depthSnapshot","generated":true,"data":{"lastUpdateId":${id},"bids":[],"asks":[]}}`;
  const diff = (s: string, id: number) => `{"stream":"${s}@depth@100ms","data":{"u":${id}}}`;
  try {
    const w = new RecordWriter({ dir, venue: "binance", maxBytes: 1 << 30, blockBytes: 4096 });
    const snaps: number[] = [];
    for (let us = T0, id = 0; us < T0 + 7200_000_000; us += 5_000_000, id++) {
      if (us % 300_000_000 === 0) {
        w.append(us, snap("btcusdt", id));
        w.append(us + 1, snap("ethusdt", id));
        snaps.push(us);
      }
      w.append(us + 2, diff(id % 2 ? "ethusdt" : "btcusdt", id));
    }
    w.close();
    const fromUs = T0 + 3600_000_000 + 37 * 60_000_000 + 30_000_000; // 13:37:30
    const boundary = T0 + 3600_000_000 + 35 * 60_000_000; // 13:35
    const clocks: number[] = [];
    const snapshots: [number, number][] = [];
    const { got, status } = await play(dir, {
      diff: true,
      fromUs,
      speed: 1000, // the warm-up before fromUs is not paced; the rest takes ~0.1 s
      toUs: fromUs + 60_000_000,
      onSnapshot: (id, _body, at) => snapshots.push([id, at * 1000]),
      onClock: (at) => clocks.push(at),
    });
    assert.deepEqual(snapshots.slice(0, 2), [[0, boundary], [1, boundary + 1]]);
    assert.equal(got[0][1], (boundary + 2) / 1000, "the diff events from the snapshots on");
    assert.equal(got.at(-1)![1], (fromUs + 60_000_000 - 5_000_000 + 2) / 1000);
    // The books warm up from 13:35 without the clock; diff books are emitted from fromUs on.
    assert.ok(clocks.length > 0 && clocks[0] >= fromUs / 1000, String(clocks[0]));
    assert.equal(status.get("badLines"), 0);
    // Seeking into the first 5 minutes: the snapshots at the recording's start.
    const early = await play(dir, { diff: true, fromUs: T0 + 60_000_000, toUs: T0 + 61_000_000 });
    assert.equal(early.got[0][1], (T0 + 2) / 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("diff mode: a symbol without a snapshot near the seek time is looked for further back, to the start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = new RecordWriter({ dir, venue: "binance", maxBytes: 1 << 30, blockBytes: 4096 });
    for (let us = T0, id = 0; us < T0 + 7200_000_000; us += 5_000_000, id++) {
      // btcusdt has a snapshot every 5 minutes, ethusdt only at the start.
      if (us % 300_000_000 === 0) {
        w.append(us, `{"stream":"btcusdt@depthSnapshot","generated":true,"data":{}}`);
      }
      if (us === T0 + 60_000_000) {
        w.append(us + 1, `{"stream":"ethusdt@depthSnapshot","generated":true,"data":{}}`);
      }
      w.append(us + 2, `{"stream":"btcusdt@depth@100ms","data":{"u":${id}}}`);
    }
    w.close();
    const fromUs = T0 + 3600_000_000 + 37 * 60_000_000;
    const snapshots: [number, number][] = [];
    const { got } = await play(dir, {
      diff: true,
      fromUs,
      toUs: fromUs,
      onSnapshot: (id, _body, at) => snapshots.push([id, at * 1000]),
    });
    assert.deepEqual(snapshots[0], [1, T0 + 60_000_001], "ethusdt's only snapshot");
    assert.equal(got[0][1], (T0 + 60_000_002) / 1000, "everything after it is played");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--source replay takes the symbols and stream from a recording directory; an empty one is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = ["--source=replay", `--replay-path=${dir}`];
    await assert.rejects(
      () => replayConfig(parseConfig(base)),
      /--replay-path: .* holds no depth messages .*expected a recording directory/,
    );
    const w = new RecordWriter({ dir, venue: "binance", maxBytes: 1 << 30 });
    for (const line of recording(4)) w.append(isoToUs(line.slice(0, 27)), line.slice(28));
    w.close();
    const config = await replayConfig(parseConfig(base));
    assert.deepEqual(config.symbols, ["btcusdt", "ethusdt"]);
    assert.equal(config.stream, "depth20");
    assert.equal(config.levels, 20);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
