/**
 * A node on a NATS bus (`--bus nats://HOST:PORT`, docs/design.md §10): the
 * service's link to the other nodes, for its role.
 *
 * - **ingest half** (`--role ingest` or `all`): joins the node registry and
 *   leases partitions of the symbol universe ({@link PartitionLeases}); the
 *   partitions held are written into {@link OwnedPartitions}, which the ingest
 *   worker reads to connect only to their symbols; every analytics frame the
 *   main thread stores for a held partition is published on
 *   `dw.v1.an.binance.<SYMBOL>.frame` as the browsers' `Frame` bytes plus the
 *   partition's epoch (the lease's take revision; `lib/bus/bus_frame.ts`),
 *   fenced by `leases.held` at the moment of publishing; once a second the
 *   node's market summary goes to `dw.v1.sum.binance.<node>`.
 * - **dashboard half** (`--role dashboard` or `all`): subscribes to the frames
 *   of the symbols its browsers watch (reference-counted by
 *   {@link FrameSubscriptions}, history from the `DW_V1_AN` stream at the
 *   first watch; the symbol's bars from its owner at the first watch too,
 *   `dw.v1.ctl.bars.binance.<SYMBOL>`, which the ingest half answers for the
 *   symbols it holds with `BarStore.exportSymbol`), decodes each into a
 *   frame slot for the node's own history,
 *   bars and latency, and hands the received bytes to the hub
 *   ({@link BusWire}), which forwards them with its seq: no re-encoding. A frame of an
 *   epoch older than the newest seen for its symbol is dropped (counted
 *   `staleEpoch`); a newer epoch (a takeover) makes the hub skip one seq, so
 *   every browser of the symbol sees a gap and resyncs (Hello/Resync). The
 *   overview is merged from the ingest nodes' summaries by lease owner
 *   ({@link BusSummary}).
 *
 * Nothing here throws after start: a lost NATS connection is ridden out (the
 * client reconnects forever), publishing while down is counted `failed`, and
 * `/health` says so.
 *
 * @example
 * ```ts ignore
 * const node = await BusNode.start({ config, symbols, log, history, bars, latency, hub });
 * node.stats(); // the /stats "bus" object
 * await node.close();
 * ```
 * @module
 */

import { type BusConnection, connectBus } from "../bus/nats_connect.ts";
import { clusterFingerprint, PartitionMap, symbolKey } from "../bus/partition_map.ts";
import { PartitionLeases } from "../bus/partition_leases.ts";
import { LeaseOwners } from "../bus/lease_owners.ts";
import { FramePublisher } from "../bus/frame_publisher.ts";
import { type FrameSink, FrameSubscriptions } from "../bus/frame_subscriptions.ts";
import { FrameHistoryStream } from "../bus/frame_history_stream.ts";
import { controlSubject, SUMMARY_WILDCARD, summarySubject } from "../bus/bus_subjects.ts";
import { busFramePayload, readBusFrame } from "../bus/bus_frame.ts";
import { encodeFrame } from "../analytics/wire_encoder.ts";
import { OwnedPartitions } from "../pipeline/owned_partitions.ts";
import {
  FRAME_DELIVERED_TIME,
  FRAME_RECEIVE_TIME,
  FRAME_SYMBOL_ID,
} from "../pipeline/frame_slot.ts";
import type { Logger } from "../pipeline/logger.ts";
import type { Msg, Subscription } from "@nats-io/nats-core";
import type { Role } from "./config.ts";
import type { BarStore } from "./bar_store.ts";
import type { HistoryStore } from "./history_store.ts";
import type { LatencyTracker } from "./latency_tracker.ts";
import type { WsHub } from "./ws_hub.ts";
import type { WorkerWire } from "./worker_wire.ts";
import type { BusWire } from "./bus_wire.ts";
import { BusStartError } from "./bus_start_error.ts";
import { BusSummary } from "./bus_summary.ts";

/** The payload of a bars request (the subject says everything). */
const EMPTY = new Uint8Array(0);

/**
 * The venue token of every subject (Binance spot, the one venue so far).
 *
 * @example
 * ```ts
 * import { BUS_VENUE } from "./bus_node.ts";
 * import { frameSubject } from "../bus/bus_subjects.ts";
 * frameSubject(BUS_VENUE, "BTCUSDT"); // "dw.v1.an.binance.BTCUSDT.frame"
 * ```
 */
