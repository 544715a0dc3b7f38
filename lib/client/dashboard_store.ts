/**
 * The dashboard's browser-side store, shared by every island of one page.
 *
 * It holds a {@linkcode FrameRing} and the newest {@linkcode DashFrame} per
 * symbol, the selected symbol, pause state and connection state (as
 * `@preact/signals` signals), and one {@linkcode RenderScheduler}: however
 * fast frames arrive, render listeners (the charts) and the `version`
 * signal (the ladder and text panels) run at most once per animation frame.
 *
 * **One store per page, created in the browser.** Islands hydrate
 * separately, so they meet through the page's seed signal: the index route
 * creates one `Signal<DashboardSeed>` per request and passes it to every
 * island; the boot script revives it as one shared signal; and
 * {@linkcode dashboardStore} keys the store on that signal object in a
 * `WeakMap`. No store lives at module level on the server, so nothing leaks
 * between requests (the Fresh module-level-signal pitfall), and the store is
 * collected with the page's signal. The live feed is only opened by
 * {@linkcode DashboardStore.retain}, which islands call from an effect, i.e.
 * only in the browser.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */
import { type Signal, signal } from "@preact/signals";
import { copyDashFrame, type DashFrame, emptyDashFrame } from "./dash_frame.ts";
import { type DashboardSeed, fillRingFromSeed } from "./dashboard_seed.ts";
import { FrameRing } from "./frame_ring.ts";
import { ReplayClock } from "./replay_clock.ts";
import { RenderScheduler, type RenderSchedulerOptions } from "./render_scheduler.ts";
import { TickFormatter } from "./tick_format.ts";

/** Connection states shown by the badge. */
export type ConnectionState = "connecting" | "live" | "reconnecting" | "closed";

/** What the connection badge shows. */
export interface ConnectionView {
  /** Current state. */
  state: ConnectionState;
  /** When the next reconnect attempt happens (epoch ms), NaN when none is scheduled. */
  retryAt: number;
  /** Reconnect attempts since the last time the socket was live. */
  attempt: number;
  /** Histories replaced by a Hello after the first (reconnects, gaps, new epochs). */
  resyncs: number;
  /** Server epoch of the current session ("" before the first Hello). */
  epoch: string;
}

/** A live feed the store drives (the MarketSocket adapter in the browser). */
export interface FeedSource {
  /** Show `symbol` now: subscribe to it and get its history. */
  select(symbol: string): void;
  /** Close the feed for good. */
  close(): void;
}

/** Opens the live feed for a store. */
export type FeedFactory = (store: DashboardStore) => FeedSource;

/** Options of {@linkcode DashboardStore}. */
export interface DashboardStoreOptions {
  /** Frames kept per symbol. Default 100. */
  capacity?: number;
  /** Opens the live feed on the first {@linkcode DashboardStore.retain}. Default: none (no feed). */
  connect?: FeedFactory;
  /** Animation-frame functions (tests). Default: the browser's. */
  scheduler?: RenderSchedulerOptions;
}

interface SymbolData {
  ring: FrameRing;
  latest: DashFrame;
  hasLatest: boolean;
  format: TickFormatter;
  sizes: TickFormatter;
  frames: number;
}

/**
 * See the module docs. Pages get theirs from {@linkcode dashboardStore}.
 *
 * @example
 * ```ts
 * import { DashboardStore } from "./dashboard_store.ts";
 * import { buildSeed } from "./dashboard_seed.ts";
 * import { emptyDashFrame } from "./dash_frame.ts";
 * const store = new DashboardStore(
 *   buildSeed({ symbols: ["BTCUSDT", "ETHUSDT"], symbol: "BTCUSDT", frames: [] }),
 * );
 * const off = store.onRender(() => console.log(store.latest("BTCUSDT")?.mid));
 * const frame = emptyDashFrame("BTCUSDT");
 * frame.mid = 65000;
 * store.ingest(frame); // copied; rendered once at the next animation frame
 * off();
 * store.close();
 * ```
 */
