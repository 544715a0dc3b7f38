/**
 * The analytics frame bus of docs/design.md §10 against a real nats-server
 * (testing/nats_server.ts): lib/bus/frame_publisher.ts publishes frame
 * bytes (fenced, counted), lib/bus/frame_subscriptions.ts hands them to
 * reference-counted watchers, lib/bus/frame_history_stream.ts keeps the
 * newest N per symbol in `DW_V1_AN` so a late joiner gets its history at
 * once and then live frames without a gap or a duplicate; NATS killed and
 * restarted costs counted frames only.
 *
 * Test frames carry their per-symbol sequence number in their first 4
 * bytes. Waits poll with a generous hang guard, never a timing threshold.
 */
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { createInbox, type NatsConnection } from "@nats-io/nats-core";
import { startNatsServer } from "../testing/nats_server.ts";
import { FramePublisher, pendingOutboundBytes } from "../lib/bus/frame_publisher.ts";
import { FrameSubscriptions } from "../lib/bus/frame_subscriptions.ts";
import {
  FRAME_HISTORY_STREAM,
  type FrameHistorySource,
  FrameHistoryStream,
} from "../lib/bus/frame_history_stream.ts";
import { frameSubject } from "../lib/bus/bus_subjects.ts";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";

const VENUE = "sim";
/** The hang guard of every wait (a loaded 2-core machine is slow, never this slow). */
const HANG_MS = 30_000;
/**
 * The join's wait for history in these tests: the hang guard, not the 2 s
 * default, because a JetStream just restarted on a loaded machine can take
 * seconds to answer, and a join that gave up would skip history (a gap the
 * exact-sequence assertions would blame on the code).
 */
const JOIN_MS = HANG_MS;

/** A 700-byte test frame: `seq` (u32 big-endian) then a pattern of `seq` and `salt`. */
function frame(seq: number, salt = 0, size = 700): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, seq);
  for (let i = 4; i < size; i++) b[i] = (seq * 31 + i + salt) & 0xff;
  return b;
}

function seqOf(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
}

/** Polls `cond` every 10 ms; throws naming `what` after the hang guard. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + HANG_MS;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`hang guard: ${what} did not happen in ${HANG_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Follows `nc`'s status: how many times it reported `type`. */
function countStatus(nc: NatsConnection, type: string): { count: number } {
  const seen = { count: 0 };
  (async () => {
    for await (const s of nc.status()) if (s.type === type) seen.count++;
  })();
  return seen;
}

/**
 * Whether the server holds a subscription on `subject`, asked from
 * `probeNc`: a message with a reply subject either reaches a subscriber
 * (`probeSeen()` turns true) or the server answers 503 "no responders".
 */
async function serverHasInterest(
  probeNc: NatsConnection,
  subject: string,
  probe: Uint8Array,
  probeSeen: () => boolean,
): Promise<boolean> {
  const inbox = createInbox();
  const reply = probeNc.subscribe(inbox);
  let noResponders = false;
  const replies = (async () => {
    for await (const m of reply) if (m.headers?.code === 503) noResponders = true;
  })();
  await probeNc.flush();
  probeNc.publish(subject, probe, { reply: inbox });
  await waitFor(() => noResponders || probeSeen(), `an answer to the interest probe on ${subject}`);
  reply.unsubscribe();
  await replies;
  assert.ok(
    !(noResponders && probeSeen()),
    "a probe cannot both reach a sink and find no responder",
  );
  return !noResponders;
}

