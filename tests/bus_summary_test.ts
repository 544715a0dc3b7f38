/**
 * The dashboard node's overview (`lib/server/bus_summary.ts`): summaries of
 * two "ingest nodes" — real `MarketSummaryBuilder` outputs over their own
 * history stores, holding different values for every symbol — merged by the
 * lease owners, decoded by protobuf-es and by the browser's decoder
 * (`lib/client/summary_decode.ts`); owner changes, a silent owner, no owner,
 * age re-basing under clock skew, malformed and out-of-order input. And the
 * shared writer (`summary_writer.ts`): the merge of one node owning every
 * symbol is that node's summary byte for byte.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import {
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI_10S,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
  FRAME_SYMBOL_ID,
  FRAME_VOLATILITY_1M,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { FeedState } from "../lib/pipeline/feed_state.ts";
import { HistoryStore } from "../lib/server/history_store.ts";
import { MarketSummaryBuilder } from "../lib/server/market_summary.ts";
import { BusSummary } from "../lib/server/bus_summary.ts";
import { type SummaryReaders, SummaryWriter } from "../lib/server/summary_writer.ts";
import { SUMMARY_COLUMNS, SUMMARY_FLOAT_COLUMNS } from "../lib/pipeline/summary_columns.ts";
import { type MarketSummary, ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { decodeSummary, SummaryColumns } from "../lib/client/summary_decode.ts";

const T = 1_800_000_000_000;
const FLOATS = SUMMARY_FLOAT_COLUMNS;

/** Symbol `id`'s frame on a node whose values depend on `base`; received 100 + id ms before T. */
function frameFor(layout: FrameSlotLayout, id: number, base: number): Float64Array {
  const slot = new Float64Array(layout.slotWords).fill(NaN);
  slot[FRAME_SYMBOL_ID] = id;
  slot[FRAME_MID] = base + id + 0.125;
  slot[FRAME_SPREAD_BPS] = base / 1000 + id / 10;
  slot[FRAME_IMBALANCE_5] = (id % 5) / 5 - base / 10_000;
  slot[FRAME_OFI_10S] = -base * id;
  slot[FRAME_VOLATILITY_1M] = id / 1000 + base / 1e6;
  slot[layout.depthBidQuote(0)] = base * 1000 + id;
  slot[layout.depthAskQuote(0)] = base * 2000 + id;
  slot[FRAME_RECEIVE_TIME] = T - 100 - id;
  return slot;
}

/**
 * An ingest node's summary source: a history store with a frame for EVERY
 * symbol (values depend on the node's `base`, so a row taken from the wrong
 * node is seen), its feed state `state` for all of them.
 */
function ingestNode(symbols: number, base: number, state: number) {
  const layout = new FrameSlotLayout({ levels: 5 });
  const history = new HistoryStore({ symbols, layout, depth: 2 });
  for (let id = 0; id < symbols; id++) history.push(frameFor(layout, id, base));
  const builder = new MarketSummaryBuilder({
    history,
    epoch: `ingest-${base}`,
    feedState: () => state,
    lookback: { midAt: (id) => base + id },
  });
  return { builder, history };
}

function decode(bytes: Uint8Array): MarketSummary {
  const message = fromBinary(ServerMessageSchema, bytes);
  assert.equal(message.kind.case, "summary");
  return message.kind.value as MarketSummary;
}

/** Row `id` of a decoded summary, every column. */
function row(s: MarketSummary, id: number): Record<string, number> {
  const out: Record<string, number> = { feedState: s.feedState[id], mid: s.mid[id] };
  for (const name of FLOATS) out[name] = s[name][id];
  return out;
}

/** The row a dashboard shows for a symbol it cannot vouch for. */
function blankRow(): Record<string, number> {
  const out: Record<string, number> = { feedState: FeedState.Connecting, mid: NaN };
  for (const name of FLOATS) out[name] = NaN;
  return out;
}

/** `source`'s row `id` with its age advanced by `ms` (as a float, like the wire). */
function aged(source: MarketSummary, id: number, ms: number): Record<string, number> {
  const r = row(source, id);
  r.ageMs = Math.fround(r.ageMs + ms);
  return r;
}

