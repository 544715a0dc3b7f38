/**
 * Replay throughput at `--replay-speed max`: a tardis-format recording of
 * 50,000 real Binance depth20 messages (the vendored frames of
 * tests/testdata/binance/spot_depth20.jsonl: its 20-level message as 4
 * symbols, cycled with rising update ids)
 * played by the replay source through the real ingest (parse, validation,
 * raw ring) and the real analytics loop (every frame analysed), in ONE
 * thread (the service runs ingest and analytics in two workers, so this is a
 * floor). frames/s = 50,000 / time per iteration; the target is ≥ 100,000.
 * On the shared 2-core machine the numbers are indicative only.
 *
 * Run: deno bench -A bench/replay_bench.ts
 */
import { recordedLines } from "../testing/recorded_data.ts";
import { runPipeline } from "../testing/replay_pipeline.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";
import { usToIso } from "../lib/record/mod.ts";

const RECORDS = 50_000;
// The vendored log's one 20-level message, as 4 symbols (the others are 5-level).
const real = recordedLines("spot_depth20.jsonl").filter((f) => f.includes("@depth20@100ms"));
const symbols = ["flmusdt", "btcusdt", "ethusdt", "solusdt"];
const frames = symbols.flatMap((s) =>
  real.map((f) => f.replace(/"stream":"[^@"]+@/, `"stream":"${s}@`))
);
const T0 = Date.parse("2026-12-02T12:00:00Z") * 1000;
const lines: string[] = [];
for (let i = 0; i < RECORDS; i++) {
  const text = frames[i % frames.length].replace(
    /"lastUpdateId":\d+/,
    `"lastUpdateId":${1_000_000 + i}`,
  );
  lines.push(`${usToIso(T0 + i * 1000)} ${text}`);
}
const path = await Deno.makeTempFile({ suffix: ".txt" });
await Deno.writeTextFile(path, lines.join("\n") + "\n");
const bytes = (await Deno.stat(path)).size;
console.log(
  `recording: ${RECORDS} records of ${symbols.length} symbols, ${(bytes / 1e6).toFixed(1)} MB`,
);

async function replayOnce(): Promise<number> {
  const status = ReplayStatus.create();
  const run = runPipeline({
    symbols,
    ingest: {
      wsUrl: "ws://127.0.0.1:9",
      staleMs: 60_000,
      replay: { path, speed: Infinity, status: status.buffer },
    },
    rawCapacity: 4096,
  });
  await run.ingestor.replayFinished;
  await run.stop();
  const analysed = run.frames.reduce((n, f) => n + f.length, 0);
  if (analysed !== RECORDS) {
    throw new Error(`expected ${RECORDS} analytics frames, got ${analysed}`);
  }
  return analysed;
}

Deno.bench(`replay at max: ${RECORDS} depth20 records, file → parse → analytics (one thread)`, {
  n: 3,
  warmup: 1,
}, async () => {
  await replayOnce();
});

globalThis.addEventListener("unload", () => Deno.removeSync(path));
