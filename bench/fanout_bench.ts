/**
 * Fan-out benchmark: N WebSocket clients on loopback, each subscribed to one
 * of 2 symbols, fed by the service on its simulated exchange at a given rate
 * (frames/s per symbol). Every configuration starts a fresh service process
 * (`main.ts --source sim`) and a separate load-generator process
 * (`testing/fanout_load_process.ts`), so server and clients do not share an event
 * loop. Measured per configuration, over the window only:
 *
 * - delivery lag = client receive time − frame stamp, p50/p99: `sent_time`
 *   (stamped when the hub encodes the frame, before its send loop: the
 *   fan-out itself) and `receive_time` (ingest receive: the whole path);
 * - server CPU in cores (utime + stime of the service process, all threads:
 *   the simulated exchange, ingest and analytics workers and the hub) and RSS;
 * - disconnects (`depthwatch_ws_disconnects_total` increase from /metrics)
 *   and frames each client received, with frames missed by seq jumps;
 * - the load generator's own CPU and event-loop delay (when it is saturated
 *   it, not the server, dominates the lag).
 *
 * Each configuration is measured once (later calls of its bench case return
 * at once): the `deno bench` time column is not the result; the table
 * printed at the end is.
 *
 * A configuration passes when every client connected, p99 sent→client lag is
 * under 50 ms, nobody was disconnected and no frame was conflated away.
 *
 * Configurations (`N@rate`):
 * - default (short, for `deno task bench`): `100@10, 1000@10, 1000@100`,
 *   3 s window after 1 s warm-up;
 * - `BENCH_FANOUT=full`: 100, 1000 and 2000 clients at 10 and 100 frames/s,
 *   10 s window;
 * - `BENCH_FANOUT_CONFIGS=2000@100,3000@10` picks any list;
 *   `BENCH_FANOUT_SECONDS` sets the window; `BENCH_FANOUT_JSON=path` writes
 *   every result as JSON; `BENCH_FANOUT_VERBOSE=1` shows the load
 *   generator's progress.
 *
 * Needs `ulimit -n` of at least 2 × N + 200 (both ends of every socket live
 * on this machine; the service and the load generator are separate
 * processes, so N + 100 each); the table says the limit it saw.
 *
 * Run: `deno task bench` (or `deno bench -A bench/fanout_bench.ts`).
 * @module
 */
import type { LoadResult } from "../testing/fanout_load.ts";
import { runLoadProcess } from "../testing/fanout_load_process.ts";
import { spawnService } from "../testing/service_process.ts";
import { openFileLimit } from "../testing/proc_stats.ts";

/** One configuration: N clients at `rate` frames/s per symbol. */
interface FanoutConfig {
  clients: number;
  rate: number;
}

const SYMBOLS = ["btcusdt", "ethusdt"];
const TARGET_P99_MS = 50;

function configs(): FanoutConfig[] {
  const list = Deno.env.get("BENCH_FANOUT_CONFIGS");
  if (list) {
    return list.split(",").map((c) => {
      const [n, r] = c.trim().split("@").map(Number);
      if (!(n > 0 && r > 0)) throw new Error(`BENCH_FANOUT_CONFIGS: expected N@rate, got "${c}"`);
      return { clients: n, rate: r };
    });
  }
  if (Deno.env.get("BENCH_FANOUT") === "full") {
    return [10, 100].flatMap((rate) => [100, 1000, 2000].map((clients) => ({ clients, rate })));
  }
  return [{ clients: 100, rate: 10 }, { clients: 1000, rate: 10 }, { clients: 1000, rate: 100 }];
}

const full = Deno.env.get("BENCH_FANOUT") === "full";
const seconds = Number(Deno.env.get("BENCH_FANOUT_SECONDS") ?? (full ? 10 : 3));
const verbose = Deno.env.get("BENCH_FANOUT_VERBOSE") === "1";
const results: { config: FanoutConfig; result?: LoadResult; error?: string }[] = [];

