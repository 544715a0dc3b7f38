/**
 * Hardening checks against the real service: loopback bind by default,
 * WebSocket Origin policy, the auth token on every guarded endpoint, client
 * message caps and the client limit, page security headers, least-privilege
 * `deno task start` permissions (as a subprocess with exactly those flags) and
 * no auth token in the logs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { VENUE_IDS, VENUES } from "../lib/pipeline/venue_id.ts";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ClientMessageSchema, ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { parseConfig } from "../lib/server/config.ts";
import { type Service, startService } from "../main.ts";
import { tokenMatches } from "../lib/server/auth.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import type { WsHub } from "../lib/server/ws_hub.ts";

const ROOT = new URL("../", import.meta.url);
const ROOT_DIR = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");

/** Start the service on the simulated exchange with `flags`; lines it logs go to `lines`. */
function start(flags: string[], lines: string[] = []): Promise<Service> {
  const config = parseConfig(["--source=sim", "--port=0", "--sim-rate=20", ...flags]);
  const log = createLogger({
    level: "debug",
    format: config.logFormat,
    write: (line) => lines.push(line),
  });
  return startService(config, { log });
}

/** The service's WebSocket hub (the state types it loosely). */
function hubOf(s: Service): WsHub {
  return s.state.hub as WsHub;
}

async function withService(
  flags: string[],
  fn: (s: Service, lines: string[]) => Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  const s = await start(flags, lines);
  try {
    await fn(s, lines);
  } finally {
    await s.close();
  }
}

/** Status code of a raw WebSocket upgrade request for `path` with extra `headers`. */
async function upgradeStatus(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const url = new URL(base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const request = `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${btoa("0123456789abcdef")}\r\n` +
      `Sec-WebSocket-Version: 13\r\n${extra}\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
    assert.ok(m, `expected an HTTP status line, got ${JSON.stringify(text.slice(0, 80))}`);
    return Number(m[1]);
  } finally {
    conn.close();
  }
}

/** Wait until `cond` holds; the timeout only guards against a hang. */
async function waitFor(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Open a WebSocket and wait for it; resolves with the socket and a promise of its close event. */
async function openSocket(
  url: string,
): Promise<{ ws: WebSocket; closed: Promise<CloseEvent> }> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`WebSocket ${url} failed to open`));
  });
  return { ws, closed };
}

function wsUrl(base: string, query = ""): string {
  return `${base.replace(/^http/, "ws")}ws${query}`;
}

const PING = toBinary(
  ClientMessageSchema,
  create(ClientMessageSchema, { kind: { case: "ping", value: { nonce: 1 } } }),
);

Deno.test("hardening: binds 127.0.0.1 by default; another address needs --host", async () => {
  assert.equal(parseConfig([]).host, "127.0.0.1");
  await withService([], async (s) => {
    const url = new URL(s.url);
    assert.equal(url.hostname, "127.0.0.1");
    // 127.0.0.2 is another loopback address: it answers only if the server bound every interface.
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.2", port: Number(url.port) }),
      Deno.errors.ConnectionRefused,
    );
  });
  await withService(["--host=127.0.0.2"], async (s) => {
    assert.equal(new URL(s.url).hostname, "127.0.0.2");
    const res = await fetch(new URL("/health", s.url));
    await res.body?.cancel();
    assert.ok(res.status === 200 || res.status === 503, `unexpected /health ${res.status}`);
  });
});

Deno.test("hardening: WebSocket Origin is checked (same origin, --allowed-origins, none)", async () => {
  await withService(["--allowed-origins=https://dash.example.com"], async (s) => {
    const own = new URL(s.url).origin;
    const hub = hubOf(s);
    const cases: [string | null, number][] = [
      [own, 101],
      ["https://dash.example.com", 101],
      ["https://DASH.example.com", 101],
      [null, 101], // non-browser clients send no Origin
      ["https://evil.example.com", 403],
      ["http://dash.example.com", 403], // scheme is part of the origin
      ["null", 403], // opaque origins (sandboxed frames, file://)
      [`http://127.0.0.1:${Number(new URL(s.url).port) + 1}`, 403],
    ];
    for (const [origin, expected] of cases) {
      const headers: Record<string, string> = origin === null ? {} : { Origin: origin };
      assert.equal(await upgradeStatus(s.url, "/ws", headers), expected, `Origin ${origin}`);
    }
    assert.equal(hub.upgradesRejected.origin, 4);
    await waitFor("the accepted test sockets to be dropped", () => hub.clients === 0);
  });
});

