import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_EVENT_TIME,
  BOOK_FLAGS,
  BOOK_LAST_UPDATE_ID,
  BOOK_PARSED_TIME,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { ControlMessage, DepthParser, isControlMessage } from "../lib/ingest/depth_parser.ts";
import { RejectReason } from "../lib/pipeline/reject_reason.ts";
import { SymbolTable } from "../lib/ingest/symbol_table.ts";
import { recordedLines as lines } from "../testing/recorded_data.ts";
import { isObject, NUMBER_STRING, refLevels } from "./fixtures/json_reference.ts";

const SYMBOLS = ["btcusdt", "ethusdt", "flmusdt", "trxusdt", "eosusdt", "linkusdt", "wavesusdt"];

// ---------------------------------------------------------------------------
// Reference: JSON.parse + parseFloat, implementing the documented semantics.
// ---------------------------------------------------------------------------

interface RefBook {
  code: number;
  symbolId?: number;
  lastUpdateId?: number;
  eventTime?: number;
  bids?: number[][];
  asks?: number[][];
}

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function refSymbol(names: readonly string[], name: string): number {
  return name.includes("@") ? -1 : names.indexOf(asciiLower(name));
}

/** Reference partial-book parse (`kind` "partial") or diff-event parse ("diff"). */
export function refParse(
  text: string,
  names: readonly string[],
  levels: number,
  kind: "partial" | "diff",
  fallback = -1,
): RefBook & { first?: number; prev?: number } {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { code: RejectReason.Malformed };
  }
  if (!isObject(msg)) return { code: RejectReason.Malformed };
  const M = { code: RejectReason.Malformed };
  let stream: string | undefined;
  if ("stream" in msg) {
    if (typeof msg.stream !== "string") return M;
    stream = msg.stream;
  }
  let ev: Record<string, unknown> = msg;
  const hasData = "data" in msg;
  const EVENT_KEYS = ["e", "E", "s", "U", "u", "pu", "b", "a", "bids", "asks", "lastUpdateId"];
  if (hasData) {
    if (!isObject(msg.data)) return M;
    ev = msg.data;
    if (EVENT_KEYS.some((k) => k in (msg as object))) return M; // event keys belong in data
  }
  const num = (k: string) => {
    if (!(k in ev)) return NaN;
    return typeof ev[k] === "number" ? ev[k] as number : null;
  };
  const fields = ["E", "U", "u", "pu", "lastUpdateId"].map(num);
  if (fields.includes(null)) return M;
  const [E, U, u, pu, lastUpdateId] = fields as number[];
  if ("e" in ev && typeof ev.e !== "string") return M;
  if ("s" in ev && typeof ev.s !== "string") return M;
  const bids = "bids" in ev || "b" in ev ? refLevels(ev.bids ?? ev.b) : undefined;
  const asks = "asks" in ev || "a" in ev ? refLevels(ev.asks ?? ev.a) : undefined;
  if (bids === null || asks === null) return M;
  if (typeof msg.id === "number" || "id" in msg) {
    // id of any JSON type is fine
  }
  // Control messages.
  if (stream === "!serverShutdown" || ev.e === "serverShutdown") {
    return { code: ControlMessage.ServerShutdown };
  }
  if ("id" in msg && !hasData && stream === undefined) {
    if ("error" in msg || "code" in msg) return { code: ControlMessage.SubscriptionError };
    if ("result" in msg) return { code: ControlMessage.SubscriptionReply };
  }
  let symbolId: number;
  if (stream !== undefined) {
    const m = /^([^@]*)@depth(\d*)(@\d+ms)?$/.exec(stream);
    if (m === null || (m[2] !== "") !== (kind === "partial")) {
      return { code: RejectReason.UnknownStream };
    }
    symbolId = refSymbol(names, m[1]);
  } else if ("s" in ev) symbolId = refSymbol(names, ev.s as string);
  else symbolId = fallback;
  if (symbolId < 0) return { code: RejectReason.UnknownStream };
  if ("e" in ev && ev.e !== "depthUpdate") return M;
  if (bids === undefined || asks === undefined) return M;
  if (kind === "partial") {
    const id = Number.isNaN(lastUpdateId) ? u : lastUpdateId;
    if (Number.isNaN(id)) return M;
    if (bids.length > levels || asks.length > levels) return { code: RejectReason.TooManyLevels };
    return { code: RejectReason.Ok, symbolId, lastUpdateId: id, eventTime: E, bids, asks };
  }
  if (Number.isNaN(U) || Number.isNaN(u)) return M;
  if (bids.length > levels || asks.length > levels) return { code: RejectReason.TooManyLevels };
  return {
    code: RejectReason.Ok,
    symbolId,
    lastUpdateId: u,
    first: U,
    prev: pu,
    eventTime: E,
    bids,
    asks,
  };
}