export class DashboardStore {
  /** Every symbol the service serves. */
  readonly symbols: Signal<string[]>;
  /** The symbol shown. */
  readonly symbol: Signal<string>;
  /** Rendering paused (frames are still stored). */
  readonly paused: Signal<boolean>;
  /** Connection state for the badge. */
  readonly connection: Signal<ConnectionView>;
  /** Bumped once per render; components that read it re-render with the charts. */
  readonly version: Signal<number>;
  /** Where the pages's live paths are. */
  readonly paths: { ws: string; stats: string };
  /**
   * The replay clock: fed by the mode badge in a replay (`/api/replay`),
   * never fed live. See {@linkcode DashboardStore.dataNow}.
   */
  readonly replayClock: ReplayClock = new ReplayClock();
  readonly #capacity: number;
  readonly #data = new Map<string, SymbolData>();
  readonly #listeners = new Set<() => void>();
  // An array, not a Set: iterating it per frame allocates no iterator.
  #frameListeners: ((frame: DashFrame) => void)[] = [];
  readonly #historyListeners = new Set<(symbol: string) => void>();
  readonly #scheduler: RenderScheduler;
  readonly #connect: FeedFactory | undefined;
  #feed: FeedSource | null = null;
  #retained = 0;
  #force = false;

  /**
   * Creates the store of one page, its shown symbol's ring filled from the seed.
   *
   * @param seed The page's first-paint data; its history fills the ring of its symbol.
   * @param options See {@linkcode DashboardStoreOptions}.
   */
  constructor(seed: DashboardSeed, options: DashboardStoreOptions = {}) {
    this.#capacity = options.capacity ?? 100;
    this.#connect = options.connect;
    this.symbols = signal([...seed.symbols]);
    this.symbol = signal(seed.symbol);
    this.paused = signal(false);
    this.version = signal(0);
    this.connection = signal<ConnectionView>({
      state: "connecting",
      retryAt: NaN,
      attempt: 0,
      resyncs: 0,
      epoch: "",
    });
    this.paths = { ws: seed.wsPath, stats: seed.statsPath };
    this.#scheduler = new RenderScheduler(() => this.#flush(), options.scheduler);
    const d = this.#symbolData(seed.symbol);
    fillRingFromSeed(seed, d.ring);
    if (seed.latest) this.#setLatest(d, seed.latest);
  }

  #symbolData(symbol: string): SymbolData {
    let d = this.#data.get(symbol);
    if (!d) {
      d = {
        ring: new FrameRing({ capacity: this.#capacity }),
        latest: emptyDashFrame(symbol),
        hasLatest: false,
        format: new TickFormatter(),
        sizes: new TickFormatter(0, 4),
        frames: 0,
      };
      this.#data.set(symbol, d);
    }
    return d;
  }

  #setLatest(d: SymbolData, frame: DashFrame): void {
    copyDashFrame(frame, d.latest);
    d.hasLatest = true;
    d.format.observe(frame.bidPrices);
    d.format.observe(frame.askPrices);
    d.sizes.observe(frame.bidSizes);
    d.sizes.observe(frame.askSizes);
  }

  /** The frame ring of `symbol` (created empty on first use). */
  ring(symbol: string): FrameRing {
    return this.#symbolData(symbol).ring;
  }

  /** The newest frame of `symbol`, or null before any. The object is reused: do not keep it. */
  latest(symbol: string): DashFrame | null {
    const d = this.#symbolData(symbol);
    return d.hasLatest ? d.latest : null;
  }

  /**
   * The data's "now" for `symbol` at wall time `wallMs`, where the charts'
   * time axes end: live, `wallMs` itself; in a replay, the replay clock (or
   * the symbol's newest frame when that is later, e.g. at `max` speed).
   */
  dataNow(symbol: string, wallMs: number): number {
    const clock = this.replayClock;
    if (!clock.known) return wallMs;
    const now = clock.now(wallMs);
    const ring = this.#symbolData(symbol).ring;
    const newest = ring.size > 0 ? ring.time[ring.newest] : NaN;
    return newest > now ? newest : now;
  }

  /** Price formatter of `symbol` (decimals learnt from its prices). */
  format(symbol: string): TickFormatter {
    return this.#symbolData(symbol).format;
  }

  /** Size formatter of `symbol` (decimals learnt from its sizes, at most 4). */
  sizeFormat(symbol: string): TickFormatter {
    return this.#symbolData(symbol).sizes;
  }

  /** Frames received live for `symbol` (history excluded). */
  framesReceived(symbol: string): number {
    return this.#symbolData(symbol).frames;
  }

  /** Store one live frame (copied) and ask for a render if it is the shown symbol's. */
  ingest(frame: DashFrame): void {
    const d = this.#symbolData(frame.symbol);
    d.ring.push(frame);
    this.#setLatest(d, frame);
    d.frames++;
    const frameListeners = this.#frameListeners;
    for (let i = 0; i < frameListeners.length; i++) frameListeners[i](frame);
    if (frame.symbol === this.symbol.peek()) this.#scheduler.request();
  }

