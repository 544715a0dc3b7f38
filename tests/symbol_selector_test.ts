import assert from "node:assert/strict";
import fc from "fast-check";
import {
  parseSymbolSelector,
  patternMatcher,
  resolveSymbolSelector,
  SymbolSelectorError,
} from "../lib/ingest/symbol_selector.ts";
import { ConfigError, helpText, parseConfig } from "../lib/server/config.ts";
import { SIM_LISTED, simSymbols } from "../lib/server/symbol_resolution.ts";

const LISTED = [
  { symbol: "ethbtc", status: "TRADING" },
  { symbol: "btcusdt", status: "TRADING" },
  { symbol: "ethusdt", status: "TRADING" },
  { symbol: "lunausdt", status: "BREAK" },
  { symbol: "btcfdusd", status: "TRADING" },
  { symbol: "bnb_btc", status: "HALT" },
];

Deno.test("symbol selector: names, patterns and all, case-insensitive, de-duplicated in order", () => {
  const s = parseSymbolSelector(" BTCUSDT,*UsDt , btcusdt,ALL,*");
  assert.deepEqual(s.entries, [
    { kind: "name", text: "btcusdt" },
    { kind: "pattern", text: "*usdt" },
    { kind: "pattern", text: "*" },
  ]);
  assert.deepEqual(s.names, ["btcusdt"]);
  assert.equal(s.needsExchange, true);
  const plain = parseSymbolSelector("ethusdt,btcusdt");
  assert.equal(plain.needsExchange, false);
  assert.deepEqual(plain.names, ["ethusdt", "btcusdt"]);
  for (const bad of ["", " ", "a,,b", "btc usdt", "btc?usdt", "[ab]*", "btc/*", "a".repeat(33)]) {
    assert.throws(() => parseSymbolSelector(bad), SymbolSelectorError, bad);
  }
});

Deno.test("symbol selector: '*' is any run of characters, the rest literal", () => {
  assert.equal(patternMatcher("*usdt")("btcusdt"), true);
  assert.equal(patternMatcher("*usdt")("usdt"), true);
  assert.equal(patternMatcher("*usdt")("usdtbtc"), false);
  assert.equal(patternMatcher("btc*")("btcfdusd"), true);
  assert.equal(patternMatcher("*btc*")("ethbtc"), true);
  assert.equal(patternMatcher("b.c*")("bxcusdt"), false, "'.' is literal");
  assert.equal(patternMatcher("bnb_*")("bnb_btc"), true);
  assert.equal(patternMatcher("a-*")("a-b"), true);
});

Deno.test("symbol selector: resolves against the listing, TRADING only, in order", () => {
  assert.deepEqual(resolveSymbolSelector(parseSymbolSelector("all"), LISTED), [
    "ethbtc",
    "btcusdt",
    "ethusdt",
    "btcfdusd",
  ]);
  assert.deepEqual(
    resolveSymbolSelector(parseSymbolSelector("ethusdt,*usdt,btc*"), LISTED),
    ["ethusdt", "btcusdt", "btcfdusd"],
  );
});

Deno.test("symbol selector: unknown names, non-trading names and empty patterns are all named", () => {
  assert.throws(
    () => resolveSymbolSelector(parseSymbolSelector("nopeusdt,lunausdt,*eur,btcusdt"), LISTED),
    (err: unknown) => {
      assert.ok(err instanceof SymbolSelectorError);
      assert.match(err.message, /nopeusdt is not listed by the exchange/);
      assert.match(err.message, /lunausdt is listed as BREAK, not TRADING/);
      assert.match(err.message, /the pattern \*eur matches no TRADING symbol of the 6 listed/);
      assert.match(err.message, /expected names and patterns that match TRADING symbols/);
      assert.doesNotMatch(err.message, /btcusdt/);
      return true;
    },
  );
  assert.throws(
    () => resolveSymbolSelector(parseSymbolSelector("all"), [{ symbol: "x", status: "BREAK" }]),
    /all matches nothing: the exchange lists no TRADING symbol \(1 listed\)/,
  );
});

