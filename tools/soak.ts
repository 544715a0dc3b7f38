/**
 * The long soak: runs the whole service on the simulated exchange at a high
 * frame rate, with a dashboard client connected, until every symbol has
 * received the frames of `--days` days at one frame per 100 ms (864,000 per
 * day per symbol; default 7 days = 6,048,000), printing the memory curve
 * (time, frames, RSS MB, heap MB) as it goes, then a table of the samples,
 * the RSS growth after warm-up and the accounting identities. Exits 1 when
 * the growth exceeds `--max-growth-mb` or an identity fails.
 *
 * Flags (all optional): `--days <n>` (default 7), `--frames <n>` (frames per
 * symbol; overrides `--days`), `--rate <frames/s per symbol>` (default 6000),
 * `--sample-ms <ms>` (default 5000), `--max-growth-mb <MB>` (default 5),
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
  const known = ["days", "frames", "rate", "sample-ms", "max-growth-mb", "raw-capacity", "json"];
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
  const days = num("days", 7);
  return {
    frames: Math.round(num("frames", days * FRAMES_PER_DAY)),
    rate: num("rate", 6000),
    sampleMs: num("sample-ms", 5000),
    maxGrowthMB: num("max-growth-mb", 5),
    rawCapacity: num("raw-capacity", 2048),
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
    timeoutMs: Math.max(60_000, (flags.frames / flags.rate) * 4000),
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
    `dashboard client: ${r.client.frames} frames, ${r.client.gaps} gaps, ${r.client.resyncs} resyncs, ` +
      `${r.client.reconnects} reconnects, ${r.client.state}; hub conflated ${r.hub.framesConflated}`,
  );
  let failed = false;
  console.log("\nidentities:");
  for (const i of r.identities) {
    const ok = i.left === i.right;
    failed ||= !ok;
    console.log(`  ${ok ? "ok  " : "FAIL"} ${i.name}: ${i.left} = ${i.right}`);
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
