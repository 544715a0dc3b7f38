/**
 * The ingest side of the pipeline as a plain class (the worker entry file only
 * wires messages to it): exchange connections → parser → validation → raw
 * ring, with every frame counted in shared memory.
 *
 * - `depth20` mode: each message is parsed straight into the raw ring's
 *   reserved slot, validated in place, stamped and committed. A rejected frame
 *   leaves the slot reserved for the next message (no extra drop).
 * - `diff` mode: each event is parsed into a reused {@link DiffEvent}, fed to
 *   {@link DiffSync}; snapshots come from the {@link RestClient}; a symbol's
 *   top levels are written into the raw ring at most every 100 ms.
 *
 * ## Diff mode: snapshot scheduling
 * Snapshots are `snapshotDepth` levels deep (weight per
 * `depth_request_weight.ts`) and spread evenly over the REST budget: 80 % of
 * `restWeightLimit` in every sliding minute (the hard cap, kept by the REST
 * client's `WeightWindow`), at a pace of one request every
 * {@link snapshotPaceMs} (62.5 ms at depth 100 and 6000/min), up to
 * {@link SNAPSHOT_IN_FLIGHT} at once. Two starts may come up to
 * {@link PACE_CATCH_UP} closer than the pace, so timers that fire late on a
 * busy worker (it parses every diff event meanwhile) do not slow the bring-up;
 * the window still never lets a minute exceed the budget. The REST client's queue is kept short
 * ({@link SNAPSHOT_QUEUE}) and topped up from {@link DiffSync} at the last
 * moment, so a symbol someone watches (its byte in `watch` is not 0) jumps
 * ahead of every symbol nobody watches. A symbol whose book left its seeded
 * range (see `DiffSync`) is re-seeded ten times deeper each time, up to 5000. Progress (books synced, an ETA of
 * `remaining × gap`, plus any 429/418 hold) is published in the ingest global
 * gauges `INGEST_DIFF_SYNCED` and `INGEST_DIFF_ETA_MS`.
 *
 * The raw ring overflows by dropping the oldest frame; {@link OverflowLog}
 * (one per ring on a thread, shared by the Ingestors producing into it)
 * reports drops with escalating severity.
 *
 * ## Venues: Binance spot and Binance USD-M futures
 * An Ingestor runs one Binance venue (option `venue`, `binance_venue.ts`):
 * of the service-wide symbol list it connects only the symbols of its venue
 * (`btcusdt` for spot, `binance-usdm:btcusdt` for USD-M; consolidated `x:`
 * instruments and other venues' symbols never), names their streams by the
 * native symbol (`btcusdt@depth@100ms`, on USD-M's routed
 * `/public/stream` path), and writes frames and counter rows under the
 * service-wide ids, so two Ingestors (one per venue) can share one symbol
 * list, raw ring (the same `SpscRing` object: both produce on one thread) and
 * counters. The unknown-symbol row (`symbols.length`) is shared. Each adds
 * the growth of its own totals to the shared words; the diff gauges of all
 * Ingestors writing one counters buffer on this thread are combined (books
 * synced summed, the longest ETA). USD-M differs from spot in its REST
 * snapshot (`GET /fapi/v1/depth`, limits 5–1000, weight 2–20, 2,400 a minute;
 * `depth_request_weight.ts`) and its diff chain (`pu == prev u`,
 * `DiffParserOptions.chain`); its partial streams (`depth20` mode) carry the
 * diff-event envelope, which the partial-book parser reads (`u` is the
 * update id). An Ingestor whose venue has no symbol in the list does nothing
 * (no connection, no timer, no counter). Recording (`tap`) and replay are
 * Binance spot only.
 *
 * ## Owned partitions (scale-out, docs/design.md §10)
 * With `partitionOf` and `owned` (an {@link OwnedPartitions} buffer the main
 * thread writes as it gains and loses partition leases), only the symbols of
 * owned partitions are connected: connection groups never mix partitions, and
 * the pool looks at the flags every 100 ms (nobody messages the worker).
 * A newly owned partition's connections open at once and its books start from
 * scratch (in diff mode through the snapshot bring-up, as after a reconnect).
 * A released partition's connections close at once; its symbols go back to
 * Connecting (the state of every symbol not owned, never Stale), a disconnect
 * record is tapped for each that was connected, and their books are forgotten
 * (`DiffSync.forget`: no stale frames either; a REST snapshot still in flight
 * is ignored and not recorded), so nothing more is written for them.
 * No message of a released symbol is ever handled: the release runs on a
 * timer between messages, and messages the closed sockets still deliver are
 * dropped unparsed by `StreamConnection` (like those of a socket retired by a
 * rollover; not counted). Connects count real connects only; a release is not
 * a reconnect, a stale event or an error. The diff-mode ETA counts the owned
 * symbols only. A replay ignores both options.
 *
 * @example
 * ```ts
 * import { Ingestor } from "./ingestor.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const symbols = ["btcusdt"];
 * const ingestor = new Ingestor({
 *   symbols,
 *   rawRing: SpscRing.create({ capacity: 2048, slotBytes: new BookSlotLayout(20).slotBytes }),
 *   counters: PipelineCounters.create(symbols.length + 1), // + the unknown-symbol row
 *   wsUrl: "wss://stream.binance.com:9443",
 *   restUrl: "https://api.binance.com",
 *   stream: "diff",
 * });
 * ingestor.start();
 * await ingestor.stop();
 * ```
 * @module
 */

