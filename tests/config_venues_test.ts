import assert from "node:assert/strict";
import { ConfigError, helpText, parseConfig } from "../lib/server/config.ts";
import {
  parseSymbolSelector,
  resolveSymbolSelector,
  SymbolSelectorError,
} from "../lib/ingest/symbol_selector.ts";

/** The ConfigError of `args`, checked to name `flag`. */
function configError(args: string[], flag: string): string {
  try {
    parseConfig(args);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.flag, flag);
    return e.message;
  }
  assert.fail(`expected a ConfigError for ${args.join(" ")}`);
}

Deno.test("--symbols: venue:SYMBOL names become the service's names; plain names stay Binance spot", () => {
  const c = parseConfig([
    "--symbols",
    "BTCUSDT,okx:BTC-USDT,Kraken:btc/usd,bybit:ETHUSDT,binance-usdm:BTCUSDT,binance:ETHUSDT,coinbase:BTC-USD,okx:btc-usdt",
  ]);
  assert.deepEqual(c.symbols, [
    "btcusdt",
    "okx:btc-usdt",
    "kraken:btc/usd",
    "bybit:ethusdt",
    "binance-usdm:btcusdt",
    "ethusdt",
    "coinbase:btc-usd",
  ]);
  assert.deepEqual(c.venues, ["binance", "binance-usdm", "bybit", "okx", "kraken", "coinbase"]);
  assert.deepEqual(parseConfig(["--symbols", "okx:BTC-USDT"]).venues, ["okx"]);
  assert.deepEqual(parseConfig([]).venues, ["binance"]);
});

Deno.test("--symbols: a bad venue symbol names the venue's spelling; patterns are Binance spot only", () => {
  assert.match(
    configError(["--symbols", "kraken:BTCUSD"], "--symbols"),
    /"BTCUSD" is not a Kraken symbol: expected something like kraken:BTC\/USD/,
  );
  assert.match(
    configError(["--symbols", "okx:BTCUSDT"], "--symbols"),
    /expected something like okx:BTC-USDT/,
  );
  assert.match(
    configError(["--symbols", "ftx:BTC-PERP"], "--symbols"),
    /unknown venue "ftx" in "ftx:BTC-PERP": expected one of binance, binance-usdm, bybit, okx, kraken, coinbase/,
  );
  for (const pattern of ["okx:*", "bybit:btc*", "kraken:all"]) {
    assert.match(
      configError(["--symbols", pattern], "--symbols"),
      /patterns and all are Binance spot only/,
      pattern,
    );
  }
  assert.throws(() => parseSymbolSelector("okx:"), SymbolSelectorError);
});

Deno.test("symbol selector: a pattern resolves against Binance; venue names are taken as given", () => {
  const s = parseSymbolSelector("okx:BTC-USDT,*usdt,kraken:BTC/USD");
  assert.equal(s.needsExchange, true);
  const listed = [{ symbol: "btcusdt", status: "TRADING" }, { symbol: "ethusdt", status: "BREAK" }];
  assert.deepEqual(resolveSymbolSelector(s, listed), ["okx:btc-usdt", "btcusdt", "kraken:btc/usd"]);
  assert.deepEqual(parseConfig(["--symbols", "okx:BTC-USDT,all"]).venues, ["binance", "okx"]);
});

