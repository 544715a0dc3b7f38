/**
 * `GET /s/{SYMBOL}`: the live detail dashboard of one symbol (charts, ladder,
 * pipeline health), deep-linkable.
 *
 * - `{SYMBOL}` is case-insensitive: `/s/btcusdt` is redirected (308) to the
 *   canonical `/s/BTCUSDT`, the query kept.
 * - A malformed name, or one the service does not serve, is a 404 rendered by
 *   `routes/_error.tsx`, which says where valid symbols are listed.
 * - The handler reads the symbol's history from the service and hands it to
 *   the islands as one per-request seed signal, so the server-rendered first
 *   paint already shows the current book and numbers; the islands' socket
 *   follows the same symbol (`/ws?symbol={SYMBOL}`).
 * - With `--auth-token`, a valid `?token=` is moved into the `HttpOnly`,
 *   `SameSite=Strict` token cookie and the browser is sent (303) to the
 *   canonical URL without it, so the token leaves the address bar, history
 *   and logs; without the token the page renders with no data (as
 *   `/api/history`). The page is `Cache-Control: no-store`.
 *
 * @module
 */
import { signal } from "@preact/signals";
import { buildSeed } from "../../lib/client/dashboard_seed.ts";
import { detailPath, resolveDetailSymbol } from "../../lib/client/detail_symbol.ts";
import { historyFrames } from "../../lib/client/history_frames.ts";
import { checkAuth, tokenCookie, tokenMatches } from "../../lib/server/auth.ts";
import { HttpError, page } from "../../lib/web/mod.ts";
import { replayPosition } from "../../lib/pipeline/replay_position.ts";
import { define } from "../../utils.ts";
import ConnectionBadge from "../../islands/ConnectionBadge.tsx";
import DashboardControls from "../../islands/DashboardControls.tsx";
import LiquidityHeatmap from "../../islands/LiquidityHeatmap.tsx";
import LiveCharts from "../../islands/LiveCharts.tsx";
import ModeBadge from "../../islands/ModeBadge.tsx";
import OrderBook from "../../islands/OrderBook.tsx";
import PipelineHealth from "../../islands/PipelineHealth.tsx";
import SymbolSearch from "../../islands/SymbolSearch.tsx";

/** The query without `token`, as `?…` (or "" when nothing is left). */
function searchWithoutToken(url: URL): string {
  const rest = new URLSearchParams(url.search);
  rest.delete("token");
  return rest.size > 0 ? `?${rest}` : "";
}

/**
 * GET renders the detail dashboard of the path's symbol (see the module docs).
 *
 * @example
 * ```ts ignore
 * const res = await handler.GET(ctx); // page data: the seed, a redirect, or a 404 thrown
 * ```
 */
export const handler = define.handlers({
  GET(ctx) {
    const service = ctx.state.service;
    const symbols = service.symbols ?? [];
    const resolved = resolveDetailSymbol(ctx.params.symbol ?? "", symbols);
    if (resolved.kind === "malformed") {
      throw new HttpError(
        404,
        "That is not a symbol name: expected 1 to 32 letters, digits, '_', '.', '-', ':' or '/'.",
      );
    }
    if (resolved.kind === "unknown") {
      throw new HttpError(404, `${resolved.symbol} is not a symbol this service watches.`);
    }
    const canonical = detailPath(resolved.symbol);
    // A valid ?token= becomes the cookie, and the URL loses it (and gets canonical).
    const token = ctx.url.searchParams.get("token");
    if (service.authToken && token !== null && tokenMatches(token, service.authToken)) {
      return new Response(null, {
        status: 303,
        headers: {
          location: canonical + searchWithoutToken(ctx.url),
          "set-cookie": tokenCookie(service.authToken),
          "cache-control": "no-store",
          "referrer-policy": "no-referrer",
        },
      });
    }
    if (resolved.kind === "redirect") {
      return new Response(null, {
        status: 308,
        headers: { location: canonical + ctx.url.search, "cache-control": "no-store" },
      });
    }
    // The page is open, but its data follows the token rule of /api/history.
    const authorized = checkAuth(ctx.req, ctx.url, service.authToken) === null;
    const frames = authorized && service.history ? historyFrames(service, resolved.id) : [];
    return page(
      {
        mode: service.mode,
        replay: authorized && service.replay ? replayPosition(service.replay) : null,
        seed: buildSeed({
          symbols,
          symbol: resolved.symbol,
          frames,
          wsPath: "/ws",
          statsPath: "/stats",
        }),
      },
      { headers: { "Cache-Control": "no-store" } },
    );
  },
});

/**
 * The detail page: header (overview link, search, controls, badges), charts,
 * ladder, health.
 *
 * @example
 * ```tsx ignore
 * <SymbolDetail {...pageProps} data={{ mode: "SIM", seed }} />;
 * ```
 */
export default define.page<typeof handler>(function SymbolDetail({ data }) {
  // One signal per request (never module level): every island gets the same
  // one, so the browser revives one shared signal and one page store.
  const seed = signal(data.seed);
  return (
    <div class="dw">
      <link rel="stylesheet" href="/dashboard.css" />
      <header class="dw-top">
        <h1 class="brand">
          <a href="/" title="market overview">
            depth<span>watch</span>
          </a>
        </h1>
        <span class="dw-symbol" data-detail-symbol={data.seed.symbol}>{data.seed.symbol}</span>
        <ModeBadge mode={data.mode} replay={data.replay} seed={seed} />
        <SymbolSearch symbols={data.seed.symbols} current={data.seed.symbol} />
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
