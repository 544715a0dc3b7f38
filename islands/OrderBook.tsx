/**
 * Island: the order-book ladder and the key numbers of the shown symbol.
 *
 * A fixed number of rows per side (blank rows fill a shallow book), fixed
 * row heights and tabular numbers, so updates never move the layout. Size
 * bars are `transform: scaleX(…)` of a full-width bar (no reflow), walls are
 * marked, the spread row sits between asks and bids. Prices use the
 * symbol's tick decimals.
 *
 * A consolidated instrument (`X:…`) also shows the venue tag of every level
 * (`BN`, `OK`, `BY`…), the cross-venue spread, an `ARB` badge with the gap
 * and the two venues when the book is crossed, and a venues panel: each
 * member's best bid and ask, the age of its book and LIVE or STALE (a stale
 * member is greyed: it contributes no level).
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import { useEffect, useMemo } from "preact/hooks";
import type { DashboardSeed } from "../lib/client/dashboard_seed.ts";
import { pageStore } from "../lib/client/page_store.ts";
import { createLadder, fillLadder, type LadderRow } from "../lib/client/ladder_view.ts";
import { formatBps, formatFixed, type TickFormatter } from "../lib/client/tick_format.ts";
import { type DashFrame } from "../lib/client/dash_frame.ts";
import { arbitrageOf, memberTags } from "../lib/client/venue_view.ts";

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
  /** Member tags of a consolidated instrument; undefined for a plain symbol. */
  tags?: readonly string[];
}

function Row({ row, side, fmt, sizes, tags }: RowProps) {
  if (!row.present) {
    return (
      <div class={`lrow ${side} blank`}>
        <span class="bar" />
        {tags && <span class="vn" />}
        <span class="px num" />
        <span class="sz num" />
        <span class="tot num" />
      </div>
    );
  }
  return (
    <div class={`lrow ${side}${row.wall ? " wall" : ""}`}>
      <span class="bar" style={`transform:scaleX(${row.bar.toFixed(4)})`} />
      {tags && <span class="vn" data-venue={row.venue}>{tags[row.venue] ?? "?"}</span>}
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

/** The venues panel of a consolidated instrument: one row per member. */
function Venues({ f, tags, fmt }: { f: DashFrame; tags: readonly string[]; fmt: TickFormatter }) {
  return (
    <div class="venues" role="table" aria-label="venues">
      <div class="vrow vhead">
        <span>venue</span>
        <span>bid</span>
        <span>ask</span>
        <span>age</span>
        <span>state</span>
      </div>
      {f.venues.map((v, k) => (
        <div
          key={`v${k}`}
          class={`vrow${v.stale ? " stale" : ""}`}
          data-venue-symbol={v.symbol}
          data-stale={v.stale ? "1" : "0"}
          title={v.stale ? `${v.symbol}: stale, its levels are left out` : v.symbol}
        >
          <span class="vn">
            {/* The tag names the venue: the symbol as the venue spells it (OKX:BTC-USDT → BTC-USDT). */}
            {tags[k]} <span class="vsym">{v.symbol.slice(v.symbol.indexOf(":") + 1)}</span>
          </span>
          <span class="num">{fmt.price(v.bestBid)}</span>
          <span class="num">{fmt.price(v.bestAsk)}</span>
          <span class="num">{Number.isFinite(v.ageMs) ? `${Math.round(v.ageMs)} ms` : "—"}</span>
          <span class="vstate">{v.stale ? "STALE" : "LIVE"}</span>
        </div>
      ))}
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
  const consolidated = f !== null && f.venues.length > 0;
  const tags = consolidated ? memberTags(f.venues.map((v) => v.symbol)) : undefined;
  const arb = consolidated ? arbitrageOf(f) : null;
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
      {tags && (
        <div class="xvenue">
          <span class="stat-label">cross-venue spread</span>{" "}
          <span class="num xspread">
            {fmt.price(ladder.spread)} ({tags[f!.bidVenues[0]] ?? "—"} bid ·{" "}
            {tags[f!.askVenues[0]] ?? "—"} ask)
          </span>
          {arb && (
            <span
              class="arb"
              title="crossed: the best bid on one venue is above the best ask on another"
            >
              ARB +{fmt.price(arb.gap)} · buy {tags[arb.askMember]} sell {tags[arb.bidMember]}
            </span>
          )}
        </div>
      )}
      <div
        class={`ladder${tags ? " consolidated" : ""}`}
        role="table"
        aria-label={`${symbol} order book`}
      >
        <div class="lrow lhead">
          {tags && <span class="vn">venue</span>}
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
            tags={tags}
          />
        ))}
        <div class="lrow spread-row">
          {tags && <span class="vn" />}
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
            tags={tags}
          />
        ))}
        {!f && <div class="empty">waiting for the book…</div>}
      </div>
      {consolidated && tags && <Venues f={f!} tags={tags} fmt={fmt} />}
    </section>
  );
}