/** Reads the book in the slot back as plain arrays. */
function readSlot(f64: Float64Array, base: number, layout: BookSlotLayout): RefBook {
  const bids: number[][] = [];
  const asks: number[][] = [];
  for (let i = 0; i < f64[base + BOOK_BID_COUNT]; i++) {
    bids.push([f64[base + layout.bidPrice(i)], f64[base + layout.bidSize(i)]]);
  }
  for (let i = 0; i < f64[base + BOOK_ASK_COUNT]; i++) {
    asks.push([f64[base + layout.askPrice(i)], f64[base + layout.askSize(i)]]);
  }
  return {
    code: RejectReason.Ok,
    symbolId: f64[base + BOOK_SYMBOL_ID],
    lastUpdateId: f64[base + BOOK_LAST_UPDATE_ID],
    eventTime: f64[base + BOOK_EVENT_TIME],
    bids,
    asks,
  };
}

/** Bit-exact deep comparison (Object.is on every number: -0 and NaN included). */
function assertSameNumbers(actual: unknown, expected: unknown, path = "$"): void {
  if (typeof expected === "number") {
    assert.ok(
      Object.is(actual, expected),
      `${path}: got ${String(actual)} (${typeof actual}), expected ${expected}`,
    );
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}.length`);
    expected.forEach((e, i) => assertSameNumbers((actual as unknown[])[i], e, `${path}[${i}]`));
    return;
  }
  assert.deepEqual(actual, expected, path);
}

/** Parses with the fast parser and checks it against the reference; returns the code. */
function checkAgainstReference(
  parser: DepthParser,
  names: readonly string[],
  text: string,
  fallback = -1,
): number {
  const layout = parser.layout;
  const f64 = new Float64Array(layout.slotWords + 3).fill(-7);
  const code = parser.parse(text, f64, 3, fallback);
  const ref = refParse(text, names, layout.levels, "partial", fallback);
  assert.equal(code, ref.code, `result code for ${text.slice(0, 200)}`);
  if (code === RejectReason.Ok) {
    assertSameNumbers(readSlot(f64, 3, layout), ref);
    assert.equal(f64[3 + BOOK_FLAGS], 0);
    assert.equal(f64[3 + BOOK_RECEIVE_TIME], -7, "receive time untouched");
    assert.equal(f64[3 + BOOK_PARSED_TIME], -7, "parsed time untouched");
    assert.deepEqual([...f64.subarray(0, 3)], [-7, -7, -7], "words before the slot untouched");
  }
  return code;
}

// ---------------------------------------------------------------------------
// SymbolTable
// ---------------------------------------------------------------------------

Deno.test("SymbolTable: ids by index, case-insensitive, stops at '@'", () => {
  const t = new SymbolTable(["BTCUSDT", "ethusdt", "1000shibusdt"]);
  assert.equal(t.size, 3);
  assert.equal(t.idOf("btcusdt@depth20@100ms"), 0);
  assert.equal(t.idOf("ETHUSDT"), 1);
  assert.equal(t.idOf("1000SHIBusdt@depth"), 2);
  assert.equal(t.idOf('{"s":"BTCUSDT"}', 6, 13), 0);
  assert.equal(t.idOf("btcusd"), -1);
  assert.equal(t.idOf("btcusdtx"), -1);
  assert.equal(t.idOf(""), -1);
  assert.equal(t.idOf("@depth"), -1);
  assert.equal(t.name(0), "btcusdt");
  assert.equal(t.upper(1), "ETHUSDT");
  assert.deepEqual(t.names(), ["btcusdt", "ethusdt", "1000shibusdt"]);
  const bytes = new TextEncoder().encode("xxETHUSDT@depth");
  assert.equal(t.idOfBytes(bytes, 2, bytes.length), 1);
  assert.throws(() => t.name(3), RangeError);
  assert.throws(() => t.upper(-1), RangeError);
});

Deno.test("SymbolTable: rejects bad symbol lists with clear errors", () => {
  assert.throws(() => new SymbolTable([]), /at least one symbol/);
  assert.throws(() => new SymbolTable(["btc usdt"]), /invalid character at 3/);
  assert.throws(() => new SymbolTable(["btcusdt@depth"]), /invalid character/);
  assert.throws(() => new SymbolTable([""]), /1 to 32 characters/);
  assert.throws(() => new SymbolTable(["x".repeat(33)]), /1 to 32 characters/);
  assert.throws(() => new SymbolTable(["btcusdt", "BTCUSDT"]), /repeats symbol #0/);
  assert.throws(() => new SymbolTable([42 as unknown as string]), /must be a string/);
});

Deno.test("SymbolTable: every symbol of a large random table is found, others are not", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,12}$/), { minLength: 1, maxLength: 300 }),
      fc.stringMatching(/^[a-z0-9]{1,12}$/),
      (names, other) => {
        const t = new SymbolTable(names);
        names.forEach((n, i) => {
          assert.equal(t.idOf(n), i);
          assert.equal(t.idOf(n.toUpperCase() + "@x"), i);
        });
        assert.equal(t.idOf(other), names.indexOf(other));
      },
    ),
    { numRuns: 200 },
  );
});

// ---------------------------------------------------------------------------
// Real recorded frames
// ---------------------------------------------------------------------------

Deno.test("DepthParser: recorded spot depth20/depth5 frames match the reference bit for bit", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS));
  const frames = [...lines("spot_depth20.jsonl"), ...lines("spot_depth20_reconstructed.jsonl")];
  assert.equal(frames.length, 19);
  for (const frame of frames) {
    assert.equal(checkAgainstReference(parser, SYMBOLS, frame), RejectReason.Ok);
  }
  // Spot checks against the recorded text.
  const layout = parser.layout;
  const f64 = new Float64Array(layout.slotWords);
  assert.equal(parser.parse(frames[0], f64, 0), RejectReason.Ok);
  assert.equal(f64[BOOK_SYMBOL_ID], SYMBOLS.indexOf("flmusdt"));
  assert.equal(f64[BOOK_LAST_UPDATE_ID], 165284515);
  assert.ok(Number.isNaN(f64[BOOK_EVENT_TIME]), "partial spot streams carry no E");
  assert.equal(f64[BOOK_BID_COUNT], 20);
  assert.equal(f64[BOOK_ASK_COUNT], 20);
  assert.equal(f64[layout.bidPrice(0)], 0.4856);
  assert.equal(f64[layout.bidSize(0)], 2036.02);
  assert.equal(parser.parse(frames[18], f64, 0), RejectReason.Ok);
  assert.equal(f64[BOOK_SYMBOL_ID], 0);
  assert.equal(f64[BOOK_LAST_UPDATE_ID], 11655824136);
});

Deno.test("DepthParser: futures partial frames (depthUpdate envelope) use u, E, b, a", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS));
  const frames = lines("futures_partial_depth.jsonl");
  assert.equal(frames.length, 7);
  for (const frame of frames) {
    assert.equal(checkAgainstReference(parser, SYMBOLS, frame), RejectReason.Ok);
  }
  const f64 = new Float64Array(parser.layout.slotWords);
  assert.equal(parser.parse(frames[0], f64, 0), RejectReason.Ok);
  assert.equal(f64[BOOK_LAST_UPDATE_ID], 510756357084);
  assert.equal(f64[BOOK_EVENT_TIME], 1623494842640);
  assert.equal(f64[BOOK_BID_COUNT], 20);
  assert.equal(f64[parser.layout.bidPrice(0)], 35776.62);
  // Line 7 is raw (no stream): the symbol comes from "s".
  assert.equal(parser.parse(frames[6], f64, 0), RejectReason.Ok);
  assert.equal(f64[BOOK_SYMBOL_ID], 0);
  assert.equal(f64[BOOK_LAST_UPDATE_ID], 6948375703528);
  assert.equal(f64[BOOK_ASK_COUNT], 5);
});

Deno.test("DepthParser: pretty-printed and key-reordered real frames parse identically", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS));
  for (const frame of lines("spot_depth20.jsonl").slice(0, 5)) {
    const obj = JSON.parse(frame);
    const reordered = JSON.stringify({ data: { asks: obj.data.asks, ...obj.data }, ...obj });
    for (const text of [JSON.stringify(obj, null, 2), JSON.stringify(obj, null, "\t"), reordered]) {
      assert.equal(checkAgainstReference(parser, SYMBOLS, text), RejectReason.Ok);
    }
  }
});

Deno.test("DepthParser: every proper prefix of a real frame is Malformed, never a throw", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS));
  const f64 = new Float64Array(parser.layout.slotWords);
  const frames = [lines("spot_depth20.jsonl")[0], lines("futures_partial_depth.jsonl")[6]];
  for (const frame of frames) {
    for (let n = 0; n < frame.length; n++) {
      assert.equal(parser.parse(frame.slice(0, n), f64, 0), RejectReason.Malformed, `prefix ${n}`);
    }
    assert.equal(parser.parse(frame, f64, 0), RejectReason.Ok);
  }
});

// ---------------------------------------------------------------------------
// Every result code with a hand-made frame
// ---------------------------------------------------------------------------

const wrap = (stream: string, data: string) => `{"stream":"${stream}","data":${data}}`;
const BOOK = '{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}';

Deno.test("DepthParser: each rejection reason and control message", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS), { layout: new BookSlotLayout(2) });
  const f64 = new Float64Array(parser.layout.slotWords);
  const cases: [string, number][] = [
    [wrap("btcusdt@depth20@100ms", BOOK), RejectReason.Ok],
    [wrap("btcusdt@depth5", BOOK), RejectReason.Ok],
    [wrap("BTCUSDT@depth10@1000ms", BOOK), RejectReason.Ok],
    ["", RejectReason.Malformed],
    ["garbage", RejectReason.Malformed],
    ["[1,2]", RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK) + "x", RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK.replace('"lastUpdateId":160,', "")), RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK.replace("160", '"160"')), RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK.replace("160", "0160")), RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK.replace('"bids"', '"bidz"')), RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK.replace('"0.0024"', '"abc"')), RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK.replace('"0.0024"', '""')), RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK.replace('"0.0024"', '"1."')), RejectReason.Malformed],
    [wrap("btcusdt@depth20", BOOK.replace('"0.0024"', '".5"')), RejectReason.Malformed],
    [
      wrap("btcusdt@depth20", BOOK.replace('["0.0024","10"]', '["0.0024"]')),
      RejectReason.Malformed,
    ],
    [wrap("btcusdt@depth20", BOOK.replace("}", ',"e":"trade"}')), RejectReason.Malformed],
    [wrap("btcusdt@depth20", "null"), RejectReason.Malformed],
    [wrap("xrpusdt@depth20@100ms", BOOK), RejectReason.UnknownStream],
    [wrap("btcusdt@depth@100ms", BOOK), RejectReason.UnknownStream],
    [wrap("btcusdt@trade", BOOK), RejectReason.UnknownStream],
    [wrap("btcusdt@depth20@100", BOOK), RejectReason.UnknownStream],
    [BOOK, RejectReason.UnknownStream], // raw spot partial: no symbol, no fallback
    [
      wrap("btcusdt@depth20", BOOK.replace('"0.0024","10"]', '"3","1"],["2","1"],["1","1"]')),
      RejectReason.TooManyLevels,
    ],
    [wrap("!serverShutdown", '{"e":"serverShutdown","E":1770123456789}'), 100],
    ['{"e":"serverShutdown","E":1770123456789}', ControlMessage.ServerShutdown],
    ['{"result":null,"id":1}', ControlMessage.SubscriptionReply],
    ['{"result":["btcusdt@depth20"],"id":"a"}', ControlMessage.SubscriptionReply],
    ['{"error":{"code":2,"msg":"Invalid request"},"id":3}', ControlMessage.SubscriptionError],
    ['{"code":0,"msg":"Unknown property","id":4}', ControlMessage.SubscriptionError],
  ];
  for (const [text, expected] of cases) {
    assert.equal(parser.parse(text, f64, 0), expected, text);
  }
  assert.equal(parser.parse(BOOK, f64, 0, 4), RejectReason.Ok, "raw spot with fallback symbol");
  assert.equal(f64[BOOK_SYMBOL_ID], 4);
  assert.equal(parser.parse('{"result":null,"id":17}', f64, 0), ControlMessage.SubscriptionReply);
  assert.equal(parser.controlId, 17);
  assert.equal(parser.parse('{"e":"serverShutdown","E":99}', f64, 0), 100);
  assert.equal(parser.controlEventTime, 99);
  assert.ok(isControlMessage(ControlMessage.SubscriptionError));
  assert.ok(!isControlMessage(RejectReason.BufferOverflow));
});

Deno.test("DepthParser: escapes, exponents, long mantissas and bare numbers equal JSON.parse", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS));
  const values = [
    "0",
    "0.00000000",
    "-0",
    "-0.0",
    "1e5",
    "2.5E-7",
    "123456789012345678901234567890",
    "9007199254740993",
    "0.1234567890123456789012345",
    "60650.12000000",
    "00012.5",
    "1.7976931348623157e309",
    "\\u0031.5",
  ];
  for (const v of values) {
    const text = wrap("btcusdt@depth20", `{"lastUpdateId":1,"bids":[["${v}","${v}"]],"asks":[]}`);
    assert.equal(checkAgainstReference(parser, SYMBOLS, text), RejectReason.Ok, v);
  }
  const bare = wrap("btcusdt@depth20", '{"lastUpdateId":1,"bids":[[1.5e3,-0]],"asks":[[2,3,[]]]}');
  assert.equal(checkAgainstReference(parser, SYMBOLS, bare), RejectReason.Ok);
  const escapedKeys = '{"str\\u0065am":"btc\\u0075sdt@depth20","data":{"lastUpdateId":2,' +
    '"\\u0062ids":[],"asks":[],"x":{"y":[1,{"z":null}],"w":"\\n"}}}';
  assert.equal(checkAgainstReference(parser, SYMBOLS, escapedKeys), RejectReason.Ok);
});

Deno.test("DepthParser: a slot that does not fit throws RangeError (caller bug)", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS));
  const f64 = new Float64Array(parser.layout.slotWords);
  assert.throws(() => parser.parse("{}", f64, 1), RangeError);
  assert.throws(() => parser.parse("{}", f64, -1), RangeError);
});

Deno.test("DepthParser: non-string input and huge nesting are Malformed, not a throw", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS));
  const f64 = new Float64Array(parser.layout.slotWords);
  assert.equal(parser.parse(null as unknown as string, f64, 0), RejectReason.Malformed);
  const deep = `{"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
  assert.equal(parser.parse(deep, f64, 0), RejectReason.Malformed);
  const ok = `{"x":${"[".repeat(60)}${"]".repeat(60)},"stream":"btcusdt@depth5","data":${BOOK}}`;
  assert.equal(checkAgainstReference(parser, SYMBOLS, ok), RejectReason.Ok);
});

