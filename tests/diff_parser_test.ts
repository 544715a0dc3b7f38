import assert from "node:assert/strict";
import fc from "fast-check";
import { DiffEvent } from "../lib/ingest/diff_event.ts";
import { ControlMessage, DiffParser } from "../lib/ingest/diff_parser.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { SymbolTable } from "../lib/ingest/symbol_table.ts";
import { recordedLines as lines } from "../testing/recorded_data.ts";
import { isObject, refLevels } from "./fixtures/json_reference.ts";

const SYMBOLS = ["nknusdt", "blzeth", "lrcbtc", "runeeur", "sushiusdt", "btcusdt"];

interface RefEvent {
  code: number;
  symbolId?: number;
  eventTime?: number;
  firstUpdateId?: number;
  finalUpdateId?: number;
  prevFinalUpdateId?: number;
  bids?: number[][];
  asks?: number[][];
}

/** Reference diff-event parse with JSON.parse + parseFloat (documented semantics). */
function refDiff(text: string, capacity: number, fallback = -1): RefEvent {
  const M = { code: RejectReason.Malformed };
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return M;
  }
  if (!isObject(msg)) return M;
  if ("stream" in msg && typeof msg.stream !== "string") return M;
  const stream = msg.stream as string | undefined;
  const hasData = "data" in msg;
  if (hasData && !isObject(msg.data)) return M;
  const ev = hasData ? msg.data as Record<string, unknown> : msg;
  const EVENT_KEYS = ["e", "E", "s", "U", "u", "pu", "b", "a", "bids", "asks", "lastUpdateId"];
  if (hasData && EVENT_KEYS.some((k) => k in msg)) return M; // event keys belong in data
  const nums = ["E", "U", "u", "pu"].map((k) =>
    k in ev ? (typeof ev[k] === "number" ? ev[k] as number : null) : NaN
  );
  if (nums.includes(null)) return M;
  if ("lastUpdateId" in ev && typeof ev.lastUpdateId !== "number") return M;
  if ("e" in ev && typeof ev.e !== "string") return M;
  if ("s" in ev && typeof ev.s !== "string") return M;
  const bids = "b" in ev || "bids" in ev ? refLevels(ev.b ?? ev.bids) : undefined;
  const asks = "a" in ev || "asks" in ev ? refLevels(ev.a ?? ev.asks) : undefined;
  if (bids === null || asks === null) return M;
  if (stream === "!serverShutdown" || ev.e === "serverShutdown") {
    return { code: ControlMessage.ServerShutdown };
  }
  if ("id" in msg && !hasData && stream === undefined) {
    if ("error" in msg || "code" in msg) return { code: ControlMessage.SubscriptionError };
    if ("result" in msg) return { code: ControlMessage.SubscriptionReply };
  }
  const lookup = (name: string) =>
    name.includes("@") ? -1 : SYMBOLS.indexOf(name.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  let symbolId = fallback;
  if (stream !== undefined) {
    const m = /^([^@]*)@depth(@\d+ms)?$/.exec(stream);
    if (m === null) return { code: RejectReason.UnknownStream };
    symbolId = lookup(m[1]);
  } else if ("s" in ev) symbolId = lookup(ev.s as string);
  if (symbolId < 0) return { code: RejectReason.UnknownStream };
  if ("e" in ev && ev.e !== "depthUpdate") return M;
  const [E, U, u, pu] = nums as number[];
  if (Number.isNaN(U) || Number.isNaN(u) || bids === undefined || asks === undefined) return M;
  if (bids.length > capacity || asks.length > capacity) {
    return { code: RejectReason.TooManyLevels };
  }
  return {
    code: RejectReason.Ok,
    symbolId,
    eventTime: E,
    firstUpdateId: U,
    finalUpdateId: u,
    prevFinalUpdateId: pu,
    bids,
    asks,
  };
}

