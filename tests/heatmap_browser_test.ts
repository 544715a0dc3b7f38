/**
 * The liquidity heatmap in real headless Chromium against the real service
 * (simulated exchange at 10 frames/s per symbol, the heatmap's design rate).
 * Assertions are about content (painted, changing, lines present, labels in
 * the symbol's price range), never about timing: every wait is for a
 * condition, bounded only by a hang guard.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { type Service, startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { ASK_LINE, BID_LINE, HEAT_BACKGROUND } from "../lib/client/heatmap_scale.ts";
import { launchChromium, twoAnimationFrames, until } from "../testing/chromium_session.ts";

const ARTIFACTS = new URL("../test_artifacts/", import.meta.url);

function service(): Promise<Service> {
  const config = parseConfig([
    "--source",
    "sim",
    "--port",
    "0",
    "--symbols",
    "btcusdt,ethusdt",
    "--sim-rate",
    "10",
  ]);
  return startService(config, { build: true, log: createLogger({ level: "error" }) });
}

interface HeatPixels {
  width: number;
  height: number;
  cssWidth: number;
  painted: number;
  bid: number;
  ask: number;
  fingerprint: string;
}

/** Pixel counts of the heatmap canvas: non-background, bid-line and ask-line pixels. */
function heatPixels(page: Page): Promise<HeatPixels> {
  return page.evaluate(([bg, bid, ask]) => {
    const c = document.querySelector<HTMLCanvasElement>(".heatmap canvas")!;
    const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height);
    const px = new Uint32Array(data.data.buffer);
    let painted = 0;
    let nb = 0;
    let na = 0;
    let h = 0;
    for (let i = 0; i < px.length; i++) {
      const v = px[i];
      if (v !== bg) painted++;
      if (v === bid) nb++;
      if (v === ask) na++;
      h = (Math.imul(h, 31) + v) | 0;
    }
    return {
      width: c.width,
      height: c.height,
      cssWidth: c.clientWidth,
      painted,
      bid: nb,
      ask: na,
      fingerprint: `${h}:${painted}`,
    };
  }, [HEAT_BACKGROUND, BID_LINE, ASK_LINE]);
}

/** The axis labels shown, as numbers. */
function axisPrices(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>(".hm-axis span"))
      .filter((s) => !s.hidden)
      .map((s) => Number((s.textContent ?? "").replaceAll(",", "")))
  );
}

async function bookMid(page: Page): Promise<number> {
  const text = await page.locator(".book .stat-value").first().textContent();
  return Number((text ?? "").replaceAll(",", ""));
}

Deno.test({
  name: "heatmap: painted, advancing, bid/ask lines, axis, symbol switch, DPR 2, no page errors",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const svc = await service();
    const browser = await launchChromium();
    try {
      for (const deviceScaleFactor of [1, 2]) {
        const page = await browser.newPage({
          viewport: { width: 1280, height: 900 },
          deviceScaleFactor,
        });
        page.setDefaultTimeout(60_000);
        const errors: string[] = [];
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(`${m.text()} (${m.location().url})`);
        });
        page.on("pageerror", (e) => errors.push(String(e)));
        await page.goto(new URL("/s/BTCUSDT", svc.url).href);
        await page.locator('.badge[data-state="live"]').waitFor();
        await page.locator('.heatmap[data-symbol="BTCUSDT"]').waitFor();

        // Painted: heat cells and both lines, on a canvas sized in device pixels.
        await until("the heatmap to show heat and both lines", async () => {
          const p = await heatPixels(page);
          return p.painted > 0 && p.bid > 0 && p.ask > 0;
        });
        const first = await heatPixels(page);
        assert.equal(first.width, Math.round(first.cssWidth * deviceScaleFactor), "DPR-sized");

        // Advances: the pixels keep changing as frames arrive.
        await until("the heatmap to change", async () => {
          return (await heatPixels(page)).fingerprint !== first.fingerprint;
        });
        const later = await heatPixels(page);
        await until("the heatmap to change again", async () => {
          return (await heatPixels(page)).fingerprint !== later.fingerprint;
        });

        // The axis labels the shown symbol's prices around its mid.
        await until("axis labels around the BTC mid", async () => {
          const prices = await axisPrices(page);
          const mid = await bookMid(page);
          const lo = Math.min(...prices);
          const hi = Math.max(...prices);
          return prices.length >= 2 && lo < mid * 1.01 && hi > mid * 0.99;
        });

        // Symbol switch: the ring restarts with the other symbol's book.
        const btcAxis = await axisPrices(page);
        // (The search opens /s/ETHUSDT: a new page whose ring starts from its seed.)
        await page.goto(new URL("/s/ETHUSDT", svc.url).href);
        await page.locator('.heatmap[data-symbol="ETHUSDT"]').waitFor();
        await until("axis labels around the ETH mid", async () => {
          const prices = await axisPrices(page);
          const mid = await bookMid(page);
          return prices.length >= 2 && Math.min(...prices) < mid * 1.01 &&
            Math.max(...prices) > mid * 0.99 && prices[0] !== btcAxis[0];
        });
        await until("ETH heat and lines", async () => {
          const p = await heatPixels(page);
          return p.painted > 0 && p.bid > 0 && p.ask > 0;
        });
        const eth = await heatPixels(page);
        await until("the ETH heatmap to change", async () => {
          return (await heatPixels(page)).fingerprint !== eth.fingerprint;
        });
        await twoAnimationFrames(page);

        if (deviceScaleFactor === 1) {
          await Deno.mkdir(ARTIFACTS, { recursive: true });
          await page.locator(".heatmap").screenshot({
            path: new URL("heatmap.png", ARTIFACTS).pathname,
          });
        }
        assert.deepEqual(errors, [], "no console errors or page errors");
        await page.close();
      }
    } finally {
      await browser.close();
      await svc.close();
    }
  },
});
