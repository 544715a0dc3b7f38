import assert from "node:assert/strict";
import { ConnectionPool } from "../lib/ingest/connection_pool.ts";
import {
  combinedStreamUrl,
  DEFAULT_STREAMS_PER_CONNECTION,
  groupsByPartition,
  groupStreams,
  MAX_URL_LENGTH,
} from "../lib/ingest/stream_groups.ts";
import { symbolNames } from "../testing/footprint_scenario.ts";

const BINANCE = "wss://stream.binance.com:9443";
const DEPTH20 = "@depth20@100ms";

/** The groups as lists of symbol ids' names, and each group's URL. */
function groupsOf(symbols: readonly string[], starts: Uint32Array, suffix = DEPTH20) {
  const groups: string[][] = [];
  for (let g = 0; g + 1 < starts.length; g++) {
    groups.push(symbols.slice(starts[g], starts[g + 1]).map((s) => s + suffix));
  }
  return { groups, urls: groups.map((streams) => combinedStreamUrl(BINANCE, streams)) };
}

Deno.test("stream groups: 2,000 symbols make 10 runs of 200 in order, each URL under 8,000", () => {
  const symbols = symbolNames(2000);
  const starts = groupStreams(symbols, { suffix: DEPTH20, baseUrl: BINANCE });
  const { groups, urls } = groupsOf(symbols, starts);
  assert.deepEqual(groups.map((g) => g.length), Array(10).fill(200));
  assert.deepEqual(groups.flat(), symbols.map((s) => s + DEPTH20), "every symbol once, in order");
  // s1999usdt@depth20@100ms is 23 characters: 45 + 200 × 24 − 1.
  assert.equal(urls.at(-1)!.length, 45 + 200 * 24 - 1);
  for (const u of urls) assert.ok(u.length <= MAX_URL_LENGTH, `${u.length}`);
});

Deno.test("stream groups: 200 streams of the longest Binance names fit; 1,024 never would", () => {
  const longest = Array.from(
    { length: 450 },
    (_, i) => `${"x".repeat(16)}${String(i).padStart(4, "0")}`,
  );
  assert.equal(longest[0].length, 20);
  const starts = groupStreams(longest, { suffix: DEPTH20, baseUrl: BINANCE });
  const { groups, urls } = groupsOf(longest, starts);
  assert.deepEqual(groups.map((g) => g.length), [200, 200, 50]);
  assert.equal(urls[0].length, 7044, "45 + 200 × 35 − 1: the worst case stays under the limit");
  assert.equal(DEFAULT_STREAMS_PER_CONNECTION, 200);
  // 1,024 streams of typical 8-character names would need a URL three times the limit.
  const typical = Array.from({ length: 1024 }, (_, i) => `s${String(i).padStart(4, "0")}usd`);
  assert.equal(typical[0].length, 8);
  assert.equal(combinedStreamUrl(BINANCE, typical.map((s) => s + DEPTH20)).length, 23596);
});

Deno.test("stream groups: names longer than Binance's close a group early by URL length", () => {
  const names = Array.from(
    { length: 500 },
    (_, i) => `${"y".repeat(28)}${String(i).padStart(4, "0")}`,
  );
  const starts = groupStreams(names, { suffix: DEPTH20, baseUrl: BINANCE });
  const { groups, urls } = groupsOf(names, starts);
  // 32 + 14 = 46 characters a stream: (8000 − 45 + 1) / 47 = 169 streams a group.
  assert.deepEqual(groups.map((g) => g.length), [169, 169, 162]);
  for (const u of urls) assert.ok(u.length <= MAX_URL_LENGTH);
  assert.ok(urls[0].length + 47 > MAX_URL_LENGTH, "one more stream would not have fitted");
  assert.throws(
    () => groupStreams(["a".repeat(40)], { suffix: DEPTH20, baseUrl: BINANCE, maxUrlLength: 80 }),
    /alone makes a URL of 99 characters; expected at most 80/,
  );
  assert.throws(
    () => groupStreams(["a"], { suffix: DEPTH20, baseUrl: BINANCE, maxStreams: 1025 }),
    /maxStreamsPerConnection must be an integer in \[1, 1024\], got 1025/,
  );
  assert.deepEqual([...groupStreams(["btcusdt"], { suffix: "@depth@100ms", baseUrl: BINANCE })], [
    0,
    1,
  ]);
});

Deno.test("ConnectionPool: 2,000 symbols, 10 connections, each symbol on the one its URL names", async () => {
  const symbols = symbolNames(2000);
  const pool = new ConnectionPool({
    baseUrl: "ws://127.0.0.1:9",
    symbols,
    streamSuffix: DEPTH20,
    onMessage: () => {},
  });
  try {
    assert.equal(pool.connections.length, 10);
    for (const id of [0, 199, 200, 1234, 1999]) {
      const conn = pool.connections[pool.connectionOf(id)];
      assert.ok(conn.url.includes(`=${symbols[id]}@`) || conn.url.includes(`/${symbols[id]}@`));
      assert.ok(conn.url.length <= MAX_URL_LENGTH);
    }
    assert.equal(pool.connectionOf(1999), 9);
    assert.throws(() => pool.connectionOf(2000), /symbolId must be an integer in \[0, 2000\)/);
  } finally {
    await pool.close();
  }
});

Deno.test("stream groups by partition: never mixed, id order within, split only by the limits", () => {
  const names = Array.from({ length: 450 }, (_, i) => `sym${i}usdt`);
  const partitionOf = names.map((_, i) => (i * 7) % 3);
  const g = groupsByPartition(names, partitionOf, { suffix: "@depth@100ms", baseUrl: BINANCE });
  // 150 symbols a partition: one connection each.
  assert.deepEqual([...g.partition], [0, 1, 2]);
  assert.deepEqual([...g.starts], [0, 150, 300, 450]);
  for (let k = 0; k < 3; k++) {
    const ids = [...g.order.subarray(g.starts[k], g.starts[k + 1])];
    assert.ok(ids.every((id) => partitionOf[id] === g.partition[k]));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  }
  assert.deepEqual([...g.order].sort((a, b) => a - b), names.map((_, i) => i));
  // A partition beyond the stream limit splits; the others stay whole.
  const small = groupsByPartition(names, partitionOf, {
    suffix: "@depth@100ms",
    baseUrl: BINANCE,
    maxStreams: 100,
  });
  assert.deepEqual([...small.partition], [0, 0, 1, 1, 2, 2]);
  assert.deepEqual([...small.starts], [0, 100, 150, 250, 300, 400, 450]);
  // Without partitions: exactly groupStreams, ids in order.
  const all = groupsByPartition(names, undefined, { suffix: "@depth@100ms", baseUrl: BINANCE });
  assert.deepEqual(
    [...all.starts],
    [...groupStreams(names, { suffix: "@depth@100ms", baseUrl: BINANCE })],
  );
  assert.deepEqual([...all.order], names.map((_, i) => i));
  assert.throws(
    () => groupsByPartition(names, [0], { suffix: "@depth@100ms", baseUrl: BINANCE }),
    /partitionOf must give the partition of each of the 450 symbols, got 1 entries/,
  );
  assert.throws(
    () => groupsByPartition(["a"], [-1], { suffix: "@depth@100ms", baseUrl: BINANCE }),
    /partitionOf\[0\] must be an integer in \[0, 65536\), got -1/,
  );
});
