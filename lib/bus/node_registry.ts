/**
 * The registry of live nodes in the KV bucket `dw_v1_nodes` (docs/design.md
 * §10): each node keeps a key named by its node id, with its cluster
 * fingerprint and capacity as value (JSON `{"fingerprint", "capacity"}`),
 * alive by a `put` every heartbeat; the bucket's TTL (the lease TTL) removes
 * a dead node's key. The lease manager reads the live nodes' capacities for
 * its fair share (fair_share.ts), and a node started with another universe or
 * P (another fingerprint) than the live nodes refuses to join.
 *
 * @example
 * ```ts
 * import { NodeRegistry } from "./node_registry.ts";
 * import { connectBus } from "./nats_connect.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222" });
 * const registry = await NodeRegistry.join(bus.nc, {
 *   nodeId: "ingest-1",
 *   fingerprint: "p=8 n=2 sha256=…",
 *   capacity: 8,
 *   ttlMs: 10_000,
 * });
 * await registry.liveNodes(); // [{ nodeId: "ingest-1", fingerprint: "p=8 n=2 sha256=…", capacity: 8 }, …]
 * await registry.leave();
 * ```
 * @module
 */
import { type NatsConnection, TimeoutError } from "@nats-io/nats-core";
import { type KV, Kvm } from "@nats-io/kv";

/** Default name of the node registry bucket. */
export const NODES_BUCKET = "dw_v1_nodes";

/** Node ids: also KV keys and subject tokens, so letters, digits, `_` and `-` only. */
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Checks a node id (1–64 of `A–Z a–z 0–9 _ -`) and returns it.
 *
 * @throws {TypeError} Saying what was wrong and what is expected.
 *
 * @example
 * ```ts
 * import { checkNodeId } from "./node_registry.ts";
 *
 * checkNodeId("ingest-1"); // "ingest-1"
 * ```
 */
export function checkNodeId(nodeId: string): string {
  if (typeof nodeId !== "string" || !NODE_ID.test(nodeId)) {
    throw new TypeError(
      `bus: node id ${JSON.stringify(nodeId)} is not valid; expected 1 to 64 characters of ` +
        `A-Z, a-z, 0-9, "_" and "-" (it is a KV key and a subject token)`,
    );
  }
  return nodeId;
}

/** Longest a listing of the live nodes may take before it counts as failed, ms. */
const LIST_TIMEOUT_MS = 5000;

/** How long start-up requests (bucket creation, registration) are retried after timeouts, ms. */
export const START_RETRY_MS = 30_000;

/**
 * Whether `e` is a request that timed out (NATS slow or briefly away).
 *
 * @example
 * ```ts
 * import { isTimeout } from "./node_registry.ts";
 *
 * isTimeout(new Error("wrong last sequence: 7")); // false
 * ```
 */
export function isTimeout(e: unknown): boolean {
  return e instanceof TimeoutError || (e instanceof Error && e.name === "TimeoutError");
}

/**
 * Opens (creating it if missing, file-backed, one value per key) a KV bucket
 * whose keys expire after `ttlMs`, and refuses one that exists with another
 * TTL: the lease fencing depends on every node and the server agreeing on it.
 * Requests that time out are retried for up to {@linkcode START_RETRY_MS}
 * (a loaded server can take seconds to create a stream).
 *
 * @throws {Error} When the bucket's TTL differs from `ttlMs`, or NATS does not answer.
 *
 * @example
 * ```ts
 * import { openTtlBucket } from "./node_registry.ts";
 * import { connectBus } from "./nats_connect.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222" });
 * const kv = await openTtlBucket(bus.nc, "dw_v1_leases", 10_000);
 * ```
 */
export async function openTtlBucket(nc: NatsConnection, name: string, ttlMs: number): Promise<KV> {
  const kvm = new Kvm(nc);
  const giveUp = performance.now() + START_RETRY_MS;
  for (;;) {
    try {
      let kv: KV;
      try {
        kv = await kvm.create(name, { ttl: ttlMs, history: 1 });
      } catch (e) {
        if (isTimeout(e)) throw e;
        // An existing bucket with another configuration: open it to say what differs.
        kv = await kvm.open(name).catch(() => {
          throw e;
        });
      }
      const status = await kv.status();
      if (status.ttl !== ttlMs) {
        throw new Error(
          `bus: KV bucket ${name} has a TTL of ${status.ttl} ms, this node expects ${ttlMs} ms; ` +
            `expected every node to run with the same lease TTL (or remove the bucket when all nodes are stopped)`,
        );
      }
      return kv;
    } catch (e) {
      if (!isTimeout(e) || performance.now() > giveUp) throw e;
    }
  }
}

