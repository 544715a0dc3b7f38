/**
 * What a dashboard node costs (`deno task bus-footprint`): a whole universe
 * of simulated symbols read by one ingest node, a nats-server, and one
 * `--role dashboard` node serving many browser-protocol clients
 * (`testing/footprint_clients.ts`, in their own process, client i watching
 * symbol ⌊i × watched / clients⌋). Measured: the dashboard node's RSS with no
 * client (the universe's cost on a node without workers) and with the
 * clients (their cost, and that of the symbols they watch on the bus), its CPU
 * (cores, by thread) over the window, the ingest node's RSS and CPU, and what
 * the clients saw (frames, seq jumps, receive → client lag).
 *
 * Everything runs on this machine: the exchange simulator, nats-server and
 * both nodes share its cores, so CPU and lag are indicative; RSS is not.
 *
 * @example
 * ```sh
 * deno task bus-footprint --symbols 2000 --watched 100 --clients 1000
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { Cluster, readStats } from "../testing/cluster.ts";
import { symbolNames } from "../testing/footprint_scenario.ts";
import { startClientsProcess } from "../testing/footprint_clients.ts";
import { processCpuMs, processRssMiB } from "../testing/proc_stats.ts";
import { threadBusy, threadCpuMs } from "../testing/thread_stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    symbols: { type: "string", default: "2000" },
    watched: { type: "string", default: "100" },
    clients: { type: "string", default: "1000" },
    rate: { type: "string", default: "10" },
    warmup: { type: "string", default: "10" },
    duration: { type: "string", default: "20" },
  },
});
const symbols = Number(values.symbols);
const watched = Number(values.watched);
const clients = Number(values.clients);
const rate = Number(values.rate);
const warmupS = Number(values.warmup);
const durationS = Number(values.duration);
const log = (line: string) => console.error(`bus-footprint: ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, ms = 300_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`bus-footprint: timed out waiting for ${what}`);
    await sleep(500);
  }
}

const cluster = await Cluster.start({
  symbols: symbolNames(symbols),
  rate,
  partitions: 16,
  leaseTtlMs: 10_000,
});
try {
  const ingest = await cluster.addNode({ role: "ingest", nodeId: "ingest-1" });
  log(`waiting for ${symbols} symbols live on the ingest node`);
  await until("every feed live", async () => {
    const feeds = (await readStats(ingest.url)).feeds as { counts: Record<string, number> };
    return feeds.counts.live === symbols;
  });
  const dash = await cluster.addNode({
    role: "dashboard",
    nodeId: "dash-1",
    args: ["--max-clients", String(clients + 10)],
  });
  await sleep(5000);
  const idleRss = processRssMiB(dash.process.pid);
  log(`dashboard node without clients: ${idleRss.toFixed(1)} MiB; connecting ${clients} clients`);
  const c = await startClientsProcess({ url: dash.url, symbolCount: watched, clients });
  try {
    log(`${c.ready.connected} connected, ${c.ready.flowing} flowing; warming up ${warmupS} s`);
    await sleep(warmupS * 1000);
    const cpu0 = [processCpuMs(dash.process.pid), processCpuMs(ingest.process.pid)];
    const threads0 = threadCpuMs(dash.process.pid);
    c.start();
    await sleep(durationS * 1000);
    const window = await c.stop();
    const cpu1 = [processCpuMs(dash.process.pid), processCpuMs(ingest.process.pid)];
    const threads1 = threadCpuMs(dash.process.pid);
    const cores = (i: number) => (cpu1[i] - cpu0[i]) / (durationS * 1000);
    const byThread = threadBusy(threads0, threads1, durationS * 1000)
      .map((t) => `${t.name} ${t.cores}`);
    const bus = (await readStats(dash.url)).bus as Record<string, unknown>;
    const result = {
      symbols,
      watched,
      clients,
      rate,
      load: Deno.loadavg(),
      dashboard: {
        rssIdleMiB: idleRss,
        rssMiB: processRssMiB(dash.process.pid),
        cpuCores: Number(cores(0).toFixed(3)),
        threads: byThread,
        subscribed: bus.subscribed,
        received: bus.received,
      },
      ingest: {
        rssMiB: processRssMiB(ingest.process.pid),
        cpuCores: Number(cores(1).toFixed(3)),
        bus: (({ published, publishFailed, publishBackpressure, fenced }) => ({
          published,
          publishFailed,
          publishBackpressure,
          fenced,
        }))((await readStats(ingest.url)).bus as Record<string, number>),
      },
      clientsWindow: window,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await c.close();
  }
} finally {
  await cluster.stop();
}
