/**
 * The detail dashboard (`/s/{SYMBOL}`) in real headless Chromium against the
 * real service (`startService` with the simulated exchange at 50 frames/s
 * per symbol): charts, ladder, symbol search by keyboard, pause, restart,
 * memory; the health panel's pages at 45 symbols; the mode badge.
 * Every wait is for a condition; its timeout (30 s and more) only guards
 * against a hang, so a busy machine makes the test slower, not red.
 *
 * Set `DEPTHWATCH_LONG=1` to also run the 60 s memory test.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { type Service, startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import type { WsHub } from "../lib/server/ws_hub.ts";
import { matchSymbols } from "../lib/client/symbol_match.ts";
import { CHROMIUM_ARGS } from "../testing/chromium_session.ts";

const CHARTS = ["mid", "spread", "imbalance", "ofi", "depth"];
const ARTIFACTS = new URL("../test_artifacts/", import.meta.url);

function serviceOn(port: number, build: boolean, flags: string[] = []): Promise<Service> {
  const config = parseConfig([
    "--source",
    "sim",
    "--port",
    String(port),
    "--symbols",
    "btcusdt,ethusdt",
    "--sim-rate",
    "50",
    ...flags, // a later --symbols or --sim-rate wins
  ]);
  return startService(config, { build, log: createLogger({ level: "error" }) });
}

function portOf(service: Service): number {
  return Number(new URL(service.url).port);
}

/** The URL of `symbol`'s detail page on `service`. */
function detailUrl(service: Service, symbol = "BTCUSDT", query = ""): string {
  return new URL(`/s/${symbol}${query}`, service.url).href;
}

/** Painted chart canvases (a canvas with a non-zero size inside a chart panel). */
function paintedCanvases(page: Page): Promise<number> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLCanvasElement>("[data-chart] canvas")]
      .filter((c) => c.width > 0 && c.height > 0).length
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fingerprint of every chart canvas's pixels (changes when a chart redraws new data). */
function chartPixels(page: Page): Promise<Record<string, string>> {
  return page.evaluate((ids) => {
    const out: Record<string, string> = {};
    for (const id of ids) {
      const c = document.querySelector<HTMLCanvasElement>(`[data-chart="${id}"] canvas`);
      out[id] = c ? c.toDataURL() : "";
    }
    return out;
  }, CHARTS);
}

function bookSeq(page: Page): Promise<number> {
  return page.locator(".book").getAttribute("data-seq").then(Number);
}

/** Wait until `fn` returns true, polling; fails with `what` after `ms` (a hang guard). */
async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Resolves after the page has painted twice: a render already scheduled has landed. */
function twoAnimationFrames(page: Page): Promise<void> {
  return page.evaluate(() =>
    new Promise<void>((resolve) =>
      requestAnimationFrame(() => requestAnimationFrame(() => resolve()))
    )
  );
}

/** JS heap used after a forced GC, bytes (CDP). */
async function heapAfterGc(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("Performance.enable");
    await cdp.send("HeapProfiler.collectGarbage");
    await cdp.send("HeapProfiler.collectGarbage");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const m = metrics.find((x: { name: string }) => x.name === "JSHeapUsedSize");
    assert.ok(m, "JSHeapUsedSize metric present");
    return m.value;
  } finally {
    await cdp.detach();
  }
}

async function withDashboard(
  fn: (ctx: { page: Page; service: () => Service; restart: () => Promise<void> }) => Promise<void>,
  viewport = { width: 1280, height: 800 },
  flags: string[] = [],
) {
  let service = await serviceOn(0, true, flags);
  const port = portOf(service);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS],
  });
  try {
    const page = await browser.newPage({ viewport });
    page.setDefaultTimeout(60_000); // a hang guard for every locator wait
    await fn({
      page,
      service: () => service,
      async restart() {
        await service.close();
        // The badge must notice the loss before the server is back.
        await page.locator('.badge[data-state="reconnecting"]').waitFor({ timeout: 60_000 });
        service = await serviceOn(port, false, flags);
      },
    });
    await page.close();
  } finally {
    await browser.close();
    await service.close();
  }
}

const browserTest = (name: string, fn: () => Promise<void>, ignore = false) =>
  Deno.test({ name, ignore, sanitizeResources: false, sanitizeOps: false, fn });

