/**
 * The market summary of `proto/market.proto`: once per second, one
 * `ServerMessage { summary }` covering every symbol, for the overview page
 * (`GET /`). Built on the main thread from the history store's newest full
 * frame of each symbol (read in place, no copy), each symbol's feed state and,
 * when one is plugged in, a {@link MidLookback} for the 1-minute and
 * 15-minute mid changes (NaN without one).
 *
 * The message is columnar: every column holds one value per symbol in the
 * order of the server's symbol list (`Hello.symbols`), so names are never
 * resent. Columns are read straight from the frames by the one summary
 * writer (`summary_writer.ts`, shared with the dashboard node's merged
 * summary, `bus_summary.ts`) into its reused protobuf writer (packed
 * doubles, floats and one byte per symbol), so a build allocates only the
 * finished message, which the hub then sends,
 * unchanged, to every client that asked for it (`ws_hub.ts`). At 2,000
 * symbols a summary is 90 KB: 45 bytes per symbol (8 for mid, 4 for each
 * of nine floats, 1 for the feed state) plus 38 bytes of framing.
 *
 * @example
 * ```ts
 * import { FrameSlotLayout, FRAME_MID, FRAME_SYMBOL_ID } from "../pipeline/frame_slot.ts";
 * import { HistoryStore } from "./history_store.ts";
 * import { MarketSummaryBuilder } from "./market_summary.ts";
 * const layout = new FrameSlotLayout({ levels: 5 });
 * const history = new HistoryStore({ symbols: 2, layout });
 * const frame = new Float64Array(layout.slotWords);
 * frame[FRAME_SYMBOL_ID] = 1;
 * frame[FRAME_MID] = 3000.5;
 * history.push(frame);
 * const builder = new MarketSummaryBuilder({ history, epoch: "e1", feedState: () => 1 });
 * const bytes = builder.build(Date.now()); // a ServerMessage { summary }
 * builder.seq; // 1
 * ```
 * @module
 */

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  DEPTH_BANDS_BPS,
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_OFI_10S,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
  FRAME_VOLATILITY_1M,
} from "../pipeline/frame_slot.ts";
import { fieldNumbers } from "../analytics/wire_encoder.ts";
import { ServerMessageSchema } from "../../proto/gen/market_pb.ts";
import type { HistoryStore } from "./history_store.ts";
import { type SummaryReaders, SummaryWriter } from "./summary_writer.ts";

/**
 * Where the summary's mid changes look back: the mid of a symbol at a past
 * time. The bar store (`bar_store.ts`, 10-second bars) implements it.
 *
 * @example
 * ```ts
 * import type { MidLookback } from "./market_summary.ts";
 * const flat: MidLookback = { midAt: () => 100 }; // every symbol at 100, always
 * ```
 */
export interface MidLookback {
  /** Mid of symbol `id` at epoch ms `timeMs` (10 s granularity); NaN when unknown. */
  midAt(id: number, timeMs: number): number;
}

/** Options of {@link MarketSummaryBuilder}. */
export interface MarketSummaryOptions {
  /** The main thread's frames; the summary covers its `symbols` ids. Required. */
  history: HistoryStore;
  /** The hub's epoch (`WsHub.epoch`), carried in every summary. Required. */
  epoch: string;
  /**
   * The feed state of symbol `id` (a `FeedState` value, 0..255), e.g. read
   * from the pipeline counters' `INGEST_FEED_STATE`. Required.
   */
  feedState: (id: number) => number;
  /** Mid lookback for the 1 m and 15 m changes. Default none: both columns are NaN. */
  lookback?: MidLookback;
}

const M = fieldNumbers(ServerMessageSchema, ["conflated"]);

/** Lookback of the 1 m and 15 m changes, ms. */
const MINUTE_MS = 60_000;
const FIFTEEN_MINUTES_MS = 15 * MINUTE_MS;

/** Index of the 10 bps band in `DEPTH_BANDS_BPS`. */
const BAND_10 = DEPTH_BANDS_BPS.indexOf(10);

/**
 * Builds the once-a-second summary; see the module docs.
 *
 * @example
 * ```ts
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { HistoryStore } from "./history_store.ts";
 * import { MarketSummaryBuilder } from "./market_summary.ts";
 * const history = new HistoryStore({ symbols: 1, layout: new FrameSlotLayout() });
 * const builder = new MarketSummaryBuilder({
 *   history,
 *   epoch: "e1",
 *   feedState: () => 0,
 *   lookback: { midAt: () => NaN },
 * });
 * builder.build(Date.now()).length > 0; // true
 * ```
 */
