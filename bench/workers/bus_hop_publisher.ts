/**
 * The publishing process of bench/bus_hop_bench.ts (an ingest node's part):
 * connects to NATS and publishes 700-byte frames over `symbols` symbols
 * through lib/bus/frame_publisher.ts for `seconds` seconds, at `rate`
 * frames/s (paced in 1 ms ticks) or as fast as it can (`rate` 0, yielding
 * to the event loop every 256 frames so the client can write). Each frame is
 * a fresh buffer (like an encoded frame) and carries its send time in its
 * first 8 bytes (float64 epoch ms, `performance.timeOrigin + now()`) and its
 * number in the next 4. Prints one JSON line: `{ sent, failed, seconds }`.
 *
 * Usage: `deno run -A bench/workers/bus_hop_publisher.ts URL RATE SECONDS SYMBOLS`
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { FramePublisher } from "../../lib/bus/frame_publisher.ts";

const FRAME_BYTES = 700;

function stampedFrame(n: number): Uint8Array {
  const b = new Uint8Array(FRAME_BYTES);
  const v = new DataView(b.buffer);
  v.setFloat64(0, performance.timeOrigin + performance.now(), true);
  v.setUint32(8, n, true);
  return b;
}

async function main(args: string[]): Promise<void> {
  const [url, rateArg, secondsArg, symbolsArg] = args;
  const rate = Number(rateArg);
  const seconds = Number(secondsArg);
  const symbols = Number(symbolsArg);
  const nc = await connect({ servers: url });
  const publisher = new FramePublisher(nc);
  for (let s = 0; s < symbols; s++) publisher.register(s, "bench", `S${s}`);
  const start = performance.now();
  const end = start + seconds * 1000;
  let n = 0;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const due = rate > 0 ? Math.floor(((now - start) / 1000) * rate) : n + 256;
    while (n < due) {
      publisher.publish(n % symbols, stampedFrame(n));
      n++;
    }
    await new Promise((r) => setTimeout(r, rate > 0 ? 1 : 0));
  }
  await nc.flush();
  const elapsed = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ sent: n, failed: publisher.counters.failed, seconds: elapsed }));
  await nc.close();
}

if (import.meta.main) await main(Deno.args);
