/**
 * Reads the WebSocket hub's counters from the loosely typed `state.hub`.
 *
 * The service state types the hub as `unknown` to stay free of its imports;
 * the hub exposes `clients` (a count, or a collection with `size`),
 * `framesConflated` and `framesEncoded` (counts), the market summary's
 * `summaryClients`, `summariesSent`, `summaryBytesSent` and
 * `summariesConflated` (counts) and `disconnects` (reason → count, as a plain
 * record or a Map). Anything missing or malformed reads as zero, so a service
 * without a hub (or a test) still reports.
 *
 * @example
 * ```ts
 * import { readHubStats } from "./hub_stats.ts";
 * readHubStats({ clients: 2, framesConflated: 5, disconnects: { slow: 1 } });
 * // { clients: 2, framesConflated: 5, framesEncoded: 0, summaryClients: 0, …, disconnects: { slow: 1 } }
 * readHubStats(undefined).clients; // 0
 * ```
 * @module
 */

/** The hub's counters, normalised. */
export interface HubStats {
  /** Connected WebSocket clients. */
  clients: number;
  /** Frames replaced by a newer one of the same symbol while a client was behind. */
  framesConflated: number;
  /**
   * Live frames the main thread encoded itself because the analytics worker
   * had not (a symbol watched for less than the watch flags' sync period).
   */
  framesEncoded: number;
  /** Clients that receive the once-a-second market summary. */
  summaryClients: number;
  /** Market summaries sent (each to one client). */
  summariesSent: number;
  /** Bytes of the market summaries sent, summed over clients. */
  summaryBytesSent: number;
  /** Summaries replaced by a newer one while a client was behind. */
  summariesConflated: number;
  /** Disconnects by reason. */
  disconnects: Record<string, number>;
}

function count(v: unknown): number {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? v : 0;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "object" && v !== null && "size" in v) return count(v.size);
  return 0;
}

/**
 * Normalise the hub's counters (see the module docs for the accepted shapes).
 *
 * @example
 * ```ts
 * import { readHubStats } from "./hub_stats.ts";
 * readHubStats({ clients: new Set([1, 2]) }).clients; // 2
 * ```
 */
export function readHubStats(hub: unknown): HubStats {
  if (typeof hub !== "object" || hub === null) {
    return {
      clients: 0,
      framesConflated: 0,
      framesEncoded: 0,
      summaryClients: 0,
      summariesSent: 0,
      summaryBytesSent: 0,
      summariesConflated: 0,
      disconnects: {},
    };
  }
  const h = hub as Record<string, unknown>;
  const disconnects: Record<string, number> = {};
  const d = h.disconnects;
  const entries: Iterable<[unknown, unknown]> = d instanceof Map
    ? d.entries()
    : typeof d === "object" && d !== null
    ? Object.entries(d)
    : [];
  for (const [reason, n] of entries) disconnects[String(reason)] = count(n);
  return {
    clients: count(h.clients),
    framesConflated: count(h.framesConflated),
    framesEncoded: count(h.framesEncoded),
    summaryClients: count(h.summaryClients),
    summariesSent: count(h.summariesSent),
    summaryBytesSent: count(h.summaryBytesSent),
    summariesConflated: count(h.summariesConflated),
    disconnects,
  };
}
