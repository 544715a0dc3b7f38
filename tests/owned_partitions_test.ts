import assert from "node:assert/strict";
import fc from "fast-check";
import { OwnedPartitions } from "../lib/pipeline/owned_partitions.ts";

Deno.test("OwnedPartitions: one byte per partition, written on one side, read through the attached buffer", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 }).chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.boolean()), { maxLength: 50 }),
        )
      ),
      ([n, writes]) => {
        const main = OwnedPartitions.create(n);
        const worker = OwnedPartitions.attach(main.buffer);
        const model = new Array<boolean>(n).fill(false);
        for (const [p, owned] of writes) {
          main.set(p, owned);
          model[p] = owned;
        }
        assert.equal(worker.partitions, n);
        assert.equal(main.buffer.byteLength, n);
        for (let p = 0; p < n; p++) assert.equal(worker.isOwned(p), model[p]);
        assert.equal(worker.count(), model.filter(Boolean).length);
        assert.equal(worker.isOwned(n), false);
        assert.equal(worker.isOwned(-1), false);
        assert.equal(worker.isOwned(0.5), false);
      },
    ),
  );
});

Deno.test("OwnedPartitions: a buffer posted to a worker is the same memory", async () => {
  const owned = OwnedPartitions.create(4);
  owned.set(2, true);
  const src = `self.onmessage = (e) => { const b = new Uint8Array(e.data); ` +
    `Atomics.store(b, 3, 1); self.postMessage([...b]); };`;
  const worker = new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })), {
    type: "module",
  });
  try {
    const seen = await new Promise<number[]>((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage(owned.buffer);
    });
    assert.deepEqual(seen, [0, 0, 1, 1]);
    assert.equal(owned.isOwned(3), true, "the worker's write is visible here");
  } finally {
    worker.terminate();
  }
});

Deno.test("OwnedPartitions: bad arguments are refused with what was expected", () => {
  assert.throws(
    () => OwnedPartitions.create(0),
    /partitions must be an integer in \[1, 65536\], got 0/,
  );
  assert.throws(() => OwnedPartitions.create(1.5), RangeError);
  assert.throws(
    () => OwnedPartitions.create(2).set(2, true),
    /partition must be an integer in \[0, 2\), got 2/,
  );
  assert.throws(
    () => OwnedPartitions.attach(new ArrayBuffer(2) as unknown as SharedArrayBuffer),
    /expected the non-empty SharedArrayBuffer/,
  );
});
