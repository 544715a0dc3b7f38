/**
 * Island: the data-mode badge for a page header: `LIVE` (the real Binance
 * market), `SIM` (simulated data) or `REPLAY` (recorded data played back);
 * see `lib/pipeline/data_mode.ts` for how the mode is decided. Anything but
 * LIVE is drawn loud (amber, with words saying it is not the market), so
 * simulated data is never mistaken for the market.
 *
 * Self-contained (inline styles), so any page can put it in its header
 * without the dashboard's stylesheet. It has no state: hydrating it is free.
 *
 * @module
 */
import type { DataMode } from "../lib/pipeline/data_mode.ts";

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
export default function ModeBadge({ mode }: ModeBadgeProps) {
  const known = mode in TITLES ? mode : "SIM"; // an unknown mode is never shown as LIVE
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
