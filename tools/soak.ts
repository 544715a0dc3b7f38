/**
 * The long soak: runs the whole service on the simulated exchange at a high
 * frame rate, with a dashboard client connected, until every symbol has
 * received the frames of `--days` days at one frame per 100 ms (864,000 per
 * day per symbol; default 7 days = 6,048,000), printing the memory curve
 * (time, frames, RSS MB, heap MB) as it goes, then a table of the samples,
 * the RSS growth after warm-up and the accounting identities. Exits 1 when
 * the growth exceeds `--max-growth-mb`, an identity fails, or the dashboard
 * client got fewer than `--min-client-share` of its symbol's frames in order
 * (a throughput target: the frames it missed are accounted for either way).
 *
 * Flags (all optional): `--days <n>` (default 7), `--frames <n>` (frames per
 * symbol; overrides `--days`), `--rate <frames/s per symbol>` (default 6000),
 * `--symbols <n>` (default 2: `btcusdt`, `ethusdt`, then `s0002usdt`, …),
 * `--sample-ms <ms>` (default 5000), `--max-growth-mb <MB>` (default 5),
 * `--min-client-share <0..1>` (default 0.9),
 * `--raw-capacity <slots>` (default 2048), `--isolates` (also read every
 * isolate's heap and external memory each sample,
 * after a full GC in each, through this process's inspector: run deno with
 * `--inspect=127.0.0.1:PORT`), `--json` (print the whole result as one JSON
 * line at the end). Run it with `--v8-flags=--expose-gc` so each sample
 * follows a full GC and the heap column is the live heap.
 *
 * Each sample also says where the resident memory is (`testing/proc_maps.ts`:
 * malloc's main arena and its other arenas, V8 heap pages, V8 code, other
 * anonymous memory, files) and how many threads run, so that a step in RSS
 * can be attributed to a kind of mapping. `deno task soak` runs it with the
 * memory settings of `deno task start` (`MALLOC_ARENA_MAX=2`), so it
 * measures what production runs.
 *
 * @example
 * ```sh
 * deno task soak                      # a week of frames
 * deno task soak --days 1             # one day
 * MALLOC_ARENA_MAX=2 deno run -A --inspect=127.0.0.1:9339 \
 *   --v8-flags=--expose-gc tools/soak.ts --days 1 --isolates
 * ```
 * @module
 */

import { formatSamples, runSoak, type SoakSample } from "../testing/soak_run.ts";
import { symbolNames } from "../testing/footprint_scenario.ts";

const FRAMES_PER_DAY = 864_000;

/** Parsed flags of the soak runner. */
export interface SoakFlags {
  /** Frames per symbol. */
  frames: number;
  /** Frames/s per symbol. */
  rate: number;
  /** Sample interval, ms. */
  sampleMs: number;
  /** Allowed RSS growth after warm-up, MB. */
  maxGrowthMB: number;
  /** Raw ring slots. */
  rawCapacity: number;
  /** Share of its symbol's frames the dashboard client must get in order, 0..1 (a throughput target). */
  minClientShare: number;
  /** Number of symbols (`btcusdt`, `ethusdt`, then `s0002usdt`, …). */
  symbols: number;
  /** Read every isolate's memory through this process's inspector each sample. */
  isolates: boolean;
  /** Print the whole result as one JSON line at the end (for tests). */
  json: boolean;
}

/**
 * Parse the runner's flags (`--name value` or `--name=value`).
 *
 * @throws {TypeError} naming the flag and what was expected.
 * @example
 * ```ts
 * parseSoakFlags(["--days", "1"]).frames; // 864000
 * ```
 */
