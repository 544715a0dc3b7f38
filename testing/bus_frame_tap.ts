/**
 * A listener on every analytics frame subject of a NATS bus
 * (`dw.v1.an.<venue>.<symbol>.frame`, docs/design.md §10) that checks the
 * cluster's central promise from outside: **no symbol is published by two
 * nodes at once**.
 *
 * How it can tell without knowing who published: every node reads the same
 * exchange, and a node accepts a symbol's book only when its `lastUpdateId`
 * is larger than the last it accepted (`lib/ingest/validate_book.ts`), so the
 * frames of one publisher carry strictly increasing `lastUpdateId`s. An owner
 * that takes over after the old one stopped reads the exchange later, so its
 * ids continue above the old owner's. Two nodes publishing the same symbol at
 * once both forward the exchange's updates: the subject then carries ids
 * twice or out of order. So every frame whose `lastUpdateId` is not larger
 * than the previous frame's of its subject is recorded as a
 * {@link BusFrameTap.violations violation}.
 *
 * The payload is decoded as a `ServerMessage` holding a `frame` (the bytes
 * browsers receive), or else as a bare `Frame`.
 *
 * @example
 * ```ts ignore
 * import { BusFrameTap } from "./bus_frame_tap.ts";
 * const tap = await BusFrameTap.open("nats://127.0.0.1:4222");
 * // … a cluster publishes …
 * console.log(tap.frames, tap.symbols.size, tap.violations);
 * await tap.close();
 * ```
 * @module
 */

import { fromBinary } from "@bufbuild/protobuf";
import { FrameSchema, ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { FRAME_WILDCARD, parseFrameSubject } from "../lib/bus/bus_subjects.ts";
import { type BusConnection, connectBus } from "../lib/bus/nats_connect.ts";

/** Violations kept (the count goes on: {@link BusFrameTap.violationCount}). */
const MAX_VIOLATIONS = 50;

/**
 * The `lastUpdateId` of a frame payload: a `ServerMessage` with a `frame`, or a
 * bare `Frame`; undefined when it is neither.
 *
 * @example
 * ```ts
 * import { create, toBinary } from "@bufbuild/protobuf";
 * import { FrameSchema } from "../proto/gen/market_pb.ts";
 * import { frameUpdateId } from "./bus_frame_tap.ts";
 * const bytes = toBinary(FrameSchema, create(FrameSchema, { symbol: "BTCUSDT", lastUpdateId: 7 }));
 * frameUpdateId(bytes); // 7
 * ```
 */
export function frameUpdateId(bytes: Uint8Array): number | undefined {
  try {
    const m = fromBinary(ServerMessageSchema, bytes);
    if (m.kind.case === "frame" && m.kind.value.symbol !== "") return m.kind.value.lastUpdateId;
  } catch { /* not a ServerMessage: a bare Frame? */ }
  try {
    const f = fromBinary(FrameSchema, bytes);
    return f.symbol === "" ? undefined : f.lastUpdateId;
  } catch {
    return undefined;
  }
}

/** See the module doc. Counters are public fields. */
export class BusFrameTap {
  /** The connection (reconnects forever, like a node's). */
  readonly bus: BusConnection;
  /** Frames received. */
  frames = 0;
  /** Payloads that were not frames. */
  undecodable = 0;
  /** Frames received per symbol (as in the subject). */
  readonly symbols = new Map<string, number>();
  /** The first {@link MAX_VIOLATIONS} violations, e.g. `BTCUSDT: lastUpdateId 12 after 12`. */
  readonly violations: string[] = [];
  /** Violations in all. */
  violationCount = 0;
  readonly #last = new Map<string, number>();
  readonly #done: Promise<void>;

  private constructor(bus: BusConnection) {
    this.bus = bus;
    const sub = bus.nc.subscribe(FRAME_WILDCARD);
    this.#done = (async () => {
      for await (const m of sub) this.#receive(m.subject, m.data);
    })();
  }

  /**
   * Connect to `url` (`nats://HOST:PORT`) and subscribe to every frame subject.
   *
   * @throws Error when the server is not reachable.
   */
  static async open(url: string): Promise<BusFrameTap> {
    const bus = await connectBus({ url, name: "bus-frame-tap", env: () => undefined });
    const tap = new BusFrameTap(bus);
    await bus.nc.flush(); // the server holds the subscription
    return tap;
  }

  /** Unsubscribe and close the connection. */
  async close(): Promise<void> {
    await this.bus.close();
    await this.#done;
  }

  #receive(subject: string, data: Uint8Array): void {
    const symbol = parseFrameSubject(subject)?.symbol;
    const id = frameUpdateId(data);
    if (symbol === undefined || id === undefined) {
      this.undecodable++;
      return;
    }
    this.frames++;
    this.symbols.set(symbol, (this.symbols.get(symbol) ?? 0) + 1);
    const last = this.#last.get(symbol);
    if (last !== undefined && !(id > last)) {
      this.violationCount++;
      if (this.violations.length < MAX_VIOLATIONS) {
        this.violations.push(`${symbol}: lastUpdateId ${id} after ${last}`);
      }
    }
    if (last === undefined || id > last) this.#last.set(symbol, id);
  }
}
