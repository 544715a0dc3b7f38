import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { openRecording, RecordWriter } from "../lib/record/mod.ts";
import { decodeIndex } from "../lib/record/record_index.ts";
import { compressFrame } from "../lib/record/zstd_frames.ts";
import { recordedMessages, type TimedMessage } from "../testing/record_fixture.ts";

const START = Date.UTC(2026, 11, 2, 12) * 1000 + 5;

/** One hour of the real frames in small blocks; the data file, its index entries and the messages. */
function oneHour() {
  const dir = Deno.makeTempDirSync();
  const msgs = recordedMessages(START, 1_000_000);
  const w = new RecordWriter({ dir, venue: "binance", blockBytes: 8192 });
  for (const m of msgs) w.append(m.us, m.text);
  w.close();
  const path = `${dir}/binance/2026-12-02/12.dwrec.zst`;
  const indexPath = `${dir}/binance/2026-12-02/12.dwrec.idx`;
  const entries = decodeIndex(Deno.readFileSync(indexPath))!;
  assert.ok(entries.length >= 6, `expected several blocks, got ${entries.length}`);
  return { dir, path, indexPath, entries, msgs };
}

function readAll(path: string) {
  const r = openRecording(path);
  const got: TimedMessage[] = [];
  while (r.next()) got.push({ us: r.receiveTimeUs, text: r.text() });
  return { got, issues: r.issues };
}

/** The messages of every block except block `k`. */
function without(msgs: TimedMessage[], entries: { records: number }[], k: number) {
  const before = entries.slice(0, k).reduce((s, e) => s + e.records, 0);
  return [...msgs.slice(0, before), ...msgs.slice(before + entries[k].records)];
}

Deno.test("record corruption: flipped bytes in a block → that block counted at its offset, the rest read", () => {
  const { path, entries, msgs, indexPath } = oneHour();
  const bytes = Deno.readFileSync(path);
  const k = 2;
  bytes[entries[k].offset + Math.floor(entries[k].length / 2)] ^= 0x5a;
  Deno.writeFileSync(path, bytes);
  const { got, issues } = readAll(path);
  assert.deepEqual(got, without(msgs, entries, k));
  assert.equal(issues.counts["corrupt-block"], 1);
  assert.equal(issues.total, 1);
  assert.equal(issues.list[0].file, path);
  assert.equal(issues.list[0].offset, entries[k].offset);
  // Without the index, the frame walk finds the same damage.
  Deno.removeSync(indexPath);
  const scanned = readAll(path);
  assert.deepEqual(scanned.got, without(msgs, entries, k));
  assert.deepEqual(
    scanned.issues.list.map((i) => [i.kind, i.offset]),
    [["missing-index", 0], ["corrupt-block", entries[k].offset]],
  );
});

Deno.test("record corruption: a damaged block header is skipped to the next frame, with or without the index", () => {
  const { path, entries, msgs, indexPath } = oneHour();
  const bytes = Deno.readFileSync(path);
  const k = 3;
  bytes.fill(0xee, entries[k].offset, entries[k].offset + 12); // magic and first block header gone
  Deno.writeFileSync(path, bytes);
  const indexed = readAll(path);
  assert.deepEqual(indexed.got, without(msgs, entries, k));
  assert.deepEqual(indexed.issues.list.map((i) => [i.kind, i.offset]), [[
    "corrupt-block",
    entries[k].offset,
  ]]);
  Deno.removeSync(indexPath);
  const scanned = readAll(path);
  assert.deepEqual(scanned.got, without(msgs, entries, k));
  assert.deepEqual(
    scanned.issues.list.map((i) => [i.kind, i.offset]),
    [["missing-index", 0], ["corrupt-block", entries[k].offset]],
  );
  assert.match(scanned.issues.list[1].message, new RegExp(`${entries[k].length} bytes skipped`));
});

Deno.test("record corruption: a file cut inside its last block → truncated at that block's offset", () => {
  const { path, entries, msgs, indexPath } = oneHour();
  const last = entries[entries.length - 1];
  Deno.truncateSync(path, last.offset + Math.floor(last.length / 3));
  for (const withIndex of [true, false]) {
    if (!withIndex) Deno.removeSync(indexPath);
    const { got, issues } = readAll(path);
    assert.deepEqual(got, without(msgs, entries, entries.length - 1));
    const kinds = issues.list.map((i) => [i.kind, i.offset]);
    // With the index, the cut block's entry no longer fits the file: the index ends early, the rest is scanned.
    assert.deepEqual(
      kinds,
      withIndex
        ? [["bad-index", last.offset], ["truncated-block", last.offset]]
        : [["missing-index", 0], ["truncated-block", last.offset]],
    );
  }
});

