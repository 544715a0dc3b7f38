/// <reference lib="deno.worker" />
// Benchmark worker: the ingest side of the pipeline without sockets. It
// replays pre-recorded depth20 messages through the production hot path
// (DepthIngest: parse into the raw ring slot, validate, stamp, commit), or,
// for the postMessage baseline, parses with the same parser into a scratch
// slot and posts a copy. Paced runs send at a fixed rate; otherwise full speed.
import { SpscRing } from "../../lib/pipeline/spsc_ring.ts";
import { PipelineCounters } from "../../lib/pipeline/pipeline_counters.ts";
import { DepthIngest } from "../../lib/ingest/depth_ingest.ts";
import { DepthParser } from "../../lib/ingest/depth_parser.ts";
import { SymbolTable } from "../../lib/ingest/symbol_table.ts";
import {
  BOOK_PARSED_TIME,
  BOOK_RECEIVE_TIME,
  BookSlotLayout,
} from "../../lib/pipeline/book_slot.ts";

let frames: string[] = [];
let symbols: string[] = [];
let ingest: DepthIngest | undefined;
let port: MessagePort | undefined;
let parser: DepthParser | undefined;
let next = 0;
const layout = new BookSlotLayout(20);
const scratch = new Float64Array(layout.slotWords);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

const now = () => performance.timeOrigin + performance.now();

/** The next recorded message; wrapping around resets the update-id check (as a reconnect would). */
function nextFrame(): string {
  if (next === frames.length) {
    next = 0;
    for (let s = 0; s < symbols.length; s++) ingest?.reset(s);
  }
  return frames[next++];
}

self.onmessage = (e: MessageEvent) => {
  const m = e.data;
  if (m.type === "init") {
    frames = m.frames;
    symbols = m.symbols;
    if (m.ring) {
      ingest = new DepthIngest({
        symbols,
        ring: SpscRing.attach(m.ring),
        counters: PipelineCounters.attach(m.counters),
        reserveTimeoutMs: 60_000,
      });
    } else {
      port = m.port;
      parser = new DepthParser(new SymbolTable(symbols), { layout });
    }
    return;
  }
  const { count, rate } = m as { count: number; rate: number };
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (rate > 0) {
      // Paced: sleep (not spin) until this frame is due, like a socket that
      // waits for data, so the ingest side does not steal a core.
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 0.05) Atomics.wait(sleeper, 0, 0, wait);
    }
    if (ingest) {
      ingest.handle(nextFrame(), now());
    } else {
      const received = now();
      if (next === frames.length) next = 0;
      parser!.parse(frames[next++], scratch, 0);
      scratch[BOOK_RECEIVE_TIME] = received;
      scratch[BOOK_PARSED_TIME] = now();
      port!.postMessage(scratch);
    }
  }
};
