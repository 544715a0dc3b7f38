import assert from "node:assert/strict";
import fc from "fast-check";
import {
  FRAME_ASK_COUNT,
  FRAME_BID_COUNT,
  FRAME_MID,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { type AnalyticsFrame, readFrame } from "../lib/pipeline/analytics_frame.ts";
import { HISTORY_FIELDS, HistoryStore } from "../lib/server/history_store.ts";

const LAYOUT = new FrameSlotLayout({ levels: 4, notionals: [10, 20], wallsPerSide: 2 });

/** A frame of `symbolId` whose every word is `seed`-derived, with full ladders. */
function slotOf(symbolId: number, seed: number): Float64Array {
  const f64 = new Float64Array(LAYOUT.slotWords);
  for (let w = 0; w < f64.length; w++) f64[w] = seed * 1000 + w;
  f64[FRAME_SYMBOL_ID] = symbolId;
  f64[FRAME_BID_COUNT] = LAYOUT.levels;
  f64[FRAME_ASK_COUNT] = LAYOUT.levels;
  return f64;
}

/** What an older (not the newest) frame reads as: its kept words, NaN elsewhere, no ladders. */
function compact(slot: Float64Array): Float64Array {
  const out = new Float64Array(slot.length).fill(NaN);
  for (const w of HISTORY_FIELDS) out[w] = slot[w];
  out[FRAME_SYMBOL_ID] = slot[FRAME_SYMBOL_ID];
  out[FRAME_BID_COUNT] = 0;
  out[FRAME_ASK_COUNT] = 0;
  return out;
}

function stored(history: HistoryStore, symbolId: number): AnalyticsFrame[] {
  const out: AnalyticsFrame[] = [];
  history.forEach(symbolId, (f64, base) => out.push(readFrame(f64, base, LAYOUT)));
  return out;
}

Deno.test("history store: the last `depth` frames per symbol, oldest first; the newest in full, older ones with exactly their kept words", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 40 }),
      (depth, symbolIds) => {
        const history = new HistoryStore({ symbols: 3, depth, layout: LAYOUT });
        const model: Float64Array[][] = [[], [], []];
        symbolIds.forEach((s, i) => {
          const slot = slotOf(s, i + 1);
          assert.equal(history.push(slot), true);
          model[s].push(slot.slice());
          if (model[s].length > depth) model[s].shift();
        });
        for (let s = 0; s < 3; s++) {
          const expected = model[s].map((slot, k, all) =>
            readFrame(k === all.length - 1 ? slot : compact(slot), 0, LAYOUT)
          );
          assert.deepStrictEqual(stored(history, s), expected);
          assert.equal(history.size(s), model[s].length);
          const newest = model[s].at(-1);
          if (newest) {
            const base = history.latestBase(s);
            assert.deepStrictEqual(
              history.f64(s).slice(base, base + LAYOUT.slotWords),
              newest,
            );
          } else assert.equal(history.latestBase(s), -1);
        }
      },
    ),
  );
});

Deno.test("history store: an older frame's kept words are bit-for-bit what was pushed (any double, -0 and NaN included)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double(), { minLength: LAYOUT.slotWords, maxLength: LAYOUT.slotWords }),
      (words) => {
        const history = new HistoryStore({ symbols: 1, depth: 2, layout: LAYOUT });
        const slot = Float64Array.from(words);
        slot[FRAME_SYMBOL_ID] = 0;
        history.push(slot);
        history.push(slotOf(0, 9)); // the first becomes an older frame
        let seen = 0;
        history.forEach(0, (f64, base) => {
          if (seen++ > 0) return;
          for (const w of HISTORY_FIELDS) {
            assert.ok(
              Object.is(f64[base + w], slot[w]),
              `word ${w}: ${f64[base + w]} vs ${slot[w]}`,
            );
          }
        });
        assert.equal(seen, 2);
      },
    ),
  );
});

Deno.test("history store: listeners get the newest full frame and its stored time; forEach hands the same time back", () => {
  const history = new HistoryStore({ symbols: 2, depth: 3, layout: LAYOUT });
  const seen: { symbolId: number; mid: number; bids: number; storedAt: number }[] = [];
  const off = history.subscribe((symbolId, f64, base, storedAt) => {
    seen.push({
      symbolId,
      mid: f64[base + FRAME_MID],
      bids: readFrame(f64, base, LAYOUT).bids.length,
      storedAt,
    });
  });
  const before = performance.timeOrigin + performance.now();
  for (let i = 1; i <= 4; i++) history.push(slotOf(1, i));
  off();
  history.push(slotOf(1, 5)); // no longer heard
  assert.deepStrictEqual(seen.map((e) => [e.symbolId, e.mid, e.bids]), [
    [1, 1000 + FRAME_MID, 4],
    [1, 2000 + FRAME_MID, 4],
    [1, 3000 + FRAME_MID, 4],
    [1, 4000 + FRAME_MID, 4],
  ]);
  assert.ok(
    seen.every((e, i) => e.storedAt >= before && (i === 0 || e.storedAt >= seen[i - 1].storedAt)),
  );
  const times: number[] = [];
  const mids: number[] = [];
  history.forEach(1, (f64, base, storedAt) => {
    times.push(storedAt);
    mids.push(f64[base + FRAME_MID]);
  });
  assert.deepStrictEqual(mids, [3000, 4000, 5000].map((m) => m + FRAME_MID));
  assert.deepStrictEqual(times.slice(0, 2), seen.slice(2).map((e) => e.storedAt));
});

Deno.test("history store: frames of unknown symbols are refused and counted; bad options and slots are refused clearly", () => {
  const history = new HistoryStore({ symbols: 2, layout: LAYOUT });
  assert.equal(history.depth, 100);
  assert.equal(history.push(slotOf(2, 1)), false);
  assert.equal(history.push(slotOf(-1, 1)), false);
  assert.equal(history.push(slotOf(0.5, 1)), false);
  assert.equal(history.rejected, 3);
  assert.equal(history.size(0) + history.size(1), 0);
  assert.throws(() => history.push(new Float64Array(3)), /one frame of \d+ words, got 3/);
  assert.throws(
    () => new HistoryStore({ symbols: 0, layout: LAYOUT }),
    /symbols must be a positive integer, got 0/,
  );
  assert.throws(
    () => new HistoryStore({ symbols: 1, depth: 0, layout: LAYOUT }),
    /depth must be an integer from 1 to 100000, got 0/,
  );
  // A record is the kept words, plus its stored time.
  assert.equal(history.recordWords, HISTORY_FIELDS.length + 1);
});
