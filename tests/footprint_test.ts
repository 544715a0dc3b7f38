/**
 * The footprint benchmark's harness (`testing/footprint_*.ts`): its flags
 * and scenario lists, the symbol names and how clients are spread over them,
 * the `/proc` readers, and one real run of the smallest scenario with a
 * client (exchange, service and client in three processes, plus the
 * `--inspect` run) whose table must be well-formed and whose figures must be
 * plausible. No performance threshold: the machine may be busy.
 */
import assert from "node:assert/strict";
import {
  acceptedSymbols,
  clientSymbols,
  DEFAULT_SCENARIOS,
  parseScenarios,
  symbolNames,
} from "../testing/footprint_scenario.ts";
import { parseFootprintFlags } from "../testing/footprint_command.ts";
import { processMemory, threadCpuDelta, threadTimes } from "../testing/footprint_proc.ts";
import { runScenario } from "../testing/footprint_run.ts";
import { type FootprintReport, formatReport, machineInfo } from "../testing/footprint_table.ts";
import { parseConfig } from "../lib/server/config.ts";
import { parseStartTask, startTaskRuntime } from "../testing/start_task.ts";

Deno.test("footprint flags: defaults, --quick, and a bad value is named", () => {
  const full = parseFootprintFlags([]);
  assert.deepEqual(full.scenarios, DEFAULT_SCENARIOS);
  assert.deepEqual([full.warmup, full.duration, full.rate, full.isolates, full.json], [
    10,
    20,
    10,
    true,
    false,
  ]);
  const quick = parseFootprintFlags(["--quick", "--scenarios", "2x1,200x0", "--json"]);
  assert.deepEqual(quick.scenarios, [{ symbols: 2, clients: 1 }, { symbols: 200, clients: 0 }]);
  assert.deepEqual([quick.warmup, quick.duration, quick.json], [2, 5, true]);
  assert.equal(
    parseFootprintFlags(["--quick", "--duration=9"]).duration,
    9,
    "a flag beats --quick",
  );
  assert.equal(parseFootprintFlags(["--no-inspect"]).isolates, false);
  assert.deepEqual(full.serviceArgs, []);
  assert.deepEqual(
    parseFootprintFlags(["--service-args= --record-dir  /tmp/rec "]).serviceArgs,
    ["--record-dir", "/tmp/rec"],
  );
  assert.throws(() => parseFootprintFlags(["--duration", "x"]), /--duration: expected a number/);
  assert.throws(() => parseFootprintFlags(["--rate", "0"]), /--rate: expected a number/);
  assert.throws(() => parseFootprintFlags(["--scenario", "2x1"]), /scenario/);
  assert.throws(() => parseScenarios("2x"), /--scenarios: expected SYMBOLSxCLIENTS.*"2x"/);
  assert.throws(() => parseScenarios("0x5"), /at least 1 symbol/);
  assert.throws(() => parseScenarios(" , "), /at least one/);
});

Deno.test("footprint runtime: the service starts with deno task start's V8 flags and environment", async () => {
  const parsed = parseStartTask(
    "deno task build && DEPTHWATCH_FD_LIMIT=$(sh -c 'ulimit -Hn') MALLOC_ARENA_MAX=2 " +
      "deno run --v8-flags=--max-semi-space-size=1,--foo --allow-read=. _fresh/server.ts",
  );
  assert.deepEqual(parsed, {
    env: { MALLOC_ARENA_MAX: "2" },
    v8Flags: ["--max-semi-space-size=1", "--foo"],
  });
  assert.deepEqual(parseStartTask("deno run -A main.ts"), { env: {}, v8Flags: [] });
  assert.throws(() => parseStartTask("deno task build"), /expected a "deno run" command/);
  // The real start task parses, and the footprint uses its flags unless told otherwise.
  const start = await startTaskRuntime();
  assert.ok(start.v8Flags.every((f) => f.startsWith("--")), JSON.stringify(start));
  assert.equal(parseFootprintFlags([]).v8Flags, undefined, "default: the start task's");
  assert.deepEqual(parseFootprintFlags(["--v8-flags=--a,--b"]).v8Flags, ["--a", "--b"]);
  assert.deepEqual(parseFootprintFlags(["--v8-flags="]).v8Flags, [], "none");
});

Deno.test("footprint symbols: names the service and the simulator accept, clients spread evenly", () => {
  const names = symbolNames(2000);
  assert.equal(new Set(names).size, 2000);
  assert.deepEqual(names.slice(0, 3), ["btcusdt", "ethusdt", "s0002usdt"]);
  for (const n of names) assert.match(n, /^[a-z0-9]{2,20}$/, "the simulator's symbol pattern");
  const spread = clientSymbols(names, 1000);
  assert.equal(spread.length, 1000);
  assert.equal(new Set(spread).size, 1000, "one symbol per client when there are more symbols");
  assert.equal(spread[999], "S1998USDT", "the last clients reach the end of the list");
  const crowded = clientSymbols(["btcusdt", "ethusdt"], 5);
  assert.deepEqual(crowded, ["BTCUSDT", "BTCUSDT", "BTCUSDT", "ETHUSDT", "ETHUSDT"]);
  // acceptedSymbols asks the service's parser: what it returns is accepted, one more is not.
  const accepted = acceptedSymbols(3000);
  assert.ok(accepted >= 2 && accepted <= 3000, `${accepted}`);
  parseConfig(["--symbols", names.slice(0, Math.min(accepted, 2000)).join(",")]);
  if (accepted < 3000) {
    assert.throws(() => parseConfig(["--symbols", symbolNames(accepted + 1).join(",")]));
  }
  assert.equal(acceptedSymbols(2), 2);
});

