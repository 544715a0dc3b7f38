import assert from "node:assert/strict";
import { signal } from "@preact/signals";
import { DashboardStore, dashboardStore, type FeedSource } from "../lib/client/dashboard_store.ts";
import { buildSeed } from "../lib/client/dashboard_seed.ts";
import { emptyDashFrame } from "../lib/client/dash_frame.ts";
import { RenderScheduler } from "../lib/client/render_scheduler.ts";

/** A manual animation-frame clock: callbacks run only when `tick()` is called. */
function frameClock() {
  let queue: ((t: number) => void)[] = [];
  let cancelled = 0;
  return {
    requestFrame: (cb: (t: number) => void) => queue.push(cb),
    cancelFrame: () => void cancelled++,
    get queued() {
      return queue.length;
    },
    get cancelled() {
      return cancelled;
    },
    tick() {
      const q = queue;
      queue = [];
      for (const cb of q) cb(0);
    },
  };
}

function frame(symbol: string, seq: number, mid: number) {
  const f = emptyDashFrame(symbol);
  f.seq = seq;
  f.time = 1000 + seq;
  f.mid = mid;
  f.bidPrices.push(mid - 0.05);
  f.bidSizes.push(1);
  f.askPrices.push(mid + 0.05);
  f.askSizes.push(2);
  return f;
}

function seedFor(symbol = "BTCUSDT") {
  return buildSeed({
    symbols: ["BTCUSDT", "ETHUSDT"],
    symbol,
    frames: [frame(symbol, 1, 100), frame(symbol, 2, 101)],
  });
}

Deno.test("RenderScheduler: any number of requests between frames gives one render", () => {
  const clock = frameClock();
  let renders = 0;
  const s = new RenderScheduler(() => renders++, clock);
  for (let i = 0; i < 1000; i++) s.request();
  assert.equal(clock.queued, 1);
  assert.equal(renders, 0);
  clock.tick();
  assert.equal(renders, 1);
  clock.tick();
  assert.equal(renders, 1, "no request, no render");
  s.request();
  s.request();
  clock.tick();
  assert.equal(renders, 2);
  s.request();
  s.dispose();
  assert.equal(clock.cancelled, 1);
  clock.tick();
  s.request();
  assert.equal(renders, 2, "a disposed scheduler never renders");
});

Deno.test("store: the seed fills the first symbol's ring and latest frame", () => {
  const store = new DashboardStore(seedFor(), { scheduler: frameClock() });
  assert.equal(store.symbol.value, "BTCUSDT");
  assert.equal(store.ring("BTCUSDT").size, 2);
  assert.equal(store.latest("BTCUSDT")?.mid, 101);
  assert.equal(store.format("BTCUSDT").decimals, 2);
  assert.equal(store.latest("ETHUSDT"), null);
});

Deno.test("store: a burst of frames renders once per animation frame", () => {
  const clock = frameClock();
  const store = new DashboardStore(seedFor(), { scheduler: clock });
  let listener = 0;
  store.onRender(() => listener++);
  for (let i = 0; i < 500; i++) store.ingest(frame("BTCUSDT", 3 + i, 100 + i));
  assert.equal(clock.queued, 1);
  clock.tick();
  assert.equal(listener, 1);
  assert.equal(store.version.value, 1);
  assert.equal(store.ring("BTCUSDT").size, 100, "ring capped at 100");
  assert.equal(store.latest("BTCUSDT")?.mid, 599);
  assert.equal(store.framesReceived("BTCUSDT"), 500);
  // Frames of a symbol not shown are stored but do not render.
  store.ingest(frame("ETHUSDT", 1, 3000));
  assert.equal(clock.queued, 0);
  assert.equal(store.ring("ETHUSDT").size, 1);
});

Deno.test("store: pause stops renders while storing frames; resume renders the newest", () => {
  const clock = frameClock();
  const store = new DashboardStore(seedFor(), { scheduler: clock });
  let listener = 0;
  store.onRender(() => listener++);
  store.setPaused(true);
  for (let i = 0; i < 10; i++) {
    store.ingest(frame("BTCUSDT", 3 + i, 200 + i));
    clock.tick();
  }
  assert.equal(listener, 0);
  assert.equal(store.version.value, 0);
  assert.equal(store.latest("BTCUSDT")?.mid, 209, "frames kept while paused");
  store.setPaused(false);
  clock.tick();
  assert.equal(listener, 1);
});

Deno.test("store: switching symbol tells the feed and renders even when paused", () => {
  const clock = frameClock();
  const selected: string[] = [];
  let closed = 0;
  let opened = 0;
  const store = new DashboardStore(seedFor(), {
    scheduler: clock,
    connect(): FeedSource {
      opened++;
      return { select: (s) => selected.push(s), close: () => void closed++ };
    },
  });
  let listener = 0;
  store.onRender(() => listener++);
  const releaseA = store.retain();
  const releaseB = store.retain();
  assert.equal(opened, 1, "one feed for all islands");
  store.setPaused(true);
  store.select("ETHUSDT");
  clock.tick();
  assert.deepEqual(selected, ["ETHUSDT"]);
  assert.equal(store.symbol.value, "ETHUSDT");
  assert.equal(listener, 1);
  releaseA();
  releaseA();
  assert.equal(closed, 0, "releasing twice counts once");
  releaseB();
  assert.equal(closed, 1);
  assert.equal(store.connection.value.state, "closed");
});

Deno.test("store: a Hello replaces history; resync Hellos are counted", () => {
  const clock = frameClock();
  const store = new DashboardStore(seedFor(), { scheduler: clock });
  store.replaceHistory("BTCUSDT", [frame("BTCUSDT", 10, 50), frame("BTCUSDT", 11, 51)], "e1");
  assert.equal(store.connection.value.resyncs, 0);
  assert.equal(store.connection.value.epoch, "e1");
  assert.equal(store.ring("BTCUSDT").size, 2);
  assert.equal(store.latest("BTCUSDT")?.seq, 11);
  store.replaceHistory("BTCUSDT", [], "e2", true);
  assert.equal(store.connection.value.resyncs, 1);
  assert.equal(store.latest("BTCUSDT"), null);
  assert.equal(store.ring("BTCUSDT").size, 0);
});

Deno.test("dashboardStore: one store per page seed signal, distinct across pages", () => {
  const a = signal(seedFor());
  const b = signal(seedFor("ETHUSDT"));
  assert.equal(dashboardStore(a), dashboardStore(a));
  assert.notEqual(dashboardStore(a), dashboardStore(b));
  assert.equal(dashboardStore(b).symbol.value, "ETHUSDT");
});