function readEvent(ev: DiffEvent): RefEvent {
  const side = (p: Float64Array, q: Float64Array, n: number) =>
    Array.from({ length: n }, (_, i) => [p[i], q[i]]);
  return {
    code: RejectReason.Ok,
    symbolId: ev.symbolId,
    eventTime: ev.eventTime,
    firstUpdateId: ev.firstUpdateId,
    finalUpdateId: ev.finalUpdateId,
    prevFinalUpdateId: ev.prevFinalUpdateId,
    bids: side(ev.bidPrices, ev.bidSizes, ev.bidCount),
    asks: side(ev.askPrices, ev.askSizes, ev.askCount),
  };
}

function assertSameNumbers(actual: unknown, expected: unknown, path = "$"): void {
  if (typeof expected === "number") {
    assert.ok(Object.is(actual, expected), `${path}: got ${String(actual)}, expected ${expected}`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}.length`);
    expected.forEach((e, i) => assertSameNumbers((actual as unknown[])[i], e, `${path}[${i}]`));
  } else if (isObject(expected)) {
    for (const k of Object.keys(expected)) {
      assertSameNumbers((actual as Record<string, unknown>)[k], expected[k], `${path}.${k}`);
    }
  } else {
    assert.deepEqual(actual, expected, path);
  }
}

function check(parser: DiffParser, ev: DiffEvent, text: string, fallback = -1): number {
  const code = parser.parse(text, ev, fallback);
  const ref = refDiff(text, ev.bidPrices.length, fallback);
  assert.equal(code, ref.code, `result code for ${text.slice(0, 200)}`);
  if (code === RejectReason.Ok) assertSameNumbers(readEvent(ev), ref);
  return code;
}

Deno.test("DiffEvent: preallocated arrays, NaN defaults, capacity validation", () => {
  const ev = new DiffEvent();
  assert.equal(ev.bidPrices.length, 5000);
  assert.equal(ev.askSizes.length, 5000);
  assert.ok(Number.isNaN(ev.prevFinalUpdateId));
  assert.equal(new DiffEvent({ capacity: 3 }).askPrices.length, 3);
  assert.throws(() => new DiffEvent({ capacity: 0 }), /integer from 1/);
  assert.throws(() => new DiffEvent({ capacity: 1.5 }), RangeError);
});

Deno.test("DiffParser: recorded spot diff events (wrapped) match the reference bit for bit", () => {
  const parser = new DiffParser(new SymbolTable(SYMBOLS));
  const ev = new DiffEvent();
  const frames = lines("spot_diff.jsonl");
  assert.equal(frames.length, 177);
  const counts = new Map<number, number>();
  for (const f of frames) {
    assert.equal(check(parser, ev, f), RejectReason.Ok);
    counts.set(ev.symbolId, (counts.get(ev.symbolId) ?? 0) + 1);
    assert.ok(Number.isNaN(ev.prevFinalUpdateId), "spot events have no pu");
  }
  assert.deepEqual([...counts].sort(), [[0, 150], [1, 10], [2, 15], [3, 2]]);
  // First NKNUSDT event, checked against the recorded text.
  assert.equal(parser.parse(frames[0], ev), RejectReason.Ok);
  assert.equal(ev.firstUpdateId, 499869750);
  assert.equal(ev.finalUpdateId, 499869752);
  assert.equal(ev.eventTime, 1633998512068);
  assert.equal(ev.bidCount, 3);
  assert.equal(ev.askCount, 0);
  assert.equal(ev.bidPrices[1], 0.3475);
  assert.equal(ev.bidSizes[1], 5548);
});

Deno.test("DiffParser: recorded futures events carry pu; the chain pu == prev u holds", () => {
  const parser = new DiffParser(new SymbolTable(SYMBOLS));
  const ev = new DiffEvent();
  let prevU = NaN;
  let zeros = 0;
  for (const f of lines("futures_diff.jsonl")) {
    assert.equal(check(parser, ev, f), RejectReason.Ok);
    assert.equal(ev.symbolId, 4);
    if (!Number.isNaN(prevU)) assert.equal(ev.prevFinalUpdateId, prevU);
    prevU = ev.finalUpdateId;
    for (let i = 0; i < ev.bidCount; i++) if (ev.bidSizes[i] === 0) zeros++;
  }
  assert.ok(zeros > 0, '"0" quantities parse to 0');
});

Deno.test("DiffParser: raw Binance.US events take the symbol from s; 0.00000000 is 0", () => {
  const parser = new DiffParser(new SymbolTable(SYMBOLS));
  const ev = new DiffEvent();
  let removals = 0;
  for (const f of lines("spot_diff_btcusdt_binanceus_raw.jsonl")) {
    assert.equal(check(parser, ev, f), RejectReason.Ok);
    assert.equal(ev.symbolId, 5);
    for (let i = 0; i < ev.askCount; i++) if (ev.askSizes[i] === 0) removals++;
  }
  assert.ok(removals > 0);
});

Deno.test("DiffParser: each rejection reason and control message", () => {
  const parser = new DiffParser(new SymbolTable(SYMBOLS));
  const ev = new DiffEvent({ capacity: 2 });
  const E = '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":157,"u":160,"b":[["1","2"]],"a":[]}';
  const wrap = (stream: string, data: string) => `{"stream":"${stream}","data":${data}}`;
  const cases: [string, number][] = [
    [E, RejectReason.Ok],
    [wrap("btcusdt@depth@100ms", E), RejectReason.Ok],
    [wrap("nknusdt@depth", E), RejectReason.Ok], // the stream name decides the symbol
    [E.slice(0, -1), RejectReason.Malformed],
    [E.replace('"U":157,', ""), RejectReason.Malformed],
    [E.replace('"u":160,', ""), RejectReason.Malformed],
    [E.replace(',"a":[]', ""), RejectReason.Malformed],
    [E.replace("depthUpdate", "trade"), RejectReason.Malformed],
    [E.replace('"E":1', '"E":"1"'), RejectReason.Malformed],
    [E.replace('["1","2"]', '["1",null]'), RejectReason.Malformed],
    [E.replace("BTCUSDT", "XRPUSDT"), RejectReason.UnknownStream],
    [wrap("btcusdt@depth20@100ms", E), RejectReason.UnknownStream],
    [wrap("btcusdt@aggTrade", E), RejectReason.UnknownStream],
    [E.replace('"s":"BTCUSDT",', ""), RejectReason.UnknownStream],
    [E.replace('["1","2"]', '["3","1"],["2","1"],["1","0"]'), RejectReason.TooManyLevels],
    [wrap("!serverShutdown", '{"e":"serverShutdown","E":5}'), ControlMessage.ServerShutdown],
    ['{"e":"serverShutdown","E":5}', ControlMessage.ServerShutdown],
    ['{"result":null,"id":1}', ControlMessage.SubscriptionReply],
    ['{"error":{"code":2,"msg":"x"},"id":2}', ControlMessage.SubscriptionError],
  ];
  for (const [text, expected] of cases) assert.equal(check(parser, ev, text), expected, text);
  assert.equal(parser.parse(E.replace('"s":"BTCUSDT",', ""), ev, 2), RejectReason.Ok);
  assert.equal(ev.symbolId, 2);
  assert.equal(parser.parse('{"result":null,"id":9}', ev), ControlMessage.SubscriptionReply);
  assert.equal(parser.controlId, 9);
});

Deno.test("DiffParser: every proper prefix of a real event is Malformed", () => {
  const parser = new DiffParser(new SymbolTable(SYMBOLS));
  const ev = new DiffEvent();
  for (
    const f of [lines("futures_diff.jsonl")[1], lines("spot_diff_btcusdt_binanceus_raw.jsonl")[1]]
  ) {
    for (let n = 0; n < f.length; n++) {
      assert.equal(parser.parse(f.slice(0, n), ev), RejectReason.Malformed, `prefix ${n}`);
    }
  }
});

const decimalArb = fc.oneof(
  fc.tuple(fc.nat(200_000), fc.nat(99_999_999)).map(([i, f]) =>
    `${i}.${String(f).padStart(8, "0")}`
  ),
  fc.constantFrom("0", "0.00000000", "0.0"),
  fc.stringMatching(/^[0-9]{1,20}(\.[0-9]{1,20})?$/),
);
const levels = fc.nat(6).chain((n) =>
  fc.array(fc.tuple(decimalArb, decimalArb), { minLength: n, maxLength: n })
);

Deno.test("DiffParser: random events (wrapped/raw, spot/futures, any key order) equal the reference", () => {
  const parser = new DiffParser(new SymbolTable(SYMBOLS));
  const ev = new DiffEvent({ capacity: 5 });
  let ok = 0;
  fc.assert(
    fc.property(
      fc.record({
        sym: fc.constantFrom(...SYMBOLS, "xrpusdt"),
        wrapped: fc.boolean(),
        futures: fc.boolean(),
        ids: fc.tuple(fc.maxSafeNat(), fc.maxSafeNat(), fc.maxSafeNat(), fc.maxSafeNat()),
        b: levels,
        a: levels,
        keys: fc.shuffledSubarray(["e", "E", "s", "U", "u", "pu", "b", "a", "T"], {
          minLength: 9,
        }),
        space: fc.constantFrom("", " ", "\n  "),
      }),
      (r) => {
        const v: Record<string, string> = {
          e: '"depthUpdate"',
          E: String(r.ids[0]),
          s: `"${r.sym.toUpperCase()}"`,
          U: String(r.ids[1]),
          u: String(r.ids[2]),
          pu: String(r.ids[3]),
          T: String(r.ids[0]),
          b: JSON.stringify(r.b, null, r.space.length),
          a: JSON.stringify(r.a),
        };
        const keys = r.futures ? r.keys : r.keys.filter((k) => k !== "pu" && k !== "T");
        const data = `{${keys.map((k) => `${r.space}"${k}"${r.space}:${v[k]}`).join(",")}}`;
        const text = r.wrapped ? `{"data":${data},"stream":"${r.sym}@depth@100ms"}` : data;
        if (check(parser, ev, text) === RejectReason.Ok) ok++;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(ok > 1500, `only ${ok} accepted`);
});

Deno.test("DiffParser: mutated real events never throw; accepted ones equal the reference", () => {
  const parser = new DiffParser(new SymbolTable(SYMBOLS));
  const ev = new DiffEvent();
  const base = [
    ...lines("spot_diff.jsonl").slice(0, 4),
    ...lines("futures_diff.jsonl").slice(0, 4),
  ];
  fc.assert(
    fc.property(
      fc.nat(base.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...'{}[]",:019.-e \\u')), {
        minLength: 1,
        maxLength: 3,
      }),
      (k, ms) => {
        let t = base[k];
        for (const [at, op, ch] of ms) {
          const i = at % (t.length + 1);
          t = t.slice(0, i) + (op === 1 ? "" : ch) + t.slice(op === 2 ? i : i + 1);
        }
        check(parser, ev, t);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("DiffParser: an event with both spellings of a level key is malformed, not guessed", () => {
  const parser = new DiffParser(new SymbolTable(["btcusdt"]));
  const ev = new DiffEvent({ capacity: 10 });
  const both =
    '{"bids":[],"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.0","2.0"]],"a":[]}';
  assert.equal(parser.parse(both, ev), RejectReason.Malformed);
  const one = '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.0","2.0"]],"a":[]}';
  assert.equal(parser.parse(one, ev), RejectReason.Ok);
  assert.equal(ev.bidCount, 1);
});

Deno.test("DiffParser: a lastUpdateId that disagrees with u is malformed", () => {
  const parser = new DiffParser(new SymbolTable(["btcusdt"]));
  const ev = new DiffEvent({ capacity: 10 });
  const event = (extra: string) =>
    `{"e":"depthUpdate","E":1,"s":"BTCUSDT",${extra}"U":1,"u":2,"b":[["1.0","2.0"]],"a":[]}`;
  assert.equal(parser.parse(event('"lastUpdateId":1,'), ev), RejectReason.Malformed);
  assert.equal(parser.parse(event('"lastUpdateId":2,'), ev), RejectReason.Ok);
  assert.equal(parser.parse(event(""), ev), RejectReason.Ok);
});
