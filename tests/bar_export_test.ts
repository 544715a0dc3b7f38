/**
 * `BarStore.exportSymbol` / `importSymbol`: one symbol's complete bar state
 * moves to another store (another node) and reads back identically; bytes
 * that are not such an export are refused without a throw.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { BarStore } from "../lib/server/bar_store.ts";
import {
  barExportLayout,
  BX_CAPACITY_10S,
  BX_MAGIC,
  BX_VERSION,
} from "../lib/server/bar_export_layout.ts";
import {
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";

const T0 = 1_800_000_000_000;
const slot = new Float64Array(new FrameSlotLayout({ levels: 5 }).slotWords);

function fold(bars: BarStore, id: number, time: number, mid: number): void {
  slot.fill(NaN);
  slot[FRAME_SYMBOL_ID] = id;
  slot[FRAME_RECEIVE_TIME] = time;
  slot[FRAME_MID] = mid;
  slot[FRAME_SPREAD_BPS] = 1 + (mid % 3);
  slot[FRAME_IMBALANCE_5] = (mid % 7) / 10 - 0.3;
  slot[FRAME_OFI] = mid % 11 - 5;
  bars.fold(slot, 0);
}

/** A store whose symbol 1 has ~2.5 h of frames (both rings wrapped past 1 h at 10 s). */
function owner(now: { t: number }): BarStore {
  const bars = new BarStore({ symbols: 3, now: () => now.t });
  for (let t = T0, k = 0; t < T0 + 9_000_000; t += 7_300, k++) {
    fold(bars, 1, t, 100 + Math.sin(k / 50) * 5 + (k % 5) / 10);
    if (k % 3 === 0) fold(bars, 0, t, 50 + k / 1000);
  }
  now.t = T0 + 9_004_000;
  return bars;
}

const same = (a: unknown, b: unknown) => assert.deepEqual(a, b);

Deno.test("bar export: import into another store reads identical bars and mids", () => {
  const now = { t: 0 };
  const a = owner(now);
  const b = new BarStore({ symbols: 3, now: () => now.t });
  fold(b, 1, T0 + 8_990_000, 7); // local bars the import replaces
  const bytes = a.exportSymbol(1);
  assert.equal(bytes.byteLength, barExportLayout(360, 1440, 12).byteLength);
  assert.equal(bytes.byteLength, 23_656);
  assert.equal(b.importSymbol(1, bytes), true);
  for (const r of ["10s", "1m"] as const) {
    same(b.read(1, r), a.read(1, r));
    assert.ok(a.read(1, r).time.length > 100, `${r}: a long series was compared`);
  }
  for (let t = T0 - 20_000; t < T0 + 9_100_000; t += 3_333) same(b.midAt(1, t), a.midAt(1, t));
  assert.equal(b.folded(1), a.folded(1));
  assert.equal(b.lastReceive(1), a.lastReceive(1));
  // Other symbols are untouched, and both keep folding the same way after.
  same(b.read(0, "10s"), new BarStore({ symbols: 3 }).read(0, "10s"));
  for (const s of [a, b]) fold(s, 1, T0 + 9_020_000, 123.5);
  now.t = T0 + 9_100_000;
  for (const r of ["10s", "1m"] as const) same(b.read(1, r), a.read(1, r));
  // An unaligned copy (as a NATS payload may be) imports the same.
  const odd = new Uint8Array(bytes.byteLength + 1).subarray(1);
  odd.set(a.exportSymbol(0));
  assert.equal(b.importSymbol(2, odd), true);
  same(b.read(2, "1m"), a.read(0, "1m"));
  // An empty symbol exports and imports as empty.
  assert.equal(b.importSymbol(1, new BarStore({ symbols: 1 }).exportSymbol(0)), true);
  same(b.read(1, "10s").time, []);
});

Deno.test("bar export: malformed, truncated, other-layout bytes are refused, nothing changes", () => {
  const now = { t: 0 };
  const a = owner(now);
  const good = a.exportSymbol(1);
  const b = new BarStore({ symbols: 2, now: () => now.t });
  fold(b, 1, T0 + 9_000_000, 42);
  const before = b.read(1, "10s");
  const patched = (word: number, v: number) => {
    const c = good.slice();
    new DataView(c.buffer).setUint32(4 * word, v, true);
    return c;
  };
  const bad: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["truncated", good.subarray(0, good.byteLength - 1)],
    ["longer", new Uint8Array(good.byteLength + 8)],
    ["zeros", new Uint8Array(good.byteLength)],
    ["magic", patched(BX_MAGIC, 0x52424744)],
    ["version", patched(BX_VERSION, 2)],
    ["capacity", patched(BX_CAPACITY_10S, 720)],
  ];
  for (const [what, bytes] of bad) assert.equal(b.importSymbol(1, bytes), false, what);
  assert.equal(b.importSymbol(2, good), false, "an id out of range");
  assert.equal(b.importSymbol(-1, good), false, "a negative id");
  same(b.read(1, "10s"), before);
  // Random bytes of the right length (and of any length) never throw.
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      fc.nat(good.byteLength),
      (head, at) => {
        const c = good.slice();
        c.set(head.subarray(0, c.byteLength - at), at);
        b.importSymbol(1, c);
        b.importSymbol(0, head);
        b.read(1, "10s", 5);
        b.midAt(1, T0);
      },
    ),
    { numRuns: 300 },
  );
  assert.throws(() => a.exportSymbol(3), /symbol id must be an integer from 0 to 2, got 3/);
});
