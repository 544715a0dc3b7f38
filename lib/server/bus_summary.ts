/**
 * The market overview of a dashboard node (issue 16, docs/design.md §10
 * "Overview on dashboard nodes"): a dashboard node has no pipeline, so it
 * builds the overview's once-a-second `ServerMessage { summary }` by merging
 * the summaries the ingest nodes publish (each its own
 * `MarketSummaryBuilder.build` bytes, on `dw.v1.sum.binance.<nodeId>`). Every
 * node's summary covers the whole universe, but only the rows of the symbols
 * it owns mean anything, so each row is taken from the summary of the
 * symbol's _current_ lease owner (`ownerOf`, from `lib/bus/lease_owners.ts`).
 *
 * Rules of the merge, per symbol:
 * - {@linkcode BusSummary.accept} copies, from a node's summary, the rows of
 *   the symbols `ownerOf` names that node for; the node's rows of symbols it
 *   no longer owns are dropped then. So a row always comes from the newest
 *   summary of the node that owned the symbol when it arrived.
 * - {@linkcode BusSummary.build} shows a row only when its node is the
 *   symbol's owner now and that node's newest summary arrived at most
 *   `maxAgeMs` ago (by the receiving clock). Otherwise — no owner, an owner
 *   whose summary has not arrived since it took the symbol, or an owner
 *   silent for longer than `maxAgeMs` — the row is NaN with feed state
 *   Connecting: a stale price is never presented as a fresh one.
 * - `age_ms` is re-based on the receiving clock: the age at the source plus
 *   the time since the source's `server_time`, measured as
 *   `max(now − server_time, now − received)`. With synchronised clocks that
 *   is exactly the time since the source built the summary (the bus transit
 *   included). A receiving clock _behind_ the source's would make
 *   `now − server_time` too small (even negative), so it is never taken
 *   below the time since the summary arrived, which uses one clock only;
 *   a receiving clock _ahead_ overstates ages by the skew: ages err towards
 *   old, never towards fresh. The `maxAgeMs` cut uses the receiving clock
 *   only (`now − received`), so a skewed clock can never blank the overview;
 *   the skew plus transit is shown by {@linkcode BusSummary.lagMs}.
 *
 * The merged summary has the columns and encoding of the local one (both are
 * written by `summary_writer.ts`), the dashboard hub's epoch and its own seq.
 * Per-symbol state lives in typed arrays sized once (55 B per symbol, plus
 * the newest merged summary kept, 45 B per symbol); decoding a received
 * summary (one a second per ingest node) uses the generated schema and
 * allocates.
 *
 * `accept` and `build` take their times from the same clock (`Date.now()` by
 * default for `accept`). A node that both ingests and serves (`--role all`
 * in a cluster) merges its own summary like any other node's (handing it to
 * `accept` directly and receiving it from the bus too is harmless: the
 * second copy is refused as out of order).
 *
 * @example
 * ```ts
 * import { FrameSlotLayout, FRAME_MID, FRAME_SYMBOL_ID } from "../pipeline/frame_slot.ts";
 * import { HistoryStore } from "./history_store.ts";
 * import { MarketSummaryBuilder } from "./market_summary.ts";
 * import { BusSummary } from "./bus_summary.ts";
 *
 * // An ingest node "a" holding symbol 1 of 2 builds its summary …
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const history = new HistoryStore({ symbols: 2, layout });
 * const frame = new Float64Array(layout.slotWords);
 * frame[FRAME_SYMBOL_ID] = 1;
 * frame[FRAME_MID] = 3000.5;
 * history.push(frame);
 * const now = Date.now();
 * const bytes = new MarketSummaryBuilder({ history, epoch: "a1", feedState: () => 1 }).build(now);
 * // … and the dashboard node merges it.
 * const owners = ["b", "a"];
 * const merged = new BusSummary({ symbols: 2, epoch: "d1", ownerOf: (id) => owners[id] });
 * merged.accept("a", bytes, now); // true
 * merged.rowsTaken; // 1: only symbol 1 is a's
 * const overview = merged.build(now); // symbol 1 from a; symbol 0 NaN, Connecting (b sent nothing)
 * ```
 * @module
 */