Deno.test("bus summary: rows come from each symbol's owner, decoded by protobuf-es and the browser's decoder", () => {
  const n = 9;
  const a = ingestNode(n, 1000, FeedState.Live);
  const b = ingestNode(n, 2000, FeedState.Resyncing);
  const fromA = decode(a.builder.build(T));
  const fromB = decode(b.builder.build(T));
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom("a", "b", undefined), { minLength: n, maxLength: n }),
      fc.integer({ min: 0, max: 4000 }),
      (owners, later) => {
        const merged = new BusSummary({ symbols: n, epoch: "dash-1", ownerOf: (id) => owners[id] });
        assert.equal(merged.accept("a", a.builder.latest!, T), true);
        assert.equal(merged.accept("b", b.builder.latest!, T), true);
        const bytes = merged.build(T + later);
        const s = decode(bytes);
        assert.equal(s.epoch, "dash-1");
        assert.equal(s.seq, 1);
        assert.equal(s.serverTime, T + later);
        const owned = owners.filter((o) => o !== undefined).length;
        assert.equal(merged.rowsTaken, owned);
        assert.equal(merged.rowsShown, owned);
        assert.equal(merged.accepted, 2);
        const columns = new SummaryColumns(n);
        assert.ok(decodeSummary(bytes, columns) !== null);
        for (let id = 0; id < n; id++) {
          const source = owners[id] === "a" ? fromA : owners[id] === "b" ? fromB : undefined;
          const want = source === undefined ? blankRow() : aged(source, id, later);
          assert.deepEqual(row(s, id), want, `symbol ${id} owned by ${owners[id]}`);
          // The browser's decoder reads the same row.
          assert.equal(columns.feedState[id], want.feedState);
          assert.deepEqual(columns.mid[id], want.mid);
          for (const name of FLOATS) assert.deepEqual(columns[name][id], want[name], name);
        }
      },
    ),
    { numRuns: 60 },
  );
  // The rows differ between the nodes, so a row from the wrong node would have failed above.
  assert.notDeepEqual(row(fromA, 3), row(fromB, 3));
});

Deno.test("bus summary: one node owning every symbol, merged at once, is that node's summary byte for byte", () => {
  const n = 40;
  // Frames for even symbols only: the odd ones' NaN columns must survive the merge too.
  const layout = new FrameSlotLayout({ levels: 5 });
  const history = new HistoryStore({ symbols: n, layout, depth: 1 });
  for (let id = 0; id < n; id += 2) history.push(frameFor(layout, id, 1000));
  const source = new MarketSummaryBuilder({
    history,
    epoch: "ingest-1000",
    feedState: (id) => id % 4,
    lookback: { midAt: (id) => id % 3 === 0 ? NaN : 900 + id },
  }).build(T);
  assert.ok(decode(source).mid.some(Number.isNaN) && decode(source).change1m.some(Number.isNaN));
  // Same epoch, seq 1 and server time as the source: nothing may differ.
  const merged = new BusSummary({ symbols: n, epoch: "ingest-1000", ownerOf: () => "a" });
  assert.ok(merged.accept("a", source, T));
  const bytes = merged.build(T);
  assert.deepEqual(bytes, source);
  assert.equal(merged.latest, bytes);
  assert.equal(merged.bytesBuilt, source.length);
});

Deno.test("bus summary: an owner change shows the new owner's rows only, once its summary arrives", () => {
  const n = 4;
  const a = ingestNode(n, 1000, FeedState.Live);
  const b = ingestNode(n, 2000, FeedState.Live);
  const owners: (string | undefined)[] = ["a", "a", "b", "b"];
  const merged = new BusSummary({ symbols: n, epoch: "d", ownerOf: (id) => owners[id] });
  const step = (t: number) => {
    const sa = decode(a.builder.build(t));
    const sb = decode(b.builder.build(t));
    return { sa, sb };
  };
  let { sa, sb } = step(T);
  merged.accept("a", a.builder.latest!, T);
  merged.accept("b", b.builder.latest!, T);
  let s = decode(merged.build(T));
  assert.deepEqual(row(s, 1), row(sa, 1));
  // Symbol 1 moves to b: b's summary at hand was sent when 1 was not b's, so nothing yet.
  owners[1] = "b";
  s = decode(merged.build(T));
  assert.deepEqual(row(s, 1), blankRow(), "no row until the new owner's summary");
  assert.deepEqual(row(s, 0), row(sa, 0), "a's other rows stay");
  assert.equal(merged.rowsShown, 3);
  // a's next summary no longer gives symbol 1 (a's row of it is dropped).
  ({ sa, sb } = step(T + 1000));
  merged.accept("a", a.builder.latest!, T + 1000);
  assert.deepEqual(row(decode(merged.build(T + 1000)), 1), blankRow());
  // b's next summary does.
  merged.accept("b", b.builder.latest!, T + 1000);
  s = decode(merged.build(T + 1000));
  assert.deepEqual(row(s, 1), row(sb, 1));
  assert.deepEqual(row(s, 0), row(sa, 0));
  // Back to a without a new summary from a: a's newest summary did not carry it.
  owners[1] = "a";
  assert.deepEqual(row(decode(merged.build(T + 1000)), 1), blankRow());
  assert.equal(merged.rowsTaken, 2 + 2 + 1 + 3);
  assert.equal(merged.seq, 5);
});

