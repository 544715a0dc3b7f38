import assert from "node:assert/strict";
import { waitAsyncAlive } from "../lib/pipeline/wait_async.ts";

Deno.test("waitAsyncAlive: ok when notified, not-equal at once, timed-out when nobody notifies", async () => {
  const i32 = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    URL.createObjectURL(
      new Blob(
        [
          `self.onmessage = (e) => { const a = new Int32Array(e.data); Atomics.store(a, 0, 1); Atomics.notify(a, 0); };`,
        ],
        { type: "text/javascript" },
      ),
    ),
    { type: "module" },
  );
  try {
    const waiting = waitAsyncAlive(i32, 0, 0, 60_000);
    worker.postMessage(i32.buffer);
    assert.equal(await waiting, "ok");
    assert.equal(await waitAsyncAlive(i32, 0, 0, 60_000), "not-equal", "the word is 1 now");
    assert.equal(await waitAsyncAlive(i32, 1, 0, 10), "timed-out");
  } finally {
    worker.terminate();
  }
});
