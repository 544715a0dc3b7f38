/**
 * A dashboard node (`--role dashboard`: no workers, everything from NATS) in
 * real headless Chromium: the overview shows every symbol live with the
 * ingest node's prices (merged summary), the detail page of a symbol goes
 * live with a moving ladder and charts, its health panel shows the owner's
 * feeds as live, and no page error. Then the ingest node stops and another
 * one takes the partitions over: the page keeps going after a resync. Every
 * wait is for a condition, bounded only by a hang guard.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { CHROMIUM_ARGS } from "../testing/chromium_session.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const SYMBOLS = ["btcusdt", "ethusdt", "solusdt", "bnbusdt"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms; // a hang guard only
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

Deno.test({
  name:
    "bus browser: a dashboard node's overview and detail page are live in Chromium, across a takeover",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const nats = await startNatsServer();
  // One exchange for both ingest nodes: the node taking over continues the same market.
  const exchange = await startSimExchange({ symbols: SYMBOLS, rate: 10, levels: 20 });
  const bus = [
    `--bus=${nats.url}`,
    "--lease-ttl=3000",
    "--partitions=4",
    `--symbols=${SYMBOLS.join(",")}`,
  ];
  const feed = [
    "--source=binance",
    `--binance-ws-url=${exchange.wsUrl}`,
    `--binance-rest-url=${exchange.restUrl}`,
  ];
  const first = await startService(
    parseConfig(["--port=0", "--role=ingest", "--node-id=in1", ...feed, ...bus]),
    { log: quiet },
  );
  let firstOpen = true;
  const dash = await startService(
    parseConfig(["--port=0", "--role=dashboard", "--node-id=dash1", ...bus]),
    { log: quiet, build: true },
  );
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS],
  });
  let second;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(90_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    // The overview: every symbol's row with a price, from the ingest node's summary.
    await page.goto(dash.url);
    await page.locator('.ov[data-feed="live"]').waitFor();
    await until("every row with a mid", async () => {
      const mids = await page.$$eval(
        ".ov-row .ov-c-mid",
        (cells) => cells.map((c) => parseFloat((c as HTMLElement).innerText)),
      );
      return mids.length === SYMBOLS.length && mids.every((m) => m > 0);
    });

    // The detail page: live, the ladder moves, the live charts draw, the feeds are live.
    await page.goto(new URL("s/ETHUSDT", dash.url).href);
    await page.locator('.badge[data-state="live"]').waitFor();
    const seqOf = () => page.locator(".book").getAttribute("data-seq").then(Number);
    const seq1 = await seqOf();
    await until("the ladder follows the bus", async () => (await seqOf()) >= seq1 + 5);
    await page.locator('[data-chart="mid"][data-empty="0"]').waitFor();
    await page.locator(".feeds tr.shown", { hasText: "ETHUSDT" }).waitFor();
    await until("the health panel shows the owner's feeds live", async () => {
      const text = await page.locator(".feeds").innerText();
      return /ETHUSDT/.test(text) && !/connecting/i.test(text);
    });

    // A second ingest node, then the first stops: the partitions move, the page goes on.
    second = await startService(
      parseConfig(["--port=0", "--role=ingest", "--node-id=in2", ...feed, ...bus]),
      { log: quiet },
    );
    const resyncs = () => page.locator("[data-resyncs]").getAttribute("data-resyncs").then(Number);
    const resyncsBefore = await resyncs();
    await first.close();
    firstOpen = false;
    const after = await seqOf();
    await until("frames again after the takeover", async () => (await seqOf()) >= after + 10);
    await page.locator('.badge[data-state="live"]').waitFor();
    const stats = await (await fetch(new URL("stats?symbols=none", second.url))).json();
    assert.equal(stats.bus.owned.length, 4, "the second ingest node holds every partition");
    // The new owner's frames carry a new epoch: the hub skipped a seq, the page resynced.
    await until(
      "the page resynced on the new epoch",
      async () => (await resyncs()) > resyncsBefore,
    );
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await dash.close();
    if (firstOpen) await first.close();
    await second?.close();
    await exchange.close();
    await nats.stop();
  }
});
