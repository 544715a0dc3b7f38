import assert from "node:assert/strict";
import { RecordRing } from "../lib/pipeline/record_ring.ts";
import { RecorderStatus } from "../lib/pipeline/recorder_status.ts";
import { Recorder } from "../lib/record/recorder.ts";
import { denoRecordFs, openRecording, type RecordFs, RecordWriter } from "../lib/record/mod.ts";
import { recordedMessages } from "../testing/record_fixture.ts";

function readAll(dir: string): { us: number; text: string }[] {
  const r = openRecording(dir);
  const out = [];
  while (r.next()) out.push({ us: r.receiveTimeUs, text: r.text() });
  assert.equal(r.issues.total, 0);
  return out;
}

Deno.test("recorder: real frames through the ring and the writer read back whole, in order, across an hour", async () => {
  const dir = Deno.makeTempDirSync();
  const ring = RecordRing.create({ capacity: 1 << 20 });
  const status = RecorderStatus.create();
  const writer = new RecordWriter({ dir, venue: "binance", blockBytes: 64 << 10 });
  const recorder = new Recorder({ ring: RecordRing.attach(ring.buffer), writer, status });
  const messages = recordedMessages(Date.UTC(2026, 11, 2, 11, 59, 59) * 1000, 3000);
  const running = recorder.run();
  for (const m of messages) assert.equal(ring.push(m.text, m.us), true);
  ring.close();
  await running;
  const back = readAll(dir);
  assert.deepEqual(back, messages.map((m) => ({ us: m.us, text: m.text })));
  assert.equal(status.get("records"), messages.length);
  assert.equal(status.get("files"), 2, "the 11:00 and 12:00 hour files");
  assert.ok(status.get("blocks") >= 2);
  assert.ok(status.get("bytesWritten") > 0);
  assert.equal(status.get("started"), 1);
  const day = `${dir}/binance/2026-12-02`;
  assert.deepEqual(
    [...Deno.readDirSync(day)].map((e) => e.name).filter((n) => n.includes(".zst")).sort(),
    ["11.dwrec.zst", "12.dwrec.zst"],
    "renamed from .partial on close",
  );
});

Deno.test("recorder: a time earlier than one already written is written at the latest (a restarted ingest's clock), so a reader skips nothing", () => {
  const dir = Deno.makeTempDirSync();
  const ring = RecordRing.create({ capacity: 1 << 16 });
  const writer = new RecordWriter({ dir, venue: "binance" });
  const recorder = new Recorder({ ring, writer });
  const t = Date.UTC(2026, 11, 2, 12) * 1000;
  ring.push('{"a":1}', t + 500);
  ring.push('{"a":2}', t + 200); // the replacement ingest worker's first record
  ring.push('{"a":3}', t + 900);
  recorder.drain();
  writer.close();
  assert.deepEqual(readAll(dir), [
    { us: t + 500, text: '{"a":1}' },
    { us: t + 500, text: '{"a":2}' },
    { us: t + 900, text: '{"a":3}' },
  ]);
});

Deno.test("recorder: a block is closed after flushMs of wall time, before the block is full", () => {
  const dir = Deno.makeTempDirSync();
  const ring = RecordRing.create({ capacity: 1 << 16 });
  let now = 0;
  const writer = new RecordWriter({ dir, venue: "binance" });
  const recorder = new Recorder({ ring, writer, flushMs: 10_000, nowMs: () => now });
  const t = Date.UTC(2026, 11, 2, 12) * 1000;
  ring.push("{}", t);
  recorder.drain();
  assert.equal(writer.counters.blocks, 0);
  now = 10_000;
  ring.push("{}", t + 1);
  recorder.drain();
  assert.equal(writer.counters.blocks, 1, "due after 10 s");
  assert.ok(Deno.statSync(`${dir}/binance/2026-12-02/12.dwrec.zst.partial`).size > 0);
  writer.close();
});

Deno.test("recorder: an hour ended on the wall clock is closed at the next flush, with nothing new", () => {
  const dir = Deno.makeTempDirSync();
  const ring = RecordRing.create({ capacity: 1 << 16 });
  const t = Date.UTC(2026, 11, 2, 12, 59, 59);
  let now = t;
  const writer = new RecordWriter({ dir, venue: "binance" });
  const recorder = new Recorder({ ring, writer, flushMs: 10_000, nowMs: () => now });
  ring.push("{}", t * 1000);
  recorder.drain();
  now = t + 10_000; // 13:00:09: the 12:00 hour has ended
  recorder.drain();
  assert.deepEqual(
    [...Deno.readDirSync(`${dir}/binance/2026-12-02`)].map((e) => e.name).sort(),
    ["12.dwrec.idx", "12.dwrec.zst"],
  );
});