Deno.test("hardening: --auth-token guards /ws /metrics /stats /api/*, /health and / stay open", async () => {
  const token = `tok-${crypto.randomUUID()}`;
  await withService([`--auth-token=${token}`], async (s) => {
    const guarded = ["/metrics", "/stats", "/api/history?symbol=BTCUSDT"];
    for (const path of guarded) {
      const bare = await fetch(new URL(path, s.url));
      await bare.body?.cancel();
      assert.equal(bare.status, 401, `${path} without a token`);
      assert.match(bare.headers.get("www-authenticate") ?? "", /^Bearer /);
      const wrong = await fetch(new URL(path, s.url), {
        headers: { Authorization: `Bearer ${token}x` },
      });
      await wrong.body?.cancel();
      assert.equal(wrong.status, 401, `${path} with a wrong token`);
      const bearer = await fetch(new URL(path, s.url), {
        headers: { Authorization: `Bearer ${token}` },
      });
      await bearer.body?.cancel();
      assert.equal(bearer.status, 200, `${path} with the bearer header`);
      const sep = path.includes("?") ? "&" : "?";
      const query = await fetch(new URL(`${path}${sep}token=${token}`, s.url));
      await query.body?.cancel();
      assert.equal(query.status, 200, `${path} with ?token=`);
    }
    // /api/replay: the token is checked first (a sim run then says it is no replay).
    const replayBare = await fetch(new URL("/api/replay", s.url));
    await replayBare.body?.cancel();
    assert.equal(replayBare.status, 401, "/api/replay without a token");
    const replayBearer = await fetch(new URL("/api/replay", s.url), {
      headers: { Authorization: `Bearer ${token}` },
    });
    await replayBearer.body?.cancel();
    assert.equal(replayBearer.status, 404, "/api/replay with the token, not a replay");
    assert.equal(await upgradeStatus(s.url, "/ws"), 401);
    assert.equal(await upgradeStatus(s.url, `/ws?token=${token.slice(0, -1)}`), 401);
    assert.equal(await upgradeStatus(s.url, `/ws?token=${token}`), 101);
    assert.equal(
      await upgradeStatus(s.url, "/ws", { Authorization: `Bearer ${token}` }),
      101,
    );
    const health = await fetch(new URL("/health", s.url));
    await health.body?.cancel();
    assert.notEqual(health.status, 401);
    const page = await fetch(new URL("/", s.url));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /depth<span>watch<\/span>/);
    await waitFor("the test sockets to be dropped", () => hubOf(s).clients === 0);
  });
  // The same token from the environment variable.
  const env = parseConfig([], (name) => name === "DEPTHWATCH_AUTH_TOKEN" ? token : undefined);
  assert.equal(env.authToken, token);
  // The comparison is exact: prefixes, extensions and case changes do not pass.
  assert.equal(tokenMatches(token, token), true);
  for (const other of ["", token.slice(0, -1), `${token}0`, token.toUpperCase(), " " + token]) {
    assert.equal(tokenMatches(other, token), false, JSON.stringify(other));
  }
});