browserTest(
  "dashboard: live charts, ladder, switch, pause, restart, memory, screenshot",
  async () => {
    await withDashboard(async ({ page, service, restart }) => {
      const errors: string[] = [];
      let expectErrors = false;
      page.on("console", (m) => {
        if (m.type() === "error" && !expectErrors) errors.push(`${m.text()} (${m.location().url})`);
      });
      page.on("pageerror", (e) => errors.push(String(e)));

      // Once the history has frames, check the server-rendered first paint (no JS).
      await until(
        "frames in the history",
        () => Promise.resolve(service().state.history.size(0) > 0),
      );
      const html = await (await fetch(detailUrl(service()))).text();
      assert.match(html, /class="lrow bid[^"]*"[^>]*>.*?class="px num">[\d,]+\.\d+</s);
      assert.match(html, /data-symbol="BTCUSDT"/);

      await page.goto(detailUrl(service()));
      await page.locator('.badge[data-state="live"]').waitFor();
      for (const id of CHARTS) {
        await page.locator(`[data-chart="${id}"][data-empty="0"]`).waitFor();
      }
      assert.ok((await paintedCanvases(page)) >= 4, "at least 4 painted chart canvases");
      assert.ok(await page.locator('.mode-badge[data-mode="SIM"]').isVisible(), "SIM badge shown");

      // Every chart keeps redrawing with new data; the ladder follows the feed.
      const px1 = await chartPixels(page);
      const seq1 = await bookSeq(page);
      await until("every chart to redraw", async () => {
        const px2 = await chartPixels(page);
        return CHARTS.every((id) => px2[id] !== px1[id]);
      });
      await until("the ladder to advance", async () => (await bookSeq(page)) > seq1);
      const btcMid = await page.locator(".book .stat-value").first().textContent();

      // The search, by keyboard: `/` focuses it, typing filters, Enter opens
      // the symbol's page, where every panel shows it.
      await page.locator("body").click({ position: { x: 2, y: 2 } }); // focus on the page, not a field
      await page.keyboard.press("/");
      await page.locator(".symsearch-input:focus").waitFor();
      await page.keyboard.type("eth");
      await page.locator('.symsearch-opt.active[data-symbol="ETHUSDT"]').waitFor();
      await page.keyboard.press("Enter");
      await page.waitForURL(detailUrl(service(), "ETHUSDT"));
      await page.locator('.book[data-symbol="ETHUSDT"]').waitFor();
      await page.locator('.charts[data-symbol="ETHUSDT"]').waitFor();
      await page.locator(".feeds tr.shown", { hasText: "ETHUSDT" }).waitFor();
      await page.locator('.badge[data-state="live"]').waitFor();
      for (const id of CHARTS) {
        await page.locator(`[data-chart="${id}"][data-empty="0"]`).waitFor();
      }
      assert.ok((await paintedCanvases(page)) >= 4, "at least 4 painted canvases on ETH's page");
      await until("ETH prices in the book and the mid chart", async () => {
        const bookMid = await page.locator(".book .stat-value").first().textContent();
        const chartMid = await page.locator('[data-chart="mid"] .head-value').textContent();
        return bookMid !== btcMid && bookMid !== "—" && bookMid === chartMid;
      });
      const ethPx = await chartPixels(page);
      await until("ETH charts to update", async () => {
        const p = await chartPixels(page);
        return CHARTS.every((id) => p[id] !== ethPx[id]);
      });

      // Pause freezes every panel; resume restarts them.
      await page.locator("button.pause").click();
      await page.locator('button.pause[aria-pressed="true"]').waitFor();
      await twoAnimationFrames(page); // a render already scheduled has landed
      const frozenPx = await chartPixels(page);
      const frozenSeq = await bookSeq(page);
      await sleep(1000);
      assert.deepEqual(await chartPixels(page), frozenPx, "charts frozen while paused");
      assert.equal(await bookSeq(page), frozenSeq, "ladder frozen while paused");
      await page.locator("button.pause").click();
      await until("updates after resume", async () => (await bookSeq(page)) > frozenSeq);

      // Memory: flat JS heap over the window (both symbols at 50 frames/s).
      const before = await heapAfterGc(page);
      await sleep(15_000);
      const after = await heapAfterGc(page);
      assert.ok(
        after - before < 5 * 1024 * 1024,
        `JS heap grew ${((after - before) / 1048576).toFixed(2)} MB in 15 s`,
      );

      await Deno.mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: new URL("dashboard.png", ARTIFACTS).pathname });

      // Server restart: the badge shows reconnecting, then live, and the
      // history is resynced from the new server's Hello.
      const resyncsBefore = Number(
        await page.locator("[data-resyncs]").getAttribute("data-resyncs"),
      );
      const seqBefore = await bookSeq(page); // the old server's numbering, frames since its start
      expectErrors = true; // failed reconnect attempts and /stats polls log network errors
      await restart();
      await page.locator('.badge[data-state="live"]').waitFor();
      await until(
        "a resync after the restart",
        async () =>
          Number(await page.locator("[data-resyncs]").getAttribute("data-resyncs")) > resyncsBefore,
      );
      // The new server numbers frames from 1 again: the ladder follows it. Its
      // seq is one the new server has issued, and below the old server's
      // (which ran for the whole test before the restart).
      const seqAfter = await bookSeq(page);
      const newSeq = (service().state.hub as WsHub).seq(1);
      assert.ok(
        seqAfter <= newSeq && seqAfter < seqBefore,
        `history replaced by the new epoch (seq ${seqAfter}: new server at ${newSeq}, old at ${seqBefore})`,
      );
      await until("live updates after the restart", async () => (await bookSeq(page)) > seqAfter);
      await page.locator('.book[data-symbol="ETHUSDT"]').waitFor();
      expectErrors = false;
      await sleep(1200);

      assert.deepEqual(errors, [], "no console errors or page errors");
    });
  },
);

