/**
 * Network access to the venues in use only: the tasks grant `--allow-net`
 * for every venue's hosts (`VENUES[venue].hosts`), and at start the service
 * revokes the hosts of the venues it does not use, before any worker starts
 * (workers inherit the main thread's permissions when they are created), so
 * a bug or a hostile message can never reach another venue. The service
 * passes no venue at all for `--source sim` and `replay`.
 *
 * Deno revokes one host only when it was granted by name: under
 * `--allow-net` without a list (or `-A`) every host stays granted, and
 * {@linkcode restrictNetToVenues} says so.
 *
 * @example
 * ```ts
 * import { restrictNetToVenues } from "./venue_permissions.ts";
 * const { kept, revoked } = await restrictNetToVenues(["binance", "okx"]);
 * // kept: the hosts of Binance spot and OKX; revoked: every other venue's
 * ```
 * @module
 */

import { VENUE_IDS, type VenueId, VENUES } from "../pipeline/venue_id.ts";

/**
 * What {@linkcode restrictNetToVenues} did.
 *
 * @example
 * ```ts
 * import type { VenueHosts } from "./venue_permissions.ts";
 * const done: VenueHosts = { kept: ["ws.okx.com:8443"], revoked: ["ws.kraken.com:443"], stillGranted: [] };
 * ```
 */
export interface VenueHosts {
  /** Hosts of the venues in use (`host:port`), still granted. */
  kept: string[];
  /** Hosts of the other venues, no longer granted. */
  revoked: string[];
  /** Hosts of the other venues that stay granted (net access was granted for every host). */
  stillGranted: string[];
}

/**
 * Revoke net access to the hosts of every venue not in `inUse` (a host
 * listed by a venue in use is kept). Call before any worker starts.
 *
 * @param inUse the venues the service connects to.
 * @param log where the outcome is written (one info line, a second one when hosts could not be revoked). Default none.
 * @example
 * ```ts
 * import { restrictNetToVenues } from "./venue_permissions.ts";
 * await restrictNetToVenues(["binance"], console);
 * ```
 */
export async function restrictNetToVenues(
  inUse: readonly VenueId[],
  log?: Pick<Console, "info">,
): Promise<VenueHosts> {
  const keep = new Set(inUse.flatMap((v) => VENUES[v].hosts));
  const out: VenueHosts = { kept: [...keep], revoked: [], stillGranted: [] };
  for (const venue of VENUE_IDS) {
    if (inUse.includes(venue)) continue;
    for (const host of VENUES[venue].hosts) {
      if (keep.has(host)) continue;
      const { state } = await Deno.permissions.revoke({ name: "net", host });
      (state === "granted" ? out.stillGranted : out.revoked).push(host);
    }
  }
  log?.info(
    (inUse.length === 0
      ? "network: no venue host is needed (a simulated or replayed run, or no ingest here)"
      : `network: venue hosts kept ${out.kept.join(", ")} (${inUse.join(", ")})`) +
      (out.revoked.length > 0 ? `; revoked ${out.revoked.join(", ")}` : ""),
  );
  if (out.stillGranted.length > 0) {
    // Info, not a warning: tests and development run with -A on purpose.
    log?.info(
      `network: ${out.stillGranted.join(", ")} stay reachable although no symbol uses their ` +
        "venue: --allow-net grants every host; list the hosts instead (as the tasks in deno.json do)",
    );
  }
  return out;
}
