/**
 * What diff mode's per-symbol state costs the ingest worker: builds the
 * {@link DiffSync} the ingest builds for `--symbols` books (book capacity
 * 2 × depth, or `--book-capacity`: the tree before this tool used 1000), seeded-range check at `--snapshot-depth`, one lent
 * ring per snapshot request that can be out), then drives it as a bring-up
 * does: every symbol buffers `--events` diff events of `--levels` level
 * updates each (two minutes of a 10 events/s stream by default, the longest
 * wait for a turn in the REST window), the requests that can be out at once
 * are taken, and every book is loaded from a `--snapshot-depth` snapshot.
 * Prints the process's resident set, V8 heap and external (ArrayBuffer)
 * memory after each step, and the growth per symbol.
 *
 * `--root DIR` loads `lib/ingest/diff_sync.ts` from another checkout (e.g.
 * `git archive <commit> lib | tar -x -C DIR`), so before and after compare in
 * the same way.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc tools/diff_memory.ts [--symbols 2000] [--events 1200] [--levels 20] [--snapshot-depth 100] [--book-capacity N] [--root DIR]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import type { DiffEventLike, DiffSync, DiffSyncOptions } from "../lib/ingest/diff_sync.ts";
import { SNAPSHOT_IN_FLIGHT, SNAPSHOT_QUEUE } from "../lib/ingest/ingestor.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    symbols: { type: "string", default: "2000" },
    events: { type: "string", default: "1200" },
    levels: { type: "string", default: "20" },
    "snapshot-depth": { type: "string", default: "100" },
    root: { type: "string", default: "." },
    "book-capacity": { type: "string" },
  },
});
const n = Number(values.symbols);
const events = Number(values.events);
const levels = Number(values.levels);
const depth = Number(values["snapshot-depth"]);
const url = pathToFileURL(resolve(values.root!, "lib/ingest/diff_sync.ts")).href;
const { DiffSync: Sync } = await import(url) as {
  DiffSync: new (options: DiffSyncOptions) => DiffSync;
};

const gc = (globalThis as { gc?: () => void }).gc;
const MiB = 1024 * 1024;
let last = Deno.memoryUsage();
const base = last;
function report(step: string): void {
  gc?.();
  const m = Deno.memoryUsage();
  const d = (k: keyof Deno.MemoryUsage) => ((m[k] - last[k]) / MiB).toFixed(1).padStart(7);
  console.log(
    `${step.padEnd(44)} rss ${(m.rss / MiB).toFixed(1).padStart(7)} MiB (${d("rss")})` +
      `  heap ${(m.heapUsed / MiB).toFixed(1).padStart(6)} (${d("heapUsed")})` +
      `  external ${(m.external / MiB).toFixed(1).padStart(7)} (${d("external")})`,
  );
  last = m;
}

report("start");
const sync = new Sync({
  symbolCount: n,
  bookCapacity: Number(values["book-capacity"] ?? 2 * depth),
  snapshotDepth: depth,
  trustedLevels: 20,
  snapshotBuffers: SNAPSHOT_QUEUE + SNAPSHOT_IN_FLIGHT,
});
report(`DiffSync for ${n} symbols`);

const ev: DiffEventLike = {
  symbolId: 0,
  eventTime: 0,
  firstUpdateId: 0,
  finalUpdateId: 0,
  prevFinalUpdateId: NaN,
  bidCount: levels >> 1,
  askCount: levels - (levels >> 1),
  bidPrices: new Float64Array(levels),
  bidSizes: new Float64Array(levels).fill(1),
  askPrices: new Float64Array(levels),
  askSizes: new Float64Array(levels).fill(1),
};
for (let i = 0; i < levels; i++) {
  ev.bidPrices[i] = 100 - 0.01 * (i + 1);
  ev.askPrices[i] = 100 + 0.01 * (i + 1);
}
for (let s = 0; s < n; s++) {
  ev.symbolId = s;
  for (let k = 1; k <= events; k++) {
    ev.firstUpdateId = ev.finalUpdateId = 1000 + k;
    ev.eventTime = k * 100;
    sync.onEvent(ev);
  }
}
report(`${events} events × ${levels} levels buffered each`);
const taken: number[] = [];
for (let i = 0; i < SNAPSHOT_QUEUE + SNAPSHOT_IN_FLIGHT; i++) {
  taken.push(sync.takeSnapshotRequest());
}
for (let s = 0; s < n; s++) {
  ev.symbolId = s;
  for (let k = 1; k <= 100; k++) {
    ev.firstUpdateId = ev.finalUpdateId = 1000 + events + k;
    sync.onEvent(ev);
  }
}
report(`${taken.length} requests taken, 100 more events each`);
const bids: [number, number][] = [];
const asks: [number, number][] = [];
for (let i = 0; i < depth; i++) {
  bids.push([100 - 0.01 * (i + 1), 1]);
  asks.push([100 + 0.01 * (i + 1), 1]);
}
let synced = 0;
for (let s = 0; s < n; s++) {
  const outcome = sync.onSnapshot(s, { lastUpdateId: 1000 + events + 95, bids, asks });
  if (outcome === 0) synced++;
}
report(`${synced} books loaded from ${depth}-level snapshots`);
const end = Deno.memoryUsage();
console.log(
  `per symbol: rss ${((end.rss - base.rss) / n / 1024).toFixed(1)} KiB, ` +
    `external ${((end.external - base.external) / n / 1024).toFixed(1)} KiB, ` +
    `heap ${((end.heapUsed - base.heapUsed) / n / 1024).toFixed(1)} KiB`,
);
