/**
 * `GET /`: the live dashboard.
 *
 * The handler reads the shown symbol's history from `ctx.state.history`
 * (`?symbol=ETHUSDT` picks it, default the first symbol) and hands it to the
 * islands as one per-request seed signal, so the server-rendered first paint
 * already shows the current book and numbers, and the browser's rings start
 * full before the socket's Hello arrives.
 *
 * @module
 */
import { signal } from "@preact/signals";
import { readFrame } from "../lib/pipeline/analytics_frame.ts";
import type { FrameSlotLayout } from "../lib/pipeline/frame_slot.ts";
import { type DashFrame, dashFrameFromAnalytics } from "../lib/client/dash_frame.ts";
import { buildSeed, type DashboardSeed } from "../lib/client/dashboard_seed.ts";
import type { HistoryStore } from "../lib/server/history_store.ts";
import { checkAuth } from "../lib/server/auth.ts";
import type { Handlers, PageProps } from "../lib/web/types.ts";
import ConnectionBadge from "../islands/ConnectionBadge.tsx";
import DashboardControls from "../islands/DashboardControls.tsx";
import LiveCharts from "../islands/LiveCharts.tsx";
import OrderBook from "../islands/OrderBook.tsx";
import PipelineHealth from "../islands/PipelineHealth.tsx";

/** What the dashboard needs from `ctx.state` (a subset of the service state). */
export interface DashboardState {
  /** Upper-case symbols, index = symbol id. */
  symbols: readonly string[];
  /** Last frames per symbol. */
  history: HistoryStore;
  /** Analytics frame layout. */
  layout: FrameSlotLayout;
  /** Optional token guarding the data endpoints (`--auth-token`). */
  authToken?: string;
}

/**
 * Collect the history of symbol `id` as dashboard frames, oldest first.
 *
 * @example
 * ```ts ignore
 * const frames = historyFrames(ctx.state, 0);
 * ```
 */
export function historyFrames(state: DashboardState, id: number): DashFrame[] {
  const out: DashFrame[] = [];
  const symbol = state.symbols[id];
  state.history.forEach(id, (f64, base) => {
    out.push(dashFrameFromAnalytics(readFrame(f64, base, state.layout), symbol));
  });
  return out;
}

/** Render the dashboard with the requested (or first) symbol's history. */
export const handler: Handlers<DashboardSeed, DashboardState> = {
  GET(req, ctx) {
    const symbols = ctx.state.symbols ?? [];
    const asked = (ctx.url.searchParams.get("symbol") ?? "").toUpperCase();
    const id = Math.max(0, symbols.indexOf(asked));
    // The page itself is open, but its data follows the token rule of
    // /api/history: without the token the first paint is empty, and the
    // islands carry the page's ?token= on to /ws and /stats.
    const authorized = checkAuth(req, ctx.url, ctx.state.authToken) === null;
    const token = ctx.state.authToken && authorized ? ctx.url.searchParams.get("token") : null;
    const query = token ? `?token=${encodeURIComponent(token)}` : "";
    const frames = authorized && symbols.length > 0 && ctx.state.history
      ? historyFrames(ctx.state, id)
      : [];
    return ctx.render(
      buildSeed({
        symbols,
        symbol: symbols[id] ?? "",
        frames,
        wsPath: `/ws${query}`,
        statsPath: `/stats${query}`,
      }),
    );
  },
};

/** The dashboard page: header with controls and badge, charts, ladder, health. */
export default function Dashboard({ data }: PageProps<DashboardSeed>) {
  // One signal per request (never module level): every island gets the same
  // one, so the browser revives one shared signal and one page store.
  const seed = signal(data);
  return (
    <div class="dw">
      <link rel="stylesheet" href="/dashboard.css" />
      <header class="dw-top">
        <h1 class="brand">
          depth<span>watch</span>
        </h1>
        <DashboardControls seed={seed} />
        <ConnectionBadge seed={seed} />
      </header>
      <main class="dw-main">
        <div class="dw-charts">
          <LiveCharts seed={seed} />
        </div>
        <aside class="dw-book">
          <OrderBook seed={seed} />
        </aside>
        <div class="dw-health">
          <PipelineHealth seed={seed} />
        </div>
      </main>
    </div>
  );
}
