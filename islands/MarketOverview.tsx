/**
 * Island: the market overview (screener), one row per symbol, live from the
 * once-a-second market summary (`lib/client/summary_feed.ts`).
 *
 * Virtualised: a fixed-height scroll container holds a spacer as tall as
 * every row, and only the rows in view (plus a few of overscan) exist in the
 * DOM, reused by position, so 2,000 symbols cost some 40 rows. Everything
 * (decoding the newest summary, filtering, sorting, drawing) happens in one
 * render per animation frame at most ({@linkcode RenderScheduler}); the
 * columns and the row order are typed arrays reused for every summary.
 *
 * Keyboard: the filter box filters as one types (Enter opens the first row,
 * ArrowDown moves to it); the column headers are buttons (Enter or Space
 * sorts, again flips the direction); in the rows, ArrowUp/ArrowDown move,
 * Home/End jump, Enter opens the symbol's detail page (`/s/{SYMBOL}`), as a
 * click does.
 *
 * @module
 */
import { isConsolidatedName } from "../lib/pipeline/venue_id.ts";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  formatCell,
  OVERVIEW_COLUMNS,
  type OverviewKey,
  OverviewModel,
} from "../lib/client/overview_model.ts";
import { visibleRange } from "../lib/client/overview_model.ts";
import { bytesOfBase64, type OverviewSeed } from "../lib/client/overview_seed.ts";
import { RenderScheduler } from "../lib/client/render_scheduler.ts";
import { decodeSummary } from "../lib/client/summary_decode.ts";
import { SummaryFeed, type SummaryFeedState } from "../lib/client/summary_feed.ts";

/** Height of one row, px (the CSS `--ov-row` must match). */
const ROW = 24;
/** Rows drawn beyond each edge of the viewport. */
const OVERSCAN = 6;
/** Viewport height assumed before the browser measures it (the server render), px. */
const FIRST_VIEWPORT = 720;

/**
 * Props of {@linkcode MarketOverview}.
 *
 * @example
 * ```ts
 * import type { MarketOverviewProps } from "./MarketOverview.tsx";
 * const props: MarketOverviewProps = {
 *   seed: { symbols: ["BTCUSDT"], summary: "", wsPath: "/ws", detailPath: "/s/" },
 * };
 * ```
 */
export interface MarketOverviewProps {
  /** The route's first-paint data. */
  seed: OverviewSeed;
}

function modelOf(symbols: readonly string[], summary: Uint8Array | null): OverviewModel {
  const model = new OverviewModel(symbols);
  if (summary !== null) {
    try {
      decodeSummary(summary, model.columns);
    } catch {
      // a summary of another symbol list: the live one replaces it
    }
  }
  model.refresh();
  return model;
}

/**
 * The overview table.
 *
 * @example
 * ```tsx
 * import MarketOverview from "./MarketOverview.tsx";
 * const island = (
 *   <MarketOverview seed={{ symbols: ["BTCUSDT"], summary: "", wsPath: "/ws", detailPath: "/s/" }} />
 * );
 * ```
 */
