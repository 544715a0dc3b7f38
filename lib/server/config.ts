/**
 * The service's configuration: command-line flags, each also readable from an
 * environment variable `DEPTHWATCH_<NAME>` (upper snake case of the flag name,
 * e.g. `--sim-rate` ↔ `DEPTHWATCH_SIM_RATE`). Precedence: flag, then env, then
 * default. An environment variable set to the empty string counts as unset.
 *
 * {@linkcode parseConfig} returns a validated, frozen {@linkcode Config} or throws
 * a {@linkcode ConfigError} naming the flag (and env var), the bad value and what
 * is expected. {@linkcode helpText} documents every flag; {@linkcode redactConfig}
 * makes a copy that is safe to log.
 *
 * @example
 * ```ts
 * import { ConfigError, denoEnv, helpText, parseConfig, redactConfig } from "./config.ts";
 *
 * try {
 *   const config = parseConfig(Deno.args, denoEnv());
 *   if (config.help) console.log(helpText());
 *   else console.log(JSON.stringify(redactConfig(config)));
 * } catch (e) {
 *   if (!(e instanceof ConfigError)) throw e;
 *   console.error(`${e.message}\nRun with --help for all flags.`);
 *   Deno.exit(2);
 * }
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { MAX_NOTIONALS } from "../pipeline/frame_slot.ts";
import { DEPTH_STREAMS, type DepthStream } from "../ingest/depth_stream.ts";
import {
  parseSymbolSelector,
  SYMBOLS_EXPECTED,
  type SymbolSelector,
  SymbolSelectorError,
} from "../ingest/symbol_selector.ts";
import { depthRequestWeight } from "../pipeline/depth_request_weight.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../pipeline/logger.ts";
import { isoToUs } from "../record/mod.ts";
import {
  CONSOLIDATE_EXPECTED,
  type ConsolidatedInstrument,
  ConsolidateError,
  parseConsolidate,
  withConsolidated,
} from "./consolidated_instruments.ts";
import { VENUE_IDS, type VenueId, venueOf, VENUES } from "../pipeline/venue_id.ts";

/** Where the order books come from. */
export type Source = "binance" | "sim" | "replay";

/** What a node runs on a NATS bus: both halves, the pipeline only, or the dashboards only. */
export type Role = "all" | "ingest" | "dashboard";

/** The validated configuration; every field is frozen. */
export interface Config {
  /** `--source`: `binance` (live), `sim` (built-in simulated exchange) or `replay` (a recording). Default `binance`. */
  readonly source: Source;
  /**
   * The symbols watched: lower-case, de-duplicated, in the order given. Default
   * `["btcusdt", "ethusdt"]`. When `--symbols` holds a pattern or `all`
   * (`symbolSelector.needsExchange`), `parseConfig` puts only the names given
   * here; the service resolves the list against the exchange at start
   * (`lib/server/symbol_resolution.ts`) and runs with the result.
   * With `--consolidate`, the instruments' members missing from `--symbols`
   * follow, then the instruments' `x:` names (`withConsolidated`).
   */
  readonly symbols: readonly string[];
  /** `--consolidate`: consolidated instruments (lib/server/consolidated_instruments.ts). Default none. */
  readonly consolidate: readonly ConsolidatedInstrument[];
  /** `--symbols` as parsed: names and patterns (see `lib/ingest/symbol_selector.ts`). */
  readonly symbolSelector: SymbolSelector;
  /**
   * The venues in use: those of the symbols (patterns and `all` are Binance
   * spot), in `VENUE_IDS` order. `--venues` limits them (a symbol of a venue
   * it does not list is an error) and, with `--source sim` and no
   * `--symbols`, picks the symbols: BTC and ETH on each listed venue
   * ({@link VENUE_DEFAULT_SYMBOLS}), and, when it lists two venues or more and
   * neither `--consolidate` nor a NATS `--bus` is given, the instrument
   * `x:btc` consolidating their BTC books. Default `["binance"]`.
   */
  readonly venues: readonly VenueId[];
  /**
   * `--venue-url`: URLs of venues other than Binance spot (which has
   * `--binance-ws-url` / `--binance-rest-url`), by venue. Default none: each
   * venue's production URL (`VENUES[venue].wsUrl`).
   */
  readonly venueUrls: Readonly<Partial<Record<VenueId, VenueUrlConfig>>>;
  /** `--stream`: `depth20` partial books or `diff` events. Default `depth20`. */
  readonly stream: DepthStream;
  /** `--host`: interface the HTTP server binds. Default `127.0.0.1`. */
  readonly host: string;
  /** `--port`: HTTP port, 0 for an ephemeral one. Default 8000. */
  readonly port: number;
  /** `--binance-ws-url`: WebSocket base URL without trailing slash. Default `wss://stream.binance.com:9443`. */
  readonly binanceWsUrl: string;
  /** `--binance-rest-url`: REST base URL without trailing slash. Default `https://api.binance.com`. */
  readonly binanceRestUrl: string;
  /** `--sim-rate`: simulated frames per second per symbol. Default 10. */
  readonly simRate: number;
  /**
   * `--raw-capacity`: raw ring slots (power of two). Default `undefined`:
   * sized from the symbols and their frame rate at start
   * (`ringCapacities` in `lib/server/ring_capacity.ts`).
   */
  readonly rawCapacity: number | undefined;
  /** `--processed-capacity`: processed ring slots (power of two). Default `undefined`: sized like the raw ring. */
  readonly processedCapacity: number | undefined;
  /** `--history`: analytics frames kept per symbol. Default 100. */
  readonly history: number;
  /** `--stale-ms`: a feed silent this long is stale. Default 2000. */
  readonly staleMs: number;
  /** `--allowed-origins`: browser origins allowed besides the server's own (normalised). Default none. */
  readonly allowedOrigins: readonly string[];
  /** `--allowed-hosts`: `Host` names served besides the bound address and loopback (lower case). Default none. */
  readonly allowedHosts: readonly string[];
  /** `--auth-token`: token clients must present; `undefined` for none. Default none. */
  readonly authToken: string | undefined;
  /** `--max-clients`: WebSocket clients served at once. Default 1000. */
  readonly maxClients: number;
  /**
   * `--max-connections`: open TCP connections at once, HTTP and WebSocket alike
   * (more get 503). Default `undefined`: the file-descriptor limit less the
   * fds the process keeps for itself (see `lib/server/connection_cap.ts`).
   */
  readonly maxConnections: number | undefined;
  /** `--fd-limit`: the process's file-descriptor limit when it cannot be read. Default `undefined` (read it). */
  readonly fdLimit: number | undefined;
  /** `--header-timeout-ms`: a request head must arrive within this. Default 10000. */
  readonly headerTimeoutMs: number;
  /** `--idle-timeout-ms`: an idle keep-alive HTTP connection is closed after this. Default 5000. */
  readonly idleTimeoutMs: number;
  /** `--log-level`. Default `info`. */
  readonly logLevel: LogLevel;
  /** `--log-format`. Default `text`. */
  readonly logFormat: LogFormat;
  /** `--levels`: book levels per side kept and analysed. Default 20. */
  readonly levels: number;
  /** `--snapshot-depth`: diff mode, levels per side of each REST snapshot (at least `levels`). Default 100 (weight 5). */
  readonly snapshotDepth: number;
  /** `--rest-weight-limit`: diff mode, the exchange's REST weight limit per minute for this IP (80 % is used). Default 6000. */
  readonly restWeightLimit: number;
  /** `--analytics-cost-ms`: debug only, artificial analytics cost per frame. Default 0. */
  readonly analyticsCostMs: number;
  /** `--notionals`: quote notionals for slippage. Default `[10000, 100000, 1000000]`. */
  readonly notionals: readonly number[];
  /** `--wall-factor`: a wall is a level of at least this × the median size. Default 5. */
  readonly wallFactor: number;
  /** `--replay-path`: the recording `--source replay` plays (a tardis-format file or a directory). Default none. */
  readonly replayPath: string | undefined;
  /** `--replay-from`: first receive time replayed, epoch µs. Default `undefined`: the start. */
  readonly replayFrom: number | undefined;
  /** `--replay-to`: last receive time replayed, epoch µs. Default `undefined`: the end. */
  readonly replayTo: number | undefined;
  /** `--replay-speed`: speed factor (> 0); `Infinity` for `max`. Default 1. */
  readonly replaySpeed: number;
  /** `--replay-loop`: start over at the end of the recording. Default false. */
  readonly replayLoop: boolean;
  /** `--record-dir`: record the raw market into this directory (live or sim only). Default `undefined`: off. */
  readonly recordDir: string | undefined;
  /** `--record-max-bytes`: bound on the recording directory, bytes (`Infinity` for none). Default 50 GB (50e9). */
  readonly recordMaxBytes: number;
  /** `--record-max-age`: hours older than this are deleted, ms (`Infinity` for none). Default 7 days. */
  readonly recordMaxAgeMs: number;
  /** `--record-ring-bytes`: the record ring's data bytes (a power of two). Default 8 MiB. */
  readonly recordRingBytes: number;
  /** `--bus`: `memory` (one process, no NATS) or a NATS server's `nats://HOST:PORT`. Default `memory`. */
  readonly bus: string;
  /** `--role`: what this node runs with a NATS bus (`all`, `ingest` or `dashboard`). Default `all`. */
  readonly role: Role;
  /** `--node-id`: this node's id among the nodes on the bus. Default `n-` + 8 random hex digits. */
  readonly nodeId: string;
  /** `--capacity`: most partitions this node holds. Default Infinity (as many as its fair share). */
  readonly capacity: number;
  /** `--partitions`: partitions of the symbol universe (the same on every node). Default 16. */
  readonly partitions: number;
  /** `--lease-ttl`: partition lease TTL, ms (the same on every node). Default 10000. */
  readonly leaseTtlMs: number;
  /**
   * Flags given (on the command line or by their environment variable) rather
   * than defaulted, with dashes, e.g. `["--source", "--symbols"]`: a replay
   * takes the symbols and the stream from the recording unless given.
   */
  readonly given: readonly string[];
  /** `--help` was given (flag only, no env var). */
  readonly help: boolean;
}

