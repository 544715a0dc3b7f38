/**
 * Island: pause/resume. Pausing stops rendering while frames keep arriving,
 * so resuming shows the newest state. (Choosing a symbol is the search box's
 * job, `SymbolSearch.tsx`: it opens the symbol's page, `/s/{SYMBOL}`.)
 *
 * @module
 */
import type { Signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { DashboardSeed } from "../lib/client/dashboard_seed.ts";
import { pageStore } from "../lib/client/page_store.ts";

/**
 * Props of {@linkcode DashboardControls}.
 *
 * @example
 * ```ts
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import type { DashboardControlsProps } from "./DashboardControls.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const props: DashboardControlsProps = { seed };
 * ```
 */
export interface DashboardControlsProps {
  /** The page's seed signal. */
  seed: Signal<DashboardSeed>;
}

/**
 * The controls.
 *
 * @example
 * ```tsx
 * import { signal } from "@preact/signals";
 * import { buildSeed } from "../lib/client/dashboard_seed.ts";
 * import DashboardControls from "./DashboardControls.tsx";
 * const seed = signal(buildSeed({ symbols: ["BTCUSDT"], symbol: "BTCUSDT", frames: [] }));
 * const island = <DashboardControls seed={seed} />;
 * ```
 */
export default function DashboardControls({ seed }: DashboardControlsProps) {
  const store = pageStore(seed);
  useEffect(() => store.retain(), [store]);
  const paused = store.paused.value;
  return (
    <div class="controls">
      <button
        type="button"
        class={`pause${paused ? " on" : ""}`}
        aria-pressed={paused}
        onClick={() => store.setPaused(!paused)}
      >
        {paused ? "▶ resume" : "❚❚ pause"}
      </button>
    </div>
  );
}
