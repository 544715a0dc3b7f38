/**
 * The overview (screener) table's state, pure and allocation-light: the
 * newest summary's columns ({@linkcode SummaryColumns}), a filter, a sort
 * column and direction, and the resulting row order, an `Int32Array` of
 * symbol ids reused for every summary. {@linkcode visibleRange} picks the
 * rows a virtualised list draws. Values that could not be computed (NaN)
 * always sort last, whatever the direction.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import { OverviewModel } from "./overview_model.ts";
 * const model = new OverviewModel(["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
 * model.columns.mid.set([65000, 3000, 150]);
 * model.setSort("mid", "asc");
 * model.setFilter("usdt");
 * model.refresh();
 * [...model.order.subarray(0, model.count)]; // [2, 1, 0]
 * ```
 * @module
 */
import { type FloatColumn, SummaryColumns } from "./summary_decode.ts";

/** A sortable column of the overview. */
export type OverviewKey = "symbol" | "feedState" | "mid" | FloatColumn | "depth10bps";

/**
 * The overview's columns, in display order, with their header text.
 *
 * @example
 * ```ts
 * import { OVERVIEW_COLUMNS } from "./overview_model.ts";
 * OVERVIEW_COLUMNS[0].key; // "symbol"
 * ```
 */
export const OVERVIEW_COLUMNS: readonly { key: OverviewKey; label: string; title: string }[] = [
  { key: "symbol", label: "Symbol", title: "Symbol" },
  { key: "feedState", label: "Feed", title: "Feed state" },
  { key: "mid", label: "Mid", title: "Mid price" },
  { key: "change1m", label: "1m %", title: "Mid change over 1 minute" },
  { key: "change15m", label: "15m %", title: "Mid change over 15 minutes" },
  { key: "spreadBps", label: "Spread bps", title: "Spread, bps of mid" },
  { key: "imbalanceL5", label: "Imb 5", title: "Top-5 order book imbalance (-1..1)" },
  { key: "ofi10s", label: "OFI 10s", title: "Order-flow imbalance over 10 s" },
  { key: "volatility1m", label: "Vol 1m bps", title: "Realised volatility over 1 minute, bps" },
  { key: "depth10bps", label: "Depth ±10bps", title: "Bid + ask depth within 10 bps, quote" },
  { key: "ageMs", label: "Age", title: "Age of the newest update" },
];

/** Feed state names by value. */
export const FEED_STATE_LABELS: readonly string[] = ["connecting", "live", "stale", "resyncing"];

/** Sort direction. */
export type SortDirection = "asc" | "desc";

/**
 * See the module docs.
 *
 * @example
 * ```ts
 * import { OverviewModel } from "./overview_model.ts";
 * const model = new OverviewModel(["BTCUSDT", "ETHUSDT"]);
 * model.toggleSort("symbol"); // the symbol column was the sort: now descending
 * model.refresh();
 * model.symbolAt(0); // "ETHUSDT"
 * ```
 */
export class OverviewModel {
  /** Upper-case symbols, index = symbol id (the server's order). */
  readonly symbols: readonly string[];
  /** The newest summary's values. */
  readonly columns: SummaryColumns;
  /** Symbol ids of the rows shown, in order; the first {@linkcode OverviewModel.count} are valid. */
  readonly order: Int32Array;
  /** Rows that pass the filter. */
  count = 0;
  /** Sort column. Default "symbol". */
  sortKey: OverviewKey = "symbol";
  /** Sort direction. Default "asc". */
  direction: SortDirection = "asc";
  /** Filter: upper-case substring of the symbol ("" = every symbol). */
  filter = "";
  /** Each symbol's rank in alphabetical order (the symbol sort compares numbers). */
  readonly #rank: Int32Array;
  /** The sort column's values, one per symbol (reused). */
  readonly #key: Float64Array;
  readonly #compare: (a: number, b: number) => number;

  /** Every symbol shown, sorted by symbol, values NaN until a summary arrives. */
  constructor(symbols: readonly string[]) {
    this.symbols = symbols.map((s) => s.toUpperCase());
    const n = this.symbols.length;
    this.columns = new SummaryColumns(n);
    this.order = new Int32Array(n);
    this.#key = new Float64Array(n);
    this.#rank = new Int32Array(n);
    const byName = [...this.symbols.keys()].sort((a, b) =>
      this.symbols[a] < this.symbols[b] ? -1 : this.symbols[a] > this.symbols[b] ? 1 : a - b
    );
    byName.forEach((id, r) => this.#rank[id] = r);
    // NaN last in both directions; ties by symbol id so the order is stable.
    this.#compare = (a, b) => {
      const x = this.#key[a], y = this.#key[b];
      const xn = x !== x, yn = y !== y;
      if (xn || yn) return xn && yn ? a - b : xn ? 1 : -1;
      const d = this.direction === "asc" ? x - y : y - x;
      return d !== 0 ? d : a - b;
    };
    this.refresh();
  }

