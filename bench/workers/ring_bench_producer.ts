/// <reference lib="deno.worker" />
// Benchmark worker: produces `count` 704-byte order-book records per request,
// through the ring or by postMessage on a MessagePort, as asked.
import { SpscRing } from "../../lib/pipeline/spsc_ring.ts";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_LAST_UPDATE_ID,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../../lib/pipeline/book_slot.ts";

const layout = new BookSlotLayout(20);
let ring: SpscRing | undefined;
let port: MessagePort | undefined;

function fillSlot(f64: Float64Array, at: number, seq: number): void {
  f64[at + BOOK_SYMBOL_ID] = seq & 1;
  f64[at + BOOK_LAST_UPDATE_ID] = seq;
  f64[at + BOOK_RECEIVE_TIME] = seq * 0.1;
  f64[at + BOOK_BID_COUNT] = 20;
  f64[at + BOOK_ASK_COUNT] = 20;
  const mid = 60000 + (seq % 100) * 0.01;
  for (let i = 0; i < 20; i++) {
    f64[at + layout.bidPrice(i)] = mid - 0.01 * (i + 1);
    f64[at + layout.bidSize(i)] = 1 + i;
    f64[at + layout.askPrice(i)] = mid + 0.01 * (i + 1);
    f64[at + layout.askSize(i)] = 2 + i;
  }
}

function plainObject(seq: number) {
  const mid = 60000 + (seq % 100) * 0.01;
  const bids: [number, number][] = [];
  const asks: [number, number][] = [];
  for (let i = 0; i < 20; i++) {
    bids.push([mid - 0.01 * (i + 1), 1 + i]);
    asks.push([mid + 0.01 * (i + 1), 2 + i]);
  }
  return { symbolId: seq & 1, lastUpdateId: seq, receiveTime: seq * 0.1, bids, asks };
}

// The record that is moved: built once, so every mode measures transport, not construction.
const template = new Float64Array(layout.slotWords);
fillSlot(template, 0, 0);
const templateObject = plainObject(0);

self.onmessage = (e: MessageEvent) => {
  const msg = e.data;
  if (msg.ring) {
    ring = SpscRing.attach(msg.ring);
    port = msg.port;
    return;
  }
  const { mode, count, start } = msg as { mode: string; count: number; start: number };
  if (mode === "ring") {
    for (let seq = start; seq < start + count; seq++) {
      const at = ring!.reserve(10_000);
      ring!.f64.set(template, at);
      ring!.f64[at + BOOK_LAST_UPDATE_ID] = seq;
      ring!.commit();
    }
  } else if (mode === "object") {
    for (let seq = start; seq < start + count; seq++) {
      templateObject.lastUpdateId = seq;
      port!.postMessage(templateObject);
    }
  } else {
    for (let seq = start; seq < start + count; seq++) {
      template[BOOK_LAST_UPDATE_ID] = seq;
      port!.postMessage(template);
    }
  }
};
