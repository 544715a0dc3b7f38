import assert from "node:assert/strict";
import { Signal } from "@preact/signals";
import { App, HttpError, staticFiles } from "../lib/web/mod.ts";
import { applySnapshot } from "../lib/web/app.ts";
import { Builder } from "../lib/web/builder.ts";
import { collectIslands } from "../lib/web/islands.ts";
import { loadSnapshot } from "../lib/web/snapshot.ts";
import { decodeValue, type Encoded } from "../lib/web/serialize.ts";
import type { State } from "./fixtures/web_app/utils.ts";

const fixture = new URL("./fixtures/web_app/", import.meta.url);
const snapshot = await loadSnapshot(fixture);

/** What the fixture app's middlewares saw go by. */
interface Seen {
  /** Errors other than HttpErrors, as a logging middleware would report them. */
  errors: unknown[];
  /** HttpErrors (the app's own 404s among them). */
  httpErrors: HttpError[];
}

async function withServer(
  fn: (base: string, seen: Seen) => Promise<void>,
  opts: { build?: boolean; dev?: boolean } = {},
): Promise<void> {
  const buildDir = new URL(`file://${await Deno.makeTempDir({ prefix: "web_app_test_" })}/`);
  const seen: Seen = { errors: [], httpErrors: [] };
  const history = new Map<string, number[]>();
  const app = new App<State>()
    .use(async (ctx) => {
      try {
        return await ctx.next();
      } catch (err) {
        if (err instanceof HttpError) seen.httpErrors.push(err);
        else seen.errors.push(err);
        throw err;
      }
    })
    .use((ctx) => {
      ctx.state.history = history;
      return ctx.next();
    })
    .use(staticFiles())
    .fsRoutes();
  applySnapshot(app, snapshot, { buildDir, mode: opts.dev ? "development" : "production" });
  if (opts.build) await new Builder({ root: fixture, buildDir }).bundle(snapshot);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.handler());
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
    await Deno.remove(buildDir, { recursive: true });
  }
}

function dataBlock(html: string): [string, Encoded][] {
  const m = /<script type="application\/json" id="__dw_islands">(.*?)<\/script>/s.exec(html);
  assert.ok(m, "page has an islands data block");
  return JSON.parse(m[1]);
}