// ---------------------------------------------------------------------------
// Randomised frames against the reference
// ---------------------------------------------------------------------------

const WS = [" ", "\n", "\t", "\r\n", "  "];

/** A decimal string in one of several styles (Binance 8-decimal, futures short, long, exp). */
const decimalArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(fc.nat(200_000), fc.nat(99_999_999)).map(([i, f]) =>
      `${i}.${String(f).padStart(8, "0")}`
    ),
  },
  { weight: 2, arbitrary: fc.tuple(fc.nat(99_999), fc.nat(9_999)).map(([i, f]) => `${i}.${f}`) },
  { weight: 1, arbitrary: fc.nat(1_000_000).map(String) },
  { weight: 1, arbitrary: fc.stringMatching(/^-?[0-9]{1,25}(\.[0-9]{1,25})?$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{1,3}(\.[0-9]{1,4})?[eE][-+]?[0-9]{1,3}$/) },
  {
    weight: 1,
    arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(String)
      .filter((s) => NUMBER_STRING.test(s)),
  },
);

const levelsArb = (max: number) =>
  fc.nat(max).chain((n) =>
    fc.array(fc.tuple(decimalArb, decimalArb), { minLength: n, maxLength: n })
  );

const frameArb = (max: number) =>
  fc.record({
    symbol: fc.oneof(fc.constantFrom(...SYMBOLS), fc.constantFrom("xrpusdt", "BTCUSDT")),
    suffix: fc.constantFrom("@depth20@100ms", "@depth5", "@depth10@1000ms"),
    futures: fc.boolean(),
    wrapped: fc.boolean(),
    id: fc.maxSafeNat(),
    E: fc.maxSafeNat(),
    bids: levelsArb(max + 1),
    asks: levelsArb(max + 1),
    extra: fc.array(fc.tuple(fc.constantFrom("T", "x", "zz", "foo"), fc.jsonValue()), {
      maxLength: 2,
    }),
    order: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    ws: fc.array(fc.nat(WS.length * 3), { minLength: 16, maxLength: 16 }),
  });

