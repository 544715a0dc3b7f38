/**
 * The hostile-client attacks of issue 12 at full size (`deno task attack`),
 * one after another, against a fresh service process on the simulated
 * exchange (or a running one with `--url`), printing what each cost: the
 * service's resident set before, at its peak and after a settle (MiB), what
 * happened to the attacker, how many frames of its symbol an honest
 * WebSocket client received out of those published, how many `/stats`
 * requests of an honest HTTP client were answered 200, and whether the
 * service is alive. The attacks are in `testing/attacks.ts`; the bounds are
 * asserted by `tests/attack_test.ts` at smaller sizes.
 *
 * A started service gets `--max-connections` (and the timeouts when given)
 * if this checkout has those flags; without them it runs as it is, which
 * shows the old behaviour. If an attack kills the service, the next attack
 * gets a fresh one (`--fresh-each`: every attack does). The fd-exhaustion attack always starts its own service
 * under a low open-file limit (not with `--url`).
 *
 * @example
 * ```sh
 * deno task attack                          # everything, full size (several minutes)
 * deno task attack --only b,c --fragmented-mib 256
 * deno task attack --url http://127.0.0.1:8000/ --token "$TOKEN" --only a,h
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import {
  type Attack,
  type AttackOutcome,
  type AttackReport,
  type AttackTarget,
  runAttack,
} from "../testing/attack_run.ts";
import {
  bigFrame,
  errorReplyFlood,
  fdExhaustion,
  fragmentedMessage,
  idleConnections,
  idleKeepAlive,
  malformedRequests,
  slowloris,
} from "../testing/attacks.ts";
import { type AttackService, startAttackService } from "../testing/attack_service.ts";
import { serviceFlags } from "../testing/service_process.ts";

const HELP =
  `deno task attack [flags]: run the hostile-client attacks of issue 12 and print what each cost.

Target:
  --url <url>               attack this running service (attack g is skipped); default: start one
  --pid <pid>               its process id, for RSS; default: the process listening on the URL's port
  --token <token>           its --auth-token (a started service gets it); attackers b/c never send it
  --sim-rate <n>            started service: frames/s per symbol [20]
  --max-connections <n>     started service: --max-connections [512]
  --header-timeout-ms <ms>  started service: --header-timeout-ms [the service's default]
  --idle-timeout-ms <ms>    started service: --idle-timeout-ms [the service's default]
  --fresh-each              start a fresh service for every attack (default: one for all, a new
                            one only after an attack killed it; memory an attack leaves held
                            then shows in the next one's "before")

Attacks (--only a,b,... picks some; default all):
  a  error-reply flood      --flood-seconds [140] --flood-rate [18]
  b  one big frame          --frame-mib [64] (64 means 64 MiB - 1, the most Deno's own server reads)
  c  fragmented message     --fragmented-mib [1024] --fragment-kib [1024]
  d  idle connections       --idle-max [2000] connects at most, held --hold-s [30]
  e  slowloris              --slowloris [200] connections, a byte every --dribble-ms [2000], --hold-s
  f  idle keep-alive        --keepalive [200] connections, --hold-s
  g  fd exhaustion          --fd-connections [2000] against a service under ulimit -n --fd-limit [512]
                            with --max-connections --fd-max-connections [350]
  h  malformed requests     --malformed-rounds [50] of each case

Measuring:
  --settle-s <s>            wait at most this long for RSS to stop falling after an attack [30]
  --json <path>             also write every report as JSON
  --help
`;

/** Parsed flags. */
interface Flags {
  url?: string;
  pid?: number;
  token?: string;
  only: string[];
  simRate: number;
  maxConnections: number;
  headerTimeoutMs?: number;
  idleTimeoutMs?: number;
  floodSeconds: number;
  floodRate: number;
  frameMiB: number;
  fragmentedMiB: number;
  fragmentKiB: number;
  idleMax: number;
  holdS: number;
  slowloris: number;
  dribbleMs: number;
  keepalive: number;
  fdConnections: number;
  fdLimit: number;
  fdMaxConnections: number;
  malformedRounds: number;
  settleS: number;
  json?: string;
  freshEach: boolean;
  help: boolean;
}

const ALL = ["a", "b", "c", "d", "e", "f", "g", "h"];

