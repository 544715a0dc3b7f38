/**
 * Takes the README's screenshots: the market overview (`/`), a symbol's
 * detail page (`/s/BTCUSDT`) and a consolidated instrument's (`/s/X%3ABTC`:
 * BTC on Binance spot, OKX, Bybit and Kraken, each through its own venue
 * protocol) of the service on the simulated exchange, in headless Chromium
 * (`/usr/bin/chromium`), written to `docs/overview.png`, `docs/dashboard.png`
 * and `docs/consolidated.png`.
 *
 * ```sh
 * deno run -A tools/screenshots.ts [--symbols 200] [--warmup 40]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { startService } from "../main.ts";
import { launchChromium } from "../testing/chromium_session.ts";
import { symbolNames } from "../testing/footprint_scenario.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    symbols: { type: "string", default: "200" },
    warmup: { type: "string", default: "40" },
  },
});
const symbols = Number(values.symbols);
const warmupS = Number(values.warmup);
if (!(Number.isInteger(symbols) && symbols >= 2) || !(warmupS >= 0)) {
  console.error("usage: --symbols N (an integer ≥ 2) --warmup SECONDS (≥ 0)");
  Deno.exit(2);
}
const service = await startService(
  parseConfig([
    "--source=sim",
    "--port=0",
    `--symbols=${symbolNames(symbols).join(",")}`,
    "--sim-rate=10",
    "--consolidate=BTC=btcusdt,okx:btc-usdt,bybit:btcusdt,kraken:btc/usd",
  ]),
  { build: true, log: createLogger({ level: "error" }) },
);
const browser = await launchChromium();
try {
  // The overview's 1 m change and the charts need a little history.
  await new Promise((r) => setTimeout(r, warmupS * 1000));
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(service.url);
  await page.locator('.ov[data-feed="live"]').waitFor();
  await page.waitForTimeout(2500);
  await page.screenshot({ path: new URL("../docs/overview.png", import.meta.url).pathname });
  await page.goto(new URL("/s/BTCUSDT", service.url).href);
  await page.locator('.badge[data-state="live"]').waitFor();
  await page.waitForTimeout(8000);
  await page.screenshot({ path: new URL("../docs/dashboard.png", import.meta.url).pathname });
  await page.goto(new URL("/s/X%3ABTC", service.url).href);
  await page.locator('.badge[data-state="live"]').waitFor();
  await page.locator('.venues .vrow[data-stale="0"]').first().waitFor();
  await page.waitForTimeout(8000);
  await page.screenshot({ path: new URL("../docs/consolidated.png", import.meta.url).pathname });
  console.log("wrote docs/overview.png, docs/dashboard.png and docs/consolidated.png");
} finally {
  await browser.close();
  await service.close();
}
