/**
 * The systemd unit in `ops/` stays in step with the code: its `DEPTHWATCH_*`
 * settings are valid configuration, its permissions are `deno task start`'s
 * (read access to the app folder only), and the fd limit it passes equals
 * the `LimitNOFILE` it sets, leaving room for connections.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { connectionCap } from "../lib/server/connection_cap.ts";

const unit = await Deno.readTextFile(new URL("../ops/depthwatch.service", import.meta.url));
const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)))
  .tasks as Record<string, string>;

/** `Key=value` lines of the unit (continuation lines joined), in order. */
function settings(text: string): [string, string][] {
  const joined = text.replace(/\\\n\s*/g, " ");
  return joined.split("\n").filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => {
    const at = l.indexOf("=");
    return [l.slice(0, at), l.slice(at + 1).trim()];
  });
}

Deno.test("ops unit: DEPTHWATCH_* settings are valid config, and the fd limit equals LimitNOFILE", () => {
  const all = settings(unit);
  const env: Record<string, string> = {};
  for (const [k, v] of all) {
    if (k !== "Environment") continue;
    const at = v.indexOf("=");
    env[v.slice(0, at)] = v.slice(at + 1);
  }
  const config = parseConfig([], (name) => env[name]);
  const limit = Number(all.find(([k]) => k === "LimitNOFILE")?.[1]);
  assert.ok(Number.isInteger(limit), "the unit sets LimitNOFILE");
  assert.equal(config.fdLimit, limit, "DEPTHWATCH_FD_LIMIT equals LimitNOFILE");
  const cap = connectionCap({ requested: config.maxConnections, fdLimitFlag: config.fdLimit });
  assert.ok(cap.cap >= config.maxClients, "the limit leaves room for --max-clients dashboards");
  assert.match(unit, new RegExp(`allows ${cap.cap.toLocaleString("en")} connections`));
});

Deno.test("ops unit: same permissions as deno task start, read access to the app folder only", () => {
  const exec = settings(unit).find(([k]) => k === "ExecStart")?.[1] ?? "";
  const flags = (s: string) => s.split(/\s+/).filter((w) => w.startsWith("--allow-")).sort();
  const start = tasks.start.slice(tasks.start.indexOf("deno run"));
  assert.deepEqual(
    flags(exec).map((f) => f.startsWith("--allow-read=") ? "--allow-read" : f),
    flags(start).map((f) => f.startsWith("--allow-read=") ? "--allow-read" : f),
  );
  assert.ok(exec.includes("--allow-read=/opt/depthwatch "), exec);
  assert.ok(exec.endsWith("/opt/depthwatch/_fresh/server.ts"), exec);
  assert.ok(tasks.start.includes("DEPTHWATCH_FD_LIMIT=$(sh -c 'ulimit -Hn')"));
});

Deno.test("ops unit: deno task start's allocator and V8 settings are the unit's, demo's, compile's and the soak's", () => {
  const exec = settings(unit).find(([k]) => k === "ExecStart")?.[1] ?? "";
  // The soak adds --expose-gc (a GC before each sample), nothing else.
  const v8Flags = (line: string) =>
    (/--v8-flags=(\S+)/.exec(line)?.[1] ?? "").split(",").filter((f) =>
      f !== "" && f !== "--expose-gc"
    );
  const arenas = (line: string) => /\bMALLOC_ARENA_MAX=(\d+)/.exec(line)?.[1];
  assert.equal(arenas(tasks.start), "2", `deno task start sets MALLOC_ARENA_MAX=2: ${tasks.start}`);
  const unitEnv = settings(unit).filter(([k]) => k === "Environment").map(([, v]) => v).join(" ");
  assert.equal(arenas(unitEnv), arenas(tasks.start), "the unit's MALLOC_ARENA_MAX");
  const start = v8Flags(tasks.start);
  assert.deepEqual(v8Flags(exec), start, "ExecStart's --v8-flags");
  for (const task of ["demo", "soak"]) {
    assert.deepEqual(v8Flags(tasks[task]), start, `deno task ${task}'s --v8-flags`);
    assert.equal(arenas(tasks[task]), arenas(tasks.start), `deno task ${task}'s MALLOC_ARENA_MAX`);
  }
  // A compiled binary carries the V8 flags; its environment is the operator's.
  assert.deepEqual(v8Flags(tasks.compile), start, "deno task compile's --v8-flags");
});