function parseFlags(args: string[]): Flags {
  const numbers = [
    "pid",
    "sim-rate",
    "max-connections",
    "header-timeout-ms",
    "idle-timeout-ms",
    "flood-seconds",
    "flood-rate",
    "frame-mib",
    "fragmented-mib",
    "fragment-kib",
    "idle-max",
    "hold-s",
    "slowloris",
    "dribble-ms",
    "keepalive",
    "fd-connections",
    "fd-limit",
    "fd-max-connections",
    "malformed-rounds",
    "settle-s",
  ];
  const { values } = parseArgs({
    args,
    options: {
      ...Object.fromEntries(numbers.map((n) => [n, { type: "string" as const }])),
      url: { type: "string" },
      token: { type: "string" },
      only: { type: "string" },
      json: { type: "string" },
      "fresh-each": { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  });
  const num = (name: string, fallback: number | undefined): number | undefined => {
    const raw = (values as Record<string, unknown>)[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== "string" || !(n > 0)) {
      throw new TypeError(`--${name} ${raw}: expected a number > 0`);
    }
    return n;
  };
  const must = (name: string, fallback: number) => num(name, fallback)!;
  const only = typeof values.only === "string" ? values.only.split(",").map((s) => s.trim()) : ALL;
  const unknown = only.filter((a) => !ALL.includes(a));
  if (unknown.length) {
    throw new TypeError(`--only ${unknown.join(",")}: expected letters among ${ALL.join(",")}`);
  }
  return {
    url: values.url as string | undefined,
    pid: num("pid", undefined),
    token: values.token as string | undefined,
    only,
    simRate: must("sim-rate", 20),
    maxConnections: must("max-connections", 512),
    headerTimeoutMs: num("header-timeout-ms", undefined),
    idleTimeoutMs: num("idle-timeout-ms", undefined),
    floodSeconds: must("flood-seconds", 140),
    floodRate: must("flood-rate", 18),
    frameMiB: must("frame-mib", 64),
    fragmentedMiB: must("fragmented-mib", 1024),
    fragmentKiB: must("fragment-kib", 1024),
    idleMax: must("idle-max", 2000),
    holdS: must("hold-s", 30),
    slowloris: must("slowloris", 200),
    dribbleMs: must("dribble-ms", 2000),
    keepalive: must("keepalive", 200),
    fdConnections: must("fd-connections", 2000),
    fdLimit: must("fd-limit", 512),
    fdMaxConnections: must("fd-max-connections", 350),
    malformedRounds: must("malformed-rounds", 50),
    settleS: must("settle-s", 30),
    json: values.json as string | undefined,
    freshEach: values["fresh-each"] === true,
    help: values.help === true,
  };
}

/** The attack of each letter at the sizes of `f`. */
function attackOf(letter: string, f: Flags): Attack<AttackOutcome> {
  const MiB = 1 << 20;
  const holdMs = f.holdS * 1000;
  switch (letter) {
    case "a":
      return errorReplyFlood({ rate: f.floodRate, durationMs: f.floodSeconds * 1000 });
    case "b":
      // 64 MiB - 1: exactly 64 MiB is refused by Deno's own WebSocket server before reading.
      return bigFrame({ bytes: f.frameMiB * MiB - 1 });
    case "c":
      return fragmentedMessage({
        bytes: f.fragmentedMiB * MiB,
        fragmentBytes: f.fragmentKiB << 10,
      });
    case "d":
      return idleConnections({ max: f.idleMax, holdMs });
    case "e":
      return slowloris({ connections: f.slowloris, dribbleMs: f.dribbleMs, holdMs });
    case "f":
      return idleKeepAlive({ connections: f.keepalive, holdMs });
    case "g":
      return fdExhaustion({ connections: f.fdConnections, holdMs: Math.min(holdMs, 10_000) });
    default:
      return malformedRequests({ rounds: f.malformedRounds });
  }
}

/** The pid of the process listening on `port` (from /proc/net/tcp{,6} and /proc/<pid>/fd), or undefined. */
function pidListeningOn(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(`:${hexPort}`) && f[3] === "0A") inodes.add(f[9]);
    }
  }
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${entry.name}/fd`)) {
        const link = Deno.readLinkSync(`/proc/${entry.name}/fd/${fd.name}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1])) return Number(entry.name);
      }
    } catch { /* not ours, or gone */ }
  }
  return undefined;
}

function fmt(mib: number): string {
  return Number.isNaN(mib) ? "—" : mib.toFixed(0);
}

