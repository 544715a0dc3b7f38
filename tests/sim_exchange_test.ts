import assert from "node:assert/strict";
import { type SimExchange, startSimExchange } from "../lib/sim/sim_exchange.ts";

type Level = [string, string];
interface Depth {
  lastUpdateId: number;
  bids: Level[];
  asks: Level[];
}
interface Diff {
  e: string;
  E: number;
  s: string;
  U: number;
  u: number;
  b: Level[];
  a: Level[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A real WebSocket client that records everything it receives. */
class Client {
  readonly ws: WebSocket;
  readonly messages: string[] = [];
  /** Receive time of each message, epoch ms on the clock the sim stamps `E` with. */
  readonly receivedAt: number[] = [];
  readonly closed: Promise<CloseEvent>;
  closeEvent: CloseEvent | undefined;
  errored = false;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.onmessage = (e) => {
      this.messages.push(String(e.data));
      this.receivedAt.push(performance.timeOrigin + performance.now());
    };
    this.ws.onerror = () => this.errored = true;
    this.closed = new Promise((resolve) => {
      this.ws.onclose = (e) => {
        this.closeEvent = e;
        resolve(e);
      };
    });
  }

  /** Parsed messages of one combined stream. */
  of<T>(stream: string): T[] {
    const out: T[] = [];
    for (const m of this.messages) {
      try {
        const msg = JSON.parse(m);
        if (msg.stream === stream) out.push(msg.data);
      } catch {
        // Garbage or truncated frames are checked separately.
      }
    }
    return out;
  }

  /** Wait until `pred` holds; the timeout only guards against a hang. */
  async until(what: string, pred: () => boolean, timeoutMs = 30_000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!pred()) {
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    if (!this.closeEvent) this.ws.close();
    await this.closed;
  }
}

async function withSim(
  options: Parameters<typeof startSimExchange>[0],
  body: (sim: SimExchange) => Promise<void>,
): Promise<void> {
  const sim = await startSimExchange(options);
  try {
    await body(sim);
  } finally {
    await sim.close();
  }
}

function nums(levels: Level[]): number[][] {
  return levels.map(([p, q]) => [Number(p), Number(q)]);
}

function assertBook(d: Depth, n: number): void {
  const bids = nums(d.bids), asks = nums(d.asks);
  assert.equal(bids.length, n);
  assert.equal(asks.length, n);
  for (let i = 1; i < n; i++) {
    assert.ok(bids[i][0] < bids[i - 1][0], "bids strictly descending");
    assert.ok(asks[i][0] > asks[i - 1][0], "asks strictly ascending");
  }
  assert.ok(bids[0][0] < asks[0][0], "not crossed");
}

Deno.test("frames arrive for every subscribed stream on the configured schedule, none early", async () => {
  const startedAt = performance.now();
  await withSim({ symbols: ["btcusdt", "ethusdt"], rate: 40 }, async (sim) => {
    const streams = ["btcusdt@depth20@100ms", "ethusdt@depth5", "btcusdt@depth@100ms"];
    const c = new Client(`${sim.wsUrl}/stream?streams=${streams.join("/")}`);
    await c.until("40 frames of every stream", () => streams.every((s) => c.of(s).length >= 40));
    sim.inject({ kind: "stall" });
    const st = sim.stats();
    const elapsedS = (performance.now() - startedAt) / 1000;
    // Every message the exchange sent arrives (one connection: a symbol's count
    // is its streams' messages).
    await c.until(
      "every message sent",
      () => c.messages.length === st.framesSent.BTCUSDT + st.framesSent.ETHUSDT,
    );
    assert.equal(
      c.of(streams[0]).length + c.of(streams[2]).length,
      st.framesSent.BTCUSDT,
    );
    assert.equal(c.of(streams[1]).length, st.framesSent.ETHUSDT);
    for (const d of c.of<Depth>("btcusdt@depth20@100ms")) assertBook(d, 20);
    for (const d of c.of<Depth>("ethusdt@depth5")) assertBook(d, 5);
    // The schedule: frame k of a symbol is due 25 ms (1000 / 40) after frame
    // k - 1, and the clock never runs ahead. A busy machine sends late (in
    // bursts that catch up, or skipping what is more than a second behind,
    // counted), never early. How fast a machine keeps up is not a check here:
    // `deno task soak` reports the rate the exchange sustained.
    for (const [symbol, generated] of Object.entries(st.framesGenerated)) {
      assert.ok(generated <= 40 * elapsedS + 1, `${symbol}: ${generated} frames in ${elapsedS} s`);
    }
    const diffs = c.of<Diff>("btcusdt@depth@100ms");
    const diffAt = c.messages.flatMap((m, i) =>
      m.includes('"stream":"btcusdt@depth@100ms"') ? [c.receivedAt[i]] : []
    );
    for (let i = 0; i < diffs.length; i++) {
      assert.ok(diffs[i].E <= diffAt[i], `event ${i} due at ${diffs[i].E}, sent early`);
      if (i === 0) continue;
      assert.equal(diffs[i].U, diffs[i - 1].u + 1, "U = previous u + 1");
      assert.equal(diffs[i].s, "BTCUSDT");
      const step = diffs[i].E - diffs[i - 1].E;
      assert.ok(step > 0 && step % 25 === 0, `E advanced by ${step} ms, not a multiple of 25`);
    }
    await c.close();
    await c.until("the server saw the close", () => sim.stats().connections === 0);
    assert.equal(sim.stats().connectionsOpened, 1);
  });
});

Deno.test("raw /ws streams carry bare payloads", async () => {
  await withSim({ symbols: ["btcusdt"], rate: 50 }, async (sim) => {
    const c = new Client(`${sim.wsUrl}/ws/btcusdt@depth10@100ms`);
    await c.until("3 frames", () => c.messages.length >= 3);
    const d: Depth = JSON.parse(c.messages[0]);
    assertBook(d, 10);
    assert.deepEqual(Object.keys(d), ["lastUpdateId", "bids", "asks"]);
    await c.close();
  });
});

Deno.test("REST snapshot plus diff stream reproduces the partial frames' top levels", async () => {
  await withSim({ symbols: ["btcusdt", "ethusdt"], rate: 50, seed: 11 }, async (sim) => {
    // Diff before partial in one connection: for a frame, the event with u = L
    // arrives before the partial book with lastUpdateId L.
    const c = new Client(
      `${sim.wsUrl}/stream?streams=ethusdt@depth@100ms/ethusdt@depth20@100ms`,
    );
    await c.until("diff events buffered", () => c.of("ethusdt@depth@100ms").length >= 3);
    const res = await fetch(`${sim.restUrl}/api/v3/depth?symbol=ETHUSDT&limit=1000`);
    assert.equal(res.status, 200);
    const snap: Depth = await res.json();
    assert.equal(snap.bids.length, 1000);
    await c.until(
      "21 partial frames after the snapshot",
      () =>
        c.of<Depth>("ethusdt@depth20@100ms").filter((d) => d.lastUpdateId > snap.lastUpdateId)
          .length >= 21,
    );

    const bids = new Map(snap.bids.map(([p, q]) => [Number(p), Number(q)]));
    const asks = new Map(snap.asks.map(([p, q]) => [Number(p), Number(q)]));
    let last = snap.lastUpdateId;
    let synced = false, compared = 0;
    for (const m of c.messages) {
      const { stream, data } = JSON.parse(m);
      if (stream === "ethusdt@depth@100ms") {
        const ev = data as Diff;
        if (ev.u <= last && !synced) continue; // older than the snapshot
        if (!synced) {
          assert.ok(ev.U <= last + 1 && ev.u >= last + 1, "the first event bridges the snapshot");
          synced = true;
        } else assert.equal(ev.U, last + 1, "no gap");
        for (const [p, q] of ev.b) {
          Number(q) === 0 ? bids.delete(Number(p)) : bids.set(Number(p), Number(q));
        }
        for (const [p, q] of ev.a) {
          Number(q) === 0 ? asks.delete(Number(p)) : asks.set(Number(p), Number(q));
        }
        last = ev.u;
      } else if (synced) {
        const d = data as Depth;
        assert.equal(d.lastUpdateId, last, "partial and diff share update ids");
        const top = (m: Map<number, number>, desc: boolean) =>
          [...m].sort((x, y) => desc ? y[0] - x[0] : x[0] - y[0]).slice(0, 20);
        assert.deepEqual(top(bids, true), nums(d.bids));
        assert.deepEqual(top(asks, false), nums(d.asks));
        compared++;
      }
    }
    assert.ok(compared >= 20, `compared ${compared} partial frames`);
    await c.close();
  });
});

Deno.test("same seed gives the same frames; a different seed does not", async () => {
  const run = async (seed: number) => {
    const out: string[] = [];
    await withSim({ symbols: ["btcusdt", "solusdt"], rate: 0, seed }, async (sim) => {
      const c = new Client(
        `${sim.wsUrl}/stream?streams=btcusdt@depth@100ms/solusdt@depth5/btcusdt@depth20`,
      );
      await c.until("open", () => sim.stats().connections === 1);
      sim.step(30);
      const { framesSent } = sim.stats();
      const sent = framesSent.BTCUSDT + framesSent.SOLUSDT;
      await c.until("every frame sent", () => c.messages.length === sent);
      await c.close();
      // Everything but the wall-clock event time.
      for (const m of c.messages) out.push(m.replace(/"E":\d+/, '"E":0'));
    });
    return out;
  };
  const a = await run(42), b = await run(42), c = await run(43);
  assert.ok(a.length >= 80);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("REST: weights, limit clamp, Binance errors, weight limit", async () => {
  await withSim({ symbols: ["btcusdt"], rate: 10, weightLimit: 400 }, async (sim) => {
    const get = async (q: string) => {
      const res = await fetch(`${sim.restUrl}/api/v3/depth?${q}`);
      return { res, body: await res.json() };
    };
    let r = await get("symbol=BTCUSDT");
    assert.equal(r.res.status, 200);
    assert.equal(r.body.bids.length, 100, "limit defaults to 100");
    assert.equal(r.res.headers.get("X-MBX-USED-WEIGHT-1M"), "5");
    r = await get("symbol=BTCUSDT&limit=1000");
    assert.equal(r.res.headers.get("X-MBX-USED-WEIGHT-1M"), "55");
    r = await get("symbol=BTCUSDT&limit=9999");
    assert.equal(r.res.status, 200, "limit above 5000 is truncated to 5000");
    assert.equal(r.res.headers.get("X-MBX-USED-WEIGHT-1M"), "305");
    assert.ok(r.body.bids.length > 1000 && r.body.bids.length <= 5000);
    r = await get("symbol=BTCUSDT&limit=5000");
    assert.equal(r.res.status, 429, "305 + 250 exceeds the limit of 400");
    assert.equal(r.body.code, -1003);
    assert.equal(r.res.headers.get("X-MBX-USED-WEIGHT-1M"), "305");
    assert.ok(Number(r.res.headers.get("Retry-After")) >= 1);

    r = await get("symbol=XXXUSDT");
    assert.equal(r.res.status, 400);
    assert.deepEqual(r.body, { code: -1121, msg: "Invalid symbol." });
    r = await get("symbol=btcusdt");
    assert.equal(r.body.code, -1100);
    r = await get("limit=5");
    assert.equal(r.body.code, -1102);
    r = await get("symbol=BTCUSDT&limit=ten");
    assert.equal(r.body.code, -1100);
    const st = sim.stats();
    assert.equal(st.rest["200"], 3);
    assert.equal(st.rest["429"], 1);
    assert.equal(st.rest["400"], 4);
    assert.equal(st.usedWeight1m, 305);
    const notFound = await fetch(`${sim.restUrl}/nope`);
    assert.equal(notFound.status, 404);
    await notFound.body?.cancel();
  });
});

const B_DIFF = "btcusdt@depth@100ms";
const B_PART = "btcusdt@depth5@100ms";
const E_PART = "ethusdt@depth5@100ms";

Deno.test("fault close: all connections, or only those carrying a symbol; repeating", async () => {
  await withSim({ symbols: ["btcusdt", "ethusdt"], rate: 50 }, async (sim) => {
    const b = new Client(`${sim.wsUrl}/stream?streams=${B_PART}`);
    const e = new Client(`${sim.wsUrl}/stream?streams=${E_PART}`);
    await b.until("both open", () => b.messages.length > 0 && e.messages.length > 0);
    sim.inject({ kind: "close", symbol: "btcusdt", code: 4001 });
    const ev = await b.closed;
    assert.equal(ev.code, 4001);
    const before = e.messages.length;
    await e.until("eth keeps streaming", () => e.messages.length >= before + 3);
    assert.equal(e.closeEvent, undefined);
    sim.inject({ kind: "close" });
    assert.equal((await e.closed).code, 1000);

    sim.inject({ kind: "close", everyMs: 60, durationMs: 60_000 }); // until the clear below
    const again = new Client(`${sim.wsUrl}/ws/${B_PART}`);
    await again.closed; // closed by the repeating fault, not by the client
    assert.ok(sim.stats().serverCloses >= 3);
    sim.inject({ kind: "clear" });
    const stays = new Client(`${sim.wsUrl}/ws/${B_PART}`);
    await stays.until("frames after clear", () => stays.messages.length >= 5);
    await stays.close();
    const f = sim.stats().faults;
    assert.deepEqual([f.close, f.clear, sim.stats().faultsTotal], [3, 1, 4]);
  });
});

Deno.test("fault stall: the symbol goes silent while the socket stays open, then resumes", async () => {
  await withSim({ symbols: ["btcusdt", "ethusdt"], rate: 50 }, async (sim) => {
    const c = new Client(`${sim.wsUrl}/stream?streams=${B_PART}/${E_PART}`);
    await c.until("frames", () => c.of(B_PART).length > 2);
    sim.inject({ kind: "stall", symbol: "btcusdt" });
    // What was sent before the stall arrives; then nothing more of btcusdt,
    // while ethusdt keeps streaming on the same socket.
    const b0 = sim.stats().framesSent.BTCUSDT;
    await c.until("the btcusdt frames sent before the stall", () => c.of(B_PART).length === b0);
    const e0 = c.of(E_PART).length;
    await c.until("5 more ethusdt frames", () => c.of(E_PART).length >= e0 + 5);
    assert.equal(sim.stats().framesSent.BTCUSDT, b0, "btcusdt silent");
    assert.equal(c.of(B_PART).length, b0);
    assert.equal(c.closeEvent, undefined);
    assert.ok(sim.stats().framesStalled > 0);
    // Everything, with an end: while it lasts the exchange sends nothing and
    // counts each frame it holds back. Seen between two readings of its
    // counters (one thread: each reading is consistent) with frames held back
    // for both symbols in between.
    sim.inject({ kind: "stall", durationMs: 1500 });
    let before = sim.stats(), silent = false;
    while (!silent) {
      await sleep(10);
      const now = sim.stats();
      const sent = (x: typeof now) => x.framesSent.BTCUSDT + x.framesSent.ETHUSDT;
      if (sent(now) !== sent(before)) break; // the stall ended before a full pump was seen
      silent = now.framesStalled >= before.framesStalled + 2;
      before = now;
    }
    assert.ok(silent, "frames of both symbols held back while nothing was sent");
    await c.until("resumes after the stall", () => c.of(B_PART).length > b0 + 3);
    await c.close();
  });
});

Deno.test("fault gap: the diff stream skips update ids", async () => {
  await withSim({ symbols: ["btcusdt"], rate: 50 }, async (sim) => {
    const c = new Client(`${sim.wsUrl}/ws/${B_DIFF}`);
    await c.until("events", () => c.messages.length >= 3);
    sim.inject({ kind: "gap", symbol: "btcusdt", events: 2 });
    const n0 = c.messages.length;
    await c.until("events after the gap", () => c.messages.length >= n0 + 5);
    const evs: Diff[] = c.messages.map((m) => JSON.parse(m));
    const gaps = evs.slice(1).filter((ev, i) => ev.U !== evs[i].u + 1);
    assert.equal(gaps.length, 1, "exactly one gap");
    assert.ok(gaps[0].U > evs[evs.indexOf(gaps[0]) - 1].u + 1);
    assert.equal(sim.stats().gapEventsDropped.BTCUSDT, 2);
    await c.close();
  });
});

Deno.test("faults garbage and truncated: messages JSON.parse rejects", async () => {
  await withSim({ symbols: ["btcusdt", "ethusdt"], rate: 50 }, async (sim) => {
    const c = new Client(`${sim.wsUrl}/stream?streams=${B_PART}/${E_PART}`);
    await c.until("frames", () => c.messages.length > 2);
    sim.inject({ kind: "garbage", count: 2 });
    sim.inject({ kind: "truncated", symbol: "ethusdt" });
    const bad = () =>
      c.messages.filter((m) => {
        try {
          JSON.parse(m);
          return false;
        } catch {
          return true;
        }
      });
    await c.until("3 bad messages", () => bad().length >= 3);
    await sleep(100);
    const b = bad();
    assert.equal(b.length, 3, "two garbage, one truncated");
    assert.equal(b.filter((m) => m.startsWith(`{"stream":"${E_PART}","data":`)).length, 1);
    const st = sim.stats();
    assert.deepEqual([st.garbageSent, st.framesTruncated], [2, 1]);
    await c.close();
  });
});

Deno.test("fault crossed: the next partial frame of the symbol is crossed, later ones are not", async () => {
  await withSim({ symbols: ["btcusdt"], rate: 50 }, async (sim) => {
    const c = new Client(`${sim.wsUrl}/ws/btcusdt@depth20@100ms`);
    await c.until("frames", () => c.messages.length > 2);
    sim.inject({ kind: "crossed", symbol: "btcusdt" });
    const n0 = c.messages.length;
    await c.until("frames after", () => c.messages.length > n0 + 5);
    const crossed = c.messages.map((m) => JSON.parse(m) as Depth).filter((d) =>
      Number(d.bids[0][0]) >= Number(d.asks[0][0])
    );
    assert.equal(crossed.length, 1);
    const bids = nums(crossed[0].bids);
    for (let i = 1; i < bids.length; i++) assert.ok(bids[i][0] < bids[i - 1][0], "still sorted");
    await c.close();
  });
});

Deno.test("fault serverShutdown: the message, frames until the delay, then close (combined and raw)", async () => {
  // The clock is stopped (rate 0): frames go out only on step(), so how many
  // follow the notice does not depend on the machine's speed.
  await withSim({ symbols: ["btcusdt"], rate: 0 }, async (sim) => {
    const c = new Client(`${sim.wsUrl}/stream?streams=${B_PART}`);
    const r = new Client(`${sim.wsUrl}/ws/${B_PART}`);
    await c.until("both open", () => sim.stats().connections === 2);
    sim.step(2);
    await c.until("frames", () => c.messages.length > 0 && r.messages.length > 0);
    sim.inject({ kind: "serverShutdown", delayMs: 200 });
    sim.step(5); // before the close: it happens on a later tick
    await Promise.all([c.closed, r.closed]);
    const at = c.messages.findIndex((m) => m.includes("serverShutdown"));
    const msg = JSON.parse(c.messages[at]);
    assert.equal(msg.stream, "!serverShutdown");
    assert.equal(msg.data.e, "serverShutdown");
    assert.equal(typeof msg.data.E, "number");
    assert.equal(c.messages.length - at - 1, 5, "frames keep coming until the close");
    const raw = JSON.parse(r.messages.find((m) => m.includes("serverShutdown"))!);
    assert.deepEqual(Object.keys(raw), ["e", "E"]);
    assert.equal(c.closeEvent!.code, 1001);
  });
});

Deno.test("REST faults: 429 and 418 with Retry-After, slow responses; via inject and POST /sim/fault", async () => {
  await withSim({ symbols: ["btcusdt"], rate: 10 }, async (sim) => {
    const depth = () => fetch(`${sim.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5`);
    sim.inject({ kind: "rest429", count: 2, retryAfterSec: 3 });
    for (let i = 0; i < 2; i++) {
      const res = await depth();
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("Retry-After"), "3");
      assert.equal((await res.json()).code, -1003);
    }
    let res = await depth();
    assert.equal(res.status, 200);
    await res.body?.cancel();

    const post = (body: unknown) =>
      fetch(`${sim.restUrl}/sim/fault`, { method: "POST", body: JSON.stringify(body) });
    res = await post({ kind: "rest418", retryAfterSec: 60 });
    assert.deepEqual(await res.json(), { ok: true, injected: ["rest418"] });
    res = await depth();
    assert.equal(res.status, 418);
    assert.equal(res.headers.get("Retry-After"), "60");
    await res.body?.cancel();

    res = await post([{ kind: "restSlow", delayMs: 300, count: 1 }]);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const t0 = performance.now();
    res = await depth();
    assert.ok(performance.now() - t0 >= 250, "held back by restSlow");
    assert.equal(res.status, 200);
    await res.body?.cancel();

    res = await post({ kind: "gap" });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /needs the field "symbol"/);
    res = await post({ kind: "gap", symbol: "dogeusdt" });
    assert.match((await res.json()).error, /not simulated/);
    res = await fetch(`${sim.restUrl}/sim/fault`, { method: "POST", body: "{" });
    assert.match((await res.json()).error, /body must be JSON/);
    const st = await (await fetch(`${sim.restUrl}/sim/stats`)).json();
    assert.equal(st.faults.rest429, 1);
    assert.equal(st.faults.rest418, 1);
    assert.equal(st.faults.restSlow, 1);
    assert.deepEqual([st.rest["429"], st.rest["418"]], [2, 1]);
  });
});

Deno.test("unknown streams: malformed names refuse the upgrade, unknown symbols stay silent", async () => {
  await withSim({ symbols: ["btcusdt"], rate: 50 }, async (sim) => {
    const bad = new Client(`${sim.wsUrl}/stream?streams=btcusdt@trade`);
    await bad.closed;
    assert.ok(bad.errored, "upgrade refused");
    const res = await fetch(`${sim.restUrl}/stream?streams=btcusdt@trade`, {
      headers: { upgrade: "websocket", connection: "upgrade" },
    });
    assert.equal(res.status, 400);
    assert.match((await res.json()).msg, /invalid stream name "btcusdt@trade"/);

    const quiet = new Client(`${sim.wsUrl}/stream?streams=dogeusdt@depth5/${B_PART}`);
    await quiet.until("btc frames", () => quiet.of(B_PART).length >= 5);
    assert.equal(quiet.of("dogeusdt@depth5").length, 0);
    quiet.ws.send(JSON.stringify({ method: "SUBSCRIBE", params: ["ethusdt@depth"], id: 7 }));
    await quiet.until("an error answer", () => quiet.messages.some((m) => m.includes('"id":7')));
    const st = sim.stats();
    assert.equal(st.unknownStreams, 1);
    assert.ok(st.upgradesRejected >= 2);
    await quiet.close();
  });
});

Deno.test("high rate: 4 symbols × 2500 frames/s, every frame sent is received, no sequence gap", async () => {
  const symbols = ["btcusdt", "ethusdt", "solusdt", "bnbusdt"];
  await withSim({ symbols, rate: 2500 }, async (sim) => {
    const streams = symbols.map((s) => `${s}@depth@100ms`);
    const c = new Client(`${sim.wsUrl}/stream?streams=${streams.join("/")}`);
    await c.until("open", () => c.messages.length > 0);
    const sentNow = () => Object.values(sim.stats().framesSent).reduce((a, b) => a + b, 0);
    await c.until("4,000 frames sent", () => sentNow() >= 4000);
    sim.inject({ kind: "stall" }); // from here on nothing is sent
    const sent = sentNow();
    await c.until("all sent frames received", () => c.messages.length >= sent);
    assert.equal(c.messages.length, sent, "nothing lost, nothing extra");
    for (const s of streams) {
      const evs = c.of<Diff>(s);
      for (let i = 1; i < evs.length; i++) assert.equal(evs[i].U, evs[i - 1].u + 1);
    }
    await c.close();
  });
});
