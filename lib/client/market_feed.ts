/**
 * The dashboard store's live feed: a {@linkcode MarketSocket} to the page's
 * `/ws`, whose Hellos replace the shown symbol's history and whose frames are
 * copied into one reused {@linkcode DashFrame} and stored.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import { MarketSocket, type MarketSocketOptions } from "./market_socket.ts";
import type { DashboardStore, FeedSource } from "./dashboard_store.ts";
import { emptyDashFrame } from "./dash_frame.ts";
import { dashFrameFromWire } from "./wire_frame.ts";

/** Options of {@linkcode connectMarketFeed}. */
export interface MarketFeedOptions {
  /** Feed URL. Default: the store's WebSocket path resolved against `location`. */
  url?: string | URL;
  /** Passed to the socket (backoff, pings). Default: the socket's defaults. */
  socket?: Partial<MarketSocketOptions>;
}

/**
 * Open the live feed of `store`.
 *
 * @example
 * ```ts
 * import type { Signal } from "@preact/signals";
 * import { connectMarketFeed } from "./market_feed.ts";
 * import { dashboardStore } from "./dashboard_store.ts";
 * import type { DashboardSeed } from "./dashboard_seed.ts";
 * declare const seed: Signal<DashboardSeed>; // the page's seed signal
 * const store = dashboardStore(seed, { connect: connectMarketFeed });
 * const release = store.retain(); // opens the socket
 * release(); // the last holder let go: the socket closes
 * ```
 */
export function connectMarketFeed(
  store: DashboardStore,
  options: MarketFeedOptions = {},
): FeedSource {
  const scratch = emptyDashFrame();
  let hellos = 0;
  const socket = new MarketSocket({
    ...options.socket,
    url: options.url ?? new URL(store.paths.ws, globalThis.location.href),
    symbol: store.symbol.peek(),
    onHello(hello, info) {
      store.setSymbols(hello.symbols);
      const frames = hello.history.map((f) => dashFrameFromWire(f));
      // A Hello after the first one that is not a symbol switch repairs a hole:
      // a reconnect, a seq gap or a restarted server.
      const resync = hellos > 0 && info.reason !== "switch";
      hellos++;
      store.replaceHistory(hello.symbol, frames, hello.epoch, resync);
    },
    onFrame(frame) {
      store.ingest(dashFrameFromWire(frame, scratch));
    },
    onState(status) {
      store.setConnection({
        state: status.state,
        retryAt: status.retryAt ?? NaN,
        attempt: status.failures,
      });
    },
  });
  return {
    select: (symbol) => socket.subscribe(symbol),
    close: () => socket.close(),
  };
}
