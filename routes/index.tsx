/**
 * `GET /`: the market overview, one live row per symbol (the
 * `MarketOverview` island), painted on the server from the newest market
 * summary (`ServiceState.summary`) and then fed by `/ws?summary=1`.
 *
 * Redirects (303, `no-store`):
 * - an old dashboard link `/?symbol=X` goes to `/s/X` (the detail page);
 * - with a single configured symbol, `/` goes straight to its detail page.
 *
 * With `--auth-token`, the first visit carries `?token=`: a valid one is
 * moved into the `HttpOnly`, `SameSite=Strict` token cookie and the browser
 * is sent (303) to the same URL without it, so the token leaves the address
 * bar, history and logs; the island's `/ws` then carries the cookie. Without
 * the token the page still renders, without data (the first paint holds no
 * summary). The page is `Cache-Control: no-store`.
 *
 * @module
 */
import type { ServiceState } from "../lib/server/service_state.ts";
import { checkAuth, tokenCookie, tokenMatches } from "../lib/server/auth.ts";
import { base64OfBytes, type OverviewSeed } from "../lib/client/overview_seed.ts";
import { page } from "../lib/web/mod.ts";
import { replayPosition } from "../lib/pipeline/replay_position.ts";
import { define } from "../utils.ts";
import MarketOverview from "../islands/MarketOverview.tsx";
import ModeBadge from "../islands/ModeBadge.tsx";
import SymbolSearch from "../islands/SymbolSearch.tsx";

/** Path prefix of a symbol's detail page. */
const DETAIL_PATH = "/s/";

function redirect(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, {
    status: 303,
    headers: { location, "cache-control": "no-store", ...headers },
  });
}

/**
 * The overview's first-paint data: the symbols and, for a request that
 * passes the token rule, the newest summary.
 *
 * @example
 * ```ts ignore
 * const seed = overviewSeed(ctx.state.service, true);
 * ```
 */
export function overviewSeed(
  service: Pick<ServiceState, "symbols" | "summary">,
  authorized: boolean,
): OverviewSeed {
  const latest = authorized ? service.summary?.latest ?? null : null;
  return {
    symbols: [...(service.symbols ?? [])],
    summary: latest === null ? "" : base64OfBytes(latest),
    wsPath: "/ws",
    detailPath: DETAIL_PATH,
  };
}

/**
 * GET renders the overview, or redirects (token, old `?symbol=` links, a
 * single symbol).
 *
 * @example
 * ```ts ignore
 * const res = await handler.GET(ctx); // page data: the overview seed
 * ```
 */
export const handler = define.handlers({
  GET(ctx) {
    const service = ctx.state.service;
    const symbols = service.symbols ?? [];
    // A valid ?token= becomes the cookie, and the URL loses it.
    const token = ctx.url.searchParams.get("token");
    if (service.authToken && token !== null && tokenMatches(token, service.authToken)) {
      const rest = new URLSearchParams(ctx.url.search);
      rest.delete("token");
      const search = rest.size > 0 ? `?${rest}` : "";
      return redirect(ctx.url.pathname + search, {
        "set-cookie": tokenCookie(service.authToken),
        "referrer-policy": "no-referrer",
      });
    }
    const asked = ctx.url.searchParams.get("symbol");
    if (asked !== null && asked !== "") {
      return redirect(DETAIL_PATH + encodeURIComponent(asked.toUpperCase()));
    }
    if (symbols.length === 1) return redirect(DETAIL_PATH + encodeURIComponent(symbols[0]));
    // The page itself is open, but its data follows the token rule of /ws
    // and /api/*: without the token the first paint has no summary.
    const authorized = checkAuth(ctx.req, ctx.url, service.authToken) === null;
    return page({
      seed: overviewSeed(service, authorized),
      mode: service.mode,
      replay: authorized && service.replay ? replayPosition(service.replay) : null,
    }, {
      headers: { "Cache-Control": "no-store" },
    });
  },
});

/**
 * The overview page: header (brand, mode badge, symbol search) and the
 * overview table, one screen high.
 *
 * @example
 * ```tsx ignore
 * <Overview {...pageProps} data={seed} />;
 * ```
 */
export default define.page<typeof handler>(function Overview({ data }) {
  return (
    <div class="dw ovp">
      <link rel="stylesheet" href="/dashboard.css" />
      <link rel="stylesheet" href="/overview.css" />
      <header class="dw-top">
        <h1 class="brand">
          depth<span>watch</span>
        </h1>
        <ModeBadge mode={data.mode} replay={data.replay} />
        <SymbolSearch symbols={data.seed.symbols} />
      </header>
      <main class="ovp-main">
        <MarketOverview seed={data.seed} />
      </main>
    </div>
  );
});
