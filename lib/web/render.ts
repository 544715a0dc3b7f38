/**
 * Server rendering of pages with islands.
 *
 * A preact `options.vnode` hook (installed once, when this module loads)
 * swaps every island component vnode for a wrapper. During
 * {@linkcode renderPage} the wrapper renders
 * `<dw-island data-dw="<id>" style="display:contents">…</dw-island>` around the
 * island's server HTML and records `[name, encodedProps]` for the page's data
 * block. Islands nested inside an island render as part of the outer one (the
 * browser renders them the same way when it hydrates the outer island).
 * Outside `renderPage` (e.g. a plain `renderToString`) islands render as
 * ordinary components.
 *
 * The data block is a `<script type="application/json" id="__dw_islands">`
 * holding `[[name, props], …]` indexed by id (see `serialize.ts` for the
 * encoding). The boot script is an external `<script type="module" src>`, so
 * the Content-Security-Policy needs no `unsafe-inline`. A page that renders no
 * island gets neither: pages without islands ship no JS.
 *
 * **Signals and requests.** A `signal()` created at module level lives as long
 * as the server process and is shared by every request, so a value one request
 * writes would show up in another's page. Create per-request signals inside the
 * handler or page (or `useSignal` in the island) and pass them as props. Each
 * render serializes a signal's value at render time, numbers islands from 0
 * and collects props into its own data block, so nothing from one render
 * reaches another; render-to-string also unmounts every component it rendered,
 * which disposes the signal subscriptions made during the render.
 *
 * @module
 */
import { type ComponentType, createContext, h, options, type VNode } from "preact";
import { useContext } from "preact/hooks";
import { renderToString } from "preact-render-to-string";
import type { Signal } from "@preact/signals";
import { type IslandInfo, islandOf } from "./islands.ts";
import { DATA_BLOCK_ID, ISLAND_TAG } from "./markers.ts";
import { type Encoded, encodeValue, stringifyForScript } from "./serialize.ts";

interface Collector {
  islands: [string, Encoded][];
  signals: Map<Signal, number>;
}

let current: Collector | null = null;
let bypass = false;
const InIsland = createContext(false);

interface WrapperProps {
  island: IslandInfo;
  props: Record<string, unknown>;
}

// deno-lint-ignore no-explicit-any
function IslandWrapper({ island, props }: WrapperProps): VNode<any> {
  const inside = useContext(InIsland);
  bypass = true;
  let inner: VNode;
  try {
    inner = h(island.component, props);
  } finally {
    bypass = false;
  }
  if (inside || current === null) return inner;
  const id = current.islands.length;
  current.islands.push([
    island.name,
    encodeValue(props, `props of island "${island.name}"`, current.signals),
  ]);
  return h(
    ISLAND_TAG,
    { "data-dw": String(id), style: "display:contents" },
    h(InIsland.Provider, { value: true }, inner),
  );
}

const previousVnodeHook = options.vnode;
options.vnode = (vnode: VNode) => {
  previousVnodeHook?.(vnode);
  if (!bypass && typeof vnode.type === "function") {
    const island = islandOf(vnode.type);
    if (island) {
      const props = vnode.props as Record<string, unknown>;
      (vnode as VNode<WrapperProps>).type = IslandWrapper as ComponentType<WrapperProps>;
      (vnode as VNode<WrapperProps>).props = { island, props } as VNode<WrapperProps>["props"];
    }
  }
};

/**
 * Options for {@linkcode renderPage}.
 *
 * @example
 * ```tsx
 * import type { RenderPageOptions } from "./render.ts";
 * const options: RenderPageOptions = {
 *   vnode: <html><body><p>hi</p></body></html>,
 *   bootScript: () => "/build/boot-0123456789abcdef.js",
 * };
 * ```
 */
export interface RenderPageOptions {
  /** The tree to render, usually `_app` wrapping the page. */
  // deno-lint-ignore no-explicit-any
  vnode: VNode<any>;
  /**
   * URL of the client boot script, used only when the page rendered an
   * island. A function so the bundle is looked up only when needed; it may
   * throw to say the bundle is missing. Default: none (then a page with
   * islands is an error).
   */
  bootScript?: () => string;
  /** Extra external module scripts for every page (dev reload). Default `[]`. */
  extraScripts?: readonly string[];
}

/**
 * Result of {@linkcode renderPage}.
 *
 * @example
 * ```ts
 * import type { RenderedPage } from "./render.ts";
 * const shipsJs = (page: RenderedPage) => page.islands > 0;
 * ```
 */
export interface RenderedPage {
  /** The full HTML document, starting with `<!DOCTYPE html>`. */
  html: string;
  /** How many top-level island instances the page has. */
  islands: number;
}

/**
 * Render a page to an HTML document, with island markers, the props data
 * block and the boot script when (and only when) islands were rendered.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { renderPage } from "./render.ts";
 * const page = renderPage({ vnode: <html><body><p>hi</p></body></html> });
 * assert.equal(page.islands, 0);
 * assert.ok(!page.html.includes("<script"));
 * ```
 */
export function renderPage(opts: RenderPageOptions): RenderedPage {
  const collector: Collector = { islands: [], signals: new Map() };
  const outer = current;
  current = collector;
  let body: string;
  try {
    body = renderToString(opts.vnode);
  } finally {
    current = outer;
  }
  let tail = "";
  if (collector.islands.length > 0) {
    if (!opts.bootScript) {
      throw new Error(
        "Page rendered islands but no client boot script is available: " +
          "expected the client bundle to be built (`deno task build`, or Builder.bundle())",
      );
    }
    tail += `<script type="application/json" id="${DATA_BLOCK_ID}">` +
      stringifyForScript(collector.islands) + `</script>` +
      `<script type="module" src="${escapeAttr(opts.bootScript())}"></script>`;
  }
  for (const src of opts.extraScripts ?? []) {
    tail += `<script type="module" src="${escapeAttr(src)}"></script>`;
  }
  if (tail) {
    const at = body.lastIndexOf("</body>");
    body = at === -1 ? body + tail : body.slice(0, at) + tail + body.slice(at);
  }
  return { html: "<!DOCTYPE html>" + body, islands: collector.islands.length };
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}
