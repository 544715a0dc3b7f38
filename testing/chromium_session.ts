/**
 * Test helpers for driving the dashboard in headless Chromium
 * (`/usr/bin/chromium` via playwright-core, never a downloaded browser):
 * the launch flags the team uses, a condition poller and an
 * animation-frame barrier. Every wait is for a condition; its timeout only
 * guards against a hang.
 *
 * @example
 * ```ts ignore
 * import { launchChromium, until } from "./chromium_session.ts";
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 * await until("a title", async () => (await page.title()) !== "");
 * await browser.close();
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";

/** Chromium flags for tests: headless, no sandbox, no GPU, nothing fetched from the network. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * Launch the system Chromium with {@linkcode CHROMIUM_ARGS}.
 *
 * @example
 * ```ts ignore
 * import { launchChromium } from "./chromium_session.ts";
 * const browser = await launchChromium();
 * await browser.close();
 * ```
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: [...CHROMIUM_ARGS] });
}

/**
 * Poll `fn` every 100 ms until it returns true; fails naming `what` after
 * `ms` (a hang guard, default 60 s).
 *
 * @example
 * ```ts ignore
 * import { until } from "./chromium_session.ts";
 * let n = 0;
 * await until("three polls", () => Promise.resolve(++n >= 3));
 * ```
 */
export async function until(
  what: string,
  fn: () => Promise<boolean>,
  ms = 60_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`);
}

/**
 * Resolves after the page has run two animation frames: a render already
 * scheduled has landed.
 *
 * @example
 * ```ts ignore
 * import { twoAnimationFrames } from "./chromium_session.ts";
 * await twoAnimationFrames(page);
 * ```
 */
export function twoAnimationFrames(page: Page): Promise<void> {
  return page.evaluate(() =>
    new Promise<void>((resolve) =>
      requestAnimationFrame(() => requestAnimationFrame(() => resolve()))
    )
  );
}
