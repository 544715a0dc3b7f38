/**
 * The service on a NATS bus, in one test process against a real nats-server:
 * an ingest node (`--role ingest`, simulated exchange) publishes, a dashboard
 * node (`--role dashboard`, no workers) serves a browser-protocol client the
 * same frames, history at once for a late joiner, the overview merged from the
 * ingest node's summary, `/stats.bus`, `/health` and the bus metrics. The
 * multi-process cluster (kill, takeover, NATS outage) is
 * `tests/bus_cluster_test.ts`.
 */
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { startService } from "../main.ts";
import { parseConfig } from "../lib/server/config.ts";
import { type ServerMessage, ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { startNatsServer } from "../testing/nats_server.ts";
import { startSimExchange } from "../lib/sim/sim_exchange.ts";
import { connectBus } from "../lib/bus/nats_connect.ts";
import { BarStore } from "../lib/server/bar_store.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const SYMBOLS = "btcusdt,ethusdt,solusdt,bnbusdt,xrpusdt,adausdt";

/** A WebSocket client keeping every decoded message. */
class Client {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) =>
      this.messages.push(fromBinary(ServerMessageSchema, new Uint8Array(e.data)));
  }
  frames(symbol: string) {
    return this.messages.flatMap((m) =>
      m.kind.case === "frame" && m.kind.value.symbol === symbol ? [m.kind.value] : []
    );
  }
  hellos() {
    return this.messages.flatMap((m) => m.kind.case === "hello" ? [m.kind.value] : []);
  }
  summaries() {
    return this.messages.flatMap((m) => m.kind.case === "summary" ? [m.kind.value] : []);
  }
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.addEventListener("close", r));
    this.ws.close();
    await closed;
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000; // a hang guard only
  while (!(await cond())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function json(url: URL): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

Deno.test({
  name: "bus: an ingest node publishes, a dashboard node without workers serves the same frames",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const nats = await startNatsServer();
  const bus = [`--bus=${nats.url}`, "--lease-ttl=3000", "--partitions=4", `--symbols=${SYMBOLS}`];
  const ingest = await startService(
    parseConfig([
      "--source=sim",
      "--sim-rate=20",
      "--port=0",
      "--role=ingest",
      "--node-id=in1",
      ...bus,
    ]),
    { log: quiet },
  );
  const dash = await startService(
    parseConfig(["--port=0", "--role=dashboard", "--node-id=dash1", ...bus]),
    { log: quiet },
  );
  const clients: Client[] = [];
  try {
    // The ingest node holds every partition (it is alone) and goes live.
    await until("ingest holds all 4 partitions", async () => {
      const { body } = await json(new URL("stats?symbols=none", ingest.url));
      return (body.bus as { owned: number[] }).owned.length === 4;
    });
    assert.equal(dash.supervisor.state("ingest"), "stopped", "a dashboard node runs no workers");

    // A browser on the dashboard node: Hello, then the ingest node's frames, re-sequenced.
    const a = new Client(new URL("ws?symbol=ETHUSDT", dash.url).href.replace("http", "ws"));
    clients.push(a);
    await until("frames on the dashboard", () => a.frames("ETHUSDT").length >= 20);
    const frames = a.frames("ETHUSDT");
    for (let k = 1; k < frames.length; k++) {
      assert.equal(frames[k].seq, frames[k - 1].seq + 1, "consecutive seq on the dashboard");
      assert.ok(frames[k].receiveTime >= frames[k - 1].receiveTime);
    }
    const f = frames.at(-1)!;
    assert.ok(f.mid > 0 && f.bidPrices.length > 0, "a real book crossed the bus");
    assert.ok(f.sentTime >= f.deliveredTime, "sent by the dashboard after the ingest delivered it");
    // The same frame as on the ingest node (same receive time, same book), other seq.
    const direct = new Client(new URL("ws?symbol=ETHUSDT", ingest.url).href.replace("http", "ws"));
    clients.push(direct);
    await until("the same frame on both nodes", () => {
      const mine = new Map(direct.frames("ETHUSDT").map((x) => [x.receiveTime, x]));
      return a.frames("ETHUSDT").some((x) => {
        const y = mine.get(x.receiveTime);
        return y !== undefined && y.mid === x.mid && y.bidSizes.join() === x.bidSizes.join() &&
          y.ofi10s === x.ofi10s && y.analysedSeq === x.analysedSeq;
      });
    });

    // A late joiner of another symbol gets its history at once (from the DW_V1_AN stream).
    const b = new Client(new URL("ws?symbol=SOLUSDT", dash.url).href.replace("http", "ws"));
    clients.push(b);
    await until("history of a newly watched symbol", () => b.frames("SOLUSDT").length >= 30);

    // The overview: every symbol's row comes from the ingest node's summary.
    const o = new Client(new URL("ws?summary=1", dash.url).href.replace("http", "ws"));
    clients.push(o);
    await until("a summary with every mid", () => {
      const s = o.summaries().at(-1);
      return s !== undefined && s.mid.length === 6 && s.mid.every((m) => m > 0);
    });

    // The dashboard node's feeds are the owner's (its own counters never see the exchange).
    await until("the dashboard's /stats feeds all live", async () => {
      const feeds = (await json(new URL("stats?symbols=none", dash.url))).body.feeds as {
        counts: Record<string, number>;
      };
      return feeds.counts.live === 6;
    });
    const { status, body } = await json(new URL("health", dash.url));
    assert.equal(status, 200, JSON.stringify(body));
    const stats = (await json(new URL("stats?symbols=none", dash.url))).body.bus as Record<
      string,
      unknown
    >;
    assert.equal(stats.role, "dashboard");
    assert.equal(stats.subscribed, 2);
    assert.ok((stats.stored as number) > 0);
    const metrics = await (await fetch(new URL("metrics", dash.url))).text();
    assert.match(metrics, /^depthwatch_bus_connected 1$/m);
    assert.match(metrics, /^depthwatch_bus_subscriptions 2$/m);
    assert.match(metrics, /^depthwatch_bus_join_losses_total\{kind="frames"\} 0$/m);
    assert.doesNotMatch(metrics, /^depthwatch_worker_up/m, "no workers on a dashboard node");
    const ingestMetrics = await (await fetch(new URL("metrics", ingest.url))).text();
    assert.match(ingestMetrics, /^depthwatch_bus_leases_held 4$/m);
    assert.match(
      ingestMetrics,
      /^depthwatch_bus_frames_published_total\{result="published"\} [1-9]/m,
    );

    // The last browser of a symbol leaves: the dashboard unsubscribes.
    await b.close();
    await until("unsubscribed", async () => {
      const s = (await json(new URL("stats?symbols=none", dash.url))).body.bus as {
        subscribed: number;
      };
      return s.subscribed === 1;
    });
  } finally {
    for (const c of clients) await c.close();
    await dash.close();
    await ingest.close();
    await nats.stop();
  }
});

Deno.test({
  name: "bus: a dashboard node refuses to start without NATS, and says where it looked",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const nats = await startNatsServer();
  const url = nats.url;
  await nats.stop();
  await assert.rejects(
    () => startService(parseConfig(["--port=0", "--bus", url, "--role=dashboard"]), { log: quiet }),
    (e: Error) => e.name === "BusStartError" && e.message.includes(url.replace("nats://", "")),
  );
});

Deno.test({
  name: "bus: two nodes in the role all share the partitions; each serves every symbol",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const nats = await startNatsServer();
  const exchange = await startSimExchange({ symbols: SYMBOLS.split(","), rate: 20, levels: 20 });
  const args = (id: string) => [
    "--port=0",
    `--node-id=${id}`,
    "--source=binance",
    `--binance-ws-url=${exchange.wsUrl}`,
    `--binance-rest-url=${exchange.restUrl}`,
    `--bus=${nats.url}`,
    "--lease-ttl=3000",
    "--partitions=4",
    `--symbols=${SYMBOLS}`,
  ];
  const a = await startService(parseConfig(args("all-a")), { log: quiet });
  const b = await startService(parseConfig(args("all-b")), { log: quiet });
  const clients: Client[] = [];
  try {
    const owned = async (url: string) =>
      ((await json(new URL("stats?symbols=none", url))).body.bus as { owned: number[] }).owned;
    await until("the partitions split between the two nodes", async () => {
      const [pa, pb] = [await owned(a.url), await owned(b.url)];
      return pa.length > 0 && pb.length > 0 && pa.length + pb.length === 4 &&
        pa.every((p) => !pb.includes(p));
    });
    // On node a, a symbol of each owner: one from its own pipeline, one from the bus.
    const stats = (await json(new URL("stats?symbols=none", a.url))).body.bus as {
      owned: number[];
    };
    const mine = SYMBOLS.split(",").map((s) => s.toUpperCase()).filter((_, id) =>
      stats.owned.includes(a.state.bus!.partitionOf[id])
    );
    const theirs = SYMBOLS.split(",").map((s) => s.toUpperCase()).filter((s) => !mine.includes(s));
    assert.ok(mine.length > 0 && theirs.length > 0, `mine ${mine}, theirs ${theirs}`);
    for (const symbol of [mine[0], theirs[0]]) {
      const c = new Client(new URL(`ws?symbol=${symbol}`, a.url).href.replace("http", "ws"));
      clients.push(c);
      // A partition handed from a to b as b joined shows as one seq gap (a resync):
      // wait for ten frames in a row after the last one.
      await until(`ten frames of ${symbol} in a row on node a`, () => {
        const f = c.frames(symbol);
        let run = 1;
        for (let k = f.length - 1; k > 0 && f[k].seq === f[k - 1].seq + 1; k--) run++;
        return f.length > 0 && run >= 10;
      });
    }
    const bus = (await json(new URL("stats?symbols=none", a.url))).body.bus as {
      stored: number;
      dropped: { own: number; staleEpoch: number };
    };
    assert.ok(bus.stored > 0, "node a stored frames of node b's symbol from the bus");
    // What node a stores from the bus is not offered to its publisher again (it would
    // count as fenced): once the hand-over is done, fenced stays while stored grows.
    type Counts = { fenced: number; stored: number };
    const counts = async () =>
      (await json(new URL("stats?symbols=none", a.url))).body.bus as Counts;
    const before = await counts();
    await until(
      "20 more frames stored from the bus",
      async () => (await counts()).stored >= before.stored + 20,
    );
    assert.equal((await counts()).fenced, before.fenced, "bus frames offered to the publisher");
  } finally {
    for (const c of clients) await c.close();
    await a.close();
    await b.close();
    await exchange.close();
    await nats.stop();
  }
});

type Bars = {
  seq: number;
  time: number[];
  close: (number | null)[];
  high: (number | null)[];
  low: (number | null)[];
  frames: number[];
  spreadBps: (number | null)[];
  ofi: (number | null)[];
};

Deno.test({
  name: "bus: a dashboard node's bars of a newly watched symbol start with the owner's (seeded)",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  // Real time: the ingest node runs until its 10 s bars of the symbol span
  // 30 s (about 35 s here), so the owner has bars the dashboard could not make.
  const nats = await startNatsServer();
  const bus = [`--bus=${nats.url}`, "--lease-ttl=3000", "--partitions=4", `--symbols=${SYMBOLS}`];
  const ingest = await startService(
    parseConfig(["--source=sim", "--sim-rate=20", "--port=0", "--role=ingest", ...bus]),
    { log: quiet },
  );
  const dash = await startService(
    parseConfig(["--port=0", "--role=dashboard", "--node-id=dash1", ...bus]),
    { log: quiet },
  );
  const clients: Client[] = [];
  const bars = async (url: string) =>
    (await json(new URL("api/history?symbol=ADAUSDT&resolution=10s", url))).body as Bars;
  try {
    await until("four 10 s bars of ADAUSDT on the ingest node", async () => {
      const { time } = await bars(ingest.url);
      return time.length >= 4;
    });
    const watchAt = Date.now();
    const c = new Client(new URL("ws?symbol=ADAUSDT", dash.url).href.replace("http", "ws"));
    clients.push(c);
    const seeded =
      async () => ((await json(new URL("stats?symbols=none", dash.url))).body.bus as Record<
        string,
        number
      >);
    await until("the bars seeded", async () => (await seeded()).barsSeeded === 1);
    await until("frames on the dashboard", () => c.frames("ADAUSDT").length >= 10);
    const seenBefore = c.frames("ADAUSDT").at(-1)!.seq;
    const [mine, owner] = [await bars(dash.url), await bars(ingest.url)];
    const answeredAt = Date.now();
    await until("a frame after the answer", () => c.frames("ADAUSDT").at(-1)!.seq > mine.seq);
    // The answer's seq is this node's hub seq (the browser folds exactly the frames after
    // it), not the owner's count: the frame numbered so here was received before the answer.
    assert.ok(mine.seq >= seenBefore, `bars seq ${mine.seq}, a frame seen before ${seenBefore}`);
    const numbered = c.frames("ADAUSDT").find((f) => f.seq === mine.seq);
    assert.ok(numbered !== undefined, `no frame numbered ${mine.seq} on the dashboard`);
    assert.ok(
      Number(numbered.receiveTime) <= answeredAt,
      `frame ${mine.seq} received ${Number(numbered.receiveTime) - answeredAt} ms after the answer`,
    );
    // Bars older than the watch (and than the ~5 s of frames the history stream keeps).
    const early = mine.time.filter((t, k) => t < watchAt - 20_000 && mine.frames[k] === 1);
    assert.ok(
      early.length >= 2,
      `bars from before the watch: ${mine.time.map((t) => t - watchAt)}`,
    );
    // Every bar closed on both nodes is the same.
    const closed = (b: Bars) => new Map(b.time.slice(0, -1).map((t, k) => [t, k]));
    const [cm, co] = [closed(mine), closed(owner)];
    let compared = 0;
    for (const [t, k] of cm) {
      const j = co.get(t);
      if (j === undefined) continue;
      for (const col of ["close", "high", "low", "frames", "spreadBps", "ofi"] as const) {
        assert.deepEqual(mine[col][k], owner[col][j], `${col} of the bar at ${t}`);
      }
      compared++;
    }
    assert.ok(compared >= 3, `closed bars compared: ${compared}`);
    assert.equal((await seeded()).barsSeedFailed, 0);
    // The protocol by hand: the holder answers an export; a symbol of nobody's, silence.
    const probe = await connectBus({ url: nats.url, name: "probe" });
    try {
      const reply = await probe.nc.request("dw.v1.ctl.bars.binance.ADAUSDT", new Uint8Array(0), {
        timeout: 30_000, // a hang guard only
      });
      const copy = new BarStore({ symbols: 6 });
      assert.equal(reply.data.byteLength, 23_656);
      assert.equal(copy.importSymbol(5, reply.data), true);
      for (const name of ["NOPE", "adausdt"]) {
        await assert.rejects(
          () =>
            probe.nc.request(`dw.v1.ctl.bars.binance.${name}`, new Uint8Array(0), {
              timeout: 500,
            }),
          `${name}: nobody answers`,
        );
      }
    } finally {
      await probe.close();
    }
    const metrics = await (await fetch(new URL("metrics", dash.url))).text();
    assert.match(metrics, /^depthwatch_bus_bars_seeds_total\{result="seeded"\} 1$/m);
  } finally {
    for (const c of clients) await c.close();
    await dash.close();
    await ingest.close();
    await nats.stop();
  }
});
