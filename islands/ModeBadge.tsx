/**
 * Island: the data-mode badge for a page header: `LIVE` (the real Binance
 * market), `SIM` (simulated data) or `REPLAY` (recorded data played back);
 * see `lib/pipeline/data_mode.ts` for how the mode is decided. Anything but
 * LIVE is drawn loud (amber, with words saying it is not the market), so
 * simulated data is never mistaken for the market.
 *
 * In a replay the badge also shows the replay clock (the recorded time being
 * played, UTC, ticking at the replay's speed), the speed (`1×`, `10×`,
 * `max`) and the state (`waiting`, `playing`, `looping`, `ended`): painted
 * on the server from the position at render time, then kept by polling
 * `/api/replay` once a second (a 70-byte answer; nothing per frame; no poll
 * while the tab is hidden or once the replay has ended) and running the
 * clock forward in between ({@linkcode ReplayClock}). On the detail page the
 * badge feeds the page store's clock, on which the charts' time axes end.
 * LIVE and SIM badges have no state: hydrating them is free.
 *
 * Self-contained (inline styles), so any page can put it in its header
 * without the dashboard's stylesheet.
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import { useEffect, useMemo, useState } from "preact/hooks";
import type { DataMode } from "../lib/pipeline/data_mode.ts";
import { parseReplayPosition, type ReplayPosition } from "../lib/pipeline/replay_position.ts";
import type { DashboardSeed } from "../lib/client/dashboard_seed.ts";
import { pageStore } from "../lib/client/page_store.ts";
import { formatReplayTime, formatSpeed, ReplayClock } from "../lib/client/replay_clock.ts";

/**
 * Props of {@linkcode ModeBadge}.
 *
 * @example
 * ```ts
 * import type { ModeBadgeProps } from "./ModeBadge.tsx";
 * const props: ModeBadgeProps = { mode: "SIM" };
 * ```
 */
export interface ModeBadgeProps {
  /** Where the data comes from (the service's `mode`, as in `/stats`). */
  mode: DataMode;
  /** REPLAY: the position when the page was rendered. Default none (shown as waiting). */
  replay?: ReplayPosition | null;
  /**
   * The detail page's seed signal: the badge then feeds that page store's
   * replay clock (the charts' time axes). Default none (the overview).
   */
  seed?: Signal<DashboardSeed>;
  /** REPLAY: the path polled for the position. Default `/api/replay`. */
  replayPath?: string;
}
const TITLES: Record<DataMode, string> = {
  LIVE: "Live data from Binance",
  SIM: "Simulated data: not the market",
  REPLAY: "Recorded data played back: not live",
};

const BASE = "display:inline-flex;align-items:center;gap:6px;font:700 12px/1 ui-monospace," +
  "SFMono-Regular,Menlo,monospace;letter-spacing:.06em;padding:5px 9px;border-radius:4px;";

const STYLES: Record<DataMode, string> = {
  LIVE: BASE + "color:#3fb950;border:1px solid #3fb950;background:#10241a;",
  SIM: BASE + "color:#0d1117;border:1px solid #d29922;background:#d29922;",
  REPLAY: BASE + "color:#0d1117;border:1px solid #a371f7;background:#a371f7;",
};

/**
 * The badge: the mode in capitals, with a title saying what it means.
 *
 * @example
 * ```tsx
 * import ModeBadge from "./ModeBadge.tsx";
 * const badge = <ModeBadge mode="LIVE" />;
 * ```
 */
export default function ModeBadge({ mode, replay, seed, replayPath }: ModeBadgeProps) {
  const known = mode in TITLES ? mode : "SIM"; // an unknown mode is never shown as LIVE
  if (known === "REPLAY") {
    return <ReplayBadge initial={replay ?? null} seed={seed} path={replayPath ?? "/api/replay"} />;
  }
  return (
    <span
      class="mode-badge"
      data-mode={known}
      title={TITLES[known]}
      aria-label={`data mode: ${TITLES[known]}`}
      style={STYLES[known]}
    >
      {known}
    </span>
  );
}

/** How often the badge redraws the clock (ms): a ticking second lags by at most this. */
const TICK_MS = 250;
/** How often the badge asks for the position (ms). */
const POLL_MS = 1000;

/** The badge's text parts at wall time `wallMs`. */
function replayView(clock: ReplayClock, wallMs: number) {
  const clockMs = clock.known ? clock.now(wallMs) : NaN;
  return {
    clockMs,
    time: formatReplayTime(clockMs),
    speed: formatSpeed(clock.speed),
    state: clock.state,
  };
}

/** Keep `clock` fed from `path` once a second (see the module docs). */
function usePositionPoll(clock: ReplayClock, path: string): void {
  useEffect(() => {
    let busy = false;
    let closed = false;
    const poll = async () => {
      if (busy || document.hidden || clock.state === "ended") return;
      busy = true;
      try {
        const res = await fetch(path, { cache: "no-store", credentials: "same-origin" });
        const position = res.ok ? parseReplayPosition(await res.json()) : null;
        if (position && !closed) clock.observe(position, Date.now());
      } catch {
        // A failed poll keeps the last position (the clock stops after MAX_EXTRAPOLATION_MS).
      } finally {
        busy = false;
      }
    };
    poll();
    const id = setInterval(poll, POLL_MS);
    return () => {
      closed = true;
      clearInterval(id);
    };
  }, [clock, path]);
}

function ReplayBadge({ initial, seed, path }: {
  initial: ReplayPosition | null;
  seed: Signal<DashboardSeed> | undefined;
  path: string;
}) {
  const clock = useMemo(() => {
    const c = seed ? pageStore(seed).replayClock : new ReplayClock();
    if (initial && !c.known) c.observe(initial, Date.now());
    return c;
  }, [seed]);
  usePositionPoll(clock, path);
  const view = replayView(clock, Date.now());
  // Re-render only when the text changes (once a replay second at 1×).
  const [, setShown] = useState("");
  useEffect(() => {
    const id = setInterval(() => {
      const v = replayView(clock, Date.now());
      setShown(`${v.time}|${v.speed}|${v.state}`);
    }, TICK_MS);
    return () => clearInterval(id);
  }, [clock]);
  const title = `${TITLES.REPLAY}; recorded time ${view.time} UTC` +
    (view.speed ? `, speed ${view.speed}` : "") + `, ${view.state}`;
  return (
    <span
      class="mode-badge"
      data-mode="REPLAY"
      data-replay-state={view.state}
      data-clock-ms={Number.isFinite(view.clockMs) ? Math.floor(view.clockMs) : ""}
      title={title}
      aria-label={`data mode: ${title}`}
      style={STYLES.REPLAY + WRAP}
    >
      REPLAY
      <span class="replay-clock" style={PART}>
        {Number.isFinite(view.clockMs) ? `${view.time} UTC` : view.time}
      </span>
      {view.speed && <span class="replay-speed" style={PART}>{view.speed}</span>}
      <span class="replay-state" style={PART}>{view.state}</span>
    </span>
  );
}

/** The replay parts: lighter than the word REPLAY, separated by a thin rule, each kept whole. */
const PART = "font-weight:500;letter-spacing:0;padding-left:6px;border-left:1px solid #0d111755;" +
  "white-space:nowrap;";
/** A narrow screen (a phone) wraps the parts inside the badge instead of overflowing the page. */
const WRAP = "flex-wrap:wrap;row-gap:4px;max-width:100%;box-sizing:border-box;";
