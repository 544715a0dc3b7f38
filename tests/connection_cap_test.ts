/**
 * The connection cap: below the fd limit less the reserve, the limit read
 * from the system, from `--fd-limit`, or assumed — and a clear error for a
 * `--max-connections` that would not stay below it.
 */
import assert from "node:assert/strict";
import {
  ASSUMED_FD_LIMIT,
  connectionCap,
  FD_RESERVE,
  parseFdLimit,
} from "../lib/server/connection_cap.ts";

Deno.test("connection cap: the limit less the reserve, from wherever the limit came", () => {
  assert.deepEqual(connectionCap({ fdLimitRead: 1024 }), {
    cap: 1024 - FD_RESERVE,
    fdLimit: 1024,
    fdLimitSource: "/proc/self/limits",
  });
  assert.deepEqual(connectionCap({ fdLimitFlag: 4096 }), {
    cap: 4096 - FD_RESERVE,
    fdLimit: 4096,
    fdLimitSource: "--fd-limit",
  });
  assert.deepEqual(connectionCap({}), {
    cap: ASSUMED_FD_LIMIT - FD_RESERVE,
    fdLimit: ASSUMED_FD_LIMIT,
    fdLimitSource: "assumed",
  });
  // What the system says wins; a lower --fd-limit still lowers it.
  assert.equal(connectionCap({ fdLimitRead: 2048, fdLimitFlag: 100_000 }).fdLimit, 2048);
  assert.deepEqual(connectionCap({ fdLimitRead: 2048, fdLimitFlag: 1024 }), {
    cap: 1024 - FD_RESERVE,
    fdLimit: 1024,
    fdLimitSource: "--fd-limit",
  });
  assert.equal(connectionCap({ requested: 10, fdLimitRead: 1024 }).cap, 10);
  assert.equal(connectionCap({ requested: 896, fdLimitRead: 1024 }).cap, 896);
});

Deno.test("connection cap: --max-connections at or above the limit less the reserve is refused, naming the most", () => {
  assert.throws(
    () => connectionCap({ requested: 897, fdLimitRead: 1024 }),
    (e: unknown) =>
      e instanceof RangeError && e.message.includes("--max-connections 897") &&
      e.message.includes("expected at most 896") && e.message.includes("LimitNOFILE"),
  );
  assert.throws(() => connectionCap({ requested: 5000 }), /limit 4096 \(assumed\)/);
});

Deno.test("connection cap: /proc/PID/limits text", () => {
  const text = [
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max processes             63448                63448                processes ",
    "Max open files            1024                 524288               files     ",
  ].join("\n");
  assert.equal(parseFdLimit(text), 1024);
  assert.equal(parseFdLimit("Max open files            unlimited  unlimited  files"), undefined);
  assert.equal(parseFdLimit(""), undefined);
});

Deno.test("connection cap: readFdLimit reads this process's limit (Deno raised the soft limit to the hard one)", async () => {
  const url = new URL("../lib/server/connection_cap.ts", import.meta.url).href;
  const code = `import { readFdLimit } from ${JSON.stringify(url)}; console.log(readFdLimit());`;
  const run = async (permissions: string) => {
    const out = await new Deno.Command("sh", {
      args: ["-c", `ulimit -n 300 && exec "${Deno.execPath()}" eval ${permissions} '${code}'`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  };
  assert.equal(await run(""), "300"); // deno eval has every permission
  // A lower soft limit alone is raised to the hard one by Deno at start.
  const hard = new TextDecoder().decode(
    (await new Deno.Command("sh", { args: ["-c", "ulimit -Hn"], stdout: "piped" }).output()).stdout,
  ).trim();
  const softOnly = await new Deno.Command("sh", {
    args: ["-c", `ulimit -Sn 200 && exec "${Deno.execPath()}" eval '${code}'`],
    stdout: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(softOnly.stdout).trim(), hard);
  // Without --allow-all Deno refuses the read: undefined, and the cap falls back.
  const restricted = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", `data:text/javascript,${encodeURIComponent(code)}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(restricted.stdout).trim(), "undefined");
});
