import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { HopTally, newHopMessage, scanHopMessage } from "../testing/hop_client.ts";

Deno.test("scanHopMessage reads a frame's symbol, seq, receive time and conflated", () => {
  const bytes = toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, {
      kind: {
        case: "frame",
        value: {
          symbol: "SIM007USDT",
          seq: 41,
          eventTime: 1,
          receiveTime: 1_764_000_000_123.5,
          sentTime: 9,
          bidPrices: [1, 2, 3],
          epoch: 7,
        },
      },
      conflated: 3,
    }),
  );
  const out = newHopMessage();
  scanHopMessage(bytes, out);
  assert.equal(out.kind, ServerMessageSchema.field.frame.number);
  assert.equal(
    new TextDecoder().decode(bytes.subarray(out.symbolStart, out.symbolEnd)),
    "SIM007USDT",
  );
  assert.equal(out.seq, 41);
  assert.equal(out.receive, 1_764_000_000_123.5);
  assert.equal(out.conflated, 3);
  const hello = toBinary(
    ServerMessageSchema,
    create(ServerMessageSchema, { kind: { case: "hello", value: { symbol: "X", seq: 5 } } }),
  );
  scanHopMessage(hello, out);
  assert.equal(out.kind, ServerMessageSchema.field.hello.number);
  assert.equal(out.conflated, 0);
  assert.ok(Number.isNaN(out.receive));
});

Deno.test("HopTally counts frames, gaps and latency only in the window, per symbol", () => {
  const t = new HopTally(2);
  t.hello(0, 10);
  t.hello(1, 100);
  assert.equal(t.frame(0, 11, 0, 1), false); // before the window: followed, not counted
  assert.equal(t.frame(0, 13, 0, 1), true); // a jump before the window
  assert.equal(t.jumpsOutside, 1);
  assert.equal(t.frames, 0);
  t.counting = true;
  assert.equal(t.frame(0, 14, 0, 2), false);
  assert.equal(t.frame(1, 101, 0, 4), false);
  assert.equal(t.frame(1, 105, 3, 6), true); // 102..104 lost, 3 of them conflated
  assert.equal(t.frame(0, 14, 0, 8), false); // a repeat: backwards, not a jump
  t.hello(0, 20); // a resync's Hello: the stream restarts after 20
  assert.equal(t.frame(0, 21, 0, 10), false);
  t.counting = false;
  t.frame(0, 30, 0, 99); // after the window: not counted
  assert.equal(t.frames, 5);
  assert.equal(t.lost, 3);
  assert.equal(t.conflated, 3);
  assert.equal(t.jumps, 1);
  assert.equal(t.backwards, 1);
  assert.equal(t.latency.count, 5);
  assert.equal(t.latency.max, 10);
  assert.equal(t.jumpsOutside, 2);
});
