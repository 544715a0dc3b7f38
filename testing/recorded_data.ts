/**
 * The one reader of the recorded Binance frames vendored in
 * `tests/testdata/binance/` (what each file holds and where it was recorded:
 * that folder's SOURCES.md). Tests and benchmarks read real exchange messages
 * through it, never by a path of their own.
 *
 * @example
 * ```ts
 * const frames = recordedLines("spot_depth20.jsonl"); // one message per entry
 * const snapshot = recordedJson("rest_depth.json") as { lastUpdateId: number };
 * snapshot.lastUpdateId; // 499869752
 * ```
 * @module
 */

/** The recorded message logs: one JSON message per line. */
export const RECORDED_STREAMS = [
  "spot_diff.jsonl",
  "spot_diff_btcusdt_binanceus_raw.jsonl",
  "futures_diff.jsonl",
  "spot_depth20.jsonl",
  "spot_depth20_reconstructed.jsonl",
  "futures_partial_depth.jsonl",
] as const;

/** The recorded REST depth snapshots: one JSON document each. */
export const RECORDED_SNAPSHOTS = ["rest_depth.json", "rest_depth_futures.json"] as const;

/** Name of a recorded message log. */
export type RecordedStream = typeof RECORDED_STREAMS[number];

/** Name of a recorded REST snapshot. */
export type RecordedSnapshot = typeof RECORDED_SNAPSHOTS[number];

/** Folder of the recorded files (inside the repository). */
const FOLDER = new URL("../tests/testdata/binance/", import.meta.url);

function read(name: string): string {
  const url = new URL(name, FOLDER);
  try {
    return Deno.readTextFileSync(url);
  } catch (cause) {
    throw new Error(
      `Cannot read recorded data "${name}": expected it at ${url.pathname} ` +
        "(tests/testdata/binance/, described in its SOURCES.md)",
      { cause },
    );
  }
}

/**
 * The non-empty lines of a recorded message log, in recorded order: each is
 * one message exactly as the exchange sent it (see SOURCES.md for wrappers).
 *
 * @example
 * ```ts
 * const events = recordedLines("futures_diff.jsonl").map((l) => JSON.parse(l).data);
 * events.length; // 200
 * ```
 */
export function recordedLines(name: RecordedStream): string[] {
  return read(name).split("\n").filter((l) => l.trim() !== "");
}

/**
 * A recorded REST depth snapshot, parsed (`lastUpdateId`, `bids`, `asks` as
 * `[price, qty]` strings; futures add `E` and `T`).
 *
 * @example
 * ```ts
 * const { bids } = recordedJson("rest_depth.json") as { bids: [string, string][] };
 * bids.length; // 609
 * ```
 */
export function recordedJson(name: RecordedSnapshot): unknown {
  return JSON.parse(read(name));
}
