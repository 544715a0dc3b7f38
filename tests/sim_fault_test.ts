import assert from "node:assert/strict";
import { WeightMeter } from "../lib/sim/rest_weight.ts";
import { depthRequestWeight } from "../lib/pipeline/depth_request_weight.ts";
import { parseDuration, parseFault, parseFaultSpec } from "../lib/sim/sim_fault.ts";
import { parseSimArgs } from "../lib/sim/sim_main.ts";
import { parseStreamName } from "../lib/sim/stream_name.ts";

Deno.test("parseFault accepts each kind and lower-cases symbols", () => {
  assert.deepEqual(parseFault({ kind: "gap", symbol: "BTCUSDT", events: 2 }), {
    kind: "gap",
    symbol: "btcusdt",
    events: 2,
  });
  assert.deepEqual(parseFault({ kind: "clear" }), { kind: "clear" });
  assert.deepEqual(parseFault({ kind: "restSlow", delayMs: 50 }), {
    kind: "restSlow",
    delayMs: 50,
  });
  assert.deepEqual(parseFault({ kind: "close", code: 4000, everyMs: 10, durationMs: 100 }), {
    kind: "close",
    code: 4000,
    everyMs: 10,
    durationMs: 100,
  });
});

Deno.test("parseFault rejects bad input with messages naming the problem", () => {
  assert.throws(() => parseFault(null), /must be an object/);
  assert.throws(() => parseFault({ kind: "explode" }), /fault\.kind must be one of close, stall/);
  assert.throws(() => parseFault({ kind: "gap" }), /needs the field "symbol"/);
  assert.throws(
    () => parseFault({ kind: "stall", count: 1 }),
    /has no field "count"; allowed: symbol/,
  );
  assert.throws(() => parseFault({ kind: "garbage", count: 0 }), /integer >= 1/);
  assert.throws(() => parseFault({ kind: "stall", durationMs: -1 }), /non-negative number/);
  assert.throws(() => parseFault({ kind: "close", code: 1006 }), /1000 or 3000\.\.4999/);
  assert.throws(() => parseFault({ kind: "crossed", symbol: "btc/usdt" }), /symbol like/);
  assert.throws(() => parseFault({ kind: "clear", symbol: "btcusdt" }), /allowed: none/);
});

Deno.test("parseDuration and parseFaultSpec (command-line form)", () => {
  assert.equal(parseDuration("250"), 250);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2m"), 120_000);
  assert.throws(() => parseDuration("soon"), /500ms, 5s, 2m/);
  assert.deepEqual(parseFaultSpec("close:5s"), { atMs: 5000, fault: { kind: "close" } });
  assert.deepEqual(parseFaultSpec("stall:10s,durationMs=3s,symbol=btcusdt"), {
    atMs: 10_000,
    fault: { kind: "stall", durationMs: 3000, symbol: "btcusdt" },
  });
  assert.deepEqual(parseFaultSpec("rest429,count=2,retryAfterSec=1"), {
    atMs: 0,
    fault: { kind: "rest429", count: 2, retryAfterSec: 1 },
  });
  assert.throws(() => parseFaultSpec("gap:1s,symbol"), /expected key=value/);
  assert.throws(() => parseFaultSpec("rest429:1s,count=x"), /count must be a number/);
  assert.throws(() => parseFaultSpec("boom:1s"), /fault\.kind must be one of/);
});

Deno.test("parseSimArgs: defaults, flags, faults and errors", () => {
  const d = parseSimArgs([]);
  assert.deepEqual(d.symbols, ["btcusdt", "ethusdt"]);
  assert.equal(d.rate, 10);
  assert.equal(d.port, 9443);
  const a = parseSimArgs([
    "--symbols",
    "BTCUSDT,solusdt",
    "--rate=50",
    "--port",
    "0",
    "--fault",
    "close:5s",
    "--fault",
    "gap:1s,symbol=btcusdt",
    "--status",
    "SOLUSDT=BREAK",
  ]);
  assert.deepEqual(a.statuses, { solusdt: "BREAK" });
  assert.deepEqual(d.statuses, {});
  assert.throws(
    () => parseSimArgs(["--status", "solusdt=break"]),
    /--status must be SYMBOL=STATUS/,
  );
  assert.deepEqual(a.symbols, ["btcusdt", "solusdt"]);
  assert.equal(a.rate, 50);
  assert.equal(a.port, 0);
  assert.deepEqual(a.faults.map((f) => [f.atMs, f.fault.kind]), [[5000, "close"], [1000, "gap"]]);
  assert.equal(parseSimArgs(["--help"]).help, true);
  assert.throws(() => parseSimArgs(["--rate", "fast"]), /--rate must be a number/);
  assert.throws(() => parseSimArgs(["--port"]), /--port needs a value/);
  assert.throws(() => parseSimArgs(["--bogus", "1"]), /unknown flag --bogus/);
});

Deno.test("parseStreamName: depth streams only, lower-case", () => {
  assert.deepEqual(parseStreamName("btcusdt@depth20@100ms"), {
    symbol: "btcusdt",
    levels: 20,
    speedMs: 100,
  });
  assert.deepEqual(parseStreamName("ethusdt@depth5"), {
    symbol: "ethusdt",
    levels: 5,
    speedMs: 1000,
  });
  assert.deepEqual(parseStreamName("btcusdt@depth@100ms"), {
    symbol: "btcusdt",
    levels: 0,
    speedMs: 100,
  });
  for (const bad of ["btcusdt@trade", "BTCUSDT@depth", "btcusdt@depth15", "btcusdt", "@depth"]) {
    const r = parseStreamName(bad);
    assert.ok("error" in r, bad);
    assert.match(r.error, /expected "<symbol>@depth5\|depth10\|depth20\[@100ms\]"/);
  }
});

Deno.test("REST weights follow the Binance table; the meter slides over one minute", () => {
  assert.deepEqual([1, 100, 101, 500, 501, 1000, 1001, 5000].map(depthRequestWeight), [
    5,
    5,
    25,
    25,
    50,
    50,
    250,
    250,
  ]);
  const m = new WeightMeter();
  m.add(50, 1_000);
  m.add(250, 30_500);
  assert.equal(m.used(31_000), 300);
  assert.equal(m.used(61_500), 250, "the first request left the window");
  assert.equal(m.used(91_000), 0);
  m.add(6000, 100_000);
  assert.equal(m.retryAfterSeconds(5, 6000, 100_000), 61);
  assert.equal(m.retryAfterSeconds(5, 7000, 100_000), 0);
});
