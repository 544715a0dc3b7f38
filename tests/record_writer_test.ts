import assert from "node:assert/strict";
import { denoRecordFs, openRecording, type RecordFs, RecordWriter } from "../lib/record/mod.ts";
import { recordedMessages } from "../testing/record_fixture.ts";

const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 0); // ms

/** Every data/index file under dir/venue, relative, sorted. */
function listing(dir: string): string[] {
  const out: string[] = [];
  for (const v of Deno.readDirSync(dir)) {
    for (const d of Deno.readDirSync(`${dir}/${v.name}`)) {
      for (const f of Deno.readDirSync(`${dir}/${v.name}/${d.name}`)) {
        out.push(`${v.name}/${d.name}/${f.name}`);
      }
    }
  }
  return out.sort();
}

const texts = recordedMessages(0, 0).map((m) => m.text);

/** Writes `n` records spread over the hour starting at `hourMs`. */
function fillHour(w: RecordWriter, hourMs: number, n = 60) {
  for (let i = 0; i < n; i++) {
    assert.ok(w.append((hourMs + i * 60_000) * 1000 + i, texts[i % texts.length]));
  }
}

Deno.test("record bounds: maxBytes deletes the oldest hours first (all venues), never the open file", () => {
  const dir = Deno.makeTempDirSync();
  // Two venues, hours 0–5 of one day; each hour ~8 KB compressed.
  const a = new RecordWriter({ dir, venue: "binance" });
  const b = new RecordWriter({ dir, venue: "bybit" });
  for (let h = 0; h < 6; h++) {
    fillHour(a, T0 + h * HOUR_MS);
    fillHour(b, T0 + h * HOUR_MS + 1000);
  }
  a.close();
  b.close();
  const sizes = listing(dir).map((f) => Deno.statSync(`${dir}/${f}`).size);
  const total = sizes.reduce((s, x) => s + x, 0);
  // A third writer with a bound of ~60 % of the directory writes one more hour.
  const c = new RecordWriter({ dir, venue: "binance", maxBytes: Math.floor(total * 0.6) });
  fillHour(c, T0 + 6 * HOUR_MS);
  c.close();
  const left = listing(dir);
  const hours = (v: string) =>
    left.filter((f) => f.startsWith(v) && f.endsWith(".zst")).map((f) => f.slice(-12, -10));
  // Deleted in (hour, venue) order: 00 binance, 00 bybit, 01 binance, …
  const kept = [...hours("binance"), ...hours("bybit")];
  assert.ok(kept.includes("06"), "the open hour is kept");
  assert.ok(!kept.includes("00") && !kept.includes("01"), `oldest deleted first, kept ${kept}`);
  const bin = hours("binance").map(Number), byb = hours("bybit").map(Number);
  assert.ok(Math.min(...bin) >= Math.min(...byb), "same hour: binance goes before bybit");
  assert.ok(c.counters.filesDeleted >= 4 && c.counters.filesDeleted % 2 === 0, "data with index");
  const now = left.reduce((s, f) => s + Deno.statSync(`${dir}/${f}`).size, 0);
  assert.ok(now <= Math.floor(total * 0.6), `${now} bytes left, bound ${Math.floor(total * 0.6)}`);
  assert.equal(c.counters.errors, 0);
  // What is left still reads with no issues.
  const r = openRecording(dir, { venue: "bybit" });
  while (r.next());
  assert.equal(r.issues.total, 0);
});

Deno.test("record bounds: another venue's open .partial is not deleted, even over the bound", () => {
  const dir = Deno.makeTempDirSync();
  const now = T0 + 10 * HOUR_MS;
  const other = new RecordWriter({ dir, venue: "bybit" });
  fillHour(other, T0 + 9 * HOUR_MS);
  other.flush(); // open: bybit/…/09.dwrec.zst.partial
  const w = new RecordWriter({ dir, venue: "binance", maxBytes: 1, nowMs: () => now });
  fillHour(w, T0 + 8 * HOUR_MS); // an older closed hour, deleted when the next opens
  fillHour(w, T0 + 10 * HOUR_MS);
  w.flush();
  const left = listing(dir);
  assert.ok(left.includes("bybit/2026-12-01/09.dwrec.zst.partial"), left.join());
  assert.ok(left.includes("binance/2026-12-01/10.dwrec.zst.partial"), left.join());
  assert.ok(!left.some((f) => f.includes("/08.")), "the closed older hour is deleted");
  other.close();
  w.close();
});

Deno.test("record bounds: maxAge deletes hours that ended longer ago (injected clock)", () => {
  const dir = Deno.makeTempDirSync();
  const w = new RecordWriter({ dir, venue: "binance" });
  for (let h = 0; h < 4; h++) fillHour(w, T0 + h * HOUR_MS, 3);
  w.close();
  // Now = 04:30; max age 2 h: hours 00 and 01 (ended 02:00 ≤ 02:30) go, 02 and 03 stay.
  const v = new RecordWriter({
    dir,
    venue: "binance",
    maxAgeMs: 2 * HOUR_MS,
    nowMs: () => T0 + 4.5 * HOUR_MS,
  });
  fillHour(v, T0 + 4 * HOUR_MS, 3);
  v.close();
  assert.deepEqual(
    listing(dir).filter((f) => f.endsWith(".zst")).map((f) => f.slice(-12, -10)),
    ["02", "03", "04"],
  );
  assert.equal(v.counters.filesDeleted, 4);
});