export const BUS_VENUE = "binance";

/**
 * Options of {@link BusNode.start}.
 *
 * @example
 * ```ts
 * import type { BusNodeOptions } from "./bus_node.ts";
 * const flags: Pick<BusNodeOptions, "url" | "role" | "partitions" | "leaseTtlMs"> = {
 *   url: "nats://127.0.0.1:4222",
 *   role: "dashboard",
 *   partitions: 16,
 *   leaseTtlMs: 10_000,
 * };
 * ```
 */
export interface BusNodeOptions {
  /** `--bus`: `nats://HOST:PORT`. Required. */
  url: string;
  /** `--role`. Required. */
  role: Role;
  /** `--node-id`. Required. */
  nodeId: string;
  /** `--partitions`. Required. */
  partitions: number;
  /** `--capacity` (Infinity: all). Required. */
  capacity: number;
  /** `--lease-ttl`, ms. Required. */
  leaseTtlMs: number;
  /** Frames kept per symbol in the `DW_V1_AN` stream (a late joiner's history). Default 100. */
  historyDepth?: number;
  /** The symbol universe, upper case, index = symbol id (the same on every node). Required. */
  symbols: readonly string[];
  /** The service's logger. Required. */
  log: Logger;
  /** The main thread's frames (published from, or fed by the bus). Required. */
  history: HistoryStore;
  /** The bars (a dashboard half folds received frames into them). Required. */
  bars: BarStore;
  /** Receive → main latency (a dashboard half observes receive → here). Required. */
  latency: LatencyTracker;
  /** The WebSocket hub: subscribers per symbol, seq, resync. Required. */
  hub: WsHub;
  /** The ingest half's staged worker wire bytes (published without re-encoding). Default none. */
  wire?: WorkerWire;
  /**
   * Where received frames' bytes are staged for the hub (the hub's `wire` must
   * take from it). Required with a dashboard half.
   */
  busWire?: BusWire;
  /** How long a dashboard half waits for a symbol's bars from its owner, ms. Default 2000. */
  barsSeedTimeoutMs?: number;
  /** Reads `DEPTHWATCH_NATS_TOKEN` / `_CREDS`. Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
}

/**
 * Counters of a {@link BusNode} (monotonic; read them, never write them).
 *
 * @example
 * ```ts
 * import type { BusNodeCounters } from "./bus_node.ts";
 * const dropped = (c: BusNodeCounters) => c.staleEpoch + c.duplicate + c.own + c.malformed;
 * ```
 */
export interface BusNodeCounters {
  /** Frames received for a symbol whose partition this node holds (its own, echoed). */
  own: number;
  /** Frames dropped: their epoch was older than the newest seen for the symbol. */
  staleEpoch: number;
  /** Frames dropped: not newer than the last one stored for the symbol (a history overlap). */
  duplicate: number;
  /** Payloads that are not a bus frame. */
  malformed: number;
  /** Frames stored from the bus. */
  stored: number;
  /** Epoch changes seen (each made the symbol's browsers resync). */
  epochChanges: number;
  /** Summaries published (ingest half). */
  summariesPublished: number;
  /** Newly watched symbols whose bars came from their owner (dashboard half). */
  barsSeeded: number;
  /** Bars asked of an owner and not imported: no answer in time, or refused bytes. */
  barsSeedFailed: number;
  /** Bars requests answered (ingest half). */
  barsServed: number;
}

/**
 * The service's node on a NATS bus; see the module documentation.
 *
 * @example
 * ```ts
 * import type { BusNode } from "./bus_node.ts";
 * // What /health asks a node on the bus:
 * const problems = (bus: BusNode) => [
 *   ...(bus.connected ? [] : ["bus: NATS unreachable"]),
 *   ...bus.watchedWithoutOwner().map((s) => `${s}: no owner on the bus`),
 * ];
 * ```
 */
export class BusNode {
  /** This node's role. */
  readonly role: Role;
  /** This node's id. */
  readonly nodeId: string;
  /** Partitions of the universe. */
  readonly partitions: number;
  /** Symbol id → partition. */
  readonly partitionOf: Uint16Array;
  /** The partitions held (the ingest worker reads it). Present with an ingest half. */
  readonly owned: OwnedPartitions | undefined;
  /** What happened. */
  readonly counters: BusNodeCounters = {
    own: 0,
    staleEpoch: 0,
    duplicate: 0,
    malformed: 0,
    stored: 0,
    epochChanges: 0,
    summariesPublished: 0,
    barsSeeded: 0,
    barsSeedFailed: 0,
    barsServed: 0,
  };
  readonly #o: BusNodeOptions;
  /** Frames, summaries, history: the data connection. */
  readonly #bus: BusConnection;
  /** Leases, the node registry, lease owners: the control connection. */
  readonly #control: BusConnection;
  readonly #leases: PartitionLeases | undefined;
  readonly #owners: LeaseOwners | undefined;
  readonly #publisher: FramePublisher | undefined;
  readonly #subs: FrameSubscriptions | undefined;
  readonly #summary: BusSummary | undefined;
  readonly #summarySub: Subscription | undefined;
  /** The ingest half's answerer of bars requests. */
  readonly #barsSub: Subscription | undefined;
  /** Symbol name → id (bars requests name the symbol). */
  readonly #ids: Map<string, number>;
  /**
   * Per symbol: the receive time up to which its bars came from the owner's
   * export (-Infinity: not seeded); only later frames are folded here.
   */
  readonly #barsAfter: Float64Array;
  readonly #busWire: BusWire | undefined;
  /** The newest epoch seen per symbol (0: none yet). */
  readonly #epochs: Float64Array;
  /** Receive time of the last frame stored from the bus per symbol. */
  readonly #lastReceive: Float64Array;
  /** One reused frame slot for decoding. */
  readonly #slot: Float64Array;
  /** Per symbol: subscribed on the bus (a watch sent). */
  readonly #watching: Uint8Array;
  readonly #sinks: (FrameSink | undefined)[];
  readonly #unsubscribeHistory: (() => void) | undefined;
  /** Per partition: when its lease expired while still connected (0: not expired). */
  readonly #expiredAt: Float64Array;
  readonly #sweeping: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** A frame from the bus is being stored (the publishing listener must not send it back). */
  #receiving = false;

