/**
 * Per-symbol metric families written straight into the Prometheus text
 * format (0.0.4), for the families with one series per symbol.
 *
 * prom-client keeps a labels object and a hashed key per series and formats
 * each sample through several temporary arrays; at thousands of symbols that
 * is most of a scrape. A {@link SymbolSeries} escapes each symbol's label
 * set (`{symbol="BTCUSDT"} `) once, when it is made, and a scrape only joins
 * the metric name, that cached text and the value: nothing is kept per series
 * between scrapes but the label text.
 *
 * @example
 * ```ts
 * import { SymbolSeries } from "./symbol_series.ts";
 * const series = new SymbolSeries(["BTCUSDT", "ETHUSDT"]);
 * series.render([{
 *   name: "depthwatch_feed_up",
 *   help: "1 when the symbol's feed is live, 0 otherwise.",
 *   type: "gauge",
 *   value: (id) => id === 0 ? 1 : 0,
 * }]);
 * // '\n# HELP depthwatch_feed_up 1 when …\n# TYPE depthwatch_feed_up gauge\n' +
 * // 'depthwatch_feed_up{symbol="BTCUSDT"} 1\ndepthwatch_feed_up{symbol="ETHUSDT"} 0\n'
 * ```
 * @module
 */

/** The `symbol` label value of frames that name no subscribed symbol. */
export const UNKNOWN_SYMBOL = "UNKNOWN";

/** One per-symbol metric family. */
export interface SymbolFamily {
  /** Metric name (`depthwatch_…`). */
  readonly name: string;
  /** HELP text. */
  readonly help: string;
  /** Prometheus type. */
  readonly type: "counter" | "gauge";
  /**
   * Also write a `symbol="UNKNOWN"` series, read as symbol id = number of
   * symbols (the counters' row of frames that name no subscribed symbol).
   * Default `false`.
   */
  readonly unknown?: boolean;
  /** The value of symbol `symbolId` at this scrape. */
  value(symbolId: number): number;
}

/** Escape a label value: backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** Escape HELP text: backslash and newline. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value as the text format writes it (`NaN`, `+Inf`, `-Inf`, or the number). */
function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
}

/**
 * Renders per-symbol families over a fixed symbol list.
 *
 * @example
 * ```ts
 * import { SymbolSeries } from "./symbol_series.ts";
 * const series = new SymbolSeries(["BTCUSDT"]);
 * const received = [10, 3]; // BTCUSDT, then the UNKNOWN row
 * series.render([{
 *   name: "depthwatch_frames_received_total",
 *   help: "Frames received per symbol.",
 *   type: "counter",
 *   unknown: true,
 *   value: (id) => received[id],
 * }]);
 * ```
 */
export class SymbolSeries {
  /** `{symbol="…"} ` per symbol id, then the UNKNOWN row. */
  readonly #labels: string[];

  /**
   * Escape every symbol's label set once.
   *
   * @param symbols the symbols, index = symbol id.
   */
  constructor(symbols: readonly string[]) {
    this.#labels = [...symbols, UNKNOWN_SYMBOL].map((s) => `{symbol="${escapeLabel(s)}"} `);
  }

  /** Number of symbols (without the UNKNOWN row). */
  get symbols(): number {
    return this.#labels.length - 1;
  }

  /**
   * The text of `families`: each starts with a blank line, its `# HELP` and
   * `# TYPE`, then one sample per symbol in symbol-id order (the UNKNOWN row
   * last when asked for); the text ends with a newline.
   */
  render(families: readonly SymbolFamily[]): string {
    const n = this.#labels.length - 1;
    let out = "";
    for (const f of families) {
      out += `\n# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
      const rows = f.unknown ? n + 1 : n;
      for (let id = 0; id < rows; id++) {
        out += f.name + this.#labels[id] + formatValue(f.value(id)) + "\n";
      }
    }
    return out;
  }
}
