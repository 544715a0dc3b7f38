// GET /s/{SYMBOL}, the detail page, on the real service (simulated exchange):
// a valid symbol renders its seeded dashboard; other spellings redirect to
// the canonical upper case; unknown and malformed names are a 404 that says
// where symbols are; ?token= moves to the cookie as on every page.
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { startService } from "../main.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const TOKEN = "det4il-t0ken";

Deno.test("GET /s/{SYMBOL}: page, redirects, 404s and the token", async () => {
  const s = await startService(
    parseConfig([
      "--source=sim",
      "--port=0",
      "--sim-rate=50",
      "--symbols=btcusdt,ethusdt",
      `--auth-token=${TOKEN}`,
    ]),
    { log: quiet, build: true },
  );
  const get = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, s.url), { redirect: "manual", ...init });
  try {
    const t0 = performance.now();
    while (s.state.history.size(1) === 0) {
      if (performance.now() - t0 > 30_000) throw new Error("no frames within 30 s"); // a hang guard
      await new Promise((r) => setTimeout(r, 50));
    }
    // The token: moved to the cookie, the URL made canonical and token-free.
    const first = await get(`/s/ethusdt?token=${TOKEN}&range=1h`);
    await first.body?.cancel();
    assert.equal(first.status, 303);
    assert.equal(first.headers.get("location"), "/s/ETHUSDT?range=1h");
    assert.equal(first.headers.get("cache-control"), "no-store");
    const setCookie = first.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^depthwatch_token=det4il-t0ken;.*HttpOnly/);
    const cookie = { cookie: setCookie.split(";")[0] };

    // A valid symbol with the cookie: the page, seeded with that symbol's history.
    const page = await get("/s/ETHUSDT", { headers: cookie });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("cache-control"), "no-store");
    const html = await page.text();
    assert.match(html, /data-detail-symbol="ETHUSDT"/);
    assert.match(html, /"symbol":"ETHUSDT"/, "the islands' seed follows the path");
    assert.match(html, /"mid":\[\d/, "with the symbol's history");
    assert.match(html, /class="panel book" data-symbol="ETHUSDT"/, "the ladder is ETH's");
    assert.match(html, /data-mode="SIM"/, "the mode badge says simulated");
    assert.match(html, /role="combobox"/, "the search box");
    assert.doesNotMatch(html, /<button[^>]*class="sym/, "no row of symbol buttons");
    assert.ok(!html.includes(TOKEN), "the token is not in the page");

    // Without the token: the page, but no data.
    const open = await get("/s/BTCUSDT");
    assert.equal(open.status, 200);
    const openHtml = await open.text();
    assert.match(openHtml, /"mid":\[\]/);
    const wrong = await get("/s/BTCUSDT?token=wrong");
    await wrong.body?.cancel();
    assert.equal(wrong.status, 200, "a wrong ?token= sets no cookie");
    assert.equal(wrong.headers.get("set-cookie"), null);

    // Other spellings: a permanent redirect to the canonical URL, query kept.
    for (
      const [path, location] of [["/s/btcusdt", "/s/BTCUSDT"], ["/s/EthUsdt?x=1", "/s/ETHUSDT?x=1"]]
    ) {
      const r = await get(path);
      await r.body?.cancel();
      assert.equal(r.status, 308, path);
      assert.equal(r.headers.get("location"), location, path);
    }

    // Unknown and malformed: the 404 page, naming how to find valid symbols.
    const unknown = await get("/s/DOGEUSDT");
    assert.equal(unknown.status, 404);
    const text = await unknown.text();
    assert.match(text, /DOGEUSDT is not a symbol this service watches/);
    assert.match(text, /<a href="\/">market overview<\/a>/);
    assert.match(text, /search box/);
    assert.match(text, /role="combobox"/, "with the search box itself");
    // '/' is part of venue names (KRAKEN:BTC/USD): a%2Fb is a name, just not served.
    const slash = await get("/s/a%2Fb");
    assert.equal(slash.status, 404);
    assert.match(await slash.text(), /A\/B is not a symbol this service watches/);
    for (const bad of ["/s/BTC%20USDT", `/s/${"X".repeat(33)}`, "/s/%3Cb%3E", "/s/a%3Bb"]) {
      const r = await get(bad);
      assert.equal(r.status, 404, bad);
      const body = await r.text();
      assert.match(body, /not a symbol name: expected 1 to 32 letters/, bad);
      assert.ok(!body.includes("<b>"), "the path is escaped");
    }
    const nested = await get("/s/BTCUSDT/extra");
    await nested.body?.cancel();
    assert.equal(nested.status, 404);

    // HEAD answers like GET, without a body.
    const head = await get("/s/BTCUSDT", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");

    // The mode where probes and scrapers see it.
    const health = await (await get("/health")).json();
    assert.equal(health.mode, "SIM");
    const metrics = await (await get("/metrics", { headers: cookie })).text();
    assert.match(metrics, /^depthwatch_info\{mode="SIM",source="sim",stream="depth20"\} 1$/m);
  } finally {
    await s.close();
  }
});
