/**
 * The partition lease manager of docs/design.md §10: which of the P
 * partitions this ingest node owns, with local fencing.
 *
 * Leases live in the KV bucket `dw_v1_leases` (created if missing, TTL = the
 * lease TTL, one value per key), key `p<index>`, value the node id.
 *
 * - **take**: `create` (refused while another node's key is there);
 *   the revision it returns is the partition's **epoch** (revisions of a
 *   bucket only grow, across server restarts too, so every new hold of a
 *   partition has a larger epoch than any before).
 * - **renew**: every TTL/3, `update` with the last revision (compare-and-set).
 *   A refused renewal (another node holds the key) loses the partition at
 *   once (`"refused"`); an unanswered one (timeout, NATS unreachable) counts
 *   a renewal failure and is retried on the next round.
 * - **fence**: {@linkcode PartitionLeases.held} is true only until the
 *   *local deadline* = send time of the last successful take/renewal + TTL −
 *   margin, by this process's monotonic clock; the check is synchronous, so
 *   even a blocked event loop cannot publish past it, and a timer reports the
 *   loss (`"expired"`). The server keeps the key at least TTL after it stored
 *   it, which is after the send, so no other node can take the partition
 *   before this one stopped.
 * - **give up**: {@linkcode PartitionLeases.release} on a clean stop fences
 *   every partition and deletes its keys (compare-and-set on the revision), so
 *   another node takes them on its next round instead of after a TTL.
 *
 * **Fair share.** Live nodes register with their capacity in `dw_v1_nodes`
 * (node_registry.ts). A node aims to hold its fair share (fair_share.ts:
 * `ceil(P / liveNodes)` with equal capacities, water-filled around smaller
 * ones, never above its own capacity): alone it takes all P (someone must),
 * and when another node joins it hands back its excess (fenced first, then
 * deleted; reason `"rebalanced"`), so a node that started first does not keep
 * everything. Free partitions are tried in a
 * rotation that starts at a node-specific offset, so nodes starting together
 * contend less.
 *
 * **Defaults**: TTL 10 s, margin TTL/5 (2 s), renewal and balancing every
 * TTL/3, renewal timeout TTL/3; start-up requests are retried on timeouts for 30 s. A dead node's partitions are taken
 * within about TTL + TTL/3.
 *
 * @example
 * ```ts
 * import { connectBus } from "./nats_connect.ts";
 * import { PartitionLeases } from "./partition_leases.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222" });
 * const leases = await PartitionLeases.start(bus.nc, {
 *   nodeId: "ingest-1",
 *   partitions: 8,
 *   fingerprint: "p=8 n=200 sha256=…",
 *   onAcquire: (p, epoch) => console.log("own", p, "epoch", epoch),
 *   onLose: (p, reason) => console.log("lost", p, reason),
 * });
 * if (leases.held(3)) {
 *   // publish partition 3's frames, tagged with leases.epoch(3)
 * }
 * await leases.release();
 * ```
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { KV } from "@nats-io/kv";
import { isCasRefusal, listKeys, NodeRegistry, openTtlBucket } from "./node_registry.ts";
import { fnv1a32 } from "./partition_map.ts";
import { fairShare } from "./fair_share.ts";

/** Default name of the lease bucket. */
export const LEASES_BUCKET = "dw_v1_leases";
/** Default lease TTL, ms. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/**
 * Why a partition was lost: `"refused"` a renewal was refused (another node
 * holds it), `"expired"` the local deadline passed without a successful
 * renewal (NATS unreachable or too slow), `"rebalanced"` handed back to make
 * room for another node, `"released"` clean stop ({@linkcode PartitionLeases.release})
 * or {@linkcode PartitionLeases.abandon}.
 */
export type LeaseLossReason = "refused" | "expired" | "rebalanced" | "released";

