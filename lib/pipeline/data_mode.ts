/**
 * Where the service's data comes from, shown as a badge on every page, in
 * `/stats`, `/health` and as the `mode` label of `depthwatch_info`:
 *
 * - `LIVE`: the real market. Only when `--source binance` and every venue in
 *   use is reached at its production host: for Binance spot both the
 *   WebSocket and the REST base URLs at a Binance production host
 *   ({@linkcode LIVE_HOSTS}, over `wss:`/`https:`); for every other venue its
 *   URLs (`--venue-url`, default the production ones) at one of its
 *   `VENUES[venue].hosts` (host and port, over `wss:`/`https:`).
 * - `SIM`: simulated data. `--source sim`, and also `--source binance`
 *   pointed anywhere else (the footprint or test exchange on 127.0.0.1, a
 *   proxy, Binance's testnet): whatever is not provably the market is
 *   shown as simulated, so simulated data is never mistaken for the market.
 * - `REPLAY`: recorded data played back: `--source replay`.
 *
 * This module is shared by the server and the browser: it must not touch the
 * `Deno` global.
 *
 * @module
 */

import { type VenueId, VENUES } from "./venue_id.ts";

/** The data modes (see the module docs). */
export type DataMode = "LIVE" | "SIM" | "REPLAY";

/** Every data mode, in the order docs and metrics list them. */
export const DATA_MODES: readonly DataMode[] = ["LIVE", "SIM", "REPLAY"];

/**
 * Binance production hosts whose data is the market: the spot WebSocket and
 * REST hosts and their documented alternates and market-data mirrors.
 */
export const LIVE_HOSTS: ReadonlySet<string> = new Set([
  "stream.binance.com",
  "data-stream.binance.vision",
  "api.binance.com",
  "api1.binance.com",
  "api2.binance.com",
  "api3.binance.com",
  "api4.binance.com",
  "api-gcp.binance.com",
  "data-api.binance.vision",
]);

/** What {@linkcode detectDataMode} reads from the configuration. */
export interface DataModeSource {
  /** `--source`: "binance", "sim" or "replay". */
  source: string;
  /** `--binance-ws-url`. */
  wsUrl: string;
  /** `--binance-rest-url`. */
  restUrl: string;
  /** The venues in use. Default `["binance"]`. */
  venues?: readonly VenueId[];
  /** `--venue-url`: the other venues' URLs. Default each venue's production URL. */
  venueUrls?: Partial<Record<VenueId, { wsUrl: string; restUrl?: string }>>;
}

/** Whether `raw` is at one of `venue`'s production hosts (host:port) over `secure`. */
function isVenueProduction(raw: string, secure: string, venue: VenueId): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  const port = url.port === "" ? "443" : url.port;
  return url.protocol === secure &&
    VENUES[venue].hosts.includes(`${url.hostname.toLowerCase()}:${port}`);
}

function isLiveUrl(raw: string, secure: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.protocol === secure && LIVE_HOSTS.has(url.hostname.toLowerCase());
}

/**
 * The data mode of a configuration (see the module docs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDataMode } from "./data_mode.ts";
 * const binance = {
 *   source: "binance",
 *   wsUrl: "wss://stream.binance.com:9443",
 *   restUrl: "https://api.binance.com",
 * };
 * assert.equal(detectDataMode(binance), "LIVE");
 * assert.equal(detectDataMode({ ...binance, source: "sim" }), "SIM");
 * assert.equal(detectDataMode({ ...binance, wsUrl: "ws://127.0.0.1:9443" }), "SIM");
 * ```
 */
export function detectDataMode(config: DataModeSource): DataMode {
  if (config.source === "replay") return "REPLAY";
  if (config.source !== "binance") return "SIM";
  for (const venue of config.venues ?? ["binance"]) {
    if (venue === "binance") {
      if (!isLiveUrl(config.wsUrl, "wss:") || !isLiveUrl(config.restUrl, "https:")) return "SIM";
      continue;
    }
    const url = config.venueUrls?.[venue];
    if (!isVenueProduction(url?.wsUrl ?? VENUES[venue].wsUrl, "wss:", venue)) return "SIM";
    const rest = url?.restUrl ?? VENUES[venue].restUrl;
    if (rest !== "" && !isVenueProduction(rest, "https:", venue)) return "SIM";
  }
  return "LIVE";
}
