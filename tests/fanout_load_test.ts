/**
 * The fan-out load harness in `testing/` that `bench/fanout_bench.ts` and
 * `tools/system_run.ts` measure with: the stamp readers against the
 * service's own frame encoder, the latency histogram against exact
 * quantiles, the load generator's flags, and one short real run of a
 * service process with the load generator in its own process.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { create, toBinary } from "@bufbuild/protobuf";
import { ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { encodeHello, wrapFrame } from "../lib/server/frame_codec.ts";
import { encodeFrame } from "../lib/analytics/wire_encoder.ts";
import {
  FRAME_ANALYSED_TIME,
  FRAME_EVENT_TIME,
  FRAME_RECEIVE_TIME,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import {
  decodeFrameStamps,
  type FrameStamps,
  MessageKind,
  newFrameStamps,
  scanFrameStamps,
} from "../testing/frame_stamps.ts";
import { LagHistogram } from "../testing/lag_histogram.ts";
import { parseLoadFlags, runLoadProcess } from "../testing/fanout_load_process.ts";
import { spawnService } from "../testing/service_process.ts";
import { processRssMiB } from "../testing/proc_stats.ts";

/** Both readers' view of `bytes`. */
function readBoth(bytes: Uint8Array): [FrameStamps, FrameStamps] {
  const scanned = newFrameStamps(), decoded = newFrameStamps();
  scanFrameStamps(bytes, scanned);
  decodeFrameStamps(bytes, decoded);
  return [scanned, decoded];
}

const stamp = fc.oneof(
  fc.constant(0),
  fc.constant(NaN),
  fc.double({ min: 1.5e12, max: 2e12, noNaN: true }),
  fc.double({ noDefaultInfinity: true }),
);

Deno.test("frame stamps: scanner and full decode read what the service's encoder wrote", () => {
  const layout = new FrameSlotLayout({ levels: 5 });
  const slot = new Float64Array(layout.slotWords).fill(NaN);
  fc.assert(
    fc.property(
      fc.record({
        seq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        event: stamp,
        receive: stamp,
        analysed: stamp,
        sent: stamp,
        conflated: fc.integer({ min: 0, max: 5 }),
      }),
      (f) => {
        slot[FRAME_EVENT_TIME] = f.event;
        slot[FRAME_RECEIVE_TIME] = f.receive;
        slot[FRAME_ANALYSED_TIME] = f.analysed;
        const bytes = wrapFrame(
          encodeFrame(slot, 0, layout, "BTCUSDT", f.seq, f.sent),
          f.conflated,
        );
        // proto3 leaves zeros out: an absent stamp reads NaN.
        const absentIfZero = (v: number) => v === 0 ? NaN : v;
        const expected: FrameStamps = {
          kind: MessageKind.Frame,
          seq: f.seq,
          event: absentIfZero(f.event),
          receive: absentIfZero(f.receive),
          analysed: absentIfZero(f.analysed),
          sent: absentIfZero(f.sent),
        };
        const [scanned, decoded] = readBoth(bytes);
        assert.deepEqual(scanned, expected);
        assert.deepEqual(decoded, expected);
      },
    ),
  );
});

Deno.test("frame stamps: hello, error and heartbeat are told apart and carry no stamps", () => {
  const hello = encodeHello({
    epoch: "e1",
    symbols: ["BTCUSDT"],
    symbol: "BTCUSDT",
    seq: 7,
    serverTime: 1.7e12,
    subscribed: ["BTCUSDT"],
    layout: new FrameSlotLayout({ levels: 5 }),
  }, []);
  const error = toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, { kind: { case: "error", value: { message: "no" } } }),
  );
  const heartbeat = toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, { kind: { case: "heartbeat", value: { serverTime: 1.7e12 } } }),
  );
  for (
    const [bytes, kind] of [
      [hello, MessageKind.Hello],
      [error, MessageKind.Error],
      [heartbeat, MessageKind.Heartbeat],
    ] as const
  ) {
    for (const read of readBoth(bytes)) {
      assert.deepEqual(read, { ...newFrameStamps(), kind });
    }
  }
});