export class MarketSummaryBuilder {
  /** Symbols covered (ids 0..symbols-1). */
  readonly symbols: number;
  readonly #history: HistoryStore;
  readonly #feedState: (id: number) => number;
  #lookback: MidLookback | undefined;
  /** The per-symbol feed states of one build (reused). */
  readonly #states: Uint8Array;
  /** The message writer shared with the bus summary (`summary_writer.ts`). */
  readonly #writer: SummaryWriter;
  /** The column readers over the newest frames (made once; they read `#now`). */
  readonly #read: SummaryReaders;
  /** `nowMs` of the build in progress. */
  #now = 0;

  /** @throws RangeError when the depth bands hold no 10 bps band. */
  constructor(options: MarketSummaryOptions) {
    if (BAND_10 < 0) {
      throw new RangeError(
        `MarketSummaryBuilder: expected a 10 bps depth band, got bands ${DEPTH_BANDS_BPS}`,
      );
    }
    const history = this.#history = options.history;
    this.symbols = history.symbols;
    this.#feedState = options.feedState;
    this.#lookback = options.lookback;
    this.#states = new Uint8Array(this.symbols);
    this.#writer = new SummaryWriter({ symbols: this.symbols, epoch: options.epoch });
    const at = (offset: number) => (id: number): number => {
      const base = history.latestBase(id);
      return base < 0 ? NaN : history.f64(id)[base + offset];
    };
    const mid = at(FRAME_MID);
    const receive = at(FRAME_RECEIVE_TIME);
    this.#read = {
      mid,
      change1m: (id) => change(mid(id), this.#lookback, id, this.#now - MINUTE_MS),
      change15m: (id) => change(mid(id), this.#lookback, id, this.#now - FIFTEEN_MINUTES_MS),
      spreadBps: at(FRAME_SPREAD_BPS),
      imbalanceL5: at(FRAME_IMBALANCE_5),
      ofi10s: at(FRAME_OFI_10S),
      volatility1m: at(FRAME_VOLATILITY_1M),
      depthBid10bps: at(history.layout.depthBidQuote(BAND_10)),
      depthAsk10bps: at(history.layout.depthAskQuote(BAND_10)),
      ageMs: (id) => this.#now - receive(id),
    };
  }

  /** Summaries built so far (the seq of the newest; 0 before the first). */
  get seq(): number {
    return this.#writer.seq;
  }

  /** Bytes of every summary built so far. */
  get bytesBuilt(): number {
    return this.#writer.bytesBuilt;
  }

  /** The newest summary built (a `ServerMessage { summary }`), or null before the first. */
  get latest(): Uint8Array<ArrayBuffer> | null {
    return this.#writer.latest;
  }

  /** Plug in (or remove, with `undefined`) the mid lookback of the change columns. */
  setLookback(lookback: MidLookback | undefined): void {
    this.#lookback = lookback;
  }

  /**
   * Build the next summary at epoch ms `nowMs` (its seq is one more than the
   * previous one's) and keep it as {@link MarketSummaryBuilder.latest}.
   * Returns the bytes of a `ServerMessage { summary }`.
   */
  build(nowMs: number): Uint8Array<ArrayBuffer> {
    const states = this.#states;
    for (let id = 0; id < this.symbols; id++) states[id] = this.#feedState(id) & 0xff;
    this.#now = nowMs;
    return this.#writer.write(nowMs, states, this.#read);
  }
}

/** mid / (mid at `thenMs`) - 1, NaN when either is unknown. */
function change(mid: number, back: MidLookback | undefined, id: number, thenMs: number): number {
  if (back === undefined) return NaN;
  const then = back.midAt(id, thenMs);
  return then > 0 ? mid / then - 1 : NaN;
}

/**
 * The bytes of a summary message (from {@link MarketSummaryBuilder.build})
 * with `ServerMessage.conflated` = `skipped` appended (a protobuf field may
 * follow the others), for a client that missed `skipped` summaries.
 *
 * @throws RangeError when `skipped` is not an integer from 1 to 2^32-1.
 * @example
 * ```ts
 * import { fromBinary } from "@bufbuild/protobuf";
 * import { ServerMessageSchema } from "../../proto/gen/market_pb.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { HistoryStore } from "./history_store.ts";
 * import { MarketSummaryBuilder, withConflated } from "./market_summary.ts";
 * const history = new HistoryStore({ symbols: 1, layout: new FrameSlotLayout() });
 * const summary = new MarketSummaryBuilder({ history, epoch: "e", feedState: () => 1 }).build(0);
 * fromBinary(ServerMessageSchema, withConflated(summary, 3)).conflated; // 3
 * ```
 */
export function withConflated(summary: Uint8Array, skipped: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(skipped) || skipped < 1 || skipped > 0xffffffff) {
    throw new RangeError(
      `withConflated: skipped must be an integer from 1 to 2^32-1, got ${skipped}`,
    );
  }
  const tail = new BinaryWriter().tag(M.conflated, WireType.Varint).uint32(skipped).finish();
  const out = new Uint8Array(summary.length + tail.length);
  out.set(summary, 0);
  out.set(tail, summary.length);
  return out;
}