import { SpscRing } from "../pipeline/spsc_ring.ts";
import type { DepthStream } from "./depth_stream.ts";
import {
  INGEST_ACCEPTED,
  INGEST_COALESCED,
  INGEST_CONNECTS,
  INGEST_CONTROL_MESSAGES,
  INGEST_DIFF_ETA_MS,
  INGEST_DIFF_RANGE_RESYNCS,
  INGEST_DIFF_SNAPSHOTS_APPLIED,
  INGEST_DIFF_SNAPSHOTS_INVALID,
  INGEST_DIFF_SNAPSHOTS_TOO_OLD,
  INGEST_DIFF_SYNCED,
  INGEST_FEED_STATE,
  INGEST_HEARTBEAT,
  INGEST_IGNORED_MESSAGES,
  INGEST_PENDING,
  INGEST_RECEIVED,
  INGEST_RECONNECTS,
  INGEST_REST_418,
  INGEST_REST_429,
  INGEST_REST_ERRORS,
  INGEST_REST_REQUESTS,
  INGEST_ROLLOVERS,
  INGEST_SERVER_SHUTDOWNS,
  INGEST_STALE_EVENTS,
  INGEST_STARTED,
  PipelineCounters,
} from "../pipeline/pipeline_counters.ts";
import {
  BOOK_PARSED_TIME,
  BOOK_RECEIVE_TIME,
  BOOK_SYMBOL_ID,
  BookSlotLayout,
} from "../pipeline/book_slot.ts";
import { ConnectionPool } from "./connection_pool.ts";
import { isControlMessage } from "./depth_parser.ts";
import { DiffParser } from "./diff_parser.ts";
import { DiffEvent } from "./diff_event.ts";
import { DiffSync, type DiffSyncCounters } from "./diff_sync.ts";
import { FeedState } from "../pipeline/feed_state.ts";
import { REJECT_REASON_COUNT, RejectReason } from "../pipeline/reject_reason.ts";
import { RestClient } from "./rest_client.ts";
import { SymbolTable } from "./symbol_table.ts";
import { OverflowLog } from "./overflow_log.ts";
import { DepthIngest } from "./depth_ingest.ts";
import {
  DEPTH_REQUEST_RULES,
  depthRequestLimitFor,
  type DepthRequestVenue,
  depthRequestWeightFor,
} from "../pipeline/depth_request_weight.ts";
import {
  binanceStreamBase,
  type BinanceVenue,
  binanceVenueSymbols,
  checkBinanceVenue,
} from "./binance_venue.ts";
import { WatchFlags } from "../pipeline/watch_flags.ts";
import { OwnedPartitions } from "../pipeline/owned_partitions.ts";
import type { MessageFeed } from "./message_feed.ts";
import { ReplayFeed } from "./replay_feed.ts";
import { ReplayStatus } from "../pipeline/replay_status.ts";
import { parseDepthSnapshot } from "./snapshot_parser.ts";
import { quantiseReceiveTime } from "../record/mod.ts";
import { SyncState } from "./diff_sync.ts";
import { bookSnapshotRecord, disconnectRecord, restSnapshotRecord } from "./tap_records.ts";

/**
 * Options of a replay ({@link IngestorOptions.replay}): messages come from a
 * recording through a {@link ReplayFeed} instead of the exchange.
 */
export interface IngestReplayOptions {
  /** The recording (a tardis-format file or a directory of them). Required. */
  path: string;
  /** Speed factor (> 0); `Infinity` for as fast as the pipeline takes it. Required. */
  speed: number;
  /** First receive time replayed, epoch µs. Default: the start. */
  fromUs?: number;
  /** Last receive time replayed, epoch µs. Default: the end. */
  toUs?: number;
  /** Start over at the end. Default false. */
  loop?: boolean;
  /** A {@link ReplayStatus} buffer the replay position is published in. Required. */
  status: SharedArrayBuffer;
}

/** Options of {@link Ingestor}. */
export interface IngestorOptions {
  /**
   * The service's lower-case symbols (`btcusdt`, `binance-usdm:btcusdt`,
   * `okx:btc-usdt`, `x:btc-usdt`); id = index. Only those of `venue` are
   * connected. Required.
   */
  symbols: readonly string[];
  /**
   * The Binance venue this Ingestor runs: `"binance"` (spot) or
   * `"binance-usdm"` (USD-M futures); module docs, "Venues". Default `"binance"`.
   */
  venue?: BinanceVenue;
  /**
   * The raw ring (this side is its only producer; Ingestors of several venues
   * in one worker share the same `SpscRing` object). Required.
   */
  rawRing: SpscRing;
  /** Shared counters (at least `symbols.length + 1` rows); the last row collects frames of no known symbol. Required. */
  counters: PipelineCounters;
  /**
   * WebSocket base URL, e.g. `wss://stream.binance.com:9443` (spot; streams at
   * `/stream`) or `wss://fstream.binance.com` (USD-M: host only, streams at
   * `/public/stream`). Required.
   */
  wsUrl: string;
  /**
   * REST base URL (diff mode snapshots), e.g. `https://api.binance.com` (spot,
   * `/api/v3/depth`) or `https://fapi.binance.com` (USD-M, `/fapi/v1/depth`).
   * Required in diff mode.
   */
  restUrl?: string;
  /** `"depth20"` (partial book, default) or `"diff"` (local book from diff events). */
  stream?: DepthStream;
  /** Book levels per side in a slot. Default 20. */
  levels?: number;
  /** No frame for this long marks a feed stale and reconnects. Default 2000 ms. */
  staleMs?: number;
  /** Connection backoff base and cap, ms. Defaults 1000 and 30000. */
  backoffBaseMs?: number;
  /** See `backoffBaseMs`. */
  backoffCapMs?: number;
  /** Where warnings go. Default `console`. */
  log?: Pick<Console, "warn" | "error">;
  /**
   * Diff mode: levels per side of each REST snapshot (the request's `limit`,
   * 1 to 5000, at least `levels`). USD-M serves 5, 10, 20, 50, 100, 500 and
   * 1000 only: the smallest of those at least this deep is asked (1000 at
   * most). Default 100 (weight 5).
   */
  snapshotDepth?: number;
  /**
   * Diff mode: the exchange's REST weight limit per minute for this IP; 80 %
   * of it is used. Default the venue's: 6000 (spot), 2400 (USD-M).
   */
  restWeightLimit?: number;
  /** Diff mode: a {@link WatchFlags} buffer (written by the main thread); watched symbols are snapshotted first. Optional. */
  watch?: SharedArrayBuffer;
  /**
   * This worker generation's lease (lib/pipeline/worker_lease.ts), checked
   * before every message is handled and on every timer: once it is lost, the
   * ingestor touches the ring and the counters no more, closes its
   * connections and calls `onFenced`. Default none (never fenced).
   */
  lease?: { held(): boolean };
  /** Called once when the lease is lost (the worker then releases it and ends). */
  onFenced?: () => void;
  /**
   * Replay a recording instead of connecting (`--source replay`): the same
   * parsers, validation and diff sync, on the recorded receive times; in diff
   * mode the snapshots come from the recording, never from REST. Default none.
   */
  replay?: IngestReplayOptions;
  /**
   * The recorder's hook: called, in the order the ingest handles things and
   * with receive times (epoch ms, whole µs) that never decrease, with every
   * exchange message before it is handled, and with the records of
   * `tap_records.ts` (docs/design.md §9): in diff mode each REST snapshot
   * (body untouched) just before DiffSync sees it and a snapshot of each
   * synced book just before its symbol's first message after every
   * `snapshotIntervalMs` boundary; in both modes a disconnect marker per
   * symbol whose connection was lost. A record made at a moment with no
   * message takes the later of now and the last time tapped. Default none:
   * then nothing of this is done (no REST body kept, no check per frame).
   */
  tap?: (text: string, receivedAtMs: number) => void;
  /**
   * Diff mode with a `tap`: the period of the generated book snapshots in ms
   * of receive time, aligned to the UTC epoch (300,000: every 5 minutes, so
   * every hour starts with one). A positive integer. Default 300000.
   */
  snapshotIntervalMs?: number;
  /** Most streams per exchange connection (1 to 1024). Default 200 (see `stream_groups.ts`). */
  maxStreamsPerConnection?: number;
  /**
   * The ingest of owned partitions (module docs): the partition of each
   * symbol id (computed by the main thread with `lib/bus/partition_map.ts`),
   * given together with `owned`. Ignored in a replay. Default none: every
   * symbol is connected.
   */
  partitionOf?: Uint16Array | number[];
  /**
   * The {@link OwnedPartitions} buffer (written by the main thread): only the
   * symbols of owned partitions are connected. Given together with
   * `partitionOf`; ignored in a replay. Default none.
   */
  owned?: SharedArrayBuffer;
}