/**
 * A venue's URLs given by `--venue-url`.
 *
 * @example
 * ```ts
 * import type { VenueUrlConfig } from "./config.ts";
 * const okx: VenueUrlConfig = { wsUrl: "ws://127.0.0.1:9200/ws/v5/public" };
 * ```
 */
export interface VenueUrlConfig {
  /** WebSocket base URL. */
  readonly wsUrl: string;
  /** REST base URL, when given. */
  readonly restUrl?: string;
}

/**
 * The symbols of a venue when `--venues` picks them (`--source sim` without
 * `--symbols`): BTC and ETH in the venue's spelling, as service names.
 *
 * @example
 * ```ts
 * import { VENUE_DEFAULT_SYMBOLS } from "./config.ts";
 * VENUE_DEFAULT_SYMBOLS.kraken; // ["kraken:btc/usd", "kraken:eth/usd"]
 * ```
 */
export const VENUE_DEFAULT_SYMBOLS: Readonly<Record<VenueId, readonly string[]>> = Object.freeze({
  "binance": ["btcusdt", "ethusdt"],
  "binance-usdm": ["binance-usdm:btcusdt", "binance-usdm:ethusdt"],
  "bybit": ["bybit:btcusdt", "bybit:ethusdt"],
  "okx": ["okx:btc-usdt", "okx:eth-usdt"],
  "kraken": ["kraken:btc/usd", "kraken:eth/usd"],
  "coinbase": ["coinbase:btc-usd", "coinbase:eth-usd"],
});

/** Reads an environment variable; `undefined` when unset. */
export type EnvReader = (name: string) => string | undefined;

/**
 * A flag or environment variable was invalid or unknown.
 *
 * @example
 * ```ts
 * import { ConfigError, parseConfig } from "./config.ts";
 * try {
 *   parseConfig(["--port", "http"], () => undefined);
 * } catch (e) {
 *   if (e instanceof ConfigError) e.flag; // "--port"
 * }
 * ```
 */
export class ConfigError extends Error {
  /** The flag concerned (e.g. `--port`), or `undefined` for a stray argument. */
  readonly flag: string | undefined;
  /** The rejected value as given, if any. */
  readonly value: string | undefined;

  /**
   * Creates the error; `parseConfig` throws it.
   *
   * @param message the full explanation.
   * @param flag the flag concerned.
   * @param value the rejected value.
   */
  constructor(message: string, flag?: string, value?: string) {
    super(message);
    this.name = "ConfigError";
    this.flag = flag;
    this.value = value;
  }
}

/** Prefix of every environment variable read. */
export const ENV_PREFIX = "DEPTHWATCH_";

type Parser<T> = (raw: string) => T;

/** Thrown by parsers; turned into a ConfigError naming the flag and the value (and the message, if any). */
class Invalid extends Error {}

interface FlagSpec {
  /** Flag name without dashes. */
  readonly name: string;
  /** Config key. */
  readonly key: Exclude<keyof Config, "help" | "symbols" | "given">;
  /**
   * May be given several times: the values are joined with this separator
   * (`,` for lists such as `--venue-url`, `;` for `--consolidate`, whose
   * entries hold commas). Default: given once.
   */
  readonly join?: "," | ";";
  /** A switch: `--name` alone means true (the env var takes true/false/1/0). */
  readonly switch?: boolean;
  /** Placeholder in the help text. */
  readonly arg: string;
  /** Raw default, `undefined` for none. */
  readonly default: string | undefined;
  /** The default as the help text shows it, when it is worked out at start (default: `default` or "none"). */
  readonly defaultText?: string;
  /** What the flag does. */
  readonly about: string;
  /** What a valid value looks like (ends error messages too). */
  readonly expected: string;
  /** Value when neither the flag nor the env var is set and there is no default. */
  readonly unset?: unknown;
  readonly parse: Parser<unknown>;
}

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    const v = raw.trim();
    if (!(values as readonly string[]).includes(v)) throw new Invalid();
    return v as T;
  };
}

