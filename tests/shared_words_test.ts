import assert from "node:assert/strict";
import { SharedWords } from "../lib/pipeline/shared_words.ts";
import { RecorderStatus } from "../lib/pipeline/recorder_status.ts";
import { ReplayStatus } from "../lib/pipeline/replay_status.ts";

Deno.test("SharedWords: one word per field, seen through a second wrapper; a wrong buffer is named", () => {
  const fields = ["a", "b", "c"] as const;
  const writer = new SharedWords(fields, SharedWords.allocate(fields));
  const reader = new SharedWords(fields, writer.buffer);
  writer.set("b", 2.5);
  writer.add("c", 3);
  writer.add("c", 4);
  assert.deepEqual(reader.toJSON(), { a: 0, b: 2.5, c: 7 });
  assert.throws(
    () => new SharedWords(fields, new SharedArrayBuffer(16), "probe"),
    /probe buffer must be a 24-byte SharedArrayBuffer, got 16 bytes/,
  );
  assert.throws(() => RecorderStatus.attach(new SharedArrayBuffer(8)), /recorder status buffer/);
  assert.throws(() => ReplayStatus.attach(new SharedArrayBuffer(8)), /replay status buffer/);
  assert.ok(Number.isNaN(ReplayStatus.create().get("clockMs")), "a replay's clock starts unknown");
});