export function parseSoakFlags(args: readonly string[]): SoakFlags {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      throw new TypeError(`unexpected argument ${arg}; expected --flag value`);
    }
    const eq = arg.indexOf("=");
    if (arg === "--json" || arg === "--isolates") values.set(arg.slice(2), "1");
    else if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else values.set(arg.slice(2), args[++i] ?? "");
  }
  const known = [
    "days",
    "frames",
    "rate",
    "sample-ms",
    "max-growth-mb",
    "raw-capacity",
    "min-client-share",
    "symbols",
    "isolates",
    "json",
  ];
  for (const k of values.keys()) {
    if (!known.includes(k)) {
      throw new TypeError(
        `unknown flag --${k}; expected one of ${known.map((n) => "--" + n).join(", ")}`,
      );
    }
  }
  const num = (name: string, fallback: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (raw === "" || !(v > 0) || !Number.isFinite(v)) {
      throw new TypeError(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
    }
    return v;
  };
  const share = values.get("min-client-share") ?? "0.9";
  const minClientShare = Number(share);
  if (share === "" || !(minClientShare >= 0 && minClientShare <= 1)) {
    throw new TypeError(
      `--min-client-share must be a number from 0 to 1, got ${JSON.stringify(share)}`,
    );
  }
  const days = num("days", 7);
  return {
    frames: Math.round(num("frames", days * FRAMES_PER_DAY)),
    rate: num("rate", 6000),
    sampleMs: num("sample-ms", 5000),
    maxGrowthMB: num("max-growth-mb", 5),
    rawCapacity: num("raw-capacity", 2048),
    minClientShare,
    symbols: Math.round(num("symbols", 2)),
    isolates: values.has("isolates"),
    json: values.has("json"),
  };
}

/**
 * The inspector URL of this process, from the `--inspect=host:port` it was
 * started with (read back from `/proc/self/cmdline`; the port must not be 0).
 */
async function ownInspectorUrl(): Promise<string> {
  const args = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  const hostPort = args.map((a) => /^--inspect(?:-wait|-brk)?=(.+:[1-9]\d*)$/.exec(a)?.[1])
    .find((x) => x !== undefined);
  if (hostPort === undefined) {
    throw new TypeError(
      "--isolates needs the inspector on a fixed port: run deno with --inspect=127.0.0.1:PORT (PORT not 0)",
    );
  }
  const list = await (await fetch(`http://${hostPort}/json/list`)).json() as {
    webSocketDebuggerUrl: string;
  }[];
  return list[0].webSocketDebuggerUrl;
}

/** One progress line: totals, where the resident memory is, each isolate. */
function sampleLine(s: SoakSample): string {
  const kib = (n: number) => (n / 1024).toFixed(1);
  const r = s.resident;
  const where = r === undefined
    ? ""
    : `  [malloc brk ${kib(r.mallocBrk)} + ${r.arenaCount} arenas ${
      kib(r.mallocArenas)
    }, V8 pages ${kib(r.v8Pages)}, code ${kib(r.v8Code)}, other anon ${kib(r.otherAnon)}, file ${
      kib(r.file)
    }; ${s.threads} threads]`;
  const isolates = (s.isolates ?? []).map((i) =>
    `  ${i.name.replace(/_worker$/, "")} ${i.heapMB.toFixed(1)}/${i.heapTotalMB.toFixed(1)} ` +
    `ext ${i.externalMB.toFixed(1)}`
  ).join("");
  return `  ${s.seconds.toFixed(0).padStart(6)} s  ${String(s.frames).padStart(9)} frames  ` +
    `RSS ${s.rssMB.toFixed(1)} MB  heap ${s.heapMB.toFixed(1)}/${s.heapTotalMB.toFixed(1)} MB  ` +
    `external ${s.externalMB.toFixed(1)} MB${where}${isolates}`;
}

