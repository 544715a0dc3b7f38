import assert from "node:assert/strict";
import fc from "fast-check";
import { parseDepthSnapshot } from "../lib/ingest/snapshot_parser.ts";

Deno.test("parseDepthSnapshot turns decimal strings into numbers", () => {
  fc.assert(
    fc.property(
      fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      fc.array(
        fc.tuple(
          fc.double({ min: 1e-8, max: 1e9, noNaN: true }),
          fc.double({ min: 0, max: 1e9, noNaN: true }),
        ),
      ),
      (id, levels) => {
        const text = JSON.stringify({
          lastUpdateId: id,
          bids: levels.map(([p, q]) => [p.toFixed(8), q.toFixed(8)]),
          asks: levels.map(([p, q]) => [String(p), String(q)]),
        });
        const snap = parseDepthSnapshot(text);
        assert.equal(snap.lastUpdateId, id);
        assert.deepEqual(snap.asks, levels);
        assert.deepEqual(
          snap.bids,
          levels.map(([p, q]) => [Number(p.toFixed(8)), Number(q.toFixed(8))]),
        );
      },
    ),
  );
});

Deno.test("parseDepthSnapshot names what is wrong", () => {
  const bad: [string, RegExp][] = [
    ["{", /not JSON/],
    ["[]", /expected a JSON object/],
    ['{"bids":[],"asks":[]}', /lastUpdateId must be a non-negative integer, got undefined/],
    ['{"lastUpdateId":-1,"bids":[],"asks":[]}', /lastUpdateId must be a non-negative integer/],
    ['{"lastUpdateId":1,"bids":{},"asks":[]}', /bids must be an array/],
    ['{"lastUpdateId":1,"bids":[],"asks":[["1"]]}', /asks\[0\] must be a \[price, quantity\] pair/],
    [
      '{"lastUpdateId":1,"bids":[["x","1"]],"asks":[]}',
      /bids\[0\]\[0\] must be a positive decimal string, got "x"/,
    ],
    ['{"lastUpdateId":1,"bids":[["0","1"]],"asks":[]}', /bids\[0\]\[0\] must be a positive/],
    ['{"lastUpdateId":1,"bids":[["1",""]],"asks":[]}', /bids\[0\]\[1\] must be a non-negative/],
    [
      '{"lastUpdateId":1,"bids":[],"asks":[["1","1"],["2","-3"]]}',
      /asks\[1\]\[1\] must be a non-negative/,
    ],
  ];
  for (const [text, pattern] of bad) {
    assert.throws(() => parseDepthSnapshot(text, "BTCUSDT"), pattern, text);
    assert.throws(() => parseDepthSnapshot(text, "BTCUSDT"), /for BTCUSDT/, text);
  }
});