function integer(min: number, max: number, powerOfTwo = false): Parser<number> {
  return (raw) => {
    const v = raw.trim();
    if (!/^\+?[0-9]+$/.test(v)) throw new Invalid();
    const n = Number(v);
    if (n < min || n > max) throw new Invalid();
    if (powerOfTwo && (n & (n - 1)) !== 0) throw new Invalid();
    return n;
  };
}

const DECIMAL = /^\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function decimal(ok: (n: number) => boolean): Parser<number> {
  return (raw) => {
    const v = raw.trim();
    if (!DECIMAL.test(v)) throw new Invalid();
    const n = Number(v);
    if (!Number.isFinite(n) || !ok(n)) throw new Invalid();
    return n;
  };
}

/** Splits a comma list; empty entries are errors, an empty string is an empty list. */
function list(raw: string): string[] {
  if (raw.trim() === "") return [];
  const parts = raw.split(",").map((s) => s.trim());
  if (parts.some((p) => p === "")) throw new Invalid();
  return parts;
}

function baseUrl(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw new Invalid();
    }
    if (
      !protocols.includes(url.protocol) || url.username !== "" || url.password !== "" ||
      url.search !== "" || url.hash !== "" || url.hostname === ""
    ) {
      throw new Invalid();
    }
    return url.origin + url.pathname.replace(/\/+$/, "");
  };
}

function parseSymbols(raw: string): SymbolSelector {
  try {
    return parseSymbolSelector(raw);
  } catch (e) {
    if (e instanceof SymbolSelectorError) throw new Invalid(e.message);
    throw e;
  }
}

function parseConsolidateFlag(raw: string): readonly ConsolidatedInstrument[] {
  try {
    return Object.freeze(parseConsolidate(raw));
  } catch (e) {
    if (e instanceof ConsolidateError) throw new Invalid(e.message);
    throw e;
  }
}

function parseVenues(raw: string): readonly VenueId[] {
  const out: VenueId[] = [];
  for (const part of list(raw)) {
    const v = part.toLowerCase();
    if (!(VENUE_IDS as readonly string[]).includes(v)) throw new Invalid(`unknown venue ${part}`);
    if (!out.includes(v as VenueId)) out.push(v as VenueId);
  }
  if (out.length === 0) throw new Invalid("no venue");
  return Object.freeze(out);
}

/**
 * `VENUE=WS_URL[,REST_URL]` entries, comma-separated (or from several
 * `--venue-url`): an item with `=` starts an entry, an item without is the
 * REST URL of the entry before it.
 */
function parseVenueUrls(raw: string): Readonly<Partial<Record<VenueId, VenueUrlConfig>>> {
  const out: Partial<Record<VenueId, VenueUrlConfig>> = {};
  let last: VenueId | undefined;
  for (const item of list(raw)) {
    const eq = item.indexOf("=");
    if (eq < 0) {
      if (last === undefined || out[last]!.restUrl !== undefined) {
        throw new Invalid(`${item} is not VENUE=URL`);
      }
      let rest: string;
      try {
        rest = baseUrl(["http:", "https:"])(item);
      } catch {
        throw new Invalid(`the REST URL of ${last} must be http:// or https://, got ${item}`);
      }
      out[last] = Object.freeze({ ...out[last]!, restUrl: rest });
      continue;
    }
    const venue = item.slice(0, eq).trim().toLowerCase();
    if (!(VENUE_IDS as readonly string[]).includes(venue)) {
      throw new Invalid(`unknown venue ${item.slice(0, eq)}`);
    }
    if (venue === "binance") {
      throw new Invalid("Binance spot's URLs are --binance-ws-url and --binance-rest-url");
    }
    if (out[venue as VenueId] !== undefined) throw new Invalid(`${venue} is given twice`);
    let ws: string;
    try {
      ws = baseUrl(["ws:", "wss:"])(item.slice(eq + 1));
    } catch {
      throw new Invalid(`the WebSocket URL of ${venue} must be ws:// or wss://`);
    }
    out[venue as VenueId] = Object.freeze({ wsUrl: ws });
    last = venue as VenueId;
  }
  return Object.freeze(out);
}

function parseOrigins(raw: string): readonly string[] {
  const out: string[] = [];
  for (const part of list(raw)) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw new Invalid();
    }
    if (
      (url.protocol !== "http:" && url.protocol !== "https:") || url.pathname !== "/" ||
      url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "" ||
      part.endsWith("?") || part.endsWith("#")
    ) {
      throw new Invalid();
    }
    if (!out.includes(url.origin)) out.push(url.origin);
  }
  return Object.freeze(out);
}

const HOST_NAME =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

function parseHostNames(raw: string): readonly string[] {
  const out: string[] = [];
  for (const part of list(raw)) {
    const host = part.toLowerCase();
    if (host.length > 259 || !HOST_NAME.test(host)) throw new Invalid();
    const port = /:([0-9]+)$/.exec(host.replace(/^\[[^\]]*\]/, ""));
    if (port && Number(port[1]) > 65535) throw new Invalid();
    if (!out.includes(host)) out.push(host);
  }
  return Object.freeze(out);
}

function parseToken(raw: string): string | undefined {
  if (raw === "") return undefined;
  if (raw.length > 4096 || !/^[\x21-\x7e]+$/.test(raw)) throw new Invalid();
  return raw;
}

function parseHost(raw: string): string {
  const v = raw.trim();
  if (v.length < 1 || v.length > 253 || !/^[A-Za-z0-9.:-]+$/.test(v)) throw new Invalid();
  return v;
}

function parseIsoTime(raw: string): number {
  const us = isoToUs(raw.trim());
  if (us !== us) throw new Invalid();
  return us;
}

function parseSpeed(raw: string): number {
  const v = raw.trim().toLowerCase();
  if (v === "max") return Infinity;
  return decimal((n) => n > 0 && n <= 1_000_000)(v);
}

function parseSwitch(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new Invalid();
}

function parseNotionals(raw: string): readonly number[] {
  const one = decimal((n) => n > 0 && n <= 1e15);
  const out: number[] = [];
  for (const part of list(raw)) {
    const n = one(part);
    if (out.includes(n)) throw new Invalid();
    out.push(n);
  }
  if (out.length < 1 || out.length > MAX_NOTIONALS) throw new Invalid();
  return Object.freeze(out);
}

