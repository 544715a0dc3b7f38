/**
 * The detail charts' time-range switch in real headless Chromium against the
 * real service (simulated exchange, 50 frames/s per symbol): 1 h and 24 h
 * chart the server's bars and keep streaming, chosen by keyboard; 10 s comes
 * back to the frame charts. Every wait is for a condition; its timeout only
 * guards against a hang.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { CHROMIUM_ARGS } from "../testing/chromium_session.ts";

const TIME_CHARTS = ["mid", "spread", "imbalance", "ofi"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function pixels(page: Page, id: string): Promise<string> {
  return page.evaluate(
    (id) => document.querySelector<HTMLCanvasElement>(`[data-chart="${id}"] canvas`)!.toDataURL(),
    id,
  );
}

Deno.test({
  name: "charts: the time-range switch shows 1 h and 24 h of bars, streaming, by keyboard",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const service = await startService(
      parseConfig([
        "--source",
        "sim",
        "--port",
        "0",
        "--symbols",
        "btcusdt,ethusdt",
        "--sim-rate",
        "50",
      ]),
      { build: true, log: createLogger({ level: "error" }) },
    );
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [...CHROMIUM_ARGS],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.setDefaultTimeout(60_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      const fetched: string[] = [];
      page.on("request", (r) => {
        if (r.url().includes("/api/history")) fetched.push(new URL(r.url()).search);
      });
      await page.goto(new URL("/s/BTCUSDT", service.url).href);
      await page.locator('.badge[data-state="live"]').waitFor();
      await page.locator('[data-range="10s"][aria-pressed="true"]').waitFor();

      for (const [range, resolution] of [["1h", "10s"], ["24h", "1m"]] as const) {
        // By keyboard: focus the button, press Enter.
        await page.locator(`button[data-range="${range}"]`).focus();
        await page.keyboard.press("Enter");
        await page.locator(`.charts[data-range="${range}"]`).waitFor();
        await page.locator(`button[data-range="${range}"][aria-pressed="true"]`).waitFor();
        for (const id of TIME_CHARTS) {
          await page.locator(`[data-chart="${id}"][data-empty="0"]`).waitFor();
        }
        assert.ok(
          fetched.some((q) =>
            q.includes(`resolution=${resolution}`) && q.includes("symbol=BTCUSDT")
          ),
          `fetched ${resolution} bars: ${fetched.join(" ")}`,
        );
        // Streaming: the open bar moves with live frames, so the charts redraw.
        const before = await pixels(page, "mid");
        await until(
          `the ${range} mid chart to redraw`,
          async () => (await pixels(page, "mid")) !== before,
        );
        const title = await page.locator('[data-chart="mid"] h2').textContent();
        assert.match(title ?? "", /bar close/);
        await until("the open bar's close in the header", async () =>
          /^[\d,]+\.\d+$/.test(
            (await page.locator('[data-chart="mid"] .head-value').textContent())?.trim() ?? "",
          ));
      }

      // Another symbol's page fetches that symbol's bars.
      await page.goto(new URL("/s/ETHUSDT", service.url).href);
      await page.locator('.charts[data-symbol="ETHUSDT"]').waitFor();
      await page.locator('button[data-range="24h"]').click();
      await page.locator('.charts[data-range="24h"]').waitFor();
      await until(
        "ETH bars fetched",
        () =>
          Promise.resolve(
            fetched.some((q) => q.includes("symbol=ETHUSDT") && q.includes("resolution=1m")),
          ),
      );
      await page.locator('[data-chart="mid"][data-empty="0"]').waitFor();

      await page.locator('button[data-range="10s"]').click();
      await page.locator('.charts[data-range="10s"]').waitFor();
      for (const id of TIME_CHARTS) {
        await page.locator(`[data-chart="${id}"][data-empty="0"]`).waitFor();
      }
      assert.match(
        (await page.locator('[data-chart="mid"] h2').textContent()) ?? "",
        /weighted mid/,
      );
      assert.deepEqual(errors, [], "no page errors");
      await page.close();
    } finally {
      await browser.close();
      await service.close();
    }
  },
});
