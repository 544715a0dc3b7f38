import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { App, staticFiles } from "../lib/web/mod.ts";
import { applySnapshot } from "../lib/web/app.ts";
import { Builder } from "../lib/web/builder.ts";
import { loadSnapshot } from "../lib/web/snapshot.ts";
import type { State } from "./fixtures/web_app/utils.ts";

const fixture = new URL("./fixtures/web_app/", import.meta.url);

Deno.test({
  name: "hydration: islands hydrate in real Chromium under the CSP, props revive, clicks work",
  // playwright-core keeps internal handles between its own calls.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const buildDir = new URL(`file://${await Deno.makeTempDir({ prefix: "web_hydration_" })}/`);
    const snapshot = await loadSnapshot(fixture);
    const app = new App<State>().use(staticFiles()).fsRoutes();
    applySnapshot(app, snapshot, { buildDir });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.handler());
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      await new Builder({ root: fixture, buildDir }).bundle(snapshot);
      const page = await browser.newPage();
      page.setDefaultTimeout(60_000); // a hang guard: a busy machine hydrates slowly
      const problems: string[] = [];
      page.on("console", (m) => {
        // The browser asks for /favicon.ico on its own; the fixture has none.
        if (m.type() === "error" && !m.location().url.endsWith("/favicon.ico")) {
          problems.push(`${m.text()} (${m.location().url})`);
        }
      });
      page.on("pageerror", (e) => problems.push(String(e)));
      await page.goto(`http://127.0.0.1:${server.addr.port}/counter?start=3`);
      // PropsView re-renders in an effect once hydrated, describing the revived props.
      const view = page.locator(".props-view");
      await view.filter({ hasNotText: "server" }).waitFor();
      assert.equal(
        await view.textContent(),
        "inf=Infinity;nan=NaN;ninf=-Infinity;nzero=-0;sig=signal(30);" +
          'text="</script><script>alert(1)</script>\u2028\u2029&<>";undef=undefined;' +
          "when=date(2024-01-02T00:00:00.000Z)",
      );
      const counters = page.locator(".counter");
      assert.equal(await counters.nth(0).locator(".count").textContent(), "3");
      await counters.nth(0).locator("button").click();
      await counters.nth(0).locator(".count", { hasText: "4" }).waitFor();
      // The shared signal updates both islands.
      await counters.nth(1).locator(".shared", { hasText: "31" }).waitFor();
      assert.equal(await counters.nth(1).locator(".count").textContent(), "4");
      assert.deepEqual(problems, [], "no CSP violations or script errors");
      await page.close();
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(buildDir, { recursive: true });
    }
  },
});
