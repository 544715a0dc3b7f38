// With --auth-token the dashboard page stays open, but its first paint carries
// data only for a request with the token. A first visit with ?token= moves the
// token into an HttpOnly, SameSite=Strict cookie and redirects (303) to the URL
// without it; the cookie then opens the page's data, /stats and /ws.
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { startService } from "../main.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const TOKEN = "s3cret-t0ken";

Deno.test("dashboard with an auth token: the token moves to a cookie, data only with it", async () => {
  const s = await startService(
    parseConfig(["--source=sim", "--port=0", "--sim-rate=50", `--auth-token=${TOKEN}`]),
    { log: quiet, build: true },
  );
  try {
    const t0 = performance.now();
    while (s.state.history.size(0) === 0) {
      if (performance.now() - t0 > 30_000) throw new Error("no frames within 30 s"); // a hang guard
      await new Promise((r) => setTimeout(r, 50));
    }
    const first = await fetch(new URL(`/s/ETHUSDT?token=${TOKEN}`, s.url), {
      redirect: "manual",
    });
    await first.body?.cancel();
    assert.equal(first.status, 303, "a valid ?token= is moved out of the URL");
    assert.equal(first.headers.get("location"), "/s/ETHUSDT");
    assert.equal(first.headers.get("cache-control"), "no-store");
    const setCookie = first.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^depthwatch_token=s3cret-t0ken;/);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    const cookie = { cookie: setCookie.split(";")[0] };
    const page = await fetch(new URL("/s/ETHUSDT", s.url), { headers: cookie });
    assert.equal(page.status, 200);
    assert.equal(
      page.headers.get("cache-control"),
      "no-store",
      "the page with data is never stored",
    );
    const withToken = await page.text();
    assert.ok(!withToken.includes(TOKEN), "the token is not in the page");
    assert.ok(withToken.includes('"wsPath":"/ws"'), "the socket path carries no token");
    assert.ok(withToken.includes('"statsPath":"/stats"'), "the stats path carries no token");
    const stats = await fetch(new URL("/stats", s.url), { headers: cookie });
    await stats.body?.cancel();
    assert.equal(stats.status, 200, "the cookie opens /stats");
    const metrics = await fetch(new URL("/metrics", s.url), { headers: cookie });
    await metrics.body?.cancel();
    assert.equal(metrics.status, 200, "the cookie opens /metrics");
    const history = await fetch(new URL("/api/history?symbol=BTCUSDT", s.url), { headers: cookie });
    await history.body?.cancel();
    assert.equal(history.status, 200, "the cookie opens /api/*");
    const ws = new WebSocket(new URL("/ws", s.url.replace("http", "ws")), {
      headers: cookie,
    } as unknown as string[]);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("the cookie did not open /ws"));
    });
    ws.close();
    const wrong = await fetch(new URL("/stats", s.url), {
      headers: { cookie: "depthwatch_token=wrong" },
    });
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401, "a wrong cookie is refused");
    const badQuery = await fetch(new URL("/s/BTCUSDT?token=wrong", s.url), { redirect: "manual" });
    await badQuery.body?.cancel();
    assert.equal(badQuery.status, 200, "a wrong ?token= sets no cookie");
    assert.equal(badQuery.headers.get("set-cookie"), null);
    const open = await fetch(new URL("/s/BTCUSDT", s.url));
    assert.equal(open.status, 200);
    const html = await open.text();
    assert.ok(!html.includes(TOKEN), "the token never appears without it");
    assert.ok(!html.includes("/ws?token="));
    // Without the token the seed's history columns are empty; with it, they hold the frames.
    assert.ok(html.includes('"mid":[]'), "no history without the token");
    assert.ok(/"mid":\[\d/.test(withToken), "history with the token");
    assert.equal((await fetch(new URL("/stats", s.url))).status, 401);
    await (await fetch(new URL("/stats", s.url))).body?.cancel();
  } finally {
    await s.close();
  }
});