Deno.test("bus summary: an owner silent for longer than maxAgeMs shows Connecting and NaN, until it speaks again", () => {
  const n = 4;
  const a = ingestNode(n, 1000, FeedState.Live);
  const b = ingestNode(n, 2000, FeedState.Stale);
  const owners = ["a", "b", "a", "b"];
  const merged = new BusSummary({
    symbols: n,
    epoch: "d",
    ownerOf: (id) => owners[id],
    maxAgeMs: 3000,
  });
  assert.equal(merged.maxAgeMs, 3000);
  const sa = decode(a.builder.build(T));
  merged.accept("a", a.builder.latest!, T);
  const sb = decode(b.builder.build(T + 3000));
  merged.accept("b", b.builder.latest!, T + 3000);
  // At exactly maxAgeMs a's rows are still shown.
  let s = decode(merged.build(T + 3000));
  assert.deepEqual(row(s, 0), aged(sa, 0, 3000));
  assert.equal(merged.rowsShown, 4);
  // One ms later they are not (b's are, with b's own feed state: Stale is the source's word).
  s = decode(merged.build(T + 3001));
  assert.deepEqual(row(s, 0), blankRow());
  assert.deepEqual(row(s, 2), blankRow());
  assert.deepEqual(row(s, 1), aged(sb, 1, 1));
  assert.equal(s.feedState[1], FeedState.Stale);
  assert.equal(merged.rowsShown, 2);
  assert.equal(merged.nodes, 1, "a is forgotten");
  assert.equal(merged.lagMs("a"), undefined);
  // a speaks again (its seq 2): its rows are back.
  const sa2 = decode(a.builder.build(T + 3500));
  assert.ok(merged.accept("a", a.builder.latest!, T + 3500));
  s = decode(merged.build(T + 3500));
  assert.deepEqual(row(s, 2), row(sa2, 2));
  assert.equal(merged.nodes, 2);
});

Deno.test("bus summary: a symbol without an owner shows Connecting and NaN, also after the owner returns until its next summary", () => {
  const n = 3;
  const a = ingestNode(n, 1000, FeedState.Live);
  const owners: (string | undefined)[] = ["a", "a", undefined];
  const merged = new BusSummary({ symbols: n, epoch: "d", ownerOf: (id) => owners[id] });
  const sa = decode(a.builder.build(T));
  merged.accept("a", a.builder.latest!, T);
  let s = decode(merged.build(T));
  assert.deepEqual(row(s, 2), blankRow(), "never owned");
  assert.deepEqual(row(s, 1), row(sa, 1));
  owners[1] = undefined; // a's lease of symbol 1's partition expired
  s = decode(merged.build(T));
  assert.deepEqual(row(s, 1), blankRow());
  merged.accept("a", a.builder.build(T + 1000), T + 1000); // sent while unowned: not taken
  owners[1] = "a";
  assert.deepEqual(row(decode(merged.build(T + 1000)), 1), blankRow());
  const sa3 = decode(a.builder.build(T + 2000));
  merged.accept("a", a.builder.latest!, T + 2000);
  assert.deepEqual(row(decode(merged.build(T + 2000)), 1), row(sa3, 1));
});

