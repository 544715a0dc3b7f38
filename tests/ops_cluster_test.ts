/**
 * The cluster's ops files stay in step with the code (README "Many machines"):
 * `ops/depthwatch-ingest.service` and `ops/depthwatch-dashboard.service` with
 * their example settings `ops/ingest.env` and `ops/dashboard.env`, and
 * `ops/nats-server.conf`.
 *
 * - every `DEPTHWATCH_*` setting of a unit and its env file is valid
 *   configuration (the bus flags are checked once `main.ts` has them: a
 *   setting of a flag the branch lacks is not read), the fd limit equals
 *   `LimitNOFILE`, the role is the unit's;
 * - `--allow-net` lists the NATS server of `DEPTHWATCH_BUS` and the address the
 *   node listens on, the exchange only for ingest; reads only the app folder,
 *   no other permission; credentials only in the env files;
 * - both nodes agree on the universe, partitions, lease TTL and bus, with
 *   valid, different node ids;
 * - the NATS configuration is valid for the real nats-server, takes its token
 *   from the environment, listens where the nodes dial, and (started with only
 *   its address and store changed) accepts a node's connection with the token
 *   and holds the frame history stream and a lease bucket.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { connectBus, NATS_TOKEN_ENV, parseBusUrl } from "../lib/bus/nats_connect.ts";
import { checkNodeId, openTtlBucket } from "../lib/bus/node_registry.ts";
import { FrameHistoryStream } from "../lib/bus/frame_history_stream.ts";
import { drainLines, stopChild } from "../testing/service_process.ts";

const read = (name: string) => Deno.readTextFile(new URL(`../ops/${name}`, import.meta.url));
const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)))
  .tasks as Record<string, string>;

/** `Key=value` lines (unit continuation lines joined), in order; `#` lines skipped. */
function settings(text: string): [string, string][] {
  const joined = text.replace(/\\\n\s*/g, " ");
  return joined.split("\n").filter((l) => /^[A-Za-z_]+=/.test(l)).map((l) => {
    const at = l.indexOf("=");
    return [l.slice(0, at), l.slice(at + 1).trim()];
  });
}

interface Role {
  role: "ingest" | "dashboard";
  unit: [string, string][];
  env: Record<string, string>;
  exec: string;
  allowNet: string[];
}

async function role(role: "ingest" | "dashboard"): Promise<Role> {
  const unit = settings(await read(`depthwatch-${role}.service`));
  const env: Record<string, string> = {};
  for (const [k, v] of unit) {
    if (k !== "Environment") continue;
    const at = v.indexOf("=");
    env[v.slice(0, at)] = v.slice(at + 1);
  }
  // systemd reads EnvironmentFile= after Environment=: the file's values win.
  for (const [k, v] of settings(await read(`${role}.env`))) env[k] = v;
  const exec = unit.find(([k]) => k === "ExecStart")?.[1] ?? "";
  const allowNet = /--allow-net=(\S+)/.exec(exec)?.[1].split(",") ?? [];
  return { role, unit, env, exec, allowNet };
}

const roles = await Promise.all([role("ingest"), role("dashboard")]);

Deno.test("ops cluster units: settings are valid config, the role is the unit's, the fd limit equals LimitNOFILE", () => {
  for (const r of roles) {
    const config = parseConfig([], (name) => r.env[name]);
    assert.equal(r.env.DEPTHWATCH_ROLE, r.role);
    const limit = Number(r.unit.find(([k]) => k === "LimitNOFILE")?.[1]);
    assert.equal(config.fdLimit, limit, `${r.role}: DEPTHWATCH_FD_LIMIT equals LimitNOFILE`);
    assert.equal(r.env.MALLOC_ARENA_MAX, "2", `${r.role}: two malloc arenas, as deno task start`);
    const file = r.unit.find(([k]) => k === "EnvironmentFile")?.[1];
    assert.equal(file, `/etc/depthwatch/${r.role}.env`, `${r.role}: its env file is required`);
  }
});

