/**
 * Connecting to NATS (lib/bus/nats_connect.ts): a bad `--bus` URL or bad
 * credential settings fail with what was wrong and what is expected, a token
 * comes from the environment, `localhost` works with only
 * `--allow-net=127.0.0.1:PORT` (no DNS lookup), and the counters and the
 * connected flag follow a real server going away and coming back.
 */
import assert from "node:assert/strict";
import { connectBus, parseBusUrl } from "../lib/bus/nats_connect.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { until } from "./fixtures/lease_fixture.ts";

const PROBE = new URL("./fixtures/bus_connect_probe.ts", import.meta.url).pathname;

/** Runs `deno run ARGS…`, returning exit code and output. */
async function runProbe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("bus connect: bad URLs say what was wrong and that nats://HOST:PORT is expected", async () => {
  const cases: [string, RegExp][] = [
    ["127.0.0.1:4222", /is not a URL|has scheme/],
    ["not a url", /is not a URL/],
    ["http://127.0.0.1:4222", /has scheme "http:"/],
    ["nats://127.0.0.1", /has no port/],
    ["nats://user:secret@127.0.0.1:4222", /carries credentials in the URL.*DEPTHWATCH_NATS_TOKEN/],
    ["nats://127.0.0.1:4222/x", /has a path, query or fragment/],
  ];
  for (const [url, message] of cases) {
    assert.throws(() => parseBusUrl(url), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, message);
      assert.match(e.message, /expected nats:\/\/HOST:PORT/);
      assert.ok(!e.message.includes("secret"), "the password is not repeated");
      return true;
    });
    await assert.rejects(() => connectBus({ url, env: () => undefined }), TypeError);
  }
  assert.deepEqual(parseBusUrl("nats://localhost:4222"), {
    hostname: "localhost",
    port: 4222,
    server: "127.0.0.1:4222",
    literal: true,
  });
  assert.equal(parseBusUrl("nats://nats.example:4222").literal, false);
});

Deno.test("bus connect: credentials come from the environment, one kind at a time", async () => {
  const url = "nats://127.0.0.1:1";
  await assert.rejects(
    () =>
      connectBus({
        url,
        env: (n) => ({ DEPTHWATCH_NATS_TOKEN: "t", DEPTHWATCH_NATS_CREDS: "/x" })[n],
      }),
    /both DEPTHWATCH_NATS_TOKEN and DEPTHWATCH_NATS_CREDS are set; expected at most one/,
  );
  await assert.rejects(
    () =>
      connectBus({
        url,
        env: (n) => n === "DEPTHWATCH_NATS_CREDS" ? "/nonexistent/dw.creds" : undefined,
      }),
    /cannot read the creds file DEPTHWATCH_NATS_CREDS="\/nonexistent\/dw.creds".*expected the path of a readable NATS \.creds file/,
  );
  await assert.rejects(
    () => connectBus({ url, env: () => undefined }),
    /cannot connect to nats:\/\/127\.0\.0\.1:1: .*expected a reachable nats-server/,
  );
});

Deno.test("bus connect: a token from DEPTHWATCH_NATS_TOKEN authenticates, a wrong one is refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command("nats-server", {
    args: ["-a", "127.0.0.1", "-p", String(port), "--auth", "s3cret"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const url = `nats://127.0.0.1:${port}`;
    let bus;
    for (let i = 0; i < 200 && bus === undefined; i++) {
      try {
        bus = await connectBus({
          url,
          env: (n) => n === "DEPTHWATCH_NATS_TOKEN" ? "s3cret" : undefined,
        });
      } catch (e) {
        if (!/ECONNREFUSED|refused/i.test(String((e as Error).cause ?? e))) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.ok(bus?.connected);
    await bus!.close();
    // A wrong token is refused with the server's reason, again and again, and the
    // transport's stray resets never end the process (in a child process: see the probe).
    const out = await runProbe(["--allow-net", PROBE, url, "refused", "wrong"]);
    assert.equal(out.code, 3, out.stdout + out.stderr);
    assert.match(out.stdout, /survived/);
    assert.match(
      out.stdout,
      /cannot connect to nats:\/\/127\.0\.0\.1:\d+: .*Authorization Violation/,
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
});

Deno.test("bus connect: nats://localhost:PORT needs only --allow-net=127.0.0.1:PORT", async () => {
  const server = await startNatsServer({ jetstream: false });
  try {
    const out = await runProbe([
      `--allow-net=127.0.0.1:${server.port}`,
      PROBE,
      `nats://localhost:${server.port}`,
      "roundtrip",
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), "ok");
  } finally {
    await server.stop();
  }
});

Deno.test("bus connect: counters and the connected flag follow the server going away and back", async () => {
  const server = await startNatsServer({ jetstream: false });
  const bus = await connectBus({ url: server.url, env: () => undefined, reconnectWaitMs: 100 });
  try {
    assert.ok(bus.connected);
    assert.deepEqual(bus.counters, { connects: 1, disconnects: 0, reconnects: 0 });
    await server.kill();
    await until("disconnected", () => !bus.connected);
    assert.equal(bus.counters.disconnects, 1);
    await server.restart();
    await until("reconnected", () => bus.connected);
    assert.deepEqual(bus.counters, { connects: 2, disconnects: 1, reconnects: 1 });
    // Working again: a round trip through the restarted server.
    const sub = bus.nc.subscribe("dw.v1.ctl.test", { max: 1 });
    bus.nc.publish("dw.v1.ctl.test", "x");
    for await (const m of sub) assert.equal(m.string(), "x");
  } finally {
    await bus.close();
    assert.equal(bus.connected, false);
    await server.stop();
  }
});