browserTest("dashboard: usable at phone width (no horizontal scroll)", async () => {
  await withDashboard(async ({ page, service }) => {
    await page.goto(detailUrl(service()));
    await page.locator('.badge[data-state="live"]').waitFor();
    await page.locator('[data-chart="mid"][data-empty="0"]').waitFor();
    const overflow = await page.evaluate(() =>
      document.documentElement.scrollWidth - document.documentElement.clientWidth
    );
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    // One column: the book sits above the charts.
    const book = await page.locator(".book").boundingBox();
    const charts = await page.locator(".charts").boundingBox();
    assert.ok(book && charts && book.y < charts.y);
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL("dashboard_phone.png", ARTIFACTS).pathname });
  }, { width: 390, height: 844 });
});

browserTest(
  "detail page at 45 symbols: keyboard search with arrows, health pages, 404 page, no errors",
  async () => {
    const symbols = Array.from({ length: 45 }, (_, i) => `s${String(i).padStart(2, "0")}usdt`);
    const upper = symbols.map((x) => x.toUpperCase());
    await withDashboard(
      async ({ page, service }) => {
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        page.on("console", (m) => {
          // The 404 page's own load is reported as a failed resource; nothing else may be.
          if (m.type() === "error" && !m.text().includes("404")) errors.push(m.text());
        });
        await page.goto(detailUrl(service(), "S07USDT"));
        await page.locator('.badge[data-state="live"]').waitFor();
        assert.ok(await page.locator('.mode-badge[data-mode="SIM"]').isVisible());

        // Health: 45 symbols counted, 20 a page; prev/next by keyboard.
        await page.locator('.health[data-state="ok"]').waitFor();
        await until(
          "45 symbols counted",
          async () =>
            (await page.locator(".feed-counts").textContent() ?? "").includes("45 symbols"),
        );
        assert.equal(await page.locator(".feeds tbody tr").count(), 20);
        const firstPage = await page.locator(".feeds tbody tr").allTextContents();
        assert.ok(await page.locator(".feeds-prev").isDisabled(), "no page before the first");
        await page.locator(".feeds-next").focus();
        await page.keyboard.press("Enter");
        await page.locator('.feeds-page[data-page="1"]').waitFor();
        await until("the second page's rows", async () => {
          const rows = await page.locator(".feeds tbody tr td:first-child").allTextContents();
          return rows.length === 20 && !rows.some((r) => firstPage.some((f) => f.startsWith(r)));
        });
        await page.keyboard.press("Enter"); // still focused: the last page
        await page.locator('.feeds-page[data-page="2"]').waitFor();
        await until(
          "5 rows on the last page",
          async () => (await page.locator(".feeds tbody tr").count()) === 5,
        );
        assert.ok(await page.locator(".feeds-next").isDisabled(), "no page after the last");
        await page.locator(".feeds-prev").focus();
        await page.keyboard.press("Space");
        await page.locator('.feeds-page[data-page="1"]').waitFor();
        // The page height stays bounded: one table page, not 45 rows.
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        assert.ok(height < 2000, `page is ${height}px tall`);
        await Deno.mkdir(ARTIFACTS, { recursive: true });
        await page.screenshot({
          path: new URL("dashboard_45_symbols.png", ARTIFACTS).pathname,
          fullPage: true,
        });

        // Search: `/`, type, arrows, Enter opens the highlighted symbol.
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        await page.keyboard.press("/");
        await page.locator(".symsearch-input:focus").waitFor();
        await page.keyboard.type("3");
        const expected = matchSymbols(upper, "3");
        assert.equal(await page.locator(".symsearch-opt").count(), Math.min(12, expected.length));
        assert.equal(
          await page.locator(".symsearch-input").getAttribute("aria-expanded"),
          "true",
        );
        await page.keyboard.press("ArrowDown");
        await page.keyboard.press("ArrowDown");
        await page.keyboard.press("ArrowUp");
        await page.locator(`.symsearch-opt.active[data-symbol="${expected[1]}"]`).waitFor();
        const activeId = await page.locator(".symsearch-input").getAttribute(
          "aria-activedescendant",
        );
        assert.equal(
          await page.locator(`[id="${activeId}"]`).getAttribute("data-symbol"),
          expected[1],
          "aria-activedescendant names the highlighted option",
        );
        await page.keyboard.press("Escape");
        await page.locator('.symsearch[data-open="0"]').waitFor();
        await page.keyboard.press("ArrowDown"); // reopens, the highlight kept
        await page.locator('.symsearch[data-open="1"]').waitFor();
        await page.locator(`.symsearch-opt.active[data-symbol="${expected[1]}"]`).waitFor();
        await page.keyboard.press("ArrowDown");
        await page.locator(`.symsearch-opt.active[data-symbol="${expected[2]}"]`).waitFor();
        await page.keyboard.press("Enter");
        await page.waitForURL(detailUrl(service(), expected[2]));
        await page.locator(`.book[data-symbol="${expected[2]}"]`).waitFor();
        for (const id of CHARTS) {
          await page.locator(`[data-chart="${id}"][data-empty="0"]`).waitFor();
        }
        assert.ok((await paintedCanvases(page)) >= 4, "at least 4 painted canvases");

        // `/` typed into a field is a character, not a jump.
        await page.locator(".symsearch-input").fill("");
        await page.locator(".symsearch-input").focus();
        await page.keyboard.type("s/");
        assert.equal(await page.locator(".symsearch-input").inputValue(), "s/");

        // An unknown symbol: the 404 page, its search box works.
        const res = await page.goto(detailUrl(service(), "NOPEUSDT"));
        assert.equal(res?.status(), 404);
        await page.getByText("NOPEUSDT is not a symbol this service watches").waitFor();
        await page.keyboard.press("/");
        await page.locator(".symsearch-input:focus").waitFor();
        await page.keyboard.type("s44");
        await page.keyboard.press("Enter");
        await page.waitForURL(detailUrl(service(), "S44USDT"));
        await page.locator('.badge[data-state="live"]').waitFor();
        await sleep(1200); // a poll or two of /stats
        assert.deepEqual(errors, [], "no page errors");
      },
      undefined,
      ["--symbols", symbols.join(","), "--sim-rate", "5"],
    );
  },
);