/** Options of {@linkcode PartitionLeases.start}. */
export interface PartitionLeasesOptions {
  /** This node's id, unique among running nodes (node_registry.ts `checkNodeId`). Required. */
  nodeId: string;
  /** The partition count P (the same on every node). Required. */
  partitions: number;
  /** Cluster fingerprint (partition_map.ts); nodes with another one refuse to join. Required. */
  fingerprint: string;
  /** Most partitions this node holds. Default P. */
  capacity?: number;
  /** Lease TTL, ms (the buckets' TTL; the same on every node). Default 10000. */
  ttlMs?: number;
  /** Safety margin before the TTL at which a node fences itself, ms, in (0, TTL/2]. Default TTL/5. */
  marginMs?: number;
  /**
   * Timeout of a renewal (and of the heartbeat), ms: an unanswered one is
   * counted and retried on the next round. Default TTL/3. Other requests
   * (takes, deletes, listings) use the client's default (5 s): they are off
   * the renewal path.
   */
  timeoutMs?: number;
  /** Lease bucket. Default {@linkcode LEASES_BUCKET}. */
  bucket?: string;
  /** Node registry bucket. Default `dw_v1_nodes`. */
  nodesBucket?: string;
  /** Monotonic clock, ms. Default `performance.now`. */
  now?: () => number;
  /** Called when a partition is taken, with its epoch (the lease revision). Must not throw. */
  onAcquire?: (partition: number, epoch: number) => void;
  /** Called when a held partition stops being held (already fenced when called). Must not throw. */
  onLose?: (partition: number, reason: LeaseLossReason) => void;
}

/** Counters of a {@linkcode PartitionLeases} (monotonic). */
export interface LeaseCounters {
  /** Partitions taken (every successful `create`). */
  holds: number;
  /**
   * Takes of a partition this node had seen held by another node (in a listing of the
   * lease keys, every round, or a refused take) since it last held it: takeovers from a
   * dead node and hand-overs.
   */
  takeovers: number;
  /** Partitions lost against this node's will (`"refused"` or `"expired"`). */
  losses: number;
  /** Renewals that failed (refused, timed out, or NATS unreachable). */
  renewFailures: number;
  /** Partitions given up on purpose (`"rebalanced"` or `"released"`). */
  releases: number;
}

/** One held partition. */
interface Lease {
  /** Revision of the last successful create/update (the next update's expected revision). */
  revision: number;
  /** Revision of the create: the partition's epoch. */
  epoch: number;
  /** Local monotonic time after which the partition is no longer held. */
  deadline: number;
  /** Reports the loss once the deadline passed. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A renewal is in flight. */
  renewing: boolean;
}

/** Throws a RangeError unless `value` is an integer in [min, max]. */
function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `partition leases: ${name} must be an integer in [${min}, ${max}], got ${value}`,
    );
  }
  return value;
}

/**
 * The lease manager (see the module documentation).
 *
 * @example
 * ```ts
 * import { PartitionLeases } from "./partition_leases.ts";
 * import { connectBus } from "./nats_connect.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222" });
 * const leases = await PartitionLeases.start(bus.nc, {
 *   nodeId: "ingest-1",
 *   partitions: 8,
 *   fingerprint: "p=8 n=200 sha256=…",
 *   ttlMs: 10_000, // the default
 * });
 * const gate = (p: number) => leases.held(p); // synchronous, per frame
 * gate(0);
 * await leases.release();
 * await bus.close();
 * ```
 */
export class PartitionLeases {
  /** This node's id. */
  readonly nodeId: string;
  /** The partition count P. */
  readonly partitions: number;
  /** Most partitions this node holds. */
  readonly capacity: number;
  /** Lease TTL, ms. */
  readonly ttlMs: number;
  /** Fencing margin, ms. */
  readonly marginMs: number;
  /** Counters. */
  readonly counters: LeaseCounters = {
    holds: 0,
    takeovers: 0,
    losses: 0,
    renewFailures: 0,
    releases: 0,
  };
  #kv: KV;
  #timeoutMs: number;
  #registry: NodeRegistry;
  #now: () => number;
  #onAcquire: (partition: number, epoch: number) => void;
  #onLose: (partition: number, reason: LeaseLossReason) => void;
  #leases: (Lease | undefined)[];
  #seenOther: boolean[];
  #offset: number;
  #liveNodes = 1;
  #target: number;
  #round: ReturnType<typeof setTimeout> | undefined;
  #running = true;
  #balancing = false;
  /** NATS requests of rounds in flight, awaited by a stop. */
  #inflight = new Set<Promise<unknown>>();