  /** Set the filter (case-insensitive substring of the symbol; spaces ignored). */
  setFilter(text: string): void {
    this.filter = text.replace(/\s+/g, "").toUpperCase();
  }

  /** Sort by `key` in `direction`. */
  setSort(key: OverviewKey, direction: SortDirection): void {
    this.sortKey = key;
    this.direction = direction;
  }

  /**
   * A header click: sort by `key`, or flip the direction when it already is
   * the sort column (numbers start descending, the symbol ascending).
   */
  toggleSort(key: OverviewKey): void {
    if (this.sortKey === key) this.direction = this.direction === "asc" ? "desc" : "asc";
    else this.setSort(key, key === "symbol" ? "asc" : "desc");
  }

  /** The symbol of row `row` (0 = first shown), or undefined past the end. */
  symbolAt(row: number): string | undefined {
    return row >= 0 && row < this.count ? this.symbols[this.order[row]] : undefined;
  }

  /** The value of column `key` for symbol `id` (the symbol's alphabetical rank for "symbol"). */
  value(key: OverviewKey, id: number): number {
    const c = this.columns;
    switch (key) {
      case "symbol":
        return this.#rank[id];
      case "feedState":
        return c.feedState[id];
      case "mid":
        return c.mid[id];
      case "depth10bps":
        return c.depthBid10bps[id] + c.depthAsk10bps[id];
      default:
        return c[key][id];
    }
  }

  /** Recompute the rows: filter, then sort (after a summary, a filter or a sort change). */
  refresh(): void {
    const n = this.symbols.length;
    const order = this.order;
    const key = this.#key;
    const sortKey = this.sortKey;
    let count = 0;
    for (let id = 0; id < n; id++) {
      if (this.filter !== "" && !this.symbols[id].includes(this.filter)) continue;
      order[count++] = id;
      key[id] = this.value(sortKey, id);
    }
    this.count = count;
    order.subarray(0, count).sort(this.#compare);
  }
}

/**
 * The rows a virtualised list of `count` rows of `rowHeight` px draws in a
 * viewport of `viewportHeight` px scrolled to `scrollTop`: from `start`
 * (inclusive) to `end` (exclusive), `overscan` rows beyond each edge.
 *
 * @example
 * ```ts
 * import { visibleRange } from "./overview_model.ts";
 * visibleRange({ scrollTop: 240, viewportHeight: 480, rowHeight: 24, count: 2000, overscan: 4 });
 * // { start: 6, end: 34 }
 * ```
 */
export function visibleRange(
  view: {
    scrollTop: number;
    viewportHeight: number;
    rowHeight: number;
    count: number;
    overscan: number;
  },
): { start: number; end: number } {
  const { scrollTop, viewportHeight, rowHeight, count, overscan } = view;
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewportHeight)) / rowHeight);
  return {
    start: Math.max(0, Math.min(count, first - overscan)),
    end: Math.max(0, Math.min(count, last + overscan)),
  };
}

/**
 * The text of a cell: prices to 6 significant digits, changes as signed
 * percentages, volatility in bps, depth in K/M, age in ms or seconds; "–"
 * for NaN.
 *
 * @example
 * ```ts
 * import { formatCell } from "./overview_model.ts";
 * formatCell("change1m", 0.0123); // "+1.23"
 * formatCell("mid", NaN); // "–"
 * ```
 */
export function formatCell(key: OverviewKey, v: number): string {
  if (key === "feedState") return FEED_STATE_LABELS[v] ?? String(v);
  if (v !== v) return "–";
  switch (key) {
    case "mid":
      return v >= 1e5 ? v.toFixed(0) : v.toPrecision(6);
    case "change1m":
    case "change15m":
      // A change that rounds to 0.00 % is shown unsigned (never "-0.00").
      if (Math.abs(v * 100) < 0.005) return "0.00";
      return `${v > 0 ? "+" : ""}${(v * 100).toFixed(2)}`;
    case "spreadBps":
      return v.toFixed(2);
    case "imbalanceL5":
      return Math.abs(v) < 0.005 ? "0.00" : v.toFixed(2);
    case "volatility1m":
      return (v * 1e4).toFixed(2);
    case "ofi10s":
    case "depth10bps":
      return compact(v);
    case "ageMs":
      return v < 1000 ? `${Math.max(0, Math.round(v))}ms` : `${(v / 1000).toFixed(1)}s`;
    default:
      return String(v);
  }
}

function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}K`;
  return v.toFixed(a >= 10 ? 0 : 2);
}
