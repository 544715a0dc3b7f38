/**
 * The market overview (`GET /`) in real headless Chromium against the real
 * service with the simulated exchange, at 2 and at 2,000 symbols: live rows
 * that change, a virtualised table (few rows in the DOM, the page one
 * screen high), filter, sort and row navigation by keyboard, a click that
 * opens `/s/{SYMBOL}`, and no page errors. Every wait is for a condition; its
 * timeout only guards against a hang, so a busy machine makes the test
 * slower, not red.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { type Service, startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { symbolNames } from "../testing/footprint_scenario.ts";
import { HEAT_BACKGROUND } from "../lib/client/heatmap_scale.ts";
import { CHROMIUM_ARGS } from "../testing/chromium_session.ts";

const VIEWPORT = { width: 1280, height: 800 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `fn` returns true, polling; fails with `what` after `ms` (a hang guard). */
async function until(what: string, fn: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function serviceWith(symbols: number, build: boolean): Promise<Service> {
  const config = parseConfig([
    "--source",
    "sim",
    "--port",
    "0",
    "--symbols",
    symbolNames(symbols).join(","),
    "--sim-rate",
    symbols > 100 ? "2" : "20",
  ]);
  return startService(config, { build, log: createLogger({ level: "error" }) });
}

/** Texts of the rows in the DOM, symbol first. */
function rowTexts(page: Page): Promise<string[]> {
  return page.$$eval(".ov-row", (rows) => rows.map((r) => (r as HTMLElement).innerText));
}

const seqOf = (page: Page) => page.locator(".ov").getAttribute("data-seq").then(Number);
const rowsOf = (page: Page) => page.locator(".ov").getAttribute("data-rows").then(Number);
const focusedSymbol = (page: Page) =>
  page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset?.symbol ?? "");

/** The mid cells of the rows in the DOM, in row order. */
function mids(page: Page): Promise<number[]> {
  return page.$$eval(
    ".ov-row .ov-c-mid",
    (cells) => cells.map((c) => parseFloat((c as HTMLElement).innerText)),
  );
}

