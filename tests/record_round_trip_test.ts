import assert from "node:assert/strict";
import { openRecording, RecordWriter } from "../lib/record/mod.ts";
import { recordedMessages } from "../testing/record_fixture.ts";

const enc = new TextEncoder();
const HOUR_US = 3_600_000_000;
const START = Date.UTC(2026, 11, 2, 11, 58) * 1000 + 123_457;

/** Real frames across three UTC hours (11, 12, 13), small blocks so each hour has several. */
function record(dir: string, blockBytes = 8192) {
  // 476 messages spread over ~72 minutes: steps of ~9 s.
  const msgs = recordedMessages(START, 9_000_000);
  const w = new RecordWriter({ dir, venue: "binance", blockBytes });
  for (const m of msgs) assert.ok(w.append(m.us, m.text));
  return { msgs, w };
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const day of Deno.readDirSync(`${dir}/binance`)) {
    for (const f of Deno.readDirSync(`${dir}/binance/${day.name}`)) {
      out.push(`${day.name}/${f.name}`);
    }
  }
  return out.sort();
}

Deno.test("record round trip: real frames → writer → hourly files → reader, bytes and µs exact", async () => {
  const dir = Deno.makeTempDirSync();
  const { msgs, w } = record(dir);
  const lastHour = Math.floor(msgs[msgs.length - 1].us / HOUR_US);
  assert.equal(lastHour - Math.floor(START / HOUR_US), 2, "the fixture spans three hours");
  // Before close: the past hours are closed, the current one is partial.
  assert.deepEqual(files(dir), [
    "2026-12-02/11.dwrec.idx",
    "2026-12-02/11.dwrec.zst",
    "2026-12-02/12.dwrec.idx",
    "2026-12-02/12.dwrec.zst",
    "2026-12-02/13.dwrec.idx",
    "2026-12-02/13.dwrec.zst.partial",
  ]);
  w.close();
  assert.ok(files(dir).every((f) => !f.endsWith(".partial")));
  assert.equal(w.counters.records, msgs.length);
  assert.equal(w.counters.files, 3);
  assert.ok(w.counters.blocks > 10, `expected several blocks per hour, got ${w.counters.blocks}`);
  assert.equal(w.counters.dropped + w.counters.errors, 0);
  const onDisk = files(dir).reduce((s, f) => s + Deno.statSync(`${dir}/binance/${f}`).size, 0);
  assert.equal(w.counters.bytesWritten + 3 * 16, onDisk, "bytes written = data + index bytes");

  const r = openRecording(dir);
  let i = 0;
  while (r.next()) {
    assert.equal(r.receiveTimeUs, msgs[i].us, `record ${i} time`);
    assert.deepEqual(r.bytes.subarray(r.start, r.end), enc.encode(msgs[i].text), `record ${i}`);
    i++;
  }
  assert.equal(i, msgs.length);
  assert.equal(r.issues.total, 0, JSON.stringify(r.issues.list));

  const texts: string[] = [];
  for await (const rec of openRecording(dir)) texts.push(rec.text);
  assert.deepEqual(texts, msgs.map((m) => m.text));
  // One hour file read alone.
  const one = openRecording(`${dir}/binance/2026-12-02/12.dwrec.zst`);
  let n = 0;
  while (one.next()) {
    assert.equal(Math.floor(one.receiveTimeUs / HOUR_US), Math.floor(START / HOUR_US) + 1);
    n++;
  }
  assert.equal(
    n,
    msgs.filter((m) => Math.floor(m.us / HOUR_US) === Math.floor(START / HOUR_US) + 1).length,
  );
});

Deno.test("record seek: from/to start at the first record ≥ from, decoding from its block only", () => {
  const dir = Deno.makeTempDirSync();
  const { msgs, w } = record(dir, 4096);
  w.close();
  const all = openRecording(dir);
  while (all.next());
  const totalChunks = all.chunks;
  for (const k of [0, 1, 57, 200, 333, msgs.length - 1]) {
    for (const delta of [0, -1]) {
      const from = msgs[k].us + delta; // exactly a record's time, and 1 µs before it
      const to = msgs[Math.min(k + 40, msgs.length - 1)].us;
      const r = openRecording(dir, { fromUs: from, toUs: to });
      const got: number[] = [];
      while (r.next()) got.push(r.receiveTimeUs);
      const want = msgs.filter((m) => m.us >= from && m.us <= to).map((m) => m.us);
      assert.deepEqual(got, want, `from record ${k}${delta}`);
      assert.equal(got[0], msgs[k].us);
      assert.equal(r.issues.total, 0);
      if (k > 200) {
        assert.ok(r.chunks < totalChunks / 2, `seek decoded ${r.chunks} of ${totalChunks} blocks`);
      }
    }
  }
  // Past the end: nothing. Before the start: everything.
  const late = openRecording(dir, { fromUs: msgs[msgs.length - 1].us + 1 });
  assert.equal(late.next(), false);
  const early = openRecording(dir, { fromUs: 0 });
  let n = 0;
  while (early.next()) n++;
  assert.equal(n, msgs.length);
});