/** Default of {@link IngestorOptions.snapshotIntervalMs}: generated book snapshots every 5 minutes. */
export const BOOK_SNAPSHOT_INTERVAL_MS = 300_000;

/**
 * Diff mode: snapshot requests in flight at once. The pace (62.5 ms at depth
 * 100) needs `round trip / pace` of them: 8 keep it up to a 500 ms round trip
 * (as seen from the busy ingest worker, which also parses the answer). On a
 * loaded 2-core machine, 2,000-symbol bring-ups with 4 reached at most 3,380
 * and 3,865 weight a minute, one with 8 the full 4,800 (docs/operating.md).
 */
export const SNAPSHOT_IN_FLIGHT = 8;
/** Diff mode: snapshot requests handed to the REST client ahead of time (the rest wait in DiffSync, in priority order). */
export const SNAPSHOT_QUEUE = 2;
/** Diff mode: how much closer than the pace two snapshot starts may be (making up for late timers; the weight window is the hard cap). */
export const PACE_CATCH_UP = 0.2;
/** Diff mode: fraction of the REST weight limit kept unused (for other clients of the IP, clock skew). */
export const REST_WEIGHT_MARGIN = 0.2;

/**
 * Diff mode: the snapshot pace — ms between two snapshot requests of
 * `snapshotDepth` levels (weights of `venue`, default spot) so that they spend the budget (the limit less
 * {@link REST_WEIGHT_MARGIN}) evenly: `60000 / ⌊budget / weight⌋`, i.e. as
 * many requests per minute as fit whole. Infinity when not one fits.
 *
 * @example
 * ```ts
 * import { snapshotPaceMs } from "./ingestor.ts";
 * snapshotPaceMs(100, 6000); // 62.5: weight 5 against 4800 per minute, 16 per second
 * snapshotPaceMs(1000, 6000); // 625
 * snapshotPaceMs(1000, 2400, "binance-usdm"); // 625: weight 20 against 1920
 * ```
 */
export function snapshotPaceMs(
  snapshotDepth: number,
  restWeightLimit: number,
  venue: DepthRequestVenue = "binance",
): number {
  const budget = Math.floor(restWeightLimit * (1 - REST_WEIGHT_MARGIN));
  return 60_000 / Math.floor(budget / depthRequestWeightFor(venue, snapshotDepth));
}

const HOUSEKEEPING_MS = 100;
/** Diff mode: how often due books are written, so a frame waits at most this long past its 100 ms. */
const EMIT_TICK_MS = 10;

/**
 * The parts of the whole-worker diff gauges (`INGEST_DIFF_SYNCED`,
 * `INGEST_DIFF_ETA_MS`) per counters buffer: each running diff-mode Ingestor
 * on this thread that writes the buffer (one per Binance venue) holds one
 * `[books synced, ETA ms]` part from `start` to `stop`, and each housekeeping
 * stores the books synced summed and the longest ETA (the venues' REST
 * budgets are separate, their bring-ups run side by side). Entries go with
 * their buffer.
 */
const DIFF_PROGRESS = new WeakMap<SharedArrayBuffer, Set<Float64Array>>();

/** The parts of the diff gauges of `counters` (created empty on first use). */
function diffProgressParts(counters: PipelineCounters): Set<Float64Array> {
  let parts = DIFF_PROGRESS.get(counters.buffer);
  if (parts === undefined) DIFF_PROGRESS.set(counters.buffer, parts = new Set());
  return parts;
}

/** Per raw ring on this thread: its overflow log and the ring's drop count it has seen. */
const RING_OVERFLOW = new WeakMap<
  SharedArrayBuffer,
  { log: OverflowLog; lastDropped: number }
>();

/**
 * The overflow log of `ring`, shared by every Ingestor of this thread that
 * produces into it (one per Binance venue), so that each drop is reported
 * once, against the frames of all of them. Made with the first one's logger.
 */