Deno.test("app: static, dynamic and API routes; 404; 405 with Allow; HEAD", async () => {
  await withServer(async (base) => {
    let res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    const home = await res.text();
    assert.ok(home.startsWith('<!DOCTYPE html><html lang="en">'));
    assert.match(home, /<h1>fixture home<\/h1>/);
    assert.ok(!home.includes("<script"), "a page without islands ships no JS");

    res = await fetch(`${base}/about`);
    assert.match(await res.text(), /<p id="about">about page<\/p>/);

    res = await fetch(`${base}/book/btc%20usdt`);
    assert.equal(res.headers.get("x-book"), "1");
    assert.match(await res.text(), /<p id="book">btc usdt\|BTC USDT\|\/book\/:name<\/p>/);

    res = await fetch(`${base}/api/history`, {
      method: "POST",
      body: JSON.stringify({ symbol: "BTCUSDT", value: 7 }),
    });
    assert.equal(res.status, 204);
    await res.body?.cancel();
    res = await fetch(`${base}/api/history?symbol=BTCUSDT`);
    assert.deepEqual(await res.json(), { symbol: "BTCUSDT", frames: [7] }, "state is shared");

    res = await fetch(`${base}/api/history`, { method: "DELETE" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD, POST");
    assert.match(await res.text(), /expected one of GET, HEAD, POST/);

    res = await fetch(`${base}/about`, { method: "POST" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    await res.body?.cancel();

    res = await fetch(`${base}/about`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");

    res = await fetch(`${base}/echo`, { method: "PATCH" });
    assert.deepEqual(await res.json(), { method: "PATCH", path: "/echo", route: "/echo" });

    res = await fetch(`${base}/no/such/page`);
    assert.equal(res.status, 404);
    const nf = await res.text();
    assert.match(nf, /<h1 id="nf">Nothing at \/no\/such\/page<\/h1>/);
    assert.match(nf, /<title>fixture<\/title>/, "404 page is inside _app");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");

    res = await fetch(`${base}/book/%E0%A4%A`);
    assert.equal(res.status, 400);
    await res.body?.cancel();
  });
});

Deno.test("app: a throwing handler gives 500 and is reported, the server goes on", async () => {
  await withServer(async (base, { errors }) => {
    const res = await fetch(`${base}/boom`);
    assert.equal(res.status, 500);
    assert.match(await res.text(), /<h1>500<\/h1><p>Internal server error\.<\/p>/);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /boom on purpose/);
    const ok = await fetch(`${base}/about`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });
});

Deno.test("app: an HttpError answers with its status; a 404 passes the middlewares as HttpError(404)", async () => {
  await withServer(async (base, { errors, httpErrors }) => {
    const res = await fetch(`${base}/teapot`);
    assert.equal(res.status, 418);
    const html = await res.text();
    assert.match(html, /<h1>418<\/h1><p>short and stout<\/p>/, "a client error's message is shown");
    assert.match(html, /<title>fixture<\/title>/, "error pages are inside _app");
    const missing = await fetch(`${base}/no-such-page`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    assert.deepEqual(httpErrors.map((e) => e.status), [418, 404]);
    assert.equal(errors.length, 0);
  });
});

Deno.test("app: security headers on pages", async () => {
  await withServer(async (base) => {
    for (const path of ["/", "/no-such"]) {
      const res = await fetch(`${base}${path}`);
      await res.body?.cancel();
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.ok(!/script-src[^;]*unsafe-inline/.test(csp), "no unsafe-inline for scripts");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    }
  });
});

Deno.test("app: a route handler can upgrade to a WebSocket", async () => {
  await withServer(async (base) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.onopen = () => ws.send("ping");
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error("websocket error"));
    });
    assert.equal(reply, "echo:ping");
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
  });
});

Deno.test("app: static files with content type, ETag and 304", async () => {
  await withServer(async (base) => {
    let res = await fetch(`${base}/hello.txt`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "public, max-age=60");
    assert.equal(await res.text(), "hello static\n");
    const etag = res.headers.get("etag");
    assert.ok(etag);
    res = await fetch(`${base}/hello.txt`, { headers: { "If-None-Match": etag } });
    assert.equal(res.status, 304);
    await res.body?.cancel();
    res = await fetch(`${base}/..%2fdeno.json`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});

Deno.test("app: island page has markers, data block and a hashed immutable boot script", async () => {
  await withServer(async (base) => {
    assert.deepEqual(collectIslands(snapshot.islands).map((i) => i.name), [
      "counter:default",
      "props_view:PropsView",
    ]);
    const res = await fetch(`${base}/counter?start=5`);
    const html = await res.text();
    assert.equal(res.status, 200);
    const markers = [...html.matchAll(/<dw-island data-dw="(\d+)" style="display:contents">/g)]
      .map((m) => m[1]);
    assert.deepEqual(markers, ["0", "1", "2"]);
    assert.ok(!html.includes("</script><script>alert(1)"), "string cannot break out");
    const block = dataBlock(html);
    assert.deepEqual(block.map((b) => b[0]), [
      "counter:default",
      "counter:default",
      "props_view:PropsView",
    ]);
    const signals = new Map();
    const props = block.map(([, p]) => decodeValue(p, signals) as Record<string, unknown>);
    assert.equal(props[0].start, 5);
    assert.equal(props[1].start, 6);
    assert.ok(props[0].shared instanceof Signal);
    assert.equal(props[0].shared, props[1].shared, "one signal shared by two islands");
    assert.equal((props[0].shared as Signal).value, 50);
    const v = props[2];
    assert.ok(Number.isNaN(v.nan));
    assert.equal(v.inf, Infinity);
    assert.equal(v.ninf, -Infinity);
    assert.ok(Object.is(v.nzero, -0));
    assert.ok("undef" in v && v.undef === undefined);
    assert.equal((v.when as Date).toISOString(), "2024-01-02T00:00:00.000Z");
    assert.equal(v.text, "</script><script>alert(1)</script>\u2028\u2029&<>");
    assert.equal(v.sig, props[0].shared);

    const src = /<script type="module" src="(\/build\/boot-[0-9a-f]{16}\.js)"><\/script>/.exec(
      html,
    );
    assert.ok(src, "boot script referenced");
    const js = await fetch(`${base}${src[1]}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    const code = await js.text();
    assert.ok(code.length > 1000);
    assert.ok(!/\bDeno\./.test(code), "client bundle does not touch Deno");
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(code)),
    );
    const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(src[1], `/build/boot-${hex}.js`, "name is the content hash");
    const missing = await fetch(`${base}/build/boot-0000000000000000.js`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  }, { build: true });
});

Deno.test("app: an island page without a build is a clear 500, not a crash", async () => {
  await withServer(async (base, { errors }) => {
    const res = await fetch(`${base}/counter`);
    assert.equal(res.status, 500);
    await res.body?.cancel();
    assert.match(String(errors[0]), /client boot script.*deno task build/s);
  });
});

Deno.test("app: concurrent requests do not share island data or signals", async () => {
  await withServer(async (base) => {
    const starts = [1, 2, 3, 4, 5, 6, 7, 8];
    const pages = await Promise.all(
      starts.map((s) => fetch(`${base}/counter?start=${s}`).then((r) => r.text())),
    );
    pages.forEach((html, i) => {
      const block = dataBlock(html);
      assert.equal(block.length, 3, "ids restart at 0 for each page");
      const signals = new Map();
      const props = block.map(([, p]) => decodeValue(p, signals) as Record<string, unknown>);
      assert.equal(props[0].start, starts[i]);
      assert.equal((props[0].shared as Signal).value, starts[i] * 10);
    });
  }, { build: true });
});

Deno.test("app: dev mode adds the reload script and an SSE endpoint", async () => {
  await withServer(async (base) => {
    const html = await (await fetch(`${base}/`)).text();
    assert.match(html, /<script type="module" src="\/_dev\/reload\.js"><\/script><\/body>/);
    const script = await fetch(`${base}/_dev/reload.js`);
    assert.match(await script.text(), /new EventSource\("\/_dev\/reload"\)/);
    const res = await fetch(`${base}/_dev/reload`);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^retry: 500\ndata: [0-9a-f-]{36}\n\n$/);
    await reader.cancel();
  }, { dev: true });
});