Deno.test("ops cluster units: --allow-net lists NATS and the listen address; read the app folder only; no credentials in the unit", () => {
  const start = tasks.start.slice(tasks.start.indexOf("deno run"));
  const startNet = /--allow-net=(\S+)/.exec(start)![1].split(",");
  const exchange = startNet.filter((h) => h.includes("binance"));
  for (const r of roles) {
    const bus = parseBusUrl(r.env.DEPTHWATCH_BUS);
    assert.ok(bus.literal, `${r.role}: DEPTHWATCH_BUS names the NATS server by address`);
    assert.ok(r.allowNet.includes(bus.server), `${r.role}: --allow-net lists ${bus.server}`);
    const config = parseConfig([], (name) => r.env[name]);
    const listen = `${config.host}:${config.port}`;
    assert.ok(
      r.allowNet.includes(config.host) || r.allowNet.includes(listen),
      `${r.role}: --allow-net lets it listen on ${listen}`,
    );
    for (const host of exchange) {
      assert.equal(r.allowNet.includes(host), r.role === "ingest", `${r.role} and ${host}`);
    }
    const perms = r.exec.split(/\s+/).filter((w) => w.startsWith("--allow-")).map((w) =>
      w.replace(/=.*/, "")
    ).sort();
    assert.deepEqual(perms, ["--allow-env", "--allow-net", "--allow-read"], r.role);
    assert.ok(r.exec.includes("--allow-read=/opt/depthwatch "), r.exec);
    assert.ok(r.exec.includes("--allow-env=DEPTHWATCH_* "), r.exec);
    assert.ok(r.exec.endsWith("/opt/depthwatch/_fresh/server.ts"), r.exec);
    const unitText = r.unit.map(([k, v]) => `${k}=${v}`).join("\n");
    assert.doesNotMatch(
      unitText,
      /TOKEN|CREDS|--bus|nats:\/\//,
      `${r.role}: credentials and bus in the env file only`,
    );
    assert.ok(r.env[NATS_TOKEN_ENV], `${r.role}: the NATS token is in its env file`);
  }
});

Deno.test("ops cluster units: both nodes share universe, partitions, lease TTL and bus, under their own valid ids", () => {
  const [ingest, dashboard] = roles;
  for (
    const key of [
      "DEPTHWATCH_BUS",
      "DEPTHWATCH_SYMBOLS",
      "DEPTHWATCH_PARTITIONS",
      "DEPTHWATCH_LEASE_TTL",
    ]
  ) {
    assert.ok(ingest.env[key], `ops/ingest.env sets ${key}`);
    assert.equal(dashboard.env[key], ingest.env[key], `${key} is the same on every node`);
  }
  for (const r of roles) {
    assert.equal(checkNodeId(r.env.DEPTHWATCH_NODE_ID), r.env.DEPTHWATCH_NODE_ID);
  }
  assert.notEqual(ingest.env.DEPTHWATCH_NODE_ID, dashboard.env.DEPTHWATCH_NODE_ID);
});

Deno.test({
  name:
    "ops nats-server.conf: valid, token from the environment, listens where nodes dial, holds the history stream",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const conf = await read("nats-server.conf");
    const confPath = new URL("../ops/nats-server.conf", import.meta.url).pathname;
    const check = (env: Record<string, string>) =>
      new Deno.Command("nats-server", { args: ["-c", confPath, "-t"], env, clearEnv: true })
        .output();
    const ok = await check({ [NATS_TOKEN_ENV]: "x" });
    assert.ok(ok.success, new TextDecoder().decode(ok.stderr));
    const noToken = await check({});
    assert.ok(!noToken.success, "the token comes from the environment");
    assert.match(new TextDecoder().decode(noToken.stderr), new RegExp(NATS_TOKEN_ENV));
    const listen = /^listen:\s*(\S+)/m.exec(conf)?.[1];
    assert.equal(listen, parseBusUrl(roles[0].env.DEPTHWATCH_BUS).server);

    // Run it with only the address and the store moved, and connect as a node.
    const dir = await Deno.makeTempDir({ prefix: "depthwatch_ops_nats_" });
    const local = conf.replace(/^listen:.*$/m, "listen: 127.0.0.1:-1")
      .replace(/store_dir:.*$/m, `store_dir: ${JSON.stringify(dir)}`);
    assert.notEqual(local, conf);
    await Deno.writeTextFile(`${dir}/nats.conf`, local);
    const token = "ops-test-token";
    const child = new Deno.Command("nats-server", {
      args: ["-c", `${dir}/nats.conf`],
      env: { [NATS_TOKEN_ENV]: token },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      let log = "";
      const port = await new Promise<number>((resolve, reject) => {
        drainLines(child.stderr, (line) => {
          log += line + "\n";
          const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
          if (m && /Server is ready/.test(log)) resolve(Number(m[1]));
        }).then(() => reject(new Error(`nats-server ended before it was ready:\n${log}`)));
      });
      const bus = await connectBus({
        url: `nats://127.0.0.1:${port}`,
        env: (name) => name === NATS_TOKEN_ENV ? token : undefined,
      });
      try {
        // The default history stream (128 MiB in memory) fits the memory store.
        const history = new FrameHistoryStream(bus.nc);
        await history.ensure();
        assert.equal(history.ensured, 1);
        const kv = await openTtlBucket(bus.nc, "dw_v1_ops_check", 10_000);
        assert.ok((await kv.create("p0", "ops")) > 0);
      } finally {
        await bus.close();
      }
    } finally {
      await stopChild(child, 5000);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