browserTest(
  "dashboard with a token: the token moves to a cookie, the feed and /stats follow",
  async () => {
    const token = "br0wser-t0ken";
    await withDashboard(
      async ({ page, service }) => {
        await page.goto(detailUrl(service(), "ethusdt", `?token=${token}`));
        assert.equal(
          page.url(),
          detailUrl(service(), "ETHUSDT"),
          "the token left the address bar (and the URL is canonical)",
        );
        await page.locator('.badge[data-state="live"]').waitFor(); // /ws opened with the cookie
        await page.locator('.health[data-state="ok"]').waitFor(); // /stats answered with the cookie
        await page.locator('.book[data-symbol="ETHUSDT"]').waitFor();
        assert.equal(
          await page.evaluate(() => document.cookie),
          "",
          "scripts cannot read the token",
        );
        const cookies = await page.context().cookies();
        const cookie = cookies.find((c) => c.name === "depthwatch_token");
        assert.ok(cookie, "the token cookie is set");
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, "Strict");
        assert.ok(!(await page.content()).includes(token), "the token is not in the page");
      },
      undefined,
      [`--auth-token=${token}`],
    );
  },
);

browserTest(
  "dashboard: JS heap flat over 60 s at 50 frames/s per symbol (DEPTHWATCH_LONG=1)",
  async () => {
    await withDashboard(async ({ page, service }) => {
      await page.goto(detailUrl(service()));
      await page.locator('.badge[data-state="live"]').waitFor();
      await sleep(5_000);
      const before = await heapAfterGc(page);
      await sleep(60_000);
      const after = await heapAfterGc(page);
      assert.ok(
        after - before < 5 * 1024 * 1024,
        `JS heap grew ${((after - before) / 1048576).toFixed(2)} MB in 60 s`,
      );
    });
  },
  Deno.env.get("DEPTHWATCH_LONG") !== "1",
);
