/**
 * Island: the live-feed connection badge: state (connecting, live,
 * reconnecting with a countdown to the next attempt, closed), and how many
 * times the history was resynced from a fresh Hello.
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import type { DashboardSeed } from "../lib/client/dashboard_seed.ts";
import { pageStore } from "../lib/client/page_store.ts";

/**
 * Props of {@linkcode ConnectionBadge}.
 *
 * @example
 * ```ts
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import type { ConnectionBadgeProps } from "./ConnectionBadge.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const props: ConnectionBadgeProps = { seed };
 * ```
 */
export interface ConnectionBadgeProps {
  /** The page's seed signal. */
  seed: Signal<DashboardSeed>;
}

/**
 * The badge.
 *
 * @example
 * ```tsx
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import ConnectionBadge from "./ConnectionBadge.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const island = <ConnectionBadge seed={seed} />;
 * ```
 */
export default function ConnectionBadge({ seed }: ConnectionBadgeProps) {
  const store = pageStore(seed);
  useEffect(() => store.retain(), [store]);
  const c = store.connection.value;
  const [now, setNow] = useState(0);
  const counting = c.state === "reconnecting" && Number.isFinite(c.retryAt);
  useEffect(() => {
    if (!counting) return;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(id);
  }, [counting]);
  let text: string = c.state;
  if (counting && now > 0) {
    const left = Math.max(0, (c.retryAt - now) / 1000);
    text = `reconnecting in ${left.toFixed(1)}s`;
  } else if (c.state === "reconnecting") text = "reconnecting…";
  else if (c.state === "connecting") text = "connecting…";
  return (
    <div class={`badge ${c.state}`} data-state={c.state} role="status" aria-live="polite">
      <span class="dot" />
      <span class="badge-text">{text}</span>
      {c.attempt > 0 && c.state !== "live" && <span class="num badge-extra">try {c.attempt}</span>}
      <span class="num badge-extra" data-resyncs={c.resyncs}>
        {c.resyncs > 0 ? `resynced ×${c.resyncs}` : ""}
      </span>
    </div>
  );
}
