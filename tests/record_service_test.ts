// The recorder wired into the service: --source sim with --record-dir records
// every message the ingest receives into hour files through the record ring
// and the recorder worker; a full ring drops and counts without touching the
// pipeline; a failing disk is counted and never crashes the service.
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { type Service, startService } from "../main.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { INGEST_ACCEPTED, INGEST_RECEIVED } from "../lib/pipeline/pipeline_counters.ts";
import { openRecording } from "../lib/record/mod.ts";
import { createMetrics } from "../lib/metrics/metrics_registry.ts";
import { buildStats } from "../lib/server/stats.ts";

const SYMBOLS = ["btcusdt", "ethusdt"];

function start(flags: string[], lines: string[] = []): Promise<Service> {
  const config = parseConfig([
    "--source=sim",
    "--port=0",
    `--symbols=${SYMBOLS.join(",")}`,
    ...flags,
  ]);
  const log = createLogger({ level: "info", write: (line) => lines.push(line) });
  return startService(config, { log });
}

function total(s: Service, word: number): number {
  const c = s.state.counters;
  let n = 0;
  for (let i = 0; i < c.symbols; i++) n += c.load(c.ingestSymbol(i, word));
  return n;
}

async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      if (e.isDirectory) walk(`${d}/${e.name}`);
      else out.push(`${d}/${e.name}`.slice(dir.length + 1));
    }
  };
  walk(dir);
  return out.sort();
}

function readTexts(dir: string): { texts: string[]; issues: number } {
  const r = openRecording(dir);
  const texts: string[] = [];
  let last = -Infinity;
  while (r.next()) {
    assert.ok(r.receiveTimeUs >= last, "receive times never go back");
    last = r.receiveTimeUs;
    texts.push(r.text());
  }
  return { texts, issues: r.issues.total };
}

Deno.test("record service: sim with --record-dir records every received message into a closed hour file", async () => {
  const dir = Deno.makeTempDirSync();
  const s = await start([`--record-dir=${dir}`, "--sim-rate=50"]);
  let received = 0;
  try {
    await until("200 received frames", () => total(s, INGEST_RECEIVED) >= 200);
    const stats = buildStats(s.state);
    assert.equal(stats.record?.dir, dir);
    assert.equal(stats.record?.worker.state, "running");
    assert.ok(stats.record!.ringRecords > 0, "the ingest taps into the record ring");
  } finally {
    await s.close();
    received = total(s, INGEST_RECEIVED);
  }
  const names = files(dir);
  assert.ok(names.length >= 2, `an hour file and its index: ${names}`);
  assert.ok(
    names.every((n) => /^binance\/\d{4}-\d\d-\d\d\/\d\d\.dwrec\.(zst|idx)$/.test(n)),
    `${names}`,
  );
  const { texts, issues } = readTexts(dir);
  assert.equal(issues, 0);
  // Every message the ingest received, in order: the sim's depth20 messages for our
  // symbols (records the ingest generates itself, e.g. a disconnect marker when the
  // service stops, say `"generated":true`).
  const exchange = texts.filter((t) => !JSON.parse(t).generated);
  assert.equal(exchange.length, received);
  assert.ok(texts.length <= received + SYMBOLS.length, "at most a marker per symbol besides");
  for (const t of exchange) {
    const m = JSON.parse(t);
    assert.ok(SYMBOLS.some((sym) => m.stream === `${sym}@depth20@100ms`), t.slice(0, 80));
    assert.ok(Array.isArray(m.data.bids));
  }
  const record = s.state.record!.read();
  assert.deepEqual(
    [record.records, record.ringRecords, record.dropped, record.errors],
    [texts.length, texts.length, 0, 0],
  );
  assert.ok(record.files >= 1 && record.blocks >= 1 && record.bytesWritten > 0);
  const text = await createMetrics(s.state, { defaultMetrics: false }).render();
  assert.match(text, new RegExp(`^depthwatch_record_records_total ${texts.length}$`, "m"));
  assert.match(text, /^depthwatch_record_dropped_total 0$/m);
  assert.match(text, /^depthwatch_record_files_total [1-9]/m);
  assert.match(text, /^depthwatch_record_blocks_total [1-9]/m);
  assert.match(text, /^depthwatch_record_bytes_written_total [1-9]/m);
  assert.match(text, /^depthwatch_record_errors_total 0$/m);
  assert.match(text, /^depthwatch_record_ring_capacity_bytes 8388608$/m);
  assert.match(text, /^depthwatch_worker_restarts_total\{worker="recorder"\} 0$/m);
  assert.match(text, /^depthwatch_worker_up\{worker="recorder"\} 0$/m, "stopped with the service");
});

