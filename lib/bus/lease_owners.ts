/**
 * A read-only view of who owns each partition, for nodes that do not take
 * leases themselves (a dashboard node's `/health`: "a watched symbol has no
 * owner", docs/design.md §10). It reads the lease keys `p<index>` of
 * `dw_v1_leases` every poll interval; a KV watch would not do, since keys
 * removed by the bucket's TTL produce no watch notification.
 *
 * A key that is present counts as owned even in the last TTL-margin of a
 * dead node's lease (the node already fenced itself): the view is for health
 * and operators, not for fencing.
 *
 * @example
 * ```ts
 * import { connectBus } from "./nats_connect.ts";
 * import { LeaseOwners } from "./lease_owners.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222" });
 * const owners = await LeaseOwners.open(bus.nc, { partitions: 8 });
 * owners.owner(3); // "ingest-1", or undefined when nobody holds partition 3
 * owners.unowned(); // e.g. [] when every partition has an owner
 * await owners.close();
 * await bus.close();
 * ```
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { type KV, Kvm } from "@nats-io/kv";
import { DEFAULT_LEASE_TTL_MS, LEASES_BUCKET } from "./partition_leases.ts";

/** Options of {@linkcode LeaseOwners.open}. */
export interface LeaseOwnersOptions {
  /** The partition count P. Required. */
  partitions: number;
  /** How often the keys are read, ms. Default 1/3 of the default lease TTL (3334). */
  pollMs?: number;
  /** Lease bucket. Default `dw_v1_leases`. */
  bucket?: string;
}

/** The partition owners as last read (see the module documentation). */
export class LeaseOwners {
  /** The partition count P. */
  readonly partitions: number;
  /** Polls that failed (NATS unreachable, or the bucket does not exist yet). */
  pollFailures = 0;
  #nc: NatsConnection;
  #bucket: string;
  #kv: KV | undefined;
  #owners: (string | undefined)[];
  #timer: ReturnType<typeof setInterval>;
  #polling: Promise<void> | undefined;
  #closed = false;

  private constructor(nc: NatsConnection, options: LeaseOwnersOptions, pollMs: number) {
    this.#nc = nc;
    this.partitions = options.partitions;
    this.#bucket = options.bucket ?? LEASES_BUCKET;
    this.#owners = new Array(options.partitions).fill(undefined);
    this.#timer = setInterval(() => void this.refresh(), pollMs);
  }

  /**
   * Reads the owners once (failures are counted, not thrown: before the first
   * ingest node created the bucket every partition is unowned) and keeps
   * reading them every `pollMs`.
   *
   * @throws {RangeError} When `partitions` is not an integer in [1, 65536].
   */
  static async open(nc: NatsConnection, options: LeaseOwnersOptions): Promise<LeaseOwners> {
    const p = options.partitions;
    if (!Number.isInteger(p) || p < 1 || p > 65536) {
      throw new RangeError(`lease owners: partitions must be an integer in [1, 65536], got ${p}`);
    }
    const owners = new LeaseOwners(
      nc,
      options,
      options.pollMs ?? Math.ceil(DEFAULT_LEASE_TTL_MS / 3),
    );
    await owners.refresh();
    return owners;
  }

  /** The node holding partition `p` at the last read, or `undefined`. */
  owner(p: number): string | undefined {
    return this.#owners[p];
  }

  /** The partitions without an owner at the last read, ascending. */
  unowned(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.partitions; p++) if (this.#owners[p] === undefined) out.push(p);
    return out;
  }

  /**
   * Reads every partition's key now (one `get` each, in parallel); while a
   * read is in flight, waits for it instead. A failed read keeps the owners
   * of the last successful one.
   */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#polling ??= this.#read().finally(() => this.#polling = undefined);
    return this.#polling;
  }

  async #read(): Promise<void> {
    try {
      this.#kv ??= await new Kvm(this.#nc).open(this.#bucket);
      const kv = this.#kv;
      const entries = await Promise.all(
        this.#owners.map((_, p) => kv.get(`p${p}`)),
      );
      for (const [p, entry] of entries.entries()) {
        this.#owners[p] = entry !== null && entry.operation === "PUT" ? entry.string() : undefined;
      }
    } catch {
      this.pollFailures++;
      this.#kv = undefined;
    }
  }

  /** Stops polling (waits for a read in flight). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#polling;
  }
}