async function overviewAt(n: number, build: boolean): Promise<void> {
  const service = await serviceWith(n, build);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS],
  });
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    page.setDefaultTimeout(90_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`${m.text()} (${m.location().url})`);
    });
    // Wait for data, then check the server-rendered first paint (no JS): rows with mids.
    await until(
      "every symbol's first frame",
      () => Promise.resolve([...Array(n).keys()].every((id) => service.state.history.size(id) > 0)),
    );
    await until(
      "a summary with every symbol",
      () => Promise.resolve((service.state.summary?.seq ?? 0) >= 2),
    );
    const html = await (await fetch(service.url)).text();
    assert.match(html, /class="ov-row[^"]*"[^>]*href="\/s\/BTCUSDT"/);
    assert.match(html, /class="num ov-c-mid">\d/);
    const ssrRows = html.match(/class="ov-row[ "]/g)?.length ?? 0;
    assert.ok(ssrRows >= 2 && ssrRows <= Math.min(n, 60), `${ssrRows} rows server-rendered`);

    await page.goto(service.url);
    await page.locator('.ov[data-feed="live"]').waitFor();
    assert.equal(await rowsOf(page), n);
    // Rows change: a newer summary arrives and the drawn rows' values change.
    const seq1 = await seqOf(page);
    const texts1 = await rowTexts(page);
    await until("a newer summary", async () => (await seqOf(page)) >= seq1 + 2);
    await until("rows that change", async () => {
      const texts2 = await rowTexts(page);
      return texts2.length === texts1.length && texts2.some((t, i) => t !== texts1[i]);
    });
    // Virtualised: few rows in the DOM; the page is one screen, the table scrolls.
    const dom = (await rowTexts(page)).length;
    assert.ok(dom >= Math.min(n, 20) && dom <= Math.min(n, 80), `${dom} rows in the DOM`);
    const sizes = await page.evaluate(() => {
      const s = document.querySelector(".ov-scroll")!;
      return {
        page: document.documentElement.scrollHeight,
        table: s.scrollHeight,
        view: s.clientHeight,
      };
    });
    assert.ok(
      sizes.page <= VIEWPORT.height,
      `page ${sizes.page}px high in an ${VIEWPORT.height}px screen`,
    );
    if (n > 100) {
      assert.ok(sizes.table >= n * 24, `table ${sizes.table}px for ${n} rows`);
      await page.locator(".ov-scroll").evaluate((s) => s.scrollTop = s.scrollHeight);
      await page.locator(`.ov-row[data-symbol="S${String(n - 1).padStart(4, "0")}USDT"]`)
        .waitFor();
      assert.ok((await rowTexts(page)).length <= 80, "still few rows after scrolling");
      await page.locator(".ov-scroll").evaluate((s) => s.scrollTop = 0);
      await page.locator('.ov-row[data-row="0"]').waitFor();
    }

    // Sort by keyboard: focus the Mid header, Enter sorts descending, Enter again ascending.
    await page.locator('.ov-h[data-key="mid"]').focus();
    await page.keyboard.press("Enter");
    await page.locator('.ov-h[data-key="mid"][aria-sort="descending"]').waitFor();
    await until("rows by mid, descending", async () => {
      const m = (await mids(page)).filter(Number.isFinite);
      return m.length > 1 && m.every((v, i) => i === 0 || m[i - 1] >= v);
    });
    await page.keyboard.press("Enter");
    await page.locator('.ov-h[data-key="mid"][aria-sort="ascending"]').waitFor();
    await until("rows by mid, ascending", async () => {
      const m = (await mids(page)).filter(Number.isFinite);
      return m.length > 1 && m.every((v, i) => i === 0 || m[i - 1] <= v);
    });
    // Sort by symbol again (Space on its header), then filter by typing.
    await page.locator('.ov-h[data-key="symbol"]').focus();
    await page.keyboard.press("Space");
    await page.locator('.ov-h[data-key="symbol"][aria-sort="ascending"]').waitFor();
    await page.locator(".ov-filter").focus();
    await page.keyboard.type("eth");
    await until("the filter", async () => (await rowsOf(page)) === 1);
    assert.deepEqual(
      (await rowTexts(page)).map((t) => t.split(/\s/)[0]),
      ["ETHUSDT"],
    );
    // Row navigation by keyboard: clear, ArrowDown into the rows, down once more, Enter opens.
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Backspace");
    await until("every row again", async () => (await rowsOf(page)) === n);
    await page.keyboard.press("ArrowDown");
    await until("the first row focused", async () => (await focusedSymbol(page)) === "BTCUSDT");
    await page.keyboard.press("ArrowDown");
    await until("the second row focused", async () => (await focusedSymbol(page)) === "ETHUSDT");
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.pathname === "/s/ETHUSDT");
    // Search: type a symbol in the filter box and press Enter.
    await page.goto(service.url);
    await page.locator('.ov[data-feed="live"]').waitFor();
    await page.locator(".ov-filter").focus();
    await page.keyboard.type(n > 100 ? "s1999" : "btc");
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.pathname === (n > 100 ? "/s/S1999USDT" : "/s/BTCUSDT"));
    // A click on a row opens its detail page.
    await page.goto(service.url);
    await page.locator('.ov[data-feed="live"]').waitFor();
    const target = await page.locator('.ov-row[data-row="1"]').getAttribute("data-symbol");
    await page.locator('.ov-row[data-row="1"]').click();
    await page.waitForURL((u) => u.pathname === `/s/${target}`);
    // The detail page: its charts painted (at least 4 canvases) and the heatmap.
    await page.locator(`.charts[data-symbol="${target}"]`).waitFor();
    await until("4 painted chart canvases", async () => (await paintedCharts(page)) >= 4);
    await until("the heatmap painted", () => heatmapPainted(page));
    assert.deepEqual(errors, [], "no page errors");
    await page.close();
  } finally {
    await browser.close();
    await service.close();
  }
}

/** Chart canvases with a size and at least one non-transparent pixel. */
function paintedCharts(page: Page): Promise<number> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLCanvasElement>("[data-chart] canvas")].filter((c) => {
      if (c.width === 0 || c.height === 0) return false;
      const px = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
      return false;
    }).length
  );
}

/** Whether the heatmap canvas shows anything but its background colour. */
function heatmapPainted(page: Page): Promise<boolean> {
  return page.evaluate((bg) => {
    const c = document.querySelector<HTMLCanvasElement>(".heatmap canvas");
    if (!c || c.width === 0) return false;
    const px = new Uint32Array(
      c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data.buffer,
    );
    return px.some((p) => p !== 0 && p !== bg);
  }, HEAT_BACKGROUND);
}

const browserTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

browserTest(
  "overview in Chromium at 2 symbols: live rows, sort, filter, keyboard, navigation",
  () => overviewAt(2, true),
);

browserTest(
  "overview in Chromium at 2,000 symbols: virtualised, one screen high, sort, filter, keyboard, navigation",
  () => overviewAt(2000, false),
);
