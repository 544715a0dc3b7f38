import assert from "node:assert/strict";
import { VENUE_IDS, VENUES } from "../lib/pipeline/venue_id.ts";

const ALL_HOSTS = VENUE_IDS.flatMap((v) => VENUES[v].hosts);
const PROBE = new URL("../testing/venue_net_probe.ts", import.meta.url).pathname;

/** Runs the probe with --allow-net for loopback and every venue host, as the tasks do. */
async function probe(args: string[]): Promise<{
  states: Record<string, string>;
  refused: Record<string, string>;
  log: string[];
}> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-net=127.0.0.1,localhost,${ALL_HOSTS.join(",")}`,
      "--allow-read=.",
      "--allow-env=DEPTHWATCH_*",
      PROBE,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

Deno.test("deno.json: start, demo, record and compile allow exactly loopback and every venue's hosts", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).tasks;
  for (const name of ["start", "demo", "record", "compile"]) {
    const allow = /--allow-net=(\S+)/.exec(tasks[name])?.[1];
    assert.ok(allow, `${name} has --allow-net=...`);
    assert.deepEqual(
      allow.split(",").sort(),
      ["127.0.0.1", "localhost", ...ALL_HOSTS].sort(),
      `${name}'s --allow-net`,
    );
  }
});

Deno.test("service start: the hosts of venues not in use are revoked, those in use kept", async () => {
  // A live source whose Binance URLs point at a closed local port: nothing leaves the machine.
  const { states, refused, log } = await probe([
    "--port",
    "0",
    "--venues",
    "binance",
    "--binance-ws-url",
    "ws://127.0.0.1:9",
    "--binance-rest-url",
    "http://127.0.0.1:9",
  ]);
  assert.equal(states["stream.binance.com:9443"], "granted");
  assert.equal(states["api.binance.com:443"], "granted");
  for (const v of VENUE_IDS.filter((v) => v !== "binance")) {
    for (const host of VENUES[v].hosts) {
      assert.notEqual(states[host], "granted", host);
      assert.equal(refused[host], "NotCapable", `${host}: refused by the permission`);
    }
  }
  assert.equal(log.length, 1);
  assert.match(
    log[0],
    /^network: venue hosts kept stream\.binance\.com:9443, api\.binance\.com:443 \(binance\); revoked fstream\.binance\.com:443, /,
  );
});

Deno.test("service start with --source sim: every venue host is revoked", async () => {
  const { states, refused, log } = await probe(["--source", "sim", "--port", "0"]);
  for (const host of ALL_HOSTS) {
    assert.notEqual(states[host], "granted", host);
    assert.equal(refused[host], "NotCapable", host);
  }
  assert.match(
    log[0],
    /^network: no venue host is needed \(a simulated or replayed run, or no ingest here\); revoked stream\.binance\.com:9443, /,
  );
});

Deno.test("restrictNetToVenues: a used venue keeps its hosts, Binance's are revoked when unused", async () => {
  const { states, refused } = await probe(["--only", "okx,kraken"]);
  assert.equal(states["ws.okx.com:8443"], "granted");
  assert.equal(states["ws.kraken.com:443"], "granted");
  for (const host of [...VENUES.binance.hosts, ...VENUES.bybit.hosts, ...VENUES.coinbase.hosts]) {
    assert.notEqual(states[host], "granted", host);
    assert.equal(refused[host], "NotCapable", host);
  }
});
