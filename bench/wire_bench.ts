/**
 * Wire bench: what one live frame of a watched symbol costs the main thread
 * when the analytics worker encoded it (stage the slot, fill seq and times,
 * copy the WebSocket frame out: `lib/server/worker_wire.ts`) against encoding
 * it on main (`wireFrame(encodeFrame(…))`, the path before, still the fallback
 * for a symbol watched a moment ago), and what the encode costs the worker
 * (`encodeWireSlot`, no allocation). Default layout (20 levels, 3 notionals,
 * 3 walls), every level and wall filled.
 *
 * Run: `deno bench -A bench/wire_bench.ts`.
 * @module
 */
import {
  FRAME_ASK_COUNT,
  FRAME_ASK_WALL_COUNT,
  FRAME_BID_COUNT,
  FRAME_BID_WALL_COUNT,
  FRAME_FLAGS,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { WireSlotLayout } from "../lib/pipeline/wire_slot.ts";
import { encodeFrame, encodeWireSlot, wireFrame } from "../lib/analytics/wire_encoder.ts";
import { WorkerWire } from "../lib/server/worker_wire.ts";

const layout = new FrameSlotLayout();
const wire = new WireSlotLayout(layout);
const f64 = new Float64Array(wire.slotWords);
for (let i = 0; i < layout.slotWords; i++) f64[i] = 1000 + i * 0.37;
f64[FRAME_SYMBOL_ID] = 0;
f64[FRAME_FLAGS] = 0;
f64[FRAME_BID_COUNT] = f64[FRAME_ASK_COUNT] = layout.levels;
f64[FRAME_BID_WALL_COUNT] = f64[FRAME_ASK_WALL_COUNT] = layout.wallsPerSide;
const u8 = new Uint8Array(f64.buffer);
const name = new TextEncoder().encode("BTCUSDT");
encodeWireSlot(u8, f64, 0, wire, name);
const staged = new WorkerWire(wire);
let seq = 1;

Deno.bench("main: encode the frame on main (before; the fallback)", {
  group: "main thread, per watched frame",
  baseline: true,
}, () => {
  wireFrame(encodeFrame(f64, 0, layout, "BTCUSDT", seq++, 1.7e12));
});

Deno.bench("main: take the worker's bytes (fill seq and times, one copy)", {
  group: "main thread, per watched frame",
}, () => {
  staged.stage(u8, f64, 0);
  staged.take(0, seq++, 1.7e12, 1.7e12);
});

Deno.bench("worker: encodeWireSlot into the processed slot", {
  group: "analytics worker, per watched frame",
}, () => {
  encodeWireSlot(u8, f64, 0, wire, name);
});