import { fromBinary } from "@bufbuild/protobuf";
import { type MarketSummary, ServerMessageSchema } from "../../proto/gen/market_pb.ts";
import { FeedState } from "../pipeline/feed_state.ts";
import { type SummaryReaders, SummaryWriter } from "./summary_writer.ts";
import { SUMMARY_FLOAT_COLUMNS } from "../pipeline/summary_columns.ts";

/** Options of {@linkcode BusSummary}. */
export interface BusSummaryOptions {
  /** The universe's size: symbol ids 0..symbols-1, as everywhere. Required. */
  symbols: number;
  /** The dashboard hub's epoch (`WsHub.epoch`), carried in every merged summary. Required. */
  epoch: string;
  /**
   * Node id of the lease owner of symbol `symbolId`'s partition, undefined
   * when nobody holds it (`LeaseOwners.owner(partitionOf(symbol))`). Called
   * for every symbol at each `accept` and `build`. Required.
   */
  ownerOf: (symbolId: number) => string | undefined;
  /**
   * A node's rows are shown for at most this long after its newest summary
   * arrived, ms (summaries come once a second). Default 5000.
   */
  maxAgeMs?: number;
}

/** What is kept of one ingest node: its newest summary's times and numbering. */
interface NodeSlot {
  /**
   * Tag of this node's rows in `#tag`, never reused (a node forgotten and
   * back gets a new one; 2^32 - 1 tags: a new node id every second for 136 years).
   */
  tag: number;
  /** Receiving clock when its newest summary arrived, epoch ms. */
  received: number;
  /** Its newest summary's `server_time` (the source's clock), epoch ms. */
  serverTime: number;
  /** Its newest summary's epoch and seq (an older seq of the same epoch is refused). */
  epoch: string;
  seq: number;
}

/** Index of the age column among the float columns. */
const AGE = SUMMARY_FLOAT_COLUMNS.indexOf("ageMs");

/**
 * The merged overview of a dashboard node; see the module documentation.
 *
 * @example
 * ```ts
 * import { BusSummary } from "./bus_summary.ts";
 * const merged = new BusSummary({ symbols: 3, epoch: "d1", ownerOf: () => undefined });
 * merged.accept("a", new Uint8Array([0xff])); // false: not a ServerMessage
 * merged.malformed; // 1
 * merged.build(Date.now()); // every row NaN, Connecting: no owners
 * ```
 */
export class BusSummary {
  /** Symbols covered (ids 0..symbols-1). */
  readonly symbols: number;
  /** Rows of a node whose newest summary is older than this are not shown, ms. */
  readonly maxAgeMs: number;
  readonly #ownerOf: (symbolId: number) => string | undefined;
  readonly #writer: SummaryWriter;
  readonly #nodes = new Map<string, NodeSlot>();
  #nextTag = 1;
  /** Per symbol: tag of the node whose row is kept (0: none). */
  readonly #tag: Uint32Array;
  /** Per symbol: the kept row's feed state, mid and float columns (column-major). */
  readonly #feed: Uint8Array;
  readonly #mid: Float64Array;
  readonly #floats: Float32Array;
  /** Scratch of one build: feed states sent, 1 where the row is shown, re-based ages. */
  readonly #states: Uint8Array;
  readonly #shown: Uint8Array;
  readonly #age: Float32Array;
  readonly #read: SummaryReaders;
  #accepted = 0;
  #malformed = 0;
  #outOfOrder = 0;
  #rowsTaken = 0;
  #rowsShown = 0;
  #lastError = "";

