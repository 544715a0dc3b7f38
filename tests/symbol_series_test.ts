import assert from "node:assert/strict";
import { SymbolSeries, UNKNOWN_SYMBOL } from "../lib/metrics/symbol_series.ts";
import { parsePromText, sampleValue } from "./fixtures/prom_text.ts";

Deno.test("symbol series: escaped labels and help, special values, the UNKNOWN row last", () => {
  const symbols = ["BTCUSDT", 'A"B', "C\\D", "E\nF"];
  const values = [1, NaN, Infinity, -Infinity, 42];
  const text = new SymbolSeries(symbols).render([
    {
      name: "x_total",
      help: "line one\nback\\slash",
      type: "counter",
      unknown: true,
      value: (id) => values[id],
    },
    { name: "y", help: "gauge", type: "gauge", value: (id) => id },
  ]);
  const f = parsePromText(text);
  assert.equal(f.get("x_total")!.help, "line one\nback\\slash");
  assert.equal(f.get("x_total")!.type, "counter");
  assert.deepEqual(
    f.get("x_total")!.samples.map((s) => s.labels.symbol),
    [...symbols, UNKNOWN_SYMBOL],
    "symbol-id order, UNKNOWN last, label values round-trip",
  );
  assert.equal(sampleValue(f, "x_total", { symbol: "BTCUSDT" }), 1);
  assert.ok(Number.isNaN(sampleValue(f, "x_total", { symbol: 'A"B' })));
  assert.equal(sampleValue(f, "x_total", { symbol: "C\\D" }), Infinity);
  assert.equal(sampleValue(f, "x_total", { symbol: "E\nF" }), -Infinity);
  assert.equal(sampleValue(f, "x_total", { symbol: UNKNOWN_SYMBOL }), 42);
  assert.equal(f.get("y")!.samples.length, symbols.length, "no UNKNOWN row unless asked");
  assert.ok(text.startsWith("\n# HELP x_total "), "a blank line separates it from what precedes");
  assert.ok(text.endsWith("\n"));
});
