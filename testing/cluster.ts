/**
 * A depthwatch cluster on one machine, every part its own process, for the
 * end-to-end tests and benchmarks of the NATS bus (issue 16, docs/design.md §10):
 *
 * - one simulated exchange (`lib/sim/sim_main.ts`, started by
 *   `spawnExchange` of `testing/footprint_processes.ts`) that **every** node
 *   connects to (`--source binance --binance-ws-url … --binance-rest-url …`),
 *   so a node taking over a partition continues the same market, not another
 *   simulation;
 * - with `nats: true` (the default) a real nats-server with JetStream in a
 *   temporary store (`testing/nats_server.ts`; {@link Cluster.nats} kills and
 *   restarts it on the same port and store);
 * - nodes (`main.ts`, `testing/service_process.ts` `spawnService`) started,
 *   killed (`kill -9`), stopped and restarted under their node id with
 *   {@link Cluster.addNode}, {@link Cluster.kill}, {@link Cluster.stopNode},
 *   {@link Cluster.restartNode}.
 *
 * Node flags follow the issue-16 wiring contract: `--bus <nats url>
 * --role all|ingest|dashboard --node-id ID --partitions P --lease-ttl MS
 * [--capacity N]`, the same universe (`--symbols`), P and TTL on every node.
 * Without NATS a node gets none of them (today's single process, `--bus
 * memory` by default). Credentials go through the environment only
 * ({@link ClusterOptions.env}, e.g. `DEPTHWATCH_NATS_TOKEN`).
 *
 * {@link readBusStats} reads a node's `/stats` `bus` object, {@link readHealth}
 * its `/health`; {@link eventually} polls a condition with a hang guard.
 *
 * @example
 * ```ts ignore
 * import { Cluster, readBusStats } from "./cluster.ts";
 * const cluster = await Cluster.start({ symbols: 200, leaseTtlMs: 3000 });
 * try {
 *   const a = await cluster.addNode({ role: "ingest", nodeId: "ingest-a" });
 *   const b = await cluster.addNode({ role: "ingest", nodeId: "ingest-b" });
 *   const dash = await cluster.addNode({ role: "dashboard", nodeId: "dash-a" });
 *   console.log((await readBusStats(a.url)).owned, (await readBusStats(b.url)).owned, dash.url);
 *   await cluster.kill("ingest-a"); // kill -9
 *   await cluster.nats!.kill();
 *   await cluster.nats!.restart();
 * } finally {
 *   await cluster.stop();
 * }
 * ```
 * @module
 */

import { type ExchangeProcess, spawnExchange } from "./footprint_processes.ts";
import { type NatsServerProcess, startNatsServer } from "./nats_server.ts";
import { type ServiceProcess, spawnService } from "./service_process.ts";

/** A node's role (`--role`). */
export type NodeRole = "all" | "ingest" | "dashboard";

/** The `bus` object of a node's `GET /stats` (NATS mode only; the issue-16 contract). */
export interface BusStats {
  /** The NATS URL the node uses. */
  url: string;
  /** Its role. */
  role: NodeRole;
  /** Its node id. */
  nodeId: string;
  /** Connected to NATS now. */
  connected: boolean;
  /** P, the partition count. */
  partitions: number;
  /** Indexes of the partitions this node holds a lease on. */
  owned: number[];
  /** Symbols of the owned partitions. */
  ownedSymbols: unknown;
  /** Frames published on the bus. */
  published: number;
  /** Frames not published because the node did not hold the partition (fencing). */
  fenced: number;
  /** Frames that could not be published (NATS unreachable). */
  publishFailed: number;
  /** Frames received from the bus. */
  received: number;
  /** Frames dropped on receipt, by reason. */
  dropped: { staleEpoch: number; own: number };
  /** Symbols subscribed on the bus. */
  subscribed: unknown;
  /** Reconnects to NATS. */
  reconnects: number;
  /** Lease events. */
  leases: { holds: number; takeovers: number; losses: number; releases: number };
}