Deno.test("hardening: client messages are capped in size (1009) and rate (1008); --max-clients → 503", async () => {
  await withService(["--max-clients=2"], async (s) => {
    const hub = hubOf(s);
    const a = await openSocket(wsUrl(s.url));
    const b = await openSocket(wsUrl(s.url));
    await waitFor("two clients", () => hub.clients === 2);
    assert.equal(await upgradeStatus(s.url, "/ws"), 503);
    assert.equal(hub.upgradesRejected.capacity, 1);

    a.ws.send(new Uint8Array(64 * 1024));
    const tooLarge = await a.closed;
    assert.equal(tooLarge.code, 1009);

    // The bucket holds 20 messages and refills at 20 per second, so 21 sent at
    // once into a full bucket can be refused only at the 21st, and are when the
    // server reads them within 50 ms. (Exactly 21: data a client sends after
    // the server's Close frame makes Deno drop the connection, and the client
    // then sees an abnormal close instead of 1008.) A busy server may read them
    // more slowly: then all 21 are answered, and after an idle second (which
    // fills the bucket again) the next 21 go out.
    let heartbeats = 0;
    b.ws.onmessage = (e) => {
      const m = fromBinary(ServerMessageSchema, new Uint8Array(e.data));
      if (m.kind.case === "heartbeat") heartbeats++;
    };
    let limited: CloseEvent | undefined;
    b.closed.then((e) => limited = e);
    for (let burst = 0; limited === undefined; burst++) {
      assert.ok(burst < 20, "20 bursts of 21 pings, none refused by the rate limit");
      if (burst > 0) await new Promise((r) => setTimeout(r, 1100));
      const answered = heartbeats;
      for (let i = 0; i < 21; i++) b.ws.send(PING);
      await waitFor(
        "all 21 pings answered or the socket closed",
        () => limited !== undefined || heartbeats === answered + 21,
      );
      if (limited === undefined) {
        assert.equal(hub.disconnects.rate_limit, 0, "refused without closing");
      }
    }
    assert.equal(limited.code, 1008);
    assert.match(limited.reason, /messages per second/);

    await waitFor("the capped clients to be gone", () => hub.clients === 0);
    assert.equal(hub.disconnects.too_large, 1);
    assert.equal(hub.disconnects.rate_limit, 1);
    // Capacity is free again.
    const c = await openSocket(wsUrl(s.url));
    c.ws.close();
    await c.closed;
    const metrics = await (await fetch(new URL("/metrics", s.url))).text();
    assert.match(metrics, /depthwatch_ws_disconnects_total\{reason="too_large"\} 1\b/);
    assert.match(metrics, /depthwatch_ws_disconnects_total\{reason="rate_limit"\} 1\b/);
  });
});

/** Parse a Content-Security-Policy into directive → sources. */
function parseCsp(csp: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of csp.split(";")) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

