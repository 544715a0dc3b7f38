/**
 * Bus frame bench: what one analytics frame costs each end of the bus
 * (`lib/bus/bus_frame.ts`, `lib/server/bus_wire.ts`). The ingest node's main
 * thread takes the `Frame` bytes out of the worker's slot
 * (`WorkerWire.frameView`) and builds the payload (`busFramePayload`: one
 * copy plus the epoch trailer); the dashboard node's main thread decodes the
 * payload into a slot (`readBusFrame`, no allocation) and its hub takes the
 * WebSocket frame (`BusWire.take`, one allocation) — against encoding that
 * frame on main (`wireFrame(encodeFrame(…))`), what a dashboard would do
 * without `BusWire`. Default layout (20 levels, 3 notionals, 3 walls), every
 * level and wall filled (a ~1.4 KB frame).
 *
 * Run: `deno bench -A bench/bus_frame_bench.ts`. On a loaded shared machine
 * the numbers are indicative only.
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
import { busFramePayload, readBusFrame } from "../lib/bus/bus_frame.ts";
import { WorkerWire } from "../lib/server/worker_wire.ts";
import { BusWire } from "../lib/server/bus_wire.ts";

const layout = new FrameSlotLayout();
const wire = new WireSlotLayout(layout);
const f64 = new Float64Array(wire.slotWords);
for (let i = 0; i < layout.slotWords; i++) f64[i] = 1000 + i * 0.37;
f64[FRAME_SYMBOL_ID] = 0;
f64[FRAME_FLAGS] = 0;
f64[FRAME_BID_COUNT] = f64[FRAME_ASK_COUNT] = layout.levels;
f64[FRAME_BID_WALL_COUNT] = f64[FRAME_ASK_WALL_COUNT] = layout.wallsPerSide;
const u8 = new Uint8Array(f64.buffer);
encodeWireSlot(u8, f64, 0, wire, new TextEncoder().encode("BTCUSDT"));
const staged = new WorkerWire(wire);
staged.stage(u8, f64, 0);
let seq = 1;

const payload = busFramePayload(staged.frameView(0, 1, 1.7e12, 1.7e12)!, 123_456);
const received = new Float64Array(layout.slotWords);
const info = readBusFrame(payload, received, 0, layout)!;
if (!info) throw new Error("bus_frame_bench: the payload did not decode");
const busWire = new BusWire();
console.log(`frame ${info.frameLength} bytes, payload ${payload.length} bytes`);

Deno.bench("ingest: frameView + busFramePayload (one copy)", {
  group: "ingest node main thread, per published frame",
}, () => {
  busFramePayload(staged.frameView(0, seq++, 1.7e12, 1.7e12)!, 123_456);
});

Deno.bench("dashboard: readBusFrame into a slot", {
  group: "dashboard node main thread, per received frame",
  baseline: true,
}, () => {
  readBusFrame(payload, received, 0, layout);
});

Deno.bench("dashboard: BusWire stage + take (one allocation)", {
  group: "dashboard hub, per received frame sent to browsers",
}, () => {
  busWire.stage(0, payload, info);
  busWire.take(0, seq++, 1.7e12, 1.7e12);
});

Deno.bench("dashboard: wireFrame(encodeFrame(…)) of the decoded slot (without BusWire)", {
  group: "dashboard hub, per received frame sent to browsers",
  baseline: true,
}, () => {
  wireFrame(encodeFrame(received, 0, layout, "BTCUSDT", seq++, 1.7e12));
});
