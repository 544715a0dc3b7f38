import assert from "node:assert/strict";
import {
  RECORDED_SNAPSHOTS,
  RECORDED_STREAMS,
  recordedJson,
  recordedLines,
  type RecordedStream,
} from "../testing/recorded_data.ts";

const FOLDER = new URL("./testdata/binance/", import.meta.url);
const SOURCES = Deno.readTextFileSync(new URL("SOURCES.md", FOLDER));

Deno.test("recorded data: the folder holds exactly the files the reader names, plus SOURCES.md", () => {
  const present = [...Deno.readDirSync(FOLDER)].map((e) => e.name).sort();
  const named = [...RECORDED_STREAMS, ...RECORDED_SNAPSHOTS, "SOURCES.md"].sort();
  assert.deepEqual(present, named);
});

Deno.test("recorded data: SOURCES.md describes every file with its true line count", () => {
  for (const name of RECORDED_STREAMS) {
    const count = recordedLines(name).length;
    assert.match(SOURCES, new RegExp(`^## ${name} — ${count} lines? `, "m"), `section of ${name}`);
    assert.match(SOURCES, new RegExp(`^\\| \`${name}\` +\\| ${count} +\\|`, "m"), `row of ${name}`);
  }
  for (const name of RECORDED_SNAPSHOTS) {
    assert.match(SOURCES, new RegExp(`^## ${name} — REST `, "m"), `section of ${name}`);
    assert.match(SOURCES, new RegExp(`^\\| \`${name}\` +\\| 1 +\\|`, "m"), `row of ${name}`);
  }
  // "../x" climbs out of the folder (an elided path such as "crates/.../x" does not).
  assert.doesNotMatch(SOURCES, /(?<![.\w])\.\.\//, "SOURCES.md names no path outside the repo");
});

Deno.test("recorded data: every line is one JSON message; every snapshot has a book", () => {
  for (const name of RECORDED_STREAMS) {
    for (const [i, line] of recordedLines(name).entries()) {
      const msg = JSON.parse(line);
      assert.equal(typeof msg, "object", `${name} line ${i + 1}`);
      assert.ok("stream" in msg || "e" in msg, `${name} line ${i + 1} is wrapped or an event`);
    }
  }
  for (const name of RECORDED_SNAPSHOTS) {
    const snap = recordedJson(name) as { lastUpdateId: unknown; bids: unknown; asks: unknown };
    assert.equal(typeof snap.lastUpdateId, "number", name);
    assert.ok(Array.isArray(snap.bids) && Array.isArray(snap.asks), name);
  }
});

Deno.test("recorded data: a missing file is reported with where it was expected", () => {
  assert.throws(
    () => recordedLines("missing.jsonl" as RecordedStream),
    /Cannot read recorded data "missing\.jsonl": expected it at .*tests\/testdata\/binance\/missing\.jsonl/,
  );
});