  private constructor(
    o: BusNodeOptions,
    bus: BusConnection,
    control: BusConnection,
    parts: {
      map: Uint16Array;
      owned?: OwnedPartitions;
      leases?: PartitionLeases;
      owners?: LeaseOwners;
      stream: FrameHistoryStream;
      expiredAt: Float64Array;
    },
  ) {
    this.#o = o;
    this.#bus = bus;
    this.#control = control;
    this.role = o.role;
    this.nodeId = o.nodeId;
    this.partitions = o.partitions;
    this.partitionOf = parts.map;
    this.owned = parts.owned;
    this.#leases = parts.leases;
    this.#owners = parts.owners;
    this.#expiredAt = parts.expiredAt;
    const n = o.symbols.length;
    this.#epochs = new Float64Array(n);
    this.#lastReceive = new Float64Array(n).fill(-Infinity);
    this.#slot = new Float64Array(o.history.layout.slotWords);
    this.#watching = new Uint8Array(n);
    this.#sinks = new Array(n).fill(undefined);
    this.#ids = new Map(o.symbols.map((name, id) => [name, id]));
    this.#barsAfter = new Float64Array(n).fill(-Infinity);
    const nc = bus.nc;
    if (parts.leases) {
      const leases = parts.leases;
      const publisher = new FramePublisher(nc, {
        canPublish: (id) => leases.held(this.partitionOf[id]),
      });
      o.symbols.forEach((name, id) => publisher.register(id, BUS_VENUE, name));
      this.#publisher = publisher;
      this.#sweeping = setInterval(() => this.#sweep(), Math.ceil(o.leaseTtlMs / 3));
      // After the hub's listener (it was subscribed first): the hub's seq of this frame is set.
      this.#unsubscribeHistory = o.history.subscribe((s, f64, base, storedAt) =>
        this.#publish(s, f64, base, storedAt)
      );
      this.#barsSub = nc.subscribe(`${controlSubject("bars", BUS_VENUE)}.*`, {
        callback: (err, msg) => {
          if (!err) this.#answerBars(msg);
        },
      });
    }
    if (o.role !== "ingest") {
      this.#subs = new FrameSubscriptions(nc, {
        history: parts.stream,
        historyDepth: Math.min(o.historyDepth ?? 100, o.history.depth),
      });
      if (!o.busWire) throw new TypeError("BusNode: a dashboard half needs busWire");
      this.#busWire = o.busWire;
      const owners = parts.owners!;
      const summary = new BusSummary({
        symbols: n,
        epoch: o.hub.epoch,
        ownerOf: (id) => owners.owner(this.partitionOf[id]),
      });
      this.#summary = summary;
      this.#summarySub = nc.subscribe(SUMMARY_WILDCARD, {
        callback: (err, msg) => {
          if (err) return;
          const node = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
          summary.accept(node, msg.data);
        },
      });
    }
  }

  /**
   * Connect to NATS and start this node's halves. Throws (with what was
   * expected) when NATS cannot be reached at start, or when the universe or
   * the partition count differs from the running nodes'.
   */
  static async start(o: BusNodeOptions): Promise<BusNode> {
    // Two connections: frames on one, leases and owners on the other, so that lease
    // renewals never wait behind a stream of frames in one socket (measured: at 20,000
    // frames/s on one connection, renewals timed out and the node fenced itself).
    let bus: BusConnection;
    let control: BusConnection;
    try {
      bus = await connectBus({ url: o.url, name: o.nodeId, env: o.env });
    } catch (e) {
      throw new BusStartError((e as Error).message, { cause: e });
    }
    try {
      control = await connectBus({ url: o.url, name: `${o.nodeId}-control`, env: o.env });
    } catch (e) {
      await bus.close().catch(() => {});
      throw new BusStartError((e as Error).message, { cause: e });
    }
    try {
      const keys = o.symbols.map((s) => symbolKey(BUS_VENUE, s));
      const pmap = new PartitionMap(keys, o.partitions);
      const map = new Uint16Array(keys.length);
      keys.forEach((k, id) => map[id] = pmap.partitionOf(k));
      const stream = new FrameHistoryStream(bus.nc, { depth: o.historyDepth ?? 100 });
      await stream.ensure();
      let owned: OwnedPartitions | undefined;
      let leases: PartitionLeases | undefined;
      // Leases taken during the start, before the node exists, are applied once it does.
      const made: { node?: BusNode } = {};
      const early: number[] = [];
      const expiredAt = new Float64Array(o.partitions);
      if (o.role !== "dashboard") {
        owned = OwnedPartitions.create(o.partitions);
        const flags = owned;
        leases = await PartitionLeases.start(control.nc, {
          nodeId: o.nodeId,
          partitions: o.partitions,
          fingerprint: clusterFingerprint(keys, o.partitions),
          capacity: Math.min(o.capacity, o.partitions),
          ttlMs: o.leaseTtlMs,
          onAcquire: (p) => {
            flags.set(p, true);
            if (made.node) made.node.#acquired(p);
            else early.push(p);
          },
          onLose: (p, reason) => {
            // Refused, rebalanced or released: another node has it or will: disconnect now.
            // Expired (NATS away or too slow): nobody may hold it yet; keep the book and
            // stop only publishing, until the bus says someone else took it (#sweep).
            if (reason === "expired") expiredAt[p] = performance.now();
            else flags.set(p, false);
            o.log.info(`bus: partition ${p} lost (${reason})`);
          },
        });
      }
      const owners = o.role === "ingest" ? undefined : await LeaseOwners.open(control.nc, {
        partitions: o.partitions,
        pollMs: Math.ceil(o.leaseTtlMs / 3),
      });
      const node = new BusNode(o, bus, control, {
        map,
        owned,
        leases,
        owners,
        stream,
        expiredAt,
      });
      made.node = node;
      for (const p of early) node.#acquired(p);
      o.log.info(
        `bus: node ${o.nodeId} (${o.role}) on ${o.url}; ${o.partitions} partitions` +
          (leases ? `, holding ${leases.heldPartitions().length}` : ""),
      );
      return node;
    } catch (e) {
      await bus.close().catch(() => {});
      await control.close().catch(() => {});
      throw e;
    }
  }

  /** NATS is connected now (both of the node's connections). */
  get connected(): boolean {
    return this.#bus.connected && this.#control.connected;
  }

  /** The partition of symbol `id` is held by this node now. */
  holds(id: number): boolean {
    return this.#leases?.held(this.partitionOf[id]) ?? false;
  }

  /** Symbols of the partitions held now. */
  ownedSymbols(): number {
    if (!this.#leases) return 0;
    let k = 0;
    for (let id = 0; id < this.partitionOf.length; id++) if (this.holds(id)) k++;
    return k;
  }

  /** Symbols watched on this node whose partition has no lease holder (dashboard half). */
  watchedWithoutOwner(): string[] {
    const out: string[] = [];
    if (!this.#owners) return out;
    for (let id = 0; id < this.#watching.length; id++) {
      if (this.#watching[id] && this.#owners.owner(this.partitionOf[id]) === undefined) {
        out.push(this.#o.symbols[id]);
      }
    }
    return out;
  }

  /**
   * Follow the hub's subscribers (dashboard half; every ~250 ms): watch the
   * symbols that gained their first browser, unwatch those that lost their
   * last. A node holding a symbol's partition serves it from its own pipeline.
   */
  syncWatches(): void {
    const subs = this.#subs;
    if (!subs || this.#closed) return;
    const hub = this.#o.hub;
    for (let id = 0; id < this.#watching.length; id++) {
      const want = hub.subscribers(id) > 0 ? 1 : 0;
      if (want === this.#watching[id]) continue;
      this.#watching[id] = want;
      const name = this.#o.symbols[id];
      const sink = this.#sinks[id] ??= (bytes: Uint8Array) => this.#receive(id, bytes);
      if (want) {
        if (!this.holds(id)) this.#seedBars(id, name);
        subs.watch(BUS_VENUE, name, sink).then((ok) => {
          if (!ok) {
            this.#o.log.warn(`bus: watch of ${name} refused (${subs.maxSymbols} symbols at most)`);
          }
        }, (e) => this.#o.log.warn(`bus: watch of ${name} failed:`, e));
      } else {
        subs.unwatch(BUS_VENUE, name, sink);
      }
    }
  }

  /**
   * Publish the node's newest market summary (ingest half, once a second);
   * counted, never throws.
   */
  publishSummary(bytes: Uint8Array): void {
    if (!this.#leases || !this.#bus.connected || this.#closed) return;
    try {
      this.#bus.nc.publish(summarySubject(BUS_VENUE, this.nodeId), bytes);
      this.counters.summariesPublished++;
    } catch {
      // counted by the connection's state; the next second tries again
    }
  }

  /** The dashboard half's merged overview (undefined on an ingest-only node). */
  get summary(): BusSummary | undefined {
    return this.#summary;
  }

  /** The `bus` object of `GET /stats`. */
  stats(): Record<string, unknown> {
    const pub = this.publishCounters;
    const sub = this.#subs?.counters;
    return {
      url: this.#o.url,
      role: this.role,
      nodeId: this.nodeId,
      connected: this.connected,
      partitions: this.partitions,
      owned: this.#leases?.heldPartitions() ?? [],
      ownedSymbols: this.ownedSymbols(),
      published: pub.published,
      fenced: pub.fenced,
      publishFailed: pub.failed,
      publishBackpressure: pub.backpressure,
      publishedBytes: pub.bytes,
      received: sub?.received ?? 0,
      stored: this.counters.stored,
      dropped: {
        staleEpoch: this.counters.staleEpoch,
        own: this.counters.own,
        duplicate: this.counters.duplicate,
        malformed: this.counters.malformed,
      },
      epochChanges: this.counters.epochChanges,
      subscribed: this.subscribed,
      subscriptions: sub
        ? {
          refused: sub.refused,
          joinDropped: sub.joinDropped,
          historyFailed: sub.historyFailed,
          sinkErrors: sub.sinkErrors,
          rejoins: sub.rejoins,
          recovered: sub.recovered,
        }
        : null,
      reconnects: this.reconnects,
      leases: this.leaseCounters,
      watchedWithoutOwner: this.watchedWithoutOwner(),
      barsSeeded: this.counters.barsSeeded,
      barsSeedFailed: this.counters.barsSeedFailed,
      barsServed: this.counters.barsServed,
    };
  }

  /** Lease counters (zeros without an ingest half). */
  get leaseCounters(): { holds: number; takeovers: number; losses: number; releases: number } {
    const lc = this.#leases?.counters;
    return {
      holds: lc?.holds ?? 0,
      takeovers: lc?.takeovers ?? 0,
      losses: lc?.losses ?? 0,
      releases: lc?.releases ?? 0,
    };
  }

  /** Publisher counters (zeros without an ingest half). */
  get publishCounters(): {
    published: number;
    fenced: number;
    failed: number;
    backpressure: number;
    bytes: number;
  } {
    return this.#publisher?.counters ??
      { published: 0, fenced: 0, failed: 0, backpressure: 0, bytes: 0 };
  }

  /** Frames received from the bus (dashboard half). */
  get received(): number {
    return this.#subs?.counters.received ?? 0;
  }

  /** Live frames lost during joins, history reads that failed (dashboard half). */
  get joinLosses(): { frames: number; history: number } {
    const c = this.#subs?.counters;
    return { frames: c?.joinDropped ?? 0, history: c?.historyFailed ?? 0 };
  }

  /** Symbols subscribed on the bus now. */
  get subscribed(): number {
    return this.#subs?.subscribedCount ?? 0;
  }

  /** Partitions held now. */
  get held(): number {
    return this.#leases?.heldPartitions().length ?? 0;
  }

  /** NATS reconnects so far (both connections). */
  get reconnects(): number {
    return this.#bus.counters.reconnects + this.#control.counters.reconnects;
  }

  /**
   * Stop: give the leases up (fenced first, so another node takes over at
   * once), stop the subscriptions, close the connection.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribeHistory?.();
    clearInterval(this.#sweeping);
    this.#subs?.close();
    this.#summarySub?.unsubscribe();
    this.#barsSub?.unsubscribe();
    await this.#leases?.release().catch((e) => this.#o.log.warn("bus: lease release failed:", e));
    await this.#owners?.close().catch(() => {});
    await this.#bus.nc.flush().catch(() => {});
    await this.#bus.close();
    await this.#control.close();
  }

  /**
   * Disconnect the partitions whose lease expired and was not taken back
   * within two TTLs of NATS being reachable: another node holds them.
   */
  #sweep(): void {
    const owned = this.owned;
    if (!owned) return;
    const now = performance.now();
    const wait = 2 * this.#o.leaseTtlMs;
    const connected = this.#control.connected;
    for (let p = 0; p < this.partitions; p++) {
      const at = this.#expiredAt[p];
      if (at === 0) continue;
      // The two TTLs run from when NATS is reachable again.
      if (!connected) {
        this.#expiredAt[p] = now;
        continue;
      }
      if (this.#leases!.held(p)) {
        this.#expiredAt[p] = 0;
      } else if (now - at > wait) {
        this.#expiredAt[p] = 0;
        owned.set(p, false);
        this.#o.log.info(`bus: partition ${p} not taken back; its connection closes`);
      }
    }
  }

  /** A partition taken: its browsers resync (the frames start again from a new book). */
  #acquired(p: number): void {
    const epoch = this.#leases?.epoch(p) ?? 0;
    for (let id = 0; id < this.partitionOf.length; id++) {
      if (this.partitionOf[id] === p) this.#newEpoch(id, epoch);
    }
  }

  /**
   * Symbol `id`'s frames now come from epoch `epoch`: after an earlier one, the
   * hub skips a seq so every browser of the symbol resyncs.
   */
  #newEpoch(id: number, epoch: number): void {
    const last = this.#epochs[id];
    if (last !== 0 && last !== epoch) {
      this.counters.epochChanges++;
      this.#o.hub.skipSeq(id);
    }
    this.#epochs[id] = epoch;
  }

  /** Ingest half: answer a bars request for a symbol this node holds (others stay silent). */
  #answerBars(msg: Msg): void {
    if (this.#closed) return;
    const name = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    const id = this.#ids.get(name);
    if (id === undefined || !this.holds(id)) return;
    try {
      msg.respond(this.#o.bars.exportSymbol(id));
      this.counters.barsServed++;
    } catch {
      // a reply subject gone or NATS away: the asker counts its failure
    }
  }

  /**
   * Dashboard half: ask the owner of symbol `s` for its bars (its first
   * browser on this node); on the answer, import them, fold again the frames
   * stored here since the owner's newest, and from then on fold only frames
   * received after it.
   */
  #seedBars(s: number, name: string): void {
    const timeout = this.#o.barsSeedTimeoutMs ?? 2000;
    let reply: Promise<Msg>;
    try {
      reply = this.#bus.nc.request(controlSubject("bars", BUS_VENUE, name), EMPTY, { timeout });
    } catch (e) {
      reply = Promise.reject(e); // a closed connection: counted like no answer
    }
    reply.then((msg) => this.#importBars(s, msg.data), () => false)
      .then((ok) => {
        if (this.#closed) return;
        if (ok) this.counters.barsSeeded++;
        else this.counters.barsSeedFailed++;
        if (!ok) this.#o.log.debug(`bus: bars of ${name} not seeded from the owner`);
      });
  }

  #importBars(s: number, bytes: Uint8Array): boolean {
    // Closed, or the symbol became this node's meanwhile: its own bars are complete.
    if (this.#closed || this.holds(s)) return false;
    const bars = this.#o.bars;
    if (!bars.importSymbol(s, bytes)) return false;
    const after = bars.lastReceive(s);
    this.#barsAfter[s] = after;
    // The frames stored here after the owner's newest were folded before the import replaced them.
    this.#o.history.forEach(s, (f64, base) => {
      if (f64[base + FRAME_RECEIVE_TIME] > after) bars.fold(f64, base);
    });
    bars.setFolded(s, this.#o.hub.seq(s));
    return true;
  }

  /** Ingest half: publish one stored frame of symbol `s` (a history listener). */
  #publish(s: number, f64: Float64Array, base: number, storedAt: number): void {
    // An `all` node stores other nodes' frames too: those are not its to publish.
    if (this.#receiving) return;
    const publisher = this.#publisher!;
    // The gate first, so a fenced frame costs no payload; publish() asks it again.
    const epoch = this.#leases!.epoch(this.partitionOf[s]);
    if (epoch === undefined || !publisher.canPublish(s)) {
      publisher.fence();
      return;
    }
    const seq = this.#o.hub.seq(s);
    const delivered = f64[base + FRAME_DELIVERED_TIME];
    const frame = this.#o.wire?.frameView(s, seq, delivered, storedAt) ??
      encodeFrame(f64, base, this.#o.history.layout, this.#o.symbols[s], seq, storedAt);
    publisher.publish(s, busFramePayload(frame, epoch));
  }

  /** Dashboard half: one frame of symbol `s` from the bus. */
  #receive(s: number, bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.holds(s)) {
      this.counters.own++;
      return;
    }
    const slot = this.#slot;
    const info = readBusFrame(bytes, slot, 0, this.#o.history.layout);
    if (info === null) {
      this.counters.malformed++;
      return;
    }
    const last = this.#epochs[s];
    if (info.epoch < last) {
      this.counters.staleEpoch++;
      return;
    }
    const received = slot[FRAME_RECEIVE_TIME];
    if (info.epoch > last) {
      this.#newEpoch(s, info.epoch);
    } else if (received <= this.#lastReceive[s]) {
      this.counters.duplicate++;
      return;
    }
    this.#lastReceive[s] = received;
    slot[FRAME_SYMBOL_ID] = s;
    const now = performance.timeOrigin + performance.now();
    this.#o.latency.observe((now - received) / 1000);
    // Frames up to the owner's export are in the imported bars already.
    if (received > this.#barsAfter[s]) this.#o.bars.fold(slot, 0);
    const wire = this.#busWire!;
    wire.stage(s, bytes, info);
    this.#receiving = true;
    try {
      this.#o.history.push(slot);
    } finally {
      this.#receiving = false;
      wire.clear();
    }
    // The bars' seq is the hub's: a browser folds exactly the frames numbered after it.
    this.#o.bars.setFolded(s, this.#o.hub.seq(s));
    this.counters.stored++;
  }
}
