/**
 * The fair share of partitions among live nodes (lib/bus/fair_share.ts):
 * targets never exceed a node's capacity, together they cover P whenever the
 * capacities do, and equal capacities give ⌈P/n⌉ each.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fairShare } from "../lib/bus/fair_share.ts";

Deno.test("fair share: examples", () => {
  assert.equal(fairShare(8, [8], 8), 8);
  assert.equal(fairShare(8, [8, 8], 8), 4);
  assert.equal(fairShare(8, [8, 8, 8], 8), 3);
  assert.equal(fairShare(8, [8, 1], 8), 7);
  assert.equal(fairShare(8, [8, 1], 1), 1);
  assert.equal(fairShare(8, [2, 2], 2), 2);
  assert.equal(fairShare(8, [], 8), 8);
  assert.equal(fairShare(0, [3], 3), 0);
});

Deno.test("fair share: bounded by capacity, covering P when the capacities do, even otherwise", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 300 }),
      fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 12 }),
      (partitions, caps) => {
        const targets = caps.map((cap) => fairShare(partitions, caps, cap));
        const sum = targets.reduce((a, b) => a + b, 0);
        for (const [i, t] of targets.entries()) assert.ok(t >= 0 && t <= caps[i]);
        const total = caps.reduce((a, b) => a + b, 0);
        assert.ok(sum >= Math.min(partitions, total), `${sum} < min(${partitions}, ${total})`);
        // Not greedy: no node aims above the smallest level that covers P.
        const level = Math.max(...targets);
        if (level > Math.ceil(partitions / caps.length)) {
          const below = caps.reduce((a, c) => a + Math.min(c, level - 1), 0);
          assert.ok(below < partitions, "a lower level would have covered P");
        }
        if (caps.every((c) => c >= Math.ceil(partitions / caps.length))) {
          assert.ok(targets.every((t) => t === Math.ceil(partitions / caps.length)));
        }
      },
    ),
  );
});