Deno.test("hardening: pages carry CSP (no inline scripts), nosniff, frame-ancestors, Referrer-Policy", async () => {
  await withService([], async (s) => {
    for (const path of ["/", "/s/BTCUSDT", "/s/NOPEUSDT", "/no-such-page"]) {
      const res = await fetch(new URL(path, s.url));
      const html = await res.text();
      const csp = res.headers.get("content-security-policy");
      assert.ok(csp, `${path}: no Content-Security-Policy`);
      const d = parseCsp(csp);
      const scripts = d.get("script-src") ?? d.get("default-src") ?? [];
      assert.ok(scripts.length > 0, `${path}: no script-src or default-src`);
      assert.ok(!scripts.includes("'unsafe-inline'"), `${path}: script-src allows unsafe-inline`);
      assert.ok(!scripts.includes("'unsafe-eval'"), `${path}: script-src allows unsafe-eval`);
      assert.ok(!scripts.includes("*"), `${path}: script-src allows any host`);
      assert.deepEqual(d.get("frame-ancestors"), ["'none'"]);
      assert.deepEqual(d.get("object-src"), ["'none'"]);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.ok(res.headers.get("referrer-policy"), `${path}: no Referrer-Policy`);
      // The page must work under that policy: every script is external or a data block.
      for (const tag of html.matchAll(/<script\b([^>]*)>/gi)) {
        const attrs = tag[1];
        const external = /\bsrc=/i.test(attrs);
        const data = /\btype=["']?application\/(json|ld\+json)/i.test(attrs);
        assert.ok(external || data, `${path}: inline script the CSP would block: ${tag[0]}`);
      }
      // No inline event handlers either (blocked without unsafe-inline).
      assert.doesNotMatch(html, /<[^>]+\son[a-z]+=/i, `${path}: inline event handler`);
    }
    const page = await fetch(new URL("/", s.url));
    await page.body?.cancel();
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  });
});

/** The `deno run` permission flags of a task in deno.json. */
async function taskPermissionFlags(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const line: string = config.tasks[task];
  assert.ok(line, `deno.json has no task "${task}"`);
  // The command may start with environment assignments (DEPTHWATCH_FD_LIMIT=…).
  const run = line.split("&&").map((c) => c.slice(Math.max(0, c.indexOf("deno run ")))).find((
    c,
  ) => c.startsWith("deno run "));
  assert.ok(run, `task ${task} has no "deno run" command: ${line}`);
  return run.split(/\s+/).filter((w) => /^(-A|--allow-|-[RWNE]\b|--deny-)/.test(w));
}

function flagValues(flags: string[], name: string): string[] {
  const flag = flags.find((f) => f === `--allow-${name}` || f.startsWith(`--allow-${name}=`));
  assert.ok(flag, `expected --allow-${name}=… among ${flags.join(" ")}`);
  const eq = flag.indexOf("=");
  assert.ok(eq > 0, `${flag} grants everything: expected a list after =`);
  return flag.slice(eq + 1).split(",");
}

Deno.test("hardening: deno task start asks for least privilege; -A only in dev", async () => {
  const flags = await taskPermissionFlags("start");
  assert.ok(!flags.includes("-A") && !flags.includes("--allow-all"), flags.join(" "));
  for (const f of flags) {
    assert.match(f, /^--allow-(net|read|env)=/, `unexpected permission in start: ${f}`);
  }
  const hosts = flagValues(flags, "net");
  assert.deepEqual(
    new Set(hosts),
    // Every venue's hosts: the service revokes those of the venues it does not use.
    new Set(["127.0.0.1", "localhost", ...VENUE_IDS.flatMap((v) => VENUES[v].hosts)]),
  );
  assert.deepEqual(flagValues(flags, "read"), ["."]);
  assert.deepEqual(flagValues(flags, "env"), ["DEPTHWATCH_*"]);
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.match(config.tasks.dev, /\s-A\s/);
  for (const [name, line] of Object.entries(config.tasks as Record<string, string>)) {
    if (name === "start" || name === "demo") {
      assert.doesNotMatch(line, /\s(-A|--allow-all)\s/, `task ${name}`);
    }
  }
});

/** Run main.ts as a subprocess; returns helpers to read its output and stop it. */
function spawnMain(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  return {
    child,
    output: () => out,
    async url(): Promise<string> {
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        const m = /depthwatch listening on (http:\/\/\S+\/)/.exec(out);
        if (m) return m[1];
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`main.ts did not print its URL within 60 s; output:\n${out}`);
    },
    async finish(): Promise<{ code: number; output: string }> {
      const status = await child.status;
      await pumped;
      return { code: status.code, output: out };
    },
  };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function get(url: URL, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text() };
}

