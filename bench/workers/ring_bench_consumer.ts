/// <reference lib="deno.worker" />
// Benchmark worker: receives `count` records per request from the ring or a
// MessagePort, checks their sequence numbers, and reports "done" to main.
import { SpscRing } from "../../lib/pipeline/spsc_ring.ts";
import { BOOK_LAST_UPDATE_ID } from "../../lib/pipeline/book_slot.ts";

let ring: SpscRing | undefined;
let expected = 0;
let remaining = 0;
let errors = 0;

function finishOne(seq: number): void {
  if (seq !== expected) errors++;
  expected = seq + 1;
  if (--remaining === 0) self.postMessage({ done: true, errors });
}

self.onmessage = (e: MessageEvent) => {
  const msg = e.data;
  if (msg.ring) {
    ring = SpscRing.attach(msg.ring);
    (msg.port as MessagePort).onmessage = (m) => {
      const d = m.data;
      finishOne(d instanceof Float64Array ? d[BOOK_LAST_UPDATE_ID] : d.lastUpdateId);
    };
    return;
  }
  const { mode, count, start } = msg as { mode: string; count: number; start: number };
  expected = start;
  remaining = count;
  self.postMessage({ ready: true });
  if (mode !== "ring") return; // port messages arrive through the handler above
  const r = ring!;
  const batch = 64;
  const dst = new Float64Array(batch * r.slotWords);
  while (remaining > 0) {
    const n = r.popBatch(dst, batch);
    if (n === 0) {
      r.waitForData(100);
      continue;
    }
    for (let k = 0; k < n; k++) finishOne(dst[k * r.slotWords + BOOK_LAST_UPDATE_ID]);
  }
};
