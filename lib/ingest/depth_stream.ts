/**
 * Which Binance depth stream the ingest consumes: `depth20`, partial books
 * of the top levels (`<symbol>@depth<N>@100ms`), or `diff`, diff events
 * (`<symbol>@depth@100ms`) applied to a local book seeded from a REST
 * snapshot.
 *
 * Not to be confused with `StreamKind` (`json_scan.ts`), which classifies the
 * `"stream"` name of one received message.
 *
 * @example
 * ```ts
 * import { DEPTH_STREAMS, type DepthStream } from "./depth_stream.ts";
 * const stream: DepthStream = "diff";
 * DEPTH_STREAMS.includes(stream); // true
 * ```
 * @module
 */

/** The depth streams, the default first. */
export const DEPTH_STREAMS = ["depth20", "diff"] as const;

/** One of {@link DEPTH_STREAMS}. */
export type DepthStream = typeof DEPTH_STREAMS[number];
