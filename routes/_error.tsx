/**
 * The error page, as Fresh 2 has it (one page for every error): "not found"
 * for a `HttpError(404)` (no route matched), a plain 500 for anything else.
 * Rendered inside `_app.tsx` with the error's status; what went wrong is
 * logged by `main.ts`'s middleware, never shown.
 *
 * @module
 */
import { HttpError } from "../lib/web/mod.ts";
import { define } from "../utils.ts";

/**
 * The page for `props.error`.
 *
 * @example
 * ```tsx ignore
 * <ErrorPage {...pageProps} error={new HttpError(404)} />; // "404: not found"
 * ```
 */
export default define.page(function ErrorPage({ error, url }) {
  if (error instanceof HttpError && error.status === 404) {
    return (
      <main>
        <h1>404: not found</h1>
        <p>
          Nothing at <code>{url.pathname}</code>. <a href="/">Back to the dashboard</a>
        </p>
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
