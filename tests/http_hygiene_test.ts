// HTTP hygiene over real sockets against the real service: the Host check
// (421 for a foreign Host, --allowed-hosts), nosniff on every response, and
// 400 without a stack trace for a malformed WebSocket upgrade.
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { HostCheck } from "../lib/server/host_check.ts";
import { type Service, startService } from "../main.ts";

const TOKEN = "hyg13ne-t0ken";

async function withService(
  flags: string[],
  fn: (s: Service, lines: string[]) => Promise<void>,
  build = false,
): Promise<void> {
  const lines: string[] = [];
  const config = parseConfig(["--source=sim", "--port=0", "--sim-rate=20", ...flags]);
  const log = createLogger({ level: "debug", format: "text", write: (line) => lines.push(line) });
  const s = await startService(config, { log, build });
  try {
    await fn(s, lines);
  } finally {
    await s.close();
  }
}

/** A raw HTTP/1.1 exchange: `head` lines after the request line; the answer's status, headers and body. */
async function raw(
  base: string,
  requestLine: string,
  head: string[],
): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  const url = new URL(base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    const text = `${requestLine}\r\n${[...head, "Connection: close"].join("\r\n")}\r\n\r\n`;
    await conn.write(new TextEncoder().encode(text));
    const buf = new Uint8Array(65536);
    let answer = "";
    const decoder = new TextDecoder();
    // Read the head, then the body while the server keeps sending (it closes after).
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      answer += decoder.decode(buf.subarray(0, n), { stream: true });
      const end = answer.indexOf("\r\n\r\n");
      if (end >= 0) {
        const len = /\r\ncontent-length: *(\d+)/i.exec(answer.slice(0, end));
        if (/^HTTP\/1\.1 101/.test(answer)) break;
        if (len && answer.length - end - 4 >= Number(len[1])) break;
      }
    }
    const end = answer.indexOf("\r\n\r\n");
    const lines = answer.slice(0, end < 0 ? answer.length : end).split("\r\n");
    const m = /^HTTP\/1\.1 (\d{3})/.exec(lines[0]);
    assert.ok(m, `expected an HTTP status line, got ${JSON.stringify(answer.slice(0, 80))}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    return { status: Number(m[1]), headers, body: end < 0 ? "" : answer.slice(end + 4) };
  } finally {
    conn.close();
  }
}

const UPGRADE = [
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Key: ${btoa("0123456789abcdef")}`,
  "Sec-WebSocket-Version: 13",
];

Deno.test("http hygiene: a foreign Host gets 421 on /, /stats and /ws; loopback names are served", async () => {
  await withService([], async (s) => {
    for (const path of ["/", "/stats", "/health", "/metrics"]) {
      const r = await raw(s.url, `GET ${path} HTTP/1.1`, ["Host: evil.example"]);
      assert.equal(r.status, 421, `${path} with a foreign Host`);
      assert.ok(r.body.includes("--allowed-hosts"), "the body names the flag");
      assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    }
    const ws = await raw(s.url, "GET /ws HTTP/1.1", ["Host: evil.example:80", ...UPGRADE]);
    assert.equal(ws.status, 421, "/ws upgrade with a foreign Host");
    // A rebinding attack keeps the port: a foreign name with the right port is still foreign.
    const port = new URL(s.url).port;
    const sneaky = await raw(s.url, "GET /stats HTTP/1.1", [`Host: evil.example:${port}`]);
    assert.equal(sneaky.status, 421);
    for (
      const host of [`127.0.0.1:${port}`, "127.0.0.1", `localhost:${port}`, "LOCALHOST", "[::1]"]
    ) {
      const r = await raw(s.url, "GET /stats HTTP/1.1", [`Host: ${host}`]);
      assert.equal(r.status, 200, `Host ${host}`);
    }
    const upgraded = await raw(s.url, "GET /ws HTTP/1.1", [`Host: localhost:${port}`, ...UPGRADE]);
    assert.equal(upgraded.status, 101);
  });
});