/** Every flag except `--help`, in help-text order. */
const FLAGS: readonly FlagSpec[] = [
  {
    name: "source",
    key: "source",
    arg: "binance|sim|replay",
    default: "binance",
    about: "Where order books come from: the live exchange, the built-in simulated exchange, " +
      "or a recording played back (--replay-path).",
    expected: "binance, sim or replay",
    parse: oneOf(["binance", "sim", "replay"] as const),
  },
  {
    name: "symbols",
    key: "symbolSelector",
    arg: "list",
    default: "btcusdt,ethusdt",
    about: "Symbols to watch, any number: names, patterns where '*' matches any characters " +
      "(e.g. '*usdt', 'btc*'), or all (every symbol the exchange lists as TRADING), " +
      "comma-separated and mixed, case-insensitive, duplicates ignored. A list of names is " +
      "used as given; a list with a pattern or all is resolved at start from " +
      "--binance-rest-url's GET /api/v3/exchangeInfo (weight 20), and its names must then " +
      "be TRADING there too. With --source sim the simulated exchange lists the names given " +
      "plus btcusdt, ethusdt, bnbusdt and solusdt.",
    expected: SYMBOLS_EXPECTED,
    parse: parseSymbols,
  },
  {
    name: "venues",
    key: "venues",
    arg: "list",
    default: undefined,
    defaultText: "the venues of --symbols",
    about: "The venues in use, comma-separated. With --source sim and no --symbols, the symbols " +
      "are BTC and ETH on each listed venue, and with two venues or more (and no --consolidate) " +
      "X:BTC consolidates their BTC books; otherwise every symbol must be on a listed venue. " +
      "The process keeps network access to the hosts of these venues only (README).",
    expected: `venue ids out of ${VENUE_IDS.join(", ")}, e.g. binance,bybit,okx,kraken`,
    parse: parseVenues,
  },
  {
    name: "venue-url",
    key: "venueUrls",
    join: ",",
    arg: "venue=ws_url[,rest_url]",
    default: undefined,
    unset: Object.freeze({}),
    defaultText: "each venue's production URL",
    about:
      "A venue's WebSocket base URL (and REST base URL: binance-usdm snapshots, okx contract values) " +
      "instead of its production one, e.g. okx=wss://ws.okx.com:8443/ws/v5/public; " +
      "repeat the flag or separate entries by commas. Binance spot has --binance-ws-url.",
    expected: "VENUE=WS_URL[,REST_URL] entries of venues other than binance, ws:// or wss:// " +
      "(REST http:// or https://) URLs without credentials, query or fragment",
    parse: parseVenueUrls,
  },
  {
    name: "stream",
    key: "stream",
    arg: "depth20|diff",
    default: "depth20",
    about: "Binance stream: partial books (depth20) or diff events kept in a local book (diff).",
    expected: "depth20 or diff",
    parse: oneOf(DEPTH_STREAMS),
  },
  {
    name: "host",
    key: "host",
    arg: "host",
    default: "127.0.0.1",
    about: "Interface the HTTP server listens on.",
    expected: "a host name or IP address (e.g. 127.0.0.1, 0.0.0.0, ::1, localhost)",
    parse: parseHost,
  },
  {
    name: "port",
    key: "port",
    arg: "int",
    default: "8000",
    about: "HTTP port; 0 picks a free one.",
    expected: "an integer from 0 to 65535",
    parse: integer(0, 65535),
  },
  {
    name: "binance-ws-url",
    key: "binanceWsUrl",
    arg: "url",
    default: "wss://stream.binance.com:9443",
    about: "Binance WebSocket base URL.",
    expected: "a ws:// or wss:// URL without credentials, query or fragment",
    parse: baseUrl(["ws:", "wss:"]),
  },
  {
    name: "binance-rest-url",
    key: "binanceRestUrl",
    arg: "url",
    default: "https://api.binance.com",
    about:
      "Binance REST base URL (depth snapshots; exchangeInfo when --symbols has a pattern or all).",
    expected: "an http:// or https:// URL without credentials, query or fragment",
    parse: baseUrl(["http:", "https:"]),
  },
  {
    name: "sim-rate",
    key: "simRate",
    arg: "n",
    default: "10",
    about: "Frames per second per symbol sent by the simulated exchange.",
    expected: "a number > 0 and <= 100000",
    parse: decimal((n) => n > 0 && n <= 100_000),
  },
  {
    name: "raw-capacity",
    key: "rawCapacity",
    arg: "int",
    default: undefined,
    defaultText: "250 ms of every symbol's frames, rounded up to a power of two from 256 to " +
      "65536 (8192 at 2,000 symbols × 10 frames/s)",
    unset: undefined,
    about: "Slots of the raw frame ring (oldest frames are dropped when full). The default " +
      "holds 250–500 ms of every symbol's frames (10 frames/s each from Binance, --sim-rate " +
      "with --source sim), so a pause of the analytics worker drops nothing.",
    expected: "a power of two from 2 to 1048576",
    parse: integer(2, 1 << 20, true),
  },
  {
    name: "processed-capacity",
    key: "processedCapacity",
    arg: "int",
    default: undefined,
    defaultText: "sized like the raw ring",
    unset: undefined,
    about: "Slots of the analytics frame ring (oldest frames are dropped when full); the default " +
      "holds 250–500 ms of frames, so a pause of the main thread drops nothing.",
    expected: "a power of two from 2 to 1048576",
    parse: integer(2, 1 << 20, true),
  },
  {
    name: "history",
    key: "history",
    arg: "int",
    default: "100",
    about: "Analytics frames kept per symbol for new dashboard clients and /api/history.",
    expected: "an integer from 1 to 100000",
    parse: integer(1, 100_000),
  },
  {
    name: "stale-ms",
    key: "staleMs",
    arg: "ms",
    default: "2000",
    about: "A feed that delivers nothing for this long is stale and reconnected.",
    expected: "an integer number of milliseconds from 1 to 86400000",
    parse: integer(1, 86_400_000),
  },
  {
    name: "allowed-origins",
    key: "allowedOrigins",
    arg: "list",
    default: undefined,
    unset: Object.freeze([]),
    about: "Comma-separated browser origins allowed to connect besides the server's own.",
    expected:
      "a comma-separated list of http(s) origins without path, e.g. https://example.com,http://localhost:3000",
    parse: parseOrigins,
  },
  {
    name: "allowed-hosts",
    key: "allowedHosts",
    arg: "list",
    default: undefined,
    unset: Object.freeze([]),
    about:
      "Comma-separated Host names served besides the bound address, localhost, 127.0.0.1 and [::1]; " +
      "other Host headers get 421. Bound to 0.0.0.0 or ::, list every name clients use.",
    expected:
      "a comma-separated list of host names or IP addresses, each with an optional :port, e.g. depth.example.com,10.0.0.5:8000",
    parse: parseHostNames,
  },
  {
    name: "auth-token",
    key: "authToken",
    arg: "token",
    default: undefined,
    unset: undefined,
    about: "Token clients must present; none means no authentication.",
    expected: "1 to 4096 visible ASCII characters without spaces",
    parse: parseToken,
  },
  {
    name: "max-clients",
    key: "maxClients",
    arg: "int",
    default: "1000",
    about: "WebSocket clients served at once; more are refused.",
    expected: "an integer from 1 to 100000",
    parse: integer(1, 100_000),
  },
  {
    name: "max-connections",
    key: "maxConnections",
    arg: "int",
    default: undefined,
    defaultText: "the fd limit less 128",
    unset: undefined,
    about: "Open TCP connections at once, HTTP and WebSocket alike; more get 503. " +
      "Default: the file-descriptor limit less what the process keeps for itself.",
    expected: "an integer from 1 to 1000000",
    parse: integer(1, 1_000_000),
  },
  {
    name: "fd-limit",
    key: "fdLimit",
    arg: "int",
    default: undefined,
    defaultText: "read from /proc/self/limits",
    unset: undefined,
    about: "The process's file-descriptor limit, for when it cannot be read (reading " +
      "/proc/self/limits needs --allow-all); `deno task start` passes `ulimit -Hn`.",
    expected: "an integer from 64 to 100000000",
    parse: integer(64, 100_000_000),
  },
  {
    name: "header-timeout-ms",
    key: "headerTimeoutMs",
    arg: "ms",
    default: "10000",
    about: "A request head must arrive within this from its first byte; slower ones are closed.",
    expected: "an integer number of milliseconds from 100 to 600000",
    parse: integer(100, 600_000),
  },
  {
    name: "idle-timeout-ms",
    key: "idleTimeoutMs",
    arg: "ms",
    default: "5000",
    about: "An HTTP keep-alive connection idle this long is closed.",
    expected: "an integer number of milliseconds from 100 to 3600000",
    parse: integer(100, 3_600_000),
  },
  {
    name: "log-level",
    key: "logLevel",
    arg: "level",
    default: "info",
    about: "Least severe log level written.",
    expected: "debug, info, warn or error",
    parse: oneOf(LOG_LEVELS),
  },
  {
    name: "log-format",
    key: "logFormat",
    arg: "text|json",
    default: "text",
    about: "Log line format.",
    expected: "text or json",
    parse: oneOf(LOG_FORMATS),
  },
  {
    name: "levels",
    key: "levels",
    arg: "int",
    default: "20",
    about: "Book levels per side kept and analysed.",
    expected: "an integer from 1 to 100",
    parse: integer(1, 100),
  },
  {
    name: "snapshot-depth",
    key: "snapshotDepth",
    arg: "int",
    default: "100",
    about:
      "Diff mode: levels per side of each REST snapshot that seeds a local book. Weight per snapshot: " +
      "≤100 → 5, ≤500 → 25, ≤1000 → 50, ≤5000 → 250; at 100, 2,000 books sync in about 2 minutes " +
      "within the REST budget, at 1000 in about 21. A book is right for its top --levels while they " +
      "stay inside the seeded levels; when the price walks past them the symbol resyncs (a new " +
      "snapshot; the last good book is shown flagged stale meanwhile). Deeper = fewer resyncs, slower start.",
    expected: "an integer from 1 to 5000, at least --levels",
    parse: integer(1, 5000),
  },
  {
    name: "rest-weight-limit",
    key: "restWeightLimit",
    arg: "int",
    default: "6000",
    about:
      "Diff mode: the exchange's REST weight limit per minute for this IP (Binance: 6000); snapshots " +
      "use at most 80 % of it in any minute, leaving the rest to other clients of the IP.",
    expected: "an integer from 10 to 1000000",
    parse: integer(10, 1_000_000),
  },
  {
    name: "analytics-cost-ms",
    key: "analyticsCostMs",
    arg: "ms",
    default: "0",
    about: "Debug: artificial analytics cost per frame, to exercise adaptive skipping.",
    expected: "a number of milliseconds from 0 to 10000",
    parse: decimal((n) => n >= 0 && n <= 10_000),
  },
  {
    name: "notionals",
    key: "notionals",
    arg: "list",
    default: "10000,100000,1000000",
    about: "Comma-separated quote notionals whose slippage is computed.",
    expected:
      `a comma-separated list of 1 to ${MAX_NOTIONALS} distinct positive numbers up to 1e15 (e.g. 10000,100000)`,
    parse: parseNotionals,
  },
  {
    name: "wall-factor",
    key: "wallFactor",
    arg: "k",
    default: "5",
    about: "A level is a wall when its size is at least k times the median visible size.",
    expected: "a number from 1 to 1000",
    parse: decimal((n) => n >= 1 && n <= 1000),
  },
  {
    name: "replay-path",
    key: "replayPath",
    arg: "path",
    default: undefined,
    about: "With --source replay (required there): the recording to play, a tardis-format text " +
      "file (`<ISO-8601 time with µs> <raw message>` a line, plain or .gz) or a directory of " +
      "them read in name order. The symbols and the stream kind come from the recording unless " +
      "--symbols / --stream are given. The process needs --allow-read for this path only.",
    expected: "the path of a recording file or directory",
    parse: (raw) => {
      if (raw.trim() === "") throw new Invalid();
      return raw;
    },
  },
  {
    name: "replay-from",
    key: "replayFrom",
    arg: "time",
    default: undefined,
    about: "With --source replay: the first receive time played (earlier records are skipped; " +
      "in diff mode the replay starts at the symbols' last snapshots before it).",
    expected: "an ISO-8601 UTC time like 2026-12-02T12:00:00Z or 2026-12-02T12:00:00.123456Z",
    parse: parseIsoTime,
  },
  {
    name: "replay-to",
    key: "replayTo",
    arg: "time",
    default: undefined,
    about: "With --source replay: the last receive time played; the replay ends there.",
    expected: "an ISO-8601 UTC time like 2026-12-02T13:00:00Z, not before --replay-from",
    parse: parseIsoTime,
  },
  {
    name: "replay-speed",
    key: "replaySpeed",
    arg: "factor|max",
    default: "1",
    about: "With --source replay: 1 plays in recorded time, 10 ten times faster, any positive " +
      "factor; max as fast as the pipeline takes it (waiting on the raw ring, never dropping). " +
      "The analytics run on the recorded receive times, so their results do not depend on it.",
    expected: "a number above 0 up to 1000000, or max",
    parse: parseSpeed,
  },
  {
    name: "replay-loop",
    key: "replayLoop",
    arg: "",
    switch: true,
    default: "false",
    about: "With --source replay: start over at the end (like a reconnect: every book resets, " +
      "the clock keeps running forwards).",
    expected: "no value on the command line; true, false, 1 or 0 in the environment",
    parse: parseSwitch,
  },
  {
    name: "record-dir",
    key: "recordDir",
    arg: "dir",
    default: undefined,
    about: "Record the raw market into this directory (created when missing): every exchange " +
      "message as received with its receive time, one zstd file per UTC hour " +
      "(dir/binance/YYYY-MM-DD/HH.dwrec.zst, .partial while open). Written by a recorder " +
      "worker; a slow or full disk never slows ingest (a full record ring drops and counts). " +
      "Only with --source binance or sim. The process needs --allow-write and --allow-read " +
      "for this directory (deno task record).",
    expected: "a directory path",
    parse: (raw) => {
      if (raw.trim() === "") throw new Invalid();
      return raw;
    },
  },
  {
    name: "record-max-bytes",
    key: "recordMaxBytes",
    arg: "size|none",
    default: "50GB",
    about: "With --record-dir: the recording directory's bound; the oldest hours are deleted " +
      "first (the open hour never).",
    expected: "a size of at least 1MB like 50GB, 500MiB or 1000000000 (bytes), or none",
    parse: parseSize(1e6, true),
  },
  {
    name: "record-max-age",
    key: "recordMaxAgeMs",
    arg: "duration|none",
    default: "7d",
    about: "With --record-dir: hours that ended longer ago than this are deleted.",
    expected: "a duration of at least 1h like 7d, 36h, 2w or 90m, or none",
    parse: parseDurationFlag,
  },
  {
    name: "record-ring-bytes",
    key: "recordRingBytes",
    arg: "size",
    default: "8MiB",
    about: "With --record-dir: the ring between the ingest and the recorder worker (shared " +
      "memory). A record that does not fit is dropped and counted " +
      "(depthwatch_record_dropped_total); 8 MiB holds about 0.75 s at 20,000 frames/s.",
    expected: "a power of two from 4KiB to 1GiB, like 8MiB or 16777216",
    parse: (raw) => {
      const n = parseSize(4096, false)(raw);
      if (n > 2 ** 30 || (n & (n - 1)) !== 0) throw new Invalid();
      return n;
    },
  },
  {
    name: "bus",
    key: "bus",
    arg: "memory|nats://host:port",
    default: "memory",
    about: "memory: one process does everything (no NATS). nats://HOST:PORT: share the work " +
      "with other nodes through a NATS server with JetStream (see --role; README 'Many " +
      "machines'). Credentials come only from DEPTHWATCH_NATS_TOKEN or DEPTHWATCH_NATS_CREDS " +
      "(a creds file), never from the command line.",
    expected: "memory, or nats://HOST:PORT without user, password or path",
    parse: (raw) => {
      const v = raw.trim();
      if (v === "memory") return v;
      const m = /^nats:\/\/([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):([0-9]{1,5})\/?$/.exec(v);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Invalid();
      return `nats://${m[1]}:${Number(m[2])}`;
    },
  },
  {
    name: "role",
    key: "role",
    arg: "all|ingest|dashboard",
    default: "all",
    about: "With a NATS --bus: ingest runs the exchange connections and analytics for the " +
      "partitions this node leases and publishes their frames; dashboard runs no pipeline and " +
      "serves the pages, /ws and /api/history from the bus; all is both.",
    expected: "all, ingest or dashboard (only all with --bus memory)",
    parse: oneOf(["all", "ingest", "dashboard"] as const),
  },
  {
    name: "node-id",
    key: "nodeId",
    arg: "id",
    default: undefined,
    defaultText: "n- and 8 random hex digits",
    about: "With a NATS --bus: this node's id, unique among the running nodes (it names its " +
      "leases and its summary subject).",
    expected: "1 to 64 of A-Z a-z 0-9 _ -",
    unset: undefined,
    parse: (raw) => {
      const v = raw.trim();
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw new Invalid();
      return v;
    },
  },
  {
    name: "capacity",
    key: "capacity",
    arg: "n|all",
    default: "all",
    about: "With a NATS --bus and an ingest role: the most partitions this node holds; the " +
      "nodes share the partitions fairly up to their capacities.",
    expected: "an integer from 1 to 65536, or all",
    parse: (raw) => raw.trim().toLowerCase() === "all" ? Infinity : integer(1, 65536)(raw),
  },
  {
    name: "partitions",
    key: "partitions",
    arg: "n",
    default: "16",
    about: "With a NATS --bus: the symbols are split into this many partitions by a stable hash; " +
      "a partition is the unit of ownership (one exchange connection at most). The same on " +
      "every node (a node with another count refuses to start).",
    expected: "an integer from 1 to 4096",
    parse: integer(1, 4096),
  },
  {
    name: "lease-ttl",
    key: "leaseTtlMs",
    arg: "ms",
    default: "10000",
    about: "With a NATS --bus: the partition lease TTL in ms. A dead ingest node's partitions " +
      "move to the others about one TTL later; a node fences itself TTL/5 before its lease " +
      "could expire. The same on every node.",
    expected: "an integer from 1000 to 600000",
    parse: integer(1000, 600_000),
  },
  {
    name: "consolidate",
    key: "consolidate",
    join: ";",
    arg: "NAME=MEMBERS",
    default: undefined,
    defaultText: "none",
    unset: Object.freeze([]),
    about: "Consolidated instruments: NAME=MEMBER,MEMBER,… merges the members' books into one " +
      "ladder tagged by venue, served as X:NAME like any symbol. Several separated by ';' or " +
      "by repeating the flag. Members missing from --symbols are added to them. A member is " +
      "left out of the merged book while its feed is not live or its book is older than --stale-ms.",
    expected: CONSOLIDATE_EXPECTED,
    parse: parseConsolidateFlag,
  },
];

/** Size units of {@link parseSize}, in bytes (decimal and binary). */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** A size like `50GB`, `512 MiB` or `1000000`; `none` is Infinity when `none` is allowed. */
function parseSize(min: number, allowNone: boolean): Parser<number> {
  return (raw) => {
    const v = raw.trim().toLowerCase();
    if (allowNone && v === "none") return Infinity;
    const m = /^([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)$/.exec(v);
    const unit = m ? SIZE_UNITS[m[2]] : undefined;
    if (!m || unit === undefined) throw new Invalid();
    const n = Math.round(Number(m[1]) * unit);
    if (!Number.isSafeInteger(n) || n < min) throw new Invalid();
    return n;
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** A duration like `7d`, `36h` or `90m` in ms; `none` is Infinity. */
function parseDurationFlag(raw: string): number {
  const v = raw.trim().toLowerCase();
  if (v === "none") return Infinity;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([smhdw])$/.exec(v);
  if (!m) throw new Invalid();
  const ms = Number(m[1]) * DURATION_UNITS[m[2]];
  if (!(ms >= 3_600_000) || !Number.isSafeInteger(Math.round(ms))) throw new Invalid();
  return Math.round(ms);
}

/** Flags that only mean something with `--record-dir`. */
const RECORD_FLAGS = ["--record-max-bytes", "--record-max-age", "--record-ring-bytes"];

/** Flags that only mean something with `--source replay`. */
const REPLAY_FLAGS = [
  "--replay-path",
  "--replay-from",
  "--replay-to",
  "--replay-speed",
  "--replay-loop",
];

/**
 * The environment variable of a flag name: `sim-rate` → `DEPTHWATCH_SIM_RATE`.
 *
 * @example
 * ```ts
 * import { envName } from "./config.ts";
 * envName("auth-token"); // "DEPTHWATCH_AUTH_TOKEN"
 * ```
 */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.replace(/^-+/, "").toUpperCase().replaceAll("-", "_");
}

/**
 * Names of all flags, with leading dashes, in help-text order (`--help` last).
 *
 * @example
 * ```ts
 * import { flagNames } from "./config.ts";
 * flagNames().includes("--sim-rate"); // true
 * ```
 */
export function flagNames(): string[] {
  return [...FLAGS.map((f) => `--${f.name}`), "--help"];
}

function validFlagsText(): string {
  return flagNames().join(", ");
}

/**
 * Parses and validates the flags in `args`, falling back to `env` and then to
 * the defaults. The result is frozen, arrays included.
 *
 * @param args command-line arguments, e.g. `Deno.args`; `--name value` or `--name=value`.
 * @param env reads an environment variable, e.g. {@linkcode denoEnv}`()`; default: none set.
 * @throws ConfigError for an unknown flag, a stray argument, a flag without value,
 *   or a value (from a flag or an env var) that is invalid.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const config = parseConfig(["--symbols", "BTCUSDT,solusdt", "--port=0"], (name) =>
 *   name === "DEPTHWATCH_SIM_RATE" ? "50" : undefined);
 * config.symbols; // ["btcusdt", "solusdt"]
 * config.port; // 0
 * config.simRate; // 50
 * ```
 */
export function parseConfig(args: readonly string[], env: EnvReader = () => undefined): Config {
  const options: Record<
    string,
    { type: "string"; multiple?: boolean } | { type: "boolean"; short?: string }
  > = {};
  for (const f of FLAGS) {
    options[f.name] = f.switch
      ? { type: "boolean" }
      : f.join !== undefined
      ? { type: "string", multiple: true }
      : { type: "string" };
  }
  options.help = { type: "boolean", short: "h" };
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | string[] | boolean | undefined>;
  } catch (e) {
    throw toConfigError(e);
  }
  const out: Record<string, unknown> = { help: values.help === true };
  const given: string[] = [];
  for (const f of FLAGS) {
    const flag = `--${f.name}`;
    const variable = envName(f.name);
    const flagValue = values[f.name];
    const fromFlag = Array.isArray(flagValue) ? flagValue.join(f.join ?? ",") : flagValue;
    let raw: string | undefined;
    let origin: string;
    if (typeof fromFlag === "string" || typeof fromFlag === "boolean") {
      raw = String(fromFlag);
      origin = "";
      given.push(flag);
    } else {
      const fromEnv = env(variable);
      if (fromEnv !== undefined && fromEnv !== "") {
        raw = fromEnv;
        origin = ` (from ${variable})`;
        given.push(flag);
      } else {
        raw = f.default;
        origin = " (default)";
      }
    }
    if (raw === undefined) {
      out[f.key] = f.unset;
      continue;
    }
    try {
      out[f.key] = f.parse(raw);
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      // The token itself never goes into a message (messages end up in logs).
      const shown = f.key === "authToken"
        ? `(hidden, ${raw.length} characters)`
        : JSON.stringify(raw);
      const why = e.message === "" ? "" : ` (here: ${e.message})`;
      throw new ConfigError(
        `${flag}: invalid value ${shown}${origin}; expected ${f.expected}${why}`,
        flag,
        f.key === "authToken" ? undefined : raw,
      );
    }
  }
  out.symbols = Object.freeze(
    withConsolidated(
      (out.symbolSelector as SymbolSelector).names,
      out.consolidate as readonly ConsolidatedInstrument[],
    ),
  );
  out.given = Object.freeze(given);
  checkVenues(out, given);
  checkReplay(out, given);
  checkRecord(out, given);
  checkBus(out, given);
  const weight = depthRequestWeight(out.snapshotDepth as number);
  if (weight > Math.floor((out.restWeightLimit as number) * 0.8)) {
    throw new ConfigError(
      `--rest-weight-limit: ${out.restWeightLimit} leaves ${
        Math.floor((out.restWeightLimit as number) * 0.8)
      } per minute for snapshots (80 %), less than one snapshot of --snapshot-depth ${out.snapshotDepth} (weight ${weight}); expected a larger limit or a smaller depth`,
      "--rest-weight-limit",
    );
  }
  if ((out.snapshotDepth as number) < (out.levels as number)) {
    throw new ConfigError(
      `--snapshot-depth: ${out.snapshotDepth} is below --levels ${out.levels}; expected at least --levels (a snapshot must seed every level analysed)`,
      "--snapshot-depth",
    );
  }
  return Object.freeze(out) as unknown as Config;
}

/**
 * `--venues`: with `--source sim` and no `--symbols` it picks the symbols
 * (BTC and ETH on each venue; with two venues or more and no `--consolidate`,
 * `x:btc` over their BTC books); otherwise every symbol must be on a listed
 * venue. Sets `venues` to the venues of the symbols.
 */
function checkVenues(out: Record<string, unknown>, given: readonly string[]): void {
  const listed = out.venues as readonly VenueId[] | undefined;
  if (listed !== undefined && out.source === "sim" && !given.includes("--symbols")) {
    const selector = parseSymbolSelector(listed.flatMap((v) => VENUE_DEFAULT_SYMBOLS[v]).join(","));
    out.symbolSelector = selector;
    if (listed.length >= 2 && !given.includes("--consolidate") && out.bus === "memory") {
      // Several venues: BTC consolidated across them (X:BTC), each venue's first symbol.
      out.consolidate = Object.freeze([
        Object.freeze({ name: "x:btc", members: listed.map((v) => VENUE_DEFAULT_SYMBOLS[v][0]) }),
      ]);
    }
    out.symbols = Object.freeze(
      withConsolidated(selector.names, out.consolidate as readonly ConsolidatedInstrument[]),
    );
  }
  const selector = out.symbolSelector as SymbolSelector;
  const inUse = new Set<VenueId>();
  // Patterns and all are resolved against Binance spot's listing.
  if (selector.needsExchange) inUse.add("binance");
  // Consolidated instruments (x:…) are on no venue: their members are.
  const real = (out.symbols as readonly string[]).filter((s) => venueOf(s) !== undefined);
  for (const name of real) inUse.add(venueOf(name)!);
  if (listed !== undefined) {
    const outside = real.filter((s) => !listed.includes(venueOf(s)!));
    if (selector.needsExchange && !listed.includes("binance")) {
      outside.unshift("(a pattern or all)");
    }
    if (outside.length > 0) {
      const first = outside[0];
      const venue = first.startsWith("(") ? "binance" : venueOf(first)!;
      const defaulted = given.includes("--symbols")
        ? ""
        : " (the default --symbols; --venues picks the symbols with --source sim only)";
      throw new ConfigError(
        `--symbols: ${outside.join(", ")}${defaulted} ${
          outside.length === 1 ? "is" : "are"
        } not on a venue ` +
          `--venues lists (${listed.join(",")}); expected symbols of those venues only (e.g. ` +
          `${
            listed.map((v) => `${v === "binance" ? "" : `${v}:`}${VENUES[v].example}`).join(", ")
          }` +
          `), or ${venue} added to --venues`,
        "--symbols",
      );
    }
  }
  out.venues = Object.freeze(VENUE_IDS.filter((v) => inUse.has(v)));
}

/** The replay flags: only with `--source replay`, which needs `--replay-path`; a window that ends before it starts. */
function checkReplay(out: Record<string, unknown>, given: readonly string[]): void {
  if (out.source !== "replay") {
    const stray = REPLAY_FLAGS.find((f) => given.includes(f));
    if (stray !== undefined) {
      throw new ConfigError(
        `${stray}: only used with --source replay, but --source is ${out.source}; ` +
          "expected --source replay with it, or no replay flags",
        stray,
      );
    }
    return;
  }
  if (out.replayPath === undefined) {
    throw new ConfigError(
      "--replay-path: required with --source replay; expected the path of a recording file or directory",
      "--replay-path",
    );
  }
  const from = out.replayFrom as number | undefined;
  const to = out.replayTo as number | undefined;
  if (from !== undefined && to !== undefined && to < from) {
    throw new ConfigError(
      `--replay-to: ${new Date(to / 1000).toISOString()} is before --replay-from ${
        new Date(from / 1000).toISOString()
      }; expected a window that ends after it starts`,
      "--replay-to",
    );
  }
}

/** The record flags: only with `--record-dir`, which needs a live or simulated source. */
function checkRecord(out: Record<string, unknown>, given: readonly string[]): void {
  if (out.recordDir === undefined) {
    const stray = RECORD_FLAGS.find((f) => given.includes(f));
    if (stray !== undefined) {
      throw new ConfigError(
        `${stray}: only used with --record-dir, which is not set; expected --record-dir with it, ` +
          "or no record flags",
        stray,
      );
    }
    return;
  }
  if (out.source === "replay") {
    throw new ConfigError(
      "--record-dir: recording needs a live or simulated source, but --source is replay " +
        "(a replay is already a recording: copy its files instead); expected --source binance " +
        "or sim with --record-dir",
      "--record-dir",
    );
  }
}

/** Flags that only mean something with a NATS `--bus`. */
const BUS_FLAGS = ["--role", "--node-id", "--capacity", "--partitions", "--lease-ttl"];

/** The bus flags: only with a NATS `--bus`, which does not replay; the node id defaulted. */
function checkBus(out: Record<string, unknown>, given: readonly string[]): void {
  if (out.bus === "memory") {
    const stray = BUS_FLAGS.find((f) =>
      given.includes(f) && !(f === "--role" && out.role === "all")
    );
    if (stray !== undefined) {
      throw new ConfigError(
        `${stray}: only used with a NATS --bus, but --bus is memory; expected ` +
          "--bus nats://HOST:PORT with it, or no bus flags",
        stray,
      );
    }
    out.nodeId ??= "local";
    return;
  }
  if (out.source === "replay") {
    throw new ConfigError(
      "--bus: a replay runs in one process; expected --bus memory with --source replay",
      "--bus",
    );
  }
  if ((out.consolidate as readonly unknown[]).length > 0) {
    // An instrument's members may sit in partitions of different nodes.
    throw new ConfigError(
      "--consolidate: consolidated instruments are composed in one process; expected --bus memory with --consolidate",
      "--consolidate",
    );
  }
  if (out.role === "dashboard" && out.recordDir !== undefined) {
    throw new ConfigError(
      "--record-dir: a dashboard node has no exchange connections to record; expected " +
        "--record-dir on the ingest nodes",
      "--record-dir",
    );
  }
  out.nodeId ??= `n-${
    Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0"))
      .join("")
  }`;
}

function toConfigError(e: unknown): ConfigError {
  const code = (e as { code?: string }).code;
  const message = e instanceof Error ? e.message : String(e);
  const quoted = /'([^']*)'/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return new ConfigError(
      `unknown flag ${quoted ?? message}; valid flags are ${validFlagsText()}`,
      quoted,
    );
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    return new ConfigError(
      `unexpected argument ${JSON.stringify(quoted ?? message)}; ` +
        "expected only flags, as --name value or --name=value (valid flags are " +
        `${validFlagsText()})`,
      undefined,
      quoted,
    );
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const flag = /--[a-z-]+/.exec(message)?.[0];
    if (flag === "--help") {
      return new ConfigError("--help takes no value; expected just --help (or -h)", flag);
    }
    if (FLAGS.some((f) => f.switch && `--${f.name}` === flag)) {
      return new ConfigError(`${flag} takes no value; expected just ${flag}`, flag);
    }
    return new ConfigError(
      `${flag ?? "a flag"} needs a value; expected ${flag ?? "--name"} <value> or ` +
        `${flag ?? "--name"}=<value> (a value starting with '-' needs the = form)`,
      flag,
    );
  }
  return new ConfigError(`invalid arguments: ${message}`);
}