Deno.test("record service: a tiny ring without its reader drops and counts; the pipeline's frames are unaffected", async () => {
  const dir = Deno.makeTempDirSync();
  const s = await start([`--record-dir=${dir}`, "--record-ring-bytes=4KiB", "--sim-rate=50"]);
  try {
    await until("frames", () => total(s, INGEST_ACCEPTED) >= 20);
    // The recorder is gone until its restart (≥ 200 ms): 100 frames/s of ~1 KB fill 4 KiB.
    s.supervisor.kill("recorder");
    await until("drops", () => s.state.record!.read().ringDropped > 0);
    await until("the recorder back", () => s.supervisor.state("recorder") === "running");
    const before = total(s, INGEST_ACCEPTED);
    await until("more frames", () => total(s, INGEST_ACCEPTED) >= before + 50);
  } finally {
    await s.close();
  }
  const record = s.state.record!.read();
  const received = total(s, INGEST_RECEIVED);
  assert.ok(record.ringDropped > 0);
  // Every message: kept or counted (plus at most a generated marker per symbol at stop).
  const tapped = record.ringRecords + record.ringDropped;
  assert.ok(tapped >= received && tapped <= received + SYMBOLS.length, `${tapped} ${received}`);
  assert.equal(total(s, INGEST_ACCEPTED), received, "every frame accepted by the pipeline");
  assert.equal(s.state.rawRing.stats().dropped, 0, "the raw ring dropped nothing");
  assert.equal(s.supervisor.restarts("recorder"), 1);
  const { texts, issues } = readTexts(dir);
  assert.equal(issues, 0);
  assert.equal(texts.length, record.records);
  assert.ok(files(dir).every((n) => !n.endsWith(".partial")), "the hour file was closed");
  // The killed generation's open block is lost and counted: taken = written + dropped.
  assert.equal(record.records + record.writerDropped, record.ringRecords);
  assert.equal(record.dropped, record.ringDropped + record.writerDropped);
});

Deno.test("record service: a disk that fails is counted; the service runs on and closes", async () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/binance`, "a file where the venue directory should be");
  const s = await start([`--record-dir=${dir}`, "--sim-rate=50"]);
  try {
    await until("frames", () => total(s, INGEST_ACCEPTED) >= 100);
  } finally {
    await s.close();
  }
  const record = s.state.record!.read();
  assert.ok(record.errors >= 1, "the failed open is counted");
  assert.equal(record.records, 0);
  assert.equal(record.writerDropped, record.ringRecords, "every record taken is counted lost");
  assert.equal(s.supervisor.restarts("recorder"), 0, "the recorder never crashed");
});

Deno.test("record service: --record-max-age and --record-max-bytes delete the oldest hours", async () => {
  const dir = Deno.makeTempDirSync();
  // Two old hours: one older than the age bound, one recent enough but over the size bound.
  const old = `${dir}/binance/2020-01-01`;
  Deno.mkdirSync(old, { recursive: true });
  Deno.writeFileSync(`${old}/00.dwrec.zst`, new Uint8Array(1000));
  const recent = new Date(Date.now() - 2 * 3_600_000).toISOString();
  const recentDir = `${dir}/binance/${recent.slice(0, 10)}`;
  Deno.mkdirSync(recentDir, { recursive: true });
  const recentFile = `${recentDir}/${recent.slice(11, 13)}.dwrec.zst`;
  Deno.writeFileSync(recentFile, new Uint8Array(3_000_000));
  const s = await start([
    `--record-dir=${dir}`,
    "--record-max-age=7d",
    "--record-max-bytes=2MB",
    "--sim-rate=50",
  ]);
  try {
    await until("frames", () => total(s, INGEST_ACCEPTED) >= 50);
  } finally {
    await s.close();
  }
  const record = s.state.record!.read();
  assert.ok(!files(dir).includes("binance/2020-01-01/00.dwrec.zst"), "older than 7 days: deleted");
  assert.ok(!files(dir).some((n) => recentFile.endsWith(n)), "over 2 MB: deleted");
  assert.equal(record.filesDeleted, 2);
  assert.ok(record.bytesDeleted >= 3_001_000);
  assert.ok(record.records > 0, "the open hour is kept");
});

Deno.test("record service: without --record-dir no recorder runs and nothing is recorded", async () => {
  const s = await start(["--sim-rate=20"]);
  try {
    await until("frames", () => total(s, INGEST_ACCEPTED) >= 10);
    assert.equal(s.state.record, undefined);
    assert.equal(buildStats(s.state).record, null);
    assert.equal(s.supervisor.state("recorder"), "stopped");
    const text = await createMetrics(s.state, { defaultMetrics: false }).render();
    assert.doesNotMatch(text, /depthwatch_record_|worker="recorder"/);
  } finally {
    await s.close();
  }
});
