// The symbol search's matcher (lib/client/symbol_match.ts) and the detail
// page's path symbol (lib/client/detail_symbol.ts): examples and properties.
import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_MATCH_LIMIT, matchSymbols } from "../lib/client/symbol_match.ts";
import { detailPath, resolveDetailSymbol } from "../lib/client/detail_symbol.ts";

const SERVED = ["ETHBTC", "BTCDOMUSDT", "BTCUSDT", "WBTCUSDT", "ETHUSDT", "SOLUSDT"];

Deno.test("matchSymbols: prefix matches first, shorter first, then substrings by position", () => {
  assert.deepEqual(matchSymbols(SERVED, "btc"), ["BTCUSDT", "BTCDOMUSDT", "WBTCUSDT", "ETHBTC"]);
  assert.deepEqual(matchSymbols(SERVED, " Eth "), ["ETHBTC", "ETHUSDT"], "trimmed, any case");
  assert.deepEqual(matchSymbols(SERVED, "xyz"), []);
  assert.deepEqual(matchSymbols(SERVED, ""), SERVED, "an empty query lists the symbols");
  assert.deepEqual(matchSymbols(SERVED, "", { limit: 2 }), ["ETHBTC", "BTCDOMUSDT"]);
  assert.equal(matchSymbols(SERVED, "usdt", { limit: 0 }).length, 0);
  assert.throws(() => matchSymbols(SERVED, "b", { limit: -1 }), /expected an integer ≥ 0/);
});

Deno.test("matchSymbols: 2,000 symbols give at most 12 results", () => {
  const many = Array.from({ length: 2000 }, (_, i) => `S${i}USDT`);
  assert.equal(DEFAULT_MATCH_LIMIT, 12);
  const r = matchSymbols(many, "1");
  assert.equal(r.length, 12);
  assert.ok(r.every((s) => s.startsWith("S1")), "no prefix hit here, so earliest position first");
  assert.equal(matchSymbols(many, "S1999")[0], "S1999USDT");
});

const name = fc.stringMatching(/^[A-Z0-9]{1,10}$/);

Deno.test("matchSymbols properties: every result holds the query, prefixes first, bounded, complete", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(name, { maxLength: 60 }),
      fc.stringMatching(/^[A-Za-z0-9]{0,3}$/),
      fc.integer({ min: 0, max: 20 }),
      (symbols, query, limit) => {
        const r = matchSymbols(symbols, query, { limit });
        const q = query.toUpperCase();
        assert.ok(r.length <= limit, "bounded by the limit");
        assert.equal(new Set(r).size, r.length, "no duplicates");
        for (const s of r) assert.ok(s.includes(q), `${s} contains ${q}`);
        const firstOther = r.findIndex((s) => !s.startsWith(q));
        if (firstOther >= 0) {
          assert.ok(r.slice(firstOther).every((s) => !s.startsWith(q)), "prefix matches first");
        }
        const all = symbols.filter((s) => s.includes(q));
        assert.equal(r.length, Math.min(limit, all.length), "as many as match, up to the limit");
        // When the list is cut, no prefix match is left out for a substring match.
        const prefixes = all.filter((s) => s.startsWith(q)).length;
        assert.equal(r.filter((s) => s.startsWith(q)).length, Math.min(prefixes, r.length));
      },
    ),
  );
});

Deno.test("resolveDetailSymbol: ok, redirect, unknown, malformed", () => {
  const served = ["BTCUSDT", "ETHUSDT", "1000SATS-X"];
  assert.deepEqual(resolveDetailSymbol("ETHUSDT", served), {
    kind: "ok",
    symbol: "ETHUSDT",
    id: 1,
  });
  assert.deepEqual(resolveDetailSymbol("ethUSDT", served), {
    kind: "redirect",
    symbol: "ETHUSDT",
    id: 1,
  });
  assert.deepEqual(resolveDetailSymbol("1000sats-x", served).kind, "redirect");
  assert.deepEqual(resolveDetailSymbol("DOGEUSDT", served), {
    kind: "unknown",
    symbol: "DOGEUSDT",
  });
  for (const bad of ["", "BTC USDT", "a?b", "<script>", "x".repeat(33), "BTCUSDT\n", "ÄTH"]) {
    assert.deepEqual(resolveDetailSymbol(bad, served), { kind: "malformed" }, JSON.stringify(bad));
  }
  assert.equal(resolveDetailSymbol("X".repeat(32), served).kind, "unknown", "32 characters fit");
  assert.equal(detailPath("BTCUSDT"), "/s/BTCUSDT");
  // Venue symbols and consolidated instruments: ':' and '/' are part of the name.
  const venues = ["X:BTC-USDT", "KRAKEN:BTC/USD"];
  assert.deepEqual(resolveDetailSymbol("x:btc-usdt", venues), {
    kind: "redirect",
    symbol: "X:BTC-USDT",
    id: 0,
  });
  assert.equal(resolveDetailSymbol("KRAKEN:BTC/USD", venues).kind, "ok");
  assert.equal(detailPath("KRAKEN:BTC/USD"), "/s/KRAKEN%3ABTC%2FUSD");
});

Deno.test("resolveDetailSymbol property: any spelling of a served symbol finds it", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(name, { minLength: 1, maxLength: 20 }),
      fc.nat(),
      fc.array(fc.boolean(), { maxLength: 10 }),
      (symbols, pick, lower) => {
        const symbol = symbols[pick % symbols.length];
        const spelled = [...symbol].map((c, i) => lower[i] ? c.toLowerCase() : c).join("");
        const r = resolveDetailSymbol(spelled, symbols);
        assert.ok(r.kind === "ok" || r.kind === "redirect");
        assert.equal(r.symbol, symbol);
        assert.equal(r.id, symbols.indexOf(symbol));
        assert.equal(r.kind === "ok", spelled === symbol, "only the canonical spelling is ok");
      },
    ),
  );
});
