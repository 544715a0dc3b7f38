/**
 * `GET /`: the live dashboard.
 *
 * The handler reads the shown symbol's history from the service
 * (`?symbol=ETHUSDT` picks it, default the first symbol) and hands it to the
 * islands as one per-request seed signal, so the server-rendered first paint
 * already shows the current book and numbers, and the browser's rings start
 * full before the socket's Hello arrives.
 *
 * With `--auth-token`, the first visit carries `?token=`: a valid one is
 * moved into the `HttpOnly`, `SameSite=Strict` token cookie and the browser
 * is sent (303) to the same URL without it, so the token leaves the address
 * bar, history and logs; the islands' `/ws` and `/stats` then carry the
 * cookie. The page is `Cache-Control: no-store` (it holds data only a token
 * holder may see).
 *
 * @module
 */
import { signal } from "@preact/signals";
import { buildSeed } from "../lib/client/dashboard_seed.ts";
import { historyFrames } from "../lib/client/history_frames.ts";
import { checkAuth, tokenCookie, tokenMatches } from "../lib/server/auth.ts";
import { page } from "../lib/web/mod.ts";
import { define } from "../utils.ts";
import ConnectionBadge from "../islands/ConnectionBadge.tsx";
import DashboardControls from "../islands/DashboardControls.tsx";
import LiquidityHeatmap from "../islands/LiquidityHeatmap.tsx";
import LiveCharts from "../islands/LiveCharts.tsx";
import OrderBook from "../islands/OrderBook.tsx";
import PipelineHealth from "../islands/PipelineHealth.tsx";

/**
 * GET renders the dashboard with the requested (or first) symbol's history.
 *
 * @example
 * ```ts ignore
 * const res = await handler.GET(ctx); // page data: the dashboard seed
 * ```
 */
export const handler = define.handlers({
  GET(ctx) {
    const service = ctx.state.service;
    const symbols = service.symbols ?? [];
    const asked = (ctx.url.searchParams.get("symbol") ?? "").toUpperCase();
    const id = Math.max(0, symbols.indexOf(asked));
    // A valid ?token= becomes the cookie, and the URL loses it.
    const token = ctx.url.searchParams.get("token");
    if (service.authToken && token !== null && tokenMatches(token, service.authToken)) {
      const rest = new URLSearchParams(ctx.url.search);
      rest.delete("token");
      const search = rest.size > 0 ? `?${rest}` : "";
      return new Response(null, {
        status: 303,
        headers: {
          location: ctx.url.pathname + search,
          "set-cookie": tokenCookie(service.authToken),
          "cache-control": "no-store",
          "referrer-policy": "no-referrer",
        },
      });
    }
    // The page itself is open, but its data follows the token rule of
    // /api/history: without the token the first paint is empty. The islands'
    // /ws and /stats carry the token cookie (same origin).
    const authorized = checkAuth(ctx.req, ctx.url, service.authToken) === null;
    const frames = authorized && symbols.length > 0 && service.history
      ? historyFrames(service, id)
      : [];
    return page(
      buildSeed({
        symbols,
        symbol: symbols[id] ?? "",
        frames,
        wsPath: "/ws",
        statsPath: "/stats",
      }),
      { headers: { "Cache-Control": "no-store" } },
    );
  },
});

/**
 * The dashboard page: header with controls and badge, charts, ladder, health.
 *
 * @example
 * ```tsx ignore
 * <Dashboard {...pageProps} data={seed} />;
 * ```
 */
export default define.page<typeof handler>(function Dashboard({ data }) {
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
          <LiquidityHeatmap seed={seed} />
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
});