/** The real disk, with writes that fail with ENOSPC while `full` is true (after writing half, like a real full disk). */
function fullableFs() {
  const state = { full: false, failures: 0 };
  const fs: RecordFs = {
    ...denoRecordFs,
    open(path) {
      const f = denoRecordFs.open(path);
      return {
        ...f,
        write(bytes) {
          if (!state.full) return f.write(bytes);
          state.failures++;
          if (bytes.length > 1) return f.write(bytes.subarray(0, bytes.length >> 1));
          throw Object.assign(new Error("No space left on device (os error 28)"), {
            code: "ENOSPC",
          });
        },
      };
    },
  };
  return { fs, state };
}

Deno.test("record full disk: errors and drops are counted, nothing throws, writing resumes when space returns", () => {
  const dir = Deno.makeTempDirSync();
  const { fs, state } = fullableFs();
  const logged: string[] = [];
  const w = new RecordWriter({
    dir,
    venue: "binance",
    blockBytes: 4096,
    fs,
    onError: (m) => logged.push(m),
  });
  const msgs = recordedMessages(T0 * 1000 + 7, 100_000);
  const third = Math.floor(msgs.length / 3);
  for (const m of msgs.slice(0, third)) w.append(m.us, m.text);
  w.flush();
  const before = { ...w.counters };
  state.full = true;
  for (const m of msgs.slice(third, 2 * third)) w.append(m.us, m.text);
  assert.equal(w.flush(), false);
  assert.ok(w.counters.errors > 0);
  assert.equal(w.counters.records, before.records, "no record counted as written while full");
  const lost = w.counters.dropped;
  assert.ok(lost > 0 && lost <= third, `${lost} dropped`);
  assert.match(w.lastError ?? "", /ENOSPC/);
  assert.ok(logged.length === w.counters.errors);
  state.full = false;
  for (const m of msgs.slice(2 * third)) w.append(m.us, m.text);
  w.close();
  assert.equal(w.counters.records + w.counters.dropped, msgs.length);
  // The file holds every record not dropped, with no damage: the half-written blocks were cut off.
  const r = openRecording(dir);
  const got: string[] = [];
  while (r.next()) got.push(r.text());
  assert.equal(r.issues.total, 0, JSON.stringify(r.issues.list));
  assert.equal(got.length, w.counters.records);
  assert.deepEqual(got.slice(0, before.records), msgs.slice(0, before.records).map((m) => m.text));
  assert.deepEqual(got.slice(-(msgs.length - 2 * third)), msgs.slice(2 * third).map((m) => m.text));
});

Deno.test("record full disk: a file that cannot even be opened is retried at the next block", () => {
  const dir = Deno.makeTempDirSync();
  let failOpen = true;
  const fs: RecordFs = {
    ...denoRecordFs,
    open(path) {
      if (failOpen) throw Object.assign(new Error("No space left on device"), { code: "ENOSPC" });
      return denoRecordFs.open(path);
    },
  };
  const w = new RecordWriter({ dir, venue: "binance", fs });
  w.append(T0 * 1000, "{}");
  assert.equal(w.flush(), false);
  assert.equal(w.counters.dropped, 1);
  failOpen = false;
  w.append(T0 * 1000 + 1, '{"b":1}');
  w.close();
  assert.equal(w.counters.records, 1);
  const r = openRecording(dir);
  assert.ok(r.next());
  assert.equal(r.text(), '{"b":1}');
  assert.equal(r.issues.total, 0);
});

Deno.test("record restart in the same hour: a crashed .partial is cut to its indexed blocks and continued", () => {
  const dir = Deno.makeTempDirSync();
  const a = new RecordWriter({ dir, venue: "binance", blockBytes: 1024 });
  fillHour(a, T0, 20);
  a.flush(); // the process dies here: no close, the file stays .partial
  const partial = `${dir}/binance/2026-12-01/00.dwrec.zst.partial`;
  const f = Deno.openSync(partial, { append: true });
  f.writeSync(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3])); // half a block
  f.close();
  const b = new RecordWriter({ dir, venue: "binance", blockBytes: 1024 });
  for (let i = 20; i < 40; i++) b.append((T0 + i * 60_000) * 1000 + i, texts[i]);
  b.close();
  assert.deepEqual(listing(dir), [
    "binance/2026-12-01/00.dwrec.idx",
    "binance/2026-12-01/00.dwrec.zst",
  ]);
  const r = openRecording(dir);
  const got: string[] = [];
  while (r.next()) got.push(r.text());
  assert.equal(r.issues.total, 0, JSON.stringify(r.issues.list));
  assert.deepEqual(got, texts.slice(0, 40));
});

Deno.test("record writer: refuses times out of range and messages with a line feed, counted", () => {
  const dir = Deno.makeTempDirSync();
  const w = new RecordWriter({ dir, venue: "binance" });
  assert.equal(w.append(-1, "{}"), false);
  assert.equal(w.append(1.5, "{}"), false);
  assert.equal(w.append(T0 * 1000, "a\nb"), false);
  assert.equal(w.append(T0 * 1000, new Uint8Array([1, 10])), false);
  assert.equal(
    w.append(T0 * 1000, "x".repeat(3 << 20)),
    true,
    "bigger than a block: its own block",
  );
  w.close();
  assert.equal(w.counters.invalid, 4);
  assert.equal(w.counters.dropped, 4);
  assert.equal(w.counters.records, 1);
  const r = openRecording(dir);
  assert.ok(r.next());
  assert.equal(r.end - r.start, 3 << 20);
  assert.throws(() => new RecordWriter({ dir, venue: "../x" }), /venue must be/);
});