Deno.test("lag histogram: quantiles are the exact ones rounded up to the 0.1 ms bucket", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 40_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
      fc.array(fc.double({ min: -5, max: -1e-3, noNaN: true }), { maxLength: 5 }),
      (samples, negatives) => {
        const h = new LagHistogram();
        for (const v of [...samples, ...negatives, NaN]) h.record(v);
        const all = [...samples, ...negatives.map(() => 0)].sort((a, b) => a - b);
        assert.equal(h.count, all.length, "NaN (no stamp) is not counted");
        assert.equal(h.negative, negatives.length);
        assert.equal(h.max, all[all.length - 1]);
        for (const q of [0.5, 0.99, 0.999]) {
          const exact = all[Math.ceil(q * all.length) - 1];
          const got = h.quantile(q);
          assert.ok(got >= exact - 1e-9, `q${q}: ${got} below the exact ${exact}`);
          assert.ok(
            exact >= 30_000 ? got === h.max : got - exact <= 0.1 + 1e-9,
            `q${q}: ${got} more than one bucket above the exact ${exact}`,
          );
        }
      },
    ),
  );
  assert.ok(Number.isNaN(new LagHistogram().quantile(0.5)), "empty: NaN");
});

Deno.test("load flags: every flag is read, and a bad one is named", () => {
  assert.deepEqual(
    parseLoadFlags([
      "--url=http://127.0.0.1:1/",
      "--clients=7",
      "--symbols=btcusdt, ethusdt",
      "--concurrency=3",
      "--connect-timeout=4",
      "--warmup=0.5",
      "--duration=2",
      "--pid=42",
      "--decode=full",
      "--token=t",
    ]),
    {
      url: "http://127.0.0.1:1/",
      clients: 7,
      symbols: ["BTCUSDT", "ETHUSDT"],
      concurrency: 3,
      connectTimeout: 4,
      warmup: 0.5,
      duration: 2,
      pid: 42,
      decode: "full",
      token: "t",
    },
  );
  assert.throws(() => parseLoadFlags(["--clients=2"]), /--url is required/);
  assert.throws(() => parseLoadFlags(["--url=u", "--duration=x"]), /--duration: expected a number/);
  assert.throws(
    () => parseLoadFlags(["--url=u", "--decode=fast"]),
    /--decode: expected scan or full/,
  );
  assert.throws(() => parseLoadFlags(["--url=u", "--clinets=2"]), /clinets/);
});

Deno.test("fan-out load: the load generator process measures a service process, which then stops", async () => {
  const service = await spawnService({
    args: ["--symbols", "btcusdt,ethusdt", "--sim-rate", "20"],
  });
  let pid = NaN;
  try {
    pid = service.pid;
    const r = await runLoadProcess({
      url: service.url,
      clients: 4,
      symbols: ["BTCUSDT", "ETHUSDT"],
      warmup: 0,
      duration: 1,
      pid,
    });
    assert.equal(r.connected, 4, `${r.connectFailed} failed: ${r.connectError}`);
    assert.equal(r.hellos, 4);
    assert.ok(r.framesPerClient.min > 0, "every client received frames in the window");
    assert.equal(r.lag.sent.count, r.frames, "one sent→client lag per frame");
    assert.equal(r.lag.receive.count, r.frames);
    assert.equal(r.lag.event.count, 0, "depth20 frames carry no exchange event time");
    assert.ok(r.server && r.server.rssMaxMiB > 10, `service RSS ${r.server?.rssMaxMiB} MiB`);
    assert.equal(r.coreBusy?.length, navigator.hardwareConcurrency);
    assert.ok(r.disconnects && "client_close" in r.disconnects, "disconnects read from /metrics");
  } finally {
    await service.stop();
  }
  assert.throws(() => processRssMiB(pid), Deno.errors.NotFound, "the process has exited");
});
