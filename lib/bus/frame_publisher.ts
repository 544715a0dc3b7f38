/**
 * The ingest side of the analytics frame bus (docs/design.md §10): a
 * {@link FramePublisher} publishes each symbol's encoded wire `Frame` bytes
 * (the same bytes the server sends browsers) to
 * `dw.v1.an.<venue>.<symbol>.frame`, after asking the caller's fencing gate
 * `canPublish(symbolId)` (the partition lease) before every frame.
 *
 * It never throws into the caller and counts every frame: `published`
 * (handed to the NATS client), `fenced` (refused by the gate), `failed`
 * (NATS disconnected or closed, or the client refused it) and `bytes`
 * (payload bytes published).
 *
 * What the NATS client (`@nats-io/nats-core` 3.4.0, read and measured for
 * this module) does with a publish, and why this module is shaped so:
 * - `nc.publish` does **not** copy the payload: it queues a reference and
 *   copies it into one batch buffer at the next flush (a microtask later, or
 *   at once past 32 KiB queued). The bytes must therefore not change after
 *   {@link FramePublisher.publish} returns; encoded frames are fresh,
 *   immutable buffers, so this holds.
 * - Per publish it allocates the `PUB <subject> <len>\r\n` line (a string and
 *   its ~40 encoded bytes) and, without an options object, an empty options
 *   object; this module passes one reused options object and builds every
 *   subject once per symbol ({@link FramePublisher.register}), so a frame
 *   costs only the client's protocol line.
 * - While disconnected the client queues publishes **without bound** and
 *   **discards** the whole queue when it reconnects (`resetOutbound`): frames
 *   published while NATS is away are lost either way, and queueing them only
 *   grows memory. So this module follows the connection's status and does
 *   not hand frames to the client while it is disconnected: they are counted
 *   `failed`, exactly. Frames handed over in the moment before the client
 *   noticed the disconnect (what it held unflushed, plus the socket's send
 *   buffer) are lost without being counted; only an acknowledged publish
 *   could count those, which frames do not use.
 *
 * @example
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { FramePublisher } from "./frame_publisher.ts";
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const publisher = new FramePublisher(nc, { canPublish: (_symbolId) => true });
 * publisher.register(0, "binance", "BTCUSDT");
 * publisher.publish(0, new Uint8Array([10, 7]));
 * publisher.counters.published; // 1
 * await nc.flush();
 * await nc.close();
 * ```
 * @module
 */

import type { NatsConnection, PublishOptions } from "@nats-io/nats-core";
import { frameSubject } from "./bus_subjects.ts";

/** Options of {@link FramePublisher}. */
export interface FramePublisherOptions {
  /**
   * The fencing gate, asked before every frame: `false` refuses the frame
   * (counted `fenced`). Default: every symbol may publish.
   */
  canPublish?: (symbolId: number) => boolean;
  /**
   * The most bytes the NATS client may hold unsent (its outbound buffer plus
   * the socket's userland write queue, see {@link pendingOutboundBytes}); a
   * frame offered beyond it is not handed over, counted `failed` with the
   * reason `"backpressure"`. Without this bound a server or network slower
   * than the frame rate makes the client queue without end (measured: an
   * ingest node at 1.4 GiB RSS). Default 8 MiB (≈ 0.3 s at 20,000 frames/s
   * of 1.3 KB).
   */
  maxPendingBytes?: number;
}

/** What a {@link FramePublisher} did with the frames it was given (monotonic counts). */
export interface FramePublisherCounters {
  /** Frames handed to the NATS client. */
  published: number;
  /** Frames refused by the `canPublish` gate (the node does not hold the symbol's lease). */
  fenced: number;
  /** Frames not published: NATS disconnected or closed, the client refused them, or the symbol was not registered. */
  failed: number;
  /** Of `failed`: frames not handed over because the client already held `maxPendingBytes` unsent. */
  backpressure: number;
  /** Payload bytes of the published frames. */
  bytes: number;
}

/** Why the last failed frame failed (for logs and `/health`; `""` when none failed). */
export type FramePublishFailure =
  | ""
  | "disconnected"
  | "closed"
  | "unregistered"
  | "client"
  | "backpressure";

/** One options object for every publish (the client writes `reply = ""` into it once). */
const PUBLISH_OPTIONS: PublishOptions = {};

/**
 * Publishes analytics frames to the bus, fenced by the caller's gate; see
 * the module documentation for what the NATS client does with them.
 *
 * @example
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { FramePublisher } from "./frame_publisher.ts";
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const held = new Set([0]);
 * const publisher = new FramePublisher(nc, { canPublish: (id) => held.has(id) });
 * publisher.register(0, "binance", "BTCUSDT");
 * publisher.register(1, "binance", "ETHUSDT");
 * publisher.publish(0, new Uint8Array([1])); // true
 * publisher.publish(1, new Uint8Array([1])); // false: fenced
 * await nc.close();
 * ```
 */
