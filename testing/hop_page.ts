/**
 * The latency a real dashboard page sees: Chromium (testing/chromium_session.ts)
 * opens `/s/<SYMBOL>` of a node, a script installed before the page's own
 * wraps `WebSocket` so every binary message the page receives is also read
 * by a small protobuf scanner (a `ServerMessage` whose field 2 is a `Frame`;
 * the frame's field 6 is `receive_time`), and the page's clock at receipt −
 * `receive_time` is kept while counting. For bench/bus_service_hop.ts: a
 * smaller sample next to the protocol client's.
 *
 * @example
 * ```ts ignore
 * import { launchChromium } from "./chromium_session.ts";
 * import { pageLatency } from "./hop_page.ts";
 * const browser = await launchChromium();
 * console.log(await pageLatency(browser, "http://127.0.0.1:8000/", "BTCUSDT", { duration: 10 }));
 * await browser.close();
 * ```
 * @module
 */

import type { Browser } from "playwright-core";

/** What {@link pageLatency} measured, ms. */
export interface PageLatency {
  /** Frames of the symbol received while counting. */
  frames: number;
  /** Median latency. */
  p50: number;
  /** 99th percentile. */
  p99: number;
  /** Largest. */
  max: number;
}

/** Runs in the page before its scripts: wraps `WebSocket` and keeps latencies in `__hopLat`. */
const HOOK = `(() => {
  const w = window;
  w.__hopLat = [];
  w.__hopCounting = false;
  const varint = (b, at) => { let v = 0, s = 0, x; do { x = b[at.p++]; v += (x & 127) * 2 ** s; s += 7; } while (x & 128 && s < 64); return v; };
  const skip = (b, at, wire) => { if (wire === 0) varint(b, at); else if (wire === 1) at.p += 8; else if (wire === 2) { const n = varint(b, at); at.p += n; } else if (wire === 5) at.p += 4; else at.p = b.length; };
  const receiveTime = (buf) => {
    const b = new Uint8Array(buf), at = { p: 0 };
    const tag = varint(b, at);
    if (tag !== ((2 << 3) | 2)) return NaN;
    const end = varint(b, at) + at.p;
    const view = new DataView(buf);
    while (at.p < end) {
      const t = varint(b, at), f = t >>> 3, wire = t & 7;
      if (f === 6 && wire === 1) return view.getFloat64(at.p, true);
      if (f > 6) return NaN;
      skip(b, at, wire);
    }
    return NaN;
  };
  const Native = w.WebSocket;
  w.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (!w.__hopCounting || !(e.data instanceof ArrayBuffer)) return;
        const now = performance.timeOrigin + performance.now();
        const r = receiveTime(e.data);
        if (r === r) w.__hopLat.push(now - r);
      });
    }
  };
})();`;

/**
 * Open `${baseUrl}s/${symbol}` in a new page, wait `warmup` s (default 3),
 * count `duration` s (default 10), close the page.
 *
 * @throws Error when the page received no frame while counting.
 */
export async function pageLatency(
  browser: Browser,
  baseUrl: string,
  symbol: string,
  options: { warmup?: number; duration?: number } = {},
): Promise<PageLatency> {
  const page = await browser.newPage();
  try {
    await page.addInitScript({ content: HOOK });
    await page.goto(new URL(`s/${symbol}`, baseUrl).href, { waitUntil: "load" });
    await new Promise((r) => setTimeout(r, (options.warmup ?? 3) * 1000));
    await page.evaluate(() =>
      (globalThis as unknown as { __hopCounting: boolean }).__hopCounting = true
    );
    await new Promise((r) => setTimeout(r, (options.duration ?? 10) * 1000));
    const lat = await page.evaluate(() => {
      const w = globalThis as unknown as { __hopCounting: boolean; __hopLat: number[] };
      w.__hopCounting = false;
      return w.__hopLat;
    });
    if (lat.length === 0) {
      throw new Error(`the page /s/${symbol} of ${baseUrl} received no frame while counting`);
    }
    lat.sort((a, b) => a - b);
    const q = (p: number) =>
      Math.round(lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] * 10) / 10;
    return {
      frames: lat.length,
      p50: q(0.5),
      p99: q(0.99),
      max: Math.round(lat[lat.length - 1] * 10) / 10,
    };
  } finally {
    await page.close();
  }
}