Deno.test("record corruption: a missing index reads every record by scanning, counted once", () => {
  const { path, msgs, indexPath } = oneHour();
  Deno.removeSync(indexPath);
  const { got, issues } = readAll(path);
  assert.deepEqual(got, msgs);
  assert.deepEqual(issues.counts["missing-index"], 1);
  assert.equal(issues.total, 1);
  // Seeking without an index still starts at the first record ≥ from.
  const r = openRecording(path, { fromUs: msgs[300].us });
  assert.ok(r.next());
  assert.equal(r.receiveTimeUs, msgs[300].us);
});

Deno.test("record corruption: bad lines and times out of order inside a block are counted with block and line offsets", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/x.dwrec.zst`;
  const lines = [
    '2026-12-02T12:00:00.000001Z {"a":1}',
    "not a record",
    '2026-12-02T12:00:00.000003Z {"a":3}',
    '2026-12-02T12:00:00.000002Z {"a":2}',
  ];
  const block = compressFrame(new TextEncoder().encode(lines.join("\n") + "\n"));
  const first = compressFrame(new TextEncoder().encode("2026-12-02T12:00:00Z {}\n"));
  Deno.writeFileSync(path, new Uint8Array([...first, ...block]));
  const { got, issues } = readAll(path);
  assert.deepEqual(got.map((g) => g.text), ["{}", '{"a":1}', '{"a":3}', '{"a":2}']);
  assert.deepEqual(
    issues.list.map((i) => [i.kind, i.offset, i.lineOffset]),
    [
      ["missing-index", 0, undefined],
      ["bad-line", first.length, lines[0].length + 1],
      ["out-of-order", first.length, lines[0].length + lines[1].length + lines[2].length + 3],
    ],
  );
  assert.equal(issues.list[0].file, path);
});

Deno.test("record corruption: the writer's own out-of-order times (clock stepped back) are delivered and counted", () => {
  const dir = Deno.makeTempDirSync();
  const w = new RecordWriter({ dir, venue: "binance" });
  w.append(START + 10, "{}");
  w.append(START + 5, "{}");
  w.append(START + 20, "{}");
  w.close();
  const r = openRecording(dir);
  const times: number[] = [];
  while (r.next()) times.push(r.receiveTimeUs);
  assert.deepEqual(times, [START + 10, START + 5, START + 20]);
  assert.equal(r.issues.counts["out-of-order"], 1);
  assert.equal(r.issues.list[0].lineOffset, 29 + 3);
});

Deno.test("tardis files: .json.gz, .zst and plain text with 7-digit times read; a cut .gz is counted", () => {
  const dir = Deno.makeTempDirSync();
  const msgs = recordedMessages(Date.UTC(2019, 6, 1) * 1000, 100_000).slice(0, 200);
  // tardis writes 100 ns precision (7 digits); the reader keeps whole µs.
  const text = msgs.map((m) =>
    `${new Date(Math.floor(m.us / 1000)).toISOString().slice(0, 23)}${
      String(m.us % 1000).padStart(3, "0")
    }7Z ${m.text}\n`
  ).join("");
  const raw = new TextEncoder().encode(text);
  Deno.writeFileSync(`${dir}/binance.json.gz`, gzipSync(raw));
  Deno.writeFileSync(`${dir}/binance.txt`, raw);
  const half = Math.floor(raw.length / 2);
  Deno.writeFileSync(
    `${dir}/binance.zst`,
    new Uint8Array([...compressFrame(raw.subarray(0, half)), ...compressFrame(raw.subarray(half))]),
  );
  for (const name of ["binance.json.gz", "binance.txt", "binance.zst"]) {
    const { got, issues } = readAll(`${dir}/${name}`);
    assert.deepEqual(got, msgs, name);
    assert.equal(issues.total, 0, name);
  }
  const gz = gzipSync(raw);
  Deno.writeFileSync(`${dir}/cut.json.gz`, gz.subarray(0, Math.floor(gz.length * 0.6)));
  const cut = readAll(`${dir}/cut.json.gz`);
  assert.equal(cut.issues.counts["truncated-block"], 1);
  assert.ok(cut.got.length > 50 && cut.got.length < msgs.length, `${cut.got.length} records`);
  assert.deepEqual(cut.got, msgs.slice(0, cut.got.length));
  // A bad line in a text file is located by its byte offset in the text.
  Deno.writeFileSync(`${dir}/bad.txt`, new TextEncoder().encode(`oops\n${text}`));
  const bad = readAll(`${dir}/bad.txt`);
  assert.equal(bad.got.length, msgs.length);
  assert.deepEqual(bad.issues.list.map((i) => [i.kind, i.offset]), [["bad-line", 0]]);
});