/** Start main.ts with `flags`, check /health /metrics and /, stop it with SIGTERM; returns its output. */
async function runWithFlags(flags: string[], cwd: string, token: string): Promise<string> {
  const main = spawnMain(
    [
      "run",
      ...flags,
      `${ROOT_DIR}/main.ts`,
      "--source=sim",
      `--port=${freePort()}`,
      "--log-level=debug",
    ],
    { cwd, env: { DEPTHWATCH_AUTH_TOKEN: token } },
  );
  try {
    const base = await main.url();
    let health = await get(new URL("/health", base));
    const until = Date.now() + 60_000; // a hang guard: a busy machine starts slowly
    while (health.status !== 200 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      health = await get(new URL("/health", base));
    }
    assert.equal(health.status, 200, `/health: ${health.text}\n${main.output()}`);
    assert.equal((await get(new URL("/metrics", base))).status, 401);
    const metrics = await get(new URL("/metrics", base), { Authorization: `Bearer ${token}` });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^depthwatch_feed_up\{symbol="BTCUSDT"\} 1$/m);
    assert.match(metrics.text, /^process_resident_memory_bytes \d+/m);
    const page = await get(new URL("/", base));
    assert.equal(page.status, 200);
    const boot = /<script[^>]+src="(\/build\/[^"]+\.js)"/.exec(page.text);
    assert.ok(boot, "the dashboard page has no boot script");
    const script = await get(new URL(boot[1], base));
    assert.equal(script.status, 200, `${boot[1]} could not be read`);
    assert.equal((await get(new URL("/dashboard.css", base))).status, 200);
  } finally {
    try {
      main.child.kill("SIGTERM");
    } catch {
      // already exited
    }
  }
  const { code, output } = await main.finish();
  assert.equal(code, 0, `exit code ${code} after SIGTERM; output:\n${output}`);
  return output;
}

Deno.test("hardening: main.ts runs with exactly the start task's permissions; logs never print the token", async () => {
  const flags = await taskPermissionFlags("start");
  const token = `secret-${crypto.randomUUID()}`;
  // `deno task start` runs in the folder of deno.json wherever it is invoked from.
  const output = await runWithFlags(flags, ROOT_DIR, token);
  assert.match(output, /starting depthwatch/);
  assert.ok(!output.includes(token), `the auth token appears in the logs:\n${output}`);
  assert.ok(!output.includes(token.slice(7)), "part of the auth token appears in the logs");
});

Deno.test("hardening: from another working directory --allow-read=. fails fast; --allow-read=<app dir> works", async () => {
  const flags = await taskPermissionFlags("start");
  const elsewhere = await Deno.makeTempDir({ prefix: "depthwatch_cwd_" });
  try {
    const token = `secret-${crypto.randomUUID()}`;
    const main = spawnMain(
      ["run", ...flags, `${ROOT_DIR}/main.ts`, "--source=sim", `--port=${freePort()}`],
      { cwd: elsewhere, env: { DEPTHWATCH_AUTH_TOKEN: token } },
    );
    const timer = setTimeout(() => main.child.kill("SIGKILL"), 30_000);
    const { code, output } = await main.finish();
    clearTimeout(timer);
    assert.equal(
      code,
      2,
      `expected exit code 2 without read access to the app; output:\n${output}`,
    );
    assert.match(output, new RegExp(`expected --allow-read=${ROOT_DIR}/`));
    assert.ok(!output.includes(token));
    // The systemd form of docs/operating.md: the same flags with the app's absolute folder.
    const absolute = flags.map((f) => f === "--allow-read=." ? `--allow-read=${ROOT_DIR}` : f);
    const out = await runWithFlags(absolute, elsewhere, token);
    assert.ok(!out.includes(token), `the auth token appears in the logs:\n${out}`);
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("hardening: in-process logs of a token-guarded service never contain the token", async () => {
  const token = `tok-${crypto.randomUUID()}`;
  await withService([`--auth-token=${token}`, "--log-format=json"], async (s, lines) => {
    for (const path of ["/metrics", "/stats", `/stats?token=${token}`, `/stats?token=${token}x`]) {
      const res = await fetch(new URL(path, s.url));
      await res.body?.cancel();
    }
    assert.ok(lines.some((l) => l.includes("starting depthwatch")), "no start line logged");
    // The configuration is logged with the token masked.
    assert.ok(lines.some((l) => l.includes('\\"authToken\\":\\"***\\"')), lines.join("\n"));
    for (const line of lines) assert.ok(!line.includes(token), `token logged: ${line}`);
  });
});