/** Options of {@link Cluster.start}. */
export interface ClusterOptions {
  /**
   * The symbol universe: a count (names from {@link simSymbols}) or lower-case
   * names. Default 20.
   */
  symbols?: number | readonly string[];
  /** Frames per second per symbol the simulated exchange sends. Default 2. */
  rate?: number;
  /** Start a nats-server and run the nodes with `--bus <its url>`. Default true. */
  nats?: boolean;
  /** `--partitions` of every node (NATS only). Default 16. */
  partitions?: number;
  /** `--lease-ttl` of every node in ms (NATS only). Default 10000. */
  leaseTtlMs?: number;
  /** Environment of every node (e.g. `DEPTHWATCH_NATS_TOKEN`). Default none. */
  env?: Record<string, string>;
  /** Give up when a process has not started within this many ms. Default 90000. */
  startTimeoutMs?: number;
}

/** Options of {@link Cluster.addNode}. */
export interface NodeOptions {
  /** `--role` (NATS only). Default `"all"`. */
  role?: NodeRole;
  /** `--node-id` (NATS only), also the node's name in the cluster. Default `<role>-<n>`. */
  nodeId?: string;
  /** `--capacity` (NATS only). Default: the flag left out (all partitions). */
  capacity?: number;
  /** More `main.ts` flags, e.g. `["--max-clients", "100"]`. Default `[]`. */
  args?: readonly string[];
  /** More environment of this node (over {@link ClusterOptions.env}). Default none. */
  env?: Record<string, string>;
}

/** A node of a {@link Cluster}. */
export interface ClusterNode {
  /** Its node id (the cluster's name for it, also without NATS). */
  readonly nodeId: string;
  /** Its role. */
  readonly role: NodeRole;
  /** Its process; a new one after {@link Cluster.restartNode}. */
  readonly process: ServiceProcess;
  /** Base URL, e.g. `http://127.0.0.1:41234/` (a new port after a restart). */
  readonly url: string;
  /** Stopped or killed by the cluster (an exit is then expected). */
  readonly stopped: boolean;
}

interface NodeEntry {
  nodeId: string;
  role: NodeRole;
  options: NodeOptions;
  process: ServiceProcess;
  url: string;
  stopped: boolean;
}

/**
 * `count` simulated symbol names, lower-case: `sim000usdt`, `sim001usdt`, ….
 *
 * @example
 * ```ts
 * import { simSymbols } from "./cluster.ts";
 * simSymbols(2); // ["sim000usdt", "sim001usdt"]
 * ```
 */
export function simSymbols(count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    throw new RangeError(`simSymbols: count must be an integer in [1, 100000], got ${count}`);
  }
  const width = Math.max(3, String(count - 1).length);
  return Array.from({ length: count }, (_, i) => `sim${String(i).padStart(width, "0")}usdt`);
}

/** See the module doc. */
export class Cluster {
  /** The symbol universe, lower-case, as every node gets it in `--symbols`. */
  readonly symbols: readonly string[];
  /** The simulated exchange every node connects to. */
  readonly exchange: ExchangeProcess;
  /** The nats-server, undefined with `nats: false`. */
  readonly nats: NatsServerProcess | undefined;
  /** `--partitions` of every node. */
  readonly partitions: number;
  /** `--lease-ttl` of every node, ms. */
  readonly leaseTtlMs: number;
  readonly #options: ClusterOptions;
  readonly #nodes = new Map<string, NodeEntry>();

  private constructor(
    options: ClusterOptions,
    symbols: readonly string[],
    exchange: ExchangeProcess,
    nats: NatsServerProcess | undefined,
  ) {
    this.#options = options;
    this.symbols = symbols;
    this.exchange = exchange;
    this.nats = nats;
    this.partitions = options.partitions ?? 16;
    this.leaseTtlMs = options.leaseTtlMs ?? 10_000;
  }

