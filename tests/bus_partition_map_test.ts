/**
 * The partitioning of the symbol universe (lib/bus/partition_map.ts): FNV-1a
 * 32 matches its reference vectors, every key lands in [0, P), partitions are
 * pinned (a change of the hash would move every symbol between nodes of a
 * running cluster mid-upgrade, so it must be a deliberate, versioned change),
 * and the cluster fingerprint depends on the set and P only.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  clusterFingerprint,
  fnv1a32,
  PartitionMap,
  partitionOf,
  symbolKey,
} from "../lib/bus/partition_map.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("partition map: FNV-1a 32 reference vectors", () => {
  assert.equal(fnv1a32(utf8("")), 0x811c9dc5);
  assert.equal(fnv1a32(utf8("a")), 0xe40c292c);
  assert.equal(fnv1a32(utf8("foobar")), 0xbf9cf968);
});

Deno.test("partition map: partitions are pinned across runs and versions", () => {
  assert.equal(symbolKey("binance", "BTCUSDT"), "binance:BTCUSDT");
  const pinned: [string, number, number][] = [
    ["binance:BTCUSDT", 0, 0],
    ["binance:ETHUSDT", 4, 28],
    ["binance:SOLUSDT", 1, 9],
    ["sim:SIM000", 3, 59],
    ["kraken:XBT/USD", 0, 48],
  ];
  for (const [key, p8, p64] of pinned) {
    assert.equal(partitionOf(key, 8), p8, key);
    assert.equal(partitionOf(key, 64), p64, key);
  }
});

Deno.test("partition map: every key maps into [0, P), the same each time", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), fc.integer({ min: 1, max: 65536 }), (key, p) => {
      const partition = partitionOf(key, p);
      assert.ok(Number.isInteger(partition) && partition >= 0 && partition < p);
      assert.equal(partitionOf(key, p), partition);
      assert.equal(new PartitionMap([key], p).partitionOf(key), partition);
    }),
  );
  assert.throws(
    () => partitionOf("a:B", 0),
    /partition count must be an integer in \[1, 65536\], got 0/,
  );
  assert.throws(() => partitionOf("a:B", 1.5), /got 1\.5/);
});

Deno.test("partition map: the members of all partitions are the universe, spread over all of them", () => {
  const universe = Array.from({ length: 200 }, (_, i) => `sim:SIM${String(i).padStart(3, "0")}`);
  const map = new PartitionMap(universe, 8);
  const all: string[] = [];
  for (let p = 0; p < 8; p++) {
    for (const key of map.symbolsOf(p)) assert.equal(map.partitionOf(key), p);
    assert.ok(map.symbolsOf(p).length > 0, `partition ${p} is empty`);
    all.push(...map.symbolsOf(p));
  }
  assert.deepEqual(all.sort(), [...universe].sort());
  assert.deepEqual(map.symbolsOf(8), []);
});

Deno.test("partition map: the fingerprint depends on the set of keys and P, not their order", () => {
  const keys = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), {
    minLength: 1,
    maxLength: 30,
  });
  fc.assert(
    fc.property(keys, fc.integer({ min: 1, max: 64 }), (universe, p) => {
      const f = clusterFingerprint(universe, p);
      assert.equal(clusterFingerprint([...universe].reverse(), p), f);
      assert.notEqual(clusterFingerprint(universe, p + 1), f);
      assert.notEqual(clusterFingerprint(universe.slice(1), p), f);
      assert.notEqual(clusterFingerprint([...universe, `${universe.join("|")}#`], p), f);
      assert.match(f, new RegExp(`^p=${p} n=${universe.length} sha256=[0-9a-f]{16}$`));
    }),
  );
  assert.equal(
    clusterFingerprint(["binance:BTCUSDT", "binance:ETHUSDT"], 8),
    "p=8 n=2 sha256=021c4577dee15a4c",
  );
  assert.throws(
    () => clusterFingerprint(["a:B", "a:C", "a:B"], 8),
    /symbol "a:B" occurs twice in the universe; expected each venue:SYMBOL once/,
  );
});