/**
 * Help text listing every flag with its placeholder, description, environment
 * variable and default.
 *
 * @example
 * ```ts
 * import { helpText } from "./config.ts";
 * console.log(helpText());
 * ```
 */
export function helpText(): string {
  const lines = [
    "depthwatch: live order-book analytics with a dashboard and Prometheus metrics.",
    "",
    "Usage: depthwatch [flags]",
    "",
    "Every flag can also be set by its environment variable; a flag wins over the",
    "variable, the variable over the default.",
    "",
    "Flags:",
  ];
  for (const f of FLAGS) {
    lines.push(f.switch ? `  --${f.name}` : `  --${f.name} <${f.arg}>`);
    lines.push(`      ${f.about}`);
    lines.push(`      Expected: ${f.expected}.`);
    lines.push(`      Env: ${envName(f.name)}. Default: ${f.defaultText ?? f.default ?? "none"}.`);
  }
  lines.push("  --help, -h");
  lines.push("      Print this help and exit.");
  return lines.join("\n") + "\n";
}

/**
 * A copy of `config` that is safe to log: the auth token becomes `"***"`
 * (when one is set).
 *
 * @example
 * ```ts
 * import { parseConfig, redactConfig } from "./config.ts";
 * const safe = redactConfig(parseConfig(["--auth-token", "s3cret-token"]));
 * safe.authToken; // "***"
 * ```
 */
export function redactConfig(config: Config): Config {
  return Object.freeze({
    ...config,
    authToken: config.authToken === undefined ? undefined : "***",
  });
}

/**
 * An {@linkcode EnvReader} over `Deno.env` that reads only `DEPTHWATCH_*`
 * variables (anything else reads as unset) and treats a missing permission as
 * unset, so the service runs with `--allow-env=DEPTHWATCH_*` or without env access.
 *
 * @example
 * ```ts
 * import { denoEnv, parseConfig } from "./config.ts";
 * const config = parseConfig(Deno.args, denoEnv());
 * ```
 */
export function denoEnv(): EnvReader {
  return (name) => {
    if (!name.startsWith(ENV_PREFIX)) return undefined;
    try {
      return Deno.env.get(name);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        return undefined;
      }
      throw e;
    }
  };
}