Deno.test("recorder: a failing disk counts errors and drops, never throws, and recording resumes", async () => {
  const dir = Deno.makeTempDirSync();
  let full = true;
  const fs: RecordFs = {
    ...denoRecordFs,
    open(path) {
      const f = denoRecordFs.open(path);
      return {
        ...f,
        write(bytes) {
          if (full) {
            throw Object.assign(new Error("No space left on device (os error 28)"), {
              code: "ENOSPC",
            });
          }
          return f.write(bytes);
        },
      };
    },
  };
  const ring = RecordRing.create({ capacity: 1 << 16 });
  const status = RecorderStatus.create();
  let now = 0;
  const writer = new RecordWriter({ dir, venue: "binance", fs });
  const recorder = new Recorder({ ring, writer, status, flushMs: 1000, nowMs: () => now });
  const t = Date.UTC(2026, 11, 2, 12) * 1000;
  for (let i = 0; i < 10; i++) ring.push(`{"lost":${i}}`, t + i);
  now += 1000;
  recorder.drain();
  assert.ok(status.get("errors") >= 1);
  assert.equal(status.get("dropped"), 10);
  full = false;
  for (let i = 0; i < 5; i++) ring.push(`{"kept":${i}}`, t + 100 + i);
  now += 1000;
  recorder.drain();
  ring.close();
  await recorder.run();
  assert.deepEqual(readAll(dir).map((r) => r.text), [0, 1, 2, 3, 4].map((i) => `{"kept":${i}}`));
  assert.equal(status.get("records"), 5);
});

Deno.test("recorder: stop() writes what it holds and closes the file; a lost lease stops it", async () => {
  const dir = Deno.makeTempDirSync();
  const ring = RecordRing.create({ capacity: 1 << 16 });
  const writer = new RecordWriter({ dir, venue: "binance" });
  let held = true;
  const recorder = new Recorder({ ring, writer, lease: { held: () => held } });
  const running = recorder.run();
  ring.push("{}", Date.UTC(2026, 11, 2, 12) * 1000);
  await new Promise((r) => setTimeout(r, 50));
  recorder.stop();
  await running;
  assert.equal(readAll(dir).length, 1);
  held = false;
  ring.push("{}", Date.UTC(2026, 11, 2, 12) * 1000 + 1);
  await new Recorder({ ring, writer, lease: { held: () => held } }).run();
  assert.equal(ring.stats().taken, 1, "a generation without its lease takes nothing");
});

Deno.test("recorder: a fenced generation writes nothing more; the next continues the file and counts the lost block", async () => {
  const dir = Deno.makeTempDirSync();
  const ring = RecordRing.create({ capacity: 1 << 16 });
  const status = RecorderStatus.create();
  const t = Date.UTC(2026, 11, 2, 12) * 1000;
  let held = true;
  let now = 0;
  const first = new Recorder({
    ring: RecordRing.attach(ring.buffer),
    writer: new RecordWriter({ dir, venue: "binance" }),
    status,
    flushMs: 1000,
    nowMs: () => now,
    lease: { held: () => held },
  });
  ring.push('{"n":0}', t);
  now = 1000;
  first.drain(); // due: written as the file's first block
  ring.push('{"n":1}', t + 1);
  first.drain(); // in the open block
  held = false; // the supervisor revoked the lease
  await first.run();
  const day = `${dir}/binance/2026-12-02`;
  assert.ok(Deno.statSync(`${day}/12.dwrec.zst.partial`).isFile, "left for the next generation");
  ring.push('{"n":2}', t + 2);
  const second = new Recorder({
    ring: RecordRing.attach(ring.buffer),
    writer: new RecordWriter({ dir, venue: "binance" }),
    status,
  });
  ring.close();
  await second.run();
  assert.deepEqual(readAll(dir).map((r) => r.text), ['{"n":0}', '{"n":2}']);
  assert.deepEqual(
    [status.get("records"), status.get("dropped")],
    [2, 1],
    "the lost block counted",
  );
  assert.ok(Deno.statSync(`${day}/12.dwrec.zst`).isFile, "continued and closed");
});

Deno.test("writer.appendFrom: bytes with a line feed are refused and counted, an oversize record is a block of its own", () => {
  const dir = Deno.makeTempDirSync();
  const writer = new RecordWriter({ dir, venue: "binance", blockBytes: 256 });
  const t = Date.UTC(2026, 11, 2, 12) * 1000;
  const enc = new TextEncoder();
  const bad = enc.encode('..{"a":\n1}');
  assert.equal(writer.appendFrom(t, bad, 2, bad.length - 2), false);
  assert.equal(writer.counters.invalid, 1);
  const big = enc.encode(`{"b":"${"x".repeat(400)}"}`);
  assert.equal(writer.appendFrom(t + 1, big, 0, big.length), true);
  const ok = enc.encode('{"c":1}');
  assert.equal(writer.appendFrom(t + 2, ok, 0, ok.length), true);
  writer.close();
  assert.deepEqual(readAll(dir).map((r) => r.text), [new TextDecoder().decode(big), '{"c":1}']);
});