type Frame = typeof frameArb extends (n: number) => fc.Arbitrary<infer F> ? F : never;

function render(f: Frame): string {
  let w = 0;
  const sp = () => {
    const k = f.ws[w++ % f.ws.length];
    return k < WS.length ? WS[k] : "";
  };
  const lv = (ls: [string, string][]) =>
    `[${sp()}${
      ls.map(([p, q]) => `[${sp()}"${p}"${sp()},${sp()}"${q}"${sp()}]`).join(`,${sp()}`)
    }]`;
  const members: [string, string][] = f.futures
    ? [
      ["e", '"depthUpdate"'],
      ["E", String(f.E)],
      ["s", `"${f.symbol.toUpperCase()}"`],
      ["U", String(f.id)],
      ["u", String(f.id)],
      ["pu", String(f.id)],
      ["b", lv(f.bids)],
      ["a", lv(f.asks)],
    ]
    : [["lastUpdateId", String(f.id)], ["bids", lv(f.bids)], ["asks", lv(f.asks)]];
  for (const [k, v] of f.extra) members.push([k, JSON.stringify(v)]);
  const sorted = members.map((m, i) => [f.order[i] ?? 0, i, m] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
  const obj = (ms: (readonly [string, string])[]) =>
    `${sp()}{${sp()}${
      ms.map(([k, v]) => `"${k}"${sp()}:${sp()}${v}`).join(`${sp()},${sp()}`)
    }${sp()}}${sp()}`;
  const data = obj(sorted);
  if (!f.wrapped) return data;
  const top: [string, string][] = [["stream", `"${f.symbol}${f.suffix}"`], ["data", data]];
  if (f.order[11] % 2 === 1) top.reverse();
  return obj(top);
}

Deno.test("DepthParser: 10,000 random frames equal JSON.parse + parseFloat bit for bit", () => {
  const layout = new BookSlotLayout(20);
  const parser = new DepthParser(new SymbolTable(SYMBOLS), { layout });
  const seen = new Map<number, number>();
  fc.assert(
    fc.property(frameArb(20), (f) => {
      const code = checkAgainstReference(parser, SYMBOLS, render(f), 1);
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }),
    { numRuns: 10_000 },
  );
  // The generator must reach the interesting outcomes, or the test proves little.
  assert.ok((seen.get(RejectReason.Ok) ?? 0) > 5000, `outcomes ${[...seen]}`);
  assert.ok((seen.get(RejectReason.UnknownStream) ?? 0) > 100, `outcomes ${[...seen]}`);
  assert.ok((seen.get(RejectReason.TooManyLevels) ?? 0) > 10, `outcomes ${[...seen]}`);
});

Deno.test("DepthParser: mutated frames never throw, and an accepted one equals the reference", () => {
  const parser = new DepthParser(new SymbolTable(SYMBOLS));
  const base = [
    ...lines("spot_depth20.jsonl").slice(0, 6),
    ...lines("futures_partial_depth.jsonl").slice(3),
  ];
  const mutation = fc.tuple(
    fc.constantFrom("flip", "delete", "insert"),
    fc.nat(),
    fc.constantFrom(...'{}[]",:0123456789.-eE \\u@xX\u00e9\u{1F600}'.split("")),
  );
  let accepted = 0;
  fc.assert(
    fc.property(
      fc.nat(base.length - 1),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (k, ms) => {
        let text = base[k];
        for (const [op, at, ch] of ms) {
          const i = at % (text.length + 1);
          if (op === "delete") text = text.slice(0, i) + text.slice(i + 1);
          else if (op === "insert") text = text.slice(0, i) + ch + text.slice(i);
          else text = text.slice(0, i) + ch + text.slice(i + 1);
        }
        if (checkAgainstReference(parser, SYMBOLS, text) === RejectReason.Ok) accepted++;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(accepted > 100, `only ${accepted} mutated frames were still valid`);
});
