/**
 * Which {@link VenueProtocol} runs each venue behind `venue_ingest.ts`: the
 * venues that are not Binance (Binance spot and USD-M run in the `Ingestor`).
 *
 * @example
 * ```ts
 * import { venueProtocol, VenueNotBuiltError } from "./venue_registry.ts";
 * try {
 *   venueProtocol("okx");
 * } catch (e) {
 *   if (e instanceof VenueNotBuiltError) e.message; // names the venue
 * }
 * ```
 * @module
 */

import type { VenueId } from "../pipeline/venue_id.ts";
import type { VenueProtocol } from "./venues/venue_protocol.ts";
import { BYBIT_PROTOCOL } from "./venues/bybit_protocol.ts";
import { COINBASE_PROTOCOL } from "./venues/coinbase_protocol.ts";
import { KRAKEN_PROTOCOL } from "./venues/kraken_protocol.ts";
import { OKX_PROTOCOL } from "./venues/okx_protocol.ts";

/**
 * The venues that run in the `Ingestor` (`ingestor.ts`), never behind a {@link VenueProtocol}.
 *
 * @example
 * ```ts
 * import { INGESTOR_VENUES } from "./venue_registry.ts";
 * INGESTOR_VENUES.includes("binance-usdm"); // true
 * ```
 */
export const INGESTOR_VENUES: readonly VenueId[] = ["binance", "binance-usdm"];

/**
 * The protocol of each venue that runs behind `venue_ingest.ts`. A venue
 * missing here cannot be connected yet ({@link venueProtocol} says so).
 *
 * @example
 * ```ts
 * import { VENUE_PROTOCOLS } from "./venue_registry.ts";
 * Object.keys(VENUE_PROTOCOLS); // the venues that can be connected
 * ```
 */
export const VENUE_PROTOCOLS: Readonly<Partial<Record<VenueId, VenueProtocol>>> = Object.freeze({
  bybit: BYBIT_PROTOCOL,
  okx: OKX_PROTOCOL,
  kraken: KRAKEN_PROTOCOL,
  coinbase: COINBASE_PROTOCOL,
});

/**
 * Thrown by {@link venueProtocol} for a venue without a protocol.
 *
 * @example
 * ```ts
 * import { VenueNotBuiltError } from "./venue_registry.ts";
 * new VenueNotBuiltError("okx").message; // "venue okx is not built: …"
 * ```
 */
export class VenueNotBuiltError extends Error {
  /** @param venue the venue asked for. */
  constructor(venue: string) {
    super(
      `venue ${venue} is not built: no protocol is registered for it in lib/ingest/venue_registry.ts` +
        (INGESTOR_VENUES.includes(venue as VenueId) ? " (it runs in the Ingestor)" : ""),
    );
    this.name = "VenueNotBuiltError";
  }
}

/**
 * The protocol of `venue` from `protocols` (default {@link VENUE_PROTOCOLS}).
 *
 * @example
 * ```ts
 * import { venueProtocol } from "./venue_registry.ts";
 * import type { VenueProtocol } from "./venues/venue_protocol.ts";
 * declare const okx: VenueProtocol;
 * venueProtocol("okx", { okx }) === okx; // true
 * ```
 * @throws VenueNotBuiltError when no protocol is registered for `venue`.
 */
export function venueProtocol(
  venue: VenueId,
  protocols: Readonly<Partial<Record<VenueId, VenueProtocol>>> = VENUE_PROTOCOLS,
): VenueProtocol {
  const protocol = protocols[venue];
  if (protocol === undefined) throw new VenueNotBuiltError(venue);
  return protocol;
}