Deno.test("--venues with --source sim picks BTC and ETH on each venue; with live sources it limits", () => {
  const sim = parseConfig(["--source", "sim", "--venues", "binance,bybit,okx,kraken"]);
  assert.deepEqual(sim.symbols, [
    "btcusdt",
    "ethusdt",
    "bybit:btcusdt",
    "bybit:ethusdt",
    "okx:btc-usdt",
    "okx:eth-usdt",
    "kraken:btc/usd",
    "kraken:eth/usd",
    "x:btc",
  ]);
  assert.deepEqual(sim.venues, ["binance", "bybit", "okx", "kraken"]);
  // Several venues: X:BTC consolidates their BTC books, unless --consolidate says otherwise.
  assert.deepEqual(sim.consolidate, [
    { name: "x:btc", members: ["btcusdt", "bybit:btcusdt", "okx:btc-usdt", "kraken:btc/usd"] },
  ]);
  const one = parseConfig(["--source", "sim", "--venues", "okx"]);
  assert.deepEqual(one.symbols, ["okx:btc-usdt", "okx:eth-usdt"]);
  assert.deepEqual(one.consolidate, []);
  const own = parseConfig([
    "--source",
    "sim",
    "--venues",
    "bybit,okx",
    "--consolidate",
    "ETH=bybit:ETHUSDT,okx:ETH-USDT",
  ]);
  assert.deepEqual(own.consolidate, [{
    name: "x:eth",
    members: ["bybit:ethusdt", "okx:eth-usdt"],
  }]);
  assert.deepEqual(own.symbols.filter((s) => s.startsWith("x:")), ["x:eth"]);
  // Symbols given: they are used, and must be on the listed venues.
  const given = parseConfig(["--source", "sim", "--venues", "okx", "--symbols", "okx:SOL-USDT"]);
  assert.deepEqual(given.symbols, ["okx:sol-usdt"]);
  const live = parseConfig(["--venues", "okx,binance", "--symbols", "btcusdt,okx:BTC-USDT"]);
  assert.deepEqual(live.venues, ["binance", "okx"]);
  assert.match(
    configError(
      ["--venues", "okx", "--symbols", "btcusdt,okx:BTC-USDT,kraken:BTC/USD"],
      "--symbols",
    ),
    /btcusdt, kraken:btc\/usd are not on a venue --venues lists \(okx\); expected symbols of those venues only \(e\.g\. okx:BTC-USDT\), or binance added to --venues/,
  );
  assert.match(
    configError(["--venues", "okx"], "--symbols"),
    /the default --symbols; --venues picks the symbols with --source sim only/,
  );
  assert.match(
    configError(["--venues", "okx", "--symbols", "*usdt"], "--symbols"),
    /\(a pattern or all\)/,
  );
  assert.match(
    configError(["--venues", "okx,mtgox"], "--venues"),
    /--venues: invalid value "okx,mtgox"; expected venue ids out of binance, binance-usdm, bybit, okx, kraken, coinbase.*unknown venue mtgox/,
  );
});

Deno.test("--venue-url: per-venue URLs, repeated or comma-separated, checked", () => {
  const c = parseConfig([
    "--venue-url",
    "okx=ws://127.0.0.1:9001/ws/v5/public,binance-usdm=ws://127.0.0.1:9002/,http://127.0.0.1:9003",
    "--venue-url=KRAKEN=wss://ws.example.org/v2",
  ]);
  assert.deepEqual(c.venueUrls, {
    "okx": { wsUrl: "ws://127.0.0.1:9001/ws/v5/public" },
    "binance-usdm": { wsUrl: "ws://127.0.0.1:9002", restUrl: "http://127.0.0.1:9003" },
    "kraken": { wsUrl: "wss://ws.example.org/v2" },
  });
  assert.deepEqual(parseConfig([]).venueUrls, {});
  const env = parseConfig(
    [],
    (n) => n === "DEPTHWATCH_VENUE_URL" ? "bybit=ws://127.0.0.1:1" : undefined,
  );
  assert.deepEqual(env.venueUrls, { bybit: { wsUrl: "ws://127.0.0.1:1" } });
  const cases: [string, RegExp][] = [
    ["okx=http://127.0.0.1:1", /the WebSocket URL of okx must be ws:\/\/ or wss:\/\//],
    ["binance=ws://127.0.0.1:1", /Binance spot's URLs are --binance-ws-url and --binance-rest-url/],
    ["mtgox=ws://127.0.0.1:1", /unknown venue mtgox/],
    ["ws://127.0.0.1:1", /ws:\/\/127\.0\.0\.1:1 is not VENUE=URL/],
    ["okx=ws://a.example,ws://b.example", /the REST URL of okx must be http:\/\/ or https:\/\//],
    ["okx=ws://a.example,okx=ws://b.example", /okx is given twice/],
    ["okx=ws://user:pw@a.example", /the WebSocket URL of okx/],
  ];
  for (const [value, why] of cases) {
    assert.match(configError(["--venue-url", value], "--venue-url"), why, value);
  }
  assert.match(helpText(), /--venue-url <venue=ws_url\[,rest_url\]>/);
  assert.match(helpText(), /--venues <list>/);
});