/** Waits until the history stream has stored its `lastSeq`th message. */
async function waitStored(jsm: JetStreamManager, lastSeq: number): Promise<void> {
  let seq = 0;
  const deadline = Date.now() + HANG_MS;
  while (seq < lastSeq) {
    if (Date.now() > deadline) throw new Error(`hang guard: stream stored ${seq} of ${lastSeq}`);
    seq = (await jsm.streams.info(FRAME_HISTORY_STREAM)).state.last_seq;
    if (seq < lastSeq) await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("bus frames: published bytes arrive unchanged, in order; fenced frames are refused and counted", async () => {
  const server = await startNatsServer({ jetstream: false });
  const pubNc = await connect({ servers: server.url });
  const subNc = await connect({ servers: server.url });
  try {
    let allowed = true;
    const publisher = new FramePublisher(pubNc, { canPublish: (id) => id === 0 && allowed });
    publisher.register(0, VENUE, "BTCUSDT");
    publisher.register(1, VENUE, "ETHUSDT");
    assert.equal(publisher.subjectOf(0), "dw.v1.an.sim.BTCUSDT.frame");
    const subs = new FrameSubscriptions(subNc, { joinTimeoutMs: JOIN_MS });
    const got: Uint8Array[] = [];
    const eth: Uint8Array[] = [];
    assert.equal(await subs.watch(VENUE, "BTCUSDT", (b) => got.push(b.slice())), true);
    await subs.watch(VENUE, "ETHUSDT", (b) => eth.push(b.slice()));

    const sent = Array.from({ length: 50 }, (_, i) => frame(i + 1, 7, 200 + 20 * i));
    for (const f of sent.slice(0, 25)) assert.equal(publisher.publish(0, f), true);
    assert.equal(publisher.publish(1, frame(999)), false, "symbol 1 is fenced");
    allowed = false;
    assert.equal(publisher.publish(0, frame(1000)), false, "a lost lease fences at once");
    allowed = true;
    for (const f of sent.slice(25)) publisher.publish(0, f);
    await pubNc.flush();
    await waitFor(() => got.length >= 50, "50 frames at the subscriber");

    assert.deepEqual(got.map((b) => Array.from(b)), sent.map((b) => Array.from(b)));
    assert.deepEqual(eth, [], "a fenced frame never reaches the bus");
    const bytes = sent.reduce((n, b) => n + b.length, 0);
    assert.deepEqual(publisher.counters, {
      published: 50,
      fenced: 2,
      failed: 0,
      backpressure: 0,
      bytes,
    });
    assert.equal(subs.counters.received, 50);
    assert.equal(subs.counters.bytes, bytes);
    assert.ok(subs.lastReceiveMs(VENUE, "BTCUSDT") <= Date.now());
    assert.ok(Number.isNaN(subs.lastReceiveMs(VENUE, "ETHUSDT")), "nothing came for ETHUSDT");
    const ungated = new FramePublisher(pubNc);
    assert.equal(ungated.publish(7, frame(1)), false, "an unregistered symbol fails, never throws");
    assert.equal(ungated.lastFailure, "unregistered");
    assert.throws(() => ungated.register(-1, VENUE, "X"), /symbolId -1 is not an integer/);
    assert.throws(() => ungated.register(0, VENUE, "X>"), /symbol "X>" contains ">"/);
    subs.close();
  } finally {
    await pubNc.close();
    await subNc.close();
    await server.stop();
  }
});

Deno.test("bus frames: subscriptions are reference-counted per symbol and bounded per node", async () => {
  const server = await startNatsServer({ jetstream: false });
  const nc = await connect({ servers: server.url });
  const probeNc = await connect({ servers: server.url });
  try {
    const subs = new FrameSubscriptions(nc, { maxSymbols: 2, joinTimeoutMs: JOIN_MS });
    const subject = frameSubject(VENUE, "BTCUSDT");
    const probe = new Uint8Array([0xff]);
    let probes = 0;
    const a = (b: Uint8Array) => b.length === 1 && probes++;
    const b = (_: Uint8Array) => {};
    const interest = async () => {
      const before = probes;
      return await serverHasInterest(probeNc, subject, probe, () => probes > before);
    };

    assert.equal(await interest(), false, "nothing subscribed yet");
    await subs.watch(VENUE, "BTCUSDT", a);
    await subs.watch(VENUE, "BTCUSDT", b);
    assert.equal(subs.subscribedCount, 1, "two watchers, one subscription");
    assert.equal(subs.watchers(VENUE, "BTCUSDT"), 2);
    assert.equal(await interest(), true);

    assert.equal(subs.unwatch(VENUE, "BTCUSDT", b), false, "one watcher left: still subscribed");
    assert.equal(subs.subscribedCount, 1);
    assert.equal(await interest(), true, "the server still delivers to the remaining watcher");

    assert.equal(subs.unwatch(VENUE, "BTCUSDT", a), true, "the last watcher unsubscribes");
    assert.equal(subs.subscribedCount, 0);
    await nc.flush();
    assert.equal(await interest(), false, "the server holds no subscription any more");
    assert.equal(subs.unwatch(VENUE, "BTCUSDT", a), false, "unwatching again is harmless");

    // The bound: a third symbol is refused while two are subscribed.
    assert.equal(await subs.watch(VENUE, "A", b), true);
    assert.equal(await subs.watch(VENUE, "B", b), true);
    assert.equal(await subs.watch(VENUE, "C", b), false);
    assert.equal(subs.counters.refused, 1);
    assert.equal(
      await subs.watch(VENUE, "A", a),
      true,
      "more watchers of a subscribed symbol are fine",
    );
    subs.unwatch(VENUE, "B", b);
    assert.equal(await subs.watch(VENUE, "C", b), true, "room again after an unsubscribe");
    assert.throws(() => subs.watchers(VENUE, "BTC.USDT"), /symbol "BTC.USDT" contains "\."/);
    subs.close();
    assert.equal(subs.subscribedCount, 0);
  } finally {
    await nc.close();
    await probeNc.close();
    await server.stop();
  }
});

Deno.test("bus frames: the history stream keeps exactly the newest N frames of each of 3 symbols", async () => {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  try {
    const depth = 10;
    const history = new FrameHistoryStream(nc, { depth, maxBytes: 1 << 20 });
    await history.ensure();
    await history.ensure(); // idempotent: updates the existing stream
    const publisher = new FramePublisher(nc);
    const symbols = ["AAA", "BBB", "CCC"];
    symbols.forEach((s, id) => publisher.register(id, VENUE, s));
    const counts = [25, 7, 40];
    for (let i = 1; i <= 40; i++) {
      symbols.forEach((_, id) => i <= counts[id] && publisher.publish(id, frame(i, id)));
    }
    await nc.flush();
    const jsm = await jetstreamManager(nc);
    await waitStored(jsm, 25 + 7 + 40);
    const info = await jsm.streams.info(FRAME_HISTORY_STREAM);
    assert.equal(info.state.messages, 10 + 7 + 10, "exactly the newest N per subject");
    assert.equal(info.config.max_msgs_per_subject, depth);
    assert.equal(info.config.storage, "memory");
    assert.equal(info.config.discard, "old");

    for (let id = 0; id < 3; id++) {
      const kept = Math.min(depth, counts[id]);
      const want = Array.from({ length: kept }, (_, k) => counts[id] - kept + 1 + k);
      const frames = await history.lastFrames(VENUE, symbols[id], depth);
      assert.deepEqual(frames.map(seqOf), want, `${symbols[id]}: the newest ${kept}, oldest first`);
      assert.deepEqual(Array.from(frames.at(-1)!), Array.from(frame(counts[id], id)));
      assert.deepEqual(
        (await history.lastFrames(VENUE, symbols[id], 3)).map(seqOf),
        want.slice(-3),
      );
      assert.deepEqual((await history.lastFrames(VENUE, symbols[id], 1)).map(seqOf), [counts[id]]);
      assert.deepEqual(
        (await history.lastFramesByDirectWalk(VENUE, symbols[id], depth)).map(seqOf),
        want,
      );
    }
    assert.deepEqual(await history.lastFrames(VENUE, "NOPE", depth), [], "an unknown symbol");
    assert.deepEqual(await history.lastFrames(VENUE, "AAA", 0), []);
    assert.throws(() => new FrameHistoryStream(nc, { depth: 0 }), /depth 0 is not an integer >= 1/);
    await assert.rejects(
      () => new FrameHistoryStream(nc, { storage: "file" }).ensure(),
      /exists with memory storage, expected file/,
    );
  } finally {
    await nc.close();
    await server.stop();
  }
});

Deno.test("bus frames: a late joiner gets the newest N from the stream, then live frames, no gap, no duplicate", async () => {
  const server = await startNatsServer();
  const pubNc = await connect({ servers: server.url });
  const subNc = await connect({ servers: server.url });
  try {
    const depth = 20;
    const stream = new FrameHistoryStream(subNc, { depth });
    await stream.ensure();
    const jsm = await jetstreamManager(pubNc);
    const publisher = new FramePublisher(pubNc);
    publisher.register(0, VENUE, "LATE");
    publisher.register(1, VENUE, "OTHER");
    for (let i = 1; i <= 50; i++) {
      publisher.publish(0, frame(i));
      publisher.publish(1, frame(i, 1));
    }
    await pubNc.flush();
    await waitStored(jsm, 100);

    // While the joiner reads its history, frames 51..55 are published and
    // stored before the read (live for the joiner and in its history: the
    // overlap it must not deliver twice), 56..58 after it (live only).
    const racing: FrameHistorySource = {
      async lastFrames(venue, symbol, n) {
        for (let i = 51; i <= 55; i++) publisher.publish(0, frame(i));
        await pubNc.flush();
        await waitStored(jsm, 105);
        const frames = await stream.lastFrames(venue, symbol, n);
        for (let i = 56; i <= 58; i++) publisher.publish(0, frame(i));
        await pubNc.flush();
        return frames;
      },
    };
    const subs = new FrameSubscriptions(subNc, {
      history: racing,
      historyDepth: depth,
      joinTimeoutMs: JOIN_MS,
    });
    const got: number[] = [];
    await subs.watch(VENUE, "LATE", (b) => got.push(seqOf(b)));
    assert.ok(got.length >= depth, "the history came with the watch, at once");
    for (let i = 59; i <= 70; i++) publisher.publish(0, frame(i));
    await pubNc.flush();
    await waitFor(() => got.at(-1) === 70, "frame 70 at the late joiner");

    const want = Array.from({ length: 70 - 36 + 1 }, (_, k) => 36 + k);
    assert.deepEqual(got, want, "history 36..55, then live 56..70: no gap, no duplicate");
    assert.equal(subs.counters.joinDropped, 0);
    assert.equal(subs.counters.historyFailed, 0);

    // A second watcher of a symbol already watched gets live frames only.
    const second: number[] = [];
    await subs.watch(VENUE, "LATE", (b) => second.push(seqOf(b)));
    publisher.publish(0, frame(71));
    await pubNc.flush();
    await waitFor(() => second.length === 1 && got.at(-1) === 71, "frame 71 at both watchers");
    assert.deepEqual(second, [71]);
    subs.close();
  } finally {
    await pubNc.close();
    await subNc.close();
    await server.stop();
  }
});

Deno.test("bus frames: NATS killed and restarted — the publisher counts its losses and never throws, subscriptions and the stream come back", async () => {
  const server = await startNatsServer();
  const options = { servers: server.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 };
  const pubNc = await connect(options);
  const subNc = await connect(options);
  try {
    const stream = new FrameHistoryStream(pubNc, { depth: 100 });
    await stream.ensure();
    const publisher = new FramePublisher(pubNc);
    publisher.register(0, VENUE, "BTCUSDT");
    const subs = new FrameSubscriptions(subNc, {
      history: new FrameHistoryStream(subNc),
      joinTimeoutMs: JOIN_MS,
    });
    const got: number[] = [];
    await subs.watch(VENUE, "BTCUSDT", (b) => got.push(seqOf(b)));
    for (let i = 1; i <= 10; i++) publisher.publish(0, frame(i));
    await pubNc.flush();
    await waitFor(() => got.length === 10, "frames 1..10 before the outage");
    const subReconnects = countStatus(subNc, "reconnect");

    await server.kill();
    await waitFor(() => !publisher.connected, "the publisher seeing the disconnect");
    for (let i = 11; i <= 30; i++) {
      assert.equal(publisher.publish(0, frame(i)), false, `frame ${i} while NATS is down`);
    }
    assert.equal(publisher.counters.failed, 20, "every frame of the outage counted");
    assert.equal(publisher.lastFailure, "disconnected");
    assert.equal(publisher.counters.published, 10);

    await server.restart();
    await waitFor(
      () => publisher.connected && subReconnects.count > 0 && stream.ensured === 2,
      "both connections back and the (memory) stream ensured again",
    );
    await subNc.flush(); // the resubscription has reached the server
    for (let i = 31; i <= 40; i++) assert.equal(publisher.publish(0, frame(i)), true);
    await pubNc.flush();
    await waitFor(() => got.at(-1) === 40, "frame 40 after the restart");
    assert.deepEqual(
      got,
      [...Array(10).keys()].map((k) => k + 1).concat(
        [...Array(10).keys()].map((k) => k + 31),
      ),
    );
    const jsm = await jetstreamManager(pubNc);
    await waitStored(jsm, 10);
    assert.deepEqual(
      (await stream.lastFrames(VENUE, "BTCUSDT", 100)).map(seqOf),
      [...Array(10).keys()].map((k) => k + 31),
      "the stream keeps what came after the restart",
    );
    assert.equal(stream.ensureFailures, 0);

    await pubNc.close();
    assert.equal(publisher.publish(0, frame(41)), false, "a closed connection: refused, no throw");
    assert.equal(publisher.lastFailure, "closed");
    subs.close();
    await subNc.close();
    await assert.rejects(() => subs.watch(VENUE, "ETHUSDT", () => {}), /closed/i);
    assert.equal(subs.subscribedCount, 0, "a refused subscribe leaves nothing behind");
  } finally {
    await pubNc.close();
    await subNc.close();
    await server.stop();
  }
});

/**
 * Publishes frames of `symbols` flat out (40 a macrotask) until stopped; `seqs[id]` is the
 * last sequence number published of symbol `id`.
 */
function flatOut(publisher: FramePublisher, symbols: readonly string[]) {
  const seqs = symbols.map(() => 0);
  let running = true;
  const done = (async () => {
    while (running) {
      for (let k = 0; k < 40; k++) {
        const id = k % symbols.length;
        publisher.publish(id, frame(++seqs[id], id));
      }
      await new Promise((r) => setTimeout(r, 0));
    }
  })();
  return {
    seqs,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Watches every symbol (once each has published past `past`) while `pump` runs; 200 more frames each after. */
async function joinWhilePublishing(
  subs: FrameSubscriptions,
  pump: ReturnType<typeof flatOut>,
  symbols: readonly string[],
  past: number,
): Promise<number[][]> {
  const got = symbols.map(() => [] as number[]);
  for (let id = 0; id < symbols.length; id++) {
    await waitFor(() => pump.seqs[id] > past, `${symbols[id]} published past ${past}`);
    await subs.watch(VENUE, symbols[id], (b) => got[id].push(seqOf(b)));
  }
  const target = pump.seqs.map((s) => s + 200);
  await waitFor(() => pump.seqs.every((s, id) => s >= target[id]), "200 more frames of each");
  await pump.stop();
  await waitFor(
    () => got.every((g, id) => g.at(-1) === pump.seqs[id]),
    "every published frame at the watchers",
  );
  return got;
}

Deno.test("bus frames: joins while a publisher runs flat out — full history, then every frame once, in order", async () => {
  const server = await startNatsServer();
  const pubNc = await connect({ servers: server.url });
  const subNc = await connect({ servers: server.url });
  try {
    const depth = 30;
    const stream = new FrameHistoryStream(subNc, { depth });
    await stream.ensure();
    const symbols = ["J0", "J1", "J2", "J3"];
    const publisher = new FramePublisher(pubNc);
    symbols.forEach((s, id) => publisher.register(id, VENUE, s));
    const subs = new FrameSubscriptions(subNc, {
      history: stream,
      historyDepth: depth,
      joinTimeoutMs: JOIN_MS,
    });
    const got = await joinWhilePublishing(subs, flatOut(publisher, symbols), symbols, depth + 50);
    for (let id = 0; id < symbols.length; id++) {
      const g = got[id];
      assert.deepEqual(
        g,
        Array.from({ length: g.length }, (_, k) => g[0] + k),
        `${symbols[id]}: consecutive from ${g[0]}, no gap, no duplicate`,
      );
      assert.ok(
        g.length >= depth + 200,
        `${symbols[id]}: a full history came (${g.length} frames)`,
      );
    }
    assert.equal(subs.counters.joinDropped, 0);
    subs.close();
  } finally {
    await pubNc.close();
    await subNc.close();
    await server.stop();
  }
});

Deno.test("bus frames: a join buffer too small for the join loses frames (counted), never repeats or reorders them", async () => {
  const server = await startNatsServer();
  const pubNc = await connect({ servers: server.url });
  const subNc = await connect({ servers: server.url });
  try {
    const depth = 30;
    const stream = new FrameHistoryStream(subNc, { depth });
    await stream.ensure();
    const symbols = ["K0", "K1", "K2", "K3"];
    const publisher = new FramePublisher(pubNc);
    symbols.forEach((s, id) => publisher.register(id, VENUE, s));
    const subs = new FrameSubscriptions(subNc, {
      history: stream,
      historyDepth: depth,
      joinBuffer: 2,
      joinTimeoutMs: JOIN_MS,
    });
    const got = await joinWhilePublishing(subs, flatOut(publisher, symbols), symbols, depth + 50);
    let gaps = 0;
    for (let id = 0; id < symbols.length; id++) {
      const g = got[id];
      for (let k = 1; k < g.length; k++) {
        assert.ok(g[k] > g[k - 1], `${symbols[id]}: ${g[k]} after ${g[k - 1]}`);
        if (g[k] !== g[k - 1] + 1) gaps++;
      }
    }
    assert.ok(gaps === 0 || subs.counters.joinDropped > 0, `${gaps} gaps, none counted`);
    subs.close();
  } finally {
    await pubNc.close();
    await subNc.close();
    await server.stop();
  }
});

/**
 * A TCP proxy on 127.0.0.1 to `targetPort` whose connections can be cut
 * (and new ones refused until {@link allow}): one client losing NATS while
 * the server stays up.
 */
function tcpProxy(targetPort: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let open = true;
  const conns = new Set<Deno.Conn>();
  const closeConn = (c: Deno.Conn) => {
    if (!conns.delete(c)) return;
    try {
      c.close();
    } catch { /* closed already */ }
  };
  const pipes: Promise<void>[] = [];
  const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
    try {
      await from.readable.pipeTo(to.writable, { preventClose: true });
    } catch { /* cut */ }
    closeConn(from);
    closeConn(to);
  };
  const accepting = (async () => {
    try {
      for await (const client of listener) {
        if (!open) {
          client.close();
          continue;
        }
        const upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
        conns.add(client);
        conns.add(upstream);
        pipes.push(pipe(client, upstream), pipe(upstream, client));
      }
    } catch { /* listener closed */ }
  })();
  return {
    url: `nats://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    cut() {
      open = false;
      for (const c of [...conns]) closeConn(c);
    },
    allow() {
      open = true;
    },
    async close() {
      this.cut();
      listener.close();
      await accepting;
      await Promise.all(pipes);
    },
  };
}

Deno.test("bus frames: a subscriber that lost NATS alone gets the frames it missed from the history when it comes back", async () => {
  const server = await startNatsServer();
  const proxy = tcpProxy(server.port);
  const pubNc = await connect({ servers: server.url });
  const subNc = await connect({
    servers: proxy.url,
    reconnectTimeWait: 50,
    maxReconnectAttempts: -1,
  });
  try {
    const stream = new FrameHistoryStream(pubNc, { depth: 100 });
    await stream.ensure();
    const jsm = await jetstreamManager(pubNc);
    const publisher = new FramePublisher(pubNc);
    publisher.register(0, VENUE, "GAP");
    const subs = new FrameSubscriptions(subNc, {
      history: new FrameHistoryStream(subNc),
      joinTimeoutMs: JOIN_MS,
    });
    const got: number[] = [];
    await subs.watch(VENUE, "GAP", (b) => got.push(seqOf(b)));
    for (let i = 1; i <= 10; i++) publisher.publish(0, frame(i));
    await pubNc.flush();
    await waitFor(() => got.length === 10, "frames 1..10");

    const disconnects = countStatus(subNc, "disconnect");
    proxy.cut();
    await waitFor(() => disconnects.count > 0, "the subscriber seeing the cut");
    for (let i = 11; i <= 20; i++) publisher.publish(0, frame(i)); // missed live
    await pubNc.flush();
    await waitStored(jsm, 20);
    assert.deepEqual(got.at(-1), 10, "nothing reached the cut subscriber");

    proxy.allow();
    await waitFor(() => got.at(-1) === 20, "frames 11..20 recovered from the history");
    for (let i = 21; i <= 30; i++) publisher.publish(0, frame(i));
    await pubNc.flush();
    await waitFor(() => got.at(-1) === 30, "frames 21..30 live again");
    assert.deepEqual(got, Array.from({ length: 30 }, (_, k) => k + 1), "no gap, no duplicate");
    assert.equal(subs.counters.rejoins, 1);
    assert.equal(subs.counters.recovered, 10);
    subs.close();
  } finally {
    await pubNc.close();
    await subNc.close();
    await proxy.close();
    await server.stop();
  }
});

Deno.test("bus frames: a subscriber that missed more than the history keeps resumes live with a gap, never with old frames", async () => {
  const server = await startNatsServer();
  const proxy = tcpProxy(server.port);
  const pubNc = await connect({ servers: server.url });
  const subNc = await connect({
    servers: proxy.url,
    reconnectTimeWait: 50,
    maxReconnectAttempts: -1,
  });
  try {
    const depth = 5;
    await new FrameHistoryStream(pubNc, { depth }).ensure();
    const jsm = await jetstreamManager(pubNc);
    const publisher = new FramePublisher(pubNc);
    publisher.register(0, VENUE, "FAR");
    const subs = new FrameSubscriptions(subNc, {
      history: new FrameHistoryStream(subNc, { depth }),
      historyDepth: depth,
      joinTimeoutMs: JOIN_MS,
    });
    const got: number[] = [];
    await subs.watch(VENUE, "FAR", (b) => got.push(seqOf(b)));
    for (let i = 1; i <= 10; i++) publisher.publish(0, frame(i));
    await pubNc.flush();
    await waitFor(() => got.length === 10, "frames 1..10");

    const disconnects = countStatus(subNc, "disconnect");
    proxy.cut();
    await waitFor(() => disconnects.count > 0, "the subscriber seeing the cut");
    for (let i = 11; i <= 20; i++) publisher.publish(0, frame(i)); // 10 missed, 5 kept: 16..20
    await pubNc.flush();
    await waitStored(jsm, 20);
    proxy.allow();
    await waitFor(() => subs.counters.rejoins === 1, "the rejoin");
    for (let i = 21; i <= 30; i++) publisher.publish(0, frame(i));
    await pubNc.flush();
    await waitFor(() => got.at(-1) === 30, "frames 21..30 live again");
    assert.deepEqual(
      got,
      [
        ...Array.from({ length: 10 }, (_, k) => k + 1),
        ...Array.from({ length: 10 }, (_, k) => k + 21),
      ],
      "frame 10 is not in the history (16..20): none of it is delivered, the gap stays",
    );
    assert.equal(subs.counters.recovered, 0);
    subs.close();
  } finally {
    await pubNc.close();
    await subNc.close();
    await proxy.close();
    await server.stop();
  }
});

Deno.test("bus frames: a history that never answers holds the join only joinTimeoutMs, then frames flow live", async () => {
  const server = await startNatsServer({ jetstream: false });
  const nc = await connect({ servers: server.url });
  try {
    const silent: FrameHistorySource = { lastFrames: () => new Promise(() => {}) };
    const subs = new FrameSubscriptions(nc, { history: silent, joinTimeoutMs: 100 });
    const got: number[] = [];
    assert.equal(await subs.watch(VENUE, "SLOW", (b) => got.push(seqOf(b))), true);
    assert.equal(subs.counters.historyFailed, 1);
    const publisher = new FramePublisher(nc);
    publisher.register(0, VENUE, "SLOW");
    for (let i = 1; i <= 5; i++) publisher.publish(0, frame(i));
    await nc.flush();
    await waitFor(() => got.length === 5, "5 live frames");
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    assert.throws(
      () => new FrameSubscriptions(nc, { joinTimeoutMs: 0 }),
      /joinTimeoutMs 0 is not an integer >= 1/,
    );
    subs.close();
  } finally {
    await nc.close();
    await server.stop();
  }
});

/**
 * A NATS server that says hello, answers the client's first PING, then never
 * reads again (a server or network slower than the frames, at its extreme).
 */
function deafServer(): { url: string; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const info = { server_id: "deaf", version: "2.9.10", proto: 1, max_payload: 1 << 20 };
      await conn.write(new TextEncoder().encode(`INFO ${JSON.stringify(info)}\r\n`));
      const buf = new Uint8Array(4096);
      let seen = "";
      while (!seen.includes("PING\r\n")) {
        const n = await conn.read(buf);
        if (n === null) break;
        seen += new TextDecoder().decode(buf.subarray(0, n));
      }
      await conn.write(new TextEncoder().encode("PONG\r\n"));
      // From here on nothing is read: the kernel's buffers fill, then the client's.
    }
  })().catch(() => {});
  return {
    url: `127.0.0.1:${port}`,
    close() {
      listener.close();
      for (const c of conns) c.close();
    },
  };
}

Deno.test({
  name:
    "bus frames: a server that stops reading — the client never holds more than maxPendingBytes of frames",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const server = deafServer();
  const nc = await connect({ servers: server.url, pingInterval: 600_000, resolve: false });
  try {
    const limit = 1 << 20;
    const publisher = new FramePublisher(nc, { maxPendingBytes: limit });
    publisher.register(0, "binance", "BTCUSDT");
    const frame = new Uint8Array(1300);
    let maxPending = 0;
    // 200 MB offered; yield now and then so the client flushes into the socket.
    for (let i = 0; i < 150_000; i++) {
      publisher.publish(0, frame);
      if (i % 500 === 0) {
        await new Promise((r) => setTimeout(r, 0));
        maxPending = Math.max(maxPending, pendingOutboundBytes(nc));
      }
    }
    const c = publisher.counters;
    assert.ok(c.backpressure > 100_000, `frames refused for backpressure: ${c.backpressure}`);
    assert.equal(c.failed, c.backpressure);
    assert.equal(c.published + c.failed, 150_000);
    assert.equal(publisher.lastFailure, "backpressure");
    // The bound holds up to one frame's worth per check, plus what the kernel took.
    assert.ok(maxPending <= limit + 600 * 1400, `the client held ${maxPending} bytes unsent`);
    assert.ok(maxPending > limit / 2, `the socket's queue is seen: ${maxPending} bytes`);
  } finally {
    server.close();
    await nc.close().catch(() => {});
  }
});