/** One table row of a report. */
function row(letter: string, r: AttackReport): string[] {
  const ws = r.honestWs;
  const wsCell = `${ws.received}/${ws.expected}` +
    (ws.conflated ? ` (${ws.conflated} conflated)` : "") +
    (ws.breaks.length ? ` (${ws.breaks.length} breaks)` : "") +
    (ws.closeCode !== undefined ? ` closed ${ws.closeCode}` : "");
  const http = r.honestHttp;
  const httpCell = `${http.outcomes["200"] ?? 0}/${http.polls}` +
    (http.polls > (http.outcomes["200"] ?? 0)
      ? ` (${
        Object.entries(http.outcomes).filter(([k]) => k !== "200").map(([k, n]) => `${n}×${k}`)
          .join(" ")
      })`
      : "");
  return [
    `${letter}. ${r.name}`,
    fmt(r.rssMiB.before),
    fmt(r.rssMiB.peak),
    fmt(r.rssMiB.after),
    r.outcome.summary,
    wsCell,
    httpCell,
    r.alive ? "yes" : `NO (${r.health})`,
  ];
}

function printTable(rows: string[][]): void {
  const head = [
    "attack",
    "RSS before",
    "peak",
    "after",
    "attacker",
    "honest WS frames",
    "honest /stats 200",
    "alive",
  ];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  console.log(line(head));
  console.log("| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |");
  for (const r of rows) console.log(line(r));
}

async function main(args: string[]): Promise<void> {
  let f: Flags;
  try {
    f = parseFlags(args);
  } catch (e) {
    console.error(`attack: ${(e as Error).message}\n\n${HELP}`);
    Deno.exit(2);
  }
  if (f.help) {
    console.log(HELP);
    return;
  }
  const flags = await serviceFlags();
  const serverArgs = [
    "--max-connections",
    String(f.maxConnections),
    ...(f.headerTimeoutMs ? ["--header-timeout-ms", String(f.headerTimeoutMs)] : []),
    ...(f.idleTimeoutMs ? ["--idle-timeout-ms", String(f.idleTimeoutMs)] : []),
  ];
  let started: AttackService | undefined;
  let target: AttackTarget | undefined;
  if (f.url) {
    const pid = f.pid ?? pidListeningOn(Number(new URL(f.url).port));
    if (pid === undefined) {
      console.error("attack: no pid for RSS (give --pid); RSS columns stay empty");
    }
    target = { url: f.url, pid, token: f.token };
  }
  const fresh = async (): Promise<AttackTarget> => {
    await started?.service.stop();
    started = await startAttackService({
      flags,
      args: serverArgs,
      simRate: f.simRate,
      token: f.token,
    });
    if (started.dropped.length) {
      console.error(
        `attack: this checkout's main.ts has no ${
          started.dropped.join(", ")
        }: the service runs without them`,
      );
    }
    return started.target;
  };
  const rows: string[][] = [];
  const reports: AttackReport[] = [];
  try {
    for (const letter of f.only) {
      const attack = attackOf(letter, f);
      let report: AttackReport;
      const settle = { quietMs: 5000, timeoutMs: f.settleS * 1000 };
      console.error(`attack ${letter}: ${attack.name} …`);
      if (letter === "g") {
        if (f.url) {
          console.error(
            "attack g: skipped with --url (it needs a service started under ulimit -n)",
          );
          continue;
        }
        const g = await startAttackService({
          flags,
          args: ["--max-connections", String(f.fdMaxConnections)],
          simRate: f.simRate,
          token: f.token,
          fileLimit: f.fdLimit,
        });
        try {
          report = await runAttack(g.target, attack, { settle });
        } finally {
          await g.service.stop();
        }
        report.name += ` (ulimit -n ${f.fdLimit}` +
          (g.dropped.length ? ", no --max-connections)" : `, cap ${f.fdMaxConnections})`);
      } else {
        const gone = started === undefined || started.service.exitCode() !== null;
        if (!f.url && (gone || f.freshEach)) {
          target = await fresh();
        }
        report = await runAttack(target!, attack, { settle });
      }
      reports.push(report);
      rows.push(row(letter, report));
      console.error(`attack ${letter}: ${report.outcome.summary}`);
    }
  } finally {
    await started?.service.stop();
  }
  printTable(rows);
  if (f.json) Deno.writeTextFileSync(f.json, JSON.stringify(reports, null, 2) + "\n");
}

if (import.meta.main) await main(Deno.args);
