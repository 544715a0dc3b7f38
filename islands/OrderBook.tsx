/**
 * Island: the order-book ladder and the key numbers of the shown symbol.
 *
 * A fixed number of rows per side (blank rows fill a shallow book), fixed
 * row heights and tabular numbers, so updates never move the layout. Size
 * bars are `transform: scaleX(…)` of a full-width bar (no reflow), walls are
 * marked, the spread row sits between asks and bids. Prices use the
 * symbol's tick decimals.
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import type { DashboardSeed } from "../lib/client/dashboard_seed.ts";
import { pageStore } from "../lib/client/page_store.ts";
import { createLadder, fillLadder, type LadderRow } from "../lib/client/ladder_view.ts";
import { formatBps, formatFixed, type TickFormatter } from "../lib/client/tick_format.ts";

/**
 * Props of {@linkcode OrderBook}.
 *
 * @example
 * ```ts
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import type { OrderBookProps } from "./OrderBook.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const props: OrderBookProps = { seed, rows: 12 };
 * ```
 */
export interface OrderBookProps {
  /** The page's seed signal. */
  seed: Signal<DashboardSeed>;
  /** Rows per side. Default 12. */
  rows?: number;
}

interface RowProps {
  row: LadderRow;
  side: "bid" | "ask";
  fmt: TickFormatter;
  sizes: TickFormatter;
}

function Row({ row, side, fmt, sizes }: RowProps) {
  if (!row.present) {
    return (
      <div class={`lrow ${side} blank`}>
        <span class="bar" />
        <span class="px num" />
        <span class="sz num" />
        <span class="tot num" />
      </div>
    );
  }
  return (
    <div class={`lrow ${side}${row.wall ? " wall" : ""}`}>
      <span class="bar" style={`transform:scaleX(${row.bar.toFixed(4)})`} />
      <span class="px num">{fmt.price(row.price)}</span>
      <span class="sz num">{sizes.price(row.size)}</span>
      <span class="tot num">{sizes.price(row.total)}</span>
    </div>
  );
}

function Stat({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div class="stat" title={title}>
      <span class="stat-label">{label}</span>
      <span class="stat-value num">{value}</span>
    </div>
  );
}

/**
 * The ladder panel.
 *
 * @example
 * ```tsx
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import OrderBook from "./OrderBook.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const island = <OrderBook seed={seed} rows={12} />;
 * ```
 */
export default function OrderBook({ seed, rows = 12 }: OrderBookProps) {
  const store = pageStore(seed);
  useEffect(() => store.retain(), [store]);
  const ladder = useMemo(() => createLadder(rows), [rows]);
  store.version.value;
  const symbol = store.symbol.value;
  const f = store.latest(symbol);
  const fmt = store.format(symbol);
  const sizes = store.sizeFormat(symbol);
  fillLadder(f, ladder);
  return (
    <section class="panel book" data-symbol={symbol} data-seq={f ? String(f.seq) : ""}>
      <header class="panel-head">
        <h2>Order book</h2>
        <span class="num head-value">{symbol}{f?.stale ? " · stale" : ""}</span>
      </header>
      <div class="stats">
        <Stat label="mid" value={f ? fmt.price(f.mid) : "—"} />
        <Stat label="spread" value={f ? `${formatBps(f.spreadBps)} bps` : "—"} />
        <Stat label="w.mid" value={f ? fmt.price(f.weightedMid) : "—"} />
        <Stat label="imb L5" value={f ? formatFixed(f.imbalance5, 2) : "—"} />
        <Stat
          label="vol 1m"
          value={f ? `${formatFixed(f.vol1m * 1e4, 2)} bps` : "—"}
          title="realised volatility of mid over 1 minute"
        />
        <Stat label="rate" value={f ? `${formatFixed(f.frameRate, 1)}/s` : "—"} />
      </div>
      <div class="ladder" role="table" aria-label={`${symbol} order book`}>
        <div class="lrow lhead">
          <span class="px">price</span>
          <span class="sz">size</span>
          <span class="tot">total</span>
        </div>
        {ladder.asks.map((r, i) => (
          <Row
            key={`a${i}`}
            row={r}
            side="ask"
            fmt={fmt}
            sizes={sizes}
          />
        ))}
        <div class="lrow spread-row">
          <span class="px num">{f ? fmt.price(ladder.spread) : "—"}</span>
          <span class="sz num">{f ? `${formatBps(ladder.spreadBps)} bps` : ""}</span>
          <span class="tot num">spread</span>
        </div>
        {ladder.bids.map((r, i) => (
          <Row
            key={`b${i}`}
            row={r}
            side="bid"
            fmt={fmt}
            sizes={sizes}
          />
        ))}
        {!f && <div class="empty">waiting for the book…</div>}
      </div>
    </section>
  );
}
