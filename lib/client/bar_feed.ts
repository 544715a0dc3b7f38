/**
 * Keeps one symbol's {@linkcode LiveBars} current on a dashboard page:
 * fetches `GET /api/history?symbol=…&resolution=10s|1m`, then, on every
 * render of the page store (at most once per animation frame), folds the
 * frames of the store's ring that came after the answer's `seq`, in order.
 * The bars are fetched again when that is not possible: frames missed (the
 * ring overflowed while the page was paused or hidden, frames conflated) or
 * a new server epoch (a restarted service). At most one fetch runs at a
 * time, and a failed one is retried after `retryMs`.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @example
 * ```ts
 * import { BarFeed } from "./bar_feed.ts";
 * import { DashboardStore } from "./dashboard_store.ts";
 * import { buildSeed } from "./dashboard_seed.ts";
 * const store = new DashboardStore(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const feed = new BarFeed({ store, symbol: "BTCUSDT", resolution: "1m" });
 * const off = feed.onChange(() => console.log(feed.bars.size));
 * feed.start(); // fetches /api/history?symbol=BTCUSDT&resolution=1m
 * off();
 * feed.close();
 * ```
 * @module
 */
import type { DashboardStore } from "./dashboard_store.ts";
import { type BarsAnswer, LiveBars } from "./live_bars.ts";

/** Options of {@linkcode BarFeed}. */
export interface BarFeedOptions {
  /** The page store whose ring supplies live frames. Required. */
  store: DashboardStore;
  /** The symbol. Required. */
  symbol: string;
  /** `10s` (the last hour) or `1m` (the last 24 hours). Required. */
  resolution: "10s" | "1m";
  /** Where the bars come from. Default `/api/history`. */
  path?: string;
  /** The fetch function. Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Delay before fetching again after a failure or a gap, ms. Default 2000. */
  retryMs?: number;
}

/** Fetch state of a {@linkcode BarFeed}. */
export type BarFeedState = "loading" | "ready" | "error";

/** See the module docs. */
export class BarFeed {
  /** The bars (empty until the first answer). */
  readonly bars: LiveBars;
  readonly #o: BarFeedOptions;
  readonly #listeners = new Set<() => void>();
  #state: BarFeedState = "loading";
  #epoch = "";
  #fetching = false;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #offRender: (() => void) | undefined;
  #fetches = 0;

  /** @param options see {@linkcode BarFeedOptions}. */
  constructor(options: BarFeedOptions) {
    this.#o = options;
    this.bars = options.resolution === "10s"
      ? new LiveBars(10_000, 360)
      : new LiveBars(60_000, 1440);
  }

  /** Fetch state. */
  get state(): BarFeedState {
    return this.#state;
  }

  /** Fetches started so far. */
  get fetches(): number {
    return this.#fetches;
  }

  /** Call `fn` whenever the bars change; returns an unsubscribe. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Tell the listeners to draw again (time passes even when no frame comes). */
  redraw(): void {
    if (!this.#closed) this.#notify();
  }

  /** Fetch the bars and follow the store's frames. */
  start(): void {
    this.#offRender ??= this.#o.store.onRender(() => this.#catchUp());
    this.#load();
  }

  /** Stop following; a fetch in flight is ignored. */
  close(): void {
    this.#closed = true;
    this.#offRender?.();
    clearTimeout(this.#retry);
    this.#listeners.clear();
  }

  #notify(): void {
    for (const fn of this.#listeners) fn();
  }

  #later(): void {
    if (this.#closed || this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#load();
    }, this.#o.retryMs ?? 2000);
  }

  async #load(): Promise<void> {
    if (this.#fetching || this.#closed) return;
    this.#fetching = true;
    this.#fetches++;
    const { symbol, resolution } = this.#o;
    const url = `${this.#o.path ?? "/api/history"}?symbol=${encodeURIComponent(symbol)}` +
      `&resolution=${resolution}`;
    const epoch = this.#o.store.connection.peek().epoch;
    try {
      const res = await (this.#o.fetch ?? fetch)(url, { cache: "no-store" });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      const answer = await res.json() as BarsAnswer;
      if (this.#closed) return;
      this.bars.load(answer);
      this.#epoch = epoch;
      this.#state = "ready";
      this.#fetching = false;
      this.#catchUp();
      this.#notify();
    } catch {
      this.#fetching = false;
      if (this.#closed) return;
      this.#state = "error";
      this.#notify();
      this.#later();
    }
  }

  /** Fold the ring's frames after the bars' seq; fetch again on a gap or a new epoch. */
  #catchUp(): void {
    if (this.#closed || this.#fetching || this.#state !== "ready") return;
    const { store, symbol } = this.#o;
    if (store.connection.peek().epoch !== this.#epoch) {
      this.#load();
      return;
    }
    const ring = store.ring(symbol);
    for (let k = 0; k < ring.size; k++) {
      const s = ring.slot(k);
      const seq = ring.seq[s];
      const r = this.bars.fold(
        seq,
        ring.time[s],
        ring.mid[s],
        ring.spreadBps[s],
        ring.imbalance5[s],
        ring.ofi[s],
      );
      if (r === "gap") {
        this.#state = "loading";
        this.#later();
        break;
      }
    }
    this.#notify();
  }
}
