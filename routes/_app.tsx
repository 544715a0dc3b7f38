/**
 * The app wrapper: the HTML shell around every page (and the error pages),
 * with the baseline dark theme; pages and islands add their own classes.
 *
 * @module
 */
import { define } from "../utils.ts";

/** Baseline dark theme; pages and islands add their own classes. */
const BASE_CSS = `
:root { color-scheme: dark; --bg: #0d1117; --panel: #161b22; --fg: #e6edf3; --muted: #8b949e;
  --bid: #3fb950; --ask: #f85149; --accent: #58a6ff; --border: #30363d; }
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); }
code, pre, .num { font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  font-variant-numeric: tabular-nums; }
main { padding: 1rem; }
`;

/**
 * The HTML shell: `<Component />` is the page.
 *
 * @example
 * ```tsx ignore
 * <App {...pageProps} Component={() => <p>the page</p>} />;
 * ```
 */
export default define.page(function App({ Component }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="dark" />
        <title>depthwatch</title>
        <style dangerouslySetInnerHTML={{ __html: BASE_CSS }} />
      </head>
      <body>
        <Component />
      </body>
    </html>
  );
});