/** Options of {@linkcode NodeRegistry.join}. */
export interface NodeRegistryOptions {
  /** This node's id, unique among running nodes (see {@linkcode checkNodeId}). Required. */
  nodeId: string;
  /** This node's cluster fingerprint (partition_map.ts `clusterFingerprint`). Required. */
  fingerprint: string;
  /** Most partitions this node holds (published for the others' fair share). Required. */
  capacity: number;
  /** Key lifetime without a heartbeat, ms (the lease TTL). Required. */
  ttlMs: number;
  /** Timeout of a heartbeat `put`, ms. Default `ttlMs / 3`. */
  timeoutMs?: number;
  /** Bucket name. Default {@linkcode NODES_BUCKET}. */
  bucket?: string;
  /** How often `join` retries while a node with the same id is registered, ms. Default `ttlMs / 4`. */
  retryMs?: number;
}

/** A live node as registered (see the module documentation). */
export interface NodeInfo {
  /** The node's id. */
  nodeId: string;
  /** Its cluster fingerprint. */
  fingerprint: string;
  /** Most partitions it holds. */
  capacity: number;
}

/** Parses a registry value; a value this version cannot read counts as capacity 0 and its raw text as fingerprint. */
function parseInfo(nodeId: string, text: string): NodeInfo {
  try {
    const v = JSON.parse(text);
    if (typeof v?.fingerprint === "string" && Number.isInteger(v?.capacity) && v.capacity >= 0) {
      return { nodeId, fingerprint: v.fingerprint, capacity: v.capacity };
    }
  } catch { /* fall through */ }
  return { nodeId, fingerprint: text, capacity: 0 };
}

/**
 * This node's entry in the node registry (see the module documentation).
 *
 * @example
 * ```ts
 * import { NodeRegistry } from "./node_registry.ts";
 * import { connectBus } from "./nats_connect.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222" });
 * const registry = await NodeRegistry.join(bus.nc, {
 *   nodeId: "ingest-2",
 *   fingerprint: "p=8 n=200 sha256=…",
 *   capacity: 4,
 *   ttlMs: 10_000,
 * });
 * await registry.heartbeat();
 * (await registry.liveNodes()).length; // 1 or more
 * await registry.leave();
 * ```
 */
export class NodeRegistry {
  /** This node's id. */
  readonly nodeId: string;
  /** This node's cluster fingerprint. */
  readonly fingerprint: string;
  /** This node's capacity. */
  readonly capacity: number;
  #kv: KV;
  #timeoutMs: number;
  #value: string;

  private constructor(kv: KV, options: NodeRegistryOptions, timeoutMs: number) {
    this.#kv = kv;
    this.#timeoutMs = timeoutMs;
    this.nodeId = options.nodeId;
    this.fingerprint = options.fingerprint;
    this.capacity = options.capacity;
    this.#value = JSON.stringify({ fingerprint: options.fingerprint, capacity: options.capacity });
  }

