// The data mode (lib/pipeline/data_mode.ts): LIVE only for Binance production
// hosts over TLS with --source binance; everything else is SIM, so simulated
// data is never shown as the market. Also as /health, /stats and the metric say it.
import assert from "node:assert/strict";
import { detectDataMode, LIVE_HOSTS } from "../lib/pipeline/data_mode.ts";
import { parseConfig } from "../lib/server/config.ts";
import { evaluateHealth } from "../lib/server/health.ts";
import { buildStats } from "../lib/server/stats.ts";
import { TestPipeline } from "./fixtures/service_state.ts";
import { renderToString } from "preact-render-to-string";
import ModeBadge from "../islands/ModeBadge.tsx";

const modeOf = (args: string[]) => {
  const c = parseConfig(args);
  return detectDataMode({ source: c.source, wsUrl: c.binanceWsUrl, restUrl: c.binanceRestUrl });
};

Deno.test("detectDataMode: the defaults are LIVE, --source sim is SIM", () => {
  assert.equal(modeOf([]), "LIVE");
  assert.equal(modeOf(["--source", "sim"]), "SIM");
  assert.equal(
    modeOf([
      "--binance-ws-url",
      "wss://data-stream.binance.vision",
      "--binance-rest-url",
      "https://api3.binance.com",
    ]),
    "LIVE",
    "documented Binance alternates are the market",
  );
});

Deno.test("detectDataMode: a binance source pointed anywhere else is SIM", () => {
  const cases: [string, string][] = [
    ["ws://127.0.0.1:9443", "http://127.0.0.1:9444"], // the footprint / sim exchange
    ["wss://stream.binance.com:9443", "http://127.0.0.1:9444"], // one URL is enough
    ["ws://localhost:9443", "https://api.binance.com"],
    ["ws://stream.binance.com:9443", "https://api.binance.com"], // not TLS: not provably Binance
    ["wss://testnet.binance.vision", "https://testnet.binance.vision"], // the testnet is not the market
    ["wss://stream.binance.com.evil.example", "https://api.binance.com"],
  ];
  for (const [ws, rest] of cases) {
    assert.equal(
      modeOf(["--binance-ws-url", ws, "--binance-rest-url", rest]),
      "SIM",
      `${ws} + ${rest}`,
    );
  }
  assert.equal(detectDataMode({ source: "binance", wsUrl: "not a url", restUrl: "" }), "SIM");
  assert.equal(detectDataMode({ source: "replay", wsUrl: "", restUrl: "" }), "REPLAY");
  assert.equal(detectDataMode({ source: "other", wsUrl: "", restUrl: "" }), "SIM");
  assert.ok(!LIVE_HOSTS.has("testnet.binance.vision"));
});

Deno.test("the mode in /health, /stats and the badge", () => {
  const p = new TestPipeline();
  assert.equal(evaluateHealth(p.state).mode, "SIM");
  assert.equal(buildStats(p.state).mode, "SIM");
  const sim = renderToString(<ModeBadge mode="SIM" />);
  assert.match(sim, /data-mode="SIM"/);
  assert.match(sim, /not the market/);
  assert.match(renderToString(<ModeBadge mode="LIVE" />), />LIVE</);
  assert.match(
    renderToString(<ModeBadge mode={"BOGUS" as "LIVE"} />),
    /data-mode="SIM"/,
    "an unknown mode is never shown as LIVE",
  );
});

Deno.test("the REPLAY badge's first paint: recorded clock, speed, state; no replay clock live", () => {
  const clockMs = Date.parse("2024-03-14T09:26:53.5Z");
  const html = renderToString(
    <ModeBadge mode="REPLAY" replay={{ clockMs, speed: "max", state: "ended", loops: 0 }} />,
  );
  assert.match(html, /data-mode="REPLAY"/);
  assert.match(html, />REPLAY</);
  assert.match(html, /class="replay-clock"[^>]*>2024-03-14 09:26:53 UTC</);
  assert.match(html, /class="replay-speed"[^>]*>max</);
  assert.match(html, /class="replay-state"[^>]*>ended</);
  assert.match(html, /data-replay-state="ended"/);
  assert.match(html, /not live/);
  const waiting = renderToString(<ModeBadge mode="REPLAY" />);
  assert.match(waiting, /class="replay-clock"[^>]*>—</);
  assert.match(waiting, /data-replay-state="waiting"/);
  assert.doesNotMatch(
    renderToString(
      <ModeBadge mode="LIVE" replay={{ clockMs, speed: 1, state: "playing", loops: 0 }} />,
    ),
    /replay-clock/,
    "only a REPLAY badge shows a replay clock",
  );
});