export default function MarketOverview({ seed }: MarketOverviewProps) {
  const [model, setModel] = useState(() =>
    modelOf(seed.symbols, seed.summary ? bytesOfBase64(seed.summary) : null)
  );
  const [, setVersion] = useState(0);
  const [feedState, setFeedState] = useState<SummaryFeedState>("connecting");
  const scroller = useRef<HTMLDivElement>(null);
  const view = useRef({ scrollTop: 0, height: FIRST_VIEWPORT, focusRow: -1 });
  const live = useRef({ model, feed: null as SummaryFeed | null });
  live.current.model = model;
  const scheduler = useMemo(
    () =>
      typeof requestAnimationFrame === "function"
        ? new RenderScheduler(() => {
          const { model, feed } = live.current;
          const bytes = feed?.take() ?? null;
          if (bytes !== null) {
            try {
              decodeSummary(bytes, model.columns);
            } catch {
              // columns for another symbol list: its Hello brings the new list
            }
          }
          model.refresh();
          const el = scroller.current;
          if (el) {
            view.current.scrollTop = el.scrollTop;
            view.current.height = el.clientHeight;
          }
          setVersion((v) => v + 1);
        })
        : null,
    [],
  );
  useEffect(() => {
    if (scheduler === null) return;
    const feed = new SummaryFeed({
      url: new URL(seed.wsPath, location.href),
      onSummary: () => scheduler.request(),
      onState: setFeedState,
      onSymbols: (symbols) => {
        const now = live.current.model.symbols;
        if (symbols.length === now.length && symbols.every((s, i) => s === now[i])) return;
        const next = modelOf(symbols, null);
        next.setFilter(live.current.model.filter);
        next.setSort(live.current.model.sortKey, live.current.model.direction);
        live.current.model = next;
        setModel(next);
        scheduler.request();
      },
    });
    live.current.feed = feed;
    scheduler.request(); // measure the viewport
    return () => {
      feed.close();
      scheduler.dispose();
    };
  }, [scheduler]);
  // After a keyboard move, focus the row once it is drawn.
  useLayoutEffect(() => {
    const row = view.current.focusRow;
    if (row < 0) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-row="${row}"]`);
    if (el) {
      view.current.focusRow = -1;
      el.focus({ preventScroll: true });
    }
  });

  const redraw = () => scheduler?.request();
  const open = (row: number) => {
    const symbol = model.symbolAt(row);
    if (symbol !== undefined) location.assign(seed.detailPath + encodeURIComponent(symbol));
  };
  /** Scroll row `row` into view and focus it once drawn. */
  const moveTo = (row: number) => {
    const el = scroller.current;
    if (!el || model.count === 0) return;
    const r = Math.max(0, Math.min(model.count - 1, row));
    const top = r * ROW, bottom = top + ROW, header = ROW;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (bottom + header > el.scrollTop + el.clientHeight) {
      el.scrollTop = bottom + header - el.clientHeight;
    }
    view.current.focusRow = r;
    redraw();
  };
  const onRowKey = (e: KeyboardEvent) => {
    const row = Number((e.target as HTMLElement).dataset?.row ?? NaN);
    if (!Number.isInteger(row)) return;
    const page = Math.max(1, Math.floor((view.current.height - ROW) / ROW) - 1);
    const to = e.key === "ArrowDown"
      ? row + 1
      : e.key === "ArrowUp"
      ? row - 1
      : e.key === "PageDown"
      ? row + page
      : e.key === "PageUp"
      ? row - page
      : e.key === "Home"
      ? 0
      : e.key === "End"
      ? model.count - 1
      : NaN;
    if (Number.isNaN(to)) return;
    e.preventDefault();
    if (to < 0) {
      (scroller.current?.parentElement?.querySelector(".ov-filter") as HTMLElement | null)?.focus();
      return;
    }
    moveTo(to);
  };

  const { start, end } = visibleRange({
    scrollTop: view.current.scrollTop,
    viewportHeight: view.current.height,
    rowHeight: ROW,
    count: model.count,
    overscan: OVERSCAN,
  });
  const rows = [];
  for (let row = start; row < end; row++) {
    rows.push(<Row key={row - start} model={model} row={row} detailPath={seed.detailPath} />);
  }
  const c = model.columns;
  return (
    <section
      class="ov"
      data-seq={String(c.seq)}
      data-rows={String(model.count)}
      data-feed={feedState}
      aria-label="Market overview"
    >
      <div class="ov-tools">
        <input
          class="ov-filter"
          type="search"
          placeholder="Filter symbols"
          aria-label="Filter symbols"
          autocomplete="off"
          spellcheck={false}
          onInput={(e) => {
            model.setFilter((e.target as HTMLInputElement).value);
            model.refresh();
            if (scroller.current) scroller.current.scrollTop = 0;
            redraw();
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              open(0);
            } else if (e.key === "ArrowDown") {
              e.preventDefault();
              moveTo(0);
            }
          }}
        />
        <span class="ov-count num">
          {model.count === model.symbols.length
            ? `${model.symbols.length} symbols`
            : `${model.count} of ${model.symbols.length} symbols`}
        </span>
        <span class={`ov-feed ov-feed-${feedState}`}>{feedState}</span>
      </div>
      <div
        class="ov-scroll"
        ref={scroller}
        onScroll={redraw}
        onKeyDown={onRowKey}
        role="table"
        aria-label="Symbols"
        aria-rowcount={model.count + 1}
      >
        <div class="ov-head" role="row">
          {OVERVIEW_COLUMNS.map((col) => (
            <HeaderCell
              key={col.key}
              col={col}
              model={model}
              onSort={(key) => {
                model.toggleSort(key);
                model.refresh();
                redraw();
              }}
            />
          ))}
        </div>
        <div class="ov-body" role="rowgroup" style={{ height: `${model.count * ROW}px` }}>
          <div class="ov-rows" style={{ transform: `translateY(${start * ROW}px)` }}>{rows}</div>
        </div>
      </div>
    </section>
  );
}

function HeaderCell(
  { col, model, onSort }: {
    col: (typeof OVERVIEW_COLUMNS)[number];
    model: OverviewModel;
    onSort: (key: OverviewKey) => void;
  },
) {
  const sorted = model.sortKey === col.key;
  const dir = model.direction === "asc" ? "ascending" : "descending";
  return (
    <button
      type="button"
      role="columnheader"
      class={`ov-h ov-c-${col.key}${sorted ? " ov-sorted" : ""}`}
      title={`${col.title}: sort`}
      aria-sort={sorted ? dir : "none"}
      data-key={col.key}
      onClick={() => onSort(col.key)}
    >
      {col.label}
      {sorted ? (model.direction === "asc" ? " ▲" : " ▼") : ""}
    </button>
  );
}

function Row(
  { model, row, detailPath }: { model: OverviewModel; row: number; detailPath: string },
) {
  const id = model.order[row];
  const symbol = model.symbols[id];
  const state = model.columns.feedState[id];
  return (
    <a
      class={`ov-row${row % 2 ? " ov-odd" : ""}${isConsolidatedName(symbol) ? " ov-x" : ""}`}
      role="row"
      href={detailPath + encodeURIComponent(symbol)}
      data-row={String(row)}
      data-symbol={symbol}
    >
      {OVERVIEW_COLUMNS.map(({ key }) => {
        if (key === "symbol") {
          return (
            <span key={key} role="gridcell" class="ov-c-symbol">
              {symbol}
              {isConsolidatedName(symbol) && (
                <span class="ov-xtag" title="consolidated instrument: several venues' books merged">
                  {" "}consolidated
                </span>
              )}
            </span>
          );
        }
        const v = model.value(key, id);
        const sign = (key === "change1m" || key === "change15m" || key === "imbalanceL5" ||
            key === "ofi10s") && v === v && v !== 0
          ? v > 0 ? " up" : " down"
          : "";
        const extra = key === "feedState" ? ` ov-state-${state}` : sign;
        return (
          <span key={key} role="gridcell" class={`num ov-c-${key}${extra}`}>
            {formatCell(key, v)}
          </span>
        );
      })}
    </a>
  );
}
