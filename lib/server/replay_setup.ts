/**
 * `--source replay` at start: reads the head of the recording and fills in
 * what the flags left out — the symbols (in the order they first appear),
 * the stream kind and, for partial books, their depth (`--levels`). A path
 * that cannot be read, or a recording with no depth messages, is a
 * {@link ConfigError} naming `--replay-path`.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import { replayConfig } from "./replay_setup.ts";
 * declare const path: string; // a recording directory, an hour file or a tardis-format file
 * const config = await replayConfig(parseConfig(["--source", "replay", "--replay-path", path]));
 * config.symbols; // e.g. ["btcusdt", "ethusdt"], from the recording
 * ```
 * @module
 */
import { type Config, ConfigError } from "./config.ts";
import { scanRecording } from "../ingest/replay_scan.ts";
import type { Logger } from "../pipeline/logger.ts";

/**
 * The config with the recording's symbols, stream and levels where the flags
 * did not give them (see the module docs).
 *
 * @throws ConfigError for `--replay-path` when the recording cannot be read or
 *   holds no depth messages, and for `--symbols` when it holds a pattern.
 */
export async function replayConfig(
  config: Config,
  log?: Pick<Logger, "info" | "warn">,
): Promise<Config> {
  const path = config.replayPath;
  if (config.source !== "replay" || path === undefined) return config;
  if (config.given.includes("--symbols") && config.symbolSelector.needsExchange) {
    throw new ConfigError(
      `--symbols: "${config.symbolSelector.text}" holds a pattern, which needs the exchange's ` +
        "listing; expected symbol names with --source replay (or no --symbols: the recording's)",
      "--symbols",
    );
  }
  let scan;
  try {
    scan = await scanRecording(path);
  } catch (e) {
    throw new ConfigError(
      `--replay-path: cannot read ${JSON.stringify(path)} (${
        e instanceof Error ? e.message : String(e)
      }); expected a readable recording file or directory (and --allow-read for it)`,
      "--replay-path",
    );
  }
  if (scan.stream === undefined || scan.symbols.length === 0) {
    throw new ConfigError(
      `--replay-path: ${
        JSON.stringify(path)
      } holds no depth messages in its first ${scan.records} ` +
        "records; expected a recording directory (<venue>/YYYY-MM-DD/HH.dwrec.zst), an hour " +
        "file or a tardis-format file of `<ISO-8601 time> <raw message>` lines, holding " +
        "<symbol>@depth20@100ms, <symbol>@depth@100ms or <symbol>@depthSnapshot streams",
      "--replay-path",
    );
  }
  const out: Record<string, unknown> = { ...config };
  if (!config.given.includes("--symbols")) out.symbols = Object.freeze(scan.symbols);
  if (!config.given.includes("--stream")) out.stream = scan.stream;
  if (!config.given.includes("--levels") && scan.levels !== undefined) out.levels = scan.levels;
  const merged = Object.freeze(out) as unknown as Config;
  if (merged.stream === "depth20" && scan.levels !== undefined && merged.levels !== scan.levels) {
    log?.warn(
      `--levels ${merged.levels} but the recording holds depth${scan.levels} books: its messages ` +
        "will be rejected as unknown_stream (leave --levels out to take the recording's)",
    );
  }
  log?.info(
    `replay of ${path}: ${merged.symbols.length} symbols (${merged.symbols.slice(0, 5).join(",")}${
      merged.symbols.length > 5 ? ",…" : ""
    }), stream ${merged.stream}` +
      (scan.firstUs === scan.firstUs
        ? `, from ${new Date(scan.firstUs / 1000).toISOString()}`
        : ""),
  );
  return merged;
}