async function run(config: FanoutConfig): Promise<void> {
  // `deno bench` may call a case more than once; a configuration is measured once.
  if (results.some((r) => r.config === config)) return;
  const service = await spawnService({
    args: [
      "--symbols",
      SYMBOLS.join(","),
      "--sim-rate",
      String(config.rate),
      "--max-clients",
      String(Math.max(1000, config.clients + 100)),
    ],
  });
  try {
    const result = await runLoadProcess({
      url: service.url,
      clients: config.clients,
      symbols: SYMBOLS.map((s) => s.toUpperCase()),
      warmup: 1,
      duration: seconds,
      pid: service.pid,
      verbose,
    });
    results.push({ config, result });
  } catch (e) {
    results.push({ config, error: `${e instanceof Error ? e.message : e}` });
  } finally {
    await service.stop();
  }
}

const group = "WebSocket fan-out, 2 symbols, loopback";
configs().forEach((config, i) => {
  Deno.bench({
    name: `${config.clients} clients @ ${config.rate} frames/s per symbol`,
    group,
    baseline: i === 0,
    n: 1,
    warmup: 0,
    fn: async () => await run(config),
  });
});

/** Whether a result meets the target, and why not. */
function verdict(config: FanoutConfig, r: LoadResult): string {
  const why: string[] = [];
  if (r.connected < config.clients) why.push(`${config.clients - r.connected} not connected`);
  if (!(r.lag.sent.p99 < TARGET_P99_MS)) why.push(`p99 ${r.lag.sent.p99} ms`);
  const disc = Object.values(r.disconnects ?? {}).reduce((a, b) => a + b, 0);
  const closed = Object.values(r.closedInWindow).reduce((a, b) => a + b, 0);
  if (disc > 0 || closed > 0) why.push(`${Math.max(disc, closed)} disconnected`);
  if (r.seqMissed > 0) why.push(`${r.seqMissed} frames conflated`);
  return why.length ? `NO (${why.join(", ")})` : "yes";
}

globalThis.addEventListener("unload", () => {
  if (results.length === 0) return;
  console.log(
    `\nfan-out (window ${seconds} s after 1 s warm-up; ulimit -n ${openFileLimit()}; ` +
      `lags in ms, client receive − stamp):`,
  );
  const head = [
    "clients",
    "rate",
    "frames/client (exp)",
    "sent→client p50/p99",
    "recv→client p50/p99",
    "server CPU",
    "RSS MiB",
    "disc",
    "missed",
    "loadgen CPU/loop p99",
    `ok (p99<${TARGET_P99_MS})`,
  ];
  console.log(`  ${head.join(" | ")}`);
  for (const { config, result: r, error } of results) {
    if (!r) {
      console.log(`  ${config.clients} | ${config.rate} | failed: ${error}`);
      continue;
    }
    const disc = Object.values(r.disconnects ?? {}).reduce((a, b) => a + b, 0);
    console.log(
      "  " + [
        `${r.connected}/${r.clients}`,
        config.rate,
        `${r.framesPerClient.min}..${r.framesPerClient.max} (${
          Math.round(config.rate * r.windowSeconds)
        })`,
        `${r.lag.sent.p50}/${r.lag.sent.p99}`,
        `${r.lag.receive.p50}/${r.lag.receive.p99}`,
        r.server ? `${Math.round(r.server.cpuCores * 100)}%` : "?",
        r.server ? `${r.server.rssMaxMiB}` : "?",
        disc,
        r.seqMissed,
        `${Math.round(r.loadgen.cpuCores * 100)}%/${r.loadgen.loopDelayP99} ms`,
        verdict(config, r),
      ].join(" | "),
    );
  }
  const path = Deno.env.get("BENCH_FANOUT_JSON");
  if (path) Deno.writeTextFileSync(path, JSON.stringify(results, null, 2) + "\n");
});
