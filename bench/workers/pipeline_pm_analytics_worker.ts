/// <reference lib="deno.worker" />
// Benchmark worker: the analytics stage of the postMessage baseline. Receives
// book slots (Float64Array copies) on a port, runs the production Analyser,
// and posts each analytics frame to the main thread.
import { Analyser } from "../../lib/analytics/analyser.ts";
import { BookSlotLayout } from "../../lib/pipeline/book_slot.ts";
import { FrameSlotLayout } from "../../lib/pipeline/frame_slot.ts";

const bookLayout = new BookSlotLayout(20);
const frameLayout = new FrameSlotLayout({ levels: 20 });
const out = new Float64Array(frameLayout.slotWords);

self.onmessage = (e: MessageEvent) => {
  const { port, symbols } = e.data as { port: MessagePort; symbols: number };
  const analyser = new Analyser({ symbols, bookLayout, frameLayout });
  port.onmessage = (m) => {
    analyser.analyse(m.data as Float64Array, 0, out, 0, performance.timeOrigin + performance.now());
    self.postMessage(out);
  };
};