  private constructor(
    kv: KV,
    registry: NodeRegistry,
    options: PartitionLeasesOptions,
    ttlMs: number,
  ) {
    this.#kv = kv;
    this.#timeoutMs = options.timeoutMs ?? Math.ceil(ttlMs / 3);
    this.#registry = registry;
    this.nodeId = registry.nodeId;
    this.partitions = options.partitions;
    this.capacity = options.capacity ?? options.partitions;
    this.ttlMs = ttlMs;
    this.marginMs = options.marginMs ?? ttlMs / 5;
    this.#now = options.now ?? (() => performance.now());
    this.#onAcquire = options.onAcquire ?? (() => {});
    this.#onLose = options.onLose ?? (() => {});
    this.#leases = new Array(options.partitions).fill(undefined);
    this.#seenOther = new Array(options.partitions).fill(false);
    this.#target = this.capacity;
    this.#offset = fnv1a32(new TextEncoder().encode(this.nodeId)) % options.partitions;
  }

  /**
   * Opens the buckets, registers this node (node_registry.ts: refuses another
   * fingerprint), runs a first round (so partitions free now are held when
   * this resolves) and keeps renewing and balancing every TTL/3.
   *
   * @throws {RangeError} For invalid options (saying which and what is expected).
   * @throws {Error} When a bucket has another TTL, the node id is taken, or the
   *   fingerprint differs from a live node's.
   */
  static async start(
    nc: NatsConnection,
    options: PartitionLeasesOptions,
  ): Promise<PartitionLeases> {
    checkInt("partitions", options.partitions, 1, 65536);
    checkInt("capacity", options.capacity ?? options.partitions, 0, options.partitions);
    const ttlMs = checkInt("ttlMs", options.ttlMs ?? DEFAULT_LEASE_TTL_MS, 300, 3_600_000);
    const margin = options.marginMs ?? ttlMs / 5;
    if (!(margin > 0 && margin <= ttlMs / 2)) {
      throw new RangeError(
        `partition leases: marginMs must be in (0, ttlMs/2 = ${ttlMs / 2}], got ${margin}`,
      );
    }
    const timeoutMs = options.timeoutMs ?? Math.ceil(ttlMs / 3);
    const kv = await openTtlBucket(nc, options.bucket ?? LEASES_BUCKET, ttlMs);
    const registry = await NodeRegistry.join(nc, {
      nodeId: options.nodeId,
      fingerprint: options.fingerprint,
      capacity: options.capacity ?? options.partitions,
      ttlMs,
      timeoutMs,
      bucket: options.nodesBucket,
    });
    const leases = new PartitionLeases(kv, registry, options, ttlMs);
    await leases.#balanceOnce();
    leases.#schedule();
    return leases;
  }

  /**
   * Whether this node holds partition `p` right now (synchronous, for the
   * publisher's gate): a lease and a local deadline not yet passed. Once false
   * it stays false for that hold (a late renewal does not reopen it); a new
   * hold comes with `onAcquire` and a larger epoch.
   */
  held(p: number): boolean {
    const lease = this.#leases[p];
    return lease !== undefined && this.#now() < lease.deadline;
  }

  /** The epoch (lease revision of the take) of a held partition, else `undefined`. */
  epoch(p: number): number | undefined {
    return this.held(p) ? this.#leases[p]!.epoch : undefined;
  }