Deno.test("record seek: in the last hour, a seek decodes at most a block or two", () => {
  const dir = Deno.makeTempDirSync();
  const { msgs, w } = record(dir, 4096);
  w.close();
  const k = msgs.length - 30;
  const r = openRecording(`${dir}/binance/2026-12-02/13.dwrec.zst`, {
    fromUs: msgs[k].us,
    toUs: msgs[k].us,
  });
  assert.ok(r.next());
  assert.equal(r.receiveTimeUs, msgs[k].us);
  assert.equal(r.text(), msgs[k].text);
  assert.equal(r.next(), false);
  assert.ok(r.chunks <= 2, `decoded ${r.chunks} blocks`);
});

Deno.test("record round trip: full 1 MiB blocks (node:zlib may end a frame with an empty one) read with and without the index", () => {
  const dir = Deno.makeTempDirSync();
  const once = recordedMessages(0, 0).map((m) => m.text);
  const NOON = Date.UTC(2026, 11, 2, 12) * 1000 + 3;
  const w = new RecordWriter({ dir, venue: "binance" });
  const n = 20_000;
  for (let i = 0; i < n; i++) w.append(NOON + i * 50_017, once[i % once.length]);
  w.close();
  assert.ok(w.counters.blocks >= 8, `${w.counters.blocks} blocks`);
  for (const withIndex of [true, false]) {
    if (!withIndex) Deno.removeSync(`${dir}/binance/2026-12-02/12.dwrec.idx`);
    const r = openRecording(`${dir}/binance/2026-12-02/12.dwrec.zst`);
    let i = 0;
    while (r.next()) {
      assert.equal(r.receiveTimeUs, NOON + i * 50_017);
      i++;
    }
    assert.equal(i, n, `records read ${withIndex ? "with" : "without"} the index`);
    assert.deepEqual(
      r.issues.list.map((x) => x.kind),
      withIndex ? [] : ["missing-index"],
    );
  }
});

Deno.test("record round trip: a recording being written reads up to its last flushed block", () => {
  const dir = Deno.makeTempDirSync();
  const msgs = recordedMessages(START, 1_000);
  const w = new RecordWriter({ dir, venue: "binance", blockBytes: 4096 });
  for (const m of msgs.slice(0, 100)) w.append(m.us, m.text);
  w.flush();
  for (const m of msgs.slice(100, 110)) w.append(m.us, m.text); // still in memory
  const r = openRecording(dir);
  const got: string[] = [];
  while (r.next()) got.push(r.text());
  assert.deepEqual(got, msgs.slice(0, 100).map((m) => m.text));
  assert.equal(r.issues.total, 0);
  w.close();
});

Deno.test("record reader: a directory with two venues needs `venue`; one venue's folder reads alone", () => {
  const dir = Deno.makeTempDirSync();
  for (const venue of ["binance", "bybit"]) {
    const w = new RecordWriter({ dir, venue });
    w.append(START, `{"venue":"${venue}"}`);
    w.close();
  }
  assert.throws(
    () => openRecording(dir),
    /2 venues \(binance, bybit\): pass the one to read as `venue`/,
  );
  for (const [path, venue] of [[dir, "bybit"], [`${dir}/bybit`, undefined]] as const) {
    const r = openRecording(path, { venue });
    assert.ok(r.next());
    assert.equal(r.text(), '{"venue":"bybit"}');
    assert.equal(r.next(), false);
  }
});

Deno.test("record files read the tardis way: every line split at byte 28 gives the time and the message", async () => {
  const { decompressFrames } = await import("../lib/record/zstd_frames.ts");
  const dir = Deno.makeTempDirSync();
  const { msgs, w } = record(dir);
  w.close();
  const lines: string[] = [];
  for (const hour of ["11", "12", "13"]) {
    const text = decompressFrames(
      Deno.readFileSync(`${dir}/binance/2026-12-02/${hour}.dwrec.zst`),
    )!;
    lines.push(...new TextDecoder().decode(text).split("\n").slice(0, -1));
  }
  assert.equal(lines.length, msgs.length);
  lines.forEach((line, i) => {
    // tardis-dev / tardis-machine: localTimestamp = line[0, 28), message = line[29, …)
    assert.equal(line[28], " ");
    assert.equal(line.slice(29), msgs[i].text);
    const ms = Date.parse(line.slice(0, 28));
    assert.equal(ms, Math.floor(msgs[i].us / 1000), "Date.parse reads the 7-digit time");
  });
});

Deno.test("record reader: a .partial renamed after the listing is still read; a file deleted since is counted", () => {
  const dir = Deno.makeTempDirSync();
  const msgs = recordedMessages(START, 1_000);
  const w = new RecordWriter({ dir, venue: "binance" });
  for (const m of msgs) w.append(m.us, m.text); // all in hour 11, still open
  w.flush();
  const r = openRecording(dir); // lists 11.dwrec.zst.partial
  w.append(START + HOUR_US, "{}"); // hour 12: 11 is closed and renamed
  w.close();
  const got: string[] = [];
  while (r.next()) got.push(r.text());
  assert.deepEqual(got, msgs.map((m) => m.text));
  assert.equal(r.issues.total, 0, JSON.stringify(r.issues.list));

  const r2 = openRecording(dir);
  Deno.removeSync(`${dir}/binance/2026-12-02/11.dwrec.zst`);
  const rest: string[] = [];
  while (r2.next()) rest.push(r2.text());
  assert.deepEqual(rest, ["{}"]);
  assert.deepEqual(r2.issues.list.map((i) => [i.kind, i.file]), [[
    "unreadable-file",
    `${dir}/binance/2026-12-02/11.dwrec.zst`,
  ]]);
});