Deno.test("http hygiene: --allowed-hosts entries are served, with or without a port", async () => {
  await withService(["--allowed-hosts=depth.example.com,10.9.8.7:1234"], async (s) => {
    const ok = await raw(s.url, "GET /stats HTTP/1.1", ["Host: depth.example.com:8443"]);
    assert.equal(ok.status, 200);
    assert.equal((await raw(s.url, "GET / HTTP/1.1", ["Host: Depth.Example.COM"])).status, 200);
    assert.equal((await raw(s.url, "GET /stats HTTP/1.1", ["Host: 10.9.8.7:1234"])).status, 200);
    assert.equal((await raw(s.url, "GET /stats HTTP/1.1", ["Host: 10.9.8.7:1235"])).status, 421);
    assert.equal(
      (await raw(s.url, "GET /stats HTTP/1.1", ["Host: other.example.com"])).status,
      421,
    );
  }, true);
});

Deno.test("http hygiene: nosniff on HTML, JSON, metrics, static files, 404 and 401", async () => {
  await withService([`--auth-token=${TOKEN}`], async (s) => {
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const cases: [string, Record<string, string>, number][] = [
      ["/", {}, 200],
      ["/stats", bearer, 200],
      ["/metrics", bearer, 200],
      ["/health", {}, -1],
      ["/dashboard.css", {}, 200],
      ["/no/such/page", {}, 404],
      ["/stats", {}, 401],
      ["/ws", bearer, 426],
    ];
    for (const [path, headers, status] of cases) {
      const res = await fetch(new URL(path, s.url), { headers, redirect: "manual" });
      await res.body?.cancel();
      if (status > 0) assert.equal(res.status, status, path);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${path} (${res.status})`);
    }
  }, true);
});

Deno.test("http hygiene: a malformed upgrade gets 400 with a reason, and no stack trace is logged", async () => {
  await withService([], async (s, lines) => {
    const host = `Host: ${new URL(s.url).host}`;
    const key = `Sec-WebSocket-Key: ${btoa("0123456789abcdef")}`;
    const cases: [string, string[], string][] = [
      ["no key", ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"], "Key"],
      ["short key", [
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${btoa("short")}`,
        "Sec-WebSocket-Version: 13",
      ], "Key"],
      ["not base64", [
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==",
        "Sec-WebSocket-Version: 13",
      ], "Key"],
      ["no version", ["Upgrade: websocket", "Connection: Upgrade", key], "Version"],
      ["old version", [
        "Upgrade: websocket",
        "Connection: Upgrade",
        key,
        "Sec-WebSocket-Version: 8",
      ], "Version"],
      [
        "no Connection: Upgrade",
        ["Upgrade: websocket", key, "Sec-WebSocket-Version: 13"],
        "Connection",
      ],
    ];
    for (const [what, head, reason] of cases) {
      const r = await raw(s.url, "GET /ws HTTP/1.1", [host, ...head]);
      assert.equal(r.status, 400, what);
      assert.ok(r.body.startsWith("malformed WebSocket upgrade: "), `${what}: ${r.body}`);
      assert.ok(r.body.includes(reason), `${what}: ${r.body}`);
      assert.equal(r.body.trim().split("\n").length, 1, "one line");
    }
    const good = await raw(s.url, "GET /ws HTTP/1.1", [host, ...UPGRADE]);
    assert.equal(good.status, 101, "a well-formed upgrade still works");
    const logged = lines.join("\n");
    assert.ok(!/\n\s+at /.test(logged) && !logged.includes("request failed"), logged.slice(-800));
  });
});

Deno.test("host check: bound address, wildcards, IPv6 and malformed Host values", () => {
  const v6 = new HostCheck({ bound: "::1" });
  assert.equal(v6.allows("[::1]:8000"), true);
  assert.equal(v6.allows("::1"), false, "an IPv6 Host must be bracketed");
  const lan = new HostCheck({ bound: "192.168.1.5" });
  assert.equal(lan.allows("192.168.1.5:8000"), true);
  assert.equal(lan.allows("192.168.1.6:8000"), false);
  const wild = new HostCheck({ bound: "0.0.0.0", allowed: ["depth.example.com"] });
  assert.equal(wild.allows("0.0.0.0:8000"), false, "a wildcard is not a name");
  assert.equal(wild.allows("depth.example.com."), true, "a trailing dot is the same name");
  assert.equal(wild.allows("localhost"), true);
  for (const bad of [null, "", "a b", "evil.example@localhost", "localhost:80:80", "[::1"]) {
    assert.equal(wild.allows(bad), false, JSON.stringify(bad));
  }
});
