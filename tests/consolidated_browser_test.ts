/**
 * A consolidated instrument in real headless Chromium against the real
 * service (`--source sim`, `--consolidate BTC=btcusdt,btcusdc`: two Binance
 * spot sim books, tagged BN1 and BN2): the overview lists `X:BTC` marked
 * consolidated; its detail page (`/s/X%3ABTC`) shows venue tags on the
 * ladder's levels, the cross-venue spread, the ARB badge exactly when the
 * merged book is crossed, and the venues panel; a member stalled by the
 * simulated exchange turns STALE there (greyed) and no level carries its tag.
 * Waits are for conditions; their timeouts only guard against a hang.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Service } from "../main.ts";
import { startConsolidatedSim } from "./fixtures/consolidated_config.ts";
import { launchChromium, until } from "../testing/chromium_session.ts";

function start(): Promise<Service> {
  return startConsolidatedSim("BTC=btcusdt,btcusdc", { simRate: 20, staleMs: 1000 });
}

/** What the detail page shows of the consolidated book, read in one go (one render). */
interface BookView {
  /** Venue tags of the present ladder rows (asks then bids). */
  tags: string[];
  /** Member indexes of those rows. */
  members: string[];
  /** Best bid and best ask as shown (the ladder's first bid row, last ask row). */
  bestBid: number;
  bestAsk: number;
  /** The ARB badge's text, or null. */
  arb: string | null;
  /** Venues panel rows: symbol, stale flag, state text. */
  venues: { symbol: string; stale: string; state: string }[];
  /** The cross-venue spread text. */
  spread: string;
}

function bookView(page: Page): Promise<BookView> {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll(".ladder.consolidated .lrow:not(.blank)")]
      .filter((r) => r.classList.contains("bid") || r.classList.contains("ask"));
    const num = (el: Element | null | undefined) =>
      Number((el?.textContent ?? "").replaceAll(",", ""));
    const asks = rows.filter((r) => r.classList.contains("ask"));
    const bids = rows.filter((r) => r.classList.contains("bid"));
    return {
      tags: rows.map((r) => r.querySelector(".vn")?.textContent ?? ""),
      members: rows.map((r) => r.querySelector(".vn")?.getAttribute("data-venue") ?? ""),
      bestBid: num(bids[0]?.querySelector(".px")),
      bestAsk: num(asks[asks.length - 1]?.querySelector(".px")),
      arb: document.querySelector(".arb")?.textContent ?? null,
      venues: [...document.querySelectorAll(".venues .vrow[data-venue-symbol]")].map((r) => ({
        symbol: r.getAttribute("data-venue-symbol") ?? "",
        stale: r.getAttribute("data-stale") ?? "",
        state: r.querySelector(".vstate")?.textContent ?? "",
      })),
      spread: document.querySelector(".xspread")?.textContent ?? "",
    };
  });
}

Deno.test({
  name:
    "consolidated dashboard: venue tags on the ladder, venues panel, ARB when crossed; a stalled venue shown stale and left out",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const service = await start();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(60_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));

      // The overview lists the instrument like a symbol, marked consolidated.
      await page.goto(new URL("/", service.url).href);
      const row = page.locator('.ov-row[data-symbol="X:BTC"]');
      await row.waitFor();
      assert.match((await row.getAttribute("class")) ?? "", /\bov-x\b/);
      assert.equal(await row.getAttribute("href"), "/s/X%3ABTC");
      assert.match(await row.locator(".ov-c-symbol").innerText(), /X:BTC\s+consolidated/i);

      // The detail page: tags on the levels and both members LIVE.
      await page.goto(new URL("/s/X%3ABTC", service.url).href);
      await until("both venues live with tagged levels", async () => {
        const v = await bookView(page);
        return v.venues.length === 2 && v.venues.every((x) => x.stale === "0") &&
          v.tags.length > 0;
      });
      let v = await bookView(page);
      assert.deepEqual(v.venues.map((x) => [x.symbol, x.state]), [
        ["BTCUSDT", "LIVE"],
        ["BTCUSDC", "LIVE"],
      ]);
      assert.ok(v.tags.every((t, i) => t === `BN${Number(v.members[i]) + 1}`), v.tags.join());
      assert.match(v.spread, /\((BN1|BN2) bid · (BN1|BN2) ask\)/);
      // ARB exactly when the shown best bid is above the shown best ask.
      assert.equal(v.arb !== null, v.bestBid > v.bestAsk, JSON.stringify(v));
      if (v.arb !== null) assert.match(v.arb, /^ARB \+[0-9.,]+ · buy BN[12] sell BN[12]$/);

      // Stall BTCUSDC: the panel marks it STALE and no level is tagged with it.
      service.sim!.inject({ kind: "stall", symbol: "btcusdc" });
      await until("BTCUSDC stale on the page", async () => {
        const w = await bookView(page);
        return w.venues[1]?.stale === "1" && w.venues[0]?.stale === "0";
      });
      v = await bookView(page);
      assert.equal(v.venues[1].state, "STALE");
      assert.ok(v.tags.length > 0 && v.tags.every((t) => t === "BN1"), v.tags.join());
      assert.equal(v.arb, null, "one venue cannot be crossed against itself");
      const stale = page.locator('.venues .vrow[data-venue-symbol="BTCUSDC"]');
      assert.match((await stale.getAttribute("class")) ?? "", /\bstale\b/);
      assert.ok(
        Number(await stale.evaluate((el) => getComputedStyle(el).opacity)) < 1,
        "a stale venue is greyed",
      );
      assert.deepEqual(errors, [], "no page errors");
      await page.close();
    } finally {
      await browser.close();
      await service.close();
    }
  },
});
