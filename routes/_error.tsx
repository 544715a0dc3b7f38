/**
 * The error page, as Fresh 2 has it (one page for every error): "not found"
 * for a `HttpError(404)` (no route matched, or a route such as `/s/{SYMBOL}`
 * threw one with a message for the visitor), a plain 500 for anything else.
 * Rendered inside `_app.tsx` with the error's status; what went wrong on the
 * server is logged by `main.ts`'s middleware, never shown.
 *
 * A 404 says where the valid symbols are: the market overview at `/` and
 * the symbol search box (press `/`) shown on the page itself; `/health`
 * says whether the service and its feeds are up.
 *
 * @module
 */
import { HttpError } from "../lib/web/mod.ts";
import { define } from "../utils.ts";
import SymbolSearch from "../islands/SymbolSearch.tsx";

/**
 * The page for `props.error`.
 *
 * @example
 * ```tsx ignore
 * <ErrorPage {...pageProps} error={new HttpError(404)} />; // "404: not found"
 * ```
 */
export default define.page(function ErrorPage({ error, url, state }) {
  if (error instanceof HttpError && error.status === 404) {
    // The default message is the status text; a route's own message explains more.
    const detail = error.message !== "Not Found" ? error.message : "";
    const symbols = state?.service?.symbols ?? [];
    return (
      <main>
        <h1>404: not found</h1>
        <p class="not-found-what">
          Nothing at <code>{url.pathname}</code>. {detail}
        </p>
        <p class="not-found-how">
          Find the valid symbols on the <a href="/">market overview</a>{" "}
          or with the search box below (press <kbd>/</kbd>); a symbol's page is{" "}
          <code>/s/SYMBOL</code>. Whether the service and its feeds are up:{" "}
          <a href="/health">/health</a>.
        </p>
        {symbols.length > 0 && (
          <div class="not-found-search">
            <link rel="stylesheet" href="/dashboard.css" />
            <SymbolSearch symbols={[...symbols]} />
          </div>
        )}
      </main>
    );
  }
  return (
    <main>
      <h1>500</h1>
      <p>Internal server error.</p>
    </main>
  );
});