Deno.test("property: a resolved list is unique, TRADING, and covers every name and match", () => {
  const sym = fc.stringMatching(/^[a-c]{1,4}$/);
  const listing = fc.uniqueArray(
    fc.record({ symbol: sym, status: fc.constantFrom("TRADING", "BREAK") }),
    { selector: (l) => l.symbol, maxLength: 20 },
  );
  const entry = fc.oneof(sym, fc.stringMatching(/^[a-c*]{1,4}$/));
  fc.assert(
    fc.property(listing, fc.array(entry, { minLength: 1, maxLength: 5 }), (listed, entries) => {
      const selector = parseSymbolSelector(entries.join(","));
      let out: string[];
      try {
        out = resolveSymbolSelector(selector, listed);
      } catch (e) {
        assert.ok(e instanceof SymbolSelectorError);
        return;
      }
      const trading = new Set(listed.filter((l) => l.status === "TRADING").map((l) => l.symbol));
      assert.equal(new Set(out).size, out.length);
      for (const s of out) assert.ok(trading.has(s), s);
      for (const e of selector.entries) {
        if (e.kind === "name") assert.ok(out.includes(e.text));
        else {
          const m = patternMatcher(e.text);
          for (const t of trading) if (m(t)) assert.ok(out.includes(t), `${t} of ${e.text}`);
        }
      }
    }),
  );
});

Deno.test("--symbols: any number of names, patterns and all; the help says how", () => {
  const names = Array.from({ length: 2000 }, (_, i) => `s${i}usdt`);
  const big = parseConfig(["--symbols", names.join(",")]);
  assert.equal(big.symbols.length, 2000, "no 1,024 cap");
  assert.equal(big.symbolSelector.needsExchange, false);
  const all = parseConfig(["--symbols", "ALL"]);
  assert.deepEqual(all.symbols, []);
  assert.equal(all.symbolSelector.needsExchange, true);
  const mixed = parseConfig(["--symbols=ethbtc,*USDT"]);
  assert.deepEqual(mixed.symbols, ["ethbtc"]);
  assert.ok(Object.isFrozen(mixed.symbols) && Object.isFrozen(mixed.symbolSelector.entries));
  assert.throws(
    () => parseConfig(["--symbols", "*usdt,btc usdt"]),
    (e: unknown) =>
      e instanceof ConfigError && e.flag === "--symbols" &&
      e.message.includes(`"btc usdt" is neither a symbol name`),
  );
  const help = helpText();
  assert.match(help, /'\*' matches any characters/);
  assert.match(help, /all \(every symbol the exchange lists as TRADING\)/);
  assert.match(help, /GET \/api\/v3\/exchangeInfo/);
  // The in-process simulated exchange lists the names given, plus its four when a pattern needs them.
  assert.deepEqual(simSymbols(parseConfig(["--symbols", "xrpusdt,btcusdt"])), [
    "xrpusdt",
    "btcusdt",
  ]);
  assert.deepEqual(simSymbols(parseConfig(["--symbols", "xrpusdt,*"])), ["xrpusdt", ...SIM_LISTED]);
});

Deno.test("resolveSymbolSelector: a pattern leaves out listed symbols that are not valid names, and says which", () => {
  const long = `${"a".repeat(29)}usdt`; // 33 characters: over the 32 a wire slot holds
  const listed = [
    { symbol: "btcusdt", status: "TRADING" },
    { symbol: long, status: "TRADING" },
    { symbol: "币安人生usdt", status: "TRADING" },
    { symbol: "ethusdt", status: "TRADING" },
  ];
  const unusable: string[] = [];
  const out = resolveSymbolSelector(
    parseSymbolSelector("*usdt,all"),
    listed,
    (s) => unusable.push(s),
  );
  assert.deepEqual(out, ["btcusdt", "ethusdt"]);
  assert.deepEqual(unusable, [long, "币安人生usdt"], "each reported once, in listing order");
  assert.throws(
    () => resolveSymbolSelector(parseSymbolSelector("aaaa*"), listed),
    SymbolSelectorError,
    "a pattern matching only unusable symbols matches nothing",
  );
});