function ringOverflow(
  ring: SpscRing,
  log: Pick<Console, "warn" | "error">,
): { log: OverflowLog; lastDropped: number } {
  let entry = RING_OVERFLOW.get(ring.buffer);
  if (entry === undefined) {
    entry = { log: new OverflowLog({ queue: "raw", log }), lastDropped: 0 };
    RING_OVERFLOW.set(ring.buffer, entry);
  }
  return entry;
}

/**
 * Owns the exchange connections and writes accepted frames into the raw ring.
 *
 * @example
 * ```ts
 * import { Ingestor, type IngestorOptions } from "./ingestor.ts";
 * declare const options: IngestorOptions; // e.g. from the start message of the ingest worker
 * const ingestor = new Ingestor(options);
 * ingestor.start();
 * ```
 */
export class Ingestor {
  readonly #ring: SpscRing;
  readonly #counters: PipelineCounters;
  readonly #layout: BookSlotLayout;
  /** This Ingestor's symbols (its venue's), native lower-case names; the ids below index them. */
  readonly #symbols: readonly string[];
  /** The service-wide id (frame symbol id, counter row) of each of {@link Ingestor.#symbols}. */
  readonly #rows: Int32Array;
  readonly #unknownRow: number;
  readonly #venue: BinanceVenue;
  /** No symbol of the venue: nothing is built, started or counted. */
  readonly #idle: boolean;
  readonly #pool!: MessageFeed;
  /** The live connections (undefined in a replay). */
  readonly #live: ConnectionPool | undefined;
  /** Set in a replay: the feed and its position (the replay clock). */
  readonly #replay: { feed: ReplayFeed; status: ReplayStatus } | undefined;
  readonly #depth!: DepthIngest;
  /** The ring's overflow log and the drops seen, shared with the ring's other producers ({@link ringOverflow}). */
  readonly #overflow!: { log: OverflowLog; lastDropped: number };
  /** This Ingestor's part of the diff gauges (books synced, ETA ms), see {@link diffProgressParts}. */
  readonly #progress = new Float64Array(2);
  readonly #diff?: {
    parser: DiffParser;
    event: DiffEvent;
    sync: DiffSync;
    rest: RestClient;
    depth: number;
    budget: number;
    gapMs: number;
    watch?: Uint8Array;
    /** The watch flags by this Ingestor's ids, when they are not the service's (refreshed before use). */
    localWatch?: Uint8Array;
  };
  #timer: ReturnType<typeof setInterval> | undefined;
  #emitTimer: ReturnType<typeof setInterval> | undefined;
  #stopping = false;
  #fenced = false;
  readonly #lease: { held(): boolean } | undefined;
  readonly #onFenced: (() => void) | undefined;
  #frames = 0;
  /** The recorder's hook (see {@link IngestorOptions.tap}); undefined: nothing is recorded. */
  readonly #tap: ((text: string, receivedAtMs: number) => void) | undefined;
  /** The last receive time tapped (records made between messages never go before it). */
  #lastTapAt = -Infinity;
  /** With a tap: the feed state last reported per symbol (a disconnect is a change to Connecting). */
  readonly #tapFeedState: Uint8Array | undefined = undefined;
  /** Diff mode with a tap: per symbol, the receive time from which its next book snapshot is due. */
  readonly #nextBookSnapshot: Float64Array | undefined = undefined;
  /** Diff mode with a tap: {@link IngestorOptions.snapshotIntervalMs}. */
  readonly #bookSnapshotMs: number;
  /** Records the tap threw on (each lost; the first logged). */
  tapErrors = 0;
  readonly #log: Pick<Console, "warn" | "error">;
  /** Reused by the housekeeping passes that read every symbol's DiffSync counters. */
  #scratchCounters: DiffSyncCounters | undefined;
  /**
   * Last local value published per shared counter word. The pool, DiffSync
   * and RestClient count from 0 in every worker instance; publishing growth
   * (not absolute values) lets a restarted worker continue the shared totals
   * instead of rewinding them (which the main thread would read as a wrap).
   */
  readonly #published: Float64Array;

  /**
   * Validates the options and builds the connections; connects on {@link Ingestor.start}.
   *
   * @param options see {@link IngestorOptions}.
   * @throws TypeError / RangeError on bad options (unknown symbols, missing REST URL in diff mode,
   *   an unknown venue, a USD-M `wsUrl` with a path, a tap or replay for USD-M).
   */
  constructor(options: IngestorOptions) {
    this.#ring = options.rawRing;
    this.#lease = options.lease;
    this.#onFenced = options.onFenced;
    this.#counters = options.counters;
    this.#published = new Float64Array(options.counters.buffer.byteLength / 4);
    const venue = checkBinanceVenue(options.venue ?? "binance");
    this.#venue = venue;
    const own = binanceVenueSymbols(options.symbols, venue);
    this.#symbols = own.natives;
    this.#rows = own.rows;
    this.#unknownRow = options.counters.unknownRow;
    const stream = options.stream ?? "depth20";
    const tap = options.tap;
    this.#tap = tap;
    this.#log = options.log ?? console;
    this.#bookSnapshotMs = options.snapshotIntervalMs ?? BOOK_SNAPSHOT_INTERVAL_MS;
    if (!Number.isSafeInteger(this.#bookSnapshotMs) || this.#bookSnapshotMs < 1) {
      throw new RangeError(
        `snapshotIntervalMs must be a positive integer of ms, got ${options.snapshotIntervalMs}`,
      );
    }
    if (venue !== "binance" && (tap !== undefined || options.replay !== undefined)) {
      throw new TypeError(
        `${venue}: recording (tap) and replay are for Binance spot only; ` +
          `give them to the "binance" Ingestor and none to the ${venue} one`,
      );
    }
    this.#idle = own.natives.length === 0;
    if (this.#idle) {
      // Nothing of this venue in the list: no connection, timer or counter.
      this.#layout = new BookSlotLayout(options.levels ?? 20);
      return;
    }
    const symbols = own.natives;
    if (tap !== undefined) {
      this.#tapFeedState = new Uint8Array(symbols.length).fill(FeedState.Connecting);
      // 0: the first message of each symbol checks; its book is not synced yet then.
      if (stream === "diff") this.#nextBookSnapshot = new Float64Array(symbols.length);
    }
    const levels = options.levels ?? 20;
    // What every connection subscribes to; a frame of any other stream is unknown_stream.
    const streamSuffix = stream === "diff" ? "@depth@100ms" : `@depth${levels}@100ms`;
    this.#depth = new DepthIngest({
      symbols,
      rows: this.#rows,
      unknownRow: this.#unknownRow,
      ring: options.rawRing,
      counters: options.counters,
      levels,
      subscribedSuffix: streamSuffix,
    });
    this.#layout = this.#depth.layout;
    const table = new SymbolTable(symbols);
    this.#overflow = ringOverflow(options.rawRing, options.log ?? console);
    if (stream === "diff") {
      // A replay never asks REST: its snapshots come from the recording.
      const restUrl = options.replay ? options.restUrl ?? "http://127.0.0.1" : options.restUrl;
      if (!restUrl) throw new TypeError("diff mode needs restUrl for snapshots");
      const asked = options.snapshotDepth ?? 100;
      // Spot serves any limit (a bad one is refused below); USD-M a few.
      const depth = venue === "binance" ? asked : depthRequestLimitFor(venue, asked);
      const limit = options.restWeightLimit ?? DEPTH_REQUEST_RULES[venue].weightLimit;
      const gapMs = snapshotPaceMs(depth, limit, venue);
      if (gapMs === Infinity) {
        throw new RangeError(
          `a snapshot of ${depth} levels weighs ${depthRequestWeightFor(venue, depth)}, more than ${
            (1 - REST_WEIGHT_MARGIN) * 100
          } % of the REST weight limit ${limit}`,
        );
      }
      this.#diff = {
        parser: new DiffParser(table, streamSuffix, {
          chain: venue === "binance" ? "spot" : "usdm",
        }),
        event: new DiffEvent(),
        sync: new DiffSync({
          symbolCount: symbols.length,
          // Levels beyond the seeded range are never trusted (DiffSync); room for twice
          // the seeded levels is plenty (the farthest go first when a side is full).
          // A deeper re-seed (#depthFor) grows the symbol's book to twice its depth.
          bookCapacity: 2 * depth,
          snapshotDepth: depth,
          trustedLevels: this.#layout.levels,
          // Every request taken and not yet settled holds a lent ring: at most
          // SNAPSHOT_QUEUE waiting in the REST client plus SNAPSHOT_IN_FLIGHT running.
          snapshotBuffers: SNAPSHOT_QUEUE + SNAPSHOT_IN_FLIGHT,
        }),
        rest: new RestClient({
          restUrl,
          venue,
          weightLimit: limit,
          weightMargin: REST_WEIGHT_MARGIN,
          minGapMs: gapMs * (1 - PACE_CATCH_UP),
          maxInFlight: SNAPSHOT_IN_FLIGHT,
          // The recorder writes each body as it came; nobody else needs it.
          keepBody: tap !== undefined,
        }),
        depth,
        budget: Math.floor(limit * (1 - REST_WEIGHT_MARGIN)),
        gapMs,
        watch: options.watch ? WatchFlags.attach(options.watch).bytes : undefined,
        localWatch: options.watch && symbols.length !== options.symbols.length
          ? new Uint8Array(symbols.length)
          : undefined,
      };
    }
    const staleMs = options.staleMs ?? 2000;
    const handle = this.#messageHandler(stream);
    if (options.replay) {
      const r = options.replay;
      const status = ReplayStatus.attach(r.status);
      const ring = options.rawRing;
      // Room for what one record may write: one frame, or in diff mode every due book.
      const need = Math.min(ring.capacity, stream === "diff" ? symbols.length + 1 : 1);
      const feed = new ReplayFeed({
        path: r.path,
        symbols,
        speed: r.speed,
        fromUs: r.fromUs,
        toUs: r.toUs,
        loop: r.loop,
        diff: stream === "diff",
        status,
        staleMs,
        log: options.log,
        onMessage: handle,
        onSnapshot: (id, body, at) => this.#onRecordedSnapshot(id, body, at),
        onClock: stream === "diff" ? (at) => this.#emitDue(at) : undefined,
        onFeedState: (id, state) => this.#onFeedState(id, state),
        hasRoom: () => ring.capacity - ring.available() >= need,
        onError: (e) => (options.log ?? console).error("ingest callback failed:", e),
      });
      this.#replay = { feed, status };
      this.#pool = feed;
    } else {
      this.#pool = this.#live = this.#livePool(options, symbols, streamSuffix, staleMs, handle);
    }
    if (stream === "depth20" && this.#layout.levels !== 5 && this.#layout.levels !== 10) {
      // Binance partial streams (spot and USD-M) exist for 5, 10 and 20 levels only.
      if (this.#layout.levels !== 20) {
        throw new RangeError(
          `depth20 mode needs --levels 5, 10 or 20 (Binance partial streams), got ${this.#layout.levels}`,
        );
      }
    }
  }

  /**
   * The handler of every message. Receive times are kept to the microsecond
   * (what a recording holds), so a replay hands the ingest exactly the times
   * it had live. Without a tap the handlers do nothing for the recorder.
   */
  #messageHandler(stream: DepthStream): (text: string, at: number) => void {
    if (this.#tap === undefined) {
      return stream === "diff"
        ? (text, at) => {
          at = quantiseReceiveTime(at);
          if (this.#lost()) return;
          this.#onDiffMessage(text, at);
        }
        : (text, at) => {
          at = quantiseReceiveTime(at);
          if (this.#lost()) return;
          this.#onDepthMessage(text, at);
        };
    }
    if (stream === "diff") {
      const d = this.#diff!;
      return (text, at) => {
        at = quantiseReceiveTime(at);
        if (this.#lost()) return;
        // Parsed first: a due book snapshot of its symbol goes before the message.
        const code = d.parser.parse(text, d.event);
        if (code === RejectReason.Ok) this.#bookSnapshotIfDue(d.event.symbolId, at);
        this.#tapAt(text, at);
        this.#onDiffParsed(code, at);
      };
    }
    return (text, at) => {
      at = quantiseReceiveTime(at);
      if (this.#lost()) return;
      this.#tapAt(text, at);
      this.#onDepthMessage(text, at);
    };
  }

  // ------------------------------------------------------- recorder's records

  /**
   * Hand one record to the tap (only called when there is one). A tap that
   * throws loses that record, never the ingest's handling of it: the first
   * error is logged, the rest counted in {@link Ingestor.tapErrors}.
   */
  #tapAt(text: string, at: number): void {
    if (at > this.#lastTapAt) this.#lastTapAt = at;
    try {
      this.#tap!(text, at);
    } catch (e) {
      if (this.tapErrors++ === 0) {
        this.#log.error("recording: the tap failed; records are lost:", e);
      }
    }
  }

  /** Time of a record made between messages: now (the replay clock in a replay), never before the last tapped. */
  #recordTime(): number {
    let now = quantiseReceiveTime(this.#emitNow());
    if (now !== now) now = quantiseReceiveTime(this.#wallNow()); // a replay before its first record
    return now > this.#lastTapAt ? now : this.#lastTapAt;
  }

  /**
   * Diff mode with a tap, before each parsed message of `symbolId` received at
   * `at`: at its first message past a `snapshotIntervalMs` boundary, tap a
   * snapshot of its book when the book is in sync. Per message this is one
   * comparison.
   */
  #bookSnapshotIfDue(symbolId: number, at: number): void {
    const next = this.#nextBookSnapshot!;
    // Written so that an id out of range (undefined) is never due either.
    if (!(at >= next[symbolId])) return;
    const every = this.#bookSnapshotMs;
    next[symbolId] = (Math.floor(at / every) + 1) * every;
    const sync = this.#diff!.sync;
    if (sync.state(symbolId) !== SyncState.Synced) return;
    const record = bookSnapshotRecord(
      this.#symbols[symbolId],
      sync.lastUpdateId(symbolId),
      sync.book(symbolId),
    );
    this.#tapAt(record, at);
  }

  /** The live connections. */
  #livePool(
    options: IngestorOptions,
    symbols: readonly string[],
    streamSuffix: string,
    staleMs: number,
    onMessage: (text: string, at: number) => void,
  ): ConnectionPool {
    const global = options.partitionOf;
    const rows = this.#rows;
    return new ConnectionPool({
      baseUrl: binanceStreamBase(this.#venue, options.wsUrl),
      symbols,
      streamSuffix,
      staleMs,
      backoffBaseMs: options.backoffBaseMs,
      backoffCapMs: options.backoffCapMs,
      maxStreamsPerConnection: options.maxStreamsPerConnection,
      // partitionOf is by service-wide id; the pool's ids are this Ingestor's.
      partitionOf: global && Uint16Array.from(rows, (row) => global[row]),
      owned: options.owned && OwnedPartitions.attach(options.owned),
      onRelease: (id) => this.#onRelease(id),
      onMessage,
      onFeedState: (id, state) => this.#onFeedState(id, state),
      onError: (e) => (options.log ?? console).error("ingest callback failed:", e),
    });
  }

  /** A replay: resolves when it ended (at once for a live ingestor, which never ends). */
  get replayFinished(): Promise<void> {
    return this.#replay?.feed.finished ?? Promise.resolve();
  }

  /** Open the connections and start housekeeping (counters, heartbeat, diff snapshots); nothing when idle. */
  start(): void {
    if (this.#idle) return;
    if (this.#diff) diffProgressParts(this.#counters).add(this.#progress);
    this.#counters.store(this.#counters.ingest(INGEST_STARTED), 1);
    this.#pool.start();
    this.#timer = setInterval(() => this.#housekeeping(), HOUSEKEEPING_MS);
    // A replay emits diff books on its own clock (ReplayFeed's onClock), never on a timer.
    if (this.#diff && !this.#replay) {
      this.#emitTimer = setInterval(() => this.#emitDue(this.#wallNow()), EMIT_TICK_MS);
    }
  }

  /** Close every connection and timer. Frames already committed stay in the ring. */
  async stop(): Promise<void> {
    if (this.#idle) return;
    this.#stopping = true;
    clearInterval(this.#timer);
    clearInterval(this.#emitTimer);
    await this.#pool.close();
    if (this.#diff) await this.#diff.rest.close();
    if (!this.#fenced) this.#housekeeping();
    diffProgressParts(this.#counters).delete(this.#progress);
  }

  /**
   * Check the lease now (the worker entry calls it on a short timer, so a
   * worker with no traffic also notices); returns whether it is still held.
   */
  checkLease(): boolean {
    return !this.#lost();
  }

  /** Whether this generation lost its lease; the first time, fence it. */
  #lost(): boolean {
    if (this.#fenced) return true;
    if (this.#lease === undefined || this.#lease.held()) return false;
    // From here on nothing of this instance writes shared memory again.
    this.#fenced = true;
    this.#stopping = true;
    clearInterval(this.#timer);
    clearInterval(this.#emitTimer);
    if (!this.#idle) {
      this.#pool.close().catch(() => {});
      this.#diff?.rest.close().catch(() => {});
      diffProgressParts(this.#counters).delete(this.#progress);
    }
    this.#onFenced?.();
    return true;
  }

  // ------------------------------------------------------------ depth20 path

  #onDepthMessage(text: string, receivedAt: number): void {
    const symbolId = this.#depth.handle(text, receivedAt);
    if (symbolId >= 0) {
      this.#pool.noteFrame(symbolId, receivedAt);
      this.#frames++;
    }
  }

  // --------------------------------------------------------------- diff path

  #onDiffMessage(text: string, receivedAt: number): void {
    const d = this.#diff!;
    this.#onDiffParsed(d.parser.parse(text, d.event), receivedAt);
  }

  /** Diff mode: a message parsed into the reused event with result `code`. */
  #onDiffParsed(code: number, receivedAt: number): void {
    const d = this.#diff!;
    const c = this.#counters;
    if (isControlMessage(code)) {
      c.add(c.ingest(INGEST_CONTROL_MESSAGES), 1);
      return;
    }
    if (code !== RejectReason.Ok) {
      // Parse failures never reach DiffSync and name no trusted symbol: count
      // them under the "unknown" row (DiffSync's counters own the symbol rows).
      c.add(c.ingestSymbol(this.#unknownRow, INGEST_RECEIVED), 1);
      c.add(c.rejected(this.#unknownRow, code), 1);
      return;
    }
    const symbolId = d.event.symbolId;
    d.sync.onEvent(d.event);
    this.#pool.noteFrame(symbolId, receivedAt);
    if (d.sync.dueForEmit(symbolId, receivedAt)) this.#emit(symbolId, receivedAt);
  }

  /** Replay, diff mode: a recorded REST snapshot of `symbolId` seeds its book (instead of REST). */
  #onRecordedSnapshot(symbolId: number, body: string, at: number): void {
    const d = this.#diff;
    if (d === undefined || this.#lost()) return;
    if (this.#tap !== undefined) {
      // Recording a replay: its snapshots are recorded as REST ones are live.
      at = quantiseReceiveTime(at);
      this.#tapAt(restSnapshotRecord(this.#symbols[symbolId], body), Math.max(at, this.#lastTapAt));
    }
    let snapshot;
    try {
      snapshot = parseDepthSnapshot(body, this.#symbols[symbolId]);
    } catch (e) {
      console.warn(`replay: recorded snapshot of ${this.#symbols[symbolId]} is invalid:`, e);
      return;
    }
    d.sync.onSnapshot(symbolId, snapshot);
  }

  /** Wall clock, epoch ms. */
  #wallNow(): number {
    return performance.timeOrigin + performance.now();
  }

  /** The clock diff books are emitted on: the wall clock live, the recorded receive time in a replay. */
  #emitNow(): number {
    return this.#replay ? this.#replay.status.get("clockMs") : this.#wallNow();
  }

  #emit(symbolId: number, receivedAt: number): void {
    const ring = this.#ring;
    const at = ring.reserve();
    const now = this.#wallNow();
    this.#diff!.sync.writeFrame(symbolId, ring.f64, at, this.#layout, this.#emitNow());
    const row = this.#rows[symbolId];
    ring.f64[at + BOOK_SYMBOL_ID] = row;
    ring.f64[at + BOOK_RECEIVE_TIME] = receivedAt;
    ring.f64[at + BOOK_PARSED_TIME] = now;
    ring.commit();
    this.#counters.add(this.#counters.ingestSymbol(row, INGEST_ACCEPTED), 1);
    this.#frames++;
  }

  /** Diff mode: write every book whose 100 ms interval has passed at `now` and that has news. */
  #emitDue(now: number): void {
    if (this.#lost()) return;
    const sync = this.#diff!.sync;
    for (let s = 0; s < this.#symbols.length; s++) {
      if (sync.dueForEmit(s, now)) this.#emit(s, now);
    }
  }

  #diffHousekeeping(): void {
    const d = this.#diff!;
    const c = this.#counters;
    if (!this.#replay) this.#emitDue(this.#wallNow());
    let rangeResyncs = 0;
    let snapshotsApplied = 0;
    let snapshotsTooOld = 0;
    let snapshotsInvalid = 0;
    for (let s = 0; s < this.#symbols.length; s++) {
      this.#pool.setResyncing(s, d.sync.isStale(s));
      // DiffSync keeps exact per-symbol event counters; publish their growth.
      const k = d.sync.readCounters(s, this.#scratchCounters ??= d.sync.counters(s));
      const row = this.#rows[s];
      this.#publish(c.ingestSymbol(row, INGEST_RECEIVED), k.received);
      this.#publish(c.ingestSymbol(row, INGEST_COALESCED), k.coalesced);
      c.store(c.ingestSymbol(row, INGEST_PENDING), (k.pending + k.buffered) | 0);
      for (let r = 1; r < REJECT_REASON_COUNT; r++) {
        this.#publish(c.rejected(row, r), k.rejected[r]);
      }
      rangeResyncs += k.rangeResyncs;
      snapshotsApplied += k.snapshotsApplied;
      snapshotsTooOld += k.snapshotsTooOld;
      snapshotsInvalid += k.snapshotsInvalid;
    }
    this.#requestSnapshots();
    const synced = d.sync.syncedCount;
    const remaining = (this.#live?.activeSymbols ?? this.#symbols.length) - synced;
    const eta = remaining === 0 ? 0 : remaining * d.gapMs + d.rest.blockedForMs;
    this.#progress[0] = synced;
    this.#progress[1] = eta;
    // Whole-worker gauges: every diff Ingestor on this counters buffer has a part.
    let allSynced = 0;
    let longestEta = 0;
    for (const part of diffProgressParts(c)) {
      allSynced += part[0];
      if (part[1] > longestEta) longestEta = part[1];
    }
    c.store(c.ingest(INGEST_DIFF_SYNCED), allSynced);
    c.store(c.ingest(INGEST_DIFF_ETA_MS), Math.min(Math.ceil(longestEta), 0x7fffffff));
    this.#publish(c.ingest(INGEST_DIFF_RANGE_RESYNCS), rangeResyncs);
    this.#publish(c.ingest(INGEST_DIFF_SNAPSHOTS_APPLIED), snapshotsApplied);
    this.#publish(c.ingest(INGEST_DIFF_SNAPSHOTS_TOO_OLD), snapshotsTooOld);
    this.#publish(c.ingest(INGEST_DIFF_SNAPSHOTS_INVALID), snapshotsInvalid);
    this.#publish(c.ingest(INGEST_REST_REQUESTS), d.rest.requests);
    this.#publish(c.ingest(INGEST_REST_429), d.rest.status429);
    this.#publish(c.ingest(INGEST_REST_418), d.rest.status418);
    this.#publish(c.ingest(INGEST_REST_ERRORS), d.rest.errors);
  }

  /**
   * Hands snapshot requests to the REST client until its queue holds
   * {@link SNAPSHOT_QUEUE}: DiffSync picks them, watched symbols first. Called
   * on housekeeping and whenever a snapshot settles.
   */
  #requestSnapshots(): void {
    const d = this.#diff!;
    const local = d.localWatch;
    if (local !== undefined && d.watch !== undefined) {
      // The watch flags are by service-wide id; DiffSync's ids are this Ingestor's.
      for (let s = 0; s < local.length; s++) local[s] = d.watch[this.#rows[s]];
    }
    while (!this.#stopping && !this.#replay && d.rest.queueLength < SNAPSHOT_QUEUE) {
      const s = d.sync.takeSnapshotRequest(local ?? d.watch);
      if (s < 0) break;
      // DiffSync marks `s` in flight until onSnapshot / onSnapshotFailed, so it
      // cannot be taken twice (a skipped take would leave it in flight forever).
      d.rest.fetchDepth(this.#symbols[s].toUpperCase(), this.#depthFor(s)).then(
        (snapshot) => {
          if (this.#fenced) return;
          // A snapshot of a symbol released meanwhile is ignored (DiffSync.forget): not recorded either.
          if (
            snapshot.body !== undefined && this.#tap !== undefined && !d.sync.snapshotCancelled(s)
          ) {
            this.#tapAt(restSnapshotRecord(this.#symbols[s], snapshot.body), this.#recordTime());
          }
          d.sync.onSnapshot(s, snapshot);
        },
        () => {
          if (!this.#fenced) d.sync.onSnapshotFailed(s);
        },
      ).finally(() => this.#requestSnapshots());
    }
  }

  /**
   * Snapshot depth of symbol `s`: `snapshotDepth`, ten times deeper for each
   * time the symbol's top left its seeded range (100 → 1000 → 5000, the
   * exchange's maximum; USD-M stops at 1000, and a depth it does not serve is
   * rounded up to one it does), as far as one request still fits the budget. A fast
   * book thus pays for depth once and then resyncs rarely; quiet books stay
   * cheap.
   */
  #depthFor(s: number): number {
    const d = this.#diff!;
    const venue = this.#venue;
    const max = DEPTH_REQUEST_RULES[venue].maxLimit;
    let depth = d.depth;
    for (
      let k = d.sync.readCounters(s, this.#scratchCounters ??= d.sync.counters(s)).rangeResyncs;
      k > 0 && depth < max;
      k--
    ) {
      const deeper = depthRequestLimitFor(venue, depth * 10);
      if (depthRequestWeightFor(venue, deeper) > d.budget) break;
      depth = deeper;
    }
    return depth;
  }

  /** Add the growth of a locally counted total `value` since its last publication to word `index`. */
  #publish(index: number, value: number): void {
    const last = this.#published[index];
    if (value === last) return;
    this.#counters.add(index, (value - last) | 0);
    this.#published[index] = value;
  }

  // ---------------------------------------------------------- housekeeping

  #onFeedState(symbolId: number, state: FeedState): void {
    this.#counters.store(
      this.#counters.ingestSymbol(this.#rows[symbolId], INGEST_FEED_STATE),
      state,
    );
    // A new connection may be to a restarted exchange whose ids start over,
    // and its first frame of each symbol is flagged BOOK_FLAG_RESYNCED (in diff
    // mode by DiffSync, on the first frame after the new snapshot). Every
    // (re)connect passes each symbol of the connection through Connecting
    // before its first frame; a seamless rollover does not.
    if (state === FeedState.Connecting) {
      this.#depth.reset(symbolId);
      this.#diff?.sync.reset(symbolId);
    }
    const states = this.#tapFeedState;
    if (states !== undefined) {
      // A disconnect: Connecting after the symbol was connected (Live, Stale,
      // or Resyncing, which is reported on a live connection only); the first
      // connect starts at Connecting and records nothing.
      const before = states[symbolId];
      states[symbolId] = state;
      if (state === FeedState.Connecting && before !== FeedState.Connecting && !this.#lost()) {
        this.#tapAt(disconnectRecord(this.#symbols[symbolId]), this.#recordTime());
      }
    }
  }

  /**
   * Owned partitions: `symbolId`'s partition was released and its connection
   * closed (its Connecting state, with the disconnect record, came first):
   * forget its book, so that nothing more is written for it.
   */
  #onRelease(symbolId: number): void {
    if (this.#lost()) return;
    this.#depth.reset(symbolId);
    this.#diff?.sync.forget(symbolId);
  }

  #housekeeping(): void {
    if (this.#lost()) return;
    const c = this.#counters;
    const now = performance.timeOrigin + performance.now();
    c.add(c.ingest(INGEST_HEARTBEAT), 1);
    const p = this.#pool;
    this.#publish(c.ingest(INGEST_RECONNECTS), p.total("reconnects"));
    this.#publish(c.ingest(INGEST_CONNECTS), p.total("connects"));
    this.#publish(c.ingest(INGEST_STALE_EVENTS), p.total("staleEvents"));
    this.#publish(c.ingest(INGEST_SERVER_SHUTDOWNS), p.total("serverShutdowns"));
    this.#publish(c.ingest(INGEST_ROLLOVERS), p.total("rollovers"));
    this.#publish(c.ingest(INGEST_IGNORED_MESSAGES), p.total("ignoredMessages"));
    for (let s = 0; s < this.#symbols.length; s++) {
      c.store(c.ingestSymbol(this.#rows[s], INGEST_FEED_STATE), p.feedState(s));
    }
    if (this.#diff) this.#diffHousekeeping();
    const dropped = this.#ring.stats().dropped;
    const overflow = this.#overflow;
    // Drops are the ring's: whichever producer looks first reports them, once.
    const newDrops = (dropped - overflow.lastDropped) >>> 0;
    overflow.lastDropped = dropped;
    overflow.log.record(newDrops, this.#frames, now);
    this.#frames = 0;
  }
}
