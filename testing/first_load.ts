/**
 * First load of a page in headless Chromium, measured: the bytes each
 * response carried (Resource Timing: `transferSize`, `encodedBodySize`,
 * `decodedBodySize`) with its `Content-Encoding`, and the time to the first
 * chart (navigation start → the first animation frame in which a `<canvas>`
 * on the page holds a non-transparent pixel, found by a `requestAnimationFrame`
 * probe installed before any page script runs).
 *
 * Each load runs in a fresh browser context (empty cache), optionally with
 * its own `Accept-Encoding` on every request, so one browser can measure br,
 * gzip and identity.
 *
 * @example
 * ```ts ignore
 * const browser = await launchChromium();
 * const load = await measureFirstLoad(browser, "http://127.0.0.1:8000/", { encodings: ["br", "gzip"] });
 * console.log(load.firstChartMs, load.transferred);
 * await browser.close();
 * ```
 * @module
 */
import type { Browser } from "playwright-core";

export { CHROMIUM_ARGS, launchChromium } from "./chromium_session.ts";

/**
 * Options of {@link measureFirstLoad}.
 *
 * @example
 * ```ts
 * import type { FirstLoadOptions } from "./first_load.ts";
 * const gzipOnSlowLink: FirstLoadOptions = {
 *   encodings: ["gzip"],
 *   network: { latencyMs: 100, downKbps: 2_000, upKbps: 1_000 },
 * };
 * ```
 */
export interface FirstLoadOptions {
  /** Encodings the browser accepts (`br`, `gzip`, `deflate`, `zstd`); `[]` is identity only. Default: Chromium's own. */
  encodings?: string[];
  /** Viewport. Default 1280×800. */
  viewport?: { width: number; height: number };
  /** Emulated network (CDP `Network.emulateNetworkConditions`). Default none: loopback speed. */
  network?: { latencyMs: number; downKbps: number; upKbps: number };
  /** Hang guard for the first chart, ms. Default 60000. */
  timeoutMs?: number;
}

/**
 * One response of the load.
 *
 * @example
 * ```ts
 * import type { LoadedResource } from "./first_load.ts";
 * const saved = (r: LoadedResource) => r.decodedBodySize - r.encodedBodySize;
 * ```
 */
export interface LoadedResource {
  /** Path (and query) of the URL. */
  path: string;
  /** `Content-Encoding` of the response, `""` for none. */
  encoding: string;
  /** Bytes on the wire, headers included (Resource Timing `transferSize`). */
  transferSize: number;
  /** Body bytes as sent. */
  encodedBodySize: number;
  /** Body bytes after decoding. */
  decodedBodySize: number;
}

/**
 * What {@link measureFirstLoad} measured.
 *
 * @example
 * ```ts
 * import type { FirstLoad } from "./first_load.ts";
 * const line = (l: FirstLoad) => `${l.transferred} B, first chart at ${l.firstChartMs} ms`;
 * ```
 */
export interface FirstLoad {
  /** Navigation start → first frame with a painted canvas, ms. */
  firstChartMs: number;
  /** Navigation start → `DOMContentLoaded` end, ms. */
  domContentLoadedMs: number;
  /** Navigation start → `load` end, ms. */
  loadMs: number;
  /** The document and every script, style and image fetched (not the WebSocket). */
  resources: LoadedResource[];
  /** Sum of `transferSize` over `resources`. */
  transferred: number;
  /** Uncaught page errors. */
  pageErrors: string[];
}

const PROBE = `(() => {
  const probe = () => {
    for (const c of document.querySelectorAll("canvas")) {
      if (c.width === 0 || c.height === 0) continue;
      const ctx = c.getContext("2d");
      if (!ctx) continue;
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) {
        if (px[i] !== 0) { globalThis.__firstChartMs = performance.now(); return; }
      }
    }
    requestAnimationFrame(probe);
  };
  requestAnimationFrame(probe);
})();`;

/**
 * The path of a page with charts: the detail page `/s/{SYMBOL}` when the
 * service has that route (issue 14's overview then lives at `/`), else `/`
 * (the dashboard before it).
 *
 * @example
 * ```ts ignore
 * const url = new URL(await chartPagePath(service.url, "BTCUSDT"), service.url).href;
 * ```
 *
 * @param baseUrl The service's URL.
 * @param symbol A configured symbol, upper case.
 */
export async function chartPagePath(baseUrl: string, symbol: string): Promise<string> {
  const detail = `/s/${symbol}`;
  const res = await fetch(new URL(detail, baseUrl));
  await res.body?.cancel();
  return res.ok ? detail : "/";
}

/**
 * Load `url` once in a fresh context and measure it (see the module docs).
 * Resolves after the first chart is painted.
 *
 * @example
 * ```ts ignore
 * const load = await measureFirstLoad(browser, service.url, { encodings: [] });
 * console.log(load.resources.map((r) => `${r.path} ${r.encoding || "identity"}`));
 * ```
 */
export async function measureFirstLoad(
  browser: Browser,
  url: string,
  options: FirstLoadOptions = {},
): Promise<FirstLoad> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    // Chromium keeps a request's own Accept-Encoding and decodes what it knows.
    extraHTTPHeaders: options.encodings === undefined
      ? {}
      : { "Accept-Encoding": options.encodings.join(", ") || "identity" },
  });
  try {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const encodingOf = new Map<string, string>();
    page.on("response", async (r) => {
      const enc =
        (await r.allHeaders().catch(() => ({})) as Record<string, string>)["content-encoding"];
      encodingOf.set(r.url(), enc ?? "");
    });
    if (options.network) {
      const cdp = await context.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", {
        offline: false,
        latency: options.network.latencyMs,
        downloadThroughput: options.network.downKbps * 125,
        uploadThroughput: options.network.upKbps * 125,
      });
    }
    await page.addInitScript(PROBE);
    await page.goto(url, { waitUntil: "load" });
    await page.waitForFunction(() => "__firstChartMs" in globalThis, undefined, {
      timeout: options.timeoutMs ?? 60_000,
      polling: 50,
    });
    const timing = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      const all = [nav, ...performance.getEntriesByType("resource")] as PerformanceResourceTiming[];
      return {
        firstChartMs: (globalThis as unknown as { __firstChartMs: number }).__firstChartMs,
        domContentLoadedMs: nav.domContentLoadedEventEnd,
        loadMs: nav.loadEventEnd,
        entries: all.map((e) => ({
          url: e.name,
          transferSize: e.transferSize,
          encodedBodySize: e.encodedBodySize,
          decodedBodySize: e.decodedBodySize,
        })),
      };
    });
    const resources = timing.entries
      .filter((e) => !e.url.startsWith("ws"))
      .map((e) => {
        const u = new URL(e.url);
        return {
          path: u.pathname + u.search,
          encoding: encodingOf.get(e.url) ?? "",
          transferSize: e.transferSize,
          encodedBodySize: e.encodedBodySize,
          decodedBodySize: e.decodedBodySize,
        };
      });
    return {
      firstChartMs: timing.firstChartMs,
      domContentLoadedMs: timing.domContentLoadedMs,
      loadMs: timing.loadMs,
      resources,
      transferred: resources.reduce((s, r) => s + r.transferSize, 0),
      pageErrors,
    };
  } finally {
    await context.close();
  }
}