  /**
   * Call `fn` with every live frame as it is ingested (any symbol, before
   * the render it asks for); returns an unsubscribe. The frame object is
   * reused by the feed: copy what you keep, allocate nothing (the liquidity
   * heatmap records every frame's ladder this way, since a render sees only
   * the newest).
   */
  onFrame(fn: (frame: DashFrame) => void): () => void {
    this.#frameListeners = [...this.#frameListeners, fn];
    return () => {
      this.#frameListeners = this.#frameListeners.filter((g) => g !== fn);
    };
  }

  /**
   * Call `fn` with the symbol whose history {@linkcode DashboardStore.replaceHistory}
   * just replaced (a Hello: first, resync or symbol switch); returns an unsubscribe.
   */
  onHistory(fn: (symbol: string) => void): () => void {
    this.#historyListeners.add(fn);
    return () => this.#historyListeners.delete(fn);
  }

  /**
   * Replace the history of `symbol` (from a Hello) and render it even when
   * paused. `resync` counts it in {@linkcode ConnectionView.resyncs} (a
   * Hello that repaired a hole: reconnect, seq gap, restarted server).
   */
  replaceHistory(symbol: string, frames: Iterable<DashFrame>, epoch: string, resync = false): void {
    const d = this.#symbolData(symbol);
    d.ring.clear();
    d.hasLatest = false;
    for (const f of frames) {
      d.ring.push(f);
      this.#setLatest(d, f);
    }
    const c = this.connection.peek();
    this.connection.value = { ...c, resyncs: resync ? c.resyncs + 1 : c.resyncs, epoch };
    for (const fn of this.#historyListeners) fn(symbol);
    if (symbol === this.symbol.peek()) this.#renderNow();
  }

  /** Update the connection badge. */
  setConnection(update: Partial<ConnectionView>): void {
    this.connection.value = { ...this.connection.peek(), ...update };
  }

  /** Update the list of symbols (from a Hello). */
  setSymbols(symbols: readonly string[]): void {
    const cur = this.symbols.peek();
    if (cur.length === symbols.length && cur.every((s, i) => s === symbols[i])) return;
    this.symbols.value = [...symbols];
  }

  /** Show another symbol: every panel switches on the next render. */
  select(symbol: string): void {
    if (symbol === this.symbol.peek()) return;
    this.symbol.value = symbol;
    this.#feed?.select(symbol);
    this.#renderNow();
  }

  /** Pause or resume rendering. Frames keep being stored while paused. */
  setPaused(paused: boolean): void {
    if (paused === this.paused.peek()) return;
    this.paused.value = paused;
    if (!paused) this.#scheduler.request();
  }

  /** Call `fn` on every render (at most once per animation frame); returns an unsubscribe. */
  onRender(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Renders run so far. */
  get renders(): number {
    return this.#scheduler.renders;
  }

  /** Ask for one render now even if paused (symbol switch, resync). */
  #renderNow(): void {
    this.#force = true;
    this.#scheduler.request();
  }

  #flush(): void {
    if (this.paused.peek() && !this.#force) return;
    this.#force = false;
    for (const fn of this.#listeners) fn();
    this.version.value = this.version.peek() + 1;
  }

  /**
   * An island starts using the store: the first one opens the live feed.
   * Returns the matching release, which closes the feed when the last
   * island lets go.
   */
  retain(): () => void {
    this.#retained++;
    if (this.#retained === 1 && this.#connect && !this.#feed) {
      this.#feed = this.#connect(this);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#retained--;
      if (this.#retained === 0) this.close();
    };
  }

  /** Close the live feed and stop rendering. */
  close(): void {
    this.#feed?.close();
    this.#feed = null;
    this.setConnection({ state: "closed", retryAt: NaN });
  }
}

const stores = new WeakMap<object, DashboardStore>();

/**
 * The store of the page whose seed signal is `seed`, created on first use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signal } from "@preact/signals";
 * import { dashboardStore } from "./dashboard_store.ts";
 * import { buildSeed } from "./dashboard_seed.ts";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * assert.equal(dashboardStore(seed), dashboardStore(seed));
 * ```
 *
 * @param seed The page's seed signal (one per request).
 * @param options Used when the store is created.
 */
export function dashboardStore(
  seed: Signal<DashboardSeed>,
  options?: DashboardStoreOptions,
): DashboardStore {
  let store = stores.get(seed);
  if (!store) {
    store = new DashboardStore(seed.peek(), options);
    stores.set(seed, store);
  }
  return store;
}
