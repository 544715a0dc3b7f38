/**
 * A dashboard client that watches EVERY symbol of a depthwatch node over the
 * browser protocol (`GET /ws`, proto/market.proto) and measures what reaches
 * it, for the whole-system bus benchmark (bench/bus_service_hop.ts, issue
 * 16): per frame the latency `receipt wall clock − Frame.receive_time` (the
 * ingest's receive stamp; one machine, one clock), frames per second, frames
 * lost (seq gaps, of which the server's `conflated`), and the resyncs it
 * asked for.
 *
 * - {@link scanHopMessage} reads a `ServerMessage`'s kind, a frame's symbol
 *   bytes, seq and receive time, and `conflated`, without decoding the frame.
 * - {@link HopTally} does the accounting (per-symbol seq, latency histogram);
 *   pure, so tests/hop_client_test.ts checks it without a server.
 * - {@link runHopClient} connects, subscribes to every symbol the first Hello
 *   lists (several `Subscribe` messages: the session allows 4096 B per message
 *   and 20 messages per second), waits for every symbol's Hello, warms up, then
 *   counts over a window. On a seq jump it sends `Resync` as a browser does
 *   (at most 15 a second); the warm-up starts once the resyncs the Hellos'
 *   burst caused have been sent (30 s at most).
 *
 * Run it in a process of its own (testing/hop_client_process.ts), so the
 * measured node's event loop is not the client's.
 *
 * @example
 * ```ts ignore
 * import { runHopClient } from "./hop_client.ts";
 * const result = await runHopClient({ url: "http://127.0.0.1:8000/", warmup: 3, duration: 10 });
 * console.log(result.framesPerSecond, result.latency.p99, result.lost);
 * ```
 * @module
 */

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ClientMessageSchema, FrameSchema, ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { LagHistogram } from "./lag_histogram.ts";

/** `ServerMessage` field numbers the scanner reads. */
const SM_HELLO = ServerMessageSchema.field.hello.number;
const SM_FRAME = ServerMessageSchema.field.frame.number;
const SM_ERROR = ServerMessageSchema.field.error.number;
const SM_CONFLATED = ServerMessageSchema.field.conflated.number;
/** `Frame` field numbers the scanner reads (the service writes fields in number order). */
const F_SYMBOL = FrameSchema.field.symbol.number;
const F_SEQ = FrameSchema.field.seq.number;
const F_RECEIVE = FrameSchema.field.receiveTime.number;

/** What {@link scanHopMessage} read from one message (reused: filled in place). */
export interface HopMessage {
  /** The `ServerMessage` kind: its oneof field number (1 hello, 2 frame, 3 error, …); 0 when empty. */
  kind: number;
  /** Start of the frame's symbol bytes in the message (frames only). */
  symbolStart: number;
  /** End of the frame's symbol bytes. */
  symbolEnd: number;
  /** The frame's seq (0 when absent). */
  seq: number;
  /** The frame's receive_time, epoch ms (NaN when absent). */
  receive: number;
  /** `ServerMessage.conflated` (0 when absent). */
  conflated: number;
}

/**
 * A fresh {@link HopMessage}.
 *
 * @example
 * ```ts
 * import { newHopMessage } from "./hop_client.ts";
 * newHopMessage().kind; // 0
 * ```
 */
export function newHopMessage(): HopMessage {
  return { kind: 0, symbolStart: 0, symbolEnd: 0, seq: 0, receive: NaN, conflated: 0 };
}