export class FramePublisher {
  /** The counts of what happened to the frames (read them, never write them). */
  readonly counters: FramePublisherCounters = {
    published: 0,
    fenced: 0,
    failed: 0,
    backpressure: 0,
    bytes: 0,
  };
  /** Why the last failed frame failed. */
  lastFailure: FramePublishFailure = "";
  readonly #nc: NatsConnection;
  /**
   * The fencing gate of {@link FramePublisherOptions.canPublish}: a caller
   * that builds a frame's bytes per frame asks it first and calls
   * {@link FramePublisher.fence} instead of building them for nothing.
   */
  readonly canPublish: (symbolId: number) => boolean;
  readonly #maxPending: number;
  /** Subject per symbol id, built once by {@link register}. */
  readonly #subjects: string[] = [];
  #connected = true;

  /**
   * @param nc A connected NATS connection (this module never closes it).
   * @param options See {@link FramePublisherOptions}.
   */
  constructor(nc: NatsConnection, options: FramePublisherOptions = {}) {
    this.#nc = nc;
    this.canPublish = options.canPublish ?? (() => true);
    this.#maxPending = options.maxPendingBytes ?? 8 << 20;
    this.#followStatus();
  }

  /** Whether the connection is up as far as the client has told (frames are published only then). */
  get connected(): boolean {
    return this.#connected && !this.#nc.isClosed();
  }

  /**
   * Build the subject of symbol `symbolId` (a small non-negative integer,
   * the server's symbol index) once.
   *
   * @throws {RangeError} when `symbolId` is not a non-negative integer.
   * @throws {TypeError} when `venue` or `symbol` cannot be a subject token (see `checkToken`).
   */
  register(symbolId: number, venue: string, symbol: string): void {
    if (!Number.isInteger(symbolId) || symbolId < 0 || symbolId > 0xffffff) {
      throw new RangeError(
        `FramePublisher.register: symbolId ${symbolId} is not an integer in [0, 16777215]`,
      );
    }
    this.#subjects[symbolId] = frameSubject(venue, symbol);
  }

  /** The subject frames of `symbolId` go to (undefined when not registered). */
  subjectOf(symbolId: number): string | undefined {
    return this.#subjects[symbolId];
  }

  /**
   * Publish one frame of `symbolId` unless the gate refuses it or NATS is
   * away. Never throws. `bytes` must not change afterwards (the client
   * queues a reference until its next flush).
   *
   * @returns true when the frame was handed to the NATS client.
   */
  publish(symbolId: number, bytes: Uint8Array): boolean {
    if (!this.canPublish(symbolId)) return this.fence();
    const subject = this.#subjects[symbolId];
    if (subject === undefined) return this.#fail("unregistered");
    if (!this.#connected) return this.#fail("disconnected");
    if (this.#nc.isClosed()) return this.#fail("closed");
    if (pendingOutboundBytes(this.#nc) > this.#maxPending) {
      this.counters.backpressure++;
      return this.#fail("backpressure");
    }
    try {
      this.#nc.publish(subject, bytes, PUBLISH_OPTIONS);
    } catch {
      // Closed or draining connection, or a payload over the server's max_payload.
      return this.#fail(this.#nc.isClosed() ? "closed" : "client");
    }
    this.counters.published++;
    this.counters.bytes += bytes.length;
    return true;
  }

  /** Count a frame the gate refused before its bytes were built (see {@link canPublish}). */
  fence(): false {
    this.counters.fenced++;
    return false;
  }

  #fail(why: FramePublishFailure): false {
    this.counters.failed++;
    this.lastFailure = why;
    return false;
  }

  /** Follows `disconnect`/`reconnect` until the connection closes. */
  #followStatus(): void {
    (async () => {
      for await (const s of this.#nc.status()) {
        if (s.type === "disconnect") this.#connected = false;
        else if (s.type === "reconnect") this.#connected = true;
      }
    })().catch(() => {
      // The status iterator ends (or fails) only with the connection: nothing to follow.
    });
  }
}

/** The internals of `@nats-io/nats-core` 3.4 and `@nats-io/transport-node` 3.4 read below. */
interface ClientInternals {
  protocol?: {
    outbound?: { length?: () => number };
    transport?: { socket?: { writableLength?: number } };
  };
}

/**
 * Bytes the NATS client holds that the server has not been sent yet: its
 * outbound buffer (commands not flushed) plus what the node socket queues in
 * user space because the kernel's send buffer is full. The client has no
 * public measure of either; this reads `nc.protocol.outbound.length()` and
 * `nc.protocol.transport.socket.writableLength` of the 3.4 clients (pinned
 * by deno.json; `tests/bus_frames_test.ts` fails if they move), and 0 when
 * they are missing.
 *
 * @example
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { pendingOutboundBytes } from "./frame_publisher.ts";
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * pendingOutboundBytes(nc); // 0 on an idle connection
 * await nc.close();
 * ```
 */
export function pendingOutboundBytes(nc: NatsConnection): number {
  const p = (nc as unknown as ClientInternals).protocol;
  const queued = p?.outbound?.length?.() ?? 0;
  const socket = p?.transport?.socket?.writableLength ?? 0;
  return queued + socket;
}
