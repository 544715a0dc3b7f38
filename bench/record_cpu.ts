/**
 * What recording costs the whole service: the simulated exchange in its own
 * process (`--symbols` × `--rate` frames/s), the service (`_fresh/server.ts`,
 * so run `deno task build` first) pointed at it, once without and once with
 * `--record-dir` (a temporary directory), and the CPU each service thread
 * used over `--duration` seconds after `--warmup` (from
 * `/proc/<pid>/task/<tid>`). Workers start in the order recorder (when
 * recording), analytics, ingest, so their threads are `worker-1`, … in that
 * order. Prints the CPU per thread in % of a core, the load average, and the
 * recording's size. Indicative only on a shared, loaded machine: run it more
 * than once.
 *
 * ```sh
 * deno task build && deno run -A bench/record_cpu.ts --symbols 50 --rate 200
 * # also --warmup 10 --duration 20 (s), --port 19443 (the simulator's), --log-level error
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { threadCpuDelta, threadTimes } from "../testing/footprint_proc.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const args = parseArgs({
  args: Deno.args,
  options: {
    symbols: { type: "string", default: "50" },
    rate: { type: "string", default: "200" },
    warmup: { type: "string", default: "10" },
    duration: { type: "string", default: "20" },
    port: { type: "string", default: "19443" },
    "log-level": { type: "string", default: "error" },
  },
}).values;

async function run(record: boolean): Promise<void> {
  const symbols = Array.from(
    { length: Number(args.symbols) },
    (_, i) => `sym${String(i).padStart(4, "0")}usdt`,
  ).join(",");
  const port = String(args.port);
  const sim = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "lib/sim/sim_main.ts",
      "--symbols",
      symbols,
      "--rate",
      args.rate!,
      "--port",
      port,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((r) => setTimeout(r, 3000));
  const dir = Deno.makeTempDirSync();
  const service = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "_fresh/server.ts",
      "--source=binance",
      `--binance-ws-url=ws://127.0.0.1:${port}`,
      `--binance-rest-url=http://127.0.0.1:${port}`,
      `--symbols=${symbols}`,
      "--port=0",
      `--log-level=${args["log-level"]}`,
      ...(record ? [`--record-dir=${dir}`] : []),
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  try {
    await new Promise((r) => setTimeout(r, Number(args.warmup) * 1000));
    const before = threadTimes(service.pid);
    const load0 = Deno.loadavg()[0];
    const seconds = Number(args.duration);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const used = threadCpuDelta(before, threadTimes(service.pid));
    const byName: Record<string, number> = {};
    for (const t of used) byName[t.name] = (byName[t.name] ?? 0) + t.cpuMs / (seconds * 10);
    const shown = Object.entries(byName).filter(([, pct]) => pct >= 0.5)
      .map(([name, pct]) => `${name} ${pct.toFixed(1)} %`).join(", ");
    console.log(
      `${record ? "recording" : "not recording"}: ${shown} (load ${load0.toFixed(1)} → ${
        Deno.loadavg()[0].toFixed(1)
      })`,
    );
  } finally {
    service.kill("SIGINT");
    await service.status;
    sim.kill();
    await sim.status;
  }
  if (record) {
    let bytes = 0;
    const walk = (path: string) => {
      for (const e of Deno.readDirSync(path)) {
        if (e.isDirectory) walk(`${path}/${e.name}`);
        else bytes += Deno.statSync(`${path}/${e.name}`).size;
      }
    };
    walk(dir);
    console.log(`recorded ${(bytes / 1e6).toFixed(1)} MB`);
  }
  Deno.removeSync(dir, { recursive: true });
}

await run(false);
await run(true);