  /**
   * Start the simulated exchange and (unless `nats: false`) a nats-server;
   * no nodes yet ({@link addNode}).
   *
   * @throws Error when either does not start (e.g. `nats-server` is not installed).
   */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const given = options.symbols ?? 20;
    const symbols = typeof given === "number"
      ? simSymbols(given)
      : given.map((s) => s.toLowerCase());
    const exchange = await spawnExchange({
      symbols,
      rate: options.rate ?? 2,
      startTimeoutMs: options.startTimeoutMs ?? 90_000,
    });
    let nats: NatsServerProcess | undefined;
    try {
      if (options.nats ?? true) nats = await startNatsServer();
    } catch (e) {
      await exchange.stop();
      throw e;
    }
    return new Cluster(options, symbols, exchange, nats);
  }

  /** The nodes, in the order they were added. */
  get nodes(): readonly ClusterNode[] {
    return [...this.#nodes.values()].map((n) => this.#view(n));
  }

  /**
   * The node named `nodeId`.
   *
   * @throws Error naming the known nodes when there is none by that id.
   */
  node(nodeId: string): ClusterNode {
    return this.#view(this.#entry(nodeId));
  }

  /**
   * The `main.ts` flags a node with `options` starts with (after the exchange's and
   * `--port 0 --log-level warn`): `--symbols`, then the bus flags with NATS, then
   * `options.args`.
   *
   * @example
   * ```ts ignore
   * cluster.nodeArgs({ role: "ingest", nodeId: "a" });
   * // ["--symbols", "sim000usdt,…", "--bus", "nats://127.0.0.1:4222", "--role", "ingest", …]
   * ```
   */
  nodeArgs(options: NodeOptions & { nodeId: string }): string[] {
    const args = ["--symbols", this.symbols.join(",")];
    if (this.nats !== undefined) {
      args.push(
        "--bus",
        this.nats.url,
        "--role",
        options.role ?? "all",
        "--node-id",
        options.nodeId,
        "--partitions",
        String(this.partitions),
        "--lease-ttl",
        String(this.leaseTtlMs),
      );
      if (options.capacity !== undefined) args.push("--capacity", String(options.capacity));
    }
    return [...args, ...(options.args ?? [])];
  }

  /**
   * Start a node and wait until it listens.
   *
   * @throws Error when a node by that id runs already, or the node exits or stays silent.
   */
  async addNode(options: NodeOptions = {}): Promise<ClusterNode> {
    const role = options.role ?? "all";
    const nodeId = options.nodeId ?? `${role}-${this.#nodes.size + 1}`;
    const old = this.#nodes.get(nodeId);
    if (old !== undefined && !old.stopped) {
      throw new Error(`cluster: node ${nodeId} runs already; stop it first or choose another id`);
    }
    const entry: NodeEntry = {
      nodeId,
      role,
      options: { ...options, role, nodeId },
      ...(await this.#spawn({ ...options, role, nodeId })),
      stopped: false,
    };
    this.#nodes.set(nodeId, entry);
    return this.#view(entry);
  }

  /** Send `signal` (default `SIGKILL`, a crash) to a node and wait until it has exited. */
  async kill(nodeId: string, signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const entry = this.#entry(nodeId);
    entry.stopped = true;
    await entry.process.kill(signal);
  }

  /** Stop a node the way systemd does (SIGTERM, SIGKILL after 10 s) and wait until it has exited. */
  async stopNode(nodeId: string): Promise<void> {
    const entry = this.#entry(nodeId);
    entry.stopped = true;
    await entry.process.stop(10_000);
  }

  /**
   * Start a stopped or killed node again under the same id and flags (a new
   * HTTP port). A node restarted right after a crash waits for its old lease
   * keys to expire (design §10), so its leases come later.
   *
   * @throws Error when the node still runs.
   */
  async restartNode(nodeId: string): Promise<ClusterNode> {
    const entry = this.#entry(nodeId);
    if (!entry.stopped) {
      throw new Error(`cluster: node ${nodeId} still runs; kill or stop it first`);
    }
    Object.assign(entry, await this.#spawn(entry.options as NodeOptions & { nodeId: string }));
    entry.stopped = false;
    return this.#view(entry);
  }

  /**
   * Nodes that exited without being stopped or killed by the cluster, each as
   * `<id> exited with code N` and its log's tail: empty while all is well.
   */
  unexpectedExits(): string[] {
    const out: string[] = [];
    for (const n of this.#nodes.values()) {
      const code = n.process.exitCode();
      if (!n.stopped && code !== null) {
        out.push(`${n.nodeId} exited with code ${code}; its log ends:\n${n.process.stderrTail()}`);
      }
    }
    return out;
  }

  /** Stop every node, the exchange and the nats-server (and remove its store). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.#nodes.values()].map((n) => {
      n.stopped = true;
      return n.process.stop(5000);
    }));
    await Promise.allSettled([this.exchange.stop(), this.nats?.stop()]);
  }

  async #spawn(options: NodeOptions & { nodeId: string }): Promise<{
    process: ServiceProcess;
    url: string;
  }> {
    const process = await spawnService({
      exchange: this.exchange,
      args: this.nodeArgs(options),
      env: { ...this.#options.env, ...options.env },
      startTimeoutMs: this.#options.startTimeoutMs ?? 90_000,
    });
    return { process, url: process.url };
  }

  #entry(nodeId: string): NodeEntry {
    const entry = this.#nodes.get(nodeId);
    if (entry === undefined) {
      throw new Error(
        `cluster: no node ${nodeId}; expected one of ${
          [...this.#nodes.keys()].join(", ") || "none"
        }`,
      );
    }
    return entry;
  }

  #view(n: NodeEntry): ClusterNode {
    return {
      nodeId: n.nodeId,
      role: n.role,
      process: n.process,
      url: n.url,
      stopped: n.stopped,
    };
  }
}

/**
 * A node's `GET /stats?symbols=none` document (without the per-symbol map).
 *
 * @throws Error with the status and body when it does not answer 200.
 * @example
 * ```ts ignore
 * const stats = await readStats(node.url);
 * console.log(stats.feeds);
 * ```
 */
export async function readStats(baseUrl: string): Promise<Record<string, unknown>> {
  const res = await fetch(new URL("stats?symbols=none", baseUrl));
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(
      `GET ${baseUrl}stats answered ${res.status}, expected 200: ${text.slice(0, 300)}`,
    );
  }
  return JSON.parse(text);
}

/**
 * The `bus` object of a node's `/stats` (see {@link BusStats}).
 *
 * @throws Error when `/stats` fails or has no `bus` (a node with `--bus memory`).
 * @example
 * ```ts ignore
 * const bus = await readBusStats(node.url);
 * console.log(bus.owned, bus.leases.takeovers);
 * ```
 */
export async function readBusStats(baseUrl: string): Promise<BusStats> {
  const stats = await readStats(baseUrl);
  const bus = stats.bus as BusStats | undefined;
  if (bus === undefined || bus === null || typeof bus !== "object") {
    throw new Error(
      `GET ${baseUrl}stats has no bus object: expected a node started with --bus nats://…`,
    );
  }
  return bus;
}

/**
 * A node's `GET /health`: its status code and JSON body.
 *
 * @example
 * ```ts ignore
 * const { status } = await readHealth(node.url);
 * console.log(status === 200 ? "healthy" : "not healthy");
 * ```
 */
export async function readHealth(baseUrl: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL("health", baseUrl));
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON: keep the text */ }
  return { status: res.status, body };
}

/**
 * Poll `check` every `intervalMs` (default 200) until it returns true; fail
 * naming `what` after `timeoutMs` (a hang guard, default 60000, not a
 * performance threshold). A check that throws counts as false (a node
 * restarting does not answer); the last error is in the failure's message.
 *
 * @example
 * ```ts
 * import { eventually } from "./cluster.ts";
 * let n = 0;
 * await eventually("three polls", () => ++n >= 3, { intervalMs: 1 });
 * ```
 */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (true) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= end) break;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
  const why = last === undefined ? "" : `; last error: ${(last as Error).message ?? last}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}