async function main(): Promise<number> {
  const flags = parseSoakFlags(Deno.args);
  const symbols = symbolNames(flags.symbols);
  console.log(
    `soak: ${flags.symbols} symbols, ${flags.frames} frames per symbol at ${flags.rate} frames/s per symbol ` +
      `(about ${Math.round(flags.frames / flags.rate)} s), sample every ${flags.sampleMs} ms`,
  );
  const r = await runSoak({
    framesPerSymbol: flags.frames,
    rate: flags.rate,
    symbols,
    sampleMs: flags.sampleMs,
    rawCapacity: flags.rawCapacity,
    inspectorUrl: flags.isolates ? await ownInspectorUrl() : undefined,
    // A hang guard: at least 10 minutes, or 4x the run at the requested rate.
    timeoutMs: Math.max(600_000, (flags.frames / flags.rate) * 4000),
    onSample: (s) => console.log(sampleLine(s)),
  });
  console.log("\nmemory curve:\n" + formatSamples(r.samples));
  const w = r.samples[r.warmupIndex];
  console.log(
    `\nreached ${flags.frames} frames per symbol in ${r.seconds.toFixed(1)} s ` +
      `(${r.achievedRate.toFixed(0)} frames/s per symbol)`,
  );
  console.log(
    `RSS growth after warm-up (from ${w.seconds.toFixed(0)} s): ${r.rssGrowthMB.toFixed(2)} MB ` +
      `(rise of the floor, the lowest RSS of the first and last tenth of the samples; ` +
      `mean of the last 3 minus the first 3: ${r.rssGrowthMeanMB.toFixed(2)} MB); heap growth ${
        r.heapGrowthMB.toFixed(2)
      } MB; peak RSS ${Math.max(...r.samples.map((s) => s.rssMB)).toFixed(1)} MB`,
  );
  const q = r.snapshot.queues;
  console.log(
    `raw ring: dropped ${q.raw.dropped}, high water ${q.raw.highWater}/${q.raw.capacity}; ` +
      `processed ring: dropped ${q.processed.dropped}, high water ${q.processed.highWater}/${q.processed.capacity}`,
  );
  // Each symbol's counters (the first 10; the identities below cover all).
  for (const s of r.snapshot.symbols.slice(0, 10)) {
    console.log(
      `${s.symbol}: received ${s.received}, rejected ${s.rejectedTotal}, accepted ${s.accepted}, ` +
        `analysed ${s.analysed}, processed ${s.processed}, skipped ${s.skipped}, delivered ${s.delivered}`,
    );
  }
  console.log(
    `dashboard client: ${r.client.frames} frames, ${r.client.skipped} covered by ${r.client.resyncHellos} resync Hellos, ` +
      `${r.client.gaps} gaps, ${r.client.resyncs} resyncs, ${r.client.reconnects} reconnects, ${r.client.state}; ` +
      `hub sent ${r.hub.framesSent}, conflated ${r.hub.framesConflated}`,
  );
  let failed = false;
  console.log("\nidentities:");
  for (const i of r.identities) {
    const ok = i.left === i.right;
    failed ||= !ok;
    console.log(`  ${ok ? "ok  " : "FAIL"} ${i.name}: ${i.left} = ${i.right}`);
  }
  // A throughput target, not a correctness check (tests/soak_test.ts checks that
  // every frame the client missed was conflated and covered by a Hello): the
  // dashboard client keeps up with the feed, getting most frames in order.
  const clientShare = r.client.frames / (r.client.lastSeq - r.client.firstSeq);
  if (clientShare < flags.minClientShare) {
    console.log(
      `FAIL: the dashboard client got ${r.client.frames} of ${
        r.client.lastSeq - r.client.firstSeq
      } frames in order (${(clientShare * 100).toFixed(1)}%, target ≥ ${
        flags.minClientShare * 100
      }%)`,
    );
    failed = true;
  }
  if (r.rssGrowthMB > flags.maxGrowthMB) {
    console.log(
      `FAIL: RSS grew ${r.rssGrowthMB.toFixed(2)} MB after warm-up (bound ${flags.maxGrowthMB} MB)`,
    );
    failed = true;
  }
  console.log(failed ? "\nsoak FAILED" : "\nsoak passed");
  if (flags.json) console.log(JSON.stringify(r));
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
