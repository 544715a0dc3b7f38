// The overview table's pure model: filter, sort (NaN last in both directions,
// stable by symbol id), the header toggle, and the virtual list's window.
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatCell, OverviewModel, visibleRange } from "../lib/client/overview_model.ts";

const shown = (m: OverviewModel) => [...m.order.subarray(0, m.count)].map((id) => m.symbols[id]);

Deno.test("overview model: sorts any column, NaN last both ways; filters case-insensitively", () => {
  const m = new OverviewModel(["ethusdt", "BTCUSDT", "SOLUSDT", "XRPUSDT"]);
  assert.deepEqual(shown(m), ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"], "by symbol at first");
  m.columns.mid.set([3000, 65000, NaN, 0.5]);
  m.columns.spreadBps.set([2, 0.1, 5, NaN]);
  m.toggleSort("mid");
  m.refresh();
  assert.deepEqual(shown(m), ["BTCUSDT", "ETHUSDT", "XRPUSDT", "SOLUSDT"], "mid descending");
  m.toggleSort("mid");
  m.refresh();
  assert.deepEqual(
    shown(m),
    ["XRPUSDT", "ETHUSDT", "BTCUSDT", "SOLUSDT"],
    "mid ascending, NaN last",
  );
  m.setSort("spreadBps", "asc");
  m.setFilter(" us dt ");
  m.refresh();
  assert.deepEqual(shown(m), ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]);
  m.setFilter("t");
  m.setSort("depth10bps", "desc");
  m.columns.depthBid10bps.set([1, 2, 3, 4]);
  m.columns.depthAsk10bps.set([10, 0, 0, 0]);
  m.refresh();
  assert.deepEqual(shown(m), ["ETHUSDT", "XRPUSDT", "SOLUSDT", "BTCUSDT"], "bid + ask depth");
  m.setFilter("sol");
  m.refresh();
  assert.equal(m.count, 1);
  assert.equal(m.symbolAt(0), "SOLUSDT");
  assert.equal(m.symbolAt(1), undefined);
  m.toggleSort("symbol");
  assert.equal(m.direction, "asc", "a new column: the symbol starts ascending");
});

Deno.test("overview model: the order is the sorted filtered ids, whatever the values (property)", () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.double({ noNaN: true }), fc.constant(NaN)), {
      minLength: 1,
      maxLength: 50,
    }),
    fc.boolean(),
    (values, asc) => {
      const names = values.map((_, i) => `S${i}`);
      const m = new OverviewModel(names);
      m.columns.ofi10s.set(values);
      m.setSort("ofi10s", asc ? "asc" : "desc");
      m.refresh();
      const got = [...m.order.subarray(0, m.count)].map((id) => m.columns.ofi10s[id]);
      assert.equal(got.length, values.length);
      const firstNaN = got.findIndex(Number.isNaN);
      if (firstNaN >= 0) assert.ok(got.slice(firstNaN).every(Number.isNaN), "NaN last");
      const nums = got.filter((v) => !Number.isNaN(v));
      for (let i = 1; i < nums.length; i++) {
        assert.ok(asc ? nums[i - 1] <= nums[i] : nums[i - 1] >= nums[i]);
      }
    },
  ));
});

Deno.test("overview model: the virtual window covers the viewport plus overscan, clamped", () => {
  const base = { rowHeight: 24, count: 2000, overscan: 4 };
  assert.deepEqual(visibleRange({ ...base, scrollTop: 0, viewportHeight: 480 }), {
    start: 0,
    end: 24,
  });
  assert.deepEqual(visibleRange({ ...base, scrollTop: 240, viewportHeight: 480 }), {
    start: 6,
    end: 34,
  });
  assert.deepEqual(visibleRange({ ...base, scrollTop: 48_000, viewportHeight: 480 }), {
    start: 1996,
    end: 2000,
  });
  assert.deepEqual(visibleRange({ ...base, count: 0, scrollTop: 100, viewportHeight: 480 }), {
    start: 0,
    end: 0,
  });
  assert.equal(formatCell("change15m", -0.05), "-5.00");
  assert.equal(formatCell("change1m", -0.00004), "0.00", "no negative zero");
  assert.equal(formatCell("change1m", 0.00004), "0.00");
  assert.equal(formatCell("feedState", 2), "stale");
  assert.equal(formatCell("ageMs", 2500), "2.5s");
  assert.equal(formatCell("depth10bps", 1.5e6), "1.50M");
  assert.equal(formatCell("volatility1m", 0.000123), "1.23");
  assert.equal(formatCell("imbalanceL5", -0.001), "0.00");
});
