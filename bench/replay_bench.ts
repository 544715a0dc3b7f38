/**
 * Replay throughput at `--replay-speed max` on a recording made from the real
 * frames (testing/real_recording.ts: the vendored Binance depth20 message as
 * 4 symbols with rising update ids, written by lib/record's RecordWriter into
 * an hour file), in three cuts:
 *
 * 1. the reader alone (`openRecording`, `next()` and the message as a string);
 * 2. reader → ingest (parse, validation, raw ring) → analytics (every frame
 *    analysed) in ONE thread: a floor, the service runs them in two workers;
 * 3. seeking: the time to the first record of a replay started in the middle
 *    of a full hour file (720,000 records, 200/s; the index finds the block);
 * 4. the whole service (`tools/replay_run.ts`: ingest worker, analytics
 *    worker, main thread, as in production), run once at module load and
 *    printed as frames/s with the load average; skipped with
 *    `DEPTHWATCH_BENCH_SERVICE=0`.
 *
 * frames/s = records / time per iteration; the target through the service is
 * ≥ 100,000. On the shared 2-core machine the numbers are indicative only.
 *
 * Run: deno bench -A bench/replay_bench.ts
 */
import { runPipeline } from "../testing/replay_pipeline.ts";
import { writeRealRecording } from "../testing/real_recording.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { openRecording } from "../lib/record/mod.ts";
import { replayRun } from "../tools/replay_run.ts";
import { ReplayFeed } from "../lib/ingest/replay_feed.ts";

const RECORDS = 50_000;
const rec = writeRealRecording({ records: RECORDS, symbols: 4 });
console.log(
  `recording: ${RECORDS} records of ${rec.symbols.length} symbols, ` +
    `${(rec.bytes / 1e6).toFixed(2)} MB on disk`,
);

const HOUR_RECORDS = 720_000;
const hour = writeRealRecording({ records: HOUR_RECORDS, symbols: 100, stepUs: 5000 });
const middleUs = hour.firstUs + 1800_000_000 + 1234;

if (Deno.env.get("DEPTHWATCH_BENCH_SERVICE") !== "0") {
  const r = await replayRun({ records: 200_000, symbols: 4 });
  console.log(
    `whole service at max: ${r.records} records in ${r.seconds.toFixed(2)} s = ` +
      `${r.framesPerSecond} frames/s (${r.waits} waits for ring room); ` +
      `load average ${r.loadBefore} → ${r.loadAfter} (indicative)`,
  );
}

Deno.bench(`reader alone: ${RECORDS} records, next() + text()`, { n: 5, warmup: 1 }, () => {
  const r = openRecording(rec.dir);
  let n = 0;
  while (r.next()) n += r.text().length > 0 ? 1 : 0;
  if (n !== RECORDS) throw new Error(`expected ${RECORDS} records, read ${n}`);
});

Deno.bench(`seek: first record at 30 min into an hour of ${HOUR_RECORDS} records`, {
  n: 20,
  warmup: 2,
}, async () => {
  let first = NaN;
  const feed = new ReplayFeed({
    path: hour.dir,
    symbols: hour.symbols,
    speed: Infinity,
    fromUs: middleUs,
    status: ReplayStatus.create(),
    onMessage: (_text, at) => {
      if (first !== first) {
        first = at;
        feed.close();
      }
    },
  });
  feed.start();
  await feed.finished;
  if (!(first * 1000 >= middleUs)) throw new Error(`seek started at ${first} ms`);
});

Deno.bench(`replay at max: ${RECORDS} depth20 records, file → parse → analytics (one thread)`, {
  n: 3,
  warmup: 1,
}, async () => {
  const status = ReplayStatus.create();
  const run = runPipeline({
    symbols: rec.symbols,
    ingest: {
      wsUrl: "ws://127.0.0.1:9",
      staleMs: 60_000,
      replay: { path: rec.dir, speed: Infinity, status: status.buffer },
    },
    rawCapacity: 4096,
  });
  await run.ingestor.replayFinished;
  await run.stop();
  const analysed = run.frames.reduce((n, f) => n + f.length, 0);
  if (analysed !== RECORDS) {
    throw new Error(`expected ${RECORDS} analytics frames, got ${analysed}`);
  }
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(rec.dir, { recursive: true });
  Deno.removeSync(hour.dir, { recursive: true });
});
