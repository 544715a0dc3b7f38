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
 * `--sample-ms <ms>` (default 5000), `--max-growth-mb <MB>` (default 5),
 * `--min-client-share <0..1>` (default 0.9),
 * `--raw-capacity <slots>` (default 2048), `--json` (print the whole result
 * as one JSON line at the end). Run it with `--v8-flags=--expose-gc` so each
 * sample follows a full GC and the heap column is the live heap.
 *
 * @example
 * ```sh
 * deno task soak                      # a week of frames
 * deno run -A --v8-flags=--expose-gc tools/soak.ts --days 1  # one day
 * ```
 * @module
 */

import { formatSamples, runSoak } from "../testing/soak_run.ts";

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
    if (arg === "--json") values.set("json", "1");
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
    json: values.has("json"),
  };
}

async function main(): Promise<number> {
  const flags = parseSoakFlags(Deno.args);
  console.log(
    `soak: ${flags.frames} frames per symbol at ${flags.rate} frames/s per symbol ` +
      `(about ${Math.round(flags.frames / flags.rate)} s), sample every ${flags.sampleMs} ms`,
  );
  const r = await runSoak({
    framesPerSymbol: flags.frames,
    rate: flags.rate,
    sampleMs: flags.sampleMs,
    rawCapacity: flags.rawCapacity,
    // A hang guard: at least 10 minutes, or 4x the run at the requested rate.
    timeoutMs: Math.max(600_000, (flags.frames / flags.rate) * 4000),
    onSample: (s) =>
      console.log(
        `  ${s.seconds.toFixed(0).padStart(6)} s  ${String(s.frames).padStart(9)} frames  ` +
          `RSS ${s.rssMB.toFixed(1)} MB  heap ${s.heapMB.toFixed(1)}/${
            s.heapTotalMB.toFixed(1)
          } MB  external ${s.externalMB.toFixed(1)} MB`,
      ),
  });
  console.log("\nmemory curve:\n" + formatSamples(r.samples));
  const w = r.samples[r.warmupIndex];
  console.log(
    `\nreached ${flags.frames} frames per symbol in ${r.seconds.toFixed(1)} s ` +
      `(${r.achievedRate.toFixed(0)} frames/s per symbol)`,
  );
  console.log(
    `RSS growth after warm-up (from ${w.seconds.toFixed(0)} s): ${r.rssGrowthMB.toFixed(2)} MB; ` +
      `heap growth ${r.heapGrowthMB.toFixed(2)} MB; peak RSS ${
        Math.max(...r.samples.map((s) => s.rssMB)).toFixed(1)
      } MB`,
  );
  const q = r.snapshot.queues;
  console.log(
    `raw ring: dropped ${q.raw.dropped}, high water ${q.raw.highWater}/${q.raw.capacity}; ` +
      `processed ring: dropped ${q.processed.dropped}, high water ${q.processed.highWater}/${q.processed.capacity}`,
  );
  for (const s of r.snapshot.symbols) {
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
