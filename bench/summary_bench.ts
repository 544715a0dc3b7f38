/**
 * Summary bench: what the once-a-second market summary of 2,000 symbols
 * costs: building it on the main thread from the history store's newest
 * frames (`MarketSummaryBuilder.build`, with a mid lookback) and decoding it
 * in the browser into the reused columns (`decodeSummary`), then filtering
 * and sorting the overview's rows (`OverviewModel.refresh`, by a numeric
 * column). Default layout (20 levels), every symbol with a frame. And a
 * dashboard node's merge of the ingest nodes' summaries (`BusSummary`,
 * issue 16): taking one node's summary (half of the symbols its) and
 * building the merged summary.
 *
 * Run: `deno bench -A bench/summary_bench.ts`.
 * @module
 */
import {
  FRAME_IMBALANCE_5,
  FRAME_MID,
  FRAME_RECEIVE_TIME,
  FRAME_SPREAD_BPS,
  FRAME_SYMBOL_ID,
  FrameSlotLayout,
} from "../lib/pipeline/frame_slot.ts";
import { HistoryStore } from "../lib/server/history_store.ts";
import { MarketSummaryBuilder } from "../lib/server/market_summary.ts";
import { BusSummary } from "../lib/server/bus_summary.ts";
import { decodeSummary } from "../lib/client/summary_decode.ts";
import { OverviewModel } from "../lib/client/overview_model.ts";

const N = 2000;
const layout = new FrameSlotLayout();
const history = new HistoryStore({ symbols: N, layout, depth: 1 });
const slot = new Float64Array(layout.slotWords);
for (let id = 0; id < N; id++) {
  slot.fill(0.5 + id);
  slot[FRAME_SYMBOL_ID] = id;
  slot[FRAME_MID] = 100 + id * 0.37;
  slot[FRAME_SPREAD_BPS] = (id % 17) / 3;
  slot[FRAME_IMBALANCE_5] = ((id % 21) - 10) / 10;
  slot[FRAME_RECEIVE_TIME] = Date.now();
  history.push(slot);
}
const builder = new MarketSummaryBuilder({
  history,
  epoch: crypto.randomUUID(),
  feedState: () => 1,
  lookback: { midAt: (id) => 100 + id * 0.36 },
});
const bytes = builder.build(Date.now());
const model = new OverviewModel(Array.from({ length: N }, (_, i) => `S${i}USDT`));

Deno.bench(`server: build the summary of ${N} symbols (${bytes.length} bytes)`, () => {
  builder.build(Date.now());
});

Deno.bench(`browser: decode the summary of ${N} symbols into the columns`, () => {
  decodeSummary(bytes, model.columns);
});

Deno.bench(`browser: filter and sort ${N} rows by spread`, () => {
  model.setSort("spreadBps", "desc");
  model.refresh();
});

const owners = Array.from({ length: N }, (_, id) => id % 2 === 0 ? "a" : "b");
const merged = new BusSummary({ symbols: N, epoch: "dash", ownerOf: (id) => owners[id] });
// Two restarts of node "a" (two epochs), alternated, so that every summary is taken
// (the same summary twice would be refused as out of order).
const restarts = ["a1", "a2"].map((epoch) =>
  new MarketSummaryBuilder({ history, epoch, feedState: () => 1 }).build(Date.now())
);
let received = Date.now();
merged.accept("b", bytes, received);

Deno.bench(`dashboard: take one ingest node's summary of ${N} symbols (half its)`, () => {
  received++;
  if (!merged.accept("a", restarts[received & 1], received)) throw new Error("refused");
});

Deno.bench(`dashboard: build the merged summary of ${N} symbols`, () => {
  merged.build(received);
});