Deno.test("footprint /proc readers: this process's memory and threads", () => {
  const mem = processMemory(Deno.pid);
  assert.ok(mem.rssMiB > 1 && mem.hwmMiB >= mem.rssMiB && mem.anonMiB > 0, JSON.stringify(mem));
  const t0 = threadTimes(Deno.pid);
  const main = t0.find((t) => t.tid === Deno.pid);
  assert.ok(main, "the main thread is TID == PID");
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i;
  assert.ok(x > 0);
  const used = threadCpuDelta(t0, threadTimes(Deno.pid));
  assert.ok(used.every((t) => t.cpuMs >= 0));
  assert.ok(used.find((t) => t.tid === Deno.pid)!.cpuMs >= 0);
  assert.throws(() => threadTimes(2 ** 22 + 1), Deno.errors.NotFound);
});

Deno.test("footprint: the smallest scenario with a client runs in three processes and fills a row", async () => {
  const row = await runScenario({ symbols: 2, clients: 1 }, {
    warmup: 0.5,
    duration: 1.5,
    isolatesDuration: 0.5,
  });
  assert.deepEqual(row.notes, [], "nothing to note");
  assert.equal(row.symbolsRun, 2);
  // Memory: the service's own process, and every isolate from the --inspect run.
  const m = row.memory;
  assert.ok(m.rssMiB > 20 && m.hwmMiB >= m.rssMaxMiB && m.rssMaxMiB >= m.rssMiB, JSON.stringify(m));
  assert.ok(m.rssStartMiB <= m.rssMaxMiB && m.rssEndMiB <= m.rssMaxMiB, JSON.stringify(m));
  assert.ok(row.inspectRun && row.inspectRun.rssMiB > 20);
  assert.deepEqual(row.isolates.map((i) => i.name), ["main", "analytics", "ingest"]);
  for (const i of row.isolates) {
    assert.ok(i.heapUsedMiB > 0 && i.heapTotalMiB >= i.heapUsedMiB, JSON.stringify(i));
    assert.ok(i.externalMiB >= 0 && i.arrayBuffersMiB >= 0, JSON.stringify(i));
  }
  assert.ok(row.mainIsolateMetrics.heapUsedMiB > 0, "main heap from /metrics");
  // CPU: main, ingest and analytics threads found (idle threads may show 0).
  for (const role of ["main", "ingest", "analytics"] as const) {
    assert.ok(Number.isFinite(row.cpu[role]) && row.cpu[role] >= 0, `${role}: ${row.cpu[role]}`);
    assert.ok(role in row.cpu.byThreadName, `${role} among ${Object.keys(row.cpu.byThreadName)}`);
  }
  assert.ok(row.cpu.total > 0 && row.cpu.total >= row.cpu.main, JSON.stringify(row.cpu));
  // The client received frames, with receive → client latencies.
  assert.ok(row.clients, "client results");
  assert.equal(row.clients.connected, 1);
  assert.ok(row.clients.window.frames > 0, "the client received frames in the window");
  assert.equal(row.clients.window.lag.receive.count, row.clients.window.frames);
  assert.ok(row.latency && row.latency.p50 >= 0 && row.latency.p99 >= row.latency.p50);
  assert.ok(row.framesPerSecond.received > 0 && row.framesPerSecond.expected === 20);
  assert.ok(row.exchange.rssMiB > 0);

  // The table: a heading, a separator and the row, all with the same number of cells.
  const report: FootprintReport = {
    machine: machineInfo(),
    settings: { warmup: 0.5, duration: 1.5, rate: 10, isolates: true, v8Flags: ["--x=1"] },
    rows: [row, { ...row, notes: ["a note"] }],
    failed: [{ scenario: { symbols: 2000, clients: 0 }, error: "boom" }],
  };
  const text = formatReport(report);
  const table = text.split("\n").filter((l) => l.startsWith("|"));
  assert.equal(table.length, 4, text);
  const widths = table.map((l) => l.split("|").length);
  assert.ok(widths.every((w) => w === widths[0]), text);
  const cells = table[2].slice(2, -2).split(" | ");
  assert.equal(cells[0], "2");
  assert.equal(cells[1], "1");
  assert.equal(Number(cells[2]), row.memory.rssMiB);
  assert.match(table[3], /^\| 2 \[1\] \|/, "a row with notes is marked");
  assert.match(text, /^\[1\] a note$/m);
  assert.match(text, /failed: 2000 symbols, 0 clients: boom/);
  assert.match(text, /^machine: \d+ × /);
  assert.match(text, /service V8 flags: --x=1$/m);
  assert.deepEqual(JSON.parse(JSON.stringify(report)).rows[0].scenario, row.scenario);
});
