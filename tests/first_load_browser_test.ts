/**
 * First load in real headless Chromium against the real service (simulated
 * exchange): the boot script and the stylesheet arrive brotli-compressed
 * (`content-encoding: br`, fewer bytes on the wire than decoded) on the page
 * with the charts (`/s/BTCUSDT` once that route exists, else `/`), the islands
 * hydrate and a chart is painted, with no page errors; with brotli turned
 * off in the browser the same page loads with gzip, and with neither it
 * loads uncompressed. Waits are for conditions; their timeouts only guard
 * against a hang.
 */
import assert from "node:assert/strict";
import { type Service, startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { chartPagePath, launchChromium, measureFirstLoad } from "../testing/first_load.ts";

function start(): Promise<Service> {
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

Deno.test({
  name:
    "first load: compressed boot script and stylesheet per the browser's encodings; islands hydrate",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const service = await start();
    const browser = await launchChromium();
    const url = new URL(await chartPagePath(service.url, "BTCUSDT"), service.url).href;
    try {
      for (
        const [encodings, want] of [[undefined, "br"], [["gzip", "deflate"], "gzip"], [
          [],
          "",
        ]] as const
      ) {
        const load = await measureFirstLoad(
          browser,
          url,
          encodings === undefined ? {} : { encodings: [...encodings] },
        );
        const what = `accepting ${encodings ?? "Chromium's default"}`;
        assert.deepEqual(load.pageErrors, [], `no page errors ${what}`);
        assert.ok(load.firstChartMs > 0, "a chart was painted");
        const boot = load.resources.find((r) => /^\/build\/boot-[0-9a-f]{16}\.js$/.test(r.path));
        const css = load.resources.find((r) => r.path.endsWith(".css"));
        assert.ok(boot, `the boot script was loaded: ${JSON.stringify(load.resources)}`);
        assert.ok(css, "the stylesheet was loaded");
        for (const r of [boot, css]) {
          assert.equal(r.encoding, want, `${r.path} ${what}`);
          if (want === "") assert.equal(r.encodedBodySize, r.decodedBodySize);
          else assert.ok(r.encodedBodySize < r.decodedBodySize / 2, JSON.stringify(r));
        }
      }
    } finally {
      await browser.close();
      await service.close();
    }
  },
});
