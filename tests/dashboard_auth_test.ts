// With --auth-token the dashboard page stays open, but its first paint carries
// data only for a request with the token, and the islands get paths that carry
// the token on to /ws and /stats.
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { startService } from "../main.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const TOKEN = "s3cret-t0ken";

Deno.test("dashboard with an auth token: data and socket paths only with the token", async () => {
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
    const withToken = await (await fetch(new URL(`/?token=${TOKEN}`, s.url))).text();
    assert.ok(withToken.includes(`/ws?token=${TOKEN}`), "socket path carries the token");
    assert.ok(withToken.includes(`/stats?token=${TOKEN}`), "stats path carries the token");
    const open = await fetch(new URL("/", s.url));
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