  /** @throws RangeError when `symbols` or `maxAgeMs` is out of range. */
  constructor(options: BusSummaryOptions) {
    const n = options.symbols;
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`BusSummary: symbols must be a non-negative integer, got ${n}`);
    }
    const maxAgeMs = options.maxAgeMs ?? 5000;
    if (!(maxAgeMs > 0 && Number.isFinite(maxAgeMs))) {
      throw new RangeError(`BusSummary: maxAgeMs must be a positive number of ms, got ${maxAgeMs}`);
    }
    this.symbols = n;
    this.maxAgeMs = maxAgeMs;
    this.#ownerOf = options.ownerOf;
    this.#writer = new SummaryWriter({ symbols: n, epoch: options.epoch });
    this.#tag = new Uint32Array(n);
    this.#feed = new Uint8Array(n);
    this.#mid = new Float64Array(n);
    this.#floats = new Float32Array(n * SUMMARY_FLOAT_COLUMNS.length);
    this.#states = new Uint8Array(n);
    this.#shown = new Uint8Array(n);
    this.#age = new Float32Array(n);
    const shown = this.#shown, floats = this.#floats;
    const float = (k: number) => (id: number): number => shown[id] ? floats[k * n + id] : NaN;
    const read = Object.fromEntries(
      SUMMARY_FLOAT_COLUMNS.map((name, k) => [name, float(k)]),
    ) as Record<keyof SummaryReaders, (id: number) => number>;
    read.mid = (id) => shown[id] ? this.#mid[id] : NaN;
    read.ageMs = (id) => this.#age[id];
    this.#read = read;
  }

  /** Summaries accepted (well-formed and not older than the node's newest). */
  get accepted(): number {
    return this.#accepted;
  }

  /** Messages refused as malformed (not a decodable summary of `symbols` symbols). */
  get malformed(): number {
    return this.#malformed;
  }

  /** Summaries refused because the node already sent a newer one (same epoch, seq not larger). */
  get outOfOrder(): number {
    return this.#outOfOrder;
  }

  /** Rows copied from accepted summaries (rows of symbols their sender owned). */
  get rowsTaken(): number {
    return this.#rowsTaken;
  }

  /** Rows shown with values in the newest merged summary (owner current and fresh). */
  get rowsShown(): number {
    return this.#rowsShown;
  }

  /** Why the newest malformed message was refused ("" before any). */
  get lastError(): string {
    return this.#lastError;
  }

  /** Nodes whose newest summary is kept (forgotten by `build` once older than `maxAgeMs`). */
  get nodes(): number {
    return this.#nodes.size;
  }

  /** Merged summaries built so far (the seq of the newest; 0 before the first). */
  get seq(): number {
    return this.#writer.seq;
  }

  /** Bytes of every merged summary built so far. */
  get bytesBuilt(): number {
    return this.#writer.bytesBuilt;
  }

  /** The newest merged summary (a `ServerMessage { summary }`), or null before the first. */
  get latest(): Uint8Array<ArrayBuffer> | null {
    return this.#writer.latest;
  }

  /**
   * Receiving time minus `server_time` of node `nodeId`'s newest summary, ms:
   * bus transit plus the clocks' skew (negative when the receiving clock is
   * behind); undefined for a node without a kept summary. For operators:
   * a large value means skewed clocks or a lagging bus.
   */
  lagMs(nodeId: string): number | undefined {
    const slot = this.#nodes.get(nodeId);
    return slot === undefined ? undefined : slot.received - slot.serverTime;
  }

  /**
   * Take the rows of node `nodeId`'s summary `bytes` (a `ServerMessage {
   * summary }` as its `MarketSummaryBuilder.build` returned it) that belong
   * to the symbols `ownerOf` gives to that node, received at `nowMs`.
   * Returns false, and changes nothing, for a malformed message (counted in
   * {@linkcode BusSummary.malformed}, reason in
   * {@linkcode BusSummary.lastError}) or one older than the node's newest
   * (counted in {@linkcode BusSummary.outOfOrder}); never throws.
   */
  accept(nodeId: string, bytes: Uint8Array, nowMs: number = Date.now()): boolean {
    const summary = this.#decode(nodeId, bytes);
    if (summary === undefined) return false;
    let slot = this.#nodes.get(nodeId);
    if (slot !== undefined && slot.epoch === summary.epoch && !(summary.seq > slot.seq)) {
      this.#outOfOrder++;
      return false;
    }
    if (slot === undefined) {
      slot = { tag: this.#nextTag++, received: 0, serverTime: 0, epoch: "", seq: 0 };
      this.#nodes.set(nodeId, slot);
    }
    slot.received = nowMs;
    slot.serverTime = summary.serverTime;
    slot.epoch = summary.epoch;
    slot.seq = summary.seq;
    this.#accepted++;
    this.#take(nodeId, slot.tag, summary);
    return true;
  }

  /**
   * Build the next merged summary at `nowMs` (the dashboard's clock, the
   * same as `accept`'s): its seq is one more than the previous one's, its
   * epoch the dashboard hub's. Keeps it as {@linkcode BusSummary.latest}
   * and forgets nodes silent for longer than `maxAgeMs`.
   */
  build(nowMs: number): Uint8Array<ArrayBuffer> {
    const n = this.symbols, max = this.maxAgeMs;
    for (const [id, slot] of this.#nodes) {
      if (!(nowMs - slot.received <= max)) this.#nodes.delete(id);
    }
    const states = this.#states, shown = this.#shown, age = this.#age, tag = this.#tag;
    const ages = this.#floats.subarray(AGE * n, (AGE + 1) * n);
    let rows = 0;
    for (let id = 0; id < n; id++) {
      const owner = this.#ownerOf(id);
      const slot = owner === undefined ? undefined : this.#nodes.get(owner);
      if (slot === undefined || tag[id] !== slot.tag) {
        shown[id] = 0;
        states[id] = FeedState.Connecting;
        age[id] = NaN;
        continue;
      }
      shown[id] = 1;
      states[id] = this.#feed[id];
      age[id] = ages[id] + Math.max(nowMs - slot.serverTime, nowMs - slot.received);
      rows++;
    }
    this.#rowsShown = rows;
    return this.#writer.write(nowMs, states, this.#read);
  }

  /**
   * The feed state of symbol `symbolId` (a `FeedState` value) in the newest
   * {@link BusSummary.build}: its owner's, or Connecting without a fresh one
   * (a dashboard node's `/stats` feeds and health panel show these).
   */
  feedState(symbolId: number): number {
    return this.#states[symbolId] ?? FeedState.Connecting;
  }

  /** The summary in `bytes`, or undefined (counted, reason kept) when malformed. */
  #decode(nodeId: string, bytes: Uint8Array): MarketSummary | undefined {
    let problem: string;
    try {
      const message = fromBinary(ServerMessageSchema, bytes);
      const summary = message.kind.case === "summary" ? message.kind.value : undefined;
      problem = summary === undefined
        ? `expected a ServerMessage { summary }, got ${message.kind.case ?? "an empty message"}`
        : this.#check(summary);
      if (problem === "") return summary;
    } catch (e) {
      problem = `not a ServerMessage (${e instanceof Error ? e.message : String(e)})`;
    }
    this.#malformed++;
    this.#lastError = `summary of node ${JSON.stringify(nodeId)}: ${problem}`;
    return undefined;
  }

  /** "" when every column of `s` fits `symbols`, else what does not. */
  #check(s: MarketSummary): string {
    const n = this.symbols;
    if (!Number.isFinite(s.serverTime)) return `server_time must be finite, got ${s.serverTime}`;
    if (s.feedState.length !== n) {
      return `feed_state has ${s.feedState.length} values, expected one per symbol (${n} symbols)`;
    }
    for (const name of ["mid", ...SUMMARY_FLOAT_COLUMNS] as const) {
      const length = s[name].length;
      if (length !== n && length !== 0) {
        return `${name} has ${length} values, expected one per symbol (${n} symbols) or none`;
      }
    }
    return "";
  }

  /** Copy the rows of the symbols `nodeId` owns; drop its rows of symbols it no longer owns. */
  #take(nodeId: string, slotTag: number, s: MarketSummary): void {
    const n = this.symbols, tag = this.#tag, floats = this.#floats;
    let taken = 0;
    for (let id = 0; id < n; id++) {
      if (this.#ownerOf(id) !== nodeId) {
        if (tag[id] === slotTag) tag[id] = 0;
        continue;
      }
      tag[id] = slotTag;
      this.#feed[id] = s.feedState[id];
      this.#mid[id] = s.mid.length === 0 ? NaN : s.mid[id];
      for (let k = 0; k < SUMMARY_FLOAT_COLUMNS.length; k++) {
        const column = s[SUMMARY_FLOAT_COLUMNS[k]];
        floats[k * n + id] = column.length === 0 ? NaN : column[id];
      }
      taken++;
    }
    this.#rowsTaken += taken;
  }
}