  /** The partitions held right now, ascending. */
  heldPartitions(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.partitions; p++) if (this.held(p)) out.push(p);
    return out;
  }

  /** Live nodes counted at the last balancing round (at least 1). */
  get liveNodes(): number {
    return this.#liveNodes;
  }

  /**
   * How many partitions this node aims to hold, from the last balancing round
   * (fair_share.ts over the live nodes' capacities; `ceil(P / liveNodes)` with
   * equal capacities).
   */
  get target(): number {
    return this.#target;
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#round = setTimeout(() => {
      this.#round = undefined;
      const heartbeat = this.#track(this.#registry.heartbeat().catch(() => {}));
      this.#track(this.#renewAll(heartbeat)).finally(() => this.#schedule());
      // Balancing may wait on a slow NATS: it runs beside the renewals, never before them,
      // and after the heartbeat, so that this node is among the live nodes it counts.
      this.#track(heartbeat.then(() => this.#balanceOnce()));
    }, this.ttlMs / 3);
  }

  /** Keeps `work` in the in-flight set until it settles; returns it. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#inflight.add(work);
    work.finally(() => this.#inflight.delete(work)).catch(() => {});
    return work;
  }

  /** The heartbeat and every held partition's renewal, concurrently. */
  async #renewAll(heartbeat: Promise<void>): Promise<void> {
    const renewals: Promise<void>[] = [heartbeat];
    for (let p = 0; p < this.partitions; p++) {
      const lease = this.#leases[p];
      if (lease !== undefined && !lease.renewing) renewals.push(this.#renew(p, lease));
    }
    await Promise.all(renewals);
  }

  /** One balancing pass unless one is in flight; errors (NATS unreachable) wait for the next round. */
  async #balanceOnce(): Promise<void> {
    if (this.#balancing || !this.#running) return;
    this.#balancing = true;
    try {
      await this.#balance();
    } catch {
      // NATS unreachable or slow: the next round tries again.
    } finally {
      this.#balancing = false;
    }
  }

  async #renew(p: number, lease: Lease): Promise<void> {
    lease.renewing = true;
    const sent = this.#now();
    try {
      const revision = await this.#kv.update(`p${p}`, this.nodeId, lease.revision, this.#timeoutMs);
      if (this.#leases[p] !== lease || this.#now() >= lease.deadline) {
        // Fenced (or past the deadline, the gate already closed) while the renewal was in
        // flight: a hold never reopens once closed, so free the key instead of reviving it.
        if (this.#leases[p] === lease) this.#drop(p, "expired");
        await this.#kv.delete(`p${p}`, { previousSeq: revision }).catch(() => {});
        return;
      }
      lease.revision = revision;
      this.#arm(p, lease, sent);
    } catch (e) {
      this.counters.renewFailures++;
      if (isCasRefusal(e) && this.#leases[p] === lease) this.#drop(p, "refused");
    } finally {
      lease.renewing = false;
    }
  }

  /** Sets the lease's local deadline from the send time of its last successful request. */
  #arm(p: number, lease: Lease, sent: number): void {
    lease.deadline = sent + this.ttlMs - this.marginMs;
    clearTimeout(lease.timer);
    lease.timer = setTimeout(
      () => this.#expire(p, lease),
      Math.max(0, lease.deadline - this.#now()),
    );
  }

  #expire(p: number, lease: Lease): void {
    if (this.#leases[p] !== lease) return;
    const left = lease.deadline - this.#now();
    if (left > 0) {
      lease.timer = setTimeout(() => this.#expire(p, lease), left);
      return;
    }
    this.#drop(p, "expired");
  }

  /** Fences partition `p` (no longer held), counts and reports it. Returns the dropped lease. */
  #drop(p: number, reason: LeaseLossReason): Lease | undefined {
    const lease = this.#leases[p];
    if (lease === undefined) return undefined;
    this.#leases[p] = undefined;
    clearTimeout(lease.timer);
    if (reason === "refused" || reason === "expired") this.counters.losses++;
    else this.counters.releases++;
    this.#report(() => this.#onLose(p, reason));
    return lease;
  }

  #report(call: () => void): void {
    try {
      call();
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  /** Counts live nodes, hands back the excess over the fair share, takes free partitions up to it. */
  async #balance(): Promise<void> {
    const nodes = await this.#registry.liveNodes();
    // This node counts even when its heartbeat has not landed yet (e.g. just after an outage).
    if (!nodes.some((n) => n.nodeId === this.nodeId)) {
      nodes.push({ nodeId: this.nodeId, fingerprint: "", capacity: this.capacity });
    }
    this.#liveNodes = nodes.length;
    const target = fairShare(this.partitions, nodes.map((n) => n.capacity), this.capacity);
    this.#target = target;
    let count = this.heldPartitions().length;
    for (let i = this.partitions - 1; i >= 0 && count > target; i--) {
      const p = (this.#offset + i) % this.partitions;
      if (!this.held(p)) continue;
      const lease = this.#drop(p, "rebalanced")!;
      count--;
      await this.#kv.delete(`p${p}`, { previousSeq: lease.revision }).catch(() => {});
    }
    // The lease keys present now: tried no `create` on them, and noted as held by another
    // node (for the takeover counter) unless held here.
    const taken = await listKeys(this.#kv);
    for (let p = 0; p < this.partitions; p++) {
      if (this.#leases[p] === undefined && taken.has(`p${p}`)) this.#seenOther[p] = true;
    }
    for (let i = 0; i < this.partitions && count < target && this.#running; i++) {
      const p = (this.#offset + i) % this.partitions;
      if (this.#leases[p] !== undefined || taken.has(`p${p}`)) continue;
      if (await this.#take(p)) count++;
    }
  }

  /** Tries to take partition `p` with `create`; true when taken. */
  async #take(p: number): Promise<boolean> {
    const sent = this.#now();
    let revision: number;
    try {
      revision = await this.#kv.create(`p${p}`, this.nodeId);
    } catch (e) {
      if (isCasRefusal(e)) this.#seenOther[p] = true;
      return false;
    }
    if (!this.#running || this.#leases[p] !== undefined) {
      await this.#kv.delete(`p${p}`, { previousSeq: revision }).catch(() => {});
      return false;
    }
    const lease: Lease = {
      revision,
      epoch: revision,
      deadline: 0,
      timer: undefined,
      renewing: false,
    };
    this.#leases[p] = lease;
    this.#arm(p, lease, sent);
    this.counters.holds++;
    if (this.#seenOther[p]) this.counters.takeovers++;
    this.#seenOther[p] = false;
    this.#report(() => this.#onAcquire(p, revision));
    return true;
  }

  #stopRounds(): void {
    this.#running = false;
    if (this.#round !== undefined) clearTimeout(this.#round);
    this.#round = undefined;
  }

  /**
   * Clean stop: stops renewing, fences every held partition at once
   * (`onLose(p, "released")`), waits for a round in flight, then deletes the
   * keys and this node's registration, so other nodes take the partitions on
   * their next round.
   */
  async release(): Promise<void> {
    this.#stopRounds();
    const dropped: [number, Lease][] = [];
    for (let p = 0; p < this.partitions; p++) {
      const lease = this.#drop(p, "released");
      if (lease !== undefined) dropped.push([p, lease]);
    }
    // A heartbeat landing after `leave` would register this node again for a TTL.
    await this.#settle();
    await Promise.all(
      dropped.map(([p, lease]) =>
        this.#kv.delete(`p${p}`, { previousSeq: lease.revision }).catch(() => {})
      ),
    );
    await this.#registry.leave().catch(() => {});
  }

  /**
   * Stop without touching NATS (e.g. when it is unreachable at shutdown):
   * stops renewing and fences every held partition at once; the keys expire
   * on the server after the TTL.
   */
  async abandon(): Promise<void> {
    this.#stopRounds();
    for (let p = 0; p < this.partitions; p++) this.#drop(p, "released");
    await this.#settle();
  }

  /** Waits until no round's request is in flight any more (each ends within its timeout). */
  async #settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }
}