function varint(bytes: Uint8Array, at: { pos: number }): number {
  let v = 0, shift = 0, b: number;
  do {
    b = bytes[at.pos++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80 && shift < 64);
  return v;
}

function skip(bytes: Uint8Array, at: { pos: number }, wire: number): void {
  if (wire === 0) varint(bytes, at);
  else if (wire === 1) at.pos += 8;
  else if (wire === 2) {
    const n = varint(bytes, at);
    at.pos += n;
  } else if (wire === 5) at.pos += 4;
  else at.pos = bytes.length; // groups: not in this protocol
}

/** Read a frame's symbol, seq and receive time from `bytes[at.pos, end)`. */
function scanFrame(bytes: Uint8Array, view: DataView, at: { pos: number }, out: HopMessage): void {
  const end = varint(bytes, at) + at.pos;
  while (at.pos < end) {
    const tag = varint(bytes, at);
    const field = tag >>> 3, wire = tag & 7;
    if (field === F_SYMBOL && wire === 2) {
      const n = varint(bytes, at);
      out.symbolStart = at.pos;
      out.symbolEnd = at.pos + n;
      at.pos += n;
    } else if (field === F_SEQ && wire === 1) {
      out.seq = view.getFloat64(at.pos, true);
      at.pos += 8;
    } else if (field === F_RECEIVE && wire === 1) {
      out.receive = view.getFloat64(at.pos, true);
      at.pos += 8;
    } else if (field > F_RECEIVE) {
      break; // fields come in number order: nothing more to read here
    } else skip(bytes, at, wire);
  }
  at.pos = end;
}

/**
 * Read kind, (for a frame) symbol bytes, seq and receive time, and
 * `conflated` from one binary `ServerMessage`, without decoding the rest.
 *
 * @example
 * ```ts
 * import { newHopMessage, scanHopMessage } from "./hop_client.ts";
 * const out = newHopMessage();
 * scanHopMessage(new Uint8Array([0x0a, 0x00]), out); // an empty Hello
 * out.kind; // 1
 * ```
 */
export function scanHopMessage(bytes: Uint8Array, out: HopMessage): void {
  out.kind = 0;
  out.symbolStart = out.symbolEnd = 0;
  out.seq = 0;
  out.receive = NaN;
  out.conflated = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = { pos: 0 };
  while (at.pos < bytes.length) {
    const tag = varint(bytes, at);
    const field = tag >>> 3, wire = tag & 7;
    if (field === SM_FRAME && wire === 2) {
      out.kind = SM_FRAME;
      scanFrame(bytes, view, at, out);
    } else if (field === SM_CONFLATED && wire === 0) {
      out.conflated = varint(bytes, at);
    } else {
      if (field >= 1 && field <= 5 && wire === 2) out.kind = field;
      skip(bytes, at, wire);
    }
  }
}

/**
 * Per-symbol seq accounting and the latency histogram of one client. Frames
 * and losses are counted only while {@link counting} is true (the window);
 * seqs are followed always.
 *
 * @example
 * ```ts
 * import { HopTally } from "./hop_client.ts";
 * const t = new HopTally(1);
 * t.counting = true;
 * t.hello(0, 10);
 * t.frame(0, 11, 0, 1.5); // false: in order
 * t.frame(0, 14, 0, 2.5); // true: 12 and 13 lost, resync
 * [t.frames, t.lost]; // [2, 2]
 * ```
 */
export class HopTally {
  /** Latency of the frames counted, ms. */
  readonly latency: LagHistogram = new LagHistogram();
  /** True while the window runs. */
  counting = false;
  /** Frames counted. */
  frames = 0;
  /** Frames missing by seq while counting (jumps), including those the server conflated. */
  lost = 0;
  /** Frames the server said it conflated away while counting (`ServerMessage.conflated`). */
  conflated = 0;
  /** Frames whose seq was not above the last one (duplicates, reordering) while counting. */
  backwards = 0;
  /** Jumps seen while counting (each asks for a resync). */
  jumps = 0;
  /** Jumps seen before or after the window (setup, warm-up). */
  jumpsOutside = 0;
  /** Last seq per symbol; -1 before the symbol's Hello or first frame. */
  readonly #last: Float64Array;

  /** @param symbols the number of symbols (indexes 0 … symbols − 1) */
  constructor(symbols: number) {
    this.#last = new Float64Array(symbols).fill(-1);
  }

  /** A Hello of symbol `index` with `seq`: its stream restarts after that seq. */
  hello(index: number, seq: number): void {
    this.#last[index] = seq;
  }

  /**
   * One frame of symbol `index`: `seq`, the message's `conflated`, and its
   * latency in ms. Returns true when the seq jumped (a hole: resync).
   */
  frame(index: number, seq: number, conflated: number, latencyMs: number): boolean {
    const last = this.#last[index];
    this.#last[index] = seq;
    let jumped = false;
    if (last >= 0 && seq !== last + 1) {
      if (seq > last + 1) {
        jumped = true;
        if (this.counting) {
          this.lost += seq - last - 1;
          this.jumps++;
        } else this.jumpsOutside++;
      } else if (this.counting) this.backwards++;
    }
    if (this.counting) {
      this.frames++;
      this.conflated += conflated;
      this.latency.record(latencyMs);
    }
    return jumped;
  }
}

/** Options of {@link runHopClient}. */
export interface HopClientOptions {
  /** Base URL of the node, e.g. `http://127.0.0.1:8000/`. Required. */
  url: string;
  /** Seconds after the last Hello before counting. Default 5. */
  warmup?: number;
  /** Seconds counted. Default 20. */
  duration?: number;
  /** Seconds allowed for connecting and every symbol's Hello. Default 120. */
  setupTimeout?: number;
  /** Called when the window starts and ends (the caller samples CPU then). Default none. */
  onWindow?: (event: "start" | "end") => void;
  /** Progress lines. Default: stderr. */
  log?: (line: string) => void;
}

/** What {@link runHopClient} measured. */
export interface HopClientResult {
  /** Symbols watched (every symbol of the first Hello). */
  symbols: number;
  /** Seconds from connect until every symbol's Hello arrived. */
  setupSeconds: number;
  /** Window length, s (measured). */
  seconds: number;
  /** Frames counted in the window. */
  frames: number;
  /** frames / seconds. */
  framesPerSecond: number;
  /** Latency (receipt − Frame.receive_time), ms, over the window. */
  latency: { count: number; p50: number; p90: number; p99: number; p999: number; max: number };
  /** Frames missing by seq in the window (of which {@link conflated}). */
  lost: number;
  /** Frames the server conflated away in the window. */
  conflated: number;
  /** Seq jumps in the window. */
  jumps: number;
  /** Frames not above the previous seq in the window. */
  backwards: number;
  /** Seq jumps before the window (setup and warm-up; their resyncs may fall into the window). */
  jumpsBefore: number;
  /** Resync messages sent in the window. */
  resyncs: number;
  /** Resyncs still waiting to be sent at the end (rate-limited). */
  resyncsPending: number;
  /** Error messages received (first one in {@link firstError}). */
  errors: number;
  /** The first error's text. */
  firstError?: string;
  /** Close code when the socket closed before the end. */
  closeCode?: number;
}

/** Client messages per second this client sends at most (the server closes above 20). */
const MESSAGES_PER_SECOND = 8;
/** Resync messages per second this client sends at most (after subscribing). */
const RESYNCS_PER_SECOND = 15;
/** Longest wait for the setup's resyncs before the warm-up, ms (a saturated node never catches up). */
const RESYNC_DRAIN_MS = 30_000;
/** Bytes per Subscribe message at most (the server's limit is 4096). */
const SUBSCRIBE_BYTES = 3500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Split `symbols` into Subscribe messages of at most {@link SUBSCRIBE_BYTES} bytes each. */
function subscribeMessages(symbols: readonly string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let chunk: string[] = [];
  let bytes = 8;
  const flush = () => {
    if (chunk.length === 0) return;
    out.push(toBinary(
      ClientMessageSchema,
      create(ClientMessageSchema, { kind: { case: "subscribe", value: { symbols: chunk } } }),
    ));
    chunk = [];
    bytes = 8;
  };
  for (const s of symbols) {
    if (bytes + s.length + 3 > SUBSCRIBE_BYTES) flush();
    chunk.push(s);
    bytes += s.length + 3;
  }
  flush();
  return out;
}

/** Connect, subscribe to every symbol, warm up, count a window: see the module doc. */
export async function runHopClient(options: HopClientOptions): Promise<HopClientResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const url = new URL("ws", options.url);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const t0 = performance.now();
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const index = new Map<string, number>();
  let names: string[] = [];
  let tally: HopTally | undefined;
  const helloSeen = new Set<number>();
  const resyncQueue = new Set<number>();
  const out = newHopMessage();
  const decoder = new TextDecoder();
  let errors = 0, firstError: string | undefined, closeCode: number | undefined;
  let resyncs = 0;
  let firstHello: (() => void) | undefined;
  const gotFirstHello = new Promise<void>((r) => firstHello = r);

  ws.onmessage = (e) => {
    const now = performance.timeOrigin + performance.now();
    const bytes = new Uint8Array(e.data as ArrayBuffer);
    scanHopMessage(bytes, out);
    if (out.kind === SM_FRAME && tally !== undefined) {
      const name = decoder.decode(bytes.subarray(out.symbolStart, out.symbolEnd));
      const i = index.get(name);
      if (i === undefined) return;
      if (tally.frame(i, out.seq, out.conflated, now - out.receive)) resyncQueue.add(i);
    } else if (out.kind === SM_HELLO) {
      const m = fromBinary(ServerMessageSchema, bytes);
      if (m.kind.case !== "hello") return;
      const h = m.kind.value;
      if (tally === undefined) {
        names = [...h.symbols];
        names.forEach((s, i) => index.set(s, i).set(s.toLowerCase(), i).set(s.toUpperCase(), i));
        tally = new HopTally(names.length);
        firstHello!();
      }
      const i = index.get(h.symbol);
      if (i !== undefined) {
        tally.hello(i, h.seq);
        helloSeen.add(i);
        resyncQueue.delete(i);
      }
    } else if (out.kind === SM_ERROR) {
      errors++;
      if (firstError === undefined) {
        const m = fromBinary(ServerMessageSchema, bytes);
        if (m.kind.case === "error") firstError = `${m.kind.value.code} ${m.kind.value.message}`;
      }
    }
  };
  const closed = new Promise<void>((r) =>
    ws.onclose = (e) => {
      closeCode = e.code;
      r();
    }
  );
  const setupDeadline = t0 + (options.setupTimeout ?? 120) * 1000;
  await Promise.race([gotFirstHello, closed, sleep(setupDeadline - performance.now())]);
  if (tally === undefined) {
    throw new Error(
      `no Hello from ${url} (close code ${closeCode ?? "none"}): expected one on connect`,
    );
  }
  const gap = 1000 / MESSAGES_PER_SECOND;
  for (const message of subscribeMessages(names)) {
    if (closeCode !== undefined) break;
    ws.send(message as Uint8Array<ArrayBuffer>);
    await sleep(gap);
  }
  log(`hop client: subscribed to ${names.length} symbols, waiting for their Hellos`);
  while (helloSeen.size < names.length && closeCode === undefined) {
    if (performance.now() > setupDeadline) {
      throw new Error(
        `only ${helloSeen.size} of ${names.length} Hellos within ${options.setupTimeout ?? 120} s`,
      );
    }
    await sleep(50);
  }
  const setupSeconds = (performance.now() - t0) / 1000;
  log(`hop client: ${names.length} Hellos after ${setupSeconds.toFixed(1)} s`);
  // Resyncs go out at most MESSAGES_PER_SECOND a second, during warm-up and window.
  const resyncTimer = setInterval(() => {
    const i = resyncQueue.values().next().value;
    if (i === undefined || closeCode !== undefined) return;
    resyncQueue.delete(i);
    ws.send(toBinary(
      ClientMessageSchema,
      create(ClientMessageSchema, { kind: { case: "resync", value: { symbol: names[i] } } }),
    ));
    if (tally!.counting) resyncs++;
  }, 1000 / RESYNCS_PER_SECOND);
  // The Hellos' history can make the server conflate (seq jumps): let their
  // resyncs go out before the warm-up, so the window measures the live stream.
  const drainUntil = Math.min(setupDeadline, performance.now() + RESYNC_DRAIN_MS);
  while (resyncQueue.size > 0 && closeCode === undefined && performance.now() < drainUntil) {
    await sleep(100);
  }
  log(
    `hop client: resync queue ${resyncQueue.size} after ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s; warm-up`,
  );
  await Promise.race([closed, sleep((options.warmup ?? 5) * 1000)]);
  tally.counting = true;
  options.onWindow?.("start");
  const w0 = performance.now();
  await Promise.race([closed, sleep((options.duration ?? 20) * 1000)]);
  tally.counting = false;
  const seconds = (performance.now() - w0) / 1000;
  options.onWindow?.("end");
  clearInterval(resyncTimer);
  const early = closeCode;
  ws.close(1000, "done");
  await Promise.race([closed, sleep(3000)]);
  const l = tally.latency;
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    symbols: names.length,
    setupSeconds: r(setupSeconds),
    seconds: r(seconds),
    frames: tally.frames,
    framesPerSecond: Math.round(tally.frames / seconds),
    latency: {
      count: l.count,
      p50: r(l.quantile(0.5)),
      p90: r(l.quantile(0.9)),
      p99: r(l.quantile(0.99)),
      p999: r(l.quantile(0.999)),
      max: r(l.max),
    },
    lost: tally.lost,
    conflated: tally.conflated,
    jumps: tally.jumps,
    backwards: tally.backwards,
    jumpsBefore: tally.jumpsOutside,
    resyncs,
    resyncsPending: resyncQueue.size,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    ...(early === undefined ? {} : { closeCode: early }),
  };
}