Deno.test("bus summary: age_ms is re-based on the receiving clock and never made fresher by a clock behind the source's", () => {
  const n = 1;
  const a = ingestNode(n, 1000, FeedState.Live); // symbol 0: received 100 ms before T
  const source = a.builder.build(T);
  const cases = [
    {
      name: "synchronised, 20 ms transit",
      received: T + 20,
      now: T + 520,
      age: 100 + 520,
      lag: 20,
    },
    {
      name: "receiving clock 5 s behind",
      received: T - 5000,
      now: T - 4500,
      age: 100 + 500,
      lag: -5000,
    },
    {
      name: "receiving clock 6 s ahead (more than maxAgeMs)",
      received: T + 6000,
      now: T + 6500,
      age: 100 + 6500,
      lag: 6000,
    },
  ];
  for (const c of cases) {
    const merged = new BusSummary({ symbols: n, epoch: "d", ownerOf: () => "a" });
    assert.ok(merged.accept("a", source, c.received));
    const s = decode(merged.build(c.now));
    assert.equal(s.ageMs[0], c.age, c.name);
    assert.equal(s.feedState[0], FeedState.Live, `${c.name}: a skewed clock does not blank rows`);
    assert.equal(merged.lagMs("a"), c.lag, c.name);
  }
});

Deno.test("bus summary: malformed and out-of-order summaries are refused, counted and change nothing", () => {
  const n = 3;
  const a = ingestNode(n, 1000, FeedState.Live);
  const merged = new BusSummary({ symbols: n, epoch: "d", ownerOf: () => "a" });
  const good = a.builder.build(T);
  assert.ok(merged.accept("a", good, T));
  const before = merged.build(T);
  const hello = toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, { kind: { case: "hello", value: { epoch: "x" } } }),
  );
  const other = ingestNode(4, 2000, FeedState.Live).builder.build(T + 1000);
  const noTime = toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, {
      kind: {
        case: "summary",
        value: { ...decode(a.builder.build(T + 1000)), serverTime: NaN },
      },
    }),
  );
  const bad: [string, Uint8Array, RegExp][] = [
    ["garbage", new Uint8Array([0xff, 0xff, 0xff]), /not a ServerMessage/],
    ["truncated", good.subarray(0, good.length - 7), /not a ServerMessage/],
    ["a hello", hello, /expected a ServerMessage \{ summary \}, got hello/],
    ["empty", new Uint8Array(0), /got an empty message/],
    ["another universe", other, /feed_state has 4 values, expected one per symbol \(3 symbols\)/],
    ["no server time", noTime, /server_time must be finite, got NaN/],
  ];
  let count = 0;
  for (const [name, bytes, reason] of bad) {
    assert.equal(merged.accept("a", bytes, T + 1000), false, name);
    assert.equal(merged.malformed, ++count, name);
    assert.match(merged.lastError, reason, name);
    assert.match(merged.lastError, /^summary of node "a": /);
  }
  // The same summary again, or an older one: out of order. A new epoch (restarted node): taken.
  assert.equal(merged.accept("a", good, T + 1000), false);
  assert.equal(merged.outOfOrder, 1);
  assert.equal(merged.accepted, 1);
  assert.equal(merged.rowsTaken, n);
  const rebuilt = decode(merged.build(T));
  const was = decode(before);
  for (let id = 0; id < n; id++) assert.deepEqual(row(rebuilt, id), row(was, id));
  const restarted = ingestNode(n, 3000, FeedState.Live).builder.build(T + 1000);
  assert.ok(merged.accept("a", restarted, T + 1000), "seq 1 of a new epoch");
  assert.equal(decode(merged.build(T + 1000)).mid[0], 3000.125);
});

Deno.test("bus summary and summary writer: options are checked with errors naming what was wrong", () => {
  const ownerOf = () => undefined;
  assert.throws(
    () => new BusSummary({ symbols: -1, epoch: "d", ownerOf }),
    /symbols must be a non-negative integer, got -1/,
  );
  assert.throws(
    () => new BusSummary({ symbols: 1, epoch: "d", ownerOf, maxAgeMs: 0 }),
    /maxAgeMs must be a positive number of ms, got 0/,
  );
  assert.throws(
    () => new SummaryWriter({ symbols: 1.5, epoch: "d" }),
    /symbols must be a non-negative integer, got 1.5/,
  );
  const read = Object.fromEntries(
    SUMMARY_COLUMNS.map((c) => [c, (_id: number) => 0]),
  ) as SummaryReaders;
  assert.throws(
    () => new SummaryWriter({ symbols: 2, epoch: "d" }).write(0, new Uint8Array(3), read),
    /expected 2 feed states \(one per symbol\), got 3/,
  );
  // No symbols at all: a valid, empty summary.
  const empty = new BusSummary({ symbols: 0, epoch: "d", ownerOf });
  assert.equal(decode(empty.build(T)).mid.length, 0);
});