  /**
   * Registers this node: creates its key (waiting up to two TTLs while a key of
   * the same id is still there, e.g. of this node's own previous run that
   * crashed), then compares the fingerprints of all live nodes with its own.
   *
   * @throws {Error} When the id stays taken for two TTLs, or a live node has another fingerprint
   *   (this node's key is removed again before throwing).
   */
  static async join(nc: NatsConnection, options: NodeRegistryOptions): Promise<NodeRegistry> {
    const nodeId = checkNodeId(options.nodeId);
    const ttlMs = options.ttlMs;
    const bucket = options.bucket ?? NODES_BUCKET;
    const timeoutMs = options.timeoutMs ?? Math.ceil(ttlMs / 3);
    const kv = await openTtlBucket(nc, bucket, ttlMs);
    const registry = new NodeRegistry(kv, options, timeoutMs);
    const giveUp = performance.now() + ttlMs * 2;
    const timeoutsGiveUp = performance.now() + START_RETRY_MS;
    for (;;) {
      try {
        await kv.create(nodeId, registry.#value);
        break;
      } catch (e) {
        if (isTimeout(e) && performance.now() < timeoutsGiveUp) continue;
        if (!isCasRefusal(e)) throw e;
        if (performance.now() > giveUp) {
          throw new Error(
            `bus: node id ${nodeId} is registered in ${bucket} by a live node; ` +
              `expected a node id unique among running nodes`,
          );
        }
        await new Promise((r) => setTimeout(r, options.retryMs ?? ttlMs / 4));
      }
    }
    let live: NodeInfo[];
    for (;;) {
      try {
        live = await registry.liveNodes();
        break;
      } catch (e) {
        if (isTimeout(e) && performance.now() < timeoutsGiveUp) continue;
        await registry.leave().catch(() => {});
        throw e;
      }
    }
    const differing = live.filter((n) => n.fingerprint !== options.fingerprint);
    if (differing.length > 0) {
      await registry.leave().catch(() => {});
      const { nodeId: id, fingerprint: f } = differing[0];
      throw new Error(
        `bus: live node ${id} runs with cluster ${JSON.stringify(f)}, this node with ` +
          `${JSON.stringify(options.fingerprint)}; expected the same --symbols universe and ` +
          `partition count on every node`,
      );
    }
    return registry;
  }

  /** Keeps this node's key alive (call at least once per TTL; the lease manager does it every TTL/3). */
  async heartbeat(): Promise<void> {
    await this.#kv.put(this.nodeId, this.#value, { timeout: this.#timeoutMs });
  }

  /**
   * The nodes whose keys are alive (their values read in parallel), this
   * node's included when its heartbeat is current.
   *
   * @throws {Error} When the listing does not finish within the request timeout
   *   (a partial list would undercount the nodes).
   */
  async liveNodes(): Promise<NodeInfo[]> {
    const list = [...await listKeys(this.#kv)];
    const entries = await Promise.all(list.map((id) => this.#kv.get(id)));
    const nodes: NodeInfo[] = [];
    for (const [i, entry] of entries.entries()) {
      if (entry !== null && entry.operation === "PUT") {
        nodes.push(parseInfo(list[i], entry.string()));
      }
    }
    return nodes;
  }

  /** Removes this node's key (clean stop). */
  async leave(): Promise<void> {
    await this.#kv.delete(this.nodeId);
  }
}

/**
 * The keys of a KV bucket that hold a value (deleted ones left out), as a Set:
 * the listing's ordered consumer may deliver a key again after a reset.
 *
 * @throws {Error} When the listing does not finish within 5 s (a partial
 *   listing would undercount).
 *
 * @example
 * ```ts
 * import { listKeys, openTtlBucket } from "./node_registry.ts";
 * import { connectBus } from "./nats_connect.ts";
 *
 * const bus = await connectBus({ url: "nats://127.0.0.1:4222" });
 * const keys = await listKeys(await openTtlBucket(bus.nc, "dw_v1_leases", 10_000));
 * keys.has("p0"); // whether some node holds partition 0
 * ```
 */
export async function listKeys(kv: KV): Promise<Set<string>> {
  const ids = new Set<string>();
  const keys = await kv.keys();
  let late = false;
  const guard = setTimeout(() => {
    late = true;
    keys.stop();
  }, LIST_TIMEOUT_MS);
  try {
    for await (const id of keys) ids.add(id);
  } finally {
    clearTimeout(guard);
  }
  if (late) {
    throw new Error(
      `bus: listing KV keys took over ${LIST_TIMEOUT_MS} ms; expected NATS to answer`,
    );
  }
  return ids;
}

/**
 * Whether a KV error is the server refusing a compare-and-set (`create` of a
 * key that exists, `update` with a stale revision).
 *
 * @example
 * ```ts
 * import { isCasRefusal } from "./node_registry.ts";
 *
 * isCasRefusal(new Error("wrong last sequence: 7")); // true
 * ```
 */
export function isCasRefusal(e: unknown): boolean {
  return e instanceof Error && /wrong last sequence/i.test(e.message);
}
