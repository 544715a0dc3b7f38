/**
 * Bar store benchmark: the per-frame cost on the main thread of folding an
 * analytics frame into its symbol's 10 s and 1 m bars (`BarStore.fold`), at
 * 2,000 symbols, frames 5 ms apart per symbol (so a 10 s bar closes, is
 * quantised, stored and merged into its minute every 2,000 frames of a
 * symbol); and a read of a full hour of 10 s bars (`/api/history`'s work).
 * Target: the fold well under 1 µs a frame (10,240 frames/s at 2,000 symbols
 * would then cost < 1 % of the main thread). Indicative only on a shared
 * machine.
 *
 * Run: `deno task bench` (or `deno bench -A bench/bars_bench.ts`).
 * @module
 */
import { BarStore } from "../lib/server/bar_store.ts";
import {
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";

const SYMBOLS = 2000;
const FRAMES = 100_000;
const layout = new FrameSlotLayout();
const store = new BarStore({ symbols: SYMBOLS, now: () => t });
const frame = new Float64Array(layout.slotWords);
let t = 1_800_000_000_000;
let k = 0;

Deno.bench(`BarStore.fold, ${FRAMES} frames over ${SYMBOLS} symbols`, { n: 20 }, () => {
  for (let i = 0; i < FRAMES; i++) {
    const s = k++ % SYMBOLS;
    if (s === 0) t += 5;
    frame[FRAME_SYMBOL_ID] = s;
    frame[FRAME_RECEIVE_TIME] = t;
    frame[FRAME_MID] = 60_000 + (k % 97) * 0.01;
    frame[FRAME_SPREAD_BPS] = 0.01 + (k % 5) * 0.001;
    frame[FRAME_IMBALANCE_5] = ((k % 21) - 10) / 10;
    frame[FRAME_OFI] = (k % 13) - 6;
    store.fold(frame, 0);
  }
});

// A symbol with a frame every second for 25 hours: both rings full.
let t2 = 1_800_000_000_000;
const day = new BarStore({ symbols: 1, now: () => t2 });
frame[FRAME_SYMBOL_ID] = 0;
for (let i = 0; i < 25 * 3600; i++) {
  t2 += 1000;
  frame[FRAME_RECEIVE_TIME] = t2;
  frame[FRAME_MID] = 60_000 + (i % 97) * 0.01;
  day.fold(frame, 0);
}

Deno.bench("BarStore.read, one hour of 10 s bars (360)", () => {
  day.read(0, "10s", 360);
});

Deno.bench("BarStore.read, one day of 1 m bars (1,440)", () => {
  day.read(0, "1m", 1440);
});
